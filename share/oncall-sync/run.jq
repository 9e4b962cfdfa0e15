# run.jq (jq -rn, inputs: [COUNT, EVENT] lines from stats-events.jq | sort |
# uniq -c): the run's record (run.json, one JSON line) and its one-line
# summary. $st: the status of the changes counted (done, or planned in a
# dry run); the other arguments describe the run.
def stats:
reduce inputs as [$n, $ev]
  ({mr: 0, rr: 0, mo: 0, ro: 0, un: 0, e: 0, c: {}};
   if $ev[0] == "mr" or $ev[0] == "rr" then .[$ev[0]] += $n
   elif $ev[0] == "c" then .c[$ev[1]][$ev[2]] += $n
   else .[$ev[0]] += 1 end)
| def n($a; $s): .c[$a][$s] // 0;
def total($s): [.c[][$s] // 0] | add // 0;
{
  schedules: (if .mr > 0 then .mr else .rr end),
  oncall: (if .mr > 0 then .mo else .ro end),
  unmatched: .un,
  errors: (.e + total("failed")),
  error_records: .e,
  rosters_matched: .mr,
  changes: [.c | keys[] as $a | .[$a] | keys[] as $s | {action: $a, status: $s, count: .[$s]}],
  add: n("add"; $st), remove: n("remove"; $st), create_group: n("create_group"; $st),
  delete_group: n("delete_group"; $st), rename_group: n("rename_group"; $st),
  attach_role: n("attach_role"; $st), detach_role: n("detach_role"; $st),
  failed: total("failed"),
  held: total("held")
};
def summary:
def plural($n; $w): "\($n) \($w)\(if $n == 1 then "" else "s" end)";
(if .failed_stage == "interrupted" then
   "sync interrupted by a signal after \(plural(.stats.schedules; "schedule")): \(.stats.add) added, \(.stats.remove) removed, \(plural(.stats.create_group; "group")) created"
 elif .dry_run then
   "dry run of \(plural(.stats.schedules; "schedule")): \(.stats.add) to add, \(.stats.remove) to remove, \(plural(.stats.create_group; "group")) to create"
 elif .exit_status == 3 and .failed_stage == "reconcile-groups" then
   "sync refused by reconcile-groups (exit 3), nothing changed"
   + (if .stats.held > 0 then ": \(.stats.held) changes held, more than max_changes (see last/changes.ndjson)"
      else " (see last/stderr.log)" end)
 elif .exit_status == 0 then
   "synced \(plural(.stats.schedules; "schedule")): \(.stats.add) added, \(.stats.remove) removed, \(plural(.stats.create_group; "group")) created"
 elif .exit_status == 1 and .stats.error_records > 0 and .stats.rosters_matched == 0
   and .stages["reconcile-groups"] <= 1 then
   "sync FAILED: every schedule failed (\(.failed_stage // "oncall-sync") exit 1), no group changed"
 elif .stats.schedules > 0 and .exit_status == 1 then
   "synced \(plural(.stats.schedules; "schedule")) with errors (\(.failed_stage // "oncall-sync") exit 1): \(.stats.add) added, \(.stats.remove) removed, \(plural(.stats.create_group; "group")) created"
 else
   "sync failed (\(.failed_stage // "oncall-sync") exit \(.exit_status)) after \(plural(.stats.schedules; "schedule")): \(.stats.add) added, \(.stats.remove) removed, \(plural(.stats.create_group; "group")) created"
 end)
+ (if .stats.delete_group > 0 then ", \(plural(.stats.delete_group; "group")) \(if .dry_run then "to delete" else "deleted" end)" else "" end)
+ (if .stats.rename_group > 0 then ", \(.stats.rename_group) \(if .dry_run then "to rename" else "renamed" end)" else "" end)
+ (if (.stats.attach_role // 0) + (.stats.detach_role // 0) > 0
   then ", roles: \(.stats.attach_role) \(if .dry_run then "to attach" else "attached" end), \(.stats.detach_role) \(if .dry_run then "to detach" else "detached" end)" else "" end)
+ (if .stats.failed > 0 then ", \(.stats.failed) failed" else "" end)
+ (if .stats.held > 0 and .exit_status != 3 then ", \(.stats.held) held" else "" end)
+ ", \(.stats.unmatched) unmatched, \(plural(.stats.errors; "error")) (\(.duration_seconds * 100 | round / 100) s)";
stats as $stats
| {sync_id: $id, name: $name, config: $config, dry_run: $dry, started_at: $started,
   finished_at: $finished, finished_epoch: $fe, duration_seconds: $dur,
   exit_status: $rc, failed_stage: (if $stage == "" then null else $stage end),
   stages: {"fetch-oncall": $fs, "match-users": $ms, "reconcile-groups": $rs}, stats: $stats}
| tojson, summary
