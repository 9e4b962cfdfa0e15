/* test_grpc: gRPC framing, the request headers a StrongDM call sends, and
 * status parsing from trailers and trailers-only responses. A Python grpcio
 * simulator accepts a wrong content-type or a missing te: trailers, so these
 * are checked here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "grpc.h"
#include "pb.h"
#include "sdm_internal.h"
#include "tap.h"

static int
slist_has(const struct curl_slist *l, const char *line)
{
	for (; l; l = l->next)
		if (strcmp(l->data, line) == 0)
			return 1;
	return 0;
}

static int
slist_count_prefix(const struct curl_slist *l, const char *prefix)
{
	int n = 0;

	for (; l; l = l->next)
		if (strncasecmp(l->data, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static void
test_framing(void)
{
	struct buf b = { 0 };
	const uint8_t *msg;
	size_t n;
	char err[256];

	grpc_frame(&b, "\x0a\x00", 2);
	ok(b.len == 7 && memcmp(b.data, "\x00\x00\x00\x00\x02\x0a\x00", 7) == 0,
	   "a frame: flag 0, big-endian length 2, the message");
	ok(grpc_unframe(b.data, b.len, &msg, &n, err, sizeof err) == 0 && n == 2 &&
	   msg == (const uint8_t *)b.data + 5, "unframed again");
	ok(grpc_unframe(b.data, 6, &msg, &n, err, sizeof err) < 0, "a body shorter than its frame is an error");
	buf_append(&b, "x", 1);
	ok(grpc_unframe(b.data, b.len, &msg, &n, err, sizeof err) < 0,
	   "a body longer than its frame is an error (%s)", err);
	ok(grpc_unframe(b.data, 3, &msg, &n, err, sizeof err) < 0, "a body shorter than 5 bytes is an error");
	ok(grpc_unframe("\x01\x00\x00\x00\x00", 5, &msg, &n, err, sizeof err) < 0 && strstr(err, "compressed"),
	   "a compressed frame is an error: %s", err);
	ok(grpc_unframe("\x00\x00\x00\x00\x00", 5, &msg, &n, err, sizeof err) == 0 && n == 0,
	   "an empty message is fine");
	ok(grpc_unframe("\x00\xff\xff\xff\xff", 5, &msg, &n, err, sizeof err) < 0,
	   "a 4 GiB length with no body is an error");
	b.len = 0;
	{
		char big[300];

		memset(big, 'a', sizeof big);
		grpc_frame(&b, big, sizeof big);
		ok(b.data[3] == 0x01 && (unsigned char)b.data[4] == 0x2c, "lengths are big-endian");
	}
	buf_clear(&b);
}

static void
test_headers(void)
{
	struct curl_slist *h = grpc_sdm_headers(NULL, "AKEY", SDM_API_VERSION, "oncall-sync/1.0");

	ok(slist_has(h, "content-type: application/grpc"), "content-type is exactly application/grpc");
	ok(slist_has(h, "te: trailers"), "te: trailers is sent");
	ok(slist_has(h, "x-sdm-authentication: AKEY"), "the access key header");
	ok(slist_has(h, "x-sdm-api-version: 2025-04-14"), "the API version header");
	ok(slist_has(h, "x-sdm-user-agent: oncall-sync/1.0"), "the user agent header");
	is_int(slist_count_prefix(h, "content-type:"), 1, "one content-type");
	ok(slist_has(h, "Expect:") && slist_has(h, "Accept:"), "curl's Expect and Accept defaults are removed");
	curl_slist_free_all(h);
}

static void
test_percent(void)
{
	char out[64];

	grpc_percent_decode("group%20name%20already%20exists", out, sizeof out);
	is_str(out, "group name already exists", "percent-decoding");
	grpc_percent_decode("caf%C3%A9 100%", out, sizeof out);
	is_str(out, "caf\xc3\xa9 100%", "UTF-8 escapes; a lone %% kept");
	grpc_percent_decode("%zz%4", out, sizeof out);
	is_str(out, "%zz%4", "malformed escapes kept as they are");
	grpc_percent_decode("a%00b", out, sizeof out);
	ok(strlen(out) == 5, "an escaped NUL does not cut the text");
	grpc_percent_decode("abcdefghij", out, 5);
	is_str(out, "abcd", "the output is bounded");
	/* The message goes into records, which must be UTF-8. */
	grpc_percent_decode("bad%FFbyte%C3!", out, sizeof out);
	is_str(out, "bad?byte?!", "escapes that are not UTF-8 become '?'");
	grpc_percent_decode("abc%C3%A9", out, 5);
	is_str(out, "abc", "the bound never splits a character");
}

/* Status.message longer than the buffer: cut between characters. */
static void
status_message_should_be_cut_between_characters(void)
{
	struct buf st = { 0 }, msg = { 0 };
	struct grpc_rate_limit rl;
	char out[8];
	int code;

	buf_puts(&msg, "abcdef\xc3\xa9xyz");   /* the \xc3\xa9 straddles byte 7 */
	pb_put_int32(&st, 1, 5);
	pb_put_bytes(&st, 2, msg.data, msg.len);
	is_int(grpc_parse_status_details((const uint8_t *)st.data, st.len, &code, out, sizeof out, &rl),
	       0, "status details parsed");
	is_str(out, "abcdef", "cut before the character that does not fit");
	buf_clear(&st);
	buf_clear(&msg);
}

static void
test_base64(void)
{
	uint8_t out[16];

	is_int(grpc_b64_decode("aGk", 3, out, sizeof out), 2, "unpadded base64");
	ok(memcmp(out, "hi", 2) == 0, "decodes to hi");
	is_int(grpc_b64_decode("aGk=", 4, out, sizeof out), 2, "padded base64 too");
	is_int(grpc_b64_decode("aGk==", 5, out, sizeof out), -1, "too much padding");
	is_int(grpc_b64_decode("a", 1, out, sizeof out), -1, "one lone character");
	is_int(grpc_b64_decode("a$bc", 4, out, sizeof out), -1, "a character outside the alphabet");
	is_int(grpc_b64_decode("", 0, out, sizeof out), 0, "empty");
	is_int(grpc_b64_decode("AAAAAAAA", 8, out, 5), -1, "output bounded");
}

/* google.rpc.Status with a RateLimitMetadata detail, base64 unpadded. */
static char *
status_details(int code, const char *message, const char *type_url, int64_t reset_s)
{
	struct buf st = { 0 }, any = { 0 }, rl = { 0 }, ts = { 0 };
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf out = { 0 };

	pb_put_uint64(&rl, 1, 500);
	pb_put_uint64(&rl, 2, 0);
	pb_put_uint64(&ts, 1, (uint64_t)reset_s);
	pb_put_int32(&ts, 2, 250000000);
	pb_put_message(&rl, 3, &ts);
	pb_put_string(&rl, 4, "write");
	pb_put_string(&any, 1, type_url);
	pb_put_bytes(&any, 2, rl.data, rl.len);
	pb_put_int32(&st, 1, code);
	pb_put_string(&st, 2, message);
	pb_put_message(&st, 3, &any);
	for (size_t i = 0; i < st.len; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)st.data[i] << 16;
		size_t left = st.len - i;

		if (left > 1)
			v |= (uint32_t)(uint8_t)st.data[i + 1] << 8;
		if (left > 2)
			v |= (uint8_t)st.data[i + 2];
		buf_append(&out, &tbl[v >> 18 & 63], 1);
		buf_append(&out, &tbl[v >> 12 & 63], 1);
		if (left > 1)
			buf_append(&out, &tbl[v >> 6 & 63], 1);
		if (left > 2)
			buf_append(&out, &tbl[v & 63], 1);
	}
	buf_clear(&st);
	buf_clear(&any);
	buf_clear(&rl);
	buf_clear(&ts);
	return out.data;
}

static void
test_responses(void)
{
	struct grpc_result r;
	struct http_header h[4];
	struct buf body = { 0 };
	char *det;

	/* OK: the message in the body, the status in the trailers. */
	grpc_frame(&body, "\x0a\x00", 2);
	h[0] = (struct http_header){ "content-type", "application/grpc" };
	h[1] = (struct http_header){ "grpc-status", "0" };
	grpc_parse_response(200, h, 2, body.data, body.len, CURLE_OK, "", &r);
	ok(r.code == 0 && r.msglen == 2 && !r.transport, "OK with a one-frame body");

	grpc_parse_response(200, h, 2, body.data, body.len - 1, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS && !r.transport && strstr(r.message, "malformed"),
	   "OK with a short body is a malformed response: %s", r.message);
	grpc_parse_response(200, h, 2, "", 0, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS, "OK without any body is an error");
	body.data[0] = 1;
	grpc_parse_response(200, h, 2, body.data, body.len, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS && strstr(r.message, "compressed"), "a compressed response is an error");

	/* Trailers-only error: status, message and details in the headers. */
	det = status_details(6, "details text", "type.googleapis.com/v1.RateLimitMetadata", 1768435260);
	h[0] = (struct http_header){ "content-type", "application/grpc" };
	h[1] = (struct http_header){ "grpc-status", "6" };
	h[2] = (struct http_header){ "grpc-message", "group%20name%20already%20exists" };
	grpc_parse_response(200, h, 3, NULL, 0, CURLE_OK, "", &r);
	ok(r.code == 6 && strcmp(r.message, "group name already exists") == 0 && !r.rl.present,
	   "trailers-only ALREADY_EXISTS with a percent-encoded message");

	h[1] = (struct http_header){ "grpc-status", "8" };
	h[2] = (struct http_header){ "grpc-message", "rate%20limit%20exceeded" };
	h[3] = (struct http_header){ "grpc-status-details-bin", det };
	grpc_parse_response(200, h, 4, NULL, 0, CURLE_OK, "", &r);
	ok(r.code == 8 && r.rl.present && r.rl.reset_at_ms == 1768435260250LL &&
	   r.rl.limit == 500 && strcmp(r.rl.bucket, "write") == 0,
	   "RESOURCE_EXHAUSTED: reset_at from the details");
	free(det);

	det = status_details(8, "from details", "example.com/other.Type", 5);
	h[3] = (struct http_header){ "grpc-status-details-bin", det };
	grpc_parse_response(200, h, 4, NULL, 0, CURLE_OK, "", &r);
	ok(r.code == 8 && !r.rl.present, "a detail of another type is ignored");
	grpc_parse_response(200, h + 1, 1, NULL, 0, CURLE_OK, "", &r);
	ok(r.code == 8, "grpc-status alone");
	h[2] = h[3];
	grpc_parse_response(200, h, 3, NULL, 0, CURLE_OK, "", &r);
	is_str(r.message, "from details", "without grpc-message, the details' message is used");
	free(det);

	/* Status in real trailers after a body: the last grpc-status wins. */
	{
		struct http_header t[4] = {
			{ "content-type", "application/grpc" },
			{ "grpc-status", "0" },
			{ "grpc-status", "14" },
			{ "grpc-message", "try%20again" },
		};

		grpc_parse_response(200, t, 4, body.data, body.len, CURLE_OK, "", &r);
		ok(r.code == 14 && strcmp(r.message, "try again") == 0, "trailers after headers");
	}

	/* No gRPC status at all. */
	h[0] = (struct http_header){ "content-type", "text/html" };
	grpc_parse_response(415, h, 1, "nope", 4, CURLE_OK, "", &r);
	ok(r.code == 2, "HTTP 415 without grpc-status: UNKNOWN (%s)", r.message);
	grpc_parse_response(503, h, 1, "", 0, CURLE_OK, "", &r);
	ok(r.code == 14, "HTTP 503 without grpc-status: UNAVAILABLE");
	grpc_parse_response(200, h, 0, "", 0, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS && r.transport, "a 200 cut before its trailers is a transport error");
	grpc_parse_response(0, NULL, 0, NULL, 0, CURLE_COULDNT_CONNECT, "Failed to connect", &r);
	ok(r.code == GRPC_NO_STATUS && r.transport && strcmp(r.message, "Failed to connect") == 0,
	   "a network error");
	h[0] = (struct http_header){ "grpc-status", "abc" };
	grpc_parse_response(200, h, 1, "", 0, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS && !r.transport, "a malformed grpc-status");
	h[0] = (struct http_header){ "grpc-status", "8" };
	h[1] = (struct http_header){ "grpc-status-details-bin", "!!!" };
	grpc_parse_response(200, h, 2, "", 0, CURLE_OK, "", &r);
	ok(r.code == 8 && !r.rl.present, "malformed details are ignored");
	buf_clear(&body);
}

/* A web page or another content-type where gRPC was expected: a captive
 * portal or a proxy's block page. UNKNOWN, as gRPC says for an unexpected
 * content-type, named so an admin knows what stood in the way; a 200 is
 * not a transport error (those are retried). */
static void
web_page_should_be_named_and_not_retried(void)
{
	struct grpc_result r;
	struct http_header h[2] = {
		{ "content-type", "text/html; charset=utf-8" },
		{ "content-length", "52" },
	};

	grpc_parse_response(200, h, 2, "<html><body>Welcome to the hotel Wi-Fi</body></html>", 52,
	                    CURLE_OK, "", &r);
	ok(r.code == 2 && !r.transport, "200 text/html: UNKNOWN, not a transport error");
	is_str(r.message, "the server answered with a web page (text/html), not gRPC: "
	       "a captive portal or a proxy's block page?", "200 text/html: the message names it");
	grpc_parse_response(403, h, 2, "<html>blocked</html>", 20, CURLE_OK, "", &r);
	ok(r.code == 7, "403 text/html: PERMISSION_DENIED from the HTTP status");
	ok(strncmp(r.message, "HTTP 403 with a web page (text/html)", 36) == 0, "403 text/html: named too: %s", r.message);
	h[0] = (struct http_header){ "content-type", "application/json" };
	grpc_parse_response(200, h, 1, "{}", 2, CURLE_OK, "", &r);
	ok(r.code == 2 && !r.transport && strstr(r.message, "unexpected content-type") &&
	   strstr(r.message, "application/json"), "200 application/json: %s", r.message);
	h[0] = (struct http_header){ "content-type", "application/grpc+proto" };
	grpc_parse_response(200, h, 1, "", 0, CURLE_OK, "", &r);
	ok(r.code == GRPC_NO_STATUS && r.transport, "application/grpc+proto is gRPC: cut short, retried");
}

static void
test_hostile_details(void)
{
	unsigned seed = 7;
	struct grpc_rate_limit rl;
	int code;
	char msg[64];

	for (int round = 0; round < 50000; round++) {
		uint8_t junk[48];
		size_t n = (size_t)(round % 48);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (uint8_t)(seed >> 16);
		}
		grpc_parse_status_details(junk, n, &code, msg, sizeof msg, &rl);
	}
	ok(1, "50000 random status details parsed without a crash");
	{
		char *det = status_details(8, "m", "type.googleapis.com/v1.RateLimitMetadata", 1);
		size_t len = strlen(det);
		struct http_header h[2] = { { "grpc-status", "8" }, { "grpc-status-details-bin", NULL } };
		struct grpc_result r;

		for (size_t cut = 0; cut <= len; cut++) {
			char *p = estrndup(det, cut);

			h[1].value = p;
			grpc_parse_response(200, h, 2, NULL, 0, CURLE_OK, "", &r);
			free(p);
		}
		ok(1, "every truncation of a details header parsed without a crash");
		free(det);
	}
}

static const char *secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static void
clear_env(void)
{
	unsetenv("SDM_API_HOST");
	unsetenv("SDM_API_ACCESS_KEY");
	unsetenv("SDM_API_ACCESS_KEY_FILE");
	unsetenv("SDM_API_SECRET_KEY");
	unsetenv("SDM_API_SECRET_KEY_FILE");
}

static int
config_fails(const char *want, const char *desc)
{
	struct sdm_config cfg;
	char err[512] = "";
	int rc = sdm_config_from_env(&cfg, err, sizeof err);

	if (rc == 0)
		sdm_config_clear(&cfg);
	return ok(rc < 0 && strstr(err, want) && !strstr(err, "s3cr3t") && !strstr(err, secret),
	          "%s (%s)", desc, err);
}

static void
test_config(void)
{
	struct sdm_config cfg;
	char err[512], path[] = "/tmp/test_grpc.XXXXXX";
	int fd;

	clear_env();
	config_fails("SDM_API_ACCESS_KEY is not set", "no access key");
	setenv("SDM_API_ACCESS_KEY", "ak-1", 1);
	config_fails("SDM_API_SECRET_KEY is not set", "no secret key");
	setenv("SDM_API_SECRET_KEY", "s3cr3t!", 1);
	config_fails("not a base64", "a secret that is not base64, not echoed");
	setenv("SDM_API_SECRET_KEY", secret, 1);
	ok(sdm_config_from_env(&cfg, err, sizeof err) == 0 &&
	   strcmp(cfg.host, SDM_DEFAULT_HOST) == 0 && cfg.max_inflight == 8 &&
	   strcmp(cfg.access_key, "ak-1") == 0, "defaults: %s, 8 in flight", SDM_DEFAULT_HOST);
	sdm_config_clear(&cfg);
	setenv("SDM_API_HOST", "http://api.example.com:80", 1);
	config_fails("loopback", "plaintext to another host is refused");
	setenv("SDM_API_HOST", "app.example.com:443/path", 1);
	config_fails("SDM_API_HOST", "a host with a path is refused");
	setenv("SDM_API_HOST", "http://127.0.0.1:9", 1);
	ok(sdm_config_from_env(&cfg, err, sizeof err) == 0, "plaintext to loopback is fine");
	sdm_config_clear(&cfg);
	setenv("SDM_API_ACCESS_KEY", "ak\r\nx-evil: 1", 1);
	config_fails("control", "an access key with a line break is refused");
	setenv("SDM_API_ACCESS_KEY", "ak-1", 1);

	/* Secret files: private ones only; both a variable and a file is ambiguous. */
	fd = mkstemp(path);
	if (fd >= 0) {
		if (write(fd, secret, strlen(secret)) < 0 || write(fd, "\n", 1) < 0)
			perror("write");
		close(fd);
		setenv("SDM_API_SECRET_KEY_FILE", path, 1);
		config_fails("both", "a secret in a variable and a file is refused");
		unsetenv("SDM_API_SECRET_KEY");
		ok(sdm_config_from_env(&cfg, err, sizeof err) == 0 && strcmp(cfg.secret_key, secret) == 0,
		   "the secret from a private file, trimmed");
		sdm_config_clear(&cfg);
		chmod(path, 0640);
		config_fails("chmod 600", "a secret file the group may read is refused");
		unlink(path);
	}
	clear_env();
}

static const char *
find_header(const struct curl_slist *l, const char *prefix)
{
	for (; l; l = l->next)
		if (strncasecmp(l->data, prefix, strlen(prefix)) == 0)
			return l->data + strlen(prefix);
	return NULL;
}

/* The request the client itself builds: headers, framing, signature. */
static void
test_client_request(void)
{
	struct sdm_config cfg = { 0 };
	struct sdm_client *c;
	struct http_request *req;
	char err[256], date[16], want[SDM_SIG_LEN + 1], want_after[SDM_SIG_LEN + 1];
	const char *sig;
	time_t before, after;
	struct tm tm;

	cfg.host = "http://127.0.0.1:9";
	cfg.access_key = "ak-1";
	cfg.secret_key = (char *)secret;
	cfg.max_inflight = 4;
	c = sdm_client_new(&cfg, err, sizeof err);
	if (!ok(c != NULL, "a client"))
		return;
	req = sdm_request_new(c, "Groups.Delete", "/v1.Groups/Delete", "\x0a\x00\x12\x01x", 5);
	is_str(req->method, "POST", "a POST");
	is_str(req->url, "http://127.0.0.1:9/v1.Groups/Delete", "to /v1.Service/Method");
	ok(slist_has(req->headers, "content-type: application/grpc"),
	   "the client sends content-type: application/grpc exactly");
	is_int(slist_count_prefix(req->headers, "content-type:"), 1, "and only that content-type");
	ok(slist_has(req->headers, "te: trailers"), "the client sends te: trailers");
	ok(slist_has(req->headers, "x-sdm-authentication: ak-1"), "the client sends its access key");
	ok(slist_has(req->headers, "x-sdm-api-version: " SDM_API_VERSION), "and the API version");
	ok(find_header(req->headers, "x-sdm-user-agent: oncall-sync/") != NULL, "and a user agent");
	ok(req->body_len == 10 && memcmp(req->body, "\0\0\0\0\x05\x0a\x00\x12\x01x", 10) == 0,
	   "the body is one uncompressed frame");
	ok(find_header(req->headers, "x-sdm-signature:") == NULL, "no signature before prepare()");
	before = time(NULL);
	ok(req->prepare && req->prepare(req) == 0, "prepare() signs");
	after = time(NULL);
	sig = find_header(req->attempt_headers, "x-sdm-signature: ");
	/* the UTC date when prepare() ran: the one before it or, if midnight
	 * passed meanwhile, the one after */
	gmtime_r(&before, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	sdm_sign(secret, date, "Groups.Delete", "\x0a\x00\x12\x01x", 5, want);
	gmtime_r(&after, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	sdm_sign(secret, date, "Groups.Delete", "\x0a\x00\x12\x01x", 5, want_after);
	if (sig && strcmp(sig, want) != 0 && strcmp(sig, want_after) == 0)
		memcpy(want, want_after, sizeof want);
	is_str(sig, want, "the signature covers the method and the unframed message, today (UTC)");
	sdm_request_free(req);
	sdm_client_free(c);
}

/* A server whose next_cursor cycles A, B, A, ...: the client must stop
 * with an error, not follow it forever. (grpcio for /usr/bin/python3.) */
static const char cycle_server[] =
	"import grpc, os, time\n"
	"from concurrent import futures\n"
	"n = [0]\n"
	"def lst(req, ctx):\n"
	"    n[0] += 1\n"
	"    cur = b'A' if n[0] % 2 else b'B'\n"
	"    meta = b'\\x0a' + bytes([len(cur)]) + cur\n"
	"    return b'\\x0a' + bytes([len(meta)]) + meta\n"
	"s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))\n"
	"s.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('v1.Accounts',\n"
	"    {'List': grpc.unary_unary_rpc_method_handler(lst)}),))\n"
	"p = s.add_insecure_port('127.0.0.1:0')\n"
	"s.start()\n"
	"print(p, flush=True)\n"
	"pp = os.getppid()\n"
	"t0 = time.time()\n"
	"while os.getppid() == pp and time.time() - t0 < 60:\n"
	"    time.sleep(0.2)\n";

struct cycle_result {
	int calls;
	int code;
	char message[512];
};

static void
on_cycle_accounts(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct cycle_result *r = user;

	r->calls++;
	r->code = err ? err->code : 0;
	snprintf(r->message, sizeof r->message, "%s", err ? err->message : "");
	sdm_accounts_free(v, n);
}

static void
list_should_stop_when_the_server_cycles_cursors(void)
{
	int fds[2], port = 0;
	pid_t pid;
	FILE *fp;
	char host[64], err[512];
	struct sdm_config cfg;
	struct sdm_client *c;
	struct cycle_result r = { 0 };
	struct sdm_stats st;

	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import grpc' 2>/dev/null") != 0) {
		ok(1, "# SKIP no grpcio for /usr/bin/python3");
		return;
	}
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		ok(0, "pipe/fork");
		return;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		/* grpcio's server hangs under libfaketime (CI's moved-clock run);
		 * this one needs no date, so it runs on the real clock */
		unsetenv("LD_PRELOAD");
		execl("/usr/bin/python3", "python3", "-c", cycle_server, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	if (!fp || fscanf(fp, "%d", &port) != 1 || port <= 0) {
		ok(0, "the cycling server started");
		goto out;
	}
	snprintf(host, sizeof host, "http://127.0.0.1:%d", port);
	setenv("SDM_API_HOST", host, 1);
	setenv("SDM_API_ACCESS_KEY", "ak-1", 1);
	setenv("SDM_API_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1);
	unsetenv("SDM_API_ACCESS_KEY_FILE");
	unsetenv("SDM_API_SECRET_KEY_FILE");
	if (sdm_config_from_env(&cfg, err, sizeof err) < 0 ||
	    !(c = sdm_client_new(&cfg, err, sizeof err))) {
		ok(0, "client: %s", err);
		goto out;
	}
	alarm(10); /* without the check the listing never ends */
	sdm_accounts_list(c, NULL, 0, on_cycle_accounts, &r);
	sdm_run(c);
	alarm(0);
	sdm_client_stats(c, &st);
	ok(r.calls == 1 && r.code == SDM_TRANSPORT && strstr(r.message, "repeated a page cursor"),
	   "a cursor cycle A, B, A ends the listing with an error: %s", r.message);
	is_int(st.pages, 3, "after three pages");
	sdm_client_free(c);
	sdm_config_clear(&cfg);
out:
	if (fp)
		fclose(fp);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int
main(void)
{
	test_framing();
	test_headers();
	test_percent();
	status_message_should_be_cut_between_characters();
	test_base64();
	test_responses();
	web_page_should_be_named_and_not_retried();
	test_hostile_details();
	test_config();
	test_client_request();
	list_should_stop_when_the_server_cycles_cursors();
	return tap_done();
}
