#!/usr/bin/python3
"""fake-incidentio.py: a loopback incident.io that answers with hostile bytes
the real simulator cannot hold in its JSON world file.

Usage: fake-incidentio.py MODE PORTFILE
MODE:
  utf8-name    schedule "Bad" has a name with invalid UTF-8 bytes and its
               on-call user a name with a cut UTF-8 sequence
  long-error   schedule entries of schedule "Bad" answer 422 with a long
               non-ASCII message (cut by the client's message buffer)
  nul-name     schedule "Bad" has a name with a \\u0000 escape
Schedule "Good" is always well-formed, with Alice on call. Writes the port
to PORTFILE once listening; stops on SIGTERM.
"""
import calendar
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MODE = sys.argv[1]
GOOD = "01G0J1EXE7GOOD000000000001"
BAD = "01G0J1EXE7BAD0000000000001"
ALICE = {"id": "01FCNDV6P870EA6S7TK1DSYDG0", "name": "Alice", "role": "responder",
         "email": "alice@example.com"}


def schedule(sid, name):
    return {"id": sid, "name": name, "timezone": "UTC", "team_ids": [],
            "permalink": "https://app.incident.io/s/" + sid,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "annotations": {}}


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def shift(user, q):
    """A shift covering the requested window by an hour either side (or the
    hours around now without one), so the answer never expires."""
    def when(key, default):
        v = q.get(key, [""])[0]
        if not v:
            return default
        return calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))
    now = time.time()
    return {"start_at": stamp(when("entry_window_start", now) - 3600),
            "end_at": stamp(when("entry_window_end", now) + 3600),
            "fingerprint": "f", "user": user}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def bad_name(self):
        if MODE == "utf8-name":
            return "@@BADNAME@@"
        if MODE == "nul-name":
            return "Bad\u0000Name"
        return "Bad"

    def raw(self, obj):
        b = json.dumps(obj).encode()
        return b.replace(b"@@BADNAME@@", b"Bad \xff\xfe name").replace(b"@@CUT@@", b"Bo\xc3")

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/v2/schedules":
            return self.send(200, self.raw({"schedules": [schedule(GOOD, "Good"),
                                                          schedule(BAD, self.bad_name())],
                                            "pagination_meta": {"page_size": 250,
                                                                "total_record_count": 2}}))
        if u.path.startswith("/v2/schedules/"):
            sid = u.path.rsplit("/", 1)[1]
            name = "Good" if sid == GOOD else self.bad_name()
            return self.send(200, self.raw({"schedule": schedule(sid, name)}))
        if u.path == "/v2/schedule_entries":
            sid = q.get("schedule_id", [""])[0]
            if sid == BAD and MODE == "long-error":
                return self.send(422, json.dumps({
                    "type": "validation_error", "status": 422,
                    "errors": [{"code": "invalid_value",
                                "message": "x" + "\u00e9" * 400}]},
                    ensure_ascii=False).encode())
            users = [ALICE]
            if sid == BAD and MODE == "utf8-name":
                users = [dict(ALICE, id="01FCNDV6P870EA6S7TK1DSYDG1", name="@@CUT@@",
                              email="bob@example.com")]
            final = [shift(x, q) for x in users]
            return self.send(200, self.raw({"schedule_entries": {
                "final": final, "overrides": [], "scheduled": final}}))
        return self.send(404, {"type": "not_found", "status": 404,
                               "errors": [{"code": "not_found", "message": "Resource not found"}]})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
