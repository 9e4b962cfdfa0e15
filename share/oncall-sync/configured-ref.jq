# configured-ref.jq (jq -rn, fetch-oncall -s on the configured schedules on
# stdin; the configured values after --args): the configured value that
# names the schedule $a (its id or exact name, as fetch-oncall found the
# configured schedules); nothing when none does, or several.
[inputs | select(.type == "roster") | .schedule | select(.id == $a or .name == $a)] as $hits
| [$ARGS.positional[] as $c | select(any($hits[]; .id == $c or .name == $c)) | $c] | unique
| if length == 1 then .[0] else empty end
