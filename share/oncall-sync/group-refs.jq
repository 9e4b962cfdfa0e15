# group-refs.jq (jq -r, the config; $r: a configured schedule): the
# schedules whose records make its group, a line each: the schedule, or
# every schedule of its group spec's group (names compared ignoring case).
def ref: if type == "object" then .schedule else . end;
def gname: if type == "object" then .group // null else null end;
([.schedules[] | select(ref == $r)][0] | gname) as $g
| [if $g == null then $r
   else .schedules[] | select((gname // "" | ascii_downcase) == ($g | ascii_downcase)) | ref end]
| unique[]
