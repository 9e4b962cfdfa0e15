#!/usr/bin/env bash
# shellcheck disable=SC2119 # rg takes its options only when given
# The emails of removed members that the input does not name (for their
# change records), in an organization of more than one page of accounts:
# one page of every account first; many ids still unknown are found by the
# listings of the users per first letter of the email (email:"a*" ..
# email:"z*", at once: no chain of every page), and what those miss (an
# email starting with a digit, a service refusing the filter) by id or in
# the listing of every account. The change records carry the emails in
# every case; a look-up that fails leaves a record without one, and never
# keeps a remove from being made.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

plan 27

# 1,100 users user1..user1100 (so every account past the 1,000th is one of
# them) and 12 whose email starts with a digit, after them
WORLD=$(world_with '.accounts += [range(1; 1101) | {id: ("a-2" + (100000000000000 + . | tostring)),
	type: "user", email: "user\(.)@example.com", first_name: "User", last_name: "\(.)"}]
	| .accounts += [range(1; 13) | {id: ("a-3" + (100000000000000 + . | tostring)),
	type: "user", email: "\(.)ops@example.com", first_name: "Ops", last_name: "\(.)"}]')

# setup EMAIL...: the world with a managed group Sched-1 holding alice and
# EMAIL...; the stream has alice on call there (so those are removed)
setup() {
	strongdm_sim_stop
	strongdm_sim_start "$(world_with ".groups += [$(managed_group Sched-1 S-1 alice@example.com "$@")]")"
	roster S-1 Sched-1 alice@example.com | sealed >"$T/in"
	: >"$STRONGDM_SIM_LOG"
}

# accounts: "COUNT FILTER" per Accounts.List filter ("-": none), by filter
accounts() {
	jq -r 'select(.method == "Accounts.List") | (.filter // "") | if . == "" then "-" else . end' "$STRONGDM_SIM_LOG" |
		LC_ALL=C sort | uniq -c | awk '{print $1, $2}' | paste -sd' '
}
letters() { # the listings per letter, as accounts() prints them: U pages of u*
	local c
	for c in {a..z}; do
		if [ "$c" = u ]; then printf '%s email:"u*"\n' "$1"; else printf '1 email:"%s*"\n' "$c"; fi
	done | paste -sd' '
}
# the removes the run should make, "remove done Sched-1 EMAIL" each, sorted
removes() { printf 'remove done Sched-1 %s\n' "$@" | sort; }

mapfile -t late < <(seq -f 'user%g@example.com' 1001 1015)    # past the first page
mapfile -t digits < <(seq -f '%gops@example.com' 1 3)
mapfile -t digits12 < <(seq -f '%gops@example.com' 1 12)

# the base world with the big one's accounts (world_with works on RG_WORLD)
RG_WORLD=$WORLD

# --- 15 removed members past the first page: the listings per letter -------
setup "${late[@]}"
rg -n <"$T/in"
is "$rc" 0 "dry run: exit 0"
is "$(changes "$T/out" | sed 's/ planned / done /' | sort)" "$(removes "${late[@]}")" \
	"dry run: the plan names each removed member by email"
: >"$STRONGDM_SIM_LOG"
rg <"$T/in"
is "$rc" 0 "15 removed members past the first page: exit 0"
is "$(changes "$T/out" | sort)" "$(removes "${late[@]}")" "each change record carries the email"
is "$(jq -r 'select(.type == "change") | .account.id' "$T/out" | grep -c '^a-2')" 15 \
	"... and the account id"
# the letters start in order, 8 at a time, and those not started when the
# last email is learnt (in u*'s second page) never do
got=$(accounts)
is "$(sed 's/ [0-9]* email:"[v-z]\*".*//' <<<"$got")" "1 - $(letters 2 | sed 's/ 1 email:"v\*".*//')" \
	"one page of every account, then the listings per letter from a* to u*: 2 pages of u*, 1 of each other"
like "$got" '^[^v]* 2 email:"u\*"( 1 email:"[v-z]\*")*$' "(after u*, at most one page of a letter started before)"
is "$(jq -r 'select(.method == "Accounts.List") | (.filter // "") | if . == "" then "-" else . end' "$STRONGDM_SIM_LOG" | head -n 1)" "-" \
	"(the unfiltered page first)"
is "$(cat "$T/err")" "" "no warning"
: >"$STRONGDM_SIM_LOG"
rg <"$T/in"
is "$(changes "$T/out")" "" "a rerun changes nothing"
is "$(accounts)" "" "and reads no account"

# --- and 3 whose email starts with a digit: those by id --------------------
setup "${late[@]}" "${digits[@]}"
rg <"$T/in"
is "$rc" 0 "and 3 emails starting with a digit: exit 0"
is "$(changes "$T/out" | sort)" "$(removes "${late[@]}" "${digits[@]}")" \
	"each change record carries the email"
is "$(jq -r 'select(.method == "Accounts.List" and ((.filter // "") | startswith("id:"))) | .filter' \
	"$STRONGDM_SIM_LOG" | sort | paste -sd' ')" \
	'id:"a-3100000000000001" id:"a-3100000000000002" id:"a-3100000000000003"' \
	"the 3 the listings per letter did not find are looked up by id"
is "$(jq -r 'select(.method == "Accounts.List") | .filter' "$STRONGDM_SIM_LOG" | grep -c '^id:' || true)" 3 \
	"(only those)"

# --- 12 such: the listing of every account, after the listings per letter --
setup "${digits12[@]}"
rg <"$T/in"
is "$rc" 0 "12 emails starting with a digit: exit 0"
is "$(changes "$T/out" | sort)" "$(removes "${digits12[@]}")" "each change record carries the email"
is "$(jq -r 'select(.method == "Accounts.List") | (.filter // "") | if . == "" then "-" else . end' "$STRONGDM_SIM_LOG" | grep -c '^-$' || true)" 3 \
	"more than 10 not found: the listing of every account (2 pages) after the first page"

# --- a service that refuses the filter: the same, and no warning -----------
setup "${late[@]}"
strongdm_sim_fault '{"faults":[{"kind":"status","code":3,"method":"Accounts.List","after":1,"count":26,"message":"invalid filter"}]}'
rg <"$T/in"
is "$rc" 0 "the listings per letter refused: exit 0"
is "$(changes "$T/out" | sort)" "$(removes "${late[@]}")" "each change record still carries the email"
is "$(jq -r 'select(.method == "Accounts.List") | .outcome' "$STRONGDM_SIM_LOG" | sort | uniq -c |
	awk '{print $2 "=" $1}' | paste -sd' ')" "INVALID_ARGUMENT=26 OK=3" \
	"learnt from the listing of every account instead (2 pages, after the first)"
is "$(cat "$T/err")" "" "no warning (the emails were found)"

# --- every look-up fails: the removes are still made, without an email ----
setup "${late[@]}"
strongdm_sim_fault '{"faults":[{"kind":"status","code":7,"method":"Accounts.List","count":-1,"message":"no user:list"}]}'
rg <"$T/in"
is "$rc" 0 "no account can be read: exit 0"
is "$(changes "$T/out" | sort | paste -sd' ')" \
	"$(seq -f 'remove done Sched-1 a-2%.0f' 100000000001001 100000000001015 | sort | paste -sd' ')" \
	"every remove is made, its record naming the account by id"
like "$(cat "$T/err")" 'listing accounts \(for the emails of removed members\): Accounts.List: PERMISSION_DENIED' \
	"a warning says why the emails are missing"
is "$(groups | grep '^Sched-1' | cut -d' ' -f3)" "alice@example.com" "Sched-1 holds only alice"
is "$(jq -r 'select(.method == "Accounts.List") | .method' "$STRONGDM_SIM_LOG" | wc -l | tr -d ' ')" 1 \
	"(the first page failed: nothing more is tried)"

done_testing
