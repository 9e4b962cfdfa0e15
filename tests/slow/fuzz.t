#!/usr/bin/env bash
# fuzz.t: the libFuzzer targets in tests/fuzz/ build, every crash found so
# far (tests/fuzz/corpus/*/regress-*) stays fixed, and a short run from the
# seed corpora finds nothing. Long runs: scripts/fuzz 10000000.
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, rc; reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

"$ROOT/scripts/fuzz" --check || skip_all "clang cannot build libFuzzer targets"

RUNS=${FUZZ_T_RUNS:-5000}
OUT="$ROOT/build/fuzz"

if "$ROOT/scripts/fuzz" --build-only > "$T/build.log" 2>&1; then
	pass "every fuzz target builds"
else
	fail "every fuzz target builds"
	diag "$(tail -n 30 "$T/build.log")"
fi

# One test per regression input: the target must run it without a crash,
# a sanitizer report or a leak.
for f in "$ROOT"/tests/fuzz/corpus/fuzz_*/regress-*; do
	[ -e "$f" ] || continue
	target=$(basename "$(dirname "$f")")
	name="$target $(basename "$f")"
	if [ ! -x "$OUT/$target" ]; then
		fail "$name (target not built)"
		continue
	fi
	rc=0
	ASAN_OPTIONS=detect_leaks=1 "$OUT/$target" "$f" > "$T/replay.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -q -E 'runtime error|ERROR: (Address|Leak|libFuzzer)' "$T/replay.log"; then
		pass "$name"
	else
		fail "$name"
		diag "$(grep -E -m 3 'runtime error|ERROR|#[0-9]+ .* in (LLVMFuzzerTestOneInput|check_|[a-z_]+ /work)' "$T/replay.log" || tail -n 5 "$T/replay.log")"
	fi
done

rc=0
FUZZ_SEEDS_ONLY=1 "$ROOT/scripts/fuzz" "$RUNS" > "$T/fuzz.out" 2> "$T/fuzz.err" || rc=$?
while IFS= read -r line; do note "$line"; done < "$T/fuzz.out"
if [ "$rc" -eq 0 ]; then
	pass "$RUNS runs of every target from its seed corpus find nothing"
else
	fail "$RUNS runs of every target from its seed corpus find nothing"
	diag "$(grep -E 'crashed|runtime error|ERROR|LLVMFuzzerTestOneInput' "$T/fuzz.err" | head -n 20)"
fi
done_testing
