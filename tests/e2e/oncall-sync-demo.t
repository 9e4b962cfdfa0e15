#!/usr/bin/env bash
# scripts/demo (make demo) runs to its end: Carlos and Deanna in TestSchedule,
# which holds its just-in-time role.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs
plan 5
TMPDIR=$T run "$ROOT/scripts/demo"
is "$rc" 0 "the demo exits 0"
like "$(cat "$T/out")" 'Demo done: Carlos and Deanna are in TestSchedule, which holds the role TestSchedule JIT\.' \
	"and ends with Carlos and Deanna, and the group's just-in-time role"
like "$(cat "$T/out")" '      carlos@example.com
      deanna@example.com
      role: TestSchedule JIT' "the role is shown attached to TestSchedule's group"
like "$(cat "$T/out")" 'TestSchedule  \(managed by oncall-sync\)
      alice@example.com
      bob@example.com' "after the first sync Alice and Bob were in the group"
is "$(find "$T" -maxdepth 1 -name 'oncall-sync-demo.*' | wc -l)" 0 "the demo cleans up after itself"
done_testing
