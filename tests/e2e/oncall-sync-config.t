#!/usr/bin/env bash
# oncall-sync: usage, bad configurations and unsafe key files (no API calls).
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs

run oncall-sync --version
is "$rc $(cat "$T/out")" "0 oncall-sync 0.1.0" "--version prints the version"
run oncall-sync --help
ok "--help shows every command" grep -q 'explain PERSON' "$T/out"
run oncall-sync frobnicate
is "$rc" 2 "an unknown command is a usage error"
like "$(cat "$T/err")" "unknown command 'frobnicate'" "and says which"
run oncall-sync
is "$rc" 2 "no command is a usage error"
run oncall-sync sync --at 2026-11-29T10:00:00Z
is "$rc" 2 "sync --at without --dry-run is refused"
run oncall-sync daemon --every soon
is "$rc" 2 "daemon --every needs a duration"
like "$(cat "$T/err")" 'daemon: --every soon: not a duration: "soon" \(e.g. 15m, 1h30m, 900, PT15M\)' \
	"as fetch-oncall checks durations"
run oncall-sync daemon --every 40d
is "$rc" 2 "daemon --every: at most 31 days"
like "$(cat "$T/err")" 'daemon: --every 40d: at most 31d, got "40d"' "saying so"
run oncall-sync daemon --every 0
like "$(cat "$T/err")" 'daemon: --every 0: must be more than 0' "daemon --every 0 is refused"
run oncall-sync daemon --every PT10M --min-interval PT11M
like "$(cat "$T/err")" 'daemon: --min-interval PT11M is longer than --every PT10M' "ISO 8601 durations compared as seconds"

# --- bad configurations: exit 2, naming the file and the field
ONCALL_SYNC_CONFIG=$T/missing.json run oncall-sync sync
is "$rc" 2 "a missing config exits 2"
like "$(cat "$T/err")" "$T/missing.json: no such configuration file" "naming the file"

printf '{"schedules": ["A",]}\n' >"$T/bad.json"
run oncall-sync -c "$T/bad.json" sync
is "$rc" 2 "a config that is not JSON exits 2"
like "$(cat "$T/err")" "$T/bad.json: not valid JSON" "naming the file"

: >"$T/empty.json"
run oncall-sync -c "$T/empty.json" sync
is "$rc" 2 "an empty config exits 2"

check_field() { # JSON FIELD DESC
	ocs_config "$1"
	run oncall-sync sync
	is "$rc" 2 "$3: exit 2"
	like "$(cat "$T/err")" "$ONCALL_SYNC_CONFIG: $2:" "$3: names $2"
}
check_field '[]' '\(top level\)' "a config that is not an object"
check_field '{"name": "x"}' schedules "no schedules"
check_field '{"schedules": "TestSchedule"}' schedules "schedules not a list"
check_field '{"schedules": ["TestSchedule", 7]}' 'schedules\[1\]' "a schedule that is not a string"
check_field '{"schedules": [""]}' 'schedules\[0\]' "an empty schedule"
check_field '{"schedules": [], "user_lookup": "phone"}' user_lookup "an unknown user_lookup"
check_field '{"schedules": [], "user_lookup": "identity-alias"}' identity_set "identity-alias without identity_set"
check_field '{"schedules": [], "lead": "soon"}' lead "a lead that is no duration"
like "$(cat "$T/err")" "$ONCALL_SYNC_CONFIG: lead: fetch-oncall: --lead: not a duration: \"soon\"" \
	"fetch-oncall's message: the config accepts the durations it accepts"
check_field '{"schedules": [], "lead": "40d"}' lead "a lead longer than fetch-oncall allows"
check_field '{"schedules": [], "lead": [15]}' lead "a lead that is neither a string nor a number"
# what fetch-oncall --lead accepts, the config accepts (PT15M was refused)
ocs_config '{"schedules": ["TestSchedule"], "lead": "PT15M", "grace": 90}'
run oncall-sync env
like "$(cat "$T/out")" "oncall-sync runs: fetch-oncall -s TestSchedule --lead PT15M --grace 90 \\|" \
	"lead PT15M and grace 90 (seconds) are passed to fetch-oncall as written"
check_field '{"schedules": [], "grace": -5}' grace "a negative grace"
check_field '{"schedules": [], "max_changes": -1}' max_changes "a negative max_changes"
check_field '{"schedules": [], "max_changes": 2.5}' max_changes "a fractional max_changes"
check_field '{"schedules": [], "group_prefix": 3}' group_prefix "a group_prefix that is not a string"
check_field '{"schedules": [], "name": ["x"]}' name "a name that is not a string"
check_field '{"schedules": [], "instance": "two words"}' instance "an instance name with a space"
check_field '{"schedules": [], "instance": 5}' instance "an instance that is not a string"

# Every problem is reported at once.
ocs_config '{"schedules": 1, "user_lookup": "x", "max_changes": "many"}'
run oncall-sync sync
is "$(grep -c "$ONCALL_SYNC_CONFIG" "$T/err")" 3 "all three problems are reported"

# --- unknown fields are errors, naming the field meant
ocs_config '{"schedules": [], "max_change": 5}'
run oncall-sync sync
is "$rc" 2 "a misspelt field (max_change): exit 2"
is "$(cat "$T/err")" "oncall-sync: $ONCALL_SYNC_CONFIG: unknown field \"max_change\" (did you mean \"max_changes\"?)" \
	"naming the field and the nearest known one"
ocs_config '{"schedules": [], "user_lookpu": "identity-alias"}'
run oncall-sync sync
like "$(cat "$T/err")" 'unknown field "user_lookpu" \(did you mean "user_lookup"\?\)' "a transposition is found too"
ocs_config '{"schedules": [], "colour": "blue", "_comment": "fields starting with _ are comments"}'
run oncall-sync sync
is "$rc" 2 "an unknown field nothing resembles: exit 2"
like "$(cat "$T/err")" 'unknown field "colour"; the known fields: name, schedules, ' "listing the known fields"
ok "a comment field is no error" bash -c "! grep -q _comment '$T/err'"

# --- secrets
ocs_config '{"schedules": ["TestSchedule"]}'
run oncall-sync sync
is "$rc" 2 "no incident.io key: exit 2"
like "$(cat "$T/err")" 'no incident.io API key: set INCIDENT_API_KEY_FILE' "saying how to give it"

mkdir -p "$T/keys"
printf 'k\n' >"$T/keys/incident"
printf 'a\n' >"$T/keys/access"
printf 's\n' >"$T/keys/secret"
chmod 600 "$T/keys/incident" "$T/keys/access"
chmod 644 "$T/keys/secret"
export INCIDENT_API_KEY_FILE=$T/keys/incident SDM_API_ACCESS_KEY_FILE=$T/keys/access
export SDM_API_SECRET_KEY_FILE=$T/keys/secret
run oncall-sync sync
is "$rc" 2 "a key file readable by others is refused"
like "$(cat "$T/err")" "SDM_API_SECRET_KEY_FILE=$T/keys/secret: mode -rw-r--r-- lets group members and others read it.*chmod 600" \
	"naming the file, its mode and the fix"
chmod 640 "$T/keys/secret"
run oncall-sync sync
is "$rc" 2 "a group-readable key file is refused too"
ok "nothing was kept from a refused run" test ! -e "$ONCALL_SYNC_STATE_DIR/last/run.json"

export SDM_API_SECRET_KEY_FILE=$T/keys/nope
run oncall-sync sync
is "$rc" 2 "a key file that does not exist: exit 2"
like "$(cat "$T/err")" "SDM_API_SECRET_KEY_FILE=$T/keys/nope: No such file" "saying so"

# systemd credentials become the *_FILE variables
unset INCIDENT_API_KEY_FILE SDM_API_ACCESS_KEY_FILE SDM_API_SECRET_KEY_FILE
mkdir -m 700 "$T/creds"
for f in incident-api-key sdm-api-access-key; do
	(umask 077 && echo x >"$T/creds/$f")
done
(umask 022 && echo x >"$T/creds/sdm-api-secret-key")
CREDENTIALS_DIRECTORY=$T/creds run oncall-sync sync
like "$(cat "$T/err")" "SDM_API_SECRET_KEY_FILE=$T/creds/sdm-api-secret-key: mode -rw-r--r-- lets group members and others read it" \
	"systemd credentials are used, and checked like any key file"

# key files beside the config are found without any variable
mkdir -m 700 "$T/etc"
printf '{"schedules": ["TestSchedule"]}\n' >"$T/etc/config.json"
for f in incident-api-key sdm-api-access-key sdm-api-secret-key; do
	(umask 077 && echo x >"$T/etc/$f")
done
chmod 604 "$T/etc/sdm-api-access-key"
run oncall-sync -c "$T/etc/config.json" sync
like "$(cat "$T/err")" "SDM_API_ACCESS_KEY_FILE=$T/etc/sdm-api-access-key: mode -rw----r-- lets others read it" \
	"key files beside the config are used, and checked"

# --- where the programs are found (make install rewrites one line)
is "$(grep -c '^ONCALL_LIBEXEC_DEFAULT=' "$BIN/oncall-sync")" 1 "one ONCALL_LIBEXEC_DEFAULT= line for make install"
mkdir -p "$T/inst/bin"
sed -e 's|^ONCALL_LIBEXEC_DEFAULT=.*|ONCALL_LIBEXEC_DEFAULT='"$T"'/inst/lib|' \
	-e 's|^ONCALL_SHARE_DEFAULT=.*|ONCALL_SHARE_DEFAULT='"$ROOT"'/share/oncall-sync|' "$BIN/oncall-sync" >"$T/inst/bin/oncall-sync"
chmod 755 "$T/inst/bin/oncall-sync"
ocs_config '{"schedules": ["TestSchedule"]}'
ONCALL_LIBEXEC='' run "$T/inst/bin/oncall-sync" sync
is "$rc" 2 "an installed wrapper looks in its libexec directory"
like "$(cat "$T/err")" "fetch-oncall not found in $T/inst/lib" "and says where it looked"
ONCALL_LIBEXEC=$T/elsewhere run "$T/inst/bin/oncall-sync" sync
like "$(cat "$T/err")" "fetch-oncall not found in $T/elsewhere" "ONCALL_LIBEXEC overrides it"

# --- the systemd unit hands over the credentials the wrapper looks for
for c in incident-api-key sdm-api-access-key sdm-api-secret-key; do
	ok "oncall-sync.service loads the credential $c" grep -q "^LoadCredential=$c:" "$ROOT/scripts/oncall-sync.service"
	ok "the wrapper knows the credential $c" grep -q "$c:" "$BIN/oncall-sync"
done
ok "the timer runs every 15 minutes" grep -q '^OnCalendar=\*:0/15$' "$ROOT/scripts/oncall-sync.timer"
ok "the cron line runs every 15 minutes, as the user oncall-sync" \
	grep -q '^# \*/15 \* \* \* \* oncall-sync oncall-sync sync' "$ROOT/scripts/oncall-sync.cron"
for u in oncall-sync.service oncall-sync-daemon.service; do
	for c in incident-api-key sdm-api-access-key sdm-api-secret-key; do
		ok "$u loads the credential $c" grep -q "^LoadCredential=$c:/etc/oncall-sync/$c$" "$ROOT/scripts/$u"
	done
	ok "$u runs as an unprivileged user" grep -q '^DynamicUser=yes$' "$ROOT/scripts/$u"
	ok "$u keeps its state in StateDirectory=oncall-sync" grep -q '^StateDirectory=oncall-sync$' "$ROOT/scripts/$u"
	ok "$u keeps its hardening" grep -q '^ProtectSystem=strict$' "$ROOT/scripts/$u"
done
ok "the daemon unit runs the daemon" grep -q '^ExecStart=/usr/local/bin/oncall-sync daemon$' "$ROOT/scripts/oncall-sync-daemon.service"
ok "restarts it on failure" grep -q '^Restart=on-failure$' "$ROOT/scripts/oncall-sync-daemon.service"
# shellcheck disable=SC2016 # a literal $MAINPID
ok "reload is Sync Now (SIGHUP)" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$ROOT/scripts/oncall-sync-daemon.service"
ok "stop signals the daemon alone, which finishes its sync" grep -q '^KillMode=mixed$' "$ROOT/scripts/oncall-sync-daemon.service"
ok "the example config is valid" env ONCALL_SYNC_CONFIG="$ROOT/examples/config.json" \
	bash -c 'oncall-sync sync 2>&1 | grep -q "no incident.io API key"'

done_testing
