# schedules.jq (jq -rnR, fetch-oncall --list): the table of `oncall-sync
# schedules`; $cfg: the configured schedules (ids or names), marked "yes",
# and "missing" when incident.io has no such schedule.
include "esc";
[inputs | fromjson? | objects | select(.type == "schedule")
 | .name |= esc | .id |= esc | .timezone |= (if . then esc else . end)]
| sort_by(.name | ascii_downcase) as $s
| ([$s[].id | length] + [2] | max) as $wi | ([$s[].name | length] + [4] | max) as $wn
| def pad($n): . + (" " * ([$n - length, 0] | max));
  ($cfg | map({key: ., value: true}) | from_entries) as $want
| ([$s[] | .id, .name] | map({key: ., value: true}) | from_entries) as $known
| def synced: $want[.id] or $want[.name];
("SYNCED  " + ("ID" | pad($wi)) + "  " + ("NAME" | pad($wn)) + "  TIMEZONE"),
($s[] | (if synced then "yes     " else "        " end) + (.id | pad($wi)) + "  "
        + (.name | pad($wn)) + "  " + (.timezone // "")),
($cfg[] | select($known[.] | not) | esc
 | "missing " + (. | pad($wi)) + "  (configured, but incident.io has no schedule with this id or name)")
