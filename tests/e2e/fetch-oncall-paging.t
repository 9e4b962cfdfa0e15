#!/usr/bin/env bash
# fetch-oncall with more schedules than one page (600 = 250 + 250 + 100):
# every page read, a repeating or short schedule list refused, and a stream
# cut short (truncated, or fetch-oncall killed) refused by the next reader.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

AT=2026-11-29T07:00:00Z
CHECK=$BUILD_DIR/tests/tools/ndjson-check
reset() { : >"$INCIDENTIO_SIM_LOG"; incidentio_sim_faults_clear; }
count() { incidentio_sim_count "$1"; }

require_bin fetch-oncall
require_tool ndjson-check

# 600 schedules, each with one person on call all day
jq -n '{now: "2026-11-29T07:00:00Z",
	users: [range(3) | {id: "01FCNDV6P870EA6S7TK1DSYDG\(.)", name: ["Alice","Bob","Carlos"][.],
	                     email: "\(["alice","bob","carlos"][.])@example.com"}],
	schedules: [range(600) | {id: ("01G0F0PAGE" + ("0000000000000000" + tostring)[-16:]),
	                          name: ("Page " + ("000" + tostring)[-3:]), timezone: "UTC",
	                          shifts: [{user_id: "01FCNDV6P870EA6S7TK1DSYDG\(. % 3)",
	                                    start_at: "2026-11-29T00:00:00Z", end_at: "2026-11-30T00:00:00Z"}]}]}' \
	>"$T/world.json"
start_incidentio_sim "$T/world.json"

reset
run fetch-oncall --list
is "$rc" 0 "--list of 600: exit 0"
is "$(count /v2/schedules)" 3 "three pages of 250"
is "$(jq -c 'select(.type=="schedule")' "$T/out" | wc -l | tr -d ' ')" 600 "600 schedule records"
jq -r 'select(.type=="schedule") | .id' "$T/out" >"$T/list-order"
is "$(sort -u "$T/list-order" | wc -l | tr -d ' ')" 600 "each once"

reset
run fetch-oncall -a
is "$rc" 0 "-a of 600 now: exit 0"
is "$(count /v2/)" 3 "three requests in all (current_shifts)"
jq -r 'select(.type=="roster") | .schedule.id' "$T/out" >"$T/roster-order"
same_file "$T/roster-order" "$T/list-order" "600 rosters, in the schedule list's order"
is "$(jq -c 'select(.type=="roster") | .oncall | length' "$T/out" | sort -u)" 1 "each with its person"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"fetch-oncall","records":600,"selection":"all"}' "end counts 600"
cp "$T/out" "$T/full"
run "$CHECK" "$T/full"
is "$rc:$(cat "$T/out")" "0:600" "a reader of lib/ndjson accepts the stream"

reset
run fetch-oncall -s "Page 599" -s "Page 000"
is "$rc:$(jq -r 'select(.type=="roster") | .schedule.name' "$T/out" | paste -sd,)" "0:Page 599,Page 000" \
	"names on the first and the last page resolve"
is "$(count /v2/)" 3 "by reading the list once"

reset
run fetch-oncall --at "$AT" -j 16 -a
is "$rc" 0 "-a of 600 in a window: exit 0"
is "$(count /v2/schedules) $(count /v2/schedule_entries)" "3 600" "three list pages, one entries request per schedule"
is "$(jq -c 'select(.type=="roster") | .oncall | length' "$T/out" | sort -u)" 1 "each with its person"

# --- the schedule list goes wrong --------------------------------------------
reset
incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"repeat_cursor","count":5}'
run fetch-oncall -a
is "$rc" 1 "a repeating schedules cursor with -a: exit 1"
is "$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out")" "error:bad_response" "only an error record, no end: the set of schedules is unknown"
like "$(cat "$T/err")" 'incident\.io repeated the page cursor' "the message says why"
is "$(count /v2/schedules)" 2 "the repeated cursor is not followed"

reset
incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"repeat_cursor","count":5}'
run fetch-oncall -s "Page 599" -s "Page 000" -s "Page 001"
is "$rc" 1 "a repeating schedules cursor with -s: exit 1"
is "$(jq -c 'select(.type=="error") | .schedule.name' "$T/out" | paste -sd' ')" '"Page 599" "Page 000" "Page 001"' \
	"an error record for each name"

reset
incidentio_sim_fault '{"path_prefix":"/v2/schedules","kind":"empty_page","count":1}'
: >"$INCIDENTIO_SIM_LOG"
run fetch-oncall -a
is "$rc:$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out")" "1:error:bad_response" "an empty first page short of the announced total: exit 1, only an error record, no end"
like "$(cat "$T/err")" 'empty page after 0 of the 600' "the message says why"

# --- a stream cut short is refused by the next reader ------------------------
head -n 300 "$T/full" >"$T/cut"
run "$CHECK" "$T/cut"
is "$rc" 3 "a roster stream cut after 300 lines: the reader refuses it (exit 3)"
like "$(cat "$T/err")" 'cut short' "and says it was cut"
head -c 5000 "$T/full" >"$T/cut"
run "$CHECK" "$T/cut"
is "$rc" 3 "a stream cut mid-line: refused"
sed '$d' "$T/full" >"$T/cut"
run "$CHECK" "$T/cut"
is "$rc" 3 "a stream without its end line: refused"

# fetch-oncall killed while it waits for incident.io: no end, refused
reset
# (the entries read is answered after a minute; the kill comes once the
# simulator holds it: the log counts a request only when it is answered)
incidentio_sim_fault '{"path_prefix":"/v2/schedule_entries","kind":"slow","delay_ms":60000,"count":1}'
_incidentio_sim_curl -X DELETE "$INCIDENTIO_SIM_URL/_sim/requests" >/dev/null
fetch-oncall --at "$AT" -a >"$T/killed" 2>/dev/null &
pid=$!
for _ in $(seq 1200); do
	[ "$(incidentio_sim_requests | jq '.by_path["/v2/schedule_entries"] // 0')" -gt 0 ] &&
		[ "$(incidentio_sim_requests | jq .in_flight)" -gt 0 ] && break
	sleep 0.05
done
kill -TERM "$pid"
wait "$pid" || true
run "$CHECK" "$T/killed"
is "$rc" 3 "fetch-oncall killed mid-run: its stream is refused by the next reader"
# and killed mid-write, by a pipe closed early: the reader sees no end either
fetch-oncall -a 2>/dev/null | head -c 20000 >"$T/killed" || true
run "$CHECK" "$T/killed"
is "$rc" 3 "a pipe closed mid-stream: refused"

done_testing
