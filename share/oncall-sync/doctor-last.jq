# doctor-last.jq (jq -r, a run record: run.json, or status.json's run): the
# doctor's line on the last sync; $now (Unix time), $prog.
($now - .finished_epoch) as $age
| "last sync \(.finished_at) (\($age / 60 | floor) min ago): exit status \(.exit_status)\(if .failed_stage then " (" + .failed_stage + ")" else "" end)" as $l
| if .exit_status != 0 then "warn  \($l): see '\($prog) status'"
  elif $age > 2700 then "warn  \($l): is the timer or cron job running?"
  else "ok    \($l)" end
