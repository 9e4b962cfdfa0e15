# tests/tap.sh: TAP helpers and the common prologue of the end-to-end tests (bash).
# Usage: . "$(dirname "$0")/../tap.sh"; plan N; ok CMD...; is GOT WANT DESC; done_testing
# ROOT is the repository; BIN holds the programs (first on PATH); T is a
# scratch directory removed on exit, after every background job and any
# simulator started is stopped. No key, key file or ONCALL_LIBEXEC of the
# caller's reaches a test. The simulators' helpers (tests/sim-incidentio.sh,
# tests/sim-strongdm.sh) are loaded; start_incidentio_sim and
# start_strongdm_sim start one or bail out. require_bin, require_cmd and
# require_tool skip a file that lacks what it needs.

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
	unset VALGRIND   # wrapped once: a test or script that reads it must not wrap again
fi
# bin/oncall-sync finds the programs beside it (or the valgrind wrappers)
[ -n "${_TAP_VALGRIND_BIN:-}" ] || unset ONCALL_LIBEXEC
unset INCIDENT_API_KEY INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY SDM_API_ACCESS_KEY_FILE \
	SDM_API_SECRET_KEY SDM_API_SECRET_KEY_FILE CREDENTIALS_DIRECTORY

_tap_n=0
_tap_failed=0
_tap_planned=""

T=$(mktemp -d "${TMPDIR:-/tmp}/oncall-test.XXXXXX")
export T SIM_DIR="$T"
# shellcheck source=tests/sim-incidentio.sh
. "$ROOT/tests/sim-incidentio.sh"
# shellcheck source=tests/sim-strongdm.sh
. "$ROOT/tests/sim-strongdm.sh"
# TAP_CLEANUP_HOOK: more to stop on exit (a test's own servers)
_tap_cleanup() {
	local pids
	pids=$(jobs -p 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	incidentio_sim_stop
	strongdm_sim_stop
	[ -n "${TAP_CLEANUP_HOOK:-}" ] && eval "$TAP_CLEANUP_HOOK"
	if [ -n "${KEEP_TEST_DIR:-}" ]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
	if [ -n "${_TAP_VALGRIND_BIN:-}" ]; then rm -rf "$_TAP_VALGRIND_BIN"; fi
}
trap _tap_cleanup EXIT

plan() { _tap_planned=$1; echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# bail REASON: stops the file as failed ("Bail out!"): something the test
# needs did not work (a simulator that does not start is a fault, not a skip)
bail() { echo "Bail out! $*"; exit 1; }

# require_bin PROGRAM...: skips the file unless each program is in bin/
require_bin() {
	local p
	for p in "$@"; do [[ -x $ROOT/bin/$p ]] || skip_all "bin/$p is not built"; done
}
# require_cmd COMMAND...: skips the file unless each command is installed
require_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || skip_all "$c is not installed"; done
}
# require_tool NAME: skips the file unless the driver tests/tools/NAME.c is built
require_tool() {
	[[ -x $BUILD_DIR/tests/tools/$1 ]] || skip_all "$BUILD_DIR/tests/tools/$1 is not built (make unit)"
}

# wait_for CMD...: until CMD succeeds, polled every 0.02 s; fails only when
# it never does (two minutes: a guard against a hang, not a timing)
wait_for() {
	local i
	for ((i = 0; i < 6000; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}

# long_line_run PREFIX OPTION PROGRAM [ARGS...] < INPUT: runs bin/PROGRAM
# itself (not VALGRIND=1's wrapper; no ASan quarantine) with OPTION naming a
# pipe that carries PREFIX and 256 MiB more on one line; sets rc, and kib to
# its peak RSS. Needs /usr/bin/time.
long_line_run() {
	local prefix=$1 opt=$2 prog=$3
	shift 3
	rc=0
	ASAN_OPTIONS=quarantine_size_mb=0 /usr/bin/time -f %M -o "$T/rss" "$ROOT/bin/$prog" \
		"$opt" <(printf '%s' "$prefix"; head -c 268435456 /dev/zero | tr '\0' x) "$@" \
		>"$T/out" 2>"$T/err" || rc=$?
	kib=$(tail -n 1 "$T/rss")
}

# start_incidentio_sim WORLD [ARGS...], start_strongdm_sim WORLD [ARGS...]:
# incidentio_sim_start, strongdm_sim_start (tests/sim-*.sh), or bail out
start_incidentio_sim() { incidentio_sim_start "$@" || bail "incidentio-sim did not start"; }
start_strongdm_sim() { strongdm_sim_start "$@" || bail "strongdm-sim did not start"; }
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

# run CMD... : runs a command, keeping stdout in $T/out, stderr in $T/err, status in $rc
run() {
	rc=0
	"$@" > "$T/out" 2> "$T/err" || rc=$?
}
