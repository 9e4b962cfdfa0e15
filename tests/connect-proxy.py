#!/usr/bin/python3
"""A small HTTP CONNECT proxy for the TLS tests (tests/tls.sh).

Usage: connect-proxy.py --port-file F --log F [--parent PID] [--idle-exit S]
                        [--refuse STATUS]

Binds 127.0.0.1 on a port the kernel chooses (port 0) and writes it to the
port file (atomically) once it listens.  Every CONNECT host:port opens a
TCP connection there, answers "200 Connection established" and copies
bytes both ways until either side closes: a tunnel, through which the
client speaks TLS to the server (as through a corporate proxy).  Any other
request gets the proxy's block page: 200, content-type text/html (the
TLS tests put nghttpx in front of it to play a captive portal).  One JSON line per tunnel goes to the log, flushed:
  {"n": N, "target": "host:port", "proxy_authorization": bool}
so a test counts tunnels (and sees whether a credential was offered).
With --refuse STATUS (403, 407...) it opens no tunnel: every CONNECT gets
that status (407 with Proxy-Authenticate: Basic), as a corporate proxy
blocking a host or wanting credentials answers, and its log line says
"refused": STATUS.

It stops by itself: when the process --parent (default: the one that
started it) is gone, after --idle-exit seconds without an open tunnel or a
new connection (default 300), or on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time


class Proxy:
    REASONS = {400: 'Bad Request', 403: 'Forbidden', 407: 'Proxy Authentication Required',
               502: 'Bad Gateway', 503: 'Service Unavailable'}

    def __init__(self, log_path, refuse=0):
        self.refuse = refuse
        self.log = open(log_path, 'a', buffering=1)
        self.lock = threading.Lock()
        self.tunnels = 0
        self.open = 0
        self.last_activity = time.monotonic()

    def touch(self, delta=0):
        with self.lock:
            self.open += delta
            self.last_activity = time.monotonic()

    def record(self, target, auth, refused=0):
        with self.lock:
            self.tunnels += 1
            line = {'n': self.tunnels, 'target': target, 'proxy_authorization': auth}
            if refused:
                line['refused'] = refused
            self.log.write(json.dumps(line) + '\n')

    def handle(self, conn):
        self.touch(+1)
        upstream = None
        try:
            conn.settimeout(10)
            head = b''
            while b'\r\n\r\n' not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
                if len(head) > 65536:
                    return
            head, rest = head.split(b'\r\n\r\n', 1)
            lines = head.decode('latin-1').split('\r\n')
            parts = lines[0].split()
            auth = any(l.lower().startswith('proxy-authorization:') for l in lines[1:])
            if len(parts) != 3 or parts[0] != 'CONNECT':
                self.read_body(conn, lines[1:], rest)
                page = (b'<!DOCTYPE html>\n<html><head><title>Access denied</title></head>'
                        b'<body><h1>This site is blocked by your organization</h1></body></html>\n')
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n'
                             b'Content-Length: %d\r\nConnection: close\r\n\r\n' % len(page) + page)
                return
            target = parts[1]
            if self.refuse:
                self.record(target, auth, self.refuse)
                body = b'<html><body>Access denied</body></html>\n'
                extra = (b'Proxy-Authenticate: Basic realm="test"\r\n'
                         if self.refuse == 407 else b'')
                conn.sendall(b'HTTP/1.1 %d %s\r\n' % (self.refuse,
                             self.REASONS.get(self.refuse, 'Refused').encode())
                             + extra + b'Content-Type: text/html\r\nContent-Length: %d\r\n'
                             b'Connection: close\r\n\r\n' % len(body) + body)
                return
            host, _, port = target.rpartition(':')
            host = host.strip('[]')
            try:
                upstream = socket.create_connection((host, int(port)), timeout=10)
            except (OSError, ValueError):
                conn.sendall(b'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n'
                             b'Connection: close\r\n\r\n')
                return
            self.record(target, auth)
            conn.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
            if rest:
                upstream.sendall(rest)
            conn.settimeout(None)
            upstream.settimeout(None)
            self.splice(conn, upstream)
        except OSError:
            pass
        finally:
            if upstream:
                upstream.close()
            conn.close()
            self.touch(-1)

    @staticmethod
    def read_body(conn, headers, rest):
        """Read the request's body before answering, as a server does."""
        fields = {}
        for h in headers:
            k, _, v = h.partition(':')
            fields[k.strip().lower()] = v.strip()
        if 'content-length' in fields:
            want = int(fields['content-length'])
            while len(rest) < want:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
        elif fields.get('transfer-encoding', '').lower() == 'chunked':
            while not (rest.startswith(b'0\r\n') or b'\r\n0\r\n' in rest) \
                    or not rest.endswith(b'\r\n\r\n'):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk

    @staticmethod
    def splice(a, b):
        peer = {a: b, b: a}
        live = [a, b]
        while live:
            r, _, _ = select.select(live, [], [], 60)
            if not r:
                continue
            for s in r:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b''
                if not data:
                    # half-close: pass the EOF on, stop reading this side
                    try:
                        peer[s].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    live.remove(s)
                    continue
                try:
                    peer[s].sendall(data)
                except OSError:
                    return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--parent', type=int, default=os.getppid())
    ap.add_argument('--idle-exit', type=float, default=300)
    ap.add_argument('--refuse', type=int, default=0)
    args = ap.parse_args()

    proxy = Proxy(args.log, args.refuse)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(512)
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.getsockname()[1])
    os.rename(tmp, args.port_file)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        r, _, _ = select.select([srv], [], [], 0.2)
        if r:
            conn, _ = srv.accept()
            threading.Thread(target=proxy.handle, args=(conn,), daemon=True).start()
            continue
        try:
            os.kill(args.parent, 0)
        except ProcessLookupError:
            return 0
        except PermissionError:
            pass
        with proxy.lock:
            idle = proxy.open == 0 and time.monotonic() - proxy.last_activity > args.idle_exit
        if idle:
            return 0


if __name__ == '__main__':
    sys.exit(main())
