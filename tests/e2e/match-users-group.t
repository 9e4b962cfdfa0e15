#!/usr/bin/env bash
# match-users passes a record's "group" spec on untouched: on a common
# roster, on one with an escape in the schedule name, on an error record,
# and with --accounts.
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/match-users
require_bin match-users
start_strongdm_sim "$FX/world.json"
plan 5

G1='{"name":"payments-oncall","roles":["payments-prod-ro","r-1f2e","caf\u00e9 \"ops\""]}'
G2='{"name":"Ops \u2013 EU"}'
{
	printf '%s\n' '{"type":"roster","schedule":{"id":"S1","name":"Payments Primary"},"group":'"$G1"',"oncall":[{"id":"U1","email":"alice@example.com"}]}'
	printf '%s\n' '{"type":"roster","schedule":{"id":"S2","name":"Pay\"ments 2"},"group":'"$G2"',"oncall":[{"id":"U2","email":"alice@example.com"}]}'
	printf '%s\n' '{"type":"error","stage":"fetch-oncall","schedule":{"id":"S3","name":"X"},"group":'"$G2"',"code":"not_found","message":"gone"}'
	printf '%s\n' '{"type":"end","stage":"fetch-oncall","records":3}'
} >"$T/in"
run match-users <"$T/in"
is "$rc" 0 "exit 0"
is "$(jq -c 'select(.type == "roster" or .type == "error") | .group' "$T/out")" \
	"$(printf '%s\n' "$G1" "$G2" "$G2" | jq -c .)" "every record's group spec comes out as it went in"
is "$(jq -r 'select(.type == "roster") | .oncall[0].account.id' "$T/out" | sort -u)" a-0000000000000001 \
	"and the people are matched as usual"
grep '"type":"roster"' "$T/in" | head -n 1 >"$T/one"
printf '%s\n' '{"type":"end","stage":"fetch-oncall","records":1}' >>"$T/one"
run match-users <"$T/one"
is "$(head -n 1 "$T/out" | jq -c '.group')" "$(jq -c . <<<"$G1")" "a lone common roster keeps it"
is "$(head -n 1 "$T/out" | jq -c 'del(.oncall)')" "$(head -n 1 "$T/one" | jq -c 'del(.oncall)')" \
	"and nothing else of the record changes but the people's accounts"
done_testing
