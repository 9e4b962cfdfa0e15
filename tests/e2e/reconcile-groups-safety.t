#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups' safety rules, each against the StrongDM simulator: a cut
# or malformed stream changes nothing (exit 3, no write: only the reads that
# run while the input is read); a name taken
# by an unmanaged group is an error, never a takeover; a schedule in error
# keeps its group; dry run writes nothing; --max-changes holds the plan;
# --prune deletes only groups of schedules in no record.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"


# A world where oncall-sync already manages TestSchedule (Alice) and a
# schedule that is gone (S9: Bob, Carlos); "Payments" is someone else's group.
W=$(world_with ".groups += [$(managed_group TestSchedule $S1 alice@example.com),
	$(managed_group Retired $S9 bob@example.com carlos@example.com),
	{name: \"Payments\", description: \"by hand\", members: [\"deanna@example.com\"]},
	{name: \"Lookalike\", tags: {\"managed-by\": \"Oncall-Sync\", \"incidentio-schedule-id\": \"$S2\"}, members: []}]")
start_strongdm_sim "$W"
initial=$(groups)

# --- input refused: exit 3, nothing on stdout, not one write (the reads run
# while the input is read; they change nothing)
refused() { # refused DESC STDERR_REGEX  (stream on stdin)
	local desc=$1 want=$2
	: >"$STRONGDM_SIM_LOG"
	rg
	is "$rc" 3 "$desc: exit 3"
	like "$(cat "$T/err")" "$want" "$desc: says why, with the line"
	is "$(wc -c <"$T/out")" 0 "$desc: writes nothing, not even an end"
	is "$(writes)" 0 "$desc: makes no StrongDM write"
}
roster $S1 TestSchedule bob@example.com | refused "a cut stream (no end)" \
	'<stdin>:1: input ended without an end record'
{ roster $S1 TestSchedule bob@example.com; echo '{"type":"end","stage":"match-users","records":2}'; } |
	refused "an end whose count disagrees" '<stdin>:2: '
{ roster $S1 TestSchedule bob@example.com; echo '{"type":"roster",'; } | sealed |
	refused "a line that is not JSON" '<stdin>:2: '
{ roster $S1 TestSchedule bob@example.com | jq -c 'del(.oncall[0].account)'; } | sealed |
	refused "a roster that did not pass through match-users" \
	'<stdin>:1: roster oncall\[0\] has neither "account" nor "unmatched"'
{ roster $S1 TestSchedule bob@example.com | jq -c '.schedule.id = 7'; } | sealed |
	refused "a schedule id of the wrong type" 'roster schedule "id" must be a string'
{ roster $S1 TestSchedule; roster $S1 TestSchedule bob@example.com; } | sealed |
	refused "a schedule twice" '<stdin>:2: schedule '$S1' appears again'
is "$(groups)" "$initial" "after all refusals the groups are as they were"

# --- a name taken by an unmanaged group: an error for that schedule only.
# A dry run looks the name up and names the group; a real run does not look
# it up: StrongDM answers ALREADY_EXISTS to the create, the same error.
{ roster $S2 Payments alice@example.com; roster $S1 TestSchedule alice@example.com bob@example.com; } |
	sealed >"$T/taken"
: >"$STRONGDM_SIM_LOG"
rg -n <"$T/taken"
is "$rc" 1 "name taken, dry run: exit 1"
is "$(changes "$T/out")" "create_group failed Payments -
add planned TestSchedule bob@example.com" "dry run: failed create_group for Payments, nothing else for it"
like "$(jq -r 'select(.status == "failed") | .error' "$T/out")" \
	'^name Payments is taken by group group-[0-9a-f]+ which oncall-sync does not manage \(oncall-sync adopt ' "dry run: the error names the group"
is "$(jq -r 'select(.method == "Groups.List") | .filter' "$STRONGDM_SIM_LOG" | grep -c '^name:')" 1 \
	"dry run: one name look-up"
: >"$STRONGDM_SIM_LOG"
rg <"$T/taken"
is "$rc" 1 "name taken: exit 1"
is "$(changes "$T/out")" "create_group failed Payments -
add done TestSchedule bob@example.com" "failed create_group for Payments, nothing else for it; TestSchedule goes on"
like "$(jq -r 'select(.status == "failed") | .error' "$T/out")" \
	'^name Payments is taken by a group which oncall-sync does not manage \(Groups.Create: ALREADY_EXISTS: ' \
	"StrongDM's ALREADY_EXISTS is the error"
like "$(cat "$T/err")" 'name Payments is taken' "and stderr says so"
is "$(jq -r 'select(.method == "Groups.List") | .filter' "$STRONGDM_SIM_LOG" | grep -c '^name:' || true)" 0 \
	"no name look-up when writing"
is "$(strongdm_sim_count AccountsGroups.Create)" 1 "no add for the schedule whose name is taken"
is "$(groups | grep ^Payments)" "Payments [] deanna@example.com" "Payments is not taken over"

# --- a group tagged almost like ours (case differs) is not managed
roster $S2 Lookalike | sealed | rg
is "$rc" 1 "a lookalike managed-by tag: exit 1"
like "$(jq -r '.error' "$T/out" | head -n 1)" 'name Lookalike is taken by group group-[0-9a-f]+ which oncall-sync does not manage' \
	"a tag compared case-insensitively by StrongDM's filter is compared exactly here"

# --- an upstream error keeps the group as it is (even with --prune); passed on
{ error_record $S1 TestSchedule; } | sealed | rg --prune
is "$rc" 1 "upstream error: exit 1"
is "$(changes "$T/out")" "remove done Retired bob@example.com
remove done Retired carlos@example.com
delete_group done Retired -" "no change for the schedule in error (only the prune of the gone schedule)"
is "$(groups | grep ^TestSchedule)" "TestSchedule [incidentio-schedule-id=$S1,managed-by=oncall-sync] alice@example.com,bob@example.com" \
	"TestSchedule is exactly as it was"
is "$(jq -r 'select(.type == "error") | .schedule.id' "$T/out")" "$S1" "the error record is passed on"

# --- dry run: the same changes, planned, and no write call
roster $S1 TestSchedule carlos@example.com | sealed >"$T/in"
before=$(writes) state=$(groups)
rg -n <"$T/in"
is "$rc" 0 "dry run exits 0"
is "$(changes "$T/out")" "add planned TestSchedule carlos@example.com
remove planned TestSchedule alice@example.com
remove planned TestSchedule bob@example.com" "dry run writes the plan, status planned"
is "$(writes)" "$before" "dry run makes no write call"
is "$(groups)" "$state" "dry run changes nothing"

# --- --max-changes: more than N planned changes nothing, exit 3, plan held
rg --max-changes 2 <"$T/in"
is "$rc" 3 "--max-changes 2 with 3 changes: exit 3"
is "$(changes "$T/out")" "add held TestSchedule carlos@example.com
remove held TestSchedule alice@example.com
remove held TestSchedule bob@example.com" "every change held"
like "$(cat "$T/err")" '3 changes planned, more than --max-changes 2' "stderr says why"
is "$(writes)" "$before" "held: no write call"
is "$(tail -n 1 "$T/out")" '{"type":"end","stage":"reconcile-groups","records":3}' "held plan still ends the stream"
rg --max-changes 3 <"$T/in"
is "$rc" 0 "--max-changes 3 with 3 changes: done"
is "$(groups | grep ^TestSchedule)" "TestSchedule [incidentio-schedule-id=$S1,managed-by=oncall-sync] carlos@example.com" \
	"and applied"

# --- prune: without --prune a gone schedule's group stays; an error record
# without schedule id makes --prune unsafe (skipped, warned)
strongdm_sim_stop
start_strongdm_sim "$W"
roster $S1 TestSchedule alice@example.com | sealed | rg
is "$(groups | grep -c ^Retired)" 1 "without --prune the group of a gone schedule stays"
{ roster $S1 TestSchedule alice@example.com
  jq -cn '{type: "error", stage: "fetch-oncall", schedule: {name: "Nope"}, message: "no schedule named Nope"}'; } |
	sealed | rg --prune
is "$rc" 1 "--prune with an error record naming no schedule: exit 1"
like "$(cat "$T/err")" '--prune skipped' "prune is skipped, with a warning"
is "$(groups | grep -c ^Retired)" 1 "and the group stays"
roster $S1 TestSchedule alice@example.com | sealed | rg --prune
is "$rc" 0 "--prune exits 0"
is "$(changes "$T/out")" "remove done Retired bob@example.com
remove done Retired carlos@example.com
delete_group done Retired -" "--prune empties and deletes the gone schedule's group"
is "$(jq -c 'select(.action == "delete_group") | .schedule' "$T/out")" "{\"id\":\"$S9\"}" \
	"a pruned change names the schedule by the group's tag"
is "$(groups | cut -d' ' -f1 | paste -sd' ')" "Admins Lookalike Payments TestSchedule" \
	"only the managed group of the gone schedule is deleted"

# --- a stream naming no schedule: refused, unless --allow-empty (the last
# schedule removed on purpose); then --prune retires every managed group
: </dev/null | sealed | refused "a stream naming no schedule" \
	'<stdin>:1: the stream holds no roster and no error record: refusing to act on it \(--allow-empty accepts it\)'
: </dev/null | sealed | rg --allow-empty
is "$rc/$(changes "$T/out")/$(writes)" "0//0" "--allow-empty without --prune: exit 0, nothing to do"
: </dev/null | sealed | rg --allow-empty --prune
is "$rc" 0 "--allow-empty --prune: exit 0"
is "$(changes "$T/out" | sort)" "delete_group done TestSchedule -
remove done TestSchedule alice@example.com" "--allow-empty --prune empties and deletes every managed group"
is "$(groups | cut -d' ' -f1 | paste -sd' ')" "Admins Lookalike Payments" \
	"groups oncall-sync does not manage stay (a look-alike tag is not ours)"

# --- usage and credentials
rg --max-changes lots </dev/null
is "$rc" 2 "a bad --max-changes is a usage error"
rg --frobnicate </dev/null
is "$rc" 2 "an unknown option is a usage error"
roster $S1 TestSchedule | sealed >"$T/in"
rc=0
env -u SDM_API_ACCESS_KEY reconcile-groups <"$T/in" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 2 "missing credentials: exit 2"
like "$(cat "$T/err")" 'SDM_API_ACCESS_KEY' "and says which"
rg --help </dev/null
is "$rc" 0 "--help exits 0"
like "$(head -n 1 "$T/out")" '^usage: reconcile-groups \[-n\] \[--prune\] \[--allow-empty\] \[--instance NAME\] \[--group-prefix PREFIX\] \[--max-changes N\] \[--max-prune-share S\] \[-j N\] \[--groups FILE\]$' "--help starts with the synopsis"
rg -V </dev/null
like "$(cat "$T/out")" '^reconcile-groups [0-9]' "-V prints the version"

done_testing
