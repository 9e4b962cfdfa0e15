#!/usr/bin/env bash
# Safety rule 7: with fetch-oncall -a | match-users | reconcile-groups
# --prune, a group is deleted only when its schedule is absent from a
# listing proven complete. An incident.io listing cut after one page, one
# that skips a page, or one whose last page is short of the total it states
# fails fetch-oncall (exit 1, no stream) and deletes nothing. A complete
# listing that would retire more than --max-prune-share of the managed
# groups is held (exit 3). An explicit selection (-s) still retires the
# groups of the schedules it leaves out.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
# the record types of a stream, one word each ("error" for a failed listing:
# fetch-oncall's one error record naming no schedule, and no end)
stream_kinds() { jq -r '.type' "$1" | paste -sd' ' -; }
# shellcheck disable=SC2034 # read by tests/tap.sh

N=510 # three pages of fetch-oncall's 250: 250, 250, 10

# incident.io: N schedules with nobody on call; StrongDM: a managed group
# for each, and Alice.
jq -n --argjson n "$N" '{now: "2026-11-29T07:00:00Z",
	schedules: [range($n) as $i | {id: ("01PRUNE" + ("0000000000000000000" + ($i | tostring))[-19:]),
	                               name: "Schedule \($i)"}]}' >"$T/iio.json"
jq -n --argjson n "$N" '{accounts: [{type: "user", email: "alice@example.com", first_name: "Alice", last_name: "A"}],
	groups: [range($n) as $i | {name: "Schedule \($i)", members: [],
	  tags: {"managed-by": "oncall-sync",
	         "incidentio-schedule-id": ("01PRUNE" + ("0000000000000000000" + ($i | tostring))[-19:])}}]}' >"$T/sdm.json"
jq '.schedules |= .[:100]' "$T/iio.json" >"$T/iio-100.json"

start_incidentio_sim "$T/iio.json"
start_strongdm_sim "$T/sdm.json" --rate-limit 1000000,1000000   # hundreds of writes: no pacing by the 500 a minute

managed() { strongdm_sim_state | jq '[.groups[] | select(.tags["managed-by"] == "oncall-sync")] | length'; }

# pipeline [fetch-oncall args] -- [reconcile-groups args]: as a user types
# it; sets fs, ms, rs (the three exit statuses); streams in $T/{roster,changes}.
pipeline() {
	local fa=() ra=()
	while (($#)) && [[ $1 != -- ]]; do fa+=("$1"); shift; done
	(($#)) && shift
	ra=("$@")
	set +e
	fetch-oncall "${fa[@]}" 2>"$T/ferr" | tee "$T/roster" | match-users 2>"$T/merr" |
		tee "$T/matched" | reconcile-groups --prune "${ra[@]}" >"$T/changes" 2>"$T/rerr"
	local st=("${PIPESTATUS[@]}")
	set -e
	fs=${st[0]} ms=${st[2]} rs=${st[4]}
}

# --- a complete listing: every schedule named, nothing to prune
pipeline -a
is "$fs/$ms/$rs" 0/0/0 "a complete listing: every stage exits 0"
is "$(jq -c 'select(.type == "end")' "$T/roster")" \
	"{\"type\":\"end\",\"stage\":\"fetch-oncall\",\"records\":$N,\"selection\":\"all\"}" \
	"fetch-oncall -a says so in its end record"
is "$(jq -c 'select(.type == "end") | .selection' "$T/matched")" '"all"' "match-users passes the selection on"
is "$(managed)" "$N" "no group deleted"

# --- a listing cut after one page (no cursor, 250 of 510)
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "last_page"}'
pipeline -a
is "$fs" 1 "cut after one page: fetch-oncall exits 1"
like "$(cat "$T/ferr")" 'the listing ended after 250 schedules, but incident.io stated 510' \
	"and says the listing is short of the total"
is "$(stream_kinds "$T/roster")" "error" "and writes no stream: one error record with its code, no roster, no end"
is "$rs" 3 "reconcile-groups refuses the cut stream"
is "$(managed)" "$N" "0 groups deleted"

# --- a listing that skips a page (pages 1 and 3: 260 of 510)
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "skip_page"}'
pipeline -a
is "$fs" 1 "a skipped page: fetch-oncall exits 1"
like "$(cat "$T/ferr")" 'ended after 260 schedules, but incident.io stated 510' "names the shortfall"
is "$(stream_kinds "$T/roster")" "error" "no stream (one error record, no end)"
is "$(managed)" "$N" "0 groups deleted"

# --- a last page short of the total (509 of 510)
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "short_page", "skip": 2}'
pipeline -a
is "$fs" 1 "a short last page: fetch-oncall exits 1"
like "$(cat "$T/ferr")" 'ended after 509 schedules, but incident.io stated 510' "names the shortfall"
is "$(managed)" "$N" "0 groups deleted"

# --- a page served again in place of the next: the count adds up, a page
# is missing
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "repeat_page", "skip": 1}'
pipeline -a
is "$fs" 1 "a page served twice: fetch-oncall exits 1"
like "$(cat "$T/ferr")" 'listed schedule 01PRUNE0*[0-9]+ twice' "names a schedule listed twice"
is "$(managed)" "$N" "0 groups deleted"

# --- an empty page that still carries a cursor, short of the total
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "empty_page", "skip": 1}'
pipeline -a
is "$fs" 1 "an empty page before the end: fetch-oncall exits 1"
is "$(managed)" "$N" "0 groups deleted"

# --- the same faults fail --list too (it reads the same listing)
incidentio_sim_fault '{"path_prefix": "/v2/schedules", "kind": "last_page"}'
rc=0
fetch-oncall --list >"$T/list" 2>"$T/lerr" || rc=$?
is "$rc/$(stream_kinds "$T/list")" 1/error "fetch-oncall --list: exit 1, no stream (one error record, no end)"

# --- a complete listing of 100 schedules where StrongDM holds 510 groups:
# deleting 410 (80 %) is held
incidentio_sim_stop
start_incidentio_sim "$T/iio-100.json"
pipeline -a
is "$fs/$ms/$rs" 0/0/3 "a prune of 410 of 510 groups from -a is held: exit 3"
is "$(jq -r 'select(.type == "change") | .status' "$T/changes" | sort | uniq -c | awk '{print $2 "=" $1}' | paste -sd' ')" \
	"held=410" "the plan is written, every delete_group held"
like "$(cat "$T/rerr")" 'would delete 410 of the 510 managed groups, more than --max-prune-share allows' \
	"the message names the counts and the option"
is "$(managed)" "$N" "0 groups deleted"

pipeline -a -- --dry-run
is "$rs" 3 "a dry run shows the same hold"

pipeline -a -- --max-prune-share 0.9
is "$rs" 0 "--max-prune-share 0.9 lets it through"
is "$(managed)" 100 "410 groups deleted"

# --- explicit selection: the schedules left out are retired, whatever the share
pipeline -s "Schedule 0" -s "Schedule 1"
is "$fs/$ms/$rs" 0/0/0 "-s with two schedules: exit 0"
is "$(jq -c 'select(.type == "end") | .selection' "$T/roster")" '"explicit"' "the stream says explicit"
is "$(managed)" 2 "the 98 schedules taken out of the selection lose their groups (not held)"

# --- every group from -a, only with --allow-empty (and a share of 1)
jq '.schedules = []' "$T/iio.json" >"$T/iio-0.json"
incidentio_sim_stop
start_incidentio_sim "$T/iio-0.json"
pipeline -a -- --allow-empty
is "$rs" 3 "-a listing no schedule: deleting every group is held at the default share"
is "$(managed)" 2 "nothing deleted"
pipeline -a -- --allow-empty --max-prune-share 1
is "$rs" 0 "--allow-empty --max-prune-share 1: every group retired"
is "$(managed)" 0 "no managed group left"

rc=0
reconcile-groups --max-prune-share 1.5 </dev/null 2>"$T/err" || rc=$?
is "$rc" 2 "--max-prune-share above 1 is a usage error"

done_testing
