# daemon-next.jq (jq -rnR, a roster stream): its earliest next_change as
# "EPOCH<TAB>TIME<TAB>NAME<TAB>ID" (EPOCH rounded up to the second; NAME and
# ID as JSON strings, so that a name from incident.io cannot forge a log
# line); nothing when no roster has one.
def epoch: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (if test("\\.[0-9]*[1-9][0-9]*Z$") then 1 else 0 end);
[inputs | fromjson? | objects | select(.type == "roster" and (.next_change | type) == "string")
 | (.next_change | epoch?) as $e | select($e != null) | . + {_e: $e}]
| if length == 0 then empty else min_by(._e)
  | "\(._e)\t\(.next_change)\t\(.schedule.name // .schedule.id // "?" | tostring | tojson)\t\(.schedule.id // "" | tostring | tojson)" end
