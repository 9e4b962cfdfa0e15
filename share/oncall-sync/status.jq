# status.jq (jq -rRs, status.json as text): the text of `oncall-sync
# status`; $now (Unix time), $prefix (group_prefix), $dir (the streams).
# Every string is escaped (esc_raw): names, emails and messages come from
# outside.
include "esc";
($prefix | esc) as $prefix | esc_raw | fromjson
| .run as $r
| def n($k; $w): "\($k) \($w)\(if $k == 1 then "" else "s" end)";
  def ago($t): ($now - $t) as $d
    | if $d < 90 then "\($d) s ago" elif $d < 5400 then "\($d / 60 | floor) min ago"
      elif $d < 172800 then "\($d / 3600 | floor) h ago" else "\($d / 86400 | floor) days ago" end;
  def until($p): if $p.until then ", on call until \($p.until)" else "" end;
  def stage: $r.failed_stage // "oncall-sync";
  ($r.stats // {}) as $st
| def outcome:
    if $r.refused then "REFUSED (exit \($r.exit_status)), nothing changed: \($r.message // "see the messages")"
    elif $r.failed_stage == "interrupted" then
      ([$st.add, $st.remove, $st.create_group, $st.delete_group, $st.rename_group] | map(. // 0) | add) as $made
      | "INTERRUPTED by a signal: \(n($made; "change")) made before it stopped"
    elif $r.dry_run then
      "a dry run\(if $r.exit_status != 0 then " that FAILED (\(stage) exit \($r.exit_status))" else "" end): "
      + ([(if ($st.add // 0) > 0 then "\(n($st.add; "member")) would be added" else empty end),
          (if ($st.remove // 0) > 0 then "\(n($st.remove; "member")) would be removed" else empty end),
          (if ($st.create_group // 0) > 0 then "\(n($st.create_group; "group")) would be created" else empty end),
          (if ($st.delete_group // 0) > 0 then "\(n($st.delete_group; "group")) would be deleted" else empty end),
          (if ($st.rename_group // 0) > 0 then "\(n($st.rename_group; "group")) would be renamed" else empty end)]
         | if length == 0 then "nothing would change" else join(", ") end)
      + " (nothing was changed)"
    elif $r.exit_status == 0 then "ok"
    elif $r.exit_status == 3 and ($st.held // 0) > 0 then "HELD (exit 3): \(n($st.held; "change")) held, more than max_changes; nothing changed"
    elif $r.exit_status == 3 then "REFUSED by \(stage) (exit 3), nothing changed"
    elif $r.exit_status == 1 and ($st.error_records // 0) > 0 and ($st.rosters_matched // 1) == 0
         and (($r.stages // {})["reconcile-groups"] // 9) <= 1 then "FAILED: every schedule failed (\(stage) exit 1); no group changed"
    elif $r.exit_status == 1 and ($st.schedules // 0) > 0 then "FAILED in part (\(stage) exit 1): the other schedules were synced"
    else "FAILED (\(stage) exit \($r.exit_status))" end;
"Last sync: \($r.finished_at) (\(ago($r.finished_epoch))), took \($r.duration_seconds) s: \(outcome)",
(if $r.refused then empty else
  "  \(n($st.schedules // 0; "schedule")), \($st.add // 0) \(if $r.dry_run then "to add" else "added" end), \($st.remove // 0) \(if $r.dry_run then "to remove" else "removed" end), \(n($st.create_group // 0; "group")) \(if $r.dry_run then "to create" else "created" end), \($st.delete_group // 0) \(if $r.dry_run then "to delete" else "deleted" end), \($st.unmatched // 0) unmatched, \(n($st.errors // 0; "error"))",
  "  streams in \($dir)/" end),
(if $r.exit_status != 0 or $r.dry_run then "  the members below are as StrongDM holds them after this run" else empty end),
"",
(.groups as $all | .groups[] | . as $me
 | "\(.schedule.name // .schedule.id // "?")\(if .schedule.id then " (incident.io \(.schedule.id))" else "" end)",
   (if .group then "  group: \(.group.name // "?")\(if .group.id then " (\(.group.id))" else "" end)"
    elif .spec.name then "  group: \(.spec.name)"
    elif .exists == false then "  group: none yet"
    elif .error then empty
    else "  group: \($prefix + (.schedule.name // ""))" end),
   (if .spec.name then ([$all[] | select(.schedule.id != $me.schedule.id
        and ((.spec.name // "") | ascii_downcase) == ($me.spec.name | ascii_downcase)) | .schedule.name]
      | if length > 0 then "  shared with: \(join(", ")) (one group, their people together)" else empty end)
    else empty end),
   ((if .spec.name then [$all[] | select(((.spec.name // "") | ascii_downcase) == ($me.spec.name | ascii_downcase))
       | .spec.roles // empty] | first else .spec.roles end) as $roles
    | if $roles then "  roles (from the config): \(if ($roles | length) == 0 then "none" else $roles | join(", ") end)"
      else empty end),
   ((.roles_changed // []) | if length > 0 then "  roles changed: \(map("\(if .action == "attach_role" then "attached" else "detached" end) \(.role)") | join(", "))"
    else empty end),
   (if .exists == false then "  members: none (the group does not exist yet)"
    elif .error and .exists == null then "  members: unknown (never read)"
    elif (.members | length) == 0 then "  members: none"
    else "  members:", (.members[] | "    \(.email // .id) (\(.name // .id)\(until(.)))") end),
   (if (.unmatched | length) > 0 then "  unmatched (on call, not in the group):",
      (.unmatched[] | "    \(.name // .id) <\(.email // "no email")>: \(.unmatched)\(if .reason then " [\(.reason)]" else "" end)")
    else empty end),
   (if (.problems | length) > 0 then "  problems:",
      (.problems[] | "    \(.action) \(.account.email // .account.id // .role.name // .role.id // "") \(.status)\(if .error then ": " + (.error | tostring) else "" end)\(if .code then " [\(.code)]" else "" end)")
    else empty end),
   (if .error then "  ERROR in \(.error.stage // "?"): \(.error.message)\(if .error.code then " [\(.error.code)]" else "" end)",
      "  its group was left unchanged" else empty end),
   ""),
((.retired // []) | if length > 0 then "\(if $r.dry_run then "Groups to retire" else "Retired groups" end) (schedule no longer synced):",
   (.[] | "  \(.group.name // .group.id) (\(if .status == "done" then "deleted" else .status end))"), "" else empty end),
(if $r.exit_status != 0 or $r.dry_run then
   (if .last_success_at then "Last successful sync: \(.last_success_at)" else "No successful sync recorded." end)
 else empty end)
