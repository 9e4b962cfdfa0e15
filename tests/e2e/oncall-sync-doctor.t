#!/usr/bin/env bash
# oncall-sync doctor against both simulators: all good; a wrong key; a key
# missing a permission (incident.io and StrongDM); an unmatched person; a
# schedule or identity set that does not exist.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
ocs_start_sims
key() { (umask 077 && printf '%s\n' "$2" >"$T/keys/$1"); }

ocs_config '{"schedules": ["01G0J1EXE7AXZ2C93K61WBPYEH"]}'
run oncall-sync doctor
is "$rc" 0 "doctor exits 0 when all is well"
like "$(cat "$T/out")" 'ok    incident.io key accepted at http://127.0.0.1:[0-9]+: 5 schedules visible' "incident.io key checked"
like "$(cat "$T/out")" 'ok    schedule TestSchedule \(01G0J1EXE7AXZ2C93K61WBPYEH\)' "each schedule checked"
like "$(cat "$T/out")" 'ok    StrongDM key accepted .*user:list' "StrongDM key checked"
like "$(cat "$T/out")" 'ok    StrongDM groups readable' "StrongDM group permissions checked"
like "$(cat "$T/out")" 'ok    TestSchedule: on call now: alice@example.com, bob@example.com' "who is on call shown"
like "$(cat "$T/out")" 'All checks passed.' "and the verdict"
is "$(strongdm_sim_state | jq '[.groups[] | select(.tags["managed-by"])] | length')" 0 "doctor changes nothing"

# A wrong incident.io key
key incident-api-key wrong-key
run oncall-sync doctor
is "$rc" 1 "a wrong incident.io key: exit 1"
like "$(cat "$T/out")" 'FAIL  incident.io: .*401' "the failure is shown"
like "$(cat "$T/out")" 'incident.io did not accept the API key' "and explained"
like "$(cat "$T/out")" '1 problem\(s\) found.' "one problem"

# An incident.io key without schedules.view
key incident-api-key users-only-key
run oncall-sync doctor
is "$rc" 1 "an incident.io key without schedules.view: exit 1"
like "$(cat "$T/out")" 'lacks a permission: it needs to view schedules \(schedules.view\)' "the permission is named"
key incident-api-key test-incident-key

# A wrong StrongDM secret
cp "$T/keys/sdm-api-secret-key" "$T/good-secret"
key sdm-api-secret-key 'c2VjcmV0LXRoYXQtaXMtd3JvbmctMzItYnl0ZXMtbG9uZw=='
run oncall-sync doctor
is "$rc" 1 "a wrong StrongDM secret: exit 1"
like "$(cat "$T/out")" 'StrongDM did not accept the API key pair' "explained"

# A StrongDM key without user:list
key sdm-api-access-key no-user-list-key
key sdm-api-secret-key 'cmVhZG9ubHktc2VjcmV0LTMyLWJ5dGVzLWxvbmctb2s='
run oncall-sync doctor
is "$rc" 1 "a StrongDM key without user:list: exit 1"
like "$(cat "$T/out")" 'FAIL  StrongDM \(match-users\)' "the failing check is shown"
like "$(cat "$T/out")" 'lacks a permission. It needs user:list, group:read, group:write' "the permissions are listed"
like "$(cat "$T/out")" 'ok    StrongDM groups readable' "the group permissions it has pass"
key sdm-api-access-key test-access-key
cp "$T/good-secret" "$T/keys/sdm-api-secret-key"

# An unmatched person, a schedule that does not exist, a schedule by name
ocs_config '{"schedules": ["TestSchedule", "Platform", "Nope"]}'
run oncall-sync doctor
is "$rc" 1 "unmatched people and unknown schedules are problems"
like "$(cat "$T/out")" "FAIL  schedule Nope: no incident.io schedule has the id or name 'Nope'" "an unknown schedule"
like "$(cat "$T/out")" 'stored by name' "a schedule stored by name is pointed out"
like "$(cat "$T/out")" 'FAIL  unmatched: Ivan <ivan@example.com> \(incident.io 01FCNDV6P870EA6S7TK1DSYDG6\) on Platform: no StrongDM user' \
	"the unmatched person is named"
like "$(cat "$T/out")" 'confirm the user exists in StrongDM \(Principals > Users\) with the email ivan@example.com' \
	"with the checks to make"
like "$(cat "$T/out")" 'ok    Platform: on call now: gina@example.com, ivan@example.com' "Gina's override counts"

# Identity aliases: a set that exists, then one that does not
ocs_config '{"schedules": ["TestSchedule"], "user_lookup": "identity-alias", "identity_set": "incidentio"}'
run oncall-sync doctor
is "$rc" 0 "identity-alias lookup with an existing set passes"
like "$(cat "$T/out")" 'identity set "incidentio" found' "the identity set is checked"
ocs_config '{"schedules": ["TestSchedule"], "user_lookup": "identity-alias", "identity_set": "nosuchset"}'
run oncall-sync doctor
is "$rc" 1 "a missing identity set: exit 1"
like "$(cat "$T/out")" 'FAIL  StrongDM \(match-users\): .*nosuchset' "naming the set"

done_testing
