#!/usr/bin/env bash
# oncall-sync with group specs, against both simulators: two schedules into
# one group (the union; one failing upstream leaves it as it is; removing
# one keeps the group; removing both retires it), roles attached, changed
# and detached by editing the config, a role that does not exist,
# hand-attached roles, dry run and max_changes counting role changes, a
# second sync making no write call, and the config checks of specs.
# shellcheck disable=SC1091,SC2154 # tap.sh (sourced) sets rc
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
ocs_need_programs

W=$T/world.json
jq '.strongdm.roles = [{id: "r-jit", name: "TestSchedule JIT"}, {id: "r-ro", name: "prod-ro"},
                       {id: "r-hand", name: "break-glass"}]
    | .strongdm.groups += [{name: "TestSchedule", description: "made by StrongDM'"'"'s integration",
                            members: ["deanna@example.com"], roles: ["TestSchedule JIT"]}]' "$FIX/world.json" >"$W"
FIX_SAVED=$FIX
FIX=$T # ocs_start_sims reads $FIX/world.json: the one with roles
ocs_start_sims
FIX=$FIX_SAVED
STATE=$ONCALL_SYNC_STATE_DIR
PF=01G0J1EXE7PLATFORM00000000
roles_of() { strongdm_sim_state | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .roles[]?.name] | sort | join(",")'; }
id_of() { strongdm_sim_state | jq -r --arg g "$1" '.groups[] | select(.name == $g) | .id'; }
writes() { jq -n '[inputs | select(.method | test("\\.(Create|Update|Delete)$"))] | length' "$STRONGDM_SIM_LOG"; }
cfg() { ocs_config "$(jq -cn --argjson s "$1" '{name: "test", schedules: $s, user_lookup: "email"}')"; }

plan 69

# --- two schedules, one group, with a just-in-time role
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["TestSchedule JIT"]},
      {"schedule": "'$PF'", "group": "oncall-all"}]'
run oncall-sync sync
is "$rc" 0 "sync with a group spec: exit 0"
is "$(ocs_groups)" "oncall-all: alice@example.com bob@example.com gina@example.com" \
	"one group, the union of both schedules' people"
is "$(roles_of oncall-all)" "TestSchedule JIT" "the spec's role is attached"
like "$(cat "$T/err")" 'roles: 1 attached, 0 detached' "the summary counts role changes"
is "$(jq -c 'select(.type == "roster") | .group' "$STATE/last/matched.ndjson" | sort | uniq -c | sed 's/^ *//')" \
	'1 {"name":"oncall-all","roles":["TestSchedule JIT"]}
1 {"name":"oncall-all"}' "each roster in the kept stream carries its spec (added after match-users)"
is "$(jq -c 'select(.action == "attach_role") | [.status, .role.name, .group.name]' "$STATE/audit.ndjson")" \
	'["done","TestSchedule JIT","oncall-all"]' "the attachment is audited"
GID=$(id_of oncall-all)
is "$(sed -n 's/^oncall_sync_changes_total{action="attach_role",status="done"} //p' "$STATE/metrics.prom")" 1 \
	"the metrics count role changes"

# --- a second sync: no write call
: >"$STRONGDM_SIM_LOG"
run oncall-sync sync
is "$rc/$(writes)" "0/0" "a second sync makes no write call"

run oncall-sync schedules
is "$(grep -c '^yes' "$T/out")" 2 "schedules marks both synced schedules of the specs"

# --- status, explain and doctor show the group and its roles
run oncall-sync status
like "$(cat "$T/out")" "group: oncall-all" "status: the shared group"
like "$(cat "$T/out")" "shared with: Platform" "status: which schedules share it"
is "$(grep -c "roles (from the config): TestSchedule JIT" "$T/out")" 2 "status: its roles, under each of its schedules"
run oncall-sync explain alice@example.com
like "$(cat "$T/out")" 'in "oncall-all": on call on TestSchedule.*through it the roles TestSchedule JIT' \
	"explain: which roles a person has through which group"
run oncall-sync doctor
like "$(cat "$T/out")" "ok +StrongDM roles readable, and every role the group specs name exists" \
	"doctor: the key reads roles and group roles"

# --- one schedule failing upstream leaves the group as it is
incidentio_sim_advance 3h
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["TestSchedule JIT"]},
      {"schedule": "'$PF'", "group": "oncall-all"},
      {"schedule": "01G0J1EXE7NOSUCHSCHEDULE0", "group": "oncall-all"}]'
run oncall-sync sync
is "$rc" 1 "a schedule of the group cannot be read: exit 1"
is "$(ocs_groups)" "oncall-all: alice@example.com bob@example.com gina@example.com" "the group is unchanged"

# --- roles changed by editing the config: dry run, max_changes, then applied
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["prod-ro"]},
      {"schedule": "'$PF'", "group": "oncall-all", "roles": ["r-ro"]}]'
run oncall-sync sync
is "$rc" 2 "the same role by name and by id is not the same list: exit 2"
like "$(cat "$T/err")" 'schedules\[0\] and schedules\[1\] give group "oncall-all" different roles' "naming both entries"
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["prod-ro"]},
      {"schedule": "'$PF'", "group": "oncall-all", "roles": ["prod-ro"]}]'
run oncall-sync sync --dry-run
like "$(cat "$T/out")" '\+ role prod-ro -> oncall-all \(planned\)' "dry run: the attachment planned"
like "$(cat "$T/out")" '- role TestSchedule JIT <- oncall-all \(planned\)' "dry run: the detachment planned"
is "$(roles_of oncall-all)" "TestSchedule JIT" "dry run: roles unchanged"
ocs_config "$(jq -c '.max_changes = 3' "$ONCALL_SYNC_CONFIG")"
run oncall-sync sync
is "$rc" 3 "3 member changes and 2 role changes, max_changes 3: refused"
is "$(roles_of oncall-all)/$(ocs_members oncall-all)" "TestSchedule JIT/alice@example.com bob@example.com gina@example.com" \
	"nothing changed"
ocs_config "$(jq -c 'del(.max_changes)' "$ONCALL_SYNC_CONFIG")"
run oncall-sync sync
is "$rc" 0 "applied: exit 0"
is "$(roles_of oncall-all)" "prod-ro" "the group's roles are the spec's"
is "$(ocs_members oncall-all)" "carlos@example.com deanna@example.com erin@example.com" "members: the new shift's union"
is "$(id_of oncall-all)" "$GID" "the same group"

# --- hand-attached roles: left alone without roles, removed with them
"$BUILD_DIR/tests/tools/sdm-driver" gr-create "$GID" r-hand >/dev/null 2>&1
cfg '[{"schedule": "TestSchedule", "group": "oncall-all"}, {"schedule": "'$PF'", "group": "oncall-all"}]'
run oncall-sync sync
is "$rc/$(roles_of oncall-all)" "0/break-glass,prod-ro" "no roles in the specs: the roles are not touched"
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["prod-ro"]}, {"schedule": "'$PF'", "group": "oncall-all"}]'
run oncall-sync sync
is "$rc/$(roles_of oncall-all)" "0/prod-ro" "roles given: the hand-attached one is detached"

# --- a role that does not exist
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["prod-ro", "no-such-role"]}, {"schedule": "'$PF'", "group": "oncall-all"}]'
run oncall-sync sync
is "$rc" 1 "a role that does not exist: exit 1"
like "$(cat "$T/err")" 'oncall-all: role "no-such-role" does not exist' "the message names it and the group"
is "$(roles_of oncall-all)" "prod-ro" "the group's roles are left as they are"
run oncall-sync doctor
like "$(cat "$T/out")" 'group oncall-all: role "no-such-role" does not exist' "doctor names the role that does not exist"

# --- removing one schedule keeps the group; removing both retires it
cfg '[{"schedule": "TestSchedule", "group": "oncall-all", "roles": ["prod-ro"]}, {"schedule": "'$PF'", "group": "oncall-all"}]'
run oncall-sync remove --release "$PF" </dev/null
is "$rc" 0 "remove --release of one of the group's schedules: exit 0"
like "$(cat "$T/err")" "removed (Platform \\()?$PF\\)?: its group stays, with the other schedules of its group spec" \
	"the group stays managed (nothing to release)"
run oncall-sync sync
is "$rc" 0 "one schedule taken out of the group: exit 0"
is "$(ocs_members oncall-all)/$(id_of oncall-all)" "carlos@example.com deanna@example.com/$GID" \
	"the same group, with the remaining schedule's people"
run oncall-sync remove TestSchedule </dev/null
is "$rc" 3 "removing the last schedule of a group with roles, not on a terminal: exit 3"
like "$(cat "$T/err")" "group oncall-all \\($GID\\) has roles attached: prod-ro" "the spec's group and its roles are named"
run oncall-sync remove --yes TestSchedule </dev/null
is "$rc/$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" "0/[]" "--yes confirms it"
cfg '["Platform"]'
run oncall-sync sync
is "$rc" 0 "no schedule names the group: exit 0"
is "$(ocs_groups)" "Platform: erin@example.com" "the spec's group is retired, Platform has its own"

# --- add --group and --role write a spec; the short form otherwise
run oncall-sync add --group oncall-all --role "TestSchedule JIT" TestSchedule
is "$rc" 0 "add --group --role: exit 0"
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" \
	'["Platform",{"schedule":"01G0J1EXE7AXZ2C93K61WBPYEH","group":"oncall-all","roles":["TestSchedule JIT"]}]' \
	"the schedule's entry is a spec, by id"
run oncall-sync add --group oncall-all --role prod-ro Platform
is "$rc" 2 "add with roles that disagree with the group's other schedule: exit 2"
like "$(cat "$T/err")" 'schedules\[0\] and schedules\[1\] give group "oncall-all" different roles' "naming both entries"
run oncall-sync add Support
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" \
	'["Platform",{"schedule":"01G0J1EXE7AXZ2C93K61WBPYEH","group":"oncall-all","roles":["TestSchedule JIT"]},"01G0J1EXE7SUPPORT000000000"]' \
	"a failed add changed nothing; a plain add writes the short form"
run oncall-sync remove TestSchedule
is "$rc/$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" '0/["Platform","01G0J1EXE7SUPPORT000000000"]' "remove takes a spec out by its schedule"

# --- config checks
for bad in '[{"schedule": "TestSchedule", "group": ""}]|schedules\[0\]\.group: must be a non-empty' \
	'[{"schedule": "TestSchedule", "role": ["x"]}]|schedules\[0\]\.role: unknown field' \
	'[{"schedule": "TestSchedule", "roles": "x"}]|schedules\[0\]\.roles: must be a list'; do
	cfg "${bad%%|*}"
	run oncall-sync sync
	like "$rc: $(cat "$T/err")" "^2: .*config.json: ${bad#*|}" "a bad spec: exit 2 naming the file, the entry and the field (${bad#*|})"
done

# --- adopt a group made by hand (or by StrongDM's integration), with a role
tags_of() { strongdm_sim_state | jq -c --arg g "$1" '.groups[] | select(.name == $g) | .tags'; }
HAND=$(id_of TestSchedule)
cfg '["Platform", "TestSchedule"]'
run oncall-sync sync
is "$rc" 1 "TestSchedule's name is taken by the hand-made group: exit 1"
like "$(cat "$STATE/last/changes.ndjson")" 'oncall-sync adopt SCHEDULE GROUP' \
	"the error tells the admin about adopt"
run oncall-sync adopt TestSchedule TestSchedule </dev/null
is "$rc/$(tags_of TestSchedule)" "3/{}" "adopt, not on a terminal and without --yes: refused, the group untouched"
like "$(cat "$T/out")" "Adopting TestSchedule \($HAND\) adds oncall-sync's tags" "but it shows what it would do"
like "$(cat "$T/out")" '\+ carlos@example.com -> TestSchedule' "and what the next sync will change"
run oncall-sync adopt --yes TestSchedule TestSchedule </dev/null
is "$rc" 0 "adopt --yes: exit 0"
is "$(tags_of TestSchedule)" '{"incidentio-schedule-id":"01G0J1EXE7AXZ2C93K61WBPYEH","incidentio-schedule-name":"TestSchedule","managed-by":"oncall-sync"}' \
	"the managed tags are added"
is "$(ocs_members TestSchedule)/$(roles_of TestSchedule)" "deanna@example.com/TestSchedule JIT" "and nothing else changes"
is "$(jq -r 'select(.action == "adopt_group") | .status' "$STATE/audit.ndjson")" "done" "the adoption is audited"
run oncall-sync sync
is "$rc" 0 "the next sync: exit 0"
is "$(id_of TestSchedule)/$(ocs_members TestSchedule)/$(roles_of TestSchedule)" \
	"$HAND/carlos@example.com deanna@example.com/TestSchedule JIT" "the same group holds who is on call, its role kept"
: >"$STRONGDM_SIM_LOG"
run oncall-sync sync
is "$rc/$(writes)" "0/0" "a second sync makes no write call"

# --- remove warns before deleting a group with roles; --release keeps it
run oncall-sync remove TestSchedule </dev/null
is "$rc" 3 "remove of a schedule whose group has roles, not on a terminal: exit 3"
like "$(cat "$T/err")" "has roles attached: TestSchedule JIT.*remove --release TestSchedule" "it names the roles and --release"
is "$(jq -c .schedules "$ONCALL_SYNC_CONFIG")" '["Platform","TestSchedule"]' "nothing removed"
run oncall-sync remove --release TestSchedule </dev/null
is "$rc" 0 "remove --release: exit 0"
is "$(tags_of TestSchedule)/$(ocs_members TestSchedule)/$(roles_of TestSchedule)/$(id_of TestSchedule)" \
	"{}//TestSchedule JIT/$HAND" "the group stays, untagged and empty, with its role"
run oncall-sync sync
is "$rc/$(id_of TestSchedule)" "0/$HAND" "the next sync leaves it alone"

done_testing
