#!/usr/bin/env bash
# fault-matrix.t: a full sync, fetch-oncall -a | match-users |
# reconcile-groups --prune, through both simulators on a small generated
# world (scripts/gen-world small: 10 schedules, about 20 changes), under one
# fault at a time: on each API, at each stage, on reads and on writes, and
# with a stage killed (SIGKILL) mid-stream or mid-write.
#
# After the faulted run, StrongDM's state must be safe: no membership removed
# that should stay (initial ∩ expected ⊆ now), none added that should not
# (now ⊆ initial ∪ expected), unmanaged groups untouched, at most one group
# per schedule, and every managed group named as before or as expected. A
# transient fault (one the programs retry past) must still reach the
# expected state. Then a run without faults must converge to the expected
# state (computed by gen-world from the world). A table of outcomes is
# printed as TAP comments.
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, rc; reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

require_bin fetch-oncall match-users reconcile-groups

/usr/bin/python3 "$ROOT/scripts/gen-world" --seed 7 small "$T/world.json" "$T/meta.json" > /dev/null 2> "$T/gen-world.err" ||
	{ cat "$T/gen-world.err" >&2; bail "gen-world failed"; }
NOW=$(jq -r .now "$T/meta.json")

start_incidentio_sim "$T/world.json"
incidentio_sim_clock "$NOW"

# ---------------------------------------------------------------- state views
# memberships: "key account" lines, key "s:SCHEDULE" for a managed group,
# "g:ID" for any other.
KEY='(if .tags["managed-by"] == "oncall-sync" then "s:" + (.tags["incidentio-schedule-id"] // "?") else "g:" + .id end)'
memberships() { jq -r ".groups[] | $KEY as \$k | .members[] | \"\(\$k) \(.account_id)\"" "$1" | sort -u; }
names() { jq -r ".groups[] | select(.tags[\"managed-by\"] == \"oncall-sync\") | \"$(printf '%s' 's:')\(.tags[\"incidentio-schedule-id\"]) \(.name)\"" "$1" | sort; }
unmanaged() { jq -S '[.groups[] | select(.tags["managed-by"] != "oncall-sync") |
	{id, name, description, tags, members: [.members[].account_id] | sort}] | sort_by(.id)' "$1"; }
duplicates() { jq -r '[.groups[] | select(.tags["managed-by"] == "oncall-sync") | .tags["incidentio-schedule-id"]] |
	group_by(.) | map(select(length > 1) | .[0]) | .[]' "$1"; }

jq -r '.expected | to_entries[] | .key as $s | .value.members[] | "s:\($s) \(.)"' "$T/meta.json" | sort -u > "$T/E.members"
jq -r '.expected | to_entries[] | "s:\(.key) \(.value.name)"' "$T/meta.json" | sort > "$T/E.names"

# A StrongDM as the world has it for every case: the next case's simulator
# starts (in its own directory) while the current case runs.
SDM_N=0
sdm_spawn() { # starts simulator number $1 in $T/sdm$1, in the background
	local d="$T/sdm$1"
	mkdir -p "$d"
	: > "$d/calls.ndjson"
	/usr/bin/python3 "$ROOT/scripts/strongdm-sim" --world "$T/world.json" --port 0 \
		--port-file "$d/port" --control-port-file "$d/cport" --state "$d/state.json" \
		--log "$d/calls.ndjson" > "$d/out" 2> "$d/err" &
	echo $! > "$d/pid"
	disown   # killed by pid (stop_spare at the end): no job notices
}
strongdm_fresh() { # switches to a fresh simulator and records the state views
	local d i
	if [ -n "${STRONGDM_SIM_PID:-}" ]; then
		kill -KILL "$STRONGDM_SIM_PID" 2>/dev/null || true
	fi
	[ "$SDM_N" -eq 0 ] && sdm_spawn 1
	SDM_N=$((SDM_N + 1))
	d="$T/sdm$SDM_N"
	sdm_spawn $((SDM_N + 1))
	for ((i = 0; i < 200; i++)); do
		[ -s "$d/port" ] && [ -s "$d/cport" ] && break
		sleep 0.05
	done
	[ -s "$d/cport" ] || { cat "$d/err" >&2; bail "strongdm-sim did not start"; }
	STRONGDM_SIM_PID=$(cat "$d/pid")
	SDM_API_HOST="http://127.0.0.1:$(cat "$d/port")"
	STRONGDM_SIM_CONTROL="http://127.0.0.1:$(cat "$d/cport")"
	STRONGDM_SIM_LOG="$d/calls.ndjson"
	STRONGDM_SIM_STATE="$d/state.json"
	SDM_API_ACCESS_KEY=test-access-key
	SDM_API_SECRET_KEY=$STRONGDM_SIM_DEFAULT_SECRET
	export SDM_API_HOST STRONGDM_SIM_CONTROL STRONGDM_SIM_LOG STRONGDM_SIM_STATE \
		STRONGDM_SIM_PID SDM_API_ACCESS_KEY SDM_API_SECRET_KEY
	strongdm_sim_state > "$T/I.json"
	memberships "$T/I.json" > "$T/I.members"
	names "$T/I.json" > "$T/I.names"
	unmanaged "$T/I.json" > "$T/I.unmanaged"
	# what may hold at any moment: initial ∩ expected ⊆ now ⊆ initial ∪ expected
	comm -12 "$T/I.members" "$T/E.members" > "$T/must"
	sort -u "$T/I.members" "$T/E.members" > "$T/may"
}
stop_spare() { # the simulator started for a case that never came
	local f
	for f in "$T"/sdm*/pid; do kill -KILL "$(cat "$f")" 2>/dev/null || true; done
}
TAP_CLEANUP_HOOK='stop_spare'

# safe: 0 when the current state keeps the invariants; else prints why.
safe() {
	local bad=0
	strongdm_sim_state > "$T/C.json"
	memberships "$T/C.json" > "$T/C.members"
	if [ -n "$(comm -23 "$T/must" "$T/C.members")" ]; then
		echo "removed but should stay: $(comm -23 "$T/must" "$T/C.members" | head -n 5 | tr '\n' ' ')"
		bad=1
	fi
	if [ -n "$(comm -23 "$T/C.members" "$T/may")" ]; then
		echo "added but should not be: $(comm -23 "$T/C.members" "$T/may" | head -n 5 | tr '\n' ' ')"
		bad=1
	fi
	if ! unmanaged "$T/C.json" | cmp -s - "$T/I.unmanaged"; then
		echo "an unmanaged group changed"
		bad=1
	fi
	if [ -n "$(duplicates "$T/C.json")" ]; then
		echo "two managed groups for schedule(s) $(duplicates "$T/C.json" | tr '\n' ' ')"
		bad=1
	fi
	names "$T/C.json" > "$T/C.names"
	local k n
	while read -r k n; do
		grep -qxF "$k $n" "$T/I.names" || grep -qxF "$k $n" "$T/E.names" ||
			{ echo "group of $k named '$n', neither its old nor its expected name"; bad=1; }
	done < "$T/C.names"
	return "$bad"
}

# converged: 0 when the managed groups are exactly the expected ones.
converged() {
	strongdm_sim_state > "$T/C.json"
	memberships "$T/C.json" | grep '^s:' > "$T/C.members" || true
	names "$T/C.json" > "$T/C.names"
	if ! cmp -s "$T/C.members" "$T/E.members"; then
		echo "members differ from the expected (-expected +now): $(diff "$T/E.members" "$T/C.members" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
		return 1
	fi
	if ! cmp -s "$T/C.names" "$T/E.names"; then
		echo "group names differ: $(diff "$T/E.names" "$T/C.names" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
		return 1
	fi
	unmanaged "$T/C.json" | cmp -s - "$T/I.unmanaged" || { echo "an unmanaged group changed"; return 1; }
}

# ---------------------------------------------------------------- running
FETCH_ARGS=(-a --at "$NOW" --timeout 2s --retries 3)
# FETCH_EXTRA (set by a case): more fetch-oncall options, later ones win.

# pipeline: the sync as a user types it; exit statuses in $st ("f m r").
pipeline() {
	local s extra
	read -r -a extra <<< "${FETCH_EXTRA:-}"
	set +e
	timeout 90 "$BIN/fetch-oncall" "${FETCH_ARGS[@]}" "${extra[@]}" 2> "$T/fetch.err" | tee "$T/roster.ndjson" |
		timeout 90 "$BIN/match-users" 2> "$T/match.err" | tee "$T/matched.ndjson" |
		timeout 90 "$BIN/reconcile-groups" --prune > "$T/changes.ndjson" 2> "$T/reconcile.err"
	s=("${PIPESTATUS[@]}")
	set -e
	st="${s[0]} ${s[2]} ${s[4]}"
}

# pipeline_kill STAGE WAIT_CMD: the same with fifos, so that each stage has
# its own pid; WAIT_CMD (a state: a call in flight, a write logged) is polled
# every 50 ms (60 s at most: only a hung run gets there) and, once it holds,
# STAGE gets SIGKILL.
pipeline_kill() {
	local stage=$1 wait_cmd=$2 pf pm pr i victim rf=0 rm_=0 rr=0 extra
	read -r -a extra <<< "${FETCH_EXTRA:-}"
	rm -f "$T/p1" "$T/p2"
	mkfifo "$T/p1" "$T/p2"
	"$BIN/fetch-oncall" "${FETCH_ARGS[@]}" "${extra[@]}" > "$T/p1" 2> "$T/fetch.err" & pf=$!
	"$BIN/match-users" < "$T/p1" > "$T/p2" 2> "$T/match.err" & pm=$!
	"$BIN/reconcile-groups" --prune < "$T/p2" > "$T/changes.ndjson" 2> "$T/reconcile.err" & pr=$!
	case $stage in fetch-oncall) victim=$pf ;; match-users) victim=$pm ;; *) victim=$pr ;; esac
	for ((i = 0; i < 1200; i++)); do
		eval "$wait_cmd" && break
		sleep 0.05
	done
	kill -KILL "$victim" 2>/dev/null || true
	{ wait "$pf" || rf=$?; } 2>/dev/null
	{ wait "$pm" || rm_=$?; } 2>/dev/null
	{ wait "$pr" || rr=$?; } 2>/dev/null
	st="$rf $rm_ $rr"
}

ROWS=()
row() { ROWS+=("$(printf '%-36s | %-11s | %-16s | %-9s | %-7s | %-22s | %s' "$@")"); }

# run_case NAME API STAGE FAULT RECOVERS: FAULT is a JSON fault for the
# API's simulator ("" for none); RECOVERS=1 when the faulted run itself must
# reach the expected state. KILL_STAGE/KILL_WHEN (set by the caller) make
# it a kill case.
run_case() {
	local name=$1 api=$2 stage=$3 fault=$4 recovers=$5 why outcome state t0=$SECONDS
	strongdm_fresh
	incidentio_sim_faults_clear
	local iio_before
	iio_before=$(wc -l < "$INCIDENTIO_SIM_LOG")
	if [ -n "$fault" ]; then
		if [ "$api" = incident.io ]; then incidentio_sim_fault "$fault"; else strongdm_sim_fault "{\"faults\":[$fault]}"; fi
	fi
	if [ -n "${KILL_STAGE:-}" ]; then
		pipeline_kill "$KILL_STAGE" "$KILL_WHEN"
	else
		pipeline
	fi
	local st_fault=$st fired=0 i
	# (a slow answer is logged when it is sent, maybe after the client gave up)
	for ((i = 0; i < 60 && fired == 0; i++)); do
		if [ "$api" = incident.io ]; then
			tail -n +"$((iio_before + 1))" "$INCIDENTIO_SIM_LOG" | grep -q '"fault"' && fired=1
		else
			grep -q '"fault"' "$STRONGDM_SIM_LOG" && fired=1
		fi
		[ "$fired" = 1 ] || [ -z "$fault" ] || sleep 0.05
		[ -n "$fault" ] || break
	done
	# (a killed stage's slow call may not be logged yet: the kill is its fault)
	if [ -n "$fault" ] && [ -z "${KILL_STAGE:-}" ]; then
		is "$fired" 1 "$name: the fault was injected"
	fi
	cp "$T/fetch.err" "$T/fetch.err.faulted"
	# (SANITIZE=1 builds: a leak or an error on a retry or failure path shows here)
	if grep -q -E 'Sanitizer|runtime error' "$T/fetch.err" "$T/match.err" "$T/reconcile.err"; then
		fail "$name: no sanitizer report"
		diag "$(grep -h -A 6 -E 'Sanitizer|runtime error' "$T/fetch.err" "$T/match.err" "$T/reconcile.err" | head -n 20)"
	else
		pass "$name: no sanitizer report"
	fi
	if why=$(safe); then
		pass "$name: safe after the faulted run (exit $st)"
		state=safe
	else
		fail "$name: safe after the faulted run (exit $st)"
		diag "$why" "fetch: $(tail -n 2 "$T/fetch.err")" "match: $(tail -n 2 "$T/match.err")" "reconcile: $(tail -n 3 "$T/reconcile.err")"
		state=UNSAFE
	fi
	outcome=partial
	if converged > /dev/null; then outcome=converged; fi
	if [ "$recovers" = 1 ]; then
		if why=$(converged); then
			pass "$name: the faulted run itself reaches the expected state"
		else
			fail "$name: the faulted run itself reaches the expected state"
			diag "$why" "fetch: $(tail -n 2 "$T/fetch.err")" "match: $(tail -n 2 "$T/match.err")" "reconcile: $(tail -n 3 "$T/reconcile.err")"
		fi
	elif [ "$outcome" = partial ] && [ "$st_fault" = "0 0 0" ]; then
		fail "$name: a run that did not reach the expected state does not exit 0"
		diag "$(converged || true)"
	fi
	# then without faults (a run that already converged needs no second one:
	# running twice is pipeline.t's business)
	incidentio_sim_faults_clear
	strongdm_sim_clear_faults
	if [ "$outcome" = converged ] && [ "$name" != "no fault" ]; then
		pass "$name: a clean rerun converges (already converged)"
		row "$name" "$api" "$stage" "$outcome" "$st_fault" "$state, converged" "$((SECONDS - t0)) s"
		return
	fi
	KILL_STAGE='' FETCH_EXTRA='' pipeline
	if why=$(converged); then
		pass "$name: a clean rerun converges (exit $st)"
		state="$state, rerun converged"
	else
		fail "$name: a clean rerun converges (exit $st)"
		diag "$why" "reconcile: $(tail -n 3 "$T/reconcile.err")"
		state="$state, rerun DIVERGED"
	fi
	row "$name" "$api" "$stage" "$outcome" "$st_fault" "$state" "$((SECONDS - t0)) s"
}

# A sanity check of the checks: with no fault the sync reaches the expected
# state, and the world does need changes (so a run that wrote nothing would
# show).
strongdm_fresh
is "$(cmp -s "$T/I.members" "$T/E.members" && echo same || echo differs)" differs "the world starts out of date"
run_case "no fault" - - "" 1

# ------------------------------------------------------------ incident.io
E=/v2/schedule_entries
run_case "429 Retry-After seconds" incident.io fetch-oncall \
	'{"path_prefix":"/v2/schedules","kind":"status","status":429,"retry_after":"1"}' 1
run_case "429 Retry-After HTTP date" incident.io fetch-oncall \
	"{\"path_prefix\":\"$E\",\"kind\":\"status\",\"status\":429,\"retry_after_date_in\":1,\"count\":2}" 1
run_case "500" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"status\",\"status\":500,\"count\":2}" 1
run_case "503" incident.io fetch-oncall '{"path_prefix":"/v2/schedules","kind":"status","status":503}' 1
FETCH_EXTRA="--timeout 1s" \
	run_case "slow past the timeout (1 s)" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"slow\",\"delay_ms\":1600}" 1
run_case "cut mid-body" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"cut\"}" 1
run_case "malformed body" incident.io fetch-oncall '{"path_prefix":"/v2/schedules","kind":"malformed"}' 0
run_case "truncated JSON" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"truncated\"}" 0
run_case "repeating cursor" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"repeat_cursor\"}" 0
run_case "empty first page" incident.io fetch-oncall '{"path_prefix":"/v2/schedules","kind":"empty_page"}' 0
FETCH_EXTRA="--retries 1" run_case "500 on every list call" incident.io fetch-oncall '{"path_prefix":"/v2/schedules","kind":"status","status":500,"count":1000}' 0
FETCH_EXTRA="--retries 1" run_case "500 on every entries call" incident.io fetch-oncall "{\"path_prefix\":\"$E\",\"kind\":\"status\",\"status\":500,\"count\":1000}" 0

# ------------------------------------------------------------ StrongDM
run_case "RESOURCE_EXHAUSTED (reset_at) read" StrongDM match-users \
	'{"method":"Accounts.List","kind":"resource_exhausted","reset_in_ms":800}' 1
run_case "RESOURCE_EXHAUSTED (reset_at) write" StrongDM reconcile-groups \
	'{"method":"AccountsGroups.Create","kind":"resource_exhausted","reset_in_ms":800}' 1
run_case "UNAVAILABLE read" StrongDM reconcile-groups '{"method":"Groups.List","kind":"unavailable"}' 1
run_case "UNAVAILABLE write" StrongDM reconcile-groups '{"method":"AccountsGroups.Delete","kind":"unavailable"}' 1
run_case "INTERNAL read" StrongDM match-users '{"method":"Accounts.List","kind":"internal"}' 1
run_case "INTERNAL write" StrongDM reconcile-groups '{"method":"Groups.Create","kind":"internal"}' 1
run_case "slow read (1 s)" StrongDM match-users '{"method":"Accounts.List","kind":"slow","delay_ms":1000}' 1
run_case "slow writes (0.8 s)" StrongDM reconcile-groups '{"method":"AccountsGroups.*","kind":"slow","delay_ms":800,"count":3}' 1
run_case "drop read" StrongDM reconcile-groups '{"method":"AccountsGroups.List","kind":"drop"}' 1
run_case "drop write (before it is done)" StrongDM reconcile-groups '{"method":"AccountsGroups.Create","kind":"drop"}' 1
run_case "drop write (after it is done)" StrongDM reconcile-groups '{"method":"AccountsGroups.Create","kind":"drop","when":"after"}' 1
run_case "drop group create (after it is done)" StrongDM reconcile-groups '{"method":"Groups.Create","kind":"drop","when":"after"}' 1
run_case "drop delete (after it is done)" StrongDM reconcile-groups '{"method":"AccountsGroups.Delete","kind":"drop","when":"after"}' 1
run_case "UNAVAILABLE on every read" StrongDM match-users '{"method":"Accounts.List","kind":"unavailable","count":1000}' 0
run_case "INTERNAL on every group read" StrongDM reconcile-groups '{"method":"Groups.List","kind":"internal","count":1000}' 0
run_case "UNAVAILABLE on every write" StrongDM reconcile-groups '{"method":"AccountsGroups.*","kind":"unavailable","count":1000}' 0
run_case "PERMISSION_DENIED on deletes" StrongDM reconcile-groups '{"method":"Groups.Delete","kind":"status","code":7,"count":1000}' 0

# ------------------------------------------------------------ killed stages
# killed while one of its (slow) reads is being answered; the same for match-users
KILL_STAGE=fetch-oncall KILL_WHEN='[ "$(incidentio_sim_requests | jq .in_flight)" -ge 1 ]' \
	run_case "SIGKILL fetch-oncall mid-stream" incident.io fetch-oncall \
	"{\"path_prefix\":\"$E\",\"kind\":\"slow\",\"delay_ms\":1500,\"count\":1000}" 0
KILL_STAGE=match-users KILL_WHEN='[ "$(curl -sSf "$STRONGDM_SIM_CONTROL/inflight" | jq .in_flight)" -ge 1 ]' \
	run_case "SIGKILL match-users mid-stream" StrongDM match-users \
	'{"method":"Accounts.List","kind":"slow","delay_ms":1500}' 0
KILL_STAGE=reconcile-groups KILL_WHEN="grep -q -E '\"method\": \"[A-Za-z]+\\.(Create|Delete|Update)\"' \"\$STRONGDM_SIM_LOG\"" \
	run_case "SIGKILL reconcile-groups mid-write" StrongDM reconcile-groups \
	'{"method":"AccountsGroups.*","kind":"slow","delay_ms":400,"count":1000}' 0

note "$(printf '%-36s | %-11s | %-16s | %-9s | %-7s | %-22s | %s' case api stage outcome exit state time)"
for r in "${ROWS[@]}"; do note "$r"; done
done_testing
