# spec-stage.jq (jq -c, between match-users and reconcile-groups when the
# config has group specs; $all[0]: the specs by schedule id or name): each
# roster and error record gets its schedule's spec as "group" ({"name"?,
# "roles"?}, found by schedule id, else name); every other line passes as
# it is.
$all[0] as $specs
| if (.type == "roster" or .type == "error") and (.schedule | type) == "object" then
  (($specs[.schedule.id | strings] // $specs[.schedule.name | strings]) // null) as $g
  | if $g then . + {group: $g} else . end
else . end
