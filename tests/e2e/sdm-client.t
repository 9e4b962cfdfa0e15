#!/usr/bin/env bash
# sdm-client.t: the StrongDM client (lib/sdm.c) against scripts/strongdm-sim,
# through tests/tools/sdm-driver: every call, paging, bad credentials, rate
# limits, bounded retries, a dropped connection, concurrency on one
# connection.
set -uo pipefail
. "$(dirname "$0")/../tap.sh"

require_tool sdm-driver
require_cmd jq /usr/bin/python3
DRIVER=$BUILD_DIR/tests/tools/sdm-driver

plan 77

# A world: 1000 users (every 10th suspended), a service account, identity
# sets and aliases, two groups.
jq -n '{
  accounts: ([range(1000) | {id: ("a-" + (10000 + . | tostring)), type: "user",
              email: ("user\(.)@example.com"), first_name: "U\(.)", last_name: "L",
              suspended: (. % 10 == 3)}]
             + [{id: "a-svc", type: "service", name: "ci-bot"}]),
  identity_sets: [{id: "ig-1", name: "incidentio"}, {id: "ig-2", name: "default"}],
  identity_aliases: [range(5) | {id: "i-\(.)", account_id: ("a-" + (10000 + . | tostring)),
                                 identity_set: "incidentio", username: "01HUSER\(.)"}],
  groups: [{id: "group-admins", name: "Admins", tags: {env: "prod"},
            members: ["a-10000", "a-10001"]},
           {id: "group-scim", name: "SCIM", source: "scim"}]
}' > "$T/world.json"

start_strongdm_sim "$T/world.json" --seed 1
drv() { run "$DRIVER" "$@"; }
stats() { sed -n 's/^stats: //p' "$T/err" | tail -n 1 | jq -r "$1"; }
count() { strongdm_sim_count "$@"; }
reset_log() { : > "$STRONGDM_SIM_LOG"; }

# ---- paging
reset_log
drv accounts-list --limit 7
is "$rc" 0 "accounts-list --limit 7 succeeds"
is "$(wc -l < "$T/out")" 1001 "all 1001 accounts over many pages"
is "$(count Accounts.List)" 143 "143 pages of 7 (1001 accounts)"
is "$(jq -s 'map(.id) | unique | length' "$T/out")" 1001 "no account twice"
is "$(jq -s '[.[] | select(.suspended)] | length' "$T/out")" 100 "suspended users read (field 10)"
is "$(jq -s '[.[] | select(.type == "service")] | .[0].name' "$T/out")" '"ci-bot"' "a service account"
is "$(jq -r 'select(.id == "a-10042") | .email' "$T/out")" "user42@example.com" "a user's email"
is "$(stats .pages)" 143 "stats count the pages"

reset_log
drv accounts-list --filter 'type:"user"' --limit 300
is "$(wc -l < "$T/out")" 1000 "a filtered listing over 4 pages"
is "$(jq -r '.filter' "$STRONGDM_SIM_LOG" | sort -u)" 'type:"user"' "the filter is sent with every page"
drv accounts-list --filter 'email:"USER42@example.com"'
is "$(jq -r .id "$T/out")" "a-10042" "a filter by email (case-insensitive)"
drv accounts-list
is "$(wc -l < "$T/out")" 1001 "the default limit pages too"

# ---- page by page (sdm_*_list_pages)
reset_log
drv accounts-pages --limit 300
is "$rc" 0 "accounts-pages succeeds"
is "$(jq -c 'select(has("page")) | [.items, .more]' "$T/out" | paste -sd' ')" "[300,true] [300,true] [300,true] [101,false]" \
	"each page handed over as it comes, with whether more follow"
is "$(jq -r 'select(has("id")) | .id' "$T/out" | sort -u | wc -l)" 1001 "every account once"
is "$(count Accounts.List)" 4 "4 requests"
reset_log
drv accounts-pages --limit 300 --pages 1
is "$(jq -c 'select(has("page")) | [.items, .more]' "$T/out" | paste -sd' ')" "[300,true]" "the callback can stop after a page"
is "$(count Accounts.List)" 1 "and the next page is never asked for"
reset_log
drv ag-pages --limit 1000
is "$(jq -c 'select(has("page")) | .more' "$T/out")" "false" "a listing that fits one page says there is no more"
is "$(count AccountsGroups.List)" 1 "one request"
strongdm_sim_fault '{"faults":[{"method":"Accounts.List","kind":"status","code":7,"message":"no","after":1}]}'
reset_log
drv accounts-pages --limit 300
is "$rc" 1 "an error on a later page fails the listing"
is "$(jq -c 'select(has("page")) | .items' "$T/out" | paste -sd' ')" "300" "after the pages before it were handed over"
like "$(cat "$T/err")" "PERMISSION_DENIED" "with StrongDM's status"
strongdm_sim_clear_faults

# ---- identity sets, aliases
drv identity-sets-list
is "$(jq -r .name "$T/out" | sort | paste -sd, -)" "default,incidentio" "identity-sets-list"
drv aliases-list --filter 'identitysetid:"ig-1"' --limit 2
is "$(wc -l < "$T/out")" 5 "aliases-list with a filter, paged"
is "$(jq -r 'select(.id == "i-3") | .username + " " + .account_id + " " + .identity_set_id' "$T/out")" \
   "01HUSER3 a-10003 ig-1" "alias fields"

# ---- groups
drv groups-list
is "$(jq -r .name "$T/out" | paste -sd, -)" "Admins,SCIM" "groups-list"
is "$(jq -r 'select(.name == "SCIM") | .source' "$T/out")" "scim" "a group's source"
drv group-create "Primary on call" managed-by=oncall-sync incidentio-schedule-id=01G0
is "$rc" 0 "group-create succeeds"
gid=$(jq -r .id "$T/out")
like "$gid" '^group-' "the new group has an id"
is "$(jq -r '.tags["managed-by"]' "$T/out")" "oncall-sync" "its tags come back"
is "$(strongdm_sim_state | jq -r --arg g "$gid" '.groups[] | select(.id == $g) | .name')" \
   "Primary on call" "the group is in the simulator's state"
drv groups-list --filter 'tag:"managed-by"="oncall-sync"'
is "$(jq -r .id "$T/out")" "$gid" "groups-list by tag"
drv group-create "Primary on call"
is "$rc" 1 "creating it again fails"
is "$(grep -c . "$T/err")" 2 "with one error line (and the stats)"
like "$(head -n 1 "$T/err")" '^sdm-driver: Groups\.Create: ALREADY_EXISTS: .+' "a clear ALREADY_EXISTS message"
drv group-update "$gid" "Primary (renamed)" managed-by=oncall-sync
is "$(jq -r .name "$T/out")" "Primary (renamed)" "group-update renames"

# ---- memberships
drv ag-create a-10005 "$gid"
is "$rc" 0 "ag-create"
agid=$(jq -r .id "$T/out")
like "$agid" '^accountgroup-' "a membership id"
drv ag-list --filter "groupid:\"$gid\""
is "$(jq -r .account_id "$T/out")" "a-10005" "ag-list by group"
drv ag-list --limit 1
is "$(wc -l < "$T/out")" 3 "ag-list pages through every membership"
drv ag-delete "$agid"
is "$rc" 0 "ag-delete"
drv ag-list --filter "groupid:\"$gid\""
is "$(wc -l < "$T/out")" 0 "the membership is gone"
drv group-delete "$gid"
is "$rc" 0 "group-delete"
is "$(strongdm_sim_state | jq --arg g "$gid" '[.groups[] | select(.id == $g)] | length')" 0 \
   "the group is gone from the simulator"

# ---- credentials and configuration
reset_log
SDM_API_ACCESS_KEY=wrong-key drv accounts-list
is "$rc" 1 "a wrong access key fails"
is "$(head -n 1 "$T/err")" "sdm-driver: Accounts.List: UNAUTHENTICATED: invalid access key" \
   "with one clear error"
is "$(count Accounts.List)" 1 "and no retry"
reset_log
SDM_API_SECRET_KEY=c2Vjb25kLXNlY3JldA== drv accounts-list
is "$rc" 1 "a wrong secret fails"
is "$(head -n 1 "$T/err")" "sdm-driver: Accounts.List: UNAUTHENTICATED: invalid signature" \
   "with one clear error"
is "$(count Accounts.List)" 1 "and no retry"
SDM_API_SECRET_KEY='s3cr3t!not-base64' drv accounts-list
ok "a secret that is not base64 is a configuration error" [ "$rc" -eq 2 ]
ok "the message does not show the secret" eval '! grep -q s3cr3t "$T/err"'
SDM_API_HOST=http://10.1.2.3:8080 drv accounts-list
ok "plaintext to a host that is not loopback is refused" \
   eval "[ $rc -eq 2 ] && grep -q loopback '$T/err'"
printf '%s\n' "$SDM_API_SECRET_KEY" > "$T/secret"
chmod 644 "$T/secret"
SDM_API_SECRET_KEY= SDM_API_SECRET_KEY_FILE="$T/secret" drv accounts-list
ok "a secret file others may read is refused" eval "[ $rc -eq 2 ] && grep -q 'chmod 600' '$T/err'"
chmod 600 "$T/secret"
SDM_API_SECRET_KEY= SDM_API_SECRET_KEY_FILE="$T/secret" drv -q accounts-list --limit 1000
is "$rc" 0 "the secret read from a private file works"

# ---- rate limits: wait for reset_at, then finish
reset_log
strongdm_sim_fault '{"faults":[{"kind":"resource_exhausted","method":"Accounts.List","count":2,"after":1,"reset_in_ms":400}]}'
start=$(date +%s%N)
drv accounts-list --limit 500
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc" 0 "a rate-limited listing completes"
is "$(wc -l < "$T/out")" 1001 "with every account"
is "$(count Accounts.List RESOURCE_EXHAUSTED)" 2 "after two RESOURCE_EXHAUSTED answers"
is "$(stats .rate_limited)" 2 "counted as rate-limit waits"
ok "it waited for reset_at each time (${elapsed} ms)" [ "$elapsed" -ge 750 ]

# ---- retries are bounded
reset_log
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Groups.List","count":5}]}'
drv groups-list
is "$rc" 1 "five UNAVAILABLE answers: the call fails"
is "$(count Groups.List UNAVAILABLE)" 4 "after 4 attempts (3 retries)"
like "$(head -n 1 "$T/err")" '^sdm-driver: Groups\.List: UNAVAILABLE: service unavailable \(after 4 attempts\)$' \
   "saying so"
strongdm_sim_clear_faults
reset_log
strongdm_sim_fault '{"faults":[{"kind":"internal","method":"Groups.List","count":2}]}'
drv groups-list
ok "two INTERNAL answers are retried away" eval "[ $rc -eq 0 ] && [ \$(wc -l < '$T/out') -eq 2 ]"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"Groups.List","count":1}]}'
reset_log
drv groups-list
ok "PERMISSION_DENIED is not retried" eval "[ $rc -eq 1 ] && [ \$(count Groups.List) -eq 1 ]"
strongdm_sim_clear_faults

# ---- a dropped connection
reset_log
strongdm_sim_fault '{"faults":[{"kind":"drop","method":"Accounts.List","count":1,"after":2}]}'
drv accounts-list --limit 100
is "$rc" 0 "a listing survives a dropped connection"
is "$(wc -l < "$T/out")" 1001 "with every account"
is "$(count Accounts.List DROPPED)" 1 "the simulator dropped one call"

# ---- concurrency: many calls at once on one connection
# The simulator holds the 16 calls until all are in (a client that sent them
# one at a time would leave the first held and fail): its counts of calls in
# at once and of the connections they came on show it on any machine.
curl -sSf -X DELETE "$STRONGDM_SIM_CONTROL/inflight" >/dev/null
strongdm_sim_fault '{"faults":[{"kind":"hold","method":"Groups.List","count":16}]}'
drv -q -j 16 -r 16 groups-list
is "$rc" 0 "16 listings at once succeed"
is "$(stats .items)" 32 "each got both groups"
inflight=$(curl -sSf "$STRONGDM_SIM_CONTROL/inflight")
is "$(jq .max_in_flight <<<"$inflight")" 16 "they ran concurrently ($(stats .wall_ms) ms)"
is "$(jq .peers <<<"$inflight")" 1 "on one HTTP/2 connection"
strongdm_sim_clear_faults

# --- SDM_API_TIMEOUT: how long one attempt may take -----------------------------
# (the simulator holds every attempt until the faults are cleared: none can
# be answered in time on a machine of any speed; curl reports how long the
# attempt had run, at least the 300 ms)
strongdm_sim_fault '{"faults":[{"method":"Groups.List","kind":"hold","count":1000}]}'
SDM_API_TIMEOUT=300ms drv groups-list
is "$rc" 1 "an attempt slower than SDM_API_TIMEOUT fails"
msg=$(tail -n 2 "$T/err" | head -n 1)
like "$msg" "[Tt]imed out after [0-9]+ milliseconds.*after 4 attempts" "retried, then reported with the timeout"
ran=$(sed -nE 's/.*[Tt]imed out after ([0-9]+) milliseconds.*/\1/p' <<<"$msg")
ok "... after SDM_API_TIMEOUT (${ran:-?} ms)" [ "${ran:-0}" -ge 290 ]
strongdm_sim_clear_faults
SDM_API_TIMEOUT=soon drv groups-list
is "$rc" 2 "a bad SDM_API_TIMEOUT is a configuration error"

done_testing
