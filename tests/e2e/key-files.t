#!/usr/bin/env bash
# key-files.t: key files are checked in one place, the programs' check
# (lib/util.c), which the wrapper runs (--check-credentials) instead of a
# check of its own: a FIFO is refused at once (never opened, so nothing
# waits for a writer), as is a device, a file of another user (as root) and
# a file its group may read; each message names the variable and the file
# the key came from and says what is wrong as ls -l would; the wrapper's
# message is the program's, word for word.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets ROOT, T, rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
require_cmd timeout

mkdir -m 700 "$T/keys"
(
	umask 077
	echo incident-test-key >"$T/keys/incident"
	echo access-test-key >"$T/keys/access"
	echo AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= >"$T/keys/secret"
)
export INCIDENT_API_KEY_FILE=$T/keys/incident SDM_API_ACCESS_KEY_FILE=$T/keys/access \
	SDM_API_SECRET_KEY_FILE=$T/keys/secret
ocs_config '{"schedules": ["TestSchedule"]}'

run fetch-oncall --check-credentials
is "$rc/$(cat "$T/err")" 0/ "fetch-oncall --check-credentials: a good key file: exit 0, nothing said"
run match-users --check-credentials
is "$rc/$(cat "$T/err")" 0/ "match-users --check-credentials: a good key pair: exit 0, nothing said"

# refused PROG VAR FILE DESC REGEX: PROG --check-credentials and
# oncall-sync sync, with VAR naming FILE, both refuse at once (exit 2, not
# the timeout's 124) with the same message, matching REGEX.
refused() {
	local prog=$1 var=$2 file=$3 desc=$4 want=$5 prc prog_msg
	rc=0
	env "$var=$file" timeout 20 "$BIN/$prog" --check-credentials >"$T/out" 2>"$T/err" || rc=$?
	prc=$rc
	prog_msg=$(cat "$T/err")
	is "$prc" 2 "$prog, $desc: refused at once (exit 2)"
	like "$prog_msg" "^$prog: $var=$file: $want" "$prog, $desc: names the variable, the file and what is wrong"
	rc=0
	env "$var=$file" timeout 20 oncall-sync sync >"$T/out" 2>"$T/err" || rc=$?
	is "$rc" 2 "oncall-sync sync, $desc: refused at once (exit 2)"
	is "$(cat "$T/err")" "oncall-sync: ${prog_msg#"$prog: "}" "oncall-sync sync, $desc: the program's message, word for word"
}

mkfifo -m 600 "$T/keys/fifo"
refused fetch-oncall INCIDENT_API_KEY_FILE "$T/keys/fifo" "a FIFO" \
	'is a FIFO \(named pipe\), not a regular file'
refused match-users SDM_API_SECRET_KEY_FILE "$T/keys/fifo" "a FIFO as the StrongDM secret" \
	'is a FIFO \(named pipe\), not a regular file'
refused fetch-oncall INCIDENT_API_KEY_FILE /dev/zero "a device" 'is a character device'

cp -p "$T/keys/incident" "$T/keys/group-readable"
chmod 640 "$T/keys/group-readable"
refused fetch-oncall INCIDENT_API_KEY_FILE "$T/keys/group-readable" "a group-readable file" \
	"mode -rw-r----- lets group members read it; a key file must be private: run: chmod 600 $T/keys/group-readable\$"
cp -p "$T/keys/access" "$T/keys/world-readable"
chmod 604 "$T/keys/world-readable"
refused match-users SDM_API_ACCESS_KEY_FILE "$T/keys/world-readable" "a file others may read" \
	"mode -rw----r-- lets others read it"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	cp -p "$T/keys/incident" "$T/keys/nobodys"
	chown nobody "$T/keys/nobodys"
	refused fetch-oncall INCIDENT_API_KEY_FILE "$T/keys/nobodys" "a file of another user" \
		"owned by nobody, not by root \\(who runs this\\): another user could replace the key; run: chown root $T/keys/nobodys\$"
else
	for _ in 1 2 3 4; do pass "# SKIP a file of another user: needs root and the user nobody"; done
fi

# doctor reports the same message (and goes on with its other checks)
rc=0
env INCIDENT_API_KEY_FILE="$T/keys/group-readable" timeout 60 oncall-sync doctor >"$T/out" 2>"$T/err" || rc=$?
like "$(cat "$T/out")" "FAIL  INCIDENT_API_KEY_FILE=$T/keys/group-readable: mode -rw-r----- lets group members read it" \
	"doctor: the program's message"

done_testing
