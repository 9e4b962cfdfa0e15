# config.jq (jq -rs): the config file checked: "EMPTY", "MANY N", one
# "ERR field: message" line per problem, or, when it has none, the shell
# assignments (quoted with @sh) of its values: CFG_NAME, CFG_LOOKUP, ...
# (lead and grace: fetch-oncall --check-options checks them).
include "spec";
# The fields a config may hold (besides comments: fields starting with "_").
def known: ["name", "schedules", "user_lookup", "identity_set", "group_prefix", "instance",
  "lead", "grace", "max_changes"];
# Edit distance (Levenshtein), to name the field a misspelt one meant.
def distance($a; $b): ($a | explode) as $s | ($b | explode) as $t
  | reduce range(0; $s | length) as $i ([range(0; ($t | length) + 1)];
      . as $row | reduce range(0; $t | length) as $j ([$i + 1];
        . + [[$row[$j + 1] + 1, .[$j] + 1, $row[$j] + (if $s[$i] == $t[$j] then 0 else 1 end)] | min]))
  | last;
def nearest($f): [known[] | {k: ., d: distance($f | ascii_downcase; .)}] | min_by(.d)
  | if .d <= ([2, ($f | length) / 3 | floor] | max) then .k else null end;
def problems:
if type != "object" then "(top level): must be a JSON object, e.g. {\"schedules\": [\"TestSchedule\"]}"
else
  (keys_unsorted[] | select(startswith("_") | not) | select(. as $f | known | index([$f]) | not)
   | nearest(.) as $n
   | "unknown field \(tojson)\(if $n then " (did you mean \($n | tojson)?)"
      else "; the known fields: \(known | join(", ")) (a field starting with \"_\" is a comment)" end)"),
  (if has("name") and (.name | type) != "string" then "name: must be a string" else empty end),
  (if has("schedules") | not then "schedules: missing (a list of incident.io schedule ids or names; oncall-sync add SCHEDULE fills it)"
   elif (.schedules | type) != "array" then "schedules: must be a list of incident.io schedule ids or names"
   else .schedules | to_entries[] | spec_problems
   end),
  (if (.schedules | type) == "array" then .schedules | spec_conflicts else empty end),
  (if has("user_lookup") and (.user_lookup | IN("email", "identity-alias") | not)
   then "user_lookup: must be \"email\" or \"identity-alias\" (got \(.user_lookup | tojson))" else empty end),
  (if .user_lookup == "identity-alias" and ((.identity_set | type) != "string" or .identity_set == "")
   then "identity_set: required when user_lookup is \"identity-alias\" (the identity set name or id)"
   elif has("identity_set") and (.identity_set | type) != "string" and .identity_set != null
   then "identity_set: must be a string" else empty end),
  (if has("group_prefix") and (.group_prefix | type) != "string" and .group_prefix != null
   then "group_prefix: must be a string" else empty end),
  (if has("instance") and .instance != null
      and ((.instance | type) != "string" or (.instance | test("^[A-Za-z0-9._-]{1,64}$") | not))
   then "instance: must be 1 to 64 letters, digits, \".\", \"_\" or \"-\" (got \(.instance | tojson))" else empty end),
  (("lead", "grace") as $f | select(has($f) and (.[$f] | type | IN("string", "number", "null") | not))
   | "\($f): must be a duration such as \"5m\", \"1h30m\", \"PT15M\" or a number of seconds (got \(.[$f] | tojson))"),
  (if has("max_changes") and .max_changes != null
      and ((.max_changes | type) != "number" or .max_changes < 0 or .max_changes != (.max_changes | floor))
   then "max_changes: must be a whole number, 0 or more (got \(.max_changes | tojson))" else empty end)
end;
def str: if . == null then "" else tostring end;
def vars:
@sh "CFG_NAME=\(.name // "oncall-sync")",
@sh "CFG_LOOKUP=\(.user_lookup // "email")",
@sh "CFG_IDSET=\(.identity_set | str)",
@sh "CFG_PREFIX=\(.group_prefix | str)",
@sh "CFG_INSTANCE=\(.instance | str)",
@sh "CFG_LEAD=\(.lead | str)",
@sh "CFG_GRACE=\(.grace | str)",
@sh "CFG_MAX=\(.max_changes | str)",
"CFG_SCHEDULES=(\(.schedules | map(if type == "object" then .schedule else . end)
  | [to_entries | group_by(.value)[] | min_by(.key)] | sort_by(.key) | map(.value) | @sh))",
@sh "CFG_SPECS=\([.schedules[] | objects | select(has("group") or has("roles"))
  | {key: .schedule, value: ({name: .group, roles: .roles} | with_entries(select(.value != null)))}]
  | if length == 0 then "" else from_entries | tojson end)";
if length == 0 then "EMPTY" elif length > 1 then "MANY \(length)"
else .[0] | [problems] as $p | if $p | length > 0 then $p[] | "ERR " + . else vars end end
