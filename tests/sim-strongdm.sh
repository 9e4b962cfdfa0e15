# shellcheck shell=bash
# Functions to run scripts/strongdm-sim from a test.  Source this file, set
# SIM_DIR (a directory the test owns and removes), then:
#
#   strongdm_sim_start WORLD [extra strongdm-sim args]
#       starts the simulator, waits until it listens (60 s at most: only a
#       hung start fails), and
#       exports SDM_API_HOST, SDM_API_ACCESS_KEY, SDM_API_SECRET_KEY (the
#       default key pair), STRONGDM_SIM_PID, STRONGDM_SIM_STATE (state dump),
#       STRONGDM_SIM_LOG (NDJSON call log), STRONGDM_SIM_CONTROL (control URL)
#   strongdm_sim_stop                 stops it (TERM, then KILL after 5 s)
#   strongdm_sim_fault JSON           POST /faults ('{"faults":[...]}')
#   strongdm_sim_clear_faults         DELETE /faults
#   strongdm_sim_state                prints the state JSON (GET /state)
#   strongdm_sim_count METHOD [OUTCOME]
#                                     calls of METHOD ("*" = all) in the log,
#                                     optionally only those with OUTCOME (OK,
#                                     RESOURCE_EXHAUSTED, DROPPED, ...)

STRONGDM_SIM_DEFAULT_SECRET='AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='
STRONGDM_SIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

strongdm_sim_start() {
	local world=${1:?strongdm_sim_start: WORLD file expected}
	shift
	: "${SIM_DIR:?strongdm_sim_start: set SIM_DIR first}"
	local portf="$SIM_DIR/strongdm-sim.port" cportf="$SIM_DIR/strongdm-sim.cport"
	rm -f "$portf" "$cportf"
	STRONGDM_SIM_STATE="$SIM_DIR/strongdm-state.json"
	STRONGDM_SIM_LOG="$SIM_DIR/strongdm-calls.ndjson"
	: >"$STRONGDM_SIM_LOG"
	local clock=()
	mapfile -t clock < <(strongdm_sim_clock_args)
	env -u LD_PRELOAD /usr/bin/python3 "$STRONGDM_SIM_ROOT/scripts/strongdm-sim" \
		"${clock[@]}" --world "$world" --port 0 --port-file "$portf" \
		--control-port-file "$cportf" --state "$STRONGDM_SIM_STATE" \
		--log "$STRONGDM_SIM_LOG" "$@" \
		>"$SIM_DIR/strongdm-sim.out" 2>"$SIM_DIR/strongdm-sim.err" &
	STRONGDM_SIM_PID=$!
	local i
	for ((i = 0; i < 600; i++)); do
		if [[ -s $cportf && -s $portf ]]; then
			break
		fi
		if ! kill -0 "$STRONGDM_SIM_PID" 2>/dev/null; then
			echo "strongdm-sim failed to start:" >&2
			cat "$SIM_DIR/strongdm-sim.err" >&2
			return 1
		fi
		sleep 0.1
	done
	if [[ ! -s $cportf ]]; then
		echo "strongdm-sim did not start within 60 s" >&2
		strongdm_sim_stop
		return 1
	fi
	SDM_API_HOST="http://127.0.0.1:$(<"$portf")"
	STRONGDM_SIM_CONTROL="http://127.0.0.1:$(<"$cportf")"
	export SDM_API_HOST STRONGDM_SIM_CONTROL
	export SDM_API_ACCESS_KEY=test-access-key
	export SDM_API_SECRET_KEY=$STRONGDM_SIM_DEFAULT_SECRET
	export STRONGDM_SIM_PID STRONGDM_SIM_STATE STRONGDM_SIM_LOG
}

# strongdm_sim_clock_args: under libfaketime (CI's run with the clock moved a
# year ahead and TZ far east) grpcio's server hangs, so the simulator runs
# without the preload, on the machine's clock, and is told the offset of the
# faked one: its signature dates then agree with the clients'.
strongdm_sim_clock_args() {
	case ${LD_PRELOAD:-} in
	*faketime*) ;;
	*) return 0 ;;
	esac
	local fake real
	fake=$(date +%s)
	real=$(env -u LD_PRELOAD date +%s)
	printf '%s\n' --clock-offset "$((fake - real))"
}

strongdm_sim_stop() {
	local pid=${STRONGDM_SIM_PID:-}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	STRONGDM_SIM_PID=
}

strongdm_sim_fault() {
	curl -sSf -X POST -H 'Content-Type: application/json' \
		--data-binary "${1:?strongdm_sim_fault: JSON expected}" \
		"$STRONGDM_SIM_CONTROL/faults" >/dev/null
}

strongdm_sim_clear_faults() {
	curl -sSf -X DELETE "$STRONGDM_SIM_CONTROL/faults" >/dev/null
}

strongdm_sim_state() {
	curl -sSf "$STRONGDM_SIM_CONTROL/state"
}

strongdm_sim_count() {
	local method=${1:?strongdm_sim_count: METHOD expected} outcome=${2:-}
	jq -n --arg m "$method" --arg o "$outcome" \
		'[inputs | select(($m == "*" or .method == $m) and
		                  ($o == "" or .outcome == $o))] | length' \
		"$STRONGDM_SIM_LOG"
}
