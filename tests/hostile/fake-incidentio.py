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
  forge        text that would forge log lines: schedule "Bad" is named
               "Evil\\nFORGED ...\\u001b[31m..." and its on-call user has a
               newline in name and email; a third schedule "Worse..." (also
               with a newline in its name) answers its entries with a 422
               whose message holds a newline and an escape sequence
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
WORSE = "01G0J1EXE7WORSE00000000001"
FORGE_BAD = "Evil\nFORGED schedule line\u001b[31m red\\"
FORGE_WORSE = "Worse\nFORGED worse line"
FORGE_USER = dict(id="01FCNDV6P870EA6S7TK1DSYDGM", role="responder",
                  name="Mallory\nFORGED user line\u001b[2J",
                  email="mallory\nFORGED email line@example.com")
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
        if MODE == "forge":
            return FORGE_BAD
        return "Bad"

    def name_of(self, sid):
        return {GOOD: "Good", WORSE: FORGE_WORSE}.get(sid) or self.bad_name()

    def raw(self, obj):
        b = json.dumps(obj).encode()
        return b.replace(b"@@BADNAME@@", b"Bad \xff\xfe name").replace(b"@@CUT@@", b"Bo\xc3")

    def do_GET(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/v2/schedules":
            scheds = [schedule(GOOD, "Good"), schedule(BAD, self.bad_name())]
            if MODE == "forge":
                scheds.append(schedule(WORSE, FORGE_WORSE))
            return self.send(200, self.raw({"schedules": scheds,
                                            "pagination_meta": {"page_size": 250,
                                                                "total_record_count": len(scheds)}}))
        if u.path.startswith("/v2/schedules/"):
            sid = u.path.rsplit("/", 1)[1]
            return self.send(200, self.raw({"schedule": schedule(sid, self.name_of(sid))}))
        if u.path == "/v2/schedule_entries":
            sid = q.get("schedule_id", [""])[0]
            if sid == BAD and MODE == "long-error":
                return self.send(422, json.dumps({
                    "type": "validation_error", "status": 422,
                    "errors": [{"code": "invalid_value",
                                "message": "x" + "\u00e9" * 400}]},
                    ensure_ascii=False).encode())
            if sid == WORSE and MODE == "forge":
                return self.send(422, {
                    "type": "validation_error", "status": 422,
                    "errors": [{"code": "invalid_value",
                                "message": "bad window\nFORGED server line\u001b]0;title\u0007"}]})
            users = [ALICE]
            if sid == BAD and MODE == "forge":
                users = [ALICE, FORGE_USER]
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
