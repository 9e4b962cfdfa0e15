#!/usr/bin/env bash
# The production network: TLS terminated by nghttpx (ALPN h2) in front of
# both simulators, a test CA made now with openssl, and a CONNECT proxy.
# The pipeline and the wrapper run through TLS and through the proxy, trusting
# the test CA by SSL_CERT_FILE, SSL_CERT_DIR or CURL_CA_BUNDLE; a wrong-host
# certificate, an untrusted CA, an HTTP/1.1-only endpoint (a TLS-inspecting
# proxy) and a web page (a captive portal, a proxy's block page) each fail
# on the first attempt with a message naming the cause.
# shellcheck disable=SC1091,SC2154,SC2034 # tap.sh (sourced) sets rc, reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/fixtures/oncall-sync/lib.sh"
. "$ROOT/tests/tls.sh"
ocs_need_programs
command -v nghttpx >/dev/null || skip_all "nghttpx is not installed (Debian: nghttp2-proxy)"
require_cmd openssl
# Only what each case sets: the machine's own trust and proxy settings stay out.
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR HTTPS_PROXY https_proxy \
	HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
TAP_CLEANUP_HOOK='tls_front_stop_all; proxy_stop'

ocs_start_sims
tls_pki
PKI=$T/pki
tls_front sdm "${SDM_API_HOST##*:}" h2
SDM_TLS=localhost:$TLS_PORT
tls_front iio "${INCIDENT_API_URL##*:}" http/1.1
IIO_TLS=https://localhost:$TLS_PORT
# a TLS-inspecting proxy that speaks only HTTP/1.1, in front of StrongDM
tls_front h1 "${SDM_API_HOST##*:}" h2 --npn-list=http/1.1
H1_TLS=localhost:$TLS_PORT
tls_front iio-h1 "${INCIDENT_API_URL##*:}" http/1.1 --npn-list=http/1.1
IIO_H1_TLS=https://localhost:$TLS_PORT
proxy_start
PROXY=$HTTPS_PROXY
unset HTTPS_PROXY
# a captive portal: whatever is asked, a web page (the proxy's block page)
tls_front page "${PROXY##*:}" http/1.1
PAGE_TLS=localhost:$TLS_PORT
export SDM_API_HOST=$SDM_TLS INCIDENT_API_URL=$IIO_TLS
EMPTY=$T/empty.ndjson
echo '{"type":"end","stage":"match-users","records":0}' >"$EMPTY"

# pipeline: fetch-oncall | match-users | reconcile-groups; statuses in $st
pipeline() {
	set +e
	fetch-oncall -s TestSchedule -s Platform 2>"$T/fetch.err" |
		match-users 2>"$T/match.err" | reconcile-groups >"$T/out" 2>"$T/err"
	local s=("${PIPESTATUS[@]}")
	set -e
	st="${s[0]} ${s[1]} ${s[2]}"
}
sdm_calls() { strongdm_sim_count '*'; }
lines() { if [[ -f $1 ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# --- trust: the system store does not know the test CA
pipeline
is "${st%% *} ${st##* }" "1 1" "TLS without trusting the test CA: fetch-oncall and reconcile-groups fail"
like "$(cat "$T/fetch.err")" 'SSL certificate problem: unable to get local issuer certificate' \
	"fetch-oncall: libcurl's message names the untrusted certificate"
like "$(cat "$T/err")" 'Groups\.List: POST https://localhost:[0-9]+/v1\.Groups/List: SSL certificate problem: unable to get local issuer certificate' \
	"reconcile-groups: the same"
is "$(ocs_groups)" "" "nothing changed"

SSL_CERT_FILE=$PKI/ca.pem pipeline
is "$st" "0 0 0" "SSL_CERT_FILE=the test CA: the pipeline runs over TLS"
is "$(ocs_groups)" "Platform: gina@example.com
TestSchedule: alice@example.com bob@example.com" "the groups hold who is on call"
like "$(head -n 1 "$T/nghttpx-sdm.access")" '"POST /v1\.[A-Za-z]+/[A-Za-z]+ HTTP/2' \
	"StrongDM was reached over HTTP/2 through TLS"

run env SSL_CERT_DIR="$PKI/certs" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 0 "SSL_CERT_DIR=a hashed directory holding the test CA: trusted"
run env CURL_CA_BUNDLE="$PKI/ca.pem" SSL_CERT_FILE="$PKI/other-ca.pem" \
	reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 0 "CURL_CA_BUNDLE comes before SSL_CERT_FILE (as in curl)"
run env SSL_CERT_FILE="$T/no-such.pem" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 2 "an SSL_CERT_FILE that cannot be read: exit 2"
like "$(cat "$T/err")" "SSL_CERT_FILE=$T/no-such.pem: cannot read the CA certificates: No such file" \
	"the message names the variable, the file and why"

# --- through the CONNECT proxy, with the wrapper: the shift change at 09:30
export HTTPS_PROXY=$PROXY SSL_CERT_FILE=$PKI/ca.pem
incidentio_sim_clock 2026-11-29T09:30:00Z
ocs_config '{"name": "tls", "schedules": ["TestSchedule", "Platform"], "user_lookup": "email"}'
t0=$(proxy_tunnels)
run oncall-sync sync
is "$rc" 0 "oncall-sync sync through the proxy and TLS: exit 0"
is "$(ocs_groups)" "Platform: gina@example.com
TestSchedule: carlos@example.com deanna@example.com" "Carlos and Deanna replace Alice and Bob"
is "$(($(proxy_tunnels) - t0))" 3 "one tunnel per program (each multiplexes its calls on one connection)"
is "$(jq -r .target "$PROXY_LOG" | sort -u | tr '\n' ' ')" "$(printf '%s\n' "${IIO_TLS#https://}" "$SDM_TLS" | sort | tr '\n' ' ')" \
	"the tunnels go to incident.io and StrongDM"
is "$(jq -s 'map(select(.proxy_authorization)) | length' "$PROXY_LOG")" 0 "no credential offered to the proxy"
t0=$(proxy_tunnels)
pipeline
is "$st" "0 0 0" "the pipeline through the proxy: exit 0"
is "$(jq -c 'select(.type == "change")' "$T/out")" "" "nothing left to change"
is "$(($(proxy_tunnels) - t0))" 3 "one tunnel per program"

# --- each failure: at once (one tunnel: one attempt), named for an admin
# attempt CASE CMD...: runs CMD through the proxy; $tunnels, $calls: its tunnels, calls StrongDM saw
attempt() {
	local t c
	t=$(proxy_tunnels)
	c=$(sdm_calls)
	run "$@"
	tunnels=$(($(proxy_tunnels) - t))
	calls=$(($(sdm_calls) - c))
}

attempt env SDM_API_HOST="127.0.0.1:${SDM_TLS#localhost:}" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 1 "a certificate for another host: exit 1"
like "$(cat "$T/err")" "no alternative certificate subject name matches target host name '127.0.0.1' \(the certificate is for another host\)" \
	"libcurl's message names the host the certificate is not for, and says so"
is "$tunnels $calls" "1 0" "refused on the first attempt; StrongDM never asked"

attempt env SSL_CERT_FILE="$PKI/other-ca.pem" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 1 "a certificate from a CA not trusted: exit 1"
like "$(cat "$T/err")" 'SSL certificate problem: unable to get local issuer certificate \(its issuer is not trusted: a private CA or a TLS-inspecting proxy\? trust its CA with SSL_CERT_FILE\)' \
	"libcurl's message, and what to do about it"
is "$tunnels $calls" "1 0" "refused on the first attempt"

attempt env SDM_API_HOST="$H1_TLS" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 1 "a TLS endpoint offering only HTTP/1.1: exit 1"
like "$(cat "$T/err")" 'Groups\.List: POST https://localhost:[0-9]+/v1\.Groups/List: the server did not offer HTTP/2 \(ALPN\): a TLS-inspecting proxy\?' \
	"the message says HTTP/2 was not offered and suggests why"
is "$tunnels $calls $(lines "$T/nghttpx-h1.access")" "1 0 0" \
	"on the first attempt, and the request never sent"

attempt env SSL_CERT_FILE="$PKI/other-ca.pem" fetch-oncall -s TestSchedule
is "$rc" 1 "fetch-oncall: a certificate from a CA not trusted: exit 1"
like "$(cat "$T/err")" 'SSL certificate problem: unable to get local issuer certificate' \
	"libcurl's message says the issuer is not trusted"
is "$tunnels" 1 "refused on the first attempt"

run env INCIDENT_API_URL="$IIO_H1_TLS" fetch-oncall -s TestSchedule
is "$rc" 0 "fetch-oncall through an HTTP/1.1-only TLS proxy: REST needs no HTTP/2"
like "$(head -n 1 "$T/nghttpx-iio-h1.access")" '"GET /v2/[a-z_]+.* HTTP/1\.1"' "it spoke HTTP/1.1"

attempt env SDM_API_HOST="$PAGE_TLS" reconcile-groups -n --allow-empty <"$EMPTY"
is "$rc" 1 "a web page instead of gRPC: exit 1"
like "$(cat "$T/err")" "Groups\.List: UNKNOWN: the server answered with a web page \(text/html\), not gRPC: a captive portal or a proxy's block page\?" \
	"the message says a web page answered and suggests why"
is "$tunnels $(lines "$T/nghttpx-page.access")" "1 1" "one request, not retried"

attempt env INCIDENT_API_URL="https://$PAGE_TLS" fetch-oncall -s TestSchedule
is "$rc" 1 "fetch-oncall: a web page instead of incident.io's JSON: exit 1"
like "$(cat "$T/err")" "incident\.io answered HTTP 200 with a web page \(text/html\), not JSON: a captive portal or a proxy's block page\?" \
	"the message says a web page answered"
is "$tunnels $(lines "$T/nghttpx-page.access")" "1 2" "one request, not retried"

attempt env SDM_API_HOST="$H1_TLS" oncall-sync sync
is "$rc" 1 "the wrapper: a sync through an HTTP/1.1-only proxy fails"
like "$(cat "$T/err" "$ONCALL_SYNC_STATE_DIR/last/stderr.log")" 'the server did not offer HTTP/2 \(ALPN\): a TLS-inspecting proxy\?' \
	"and its log names the cause"
is "$calls" 0 "StrongDM never asked"

done_testing
