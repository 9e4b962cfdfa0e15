#!/usr/bin/env bash
# The README's debugging recipes, pasted as they are written: `eval
# "$(oncall-sync env)"` gives the programs the wrapper's keys and endpoints
# (file names, never a key), so `reconcile-groups --dry-run --prune <
# last/matched.ndjson` works; the jq one-liner that writes a hand-edited
# stream's end record again; `scripts/demo --keep` (make sandbox) leaves the
# simulators running with the exports that reach them.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
ocs_start_sims
STATE=$ONCALL_SYNC_STATE_DIR

# The keys where an installation keeps them: beside the config, no variable.
cp "$T/keys/"* "$T/"
unset INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY_FILE SDM_API_SECRET_KEY_FILE
ocs_config '{"schedules": ["TestSchedule", "Platform"]}'
run oncall-sync sync
is "$rc" 0 "a sync with the keys beside the config"

# The README's debugging block: its eval line and its reconcile-groups line.
block=$(awk '/^## Debugging with the kept streams/ { f = 1; next } f && /^## / { exit } f' "$ROOT/README.md")
# shellcheck disable=SC2016 # the README line, literally
eval_line=$(grep -m 1 '^eval "$(oncall-sync env)"$' <<<"$block" || true)
dry_line=$(grep -m 1 '^reconcile-groups --dry-run --prune < last/matched.ndjson$' <<<"$block" || true)
ok "the README shows the eval line" test -n "$eval_line"
ok "and the dry run of the kept stream" test -n "$dry_line"

(cd "$STATE" && bash -c "$dry_line") >"$T/out" 2>"$T/err" && rc=0 || rc=$?
is "$rc" 2 "without the exports reconcile-groups has no keys (exit 2)"
(cd "$STATE" && bash -c "set -e; $eval_line; $dry_line") >"$T/out" 2>"$T/err" && rc=0 || rc=$?
is "$rc" 0 "with them the README's recipe works as pasted"
is "$(tail -n 1 "$T/out" | jq -r '"\(.type) \(.stage)"')" "end reconcile-groups" "a complete plan"
is "$(jq -r 'select(.type == "change") | .status' "$T/out" | sort -u)" "" "nothing to change right after a sync"

run oncall-sync env
is "$rc" 0 "oncall-sync env: exit 0"
like "$(cat "$T/out")" "export SDM_API_SECRET_KEY_FILE=$T/sdm-api-secret-key" "names the key file beside the config"
like "$(cat "$T/out")" "export SDM_API_HOST=http://127.0.0.1:[0-9]+" "and the endpoint"
ok "never a key" bash -c "! grep -qF -e '$(cat "$T/sdm-api-secret-key")' -e '$(cat "$T/incident-api-key")' '$T/out'"
like "$(cat "$T/out")" '# oncall-sync runs: fetch-oncall -s TestSchedule -s Platform \| match-users --by email \| reconcile-groups --prune' \
	"and says how the wrapper runs the programs"

# A hand edit: drop a schedule from the matched stream; the end count is
# now wrong and the stream refused; the README's jq writes it again.
jq -c 'select(.type != "roster" or .schedule.name != "Platform")' "$STATE/last/matched.ndjson" >"$T/edited.ndjson"
eval "$(oncall-sync env)"
run reconcile-groups --dry-run <"$T/edited.ndjson"
is "$rc" 3 "an edited stream with the old end count is refused"
fix=$(awk '/write the `end` again/ { f = 1 } f && /^```sh$/ { g = 1; next } g && /^```$/ { exit } g' "$ROOT/README.md")
like "$fix" '^jq -cs ' "the README gives the jq that rewrites the end"
(cd "$T" && bash -c "$fix") && rc=0 || rc=$?
is "$rc" 0 "the README's jq runs as pasted"
is "$(tail -n 1 "$T/fixed.ndjson")" '{"type":"end","stage":"match-users","records":1}' "the end counts the records left"
run reconcile-groups --dry-run <"$T/fixed.ndjson"
is "$rc" 0 "and the stream is accepted again"

# --- make sandbox: scripts/demo --keep
incidentio_sim_stop
strongdm_sim_stop
TMPDIR=$T run "$ROOT/scripts/demo" --keep
is "$rc" 0 "scripts/demo --keep: exit 0"
sandbox=$(find "$T" -maxdepth 1 -name 'oncall-sync-demo.*' | head -n 1)
ok "leaves its directory" test -d "$sandbox"
read -r pid1 pid2 <"$sandbox/pids" || true
TAP_CLEANUP_HOOK="kill ${pid1:-} ${pid2:-} 2>/dev/null || true"
ok "the incident.io simulator is running" kill -0 "$pid1"
ok "the StrongDM simulator is running" kill -0 "$pid2"
like "$(cat "$T/out")" "  \\. $sandbox/env" "says how to use it"
like "$(cat "$T/out")" "Stop it: kill $pid1 $pid2" "and how to stop it"
(
	unset ONCALL_SYNC_CONFIG ONCALL_SYNC_STATE_DIR SDM_API_HOST INCIDENT_API_URL
	. "$sandbox/env"
	oncall-sync status
) >"$T/st" 2>&1 && rc=0 || rc=$?
is "$rc" 0 "after sourcing the exports, status reads the demo's last sync"
like "$(cat "$T/st")" 'carlos@example.com' "with Carlos in TestSchedule"
(
	. "$sandbox/env"
	cd "$ONCALL_SYNC_STATE_DIR"
	eval "$(oncall-sync env)"
	reconcile-groups --dry-run --prune <last/matched.ndjson
) >"$T/st" 2>&1 && rc=0 || rc=$?
is "$rc" 0 "and the README's recipe works against the sandbox"
kill "$pid1" "$pid2"
for _ in $(seq 100); do kill -0 "$pid1" 2>/dev/null || kill -0 "$pid2" 2>/dev/null || break; sleep 0.1; done
ok "the stop command stops them" bash -c "! kill -0 $pid1 2>/dev/null && ! kill -0 $pid2 2>/dev/null"

done_testing
