#!/usr/bin/env bash
# Writes through a CONNECT proxy to a TLS server that allows 32 concurrent
# HTTP/2 streams, with more calls in flight than that (-j 64 and -j 256):
# every write succeeds, on one tunnel. (libcurl 7.88 opened a tunnel per
# waiting call and sent some writes on a tunnel that was not ready: "send:
# no filter connected", 23-31 of 330 writes failed in 2 runs of 3.) And
# when libcurl opens those tunnels anyway (a shim keeps its old setting),
# the attempts it fails before sending a byte are sent again, and the few it
# fails after the tunnel took part of them are retried as cut sends (CI saw
# 9 of 330 failed that way once): every write still succeeds.
# shellcheck disable=SC1091,SC2154,SC2034 # tap.sh (sourced) sets rc, reads TAP_CLEANUP_HOOK
set -euo pipefail
. "$(dirname "$0")/../tap.sh"
. "$ROOT/tests/tls.sh"
require_bin reconcile-groups
command -v nghttpx >/dev/null || skip_all "nghttpx is not installed (Debian: nghttp2-proxy)"
require_cmd openssl
unset CURL_CA_BUNDLE SSL_CERT_DIR HTTPS_PROXY https_proxy HTTP_PROXY http_proxy \
	ALL_PROXY all_proxy NO_PROXY no_proxy
TAP_CLEANUP_HOOK='tls_front_stop_all; proxy_stop'

# 2560 users; round R puts people 320R..320R+319 on 10 new schedules of 32
USERS=2560 ROUNDS=4
jq -n --argjson n "$USERS" '{accounts: [range($n) | {id: "a-\(1000000000000000 + .)",
	type: "user", email: "u\(.)@example.com", first_name: "U", last_name: "\(.)"}]}' >"$T/world.json"
round() {
	jq -nc --argjson r "$1" '[range(10) as $s | ($r * 10 + $s) as $k |
		{type: "roster", schedule: {id: ("01G0J1EXE7STREAMS" + ("000000000\($k)" | .[-9:])),
		 name: "streams-\($k)"}, at: "2026-11-29T07:00:00Z",
		 window: {from: "2026-11-29T07:00:00Z", to: "2026-11-29T07:00:00Z"},
		 oncall: [range(32) as $i | ($r * 320 + $s * 32 + $i) as $n |
			{id: "P\($n)", email: "u\($n)@example.com", name: "U\($n)",
			 account: {id: "a-\(1000000000000000 + $n)", email: "u\($n)@example.com"}}]}] |
		(.[], {type: "end", stage: "match-users", records: length})'
}

tls_pki
# more writes than StrongDM allows a minute: limits out of the way
start_strongdm_sim "$T/world.json" --rate-limit 1000000,1000000
tls_front sdm "${SDM_API_HOST##*:}" h2 --frontend-http2-max-concurrent-streams=32
export SDM_API_HOST=localhost:$TLS_PORT SSL_CERT_FILE=$T/pki/ca.pem
proxy_start

for ((r = 0; r < ROUNDS; r++)); do
	j=$((r % 2 ? 256 : 64))
	round "$r" >"$T/matched-$r.ndjson"
	t0=$(proxy_tunnels)
	run reconcile-groups -j "$j" <"$T/matched-$r.ndjson"
	is "$rc" 0 "round $((r + 1)), -j $j against 32 streams: exit 0"
	is "$(jq -r 'select(.type == "change") | .status' "$T/out" | sort | uniq -c | tr -s ' ')" \
		" 330 done" "round $((r + 1)): 10 groups created and 320 members added, all done"
	failed=$(jq -r 'select(.status == "failed") | .error' "$T/out" | sort | uniq -c | head -n 3)
	[[ -z $failed ]] || diag "$failed"
	is "$(($(proxy_tunnels) - t0))" 1 "round $((r + 1)): one tunnel, its streams multiplexed"
done
is "$(strongdm_sim_state | jq '[.groups[].members | length] | add')" $((ROUNDS * 320)) \
	"StrongDM holds every member added"

# --- a tunnel per waiting call, as before: unsent attempts are sent again
shim=
if ! command -v cc >/dev/null; then
	note "no C compiler: the shim is not built"
elif [[ -n ${_TAP_VALGRIND_BIN:-} ]] || ldd "$BIN/reconcile-groups" | grep -q libasan; then
	note "under valgrind or ASan: no LD_PRELOAD shim"
elif cc -shared -fPIC -o "$T/shim.so" "$ROOT/tests/curl-many-connections.c" -ldl 2>"$T/cc.err"; then
	shim=$T/shim.so
else
	diag "$(cat "$T/cc.err")"
fi
if [[ -n $shim ]]; then
	resent=0 cut=0
	for r in 4 5 6 7; do
		j=$((r % 2 ? 256 : 64))
		round "$r" >"$T/matched-$r.ndjson"
		t0=$(proxy_tunnels)
		run env LD_PRELOAD="$shim${LD_PRELOAD:+ $LD_PRELOAD}" ONCALL_LOG=debug reconcile-groups -j "$j" <"$T/matched-$r.ndjson"
		is "$rc $(jq -r 'select(.type == "change") | .status' "$T/out" | sort | uniq -c | tr -s ' ')" \
			"0  330 done" "a tunnel per waiting call, -j $j: every write done"
		failed=$(jq -r 'select(.status == "failed") | .error' "$T/out" | sort | uniq -c | head -n 3)
		[[ -z $failed ]] || diag "$failed
$(grep -m 5 'no filter connected' "$T/err")"
		ok "a tunnel per waiting call, -j $j: more than one tunnel" test "$(($(proxy_tunnels) - t0))" -gt 1
		resent=$((resent + $(grep -c 'the request never left the client; sending it again' "$T/err" || true)))
		cut=$((cut + $(grep -c 'a failed send$' "$T/err" || true)))
	done
	note "attempts failed unsent and sent again: $resent; failed after the connection took part of them, retried: $cut"
	is "$(strongdm_sim_state | jq '[.groups[].members | length] | add')" $((8 * 320)) \
		"StrongDM holds every member added, once"
fi

done_testing
