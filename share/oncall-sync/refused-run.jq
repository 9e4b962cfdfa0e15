# refused-run.jq (jq -cn): the run record of a sync that ended before its
# pipeline ran (a refused config or key, a missing program, a state
# directory it cannot use), with its message ($msg).
{sync_id: $id, name: null, config: $config, dry_run: $dry, started_at: $started,
 finished_at: $finished, finished_epoch: $fe, duration_seconds: 0, exit_status: $rc,
 failed_stage: "oncall-sync", refused: true, message: $msg, stages: {},
 stats: {schedules: 0, oncall: 0, unmatched: 0, errors: 0, error_records: 0, rosters_matched: 0,
         changes: [], add: 0, remove: 0, create_group: 0, delete_group: 0, rename_group: 0,
         failed: 0, held: 0}}
