# spec.jq: an entry of the config's "schedules" (a schedule id or name, or a
# group spec {"schedule", "group"?, "roles"?}): its problems, one line each
# naming the entry and the field (spec_problems, on {key, value}); and the
# problems between entries (spec_conflicts, on the list): schedules sharing
# a group list the same roles or none; a schedule twice with different specs.
def blank: type != "string" or test("^\\s*$|[\\n\\r]");
def spec_problems:
  .key as $k | .value as $v | "schedules[\($k)]" as $at
  | if ($v | type) == "string" then
      (if $v | blank then "\($at): must be a non-empty schedule id or name (got \($v | tojson))" else empty end)
    elif ($v | type) == "object" then
      (($v | keys_unsorted - ["schedule", "group", "roles"])[]
       | "\($at).\(.): unknown field (a group spec has \"schedule\", \"group\" and \"roles\")"),
      (if $v.schedule | blank
       then "\($at).schedule: must be a non-empty schedule id or name (got \($v.schedule | tojson))" else empty end),
      (if $v.group != null and ($v.group | blank)
       then "\($at).group: must be a non-empty StrongDM group name (got \($v.group | tojson))" else empty end),
      (if $v.roles == null then empty
       elif ($v.roles | type) != "array"
       then "\($at).roles: must be a list of StrongDM role names or ids (got \($v.roles | tojson))"
       else $v.roles | to_entries[] | select(.value | blank)
         | "\($at).roles[\(.key)]: must be a non-empty role name or id (got \(.value | tojson))" end)
    else "\($at): must be a schedule id or name, or a group spec {\"schedule\": …, \"group\": …, \"roles\": […]} (got \($v | tojson))"
    end;
def spec_conflicts:
  ([to_entries[] | select(.value | type == "object" and (.group | type) == "string"
                          and (.roles | type) == "array")
    | {k: .key, g: .value.group, r: (.value.roles | unique)}]
   | group_by(.g | ascii_downcase)[] | .[0] as $first | .[1:][] | select(.r != $first.r)
   | "schedules[\($first.k)] and schedules[\(.k)] give group \(.g | tojson) different roles (\($first.r | tojson) and \(.r | tojson)): schedules sharing a group list the same roles or none"),
  ([to_entries[] | {k: .key, s: (if .value | type == "object" then .value.schedule else .value end),
                    spec: (if .value | type == "object"
                           then {group: .value.group, roles: (.value.roles | if type == "array" then unique else . end)}
                                | with_entries(select(.value != null)) else {} end)}
    | select(.s | type == "string")]
   | group_by(.s)[] | .[0] as $first | .[1:][] | select(.spec != $first.spec)
   | "schedules[\($first.k)] and schedules[\(.k)] name schedule \(.s | tojson) with different group specs");
