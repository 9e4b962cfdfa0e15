#!/usr/bin/python3
"""A tiny loopback HTTP server for the HTTP client's tests (tests/unit/test_http.c).

Usage: http-test-server.py [--grpc | --tls CERT KEY]
Binds 127.0.0.1 on a free port and prints "PORT\n" on stdout once listening.
Behaviour is chosen by path and query:
  /ok                      200 "ok"
  /delay?ms=N[&key=K][&gate=G]
                           sleep N ms, then 200; with gate=G first wait until
                           G requests with key K have been in at once (at most
                           60 s), so that a test of concurrency needs no timing
  /status?code=N[&ra=V][&rl=1]
                           answer N; ra sets Retry-After: V ("date+S" means an
                           HTTP date S seconds ahead, "date-S" behind)
  /seq?key=K&codes=500,503,200[&ra=V]
                           the n-th request with key K gets the n-th code
                           (the last one repeats)
  /ratelimit?key=K&n=N&reset=S
                           the first N requests with key K answer 200 with
                           X-RateLimit-Remaining: 0 and X-RateLimit-Reset
                           now+S (Unix seconds); later ones 200 and remaining 99
  /paced?limit=L&remaining=R
                           200 with X-RateLimit-Limit: L and X-RateLimit-Remaining: R
  /cut                     promise 1000 bytes, send 10, close
  /echo                    200 with JSON {method, headers, body}
  /trailers                chunked 200 with trailers x-checksum and grpc-status
  /stats?key=K             JSON {"count": requests seen with key K,
                           "connections": distinct client connections they came on,
                           "max_inflight": most requests with key K in at once}
--grpc instead starts a grpcio server (h2c) with the unary methods
/test.Echo/Echo returning its request bytes after 200 ms, /test.Echo/Fail
failing with status 5 (NOT_FOUND) and message "nope", /test.Echo/Peers
answering the number of distinct client connections Echo has seen and
/test.Echo/MaxInflight the most Echo calls in at once (both as decimal text,
unframed). The first ECHO_GATHER (10) Echo calls wait until they are all in
at once (at most 60 s) before their 200 ms. Connections idle for 500 ms are
closed.
"""
import email.utils
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Lock()
changed = threading.Condition(lock)
counts = {}
inflight = {}
max_inflight = {}
GATE_WAIT_S = 60
ECHO_GATHER = 10


conns = {}


def bump(key, client_port):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        conns.setdefault(key, set()).add(client_port)
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def retry_after(self, q):
        ra = q.get("ra", [None])[0]
        if ra is None:
            return []
        if ra.startswith("date"):
            when = time.time() + int(ra[4:])
            ra = email.utils.formatdate(when, usegmt=True)
        return [("Retry-After", ra)]

    def handle_any(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        key = q.get("key", [u.path])[0]
        if u.path != "/stats":
            bump(key, self.client_address[1])
        with lock:
            inflight[key] = inflight.get(key, 0) + 1
            max_inflight[key] = max(max_inflight.get(key, 0), inflight[key])
            changed.notify_all()
        try:
            self.dispatch(u, q, body, key)
        finally:
            with lock:
                inflight[key] -= 1

    def dispatch(self, u, q, body, key):
        p = u.path
        if p == "/ok":
            self.reply(200, "ok")
        elif p == "/delay":
            gate = int(q.get("gate", ["0"])[0])
            if gate:
                with changed:
                    changed.wait_for(lambda: max_inflight.get(key, 0) >= gate, GATE_WAIT_S)
            time.sleep(int(q["ms"][0]) / 1000)
            self.reply(200, "slept")
        elif p == "/status":
            code = int(q["code"][0])
            self.reply(code, "status %d" % code, self.retry_after(q))
        elif p == "/seq":
            codes = [int(c) for c in q["codes"][0].split(",")]
            with lock:
                i = counts[key] - 1
            code = codes[min(i, len(codes) - 1)]
            self.reply(code, "attempt %d" % (i + 1), self.retry_after(q) if code != 200 else [])
        elif p == "/ratelimit":
            with lock:
                i = counts[key]
            if i <= int(q["n"][0]):
                reset = int(time.time()) + int(q["reset"][0])
                self.reply(200, "limited", [("X-RateLimit-Remaining", "0"),
                                            ("X-RateLimit-Reset", str(reset))])
            else:
                self.reply(200, "fine", [("X-RateLimit-Remaining", "99")])
        elif p == "/paced":
            self.reply(200, "paced", [("X-RateLimit-Limit", q["limit"][0]),
                                      ("X-RateLimit-Remaining", q["remaining"][0])])
        elif p == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif p == "/echo":
            out = {"method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode("utf-8", "replace")}
            self.reply(200, json.dumps(out), [("Content-Type", "application/json")])
        elif p == "/trailers":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum, Grpc-Status")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n0\r\nX-Checksum:  abc \r\nGrpc-Status: 0\r\n\r\n")
        elif p == "/stats":
            with lock:
                out = {"count": counts.get(key, 0), "max_inflight": max_inflight.get(key, 0),
                       "connections": len(conns.get(key, ()))}
            self.reply(200, json.dumps(out), [("Content-Type", "application/json")])
        else:
            self.reply(404, "not found")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that timed out and hung up is what some tests do.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve_grpc():
    from concurrent import futures
    import grpc

    peers = set()
    echo = {"in": 0, "max": 0, "seen": 0}

    def echo_call(request, context):
        with changed:
            peers.add(context.peer())
            echo["in"] += 1
            echo["seen"] += 1
            echo["max"] = max(echo["max"], echo["in"])
            changed.notify_all()
            if echo["seen"] <= ECHO_GATHER:
                changed.wait_for(lambda: echo["max"] >= ECHO_GATHER, GATE_WAIT_S)
        try:
            time.sleep(0.2)
        finally:
            with lock:
                echo["in"] -= 1
        return request

    def max_echo(request, context):
        with lock:
            return str(echo["max"]).encode()

    def count_peers(request, context):
        with lock:
            return str(len(peers)).encode()

    def fail(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "nope")

    # Connections idle for 500 ms are closed (GOAWAY), so a test can see
    # the client open a new one.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32),
                         options=[("grpc.max_connection_idle_ms", 500)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo_call),
        "MaxInflight": grpc.unary_unary_rpc_method_handler(max_echo),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Peers": grpc.unary_unary_rpc_method_handler(count_peers),
    }),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()  # until the test kills us


def watchdog():
    """Exit when the test that started us is gone (even if it crashed), and
    after ten minutes in any case (a loaded machine may be slow)."""
    parent = os.getppid()
    deadline = time.time() + 600
    while os.getppid() == parent and time.time() < deadline:
        time.sleep(0.2)
    os._exit(0)


def main():
    threading.Thread(target=watchdog, daemon=True).start()
    if "--grpc" in sys.argv:
        serve_grpc()
        return
    srv = Server(("127.0.0.1", 0), Handler)
    if "--tls" in sys.argv:
        import ssl
        i = sys.argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[i + 1], sys.argv[i + 2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
