#!/usr/bin/env bash
# A proxy that refuses the tunnel (HTTP 403 to CONNECT: the host is blocked;
# 407: it wants credentials) is named as such, on the first attempt, by each
# program: never retried like a network error, never printing the proxy's
# credentials. The proxy refuses before any TLS, so no server is needed.
# shellcheck disable=SC1091,SC2154,SC2034 # tap.sh (sourced) sets rc, reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/tls.sh"
require_bin fetch-oncall
require_bin match-users
require_bin reconcile-groups
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR HTTPS_PROXY https_proxy \
	HTTP_PROXY http_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
TAP_CLEANUP_HOOK='proxy_stop'
export INCIDENT_API_KEY=test-incident-key SDM_API_ACCESS_KEY=test-access-key \
	SDM_API_SECRET_KEY=dGVzdC1zZWNyZXQta2V5LXRlc3Qtc2VjcmV0LWtleQ==
export SDM_API_HOST=sdm.example.invalid:443 INCIDENT_API_URL=https://api.example.invalid
EMPTY=$T/empty.ndjson
echo '{"type":"end","stage":"match-users","records":0}' >"$EMPTY"
ROSTER=$T/roster.ndjson
{ head -n 1 "$ROOT/tests/fixtures/match-users/roster.ndjson"
  echo '{"type":"end","stage":"fetch-oncall","records":1}'; } >"$ROSTER"

# attempt CMD...: runs CMD (logging each attempt); $tries: the CONNECTs the
# proxy refused meanwhile, $again: attempts after a first (retries)
attempt() {
	local t
	t=$(proxy_tunnels)
	run env ONCALL_LOG=debug "$@"
	tries=$(($(proxy_tunnels) - t))
	again=$(grep -c '(attempt [2-9])' "$T/err" || true)
}

for code in 403 407; do
	proxy_start --refuse "$code"
	PROXY=$HTTPS_PROXY
	port=${PROXY##*:}
	# the credentials of the proxy URL never appear
	export HTTPS_PROXY=http://proxyuser:s3cret-pw@127.0.0.1:$port
	if [[ $code == 403 ]]; then
		want="the proxy refused the tunnel to sdm\.example\.invalid:443: 403 Forbidden \(proxy http://127\.0\.0\.1:$port from HTTPS_PROXY; is sdm\.example\.invalid:443 blocked there, or should NO_PROXY name it\?\)"
		iwant="the proxy refused the tunnel to api\.example\.invalid: 403 Forbidden \(proxy http://127\.0\.0\.1:$port from HTTPS_PROXY"
	else
		want="the proxy requires authentication for the tunnel to sdm\.example\.invalid:443: 407 Proxy Authentication Required \(proxy http://127\.0\.0\.1:$port from HTTPS_PROXY: its user and password"
		iwant="the proxy requires authentication for the tunnel to api\.example\.invalid: 407 Proxy Authentication Required"
	fi

	attempt reconcile-groups -j 1 -n --allow-empty <"$EMPTY"
	is "$rc" 1 "$code: reconcile-groups exits 1"
	like "$(cat "$T/err")" "Groups\.List: POST https://sdm\.example\.invalid:443/v1\.Groups/List: $want" \
		"$code: reconcile-groups names the proxy's answer, the host and the proxy"
	is "$tries $again" "1 0" "$code: reconcile-groups: one attempt, not retried"

	attempt fetch-oncall -s TestSchedule
	is "$rc" 1 "$code: fetch-oncall exits 1"
	like "$(cat "$T/err")" "$iwant" "$code: fetch-oncall names the proxy's answer"
	is "$tries $again" "1 0" "$code: fetch-oncall: one attempt, not retried"

	attempt match-users <"$ROSTER"
	is "$rc" 1 "$code: match-users exits 1"
	like "$(cat "$T/err")" "$want" "$code: match-users names the proxy's answer"
	# one look-up per person (Alice, Bob), each tried once
	is "$tries $again" "2 0" "$code: match-users: one attempt per look-up, not retried"

	all=$(cat "$T/err" "$T/out" 2>/dev/null)
	unlike=$(grep -c 's3cret-pw\|proxyuser' <<<"$all" || true)
	is "$unlike" 0 "$code: the proxy's credentials are never printed"
	is "$(jq -s 'map(select(.proxy_authorization)) | length > 0' "$PROXY_LOG")" true \
		"$code: (the credentials were offered to the proxy)"
	proxy_stop
done

done_testing
