# shellcheck shell=bash
# shellcheck disable=SC2034 # TLS_PORT, PROXY_LOG are for the tests that source this
# tests/tls.sh: TLS in front of the simulators, and a CONNECT proxy, for the
# end-to-end tests. Source after tests/tap.sh (it uses $T and $ROOT):
#
#   tls_pki                 makes a test PKI in $T/pki, with openssl, now:
#                             ca.pem        the test CA (trust it with SSL_CERT_FILE)
#                             server.pem/.key  a certificate for "localhost" only,
#                                           signed by that CA
#                             other-ca.pem  an unrelated CA (trusting it fails)
#                             certs/        ca.pem under its hash (for SSL_CERT_DIR)
#   tls_front NAME BACKEND_PORT PROTO [nghttpx options...]
#                           starts nghttpx terminating TLS (ALPN h2, http/1.1)
#                           on a loopback port the kernel chose, in front of
#                           127.0.0.1:BACKEND_PORT spoken to as PROTO (h2 for
#                           h2c, http/1.1); sets TLS_PORT and records the
#                           pid; NAME names its logs ($T/nghttpx-NAME.*)
#   tls_front_stop_all      stops every nghttpx started
#   proxy_start [--refuse STATUS]
#                           starts tests/connect-proxy.py (refusing every
#                           CONNECT with STATUS if given); exports
#                           HTTPS_PROXY=http://127.0.0.1:PORT and sets
#                           PROXY_LOG (a JSON line per tunnel), PROXY_PID
#   proxy_tunnels           how many tunnels the proxy opened so far
#   proxy_stop
# Every server here also stops by itself when the test's shell is gone.

_TLS_FRONT_PIDS=()

tls_pki() {
	local d=$T/pki
	mkdir -p "$d/certs"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout ca.key -out ca.pem -days 2 -subj '/CN=oncall-sync test CA' \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=another CA' &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout server.key -out server.csr -subj /CN=localhost &&
		printf '%s\n' 'subjectAltName=DNS:localhost' 'extendedKeyUsage=serverAuth' \
			'basicConstraints=CA:FALSE' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.pem &&
		cp ca.pem "certs/$(openssl x509 -noout -subject_hash -in ca.pem).0"
	) >"$T/pki.log" 2>&1 || { cat "$T/pki.log" >&2; return 1; }
}

tls_front() {
	local name=$1 backend=$2 proto=$3 pf
	shift 3
	pf=$T/nghttpx-$name.port
	rm -f "$pf"
	/usr/bin/python3 "$ROOT/tests/tls-front.py" --port-file "$pf" --parent $$ -- \
		nghttpx --conf=/dev/null --single-process --no-ocsp \
		--frontend='127.0.0.1,@PORT@' \
		--backend="127.0.0.1,$backend;;proto=$proto" \
		--errorlog-file="$T/nghttpx-$name.err" \
		--accesslog-file="$T/nghttpx-$name.access" \
		"$@" "$T/pki/server.key" "$T/pki/server.pem" \
		>"$T/tls-front-$name.out" 2>&1 &
	_TLS_FRONT_PIDS+=($!)
	local pid=$!
	while [[ ! -s $pf ]]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "nghttpx ($name) did not start:" >&2
			cat "$T/tls-front-$name.out" "$T/nghttpx-$name.err" >&2 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	TLS_PORT=$(<"$pf")
}

tls_front_stop_all() {
	local pid
	for pid in "${_TLS_FRONT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	_TLS_FRONT_PIDS=()
}

proxy_start() {
	local pf=$T/proxy.port
	rm -f "$pf"
	PROXY_LOG=$T/proxy.ndjson
	: >"$PROXY_LOG"
	/usr/bin/python3 "$ROOT/tests/connect-proxy.py" --port-file "$pf" \
		--log "$PROXY_LOG" --parent $$ "$@" >"$T/proxy.out" 2>&1 &
	PROXY_PID=$!
	while [[ ! -s $pf ]]; do
		if ! kill -0 "$PROXY_PID" 2>/dev/null; then
			echo "connect-proxy did not start:" >&2
			cat "$T/proxy.out" >&2
			return 1
		fi
		sleep 0.05
	done
	HTTPS_PROXY=http://127.0.0.1:$(<"$pf")
	export HTTPS_PROXY
}

proxy_tunnels() {
	wc -l <"$PROXY_LOG" | tr -d ' '
}

proxy_stop() {
	[[ -n ${PROXY_PID:-} ]] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
	unset HTTPS_PROXY
}
