#!/usr/bin/env bash
# log-escape.t: names, emails and messages from outside cannot forge a log
# line. incident.io (tests/hostile/fake-incidentio.py forge) names a
# schedule "Evil\nFORGED ...\e[31m ...\", puts on call a user whose name and
# email hold a newline, and answers another schedule ("Worse\nFORGED ...")
# with an error message holding a newline and an escape sequence; StrongDM
# has an unmanaged group with the evil name, so reconcile-groups reports it
# taken. A sync prints something about each of them from every stage: every
# line of its stderr, of last/stderr.log, of `sync -v` and of `status` must
# still be a line its writer began (no line starts with FORGED, no raw
# control character), while the kept streams carry the exact names.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets ROOT, T, rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs

GOOD=01G0J1EXE7GOOD000000000001
BAD=01G0J1EXE7BAD0000000000001
WORSE=01G0J1EXE7WORSE00000000001
EVIL=$'Evil\nFORGED schedule line\e[31m red\\'
MALLORY=$'Mallory\nFORGED user line\e[2J'
MALLORY_EMAIL=$'mallory\nFORGED email line@example.com'

/usr/bin/python3 "$ROOT/tests/hostile/fake-incidentio.py" forge "$T/fake.port" &   # stopped on exit (tap.sh)
for _ in $(seq 200); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
[ -s "$T/fake.port" ] || bail "fake-incidentio.py did not start"
INCIDENT_API_URL="http://127.0.0.1:$(cat "$T/fake.port")"
export INCIDENT_API_URL

jq --arg evil "$EVIL" '.strongdm.groups += [{name: $evil, description: "by hand", members: []}]' \
	"$FIX/world.json" >"$T/world.json"
start_strongdm_sim "$T/world.json"
INCIDENT_API_KEY=forge-test-key ocs_key_files
ocs_config "{\"name\": \"forge\", \"schedules\": [\"$GOOD\", \"$BAD\", \"$WORSE\"]}"

# lines FILE: the lines that no writer began: not "PROG: ..." (stderr) or
# the indented and headed lines of -v and status; any raw control character
# (other than the newline ending a line) is one too.
forged() {
	LC_ALL=C grep -n -E '^FORGED|[[:cntrl:]]' "$1" || true
}
not_forged() { # FILE DESC
	local bad
	bad=$(forged "$1")
	is "$bad" "" "$2"
}
prefixed() { # FILE DESC: every line is "PROG: ..."
	local bad
	bad=$(grep -n -v -E '^(fetch-oncall|match-users|reconcile-groups|oncall-sync): ' "$1" || true)
	is "$bad" "" "$2"
}

run oncall-sync sync -v
is "$rc" 1 "the sync fails in part (a schedule failed, a name is taken): exit 1"
cp "$T/err" "$T/sync.err"
cp "$T/out" "$T/sync.out"
LOG=$ONCALL_SYNC_STATE_DIR/last/stderr.log
prefixed "$T/sync.err" "the wrapper's stderr (the journal): every line begun by a program or the wrapper"
not_forged "$T/sync.err" "the wrapper's stderr: no forged line, no raw control character"
prefixed "$LOG" "last/stderr.log: every line begun by a program or the wrapper"
not_forged "$LOG" "last/stderr.log: no forged line, no raw control character"
not_forged "$T/sync.out" "sync -v's list of changes: no forged line"

# Each stage said something about the outside text, escaped.
ok "fetch-oncall: the schedule's name is escaped in its message" \
	grep -qF 'fetch-oncall: schedule Worse\nFORGED worse line (' "$LOG"
ok "match-users: the user's name and email are escaped in its warning" \
	grep -qF 'Mallory\nFORGED user line\u001b[2J (mallory\nFORGED email line@example.com, ' "$LOG"
ok "match-users: the schedule's name is escaped (a backslash as \\\\)" \
	grep -qF 'match-users: Evil\nFORGED schedule line\u001b[31m red\\: Mallory' "$LOG"
ok "reconcile-groups: the schedule's name is escaped in its message" \
	grep -qF "reconcile-groups: schedule Evil\\nFORGED schedule line\\u001b[31m red\\\\ ($BAD)" "$LOG"
# shellcheck disable=SC1003 # a backslash, not an escaped quote
ok "sync -v: the group's name is escaped" \
	grep -qF 'Evil\nFORGED schedule line\u001b[31m red\\' "$T/sync.out"

# The streams are exact JSON: the names as incident.io has them.
ROSTER=$ONCALL_SYNC_STATE_DIR/last/roster.ndjson
MATCHED=$ONCALL_SYNC_STATE_DIR/last/matched.ndjson
is "$(jq -j --arg id "$BAD" 'select(.schedule.id? == $id) | .schedule.name' "$ROSTER")" "$EVIL" \
	"roster stream: the schedule's exact name"
is "$(jq -j --arg id "$WORSE" 'select(.type == "error") | .schedule.name' "$MATCHED")" $'Worse\nFORGED worse line' \
	"matched stream: the failed schedule's exact name"
is "$(jq -j 'select(.type == "roster") | .oncall[] | select(.id == "01FCNDV6P870EA6S7TK1DSYDGM") | .name, "|", .email' "$MATCHED")" \
	"$MALLORY|$MALLORY_EMAIL" "matched stream: the user's exact name and email"

run oncall-sync status
cp "$T/out" "$T/status.out"
not_forged "$T/status.out" "status: no forged line, no raw control character"
ok "status: the schedule's name is escaped" grep -qF 'Evil\nFORGED schedule line\u001b[31m red\\ (incident.io' "$T/status.out"
ok "status: the user's name and email are escaped" \
	grep -qF 'Mallory\nFORGED user line\u001b[2J <mallory\nFORGED email line@example.com>' "$T/status.out"

run oncall-sync explain mallory
not_forged "$T/out" "explain: no forged line, no raw control character"

rc=0
timeout 120 oncall-sync doctor >"$T/doctor.out" 2>"$T/doctor.err" || rc=$?
is "$rc" 1 "doctor finds the problems (exit 1)"
not_forged "$T/doctor.out" "doctor: no forged line, no raw control character"
not_forged "$T/doctor.err" "doctor's stderr: no forged line"
ok "doctor: the unmatched user's name and email are escaped" \
	grep -qF 'unmatched: Mallory\nFORGED user line\u001b[2J <mallory\nFORGED email line@example.com>' "$T/doctor.out"

run oncall-sync schedules
is "$rc" 0 "schedules: exit 0"
not_forged "$T/out" "schedules: no forged line, no raw control character"
# shellcheck disable=SC1003 # a backslash, not an escaped quote
ok "schedules: the name is escaped" grep -qF 'Evil\nFORGED schedule line\u001b[31m red\\' "$T/out"
ocs_config "{\"name\": \"forge\", \"schedules\": [\"$GOOD\"]}"
run oncall-sync add "$BAD"
is "$rc" 0 "add: exit 0"
prefixed "$T/err" "add: every line of its messages begun by oncall-sync"
not_forged "$T/err" "add: no forged line, no raw control character"

done_testing
