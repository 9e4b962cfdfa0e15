/* http.h: the HTTP client every program shares, on libcurl's multi interface.
 *
 * One client holds one curl multi handle: connections are reused, up to
 * max_inflight transfers run at once (HTTP/2 streams are multiplexed on one
 * connection), and each request is retried by its classify hook with
 * exponential backoff and jitter. TLS is always verified; plaintext http://
 * is allowed only to a loopback host (127.0.0.0/8, ::1, localhost).
 *
 * Life of a request: http_request_new → add headers/body → http_submit
 * (the client owns it from then on) → prepare() before every attempt (for
 * signing) → classify() after every attempt decides DONE or RETRY → done()
 * exactly once with the final attempt's result → the client frees it.
 * done() may submit further requests (the next page); http_run returns when
 * nothing is queued, in flight or waiting for a retry. Waiting requests start
 * in the order submitted (a retry: when its delay has passed), those with
 * priority set before all others. */
#ifndef ONCALL_HTTP_H
#define ONCALL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <signal.h>

#include "util.h"

struct http_client;

struct http_client_opts {
	int max_inflight;          /* concurrent transfers; default 8 */
	long connect_timeout_ms;   /* default 10000 */
	long timeout_ms;           /* whole attempt; default 30000 */
	int max_retries;           /* retries after the first attempt; 0: default 5; <0: none */
	long backoff_base_ms;      /* first backoff; default 500 */
	long backoff_max_ms;       /* cap; default 30000 */
	int http2;                 /* 1: HTTP/2 (ALPN over TLS, prior knowledge for http://) */
	int http2_required;        /* gRPC: a TLS server that does not choose h2 by ALPN
	                              fails the attempt unsent, CURLE_ABORTED_BY_CALLBACK */
	const char *user_agent;    /* default "oncall-sync/VERSION" */
};

struct http_header {
	char *name;   /* lower-case */
	char *value;  /* surrounding white space trimmed */
};

enum http_verdict {
	HTTP_DONE,   /* final: call done() */
	HTTP_RETRY   /* try again after *delay_ms (classify sets it) */
};

struct http_request {
	/* Set by the caller (through the functions below). */
	char *method;                   /* "GET", "POST" */
	char *url;
	struct curl_slist *headers;     /* request headers, owned */
	struct curl_slist *attempt_headers; /* rebuilt by prepare() each attempt, owned */
	unsigned char *body;
	size_t body_len;
	int (*prepare)(struct http_request *req);  /* before each attempt; non-zero: give up (done() sees status 0, error set) */
	enum http_verdict (*classify)(struct http_request *req, long *delay_ms); /* NULL: http_classify_rest */
	void (*done)(struct http_request *req);
	void *user;
	int priority;                   /* 1: starts before every waiting request without it
	                                 * (a next page whose cursor came, a read that writes
	                                 * run beside); each lane first-in first-out */

	/* Results of the last attempt. */
	long status;                    /* HTTP status; 0 when no response */
	struct buf resp;                /* response body */
	struct http_header *hdrs;       /* response headers, then trailers */
	size_t nhdrs;
	CURLcode curl_code;             /* CURLE_OK or the transfer error */
	long proxy_status;              /* a proxy's answer to CONNECT when it refused
	                                   the tunnel (403, 407, 502...), else 0;
	                                   curl_code is then CURLE_COULDNT_CONNECT */
	char error[CURL_ERROR_SIZE + 64]; /* a readable message when the attempt failed */
	int attempts;                   /* attempts made so far */
	int stopped;                    /* finished unsent by a stop (http_client_stop_on) */

	/* Private to http.c. */
	struct http_client *client;
	CURL *easy;
	int64_t not_before_ms;
	unsigned long long seq;
	struct http_request *next;
};

struct http_client *http_client_new(const struct http_client_opts *opts);
void http_client_free(struct http_client *c);

/* 0 when the URL may be used: https:// to any host, http:// to loopback only.
 * Otherwise -1 and a message naming the URL's host in err. */
int http_url_check(const char *url, char *err, size_t errlen);

struct http_request *http_request_new(const char *method, const char *url);
void http_request_free(struct http_request *req);
void http_request_header(struct http_request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void http_request_body(struct http_request *req, const void *p, size_t n);

/* Hand the request to the client. It runs during http_run. */
void http_submit(struct http_client *c, struct http_request *req);

/* Stop on *flag (set by a signal handler, say): once it is set, each
 * request waiting to start (queued, held by a pause or pacing, or waiting
 * out a retry's delay) for which drop(req) says so is finished at once,
 * unsent: done() sees req->stopped set, status 0 and the error "not sent:
 * stopped". Requests on the wire run to their end, and so do those drop()
 * keeps. The loop looks at *flag at least every second while it waits. */
void http_client_stop_on(struct http_client *c, volatile sig_atomic_t *flag,
                         int (*drop)(const struct http_request *req));

/* Run until every submitted request (and every request submitted from a
 * done() callback) is done. Returns 0. */
int http_run(struct http_client *c);

/* The first header (or trailer) named name (case-insensitive), or NULL. */
const char *http_header_get(const struct http_request *req, const char *name);

/* The retry policy for REST APIs (incident.io): retry network errors, 429 and
 * 5xx up to max_retries; wait Retry-After (seconds or HTTP date) when given,
 * else exponential backoff with jitter; never retry other 4xx. It also paces
 * the client by X-RateLimit-Remaining/X-RateLimit-Reset. */
enum http_verdict http_classify_rest(struct http_request *req, long *delay_ms);

/* Whether a transfer error (curl_code != CURLE_OK) is worth retrying:
 * network trouble yes; a bad URL, a failed TLS verification or a response
 * over the size limit no. For classify hooks. */
int http_transport_retryable(CURLcode code);

/* Whether a failed attempt (curl_code != CURLE_OK) may have reached the
 * server: 1 unless it failed before a request went out (no connection, a
 * TLS handshake that failed, a bad URL). A write retried after such a
 * failure may have been applied: the caller must not trust the retry's
 * answer blindly (e.g. ALREADY_EXISTS for its own create). */
int http_transport_maybe_sent(CURLcode code);

/* Whether the proxy refused the tunnel with a 4xx (403: the host is
 * blocked, 407: credentials missing or refused): it answers the same every
 * time, so classify hooks do not retry it. */
int http_proxy_refused(const struct http_request *req);

/* Backoff for the n-th retry (n >= 1) of this client: base * 2^(n-1), capped,
 * with ±20% jitter. */
long http_backoff_ms(const struct http_client *c, int n);

/* Uniform in [0, 1) from the client's own generator (the one behind the
 * backoff jitter), for callers' jitter of their own. */
double http_client_random(struct http_client *c);

/* Hold every new attempt until the given wall-clock time (Unix ms): rate limits. */
void http_client_pause_until(struct http_client *c, int64_t unix_ms);

/* Counters for benchmarks and tests, and the rate-limit state the last
 * answers left (what the client will hold new attempts by). */
struct http_stats {
	long requests;   /* attempts started */
	long retries;
	int64_t paused_until_ms; /* wall clock, Unix ms; 0: never paused */
	long min_gap_ms;         /* pacing between starts; 0: none */
	long queue_steps; /* waiting requests the loop took up (started, or moved when due):
	                   * at most two per attempt, however many wait */
};
void http_client_stats(const struct http_client *c, struct http_stats *out);

/* Used by classify hooks: the client's options. */
const struct http_client_opts *http_client_options(const struct http_client *c);

#endif
