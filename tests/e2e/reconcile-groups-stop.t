#!/usr/bin/env bash
# SIGTERM while writes wait for StrongDM's rate limit: reconcile-groups
# stops at once instead of waiting out the window (up to a minute and
# more). The writes waiting end as not started, no write goes out after
# the signal, the change records are exactly the writes the simulator
# applied, the stream ends "interrupted", exit 1.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

# 30 people on call on one schedule: a create and 30 adds, against a write
# limit of 5 a minute (the window is the simulator's default, 60 s).
N=30
W=$(world_with "
  .accounts += [range(1; $((N + 1))) | {id: \"a-\(1000000000000000 + .)\", type: \"user\",
                 email: \"user\(.)@example.com\", first_name: \"User\", last_name: \"\(.)\"}]")
jq -cn --argjson n "$N" '{type: "roster", schedule: {id: "S-BIG", name: "Big"},
    at: "2026-11-29T07:00:00Z", window: {from: "2026-11-29T07:00:00Z", to: "2026-11-29T07:00:00Z"},
    oncall: [range(1; $n + 1) | {id: "U\(.)", email: "user\(.)@example.com", name: "User \(.)",
             account: {id: "a-\(1000000000000000 + .)", email: "user\(.)@example.com"}}]}' |
	sealed >"$T/in.ndjson"
start_strongdm_sim "$W" --rate-limit 1000,5

# the writes the simulator applied so far
applied() {
	jq -n '[inputs | select((.method | test("\\.(Create|Update|Delete)$")) and .outcome == "OK")] | length' \
		"$STRONGDM_SIM_LOG"
}
waits() { grep -Eqs 'rate limited; waiting|write limit: .*holding requests' "$T/err"; }

ONCALL_LOG=info reconcile-groups <"$T/in.ndjson" >"$T/out" 2>"$T/err" &
pid=$!
# Only so that a run that does not stop ends at all (it would write on in
# the next window, which the checks below catch): well after the reset.
(
	sleep 150 &
	trap 'kill $!; exit 0' TERM
	wait $!
	kill -KILL "$pid"
) >/dev/null 2>&1 &
watchdog=$!
ok "reconcile-groups waits for the write limit" wait_for waits
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
kill "$watchdog" 2>/dev/null || true
wait "$watchdog" 2>/dev/null || true
after=$(applied)
is "$rc" 1 "SIGTERM: exit 1"
is "$after" 5 "the window's 5 writes and none after it: the stop did not wait for the window to reset"
is "$(jq -s 'map(select(.type == "change" and .status == "done")) | length' "$T/out")" "$after" \
	"the change records are exactly the writes StrongDM applied ($after)"
is "$(jq -s 'map(select(.type == "change" and .status != "done")) | length' "$T/out")" 0 \
	"the writes that waited are not recorded as failed: they were not started"
is "$(tail -n 1 "$T/out" | jq -c '{type, interrupted}')" '{"type":"end","interrupted":true}' \
	"the stream ends saying it was interrupted"
like "$(cat "$T/err")" "interrupted by a signal: $after changes made, 0 failed, $((N + 1 - after)) not started" \
	"the summary counts the writes made and those not started"
members=$(strongdm_sim_state | jq '[.groups[] | select(.name == "Big") | .members[]] | length')
is "$members" "$((after - 1))" "StrongDM holds the group and the $((after - 1)) members added"

done_testing
