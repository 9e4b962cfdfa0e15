# explain.jq (jq -rnR, inputs: the last sync's matched and changes streams
# and audit.ndjson): why $who (an email, name, incident.io id or StrongDM
# account id) is or is not in which group. $run[0]: its run.json; $prefix:
# the config's group_prefix; $lookup, $idset: its user_lookup and
# identity_set; $prog: the wrapper's name. Every string is escaped (esc_raw).
include "esc";
include "hints";
$run[0] as $r | ($prefix | esc) as $prefix | ($idset | esc) as $set
| ($who | ascii_downcase | gsub("^\\s+|\\s+$"; "")) as $w
| [inputs | esc_raw | fromjson? | objects | . + {_f: (input_filename | split("/") | last | split(".") | first)}] as $all
| ($all | map(select(._f == "matched" and .type == "roster"))) as $m
| ($all | map(select(._f == "changes" and .type == "change"))) as $c
| ($all | map(select(._f == "audit" and .type == "change"))) as $audit
| ($all | map(select(.type == "error")) | unique_by([.schedule.id, .message])) as $e
| def me: ((.email // "") | ascii_downcase) == $w or ((.id // "") | ascii_downcase) == $w
          or ((.name // "") | ascii_downcase) == $w
          or ((.account.id // "") | ascii_downcase) == $w
          or ((.account.email // "") | ascii_downcase) == $w;
  def acct: (.account.email // .account.id // "") | ascii_downcase;
  # why an unmatched person is: their reason and what to do (hints.jq)
  def why($x): "(\($x.reason // "no reason code")) \([$x | unmatched_hint($lookup; $set; $prog)] | join(" "))";
  ($c | map(select(.group and .schedule.id) | {key: .schedule.id, value: .group.name}) | from_entries) as $gname
| def group($ros): $ros.group.name // $gname[$ros.schedule.id] // ($prefix + $ros.schedule.name);
  def roles($ros): if $ros.group.roles and ($ros.group.roles | length) > 0
    then "; through it the roles \($ros.group.roles | join(", "))" else "" end;
($m | map({ros: ., x: (.oncall | map(select(me)) | first)})) as $rows
| ($rows | map(select(.x == null))) as $off
| ([$rows[].x | select(. != null)] | first) as $p
| "\($who | esc) at the last sync (\($r.finished_at)\(if $r.exit_status != 0 then ", which FAILED" else "" end)):",
  (if $p then "  incident.io user \($p.name // "?") (\($p.id))\(if $p.account then ", StrongDM account \($p.account.id) <\($p.account.email // "")>" else "" end)" else empty end),
($rows[] | select(.x != null) | .ros as $ros | .x as $x
 | group($ros) as $g
 | if $x.account then
     ([$c[] | select(.schedule.id == $ros.schedule.id and .action == "add" and (acct) == ($x.account.email // $x.account.id | ascii_downcase))][-1]) as $ch
     | if $ch and $ch.status != "done" and $ch.status != "planned" then
         "  NOT in \"\($g)\": on call on \($ros.schedule.name), but adding them \($ch.status)\(if $ch.error then ": " + ($ch.error | tostring) else "" end)"
       else
         "  in \"\($g)\": on call on \($ros.schedule.name)\(if $x.until then " until \($x.until)" else "" end), matched to StrongDM account \($x.account.id)\(roles($ros))"
       end
   else
     "  NOT in \"\($g)\": on call on \($ros.schedule.name), but no StrongDM user matched: \($x.unmatched)",
     "    \(why($x))"
   end),
(if ($off | length) == 0 then empty
 elif ($off | length) <= 5 then
   ($off[] | "  NOT in \"\(group(.ros))\": not on call on \(.ros.schedule.name) (the group holds only who is on call now)")
 elif $p == null then
   "  NOT in any of the \($off | length) groups: not on call on any synced schedule"
 else
   "  NOT in the \($off | length) other groups: not on call on their schedules (\($off[:3] | map(.ros.schedule.name) | join(", ")), ...)"
 end),
($e[] | "  \(.schedule.name // .schedule.id // "a schedule") could not be read (\(.code // "failed"): \(.message)): its group was left as it was, whoever is in it"),
(if $p == null and ([$audit[] | select(me)] | length) == 0 then
   "  never added to or removed from a group by oncall-sync",
   "  (a name must be written as in incident.io; try their email, or their incident.io id)"
 else empty end),
([$audit[] | select(me)] | .[-5:] | if length > 0 then "  recent group changes (audit.ndjson):",
  (.[] | "    \(.at) \(.action) \(.group.name // .schedule.name) \(.status)") else empty end)
