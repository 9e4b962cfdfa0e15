# tests/tap.sh: TAP helpers for the end-to-end tests (bash).
# Usage: . "$(dirname "$0")/../tap.sh"; plan N; ok CMD...; is GOT WANT DESC; done_testing
# ROOT is the repository; BIN holds the programs; T is a scratch directory
# removed on exit (kill_children runs first, stopping any server started).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/bin"
SHARED="${ONCALL_SHARED:-$ROOT/../shared}"
BUILD_DIR="$ROOT/${ONCALL_BUILD:-build/default}"   # unit tests and tests/tools drivers
PATH="$BIN:$PATH"
export ROOT BIN SHARED PATH BUILD_DIR

# VALGRIND=1: every program a test runs through $BIN (and bin/oncall-sync's
# stages) runs under valgrind; a memory error or a definite leak makes the
# program exit 99 with valgrind's report on stderr, which fails the test.
if [ -n "${VALGRIND:-}" ] && [ -z "${_TAP_VALGRIND_BIN:-}" ]; then
	_TAP_VALGRIND_BIN=$(mktemp -d "${TMPDIR:-/tmp}/oncall-vgbin.XXXXXX")
	for _p in fetch-oncall match-users reconcile-groups; do
		printf '#!/bin/sh\nexec valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=99 "%s" "$@"\n' \
			"$ROOT/bin/$_p" > "$_TAP_VALGRIND_BIN/$_p"
		chmod +x "$_TAP_VALGRIND_BIN/$_p"
	done
	ln -s "$ROOT/bin/oncall-sync" "$_TAP_VALGRIND_BIN/oncall-sync"   # its jq programs found beside the real one
	BIN=$_TAP_VALGRIND_BIN
	PATH="$BIN:$PATH"
	ONCALL_LIBEXEC=$BIN
	export BIN PATH ONCALL_LIBEXEC _TAP_VALGRIND_BIN
	unset VALGRIND   # the tests' own valgrind switches would wrap it twice
fi

_tap_n=0
_tap_failed=0
_tap_planned=""

T=$(mktemp -d "${TMPDIR:-/tmp}/oncall-test.XXXXXX")
export T SIM_DIR="$T"
_tap_cleanup() {
	local pids
	pids=$(jobs -p 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	[ -n "${TAP_CLEANUP_HOOK:-}" ] && eval "$TAP_CLEANUP_HOOK"
	if [ -n "${KEEP_TEST_DIR:-}" ]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
	if [ -n "${_TAP_VALGRIND_BIN:-}" ]; then rm -rf "$_TAP_VALGRIND_BIN"; fi
}
trap _tap_cleanup EXIT

plan() { _tap_planned=$1; echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '# %s\n' "$@" | sed '2,$s/^/# /' >&2; }
note() { printf '# %s\n' "$@"; }

_tap_result() { # status desc
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
	return "$1"
}

# ok DESC CMD... : passes when CMD exits 0
ok() {
	local desc=$1; shift
	local rc=0
	"$@" || rc=$?
	_tap_result "$rc" "$desc" || true
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3" || true
		diag "got:  $1" "want: $2"
	fi
}

# like GOT REGEX DESC
like() {
	if [[ $1 =~ $2 ]]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3" || true
		diag "got:  $1" "want match: $2"
	fi
}

# same_file GOT_FILE WANT_FILE DESC
same_file() {
	if diff -u "$2" "$1" > "$T/.diff" 2>&1; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3" || true
		diag "$(head -n 40 "$T/.diff")"
	fi
}

pass() { _tap_result 0 "$1"; }
fail() { _tap_result 1 "$1" || true; }

done_testing() {
	[ -z "$_tap_planned" ] && echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# readme_section NAME : the README's "### NAME..." section (up to the next heading)
readme_section() {
	awk -v h="### $1" 'index($0, h) == 1 { f = 1; print; next } f && /^##/ { exit } f' "$ROOT/README.md"
}

# run CMD... : runs a command, keeping stdout in $T/out, stderr in $T/err, status in $rc
run() {
	rc=0
	"$@" > "$T/out" 2> "$T/err" || rc=$?
}
