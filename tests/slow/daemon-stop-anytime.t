#!/usr/bin/env bash
# oncall-sync daemon stopped by SIGTERM at moments spread over its cycles
# (syncing, planning, sleeping; --every 2s): it exits 0 every time, saying
# it stopped. (bash 5.2 ran the trap inside the parse of a $(...) the daemon
# was running and failed with a syntax error, exit 2: 1 run in 25 to 50.)
# The moments are not states to wait for: any moment must do.
# shellcheck disable=SC1091,SC2154
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
. "$ROOT/tests/fixtures/oncall-sync/handover.sh"
ocs_need_programs

handover_world "$T/world.json" "$(date +%s)" 3
ocs_start_sims "$T/world.json"
ocs_config "{\"schedules\": [\"$HANDOVER_ID\"]}"
# after its traps are set (the first line it says), 0.05 s to 3 s in
for ((i = 1; i <= 20; i++)); do
	oncall-sync daemon --every 2s --min-interval 1s --jitter 0 >"$T/d.out" 2>"$T/d.err" &
	pid=$!
	until grep -q 'daemon: syncing at each handover' "$T/d.err"; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	sleep "$((i * 15 / 100)).$((i * 15 % 100 / 10))$((i * 15 % 10))"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	is "$rc" 0 "SIGTERM $((i * 15)) centiseconds in: exit 0"
	if [[ $rc != 0 ]] || ! grep -q 'daemon: stopped after' "$T/d.err"; then
		diag "$(tail -n 4 "$T/d.err")"
	fi
done
done_testing
