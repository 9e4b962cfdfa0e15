#!/usr/bin/env bash
# sdm-roles.t: roles and their attachments to groups (Roles.List,
# GroupsRoles.List/Create/Delete) through lib/sdm.c and
# tests/tools/sdm-driver against scripts/strongdm-sim: filters, errors,
# permissions, rate limits, and what the simulator dumps.
set -uo pipefail
. "$(dirname "$0")/../tap.sh"

require_tool sdm-driver
require_cmd jq /usr/bin/python3
DRIVER=$BUILD_DIR/tests/tools/sdm-driver

plan 22

jq -n '{
  accounts: [{id: "a-1", email: "alice@example.com"}],
  roles: ([range(120) | {id: ("r-\(.)"), name: ("role-\(.)")}]
          + [{id: "r-jit", name: "TestSchedule JIT", tags: {kind: "jit"}}]),
  groups: [{id: "group-1", name: "TestSchedule", roles: [{id: "grouprole-seed", role: "role-7"}]},
           {id: "group-2", name: "Other", roles: ["role-7", "role-8"]}],
  api_keys: [{access_key: "test-access-key", secret_key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
             {access_key: "read-only", secret_key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
              permissions: ["group:read", "role:read", "grouprole:read"]}]
}' > "$T/world.json"

start_strongdm_sim "$T/world.json" --seed 1
drv() { run "$DRIVER" "$@"; }
count() { strongdm_sim_count "$@"; }
reset_log() { : > "$STRONGDM_SIM_LOG"; }

# ---- Roles.List
reset_log
drv roles-list --limit 50
is "$rc" 0 "Roles.List succeeds"
is "$(wc -l < "$T/out")" 121 "every role, over pages"
is "$(count Roles.List)" 3 "three pages of 50"
drv roles-list --filter 'name:"testschedule jit"'
is "$(jq -c '[.id, .name, .tags.kind, .managed_by]' "$T/out")" '["r-jit","TestSchedule JIT","jit","StrongDM"]' \
	"a role by name (case-insensitive), with its tags and managed_by (fields 1, 2, 4, 6)"
drv roles-list --filter 'id:"r-nope"'
is "$rc:$(wc -l < "$T/out")" "0:0" "an unknown id: an empty answer"

# ---- GroupsRoles
drv gr-list --filter 'groupid:"group-1"'
is "$(jq -c '[.id, .group_id, .role_id]' "$T/out")" '["grouprole-seed","group-1","r-7"]' "a group's attachments (fields 1-3)"
drv gr-list --filter 'roleid:"r-7"'
is "$(jq -r .group_id "$T/out" | sort | paste -sd,)" "group-1,group-2" "a role's attachments"
reset_log
drv gr-create group-1 r-jit
is "$rc" 0 "GroupsRoles.Create succeeds"
like "$(jq -r .id "$T/out")" '^grouprole-[0-9a-f]{16}$' "the attachment's id"
is "$(jq -c '[.group_id, .role_id]' "$T/out")" '["group-1","r-jit"]' "group and role as sent"
newid=$(jq -r .id "$T/out")
is "$(strongdm_sim_state | jq -c '.groups[] | select(.id == "group-1") | [.roles[].name]')" \
	'["role-7","TestSchedule JIT"]' "the state dump lists the group's roles"
drv gr-create group-1 r-jit
like "$(head -n 1 "$T/err")" '^sdm-driver: GroupsRoles\.Create: ALREADY_EXISTS: ' "attaching twice: ALREADY_EXISTS"
drv gr-create group-1 r-nope
like "$(head -n 1 "$T/err")" '^sdm-driver: GroupsRoles\.Create: NOT_FOUND: .*r-nope' "an unknown role: NOT_FOUND"
drv gr-create "" r-jit
like "$(head -n 1 "$T/err")" '^sdm-driver: GroupsRoles\.Create: INVALID_ARGUMENT' "an empty group id: INVALID_ARGUMENT"
drv gr-delete "$newid"
is "$rc:$(jq -r .deleted "$T/out")" "0:$newid" "GroupsRoles.Delete (its answer: rate_limit 2, the attachment 3)"
drv gr-delete "$newid"
like "$(head -n 1 "$T/err")" '^sdm-driver: GroupsRoles\.Delete: NOT_FOUND' "deleting twice: NOT_FOUND"
is "$(strongdm_sim_state | jq -c '.groups[] | select(.id == "group-1") | [.roles[].name]')" '["role-7"]' \
	"the attachment is gone"

# ---- deleting a group deletes its attachments
drv group-delete group-2
drv gr-list --filter 'roleid:"r-7"'
is "$(jq -r .group_id "$T/out")" "group-1" "Groups.Delete removes the group's attachments"

# ---- permissions
SDM_API_ACCESS_KEY=read-only drv gr-list --filter 'groupid:"group-1"'
is "$rc" 0 "a read-only key lists attachments"
SDM_API_ACCESS_KEY=read-only drv gr-create group-1 r-jit
like "$(head -n 1 "$T/err")" 'GroupsRoles\.Create: PERMISSION_DENIED: .*grouprole:write' "but cannot attach (grouprole:write)"

# ---- faults and rate limits: the client's retries apply
strongdm_sim_fault '{"faults":[{"method":"GroupsRoles.Create","kind":"resource_exhausted","reset_in_ms":200}]}'
reset_log
drv gr-create group-1 r-jit
is "$rc" 0 "a rate-limited attach waits for reset_at and succeeds"
is "$(count GroupsRoles.Create)" 2 "in two attempts"
strongdm_sim_clear_faults

done_testing
