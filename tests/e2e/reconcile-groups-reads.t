#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups reads little: the managed groups in one filtered listing;
# memberships per group when there are at most 20 managed groups, else in
# one listing; one name look-up per group created or renamed; the accounts
# once, only when a member to remove is not in the input.
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

# a new schedule and a renamed one: one name look-up each
{ grep -v '"type":"end"' "$T/in" | sed 's/"name":"Sched-25"/"name":"Sched-25b"/'
  roster S-new Brand-new; } | sealed >"$T/in2"
: >"$STRONGDM_SIM_LOG"
rg <"$T/in2"
is "$rc" 0 "rename + create: exit 0"
is "$(changes "$T/out")" "rename_group done Sched-25b -
create_group done Brand-new -" "one rename, one create"
is "$(reads)" "AccountsGroups.List=1 Groups.List=3" "one name look-up per created or renamed group"

# a hand-added member (not in the input): the accounts are listed once
gid=$(strongdm_sim_state | jq -r '.groups[] | select(.name == "Sched-4") | .id')
/usr/bin/python3 "$ROOT/tests/sdm-call.py" AccountsGroups.Create \
	"{\"account_group\":{\"account_id\":\"a-0000000000000006\",\"group_id\":\"$gid\"}}" >/dev/null
: >"$STRONGDM_SIM_LOG"
rg <"$T/in2"
is "$(changes "$T/out")" "remove done Sched-4 a-0000000000000006" \
	"a hand-added service account is removed (no email: named by id)"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=1 Groups.List=1" "one account listing for it"

done_testing
