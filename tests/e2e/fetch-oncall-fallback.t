#!/usr/bin/env bash
# fetch-oncall when a schedule carries no current_shifts (optional in
# incident.io's specification; incidentio-sim always sends it): "now" falls
# back to a schedule entries request for that schedule only. A few lines of
# Python serve the two answers.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

require_bin fetch-oncall
require_cmd /usr/bin/python3

cat >"$T/server.py" <<'EOF'
import datetime, http.server, json, sys, urllib.parse
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
common = {"timezone": "UTC", "team_ids": [], "permalink": "https://app.incident.io/x",
          "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
          "annotations": {}}
user = {"id": "U1", "name": "Alice", "role": "responder", "email": "alice@example.com"}
shift = {"start_at": iso(now - datetime.timedelta(hours=1)),
         "end_at": iso(now + datetime.timedelta(hours=1)), "user": user}
schedules = [dict(common, id="S1", name="No current shifts"),
             dict(common, id="S2", name="With current shifts", current_shifts=[shift])]
log = open(sys.argv[2], "a")

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        log.write(u.path + "?" + u.query + "\n"); log.flush()
        if self.headers.get("Authorization") != "Bearer k":
            return self.send(401, {"type": "authentication_error", "status": 401,
                                   "errors": [{"code": "x", "message": "bad key"}]})
        if u.path == "/v2/schedules":
            return self.send(200, {"schedules": schedules, "pagination_meta": {"page_size": 250}})
        if u.path == "/v2/schedule_entries":
            return self.send(200, {"schedule_entries": {"scheduled": [shift], "overrides": [], "final": [shift]}})
        self.send(404, {"type": "not_found", "status": 404, "errors": [{"code": "not_found", "message": "Resource not found"}]})

    def send(self, status, body):
        b = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
EOF
/usr/bin/python3 "$T/server.py" "$T/port" "$T/requests" 2>"$T/server.err" &
for _ in $(seq 1200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || skip_all "the test server did not start"
INCIDENT_API_URL=http://127.0.0.1:$(cat "$T/port")
INCIDENT_API_KEY=k
export INCIDENT_API_URL INCIDENT_API_KEY
plan 5

run fetch-oncall -a
is "$rc" 0 "exit 0"
is "$(jq -c 'select(.type=="roster") | [.schedule.name, [.oncall[].name]]' "$T/out" | paste -sd' ')" \
	'["No current shifts",["Alice"]] ["With current shifts",["Alice"]]' "both schedules answered"
is "$(cut -d'?' -f1 "$T/requests" | paste -sd' ')" "/v2/schedules /v2/schedule_entries" \
	"one entries request, for the schedule without current_shifts only"
like "$(sed -n 2p "$T/requests")" '^/v2/schedule_entries\?schedule_id=S1&entry_window_start=[0-9-]+T[0-9%A]+Z&entry_window_end=' \
	"asking for the schedule's entries around now"
at=$(jq -r 'select(.type=="roster") | .at' "$T/out" | head -n 1)
start=$(sed -n 2p "$T/requests" | sed 's/.*entry_window_start=\([^&]*\).*/\1/; s/%3A/:/g')
is "$start" "$at" "the window starts at the roster's at"
