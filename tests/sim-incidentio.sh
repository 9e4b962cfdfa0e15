# shellcheck shell=bash
# sim-incidentio.sh: start, stop and steer scripts/incidentio-sim from tests.
# Source it, set SIM_DIR to a scratch directory (mktemp -d), then:
#   incidentio_sim_start WORLD [extra incidentio-sim args...]
#       starts the simulator on a free port, waits (60 s at most) until it
#       listens, and exports INCIDENT_API_URL, INCIDENT_API_KEY (the first
#       --key given, else test-incident-key), INCIDENTIO_SIM_URL,
#       INCIDENTIO_SIM_PID, INCIDENTIO_SIM_LOG (one JSON line per request).
#   incidentio_sim_stop                 stops it (safe to call twice)
#   incidentio_sim_clock NOW            sets the clock (RFC 3339)
#   incidentio_sim_advance DUR          moves it on ("2h", "90m", seconds)
#   incidentio_sim_fault JSON           adds fault(s): one fault object or
#                                       {"faults":[...]}
#   incidentio_sim_faults_clear         drops pending faults
#   incidentio_sim_count PATH_PREFIX    requests logged whose path starts so
#   incidentio_sim_requests             GET /_sim/requests (JSON)
# INCIDENTIO_SIM overrides the simulator's path.

_incidentio_sim_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${INCIDENTIO_SIM:=$_incidentio_sim_here/../scripts/incidentio-sim}"

_incidentio_sim_curl() {
	curl --noproxy '*' -fsS --max-time 60 "$@"
}

incidentio_sim_start() {
	local world=$1
	shift
	local dir=${SIM_DIR:?SIM_DIR must name a scratch directory}
	local portfile=$dir/incidentio-sim.port key=test-incident-key prev=
	local arg i
	for arg in "$@"; do
		if [[ $prev == --key ]]; then key=$arg; break; fi
		if [[ $arg == --key=* ]]; then key=${arg#--key=}; break; fi
		prev=$arg
	done
	rm -f "$portfile"
	INCIDENTIO_SIM_LOG=$dir/incidentio-sim.log
	: >"$INCIDENTIO_SIM_LOG"
	/usr/bin/python3 "$INCIDENTIO_SIM" --world "$world" --port 0 \
		--port-file "$portfile" --log "$INCIDENTIO_SIM_LOG" "$@" \
		>"$dir/incidentio-sim.out" 2>"$dir/incidentio-sim.err" &
	INCIDENTIO_SIM_PID=$!
	for ((i = 0; i < 1200; i++)); do
		[[ -s $portfile ]] && break
		if ! kill -0 "$INCIDENTIO_SIM_PID" 2>/dev/null; then
			echo "incidentio-sim did not start:" >&2
			cat "$dir/incidentio-sim.err" >&2
			INCIDENTIO_SIM_PID=
			return 1
		fi
		sleep 0.05
	done
	if [[ ! -s $portfile ]]; then
		echo "incidentio-sim: no port after 60 s" >&2
		incidentio_sim_stop
		return 1
	fi
	INCIDENTIO_SIM_URL=http://127.0.0.1:$(<"$portfile")
	INCIDENT_API_URL=$INCIDENTIO_SIM_URL
	INCIDENT_API_KEY=$key
	export INCIDENT_API_URL INCIDENT_API_KEY INCIDENTIO_SIM_URL \
		INCIDENTIO_SIM_PID INCIDENTIO_SIM_LOG
}

incidentio_sim_stop() {
	local pid=${INCIDENTIO_SIM_PID:-} i
	[[ -n $pid ]] || return 0
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	INCIDENTIO_SIM_PID=
}

incidentio_sim_clock() {
	_incidentio_sim_curl -X POST -H 'Content-Type: application/json' \
		--data "$(jq -cn --arg now "$1" '{now: $now}')" \
		"$INCIDENTIO_SIM_URL/_sim/clock" >/dev/null
}

incidentio_sim_advance() {
	local body
	if [[ $1 =~ ^[0-9]+$ ]]; then
		body="{\"advance\":$1}"
	else
		body=$(jq -cn --arg d "$1" '{advance: $d}')
	fi
	_incidentio_sim_curl -X POST -H 'Content-Type: application/json' \
		--data "$body" "$INCIDENTIO_SIM_URL/_sim/clock" >/dev/null
}

incidentio_sim_fault() {
	_incidentio_sim_curl -X POST -H 'Content-Type: application/json' \
		--data "$1" "$INCIDENTIO_SIM_URL/_sim/faults" >/dev/null
}

incidentio_sim_faults_clear() {
	_incidentio_sim_curl -X DELETE "$INCIDENTIO_SIM_URL/_sim/faults" >/dev/null
}

incidentio_sim_requests() {
	_incidentio_sim_curl "$INCIDENTIO_SIM_URL/_sim/requests"
}

incidentio_sim_count() {
	jq -c --arg p "${1:-/}" 'select(.path | startswith($p))' \
		"$INCIDENTIO_SIM_LOG" | wc -l | tr -d ' '
}
