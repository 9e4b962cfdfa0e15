/* fuzz_grpc: gRPC framing, grpc-message percent-decoding, base64 of
 * grpc-status-details-bin, google.rpc.Status and RateLimitMetadata parsing,
 * and the whole-response interpretation, over arbitrary bytes.
 *
 * The input is also split at NUL bytes into grpc-status, grpc-message,
 * grpc-status-details-bin and the body, as a hostile server could send them.
 *
 * Messages end up in NDJSON records (the "error" of a change): every message
 * given back, written by the NDJSON writer, must be read back by the next
 * stage's reader (valid UTF-8 among other things).
 * fuzz-sources: lib/grpc.c lib/pb.c lib/ndjson.c lib/record.c lib/util.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "record.h"
#include "pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer passes NULL for the empty input; the client never does (a
 * message's bytes point into the response), so give the decoders an empty
 * buffer. NULL reaching pb_reader_init is covered by a regression input. */
static const uint8_t fuzz_empty[1];

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64, unpadded when pad is 0. */
static char *
b64_encode(const uint8_t *p, size_t n, int pad)
{
	char *out = malloc(n / 3 * 4 + 8), *o = out;
	size_t i;

	if (!out)
		abort();
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		*o++ = b64chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[v >> 12 & 63];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* A message as the "error" of a change record: written by the NDJSON writer,
 * it must be read back by the reader. */
static void
message_roundtrip(const char *m)
{
	cJSON *rec = cJSON_CreateObject(), *back = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len), *in;
	struct record_writer w;
	struct record_reader r;

	if (!rec || !out || !cJSON_AddStringToObject(rec, "type", "change") ||
	    !cJSON_AddStringToObject(rec, "action", "add") ||
	    !cJSON_AddStringToObject(rec, "status", "failed") ||
	    !cJSON_AddStringToObject(rec, "error", m))
		abort();
	record_writer_init(&w, out);
	if (record_write(&w, rec) || record_write_end(&w, "reconcile-groups", NULL, 0))
		abort();
	fclose(out);
	if (!(in = fmemopen(text, len, "r")))
		abort();
	record_reader_init(&r, in, "<written>", 0);
	if (record_read(&r, &back, NULL) != RECORD_READ)
		abort(); /* a change record the next reader would refuse */
	cJSON_Delete(back);
	if (record_read(&r, &back, NULL) != RECORD_END)
		abort();
	record_reader_clear(&r);
	fclose(in);
	free(text);
	cJSON_Delete(rec);
}

static void
check_message(const char *m, size_t cap)
{
	if (!memchr(m, '\0', cap))
		abort(); /* not NUL-terminated inside its array */
}

static void
check_rl(const struct grpc_rate_limit *rl)
{
	if (!memchr(rl->bucket, '\0', sizeof rl->bucket))
		abort();
	if (rl->reset_at_ms < 0)
		abort();
	if (rl->present && !pb_utf8_valid((const uint8_t *)rl->bucket, strlen(rl->bucket)))
		abort(); /* a valid bucket name cut in the middle of a character */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data0, size_t size)
{
	const uint8_t *data = data0 ? data0 : fuzz_empty;
	char *s = malloc(size + 1), *enc;
	const uint8_t *msg;
	size_t msglen;
	char err[256], small[7], message[512];
	uint8_t *raw;
	long n;
	int code;
	struct grpc_rate_limit rl;
	struct grpc_result res;

	if (!s)
		return 0;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';

	/* Framing. */
	if (grpc_unframe(data, size, &msg, &msglen, err, sizeof err) == 0) {
		if (msg != data + 5 || msglen != size - 5)
			abort();
	} else {
		check_message(err, sizeof err);
	}
	{
		struct buf fr = { 0 };
		grpc_frame(&fr, data, size);
		if (grpc_unframe(fr.data, fr.len, &msg, &msglen, err, sizeof err) != 0 ||
		    msglen != size || (size && memcmp(msg, data, size) != 0))
			abort();
		buf_clear(&fr);
	}

	/* Percent-decoding into a large and a tiny buffer. */
	grpc_percent_decode(s, message, sizeof message);
	check_message(message, sizeof message);
	if (strlen(message) > strlen(s))
		abort();
	grpc_percent_decode(s, small, sizeof small);
	check_message(small, sizeof small);
	grpc_percent_decode(s, small, 1);
	if (small[0] != '\0')
		abort();

	/* Base64: decoding arbitrary text stays in bounds; encoding the input
	 * (padded and not) decodes back to it. */
	raw = malloc(size + 1);
	if (!raw)
		abort();
	n = grpc_b64_decode(s, size, raw, size + 1);
	if (n > (long)(size / 4 * 3 + 2))
		abort();
	(void)grpc_b64_decode(s, size, raw, 2);
	for (int pad = 0; pad <= 1; pad++) {
		enc = b64_encode(data, size, pad);
		n = grpc_b64_decode(enc, strlen(enc), raw, size + 1);
		if (n != (long)size || (size && memcmp(raw, data, size) != 0))
			abort();
		if (size > 0 && grpc_b64_decode(enc, strlen(enc), raw, size - 1) != -1)
			abort(); /* too small an output buffer must be refused */
		free(enc);
	}
	free(raw);

	/* Status details and rate limits straight from the bytes. */
	if (grpc_parse_status_details(data, size, &code, message, sizeof message, &rl) == 0) {
		check_message(message, sizeof message);
		check_rl(&rl);
		message_roundtrip(message); /* a valid message cut in the middle of a character */
	}
	if (grpc_parse_status_details(data, size, &code, small, sizeof small, &rl) == 0)
		message_roundtrip(small);
	check_message(small, sizeof small);
	if (grpc_parse_rate_limit(data, size, &rl) == 0)
		check_rl(&rl);

	/* A whole response: "status\0message\0details\0body", HTTP status from
	 * the first byte. */
	{
		struct http_header hdrs[4];
		const char *parts[3] = { NULL, NULL, NULL };
		size_t nh = 0, off = 0;
		long http = size ? (data[0] & 1 ? 200 : 400 + data[0] % 200) : 200;
		const char *names[3] = { "grpc-status", "grpc-message", "grpc-status-details-bin" };

		for (int k = 0; k < 3 && off < size; k++) {
			parts[k] = s + off;
			off += strlen(s + off) + 1;
		}
		for (int k = 0; k < 3; k++)
			if (parts[k] && !(k == 0 && parts[0][0] == '-')) {
				hdrs[nh].name = (char *)names[k];
				hdrs[nh].value = (char *)parts[k];
				nh++;
			}
		grpc_parse_response(http, hdrs, nh, off < size ? data + off : NULL,
		                    off < size ? size - off : 0, CURLE_OK, NULL, &res);
		check_message(res.message, sizeof res.message);
		message_roundtrip(res.message);
		check_rl(&res.rl);
		if (res.code == 0 && res.msg &&
		    (res.msg < data || res.msg + res.msglen > data + size))
			abort();
		if (res.code == 0 && !res.msg && res.msglen)
			abort();
		grpc_parse_response(0, hdrs, nh, data, size, CURLE_COULDNT_CONNECT, "", &res);
		if (!res.transport)
			abort();
	}
	free(s);
	return 0;
}
