#!/usr/bin/env bash
# The whole pipeline as a user types it,
#   fetch-oncall -s … | match-users | reconcile-groups
# against both simulators, comparing StrongDM's dumped state with the
# expected state: the seed's story (Alice and Bob on call on TestSchedule,
# then the shift changes and Carlos and Deanna replace them), a second run
# making no change, a hand-added member removed, nobody on call, a new
# schedule, an unmanaged group with the same name, an upstream error, dry
# run, max-changes, a renamed schedule, prune, a cut stream.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/pipeline/lib.sh"

TEST=01G0J1EXE7AXZ2C93K61WBPYEH QUIET=01G0J1EXE7QUIET00000000000
PAY=01G0J1EXE7PAYMENTS00000000

start_sims "$PIPE_FIX/world.json"

# --- 07:00: Alice and Bob on TestSchedule; Alice on Quiet
sync -s TestSchedule -s Quiet
is "$st" "0 0 0" "07:00: every stage exits 0"
same_state "$PIPE_FIX/expected-0700.json" "07:00: TestSchedule holds Alice and Bob, Quiet holds Alice"
is "$(changes)" "create_group done Quiet -
add done Quiet alice@example.com
create_group done TestSchedule -
add done TestSchedule alice@example.com
add done TestSchedule bob@example.com" "07:00: the changes (by group)"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"reconcile-groups","records":5}' "the stream ends"

# --- a second run makes no change
before=$(writes)
sync -s TestSchedule -s Quiet
is "$st" "0 0 0" "second run: exit 0"
is "$(changes)" "" "second run: no change record"
is "$(writes)" "$before" "second run: no write call"

# --- an admin adds Mallory by hand; 09:30: the shift changed, Carlos (whose
# incident.io email differs in case) and Deanna replace Alice and Bob, and
# nobody is on call on Quiet
gid=$(strongdm_sim_state | jq -r '.groups[] | select(.name == "TestSchedule") | .id')
/usr/bin/python3 "$ROOT/tests/sdm-call.py" AccountsGroups.Create \
	"{\"account_group\":{\"account_id\":\"a-0000000000000006\",\"group_id\":\"$gid\"}}" >/dev/null
incidentio_sim_clock 2026-11-29T09:30:00Z
sync -s TestSchedule -s Quiet
is "$st" "0 0 0" "09:30: exit 0"
is "$(changes)" "remove done Quiet alice@example.com
add done TestSchedule carlos@example.com
add done TestSchedule deanna@example.com
remove done TestSchedule alice@example.com
remove done TestSchedule bob@example.com
remove done TestSchedule mallory@example.com" "09:30: Carlos and Deanna in; Alice, Bob and hand-added Mallory out; Quiet emptied"
same_state "$PIPE_FIX/expected-0930.json" "09:30: the expected state"

# --- a new schedule: Payments (Eve matched, Zed has no StrongDM user)
sync -s TestSchedule -s Quiet -s Payments
is "$st" "0 0 0" "new schedule: exit 0"
is "$(changes)" "create_group done Payments -
add done Payments eve@example.com" "new schedule: its group is created with Eve; Zed changes nothing"
like "$(cat "$T/match.err")" 'zed@example.com' "match-users reports Zed as unmatched"
same_state "$PIPE_FIX/expected-payments.json" "new schedule: the expected state"

# --- a schedule named like an unmanaged group: an error, never a takeover
sync -s TestSchedule -s Quiet -s Payments -s Security
is "$st" "0 0 1" "unmanaged group with the same name: reconcile-groups exits 1"
is "$(changes)" "create_group failed Security -" "a failed create_group, nothing else"
like "$(jq -r 'select(.action == "create_group") | .error' "$T/out")" \
	'^name Security is taken by a group which oncall-sync does not manage \(Groups.Create: ALREADY_EXISTS: ' \
	"StrongDM's ALREADY_EXISTS says so"
same_state "$PIPE_FIX/expected-payments.json" "the Security group is untouched, the others unchanged"

# --- 17:30: Alice and Bob again; but incident.io fails for TestSchedule
incidentio_sim_clock 2026-11-29T17:30:00Z
incidentio_sim_fault '{"path_prefix": "/v2/schedule_entries", "kind": "status", "status": 404, "count": 1}'
sync -j 1 --at 2026-11-29T17:30:00Z --grace 1s -s TestSchedule -s Quiet -s Payments
is "${st%% *} ${st##* }" "1 1" "upstream error: fetch-oncall and reconcile-groups exit 1"
is "$(jq -r 'select(.type == "error") | .schedule.name' "$T/out")" "TestSchedule" \
	"the error record flows through to reconcile-groups' output"
is "$(changes)" "" "no change: TestSchedule keeps its group, the others are up to date"
same_state "$PIPE_FIX/expected-payments.json" "upstream error: TestSchedule's group is exactly as it was"

# --- dry run: the changes, planned, nothing written
before=$(writes)
sync -s TestSchedule -s Quiet -s Payments -- -n
is "$st" "0 0 0" "dry run: exit 0"
is "$(changes)" "add planned TestSchedule alice@example.com
add planned TestSchedule bob@example.com
remove planned TestSchedule carlos@example.com
remove planned TestSchedule deanna@example.com" "dry run: the plan"
is "$(writes)" "$before" "dry run: no write call"
same_state "$PIPE_FIX/expected-payments.json" "dry run: state unchanged"

# --- max-changes: 4 planned, 3 allowed: held, exit 3, nothing changed
sync -s TestSchedule -s Quiet -s Payments -- --max-changes 3
is "$st" "0 0 3" "--max-changes 3: reconcile-groups exits 3"
is "$(changes | cut -d' ' -f2 | sort -u)" "held" "every change held"
is "$(writes)" "$before" "--max-changes: no write call"
same_state "$PIPE_FIX/expected-payments.json" "--max-changes: state unchanged"

# --- a cut stream: match-users' output cut short; nothing changes
set +e
fetch-oncall -s TestSchedule -s Quiet -s Payments 2>/dev/null | match-users 2>/dev/null | head -n 2 |
	reconcile-groups >"$T/out" 2>"$T/err"
rc=${PIPESTATUS[3]}
set -e
is "$rc" 3 "a cut stream: exit 3"
like "$(cat "$T/err")" '<stdin>:2: input ended without an end record' "a cut stream: says so, with the line"
is "$(wc -c <"$T/out")" 0 "a cut stream: no output"
is "$(writes)" "$before" "a cut stream: no write call"

# --- the schedule is renamed in incident.io: the group follows it
incidentio_sim_stop
jq '.incidentio.schedules[0].name = "TestSchedule (EU)" | .incidentio.now = "2026-11-29T17:30:00Z"' \
	"$PIPE_FIX/world.json" >"$T/renamed.json"
start_incidentio_sim "$T/renamed.json"
sync -s $TEST -s $QUIET -s $PAY
is "$st" "0 0 0" "renamed schedule: exit 0"
is "$(changes)" "rename_group done TestSchedule (EU) -
add done TestSchedule (EU) alice@example.com
add done TestSchedule (EU) bob@example.com
remove done TestSchedule (EU) carlos@example.com
remove done TestSchedule (EU) deanna@example.com" "renamed: rename_group, then the shift change"
same_state "$PIPE_FIX/expected-renamed.json" "renamed: the expected state (same group, new name and name tag)"
is "$(strongdm_sim_state | jq -r '.groups[] | select(.name == "TestSchedule (EU)") | .id')" "$gid" \
	"it is the same group"

# --- Remove Schedules: Quiet is no longer selected; with --prune its group goes
sync -s $TEST -s $PAY
is "$(changes)" "" "without --prune Quiet's group stays"
sync -s $TEST -s $PAY -- --prune
is "$st" "0 0 0" "prune: exit 0"
is "$(changes)" "delete_group done Quiet -" "prune: Quiet's (empty) group is deleted"
same_state "$PIPE_FIX/expected-pruned.json" "prune: the expected state"
sync -s $TEST -s $PAY -- --prune
is "$(changes)" "" "and a second run makes no change"

done_testing
