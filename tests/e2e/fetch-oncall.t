#!/usr/bin/env bash
# fetch-oncall against incidentio-sim: rosters, selection, requests made,
# the key, usage, and the man page and --help agreeing (the README points
# to the man page).
# jq programs name their $variables in single quotes on purpose.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/fetch-oncall
AT=2026-11-29T07:00:00Z
reset_log() { : >"$INCIDENTIO_SIM_LOG"; }
count() { incidentio_sim_count "$1"; }
strip_now() { jq -c 'del(.at, .window)' "$T/out"; }

require_bin fetch-oncall
start_incidentio_sim "$FX/world.json" --entries-page-size 2

# --- who is on call now: current_shifts from the schedule list ---------------
reset_log
run fetch-oncall -a
is "$rc" 0 "-a: exit 0"
strip_now >"$T/now"
same_file "$T/now" "$FX/now-all.ndjson" \
	"-a now: several on call at once (Primary), an override replacing Erin (Platform), nobody (Nobody Now), no email (Edges)"
is "$(count /v2/)" 1 "-a now: one request (GET /v2/schedules carries current_shifts)"
is "$(jq -r 'select(.type=="roster") | [.at == .window.from, .at == .window.to, (.at | test("^[0-9-]+T[0-9:]+Z$"))] | all' "$T/out" | sort -u)" \
	true "now: at is RFC 3339 UTC and the window is [at, at]"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"fetch-oncall","records":7,"selection":"all"}' "the end record last, counting the records"
is "$(cat "$T/err")" "" "nothing on stderr"

# --- a window: schedule entries ----------------------------------------------
reset_log
run fetch-oncall --at "$AT" --grace 10m --lead 15m -a
is "$rc" 0 "--at --grace --lead -a: exit 0"
same_file "$T/out" "$FX/window-all.ndjson" \
	"window: Alice's shift ended inside the grace window, Bob's starts inside the lead window; Deanna's and Erin's outside"
is "$(count /v2/schedules)" 1 "window: one list request to find the schedules"
is "$(jq -r 'select(.path=="/v2/schedule_entries") | .query' "$INCIDENTIO_SIM_LOG" | grep -o 'schedule_id=[^&]*' | sort -u | wc -l | tr -d ' ')" \
	7 "window: entries requested for each of the 7 schedules"
is "$(jq -r 'select(.path=="/v2/schedule_entries") | .query' "$INCIDENTIO_SIM_LOG" | grep -c 'entry_window_end=2026-11-29T07%3A15%3A01Z')" \
	"$(count /v2/schedule_entries)" "every entries page asks for the same window end"

reset_log
run fetch-oncall --at "$AT" --lead 6h -s Hourly
is "$rc" 0 "--lead 6h -s Hourly: exit 0"
same_file "$T/out" "$FX/hourly-lead-6h.ndjson" "entries past one page: each person once, until = the latest end"
is "$(count /v2/schedule_entries)" 4 "7 final entries at 2 a page: 4 entries requests"
is "$(jq -r 'select(.path=="/v2/schedule_entries") | .query' "$INCIDENTIO_SIM_LOG" | grep -c 'entry_window_start=c1_')" 3 \
	"later pages pass pagination_meta.after as entry_window_start"

reset_log
run fetch-oncall --list
is "$rc" 0 "--list: exit 0"
same_file "$T/out" "$FX/list.ndjson" "--list: one schedule record per schedule, then end"
is "$(count /v2/)" 1 "--list: one request"

# --- selection ---------------------------------------------------------------
reset_log
run fetch-oncall -s 01G0F0OVERRIDE000000000001 -s 01G0F0PRIMARY0000000000001
is "$rc" 0 "two ids: exit 0"
is "$(jq -r 'select(.type=="roster") | .schedule.name' "$T/out" | paste -sd,)" "Platform,Primary" "rosters in -s order"
is "$(count /v2/schedules/)" 2 "two ids: two GET /v2/schedules/{id}"
is "$(count /v2/)" 2 "and nothing else"

reset_log
run fetch-oncall -s Hourly -s 01G0F0PRIMARY0000000000001 -s Edges
is "$rc" 0 "names and ids: exit 0"
is "$(jq -r 'select(.type=="roster") | .schedule.name' "$T/out" | paste -sd,)" "Hourly,Primary,Edges" "rosters in -s order"
is "$(count /v2/)" 1 "names: one list request, nothing else"

reset_log
run fetch-oncall -s 01G0F0OVERRIDE000000000001 -s 01G0F0PRIMARY0000000000001 -s 01G0F0EDGES000000000000001
is "$(count /v2/)" 1 "three ids: one list request rather than three show calls"

run fetch-oncall -s Primary -s 01G0F0PRIMARY0000000000001
is "$(jq -c 'select(.type=="roster") | .schedule.name' "$T/out" | wc -l | tr -d ' ')" 1 "a schedule selected twice gives one roster"

run fetch-oncall -s Twin -s Primary
is "$rc" 1 "a name two schedules share: exit 1"
is "$(jq -c 'select(.type=="error")' "$T/out")" \
	'{"type":"error","stage":"fetch-oncall","schedule":{"name":"Twin"},"code":"ambiguous","message":"2 incident.io schedules are named \"Twin\" (01G0F0TWINA000000000000001, 01G0F0TWINB000000000000001): select one by id"}' \
	"an error record naming it and the ids"
is "$(jq -r 'select(.type=="roster") | .schedule.name' "$T/out")" Primary "the other schedule is still written"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"fetch-oncall","records":2,"selection":"explicit"}' "and the stream ends"
like "$(cat "$T/err")" 'Twin.*named "Twin"' "stderr says it too"

run fetch-oncall -s primary
is "$rc" 1 "names are case-sensitive: exit 1"
is "$(jq -c 'select(.type=="error") | .schedule' "$T/out")" '{"name":"primary"}' "error record names the name, no id"

reset_log
run fetch-oncall -s 01G0F0NOSUCHSCHEDULE000001
is "$rc" 1 "an id incident.io does not know: exit 1"
is "$(jq -c 'select(.type=="error") | [.schedule, .code, .message]' "$T/out")" \
	'[{"id":"01G0F0NOSUCHSCHEDULE000001"},"not_found","incident.io answered 404 not_found: Resource not found (GET /v2/schedules/01G0F0NOSUCHSCHEDULE000001)"]' \
	"error record with the id, the code not_found and incident.io's answer"
is "$(count /v2/schedules/) $(count /v2/schedules)" "1 2" "a 404 on show is not retried; the list is asked once (it could be a name)"

# --- the key -----------------------------------------------------------------
reset_log
INCIDENT_API_KEY=not-the-key run fetch-oncall -a
is "$rc" 1 "a wrong key: exit 1"
is "$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out")" "error:unauthenticated" "a wrong key: no roster, no end; one error record with the code unauthenticated"
is "$(cat "$T/err")" "fetch-oncall: incident.io rejected the API key (401 authentication_error): No valid API key was provided" \
	"one clear message"
is "$(count /v2/)" 1 "401 is not retried"

INCIDENT_API_KEY=not-the-key run fetch-oncall --at "$AT" -s Primary -s Edges -s Hourly
is "$rc:$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out"):$(wc -l <"$T/err" | tr -d ' ')" "1:error:unauthenticated:1" "a wrong key in a window: exit 1, only the error record written, one line"

INCIDENT_API_KEY=users-only-key run fetch-oncall -s Primary -s Edges
is "$rc" 1 "a key without schedules.view: exit 1"
is "$(jq -c 'select(.type=="error") | .schedule' "$T/out" | paste -sd' ')" '{"name":"Primary"} {"name":"Edges"}' "error records for the schedules"
like "$(jq -r 'select(.type=="error") | .message' "$T/out" | head -n 1)" '^incident\.io answered 403 resource_forbidden: .*schedules\.view' \
	"the message names the missing permission"
is "$(jq -r 'select(.type=="error") | .code' "$T/out" | sort -u)" permission_denied "and the code is permission_denied"

INCIDENT_API_KEY=users-only-key run fetch-oncall -a
is "$rc:$(jq -sr 'map("\(.type):\(.code // "")") | join(",")' "$T/out")" "1:error:permission_denied" "-a without schedules.view: exit 1, only an error record with its code, no end (the schedules are unknown)"
like "$(cat "$T/err")" 'schedules\.view' "stderr names the permission"

run fetch-oncall -v -a
key=$INCIDENT_API_KEY
is "$(grep -c -F -- "$key" "$T/err" "$T/out" | awk -F: '{s += $2} END {print s}')" 0 "-v logs every request, never the key"
like "$(cat "$T/err")" 'GET http://127\.0\.0\.1:[0-9]+/v2/schedules\?page_size=250' "-v shows the request"

printf '%s\n' "$key" >"$T/key"
chmod 600 "$T/key"
(unset INCIDENT_API_KEY; INCIDENT_API_KEY_FILE=$T/key run fetch-oncall -s Primary; echo "$rc" >"$T/rc")
is "$(cat "$T/rc")" 0 "INCIDENT_API_KEY_FILE (mode 600) works"
chmod 644 "$T/key"
(unset INCIDENT_API_KEY; INCIDENT_API_KEY_FILE=$T/key run fetch-oncall -s Primary; echo "$rc" >"$T/rc")
is "$(cat "$T/rc")" 2 "a key file others may read is refused: exit 2"
is "$(grep -c -F -- "$key" "$T/err" || true)" 0 "and the message does not show the key"
(unset INCIDENT_API_KEY; run fetch-oncall -a; echo "$rc" >"$T/rc")
is "$(cat "$T/rc")" 2 "no key: exit 2"
like "$(cat "$T/err")" 'INCIDENT_API_KEY' "no key: the message says which variable"
INCIDENT_API_KEY_FILE=$T/key run fetch-oncall -a
is "$rc" 2 "both INCIDENT_API_KEY and INCIDENT_API_KEY_FILE: exit 2"

# --- usage -------------------------------------------------------------------
run fetch-oncall
is "$rc" 2 "no selection: exit 2"
like "$(cat "$T/err")" '-s SCHEDULE or -a' "no selection: says how to select"
run fetch-oncall -a -s Primary
is "$rc" 2 "-a with -s: exit 2"
run fetch-oncall --bogus
is "$rc" 2 "an unknown option: exit 2"
like "$(cat "$T/err")" 'usage: fetch-oncall' "an unknown option: usage on stderr"
run fetch-oncall --at yesterday -a
is "$rc" 2 "--at that is not RFC 3339: exit 2"
run fetch-oncall --lead soon -a
is "$rc" 2 "--lead that is not a duration: exit 2"
run fetch-oncall --grace 32d -a
is "$rc" 2 "--grace over 31d: exit 2"
run fetch-oncall -j 0 -a
is "$rc" 2 "-j 0: exit 2"
run fetch-oncall -j 65 -a
is "$rc" 2 "-j 65: exit 2"
INCIDENT_API_URL=http://api.example.com run fetch-oncall -a
is "$rc" 2 "plaintext to a host that is not loopback: exit 2"
run fetch-oncall -a extra
is "$rc" 2 "an operand: exit 2"

# --- help and man page agree; the README points to the man page ------------
# --check-options: the options checked as a run would, no key, no request
INCIDENT_API_KEY= INCIDENT_API_KEY_FILE= run fetch-oncall --lead PT15M --grace 90 --look-ahead 1h --check-options
is "$rc $(cat "$T/out")" '0 {"lead_ms":900000,"grace_ms":90000,"look_ahead_ms":3600000,"timeout_ms":30000}' \
	"--check-options: the durations in milliseconds, without a key"
run fetch-oncall --lead 32d --check-options
is "$rc" 2 "--check-options: a lead over 31 days exits 2"
like "$(cat "$T/err")" 'fetch-oncall: --lead: at most 31d, got "32d"' "naming the option"

run fetch-oncall --help
is "$rc" 0 "--help: exit 0"
cp "$T/out" "$T/help"
run fetch-oncall -V
like "$(cat "$T/out")" '^fetch-oncall [0-9]' "--version"
man_opts=$(sed 's/\\-/-/g' "$ROOT/man/fetch-oncall.1" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
help_opts=$(grep -oE -- '--[a-z][a-z-]+' "$T/help" | sort -u)
is "$(comm -23 <(echo "$help_opts") <(echo "$man_opts") | paste -sd' ')" "" "every option of --help is in the man page"
is "$(comm -13 <(echo "$help_opts") <(echo "$man_opts") | paste -sd' ')" "" "every option of the man page is in --help"
ok "the README points to man fetch-oncall for its options" grep -q '`man fetch-oncall`' "$ROOT/README.md"
for v in INCIDENT_API_KEY INCIDENT_API_KEY_FILE INCIDENT_API_URL ONCALL_LOG; do
	ok "$v in --help and the man page" \
		bash -c 'for f in "${@:2}"; do grep -q -- "$1" "$f" || exit 1; done' _ \
		"$v" "$T/help" "$ROOT/man/fetch-oncall.1"
done
norm() { tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//'; }
use=$(sed -n '/^usage:/,/^$/p' "$T/help" | sed 's/^usage://' | norm)
if command -v man >/dev/null 2>&1; then
	syn=$(MANWIDTH=200 LANG=C man -l "$ROOT/man/fetch-oncall.1" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | norm)
	is "$syn" "$use" "the man page SYNOPSIS is the usage of --help"
else
	pass "# SKIP man is not installed"
fi
if command -v man >/dev/null 2>&1; then
	ok "the man page renders without warnings" \
		bash -c '! MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null | grep .' _ "$ROOT/man/fetch-oncall.1"
else
	pass "# SKIP man is not installed"
fi

done_testing
