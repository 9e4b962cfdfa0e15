#!/usr/bin/env bash
# match-users when StrongDM fails: an outage (error records for the affected
# schedules, exit 1), a passing fault (retried), a wrong key, a key without
# permission, a missing key.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/match-users
reset_log() { : >"$STRONGDM_SIM_LOG"; }
count() { strongdm_sim_count "$@"; }
types() { jq -r '[.type, .schedule.name // .schedule.id // .stage] | join(" ")' "$T/out" | tr '\n' ','; }

require_bin match-users
start_strongdm_sim "$FX/world.json"

# In roster.ndjson, TestSchedule and Night need look-ups; Empty has nobody on
# call; the last roster has only a person without an email.
# --- an outage: every Accounts.List fails, even after the retries ---------------
for mode in page listing; do
	reset_log
	strongdm_sim_clear_faults
	strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Accounts.List","count":-1}]}'
	if [ "$mode" = listing ]; then
		run match-users --lookup-max 0 <"$FX/roster.ndjson"
	else
		run match-users <"$FX/roster.ndjson"
	fi
	is "$rc" 1 "outage ($mode): exit 1"
	is "$(types)" 'error TestSchedule,error Broken,error Night,future-thing ,roster Empty,roster 01G0J1EXE7AXZ2C93K61WBPYEN,end match-users,' \
		"outage ($mode): the schedules that needed StrongDM become errors; the others stay; the stream is complete"
	is "$(jq -r 'select(.stage=="match-users" and .type=="error") | .message' "$T/out" | sort -u)" \
		"StrongDM: Accounts.List: UNAVAILABLE: service unavailable (after 4 attempts)" "outage ($mode): the error records carry StrongDM's status"
	is "$(jq -r 'select(.stage=="match-users" and .type=="error") | .code' "$T/out" | sort -u)" \
		unavailable "outage ($mode): and the code unavailable"
	is "$(jq -c 'select(.stage=="match-users" and .type=="error") | .schedule' "$T/out" | head -n 1)" \
		'{"id":"01G0J1EXE7AXZ2C93K61WBPYEH","name":"TestSchedule"}' "outage ($mode): with the roster's schedule"
	is "$(sed -n 2p "$T/out")" "$(sed -n 2p "$FX/roster.ndjson")" "outage ($mode): fetch-oncall's error passed on"
	is "$(grep -c ': StrongDM: Accounts.List: UNAVAILABLE' "$T/err")" 2 "outage ($mode): one message per failed schedule"
	ok "outage ($mode): the calls were retried" test "$(count Accounts.List)" -gt 1
done
# two people: look-ups, no page first
reset_log
printf '%s\n' '{"type":"roster","schedule":{"id":"S1","name":"Two"},"oncall":[{"id":"U1","email":"bob@example.com"},{"id":"U2","email":"alice@example.com"}]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}' >"$T/two"
run match-users <"$T/two"
is "$rc/$(types)" "1/error Two,end match-users," "outage (look-ups): the schedule becomes an error record"
is "$(count Accounts.List)" 8 "outage (look-ups): each look-up tried 4 times"
strongdm_sim_clear_faults

# --- a passing fault is retried by the client ------------------------------------
reset_log
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Accounts.List","count":2},{"kind":"internal","method":"Accounts.List","count":1}]}'
run match-users <"$FX/roster.ndjson"
is "$rc" 0 "passing faults: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" "passing faults: the same result"
is "$(count Accounts.List UNAVAILABLE)/$(count Accounts.List INTERNAL)" 2/1 "passing faults: three failed attempts, retried"
strongdm_sim_clear_faults

# --- alias mode: aliases unreachable ----------------------------------------------
reset_log
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"IdentityAliases.List","count":-1}]}'
run match-users -b alias -i incidentio <"$FX/roster.ndjson"
is "$rc" 1 "alias outage: exit 1"
is "$(types)" 'error TestSchedule,error Broken,error Night,future-thing ,roster Empty,error 01G0J1EXE7AXZ2C93K61WBPYEN,end match-users,' \
	"alias outage: every schedule with someone on call becomes an error"
strongdm_sim_clear_faults

# --- alias mode: the aliases read, their accounts not (one page of every account fails)
reset_log
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Accounts.List","count":-1}]}'
run match-users -b alias -i incidentio <"$FX/roster.ndjson"
is "$rc" 1 "alias accounts outage: exit 1"
is "$(count IdentityAliases.List OK)" 1 "alias accounts outage: the aliases were read"
like "$(jq -r 'select(.type == "error" and .stage == "match-users") | .message' "$T/out" | sort -u)" \
	'StrongDM: Accounts.List: UNAVAILABLE' "alias accounts outage: the schedules whose people have aliases become errors"
is "$(jq -r 'select(.type == "roster") | .oncall[] | select(has("account")) | .id' "$T/out")" "" \
	"alias accounts outage: nobody is matched on a guess"
strongdm_sim_clear_faults

# --- a wrong key: one message, every roster an error ------------------------------
reset_log
SDM_API_SECRET_KEY=cmVhZG9ubHktc2VjcmV0LTMyLWJ5dGVzLWxvbmctb2s= run match-users <"$FX/roster.ndjson"
is "$rc" 1 "wrong key: exit 1"
is "$(types)" 'error TestSchedule,error Broken,error Night,future-thing ,error Empty,error 01G0J1EXE7AXZ2C93K61WBPYEN,end match-users,' \
	"wrong key: every roster becomes an error record"
is "$(grep -c . "$T/err")" 1 "wrong key: one message"
like "$(cat "$T/err")" '^match-users: StrongDM: Accounts.List: UNAUTHENTICATED: invalid signature \(check SDM_API_ACCESS_KEY and SDM_API_SECRET_KEY\)' \
	"wrong key: the message says what to check"
ok "wrong key: the secret is not in the message" bash -c '! grep -q cmVhZG9ubHkt "$1"' _ "$T/err"

# --- a key without the identity permissions ----------------------------------------
reset_log
SDM_API_ACCESS_KEY=users-only-key SDM_API_SECRET_KEY=cmVhZG9ubHktc2VjcmV0LTMyLWJ5dGVzLWxvbmctb2s= \
	run match-users -b alias -i incidentio <"$FX/roster.ndjson"
is "$rc" 1 "no identity permissions: exit 1"
like "$(cat "$T/err")" 'PERMISSION_DENIED: .*identityset:read' "no identity permissions: says which permissions are needed"
is "$(jq -r 'select(.type=="roster") | .schedule.name' "$T/out" | wc -l | tr -d ' ')" 0 "no identity permissions: no roster goes on"
SDM_API_ACCESS_KEY=users-only-key SDM_API_SECRET_KEY=cmVhZG9ubHktc2VjcmV0LTMyLWJ5dGVzLWxvbmctb2s= \
	run match-users <"$FX/roster.ndjson"
is "$rc" 0 "user:list is enough for email matching"

# --- no key: a configuration error before anything is read ---------------------------
reset_log
run env -u SDM_API_ACCESS_KEY "$BIN/match-users" <"$FX/roster.ndjson"
is "$rc" 2 "no key: exit 2"
is "$(cat "$T/out")" "" "no key: nothing on stdout"
like "$(cat "$T/err")" 'SDM_API_ACCESS_KEY' "no key: the message names the variable"
is "$(count '*')" 0 "no key: StrongDM not asked"

# --- the simulator gone altogether --------------------------------------------------
strongdm_sim_stop
run match-users <"$FX/roster.ndjson"
is "$rc" 1 "StrongDM unreachable: exit 1"
is "$(types)" 'error TestSchedule,error Broken,error Night,future-thing ,roster Empty,roster 01G0J1EXE7AXZ2C93K61WBPYEN,end match-users,' \
	"StrongDM unreachable: error records for the schedules that needed it"

done_testing
