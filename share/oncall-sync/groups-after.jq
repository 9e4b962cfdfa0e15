# groups-after.jq (jq -cnR, inputs: a run's matched, changes and roster
# streams; $st: status.json before the run, or nothing): each group as
# StrongDM holds it after the run. When reconcile-groups planned in full
# (its stream has an end, not interrupted), its plan is the difference
# between what StrongDM held and what was wanted, so after the run a group
# holds the wanted members minus the adds not done, plus the removes not
# done. Otherwise (a stage failed, a signal) the groups before the run with
# the changes done applied.
(($st[0].groups // []) | map(select(.exists != false or .error))) as $prev
| [inputs | fromjson? | objects | . + {_f: (input_filename | split("/") | last | split(".") | first)}] as $all
| ($all | map(select(._f == "matched" and .type == "roster"))) as $ros
| ($ros | map({key: .schedule.id, value: true}) | from_entries) as $rosid
| ($all | map(select(._f == "changes" and .type == "change"))) as $c
| ($c | map(select(.schedule.id != null)) | group_by(.schedule.id)
   | map({key: .[0].schedule.id, value: .}) | from_entries) as $cby
| ($all | map(select(._f == "changes" and .type == "end")) | last) as $cend
| ($cend != null and (($cend.interrupted // false) | not)) as $complete
| ($prev | map({key: .schedule.id, value: .}) | from_entries) as $old
| def person: {id: .account.id, email: .account.email, name: .name, until: .until}
    | with_entries(select(.value != null));
  def acct: {id: .id, email: .email} | with_entries(select(.value != null));
  def group_of($id): ([$cby[$id][]? | select(.group.id)] | last | .group)
    // $old[$id].group // null;
  def about($r): {unmatched: [$r.oncall[]? | select(has("unmatched"))
                    | {id, name, email, reason, unmatched} | with_entries(select(.value != null))],
                  problems: [$cby[$r.schedule.id][]? | select(.status == "failed" or .status == "held")
                    | {action, status, account, role, code, error} | with_entries(select(.value != null))],
                  roles_changed: [$cby[$r.schedule.id][]?
                    | select((.action == "attach_role" or .action == "detach_role")
                             and (.status == "done" or .status == "planned"))
                    | {action, role: (.role.name // .role.id)}]}
                + (if $r.group then {spec: $r.group} else {} end);
  def old_of($s): if $s.id != null then $old[$s.id] else ([$prev[] | select(.schedule.name == $s.name)] | first) end;
  ($all | map(select(.type == "error")) | unique_by([.schedule.id, .schedule.name, .message])) as $errors
| ([$errors[] | select(.schedule.id != null) | {key: .schedule.id, value: .}] | from_entries) as $errby
| ([$c[] | select(.action == "delete_group" and .status == "done") | .schedule.id] | unique) as $retired
| if $complete then
    [$ros[] | . as $r
     | ($cby[$r.schedule.id] // []) as $rc
     | ([$rc[] | select(.action == "add" and .status != "done") | {key: .account.id, value: true}] | from_entries) as $notadded
     | (($old[$r.schedule.id].members // []) | map({key: .id, value: .}) | from_entries) as $om
     | ([$rc[] | select(.action == "create_group" and .status != "done")] | length > 0) as $nogroup
     | {schedule: $r.schedule, group: group_of($r.schedule.id), exists: ($nogroup | not),
        members: (if $nogroup then [] else
          [$r.oncall[]? | select(.account) | select($notadded[.account.id] | not) | person]
          + [$rc[] | select(.action == "remove" and .status != "done") | .account | acct
             | ($om[.id] // {}) + .]
          | unique_by(.id) end)} + about($r)]
    + [$c[] | select(.action == "delete_group" and .status != "done") | .schedule.id as $id
       | select($rosid[$id] | not)
       | {schedule: .schedule, group: .group, exists: true, retiring: true,
          members: [$cby[$id][]? | select(.action == "remove" and .status != "done") | .account | acct
                    | . as $a | ([$old[$id].members[]? | select(.id == $a.id)] | first // {}) + $a],
          unmatched: [], problems: [$cby[$id][]? | select(.status == "failed" or .status == "held")
            | {action, status, account, code, error} | with_entries(select(.value != null))]}]
  else
    ($old | reduce ($c[] | select(.status == "done")) as $ch (.;
       ($ch.schedule.id) as $id
       | if $ch.action == "create_group" then .[$id] = {schedule: $ch.schedule, group: $ch.group, exists: true, members: []}
         elif $ch.action == "add" then .[$id] |= ((. // {schedule: $ch.schedule, group: $ch.group, exists: true, members: [], partial: true})
           | .members = (.members + [$ch.account | acct] | unique_by(.id)))
         elif $ch.action == "remove" then (if .[$id] then .[$id].members |= map(select(.id != $ch.account.id)) else . end)
         elif $ch.action == "delete_group" then del(.[$id])
         elif $ch.action == "rename_group" and .[$id] then .[$id].group = $ch.group
         else . end))
    | ($ros | map({key: .schedule.id, value: .}) | from_entries) as $rosby
    | [.[]] | map(. as $g | $rosby[$g.schedule.id] as $r
        | $g + (if $r then about($r) else {unmatched: [], problems: []} end))
  end
| (map({key: .schedule.id, value: true}) | from_entries) as $have
| . + [$errors[] | select(.schedule.id as $id | $id == null or ($have[$id] | not))
       | old_of(.schedule) as $o
       | select(.schedule.id != null or $o == null or ($have[$o.schedule.id] | not))
       | (if $o then $o + {unmatched: [], problems: []}
          else {schedule, group: null, exists: null, members: [], unmatched: [], problems: []} end)
         + {error: ({stage, code, message} | with_entries(select(.value != null)))}]
| ($retired | map({key: ., value: true}) | from_entries) as $retiredset
| map(select(.schedule.id as $id | $id == null or ($retiredset[$id] | not) or ($rosid[$id] // false)))
| map(if .error == null and .schedule.id != null and $errby[.schedule.id]
      then . + {error: ($errby[.schedule.id] | {stage, code, message} | with_entries(select(.value != null)))}
      else . end)
| {groups: .,
   retired: [$c[] | select(.action == "delete_group") | {schedule, group, status}]}
