#!/usr/bin/python3
"""sdm-call.py: one signed call to a StrongDM API (for testing strongdm-sim).

Usage: sdm-call.py [options] METHOD [REQUEST_JSON]

METHOD is Service.Method (Groups.List).  REQUEST_JSON is the request message
as JSON with the field names of scripts/strongdm_sim_proto.py (for example
'{"meta":{"limit":2},"filter":"name:\\"eng\\""}'); --hex gives raw bytes
instead.  Signs the bytes it sends as StrongDM's SDKs do.  Prints one JSON
line: {"code", "name", "message", "details_present", "details",
"response"}; with --all-pages, {"code", "pages", "items"}.  Exit 0 always
unless the arguments are wrong (the code is in the output).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'scripts'))
import grpc  # noqa: E402

import strongdm_sim_proto as proto  # noqa: E402


def call(channel, args, method, body):
    metadata = []
    if not args.no_auth:
        sig = proto.sign(args.secret, method, body, args.date)
        if args.bad_signature:
            sig = proto.sign(args.secret, method, body + b'x', args.date)
        metadata = [('x-sdm-authentication', args.access_key),
                    ('x-sdm-signature', sig)]
    if args.api_version:
        metadata.append(('x-sdm-api-version', args.api_version))
    metadata.append(('x-sdm-user-agent', 'sdm-call/1'))
    rpc = channel.unary_unary(proto.grpc_path(method))
    resp_schema = proto.METHODS[method][1]
    try:
        raw = rpc(body, metadata=metadata, timeout=args.timeout)
        return {'code': 0, 'name': 'OK', 'message': '',
                'details_present': False, 'details': [],
                'response': proto.decode(resp_schema, raw),
                'response_hex': raw.hex()}
    except grpc.RpcError as e:
        out = {'code': e.code().value[0], 'name': e.code().name,
               'message': e.details() or '', 'details_present': False,
               'details': []}
        for k, v in e.trailing_metadata() or ():
            if k == 'grpc-status-details-bin':
                out['details_present'] = True
                out['status_details_hex'] = v.hex()
                st = proto.decode('Status', v)
                out['status'] = {'code': st['code'], 'message': st['message']}
                for d in st['details']:
                    item = {'type_url': d['type_url']}
                    if d['type_url'] == proto.RATE_LIMIT_TYPE_URL:
                        item['rate_limit'] = proto.decode('RateLimitMetadata',
                                                          d['value'])
                    else:
                        item['value'] = d['value'].hex()
                    out['details'].append(item)
        return out


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    serving = False

    def error(self, message):
        if self.serving:
            raise UsageError(message)
        super().error(message)


def main():
    ap = Parser()
    ap.add_argument('--host', default=os.environ.get('SDM_API_HOST', ''))
    ap.add_argument('--access-key',
                    default=os.environ.get('SDM_API_ACCESS_KEY', ''))
    ap.add_argument('--secret', default=os.environ.get('SDM_API_SECRET_KEY', ''))
    ap.add_argument('--date', help='UTC date to sign with (default today)')
    ap.add_argument('--api-version', default='2025-04-14',
                    help='"" to leave the header out')
    ap.add_argument('--no-auth', action='store_true')
    ap.add_argument('--bad-signature', action='store_true')
    ap.add_argument('--hex', help='raw request body in hex')
    ap.add_argument('--all-pages', action='store_true')
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('--concurrent', type=int, metavar='N',
                    help='make the call N times at once on one channel; '
                    'print {"codes": [...], "elapsed_ms": ...}')
    ap.add_argument('--serve', action='store_true',
                    help='read one JSON array of arguments per stdin line, '
                    'answer each with one output line (saves a process '
                    'per call in tests)')
    ap.add_argument('method', nargs='?')
    ap.add_argument('request', nargs='?', default='{}')
    args = ap.parse_intermixed_args()
    if args.serve:
        ap.serving = True
        for line in sys.stdin:
            try:
                out = run(ap.parse_intermixed_args(json.loads(line)))
            except (UsageError, ValueError) as e:
                out = {'code': -1, 'error': str(e)}
            print(json.dumps(proto.to_jsonable(out), sort_keys=True),
                  flush=True)
        return 0
    print(json.dumps(proto.to_jsonable(run(args)), sort_keys=True))
    return 0


def run(args):
    if args.method not in proto.METHODS:
        raise UsageError('unknown method %s' % args.method)
    target = args.host
    for p in ('http://', 'https://'):
        if target.startswith(p):
            target = target[len(p):]
    target = target.rstrip('/')
    req_schema = proto.METHODS[args.method][0]
    with grpc.insecure_channel(target) as channel:
        if args.hex is not None:
            out = call(channel, args, args.method, bytes.fromhex(args.hex))
        elif args.concurrent:
            import concurrent.futures
            import time
            body = proto.encode(req_schema, json.loads(args.request))
            call(channel, args, args.method, body)   # connect first
            start = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(args.concurrent) as ex:
                futs = [ex.submit(call, channel, args, args.method, body)
                        for _ in range(args.concurrent)]
                codes = [f.result()['code'] for f in futs]
            out = {'codes': codes,
                   'elapsed_ms': int((time.monotonic() - start) * 1000)}
        elif args.all_pages:
            req = json.loads(args.request)
            req.setdefault('meta', {})
            items, pages = [], 0
            while True:
                out = call(channel, args, args.method,
                           proto.encode(req_schema, req))
                if out['code'] != 0:
                    break
                pages += 1
                items += out['response']['items']
                nxt = out['response']['meta']['next_cursor']
                if not nxt:
                    out = {'code': 0, 'pages': pages, 'items': items}
                    break
                req['meta']['cursor'] = nxt
        else:
            out = call(channel, args, args.method,
                       proto.encode(req_schema, json.loads(args.request)))
    return out


if __name__ == '__main__':
    try:
        sys.exit(main())
    except UsageError as e:
        print('sdm-call.py: %s' % e, file=sys.stderr)
        sys.exit(2)
