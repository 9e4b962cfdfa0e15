#!/usr/bin/env bash
# oncall-sync daemon: cycles, a failed cycle does not stop the loop; a sync
# at the handover and none between; SIGHUP syncs now; SIGTERM stops it
# between syncs at once and during a sync once that sync is done; status
# shows the next planned sync.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
. "$ROOT/tests/fixtures/oncall-sync/handover.sh"
ocs_need_programs
ocs_start_sims
ocs_config '{"schedules": ["TestSchedule"]}'

# waits (generously: only a hung daemon fails) until FILE matches REGEX
wait_log() {
	local i
	for ((i = 0; i < 1200; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# waits until FILE has N lines matching REGEX
wait_count() {
	local i
	for ((i = 0; i < 1200; i++)); do
		(($(grep -Ec "$2" "$1" 2>/dev/null || true) >= $3)) && return 0
		sleep 0.1
	done
	return 1
}
# waits until PID has exited; fails (and kills it) after 120 s
wait_exit() {
	local i
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1"
	return 1
}

# The first cycle fails (incident.io refuses the first schedule request), the
# second succeeds.
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "status", "status": 403, "count": 1}'
run oncall-sync daemon --every 1s --min-interval 0 --cycles 2
is "$rc" 0 "daemon --cycles 2 ends with exit 0"
like "$(cat "$T/err")" 'daemon: syncing at each handover, every 1s \(1 s\) at most, 0 apart at least, 2 cycles' "it says how often"
like "$(cat "$T/err")" 'daemon: sync 1 failed \(exit 1\)' "the failed cycle is logged"
like "$(cat "$T/err")" 'daemon: next sync at [0-9T:Z-]+ \(in -?[0-9]+ s\): every 1s' "with the next attempt"
like "$(cat "$T/err")" 'synced 1 schedule: 2 added' "the next cycle syncs"
like "$(cat "$T/err")" 'daemon: stopped after 2 syncs' "two cycles ran"
is "$(ocs_members TestSchedule)" "alice@example.com bob@example.com" "the group is synced"

# The config is read again at every cycle.
ocs_config '{"schedules": ["TestSchedule", "Platform"]}'
incidentio_sim_advance 3h
run oncall-sync daemon --every 1s --min-interval 1s --cycles 1
like "$(cat "$T/err")" 'synced 2 schedules: 3 added, 2 removed, 1 group created' "a later cycle sees the new config and clock"

run oncall-sync daemon --every 10s --min-interval 1m
is "$rc" 2 "--min-interval longer than --every: exit 2"
like "$(cat "$T/err")" 'min-interval 1m is longer than --every 10s' "saying so"
run oncall-sync daemon --jitter soon
is "$rc" 2 "a --jitter that is not a duration: exit 2"
run oncall-sync -c "$T/nope.json" daemon --every 1s --cycles 1
is "$rc" 2 "a daemon with a bad config stops at once with exit 2"
incidentio_sim_stop
strongdm_sim_stop

# --- a handover 20 s after start (time enough to start the simulators and
# sync once on a loaded machine; 90 s under valgrind) -------------------------
rm -rf "$T/keys" "$T/state"
h=20
[[ -z ${_TAP_VALGRIND_BIN:-} ]] || h=90
t0=$(date +%s)
handover_world "$T/world.json" "$t0" "$h"
ocs_start_sims "$T/world.json"
ocs_config "{\"schedules\": [\"$HANDOVER_ID\"]}"
: >"$INCIDENTIO_SIM_LOG"
oncall-sync daemon --every 1h --min-interval 1s --jitter 0 >"$T/d.out" 2>"$T/d.err" &
pid=$!
ok "the first sync puts Alice in the group" wait_log "$T/d.err" 'synced 1 schedule'
handover=$(date -u -d "@$((t0 + h))" +%Y-%m-%dT%H:%M:%SZ)
ok "the daemon plans the next sync a second after the handover ($handover), not in 1 h" \
	wait_log "$T/d.err" "daemon: next sync at $(date -u -d "@$((t0 + h + 1))" +%Y-%m-%dT%H:%M:%SZ) \\(in [0-9]+ s\\): handover on \"Handover\" at $handover"
seen=$(handover_wait_members "bob@example.com" 600) || seen=
ok "the group holds Bob alone after the handover" test -n "$seen"
note "swapped $((${seen:-0} - t0 - h)) s after the handover (tests/slow/daemon-handover.t checks the 60 s)"
ok "the sync after the handover is logged" wait_log "$T/d.err" 'synced 1 schedule: 1 added, 1 removed'
is "$(incidentio_sim_count /v2/schedules)" 2 "two syncs (one schedule read each): none between start and handover"
ok "then it sleeps until Bob's shift ends" \
	wait_log "$T/d.err" "next sync at .*handover on \"Handover\" at $(date -u -d "@$((t0 + h + 3600))" +%Y-%m-%dT%H:%M:%SZ)"
run oncall-sync status
like "$(cat "$T/out")" "Next sync: $(date -u -d "@$((t0 + h + 3601))" +%Y-%m-%dT%H:%M:%SZ) \\(in [0-9]+ s, daemon pid $pid\\): handover on \"Handover\" at" \
	"status shows the next planned sync and why"
is "$(jq -c '[.schedule.name, .next_change]' "$T/state/daemon.json")" \
	"[\"Handover\",\"$(date -u -d "@$((t0 + h + 3600))" +%Y-%m-%dT%H:%M:%SZ)\"]" "daemon.json names the schedule and its next change"

# SIGHUP: sync now.
kill -HUP "$pid"
ok "SIGHUP makes it sync now" wait_log "$T/d.err" 'SIGHUP: syncing now'
ok "a third sync follows" wait_count "$T/d.err" 'daemon: next sync at' 3
is "$(incidentio_sim_count /v2/schedules)" 3 "three syncs in all"

# SIGTERM while it sleeps: it stops at once.
kill -TERM "$pid"
rc=0
ok "SIGTERM stops the sleeping daemon" wait_exit "$pid"
wait "$pid" || rc=$?
is "$rc" 0 "with exit status 0"
like "$(cat "$T/d.err")" 'daemon: stopped after 3 syncs$' "saying so"
ok "status no longer shows a planned sync" test ! -e "$T/state/daemon.json"

# SIGTERM during a sync: that sync finishes, then the daemon stops.
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "slow", "delay_ms": 1500}'
: >"$T/d.err"
oncall-sync daemon --every 1h >"$T/d.out" 2>"$T/d.err" &
pid=$!
ok "a sync starts" wait_log "$T/d.err" 'daemon: syncing at each handover'
for _ in $(seq 1200); do [[ -e $T/state/last/roster.ndjson.tmp ]] && break; sleep 0.05; done
kill -TERM "$pid"
rc=0
ok "the daemon stops" wait_exit "$pid"
wait "$pid" || rc=$?
is "$rc" 0 "exit status 0"
like "$(cat "$T/d.err")" 'synced 1 schedule: 0 added, 0 removed' "after finishing the sync in flight"
is "$(jq -r '[.exit_status, .failed_stage] | @json' "$T/state/last/run.json")" '[0,null]' "which was not interrupted"
like "$(cat "$T/d.err")" 'daemon: stopped after 1 sync$' "saying so"

# A schedule name from incident.io cannot forge a line of the daemon's log.
incidentio_sim_stop
strongdm_sim_stop
rm -rf "$T/keys" "$T/state"
t0=$(date +%s)
handover_world "$T/world.json" "$t0" 1800 $'Evil\noncall-sync: synced 9 schedules'
ocs_start_sims "$T/world.json"
: >"$T/d.err"
oncall-sync daemon --every 1h >"$T/d.out" 2>"$T/d.err" &
pid=$!
ok "the daemon plans the handover" wait_log "$T/d.err" 'next sync at'
kill -TERM "$pid"
wait_exit "$pid" || true
wait "$pid" || true
like "$(grep 'next sync at' "$T/d.err")" 'handover on "Evil\\noncall-sync: synced 9 schedules" at' "the name is logged as a JSON string"
is "$(grep -c '^oncall-sync: synced 9' "$T/d.err" || true)" 0 "its newline starts no line of its own"

done_testing
