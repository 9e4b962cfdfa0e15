#!/usr/bin/env bash
# The whole pipeline (fetch-oncall | match-users | reconcile-groups) when
# StrongDM's writes fail: a write failing midway, a rate-limited write, and
# reconcile-groups killed (-9) during its writes, each followed by a rerun
# that reaches the expected state.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/pipeline/lib.sh"

# --- a write failing midway: that change failed, the others done, exit 1
start_sims "$PIPE_FIX/world.json"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"AccountsGroups.Create","after":1,"count":1,"message":"denied"}]}'
sync -s TestSchedule -s Quiet
is "$st" "0 0 1" "a write failing midway: reconcile-groups exits 1"
is "$(jq -r 'select(.type == "change") | .status' "$T/out" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" \
	"done=4 failed=1" "one change failed, four done"
like "$(jq -r 'select(.status == "failed") | .error' "$T/out")" 'PERMISSION_DENIED: denied' "with StrongDM's error"
sync -s TestSchedule -s Quiet
is "$st" "0 0 0" "the rerun: exit 0"
is "$(changes | wc -l)" 1 "the rerun makes the one missing change"
same_state "$PIPE_FIX/expected-0700.json" "the expected state"

# --- a rate-limited write waits for reset_at
incidentio_sim_clock 2026-11-29T09:30:00Z
strongdm_sim_fault '{"faults":[{"kind":"resource_exhausted","method":"AccountsGroups.Delete","count":2,"reset_in_ms":600}]}'
sync -s TestSchedule -s Quiet
is "$st" "0 0 0" "rate-limited writes: exit 0"
is "$(changes | cut -d' ' -f2 | sort -u)" "done" "every change done"
is "$(strongdm_sim_count AccountsGroups.Delete RESOURCE_EXHAUSTED)" 2 "after two RESOURCE_EXHAUSTED answers"
same_state "$PIPE_FIX/expected-0930.json" "the expected state"
incidentio_sim_stop
strongdm_sim_stop

# --- kill -9 during the writes, then a clean rerun
# 40 people on call on two schedules (40 layers each): 2 creates + 80 adds,
# each write taking 30 ms in the simulator
jq '
  def ppl: [range(1; 41) | {n: ., email: "user\(.)@example.com"}];
  .incidentio.users = [ppl[] | {id: "U\(1000 + .n)", name: "User \(.n)", email}]
  | .incidentio.schedules = [("Big", "Bigger") as $s | {id: "S-\($s)", name: $s, timezone: "UTC",
      rotations: [{id: "R-\($s)", name: "All", users: [ppl[] | "U\(1000 + .n)"],
                   layers: [ppl[] | {id: "L-\($s)-\(.n)", name: "L\(.n)"}],
                   handover_start_at: "2026-11-29T00:00:00Z", handover_interval: "1d"}]}]
  | .strongdm.accounts = [ppl[] | {id: "a-\(1000000000000000 + .n)", type: "user", email,
                                   first_name: "User", last_name: "\(.n)"}]
  | .strongdm.groups = []' "$PIPE_FIX/world.json" >"$T/big.json"
jq -S '[("Big", "Bigger") as $s | {name: $s, description: "Who is on call on an incident.io schedule; managed by oncall-sync (members added by hand are removed)",
        tags: {"incidentio-schedule-id": "S-\($s)", "incidentio-schedule-name": $s, "managed-by": "oncall-sync"},
        members: [range(1; 41) | "user\(.)@example.com"] | sort}]' -n >"$T/big-expected.json"

start_sims "$T/big.json" --latency-ms 30
fetch-oncall -a 2>/dev/null | match-users 2>/dev/null >"$T/big-matched.ndjson"
is "$(jq -r 'select(.type == "roster") | [.oncall[] | select(.account)] | length' "$T/big-matched.ndjson" | paste -sd' ')" \
	"40 40" "40 matched people on each schedule"
: >"$STRONGDM_SIM_LOG"
# (few calls in flight, so that the kill lands while adds remain)
strongdm_sim_fault '{"faults":[{"method":"AccountsGroups.Create","kind":"hold","count":1000,"after":20}]}'
fetch-oncall -a 2>/dev/null | match-users 2>/dev/null | reconcile-groups -j 4 >"$T/killed.out" 2>"$T/killed.err" &
pid=$!
# (the sim lets 20 adds through and holds the rest: the kill lands while
# adds remain on a machine of any speed; clearing the faults lets the held
# calls go, and as their client is gone they are not served)
for ((i = 0; i < 1200; i++)); do
	[[ $(strongdm_sim_count AccountsGroups.Create) -ge 20 &&
		$(curl -sSf "$STRONGDM_SIM_CONTROL/inflight" | jq .in_flight) -ge 1 ]] && break
	sleep 0.05
done
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null || true
sent=$(strongdm_sim_count AccountsGroups.Create)
strongdm_sim_clear_faults
ok "reconcile-groups killed midway ($sent of 80 adds sent)" test "$sent" -ge 20 -a "$sent" -lt 80
applied=$(jq -n '[inputs | select((.method | test("\\.(Create|Update|Delete)$")) and .outcome == "OK")] | length' \
	"$STRONGDM_SIM_LOG")
recs=$(jq -c 'select(.type == "change" and .status == "done")' "$T/killed.out" | wc -l)
ok "the killed run recorded each answered write ($recs records, $applied applied, at most 4 in flight)" \
	test "$recs" -le "$applied" -a "$recs" -ge $((applied - 4))
is "$(grep -c '"type":"end"' "$T/killed.out" || true)" 0 "and wrote no end record"
sync -a
is "$st" "0 0 0" "the clean rerun: exit 0"
ok "the rerun adds only who is missing ($(changes | wc -l) changes)" test "$(changes | grep -c '^add done')" -le $((80 - sent + 8))
same_state "$T/big-expected.json" "the final state is the expected one: both groups, all 40"
sync -a
is "$(changes)" "" "and a further run changes nothing"

done_testing
