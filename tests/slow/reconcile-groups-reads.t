#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# reconcile-groups reads little: the managed groups in one filtered listing;
# their memberships per group when there are one or two, else (up to 20)
# first one page of every membership (a small organization: that page is
# all, 1 request; a big one: then per group, 1 + groups requests), else
# the listing of every membership page by page; no name look-up when
# writing (StrongDM's ALREADY_EXISTS tells), and in a dry run one per group
# created or renamed, or one listing of every group when there are more
# than 10; the emails of removed members the input does not name: by id for
# one or two, else one page of every account first, then those it did not
# answer by id (up to 10), or by the listings per first letter of the email
# (tests/e2e/reconcile-groups-emails.t has more). A failed read changes
# nothing.
# The reads run while the input arrives; no write before it is complete.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

# reads: "Method=count ..." of the calls logged since the log was emptied
reads() {
	jq -r 'select(.method | endswith(".List")) | .method' "$STRONGDM_SIM_LOG" |
		sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' '
}

# N managed groups "Sched-i" for schedules S-i, each holding alice, in the
# base world changed by JQ; and the stream where schedule i has bob on call
# for i <= CHANGED, else alice.
setup() { # setup N CHANGED [JQ]
	local n=$1 changed=$2 extra=${3:-.} i line groups alice bob
	# one jq for the groups, one roster per person on call (jq is slow to
	# start: 25 groups would take seconds one by one)
	groups=$(managed_group Sched-X S-X alice@example.com |
		jq -c --argjson n "$n" '. as $g | [range(1; $n + 1) | tostring as $i |
			$g | .name = "Sched-\($i)" | .tags["incidentio-schedule-id"] = "S-\($i)"]')
	strongdm_sim_stop
	start_strongdm_sim "$(world_with ".groups += $groups | $extra")"
	alice=$(roster S-X Sched-X alice@example.com)
	bob=$(roster S-X Sched-X bob@example.com)
	for ((i = 1; i <= n; i++)); do
		if ((i <= changed)); then line=$bob; else line=$alice; fi
		line=${line//'"S-X"'/\"S-$i\"}
		printf '%s\n' "${line//'"Sched-X"'/\"Sched-$i\"}"
	done | sealed >"$T/in"
	: >"$STRONGDM_SIM_LOG"
}

# a big organization: 1,100 more users, all in an unmanaged group "Big":
# more than one page (1,000) of accounts and of memberships
BIG='.accounts += [range(1; 1101) | {id: ("a-2" + (100000000000000 + . | tostring)),
	type: "user", email: "user\(.)@example.com", first_name: "User", last_name: "\(.)"}]
	| .groups += [{name: "Big", tags: {}, members: [range(1; 1101) | "a-2" + (100000000000000 + . | tostring)]}]'

# hand GROUP EMAIL...: a jq program adding members by hand to GROUP
hand() {
	local g=$1
	shift
	printf '.groups |= map(if .name == "%s" then .members += %s else . end)' "$g" \
		"$(jq -cn '$ARGS.positional' --args "$@")"
}

# the filters of METHOD's calls in order, "-" for none
filters() {
	jq -r --arg m "$1" 'select(.method == $m) | .filter // "" | if . == "" then "-" else . end' \
		"$STRONGDM_SIM_LOG" | paste -sd' '
}
# the same, the calls after the first sorted (they run concurrently)
filters_after_first() {
	local f
	f=$(filters "$1" | tr ' ' '\n')
	{ head -n 1 <<<"$f"; tail -n +2 <<<"$f" | sort; } | paste -sd' '
}

setup 2 0
rg <"$T/in"
is "$rc" 0 "2 managed groups, nothing to change: exit 0"
is "$(reads)" "AccountsGroups.List=2 Groups.List=1" "1 or 2 managed groups: memberships listed per group"
like "$(filters AccountsGroups.List)" '^groupid:"[^"]+" groupid:"[^"]+"$' "(filtered by group)"

setup 3 0
rg <"$T/in"
is "$rc" 0 "3 managed groups, nothing to change: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "small organization, 3 groups: one page of every membership is all"
is "$(filters AccountsGroups.List)" "-" "(unfiltered)"

setup 20 0
rg <"$T/in"
is "$rc" 0 "20 managed groups, nothing to change: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "small organization, 20 groups: one request"

setup 21 0
rg <"$T/in"
is "$rc" 0 "21 managed groups: exit 0"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "memberships in one listing (one page)"

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
is "$(changes "$T/out")" "create_group done Brand-new -
rename_group done Sched-25b -" "one rename, one create"
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

# a hand-added member (not in the input): its email is looked up by id
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
# is complete; a stream cut after the reads writes nothing. The input comes
# through a FIFO the test holds open, so "still arriving" is a state, not a
# pause of some length.
# wait_reads WANT: until the reads logged are WANT (a minute at most)
wait_reads() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[[ $(reads) == "$1" ]] && return 0
		sleep 0.05
	done
}
: >"$STRONGDM_SIM_LOG"
n=$(($(grep -vc '"type":"end"' "$T/in2") + 1))
mkfifo "$T/input"
reconcile-groups <"$T/input" >"$T/out" 2>"$T/err" &
pid=$!
exec 6>"$T/input"
{ grep -v '"type":"end"' "$T/in2"; roster S-slow Slow bob@example.com; } >&6
wait_reads "AccountsGroups.List=1 Groups.List=1"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "the reads are made while the input arrives"
is "$(writes)" 0 "no write before the input is complete"
echo "{\"type\":\"end\",\"stage\":\"match-users\",\"records\":$n}" >&6
exec 6>&-
rc=0
wait "$pid" || rc=$?
is "$rc" 0 "then the run completes: exit 0"
is "$(changes "$T/out")" "create_group done Slow -
add done Slow bob@example.com" "and writes"
: >"$STRONGDM_SIM_LOG"
reconcile-groups <"$T/input" >"$T/out" 2>"$T/err" &
pid=$!
exec 6>"$T/input"
roster S-cut Cut bob@example.com >&6
wait_reads "AccountsGroups.List=1 Groups.List=1"
exec 6>&-
rc=0
wait "$pid" || rc=$?
is "$rc" 3 "a stream cut after the reads: refused"
is "$(writes)" 0 "no write"

# --- a big organization (1,100 more memberships: two pages) ---------------
setup 3 3 "$BIG"
rg <"$T/in"
is "$rc" 0 "big organization, 3 groups, 3 changed: exit 0"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=4 Groups.List=1" \
	"one page set aside, then one listing per group (1 + 3); alice's email by id"
like "$(filters AccountsGroups.List)" '^- groupid:"[^"]+" groupid:"[^"]+" groupid:"[^"]+"$' \
	"(the unfiltered page first, then by group)"
is "$(changes "$T/out" | sort)" "add done Sched-1 bob@example.com
add done Sched-2 bob@example.com
add done Sched-3 bob@example.com
remove done Sched-1 alice@example.com
remove done Sched-2 alice@example.com
remove done Sched-3 alice@example.com" "the changes are right"
is "$(groups | grep '^Sched-' | cut -d' ' -f1,3 | paste -sd' ')" \
	"Sched-1 bob@example.com Sched-2 bob@example.com Sched-3 bob@example.com" "state: bob in each"
is "$(strongdm_sim_state | jq '.groups[] | select(.name == "Big") | .members | length')" 1100 \
	"the unmanaged group is untouched"

setup 25 3 "$BIG"
rg <"$T/in"
is "$rc" 0 "big organization, 25 groups, 3 changed: exit 0"
is "$(reads)" "AccountsGroups.List=2 Groups.List=1" "every membership, page by page (2 pages)"
is "$(changes "$T/out" | sort | paste -sd' ')" "add done Sched-1 bob@example.com add done Sched-2 bob@example.com add done Sched-3 bob@example.com remove done Sched-1 alice@example.com remove done Sched-2 alice@example.com remove done Sched-3 alice@example.com" \
	"the changes are right"
rg <"$T/in"
is "$(changes "$T/out")" "" "and a rerun finds nothing to change"

# --- the emails of removed members the input does not name ----------------
three="$(hand Sched-1 carlos@example.com) | $(hand Sched-2 deanna@example.com) | $(hand Sched-3 eve@example.com)"
want3="remove done Sched-1 carlos@example.com
remove done Sched-2 deanna@example.com
remove done Sched-3 eve@example.com"

setup 3 0 "$(hand Sched-1 carlos@example.com) | $(hand Sched-2 deanna@example.com)"
rg <"$T/in"
is "$rc" 0 "2 hand-added members: exit 0"
is "$(reads)" "Accounts.List=2 AccountsGroups.List=1 Groups.List=1" "two emails wanted: two look-ups by id"

setup 3 0 "$three"
rg -n <"$T/in"
is "$rc" 0 "3 hand-added members, dry run: exit 0"
is "$(changes "$T/out" | sed 's/ planned / done /' | sort)" "$want3" "dry run: their emails are in the plan"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=1 Groups.List=1" \
	"small organization, three emails wanted: one page of every account is all"
is "$(filters Accounts.List)" "-" "(unfiltered)"
: >"$STRONGDM_SIM_LOG"
rg <"$T/in"
is "$rc" 0 "3 hand-added members: exit 0"
is "$(changes "$T/out" | sort)" "$want3" "removed, named by email"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=1 Groups.List=1" "one account request"

setup 3 0 "$BIG | $three"
rg <"$T/in"
is "$rc" 0 "big organization, 3 hand-added members: exit 0"
is "$(changes "$T/out" | sort)" "$want3" "removed, named by email"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=4 Groups.List=1" \
	"one page of accounts: it holds all three"

late3="$(hand Sched-1 user1050@example.com) | $(hand Sched-2 user1051@example.com) | $(hand Sched-3 user1052@example.com)"
setup 3 0 "$BIG | $late3"
rg <"$T/in"
is "$rc" 0 "big organization, 3 hand-added members past the first page: exit 0"
is "$(changes "$T/out" | sort)" "remove done Sched-1 user1050@example.com
remove done Sched-2 user1051@example.com
remove done Sched-3 user1052@example.com" "removed, named by email"
is "$(reads)" "Accounts.List=4 AccountsGroups.List=4 Groups.List=1" \
	"one page of accounts, then one look-up per id it did not answer (1 + 3)"
is "$(filters_after_first Accounts.List)" '- id:"a-2100000000001050" id:"a-2100000000001051" id:"a-2100000000001052"' \
	"(the unfiltered page first, then by id)"

mapfile -t eleven < <(seq -f 'user%g@example.com' 1001 1011)
setup 3 0 "$BIG | $(hand Sched-1 "${eleven[@]}")"
rg <"$T/in"
is "$rc" 0 "big organization, 11 hand-added members past the first page: exit 0"
is "$(changes "$T/out" | sort -V | paste -sd' ')" \
	"$(printf 'remove done Sched-1 %s\n' "${eleven[@]}" | paste -sd' ')" "removed, named by email"
like "$(reads)" "^Accounts.List=2[3-8] AccountsGroups.List=4 Groups.List=1$" \
	"one page of every account, then the users per first letter, 8 at a time (a* to u*, u* in 2 pages; those after u* not started when it ends are not listed)"
# one call at a time (-j 1), so the log's order is the order started: the
# listings of accounts do not queue behind writes, and the removes that
# wait for their emails start after them
setup 3 0 "$BIG | $(hand Sched-1 "${eleven[@]}")"
rg -j 1 <"$T/in"
is "$rc" 0 "one call at a time: exit 0"
like "$(jq -r 'select(.method | test("^Accounts[.]List$|[.]Delete$")) | .method' "$STRONGDM_SIM_LOG" |
	uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" "^Accounts.List=2[3-8] AccountsGroups.Delete=11$" \
	"the pages of accounts that find the emails start before the 11 removals that wait for them"

# --- failed reads ----------------------------------------------------------
# the first page of memberships fails: a read error, nothing written, exit 1
setup 3 3
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"AccountsGroups.List","count":1,"message":"no accountgroup:read"}]}'
rg <"$T/in"
is "$rc" 1 "the membership page fails: exit 1"
like "$(cat "$T/err")" 'listing group memberships: AccountsGroups.List: PERMISSION_DENIED: no accountgroup:read' \
	"says which read failed"
like "$(cat "$T/err")" 'nothing changed: StrongDM could not be read' "and that nothing changed"
is "$(changes "$T/out")" "" "no change record"
is "$(writes)" 0 "no write call"
is "$(reads)" "AccountsGroups.List=1 Groups.List=1" "and no listing per group on a guess"

# big organization: the first page passes, a listing per group fails
setup 3 3 "$BIG"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"AccountsGroups.List","after":1,"count":1,"message":"no accountgroup:read"}]}'
rg <"$T/in"
is "$rc" 1 "big organization, a listing per group fails: exit 1"
like "$(cat "$T/err")" 'nothing changed: StrongDM could not be read' "nothing changed"
is "$(writes)" 0 "no write call"

# page by page: the second page fails
setup 25 3 "$BIG"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"AccountsGroups.List","after":1,"count":1,"message":"no accountgroup:read"}]}'
rg <"$T/in"
is "$rc" 1 "page by page, the second page fails: exit 1"
like "$(cat "$T/err")" 'listing group memberships: AccountsGroups.List: PERMISSION_DENIED' "says which read failed"
is "$(writes)" 0 "no write call"

# the first page of accounts fails: only the emails are missing (as when
# a look-up by id fails): a warning, the removes are made, named by id
setup 3 0 "$three"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"Accounts.List","count":1,"message":"no user:list"}]}'
rg <"$T/in"
is "$rc" 0 "the account page fails: exit 0"
like "$(cat "$T/err")" 'listing accounts \(for the emails of removed members\): Accounts.List: PERMISSION_DENIED: no user:list' \
	"a warning says so"
is "$(changes "$T/out" | sort)" "remove done Sched-1 a-0000000000000003
remove done Sched-2 a-0000000000000004
remove done Sched-3 a-0000000000000005" "the removes are made, named by id"
is "$(reads)" "Accounts.List=1 AccountsGroups.List=1 Groups.List=1" "no look-up by id on a guess"

done_testing
