#!/usr/bin/env bash
# strongdm-sim answers requests shaped byte for byte as StrongDM's official
# SDKs shape them (Go and Python 17.8.0, svc.go and svc.py: the layout is
# written out below, so the test needs nothing outside the project):
# every call oncall-sync makes, with the filters it uses, and Groups.Update
# carrying only group.id (both SDKs send nothing else). And where the
# simulator must be as strict as StrongDM: empty ids are INVALID_ARGUMENT, a
# cursor used with another filter is refused, and rate_limit counts down
# what is left of the window.
# shellcheck disable=SC1091,SC2034 # tap.sh (sourced) reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
/usr/bin/python3 -c 'import grpc' 2>/dev/null || skip_all "python3-grpcio is not installed"

start_strongdm_sim "$ROOT/tests/fixtures/strongdm/basic.json" --seed 7

# The requests are built here field by field, not with the simulator's own
# codec, so that a codec error cannot hide on both sides.
/usr/bin/python3 - <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.environ['ROOT'], 'scripts'))
import grpc
import strongdm_sim_proto as proto

n = 0
def ok(cond, desc, got=None):
    global n
    n += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n, desc))
    if not cond and got is not None:
        print('# got: %r' % (got,))

def varint(v):
    out = b''
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def ld(num, payload):          # a length-delimited field
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload

def vi(num, v):                # a varint field
    return varint(num << 3) + varint(v)

EMPTY_META = ld(1, b'')        # the Go SDK's present, empty metadata

def list_req(sdk, filt, limit=0, cursor=''):
    # Both SDKs always send ListRequestMetadata (empty, or with the cursor
    # and the page limit), then the filter.
    meta = (ld(1, cursor) if cursor else b'') + (vi(3, limit) if limit else b'')
    return ld(1, meta) + (ld(2, filt) if filt else b'')

def id_req(sdk, rid):          # Get, Delete: Go sends meta, Python does not
    return (EMPTY_META if sdk == 'go' else b'') + (ld(2, rid) if rid else b'')

def tags(d):
    return b''.join(ld(1, ld(1, k) + ld(2, v)) for k, v in d.items())

def group(gid='', name='', desc='', tg=None):
    return ((ld(1, gid) if gid else b'') + (ld(2, name) if name else b'') +
            (ld(3, desc) if desc else b'') + (ld(5, tags(tg)) if tg else b''))

def group_create(sdk, g):
    return (EMPTY_META if sdk == 'go' else b'') + ld(2, g)

def group_update(sdk, g, rid=''):
    # GroupUpdateRequest: 1 meta, 2 id, 3 group. Both SDKs fill only group
    # (whose id says which); Go also sends an empty meta.
    return ((EMPTY_META if sdk == 'go' else b'') + (ld(2, rid) if rid else b'') +
            ld(3, g))

def ag_create(sdk, acc, gid):
    return (EMPTY_META if sdk == 'go' else b'') + ld(2, ld(2, acc) + ld(3, gid))

host = os.environ['SDM_API_HOST'].replace('http://', '')
key = os.environ['SDM_API_ACCESS_KEY']
secret = os.environ['SDM_API_SECRET_KEY']
chan = grpc.insecure_channel(host)

def call(method, body):
    md = [('x-sdm-authentication', key),
          ('x-sdm-signature', proto.sign(secret, method, body)),
          ('x-sdm-api-version', '2025-04-14'),
          ('x-sdm-user-agent', 'sdk-shape-test/1')]
    try:
        raw = chan.unary_unary(proto.grpc_path(method))(body, metadata=md, timeout=10)
        return 0, proto.decode(proto.METHODS[method][1], raw), ''
    except grpc.RpcError as e:
        return e.code().value[0], None, e.details()

def items(method, body):
    code, resp, msg = call(method, body)
    return code, (resp or {}).get('items', []), resp

for sdk in ('go', 'python'):
    w = '%s SDK shape: ' % sdk
    # match-users: users by email, by id, all users; identity sets and aliases
    code, it, _ = items('Accounts.List', list_req(sdk, 'email:"Alice@Example.com"', 1000))
    ok(code == 0 and [a['user']['id'] for a in it] == ['a-0000000000000001'],
       w + 'Accounts.List email:"…" (any case)', (code, it))
    code, it, _ = items('Accounts.List', list_req(sdk, 'id:"a-0000000000000002"'))
    ok(code == 0 and [a['user']['email'] for a in it] == ['bob@example.com'],
       w + 'Accounts.List id:"…"', (code, it))
    code, it, _ = items('Accounts.List', list_req(sdk, 'type:"user"', 1000))
    ok(code == 0 and len(it) == 7 and all('user' in a for a in it),
       w + 'Accounts.List type:"user"', (code, len(it)))
    code, it, _ = items('Accounts.List', list_req(sdk, 'name:"ci-bot"'))
    ok(code == 0 and [a['service']['id'] for a in it] == ['a-0000000000000006'],
       w + 'Accounts.List name:"…" finds the service account of that name', (code, it))
    code, it, _ = items('Accounts.List', list_req(sdk, 'name:"alice@example.com"'))
    ok(code == 0 and it == [], w + 'Accounts.List name: never matches a user', (code, it))
    code, it, _ = items('IdentitySets.List', list_req(sdk, 'name:"incidentio"'))
    ok(code == 0 and [s['id'] for s in it] == ['ig-0000000000000001'],
       w + 'IdentitySets.List name:"…"', (code, it))
    code, it, _ = items('IdentitySets.List', list_req(sdk, 'id:"ig-0000000000000002"'))
    ok(code == 0 and [s['name'] for s in it] == ['default'], w + 'IdentitySets.List id:"…"', (code, it))
    code, it, _ = items('IdentityAliases.List',
                        list_req(sdk, 'identitysetid:"ig-0000000000000001"', 1000))
    ok(code == 0 and len(it) == 4, w + 'IdentityAliases.List identitysetid:"…"', (code, it))
    code, it, _ = items('IdentityAliases.List', list_req(
        sdk, 'identitysetid:"ig-0000000000000001" username:"01FCNDV6P870EA6S7TK1DSYDG2"'))
    ok(code == 0 and [a['account_id'] for a in it] == ['a-0000000000000003'],
       w + 'IdentityAliases.List identitysetid:"…" username:"…"', (code, it))

    # reconcile-groups: managed groups by tag, names, create, rename, members
    name = 'oncall %s' % sdk
    code, resp, msg = call('Groups.Create', group_create(sdk, group(
        name=name, desc='managed by oncall-sync',
        tg={'managed-by': 'oncall-sync', 'incidentio-schedule-id': 'S-' + sdk})))
    gid = (resp or {}).get('group', {}).get('id', '')
    ok(code == 0 and gid.startswith('group-'), w + 'Groups.Create', (code, msg))
    code, it, _ = items('Groups.List', list_req(
        sdk, 'tag:"managed-by"="oncall-sync" tag:"incidentio-schedule-id"="S-%s"' % sdk, 1000))
    ok(code == 0 and [g['id'] for g in it] == [gid], w + 'Groups.List tag:"k"="v" (two terms)', (code, it))
    code, it, _ = items('Groups.List', list_req(sdk, 'name:"%s"' % name.upper()))
    ok(code == 0 and [g['id'] for g in it] == [gid], w + 'Groups.List name:"…" (any case)', (code, it))
    code, it, _ = items('Groups.List', list_req(sdk, 'description:"managed by oncall-sync"', 1000))
    ok(code == 0 and gid in [g['id'] for g in it], w + 'Groups.List description:"…"', (code, it))
    code, resp, msg = call('Groups.Get', id_req(sdk, gid))
    ok(code == 0 and resp['group']['name'] == name, w + 'Groups.Get', (code, msg))

    renamed = 'oncall %s renamed' % sdk
    code, resp, msg = call('Groups.Update', group_update(sdk, group(
        gid=gid, name=renamed, desc='managed by oncall-sync',
        tg={'managed-by': 'oncall-sync', 'incidentio-schedule-id': 'S-' + sdk})))
    ok(code == 0 and resp['group']['id'] == gid and resp['group']['name'] == renamed,
       w + 'Groups.Update carrying only group.id renames the group', (code, msg))
    code, resp, _ = call('Groups.Get', id_req(sdk, gid))
    ok(code == 0 and resp['group']['name'] == renamed and
       proto.tags_to_dict(resp['group']['tags']).get('incidentio-schedule-id') == 'S-' + sdk,
       w + 'the rename is kept, tags too', (code, resp))

    code, resp, msg = call('AccountsGroups.Create', ag_create(sdk, 'a-0000000000000004', gid))
    agid = (resp or {}).get('account_group', {}).get('id', '')
    ok(code == 0 and agid.startswith('accountgroup-'), w + 'AccountsGroups.Create', (code, msg))
    code, it, _ = items('AccountsGroups.List', list_req(sdk, 'groupid:"%s"' % gid, 1000))
    ok(code == 0 and [(m['id'], m['account_id']) for m in it] == [(agid, 'a-0000000000000004')],
       w + 'AccountsGroups.List groupid:"…"', (code, it))
    code, it, _ = items('AccountsGroups.List', list_req(sdk, '', 1000))
    ok(code == 0 and agid in [m['id'] for m in it], w + 'AccountsGroups.List, no filter', (code, len(it)))
    code, resp, msg = call('AccountsGroups.Delete', id_req(sdk, agid))
    ok(code == 0, w + 'AccountsGroups.Delete', (code, msg))
    code, resp, msg = call('Groups.Delete', id_req(sdk, gid))
    ok(code == 0, w + 'Groups.Delete', (code, msg))
    code, _, _ = call('Groups.Get', id_req(sdk, gid))
    ok(code == 5, w + 'the deleted group is gone (NOT_FOUND)', code)

    # empty ids: INVALID_ARGUMENT, as StrongDM answers
    for m in ('Groups.Get', 'Groups.Delete', 'AccountsGroups.Get', 'AccountsGroups.Delete'):
        code, _, msg = call(m, id_req(sdk, ''))
        ok(code == 3, w + '%s with an empty id: INVALID_ARGUMENT' % m, (code, msg))
    code, _, msg = call('Groups.Update', group_update(sdk, group(name='x')))
    ok(code == 3, w + 'Groups.Update with no id anywhere: INVALID_ARGUMENT', (code, msg))

# The request's own id (field 2) is accepted too, and must agree with group.id
code, resp, _ = call('Groups.Create', group_create('go', group(name='by field 2')))
gid = resp['group']['id']
code, resp, msg = call('Groups.Update', group_update('go', group(name='by field 2, renamed'), gid))
ok(code == 0 and resp['group']['name'] == 'by field 2, renamed',
   'Groups.Update with the id in field 2 only', (code, msg))
code, _, msg = call('Groups.Update', group_update(
    'go', group(gid='group-0000000000000001', name='clash'), gid))
ok(code == 3, 'Groups.Update with field 2 and group.id different: INVALID_ARGUMENT', (code, msg))

# A cursor belongs to its filter
code, it, resp = items('Accounts.List', list_req('go', 'type:"user"', 2))
cur = resp['meta']['next_cursor']
ok(code == 0 and len(it) == 2 and cur, 'a first page of users and its cursor', code)
code, it, _ = items('Accounts.List', list_req('go', 'type:"user"', 2, cur))
ok(code == 0 and len(it) == 2, 'the cursor with the same filter: the next page', code)
code, _, msg = call('Accounts.List', list_req('go', 'type:"service"', 2, cur))
ok(code == 3 and 'filter' in msg, 'the cursor with another filter: INVALID_ARGUMENT', (code, msg))
code, _, msg = call('Accounts.List', list_req('go', '', 2, cur))
ok(code == 3, 'the cursor with no filter: INVALID_ARGUMENT', (code, msg))

# rate_limit says what is left of the window
def remaining(method, body):
    code, resp, _ = call(method, body)
    rl = (resp or {}).get('rate_limit', {})
    return rl.get('limit'), rl.get('remaining')
l1, r1 = remaining('Groups.List', list_req('go', ''))
l2, r2 = remaining('Groups.List', list_req('python', ''))
ok(l1 == 5000 and r2 == r1 - 1 and r1 < 5000,
   'reads: limit 5000, remaining counts down by one a call', (l1, r1, r2))
code, resp, _ = call('Groups.Create', group_create('python', group(name='count me')))
w1 = resp['rate_limit']
code, resp, _ = call('Groups.Delete', id_req('python', resp['group']['id']))
w2 = resp['rate_limit']
ok(w1['limit'] == 500 and w2['remaining'] == w1['remaining'] - 1 and w1['remaining'] < 500,
   'writes: limit 500, remaining counts down by one a call', (w1, w2))
print('1..%d' % n)
EOF
