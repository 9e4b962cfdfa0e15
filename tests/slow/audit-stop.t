#!/usr/bin/env bash
# Safety rule 9: every applied change reaches audit.ndjson, even when the
# sync is stopped. reconcile-groups writes each change record the moment
# StrongDM answers its write; the wrapper appends it to the audit as it
# arrives. SIGTERM to the wrapper's process group (systemctl stop) mid-sync:
# the writes in flight finish, the audit holds exactly the writes the
# simulator applied, the summary counts them, exit 1. kill -9 of
# reconcile-groups: the audit lacks at most the writes in flight (-j, 64).
# kill -9 of fetch-oncall or match-users: nothing is written at all. kill
# -9 of the wrapper alone: the pipeline goes on and the audit gets all.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
require_cmd setsid
STATE=$ONCALL_SYNC_STATE_DIR
AUDIT=$STATE/audit.ndjson

# 200 people on call at once on "Big": one create and 200 adds, each write
# slowed by the simulator so that a stop lands in the middle.
jq '
  def ppl: [range(1; 201) | {n: ., email: "user\(.)@example.com"}];
  .incidentio.users = [ppl[] | {id: "U\(1000 + .n)", name: "User \(.n)", email}]
  | .incidentio.schedules = [{id: "S-BIG", name: "Big", timezone: "UTC",
      rotations: [{id: "R-BIG", name: "All", users: [ppl[] | "U\(1000 + .n)"],
                   layers: [ppl[] | {id: "L-\(.n)", name: "L\(.n)"}],
                   handover_start_at: "2026-11-29T00:00:00Z", handover_interval: "1d"}]}]
  | .strongdm.accounts = [ppl[] | {id: "a-\(1000000000000000 + .n)", type: "user", email,
                                   first_name: "User", last_name: "\(.n)"}]
  | .strongdm.groups = [] | .strongdm.identity_aliases = []' "$FIX/world.json" >"$T/big.json"

start() { # start [strongdm-sim args]: fresh simulators, state and audit
	incidentio_sim_stop
	strongdm_sim_stop
	start_incidentio_sim "$T/big.json" --latency-ms "${IIO_LATENCY:-0}"
	start_strongdm_sim "$T/big.json" "$@"
	ocs_key_files
	rm -rf "$STATE"
}
ocs_config '{"name": "test", "schedules": ["Big"], "user_lookup": "email"}'

# the simulator's successful writes so far
applied() {
	jq -n '[inputs | select((.method | test("\\.(Create|Update|Delete)$")) and .outcome == "OK")] | length' \
		"$STRONGDM_SIM_LOG"
}
# the simulator is idle: every call it started is in its log
settled() {
	local started logged
	started=$(curl -sSf "$STRONGDM_SIM_CONTROL/calls" | jq '[.[]] | add // 0')
	logged=$(grep -c . "$STRONGDM_SIM_LOG" || true)
	[[ $started == "$logged" ]]
}
writes_at_least() { (($(applied) >= $1)); }
audit_done() { jq -c 'select(.type == "change" and .status == "done")' "$AUDIT" 2>/dev/null | wc -l; }
# the pid of the wrapper's child running program $2
# (by its arguments: under VALGRIND=1 the program is valgrind's argument)
child() {
	ps -o pid=,args= --ppid "$1" | awk -v p="/$2" '{
		for (i = 2; i <= NF; i++)
			if (substr($i, length($i) - length(p) + 1) == p) { print $1; exit } }'
}

# --- SIGTERM to the wrapper's process group in the middle of the writes
start --latency-ms 150
setsid oncall-sync sync >"$T/out" 2>"$T/err" &
pid=$!
ok "the sync is writing" wait_for writes_at_least 20
kill -TERM -- "-$pid"
rc=0
wait "$pid" || rc=$?
wait_for settled || true
n=$(applied)
is "$rc" 1 "SIGTERM: the sync exits 1"
ok "stopped midway ($n of 201 writes applied)" test "$n" -lt 201
is "$(audit_done)" "$n" "audit.ndjson holds every write the simulator applied ($n)"
adds=$(jq -n '[inputs | select(.method == "AccountsGroups.Create" and .outcome == "OK")] | length' "$STRONGDM_SIM_LOG")
like "$(cat "$T/err")" "sync interrupted by a signal after 1 schedule: $adds added, 0 removed, 1 group created" \
	"the summary counts what was applied ($adds added)"
is "$(tail -n 1 "$STATE/last/changes.ndjson" | jq -c '{type, interrupted}')" '{"type":"end","interrupted":true}' \
	"reconcile-groups ended its stream saying it was interrupted"
like "$(cat "$STATE/last/stderr.log")" 'reconcile-groups: interrupted by a signal' "and said so"
is "$(jq -r '.failed_stage' "$STATE/last/run.json")" interrupted "run.json records the interruption"
rc=0
oncall-sync sync >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "the next sync completes"
is "$(audit_done)" 201 "the audit then holds all 201 writes, each once"
is "$(jq -s 'map(select(.type == "change")) | group_by(.action, .account.id) | map(length) | max' "$AUDIT")" 1 \
	"no change recorded twice"

# --- kill -9 of reconcile-groups in the middle of the writes
start --latency-ms 150
setsid oncall-sync sync >"$T/out" 2>"$T/err" &
pid=$!
ok "the sync is writing" wait_for writes_at_least 80
rgpid=$(child "$pid" reconcile-groups)
ok "reconcile-groups found ($rgpid)" test -n "$rgpid"
kill -9 "$rgpid"
rc=0
wait "$pid" || rc=$?
wait_for settled || true
n=$(applied)
a=$(audit_done)
is "$rc" 1 "kill -9 of reconcile-groups: the sync exits 1"
ok "stopped midway ($n of 201 writes applied)" test "$n" -lt 201
ok "the audit lacks at most the 64 writes in flight ($a of $n)" test "$a" -le "$n" -a "$a" -ge $((n - 64))
like "$(cat "$T/err")" "\(reconcile-groups exit 1\): $((a - 1)) added, 0 removed, 1 group created" \
	"the summary counts what reached the stream"

# --- kill -9 of fetch-oncall while it reads incident.io: nothing written
IIO_LATENCY=1000 start
setsid oncall-sync sync >"$T/out" 2>"$T/err" &
pid=$!
fetching() { [[ -n $(child "$pid" fetch-oncall) && ! -s $INCIDENTIO_SIM_LOG ]]; }
ok "fetch-oncall is waiting for incident.io" wait_for fetching
kill -9 "$(child "$pid" fetch-oncall)"
rc=0
wait "$pid" || rc=$?
wait_for settled || true
is "$rc" 1 "kill -9 of fetch-oncall: the sync exits 1"
is "$(applied)/$(audit_done)" 0/0 "no write, no audit line"

# --- kill -9 of match-users while it reads StrongDM: nothing written
start --latency-ms 1000
setsid oncall-sync sync >"$T/out" 2>"$T/err" &
pid=$!
matching() { [[ -n $(child "$pid" match-users) ]] && [[ $(curl -sSf "$STRONGDM_SIM_CONTROL/calls" | jq '.["Accounts.List"] // 0') -gt 0 ]]; }
ok "match-users is waiting for StrongDM" wait_for matching
kill -9 "$(child "$pid" match-users)"
rc=0
wait "$pid" || rc=$?
wait_for settled || true
is "$rc" 1 "kill -9 of match-users: the sync exits 1"
is "$(applied)/$(audit_done)" 0/0 "no write, no audit line"

# --- kill -9 of the wrapper alone: the pipeline finishes, the audit gets all
start --latency-ms 150
oncall-sync sync >"$T/out" 2>"$T/err" &
pid=$!
ok "the sync is writing" wait_for writes_at_least 20
rgpid=$(child "$pid" reconcile-groups)
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
rg_gone() { ! kill -0 "$rgpid" 2>/dev/null; }
ok "reconcile-groups goes on alone and ends" wait_for rg_gone
wait_for settled || true
all_audited() { (($(audit_done) == $(applied))); }
ok "the audit catches up" wait_for all_audited
is "$(applied)/$(audit_done)" 201/201 "every write applied and in the audit"

done_testing
