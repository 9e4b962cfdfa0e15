#!/usr/bin/env bash
# oncall-sync sync against both simulators: the groups, the kept streams, the
# audit trail and the metrics; dry run; schedules, add and remove; status and
# explain; the lock; a failing stage.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
ocs_start_sims
STATE=$ONCALL_SYNC_STATE_DIR
last_line() { tail -n 1 "$1" | jq -c '{type, stage}'; }
metric() { sed -n "s/^$1 //p" "$STATE/metrics.prom"; }

# --- the first sync: 07:00, Alice and Bob on TestSchedule, Gina (override)
# and Ivan (incident.io only) on Platform.
ocs_config '{"name": "test", "schedules": ["TestSchedule", "Platform"], "user_lookup": "email"}'
run oncall-sync sync
is "$rc" 0 "sync exits 0"
like "$(cat "$T/err")" 'oncall-sync: synced 2 schedules: 3 added, 0 removed, 2 groups created, 1 unmatched, 0 errors \([0-9.]+ s\)' \
	"one summary line"
is "$(cat "$T/out")" "" "nothing on stdout"
is "$(ocs_groups)" "Platform: gina@example.com
TestSchedule: alice@example.com bob@example.com" "groups created with who is on call"

ok "roster stream kept" test -s "$STATE/last/roster.ndjson"
is "$(last_line "$STATE/last/roster.ndjson")" '{"type":"end","stage":"fetch-oncall"}' "roster stream is complete"
is "$(last_line "$STATE/last/matched.ndjson")" '{"type":"end","stage":"match-users"}' "matched stream is complete"
is "$(last_line "$STATE/last/changes.ndjson")" '{"type":"end","stage":"reconcile-groups"}' "changes stream is complete"
is "$(jq -r 'select(.type == "roster") | .oncall[] | select(.unmatched) | .name' "$STATE/last/matched.ndjson")" Ivan \
	"the matched stream says who is unmatched"
is "$(stat -c %a "$STATE")" 700 "the state directory is private"

is "$(wc -l <"$STATE/audit.ndjson")" 5 "audit: 2 groups created + 3 members added"
is "$(jq -s 'map(select(.status == "done" and (.at | test("^20..-..-..T..:..:..Z$")) and (.sync_id | length) > 0)) | length' "$STATE/audit.ndjson")" 5 \
	"every audit record has a status, a time and a sync id"
is "$(jq -r '.exit_status' "$STATE/last/run.json")" 0 "run.json records the outcome"

ok "metrics.prom written" test -s "$STATE/metrics.prom"
is "$(grep -v '^#' "$STATE/metrics.prom" | grep -cvE '^[a-z_]+(\{[a-z_]+="[a-z_]+"(,[a-z_]+="[a-z_]+")*\})? [0-9.e+-]+$')" 0 \
	"metrics.prom is in the text exposition format"
is "$(grep -c '^# TYPE' "$STATE/metrics.prom")" "$(grep -c '^# HELP' "$STATE/metrics.prom")" "each metric has HELP and TYPE"
is "$(metric oncall_sync_last_exit_status)" 0 "metric: last exit status"
is "$(metric oncall_sync_unmatched_people)" 1 "metric: unmatched people"
is "$(metric oncall_sync_errors)" 0 "metric: errors"
is "$(metric 'oncall_sync_changes_total{action="add",status="done"}')" 3 "metric: members added"
is "$(metric 'oncall_sync_changes_total{action="create_group",status="done"}')" 2 "metric: groups created"
success1=$(metric oncall_sync_last_success_timestamp_seconds)
like "$success1" '^[0-9]{10}$' "metric: last success time"
ok "no key appears in the state directory" \
	bash -c "! grep -rqF -e '$(cat "$T/keys/sdm-api-secret-key")' -e '$(cat "$T/keys/incident-api-key")' '$STATE'"

# --- idempotent
run oncall-sync sync
like "$(cat "$T/err")" 'synced 2 schedules: 0 added, 0 removed, 0 groups created' "a second sync changes nothing"
is "$(wc -l <"$STATE/audit.ndjson")" 5 "and adds nothing to the audit"
is "$(metric 'oncall_sync_changes_total{action="add",status="done"}')" 3 "the counters keep their totals"
is "$(metric 'oncall_sync_last_run_changes{action="add",status="done"}')" 0 "the last-run gauges start again"

# --- the shift change, first as a dry run
incidentio_sim_advance 3h
before=$(cat "$STATE/metrics.prom")
run oncall-sync sync --dry-run
is "$rc" 0 "dry run exits 0"
like "$(cat "$T/err")" 'dry run of 2 schedules: 3 to add, 3 to remove, 0 groups to create' "dry run summary"
like "$(cat "$T/out")" '\+ carlos@example.com -> TestSchedule \(planned\)' "dry run lists the planned additions"
like "$(cat "$T/out")" '- alice@example.com <- TestSchedule \(planned\)' "and removals"
is "$(ocs_members TestSchedule)" "alice@example.com bob@example.com" "dry run changes nothing in StrongDM"
is "$(wc -l <"$STATE/audit.ndjson")" 5 "dry run adds nothing to the audit"
is "$(cat "$STATE/metrics.prom")" "$before" "dry run leaves the metrics alone"
is "$(jq -r 'select(.type == "change") | .status' "$STATE/dry-run/changes.ndjson" | sort -u)" planned \
	"dry run streams are kept apart in dry-run/"
run oncall-sync sync --dry-run --at 2026-11-29T20:00:00Z
like "$(cat "$T/err")" 'dry run of 2 schedules: 1 to add, 1 to remove' "dry run --at asks about another time (20:00: Alice and Bob again)"

run oncall-sync sync --verbose
is "$rc" 0 "sync after the shift change"
is "$(ocs_groups)" "Platform: erin@example.com
TestSchedule: carlos@example.com deanna@example.com" "Carlos and Deanna replace Alice and Bob; Erin is back"
like "$(cat "$T/out")" '- bob@example.com <- TestSchedule \(done\)' "--verbose lists the changes"
is "$(wc -l <"$STATE/audit.ndjson")" 11 "6 more changes in the audit"
is "$(metric 'oncall_sync_changes_total{action="add",status="done"}')" 6 "metric: added in total"
is "$(metric 'oncall_sync_changes_total{action="remove",status="done"}')" 3 "metric: removed in total"

# --- status and explain (from the kept streams)
run oncall-sync status
is "$rc" 0 "status exits 0 after a good sync"
like "$(cat "$T/out")" 'Last sync: .*: ok' "status says when and how"
like "$(cat "$T/out")" 'TestSchedule \(incident.io 01G0J1EXE7AXZ2C93K61WBPYEH\)
  group: TestSchedule \(group-[0-9a-f]+\)
  members:
    carlos@example.com \(Carlos, on call until 2026-11-29T17:00:00Z\)
    deanna@example.com' "status lists each group's members"
like "$(cat "$T/out")" 'unmatched \(on call, not in the group\):
    Ivan <ivan@example.com>: no StrongDM user' "status lists the unmatched people"

run oncall-sync explain alice@example.com
like "$(cat "$T/out")" 'NOT in "TestSchedule": not on call on TestSchedule' "explain: Alice is off call"
like "$(cat "$T/out")" 'remove TestSchedule done' "explain: and was removed (audit)"
run oncall-sync explain Carlos@Example.com
like "$(cat "$T/out")" 'in "TestSchedule": on call on TestSchedule until 2026-11-29T17:00:00Z, matched to StrongDM account a-0000000000000003' \
	"explain: Carlos is in (email case ignored)"
run oncall-sync explain ivan@example.com
like "$(cat "$T/out")" 'NOT in "Platform": on call on Platform, but no StrongDM user matched' "explain: Ivan is unmatched"
run oncall-sync explain 01FCNDV6P870EA6S7TK1DSYDG4
like "$(cat "$T/out")" 'in "Platform"' "explain takes an incident.io id"

# --- schedules, add, remove
run oncall-sync schedules
is "$rc" 0 "schedules exits 0"
like "$(cat "$T/out")" 'yes +01G0J1EXE7AXZ2C93K61WBPYEH +TestSchedule +Europe/London' "schedules marks synced ones"
like "$(cat "$T/out")" '
 +01G0J1EXE7SUPPORT000000000 +Support' "and lists the others"

cp "$ONCALL_SYNC_CONFIG" "$T/config.before"
run oncall-sync add Nope
is "$rc" 2 "add of an unknown schedule exits 2"
like "$(cat "$T/err")" 'Nope: no incident.io schedule has the id or name "Nope" \(see .oncall-sync schedules.\)' "saying so (fetch-oncall's message)"
run oncall-sync add Weekend
is "$rc" 2 "add of an ambiguous name exits 2"
like "$(cat "$T/err")" 'Weekend: 2 incident.io schedules are named "Weekend" \(01G0J1EXE7WEEKEND00000001, 01G0J1EXE7WEEKEND00000002\): select one by id' \
	"listing the ids"
same_file "$ONCALL_SYNC_CONFIG" "$T/config.before" "the config is untouched by a refused add"

chmod 640 "$ONCALL_SYNC_CONFIG"
run oncall-sync add Support 01G0J1EXE7WEEKEND00000002 TestSchedule
is "$rc" 0 "add by name and by id"
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" \
	'["01G0J1EXE7AXZ2C93K61WBPYEH","Platform","01G0J1EXE7SUPPORT000000000","01G0J1EXE7WEEKEND00000002"]' \
	"ids stored (a name already listed becomes its id)"
is "$(jq -r .name "$ONCALL_SYNC_CONFIG")" test "other fields are kept"
is "$(stat -c %a "$ONCALL_SYNC_CONFIG")" 640 "the config keeps its mode"
like "$(cat "$T/err")" 'already synced: TestSchedule' "a schedule already synced is said so"

run oncall-sync remove Platform Weekend
is "$rc" 0 "remove by name"
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" '["01G0J1EXE7AXZ2C93K61WBPYEH","01G0J1EXE7SUPPORT000000000"]' \
	"removed from the config (the id found through the name)"
like "$(cat "$T/err")" 'removed Weekend \(01G0J1EXE7WEEKEND00000002\): the next sync deletes its StrongDM group' \
	"remove names the schedule, not only its id"
run oncall-sync remove Platform
is "$rc" 2 "remove of a schedule not synced exits 2"

run oncall-sync sync
is "$rc" 0 "sync after add and remove"
like "$(cat "$T/err")" '1 group created, 1 group deleted' "summary counts the new and the retired group"
is "$(ocs_groups)" "Support: bob@example.com
TestSchedule: carlos@example.com deanna@example.com" "the removed schedule's group is retired, the added one made"
is "$(strongdm_sim_state | jq -r '[.groups[] | select(.name == "Admins") | .members[].email] | join(" ")')" \
	"alice@example.com" "an unmanaged group is left alone"

# --- the lock
exec 8>>"$STATE/lock"
flock 8
ONCALL_SYNC_LOCK_WAIT=0.3 run oncall-sync sync
is "$rc" 3 "a sync while another holds the lock exits 3"
like "$(cat "$T/err")" 'a sync is already running \(pid [0-9]+ since .*\); waited 0.3 s' "saying a sync is running"
exec 8>&-
(exec 9>>"$STATE/lock" && flock 9 && exec sleep 60) &
holder=$!
# the holder has the lock once a non-blocking flock of our own fails
for _ in $(seq 1200); do flock -n "$STATE/lock" true || break; sleep 0.05; done
ok "a holder takes the lock" bash -c "! flock -n '$STATE/lock' true"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
ONCALL_SYNC_LOCK_WAIT=2 run oncall-sync sync
is "$rc" 0 "a killed holder leaves no stale lock"

# --- max_changes: too many changes change nothing
jq '.max_changes = 1' "$ONCALL_SYNC_CONFIG" >"$T/c" && mv "$T/c" "$ONCALL_SYNC_CONFIG"
incidentio_sim_advance 8h
run oncall-sync sync
is "$rc" 3 "more changes than max_changes: exit 3"
like "$(cat "$T/err")" 'sync refused by reconcile-groups \(exit 3\), nothing changed: [0-9]+ changes held, more than max_changes' \
	"the summary says why"
is "$(ocs_members TestSchedule)" "carlos@example.com deanna@example.com" "nothing changed"
ok "the held plan is kept" grep -q '"status":"held"' "$STATE/last/changes.ndjson"
jq 'del(.max_changes)' "$ONCALL_SYNC_CONFIG" >"$T/c" && mv "$T/c" "$ONCALL_SYNC_CONFIG"
incidentio_sim_clock 2026-11-29T10:00:00Z

# --- a failing stage: streams kept, status and metrics say so
success1=$(metric oncall_sync_last_success_timestamp_seconds)
incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "status", "status": 403, "count": 100}'
run oncall-sync sync
is "$rc" 1 "a failing fetch makes the sync exit 1"
like "$(cat "$T/err")" 'sync FAILED: every schedule failed \(fetch-oncall exit 1\), no group changed' \
	"the summary says every schedule failed, naming the failing stage"
is "$(ocs_groups)" "Support: bob@example.com
TestSchedule: carlos@example.com deanna@example.com" "the groups are left as they were"
is "$(metric oncall_sync_last_exit_status)" 1 "metric: last exit status 1"
ok "metric: errors counted" test "$(metric oncall_sync_errors)" -ge 1
is "$(metric oncall_sync_last_success_timestamp_seconds)" "$success1" "metric: last success time kept"
ok "the failed run's streams are kept" grep -q '"type":"error"' "$STATE/last/roster.ndjson"
run oncall-sync status
is "$rc" 1 "status exits 1 after a failed sync"
like "$(cat "$T/out")" ': FAILED: every schedule failed \(fetch-oncall exit 1\)' "status shows the failure"
like "$(cat "$T/out")" 'TestSchedule \(incident.io 01G0J1EXE7AXZ2C93K61WBPYEH\)
  group: TestSchedule \(group-[0-9a-f]+\)
  members:
    carlos@example.com \(Carlos, on call until 2026-11-29T17:00:00Z\)
    deanna@example.com \(Deanna, on call until 2026-11-29T17:00:00Z\)
  ERROR in fetch-oncall: .*\[permission_denied\]' "each group with the members StrongDM holds and the error with its code"
like "$(cat "$T/out")" 'its group was left unchanged' "and that the groups were kept"
like "$(cat "$T/out")" "Last successful sync: $(date -u -d "@$success1" +%Y-%m-%dT%H:%M:%SZ)" "and when the last good one was"
incidentio_sim_faults_clear

# --- fetch-oncall failing midway (its stream cut, no end record): the later
# stages refuse the cut input (exit 3) and the wrapper says why, once, from
# the exit statuses
mkdir -p "$T/cut"
for p in match-users reconcile-groups; do ln -sf "$BIN/$p" "$T/cut/$p"; done
printf '#!/bin/sh\ncase "$1" in --check-*) exec "%s" "$@" ;; esac\n"%s" "$@" | grep -v %s\necho "fetch-oncall: stopped midway" >&2\nexit 1\n' \
	"$BIN/fetch-oncall" "$BIN/fetch-oncall" "'\"type\":\"end\"'" >"$T/cut/fetch-oncall"
chmod +x "$T/cut/fetch-oncall"
ONCALL_LIBEXEC=$T/cut run oncall-sync sync
is "$rc" 1 "a cut stream: the sync exits 1"
like "$(cat "$T/err")" 'oncall-sync: match-users and reconcile-groups stopped without acting: their input was cut short because fetch-oncall failed \(exit 1\)' \
	"the later stages' refusal is said once, naming the stage that failed"
like "$(cat "$STATE/last/stderr.log")" 'stopped without acting: .* because fetch-oncall failed' "and kept in stderr.log"
is "$(jq -r '[.failed_stage, .exit_status] | @tsv' "$STATE/last/run.json")" "fetch-oncall	1" \
	"run.json names fetch-oncall"
is "$(ocs_groups)" "Support: bob@example.com
TestSchedule: carlos@example.com deanna@example.com" "no group changed"

# --- a sync stopped by a signal (systemd stopping the unit) is recorded
# the first schedule read is answered after a minute: the sync is stopped
# while the simulator holds it
incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "slow", "delay_ms": 60000, "count": 1}'
setsid oncall-sync sync 2>"$T/int.err" &
pid=$!
for _ in $(seq 1200); do
	[[ -e $STATE/last/roster.ndjson.tmp && $(incidentio_sim_requests | jq .in_flight) -ge 1 ]] && break
	sleep 0.05
done
kill -TERM -- "-$pid"
rc=0
wait "$pid" || rc=$?
is "$rc" 1 "a sync stopped by SIGTERM exits 1"
like "$(cat "$T/int.err")" 'oncall-sync: sync interrupted by a signal' "saying so"
is "$(jq -r .failed_stage "$STATE/last/run.json")" interrupted "run.json records it"
is "$(metric oncall_sync_last_exit_status)" 1 "and so do the metrics"
incidentio_sim_faults_clear

# --- one schedule that cannot be read: the others are still synced
ocs_config '{"schedules": ["01G0J1EXE7AXZ2C93K61WBPYEH", "01G0J1EXE7SUPPORT000000000", "NoSuchSchedule"]}'
incidentio_sim_advance 8h
run oncall-sync sync
is "$rc" 1 "a schedule that cannot be read: exit 1"
like "$(cat "$T/err")" 'synced 2 schedules with errors \(fetch-oncall exit 1\): 2 added, 2 removed, 0 groups created, 0 unmatched, 1 error' \
	"the others are synced, and the summary says so"
is "$(ocs_members TestSchedule)" "alice@example.com bob@example.com" "TestSchedule is synced (17:00: Alice and Bob again)"
run oncall-sync explain bob@example.com
like "$(cat "$T/out")" 'NoSuchSchedule could not be read' "explain mentions the schedule that failed"
run oncall-sync schedules
like "$(cat "$T/out")" 'missing NoSuchSchedule +\(configured, but incident.io has no schedule' \
	"schedules shows a configured schedule incident.io does not know"

# --- no schedule left (the last one removed): a sync retires every managed group
ocs_config '{"schedules": ["TestSchedule"]}'
run oncall-sync remove TestSchedule
is "$rc" 0 "removing the last schedule: exit 0"
like "$(cat "$T/err")" 'no schedule is left; the next sync empties and deletes every group oncall-sync manages' \
	"remove says what the next sync does"
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" "[]" "the config keeps an empty list"
run oncall-sync sync --dry-run
is "$rc" 0 "dry run with no schedule: exit 0"
is "$(jq -r 'select(.type == "change") | "\(.action) \(.group.name // "")"' "$STATE/dry-run/changes.ndjson" | sort | uniq -c | awk '{$1=$1} 1' | paste -sd, -)" \
	"1 delete_group Support,1 delete_group TestSchedule,1 remove Support,2 remove TestSchedule" \
	"the dry run plans emptying and deleting both managed groups"
is "$(ocs_groups | wc -l)" 2 "and changes nothing"
run oncall-sync sync
is "$rc" 0 "a sync with no schedule configured: exit 0"
like "$(cat "$T/err")" 'no schedules: every group oncall-sync manages is emptied and deleted' "saying what it does"
like "$(cat "$T/err")" 'synced 0 schedules: 0 added, 3 removed, 0 groups created, 2 groups deleted' "the summary counts the deletions"
is "$(ocs_groups)" "" "no managed group is left"
run oncall-sync status
is "$rc" 0 "status after retiring every group: exit 0"
like "$(cat "$T/out")" 'deleted' "status shows the deletions"
is "$(strongdm_sim_state | jq -r '[.groups[].name] | join(",")')" "Admins" "the group oncall-sync does not manage stays"
is "$(tail -n 5 "$STATE/audit.ndjson" | jq -r '"\(.action) \(.status)"' | sort | uniq -c | awk '{$1=$1} 1' | paste -sd, -)" \
	"2 delete_group done,3 remove done" "the audit log records the removals and deletions"
run oncall-sync sync
is "$rc/$(jq -r .stats.delete_group "$STATE/last/run.json")" "0/0" "the next sync has nothing left to do"

# --- "instance": this config's groups are tagged, and other instances' stay
ocs_config '{"schedules": ["TestSchedule"], "instance": "emea"}'
run oncall-sync sync
is "$rc" 0 "a sync with an instance: exit 0"
is "$(strongdm_sim_state | jq -r '.groups[] | select(.name == "TestSchedule") | .tags["oncall-sync-instance"]')" "emea" \
	"its group is tagged oncall-sync-instance=emea"
ocs_config '{"schedules": []}'
run oncall-sync sync
is "$rc/$(ocs_groups | cut -d: -f1)" "0/TestSchedule" "the default instance, retiring its groups, leaves emea's alone"

done_testing
