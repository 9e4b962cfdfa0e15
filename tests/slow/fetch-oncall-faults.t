#!/usr/bin/env bash
# fetch-oncall against incidentio-sim's faults: what is retried (429 with
# Retry-After in seconds or as an HTTP date, 500, 503, a timeout, a cut
# connection) and what is a clear error at once (a malformed or truncated
# body, a repeating cursor), with the other schedules still written.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/fetch-oncall
AT=2026-11-29T07:00:00Z
PRIMARY=01G0F0PRIMARY0000000000001
PLATFORM=01G0F0OVERRIDE000000000001
reset() { : >"$INCIDENTIO_SIM_LOG"; incidentio_sim_faults_clear; }
count() { incidentio_sim_count "$1"; }
statuses() { jq -r --arg p "$1" 'select(.path | startswith($p)) | .status' "$INCIDENTIO_SIM_LOG" | paste -sd' '; }
fault() { incidentio_sim_fault "$1"; }
ms() { date +%s%3N; }
names() { jq -r 'select(.type=="roster") | .schedule.name' "$T/out" | paste -sd,; }
errors() { jq -r 'select(.type=="error") | .message' "$T/out"; }
ended() { tail -n 1 "$T/out" | jq -e 'select(.type=="end")' >/dev/null; }

require_bin fetch-oncall
start_incidentio_sim "$FX/world.json" --entries-page-size 2
fetch-oncall -a | jq -c 'select(.type=="roster") | del(.at, .window)' >"$T/want-now"

# --- retried -----------------------------------------------------------------
reset
fault '{"path_prefix":"/v2/schedules","kind":"status","status":429,"retry_after":"1"}'
t0=$(ms)
run fetch-oncall -a
t1=$(ms)
is "$rc" 0 "429 with Retry-After: 1: exit 0"
is "$(statuses /v2/schedules)" "429 200" "429 with Retry-After seconds: retried once"
ok "and it waited the second asked for ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 900
jq -c 'select(.type=="roster") | del(.at, .window)' "$T/out" >"$T/got"
same_file "$T/got" "$T/want-now" "and the rosters are the same as without the fault"

reset
fault '{"path_prefix":"/v2/schedules","kind":"status","status":429,"retry_after_date_in":2}'
t0=$(ms)
run fetch-oncall -a
t1=$(ms)
is "$rc:$(statuses /v2/schedules)" "0:429 200" "429 with Retry-After as an HTTP date: retried, exit 0"
ok "and it waited until that date ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 900

reset
fault '{"path_prefix":"/v2/schedules","kind":"status","status":429}'
run fetch-oncall -a
is "$rc:$(statuses /v2/schedules)" "0:429 200" "429 without Retry-After: retried after a backoff"

reset
fault '{"faults":[{"path_prefix":"/v2/schedule_entries","kind":"status","status":500},
                  {"path_prefix":"/v2/schedule_entries","kind":"status","status":503}]}'
run fetch-oncall --at "$AT" -s Primary -s Platform
is "$rc" 0 "500 and 503 on schedule entries: exit 0"
is "$(statuses /v2/schedule_entries | tr ' ' '\n' | sort | paste -sd' ')" "200 200 500 503" "both retried"
is "$(names)" "Primary,Platform" "both rosters written"

reset
fault '{"path_prefix":"/v2/schedules","kind":"cut"}'
run fetch-oncall -a
is "$rc" 0 "a response cut mid-body: exit 0"
is "$(count /v2/schedules)" 2 "the cut response was retried, not used"
jq -c 'select(.type=="roster") | del(.at, .window)' "$T/out" >"$T/got"
same_file "$T/got" "$T/want-now" "and the rosters are complete"

# --- retried, then given up: an error for that schedule only -----------------
reset
fault "{\"path_prefix\":\"/v2/schedules/$PRIMARY\",\"kind\":\"status\",\"status\":500,\"count\":10}"
run fetch-oncall --retries 2 -s "$PRIMARY" -s "$PLATFORM"
is "$rc" 1 "500 every time: exit 1"
is "$(count "/v2/schedules/$PRIMARY")" 3 "--retries 2: three attempts"
is "$(jq -c 'select(.type=="error") | .schedule' "$T/out")" "{\"id\":\"$PRIMARY\"}" "an error record for that schedule"
like "$(errors)" "^incident\\.io answered 500 internal_error: .*GET /v2/schedules/$PRIMARY, after 3 attempts" "naming the answer, the call and the attempts"
is "$(names)" "Platform" "the other schedule is still written"
ok "the stream ends" ended

reset
fault "{\"path_prefix\":\"/v2/schedules/$PRIMARY\",\"kind\":\"status\",\"status\":404}"
run fetch-oncall -s "$PRIMARY" -s "$PLATFORM"
is "$(count "/v2/schedules/$PRIMARY")" 1 "404 is not retried"

# --- not retried: a body that is not the documented shape ---------------------
for kind in malformed truncated; do
	reset
	fault "{\"path_prefix\":\"/v2/schedule_entries\",\"kind\":\"$kind\"}"
	run fetch-oncall -j 1 --at "$AT" -s Primary -s Platform
	is "$rc" 1 "$kind entries body: exit 1"
	is "$(count /v2/schedule_entries)" 2 "$kind: not retried (one request per schedule)"
	is "$(jq -c 'select(.type=="error") | .schedule' "$T/out")" "{\"id\":\"$PRIMARY\",\"name\":\"Primary\"}" \
		"$kind: an error record for the schedule it was for"
	like "$(errors)" '^GET /v2/schedule_entries\?schedule_id=01G0F0PRIMARY0000000000001&.*: unexpected response from incident\.io: the response is not valid JSON' \
		"$kind: the message names the call"
	is "$(names)" "Platform" "$kind: the other schedule is still written"
	ok "$kind: the stream ends" ended
done

reset
fault '{"path_prefix":"/v2/schedules","kind":"malformed"}'
run fetch-oncall -a
is "$rc:$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out")" "1:error:bad_response" "-a with a malformed schedule list: exit 1, only an error record, no end"
like "$(cat "$T/err")" 'GET /v2/schedules\?page_size=250: unexpected response from incident\.io: the response is not valid JSON' \
	"and the message says why"

reset
fault '{"path_prefix":"/v2/schedules","kind":"truncated"}'
run fetch-oncall -s Primary -s Edges
is "$rc" 1 "-s names with a truncated schedule list: exit 1"
is "$(jq -c 'select(.type=="error") | .schedule' "$T/out" | paste -sd' ')" '{"name":"Primary"} {"name":"Edges"}' \
	"an error record for each name"
ok "the stream ends" ended

# --- a repeating cursor ------------------------------------------------------
reset
fault '{"path_prefix":"/v2/schedule_entries","kind":"repeat_cursor","count":20}'
t0=$(ms)
run fetch-oncall --at "$AT" --lead 6h -s Hourly -s Primary -j 1
t1=$(ms)
is "$rc" 1 "a repeating entries cursor: exit 1"
like "$(errors | head -n 1)" 'incident\.io repeated the page cursor' "detected and named"
is "$(jq -c 'select(.type=="error") | .schedule.name' "$T/out" | paste -sd' ')" '"Hourly" "Primary"' \
	"each schedule that met it has an error record"
ok "not followed forever ($((t1 - t0)) ms, $(count /v2/schedule_entries) requests)" test "$(count /v2/schedule_entries)" -le 6

# --- slow answers, last: the simulator still sleeps on them after we gave up,
# and would log them into the counts of the tests after
reset
fault '{"path_prefix":"/v2/schedules","kind":"slow","delay_ms":2500}'
run fetch-oncall -v --timeout 1s -a
is "$rc" 0 "slow past --timeout: exit 0"
like "$(cat "$T/err")" 'page_size=250 \(attempt 2\)' "the attempt that timed out was retried"

reset
fault "{\"path_prefix\":\"/v2/schedules/$PRIMARY\",\"kind\":\"slow\",\"delay_ms\":3000,\"count\":10}"
run fetch-oncall --timeout 1s --retries 1 -s "$PRIMARY" -s "$PLATFORM"
is "$rc" 1 "slow every time: exit 1"
like "$(errors)" "GET /v2/schedules/$PRIMARY failed after 2 attempts: .*[Tt]ime" "a clear timeout error naming the call"
is "$(names)" "Platform" "the other schedule is still written"

done_testing
