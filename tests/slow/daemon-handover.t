#!/usr/bin/env bash
# oncall-sync daemon with its default timing (--every 15m, --min-interval 30s,
# --jitter 5s) against both simulators, a handover 20 s after start: the
# group is swapped within 60 s of the handover, with no sync between (the
# incident.io simulator's log counts them). Real time: about 40 s.
# shellcheck disable=SC1091,SC2154
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
. "$ROOT/tests/fixtures/oncall-sync/handover.sh"
ocs_need_programs

t0=$(date +%s)
handover_world "$T/world.json" "$t0" 20
ocs_start_sims "$T/world.json"
ocs_config "{\"schedules\": [\"$HANDOVER_ID\"]}"
oncall-sync daemon >"$T/d.out" 2>"$T/d.err" &
pid=$!

seen=$(handover_wait_members "alice@example.com" 300) || seen=
ok "the first sync puts Alice in the group" test -n "$seen"
ok "before the handover" test "${seen:-999999}" -lt "$((t0 + 20))"
seen=$(handover_wait_members "bob@example.com" 600) || seen=
ok "the group holds Bob alone after the handover" test -n "$seen"
note "swapped $((${seen:-0} - t0 - 20)) s after the handover"
ok "within 60 s of the handover ($((${seen:-0} - t0 - 20)) s)" test "$((${seen:-999999} - t0 - 20))" -le 60
# the first sync reads the schedule once; the second at the handover
is "$(incidentio_sim_count /v2/schedules)" 2 "two syncs: none between start and the handover"
like "$(cat "$T/d.err")" "next sync at [0-9T:Z-]+ \\(in [0-9]+ s\\): handover on \"Handover\" at $(date -u -d "@$((t0 + 20))" +%Y-%m-%dT%H:%M:%SZ)" \
	"the daemon planned the sync for the handover"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
is "$rc" 0 "SIGTERM stops it, exit 0"

done_testing
