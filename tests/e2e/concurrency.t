#!/usr/bin/env bash
# concurrency.t: two "oncall-sync sync" started together never run their
# pipelines at the same time (the second waits for the lock, then runs, or
# gives up saying a sync is running), and the lock of a run killed with
# SIGKILL does not block the next run.
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, rc; reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
require_cmd setsid

ocs_start_sims
ocs_config '{"name": "concurrency", "schedules": ["TestSchedule", "Platform"], "user_lookup": "email"}'
SLOW='{"path_prefix": "/v2/schedule", "kind": "slow", "delay_ms": 500, "count": 100}'

# start_sync NAME [ENV=VALUE...]: oncall-sync sync in its own session (its
# pid is the session id), output in $T/NAME.out and $T/NAME.err.
start_sync() {
	local name=$1
	shift
	env "$@" setsid "$BIN/oncall-sync" sync > "$T/$name.out" 2> "$T/$name.err" &
	eval "PID_$name=\$!"
}

# pipeline_sessions SID...: how many of the sessions run a pipeline program
# now (not counting the key check that runs before the lock is taken:
# fetch-oncall and match-users --check-credentials).
pipeline_sessions() {
	ps -e -o sid=,comm=,args= | awk -v list=" $* " '
		index(list, " " $1 " ") && $2 ~ /^(fetch-oncall|match-users|reconcile-gr)/ &&
		!/--check-credentials/ { s[$1] = 1 }
		END { n = 0; for (k in s) n++; print n }'
}

# --- two syncs together, the second allowed to wait: they take turns
# (the first pipeline's reads are held until it was seen, so that it is seen
# on a machine of any speed; then answers are slow, to give an overlap time
# to show)
incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "hold", "count": 1000}'
start_sync a
start_sync b
# (ps reads the processes one after the other, not at one instant: the
# first run's last stage, read early in a scan, may have ended, and the
# second's started, by the time the scan reads the second's. So a scan that
# sees two pipelines is taken again at once: two pipelines really at once
# are seen by both.)
overlap=0 seen=0
while kill -0 "$PID_a" 2>/dev/null || kill -0 "$PID_b" 2>/dev/null; do
	n=$(pipeline_sessions "$PID_a" "$PID_b")
	if [ "$n" -ge 1 ] && [ "$seen" = 0 ]; then
		seen=1
		incidentio_sim_faults_clear
		incidentio_sim_fault "$SLOW"
	fi
	[ "$n" -lt 2 ] || [ "$(pipeline_sessions "$PID_a" "$PID_b")" -lt 2 ] || overlap=1
	sleep 0.02
done
[ "$seen" = 1 ] || incidentio_sim_faults_clear
rc_a=0 rc_b=0
wait "$PID_a" || rc_a=$?
wait "$PID_b" || rc_b=$?
incidentio_sim_faults_clear
is "$rc_a $rc_b" "0 0" "both syncs exit 0 (the second waited for the lock)"
is "$seen" 1 "the pipelines were seen running"
is "$overlap" 0 "never two pipelines at once"
is "$(jq -s 'map(select(.action == "add")) | length' "$ONCALL_SYNC_STATE_DIR/audit.ndjson")" \
	"$(jq -s 'map(select(.action == "add")) | unique_by(.group.id, .account.id) | length' "$ONCALL_SYNC_STATE_DIR/audit.ndjson")" \
	"no member added twice"

# --- a second sync that may not wait gives up, saying why
# (its reads are held by the simulator until the faults are cleared: it runs
# for as long as the test needs, on a machine of any speed)
incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "hold", "count": 1000}'
start_sync c
for _ in $(seq 1200); do [ "$(incidentio_sim_requests | jq .in_flight)" -ge 1 ] && break; sleep 0.05; done
run env ONCALL_SYNC_LOCK_WAIT=0 "$BIN/oncall-sync" sync
is "$rc" 3 "a sync started while another runs exits 3 when it may not wait"
like "$(cat "$T/err")" 'a sync is already running' "and says a sync is running"
incidentio_sim_faults_clear
incidentio_sim_fault "$SLOW"
rc_c=0
wait "$PID_c" || rc_c=$?
is "$rc_c" 0 "the running sync was not disturbed"

# --- a sync killed with SIGKILL (the whole session, at once) leaves no lock
# that blocks the next one
start_sync d
for _ in $(seq 1200); do [ "$(pipeline_sessions "$PID_d")" -ge 1 ] && break; sleep 0.05; done
kill -KILL -- "-$PID_d" 2>/dev/null || true
wait "$PID_d" 2>/dev/null || true
incidentio_sim_faults_clear
run env ONCALL_SYNC_LOCK_WAIT=2 "$BIN/oncall-sync" sync
is "$rc" 0 "the next sync runs after one was killed with SIGKILL"
[ "$rc" -eq 0 ] || diag "$(cat "$T/err")"
is "$(ocs_groups)" "Platform: gina@example.com
TestSchedule: alice@example.com bob@example.com" "and the groups are as they should be"

done_testing
