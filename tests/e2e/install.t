#!/usr/bin/env bash
# make install into a DESTDIR: programs, docs (README, LICENSE, example
# config), man pages compressed with gzip -9n, the cron file's PATH without
# a doubled directory; make uninstall removes every file it installed;
# install-deps splits the demo's packages from the tests'.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
require_bin fetch-oncall match-users reconcile-groups
require_cmd make
# The variant being tested (make check SANITIZE=1 sets build/sanitize), so
# that make install does not rebuild bin/ under the other tests' feet.
san=
[[ ${ONCALL_BUILD:-} == */sanitize ]] && san=SANITIZE=1

mk() { make -s -C "$ROOT" $san DESTDIR="$T/inst" PREFIX=/usr SYSCONFDIR=/etc "$@" >"$T/make.out" 2>&1; }
ok "make install into a DESTDIR" mk install
D=$T/inst
for f in usr/bin/oncall-sync usr/lib/oncall-sync/match-users usr/share/oncall-sync/status.jq usr/share/doc/oncall-sync/README.md \
	usr/share/doc/oncall-sync/LICENSE usr/share/doc/oncall-sync/config.json.example \
	etc/oncall-sync/config.json.example usr/share/man/man1/oncall-sync.1.gz \
	usr/share/man/man1/match-users.1.gz; do
	ok "installs $f" test -f "$D/$f"
done
ok "no uncompressed man page" bash -c "! ls '$D/usr/share/man/man1/'*.1 2>/dev/null"
is "$(gzip -dc "$D/usr/share/man/man1/oncall-sync.1.gz" | cmp - "$ROOT/man/oncall-sync.1" && echo same)" same \
	"the man page is the source, compressed"
is "$(od -An -tx1 -j4 -N4 "$D/usr/share/man/man1/oncall-sync.1.gz" | tr -d ' ')" 00000000 \
	"gzip -n: no time stamp in the compressed man page (reproducible)"
like "$(head -n 3 "$D/usr/share/doc/oncall-sync/LICENSE")" 'Apache License' "LICENSE is the Apache License"
ok "README carries the copyright notice" grep -q '^Copyright' "$ROOT/README.md"
is "$(grep '^PATH=' "$D/etc/cron.d/oncall-sync")" "PATH=/usr/bin:/bin" "the cron file's PATH names each directory once"
like "$(grep 'oncall-sync sync' "$D/etc/cron.d/oncall-sync")" ' oncall-sync oncall-sync sync' "the cron line (run as the system user oncall-sync)"

is "$(cd "$ROOT/share/oncall-sync" && ls ./*.jq | wc -l)" "$(ls "$D"/usr/share/oncall-sync/*.jq | wc -l)" "installs every jq program"
is "$(grep '^ONCALL_SHARE_DEFAULT=' "$D/usr/bin/oncall-sync")" "ONCALL_SHARE_DEFAULT=/usr/share/oncall-sync" \
	"the installed wrapper looks for its jq programs where they are installed"

# The installed wrapper runs from its directories (a PREFIX, not a DESTDIR):
# its config checked (config.jq, and a lead only fetch-oncall knows), a
# refused sync recorded (refused-run.jq, groups-after.jq) and shown by
# status (status.jq with the module esc.jq).
P=$T/prefix
ok "make install into a PREFIX" mk install DESTDIR= PREFIX="$P" SYSCONFDIR="$P/etc" SYSTEMDDIR="$P/systemd"
printf '{"schedules": [], "lead": "PT15M"}\n' >"$T/config.json"
installed() { run env -u ONCALL_LIBEXEC -u INCIDENT_API_KEY -u INCIDENT_API_KEY_FILE \
	ONCALL_SYNC_STATE_DIR="$T/state" "$P/bin/oncall-sync" -c "$T/config.json" "$@"; }
installed sync
is "$rc" 2 "the installed wrapper: a sync without a key exits 2"
like "$(cat "$T/err")" "no incident.io API key" "after checking the config: the key is missing"
installed status
like "$(cat "$T/out")" "REFUSED \\(exit 2\\), nothing changed: .*no incident.io API key" "its status shows the refusal"
mk uninstall DESTDIR= PREFIX="$P" SYSCONFDIR="$P/etc" SYSTEMDDIR="$P/systemd"

ok "make uninstall" mk uninstall
is "$(find "$D" -type f -o -type l | sed "s|^$D/||" | sort | paste -sd' ')" "" "make uninstall leaves no file behind"

# install-deps: the demo's set is part of the tests' set, and smaller
demo=$(sed -n '/^RUNTIME="/,/"$/p' "$ROOT/scripts/install-deps" | tr -d '"' | sed 's/^RUNTIME=//' | tr ' ' '\n' | grep . | sort)
test_only=$(sed -n '/^TEST="/,/"$/p' "$ROOT/scripts/install-deps" | tr -d '"' | sed 's/^TEST=//' | tr ' ' '\n' | grep . | sort)
for p in valgrind clang shellcheck; do
	ok "the demo does not install $p" bash -c "! grep -qx '$p' <<<'$demo'"
	ok "the tests do ($p)" grep -qx "$p" <<<"$test_only"
done
ok "make demo installs the demo's set" grep -q '^demo: deps$' "$ROOT/Makefile"
ok "make check installs the tests' set" grep -q '^check: deps-test' "$ROOT/Makefile"

done_testing
