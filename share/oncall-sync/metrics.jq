# metrics.jq (jq -r, run.json as input): metrics.prom in node_exporter's
# textfile format. $prev: the previous counters, lines "action status value";
# $last_success: when the last successful sync finished (Unix time).
def help($n; $t; $h): "# HELP \($n) \($h)\n# TYPE \($n) \($t)";
($prev | split("\n") | map(select(length > 0) | split(" ") | {key: "\(.[0]) \(.[1])", value: (.[2] | tonumber)})
 | from_entries) as $old
| (.stats.changes | map({key: "\(.action) \(.status)", value: .count}) | from_entries) as $now
| ([["create_group","rename_group","add","remove","delete_group","attach_role","detach_role"][] as $a | ["done","failed","held"][] as $s | "\($a) \($s)"]
   + ($old | keys) + ($now | keys) | unique) as $keys
| def lbl($k): ($k | split(" ")) as $p | "{action=\"\($p[0])\",status=\"\($p[1])\"}";
[
 help("oncall_sync_last_run_timestamp_seconds"; "gauge"; "When the last sync finished (Unix time)."),
 "oncall_sync_last_run_timestamp_seconds \(.finished_epoch)",
 help("oncall_sync_last_success_timestamp_seconds"; "gauge"; "When the last sync that ended with exit status 0 finished (Unix time)."),
 "oncall_sync_last_success_timestamp_seconds \($last_success)",
 help("oncall_sync_last_run_duration_seconds"; "gauge"; "How long the last sync took."),
 "oncall_sync_last_run_duration_seconds \(.duration_seconds)",
 help("oncall_sync_last_exit_status"; "gauge"; "Exit status of the last sync: 0 done, 1 failed, 2 configuration, 3 refused for safety."),
 "oncall_sync_last_exit_status \(.exit_status)",
 help("oncall_sync_schedules"; "gauge"; "Schedules read in the last sync."),
 "oncall_sync_schedules \(.stats.schedules)",
 help("oncall_sync_oncall_people"; "gauge"; "People on call on the synced schedules at the last sync."),
 "oncall_sync_oncall_people \(.stats.oncall)",
 help("oncall_sync_unmatched_people"; "gauge"; "People on call who match no StrongDM user (see oncall-sync doctor)."),
 "oncall_sync_unmatched_people \(.stats.unmatched)",
 help("oncall_sync_errors"; "gauge"; "Schedules that failed and group changes that failed in the last sync."),
 "oncall_sync_errors \(.stats.errors)",
 help("oncall_sync_last_run_changes"; "gauge"; "Group changes in the last sync, by action and status."),
 ($keys[] | "oncall_sync_last_run_changes\(lbl(.)) \($now[.] // 0)"),
 help("oncall_sync_changes_total"; "counter"; "Group changes since the metrics file was created, by action and status."),
 ($keys[] | "oncall_sync_changes_total\(lbl(.)) \(($old[.] // 0) + ($now[.] // 0))")
] | join("\n")
