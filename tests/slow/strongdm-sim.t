#!/usr/bin/env bash
# strongdm-sim speaks StrongDM's admin API as the official SDKs expect:
# signatures, filters, paging, errors with grpc-status-details-bin, faults,
# rate limits, state dump.  Calls are made with tests/sdm-call.py.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORLD="$ROOT/tests/fixtures/strongdm/basic.json"
# the SDK's request bodies and signatures: the project's copy of
# ../shared/reference/strongdm-vectors.json (checked equal below when present)
VECTORS="$ROOT/tests/fixtures/strongdm/sdk-vectors.json"
SHARED_VECTORS="${ONCALL_SHARED:-$ROOT/../shared}/reference/strongdm-vectors.json"
SIM_DIR=$(mktemp -d)
# shellcheck source=tests/sim-strongdm.sh
. "$ROOT/tests/sim-strongdm.sh"
trap 'exec 7>&-; strongdm_sim_stop; rm -rf "$SIM_DIR"' EXIT

n=0
failed=0
t_ok() { # t_ok STATUS DESC
	n=$((n + 1))
	if [[ $1 == 0 ]]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
t_is() { # t_is GOT WANT DESC
	if [[ $1 == "$2" ]]; then
		t_ok 0 "$3"
	else
		t_ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

# One sdm-call.py process answers every call (a process per call costs
# more than the test): arguments go in as a JSON array, one line comes out.
coproc SDMCALL { /usr/bin/python3 "$ROOT/tests/sdm-call.py" --serve; }
exec 7>&"${SDMCALL[1]}" 8<&"${SDMCALL[0]}"
call() {
	jq -cn --arg h "$SDM_API_HOST" --arg k "$SDM_API_ACCESS_KEY" \
		--arg s "$SDM_API_SECRET_KEY" \
		'["--host", $h, "--access-key", $k, "--secret", $s] + $ARGS.positional' \
		--args -- "$@" >&7
	local line
	IFS= read -r line <&8
	printf '%s\n' "$line"
}
# code METHOD [JSON]: the status code of a call
code() { call "$@" | jq -r .code; }
# jcall FILTER METHOD [JSON]: a jq expression over the call's output
jcall() {
	local f=$1
	shift
	call "$@" | jq -c "$f"
}

# The simulator's rate-limit times are on the machine's clock (it runs
# without libfaketime, see tests/sim-strongdm.sh); times are checked against
# that clock read before and after a call, so a slow machine cannot break them.
real_s() { env -u LD_PRELOAD date +%s; }
real_ns() { env -u LD_PRELOAD date +%s%N; }

A1=a-0000000000000001 A2=a-0000000000000002 A3=a-0000000000000003
ADMINS=group-0000000000000001 SCIM=group-0000000000000002

# --- the project's vectors are the reference's
if [[ -r $SHARED_VECTORS ]]; then
	t_is "$(jq -S . "$VECTORS" | sha256sum)" "$(jq -S . "$SHARED_VECTORS" | sha256sum)" \
		"tests/fixtures/strongdm/sdk-vectors.json equals ../shared's strongdm-vectors.json"
else
	n=$((n + 1))
	echo "ok $n # SKIP ../shared/reference/strongdm-vectors.json is absent (a plain clone): nothing to compare the project's copy with"
fi

# --- signatures: the sim's verifier against the SDK's vectors
out=$(cd "$ROOT/scripts" && /usr/bin/python3 - "$VECTORS" <<'EOF'
import datetime, json, sys
import strongdm_sim_proto as p
v = json.load(open(sys.argv[1]))
now = datetime.datetime.strptime(v['date'], '%Y-%m-%d').replace(
    hour=23, minute=59, tzinfo=datetime.timezone.utc)
for x in v['vectors']:
    body = bytes.fromhex(x['body_hex'])
    good = p.verify(v['secret'], x['method'], body, x['signature'], now)
    # a day before or after still verifies; three days off does not
    late = p.verify(v['secret'], x['method'], body, x['signature'],
                    now + datetime.timedelta(days=1))
    off = p.verify(v['secret'], x['method'], body, x['signature'],
                   now + datetime.timedelta(days=3))
    tamper = p.verify(v['secret'], x['method'], body + b'\0', x['signature'],
                      now)
    print(x['method'], good and late and not off and not tamper,
          p.sign(v['secret'], x['method'], body, v['date']) == x['signature'])
EOF
)
while read -r m verified signed; do
	t_is "$verified $signed" "True True" "vector $m: verified (±1 day), rejected when tampered or 3 days off; signed alike"
done <<<"$out"

# --- codec: encoding the vectors' messages gives the SDK's bytes
out=$(cd "$ROOT/scripts" && /usr/bin/python3 <<'EOF'
import strongdm_sim_proto as p
cases = [
    ('ListRequest', {'meta': {}}, '0a00'),
    ('ListRequest', {'meta': {'limit': 100}, 'filter': 'email:"alice@example.com"'},
     '0a0218641219656d61696c3a22616c696365406578616d706c652e636f6d22'),
    ('ListRequest', {'meta': {'cursor': 'abc', 'limit': 50}}, '0a070a036162631832'),
    ('GroupCreateRequest', {'meta': {}, 'group': {'name': 'eng', 'tags': p.tags_from_dict({'managed-by': 'sync'})}},
     '0a00121b1203656e672a140a120a0a6d616e616765642d6279120473796e63'),
    ('IdRequest', {'meta': {}, 'id': 'group-123'}, '0a00120967726f75702d313233'),
    ('AccountGroupCreateRequest', {'meta': {}, 'account_group': {'account_id': 'a-1', 'group_id': 'group-123'}},
     '0a0012101203612d311a0967726f75702d313233'),
]
ok = all(p.encode(s, m).hex() == h for s, m, h in cases)
# decoding skips unknown fields of every wire type, nested too
body = bytes.fromhex('0a00121b1203656e672a140a120a0a6d616e616765642d6279120473796e63') \
    + bytes.fromhex('f80101' '8102' + '00' * 8 + 'fa0203616263' '8d03' + '00' * 4)
d = p.decode('GroupCreateRequest', body)
ok2 = d['group']['name'] == 'eng' and p.tags_to_dict(d['group']['tags']) == {'managed-by': 'sync'}
neg = p.decode('RateLimitMetadata', p.encode('RateLimitMetadata', {'limit': -1}))['limit'] == -1
print(ok, ok2, neg)
EOF
)
t_is "$out" "True True True" "codec: SDK bytes reproduced; unknown fields skipped; negative varints"

# --- filter grammar
out=$(cd "$ROOT/scripts" && /usr/bin/python3 <<'EOF'
import strongdm_sim_proto as p
good = p.parse_filter('groups', ' tag:"managed-by"="oncall-sync"  name:eng*  tag:x=y tag:"k" ') == [
    ('tag', 'managed-by', 'oncall-sync'), ('name', 'eng*', None), ('tag', 'x', 'y'), ('tag', 'k', None)]
bad = 0
for f in ['name', 'nope:"x"', 'name:"x', 'name:"x"y', 'name:x=y', 'id:"a":']:
    try:
        p.parse_filter('groups', f)
    except p.FilterError:
        bad += 1
try:
    p.parse_filter('accounts', 'suspended:maybe')
except p.FilterError:
    bad += 1
print(good, bad)
EOF
)
t_is "$out" "True 7" "filters: quoted, bare, tag name=value and tag name; 7 bad filters refused"

# --- start
strongdm_sim_start "$WORLD" --seed 7
line=$(cat "$SIM_DIR/strongdm-sim.out")
[[ $line =~ ^strongdm-sim:\ listening\ on\ http://127\.0\.0\.1:[0-9]+\ control\ http://127\.0\.0\.1:[0-9]+$ ]]
t_ok $? "prints one listening line: $line"
t_is "$(jq -r '.groups | map(.name) | join(",")' "$STRONGDM_SIM_STATE")" "Admins,SCIM Engineers" "state dumped at start"

# --- python3-protobuf (runtime descriptors, no protoc) parses the sim's
# responses and errors the way the SDK does: canonical bytes, and an Any
# detail that Is() a v1.RateLimitMetadata
pbcheck=$(cat <<'EOF'
import sys, json
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, any_pb2
from google.protobuf import json_format
pool = descriptor_pool.Default()
F = descriptor_pb2.FieldDescriptorProto
def msg(fd, name, fields):
    m = fd.message_type.add(name=name)
    for num, fname, typ, rep in fields:
        f = m.field.add(name=fname, number=num,
                        label=F.LABEL_REPEATED if rep else F.LABEL_OPTIONAL)
        if typ in ('string', 'bool', 'int32', 'int64', 'bytes'):
            f.type = {'string': F.TYPE_STRING, 'bool': F.TYPE_BOOL, 'int32': F.TYPE_INT32,
                      'int64': F.TYPE_INT64, 'bytes': F.TYPE_BYTES}[typ]
        else:
            f.type = F.TYPE_MESSAGE
            f.type_name = typ
v1 = descriptor_pb2.FileDescriptorProto(name='simcheck/v1.proto', package='v1', syntax='proto3',
                                        dependency=['google/protobuf/any.proto'])
msg(v1, 'Timestamp', [(1, 'seconds', 'int64', 0), (2, 'nanos', 'int32', 0)])
msg(v1, 'RateLimitMetadata', [(1, 'limit', 'int64', 0), (2, 'remaining', 'int64', 0),
                              (3, 'reset_at', '.v1.Timestamp', 0), (4, 'bucket', 'string', 0)])
msg(v1, 'Pair', [(1, 'name', 'string', 0), (2, 'value', 'string', 0)])
msg(v1, 'Tags', [(1, 'pairs', '.v1.Pair', 1)])
msg(v1, 'Group', [(1, 'id', 'string', 0), (2, 'name', 'string', 0), (3, 'description', 'string', 0),
                  (4, 'source', 'string', 0), (5, 'tags', '.v1.Tags', 0)])
msg(v1, 'User', [(1, 'id', 'string', 0), (2, 'email', 'string', 0), (10, 'suspended', 'bool', 0)])
msg(v1, 'Account', [(1, 'user', '.v1.User', 0)])
msg(v1, 'ListResponseMetadata', [(1, 'next_cursor', 'string', 0)])
msg(v1, 'GroupListResponse', [(1, 'meta', '.v1.ListResponseMetadata', 0), (2, 'groups', '.v1.Group', 1),
                              (3, 'rate_limit', '.v1.RateLimitMetadata', 0)])
msg(v1, 'AccountListResponse', [(1, 'meta', '.v1.ListResponseMetadata', 0), (2, 'accounts', '.v1.Account', 1),
                                (3, 'rate_limit', '.v1.RateLimitMetadata', 0)])
msg(v1, 'Status', [(1, 'code', 'int32', 0), (2, 'message', 'string', 0), (3, 'details', '.google.protobuf.Any', 1)])
pool.Add(v1)
fac = message_factory.MessageFactory(pool)
cls = lambda n: fac.GetPrototype(pool.FindMessageTypeByName('v1.' + n))
out = []
for line in sys.stdin:
    kind, hexs = line.split()
    m = cls(kind)()
    m.ParseFromString(bytes.fromhex(hexs))
    if kind == 'Status':
        rl = cls('RateLimitMetadata')()
        ok = m.details[0].Is(rl.DESCRIPTOR) and m.details[0].Unpack(rl)
        out.append([m.code, bool(ok), rl.remaining, rl.reset_at.seconds > 0])
    else:
        # re-serializing gives the same bytes: the sim encodes canonically
        out.append([m.SerializeToString().hex() == hexs,
                    json_format.MessageToDict(m, preserving_proto_field_name=True)])
print(json.dumps(out))
EOF
)
res=$({
	echo "GroupListResponse $(call Groups.List | jq -r .response_hex)"
	echo "AccountListResponse $(call Accounts.List '{"meta":{"limit":2}}' | jq -r .response_hex)"
	strongdm_sim_fault '{"faults":[{"kind":"resource_exhausted"}]}'
	echo "Status $(call Groups.List | jq -r .status_details_hex)"
} | /usr/bin/python3 -c "$pbcheck")
t_is "$(jq -c '.[0] | [.[0], [.[1].groups[].name], .[1].rate_limit.limit]' <<<"$res")" '[true,["Admins","SCIM Engineers"],"5000"]' \
	"protobuf parses Groups.List; re-encoding gives the same bytes"
t_is "$(jq -c '.[1] | [.[0], [.[1].accounts[].user.email], (.[1].meta.next_cursor != null)]' <<<"$res")" '[true,["alice@example.com","bob@example.com"],true]' \
	"protobuf parses Accounts.List (User in the Account oneof)"
t_is "$(jq -c '.[2]' <<<"$res")" '[8,true,0,true]' "protobuf parses grpc-status-details-bin; Any.Is(v1.RateLimitMetadata) and unpacks"

# --- accounts, paging
t_is "$(jcall '[.code, .pages, (.items | length), ([.items[] | (.user // .service).id] | unique | length)]' \
	Accounts.List --all-pages '{"meta":{"limit":3}}')" "[0,3,8,8]" "Accounts.List: 8 accounts in 3 pages of 3, no repeats"
t_is "$(jcall '[.response.meta.next_cursor, (.response.items | length)]' Accounts.List '{"meta":{"limit":8}}')" '["",8]' \
	"a page holding the last item has an empty next_cursor"
t_is "$(jcall '[.response.items[].user.id]' Accounts.List '{"filter":"email:\"DUP@Example.com\""}')" \
	'["a-0000000000000007","a-0000000000000008"]' "email filter is case-insensitive; two users share dup@"
t_is "$(jcall '[.response.items[].user | [.email, .suspendedRO, .suspended]]' Accounts.List '{"filter":"suspended:True"}')" \
	'[["eve@example.com",true,false]]' "suspended:True (Python SDK spelling); suspension in field 10 only"
t_is "$(jcall '.response.items | length' Accounts.List '{"filter":"suspended:false type:user"}')" 6 "suspended:false type:user"
t_is "$(jcall '[.response.items[] | .service.name]' Accounts.List '{"filter":"type:service tag:team=infra"}')" '["ci-bot"]' \
	"type:service and a tag filter find the service account"
t_is "$(jcall '.response.items | length' Accounts.List '{"filter":"email:\"ci-bot*\""}')" 0 "a service account has no email"
t_is "$(jcall '[.response.items[].user.last_name]' Accounts.List '{"filter":"firstname:dana email:\"*@EXAMPLE.com\""}')" \
	'["One","Two"]' "wildcards and several terms"
t_is "$(jcall '[.response.items[].user.email]' Accounts.List "{\"filter\":\"id:$A3\"}")" '["carlos@example.com"]' "id filter"
t_is "$(jcall '[.code, .details_present]' Accounts.List '{"filter":"nosuchfield:\"x\""}')" '[3,true]' "unknown filter field: INVALID_ARGUMENT with details"
t_is "$(code Accounts.List '{"filter":"email:\"unterminated"}')" 3 "unparseable filter: INVALID_ARGUMENT"
t_is "$(code Accounts.List '{"meta":{"cursor":"garbage!"}}')" 3 "bad cursor: INVALID_ARGUMENT"
t_is "$(jcall '[.items[].user.email]' Accounts.List --all-pages '{"meta":{"limit":1},"filter":"email:\"*@example.com\" suspended:false type:user"}')" \
	'["alice@example.com","bob@example.com","carlos@example.com","deanna@example.com","dup@example.com","dup@example.com"]' \
	"filtered paging with limit 1 keeps order and filter"
t_is "$(jcall '[.response.rate_limit | (.limit, .remaining <= .limit, .reset_at.seconds > 0, .bucket != "")]' Accounts.List)" \
	'[5000,true,true,true]' "a success carries rate_limit (limit, remaining, reset_at, bucket)"

# --- identity sets and aliases
t_is "$(jcall '[.response.items[].id]' IdentitySets.List '{"filter":"name:\"INCIDENTIO\""}')" '["ig-0000000000000001"]' "IdentitySets.List by name"
t_is "$(jcall '[.response.items[] | [.account_id, .username]]' IdentityAliases.List '{"filter":"identitysetid:\"ig-0000000000000001\""}')" \
	'[["a-0000000000000001","01FCNDV6P870EA6S7TK1DSYDG0"],["a-0000000000000002","01FCNDV6P870EA6S7TK1DSYDG1"],["a-0000000000000003","01FCNDV6P870EA6S7TK1DSYDG2"],["a-0000000000000004","01FCNDV6P870EA6S7TK1DSYDG3"]]' \
	"IdentityAliases.List by identity set"
t_is "$(jcall '[.response.items[].id]' IdentityAliases.List '{"filter":"username:\"01FCNDV6P870EA6S7TK1DSYDG0\" identitysetid:\"ig-0000000000000001\""}')" \
	'["i-0000000000000001"]' "alias by username"
t_is "$(jcall '[.response.items[].identity_set_id]' IdentityAliases.List "{\"filter\":\"accountid:$A1\"}")" \
	'["ig-0000000000000001","ig-0000000000000002"]' "aliases by account"

# --- groups
t_is "$(jcall '[.response.items[] | [.name, .source]]' Groups.List)" '[["Admins",""],["SCIM Engineers","scim"]]' "Groups.List"
t_is "$(jcall '[.response.group.name, .response.group.description]' Groups.Get "{\"id\":\"$ADMINS\"}")" '["Admins","hand-managed"]' "Groups.Get"
t_is "$(jcall '[.code, .name, .details_present, .status.code]' Groups.Get '{"id":"group-nope"}')" '[5,"NOT_FOUND",true,5]' "Groups.Get unknown id: NOT_FOUND with grpc-status-details-bin"
res=$(call Groups.Create '{"meta":{},"group":{"name":"oncall-eng","source":"evil","tags":{"pairs":[{"name":"managed-by","value":"oncall-sync"},{"name":"incidentio-schedule-id","value":"01SCHED"}]}}}')
ENG=$(jq -r .response.group.id <<<"$res")
t_is "$(jq -c '[.code, (.response.group.id | startswith("group-")), .response.group.source, .response.rate_limit.limit]' <<<"$res")" \
	'[0,true,"",500]' "Groups.Create: new id, source ignored, write bucket"
t_is "$(code Groups.Create '{"group":{"name":"ONCALL-ENG"}}')" 6 "group names are unique case-insensitively: ALREADY_EXISTS"
t_is "$(code Groups.Create '{"group":{"name":""}}')" 3 "a group needs a name"
t_is "$(code Groups.Create '{"group":{"name":"x","tags":{"pairs":[{"name":"bad!","value":"v"}]}}}')" 3 "tag characters are checked"
t_is "$(jcall '[.items[].name]' Groups.List --all-pages '{"meta":{"limit":1},"filter":"tag:\"managed-by\"=\"oncall-sync\" tag:\"incidentio-schedule-id\"=\"01sched\""}')" \
	'["oncall-eng"]' "managed groups found by tag"
t_is "$(code Groups.Update "{\"id\":\"$ENG\",\"group\":{\"name\":\"admins\"}}")" 6 "Update to a taken name: ALREADY_EXISTS"
t_is "$(jcall '[.code, .response.group.name, .response.group.description, .response.group.source, (.response.group.tags.pairs | length)]' \
	Groups.Update "{\"id\":\"$SCIM\",\"group\":{\"id\":\"$SCIM\",\"name\":\"SCIM Eng\",\"description\":\"d\",\"source\":\"x\"}}")" \
	'[0,"SCIM Eng","d","scim",0]' "Update overwrites name, description and tags; source kept"
t_is "$(code Groups.Update '{"id":"group-nope","group":{"name":"q"}}')" 5 "Update unknown id: NOT_FOUND"

# --- memberships
res=$(call AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A1\",\"group_id\":\"$ENG\"}}")
M1=$(jq -r .response.account_group.id <<<"$res")
t_is "$(jq -c '[.code, (.response.account_group.id | startswith("accountgroup-"))]' <<<"$res")" '[0,true]' "AccountsGroups.Create"
t_is "$(code AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A1\",\"group_id\":\"$ENG\"}}")" 6 "a membership exists once: ALREADY_EXISTS"
t_is "$(code AccountsGroups.Create "{\"account_group\":{\"account_id\":\"a-nope\",\"group_id\":\"$ENG\"}}")" 5 "unknown account: NOT_FOUND"
t_is "$(code AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A1\",\"group_id\":\"group-nope\"}}")" 5 "unknown group: NOT_FOUND"
t_is "$(jcall '[.response.items[].id]' AccountsGroups.List "{\"filter\":\"accountid:\\\"$A1\\\" groupid:\\\"$ENG\\\"\"}")" "[\"$M1\"]" \
	"membership found by accountid and groupid"
t_is "$(jcall '[.response.items[].account_id]' AccountsGroups.List "{\"filter\":\"groupid:$SCIM\"}")" "[\"$A2\",\"$A3\"]" "a group's memberships"
t_is "$(jcall '.response.account_group.group_id' AccountsGroups.Get "{\"id\":\"$M1\"}")" "\"$ENG\"" "AccountsGroups.Get"
t_is "$(code AccountsGroups.Delete "{\"id\":\"$M1\"}")" 0 "AccountsGroups.Delete"
t_is "$(code AccountsGroups.Delete "{\"id\":\"$M1\"}")" 5 "deleting it again: NOT_FOUND"

# --- both SDK encodings of meta (Go: present and empty; Python: absent)
hexid() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
body="$(printf '%02x' ${#SCIM})$(hexid "$SCIM")"
t_is "$(code --hex "0a0012$body" Groups.Get)" 0 "Get with meta present and empty (Go SDK)"
t_is "$(code --hex "12$body" Groups.Get)" 0 "Get with meta absent (Python SDK)"
t_is "$(code --hex "12${body}f80101" Groups.Get)" 0 "unknown request fields are skipped"
t_is "$(code --hex "" Accounts.List)" 0 "an empty List request is valid"
t_is "$(code --hex "0a05" Accounts.List)" 13 "a truncated message: INTERNAL (unmarshal error)"
res=$(call AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A2\",\"group_id\":\"$ENG\"}}")
M2=$(jq -r .response.account_group.id <<<"$res")
t_is "$(code --hex "12$(printf '%02x' ${#M2})$(hexid "$M2")" AccountsGroups.Delete)" 0 "Delete with meta absent"
t_is "$(code --hex "0a00120967726f75702d313233" Groups.Delete)" 5 "Delete with meta present (vector bytes): unknown id NOT_FOUND"

# --- authentication and permissions
t_is "$(jcall '[.code, .details_present]' --bad-signature Groups.List)" '[16,true]' "bad signature: UNAUTHENTICATED with details"
t_is "$(code --access-key nobody Groups.List)" 16 "unknown access key: UNAUTHENTICATED"
t_is "$(code --no-auth Groups.List)" 16 "no signature headers: UNAUTHENTICATED"
t_is "$(code --date 2020-01-01 Groups.List)" 16 "a signature of another day: UNAUTHENTICATED"
t_is "$(code --date "$(date -u -d yesterday +%F)" Groups.List)" 0 "yesterday's date is tolerated (midnight)"
t_is "$(code --api-version "" Groups.List)" 3 "missing x-sdm-api-version: INVALID_ARGUMENT"
RO=(--access-key readonly-key --secret cmVhZG9ubHktc2VjcmV0LTMyLWJ5dGVzLWxvbmctb2s=)
t_is "$(code "${RO[@]}" Groups.List)" 0 "a read-only key reads"
t_is "$(jcall '[.code, .details_present]' "${RO[@]}" Groups.Create '{"group":{"name":"ro"}}')" '[7,true]' "a read-only key cannot write: PERMISSION_DENIED"
t_is "$(code "${RO[@]}" AccountsGroups.Delete '{"id":"accountgroup-x"}')" 7 "nor delete memberships"

# --- faults
strongdm_sim_fault '{"faults":[{"method":"AccountsGroups.Create","kind":"resource_exhausted","reset_in_ms":3000}]}'
t0=$(real_s)
res=$(call AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A3\",\"group_id\":\"$ENG\"}}")
t1=$(real_s)
t_is "$(jq -c --argjson t0 "$t0" --argjson t1 "$t1" '[.code, .details[0].type_url, .details[0].rate_limit.remaining, (.details[0].rate_limit.reset_at.seconds - 3 | . >= $t0 and . <= $t1)]' <<<"$res")" \
	'[8,"type.googleapis.com/v1.RateLimitMetadata",0,true]' "fault resource_exhausted: RateLimitMetadata detail with reset_at"
t_is "$(code AccountsGroups.Create "{\"account_group\":{\"account_id\":\"$A3\",\"group_id\":\"$ENG\"}}")" 0 "a fault fires count times (1), then calls succeed"
strongdm_sim_fault '{"faults":[{"method":"Groups.","kind":"unavailable","count":2,"after":1}]}'
got=""
for _ in 1 2 3 4; do got+="$(code Groups.List) "; done
t_is "$got" "0 14 14 0 " "fault with a Service. prefix, after 1, count 2: UNAVAILABLE"
t_is "$(code Accounts.List)" 0 "a prefix fault leaves other services alone"
strongdm_sim_fault '{"faults":[{"method":"*","kind":"internal"}]}'
t_is "$(jcall '[.code, .details_present]' IdentitySets.List)" '[13,true]' "fault internal: INTERNAL with details"
strongdm_sim_fault '{"faults":[{"method":"Groups.List","kind":"status","code":9,"message":"nope"}]}'
t_is "$(jcall '[.code, .message]' Groups.List)" '[9,"nope"]' "fault status with any code"
strongdm_sim_fault '{"faults":[{"method":"Groups.List","kind":"unavailable","count":-1}]}'
strongdm_sim_clear_faults
t_is "$(code Groups.List)" 0 "DELETE /faults clears them (count -1 would repeat forever)"
strongdm_sim_fault '{"faults":[{"method":"Groups.Get","kind":"slow","delay_ms":700}]}'
start=$(date +%s%N)
c=$(code Groups.Get "{\"id\":\"$ADMINS\"}")
ms=$((($(date +%s%N) - start) / 1000000))
t_ok "$([[ $c == 0 && $ms -ge 700 ]] && echo 0 || echo 1)" "fault slow: answered after ${ms} ms"
strongdm_sim_fault '{"faults":[{"method":"Groups.List","kind":"drop"}]}'
t_is "$(jcall '[.code, .details_present]' Groups.List)" '[14,false]' "fault drop: the connection is cut, no gRPC status or details"
t_is "$(code Groups.List)" 0 "the next call succeeds on a new connection"
strongdm_sim_fault '{"faults":[{"method":"Groups.Create","kind":"drop","when":"after"}]}'
t_is "$(code Groups.Create '{"group":{"name":"lost-reply"}}')" 14 "fault drop after the write: reply lost"
t_is "$(code Groups.Create '{"group":{"name":"lost-reply"}}')" 6 "... but the group was created (a retry sees ALREADY_EXISTS)"
t_is "$(curl -sSf "$STRONGDM_SIM_CONTROL/faults" | jq -c '[.faults[] | select(.count != 0)] | length')" 0 "GET /faults: none left"

# --- deleting a group deletes its memberships; state dump
t_is "$(code Groups.Delete "{\"id\":\"$SCIM\"}")" 0 "Groups.Delete"
t_is "$(code AccountsGroups.List "{\"filter\":\"groupid:$SCIM\"}" | head -1)" 0 "list memberships of the deleted group"
t_is "$(jcall '.response.items | length' AccountsGroups.List "{\"filter\":\"groupid:$SCIM\"}")" 0 "its memberships are gone"
t_is "$(jq -c '[.groups[] | [.name, ([.members[].email] | join(" "))]]' "$STRONGDM_SIM_STATE")" \
	'[["Admins","alice@example.com"],["lost-reply",""],["oncall-eng","carlos@example.com"]]' "state file: groups by name, members by email"
t_is "$(strongdm_sim_state | jq -c '[.groups[].name, (.accounts | length), (.identity_aliases | length)]')" \
	'["Admins","lost-reply","oncall-eng",8,5]' "GET /state"
t_is "$(curl -sSf "$STRONGDM_SIM_CONTROL/calls" | jq '."Groups.Create"')" "$(strongdm_sim_count Groups.Create)" "GET /calls agrees with the log"
t_is "$(strongdm_sim_count Groups.List DROPPED)" 1 "log: outcome of each call"
t_is "$(jq -sc '[.[] | select(.method == "Accounts.List" and .filter == "suspended:True")][0] | [.outcome, .items]' "$STRONGDM_SIM_LOG")" \
	'["OK",1]' "log: filter and item count"
strongdm_sim_stop

# --- rate limits and latency
strongdm_sim_start "$WORLD" --rate-limit 100,2 --latency-ms 300 --workers 16
t0=$(real_s)
res=$(call Groups.Create '{"group":{"name":"w1"}}')
t1=$(real_s)
t_is "$(jq -c '[.code, .response.rate_limit.remaining]' <<<"$res")" '[0,1]' "--rate-limit: 2 writes/min, 1 left"
reset=$(jq .response.rate_limit.reset_at.seconds <<<"$res")
t_ok "$((reset - 60 >= t0 && reset - 60 <= t1 ? 0 : 1))" "the window ends a minute after the first write ($((reset - t1)) s from now)"
t_is "$(code Groups.Create '{"group":{"name":"w2"}}')" 0 "second write"
t_is "$(call Groups.Create '{"group":{"name":"w3"}}' | jq -c --argjson reset "$reset" '[.code, .details[0].rate_limit.limit, .details[0].rate_limit.reset_at.seconds == $reset]')" \
	'[8,2,true]' "third write: RESOURCE_EXHAUSTED until the window resets"
t_is "$(code Groups.List)" 0 "reads have their own bucket"
# The 8 calls (after sdm-call.py's first, which connects) are held until
# all are in: the simulator's count of calls in at once shows they
# overlapped, on a machine of any speed.
curl -sSf -X DELETE "$STRONGDM_SIM_CONTROL/inflight" >/dev/null
strongdm_sim_fault '{"faults":[{"method":"Groups.List","kind":"hold","count":8,"after":1}]}'
res=$(call --concurrent 8 Groups.List)
t_is "$(jq -c .codes <<<"$res")" "[0,0,0,0,0,0,0,0]" "8 concurrent calls succeed"
t_is "$(curl -sSf "$STRONGDM_SIM_CONTROL/inflight" | jq -c '[.max_in_flight, .in_flight]')" "[8,0]" \
	"the simulator served the 8 at once"
ms=$(jq .elapsed_ms <<<"$res")
t_ok "$([[ $ms -ge 300 ]] && echo 0 || echo 1)" "... each after its 300 ms latency (${ms} ms)"
strongdm_sim_stop

# --- --rate-window-ms: windows of a second, so pacing is testable
strongdm_sim_start "$WORLD" --rate-limit 100,1 --rate-window-ms 1000
# rl_reset JSON: code and reset_at (ns) of a call's answer or refusal
rl_reset() {
	jq -r '[.code, ((.response.rate_limit // .details[0].rate_limit).reset_at | .seconds, (.nanos // 0))] | @tsv' <<<"$1"
}
t0=$(real_ns)
res=$(call Groups.Create '{"group":{"name":"s1"}}')
t1=$(real_ns)
read -r c sec nsec < <(rl_reset "$res")
cur=$((sec * 1000000000 + nsec))
t_ok "$((c == 0 && cur - 1000000000 >= t0 - 1000000 && cur - 1000000000 <= t1 + 1000000 ? 0 : 1))" \
	"--rate-window-ms 1000: reset_at a second after the write"
t_is "$(jq -c .response.rate_limit.remaining <<<"$res")" 0 "... with none left"
# A write in the same window (the reset_at it reports is the window's) is
# refused; one that a slow machine sent after the reset opens a later
# window, and the next is tried. A write that succeeds within the window fails.
refused=0 bad=
for i in $(seq 20); do
	read -r c sec nsec < <(rl_reset "$(call Groups.Create "{\"group\":{\"name\":\"p$i\"}}")")
	r=$((sec * 1000000000 + nsec))
	if [[ $c == 8 && $r == "$cur" ]]; then
		refused=1
		break
	elif [[ $c == 0 && $r -gt $cur ]]; then
		cur=$r
	else
		bad+=" p$i: code $c, reset_at $r (window $cur)"
	fi
done
t_ok "$([[ $refused == 1 && -z $bad ]] && echo 0 || echo 1)" "over the limit within the window: refused until its reset_at$bad"
for ((i = 0; i < 1200; i++)); do (($(real_ns) > cur)) && break; sleep 0.05; done
t_is "$(code Groups.Create '{"group":{"name":"s2"}}')" 0 "a new window once reset_at has passed"
strongdm_sim_stop

# --- world under a "strongdm" key, default key pair
jq '{strongdm: (del(.api_keys))}' "$WORLD" >"$SIM_DIR/wrapped.json"
strongdm_sim_start "$SIM_DIR/wrapped.json"
t_is "$(jcall '.response.items | length' Groups.List)" 2 "a world under \"strongdm\" with the default key pair"
strongdm_sim_stop
/usr/bin/python3 "$ROOT/scripts/strongdm-sim" --world /dev/null >/dev/null 2>&1 && st=0 || st=$?
t_is "$st" 2 "an unreadable world: exit 2"

echo "1..$n"
[[ $failed == 0 ]]
