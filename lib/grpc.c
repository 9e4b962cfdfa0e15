/* grpc.c: gRPC unary framing, request headers and status parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grpc.h"
#include "pb.h"

static const char *const status_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
};

const char *
grpc_status_name(int code)
{
	if (code >= 0 && code < (int)(sizeof status_names / sizeof status_names[0]))
		return status_names[code];
	return "UNKNOWN";
}

void
grpc_frame(struct buf *out, const void *msg, size_t n)
{
	uint8_t hdr[5];

	hdr[0] = 0;
	hdr[1] = (uint8_t)(n >> 24);
	hdr[2] = (uint8_t)(n >> 16);
	hdr[3] = (uint8_t)(n >> 8);
	hdr[4] = (uint8_t)n;
	buf_append(out, hdr, sizeof hdr);
	if (n)
		buf_append(out, msg, n);
}

int
grpc_unframe(const void *body, size_t len, const uint8_t **msg, size_t *msglen,
             char *err, size_t errlen)
{
	const uint8_t *b = body;
	uint32_t n;

	*msg = NULL;
	*msglen = 0;
	if (len < 5) {
		snprintf(err, errlen, "response body of %zu bytes has no complete gRPC frame", len);
		return -1;
	}
	if (b[0] != 0) {
		snprintf(err, errlen, "response frame is compressed (flag %u); none was asked for",
		         (unsigned)b[0]);
		return -1;
	}
	n = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
	if ((uint64_t)n != (uint64_t)(len - 5)) {
		snprintf(err, errlen, "response frame says %lu bytes but the body holds %zu",
		         (unsigned long)n, len - 5);
		return -1;
	}
	*msg = b + 5;
	*msglen = n;
	return 0;
}

static struct curl_slist *
slist_append_or_die(struct curl_slist *list, const char *line)
{
	struct curl_slist *l = curl_slist_append(list, line);

	if (!l)
		die(EXIT_FAILED, "out of memory");
	return l;
}

struct curl_slist *
grpc_sdm_headers(struct curl_slist *list, const char *access_key,
                 const char *api_version, const char *user_agent)
{
	/* libcurl's own defaults must not leak into a gRPC request. */
	static const char *const fixed[] = {
		"content-type: application/grpc",
		"te: trailers",
		"Accept:",
		"Expect:",
	};
	const char *const names[] = { "x-sdm-authentication", "x-sdm-api-version", "x-sdm-user-agent" };
	const char *const values[] = { access_key, api_version, user_agent };
	char *h;

	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		list = slist_append_or_die(list, fixed[i]);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		h = easprintf("%s: %s", names[i], values[i]);
		list = slist_append_or_die(list, h);
		secret_free(h);   /* one of them is the access key */
	}
	return list;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
grpc_percent_decode(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; in[i] && o + 1 < outlen; i++) {
		int hi, lo;

		if (in[i] == '%' && (hi = hexval((unsigned char)in[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)in[i + 2])) >= 0) {
			int c = hi << 4 | lo;
			/* A decoded NUL would cut the text short: keep it escaped. */
			if (c == 0) {
				out[o++] = '%';
				continue;
			}
			out[o++] = (char)c;
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	/* The message ends up in records, which must be UTF-8: no character
	 * split by the bound, no stray byte from a %-escape. */
	o = utf8_cut(out, o);
	out[o] = '\0';
	utf8_sanitize(out, o);
}

/* Copy text of n bytes into out (NUL-terminated), cut between characters
 * when it does not fit; bytes that are not UTF-8 become '?'. */
static void
text_copy(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	if (outlen == 0)
		return;
	if (n > outlen - 1)
		n = utf8_cut((const char *)p, outlen - 1);
	memcpy(out, p, n);
	out[n] = '\0';
	utf8_sanitize(out, n);
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
grpc_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap)
{
	size_t o = 0, i, pad = 0;
	uint32_t acc = 0;
	int nbits = 0, count = 0;

	/* Padding: at most two '=' at the very end, and only to a multiple of 4. */
	while (inlen > 0 && in[inlen - 1] == '=' && pad < 2) {
		inlen--;
		pad++;
	}
	if (pad && (inlen + pad) % 4 != 0)
		return -1;
	if (inlen % 4 == 1)
		return -1;
	for (i = 0; i < inlen; i++) {
		int v = b64val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		count++;
		if (nbits >= 8) {
			nbits -= 8;
			if (o >= outcap)
				return -1;
			out[o++] = (uint8_t)(acc >> nbits);
			acc &= (1u << nbits) - 1;
		}
	}
	(void)count;
	/* Left-over bits must be zero (canonical encoding). */
	if (acc != 0)
		return -1;
	return (long)o;
}

int
grpc_parse_rate_limit(const uint8_t *p, size_t n, struct grpc_rate_limit *rl)
{
	struct pb_reader r, ts;
	struct pb_field f, g;
	int rc;

	memset(rl, 0, sizeof *rl);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		switch (f.num) {
		case 1:
			if (pb_get_int64(&f, &rl->limit) < 0)
				return -1;
			break;
		case 2:
			if (pb_get_int64(&f, &rl->remaining) < 0)
				return -1;
			break;
		case 3: {
			int64_t sec = 0;
			int32_t nanos = 0;

			if (pb_sub(&r, &f, &ts) < 0)
				return -1;
			while ((rc = pb_next(&ts, &g)) > 0) {
				if (g.num == 1 && pb_get_int64(&g, &sec) < 0)
					return -1;
				if (g.num == 2 && pb_get_int32(&g, &nanos) < 0)
					return -1;
			}
			if (rc < 0)
				return -1;
			/* Bound the seconds so the product cannot overflow. */
			if (sec < 0 || sec > 253402300799LL || nanos < 0 || nanos > 999999999)
				return -1;
			rl->reset_at_ms = sec * 1000 + nanos / 1000000;
			break;
		}
		case 4:
			if (f.wt != PB_LEN || !pb_utf8_valid(f.data, f.len))
				return -1;
			text_copy(rl->bucket, sizeof rl->bucket, f.data, f.len);
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return -1;
	rl->present = 1;
	return 0;
}

/* Does an Any's type_url name v1.RateLimitMetadata? The host part of a type
 * URL is conventionally type.googleapis.com but only the name after the last
 * '/' identifies the type. */
static int
is_rate_limit_type(const uint8_t *p, size_t n)
{
	static const char want[] = "v1.RateLimitMetadata";
	size_t i = n;

	while (i > 0 && p[i - 1] != '/')
		i--;
	return n - i == sizeof want - 1 && memcmp(p + i, want, sizeof want - 1) == 0;
}

int
grpc_parse_status_details(const uint8_t *p, size_t n, int *code, char *message,
                          size_t msglen, struct grpc_rate_limit *rl)
{
	struct pb_reader r, any;
	struct pb_field f, g;
	int rc;

	*code = 0;
	if (msglen)
		message[0] = '\0';
	memset(rl, 0, sizeof *rl);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1) {
			int32_t c;

			if (pb_get_int32(&f, &c) < 0)
				return -1;
			*code = c;
		} else if (f.num == 2) {
			if (f.wt != PB_LEN || !pb_utf8_valid(f.data, f.len))
				return -1;
			text_copy(message, msglen, f.data, f.len);
		} else if (f.num == 3) {
			const uint8_t *val = NULL;
			size_t vlen = 0;
			int is_rl = 0;

			if (pb_sub(&r, &f, &any) < 0)
				return -1;
			while ((rc = pb_next(&any, &g)) > 0) {
				if (g.num == 1) {
					if (g.wt != PB_LEN)
						return -1;
					is_rl = is_rate_limit_type(g.data, g.len);
				} else if (g.num == 2) {
					if (g.wt != PB_LEN)
						return -1;
					val = g.data;
					vlen = g.len;
				}
			}
			if (rc < 0)
				return -1;
			if (is_rl && grpc_parse_rate_limit(val, vlen, rl) < 0)
				return -1;
		}
	}
	return rc < 0 ? -1 : 0;
}

static const char *
last_header(const struct http_header *h, size_t n, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < n; i++)
		if (h[i].name && strcasecmp(h[i].name, name) == 0)
			v = h[i].value ? h[i].value : "";
	return v;
}

/* application/grpc, alone or with a +format or parameters. */
static int
is_grpc_content_type(const char *ct)
{
	return !strncasecmp(ct, "application/grpc", 16) &&
	       (ct[16] == '\0' || ct[16] == '+' || ct[16] == ';');
}

/* gRPC's mapping of an HTTP status without grpc-status. */
static int
status_from_http(long http)
{
	switch (http) {
	case 400: return 13;
	case 401: return 16;
	case 403: return 7;
	case 404: return 12;
	case 429: case 502: case 503: case 504: return 14;
	default: return 2;
	}
}

void
grpc_parse_response(long http_status, const struct http_header *hdrs, size_t nhdrs,
                    const void *body, size_t len, CURLcode curl_code,
                    const char *curl_error, struct grpc_result *out)
{
	const char *st, *gm, *det, *ct;
	char why[256];

	memset(out, 0, sizeof *out);
	out->code = GRPC_NO_STATUS;
	if (curl_code != CURLE_OK || http_status == 0) {
		out->transport = 1;
		snprintf(out->message, sizeof out->message, "%s",
		         curl_error && *curl_error ? curl_error :
		         curl_code != CURLE_OK ? curl_easy_strerror(curl_code) : "no response");
		return;
	}
	st = last_header(hdrs, nhdrs, "grpc-status");
	ct = last_header(hdrs, nhdrs, "content-type");
	if (st == NULL && ct && !is_grpc_content_type(ct)) {
		/* Not a gRPC server's answer: gRPC calls it UNKNOWN ("unexpected
		 * content-type") unless the HTTP status says more. The usual
		 * sender is whatever stands between us and the server. */
		char what[160];
		size_t n = strcspn(ct, ";");

		if (n >= 9 && !strncasecmp(ct, "text/html", 9))
			snprintf(what, sizeof what, "a web page (text/html), not gRPC: "
			         "a captive portal or a proxy's block page?");
		else
			snprintf(what, sizeof what, "content-type %.*s, not gRPC (unexpected "
			         "content-type): a proxy in the way?", (int)(n > 60 ? 60 : n), ct);
		utf8_sanitize(what, strlen(what));
		out->code = http_status == 200 ? 2 : status_from_http(http_status);
		if (http_status == 200)
			snprintf(out->message, sizeof out->message, "the server answered with %s", what);
		else
			snprintf(out->message, sizeof out->message, "HTTP %ld with %s", http_status, what);
		return;
	}
	if (st == NULL) {
		if (http_status != 200) {
			out->code = status_from_http(http_status);
			snprintf(out->message, sizeof out->message,
			         "HTTP %ld without a gRPC status", http_status);
		} else {
			/* A 200 whose stream ended without trailers: cut short. */
			out->transport = 1;
			snprintf(out->message, sizeof out->message,
			         "response ended without grpc-status");
		}
		return;
	}
	{
		char *end;
		long v;

		if (*st < '0' || *st > '9') {
			snprintf(out->message, sizeof out->message, "malformed grpc-status");
			return;
		}
		v = strtol(st, &end, 10);
		if (*end != '\0' || v < 0 || v > 1000) {
			snprintf(out->message, sizeof out->message, "malformed grpc-status");
			return;
		}
		out->code = (int)v;
	}
	gm = last_header(hdrs, nhdrs, "grpc-message");
	if (gm)
		grpc_percent_decode(gm, out->message, sizeof out->message);
	det = last_header(hdrs, nhdrs, "grpc-status-details-bin");
	if (det && *det && out->code != 0) {
		size_t dl = strlen(det);
		uint8_t *raw = emalloc(dl / 4 * 3 + 3);
		long n = grpc_b64_decode(det, dl, raw, dl / 4 * 3 + 3);
		int dcode;
		char dmsg[sizeof out->message];

		if (n >= 0 && grpc_parse_status_details(raw, (size_t)n, &dcode, dmsg, sizeof dmsg,
		                                        &out->rl) == 0) {
			if (out->message[0] == '\0')
				snprintf(out->message, sizeof out->message, "%s", dmsg);
		} else {
			memset(&out->rl, 0, sizeof out->rl);
		}
		free(raw);
	}
	if (out->code != 0)
		return;
	if (grpc_unframe(body, len, &out->msg, &out->msglen, why, sizeof why) < 0) {
		out->code = GRPC_NO_STATUS;
		snprintf(out->message, sizeof out->message, "malformed response: %s", why);
	}
}
