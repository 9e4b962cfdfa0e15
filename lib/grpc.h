/* grpc.h: gRPC over HTTP/2 framing and status parsing, for unary calls.
 *
 * A request body is one frame: a flag byte (0: not compressed), a 4-byte
 * big-endian length, the message. A response's outcome is grpc-status,
 * grpc-message (percent-encoded) and grpc-status-details-bin (base64 of a
 * google.rpc.Status) in the trailers, or in the headers of a
 * "trailers-only" response that has no body. */
#ifndef ONCALL_GRPC_H
#define ONCALL_GRPC_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "util.h"
#include "http.h"

#define GRPC_NO_STATUS (-1)   /* no usable gRPC status: transport or framing error */

/* StrongDM's RateLimitMetadata (v1), in Unix milliseconds. */
struct grpc_rate_limit {
	int present;
	int64_t limit, remaining;
	int64_t reset_at_ms;   /* 0 if absent */
	char bucket[64];
};

struct grpc_result {
	int code;                  /* gRPC status, or GRPC_NO_STATUS */
	char message[512];         /* grpc-message (decoded), else Status.message, else why */
	int transport;             /* 1: the attempt failed before a gRPC answer (retryable) */
	struct grpc_rate_limit rl; /* from the status details (errors) */
	const uint8_t *msg;        /* code 0: the response message (points into the body) */
	size_t msglen;
};

/* Append one uncompressed frame holding msg to out. */
void grpc_frame(struct buf *out, const void *msg, size_t n);

/* The message inside a body of exactly one uncompressed frame; -1 with a
 * reason in err when the body is short, longer than the frame says, or
 * compressed. */
int grpc_unframe(const void *body, size_t len, const uint8_t **msg, size_t *msglen,
                 char *err, size_t errlen);

/* The request headers a unary StrongDM call sends, apart from the
 * signature (which changes on every attempt): content-type application/grpc,
 * te: trailers, x-sdm-authentication, x-sdm-api-version, x-sdm-user-agent.
 * Appended to list, which is returned. */
struct curl_slist *grpc_sdm_headers(struct curl_slist *list, const char *access_key,
                                    const char *api_version, const char *user_agent);

/* Percent-decode a grpc-message value into out (always NUL-terminated);
 * malformed escapes are kept as they are. */
void grpc_percent_decode(const char *in, char *out, size_t outlen);

/* Decode standard base64, padded or not (grpc "-bin" headers are unpadded).
 * Returns the number of bytes written, or -1 for a malformed input or when
 * out is too small. */
long grpc_b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap);

/* Parse google.rpc.Status bytes: code, message, and a v1.RateLimitMetadata
 * from details. -1 on a malformed message. */
int grpc_parse_status_details(const uint8_t *p, size_t n, int *code, char *message,
                              size_t msglen, struct grpc_rate_limit *rl);

/* Decode a RateLimitMetadata message. -1 if malformed. */
int grpc_parse_rate_limit(const uint8_t *p, size_t n, struct grpc_rate_limit *rl);

/* Interpret one attempt: HTTP status, response headers+trailers, body,
 * curl's result. Fills out; never fails. */
void grpc_parse_response(long http_status, const struct http_header *hdrs, size_t nhdrs,
                         const void *body, size_t len, CURLcode curl_code,
                         const char *curl_error, struct grpc_result *out);

/* "RESOURCE_EXHAUSTED" etc.; "UNKNOWN(n)" style names are not kept: codes
 * outside 0..16 give "UNKNOWN". */
const char *grpc_status_name(int code);

#endif
