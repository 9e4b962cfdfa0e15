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

ocs_start_sims
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
mkdir -m 700 "$S/dry-run"
: >"$S/dry-run/changes.ndjson"
chmod 666 "$S/dry-run/changes.ndjson"
refused "a kept file others can write to" "$S/dry-run/changes.ndjson mode -rw-rw-rw- lets group members and others write to it"

fresh
mkfifo "$S/metrics.prom"
refused "a FIFO in place of a kept file" "$S/metrics.prom is not a regular file"

fresh
chmod 777 "$S"
ln -s "$OUT/precious" "$S/lock"
rmdir "$S/last"
ln -s "$OUT/lastdir" "$S/last"
refused "a state directory others can write to, with planted symlinks" "$S mode drwxrwxrwx lets group members and others write to it"

# A state directory that is a symlink someone else could have planted: in a
# directory others can write to (or, below, owned by another user).
rm -rf "$S"
mkdir -m 700 "$T/elsewhere"
mkdir -m 777 "$T/pub"
ln -s "$T/elsewhere" "$T/pub/state"
ONCALL_SYNC_STATE_DIR=$T/pub/state run oncall-sync sync
is "$rc" 2 "a state directory that is a symlink in a directory others can write to: refused (exit 2)"
like "$(cat "$T/err")" "^oncall-sync: state directory: $T/pub/state is a symbolic link in $T/pub, which another user could change" \
	"a state directory that is a symlink in a directory others can write to: says so"
ok "and nothing is made where it points" test -z "$(ls -A "$T/elsewhere")"
is "$(snapshot)" "$before" "and no file outside written"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	fresh
	chown nobody "$S"
	refused "a state directory of another user" "$S is owned by nobody \\(uid [0-9]+\\), not by root \\(uid 0\\)"
	fresh
	echo '{}' >"$S/last/roster.ndjson"
	chown nobody "$S/last/roster.ndjson"
	refused "a kept file of another user" "$S/last/roster.ndjson is owned by nobody"
	mkdir -m 700 "$T/priv"
	ln -s "$T/elsewhere" "$T/priv/state"
	chown -h nobody "$T/priv/state"
	ONCALL_SYNC_STATE_DIR=$T/priv/state run oncall-sync sync
	is "$rc" 2 "a state directory that is another user's symlink: refused (exit 2)"
	like "$(cat "$T/err")" "^oncall-sync: state directory: $T/priv/state is a symbolic link owned by nobody" \
		"a state directory that is another user's symlink: says so"
	ok "and nothing is made where it points" test -z "$(ls -A "$T/elsewhere")"
	rm "$T/priv/state"
else
	for _ in $(seq 11); do pass "# SKIP another user's files: needs root and the user nobody"; done
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

# A state directory given as a link that only its owner could have made,
# as systemd's StateDirectory= with DynamicUser= makes /var/lib/NAME a link
# to private/NAME: followed, and what it names is checked and used.
mkdir -m 700 "$T/lib" "$T/lib/private" "$T/lib/private/oncall-sync"
ln -s private/oncall-sync "$T/lib/oncall-sync"
ONCALL_SYNC_STATE_DIR=$T/lib/oncall-sync run oncall-sync sync
is "$rc" 0 "a state directory that is its owner's link (DynamicUser): the sync runs"
ok "its files are where the link points" test -f "$T/lib/private/oncall-sync/last/run.json"

# doctor says the same
fresh
ln -s "$OUT/audit" "$S/dry-run"
rc=0
timeout 60 oncall-sync doctor >"$T/out" 2>"$T/err" || rc=$?
like "$(cat "$T/out")" "FAIL  state directory: $S/dry-run is a symbolic link" "doctor fails the state directory check"

done_testing
