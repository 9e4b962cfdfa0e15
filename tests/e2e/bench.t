#!/usr/bin/env bash
# The benchmark keeps working: scripts/bench at size small (both syncs and
# the stage-by-stage runs, with its state checks), scripts/bench-offline and
# scripts/bench-limits on tiny inputs. Figures are not checked, only that
# each run succeeded and printed its table, and when its requests ran (from
# the simulators' call logs).
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

plan 15

rc=0
TMPDIR=$T "$ROOT/scripts/bench" small --latency-ms 5 --no-offline --no-limits > "$T/bench.out" 2> "$T/bench.err" || rc=$?
is "$rc" 0 "scripts/bench small exits 0"
[ "$rc" = 0 ] || diag "$(tail -n 20 "$T/bench.out" "$T/bench.err")"
out=$(cat "$T/bench.out")
like "$out" "== first sync: oncall-sync sync" "it prints the first sync"
like "$out" "oncall-sync sync +[0-9.]+ +[0-9.]+ +[0-9.]+ .*Accounts.List=[0-9]+.* [0-9]+/[0-9]+ = [0-9.]+" \
	"the sync row has wall, CPU, peak RSS, requests by call and the ratio to the least"
like "$out" "== second sync \(no changes\): oncall-sync sync" "it prints the second sync"
like "$out" "fetch-oncall +[0-9.]+ .*/v2/schedules=[0-9]+" "the stage table has fetch-oncall"
like "$out" "match-users +[0-9.]+ " "... match-users"
like "$out" "reconcile-groups +[0-9.]+ .*Groups.List=[0-9]+" "... and reconcile-groups"
like "$out" "requests +[0-9.]+ \.\. [0-9.]+ s from the start, first to last [0-9.]+ s; after the last write [0-9.]+ s" \
	"the first sync says when its requests ran and how long after the last write"
is "$(grep -cE '^  requests +[0-9.]+ \.\. [0-9.]+ s from the start' "$T/bench.out")" 8 \
	"so does every run and stage (2 syncs, 6 stages)"
like "$out" "reconcile-groups cpu, 3 runs: median [0-9.]+ s \([0-9.]+ \.\. [0-9.]+\), [0-9.]+ s per 1,000 requests \([0-9]+\)" \
	"reconcile-groups' first-sync stage runs 3 times: the median of its CPU, and per 1,000 requests"
like "$out" "final state: every managed group holds exactly the people on call \(checked\)" \
	"the final state is checked"
is "$(find "$T" -maxdepth 1 -name 'oncall-bench.*' | wc -l | tr -d ' ')" 0 "it removes its scratch directory"

rc=0
TMPDIR=$T "$ROOT/scripts/bench-offline" --entries 2000 --accounts 300 > "$T/offline.out" 2>&1 || rc=$?
is "$rc" 0 "scripts/bench-offline exits 0"
like "$(cat "$T/offline.out")" "match-users +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+ " \
	"it prints match-users' entries per second" || diag "$(cat "$T/offline.out")"

rc=0
TMPDIR=$T "$ROOT/scripts/bench-limits" --schedules 20 --users 200 --oncall 50 --changes 10 \
	"$T" 5 > "$T/limits.out" 2>&1 || rc=$?
grep -q '^ratio  *[0-9.]* ' "$T/limits.out" || rc="$rc, no ratio line"
is "$rc" 0 "scripts/bench-limits exits 0 and prints the ratio" || diag "$(tail -n 20 "$T/limits.out")"

done_testing
