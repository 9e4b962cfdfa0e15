# changes.jq (jq -rR, a change stream): one line per change record,
# "  + alice@example.com -> TestSchedule (done)", names escaped.
include "esc";
fromjson? | objects | select(.type == "change")
| ({add: "+", remove: "-", create_group: "new group", delete_group: "delete group",
    rename_group: "rename group", adopt_group: "adopt group",
    release_group: "release group"}[.action] // .action | esc) as $verb
| (.account.email // .account.id // "" | esc) as $who
| (.role.name // .role.id // "" | esc) as $role
| (.group.name // .schedule.name | esc) as $g
| if .action == "add" then "  + \($who) -> \($g)"
  elif .action == "remove" then "  - \($who) <- \($g)"
  elif .action == "attach_role" then "  + role \($role) -> \($g)"
  elif .action == "detach_role" then "  - role \($role) <- \($g)"
  else "  \($verb) \($g)" end
  + " (\(.status | esc)\(if .error then ": " + (.error | tostring | esc) else "" end))"
