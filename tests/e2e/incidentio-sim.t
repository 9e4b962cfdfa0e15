#!/usr/bin/env bash
# incidentio-sim: every call, its paging, errors, clock and faults, with every
# answer checked against incident.io's OpenAPI excerpt.
# jq programs name their $variables in single quotes on purpose.
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixture=$here/fixtures/incidentio/basic.json
validate=$here/validate-incidentio.py

n=0 failed=0
ok() { # STATUS DESC
	n=$((n + 1))
	if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
check() { # DESC CMD... (ok when CMD succeeds)
	local desc=$1 rc=0
	shift
	"$@" || rc=$?
	ok "$rc" "$desc"
}
is() { # GOT WANT DESC
	if [[ $1 == "$2" ]]; then ok 0 "$3"; else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}
diag() { printf '# %s\n' "$*"; }

T=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	incidentio_sim_stop 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
export SIM_DIR=$T
# shellcheck source=tests/sim-incidentio.sh
. "$here/sim-incidentio.sh"

KEY=test-incident-key
# get URL-PATH [KEY]: body in $T/body, headers in $T/hdr, status in $status
get() {
	local key=${2-$KEY}
	local auth=()
	[[ -n $key ]] && auth=(-H "Authorization: Bearer $key")
	status=$(curl --noproxy '*' -sS -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
		"${auth[@]}" "$base$1") || status=curl-failed
}
# Answers are checked against the spec in one batch at the end (one Python
# start): keep a copy of the answer now and queue it.
nvalid=0
: >"$T/valid.list"
valid() { # SCHEMA [FILE]: the answer (default $T/body) fits the spec
	nvalid=$((nvalid + 1))
	cp "${2:-$T/body}" "$T/valid.$nvalid.json"
	printf '%s %s\n' "$1" "$T/valid.$nvalid.json" >>"$T/valid.list"
	printf '%s\n' "$desc" >>"$T/valid.desc"
}
j() { jq -r "$@" "$T/body"; }
hdr() { tr -d '\r' <"$T/hdr" | awk -v h="$1" 'tolower($0) ~ "^" tolower(h) ":" {sub(/^[^:]*: */, ""); print}'; }

TS=01G0J1EXE7AXZ2C93K61WBPYEH
PLAT=01G0J1EXE7PLATFORM00000000
BIZ=01G0J1EXE7BUSINESSHOURS000
SUP=01G0J1EXE7SUPPORT000000000

# ---------------------------------------------------------------- start
incidentio_sim_start "$fixture" --entries-page-size 3
base=$INCIDENT_API_URL
is "$(cat "$T/incidentio-sim.out")" "incidentio-sim: listening on $base" "prints its address once"
is "$INCIDENT_API_KEY" "$KEY" "exports the default key"

# ---------------------------------------------------------------- schedules
get /v2/schedules
is "$status" 200 "list schedules"
desc="list schedules fits SchedulesListResultV2" valid SchedulesListResultV2
is "$(j '[.schedules[].name] | join(",")')" "TestSchedule,Platform,Business Hours,Support" "all schedules, world order"
is "$(j '.pagination_meta | [.page_size, .total_record_count, has("after")] | @csv')" '25,4,false' "one page: no after"
is "$(hdr X-RateLimit-Limit)" 1200 "rate-limit headers on success"
check "X-RateLimit-Reset is unix seconds" test "$(hdr X-RateLimit-Reset)" -ge "$(date +%s)"
is "$(j --arg id "$TS" '.schedules[] | select(.id == $id) | [.current_shifts[].user.name] | join(",")')" "Alice,Bob" "TestSchedule: Alice and Bob on call at 07:00"
is "$(j --arg id "$TS" '.schedules[] | select(.id == $id) | [.current_shifts[] | .end_at] | unique | join(",")')" "2026-11-29T09:00:00Z" "their shift ends at 09:00"
is "$(j --arg id "$TS" '.schedules[] | select(.id == $id) | [.next_shifts[] | .user.name + "@" + .start_at] | join(",")')" "Carlos@2026-11-29T09:00:00Z,Deanna@2026-11-29T09:00:00Z" "next: Carlos and Deanna at 09:00"
is "$(j --arg id "$PLAT" '.schedules[] | select(.id == $id) | [.current_shifts[].user.name] | join(",")')" "Carlos" "Platform: the override replaces Erin"
is "$(j --arg id "$BIZ" '.schedules[] | select(.id == $id) | .current_shifts | length')" 0 "Business Hours: nobody on call on Sunday"
is "$(j --arg id "$SUP" '.schedules[] | select(.id == $id) | .current_shifts[0].user | [.name, has("email")] | @csv')" '"Frank",false' "Support: Frank, who has no email"
is "$(j --arg id "$TS" '.schedules[] | select(.id == $id) | .config.rotations[0] | [(.layers | length), (.users | length), .handovers[0].interval_type, .handovers[0].interval] | @csv')" '2,4,"hourly",8' "config: rotation with two layers, 8-hourly"

get /v2/schedules/$TS
is "$status" 200 "show schedule"
desc="show fits SchedulesShowResultV2" valid SchedulesShowResultV2
is "$(j '.schedule.name')" TestSchedule "show: the right schedule"
get /v2/schedules/01NOSUCHSCHEDULE0000000000
is "$status" 404 "show unknown schedule: 404"
desc="404 body is an incident.io error" valid Error
is "$(j '[.type, .status, .errors[0].code] | @csv')" '"not_found",404,"not_found"' "404 type not_found"

get "/v2/schedules?page_size=251"
is "$status" 422 "page_size 251: 422"
desc="422 body is an incident.io error" valid Error
is "$(j '[.type, .errors[0].source.field] | @csv')" '"validation_error","page_size"' "422 names the field"
get "/v2/schedules?page_size=0"
is "$status" 422 "page_size 0: 422"
get "/v2/schedules?page_size=2"
is "$(j '[(.schedules | length), .pagination_meta.after] | @csv')" "2,\"$PLAT\"" "page_size 2: after = last id"
get "/v2/schedules?after=01NOSUCH"
is "$status,$(j '.errors[0].source.field')" "422,after" "unknown after cursor: 422"
get "/v2/schedules?page_size=2&after=$PLAT"
is "$(j '[.schedules[].id] | join(",")'),$(j '.pagination_meta | has("after")')" "$BIZ,$SUP,false" "second page, then no after"

# ---------------------------------------------------------------- entries
W='entry_window_start=2026-11-29T00:00:00Z&entry_window_end=2026-11-30T00:00:00Z'
get "/v2/schedule_entries?schedule_id=$PLAT&$W"
is "$status" 200 "entries"
desc="entries fit SchedulesListScheduleEntriesResultV2" valid SchedulesListScheduleEntriesResultV2
is "$(j '[.schedule_entries.final[] | .user.name + " " + .start_at[11:16] + "-" + .end_at[11:16]] | join(", ")')" \
	"Erin 00:00-06:00, Carlos 06:00-10:00, Erin 10:00-00:00" "final: Erin's shift split around the override"
is "$(j '[.schedule_entries.scheduled[] | .user.name + " " + .start_at[11:16] + "-" + .end_at[11:16]] | join(", ")')" \
	"Erin 00:00-00:00" "scheduled: the rotation's shift"
is "$(j '[.schedule_entries.overrides[] | .user.name, .entry_id] | join(",")')" "Carlos,01G0J1EXE7OVERRIDE0000000B" "overrides: Carlos, with entry_id"
is "$(j '[.schedule_entries.final[] | has("entry_id")] | map(tostring) | join(",")')" "false,true,false" "computed entries have no entry_id"
is "$(j '[.schedule_entries.final[] | .rotation_id + "/" + .layer_id] | unique | length')" 1 "entries carry rotation_id and layer_id"
is "$(j 'has("pagination_meta")')" false "one page: no pagination_meta"

# paging: TestSchedule has 8 entries in the day, 3 a page
pages=0 cursor=
: >"$T/fps"
while :; do
	if [[ -z $cursor ]]; then q=$W; else
		q="entry_window_start=$(jq -rn --arg c "$cursor" '$c | @uri')&entry_window_end=2026-11-30T00:00:00Z"
	fi
	get "/v2/schedule_entries?schedule_id=$TS&$q"
	[[ $status == 200 ]] || break
	pages=$((pages + 1))
	cp "$T/body" "$T/page$pages.json"
	j '.schedule_entries.final[].fingerprint' >>"$T/fps"
	cursor=$(j '.pagination_meta.after // empty')
	[[ -n $cursor && $pages -lt 10 ]] || break
done
is "$pages" 3 "entries: 3 pages of 3, 3, 2"
is "$(wc -l <"$T/fps" | tr -d ' '),$(sort -u "$T/fps" | wc -l | tr -d ' ')" "8,8" "every entry once, no duplicates"
for pg in 1 2 3; do desc="entries page $pg fits the spec" valid SchedulesListScheduleEntriesResultV2 "$T/page$pg.json"; done
after_url=$(jq -r '.pagination_meta.after_url' "$T/page1.json")
status=$(curl --noproxy '*' -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$after_url")
is "$status,$(j '.schedule_entries.final | length')" "200,3" "after_url fetches the next page"
is "$(jq -s '[.[].schedule_entries.scheduled | length] | add' "$T"/page[123].json)" 8 "scheduled split across pages without repeats"

get "/v2/schedule_entries?schedule_id=$TS&entry_window_start=2026-11-29T09:00:00Z&entry_window_end=2026-11-29T09:00:00Z"
is "$(j '[.schedule_entries.final[].user.name] | join(",")')" "Carlos,Deanna" "instant window at the handover: the new pair"
get "/v2/schedule_entries?schedule_id=$BIZ&entry_window_start=2026-11-29T07:00:00Z&entry_window_end=2026-11-29T07:00:00Z"
is "$status,$(j '.schedule_entries.final | length')" "200,0" "nobody on call: empty final"
get "/v2/schedule_entries?schedule_id=$BIZ&entry_window_start=2026-11-30T00:00:00Z&entry_window_end=2026-12-01T00:00:00Z"
is "$(j '[.schedule_entries.final[] | .start_at + "-" + .end_at] | join(",")')" "2026-11-30T09:00:00Z-2026-11-30T17:00:00Z" "working intervals: Monday 09-17 London"
get "/v2/schedule_entries?entry_window_start=2026-11-29T00:00:00Z"
is "$status,$(j '.errors[0].source.field')" "422,schedule_id" "entries without schedule_id: 422"
desc="entries 422 fits the error shape" valid Error
get "/v2/schedule_entries?schedule_id=$TS&entry_window_start=yesterday"
is "$status,$(j '.errors[0].source.field')" "422,entry_window_start" "entries with a bad time: 422"
get "/v2/schedule_entries?schedule_id=$TS&entry_window_start=2026-11-29T10:00:00Z&entry_window_end=2026-11-29T09:00:00Z"
is "$status" 422 "window ending before it starts: 422"
get "/v2/schedule_entries?schedule_id=01NOSUCH&$W"
is "$status,$(j .type)" "404,not_found" "entries of an unknown schedule: 404"

# ---------------------------------------------------------------- users
get "/v2/users?page_size=3"
is "$status" 200 "list users"
desc="users fit UsersListResultV2" valid UsersListResultV2
n_users=$(j '.users | length') after=$(j '.pagination_meta.after')
while [[ -n $after && $after != null ]]; do
	get "/v2/users?page_size=3&after=$after"
	n_users=$((n_users + $(j '.users | length')))
	after=$(j '.pagination_meta.after // empty')
done
is "$n_users" 7 "paging users: 7 active users"
get "/v2/users?page_size=250&include_inactive=true"
is "$(j '.users | length')" 8 "include_inactive: 8"
get "/v2/users?email=ALICE@EXAMPLE.COM"
is "$(j '[.users[].name] | join(",")')" Alice "email filter is case-insensitive"
get "/v2/users?email=carlos@example.com"
is "$(j '[.users[] | .name + " " + .email] | join(",")')" "Carlos Carlos@Example.com" "email filter keeps the stored spelling"
get "/v2/users?email=nobody@example.com"
is "$status,$(j '.users | length')" "200,0" "unknown email: empty list"
get /v2/users/01FCNDV6P870EA6S7TK1DSYDG5
is "$status,$(j '.user | has("email")')" "200,false" "user without email"
desc="show user fits UsersShowResultV2" valid UsersShowResultV2
get /v2/users/01FCNDV6P870EA6S7TK1DSYDG6
check "names are sent as UTF-8, not escaped" grep -q 'Gina Müller' "$T/body"
get /v2/users/01NOSUCHUSER
is "$status,$(j .type)" "404,not_found" "unknown user: 404"
get "/v2/users?page_size=300"
is "$status" 422 "users page_size 300: 422"

# ---------------------------------------------------------------- auth
get /v2/schedules ""
is "$status,$(j '.type + "/" + .errors[0].code')" "401,authentication_error/authentication_error" "no key: 401"
desc="401 fits the error shape" valid Error
get /v2/users wrong-key
is "$status" 401 "wrong key: 401"
get /v2/schedules users-only-key
is "$status,$(j '.type + "/" + .errors[0].code')" "403,resource_forbidden/missing_permissions" "key without schedules.view: 403"
desc="403 fits the error shape" valid Error
get "/v2/schedule_entries?schedule_id=$TS" users-only-key
is "$status" 403 "entries need schedules.view too"
get /v2/users users-only-key
is "$status" 200 "that key may list users"
get /v2/users/01FCNDV6P870EA6S7TK1DSYDG0 schedules-only-key
is "$status" 403 "users need users.view"

# ---------------------------------------------------------------- clock
is "$(curl --noproxy '*' -fsS "$base/_sim/clock" | jq -r .now)" "2026-11-29T07:00:00Z" "clock starts at the world's now"
incidentio_sim_advance 2h
get /v2/schedules/$TS
is "$(j '[.schedule.current_shifts[].user.name] | join(",")')" "Carlos,Deanna" "after 2h: Carlos and Deanna on call"
incidentio_sim_advance 3600
is "$(curl --noproxy '*' -fsS "$base/_sim/clock" | jq -r .now)" "2026-11-29T10:00:00Z" "advance by seconds"
incidentio_sim_clock 2026-11-30T10:00:00+01:00
get /v2/schedules/$BIZ
is "$(j '[.schedule.current_shifts[] | .user.name + " " + .end_at] | join(",")')" "Bob 2026-11-30T17:00:00Z" "Monday 09:00Z: Bob on call in business hours"
_incidentio_sim_curl -X POST --data '{"running":true}' "$base/_sim/clock" >/dev/null
c1=$(curl --noproxy '*' -fsS "$base/_sim/clock" | jq -r .now); sleep 0.05
c2=$(curl --noproxy '*' -fsS "$base/_sim/clock" | jq -r .now)
check "a running clock moves on ($c1 -> $c2)" test "$c1" != "$c2"
_incidentio_sim_curl -X POST --data '{"running":false}' "$base/_sim/clock" >/dev/null
incidentio_sim_clock 2026-11-29T07:00:00Z

# ---------------------------------------------------------------- faults
incidentio_sim_fault '{"faults":[{"path_prefix":"/v2/schedules","kind":"status","status":500,"count":2}]}'
get /v2/schedules; s1=$status; cp "$T/body" "$T/e500"
get /v2/schedules; s2=$status
get /v2/schedules; s3=$status
is "$s1,$s2,$s3" "500,500,200" "status fault fires count times"
desc="injected 500 is an incident.io error" valid Error "$T/e500"
get /v2/users
is "$status" 200 "faults only hit their path prefix"

incidentio_sim_fault '{"path_prefix":"/v2/users","kind":"status","status":429,"retry_after":"1"}'
get /v2/users
is "$status,$(hdr Retry-After),$(j .type)" "429,1,too_many_requests" "429 with Retry-After seconds"
incidentio_sim_fault '{"path_prefix":"/v2/users","kind":"status","status":429,"retry_after_date_in":2}'
get /v2/users
check "429 with Retry-After as an HTTP date" grep -Eq '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' <<<"$(hdr Retry-After)"
incidentio_sim_fault '{"path_prefix":"/v2/users","kind":"status","status":503}'
get /v2/users
is "$status,$(j .status)" "503,503" "503 fault"

incidentio_sim_fault '{"path_prefix":"/v2/users","kind":"slow","delay_ms":300}'
t0=$(date +%s%N); get /v2/users; t1=$(date +%s%N)
check "slow fault delays the answer" test $(((t1 - t0) / 1000000)) -ge 290
is "$status" 200 "slow answer is still right"

incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"cut"}'
rc=0; curl --noproxy '*' -sS -o "$T/cut" -D "$T/hdr" -H "Authorization: Bearer $KEY" "$base/v2/schedules" 2>/dev/null || rc=$?
is "$rc" 18 "cut: curl sees a partial transfer"
check "cut: fewer bytes than Content-Length" test "$(wc -c <"$T/cut")" -lt "$(hdr Content-Length)"

incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"malformed"}'
get /v2/schedules
rc=0; jq empty "$T/body" >/dev/null 2>&1 || rc=$?
is "$status,$((rc != 0))" "200,1" "malformed: 200 that is not JSON"

incidentio_sim_fault '{"path_prefix":"/v2/schedule_entries","kind":"truncated"}'
get "/v2/schedule_entries?schedule_id=$TS&$W"
rc=0; jq empty "$T/body" >/dev/null 2>&1 || rc=$?
is "$status,$((rc != 0))" "200,1" "truncated: 200 with a cut JSON document"
is "$(wc -c <"$T/body" | tr -d ' ')" "$(hdr Content-Length)" "truncated: Content-Length matches the body"

incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"repeat_cursor"}'
get "/v2/schedules?page_size=1"
is "$(j .pagination_meta.after)" "$TS" "repeat_cursor waits for a request with a cursor"
get "/v2/schedules?page_size=1&after=$TS"
is "$(j '.pagination_meta.after + " " + .schedules[0].id')" "$TS $PLAT" "repeat_cursor: after = the cursor sent"
get "/v2/schedules?page_size=1&after=$TS"
is "$(j .pagination_meta.after)" "$PLAT" "then normal again"

get "/v2/schedule_entries?schedule_id=$TS&$W"
c1=$(j .pagination_meta.after)
incidentio_sim_fault '{"path_prefix":"/v2/schedule_entries","kind":"repeat_cursor"}'
get "/v2/schedule_entries?schedule_id=$TS&entry_window_start=$(jq -rn --arg c "$c1" '$c|@uri')&entry_window_end=2026-11-30T00:00:00Z"
is "$(j .pagination_meta.after)" "$c1" "entries repeat_cursor: the same page again and again"
desc="repeated page fits the spec" valid SchedulesListScheduleEntriesResultV2

incidentio_sim_fault '{"path_prefix":"/v2/users","kind":"empty_page"}'
get "/v2/users?page_size=2"
is "$(j '[(.users | length), (.pagination_meta.after != null)] | @csv')" "0,true" "empty_page: no items, an after cursor"
desc="empty page fits the spec" valid UsersListResultV2
incidentio_sim_fault '{"path_prefix":"/v2/schedule_entries","kind":"empty_page"}'
get "/v2/schedule_entries?schedule_id=$TS&$W"
is "$(j '[(.schedule_entries.final | length), has("pagination_meta")] | @csv')" "0,true" "entries empty_page"

incidentio_sim_fault '{"path_prefix":"/v2/","kind":"status","status":500,"count":5}'
is "$(curl --noproxy '*' -fsS "$base/_sim/faults" | jq '.faults | length')" 1 "GET /_sim/faults lists pending faults"
incidentio_sim_faults_clear
get /v2/users
is "$status" 200 "DELETE /_sim/faults clears them"
is "$(jq -c 'select(.fault == "cut") | [.path, .status]' "$INCIDENTIO_SIM_LOG")" '["/v2/schedules",200]' "log records the fault"

# ---------------------------------------------------------------- counts, keep-alive
is "$(incidentio_sim_count /v2/schedule_entries)" "$(incidentio_sim_requests | jq '.by_path["/v2/schedule_entries"]')" "log and /_sim/requests agree"
check "one connection serves several requests" grep -Eqi 're-?using existing connection' \
	<<<"$(curl --noproxy '*' -sv -o /dev/null -o /dev/null -H "Authorization: Bearer $KEY" "$base/v2/users" "$base/v2/schedules" 2>&1)"
t0=$(date +%s%N)
check "POST /_sim/shutdown stops it" bash -c "curl --noproxy '*' -fsS -X POST '$base/_sim/shutdown' >/dev/null && for i in \$(seq 600); do kill -0 $INCIDENTIO_SIM_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
incidentio_sim_stop

# ---------------------------------------------------------------- big world
/usr/bin/python3 - "$T/big.json" <<'PY'
import json, sys
users = [{"id": "U%05d" % i, "name": "User %d" % i, "email": "user%d@example.com" % i}
         for i in range(600)]
scheds = [{"id": "S%05d" % i, "name": "Schedule %d" % i, "timezone": "UTC",
           "rotations": [{"id": "R%05d" % i, "name": "r",
                          "layers": [{"id": "L%05d" % i, "name": "l"}],
                          "users": ["U%05d" % (2 * i), "U%05d" % (2 * i + 1)],
                          "handover_start_at": "2026-11-01T00:00:00Z",
                          "handover_interval": 3600 * (1 + i % 12)}]}
          for i in range(300)]
json.dump({"strongdm": {"ignored": True},
           "incidentio": {"now": "2026-11-29T07:00:00Z", "users": users, "schedules": scheds}},
          open(sys.argv[1], "w"))
PY
incidentio_sim_start "$T/big.json" --latency-ms 100 --key other-key --key k2
base=$INCIDENT_API_URL KEY=$INCIDENT_API_KEY
is "$KEY" other-key "--key: the first key is exported"
get "/v2/schedules?page_size=250"
desc="250-schedule page fits the spec" valid SchedulesListResultV2
is "$(j '[(.schedules | length), .pagination_meta.total_record_count, (.schedules[0] | has("next_shifts")), (.schedules | map(.current_shifts | length) | add)] | @csv')" "250,300,false,250" "first page: 250, everyone has a current shift, no next_shifts above 25"
cp "$T/body" "$T/p1"
get "/v2/schedules?page_size=250&after=$(jq -r .pagination_meta.after "$T/p1")"
is "$(j '[(.schedules | length), has("after")] | @csv')" "50,false" "second page: the other 50"
is "$(jq -s '[.[].schedules[].id] | unique | length' "$T/p1" "$T/body")" 300 "300 distinct schedules"
get "/v2/schedules?page_size=25"
is "$(j '.schedules | map(has("next_shifts")) | all')" true "next_shifts at page size 25"
desc="page of 25 fits the spec" valid SchedulesListResultV2
# The simulator holds the 10 calls until all are in: overlap is shown by
# its count of requests in at once, on a machine of any speed (a simulator
# that served them one at a time would leave the first held and fail).
curl --noproxy '*' -fsS -X DELETE "$base/_sim/requests" >/dev/null
incidentio_sim_fault '{"path_prefix": "/v2/users/", "kind": "hold", "count": 10}'
t0=$(date +%s%N)
for i in $(seq 10); do
	curl --noproxy '*' -sS --max-time 60 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer k2" \
		"$base/v2/users/U0000$((i % 10))" >"$T/conc.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true; pids=()
ms=$((($(date +%s%N) - t0) / 1000000))
is "$(cat "$T"/conc.* | sort | uniq -c | tr -s ' ')" " 10 200" "10 concurrent calls answered"
is "$(incidentio_sim_requests | jq -c '[.max_in_flight, .in_flight]')" "[10,0]" "... all 10 were in the simulator at once"
check "... each after its 100 ms latency (${ms} ms)" test "$ms" -ge 100
incidentio_sim_stop

# ---------------------------------------------------------------- rate limit
incidentio_sim_start "$fixture" --rate-limit 3 --now 2026-11-29T09:30:00Z
base=$INCIDENT_API_URL KEY=$INCIDENT_API_KEY
t0=$(date +%s%N)
get /v2/schedules/$TS
is "$(j '[.schedule.current_shifts[].user.name] | join(",")')" "Carlos,Deanna" "--now sets the clock"
codes=
for i in 1 2 3; do get /v2/users; codes+=$status,; done # and the call above
el=$((($(date +%s%N) - t0) / 1000000))
is "$codes" "200,200,429," "token bucket: 3 a minute, the fourth is 429"
# a token comes back every 20 s: the wait is 20 s less the time the four
# calls took (measured around them, so a slow machine cannot break it)
ra=$(hdr Retry-After)
is "$(j .type)" too_many_requests "429 says so"
check "429 says when to retry: the next token, 20 s after the first call (Retry-After $ra, ${el} ms later)" \
	test "$ra" -le 20 -a "$ra" -ge $((20 - el / 1000 - 1)) -a "$ra" -ge 1
desc="rate-limit 429 fits the error shape" valid Error
get /v2/users users-only-key
is "$status,$(hdr X-RateLimit-Limit),$(hdr X-RateLimit-Remaining)" "200,3,2" "buckets are per key"
incidentio_sim_stop

# ---------------------------------------------------------------- bad worlds
echo '{"users":[{"id":"u1","name":"A"}],"schedules":[{"id":"s","name":"S","rotations":[{"id":"r","users":["u2"],"handover_start_at":"2026-11-29T00:00:00Z","handover_interval":"1d"}]}]}' >"$T/bad.json"
rc=0; /usr/bin/python3 "$here/../scripts/incidentio-sim" --world "$T/bad.json" 2>"$T/err" || rc=$?
is "$rc" 2 "a bad world: exit 2"
check "and says why" grep -q "unknown user 'u2'" "$T/err"

# ---------------------------------------------------------------- the spec
i=0
while read -r verdict rest; do
	i=$((i + 1))
	d=$(sed -n "${i}p" "$T/valid.desc")
	if [[ $verdict == ok ]]; then ok 0 "$d"; else ok 1 "$d"; diag "$rest"; fi
done < <("$validate" --strict --batch <"$T/valid.list" || true)
is "$i" "$nvalid" "every queued answer was checked"
printf '%s\n' '{"schedule_entries":{"final":[{"start_at":"07:00","end_at":"2026-11-29T09:00:00Z","user":{"id":"u"}}],"overrides":[]}}' >"$T/broken.json"
rc=0; "$validate" --strict SchedulesListScheduleEntriesResultV2 "$T/broken.json" 2>"$T/verr" || rc=$?
is "$rc,$(grep -c . "$T/verr")" "1,4" "the validator rejects a bad answer (date-time, required fields)"

echo "1..$n"
[[ $failed == 0 ]]
