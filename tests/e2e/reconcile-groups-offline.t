#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups --groups FILE: the plan against StrongDM's groups read
# from a file (no network, no credentials) equals the dry run against the
# same state in the simulator: creates, renames, adds, removes (with the
# email of a hand-added member the input does not name), a name taken by an
# unmanaged group, a lookalike tag, pruning. And its errors.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"


W=$(world_with ".groups += [$(managed_group TestSchedule $S1 alice@example.com eve@example.com),
	$(managed_group Old-name $S3 bob@example.com),
	$(managed_group Retired $S9 bob@example.com carlos@example.com),
	{name: \"Payments\", description: \"by hand\", members: [\"deanna@example.com\"]},
	{name: \"Lookalike\", tags: {\"managed-by\": \"Oncall-Sync\", \"incidentio-schedule-id\": \"$S2\"}, members: []}]")
start_strongdm_sim "$W"
# a member added by hand that the input will not name: a service account
gid=$(strongdm_sim_state | jq -r '.groups[] | select(.name == "TestSchedule") | .id')
/usr/bin/python3 "$ROOT/tests/sdm-call.py" AccountsGroups.Create \
	"{\"account_group\":{\"account_id\":\"a-0000000000000006\",\"group_id\":\"$gid\"}}" >/dev/null
strongdm_sim_state | jq -c '.groups[]' >"$T/groups.ndjson"

{ roster $S1 TestSchedule bob@example.com eve@example.com
  roster $S2 Payments alice@example.com
  roster $S3 New-name bob@example.com carlos@example.com
  roster $S4 Brand-new deanna@example.com zed@example.com
  error_record 01G0J1EXE7AXZ2C93K61WBPYE8 Broken; } | sealed >"$T/in"

: >"$STRONGDM_SIM_LOG"
rg -n --prune <"$T/in"
online_rc=$rc
cp "$T/out" "$T/online.out"
is "$(writes)" 0 "the online dry run writes nothing"

: >"$STRONGDM_SIM_LOG"
rc=0
env -u SDM_API_ACCESS_KEY -u SDM_API_SECRET_KEY -u SDM_API_HOST \
	reconcile-groups --groups "$T/groups.ndjson" --prune <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" "$online_rc" "offline: the same exit status ($online_rc)"
same_file "$T/out" "$T/online.out" "offline: the same records as the online dry run"
is "$(calls)" 0 "offline: not one call to StrongDM"
is "$(changes_raw "$T/out")" "add planned TestSchedule bob@example.com
remove planned TestSchedule a-0000000000000006
remove planned TestSchedule alice@example.com
create_group failed Payments -
rename_group planned New-name -
add planned New-name carlos@example.com
create_group planned Brand-new -
add planned Brand-new deanna@example.com
remove planned Retired bob@example.com
remove planned Retired carlos@example.com
delete_group planned Retired -" "the plan: removes, a name taken, a rename, a create, the prune"
like "$(jq -r 'select(.status == "failed") | .error' "$T/out")" \
	'^name Payments is taken by group group-[0-9a-f]+ which oncall-sync does not manage \(oncall-sync adopt ' "the taken name names the group"

# a member's email absent from the file: the input's, if it names the account
# (alice, bob and carlos are on call on some schedule; the service account
# is not)
jq -c 'del(.members[]?.email)' "$T/groups.ndjson" >"$T/noemail.ndjson"
reconcile-groups --groups "$T/noemail.ndjson" --prune <"$T/in" >"$T/out" 2>"$T/err" || true
is "$(changes_raw "$T/out" | grep '^remove' | paste -sd'|')" \
	"remove planned TestSchedule a-0000000000000006|remove planned TestSchedule alice@example.com|remove planned Retired bob@example.com|remove planned Retired carlos@example.com" \
	"without emails in the file: named by id unless the input names the account"

# -n is implied; --max-changes still holds
rc=0
reconcile-groups --groups "$T/groups.ndjson" --max-changes 1 <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 3 "--max-changes with --groups: exit 3"
is "$(changes "$T/out" | awk '{print $2}' | sort -u | paste -sd' ')" "failed held" "planned changes held"

# errors
printf '%s\n' '{"id":"group-1","name":"A"}' '{"id":"group-1","name":"B"}' >"$T/dup.ndjson"
rc=0
reconcile-groups --groups "$T/dup.ndjson" <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "a group twice in the file: exit 1"
like "$(cat "$T/err")" 'group group-1 appears twice' "says so"
is "$(changes "$T/out")" "" "no change record"
is "$(tail -n 1 "$T/out" | jq -r .type)" "end" "the stream still ends"
printf '%s\n' '{"id":"group-1","name":"A","members":[{"id":"accountgroup-1"}]}' >"$T/bad.ndjson"
reconcile-groups --groups "$T/bad.ndjson" <"$T/in" >"$T/out" 2>"$T/err" || true
is "$(grep -c 'member must be' "$T/err" || true)" 0 "members of an unmanaged group are not read"
printf '%s\n' '{"id":"group-1","name":"A","tags":{"managed-by":"oncall-sync","incidentio-schedule-id":"S"},"members":[{"id":"accountgroup-1"}]}' >"$T/bad.ndjson"
rc=0
reconcile-groups --groups "$T/bad.ndjson" <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "a managed group's member without account_id: exit 1"
like "$(cat "$T/err")" 'bad.ndjson:1: a member must be' "says where"
rc=0
reconcile-groups --groups "$T/nope.ndjson" <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "a missing file: exit 1"
# a line over the 1 MiB limit (3 MiB, valid JSON): refused where it is,
# never read whole
{ printf '%s\n' '{"id":"group-1","name":"A"}'
  printf '{"id":"group-2","name":"'; head -c 3145728 /dev/zero | tr '\0' x; printf '"}\n'; } >"$T/long.ndjson"
rc=0
reconcile-groups --groups "$T/long.ndjson" <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "a line over the limit in the groups file: exit 1"
like "$(cat "$T/err")" "^reconcile-groups: $T/long.ndjson:2: line is longer than the limit of 1048576 bytes" \
	"says the file, the line and the limit"
is "$(changes "$T/out")" "" "no change record"
is "$(tail -n 1 "$T/out" | jq -r .type)" "end" "the stream still ends"
if [ -x /usr/bin/time ]; then
	# a 256 MiB line from a pipe: reading stops at the limit
	long_line_run '{"id":"group-2","name":"' --groups reconcile-groups <"$T/in"
	is "$rc" 1 "a 256 MiB line from a pipe in the groups file: exit 1"
	ok "a 256 MiB line in the groups file: peak RSS under 64 MiB ($kib KiB)" test "$kib" -lt 65536
else
	pass "# SKIP no /usr/bin/time"
	pass "# SKIP no /usr/bin/time"
fi
rc=0
head -n 1 "$T/in" | reconcile-groups --groups "$T/groups.ndjson" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 3 "a cut stream with --groups: refused, exit 3"
is "$(wc -c <"$T/out")" 0 "and nothing written"

# -j
rg -j 0 </dev/null
is "$rc" 2 "-j 0 is a usage error"
rg --jobs 257 </dev/null
is "$rc" 2 "-j 257 is a usage error"
like "$(cat "$T/err")" "Try 'reconcile-groups --help'" "and points to --help"

done_testing
