"""StrongDM admin API wire format for the simulator and its test client.

A small proto3 codec driven by the message tables below (field numbers as in
StrongDM's public SDK definitions, see shared/reference/strongdm.md), the
request signature, and the list-filter grammar.  No protoc step: messages are
plain dicts.

Decoding skips unknown fields (StrongDM adds fields often); encoding is
canonical: ascending field numbers, proto3 defaults left out, a present
sub-message always written (even when empty, as `0a 00`).
"""

import base64
import datetime
import functools
import hashlib
import hmac
import json
import re
import struct

# ---------------------------------------------------------------- schemas
# message name -> list of (number, field name, type, repeated)
# type is a scalar ('string', 'bytes', 'bool', 'int32', 'int64') or a
# message name.
SCHEMAS = {
    'Timestamp': [(1, 'seconds', 'int64', False), (2, 'nanos', 'int32', False)],
    'ListRequestMetadata': [
        (1, 'cursor', 'string', False), (2, 'page', 'int32', False),
        (3, 'limit', 'int32', False), (4, 'order_by', 'string', False),
        (5, 'snapshot_at', 'Timestamp', False)],
    'ListResponseMetadata': [(1, 'next_cursor', 'string', False),
                             (2, 'total', 'int32', False)],
    'EmptyMetadata': [],
    'RateLimitMetadata': [
        (1, 'limit', 'int64', False), (2, 'remaining', 'int64', False),
        (3, 'reset_at', 'Timestamp', False), (4, 'bucket', 'string', False)],
    'Pair': [(1, 'name', 'string', False), (2, 'value', 'string', False)],
    'Tags': [(1, 'pairs', 'Pair', True)],
    'User': [
        (1, 'id', 'string', False), (2, 'email', 'string', False),
        (3, 'first_name', 'string', False), (4, 'last_name', 'string', False),
        (5, 'suspended', 'bool', False), (6, 'tags', 'Tags', False),
        (7, 'permission_level', 'string', False),
        (8, 'managed_by', 'string', False), (9, 'external_id', 'string', False),
        (10, 'suspendedRO', 'bool', False),
        (11, 'permission_levelRW', 'string', False),
        (13, 'SCIM', 'string', False), (16, 'created_at', 'Timestamp', False)],
    'Service': [(1, 'id', 'string', False), (2, 'name', 'string', False),
                (3, 'suspended', 'bool', False), (4, 'tags', 'Tags', False)],
    'Token': [(1, 'id', 'string', False), (2, 'name', 'string', False)],
    'Account': [(1, 'user', 'User', False), (2, 'service', 'Service', False),
                (3, 'token', 'Token', False)],
    'IdentitySet': [(1, 'id', 'string', False), (2, 'name', 'string', False)],
    'IdentityAlias': [
        (1, 'id', 'string', False), (2, 'account_id', 'string', False),
        (3, 'identity_set_id', 'string', False),
        (4, 'username', 'string', False)],
    'Group': [
        (1, 'id', 'string', False), (2, 'name', 'string', False),
        (3, 'description', 'string', False), (4, 'source', 'string', False),
        (5, 'tags', 'Tags', False)],
    'AccountGroup': [(1, 'id', 'string', False),
                     (2, 'account_id', 'string', False),
                     (3, 'group_id', 'string', False)],
    # Roles and their attachments to groups (roles_pb2, groups_roles_pb2;
    # Role field 3 is no longer used; GroupRole 4 and 5 are private to the
    # SDKs but the service fills them)
    'Role': [(1, 'id', 'string', False), (2, 'name', 'string', False),
             (4, 'tags', 'Tags', False), (5, 'access_rules', 'string', False),
             (6, 'managed_by', 'string', False)],
    'GroupRole': [(1, 'id', 'string', False), (2, 'group_id', 'string', False),
                  (3, 'role_id', 'string', False),
                  (4, 'group_name', 'string', False),
                  (5, 'role_name', 'string', False)],
    'ListRequest': [(1, 'meta', 'ListRequestMetadata', False),
                    (2, 'filter', 'string', False)],
    'IdRequest': [(1, 'meta', 'EmptyMetadata', False),
                  (2, 'id', 'string', False)],
    'GroupCreateRequest': [(1, 'meta', 'EmptyMetadata', False),
                           (2, 'group', 'Group', False)],
    'GroupUpdateRequest': [(1, 'meta', 'EmptyMetadata', False),
                           (2, 'id', 'string', False),
                           (3, 'group', 'Group', False)],
    'AccountGroupCreateRequest': [(1, 'meta', 'EmptyMetadata', False),
                                  (2, 'account_group', 'AccountGroup', False)],
    'GroupResponse': [(1, 'meta', 'EmptyMetadata', False),
                      (2, 'group', 'Group', False),
                      (3, 'rate_limit', 'RateLimitMetadata', False)],
    'AccountGroupResponse': [(1, 'meta', 'EmptyMetadata', False),
                             (2, 'account_group', 'AccountGroup', False),
                             (3, 'rate_limit', 'RateLimitMetadata', False)],
    'GroupRoleCreateRequest': [(1, 'meta', 'EmptyMetadata', False),
                               (2, 'group_role', 'GroupRole', False)],
    'RoleResponse': [(1, 'meta', 'EmptyMetadata', False),
                     (2, 'role', 'Role', False),
                     (3, 'rate_limit', 'RateLimitMetadata', False)],
    'GroupRoleResponse': [(1, 'meta', 'EmptyMetadata', False),
                          (2, 'group_role', 'GroupRole', False),
                          (3, 'rate_limit', 'RateLimitMetadata', False)],
    # note the order: rate_limit 2, the deleted attachment 3
    'GroupRoleDeleteResponse': [(1, 'meta', 'EmptyMetadata', False),
                                (2, 'rate_limit', 'RateLimitMetadata', False),
                                (3, 'group_role', 'GroupRole', False)],
    'DeleteResponse': [(1, 'meta', 'EmptyMetadata', False),
                       (2, 'rate_limit', 'RateLimitMetadata', False)],
    'Any': [(1, 'type_url', 'string', False), (2, 'value', 'bytes', False)],
    'Status': [(1, 'code', 'int32', False), (2, 'message', 'string', False),
               (3, 'details', 'Any', True)],
}


def _list_response(item):
    return [(1, 'meta', 'ListResponseMetadata', False),
            (2, 'items', item, True),
            (3, 'rate_limit', 'RateLimitMetadata', False)]


for _item in ('Account', 'IdentitySet', 'IdentityAlias', 'Group',
              'AccountGroup', 'Role', 'GroupRole'):
    SCHEMAS[_item + 'ListResponse'] = _list_response(_item)

RATE_LIMIT_TYPE_URL = 'type.googleapis.com/v1.RateLimitMetadata'

# "Service.Method" -> (request schema, response schema, permission, bucket)
METHODS = {
    'Accounts.List': ('ListRequest', 'AccountListResponse', 'user:list', 'read'),
    'IdentitySets.List': ('ListRequest', 'IdentitySetListResponse',
                          'identityset:read', 'read'),
    'IdentityAliases.List': ('ListRequest', 'IdentityAliasListResponse',
                             'identityalias:read', 'read'),
    'Groups.List': ('ListRequest', 'GroupListResponse', 'group:read', 'read'),
    'Groups.Get': ('IdRequest', 'GroupResponse', 'group:read', 'read'),
    'Groups.Create': ('GroupCreateRequest', 'GroupResponse', 'group:write',
                      'write'),
    'Groups.Update': ('GroupUpdateRequest', 'GroupResponse', 'group:write',
                      'write'),
    'Groups.Delete': ('IdRequest', 'DeleteResponse', 'group:write', 'write'),
    'AccountsGroups.List': ('ListRequest', 'AccountGroupListResponse',
                            'accountgroup:read', 'read'),
    'AccountsGroups.Get': ('IdRequest', 'AccountGroupResponse',
                           'accountgroup:read', 'read'),
    'AccountsGroups.Create': ('AccountGroupCreateRequest',
                              'AccountGroupResponse', 'accountgroup:write',
                              'write'),
    'AccountsGroups.Delete': ('IdRequest', 'DeleteResponse',
                              'accountgroup:write', 'write'),
    # The public sources name no permissions for these; the sim's guess.
    'Roles.List': ('ListRequest', 'RoleListResponse', 'role:read', 'read'),
    'Roles.Get': ('IdRequest', 'RoleResponse', 'role:read', 'read'),
    'GroupsRoles.List': ('ListRequest', 'GroupRoleListResponse',
                         'grouprole:read', 'read'),
    'GroupsRoles.Get': ('IdRequest', 'GroupRoleResponse', 'grouprole:read',
                        'read'),
    'GroupsRoles.Create': ('GroupRoleCreateRequest', 'GroupRoleResponse',
                           'grouprole:write', 'write'),
    'GroupsRoles.Delete': ('IdRequest', 'GroupRoleDeleteResponse',
                           'grouprole:write', 'write'),
}

ALL_PERMISSIONS = sorted({m[2] for m in METHODS.values()})


def grpc_path(method):
    """'Groups.List' -> '/v1.Groups/List'"""
    service, name = method.split('.')
    return '/v1.%s/%s' % (service, name)


def method_name(path):
    """'/v1.Groups/List' -> 'Groups.List' (None if not a v1 path)"""
    m = re.fullmatch(r'/v1\.([A-Za-z]+)/([A-Za-z]+)', path or '')
    return m.group(1) + '.' + m.group(2) if m else None


# ---------------------------------------------------------------- codec
class DecodeError(ValueError):
    pass


def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise DecodeError('truncated varint')
        b = buf[pos]
        pos += 1
        result |= (b & 0x7f) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError('varint too long')


def _signed(n, bits):
    n &= (1 << 64) - 1
    if n >= 1 << 63:
        n -= 1 << 64
    if bits == 32:
        n = ((n + (1 << 31)) & 0xffffffff) - (1 << 31)
    return n


def raw_fields(buf):
    """Yield (number, wire type, value) for each field of a message."""
    pos = 0
    buf = bytes(buf)
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise DecodeError('field number 0')
        if wt == 0:
            val, pos = _read_varint(buf, pos)
        elif wt == 1:
            if pos + 8 > len(buf):
                raise DecodeError('truncated fixed64')
            val, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            n, pos = _read_varint(buf, pos)
            if pos + n > len(buf):
                raise DecodeError('truncated length-delimited field')
            val, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            if pos + 4 > len(buf):
                raise DecodeError('truncated fixed32')
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise DecodeError('unsupported wire type %d' % wt)
        yield num, wt, val


def _default(typ, repeated):
    if repeated:
        return []
    return {'string': '', 'bytes': b'', 'bool': False, 'int32': 0,
            'int64': 0}.get(typ)


def decode(schema, buf):
    """Decode bytes into a dict with every known field (defaults filled in;
    absent sub-messages are None).  Unknown fields are skipped."""
    fields = SCHEMAS[schema]
    byno = {f[0]: f for f in fields}
    out = {f[1]: _default(f[2], f[3]) for f in fields}
    for num, wt, val in raw_fields(buf):
        f = byno.get(num)
        if f is None:
            continue
        _, name, typ, repeated = f
        if typ in ('string', 'bytes') or typ in SCHEMAS:
            if wt != 2:
                raise DecodeError('field %s: wrong wire type' % name)
            if typ == 'string':
                try:
                    v = val.decode('utf-8')
                except UnicodeDecodeError:
                    raise DecodeError('field %s: invalid UTF-8' % name)
            elif typ == 'bytes':
                v = val
            else:
                v = decode(typ, val)
        else:
            if wt != 0:
                raise DecodeError('field %s: wrong wire type' % name)
            if typ == 'bool':
                v = val != 0
            else:
                v = _signed(val, 32 if typ == 'int32' else 64)
        if repeated:
            out[name].append(v)
        elif typ in SCHEMAS and out[name] is not None:
            # proto3: a repeated occurrence of a message field merges
            for k, x in v.items():
                if x not in (None, '', 0, False, [], b''):
                    out[name][k] = x
        else:
            out[name] = v
    return out


def _compile(schema):
    """Per-field (name, type, repeated, key bytes) for encode()."""
    out = []
    for num, name, typ, repeated in SCHEMAS[schema]:
        wt = 2 if typ in SCHEMAS or typ in ('string', 'bytes') else 0
        out.append((name, typ, repeated, _varint(num << 3 | wt)))
    return out


_COMPILED = {}
_SMALL = [bytes((i,)) for i in range(128)]


def encode(schema, msg):
    """Encode a dict canonically.  Missing keys mean the default."""
    if msg is None:
        return b''
    fields = _COMPILED.get(schema)
    if fields is None:
        fields = _COMPILED[schema] = _compile(schema)
    out = []
    for name, typ, repeated, key in fields:
        v = msg.get(name)
        vals = (v or ()) if repeated else (v,)
        for x in vals:
            if typ == 'string' or typ == 'bytes':
                if not x:
                    continue
                body = x.encode('utf-8') if typ == 'string' else bytes(x)
            elif typ in SCHEMAS:
                if x is None:
                    continue
                body = encode(typ, x)
            elif typ == 'bool':
                if x:
                    out.append(key + b'\x01')
                continue
            else:
                if x:
                    out.append(key + _varint(int(x)))
                continue
            n = len(body)
            out.append(key + (_SMALL[n] if n < 128 else _varint(n)) + body)
    return b''.join(out)


def field(num, body):
    """One length-delimited field (key, length, body) as bytes."""
    n = len(body)
    return (_varint(num << 3 | 2) + (_SMALL[n] if n < 128 else _varint(n))
            + body)


def tags_to_dict(tags):
    return {p['name']: p['value'] for p in (tags or {}).get('pairs', [])}


def tags_from_dict(d):
    return {'pairs': [{'name': k, 'value': v} for k, v in d.items()]}


def to_jsonable(x):
    if isinstance(x, bytes):
        return x.hex()
    if isinstance(x, dict):
        return {k: to_jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [to_jsonable(v) for v in x]
    return x


# ---------------------------------------------------------------- signing
@functools.lru_cache(maxsize=256)
def signing_key(secret_b64, date):
    secret = base64.b64decode(secret_b64.strip())
    k1 = hmac.new(secret, date.encode(), hashlib.sha256).digest()
    return hmac.new(k1, b'sdm_api_v1', hashlib.sha256).digest()


def sign(secret_b64, method, body, date=None):
    """x-sdm-signature for a request body (bytes without the frame prefix)."""
    if date is None:
        date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
    h = hashlib.sha256(method.encode() + b'\n' + bytes(body)).digest()
    mac = hmac.new(signing_key(secret_b64, date), h, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify(secret_b64, method, body, signature, now=None):
    """True if signature is valid for the UTC date of now, the day before
    or the day after (clocks near midnight)."""
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    for delta in (0, -1, 1):
        date = (now + datetime.timedelta(days=delta)).strftime('%Y-%m-%d')
        try:
            want = sign(secret_b64, method, body, date)
        except (ValueError, TypeError):
            return False
        if hmac.compare_digest(want.encode(), (signature or '').encode()):
            return True
    return False


# ---------------------------------------------------------------- filters
class FilterError(ValueError):
    pass


# entity kind -> filter fields it accepts
FILTER_FIELDS = {
    'accounts': {'type', 'email', 'id', 'suspended', 'tag', 'firstname',
                 'lastname', 'name'},
    'groups': {'id', 'name', 'description', 'source', 'tag'},
    'accountsgroups': {'id', 'accountid', 'groupid'},
    'identitysets': {'id', 'name'},
    'identityaliases': {'id', 'accountid', 'identitysetid', 'username'},
    'roles': {'id', 'name', 'tag'},
    'groupsroles': {'id', 'groupid', 'roleid'},
}

_json = json.JSONDecoder()


def _read_value(s, i):
    """A JSON-quoted string or a bare word (up to space or '=')."""
    if i < len(s) and s[i] == '"':
        try:
            v, j = _json.raw_decode(s, i)
        except ValueError:
            raise FilterError('unterminated or malformed quoted value')
        return v, j
    j = i
    while j < len(s) and not s[j].isspace() and s[j] != '=':
        j += 1
    return s[i:j], j


def parse_filter(kind, s):
    """Parse a filter into a list of terms (field, value, tag_value|None).
    Raise FilterError for anything unparseable or an unknown field."""
    allowed = FILTER_FIELDS[kind]
    terms = []
    i = 0
    s = s or ''
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            return terms
        m = re.compile(r'[A-Za-z_]+').match(s, i)
        if not m or m.end() >= len(s) or s[m.end()] != ':':
            raise FilterError('expected field:value at offset %d' % i)
        field = m.group(0).lower()
        if field not in allowed:
            raise FilterError('unknown filter field "%s"' % m.group(0))
        i = m.end() + 1
        value, i = _read_value(s, i)
        tag_value = None
        if i < len(s) and s[i] == '=':
            if field != 'tag':
                raise FilterError('"=" only follows a tag name')
            tag_value, i = _read_value(s, i + 1)
        if i < len(s) and not s[i].isspace():
            raise FilterError('unexpected "%s" at offset %d' % (s[i], i))
        if value == '' and field != 'tag':
            pass
        if field == 'suspended' and value.lower() not in ('true', 'false'):
            raise FilterError('suspended must be true or false')
        terms.append((field, value, tag_value))


def wildcard_matcher(pattern):
    """Case-insensitive whole-string match with '*' as the only wildcard."""
    if '*' not in pattern:
        p = pattern.casefold()
        return lambda v: (v or '').casefold() == p
    rx = re.compile('.*'.join(re.escape(part) for part in pattern.split('*')),
                    re.IGNORECASE | re.DOTALL)
    return lambda v: rx.fullmatch(v or '') is not None


def frame(msg):
    return b'\x00' + struct.pack('>I', len(msg)) + msg
