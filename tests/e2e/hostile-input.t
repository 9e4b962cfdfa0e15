#!/usr/bin/env bash
# hostile-input.t: every program that reads stdin (match-users,
# reconcile-groups) is fed hostile streams (tests/hostile/gen-hostile.py: a
# line over 1 MiB, 100000 '[', invalid UTF-8, NUL bytes, every known field of
# the wrong type, duplicate keys, bad end records, empty input, only an end).
# Each must be refused naming the line (<stdin>:N:), with a non-zero exit
# (reconcile-groups: 3), no end record on stdout, no crash or sanitizer
# report, and nothing written to StrongDM (the simulator's state is unchanged
# and its call log has no write method).
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, rc; reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

require_bin match-users reconcile-groups

/usr/bin/python3 "$ROOT/tests/hostile/gen-hostile.py" "$T/cases"

# Two managed groups: a stream taken for complete would change both (Bob is
# not on call in any valid part; --prune would delete Payments).
S1=01G0J1EXE7AXZ2C93K61WBPYEH
S2=01G0J1EXE7AXZ2C93K61WBPYE2
jq --arg s1 "$S1" --arg s2 "$S2" '.groups += [
	{id: "group-00000000000000a1", name: "TestSchedule",
	 tags: {"managed-by": "oncall-sync", "incidentio-schedule-id": $s1},
	 members: ["alice@example.com", "bob@example.com"]},
	{id: "group-00000000000000a2", name: "Payments",
	 tags: {"managed-by": "oncall-sync", "incidentio-schedule-id": $s2},
	 members: ["carlos@example.com"]}]' \
	"$ROOT/tests/fixtures/reconcile-groups/world.json" > "$T/world.json"

start_sim() {
	start_strongdm_sim "$T/world.json"
	strongdm_sim_state > "$T/state.before"
}
start_sim

WRITES='"method": "[A-Za-z]+\.(Create|Update|Delete)"'

# check PROG NAME LINE: runs PROG on case NAME and reports one test.
check() {
	local prog=$1 name=$2 line=$3 want_rc=$4 problems=() log_before rc=0 args=()
	[ "$prog" = reconcile-groups ] && args=(--prune)
	log_before=$(wc -l < "$STRONGDM_SIM_LOG")
	timeout 60 "$BIN/$prog" "${args[@]}" < "$T/cases/$name.in" > "$T/out" 2> "$T/err" || rc=$?
	if [ "$want_rc" = any ]; then
		{ [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]; } || problems+=("exit $rc, want 1..127")
	else
		[ "$rc" -eq "$want_rc" ] || problems+=("exit $rc, want $want_rc")
	fi
	grep -q -E "^$prog: <stdin>:$line: " "$T/err" || problems+=("no '$prog: <stdin>:$line:' on stderr")
	! grep -q -E 'Sanitizer|runtime error|LeakSanitizer|Segmentation' "$T/err" || problems+=("sanitizer report")
	! grep -q '"type":"end"' "$T/out" || problems+=("end record on stdout")
	tail -n +"$((log_before + 1))" "$STRONGDM_SIM_LOG" | grep -q -E "$WRITES" && problems+=("write calls to StrongDM")
	strongdm_sim_state > "$T/state.after"
	if ! cmp -s "$T/state.before" "$T/state.after"; then
		problems+=("StrongDM state changed")
		strongdm_sim_stop   # start again from the world for the next case
		start_sim
	fi
	local desc="$prog refuses $name (<stdin>:$line:)"
	if [ -n "${TODO[$prog:$name]:-}" ]; then
		# a known disagreement between the brief and the design: reported,
		# not counted as a failure (TAP TODO)
		_tap_n=$((_tap_n + 1))
		if [ ${#problems[@]} -eq 0 ]; then
			echo "ok $_tap_n - $desc # TODO ${TODO[$prog:$name]}"
		else
			echo "not ok $_tap_n - $desc # TODO ${TODO[$prog:$name]}"
		fi
	elif [ ${#problems[@]} -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc"
		diag "${problems[@]}" "stderr: $(head -c 300 "$T/err")"
	fi
}

# An input that is only an end record is a complete stream with no schedule.
# reconcile-groups refuses it (with --prune it would delete every managed
# group); match-users may pass it on (it changes nothing): TODO, a design
# decision rather than a bug.
declare -A TODO=(
	[match-users:only-end]="an empty complete stream is passed on; reconcile-groups is the one to refuse it"
)

# The harness sees writes: a valid stream changes the groups.
printf '%s\n%s\n' "$(head -n 1 "$T/cases/no-end.in")" \
	'{"type":"end","stage":"match-users","records":1}' > "$T/cases/valid.in"
rc=0
"$BIN/reconcile-groups" < "$T/cases/valid.in" > "$T/out" 2> "$T/err" || rc=$?
strongdm_sim_state > "$T/state.after"
if [ "$rc" -eq 0 ] && ! cmp -s "$T/state.before" "$T/state.after" && grep -q -E "$WRITES" "$STRONGDM_SIM_LOG"; then
	pass "a valid stream does change the groups (the checks below can see writes)"
else
	fail "a valid stream does change the groups (the checks below can see writes)"
	diag "exit $rc" "$(head -c 300 "$T/err")"
fi
strongdm_sim_stop
start_sim

while IFS=$'\t' read -r name applies line; do
	[ "$applies" = both ] && check match-users "$name" "$line" any
	check reconcile-groups "$name" "$line" 3
done < "$T/cases/cases.tsv"
strongdm_sim_stop

# fetch-oncall reads no stdin; its hostile input is incident.io's answers.
# Bytes the simulator's JSON world cannot hold come from a fake server. Each
# time fetch-oncall must still write a stream the next stage accepts: one bad
# schedule may fail, never the whole sync.
CHECK="$BUILD_DIR/tests/tools/ndjson-check"
for mode in utf8-name long-error; do
	rm -f "$T/fake.port"
	/usr/bin/python3 "$ROOT/tests/hostile/fake-incidentio.py" "$mode" "$T/fake.port" &
	fake=$!
	for _ in $(seq 1200); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
	[ -s "$T/fake.port" ] || bail "fake-incidentio.py did not start"
	rc=0
	INCIDENT_API_URL="http://127.0.0.1:$(cat "$T/fake.port")" INCIDENT_API_KEY=hostile-test-key \
		timeout 60 "$BIN/fetch-oncall" -a --retries 0 > "$T/fo.out" 2> "$T/fo.err" || rc=$?
	kill "$fake" 2>/dev/null || true
	wait "$fake" 2>/dev/null || true
	ok "fetch-oncall ($mode): no crash (exit $rc)" test "$rc" -lt 128
	crc=0
	if [ -x "$CHECK" ]; then
		"$CHECK" "$T/fo.out" > /dev/null 2> "$T/check.err" || crc=$?
	else
		echo "$CHECK is not built (make unit)" > "$T/check.err"
		crc=1
	fi
	is "$crc" 0 "fetch-oncall ($mode): its stream is valid NDJSON in UTF-8 that the next stage accepts"
	[ "$crc" -eq 0 ] || diag "$(cat "$T/check.err")" "fetch-oncall: $(head -c 400 "$T/fo.err")"
	is "$(jq -R 'fromjson? | select(.type == "roster" and .schedule.name == "Good") | .oncall[0].email' "$T/fo.out" 2>/dev/null)" \
		'"alice@example.com"' "fetch-oncall ($mode): the well-formed schedule is still there"
done

done_testing
