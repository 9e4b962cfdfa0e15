#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups against the StrongDM simulator, fed hand-written matched
# streams: the seed's story (Alice and Bob on call on TestSchedule, then
# Carlos and Deanna), a second run changing nothing, a new schedule, a
# renamed schedule, nobody on call, a hand-added member removed.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

TAGS1="incidentio-schedule-id=$S1,incidentio-schedule-name=TestSchedule,managed-by=oncall-sync"

start_strongdm_sim "$RG_WORLD"

# --- Alice and Bob on call: the group is created with them; Zed is unmatched
{ roster $S1 TestSchedule alice@example.com bob@example.com zed@example.com; } | sealed >"$T/in"
rg <"$T/in"
is "$rc" 0 "first run exits 0"
is "$(changes "$T/out")" "create_group done TestSchedule -
add done TestSchedule alice@example.com
add done TestSchedule bob@example.com" "create_group then adds, by email"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"reconcile-groups","records":3}' "own end record counts the changes"
is "$(groups)" "Admins [env=prod] alice@example.com
TestSchedule [$TAGS1] alice@example.com,bob@example.com" "TestSchedule holds Alice and Bob, tagged as managed"
like "$(jq -c 'select(.action == "add" and .account.email == "alice@example.com")' "$T/out")" \
	'^\{"type":"change","action":"add","status":"done","schedule":\{"id":"'$S1'","name":"TestSchedule"\},"group":\{"id":"group-[0-9a-f]+","name":"TestSchedule"\},"account":\{"id":"a-0000000000000001","email":"alice@example.com"\}\}$' \
	"change record format as in DESIGN.md"
is "$(cat "$T/err")" "" "nothing on stderr"

# --- the same input again: no write
before=$(writes)
rg <"$T/in"
is "$rc" 0 "second run exits 0"
is "$(changes "$T/out")" "" "second run makes no change"
is "$(writes)" "$before" "and no write call"

# --- the shift changes: Carlos and Deanna replace Alice and Bob
roster $S1 TestSchedule carlos@example.com deanna@example.com | sealed >"$T/in"
rg <"$T/in"
is "$rc" 0 "shift change exits 0"
is "$(changes "$T/out")" "add done TestSchedule carlos@example.com
add done TestSchedule deanna@example.com
remove done TestSchedule alice@example.com
remove done TestSchedule bob@example.com" "adds then removes"
is "$(groups | grep ^TestSchedule)" "TestSchedule [$TAGS1] carlos@example.com,deanna@example.com" \
	"TestSchedule now holds Carlos and Deanna"

# --- a hand-added member (Eve) is removed; other records pass through first
eve_to_group=$(strongdm_sim_state | jq -r '.groups[] | select(.name == "TestSchedule") | .id')
/usr/bin/python3 "$ROOT/tests/sdm-call.py" AccountsGroups.Create \
	"{\"account_group\":{\"account_id\":\"a-0000000000000005\",\"group_id\":\"$eve_to_group\"}}" >/dev/null
{ echo '{"type":"note","text":"kept"}'; roster $S1 TestSchedule carlos@example.com deanna@example.com; } | sealed >"$T/in"
rg <"$T/in"
is "$rc" 0 "hand-added member run exits 0"
is "$(changes "$T/out")" "remove done TestSchedule eve@example.com" "the hand-added member is removed (email looked up)"
is "$(head -n 1 "$T/out")" '{"type":"note","text":"kept"}' "a record of another type is passed on first"

# --- a new schedule, and the first renamed, with a prefix for both
{ roster $S1 "Test Schedule (renamed)" carlos@example.com deanna@example.com
  roster $S2 Payments bob@example.com; } | sealed >"$T/in"
rg --group-prefix "oncall-" <"$T/in"
is "$rc" 0 "rename and new schedule exit 0"
is "$(changes "$T/out")" "create_group done oncall-Payments -
add done oncall-Payments bob@example.com
rename_group done oncall-Test Schedule (renamed) -" "rename_group for the renamed schedule, create_group for the new one"
is "$(jq -r 'select(.action == "rename_group") | .group.previous_name' "$T/out")" "TestSchedule" \
	"rename_group names the previous name"
is "$(groups)" "Admins [env=prod] alice@example.com
oncall-Payments [incidentio-schedule-id=$S2,incidentio-schedule-name=Payments,managed-by=oncall-sync] bob@example.com
oncall-Test Schedule (renamed) [incidentio-schedule-id=$S1,incidentio-schedule-name=Test Schedule _renamed_,managed-by=oncall-sync] carlos@example.com,deanna@example.com" \
	"the group follows its schedule (found by tag, not by name); tags kept, name tag sanitised"

# --- nobody on call: the group is emptied, not deleted
{ roster $S1 "Test Schedule (renamed)"; roster $S2 Payments bob@example.com; } | sealed >"$T/in"
rg --group-prefix "oncall-" <"$T/in"
is "$rc" 0 "nobody on call exits 0"
is "$(changes "$T/out")" "remove done oncall-Test Schedule (renamed) carlos@example.com
remove done oncall-Test Schedule (renamed) deanna@example.com" "nobody on call empties the group"
is "$(groups | grep -c renamed)" 1 "the empty group stays"

# --- reads are few: one managed listing, memberships per group (2 groups),
# no name look-up when no group is created or renamed
: >"$STRONGDM_SIM_LOG"
rg --group-prefix "oncall-" <"$T/in"
is "$(jq -r '.method' "$STRONGDM_SIM_LOG" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" \
	"AccountsGroups.List=2 Groups.List=1" "an unchanged run reads 3 times and writes nothing"

done_testing
