# doctor-last.jq (jq -r, a run record: run.json, or status.json's run): the
# doctor's line on the last sync; $now (Unix time), $prog.
($now - .finished_epoch) as $age
| "last sync \(.finished_at) (\($age / 60 | floor) min ago): exit status \(.exit_status)\(if .failed_stage then " (" + .failed_stage + ")" else "" end)"
| if $age > 2700 and .exit_status == 0 then "warn  \(.): is the timer or cron job running?"
  elif .exit_status != 0 then "warn  \(.): see '\($prog) status'"
  else "ok    \(.)" end
