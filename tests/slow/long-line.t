#!/usr/bin/env bash
# long-line.t: a 1 GiB line piped into each stage. No line longer than the
# 1 MiB limit is ever held whole: the stage stops reading at the limit,
# names the line and the limit, writes no end record, exits 3, and its peak
# RSS stays under 64 MiB. The line is generated as a stream (head -c from
# /dev/zero), never a file on disk; the producer dies of SIGPIPE once the
# stage stops reading. match-users is run twice: the line begins like a
# roster, and like any other record.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets ROOT, T, rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
# shellcheck disable=SC2034 # read by tests/tap.sh

require_bin fetch-oncall match-users reconcile-groups
[ -x /usr/bin/time ] || skip_all "/usr/bin/time is not installed (Debian: time)"

GIB=1073741824
LIMIT=1048576
ROSTER_HEAD='{"type":"roster","schedule":{"id":"S1","name":"One"},"oncall":[{"id":"U1","email":"'
OTHER_HEAD='{"type":"note","pad":"'

# big HEAD: HEAD, then 1 GiB of 'x' (no newline): a line that never ends.
big() { printf '%s' "$1"; head -c "$GIB" /dev/zero | tr '\0' x; }

# stage NAME HEAD CMD...: runs CMD with the 1 GiB line on stdin under
# /usr/bin/time; $rc is CMD's status, $T/rss its peak RSS in KiB.
stage() {
	local head=$1
	shift
	rc=0
	/usr/bin/time -f '%M' -o "$T/rss" "$@" < <(big "$head") >"$T/out" 2>"$T/err" || rc=$?
}

rss_ok() { # DESC: peak RSS under 64 MiB (not measured under valgrind)
	if [ -n "${_TAP_VALGRIND_BIN:-}" ]; then
		pass "$1 # SKIP valgrind's own memory is counted"
		return
	fi
	local kib
	kib=$(tail -n 1 "$T/rss")
	ok "$1 (peak RSS $kib KiB)" test "$kib" -lt $((64 * 1024))
}

refused() { # PROG DESC
	local prog=$1 desc=$2
	is "$rc" 3 "$prog, $desc: exit 3"
	like "$(head -c 2000 "$T/err")" "^$prog: <stdin>:1: line is longer than the limit of $LIMIT bytes" \
		"$prog, $desc: the error names the line and the limit"
	ok "$prog, $desc: not reported as a cut stream" bash -c "! grep -q 'cut short' '$T/err'"
	ok "$prog, $desc: no end record (nothing on stdout)" test ! -s "$T/out"
	rss_ok "$prog, $desc: memory stays small"
}

# match-users is refused before StrongDM is asked anything: no server needed.
export SDM_API_HOST=http://127.0.0.1:9 SDM_API_ACCESS_KEY=long-line-test \
	SDM_API_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
stage "$ROSTER_HEAD" "$BIN/match-users"
refused match-users "a roster line of 1 GiB"
stage "$OTHER_HEAD" "$BIN/match-users"
refused match-users "a line of 1 GiB"

# Out of memory is reported as out of memory. A line just under the limit
# of half a million numbers ([1,1,...]) takes cJSON tens of MiB; under a
# growing address-space limit (ulimit -v) match-users either parses it (and
# finds the stream cut: exit 3) or runs out of memory, and must then say so
# (exit 1), never "invalid JSON" or "cut short". Limits at which it cannot
# even start (libcurl, a sanitizer's shadow memory) say nothing either way.
numbers() { # (yes dies of SIGPIPE: not a failure here)
	printf '{"type":"note","a":['
	{ yes 1, | tr -d '\n' | head -c $((LIMIT - 40)); } || true
	printf '1]}\n'
}
oom=0 parsed=0 bad=""
for kib in 20000 30000 40000 50000 60000 70000 80000 100000 120000 160000; do
	rc=0
	# (the shell's own "Aborted" of a sanitizer build that cannot start: hidden)
	{ (ulimit -v "$kib" && exec "$BIN/match-users") < <(numbers) >"$T/out" 2>"$T/err"; } 2>/dev/null || rc=$?
	if [ "$rc" -eq 1 ] && grep -q '^match-users: out of memory$' "$T/err"; then
		oom=$((oom + 1))
	elif [ "$rc" -eq 3 ] && grep -q 'cut short' "$T/err"; then
		parsed=$((parsed + 1))
	elif grep -q 'invalid JSON\|cut short' "$T/err"; then
		bad="$bad ${kib}KiB:exit $rc: $(head -c 200 "$T/err")"
	fi
done
is "$bad" "" "match-users short of memory never calls it invalid JSON or a cut stream"
if [ $((oom + parsed)) -eq 0 ]; then
	pass "# SKIP match-users cannot start under these limits (a sanitizer build?)"
else
	ok "match-users short of memory says \"out of memory\" ($oom limits; parsed under $parsed)" test "$oom" -gt 0
fi

# reconcile-groups reads StrongDM while it reads its input: a real server.
start_strongdm_sim "$ROOT/tests/fixtures/reconcile-groups/world.json"
stage "$ROSTER_HEAD" "$BIN/reconcile-groups" --prune
refused reconcile-groups "a roster line of 1 GiB"
is "$(strongdm_sim_count '*' | tr -d ' ')" "$(grep -c -v -E '"method": "[A-Za-z]+\.(Create|Update|Delete)"' "$STRONGDM_SIM_LOG" | tr -d ' ')" \
	"reconcile-groups: no StrongDM write"
strongdm_sim_stop

# fetch-oncall reads no standard input at all: a 1 GiB line there costs it
# nothing (it fails on the unreachable server, exit 1, as it would anyway).
stage "$OTHER_HEAD" env INCIDENT_API_URL=http://127.0.0.1:9 INCIDENT_API_KEY=long-line-test \
	"$BIN/fetch-oncall" --list --retries 0
is "$rc" 1 "fetch-oncall does not read stdin: it fails only on the unreachable server"
rss_ok "fetch-oncall with a 1 GiB line on stdin: memory stays small"

done_testing
