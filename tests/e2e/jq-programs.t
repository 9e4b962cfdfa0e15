#!/usr/bin/env bash
# The wrapper's jq programs (share/oncall-sync/*.jq), each on its own: run
# with jq -f on the sample inputs in tests/jq/ and compared with the output
# kept in tests/jq/expected/ (JQ_REGEN=1 rewrites those; read the diff).
# Every program has a case; the modules (esc, spec, hints) are tested
# through a program that includes them and directly. The codes and reasons
# of DESIGN.md's records each get their advice (hints.jq).
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
command -v jq >/dev/null || skip_all "jq is not installed"
S=$ROOT/share/oncall-sync
J=$ROOT/tests/jq
cd "$J"
export INCIDENT_API_URL= SDM_API_HOST=

# check NAME DESC JQ-ARGS...: jq -L S -f S/PROG.jq JQ-ARGS (NAME is PROG or
# PROG:CASE) against expected/PROG.out or expected/PROG.CASE.out
check() {
	local name=${1/:/.} desc=$2 prog=${1%%:*} out
	shift 2
	out=$(jq -L "$S" -f "$S/$prog.jq" "$@" 2>&1) || out+=$'\n'"(jq exit $?)"
	if [[ -n ${JQ_REGEN:-} ]]; then
		mkdir -p expected
		printf '%s\n' "$out" >"expected/$name.out"
	fi
	is "$out" "$(cat "expected/$name.out")" "$prog.jq: $desc"
	TESTED+=" $prog "
}
TESTED=

# --- the config
check config "a config's values as shell assignments (specs, a duplicate dropped)" -rs config.json
check config:bad "every problem of a config, naming the field" -rs config-bad.json
check config:empty "an empty file" -rs /dev/null
check config-add "schedules added by id, one already listed by name replaced in place" \
	--argjson ids '["01G0J1EXE7PLATFORM00000000","01G0J1EXE7SUPPORT000000000"]' \
	--argjson names '{"01G0J1EXE7PLATFORM00000000":"Platform","01G0J1EXE7SUPPORT000000000":"Support"}' \
	--argjson spec null config.json
check config-add-said "what an add did: a schedule already synced by name, one added, the ids note" \
	-r --argjson ids '["01G0J1EXE7PLATFORM00000000","01G0J1EXE7SUPPORT000000000"]' \
	--argjson names '{"01G0J1EXE7PLATFORM00000000":"Platform","01G0J1EXE7SUPPORT000000000":"Sup\u001bport"}' \
	--argjson spec null --argjson after '["01G0J1EXE7PLATFORM00000000"]' <<<'["Platform"]'
check group-refs "the schedules of a spec's group" -r --arg r Platform config.json
check retired-keys "the groups a removal retires: an id, a name (unknown), a spec's group" \
	-r --argjson rm '["01G0J1EXE7AXZ2C93K61WBPYEH","Platform"]' config.json

# --- a sync's streams
check stats-events "the events counted from a run's streams" -cnR roster.ndjson matched.ndjson changes.ndjson
check run "run.json and the summary from the counted events" -rn \
	--arg st done --arg id 20261129T070000Z-1 --arg started 2026-11-29T07:00:00Z \
	--arg finished 2026-11-29T07:00:02Z --argjson fe 1764399602 --argjson dur 1.5 --argjson rc 1 \
	--arg stage reconcile-groups --argjson dry false --arg config /etc/oncall-sync/config.json \
	--arg name test --argjson fs 1 --argjson ms 0 --argjson rs 1 \
	< <(jq -L "$S" -f "$S/stats-events.jq" -cnR roster.ndjson matched.ndjson changes.ndjson | LC_ALL=C sort | uniq -c |
		awk '{ n = $1; sub(/^ *[0-9]+ /, ""); print "[" n "," $0 "]" }')
check metrics "metrics.prom from run.json, the counters added to the previous ones" \
	-r --arg prev $'add done 3\nadd failed 1' --argjson last_success 1764390000 run.json
check spec-stage "each roster and error record gets its schedule's group spec" \
	-c --slurpfile all <(echo '{"Platform":{"name":"oncall-all","roles":["Platform JIT"]},"Nope":{"name":"x"}}') roster.ndjson
check audit "the done and failed changes for the audit log" -cR --arg at 2026-11-29T07:00:02Z --arg id S1 changes.ndjson
check changes "one line per change, outside text escaped" -rR changes.ndjson
check groups-after "each group after a complete run" -cnR --slurpfile st status-before.json \
	matched.ndjson changes.ndjson roster.ndjson
check groups-after:cut "a run cut short: the groups before with the changes done" -cnR --slurpfile st status-before.json \
	matched.ndjson <(head -n 3 changes.ndjson)
check refused-run "the run record of a refused sync" -cn --arg id X --arg started 2026-11-29T07:00:00Z \
	--arg finished 2026-11-29T07:00:00Z --argjson fe 1764399600 --argjson rc 2 --argjson dry false \
	--arg config /c.json --arg msg "/c.json: lead: not a duration"
check status "the text of status" -rRs --argjson now 1764399700 --arg prefix "" --arg dir /state/last \
	status.json
check explain:alice "explain: a member" -rnR --arg who ALICE@example.com --arg prefix "" \
	--arg lookup email --arg idset "" --arg prog oncall-sync \
	--slurpfile run run.json matched.ndjson changes.ndjson
for reason in no_user suspended ambiguous no_alias no_id not_a_user no_email failed; do
	check "explain:$reason" "explain: the unmatched reason $reason" -rnR --arg who "R-$reason" --arg prefix "" \
		--arg lookup identity-alias --arg idset oncall --arg prog oncall-sync \
		--slurpfile run run.json reasons/matched.ndjson
done
check daemon-next "the earliest next_change, rounded up to the second" -rnR roster.ndjson
check doctor-last "the doctor's line on a failed last sync" -r --argjson now 1764399700 --arg prog oncall-sync run.json

# --- incident.io's answers
check schedules "the table of schedules, the synced ones marked, a missing one named" \
	-rnR --argjson cfg '["01G0J1EXE7AXZ2C93K61WBPYEH","Gone"]' list.ndjson
check resolve "each argument as fetch-oncall resolved it" -rnR --args 01G0J1EXE7AXZ2C93K61WBPYEH Platform Nope Weekend \
	<roster.ndjson
check configured-ref "the configured schedule a name designates" -rn --arg a Platform \
	--args 01G0J1EXE7AXZ2C93K61WBPYEH 01G0J1EXE7PLATFORM00000000 <roster.ndjson

# --- codes and reasons (DESIGN.md's records): what the operator is told
check doctor "doctor: a schedule, its people, each unmatched reason, each error code" -rnR \
	--argjson cfg '["01G0J1EXE7AXZ2C93K61WBPYEH","Platform"]' --arg lookup email --arg idset "" \
	--arg config /c.json --arg prog oncall-sync roster.ndjson reasons/matched.ndjson errors.ndjson
check doctor:alias "doctor: the reasons of identity-alias lookup" -rnR \
	--argjson cfg '[]' --arg lookup identity-alias --arg idset oncall --arg config /c.json --arg prog oncall-sync reasons/matched.ndjson
for api in incidentio strongdm; do
	for code in unauthenticated permission_denied not_found unavailable rate_limited invalid ambiguous failed; do
		check "api-hint:$api-$code" "$api, code $code" -rn --arg api "$api" --arg code "$code" \
			--arg config /c.json --arg prog oncall-sync
	done
done
check api-hint:first "the first error record's code" -rnR --arg api incidentio --arg code "" \
	--arg config /c.json --arg prog oncall-sync errors.ndjson
for code in unauthenticated permission_denied not_found unavailable rate_limited; do
	like "$(cat "expected/api-hint.incidentio-$code.out")" . "incident.io's code $code has advice"
done
for code in unauthenticated permission_denied unavailable rate_limited invalid; do
	like "$(cat "expected/api-hint.strongdm-$code.out")" . "StrongDM's code $code has advice"
done

# --- the modules
is "$(jq -rn -L "$S" 'include "esc"; "a\nb\u001b\u0085\\ \"q\"" | esc')" 'a\nb\u001b\u0085\\ "q"' \
	"esc.jq: control characters, C1 controls and a backslash escaped, a quote kept"
is "$(jq -rn -L "$S" 'include "esc"; "a\nb\u007f\u2028\\n" | esc_ctl')" 'a\nb\u007f\u2028\n' \
	"esc.jq: esc_ctl escapes the control characters of a message, its backslashes kept"
is "$(printf '%s\n' '{"n":"a\nb\\c"}' | jq -rR -L "$S" 'include "esc"; esc_raw | fromjson | .n')" 'a\nb\\c' \
	"esc.jq: esc_raw escapes every string of a record before it is parsed"
is "$(jq -rn -L "$S" 'include "spec"; [{"schedule": "A", "group": "g", "roles": ["x"]}, {"schedule": "B", "group": "G"}] | spec_conflicts')" "" \
	"spec.jq: a schedule listing no roles shares a group with one listing some"

# every program has a case
for f in "$S"/*.jq; do
	p=$(basename "$f" .jq)
	case $p in esc | spec | hints) continue ;; esac
	ok "$p.jq has a case" test "${TESTED/ $p /}" != "$TESTED"
done
done_testing
