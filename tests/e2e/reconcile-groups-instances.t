#!/usr/bin/env bash
# reconcile-groups --instance: two oncall-syncs on one StrongDM organization
# (say, two incident.io workspaces) each manage only their own groups: a
# prune by one never deletes the other's, a name the other holds is taken,
# and groups without an instance tag stay the default instance's.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/reconcile-groups/lib.sh"


# TestSchedule: the default instance's (no instance tag; alice).
# Platform: instance "emea"'s (bob).
W=$(world_with ".groups += [$(managed_group TestSchedule $S1 alice@example.com),
	($(managed_group Platform $S2 bob@example.com) | .tags[\"oncall-sync-instance\"] = \"emea\")]")
start_strongdm_sim "$W"
tags_of() { strongdm_sim_state | jq -r --arg g "$1" '.groups[] | select(.name == $g) | .tags["oncall-sync-instance"] // "-"'; }
members_of() { strongdm_sim_state | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .members[].email] | sort | join(",")'; }

# --- the default instance: its group synced, the other instance's left alone
roster $S1 TestSchedule alice@example.com bob@example.com | sealed | rg --prune
is "$rc" 0 "default instance: exit 0"
is "$(changes "$T/out")" "add done TestSchedule bob@example.com" \
	"default instance: only its group changes; Platform (instance emea, schedule not in its stream) is not pruned"
is "$(members_of Platform)" "bob@example.com" "Platform keeps its member"

# --- instance emea: its group synced, the default instance's left alone
roster $S2 Platform carlos@example.com | sealed | rg --prune --instance emea
is "$rc" 0 "instance emea: exit 0"
is "$(changes "$T/out" | sort)" "add done Platform carlos@example.com
remove done Platform bob@example.com" "instance emea: Platform synced; TestSchedule (no instance tag) is not pruned"
is "$(members_of TestSchedule)" "alice@example.com,bob@example.com" "TestSchedule keeps its members"

# --- a group created by an instance carries its tag
roster $S3 Security deanna@example.com | sealed | rg --instance emea
is "$rc/$(changes "$T/out" | head -n 1)" "0/create_group done Security -" "instance emea creates Security"
is "$(tags_of Security)" "emea" "tagged oncall-sync-instance=emea"
roster $S3 Security deanna@example.com | sealed | rg --instance emea
is "$rc/$(changes "$T/out")" "0/" "instance emea finds it again: nothing to do"

# --- the other instance's group name is taken, never taken over
roster $S3 Security eve@example.com | sealed | rg
is "$rc" 1 "default instance wanting Security: exit 1"
like "$(jq -r 'select(.action == "create_group") | .error' "$T/out")" 'Security' "the create fails, naming the group"
is "$(members_of Security)/$(tags_of Security)" "deanna@example.com/emea" "Security stays emea's, unchanged"

# --- a prune by emea with its last schedule gone deletes only its groups
: </dev/null | sealed | rg --prune --allow-empty --instance emea
is "$rc" 0 "emea retires its groups: exit 0"
is "$(changes "$T/out" | grep -c '^delete_group done')" 2 "both of emea's groups deleted"
is "$(strongdm_sim_state | jq -r '[.groups[].name] | sort | join(",")')" "Admins,TestSchedule" \
	"the default instance's group and the unmanaged one stay"

# --- offline (--groups FILE) classifies the same way
jq -cn --arg s1 $S1 --arg s2 $S2 '
	{id: "group-1", name: "TestSchedule", tags: {"managed-by": "oncall-sync", "incidentio-schedule-id": $s1}, members: []},
	{id: "group-2", name: "Platform", tags: {"managed-by": "oncall-sync", "incidentio-schedule-id": $s2, "oncall-sync-instance": "emea"}, members: []}' \
	>"$T/groups.ndjson"
roster $S2 Platform bob@example.com | sealed | rg --groups "$T/groups.ndjson" --prune --instance emea
is "$(changes "$T/out")" "add planned Platform bob@example.com" "offline, emea: plans its group, not the default one's"
roster $S1 TestSchedule | sealed | rg --groups "$T/groups.ndjson" --prune
is "$(changes "$T/out")" "" "offline, default: Platform is not its to prune"

# --- usage
for bad in "" "two words" "a/b" "$(printf 'x%.0s' {1..65})"; do
	rg --instance "$bad" </dev/null
	is "$rc" 2 "--instance '${bad:0:12}': a usage error"
done
like "$(cat "$T/err")" "--instance wants 1 to 64 letters" "saying what it wants"

done_testing
