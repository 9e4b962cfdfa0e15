#!/usr/bin/env bash
# Safety rule 8: a write sent again after an attempt that may have reached
# StrongDM is settled by reading StrongDM's state, never by trusting the
# retry's answer. The simulator applies a call and then resets its HTTP/2
# stream (RST_STREAM) before any response header (--h2-relay, fault
# "reset" "when":"after"): the client sees no answer, counts a retry, and
# the retry meets ALREADY_EXISTS (create, add) or NOT_FOUND (remove,
# delete). The group is found by its managed tags, the membership by account
# and group: the run goes on and exits 0.
# shellcheck disable=SC2119 # rg takes its options only when given
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

reset_after() { # METHOD: apply the next call of METHOD, then reset its stream
	strongdm_sim_fault "{\"faults\":[{\"method\":\"$1\",\"kind\":\"reset\",\"when\":\"after\"}]}"
}
outcomes() { # METHOD: the outcomes of its calls, in order
	jq -r --arg m "$1" 'select(.method == $m) | .outcome' "$STRONGDM_SIM_LOG" | paste -sd' '
}

start_strongdm_sim "$RG_WORLD" --h2-relay

# --- the create is applied, its answer lost; the retry: ALREADY_EXISTS
roster $S1 TestSchedule alice@example.com bob@example.com | sealed >"$T/in"
reset_after Groups.Create
rg <"$T/in"
is "$rc" 0 "a create applied and then reset: exit 0"
is "$(outcomes Groups.Create)" "RESET ALREADY_EXISTS" "(the stream was reset, the retry met the group)"
is "$(changes "$T/out")" "create_group done TestSchedule -
add done TestSchedule alice@example.com
add done TestSchedule bob@example.com" "the create is done and the group's adds happen in the same run"
is "$(groups | grep ^TestSchedule)" \
	"TestSchedule [incidentio-schedule-id=$S1,incidentio-schedule-name=TestSchedule,managed-by=oncall-sync] alice@example.com,bob@example.com" \
	"one group, with Alice and Bob"
like "$(jq -r 'select(.method == "Groups.List") | .filter' "$STRONGDM_SIM_LOG" | tail -n 1)" \
	'tag:"managed-by"="oncall-sync".*tag:"incidentio-schedule-id"="'$S1'"' "the group was looked up by its managed tags"
is "$(grep -c 'is taken' "$T/err" || true)" 0 "no 'name taken' error"

# --- an add applied and reset, a remove applied and reset
: >"$STRONGDM_SIM_LOG"
roster $S1 TestSchedule alice@example.com carlos@example.com | sealed >"$T/in"
reset_after AccountsGroups.Create
reset_after AccountsGroups.Delete
rg <"$T/in"
is "$rc" 0 "an add and a remove applied and then reset: exit 0"
is "$(outcomes AccountsGroups.Create)/$(outcomes AccountsGroups.Delete)" "RESET ALREADY_EXISTS/RESET NOT_FOUND" \
	"(their retries met ALREADY_EXISTS and NOT_FOUND)"
is "$(changes "$T/out")" "add done TestSchedule carlos@example.com
remove done TestSchedule bob@example.com" "both are done"
is "$(jq -r 'select(.method == "AccountsGroups.List") | .filter' "$STRONGDM_SIM_LOG" | grep -c 'accountid:.*groupid:')" 2 \
	"each settled by reading the membership by account and group"
is "$(groups | grep ^TestSchedule | cut -d' ' -f3)" "alice@example.com,carlos@example.com" "the group holds Alice and Carlos"

# --- a pruned group's delete applied and reset
: >"$STRONGDM_SIM_LOG"
roster $S2 Payments bob@example.com | sealed >"$T/in"
reset_after Groups.Delete
rg --prune <"$T/in"
is "$rc" 0 "a delete applied and then reset: exit 0"
is "$(outcomes Groups.Delete)" "RESET NOT_FOUND" "(its retry met NOT_FOUND)"
is "$(changes "$T/out" | grep TestSchedule)" "remove done TestSchedule alice@example.com
remove done TestSchedule carlos@example.com
delete_group done TestSchedule -" "the pruned group is emptied and deleted"
is "$(groups | grep -c ^TestSchedule || true)" 0 "and gone"

# --- a reset before the server did anything: the retry does the work
: >"$STRONGDM_SIM_LOG"
strongdm_sim_fault '{"faults":[{"method":"AccountsGroups.Create","kind":"reset"}]}'
roster $S2 Payments bob@example.com deanna@example.com | sealed >"$T/in"
rg <"$T/in"
is "$rc" 0 "a reset before applying: exit 0"
is "$(outcomes AccountsGroups.Create)" "RESET OK" "(the retry applied it)"
is "$(groups | grep ^Payments | cut -d' ' -f3)" "bob@example.com,deanna@example.com" "Deanna added once"

# --- the name really is taken: a retried create that finds no group of its
# own is not a takeover
strongdm_sim_stop
start_strongdm_sim "$(world_with '.groups += [{name: "Security", tags: {}, members: []}]')" --h2-relay
strongdm_sim_fault '{"faults":[{"method":"Groups.Create","kind":"reset"}]}'
roster $S3 Security alice@example.com | sealed >"$T/in"
rg <"$T/in"
is "$rc" 1 "a retried create meeting a name an unmanaged group holds: exit 1"
is "$(changes "$T/out")" "create_group failed Security -" "a failed create_group, no adds"
like "$(cat "$T/err")" 'name Security is taken by a group which oncall-sync does not manage' "says the name is taken"
is "$(groups | grep ^Security)" "Security [] " "the unmanaged group is untouched"

# --- through the whole pipeline and the wrapper: a reset create, exit 0
strongdm_sim_stop
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
start_incidentio_sim "$FIX/world.json"
start_strongdm_sim "$FIX/world.json" --h2-relay
ocs_key_files
ocs_config '{"name": "test", "schedules": ["TestSchedule"], "user_lookup": "email"}'
reset_after Groups.Create
rc=0
oncall-sync sync >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "oncall-sync sync with a create applied and reset: exit 0"
like "$(cat "$T/err")" 'synced 1 schedule: 2 added, 0 removed, 1 group created' "the summary"
is "$(ocs_groups)" "TestSchedule: alice@example.com bob@example.com" "the group and its members"
is "$(jq -c 'select(.action == "create_group") | .status' "$ONCALL_SYNC_STATE_DIR/audit.ndjson")" '"done"' \
	"the audit records the create once, done"

done_testing
