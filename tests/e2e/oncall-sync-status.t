#!/usr/bin/env bash
# oncall-sync status after every way a sync can end: done, refused before
# its pipeline (a misspelt config field, a missing key file), held by
# max_changes, a dry run, interrupted by a signal; status --json; each
# group's members as StrongDM holds them after the run; per-command --help;
# messages for a config or state directory we may not read.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
ocs_start_sims
STATE=$ONCALL_SYNC_STATE_DIR
metric() { sed -n "s/^$1 //p" "$STATE/metrics.prom"; }
sj() { oncall-sync status --json | jq -r "$1"; }
members() { # SCHEDULE: the members status --json gives for its group
	oncall-sync status --json | jq -r --arg s "$1" \
		'[.groups[] | select(.schedule.name == $s) | .members[].email] | sort | join(" ")'
}

# --- a good sync (07:00: Alice and Bob on TestSchedule)
ocs_config '{"schedules": ["TestSchedule", "Platform"]}'
run oncall-sync sync
is "$rc" 0 "a first sync"
run oncall-sync status
is "$rc" 0 "status: exit 0"
like "$(head -n 1 "$T/out")" '^Last sync: .*: ok$' "status: ok"
like "$(cat "$T/out")" 'Ivan <ivan@example.com>: no StrongDM user with email ivan@example.com \[no_user\]' \
	"an unmatched person with the reason code"
run oncall-sync status --json
is "$rc" 0 "status --json: exit 0"
is "$(jq -r '[.run.exit_status, .run.dry_run, (.last_success_at | type)] | join(" ")' "$T/out")" "0 false string" \
	"status --json: the run, and when the last good one ended"
is "$(members TestSchedule)" "alice@example.com bob@example.com" "status --json: the members of each group"
is "$(jq -r '.groups[] | select(.schedule.name == "Platform") | .unmatched[0].reason' "$T/out")" no_user \
	"status --json: unmatched people with their reason"

# --- refused before the pipeline: a misspelt field
cp "$ONCALL_SYNC_CONFIG" "$T/good.json"
ocs_config '{"schedules": ["TestSchedule", "Platform"], "max_change": 0}'
run oncall-sync sync
is "$rc" 2 "a misspelt field: exit 2"
run oncall-sync status
is "$rc" 1 "status after a refused sync: exit 1"
like "$(head -n 1 "$T/out")" ': REFUSED \(exit 2\), nothing changed: .*unknown field "max_change" \(did you mean "max_changes"\?\)' \
	"status says the sync was refused, and why"
like "$(cat "$T/out")" 'TestSchedule \(incident.io 01G0J1EXE7AXZ2C93K61WBPYEH\)
  group: TestSchedule \(group-[0-9a-f]+\)
  members:
    alice@example.com' "the groups as StrongDM holds them (those of the sync before)"
is "$(sj '.run.refused')" true "status --json: refused"
is "$(metric oncall_sync_last_exit_status)" 2 "metrics: last exit status 2"

# --- refused: a key file that is gone
cp "$T/good.json" "$ONCALL_SYNC_CONFIG"
SDM_API_SECRET_KEY_FILE=$T/keys/nope run oncall-sync sync
is "$rc" 2 "a missing key file: exit 2"
like "$(oncall-sync status | head -n 1)" "REFUSED \\(exit 2\\), nothing changed: .*$T/keys/nope" \
	"status names the key file"
run oncall-sync doctor
like "$(cat "$T/out")" 'warn  last sync .*: exit status 2 \(oncall-sync\)' "doctor sees the refused sync as the last one"

# --- held by max_changes (10:00: Carlos and Deanna are wanted)
incidentio_sim_advance 3h
jq '.max_changes = 1' "$T/good.json" >"$ONCALL_SYNC_CONFIG"
run oncall-sync sync
is "$rc" 3 "more changes than max_changes: exit 3"
run oncall-sync status
like "$(head -n 1 "$T/out")" ': HELD \(exit 3\): [0-9]+ changes held, more than max_changes; nothing changed' "status: held"
like "$(cat "$T/out")" 'TestSchedule \(incident.io 01G0J1EXE7AXZ2C93K61WBPYEH\)
  group: TestSchedule \(group-[0-9a-f]+\)
  members:
    alice@example.com \(Alice, on call until 2026-11-29T09:00:00Z\)
    bob@example.com' "the members StrongDM holds (Alice, Bob), not the ones wanted"
is "$(members TestSchedule)" "$(ocs_members TestSchedule)" "status --json agrees with StrongDM"
like "$(cat "$T/out")" 'problems:
    add carlos@example.com held' "the held changes are listed"

# --- a dry run
cp "$T/good.json" "$ONCALL_SYNC_CONFIG"
run oncall-sync sync --dry-run
is "$rc" 0 "a dry run: exit 0"
run oncall-sync status
like "$(head -n 1 "$T/out")" ': a dry run: 3 members would be added, 3 members would be removed \(nothing was changed\)$' \
	"status: a dry run, in the conditional"
is "$(members TestSchedule)" "alice@example.com bob@example.com" "a dry run: the members StrongDM holds"
ocs_config '{"schedules": ["TestSchedule"]}'
run oncall-sync sync --dry-run
like "$(cat "$T/err")" '1 group to delete' "a dry run's summary: to delete, not deleted"
like "$(oncall-sync status | head -n 1)" 'would be removed, 1 group would be deleted \(nothing was changed\)' \
	"status: 1 group would be deleted"

# --- every schedule failed
cp "$T/good.json" "$ONCALL_SYNC_CONFIG"
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Accounts.List","count":1000}]}'
run oncall-sync sync
is "$rc" 1 "StrongDM unavailable for match-users: exit 1"
like "$(cat "$T/err")" 'every schedule failed' "the summary says every schedule failed"
like "$(oncall-sync status | head -n 1)" ': FAILED: every schedule failed \(match-users exit 1\); no group changed' \
	"status: FAILED: every schedule failed (not 'the other schedules were synced')"
is "$(sj '[.groups[].error.code] | unique | join(",")')" unavailable "status --json: each group's error code"
is "$(members TestSchedule)" "alice@example.com bob@example.com" "and the members StrongDM still holds"
strongdm_sim_clear_faults

# --- interrupted by a signal
incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "slow", "delay_ms": 5000, "count": 1}'
setsid oncall-sync sync 2>"$T/int.err" &
pid=$!
for _ in $(seq 100); do [[ -e $STATE/last/roster.ndjson.tmp ]] && break; sleep 0.1; done
sleep 0.3
kill -TERM -- "-$pid"
rc=0
wait "$pid" || rc=$?
is "$rc" 1 "a sync stopped by SIGTERM: exit 1"
like "$(cat "$T/int.err")" 'sync interrupted by a signal' "the summary says interrupted"
like "$(oncall-sync status | head -n 1)" ': INTERRUPTED by a signal: 0 changes made before it stopped$' "status: interrupted"
is "$(members TestSchedule)" "alice@example.com bob@example.com" "the members StrongDM holds"
incidentio_sim_faults_clear

# --- and a good sync again
run oncall-sync sync
run oncall-sync status
is "$rc" 0 "a good sync: status exit 0 again"
is "$(members TestSchedule)" "carlos@example.com deanna@example.com" "Carlos and Deanna now"

# --- a state directory from before status.json: status reads last/
mv "$STATE/status.json" "$T/status.json.saved"
run oncall-sync status
is "$rc" 0 "without status.json (an older state directory): exit 0"
like "$(cat "$T/out")" 'TestSchedule \(incident.io 01G0J1EXE7AXZ2C93K61WBPYEH\)
  group: TestSchedule \(group-[0-9a-f]+\)
  members:
    carlos@example.com' "the last sync from the kept streams"
mv "$T/status.json.saved" "$STATE/status.json"

# --- --help for every command: its own usage, exit 0, nothing done
for c in sync schedules add remove status doctor explain env daemon help version; do
	run oncall-sync "$c" --help
	is "$rc $(head -n 1 "$T/out")" "0 usage: oncall-sync [-c FILE] $c$(sed -n "s/^usage: oncall-sync \[-c FILE\] $c//p" "$T/out" | head -n 1)" \
		"$c --help: its own usage"
	run oncall-sync "$c" -h
	like "$rc $(head -n 1 "$T/out")" "^0 usage: oncall-sync \\[-c FILE\\] $c" "$c -h too"
done
run oncall-sync add --help
ok "add --help changes no config" bash -c "! grep -q -- --help '$ONCALL_SYNC_CONFIG'"
run oncall-sync nosuch --help
is "$rc" 2 "--help after an unknown command: exit 2"

# --- messages for what we may not read (as another user)
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
	as_nobody() { env -u ONCALL_LIBEXEC setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	chmod 755 "$T"
	mkdir -m 750 "$T/etc"
	cp "$T/good.json" "$T/etc/config.json"
	ONCALL_SYNC_CONFIG=$T/etc/config.json run as_nobody "$ROOT/bin/oncall-sync" sync
	is "$rc" 2 "a config in a directory we may not search: exit 2"
	like "$(cat "$T/err")" "$T/etc/config.json: permission denied: the directory $T/etc is drwxr-x--- root:root and you are nobody" \
		"says permission denied, as ls -l would, not 'no such file'"
	run as_nobody "$ROOT/bin/oncall-sync" status
	is "$rc" 1 "a state directory we may not read: exit 1"
	like "$(cat "$T/err")" "cannot read the state directory $STATE: permission denied \\(it is drwx------ root:root" \
		"status says so, not 'No sync has run yet'"
	run as_nobody "$ROOT/bin/oncall-sync" explain alice@example.com
	like "$rc $(cat "$T/err")" "^1 .*cannot read the state directory $STATE: permission denied" "explain too"
	chmod 700 "$T"
else
	pass "skipped: not root" && pass "skipped" && pass "skipped" && pass "skipped" && pass "skipped"
fi

done_testing
