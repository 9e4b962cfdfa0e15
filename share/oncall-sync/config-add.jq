# config-add.jq (jq, the config): the config with the schedules $ids (their
# ids, resolved by fetch-oncall) added, each with the group spec $spec (or
# null: the short form, an id). A schedule already listed, by its id or by
# its name ($names[id]), is replaced in place.
def ref: if type == "object" then .schedule else . end;
reduce $ids[] as $id (.;
  $names[$id] as $name
  | (if $spec == null then null else {schedule: $id} + $spec end) as $new
  | if any(.schedules[]; ref == $id or ref == $name)
    then .schedules |= map(if ref == $id or ref == $name
                           then ($new // (if type == "object" then .schedule = $id else $id end))
                           else . end)
    else .schedules += [$new // $id] end)
