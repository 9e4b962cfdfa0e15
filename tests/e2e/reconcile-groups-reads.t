#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups reads little: the managed groups in one filtered listing;
# memberships per group when there are at most 20 managed groups, else in
# one listing; no name look-up when writing (StrongDM's ALREADY_EXISTS
# tells), and in a dry run one per group created or renamed, or one listing
# of every group when there are more than 10; the emails of removed members
# the input does not name: by id when at most 10, else one account listing.
# The reads run while the input arrives; no write before it is complete.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

# reads: "Method=count ..." of the calls logged since the log was emptied
reads() {
	jq -r 'select(.method | endswith(".List")) | .method' "$STRONGDM_SIM_LOG" |
		sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' '
}

# N managed groups "Sched-i" for schedules S-i, each holding alice; and the
# stream where schedule i has bob on call for i ≤ CHANGED, else alice.
setup() { # setup N CHANGED
	local n=$1 changed=$2 i groups=
	for ((i = 1; i <= n; i++)); do
		groups+="${groups:+,}$(managed_group "Sched-$i" "S-$i" alice@example.com)"
	done
	strongdm_sim_stop
	strongdm_sim_start "$(world_with ".groups += [$groups]")"
	for ((i = 1; i <= n; i++)); do
		if ((i <= changed)); then roster "S-$i" "Sched-$i" bob@example.com
		else roster "S-$i" "Sched-$i" alice@example.com; fi
	done | sealed >"$T/in"
	: >"$STRONGDM_SIM_LOG"
}

setup 20 0
rg <"$T/in"
is "$rc" 0 "20 managed groups, nothing to change: exit 0"
is "$(reads)" "AccountsGroups.List=20 Groups.List=1" "memberships listed per group (20 requests)"

setup 21 0
rg <"$T/in"
is "$rc" 0 "21 managed groups: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "memberships in one listing"

setup 25 3
rg <"$T/in"
is "$rc" 0 "25 groups, 3 changed: exit 0"
is "$(changes "$T/out" | sort)" "add done Sched-1 bob@example.com
add done Sched-2 bob@example.com
add done Sched-3 bob@example.com
remove done Sched-1 alice@example.com
remove done Sched-2 alice@example.com
remove done Sched-3 alice@example.com" "the changes are right with the one listing"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" \
	"no account listing: every member to remove is named in the input"
is "$(strongdm_sim_state | jq '[.groups[] | select(.name | startswith("Sched-")) | .members[].email] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' -r)" \
	"alice@example.com=22 bob@example.com=3" "state: 22 groups with alice, 3 with bob"

# a new schedule and a renamed one: a dry run looks each name up; the real
# run does not
{ grep -v '"type":"end"' "$T/in" | sed 's/"name":"Sched-25"/"name":"Sched-25b"/'
  roster S-new Brand-new; } | sealed >"$T/in2"
: >"$STRONGDM_SIM_LOG"
rg -n <"$T/in2"
is "$rc" 0 "rename + create, dry run: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=3" "dry run: one name look-up per created or renamed group"
: >"$STRONGDM_SIM_LOG"
rg <"$T/in2"
is "$rc" 0 "rename + create: exit 0"
is "$(changes "$T/out")" "rename_group done Sched-25b -
create_group done Brand-new -" "one rename, one create"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "no name look-up when writing"

# more than 10 names to check in a dry run: one listing of every group
{ grep -v '"type":"end"' "$T/in2"
  for ((i = 1; i <= 11; i++)); do roster "S-more-$i" "More-$i"; done; } | sealed >"$T/in3"
: >"$STRONGDM_SIM_LOG"
rg -n <"$T/in3"
is "$rc" 0 "11 new schedules, dry run: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=2" "one listing of every group instead of 11 look-ups"
is "$(jq -r 'select(.method == "Groups.List") | .filter' "$STRONGDM_SIM_LOG" | sort | paste -sd' ')" \
	' tag:"managed-by"="oncall-sync"' "(an unfiltered listing)"

# a hand-added member (not in the input): the accounts are listed once
gid=$(strongdm_sim_state | jq -r '.groups[] | select(.name == "Sched-4") | .id')
/usr/bin/python3 "$ROOT/tests/sdm-call.py" AccountsGroups.Create \
	"{\"account_group\":{\"account_id\":\"a-0000000000000006\",\"group_id\":\"$gid\"}}" >/dev/null
: >"$STRONGDM_SIM_LOG"
rg <"$T/in2"
is "$(changes "$T/out")" "remove done Sched-4 a-0000000000000006" \
	"a hand-added service account is removed (no email: named by id)"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=1 Groups.List=1" "one account look-up for it"
is "$(jq -r 'select(.method == "Accounts.List") | .filter' "$STRONGDM_SIM_LOG")" 'id:"a-0000000000000006"' \
	"by id"

# the reads start while the input is still arriving; the writes only once it
# is complete; a stream cut after a pause writes nothing
: >"$STRONGDM_SIM_LOG"
n=$(($(grep -vc '"type":"end"' "$T/in2") + 1))
{ grep -v '"type":"end"' "$T/in2"; roster S-slow Slow bob@example.com; sleep 1.5
  echo "{\"type\":\"end\",\"stage\":\"match-users\",\"records\":$n}"; } |
	reconcile-groups >"$T/out" 2>"$T/err" &
pid=$!
sleep 1
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "the reads are made while the input arrives"
is "$(writes)" 0 "no write before the input is complete"
rc=0
wait "$pid" || rc=$?
is "$rc" 0 "then the run completes: exit 0"
is "$(changes "$T/out")" "create_group done Slow -
add done Slow bob@example.com" "and writes"
: >"$STRONGDM_SIM_LOG"
{ roster S-cut Cut bob@example.com; sleep 1; } | reconcile-groups >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 3 "a stream cut after a pause: refused"
is "$(writes)" 0 "no write"

done_testing
