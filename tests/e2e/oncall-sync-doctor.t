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
like "$(cat "$T/out")" 'FAIL  schedule Nope: no incident.io schedule has the id or name "Nope"' "an unknown schedule (fetch-oncall's message)"
like "$(cat "$T/out")" "Check the schedule in $ONCALL_SYNC_CONFIG against 'oncall-sync schedules' \\(give its id\\)" \
	"what to do about it (code not_found)"
like "$(cat "$T/out")" 'stored by name' "a schedule stored by name is pointed out"
like "$(cat "$T/out")" 'warn  unmatched: Ivan <ivan@example.com> \(incident.io 01FCNDV6P870EA6S7TK1DSYDG6\) on Platform: no StrongDM user' \
	"the unmatched person is named (a warning: no StrongDM user)"
like "$(cat "$T/out")" 'confirm the user exists in StrongDM \(Principals > Users\) with the email ivan@example.com' \
	"with the checks to make"
like "$(cat "$T/out")" 'ok    Platform: on call now: gina@example.com, ivan@example.com' "Gina's override counts"

# doctor checks the config as strictly as sync: a misspelt field is an error
ocs_config '{"schedules": ["TestSchedule"], "user_lookpu": "identity-alias"}'
run oncall-sync doctor
is "$rc" 2 "doctor with a misspelt field: exit 2"
like "$(cat "$T/err")" 'unknown field "user_lookpu" \(did you mean "user_lookup"\?\)' "naming it"

# Only people without a StrongDM user unmatched: a warning, exit 0 (doctor
# can watch a sync from monitoring)
ocs_config '{"schedules": ["TestSchedule", "Platform"]}'
run oncall-sync doctor
is "$rc" 0 "only a person without a StrongDM user unmatched: exit 0"
like "$(cat "$T/out")" 'warn  unmatched: Ivan' "the person is a warning"
like "$(cat "$T/out")" 'All checks passed' "and all checks pass"

# doctor decides on match-users' reason codes, never on its prose: a
# match-users that keeps the reason given and says something else
mkdir -p "$T/libexec"
for p in fetch-oncall reconcile-groups; do ln -sf "$BIN/$p" "$T/libexec/$p"; done
fake_match() { # REASON MESSAGE: match-users, with every unmatched reason and message replaced
	printf '#!/bin/sh\nset -e\n"%s" "$@" | jq -c --arg r %q --arg m %q %s\n' "$BIN/match-users" "$1" "$2" \
		"'if .type == \"roster\" then .oncall |= map(if has(\"unmatched\") then .reason = \$r | .unmatched = \$m else . end) else . end'" \
		>"$T/libexec/match-users"
	chmod +x "$T/libexec/match-users"
}
fake_match ambiguous "words that name no cause"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
is "$rc" 1 "reason ambiguous: a fault, exit 1"
like "$(cat "$T/out")" 'FAIL  unmatched: Ivan .*: words that name no cause' "the message is shown as given"
like "$(cat "$T/out")" 'several StrongDM users have this email; keep one' "the hint follows the code"
fake_match no_user "2 StrongDM users have email ivan@example.com (a-1, a-2): not guessing"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
is "$rc" 0 "reason no_user, whatever the message says: a warning, exit 0"
like "$(cat "$T/out")" 'confirm the user exists in StrongDM' "with the no_user hint"
fake_match suspended "x"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
like "$(cat "$T/out")" 'warn  unmatched: Ivan.*
 +their StrongDM user is suspended' "reason suspended: a warning with its hint"
fake_match not_a_user "x"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
is "$rc" 1 "reason not_a_user: exit 1"
like "$(cat "$T/out")" 'service account or token, not a user' "with its hint"

# explain says why from the code too
ONCALL_LIBEXEC=$T/libexec oncall-sync sync 2>/dev/null || true
run oncall-sync explain ivan@example.com
like "$(cat "$T/out")" 'no StrongDM user matched: x
 +\(not_a_user\) their identity alias names a service account' "explain follows the reason code"

# error codes: doctor says what to do from an error record's code
printf '#!/bin/sh\n[ "$1" != --check-credentials ] || exec "%s" "$@"\n"%s" "$@" >/dev/null 2>&1\nprintf %%s\\\\n %s %s\necho "match-users: something failed" >&2\nexit 1\n' "$BIN/match-users" "$BIN/match-users" \
	"'{\"type\":\"error\",\"stage\":\"match-users\",\"schedule\":{\"id\":\"x\",\"name\":\"x\"},\"code\":\"permission_denied\",\"message\":\"StrongDM: no words about it\"}'" \
	"'{\"type\":\"end\",\"stage\":\"match-users\",\"records\":1}'" >"$T/libexec/match-users"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
is "$rc" 1 "a StrongDM error record: exit 1"
like "$(cat "$T/out")" 'lacks a permission. It needs user:list' "the hint follows the code permission_denied"
like "$(cat "$T/out")" 'FAIL  StrongDM \(match-users\): StrongDM: no words about it' \
	"the failure shown is the error record's message, not a line picked by its words"
# no record (a usage or key problem, exit 2): its last line, whatever it says
printf '#!/bin/sh\n[ "$1" != --check-credentials ] || exec "%s" "$@"\ncat >/dev/null\necho "match-users: unmatched warning: first" >&2\necho "match-users: a warning about the key, the fatal one" >&2\nexit 2\n' \
	"$BIN/match-users" >"$T/libexec/match-users"
ONCALL_LIBEXEC=$T/libexec run oncall-sync doctor
like "$(cat "$T/out")" 'FAIL  StrongDM \(match-users\): a warning about the key, the fatal one' \
	"without an error record, the stage's last line"

# A schedule whose name holds a newline (incident.io allows it)
jq '.incidentio.schedules |= map(if .name == "Platform" then .name = "Plat\nform" else . end)' \
	"$FIX/world.json" >"$T/world-nl.json"
incidentio_sim_stop
start_incidentio_sim "$T/world-nl.json"
unset INCIDENT_API_KEY
ocs_config '{"schedules": ["TestSchedule", "01G0J1EXE7PLATFORM00000000"]}'
run oncall-sync doctor
is "$rc" 0 "a schedule name with a newline: doctor still ends (exit 0)"
like "$(cat "$T/out")" 'warn  unmatched: Ivan <ivan@example.com> \(incident.io [0-9A-Z]+\) on Plat\\nform' "the name shown escaped"
ok "no unbound variable" bash -c "! grep -q 'unbound variable' '$T/err'"
incidentio_sim_stop
start_incidentio_sim "$FIX/world.json"
unset INCIDENT_API_KEY

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
