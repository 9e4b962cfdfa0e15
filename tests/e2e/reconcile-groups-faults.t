#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups when StrongDM fails: a write failing midway, a create
# failing, a rate-limited write, a write applied whose answer was lost, a
# read failing, kill -9 during the writes followed by a clean rerun, and a
# write limit met with many calls in flight.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

ALL="alice@example.com,bob@example.com,carlos@example.com,deanna@example.com"

start_strongdm_sim "$RG_WORLD"

# --- a write failing midway: that change failed, the others done, exit 1
roster $S1 TestSchedule alice@example.com bob@example.com carlos@example.com deanna@example.com |
	sealed >"$T/in"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"AccountsGroups.Create","after":2,"count":1,"message":"access denied"}]}'
rg <"$T/in"
is "$rc" 1 "a failed write: exit 1"
is "$(jq -r 'select(.type == "change") | .status' "$T/out" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" \
	"done=4 failed=1" "one add failed, the create and three adds done"
is "$(jq -r 'select(.status == "failed") | .error' "$T/out")" "AccountsGroups.Create: PERMISSION_DENIED: access denied" \
	"the failed change carries StrongDM's error"
is "$(jq -r 'select(.status == "failed") | .code' "$T/out")" permission_denied "and its code"
is "$(jq -r 'select(.type == "end") | .records' "$T/out")" 5 "and the stream still ends"
rg <"$T/in"
is "$rc" 0 "the rerun exits 0"
is "$(changes "$T/out" | cut -d' ' -f1,2)" "add done" "and makes only the missing add"
is "$(groups | grep ^TestSchedule | cut -d' ' -f3)" "$ALL" "the group is complete"

# --- a create failing: its adds are not attempted (failed, with the reason)
roster $S2 Payments alice@example.com | sealed >"$T/in2"
strongdm_sim_fault '{"faults":[{"kind":"status","code":3,"method":"Groups.Create","message":"bad group"}]}'
rg <"$T/in2"
is "$rc" 1 "a failed create: exit 1"
is "$(changes "$T/out")" "create_group failed Payments -
add failed Payments alice@example.com" "create failed, its add failed too"
is "$(jq -r 'select(.action == "add") | .error' "$T/out")" "not attempted: create_group of Payments failed" \
	"the add says why it was not attempted"
is "$(jq -r 'select(.status == "failed") | "\(.action) \(.code)"' "$T/out" | paste -sd,)" \
	"create_group invalid,add not_attempted" "the codes: invalid (INVALID_ARGUMENT) from StrongDM's, and not_attempted for the add"
is "$(strongdm_sim_count AccountsGroups.Create)" 5 "and no add was sent"

# --- a name taken between the look-up and the create (a race): an error
# for that schedule, as when the look-up finds it
roster 01G0J1EXE7AXZ2C93K61WBPYE3 Racing bob@example.com | sealed >"$T/in3"
strongdm_sim_fault '{"faults":[{"kind":"status","code":6,"method":"Groups.Create","message":"a group named \"Racing\" already exists"}]}'
rg <"$T/in3"
is "$rc" 1 "ALREADY_EXISTS at create: exit 1"
like "$(jq -r 'select(.action == "create_group") | "\(.status): \(.error)"' "$T/out")" \
	'^failed: name Racing is taken by a group which oncall-sync does not manage \(Groups.Create: ALREADY_EXISTS: ' \
	"create_group failed: the name is taken"
rg <"$T/in2"
is "$rc" 0 "the rerun creates it"

# --- a rate-limited write waits for reset_at, then succeeds
roster $S1 TestSchedule | sealed >"$T/in"
strongdm_sim_fault '{"faults":[{"kind":"resource_exhausted","method":"AccountsGroups.Delete","count":1,"reset_in_ms":800}]}'
start=$(date +%s%N)
rg <"$T/in"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc" 0 "a rate-limited write: exit 0"
is "$(changes "$T/out" | cut -d' ' -f1,2 | sort | uniq -c | awk '{print $2 $3 "=" $1}')" "removedone=4" "every remove done"
is "$(strongdm_sim_count AccountsGroups.Delete RESOURCE_EXHAUSTED)" 1 "StrongDM said RESOURCE_EXHAUSTED once"
is "$(strongdm_sim_count AccountsGroups.Delete OK)" 4 "each remove applied once"
ok "the write waited for reset_at (${elapsed_ms} ms)" test "$elapsed_ms" -ge 500
is "$(groups | grep ^TestSchedule | cut -d' ' -f3)" "" "the group is empty"

# --- a write applied whose answer was lost (INTERNAL after the write): the
# retry meets ALREADY_EXISTS, which means done
roster $S1 TestSchedule bob@example.com | sealed >"$T/in"
strongdm_sim_fault '{"faults":[{"kind":"internal","when":"after","method":"AccountsGroups.Create","count":1}]}'
rg <"$T/in"
is "$rc" 0 "a lost answer: exit 0"
is "$(changes "$T/out")" "add done TestSchedule bob@example.com" "the add is done"
is "$(strongdm_sim_count AccountsGroups.Create ALREADY_EXISTS)" 1 "(the retry met ALREADY_EXISTS)"

# --- a create applied whose answer was lost: the retry meets ALREADY_EXISTS;
# one look-up by its managed tags finds the group is this schedule's own
# (not a name taken), so it is done and its adds go on
roster 01G0J1EXE7AXZ2C93K61WBPYE7 Lost bob@example.com | sealed >"$T/lost"
strongdm_sim_fault '{"faults":[{"kind":"internal","when":"after","method":"Groups.Create","count":1}]}'
: >"$STRONGDM_SIM_LOG"
rg <"$T/lost"
is "$rc" 0 "a create whose answer was lost: exit 0"
is "$(changes "$T/out")" "create_group done Lost -
add done Lost bob@example.com" "the create is done, and the add"
is "$(strongdm_sim_count Groups.Create ALREADY_EXISTS)" 1 "(the retry met ALREADY_EXISTS)"
is "$(jq -r 'select(.method == "Groups.List") | .filter' "$STRONGDM_SIM_LOG" | grep -c 'incidentio-schedule-id')" 1 \
	"one look-up by the managed tags, only then"
is "$(groups | grep -c '^Lost ')" 1 "one group Lost"

# --- a read failing before any write: nothing changes, exit 1
roster $S1 TestSchedule carlos@example.com | sealed >"$T/in"
before=$(writes)
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"Groups.List","count":1,"message":"no group:read"}]}'
rg <"$T/in"
is "$rc" 1 "a failed read: exit 1"
like "$(cat "$T/err")" 'listing managed groups: Groups.List: PERMISSION_DENIED: no group:read' "says which read failed"
like "$(cat "$T/err")" 'nothing changed' "and that nothing changed"
is "$(changes "$T/out")" "" "no change record"
is "$(writes)" "$before" "no write call"
strongdm_sim_stop

# --- kill -9 during the writes, then a clean rerun: the same final state as
# a run never interrupted
# 40 users; two schedules with all of them on call: 2 creates + 80 adds
W=$(world_with '.accounts += [range(1; 41) | {id: ("a-1000000000000" + (100 + . | tostring)),
	type: "user", email: "user\(.)@example.com", first_name: "User", last_name: "\(.)"}]')
for i in $(seq 1 40); do RG_ACCOUNT[user$i@example.com]=a-1000000000000$((100 + i)); done
mapfile -t many < <(seq -f 'user%g@example.com' 1 40)
{ roster $S1 TestSchedule "${many[@]}"; roster $S2 Payments "${many[@]}"; } | sealed >"$T/big"

start_strongdm_sim "$W" --latency-ms 30
reconcile-groups <"$T/big" >"$T/clean.out" 2>"$T/clean.err"
want=$(groups)
strongdm_sim_stop

start_strongdm_sim "$W" --latency-ms 30
# (few calls in flight, so that the kill lands while adds remain)
strongdm_sim_fault '{"faults":[{"method":"AccountsGroups.Create","kind":"hold","count":1000,"after":20}]}'
reconcile-groups -j 4 <"$T/big" >"$T/killed.out" 2>"$T/killed.err" &
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
partial=$(strongdm_sim_count AccountsGroups.Create)
strongdm_sim_clear_faults
ok "killed midway ($partial of 80 adds sent)" test "$partial" -ge 20 -a "$partial" -lt 80
# each change's record is written the moment its write is answered: all
# but at most the -j 4 writes in flight reached the output, and no end
applied=$(jq -n '[inputs | select((.method | test("\\.(Create|Update|Delete)$")) and .outcome == "OK")] | length' \
	"$STRONGDM_SIM_LOG")
recs=$(jq -c 'select(.type == "change" and .status == "done")' "$T/killed.out" | wc -l)
ok "the killed run recorded each answered write ($recs records, $applied applied, at most 4 in flight)" \
	test "$recs" -le "$applied" -a "$recs" -ge $((applied - 4))
is "$(grep -c '"type":"end"' "$T/killed.out" || true)" 0 "and wrote no end record (never acted on)"
rg <"$T/big"
is "$rc" 0 "the rerun exits 0"
ok "the rerun makes only the missing changes ($(changes "$T/out" | wc -l))" \
	test "$(changes "$T/out" | wc -l)" -le $((82 - partial + 8))
is "$(groups)" "$want" "the final state equals an uninterrupted run's"
rg <"$T/big"
is "$(changes "$T/out")" "" "a third run changes nothing"
strongdm_sim_stop

# --- many calls in flight against a write limit: 2 creates + 80 adds, 50
# writes a (1 s) window, 64 in flight. The first burst overshoots (2 + 64 -
# 50 = at most 16 refused), the refused wait for reset_at and go through in
# the next window: every write applied once.
start_strongdm_sim "$W" --latency-ms 20 --rate-limit 5000,50 --rate-window-ms 1000
rg -j 64 <"$T/big"
is "$rc" 0 "rate-limited with -j 64: exit 0"
is "$(changes "$T/out" | cut -d' ' -f1,2 | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" \
	"add=80 create_group=2" "every change done"
is "$(strongdm_sim_count AccountsGroups.Create OK)" 80 "each add applied once"
refused=$(strongdm_sim_count AccountsGroups.Create RESOURCE_EXHAUSTED)
ok "at most the first burst's overshoot refused ($refused)" test "$refused" -le 16
is "$(groups)" "$want" "the state equals an unlimited run's"

done_testing
