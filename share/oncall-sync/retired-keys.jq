# retired-keys.jq (jq -r, the config; $rm: the schedules being removed): the
# groups that removing them retires (no schedule left in the config names
# them), as "SCHEDULE<TAB>KEY" lines; KEY is reconcile-groups' (a schedule
# id, or group:NAME for a spec's group); "-" when the schedule id is not
# known without incident.io.
def ref: if type == "object" then .schedule else . end;
def gname: if type == "object" then .group else null end;
.schedules as $all
| [$all[] | select(ref as $r | $rm | index([$r]) | not)] as $kept
| [$all[] | select(ref as $r | $rm | index([$r]))
   | gname as $g
   | if $g == null then "\(ref)\t\(if ref | test("^[0-9A-Z]{26}$") then ref else "-" end)"
     elif any($kept[]; (gname // "" | ascii_downcase) == ($g | ascii_downcase)) then empty
     else "\(ref)\tgroup:\($g | gsub("[^A-Za-z0-9 +=._:/@-]"; "_") | .[0:256])" end]
| unique[]
