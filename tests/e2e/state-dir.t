#!/usr/bin/env bash
# state-dir.t: the state directory is not trusted. A state directory that
# group or others can write to, or that is a symlink or another user's, and
# planted symlinks inside it (lock, last, audit.ndjson, a run file) are
# refused by `oncall-sync sync` before it writes anything: exit 2, naming
# the path and why, and no file outside the state directory is written.
# A clean state directory passes.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets ROOT, T, rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs

ocs_start_sims || { echo "Bail out! the simulators did not start"; exit 1; }
ocs_config '{"schedules": ["TestSchedule"]}'
S=$T/state
export ONCALL_SYNC_STATE_DIR=$S ONCALL_SYNC_LOCK_WAIT=1

# Outside the state directory: files a planted link points to.
OUT=$T/outside
mkdir -p "$OUT/lastdir"
echo "precious" >"$OUT/precious"
echo '{"old": "audit"}' >"$OUT/audit"
snapshot() { (cd "$OUT" && find . -printf '%p %s %T@ %m\n' | sort); }
before=$(snapshot)

fresh() { # a clean state directory, as a sync leaves it
	chmod -R u+w "$S" 2>/dev/null || true
	rm -rf "$S"
	mkdir -m 700 "$S" "$S/last"
	: >"$S/audit.ndjson"
	chmod 600 "$S/audit.ndjson"
}

# refused DESC REGEX: the sync is refused with exit 2 and REGEX on stderr,
# and nothing outside was written.
refused() {
	local desc=$1 want=$2
	run oncall-sync sync
	is "$rc" 2 "$desc: refused (exit 2)"
	like "$(cat "$T/err")" "^oncall-sync: state directory: $want" "$desc: names the path and why"
	is "$(snapshot)" "$before" "$desc: no file outside the state directory written"
	ok "$desc: no sync recorded" test ! -e "$S/last/run.json"
}

fresh
chmod 757 "$S"
refused "a state directory others can write to" "$S mode drwxr-xrwx lets others write to it"
fresh
chmod 770 "$S"
refused "a state directory its group can write to" "$S mode drwxrwx--- lets group members write to it"

fresh
ln -s "$OUT/precious" "$S/lock"
refused "a planted lock symlink" "$S/lock is a symbolic link \\(to $OUT/precious\\)"

fresh
rmdir "$S/last"
ln -s "$OUT/lastdir" "$S/last"
refused "a planted last symlink" "$S/last is a symbolic link \\(to $OUT/lastdir\\)"

fresh
rm "$S/audit.ndjson"
ln -s "$OUT/audit" "$S/audit.ndjson"
refused "a planted audit.ndjson symlink" "$S/audit.ndjson is a symbolic link \\(to $OUT/audit\\)"

fresh
ln -s "$OUT/precious" "$S/last/roster.ndjson.tmp"
refused "a planted run file symlink" "$S/last/roster.ndjson.tmp is a symbolic link"

fresh
chmod 777 "$S"
ln -s "$OUT/precious" "$S/lock"
rmdir "$S/last"
ln -s "$OUT/lastdir" "$S/last"
refused "a state directory others can write to, with planted symlinks" "$S mode drwxrwxrwx lets group members and others write to it"

rm -rf "$S"
mkdir -m 700 "$T/elsewhere"
ln -s "$T/elsewhere" "$S"
refused "a state directory that is a symlink" "$S is a symbolic link"
ok "a state directory that is a symlink: nothing made where it points" test -z "$(ls -A "$T/elsewhere")"
rm "$S"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	fresh
	chown nobody "$S"
	refused "a state directory of another user" "$S is owned by nobody \\(uid [0-9]+\\), not by root \\(uid 0\\)"
	fresh
	echo '{}' >"$S/last/roster.ndjson"
	chown nobody "$S/last/roster.ndjson"
	refused "a kept file of another user" "$S/last/roster.ndjson is owned by nobody"
else
	for _ in $(seq 8); do pass "# SKIP another user's files: needs root and the user nobody"; done
fi

# A clean state directory passes; the files it writes are its own.
fresh
run oncall-sync sync
is "$rc" 0 "a clean state directory: the sync runs"
ok "a clean state directory: run.json written, a regular file" test -f "$S/last/run.json" -a ! -L "$S/last/run.json"
is "$(stat -c %a "$S/last/run.json")" 600 "run.json is private"
is "$(snapshot)" "$before" "nothing outside written"
# and a second sync over what the first left passes the checks again
run oncall-sync sync
is "$rc" 0 "the next sync accepts what the first left"
ok "audit.ndjson written" test -s "$S/audit.ndjson"

# doctor says the same
fresh
ln -s "$OUT/audit" "$S/dry-run"
rc=0
timeout 60 oncall-sync doctor >"$T/out" 2>"$T/err" || rc=$?
like "$(cat "$T/out")" "FAIL  state directory: $S/dry-run is a symbolic link" "doctor fails the state directory check"

done_testing
