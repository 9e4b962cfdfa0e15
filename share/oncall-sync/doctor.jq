# doctor.jq (jq -rnR, fetch-oncall's roster stream, or match-users' matched
# stream): the doctor's lines on each configured schedule and who is on
# call on it: "ok    ", "warn  " or "FAIL  " and a finding, then the advice
# indented, by the records' codes and reasons (hints.jq). $cfg: the
# configured schedule values (a schedule stored by name is pointed out);
# $lookup, $idset, $config, $prog: the config's user_lookup and
# identity_set, its file, the wrapper's name. Text from outside is escaped.
include "esc";
include "hints";
def line($kind): {ok: "ok    ", warn: "warn  ", fail: "FAIL  "}[$kind] + .;
def hint: "      " + .;
inputs | fromjson? | objects
| if .type == "roster" then
    (.schedule.name // .schedule.id | esc) as $s
    | ("schedule \($s) (\(.schedule.id | esc))" | line("ok")),
      (if (.schedule.id | IN($cfg[]) | not) and (.schedule.name | IN($cfg[])) then
         ("stored by name: if it is renamed in incident.io the sync loses it;",
          "'\($prog) add \"\($s)\"' stores its id instead") | hint
       else empty end),
      (if (.oncall | length) == 0 then "\($s): nobody on call now (its group will be empty)" | line("warn")
       else "\($s): on call now: \([.oncall[] | (.account.email // .email // .name // .id | esc)] | join(", "))" | line("ok") end),
      (.oncall[] | select(has("unmatched")) | (if unmatched_fault then "fail" else "warn" end) as $kind
       | ("unmatched: \(.name // "?" | esc) <\(.email // "no email" | esc)> (incident.io \(.id | esc)) on \($s): \(.unmatched | esc)"
          | line($kind)),
         (((unmatched_hint($lookup; $idset; $prog) | esc),
           "they are on call on \($s) now; once matched they join its group at the next sync") | hint))
  elif .type == "error" then
    ("schedule \(.schedule.name // .schedule.id // "?" | esc): \(.message | esc)" | line("fail")),
    ((if .stage == "match-users" then "strongdm" else "incidentio" end) as $api
     | .code // "" | api_hint($api; $config; $prog) | hint)
  else empty end
