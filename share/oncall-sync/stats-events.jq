# stats-events.jq (jq -cnR, the kept streams as inputs): each record of a
# run's streams as small events, one a line, for sort | uniq -c to count
# (jq 1.6 copies a growing reduce state at every step: sets of ids are not
# built in jq). Memory: sort's, bounded. run.jq adds the counts up.
inputs | fromjson? | objects
| (input_filename | split("/") | last | split(".") | first) as $f
| (if .type == "roster" and $f == "matched" then
     ["mr"], (.oncall[]? | objects | ["mo", (.id | tostring)], (select(has("unmatched")) | ["un", (.id | tostring)]))
   elif .type == "roster" and $f == "roster" then
     ["rr"], (.oncall[]? | objects | ["ro", (.id | tostring)])
   elif .type == "change" and $f == "changes" then
     ["c", (.action | tostring), (.status | tostring)]
   else empty end),
  (if .type == "error" then
     ["e", ([.stage, (.schedule | if type == "object" then .id else null end),
             (.schedule | if type == "object" then .name else null end), .message] | tojson)]
   else empty end)
