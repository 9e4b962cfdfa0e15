# audit.jq (jq -cR, a change stream): the done and failed change records, for
# audit.ndjson, with "at" ($at, or the moment each record is read when $at
# is "") and "sync_id" ($id).
fromjson? | objects | select(.type == "change" and (.status == "done" or .status == "failed"))
| . + {at: (if $at == "" then now | todate else $at end), sync_id: $id}
