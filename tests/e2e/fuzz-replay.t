#!/usr/bin/env bash
# fuzz-replay.t: every input in the fuzz corpora (tests/fuzz/corpus/fuzz_*/)
# replays through its target, built by make with a plain main
# (tests/fuzz/replay.c) in this build (ASan and UBSan under SANITIZE=1):
# each crash found so far (regress-*) is its own test and stays fixed, and the
# seeds of each target pass. Building and running the libFuzzer targets
# themselves is tests/slow/fuzz.t (make check-all).
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

replay() { # NAME TARGET FILE...: passes when the target takes every file
	local name=$1 target=$2 rc=0
	shift 2
	ASAN_OPTIONS=detect_leaks=1 "$BUILD_DIR/tests/fuzz/$target-replay" "$@" > "$T/replay.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -q -E 'runtime error|ERROR: (Address|Leak)Sanitizer' "$T/replay.log"; then
		pass "$name"
	else
		fail "$name (exit $rc)"
		diag "$(grep -E -m 5 'runtime error|ERROR|Assertion|#[0-9]+ ' "$T/replay.log" || tail -n 5 "$T/replay.log")"
	fi
}

for dir in "$ROOT"/tests/fuzz/corpus/fuzz_*/; do
	target=$(basename "$dir")
	if [ ! -x "$BUILD_DIR/tests/fuzz/$target-replay" ]; then
		fail "$target: its replay is built (make unit)"
		continue
	fi
	seeds=()
	for f in "$dir"*; do
		case $(basename "$f") in
		regress-*) replay "$target $(basename "$f") stays fixed" "$target" "$f" ;;
		*) seeds+=("$f") ;;
		esac
	done
	[ "${#seeds[@]}" -eq 0 ] || replay "$target: its ${#seeds[@]} seeds pass" "$target" "${seeds[@]}"
done
done_testing
