#!/usr/bin/env bash
# fetch-oncall --look-ahead: next_change on each roster, from the reads the
# run makes anyway (schedule entries widened by the look-ahead; now, the
# schedules' current_shifts and next_shifts); lead and grace applied; absent
# when nothing is known within the look-ahead; no request added.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/fetch-oncall
AT=2026-11-29T07:00:00Z
require_bin fetch-oncall
reset_log() { : >"$INCIDENTIO_SIM_LOG"; }
count() { incidentio_sim_count "$1"; }
nexts() { jq -r 'select(.type == "roster") | "\(.schedule.name)=\(.next_change // "-")"' "$T/out" | paste -sd ' '; }

# --- a window (--at, --lead, --grace): the entries read, widened -------------
start_incidentio_sim "$FX/world.json"
run fetch-oncall --at "$AT" --grace 10m --lead 15m -a
is "$rc" 0 "without --look-ahead: exit 0"
is "$(jq -s 'map(select(has("next_change"))) | length' "$T/out")" 0 "without --look-ahead no roster has next_change"
without=$(count /v2/)
same_file "$T/out" "$FX/window-all.ndjson" "and the stream is as before"

reset_log
run fetch-oncall --at "$AT" --grace 10m --lead 15m --look-ahead 2h -a
is "$rc" 0 "--look-ahead 2h: exit 0"
is "$(nexts)" "Primary=2026-11-29T08:45:00Z Platform=- Nobody Now=- Edges=2026-11-29T07:05:00Z Hourly=2026-11-29T07:10:00Z Twin=- Twin=-" \
	"next_change: Bob and Deanna on at 09:00 - lead (Primary); Carlos's override off at 10:00 + grace is past the look-ahead (Platform); the next shift of Nobody Now is tomorrow; Alice off at 06:55 + grace and Erin on at 07:20 - lead (Edges); the 07:00-08:00 shift's predecessor off at 07:00 + grace (Hourly); no shifts (Twin)"
is "$(jq -c 'del(.next_change)' "$T/out")" "$(cat "$FX/window-all.ndjson")" "the rosters are otherwise unchanged"
is "$(count /v2/)" "$without" "the same number of requests ($without)"
is "$(jq -r 'select(.path=="/v2/schedule_entries") | .query' "$INCIDENTIO_SIM_LOG" | grep -c 'entry_window_end=2026-11-29T09%3A15%3A01Z')" \
	"$(count /v2/schedule_entries)" "the entries read reaches lead + look-ahead past at"

reset_log
run fetch-oncall --at "$AT" --grace 10m --lead 15m --look-ahead 3h -s Platform
is "$(nexts)" "Platform=2026-11-29T09:45:00Z" "a longer look-ahead sees the shift after the override (10:00 - lead)"

run fetch-oncall --at "$AT" --look-ahead 1d -s "Nobody Now"
is "$(nexts)" "Nobody Now=2026-11-30T00:00:00Z" "--at alone: the next shift of an empty schedule"

run fetch-oncall --look-ahead 32d -a
is "$rc" 2 "--look-ahead more than 31 days: exit 2"
like "$(cat "$T/err")" 'look-ahead: at most 31d' "saying why"
incidentio_sim_stop

# --- now: current_shifts and next_shifts, no entries read -------------------
# A world whose times are computed from now: the simulator's clock frozen at
# T0, a 2-hour rotation handing over at T0 + 1h, one whose override
# (Carlos) starts at T0 + 20m, and one of Alice alone.
t0=$(date -u +%s)
ts() { date -u -d "@$((t0 + $1))" +%Y-%m-%dT%H:%M:%SZ; }
jq -n --arg now "$(ts 0)" --arg start "$(ts -3600)" --arg ov_from "$(ts 1200)" --arg ov_to "$(ts 5400)" '{
  now: $now,
  users: [{id: "U1", name: "Alice", email: "alice@example.com"}, {id: "U2", name: "Bob", email: "bob@example.com"},
          {id: "U3", name: "Carlos", email: "carlos@example.com"}],
  schedules: [
    {id: "01G0NEXTA0000000000000001", name: "Handover",
     rotations: [{id: "RA", name: "Primary", layers: [{id: "LA", name: "Layer 1"}], users: ["U1", "U2"],
                  handover_start_at: $start, handover_interval: "2h"}]},
    {id: "01G0NEXTB0000000000000001", name: "Override",
     rotations: [{id: "RB", name: "Primary", layers: [{id: "LB", name: "Layer 1"}], users: ["U1", "U2"],
                  handover_start_at: $start, handover_interval: "8h"}],
     overrides: [{rotation_id: "RB", layer_id: "LB", user_id: "U3", start_at: $ov_from, end_at: $ov_to}]},
    {id: "01G0NEXTC0000000000000001", name: "Solo",
     rotations: [{id: "RC", name: "Primary", layers: [{id: "LC", name: "Layer 1"}], users: ["U1"],
                  handover_start_at: $start, handover_interval: "2h"}]}]}' >"$T/now-world.json"
start_incidentio_sim "$T/now-world.json"

run fetch-oncall --look-ahead 15m -s 01G0NEXTA0000000000000001
is "$rc" 0 "now, one id: exit 0"
is "$(nexts)" "Handover=-" "a handover 1 h away is past a 15 m look-ahead"
reset_log
run fetch-oncall --look-ahead 2h -s 01G0NEXTA0000000000000001
is "$(nexts)" "Handover=$(ts 3600)" "the handover from Alice's shift's end and Bob's, next, start (GET /v2/schedules/{id})"
is "$(jq -r 'select(.type == "roster") | [.oncall[].name] | join(",")' "$T/out")" "Alice" "Alice on call now"
is "$(count /v2/)" 1 "one request: the schedule carries current_shifts and next_shifts"

reset_log
run fetch-oncall --look-ahead 2h -s Handover -s Override
is "$(nexts)" "Handover=$(ts 3600) Override=$(ts 1200)" "by name, through the list: the override's start comes first"
is "$(count /v2/)" 1 "one request"
like "$(jq -r .query "$INCIDENTIO_SIM_LOG")" '^page_size=25$' "the list asked 25 a page, the most for which it carries next_shifts"

# A handover from Alice to Alice changes nothing: the roster next differs
# when what is known of her shifts ends (next_shifts: up to T0 + 3h).
run fetch-oncall --look-ahead 2h -s Solo
is "$(nexts)" "Solo=-" "Alice handing over to herself at T0 + 1h is no change"
run fetch-oncall --look-ahead 4h -s Solo
is "$(nexts)" "Solo=$(ts 10800)" "the roster differs at the end of the shifts known (T0 + 3h)"

reset_log
run fetch-oncall -s Handover
is "$(nexts)" "Handover=-" "without --look-ahead: no next_change"
like "$(jq -r .query "$INCIDENTIO_SIM_LOG")" '^page_size=250$' "and the list pages stay at 250"

done_testing
