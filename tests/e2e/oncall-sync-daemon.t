#!/usr/bin/env bash
# oncall-sync daemon: cycles, a failed cycle does not stop the loop, SIGTERM
# stops it cleanly.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
ocs_start_sims
ocs_config '{"schedules": ["TestSchedule"]}'

# The first cycle fails (incident.io refuses the first schedule request), the
# second succeeds.
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "status", "status": 403, "count": 1}'
run oncall-sync daemon --every 1s --cycles 2
is "$rc" 0 "daemon --cycles 2 ends with exit 0"
like "$(cat "$T/err")" 'daemon: syncing every 1s \(1 s\), 2 cycles' "it says how often"
like "$(cat "$T/err")" 'daemon: sync 1 failed \(exit 1\); next attempt in 1s' "the failed cycle is logged"
like "$(cat "$T/err")" 'synced 1 schedule: 2 added' "the next cycle syncs"
like "$(cat "$T/err")" 'daemon: stopped after 2 syncs' "two cycles ran"
is "$(ocs_members TestSchedule)" "alice@example.com bob@example.com" "the group is synced"

# The config is read again at every cycle.
ocs_config '{"schedules": ["TestSchedule", "Platform"]}'
incidentio_sim_advance 3h
run oncall-sync daemon --every 1s --cycles 1
like "$(cat "$T/err")" 'synced 2 schedules: 3 added, 2 removed, 1 group created' "a later cycle sees the new config and clock"

# SIGTERM between cycles stops it at once, exit 0.
oncall-sync daemon --every 1h >"$T/d.out" 2>"$T/d.err" &
pid=$!
for _ in $(seq 600); do
	grep -q 'synced' "$T/d.err" 2>/dev/null && break
	sleep 0.1
done
like "$(cat "$T/d.err")" 'synced 2 schedules' "the daemon syncs at once"
kill -TERM "$pid"
rc=0
# (at once: long before the hour; a minute allows for a loaded machine)
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fail "SIGTERM stops the daemon"; else pass "SIGTERM stops the daemon"; fi
wait "$pid" || rc=$?
is "$rc" 0 "with exit status 0"
like "$(cat "$T/d.err")" 'daemon: stopped after 1 sync$' "saying so"

run oncall-sync -c "$T/nope.json" daemon --every 1s --cycles 1
is "$rc" 2 "a daemon with a bad config stops at once with exit 2"

done_testing
