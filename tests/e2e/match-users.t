#!/usr/bin/env bash
# match-users against strongdm-sim: both modes, every unmatched reason,
# mixed-case and padded emails, pass-through, the requests chosen, the
# --accounts file, bad and cut input, and --help agreeing with the man page
# (to which the README points).
# shellcheck disable=SC2016
set -euo pipefail
# shellcheck source=tests/tap.sh
. "$(dirname "$0")/../tap.sh"

FX=$ROOT/tests/fixtures/match-users
reset_log() { : >"$STRONGDM_SIM_LOG"; }
count() { strongdm_sim_count "$@"; }
filters() { jq -r --arg m "$1" 'select(.method == $m) | .filter' "$STRONGDM_SIM_LOG" | sort; }

require_bin match-users
start_strongdm_sim "$FX/world.json"

# --- by email (the default), a small organization: one page of every user ---
reset_log
run match-users <"$FX/roster.ndjson"
is "$rc" 0 "email: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" \
	"email: accounts and reasons added, error and unknown records passed on, own end"
same_file "$T/err" "$FX/expected-email.err" "email: one warning per unmatched person, with what to check"
is "$(jq -r 'select(.type=="roster") | .oncall[] | select(.name=="Bob") | .account.id' "$T/out")" \
	a-0000000000000002 "email: '  BOB@example.COM ' matches StrongDM's Bob@Example.com"
is "$(jq -r 'select(.type=="roster") | .oncall[] | select(.name=="Star") | .unmatched' "$T/out")" \
	"no StrongDM user with email a*@example.com" \
	"email: a * in an email is not a wildcard (aa@example.com does not match)"
for line in 2 4; do
	is "$(sed -n "${line}p" "$T/out")" "$(sed -n "${line}p" "$FX/roster.ndjson")" \
		"email: record $line (not a roster) passed on byte for byte"
done
is "$(grep -c . "$T/err")" 6 "email: six warnings (suspended, service, duplicate, two unknown, no email)"
is "$(count Accounts.List)" 1 "email: 8 people, 10 accounts: one page of every user, not 8 look-ups"
is "$(count '*')" 1 "email: no other call"
is "$(filters Accounts.List)" 'type:"user"' "email: the page lists users"

# --- by alias ------------------------------------------------------------------
reset_log
run match-users --by alias --identity-set incidentio <"$FX/roster.ndjson"
is "$rc" 0 "alias: exit 0"
same_file "$T/out" "$FX/expected-alias.ndjson" \
	"alias: exact aliases match; suspended, service, duplicate and case-different aliases do not"
same_file "$T/err" "$FX/expected-alias.err" "alias: one warning per unmatched person"
is "$(count IdentitySets.List)" 1 "alias: the identity set looked up once"
is "$(count IdentityAliases.List)/$(count Accounts.List)" 1/1 \
	"alias, small organization: one page of the set's aliases and one of the accounts, not 9 + 6 look-ups"
is "$(filters IdentityAliases.List)" 'identitysetid:"ig-0000000000000001"' "alias: the page lists the set's aliases"

reset_log
run match-users -b alias -i ig-0000000000000001 <"$FX/roster.ndjson"
is "$rc" 0 "alias by set id: exit 0"
is "$(jq -c 'select(.type=="roster") | [.oncall[].account.id]' "$T/out")" \
	"$(jq -c 'select(.type=="roster") | [.oncall[].account.id]' "$FX/expected-alias.ndjson")" \
	"alias by set id: the same accounts"
is "$(filters IdentitySets.List)" 'id:"ig-0000000000000001"' "alias by set id: the set found by id"
like "$(jq -r 'select(.type=="roster") | .oncall[] | select(.name=="Erin") | .unmatched' "$T/out")" \
	'identity set incidentio \(ig-0000000000000001\) has no alias' "alias by set id: reasons name the set and its id"

run match-users -b alias -i nosuchset <"$FX/roster.ndjson"
is "$rc" 2 "unknown identity set: exit 2"
is "$(cat "$T/out")" "" "unknown identity set: nothing on stdout"
is "$(cat "$T/err")" \
	"match-users: identity set nosuchset not found in StrongDM; the sets there: incidentio (ig-0000000000000001), default (ig-0000000000000002)" \
	"unknown identity set: the message lists the sets that exist"

# --- many people: one paged listing instead -----------------------------------
reset_log
run match-users --lookup-max 2 <"$FX/roster.ndjson"
is "$rc" 0 "email listing: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" "email listing: the same result as look-ups"
is "$(count '*')" 1 "email listing: one call"
is "$(filters Accounts.List)" 'type:"user"' "email listing: all users"

reset_log
run match-users --lookup-max 2 -b alias -i incidentio <"$FX/roster.ndjson"
is "$rc" 0 "alias listing: exit 0"
same_file "$T/out" "$FX/expected-alias.ndjson" "alias listing: the same result as look-ups"
is "$(count IdentitySets.List)/$(count IdentityAliases.List)/$(count Accounts.List)" 1/1/1 \
	"alias listing: one call each for the set, its aliases and the accounts"
is "$(filters IdentityAliases.List)" 'identitysetid:"ig-0000000000000001"' "alias listing: the set's aliases"

reset_log
printf '%s\n' '{"type":"roster","schedule":{"id":"S1"},"oncall":[]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}' >"$T/nobody"
run match-users <"$T/nobody"
is "$rc/$(count '*')" 0/0 "nobody on call: no call to StrongDM"

# --- the same from an --accounts file ------------------------------------------
jq -c '.strongdm.accounts[]' "$FX/world.json" >"$T/accounts.ndjson"
jq -c '.strongdm.identity_sets[] | {type: "identity_set", id, name}' "$FX/world.json" >>"$T/accounts.ndjson"
jq -c '.strongdm.identity_aliases[] | {type: "alias", identity_set, username, account_id}' \
	"$FX/world.json" >>"$T/accounts.ndjson"
reset_log
run match-users --accounts "$T/accounts.ndjson" <"$FX/roster.ndjson"
is "$rc" 0 "--accounts email: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" "--accounts email: the same as StrongDM's answer"
same_file "$T/err" "$FX/expected-email.err" "--accounts email: the same warnings"
run match-users -b alias -i incidentio --accounts "$T/accounts.ndjson" <"$FX/roster.ndjson"
[ "$rc" = 0 ] || diag "$(cat "$T/err")"
is "$rc" 0 "--accounts alias: exit 0"
same_file "$T/out" "$FX/expected-alias.ndjson" "--accounts alias: the same as StrongDM's answer"
is "$(count '*')" 0 "--accounts: no call to StrongDM"
run match-users -b alias -i incidentio --accounts "$FX/accounts.ndjson" <"$FX/roster.ndjson"
is "$(jq -r 'select(.type=="roster") | .oncall[] | select(.name=="Erin") | .unmatched' "$T/out")" \
	"the alias equal to incident.io id 01FCNDV6P870EA6S7TK1DSYDG8 in identity set incidentio points to account a-0000000000000099, which does not exist" \
	"--accounts alias: an alias naming a missing account"
is "$(jq -r 'select(.type=="roster") | .oncall[] | select(.name=="Bob") | .account.id' "$T/out")" \
	a-0000000000000002 "--accounts alias: an alias naming its set by id"
run match-users -b alias -i other --accounts "$FX/accounts.ndjson" <"$FX/roster.ndjson"
is "$rc" 2 "--accounts unknown set: exit 2"
like "$(cat "$T/err")" 'identity set other not found in .*accounts.ndjson; the sets there: .*incidentio.*default' \
	"--accounts unknown set: lists the sets"
printf '{"type":"user","id":"a-1"}\n{"type":"user"\n' >"$T/bad-accounts"
run match-users --accounts "$T/bad-accounts" <"$FX/roster.ndjson"
is "$rc" 1 "--accounts with a bad line: exit 1"
like "$(cat "$T/err")" "bad-accounts:2: invalid JSON" "--accounts with a bad line: file and line named"
run match-users --accounts "$T/no-such-file" <"$FX/roster.ndjson"
is "$rc" 2 "--accounts with a missing file: exit 2"

# A line over the 1 MiB limit (3 MiB, valid JSON) is refused where it is,
# in both modes (alias mode reads the file twice), never read whole.
{ printf '%s\n' '{"type":"user","id":"a-1","email":"alice@example.com"}'
  printf '{"type":"user","id":"a-2","email":"'; head -c 3145728 /dev/zero | tr '\0' x
  printf '@example.com"}\n'; } >"$T/long-accounts"
run match-users --accounts "$T/long-accounts" <"$FX/roster.ndjson"
is "$rc" 1 "--accounts with a line over the limit: exit 1"
like "$(cat "$T/err")" "^match-users: $T/long-accounts:2: line is longer than the limit of 1048576 bytes" \
	"--accounts with a line over the limit: file, line and limit named"
is "$(wc -c <"$T/out")" 0 "--accounts with a line over the limit: nothing written"
run match-users -b alias -i incidentio --accounts "$T/long-accounts" <"$FX/roster.ndjson"
is "$rc" 1 "--accounts alias with a line over the limit: exit 1"
like "$(cat "$T/err")" "^match-users: $T/long-accounts:2: line is longer than the limit" \
	"--accounts alias with a line over the limit: file and line named"
if [ -x /usr/bin/time ]; then
	# a 256 MiB line from a pipe: reading stops at the limit
	long_line_run '{"type":"user","id":"a-1","email":"' --accounts match-users <"$FX/roster.ndjson"
	is "$rc" 1 "--accounts with a 256 MiB line from a pipe: exit 1"
	ok "--accounts with a 256 MiB line: peak RSS under 64 MiB ($kib KiB)" test "$kib" -lt 65536
else
	pass "# SKIP no /usr/bin/time"
	pass "# SKIP no /usr/bin/time"
fi

# --- memory grows with the people, not with the stream ----------------------------
if [ -x /usr/bin/time ]; then
	mkdir "$T/small" "$T/big"
	/usr/bin/python3 "$FX/gen-bench.py" 2000 5000 10 "$T/small"
	/usr/bin/python3 "$FX/gen-bench.py" 2000 100000 10 "$T/big"
	# (ASan's quarantine and valgrind's queue of freed blocks would hold on
	# to freed memory: not ours to count. So the program itself, not
	# VALGRIND=1's wrapper.)
	rss() { ASAN_OPTIONS=quarantine_size_mb=0 /usr/bin/time -f %M "$ROOT/bin/match-users" \
		--accounts "$1/accounts.ndjson" <"$1/roster.ndjson" 2>&1 >/dev/null | tail -n 1; }
	small=$(rss "$T/small") big=$(rss "$T/big")
	ok "memory: 100,000 entries take at most 4 MB more than 5,000 (${small} KB, ${big} KB; the stream is $(($(wc -c <"$T/big/roster.ndjson") / 1024)) KB)" \
		test "$((big - small))" -lt 4096
else
	pass "# SKIP no /usr/bin/time"
fi

# --- running again over its own output changes nothing ----------------------------
run match-users <"$FX/expected-email.ndjson"
[ "$rc" = 0 ] || diag "$(cat "$T/err")"
is "$rc" 0 "again over matched output: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" "again over matched output: the same stream"

# --- bad input: stop at the line, no end, nothing asked of StrongDM -------------
bad() { # bad DESC WANT_ERR LINE...
	local desc=$1 want=$2
	shift 2
	printf '%s\n' "$@" >"$T/in"
	reset_log
	run match-users <"$T/in"
	is "$rc" 3 "$desc: exit 3 (refused)"
	is "$(cat "$T/out")" "" "$desc: nothing on stdout, no end"
	is "$(cat "$T/err")" "$want" "$desc: the message names the line"
	is "$(count '*')" 0 "$desc: StrongDM not asked"
}
R='{"type":"roster","schedule":{"id":"S1","name":"One"},"oncall":[{"id":"U1","email":"alice@example.com"}]}'
bad "not JSON" 'match-users: <stdin>:2: invalid JSON at byte 1' "$R" 'not json' \
	'{"type":"end","stage":"fetch-oncall","records":2}'
bad "no schedule" 'match-users: <stdin>:2: roster has no "schedule"' "$R" \
	'{"type":"roster","oncall":[]}' '{"type":"end","stage":"fetch-oncall","records":2}'
bad "no oncall" 'match-users: <stdin>:1: roster has no "oncall"' \
	'{"type":"roster","schedule":{"id":"S1"}}' '{"type":"end","stage":"fetch-oncall","records":1}'
bad "an entry without id" 'match-users: <stdin>:1: roster oncall[1] has no "id"' \
	'{"type":"roster","schedule":{"id":"S1"},"oncall":[{"id":"U1"},{"email":"x@y"}]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}'
bad "an email that is not a string" 'match-users: <stdin>:1: roster oncall[0] "email" must be a string' \
	'{"type":"roster","schedule":{"id":"S1"},"oncall":[{"id":"U1","email":7}]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}'
bad "an error record with a message that is not a string" 'match-users: <stdin>:2: error "message" must be a string' \
	"$R" '{"type":"error","stage":"fetch-oncall","message":404}' '{"type":"end","stage":"fetch-oncall","records":2}'
bad "a group spec with roles that are not a list" 'match-users: <stdin>:1: roster group "roles" must be an array of role names or ids' \
	'{"type":"roster","schedule":{"id":"S1"},"group":{"roles":"ro"},"oncall":[]}' '{"type":"end","stage":"fetch-oncall","records":1}'
bad "cut input" 'match-users: <stdin>:1: input ended without an end record (the stage before failed or was stopped): the stream was cut short (1 records read)' "$R"

# --- a bigger organization (1,110 accounts): the look-ups -----------------------
strongdm_sim_stop
jq '.strongdm.accounts += [range(1100) | {id: ("a-9\(1000000000000000 + .)"), type: "user",
	email: "filler\(.)@bulk.example.com", first_name: "Filler", last_name: "\(.)"}]' \
	"$FX/world.json" >"$T/big-world.json"
cp "$T/big-world.json" "$T/big-accounts-world.json"
jq '.strongdm.identity_aliases += [range(1100) | {id: ("i-9\(1000000000000000 + .)"),
	account_id: ("a-9\(1000000000000000 + .)"), identity_set: "incidentio", username: "F\(.)"}]' \
	"$T/big-world.json" >"$T/big-world-aliases.json"
mv "$T/big-world-aliases.json" "$T/big-world.json"
start_strongdm_sim "$T/big-world.json"
reset_log
run match-users <"$FX/roster.ndjson"
is "$rc" 0 "big org, email: exit 0"
same_file "$T/out" "$FX/expected-email.ndjson" "big org, email: the same result"
is "$(count Accounts.List)" 9 "big org, email: one page (not all the users), then 8 look-ups"
is "$(filters Accounts.List | grep -c '^type:"user"$')" 1 "big org, email: the page was the listing's first"
is "$(filters Accounts.List | grep -v '^type:"user"$' | head -n 1)" 'type:"user" email:"a*@example.com"' \
	"big org, email: a look-up filter names users and the normalized email"
reset_log
run match-users --by alias --identity-set incidentio <"$FX/roster.ndjson"
is "$rc" 0 "big org, alias: exit 0"
same_file "$T/out" "$FX/expected-alias.ndjson" "big org, alias: the same result"
is "$(count IdentityAliases.List)/$(count Accounts.List)" 10/6 \
	"big org, alias: a page of aliases (not all), then 9 look-ups, each queueing its account's (6 by id)"
is "$(filters IdentityAliases.List | grep username | head -n 1)" \
	'identitysetid:"ig-0000000000000001" username:"01FCNDV6P870EA6S7TK1DSYDG0"' \
	"big org, alias: look-ups filtered by set id and username"
reset_log
run match-users --by alias --identity-set incidentio --lookup-max 2 <"$FX/roster.ndjson"
same_file "$T/out" "$FX/expected-alias.ndjson" "big org, alias listing: the same result"
is "$(count IdentityAliases.List)/$(count Accounts.List)" 2/2 "big org, alias listing: two pages of each"
reset_log
printf '%s\n' '{"type":"roster","schedule":{"id":"S1"},"oncall":[{"id":"U1","email":"Bob@example.com"},{"id":"U2","email":"filler7@bulk.example.com"}]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}' >"$T/two"
run match-users <"$T/two"
is "$rc/$(jq -r 'select(.type=="roster") | [.oncall[].account.id] | join(",")' "$T/out")" \
	"0/a-0000000000000002,a-91000000000000007" "two people: both matched"
is "$(count Accounts.List)" 2 "two people: two look-ups, no page first"
reset_log
run match-users --lookup-max 2 <"$FX/roster.ndjson"
same_file "$T/out" "$FX/expected-email.ndjson" "big org, email listing: the same result"
is "$(count Accounts.List)" 2 "big org, email listing: 2 pages of 1000"
strongdm_sim_fault '{"faults":[{"kind":"unavailable","method":"Accounts.List","count":-1,"after":1}]}'
reset_log
run match-users --lookup-max 2 <"$FX/roster.ndjson"
is "$rc" 1 "big org, the second page fails: exit 1"
is "$(jq -r 'select(.type=="roster") | .schedule.name // .schedule.id' "$T/out" | paste -sd, -)" "Empty,01G0J1EXE7AXZ2C93K61WBPYEN" \
	"big org, the second page fails: no roster that needed StrongDM is passed on as matched"
strongdm_sim_clear_faults

# few aliases, many accounts: the aliases' page is all of them, the accounts' is not
strongdm_sim_stop
start_strongdm_sim "$T/big-accounts-world.json"
run match-users --by alias --identity-set incidentio <"$FX/roster.ndjson"
same_file "$T/out" "$FX/expected-alias.ndjson" "big org, few aliases: the same result"
is "$(count IdentityAliases.List)/$(count Accounts.List)" 1/7 \
	"big org, few aliases: one page of aliases; a page of accounts (not all), then 6 look-ups by id"

# --- suspended users are dropped before ambiguity is judged -----------------------
# Frank has an active user and a suspended one with the same email (in another
# case): the active one matches, by look-up and by listing alike.
strongdm_sim_stop
jq '.strongdm.accounts += [
	{id: "a-00000000000000f1", type: "user", email: "FRANK@example.com", first_name: "Frank", last_name: "Old", suspended: true},
	{id: "a-00000000000000f2", type: "user", email: "frank@example.com", first_name: "Frank", last_name: "New", suspended: false}]' \
	"$FX/world.json" >"$T/frank-world.json"
start_strongdm_sim "$T/frank-world.json"
printf '%s\n' '{"type":"roster","schedule":{"id":"S1","name":"One"},"oncall":[{"id":"U1","email":"frank@example.com","name":"Frank"}]}' \
	'{"type":"end","stage":"fetch-oncall","records":1}' >"$T/frank"
for how in "look-up:--lookup-max=100" "listing:--lookup-max=0"; do
	run match-users "${how#*:}" <"$T/frank"
	is "$rc/$(jq -r 'select(.type=="roster") | .oncall[0].account.id // .oncall[0].unmatched' "$T/out")" \
		0/a-00000000000000f2 "${how%%:*}: one active and one suspended user share an email: the active one matches"
	is "$(cat "$T/err")" "" "${how%%:*}: no warning"
done

# --- usage, --help and the man page agree ----------------------------------------
run match-users --by phone
is "$rc" 2 "--by phone: exit 2"
run match-users --by alias
is "$rc" 2 "--by alias without --identity-set: exit 2"
run match-users --identity-set x
is "$rc" 2 "--identity-set without --by alias: exit 2"
run match-users --lookup-max -1
is "$rc" 2 "--lookup-max -1: exit 2"
is "$(cat "$T/err")" "match-users: --lookup-max -1: expected a whole number from 0 to 1000000
Try 'match-users --help'." "a usage error says what and points to --help, as the other programs do"
run match-users extra
is "$rc" 2 "an operand: exit 2"
run match-users -V
like "$(cat "$T/out")" '^match-users [0-9]+\.[0-9]+' "-V prints the version"
run match-users --help
is "$rc" 0 "--help: exit 0"
like "$(cat "$T/out")" 'Environment: SDM_API_ACCESS_KEY, SDM_API_SECRET_KEY \(or \.\.\._FILE\), SDM_API_HOST' \
	"--help names the environment, as the other programs do"
like "$(cat "$T/out")" 'Exit: 0 done \(unmatched people included\), 1 failed,.2 usage or credentials, 3 refused' \
	"and the exit statuses"
help_opts=$(grep -o -- '--[a-z-]*' "$T/out" | sort -u)
man_opts=$(grep -o -- '\\-\\-[a-z-]*' "$ROOT/man/match-users.1" | sed 's/\\//g' | sort -u)
is "$man_opts" "$help_opts" "--help and the man page name the same long options"
ok "the README points to man match-users for them" grep -q '`man match-users`' "$ROOT/README.md"
syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$ROOT/man/match-users.1" | grep -o -- '\\-\\-[a-z-]*\|\\-[a-zA-Z]\b' | sed 's/\\//g' | sort -u | tr '\n' ' ')
use=$(sed -n '1,/^$/p' "$T/out" | grep -o -- '--[a-z-]*\|-[a-zA-Z]\b' | sort -u | tr '\n' ' ')
is "$syn" "$use" "usage() and the SYNOPSIS name the same options"

done_testing
