#!/usr/bin/env bash
# reconcile-groups with group specs ("group" on roster and error records),
# fed by hand: several schedules into one group (the union; one failing
# upstream leaves it as it is; removing one keeps it; removing all retires
# it), roles made equal to the spec's (attached, changed, detached; a role
# that does not exist; hand-attached roles left alone without "roles"), dry
# run and --max-changes counting role changes, a second run writing nothing.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"

plan 67

W=$(world_with '.roles = [{id: "r-jit", name: "TestSchedule JIT"}, {id: "r-ro", name: "payments-prod-ro"},
                          {id: "r-rw", name: "payments-prod-rw"}, {id: "r-hand", name: "break-glass"}]
                | .groups += [{name: "Hand made", roles: ["break-glass"]}]
                | .api_keys += [{access_key: "no-roles", secret_key: .api_keys[0].secret_key,
                                 permissions: ["user:list", "group:read", "group:write",
                                               "accountgroup:read", "accountgroup:write"]}]')
start_strongdm_sim "$W"

# spec NAME [ROLES_JSON]: adds a "group" spec to each record of stdin
spec() { jq -c --arg n "$1" --argjson r "${2:-null}" '. + {group: ({name: (if $n == "" then null else $n end)}
	+ (if $r == null then {} else {roles: $r} end) | with_entries(select(.value != null)))}'; }
members_of() { strongdm_sim_state | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .members[].email] | sort | join(",")'; }
roles_of() { strongdm_sim_state | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .roles[]?.name] | sort | join(",")'; }
id_of() { strongdm_sim_state | jq -r --arg g "$1" '.groups[] | select(.name == $g) | .id'; }
role_changes() { jq -r 'select(.type == "change" and (.action | endswith("_role"))) | "\(.action) \(.status) \(.group.name) \(.role.name // .role.id // "-")"' "$1"; }

# --- two schedules, one group: the union
{ roster $S1 "Payments Primary" alice@example.com bob@example.com | spec payments-oncall
  roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall
} | sealed | rg --prune
is "$rc" 0 "two schedules into one group: exit 0"
is "$(changes "$T/out")" "create_group done payments-oncall -
add done payments-oncall alice@example.com
add done payments-oncall bob@example.com
add done payments-oncall carlos@example.com" "one group created, the union added once each"
is "$(members_of payments-oncall)" "alice@example.com,bob@example.com,carlos@example.com" "members: the union"
is "$(strongdm_sim_state | jq -c '.groups[] | select(.name == "payments-oncall") | .tags')" \
	'{"managed-by":"oncall-sync","oncall-sync-group":"payments-oncall"}' "tagged by its spec, not by a schedule"
is "$(jq -c 'select(.action == "create_group") | [.schedules[].id]' "$T/out")" "[\"$S1\",\"$S2\"]" \
	"its change records name both schedules"
GID=$(id_of payments-oncall)

# --- one of them failing upstream: the group stays exactly as it is
{ roster $S1 "Payments Primary" deanna@example.com | spec payments-oncall
  error_record $S2 "Payments Secondary" | spec payments-oncall
} | sealed | rg --prune
is "$rc" 1 "a schedule of the group failed upstream: exit 1"
is "$(changes "$T/out")" "" "no change to the group"
is "$(members_of payments-oncall)" "alice@example.com,bob@example.com,carlos@example.com" "its members are unchanged"

# --- renamed schedules: found by its tag, not by a schedule's name
{ roster $S1 "Payments Primary (EU)" alice@example.com bob@example.com | spec payments-oncall
  roster $S2 "Payments 2nd" bob@example.com carlos@example.com | spec payments-oncall
} | sealed | rg --prune
is "$rc/$(changes "$T/out")" "0/" "schedules renamed: nothing to do"

# --- removing one schedule keeps the group (id, members of the other)
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall | sealed | rg --prune
is "$rc" 0 "one schedule left: exit 0"
is "$(changes "$T/out")" "remove done payments-oncall alice@example.com" "only the departed schedule's person leaves"
is "$(id_of payments-oncall)" "$GID" "the same group (its id)"

# --- roles: attached when the spec lists them
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '["payments-prod-ro"]' | sealed | rg --prune
is "$rc" 0 "roles given: exit 0"
is "$(role_changes "$T/out")" "attach_role done payments-oncall payments-prod-ro" "the role is attached"
is "$(roles_of payments-oncall)" "payments-prod-ro" "StrongDM has it"
is "$(id_of payments-oncall)" "$GID" "the group keeps its id"

# --- a second run: no write call
: >"$STRONGDM_SIM_LOG"
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '["payments-prod-ro"]' | sealed | rg --prune
is "$rc/$(changes "$T/out")/$(writes)" "0//0" "run again: no change, no write call"

# --- roles changed: by id and by name; and a hand-attached role removed
"$BUILD_DIR/tests/tools/sdm-driver" gr-create "$GID" r-hand >/dev/null 2>&1
is "$(roles_of payments-oncall)" "break-glass,payments-prod-ro" "an admin attached break-glass by hand"
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '["r-rw", "payments-prod-ro"]' | sealed | rg --prune -n
is "$(role_changes "$T/out")" "attach_role planned payments-oncall payments-prod-rw
detach_role planned payments-oncall break-glass" "dry run: the role changes planned (a role by id)"
is "$(roles_of payments-oncall)" "break-glass,payments-prod-ro" "dry run: nothing changed"
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '["r-rw", "payments-prod-ro"]' | sealed | rg --prune --max-changes 1
is "$rc" 3 "two role changes, --max-changes 1: refused"
is "$(role_changes "$T/out")" "attach_role held payments-oncall payments-prod-rw
detach_role held payments-oncall break-glass" "role changes count and are held"
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '["r-rw", "payments-prod-ro"]' | sealed | rg --prune --max-changes 2
is "$rc" 0 "--max-changes 2: applied"
is "$(roles_of payments-oncall)" "payments-prod-ro,payments-prod-rw" "the group's roles are exactly the spec's"

# --- detached when the list shrinks; left alone when "roles" is absent
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall '[]' | sealed | rg --prune
is "$(role_changes "$T/out" | sort)" "detach_role done payments-oncall payments-prod-ro
detach_role done payments-oncall payments-prod-rw" "roles: [] detaches them all"
"$BUILD_DIR/tests/tools/sdm-driver" gr-create "$GID" r-hand >/dev/null 2>&1
roster $S2 "Payments Secondary" bob@example.com carlos@example.com | spec payments-oncall | sealed | rg --prune
is "$rc/$(role_changes "$T/out")/$(roles_of payments-oncall)" "0//break-glass" \
	"without roles the group's roles are not touched"

# --- a role that does not exist: an error for that group only
{ roster $S2 "Payments Secondary" bob@example.com | spec payments-oncall '["payments-prod-ro", "no-such-role"]'
  roster $S3 Security deanna@example.com | spec "" '["TestSchedule JIT"]'
} | sealed | rg --prune
is "$rc" 1 "an unknown role: exit 1"
like "$(cat "$T/err")" 'group payments-oncall: role "no-such-role" does not exist' "the message names the group and the role"
is "$(roles_of payments-oncall)" "break-glass" "that group's roles are left as they are"
is "$(members_of payments-oncall)" "bob@example.com" "its members are still synced"
is "$(roles_of Security)/$(members_of Security)" "TestSchedule JIT/deanna@example.com" \
	"the other group (a schedule's own, with roles) is synced with its role"
is "$(jq -r 'select(.status == "failed") | .action' "$T/out")" "attach_role" "a failed attach_role record says so"

# --- different roles for one group in the stream: left as it is
{ roster $S1 "Payments Primary" alice@example.com | spec payments-oncall '["payments-prod-ro"]'
  roster $S2 "Payments Secondary" bob@example.com | spec payments-oncall '["payments-prod-rw"]'
} | sealed | rg --prune
is "$rc/$(changes "$T/out" | grep -v Security || true)" "1/" "different roles for one group: exit 1, the group unchanged"
like "$(cat "$T/err")" "group payments-oncall: schedules Payments Primary .* and Payments Secondary .* give it different roles" \
	"the message names both schedules"

# --- an unmanaged group with the spec's name: taken, and adopt is named
roster $S1 "Payments Primary" alice@example.com | spec "Hand made" | sealed | rg
is "$rc" 1 "a name held by a hand-made group: exit 1"
like "$(jq -r 'select(.action == "create_group") | .error' "$T/out")" 'oncall-sync adopt' "the error tells about adopt"
is "$(roles_of "Hand made")/$(members_of "Hand made")" "break-glass/" "the hand-made group is untouched"

# --- no schedule names the group any more: retired
roster $S3 Security deanna@example.com | sealed | rg --prune
is "$rc" 0 "the group's schedules are gone: exit 0"
like "$(changes "$T/out" | grep delete_group)" "delete_group done payments-oncall" "the group is retired"
is "$(strongdm_sim_state | jq -r '[.groups[].name] | sort | join(",")')" "Admins,Hand made,Security" "only the others stay"

# --- --adopt and --release, fed by hand
roster $S4 Oncall alice@example.com | sealed | rg --adopt "Hand made" -n
is "$rc" 0 "--adopt -n: exit 0"
is "$(changes "$T/out")" "adopt_group planned Hand made -
rename_group planned Oncall -
add planned Oncall alice@example.com" "dry run: the adoption and what a sync would change (its name follows the schedule's)"
roster $S4 Oncall alice@example.com | sealed | rg --adopt "Hand made"
is "$rc/$(strongdm_sim_state | jq -c '.groups[] | select(.name == "Hand made") | .tags')" \
	"0/{\"incidentio-schedule-id\":\"$S4\",\"incidentio-schedule-name\":\"Oncall\",\"managed-by\":\"oncall-sync\"}" \
	"--adopt: the managed tags, nothing else"
is "$(roles_of "Hand made")/$(members_of "Hand made")" "break-glass/" "its role and members as they were"
roster $S3 Security alice@example.com | sealed | rg --adopt "Hand made"
is "$rc" 3 "adopting a group managed for another schedule: refused"
roster $S4 Oncall alice@example.com | sealed | rg --adopt nope
is "$rc" 1 "adopting a group that does not exist: exit 1"
rg --release "$S4" </dev/null
is "$rc/$(jq -c 'select(.action == "release_group") | .roles' "$T/out")" '0/["break-glass"]' \
	"--release: the record names the roles the group keeps"
is "$(strongdm_sim_state | jq -c '.groups[] | select(.name == "Hand made") | .tags')" '{}' "oncall-sync's tags are off"
rg --release "$S4" </dev/null
is "$rc/$(changes "$T/out")" "0/" "released again: nothing to do"

# --- --adopt for a spec's group: tagged as the spec's
roster $S4 Oncall alice@example.com | spec "Hand made" | sealed | rg --adopt "Hand made"
is "$rc/$(strongdm_sim_state | jq -c '.groups[] | select(.name == "Hand made") | .tags')" \
	'0/{"managed-by":"oncall-sync","oncall-sync-group":"Hand made"}' "--adopt for a spec: its group tag"
roster $S4 Oncall alice@example.com | spec "Hand made" | sealed | rg
is "$rc/$(changes "$T/out")/$(roles_of "Hand made")" "0/add done Hand made alice@example.com/break-glass" \
	"the next run fills it, its name and role kept"
rg --release "group:Hand made" </dev/null
is "$rc/$(strongdm_sim_state | jq -c '.groups[] | select(.name == "Hand made") | [.tags, (.members | length)]')" \
	'0/[{},0]' "--release group:NAME gives a spec's group back"

# --- a schedule's own group taken over by a spec naming it: the same group
SEC=$(id_of Security)
roster $S3 Security deanna@example.com | spec security-oncall '["TestSchedule JIT"]' | sealed | rg --prune
is "$rc" 0 "a schedule moved into a spec: exit 0"
is "$(changes "$T/out")" "rename_group done security-oncall -
attach_role done security-oncall -" "its own group is renamed and retagged, and gets the spec's role"
is "$(id_of security-oncall)/$(members_of security-oncall)/$(roles_of security-oncall)" \
	"$SEC/deanna@example.com/TestSchedule JIT" "the same group: its id, members and role"
is "$(strongdm_sim_state | jq -c '.groups[] | select(.name == "security-oncall") | .tags')" \
	'{"managed-by":"oncall-sync","oncall-sync-group":"security-oncall"}' "now tagged as the spec's group"
roster $S3 Security deanna@example.com | spec security-oncall '["TestSchedule JIT"]' | sealed | rg --prune
is "$rc/$(changes "$T/out")" "0/" "run again: nothing to do"

# --- many groups with roles: their attachments from one listing
many() { for i in $(seq -w 1 25); do roster "01G0J1EXE7AXZ2C93K61WBPM$i" "Team $i" eve@example.com | spec "team-$i" '["break-glass"]'; done; }
many | sealed | rg
is "$rc/$(jq -s '[.[] | select(.action == "attach_role" and .status == "done")] | length' "$T/out")" "0/25" "25 groups created, each with its role"
: >"$STRONGDM_SIM_LOG"
many | sealed | rg
is "$rc/$(changes "$T/out")/$(writes)" "0//0" "run again: nothing to do, no write"
is "$(jq -n '[inputs | select(.method == "GroupsRoles.List")] | length' "$STRONGDM_SIM_LOG")" 1 \
	"the 25 groups' attachments in one listing"

# --- a key that may not read roles: the members are synced, the roles left
roster $S3 Security carlos@example.com | spec security-oncall '["break-glass"]' | sealed |
	SDM_API_ACCESS_KEY=no-roles rg
is "$rc" 1 "roles cannot be read: exit 1"
is "$(changes "$T/out" | sort)" "add done security-oncall carlos@example.com
attach_role failed security-oncall -
remove done security-oncall deanna@example.com" "the members synced, the roles failed"
like "$(cat "$T/err")" 'listing roles.*PERMISSION_DENIED' "the message says why"
is "$(roles_of security-oncall)" "TestSchedule JIT" "the group's roles are left as they were"

# --- offline (--groups: the simulator's dump), roles known from the file
strongdm_sim_state | jq -c '.groups[]' >"$T/groups.ndjson"
: >"$STRONGDM_SIM_LOG"
roster $S3 Security deanna@example.com | spec security-oncall '["TestSchedule JIT", "break-glass"]' | sealed |
	rg --groups "$T/groups.ndjson"
is "$rc/$(role_changes "$T/out")/$(calls)" "0/attach_role planned security-oncall break-glass/0" \
	"offline: the role changes planned from the file, no call"
roster $S3 Security deanna@example.com | spec security-oncall '["nope"]' | sealed | rg --groups "$T/groups.ndjson"
is "$rc" 1 "offline, a role no group of the file has: exit 1"
like "$(cat "$T/err")" 'role "nope" does not exist among the roles attached to the groups of the file' "and says so"

done_testing
