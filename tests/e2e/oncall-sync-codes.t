#!/usr/bin/env bash
# doctor and explain act on the records' machine-readable codes, never on
# their prose: every unmatched reason (no_user, suspended, ambiguous,
# no_alias, no_id, not_a_user, no_email, failed) and every error code
# (unauthenticated, permission_denied, not_found, ambiguous, unavailable,
# rate_limited, invalid) gets its advice, whatever the message says. The
# three programs are stand-ins printing the sample records of tests/jq (no
# simulator, no network).
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
J=$ROOT/tests/jq
L=$T/libexec
mkdir -p "$L" "$T/state/last"
export ONCALL_LIBEXEC=$L ONCALL_SYNC_STATE_DIR=$T/state ONCALL_SYNC_CONFIG=$T/config.json
export INCIDENT_API_KEY=x SDM_API_ACCESS_KEY=x SDM_API_SECRET_KEY=x
unset INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY_FILE SDM_API_SECRET_KEY_FILE INCIDENT_API_URL SDM_API_HOST

# stand_in NAME SCRIPT: a program of that name running SCRIPT (sh), with
# --check-credentials and --check-options answered as the real one does
stand_in() {
	printf '#!/bin/sh\ncase " $* " in *" --check-credentials "*) exit 0 ;; *" --check-options "*) echo "{}"; exit 0 ;; esac\n%s\n' "$2" >"$L/$1"
	chmod +x "$L/$1"
}
stand_in fetch-oncall 'case " $* " in *" --list "*) cat "'"$J"'/list.ndjson" ;; *) grep -v "\"type\":\"end\"" "'"$J"'/errors.ndjson" | grep "fetch-oncall"; grep -v "\"type\":\"end\"" "'"$J"'/reasons/matched.ndjson" | sed "s/,\"unmatched\":[^}]*//g"; echo "{\"type\":\"end\",\"stage\":\"fetch-oncall\",\"records\":8}"; exit 1 ;; esac'
stand_in match-users 'if grep -q oncall-sync-doctor; then echo "{\"type\":\"end\",\"stage\":\"match-users\",\"records\":1}"; exit 0; fi
grep -v "\"type\":\"end\"" "'"$J"'/errors.ndjson"; grep -v "\"type\":\"end\"" "'"$J"'/reasons/matched.ndjson"; echo "{\"type\":\"end\",\"stage\":\"match-users\",\"records\":15}"; exit 1'
stand_in reconcile-groups 'cat >/dev/null; echo "{\"type\":\"end\",\"stage\":\"reconcile-groups\",\"records\":0}"'

# --- doctor: the advice follows the code, for email and alias look-up
for lookup in email identity-alias; do
	printf '{"schedules": ["Reasons"], "user_lookup": "%s", "identity_set": "oncall"}\n' "$lookup" >"$T/config.json"
	run oncall-sync doctor
	is "$rc" 1 "$lookup: doctor exits 1 (faults found)"
	out=$(cat "$T/out")
	hint() { # REASON-or-CODE PATTERN DESC
		like "$out" "$2" "$lookup: $1: $3"
	}
	hint no_user 'warn  unmatched: no_user .*
 +confirm the user exists in StrongDM \(Principals > Users\) with the email no_user@example.com' "a warning: create the user, or fix the email"
	hint suspended 'warn  unmatched: suspended .*
 +their StrongDM user is suspended: reactivate it' "a warning: reactivate the user"
	if [[ $lookup == email ]]; then
		hint ambiguous 'FAIL  unmatched: ambiguous .*not guessing
 +several StrongDM users have this email; keep one' "a fault: keep one user"
	else
		hint ambiguous 'FAIL  unmatched: ambiguous .*
 +several aliases in the identity set "oncall" have their incident.io id; keep one' "a fault: keep one alias"
	fi
	hint no_alias 'FAIL  unmatched: no_alias .*
 +confirm they exist in StrongDM and have an identity alias in the set "oncall"
 +whose username is exactly their incident.io id: R-no_alias' "a fault: give them an alias"
	hint no_id 'FAIL  unmatched: no_id .*
 +confirm they exist in StrongDM and have an identity alias' "a fault: the alias"
	hint not_a_user 'FAIL  unmatched: not_a_user .*
 +their identity alias names a service account or token, not a user' "a fault: the alias names no user"
	hint no_email 'FAIL  unmatched: no_email <no email> .*
 +incident.io has no email for them: add one in incident.io' "a fault: add an email"
	hint failed 'FAIL  unmatched: failed .*
 +StrongDM could not be read for them: the sync.s error says why' "a fault: StrongDM not read"
	hint unauthenticated 'FAIL  schedule fetch-oncall unauthenticated: .*
 +incident.io did not accept the API key' "incident.io: the key"
	hint permission_denied 'FAIL  schedule fetch-oncall permission_denied: .*
 +The incident.io API key lacks a permission: it needs to view schedules' "incident.io: the permission"
	hint not_found 'FAIL  schedule fetch-oncall not_found: .*
 +Check the schedule in .*config.json against .oncall-sync schedules. \(give its id\)' "incident.io: the schedule"
	hint ambiguous 'FAIL  schedule fetch-oncall ambiguous: .*
 +Check the schedule in .*config.json against' "incident.io: a name two schedules share"
	hint unavailable 'FAIL  schedule fetch-oncall unavailable: .*
 +incident.io could not be reached or answered with errors: check INCIDENT_API_URL' "incident.io: the service"
	hint rate_limited 'FAIL  schedule fetch-oncall rate_limited: .*
 +incident.io could not be reached' "incident.io: rate limited"
	hint unauthenticated 'FAIL  schedule match-users unauthenticated: .*
 +StrongDM did not accept the API key pair' "StrongDM: the key pair"
	hint permission_denied 'FAIL  schedule match-users permission_denied: .*
 +The StrongDM API key lacks a permission. It needs user:list' "StrongDM: the permissions"
	hint unavailable 'FAIL  schedule match-users unavailable: .*
 +StrongDM could not be reached or answered with errors: check SDM_API_HOST' "StrongDM: the service"
	hint rate_limited 'FAIL  schedule match-users rate_limited: .*
 +StrongDM could not be reached' "StrongDM: rate limited"
	hint invalid 'FAIL  schedule match-users invalid: .*
 +Check the key files and identity_set' "StrongDM: the identity set"
done

# --- explain: each reason, from the last sync's streams (the config's
# identity-alias look-up: the advice names its identity set)
cp "$J/run.json" "$T/state/last/run.json"
cp "$J/reasons/matched.ndjson" "$T/state/last/matched.ndjson"
: >"$T/state/last/changes.ndjson"
explained() { # REASON PATTERN
	run oncall-sync explain "R-$1"
	like "$(cat "$T/out")" "NOT in \"Reasons\": on call on Reasons, but no StrongDM user matched: .*
    \\($1\\) $2" "explain: the reason $1"
}
explained no_user 'confirm the user exists in StrongDM \(Principals > Users\) with the email no_user@example.com'
explained suspended 'their StrongDM user is suspended: reactivate it'
explained ambiguous 'several aliases in the identity set "oncall" have their incident.io id; keep one'
explained no_alias 'confirm they exist in StrongDM and have an identity alias in the set "oncall" whose username is exactly their incident.io id: R-no_alias'
explained no_id 'confirm they exist in StrongDM and have an identity alias in the set "oncall"'
explained not_a_user 'their identity alias names a service account or token, not a user'
explained no_email 'incident.io has no email for them: add one in incident.io'
explained failed 'StrongDM could not be read for them'
# the message says "ambiguous", the code no_user: the code wins
jq -c 'if .type == "roster" then .oncall |= map(.unmatched = "several users match: ambiguous, duplicate") else . end' \
	"$J/reasons/matched.ndjson" >"$T/state/last/matched.ndjson"
explained no_user 'confirm the user exists in StrongDM'

# --- adopt reads the plan's action field, not its text: a group named
# adopt_group still has its other changes shown
jq -c '.group = {id: "group-9", name: "adopt_group"} | .status = "planned"' "$J/changes.ndjson" | head -n 1 >"$T/adopt.ndjson"
jq -c '.action = "adopt_group" | del(.account)' "$T/adopt.ndjson" | cat - "$T/adopt.ndjson" >"$T/plan.ndjson"
echo '{"type":"end","stage":"reconcile-groups","records":2}' >>"$T/plan.ndjson"
stand_in reconcile-groups 'cat >/dev/null; cat "'"$T"'/plan.ndjson"'
run oncall-sync adopt Reasons adopt_group </dev/null
is "$rc" 3 "adopt, not on a terminal: refused"
like "$(cat "$T/out")" "Adopting adopt_group \\(group-9\\) adds oncall-sync's tags.*
The next sync will then make these changes in it:
  \\+ alice@example.com -> adopt_group" "the adoption, then the group's other changes"
done_testing
