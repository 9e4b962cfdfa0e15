#!/usr/bin/env bash
# secrets.t: API keys never show. oncall-sync sync runs against both
# simulators with distinctive keys (from the environment, then from *_FILE
# files of mode 600, then with debug logging); while it runs, the command
# line of every process of its session is read from /proc; afterwards every
# kept stream, log, audit trail, metrics file and the programs' own output
# are searched: no key may appear anywhere. Also: a key file others (or the
# group) may read is refused; a plaintext http:// endpoint that is not
# loopback is refused; nothing in the sources can turn TLS verification off.
# shellcheck disable=SC1091,SC2034,SC2154 # tap.sh (sourced) sets ROOT, T, rc; reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
require_cmd setsid

# Distinctive keys, new for every run of the test.
rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
INC_KEY="inc-secret-$(rand 16)"
SDM_ACCESS="auth-secret-$(rand 12)"
SDM_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
SDM_SECRET_HEX=$(printf '%s' "$SDM_SECRET" | base64 -d | od -An -tx1 | tr -d ' \n')
jq --arg a "$SDM_ACCESS" --arg s "$SDM_SECRET" '.strongdm.api_keys += [{access_key: $a, secret_key: $s}]' \
	"$FIX/world.json" > "$T/world.json"
start_incidentio_sim "$T/world.json" --key "$INC_KEY"
start_strongdm_sim "$T/world.json" --latency-ms 60
unset INCIDENT_API_KEY SDM_API_ACCESS_KEY SDM_API_SECRET_KEY # set by the sim helpers
printf '%s\n' '{"name": "secrets", "schedules": ["TestSchedule", "Platform"], "user_lookup": "email"}' > "$ONCALL_SYNC_CONFIG"

mkdir -m 700 "$T/keys"
(
	umask 077
	printf '%s\n' "$INC_KEY" > "$T/keys/incident"
	printf '%s\n' "$SDM_ACCESS" > "$T/keys/access"
	printf '%s\n' "$SDM_SECRET" > "$T/keys/secret"
)

# leaks FILE...: prints where a key appears (nothing when none does).
leaks() {
	grep -r -l -F -a -e "$INC_KEY" -e "$SDM_ACCESS" -e "$SDM_SECRET" -e "$SDM_SECRET_HEX" "$@" 2>/dev/null || true
}

# watch_sync NAME ARGS...: runs "oncall-sync ARGS" in its own session and,
# until it ends, keeps the command line of every process in that session.
# Sets $rc; the wrapper's output in $T/NAME.out and $T/NAME.err, the
# command lines in $T/NAME.cmdlines, the programs seen in $T/NAME.seen.
watch_sync() {
	local name=$1 pid p held=1
	shift
	rc=0
	: > "$T/$name.cmdlines"
	setsid "$BIN/oncall-sync" "$@" > "$T/$name.out" 2> "$T/$name.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for p in $(ps -e -o pid=,sid= | awk -v s="$pid" '$2 == s {print $1}'); do
			tr "\\0" " " 2>/dev/null < "/proc/$p/cmdline" >> "$T/$name.cmdlines" && echo >> "$T/$name.cmdlines"
		done
		# all three seen: let incident.io answer
		if [ -n "$held" ] && [ "$(grep -o -E '(fetch-oncall|match-users|reconcile-groups)( |$)' "$T/$name.cmdlines" | tr -d " " | sort -u | wc -l)" -eq 3 ]; then
			incidentio_sim_faults_clear
			held=
		fi
		sleep 0.02
	done
	[ -z "$held" ] || incidentio_sim_faults_clear
	wait "$pid" || rc=$?
	grep -o -E '(fetch-oncall|match-users|reconcile-groups)( |$)' "$T/$name.cmdlines" | sort -u | tr -d ' ' | tr '\n' ' ' > "$T/$name.seen" || true
}

# incident.io's answers are held until watch_sync has seen the three
# programs, so that they are seen on a machine of any speed.
slow_incidentio() {
	incidentio_sim_fault '{"path_prefix": "/v2/schedule", "kind": "hold", "count": 1000}'
}

# --- keys in the environment
slow_incidentio
INCIDENT_API_KEY=$INC_KEY SDM_API_ACCESS_KEY=$SDM_ACCESS SDM_API_SECRET_KEY=$SDM_SECRET \
	watch_sync env sync
is "$rc" 0 "sync with keys from the environment exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -n 5 "$T/env.err")"
is "$(cat "$T/env.seen")" "fetch-oncall match-users reconcile-groups " "the three programs were seen running"
is "$(leaks "$T/env.cmdlines")" "" "no key in the command line of any process"

# --- keys in private files, verbose, debug logging
slow_incidentio
INCIDENT_API_KEY_FILE=$T/keys/incident SDM_API_ACCESS_KEY_FILE=$T/keys/access SDM_API_SECRET_KEY_FILE=$T/keys/secret \
	ONCALL_LOG=debug watch_sync files sync -v
is "$rc" 0 "sync with keys from files (mode 600), verbose, debug log, exits 0"
[ "$rc" -eq 0 ] || diag "$(tail -n 5 "$T/files.err")"
is "$(cat "$T/files.seen")" "fetch-oncall match-users reconcile-groups " "the three programs were seen running"
is "$(leaks "$T/files.cmdlines")" "" "no key or key file content in the command line of any process"

# --- the programs themselves, with debug logging and verbose requests
export INCIDENT_API_KEY_FILE=$T/keys/incident SDM_API_ACCESS_KEY_FILE=$T/keys/access SDM_API_SECRET_KEY_FILE=$T/keys/secret
rc=0
ONCALL_LOG=debug "$BIN/fetch-oncall" -v -s TestSchedule -s Platform > "$T/prog.roster" 2> "$T/prog.fetch.err" || rc=$?
ONCALL_LOG=debug "$BIN/match-users" < "$T/prog.roster" > "$T/prog.matched" 2> "$T/prog.match.err" || rc=$?
ONCALL_LOG=debug "$BIN/reconcile-groups" -n < "$T/prog.matched" > "$T/prog.changes" 2> "$T/prog.reconcile.err" || rc=$?
is "$rc" 0 "the three programs run by hand with debug logging"
[ "$rc" -eq 0 ] || diag "$(tail -n 3 "$T"/prog.*.err)"

# --- wrong keys: the answers' errors must not echo them either
WRONG_INC="inc-wrong-$(rand 16)"
WRONG_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
rc=0
INCIDENT_API_KEY=$WRONG_INC INCIDENT_API_KEY_FILE='' "$BIN/fetch-oncall" -a > "$T/wrong.roster" 2> "$T/wrong.fetch.err" || rc=$?
ok "a wrong incident.io key fails (exit $rc)" test "$rc" -ne 0
rc=0
SDM_API_SECRET_KEY=$WRONG_SECRET SDM_API_SECRET_KEY_FILE='' "$BIN/match-users" < "$T/prog.roster" > "$T/wrong.matched" 2> "$T/wrong.match.err" || rc=$?
ok "a wrong StrongDM secret fails (exit $rc)" test "$rc" -ne 0
is "$(grep -l -F -a -e "$WRONG_INC" -e "$WRONG_SECRET" "$T"/wrong.* || true)" "" "no wrong key in the output or the error messages"
unset INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY_FILE SDM_API_SECRET_KEY_FILE

# --- everything that was kept or printed
ok "the state directory holds the streams, audit trail and metrics" \
	test -s "$T/state/last/roster.ndjson" -a -s "$T/state/last/changes.ndjson" -a -s "$T/state/audit.ndjson" -a -s "$T/state/metrics.prom"
is "$(leaks "$T/state")" "" "no key in any file of the state directory (streams, stderr.log, run.json, audit.ndjson, metrics.prom)"
is "$(leaks "$T"/env.out "$T"/env.err "$T"/files.out "$T"/files.err)" "" "no key in the wrapper's stdout or stderr (verbose, debug)"
is "$(leaks "$T"/prog.*)" "" "no key in the programs' streams or stderr (debug, -v)"

# --- a key file that others or the group may read is refused, without the key
for mode in 644 640 604; do
	cp "$T/keys/secret" "$T/keys/open"
	chmod "$mode" "$T/keys/open"
	run env INCIDENT_API_KEY_FILE="$T/keys/incident" SDM_API_ACCESS_KEY_FILE="$T/keys/access" \
		SDM_API_SECRET_KEY_FILE="$T/keys/open" "$BIN/oncall-sync" sync
	is "$rc" 2 "oncall-sync refuses a secret key file of mode $mode (exit 2)"
	like "$(cat "$T/err")" 'open' "the message names the file"
	run env SDM_API_ACCESS_KEY_FILE="$T/keys/access" SDM_API_SECRET_KEY_FILE="$T/keys/open" \
		"$BIN/match-users" < "$T/prog.roster"
	is "$rc" 2 "match-users refuses a secret key file of mode $mode (exit 2)"
	run env SDM_API_ACCESS_KEY_FILE="$T/keys/access" SDM_API_SECRET_KEY_FILE="$T/keys/open" \
		"$BIN/reconcile-groups" -n < "$T/prog.matched"
	is "$rc" 2 "reconcile-groups refuses a secret key file of mode $mode (exit 2)"
	cp "$T/keys/incident" "$T/keys/open"
	chmod "$mode" "$T/keys/open"
	run env INCIDENT_API_KEY_FILE="$T/keys/open" "$BIN/fetch-oncall" -a
	is "$rc" 2 "fetch-oncall refuses an API key file of mode $mode (exit 2)"
	is "$(leaks "$T/out" "$T/err")" "" "and does not print the key"
done

# --- plaintext HTTP only to loopback. The hosts below never resolve (.invalid),
# so a program that failed to refuse them could not reach anything either.
export INCIDENT_API_KEY_FILE=$T/keys/incident SDM_API_ACCESS_KEY_FILE=$T/keys/access SDM_API_SECRET_KEY_FILE=$T/keys/secret
for url in http://api.incident.invalid http://127.0.0.1.evil.invalid:8080 \
	'http://127.0.0.1@evil.invalid:8080' 'http://localhost.evil.invalid' 'HTTP://api.incident.invalid'; do
	run env INCIDENT_API_URL="$url" "$BIN/fetch-oncall" -a --retries 0
	is "$rc" 2 "fetch-oncall refuses INCIDENT_API_URL=$url (exit 2)"
done
for host in http://app.strongdm.invalid:80 'http://127.0.0.1@strongdm.invalid:80' http://127.0.0.1.strongdm.invalid:80; do
	run env SDM_API_HOST="$host" "$BIN/match-users" < "$T/prog.roster"
	is "$rc" 2 "match-users refuses SDM_API_HOST=$host (exit 2)"
	run env SDM_API_HOST="$host" "$BIN/reconcile-groups" -n < "$T/prog.matched"
	is "$rc" 2 "reconcile-groups refuses SDM_API_HOST=$host (exit 2)"
done
run env INCIDENT_API_URL=http://api.incident.invalid "$BIN/oncall-sync" sync
ok "oncall-sync fails with a plaintext non-loopback INCIDENT_API_URL (exit $rc)" test "$rc" -ne 0 -a "$rc" -lt 128
unset INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY_FILE SDM_API_SECRET_KEY_FILE

# --- TLS verification cannot be turned off: no source sets curl's
# verification options to 0 or passes curl -k/--insecure.
cd "$ROOT"
src=(lib/*.[ch] fetch-oncall/*.[ch] match-users/*.[ch] reconcile-groups/*.[ch] bin/oncall-sync)
found=$(grep -n -E 'CURLOPT_(PROXY_)?SSL_VERIFY(PEER|HOST)[^;]*,[[:space:]]*(0|0L|FALSE|false)[[:space:]]*\)' "${src[@]}" || true)
is "$found" "" "no CURLOPT_SSL_VERIFYPEER/VERIFYHOST set to 0"
found=$(grep -n -E 'CURLOPT_(PROXY_)?SSL_VERIFY(PEER|HOST)' "${src[@]}" | grep -v -E ',[[:space:]]*(1|1L|2|2L)[[:space:]]*\)' || true)
is "$found" "" "curl's verification options are only ever set on (1 or 2)"
found=$(grep -n -E '(^|[[:space:]])curl[[:space:]].*(-k|--insecure)([[:space:]]|$)|CURLSSLOPT_NO_REVOKE|INSECURE' "${src[@]}" || true)
is "$found" "" "no insecure switch (curl -k, --insecure, an INSECURE option)"

done_testing
