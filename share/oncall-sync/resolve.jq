# resolve.jq (jq -rnR, fetch-oncall -s ARG... on stdin; the ARGs after
# --args): what fetch-oncall made of each ARG, a line each:
# "ok<TAB>ID" for the schedule it found (by id, or exact
# name), "error<TAB>ARG: MESSAGE" for one it refused (not found, ambiguous);
# nothing for an ARG the stream does not name (incident.io not read).
# Text from outside is escaped.
include "esc";
[inputs | fromjson? | objects | select(.type == "roster" or .type == "error")] as $r
| $ARGS.positional[] as $a
| (first($r[] | select(.schedule.id == $a or .schedule.name == $a)) // null) as $rec
| if $rec == null then empty
  elif $rec.type == "roster" then "ok\t\($rec.schedule.id | esc)"
  else "error\t\($a | esc): \($rec.message | esc)" end
