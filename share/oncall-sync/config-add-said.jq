# config-add-said.jq (jq -r, the config's schedules before an add): what the
# add did to each schedule $ids (their names in $names, $spec the group spec
# or null), a line each; then a note when a name became an id ($after:
# the schedules after). Names are escaped.
include "esc";
. as $before
| def ref: if type == "object" then .schedule else . end;
  ($spec | if . == null then null else tojson | esc end) as $s
| ($ids[] as $id
   | "\($names[$id] | esc) (\($id | esc))" as $l
   | if any($before[]; ref == $id or ref == $names[$id]) then
       if $s then "\($l): its group spec is now \($s)" else "already synced: \($l)" end
     elif $s then "added \($l) with the group spec \($s): the next sync makes its group so"
     else "added \($l): its group is created at the next sync" end),
(if $before != $after then "schedules are stored by id, so renaming one in incident.io renames its group" else empty end)
