/* http.c: the shared HTTP client on libcurl's multi interface.
 *
 * One loop (http_run) starts waiting requests while fewer than max_inflight
 * transfers run, drives curl with curl_multi_poll, and hands every finished
 * attempt to the request's classify hook. A request waits in one of two
 * first-in first-out lanes, priority before normal; a retry waits in a heap
 * by its not-before time and joins its lane when due. The poll timeout is
 * cut to the heap's first time, so the loop wakes up for timers as well as
 * for sockets. A wake-up costs what it starts (and the timers that fall due),
 * never a walk over everything waiting. Plaintext HTTP/2
 * (h2c, loopback test servers only) works around a libcurl 7.88 bug: see
 * h2c_version(). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "http.h"
#include "timeutil.h"

#ifndef ONCALL_VERSION
#define ONCALL_VERSION "dev"
#endif

#define RESP_MAX (256L * 1024 * 1024) /* a bigger response is an error, not an OOM */
#define RETRY_AFTER_MAX_MS 60000L
#define RATE_PAUSE_MAX_MS 65000L
#define POLL_MAX_MS 1000

struct http_client {
	CURLM *multi;
	struct http_client_opts opts;
	char *user_agent;
	struct lane {                 /* due, waiting for a slot: FIFO */
		struct http_request *head, *tail;
	} lanes[2];                   /* [1]: priority, before [0] */
	struct http_request **timers; /* retries not yet due: a min-heap by (not_before_ms, seq) */
	size_t ntimers, timers_cap;
	unsigned long long seq;       /* order of entry into the heap, for ties */
	int inflight;
	int64_t pause_until;          /* wall clock, Unix ms */
	long min_gap_ms;              /* pacing: least time between two starts */
	long long last_start_ms;      /* monotonic, of the last attempt started */
	uint64_t rng;
	struct http_stats stats;
	/* libcurl < 8.0 and h2c: see h2c_version() */
	int h2c_workaround;
	int h2c_live;                 /* an h2c connection is believed open */
	int h2c_opening;              /* prior-knowledge attempts in flight */
	int h2c_force_open;           /* the next attempt opens (a replay) */
	int h2c_replays;              /* since the last h2c success; bounded */
	char *cainfo, *capath;        /* trust from the environment, see ca_from_env */
	int one_connection;           /* gRPC over TLS: see start_attempt */
	int unsent_replays;           /* since the last success; bounded */
	volatile sig_atomic_t *stop;  /* see http_client_stop_on */
	int (*stop_drop)(const struct http_request *req);
};

/* What one attempt needs beside the request; CURLOPT_PRIVATE points here. */
struct attempt {
	struct http_request *req;
	struct curl_slist *sent_headers;
	char errbuf[CURL_ERROR_SIZE];
	int too_big;
	int h2c;                      /* H2C_OPEN or H2C_REUSE under the workaround */
	int https_h2;                 /* HTTP/2 required over TLS: ALPN must say h2 */
	int prereq;                   /* curl was about to send the request */
	int no_h2;                    /* refused: the TLS server did not choose h2 */
	long head_status;             /* the last response head's status (a proxy's
	                                 answer to CONNECT among them) */
	char head_reason[64];         /* and its reason phrase, printable ASCII */
};

enum { H2C_NONE, H2C_OPEN, H2C_REUSE };

/* splitmix64: a small PRNG per client, so jitter does not touch rand(). */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Which CAs to trust, as curl's command line tool reads it: CURL_CA_BUNDLE
 * (a file), else SSL_CERT_FILE and SSL_CERT_DIR (OpenSSL's names for its
 * default file and directory, which libcurl itself ignores). Unset or
 * empty: libcurl's defaults (the system store). A setting that cannot be
 * read is a configuration error now rather than a TLS error per request. */
static void
ca_from_env(struct http_client *c)
{
	const char *bundle = getenv("CURL_CA_BUNDLE");
	const char *file = getenv("SSL_CERT_FILE");
	const char *dir = getenv("SSL_CERT_DIR");

	if (bundle && *bundle) {
		file = bundle;
		dir = NULL;
	}
	if (file && *file) {
		if (access(file, R_OK) != 0)
			die(EXIT_USAGE, "%s=%s: cannot read the CA certificates:",
			    bundle && *bundle ? "CURL_CA_BUNDLE" : "SSL_CERT_FILE", file);
		c->cainfo = estrdup(file);
	}
	if (dir && *dir) {
		if (access(dir, R_OK | X_OK) != 0)
			die(EXIT_USAGE, "SSL_CERT_DIR=%s: cannot read the CA certificate directory:", dir);
		c->capath = estrdup(dir);
	}
}

struct http_client *
http_client_new(const struct http_client_opts *opts)
{
	struct http_client *c = ecalloc(1, sizeof *c);
	struct timespec ts;
	CURLcode rc;

	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		die(EXIT_FAILED, "libcurl: %s", curl_easy_strerror(rc));
	if (opts)
		c->opts = *opts;
	if (c->opts.max_inflight <= 0)
		c->opts.max_inflight = 8;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = 10000;
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = 30000;
	/* 0 means the default like every other field; negative: no retries */
	if (c->opts.max_retries < 0)
		c->opts.max_retries = 0;
	else if (c->opts.max_retries == 0)
		c->opts.max_retries = 5;
	if (c->opts.backoff_base_ms <= 0)
		c->opts.backoff_base_ms = 500;
	if (c->opts.backoff_max_ms <= 0)
		c->opts.backoff_max_ms = 30000;
	c->user_agent = estrdup(c->opts.user_agent ? c->opts.user_agent : "oncall-sync/" ONCALL_VERSION);
	c->opts.user_agent = c->user_agent;

	clock_gettime(CLOCK_REALTIME, &ts);
	c->rng = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
	         (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)c;

	ca_from_env(c);
	c->h2c_workaround = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
	if (!(c->multi = curl_multi_init()))
		die(EXIT_FAILED, "libcurl: cannot create a multi handle");
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->opts.max_inflight);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->opts.max_inflight);
	return c;
}

void
http_client_free(struct http_client *c)
{
	struct http_request *r, *next;

	if (!c)
		return;
	/* Requests never run (http_run not called, or abandoned). */
	for (int l = 0; l < 2; l++)
		for (r = c->lanes[l].head; r; r = next) {
			next = r->next;
			http_request_free(r);
		}
	for (size_t i = 0; i < c->ntimers; i++)
		http_request_free(c->timers[i]);
	free(c->timers);
	curl_multi_cleanup(c->multi);
	free(c->user_agent);
	free(c->cainfo);
	free(c->capath);
	free(c);
	curl_global_cleanup();
}

const struct http_client_opts *
http_client_options(const struct http_client *c)
{
	return &c->opts;
}

void
http_client_stats(const struct http_client *c, struct http_stats *out)
{
	*out = c->stats;
	out->paused_until_ms = c->pause_until;
	out->min_gap_ms = c->min_gap_ms;
}

void
http_client_pause_until(struct http_client *c, int64_t unix_ms)
{
	if (unix_ms > c->pause_until)
		c->pause_until = unix_ms;
}

double
http_client_random(struct http_client *c)
{
	return (double)(rng_next(&c->rng) >> 11) / 9007199254740992.0;
}

long
http_backoff_ms(const struct http_client *c, int n)
{
	/* The PRNG state is the only thing that changes: the client itself is
	 * never a const object (always from http_client_new). */
	struct http_client *mc = (struct http_client *)c;
	double ms = (double)c->opts.backoff_base_ms;
	double jitter;

	for (int i = 1; i < n && ms < (double)c->opts.backoff_max_ms; i++)
		ms *= 2;
	if (ms > (double)c->opts.backoff_max_ms)
		ms = (double)c->opts.backoff_max_ms;
	/* uniform in [-0.2, +0.2] */
	jitter = http_client_random(mc) * 0.4 - 0.2;
	ms += ms * jitter;
	return ms < 0 ? 0 : (long)ms;
}

/* ---- URLs ---- */

/* A plaintext host must be loopback as written: localhost, 127.0.0.0/8 in
 * plain dotted decimal (not 127.1, 0177.0.0.1 or 0x7f.1: curl reads those
 * as IPv4, other parsers may not), or ::1. */
static int
is_loopback(const char *host, size_t n)
{
	char text[64];
	struct in6_addr a6;
	struct in_addr a4;

	if (n == 0 || n >= sizeof text)
		return 0;
	if (host[0] == '[') {
		if (n < 2 || host[n - 1] != ']')
			return 0;
		memcpy(text, host + 1, n - 2);
		text[n - 2] = '\0';
		return inet_pton(AF_INET6, text, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	memcpy(text, host, n);
	text[n] = '\0';
	if (strcasecmp(text, "localhost") == 0 || strcasecmp(text, "localhost.") == 0)
		return 1;
	return inet_pton(AF_INET, text, &a4) == 1 && ntohl(a4.s_addr) >> 24 == 127;
}

static const char *
url_error(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_BAD_IPV6: return "malformed IPv6 address in URL";
	case CURLUE_BAD_PORT_NUMBER: return "URL has an invalid port";
	case CURLUE_NO_HOST: return "URL has no host";
	case CURLUE_BAD_SCHEME:
	case CURLUE_BAD_SLASHES: return "only https:// URLs (and http:// to a loopback host) are allowed";
	default: return curl_url_strerror(rc);
	}
}

int
http_url_check(const char *url, char *err, size_t errlen)
{
	CURLU *u;
	CURLUcode rc;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
	const char *auth, *p;
	size_t alen, hlen;
	int ret = -1;

	if (!url) {
		snprintf(err, errlen, "no URL");
		return -1;
	}
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			snprintf(err, errlen, "URL contains white space or a control character");
			return -1;
		}
	if (!(u = curl_url()))
		die(EXIT_FAILED, "out of memory");
	/* any scheme parses, so that a wrong one gets the message below */
	if ((rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME))) {
		snprintf(err, errlen, "%s", url_error(rc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "https") && strcmp(scheme, "http")) ||
	    strncmp(url + strlen(scheme), "://", 3)) {
		snprintf(err, errlen, "%s", url_error(CURLUE_BAD_SCHEME));
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_USER, &user, 0) ||
	    !curl_url_get(u, CURLUPART_PASSWORD, &pass, 0)) {
		/* Never echo the URL: userinfo may be a password. */
		snprintf(err, errlen, "URLs with a user name or password are refused (put credentials in the key settings)");
		goto out;
	}
	/* curl forgives what is refused here: no host (https:///path), an
	 * empty port, port 0 */
	auth = url + strlen(scheme) + 3;
	alen = hlen = strcspn(auth, "/?#");
	if (alen == 0 || curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
		snprintf(err, errlen, "URL has no host");
		goto out;
	}
	if (auth[alen - 1] == ':') {
		snprintf(err, errlen, "URL has an empty port");
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_PORT, &port, 0)) {
		if (strtol(port, NULL, 10) == 0) {
			snprintf(err, errlen, "URL has an invalid port");
			goto out;
		}
		while (hlen > 0 && auth[hlen - 1] != ':')
			hlen--;
		hlen--;
	}
	if (strcmp(scheme, "http") == 0 && !is_loopback(auth, hlen)) {
		snprintf(err, errlen, "plaintext http:// is allowed only to a loopback host, not %.*s; use https://",
		         (int)(hlen > 200 ? 200 : hlen), auth);
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return ret;
}

/* ---- requests ---- */

struct http_request *
http_request_new(const char *method, const char *url)
{
	struct http_request *req = ecalloc(1, sizeof *req);

	req->method = estrdup(method);
	req->url = estrdup(url);
	return req;
}

static void
free_headers(struct http_request *req)
{
	for (size_t i = 0; i < req->nhdrs; i++) {
		free(req->hdrs[i].name);
		free(req->hdrs[i].value);
	}
	free(req->hdrs);
	req->hdrs = NULL;
	req->nhdrs = 0;
}

/* Header lists carry keys (Authorization, x-sdm-authentication): each
 * line is wiped before libcurl frees it. */
static void
headers_free(struct curl_slist *l)
{
	for (struct curl_slist *h = l; h; h = h->next)
		secret_wipe(h->data, strlen(h->data));
	curl_slist_free_all(l);
}

void
http_request_free(struct http_request *req)
{
	if (!req)
		return;
	free(req->method);
	free(req->url);
	headers_free(req->headers);
	headers_free(req->attempt_headers);
	free(req->body);
	buf_clear(&req->resp);
	free_headers(req);
	free(req);
}

void
http_request_header(struct http_request *req, const char *fmt, ...)
{
	va_list ap;
	struct buf b = { 0 };
	struct curl_slist *l;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(EXIT_FAILED, "formatting failed");
	b.data = emalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (!(l = curl_slist_append(req->headers, b.data)))
		die(EXIT_FAILED, "out of memory");
	req->headers = l;
	/* the header may carry a key: do not leave it in freed memory */
	secret_free(b.data);
}

void
http_request_body(struct http_request *req, const void *p, size_t n)
{
	free(req->body);
	req->body = emalloc(n ? n : 1);
	if (n)
		memcpy(req->body, p, n);
	req->body_len = n;
}

const char *
http_header_get(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nhdrs; i++)
		if (!strcasecmp(req->hdrs[i].name, name))
			return req->hdrs[i].value;
	return NULL;
}

/* ---- curl callbacks ---- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct attempt *a = userdata;
	size_t n = size * nmemb;

	if (a->req->resp.len + n > (size_t)RESP_MAX) {
		a->too_big = 1;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	buf_append(&a->req->resp, ptr, n);
	return n;
}

/* "HTTP/1.1 403 Forbidden": the status and reason phrase (printable ASCII,
 * cut short), for naming a proxy's refusal. */
static void
keep_status_line(struct attempt *a, const char *p, size_t n)
{
	size_t i = 0, k = 0;

	a->head_status = 0;
	a->head_reason[0] = '\0';
	while (i < n && p[i] != ' ')
		i++;
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9' && a->head_status < 1000; i++)
		a->head_status = a->head_status * 10 + (p[i] - '0');
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] != '\r' && p[i] != '\n' && k + 1 < sizeof a->head_reason; i++)
		a->head_reason[k++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	a->head_reason[k] = '\0';
}

/* Headers, and for HTTP/2 also trailers after the body, one line a call. */
static size_t
on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
	struct attempt *a = userdata;
	struct http_request *req = a->req;
	size_t n = size * nitems, nl, vs, ve;
	const char *colon;

	if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
		/* A new response head (after 1xx, or a proxy's answer to
		 * CONNECT): forget the interim one, keep its status line. */
		keep_status_line(a, ptr, n);
		free_headers(req);
		return n;
	}
	colon = memchr(ptr, ':', n);
	if (!colon || colon == ptr)
		return n; /* the blank line ending the head, or junk */
	nl = (size_t)(colon - ptr);
	vs = nl + 1;
	ve = n;
	while (vs < ve && (ptr[vs] == ' ' || ptr[vs] == '\t'))
		vs++;
	while (ve > vs && (ptr[ve - 1] == '\r' || ptr[ve - 1] == '\n' ||
	                   ptr[ve - 1] == ' ' || ptr[ve - 1] == '\t'))
		ve--;
	req->hdrs = erealloc(req->hdrs, (req->nhdrs + 1) * sizeof *req->hdrs);
	req->hdrs[req->nhdrs].name = estrndup(ptr, nl);
	for (char *q = req->hdrs[req->nhdrs].name; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	req->hdrs[req->nhdrs].value = estrndup(ptr + vs, ve - vs);
	req->nhdrs++;
	return n;
}

/* Called once a connection is ready (made or reused), just before the
 * request goes out: until then nothing of it has left the client. gRPC
 * needs HTTP/2; a TLS server that did not choose h2 by ALPN (a TLS-inspecting
 * proxy that speaks only HTTP/1.1) would get the call as HTTP/1.1, so it is
 * stopped here, unsent. */
static int
on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip,
          int conn_primary_port, int conn_local_port)
{
	struct attempt *a = userdata;
	const struct curl_tlssessioninfo *tls = NULL;
	const unsigned char *proto = NULL;
	unsigned int len = 0;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	if (a->https_h2 &&
	    curl_easy_getinfo(a->req->easy, CURLINFO_TLS_SSL_PTR, &tls) == CURLE_OK && tls &&
	    tls->backend == CURLSSLBACKEND_OPENSSL && tls->internals) {
		SSL_get0_alpn_selected(tls->internals, &proto, &len);
		if (len != 2 || memcmp(proto, "h2", 2) != 0) {
			a->no_h2 = 1;
			return CURL_PREREQFUNC_ABORT;
		}
	}
	a->prereq = 1;
	return CURL_PREREQFUNC_OK;
}

/* What an admin does about a certificate that failed verification. */
static const char *
tls_hint(CURLcode result, const char *why)
{
	if (result != CURLE_PEER_FAILED_VERIFICATION)
		return "";
	if (strstr(why, "subject name") || strstr(why, "host name"))
		return " (the certificate is for another host)";
	return " (its issuer is not trusted: a private CA or a TLS-inspecting proxy? "
	       "trust its CA with SSL_CERT_FILE)";
}

/* The proxy curl takes from the environment for https, as scheme://host:port
 * (never its credentials nor path), and the variable it came from. */
static void
proxy_from_env(char *out, size_t n, const char **var)
{
	static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
	const char *v = NULL, *auth, *end, *at;
	size_t i, len, scheme;

	*var = "HTTPS_PROXY";
	for (i = 0; i < sizeof vars / sizeof *vars && !v; i++)
		if ((v = getenv(vars[i])) && *v)
			*var = vars[i];
		else
			v = NULL;
	if (!v) {
		snprintf(out, n, "(none in the environment)");
		return;
	}
	auth = strstr(v, "://");
	scheme = auth && auth - v <= 16 ? (size_t)(auth - v) + 3 : 0;
	auth = v + scheme;
	end = auth + strcspn(auth, "/?#");
	/* user:password@ goes */
	for (at = auth; (at = memchr(at, '@', (size_t)(end - at))) != NULL; auth = ++at)
		;
	len = (size_t)(end - auth);
	snprintf(out, n, "%.*s%.*s", (int)scheme, v, (int)(len > 120 ? 120 : len), auth);
	for (char *q = out; *q; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
			*q = '?';
}

/* The host and port of a URL, for messages (our URLs carry no credentials). */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	snprintf(out, n, "%.*s", (int)strcspn(h, "/?#"), h);
}

/* A proxy refused the tunnel (its answer to CONNECT, status >= 300): name
 * it in the request's error. Nothing reached the server. */
static void
proxy_refusal(struct http_request *req, const struct attempt *a, long code)
{
	char proxy[160], host[160];
	const char *var, *reason;

	proxy_from_env(proxy, sizeof proxy, &var);
	url_host(req->url, host, sizeof host);
	reason = a->head_status == code && a->head_reason[0] ? a->head_reason :
	         code == 403 ? "Forbidden" : code == 407 ? "Proxy Authentication Required" : "";
	if (code == 407) {
		if (snprintf(req->error, sizeof req->error, "%s %s: the proxy requires authentication for "
		         "the tunnel to %s: %ld %s (proxy %s from %s: its user and password, "
		         "http://USER:PASSWORD@HOST:PORT, are missing or refused)", req->method,
		         req->url, host, code, reason, proxy, var) < 0)
			req->error[0] = '\0';
	} else if (snprintf(req->error, sizeof req->error, "%s %s: the proxy refused the tunnel to "
	                    "%s: %ld %s (proxy %s from %s; is %s blocked there, or should NO_PROXY "
	                    "name it?)", req->method, req->url, host, code, reason, proxy, var,
	                    host) < 0) {
		req->error[0] = '\0';
	}
}

int
http_proxy_refused(const struct http_request *req)
{
	return req->proxy_status >= 400 && req->proxy_status < 500;
}

/* ---- the loop ---- */

static void
lane_push(struct http_client *c, struct http_request *req)
{
	struct lane *l = &c->lanes[req->priority ? 1 : 0];

	req->next = NULL;
	if (l->tail)
		l->tail->next = req;
	else
		l->head = req;
	l->tail = req;
}

/* The first due request, priority lane first, taken out; NULL: none. */
static struct http_request *
lane_pop(struct http_client *c)
{
	for (int i = 1; i >= 0; i--) {
		struct lane *l = &c->lanes[i];
		struct http_request *r = l->head;

		if (!r)
			continue;
		l->head = r->next;
		if (!l->head)
			l->tail = NULL;
		r->next = NULL;
		return r;
	}
	return NULL;
}

static int
timer_before(const struct http_request *a, const struct http_request *b)
{
	if (a->not_before_ms != b->not_before_ms)
		return a->not_before_ms < b->not_before_ms;
	return a->seq < b->seq;
}

static void
timer_push(struct http_client *c, struct http_request *req)
{
	size_t i = c->ntimers++, up;

	if (c->ntimers > c->timers_cap) {
		c->timers_cap = c->timers_cap ? 2 * c->timers_cap : 16;
		c->timers = erealloc(c->timers, c->timers_cap * sizeof *c->timers);
	}
	req->seq = c->seq++;
	for (; i > 0 && timer_before(req, c->timers[up = (i - 1) / 2]); i = up)
		c->timers[i] = c->timers[up];
	c->timers[i] = req;
}

static struct http_request *
timer_pop(struct http_client *c)
{
	struct http_request *top = c->timers[0], *last = c->timers[--c->ntimers];
	size_t i = 0, n = c->ntimers, kid;

	while ((kid = 2 * i + 1) < n) {
		if (kid + 1 < n && timer_before(c->timers[kid + 1], c->timers[kid]))
			kid++;
		if (!timer_before(c->timers[kid], last))
			break;
		c->timers[i] = c->timers[kid];
		i = kid;
	}
	if (n)
		c->timers[i] = last;
	return top;
}

/* A request waits in its lane when due, else in the heap until it is. */
static void
enqueue(struct http_client *c, struct http_request *req)
{
	if (req->not_before_ms > 0 && req->not_before_ms > now_ms_monotonic())
		timer_push(c, req);
	else
		lane_push(c, req);
}

static int
queued(const struct http_client *c)
{
	return c->lanes[0].head || c->lanes[1].head || c->ntimers;
}

void
http_submit(struct http_client *c, struct http_request *req)
{
	req->client = c;
	req->not_before_ms = 0;
	enqueue(c, req);
}

static void
finish(struct http_client *c, struct http_request *req)
{
	(void)c;
	if (req->done)
		req->done(req);
	http_request_free(req);
}

static void
reset_results(struct http_request *req)
{
	req->status = 0;
	req->resp.len = 0;
	if (req->resp.data)
		req->resp.data[0] = '\0';
	free_headers(req);
	req->curl_code = CURLE_OK;
	req->proxy_status = 0;
	req->stopped = 0;
	req->error[0] = '\0';
}

static void
slist_add(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl_slist_append(*l, s);

	if (!n)
		die(EXIT_FAILED, "out of memory");
	*l = n;
}

/* libcurl before 8.0 fails a prior-knowledge HTTP/2 transfer that reuses
 * a connection ("Error in the HTTP2 framing layer", curl issue 10634). A
 * transfer that asks for plain HTTP/2 (CURL_HTTP_VERSION_2_0) reuses an
 * open HTTP/2 connection correctly, but would open a new one with an
 * HTTP/1.1 Upgrade that a gRPC server does not speak. So: open with prior
 * knowledge while no h2c connection is known (later transfers wait for it
 * by PIPEWAIT), then reuse with 2_0; an Upgrade that fails (the server's
 * answer reads as HTTP/0.9: the request was never served) is replayed with
 * prior knowledge, see end_attempt. Only plaintext loopback uses h2c; TLS
 * negotiates HTTP/2 by ALPN and is not affected. */
static long
h2c_version(struct http_client *c, struct attempt *a)
{
	if (c->h2c_opening || (!c->h2c_force_open && c->h2c_live)) {
		a->h2c = H2C_REUSE;
		return CURL_HTTP_VERSION_2_0;
	}
	a->h2c = H2C_OPEN;
	c->h2c_opening++;
	c->h2c_force_open = 0;
	return CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
}

/* Start one attempt; on a failure before any transfer the request is
 * finished here (done() called). */
static void
start_attempt(struct http_client *c, struct http_request *req)
{
	struct attempt *a;
	struct curl_slist *h;
	CURL *e;
	int https;

	reset_results(req);
	req->attempts++;
	c->stats.requests++;
	char msg[CURL_ERROR_SIZE];
	if (http_url_check(req->url, msg, sizeof msg)) {
		snprintf(req->error, sizeof req->error, "%s: %s", req->method, msg);
		req->curl_code = CURLE_UNSUPPORTED_PROTOCOL;
		finish(c, req);
		return;
	}
	headers_free(req->attempt_headers);
	req->attempt_headers = NULL;
	if (req->prepare && req->prepare(req) != 0) {
		if (!req->error[0])
			snprintf(req->error, sizeof req->error, "%s %s: could not prepare the request",
			         req->method, req->url);
		req->status = 0;
		finish(c, req);
		return;
	}

	a = ecalloc(1, sizeof *a);
	a->req = req;
	for (h = req->headers; h; h = h->next)
		slist_add(&a->sent_headers, h->data);
	for (h = req->attempt_headers; h; h = h->next)
		slist_add(&a->sent_headers, h->data);
	slist_add(&a->sent_headers, "Expect:"); /* no 100-continue round trip */

	if (!(e = curl_easy_init()))
		die(EXIT_FAILED, "libcurl: cannot create a handle");
	req->easy = e;
	https = !strncasecmp(req->url, "https://", 8);
	curl_easy_setopt(e, CURLOPT_PRIVATE, a);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cainfo)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cainfo);
	if (c->capath)
		curl_easy_setopt(e, CURLOPT_CAPATH, c->capath);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms);
	/* A larger receive buffer: with libcurl 7.88 over HTTP/2, responses of
	 * more than about 16 KiB otherwise stall for hundreds of milliseconds. */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->sent_headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
	a->https_h2 = https && c->opts.http2 && c->opts.http2_required;
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, a);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Plaintext goes to loopback only, and straight there: an http_proxy
	 * from the environment would get the request, keys and all, in clear
	 * text (curl does not exempt loopback). Through a proxy, https stays
	 * TLS end to end (CONNECT), so it may use one. */
	if (!https)
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	if (c->opts.http2 && !https && c->h2c_workaround) {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, h2c_version(c, a));
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
		/* prior knowledge on a reused connection is the bug itself */
		if (a->h2c == H2C_OPEN)
			curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	} else if (c->opts.http2) {
		/* gRPC: one connection per host, its streams multiplexed, the
		 * rest waiting in curl for a free stream, as gRPC clients do. When
		 * the server allows fewer streams than we run, libcurl 7.88 would
		 * open more connections, and through a proxy it sends some
		 * requests on a tunnel that is not ready ("send: no filter
		 * connected", CURLE_FAILED_INIT). Not for REST, whose server may
		 * answer in HTTP/1.1 (one request per connection at a time). */
		if (https && c->opts.http2_required && !c->one_connection) {
			curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
			c->one_connection = 1;
		}
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		                 https ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	}
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (char *)req->body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)req->body);
		}
	}
	if (log_enabled(LOG_DEBUG))
		logmsg(LOG_DEBUG, "%s %s (attempt %d)", req->method, req->url, req->attempts);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
		die(EXIT_FAILED, "libcurl: cannot add a transfer");
	c->inflight++;
}

/* An attempt has finished: collect its result, then retry or finish. */
static void
end_attempt(struct http_client *c, CURL *e, CURLcode result)
{
	struct attempt *a;
	struct http_request *req;
	enum http_verdict v;
	long delay = 0, status = 0;
	char *priv = NULL;
	int replay = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	a = (struct attempt *)(void *)priv;
	req = a->req;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(c->multi, e);
	c->inflight--;
	if (a->h2c != H2C_NONE) {
		if (a->h2c == H2C_OPEN)
			c->h2c_opening--;
		c->h2c_live = result == CURLE_OK;
		if (result == CURLE_OK)
			c->h2c_replays = 0;
		/* Replayed unseen only when the server cannot have served the
		 * call: curl tried an Upgrade (the gRPC server's answer reads as
		 * HTTP/0.9), or the stream was refused (REFUSED_STREAM: never
		 * processed, RFC 9113 8.7). A stream reset otherwise, a cut or
		 * failed transfer may have reached the server after the request
		 * went out: that is a retry, classified and counted, and the
		 * caller can tell (http_transport_maybe_sent). */
		replay = a->h2c == H2C_REUSE && status == 0 && req->nhdrs == 0 &&
		         (result == CURLE_UNSUPPORTED_PROTOCOL ||
		          (result == CURLE_HTTP2_STREAM && strstr(a->errbuf, "REFUSED_STREAM"))) &&
		         c->h2c_replays++ < 2 * c->opts.max_inflight;
	}
	if (result == CURLE_OK)
		c->unsent_replays = 0;
	/* curl counts the request's bytes as a connection takes them: none
	 * taken and no answer means the server cannot have seen the request,
	 * so running it again is safe, even for a write. libcurl 7.88 fails
	 * such attempts with CURLE_FAILED_INIT ("send: no filter connected")
	 * when the connection a waiting transfer was promised goes away. */
	if (!replay && result == CURLE_FAILED_INIT && status == 0 && req->nhdrs == 0) {
		long sent = -1;

		curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &sent);
		replay = (!a->prereq || sent == 0) &&
		         c->unsent_replays++ < 2 * c->opts.max_inflight;
		/* Otherwise the connection took some of the request (or too
		 * many went unsent in a row) before it went away: the server
		 * may have seen it. That is a failed send, retried and counted
		 * like any cut connection, and a write the caller settles by
		 * reading (http_transport_maybe_sent), not a setup error. */
		if (!replay) {
			logmsg(LOG_DEBUG, "%s %s: %s (%ld bytes of the request taken%s); a failed send",
			       req->method, req->url, a->errbuf[0] ? a->errbuf : curl_easy_strerror(result),
			       sent, a->prereq ? "" : ", no connection handed over");
			result = CURLE_SEND_ERROR;
		}
	}
	/* A TLS library other than OpenSSL escapes on_prereq's look at ALPN:
	 * the answer's HTTP version tells the same, after the fact. */
	if (result == CURLE_OK && a->https_h2 && !a->no_h2) {
		long version = 0;

		curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
		if (version != CURL_HTTP_VERSION_2_0) {
			a->no_h2 = 1;
			result = CURLE_ABORTED_BY_CALLBACK;
		}
	}
	/* A proxy that refused CONNECT (CURLE_RECV_ERROR or COULDNT_CONNECT
	 * with its status in CONNECTCODE): no connection to the server, the
	 * request unsent. 403 (the host blocked) and 407 (credentials) answer
	 * the same every time: not retried (http_proxy_refused); a 5xx (the
	 * proxy could not reach the host) is retried like a failed connect. */
	if (result != CURLE_OK) {
		long cc = 0;

		if (curl_easy_getinfo(e, CURLINFO_HTTP_CONNECTCODE, &cc) == CURLE_OK && cc >= 300) {
			req->proxy_status = cc;
			result = CURLE_COULDNT_CONNECT;
		}
	}
	req->curl_code = result;
	if (result == CURLE_OK) {
		req->status = status;
	} else if (req->proxy_status) {
		req->status = 0;
		proxy_refusal(req, a, req->proxy_status);
	} else {
		/* A cut or failed transfer has no trustworthy response. */
		req->status = 0;
		const char *why = a->too_big ? "response larger than 256 MiB" :
		                  a->no_h2 ? "the server did not offer HTTP/2 (ALPN): a TLS-inspecting proxy?" :
		                  a->errbuf[0] ? a->errbuf : curl_easy_strerror(result);

		/* cut to fit; the hint is the part an admin can spare least, but
		 * URLs here are short */
		if (snprintf(req->error, sizeof req->error, "%s %s: %s%s", req->method, req->url,
		             why, tls_hint(result, why)) < 0)
			req->error[0] = '\0';
	}
	curl_easy_cleanup(e);
	req->easy = NULL;
	headers_free(a->sent_headers);
	free(a);
	if (replay) {
		/* Not an attempt the server saw: run it again, uncounted, on a new
		 * connection (or the one being opened). */
		logmsg(LOG_DEBUG, "%s %s: %s; sending it again", req->method, req->url,
		       result == CURLE_FAILED_INIT ? "the request never left the client" :
		       "no open HTTP/2 connection to reuse");
		req->attempts--;
		c->stats.requests--;
		c->h2c_force_open = 1;
		start_attempt(c, req);
		c->h2c_force_open = 0; /* in case start_attempt finished early */
		return;
	}

	if (log_enabled(LOG_DEBUG))
		logmsg(LOG_DEBUG, "%s %s: %ld%s%s", req->method, req->url, req->status,
		       req->error[0] ? " " : "", req->error);
	v = (req->classify ? req->classify : http_classify_rest)(req, &delay);
	if (v == HTTP_RETRY) {
		c->stats.retries++;
		if (delay < 0)
			delay = 0;
		req->not_before_ms = now_ms_monotonic() + delay;
		if (log_enabled(LOG_INFO)) {
			if (req->error[0])
				logmsg(LOG_INFO, "%s; retry %d in %ld ms", req->error, req->attempts, delay);
			else
				logmsg(LOG_INFO, "%s %s: HTTP %ld; retry %d in %ld ms", req->method, req->url,
				       req->status, req->attempts, delay);
		}
		enqueue(c, req);
		return;
	}
	finish(c, req);
}

/* Start what may start now; returns how long the loop may sleep before
 * something queued becomes due (-1: nothing queued). Only the timers that
 * fall due and the requests that start are touched. */
static long
start_due(struct http_client *c)
{
	struct http_request *r;
	long long mono;
	int64_t wall_wait;
	long wait = -1;

	if (!queued(c))
		return -1;
	wall_wait = c->pause_until - now_ms();
	if (wall_wait > 0)
		return wall_wait > POLL_MAX_MS ? POLL_MAX_MS : (long)wall_wait;
	mono = now_ms_monotonic();
	while (c->ntimers && c->timers[0]->not_before_ms <= mono) {
		lane_push(c, timer_pop(c));
		c->stats.queue_steps++;
	}
	/* When every slot is busy, the transfer that frees one wakes the loop. */
	while (c->inflight < c->opts.max_inflight && (c->lanes[1].head || c->lanes[0].head)) {
		if (c->min_gap_ms > 0 && mono - c->last_start_ms < c->min_gap_ms) {
			/* paced: nothing else starts before the gap has passed */
			wait = (long)(c->min_gap_ms - (mono - c->last_start_ms));
			break;
		}
		int64_t paused = c->pause_until;

		r = lane_pop(c);
		c->stats.queue_steps++;
		c->last_start_ms = mono;
		/* start_attempt may finish r, whose done() may queue more; its
		 * prepare() may hold the rest (a rate limit's last request) */
		start_attempt(c, r);
		if (c->pause_until != paused && (wall_wait = c->pause_until - now_ms()) > 0) {
			wait = (long)(wall_wait > POLL_MAX_MS ? POLL_MAX_MS : wall_wait);
			break;
		}
	}
	if (c->ntimers) {
		long w = (long)(c->timers[0]->not_before_ms - mono);
		if (wait < 0 || w < wait)
			wait = w;
	}
	if (wait > POLL_MAX_MS)
		wait = POLL_MAX_MS;
	return wait;
}

void
http_client_stop_on(struct http_client *c, volatile sig_atomic_t *flag,
                    int (*drop)(const struct http_request *req))
{
	c->stop = flag;
	c->stop_drop = drop;
}

/* A stop: finish unsent every waiting request stop_drop() lets go. Taken
 * out of the lanes and the heap first, since done() may queue others. */
static void
drop_waiting(struct http_client *c)
{
	struct http_request *r, *next, *gone = NULL, **tail = &gone;
	struct http_request **timers = c->timers;
	size_t n = c->ntimers;

	for (int i = 0; i < 2; i++) {
		r = c->lanes[i].head;
		c->lanes[i].head = c->lanes[i].tail = NULL;
		for (; r; r = next) {
			next = r->next;
			r->next = NULL;
			if (c->stop_drop(r)) {
				*tail = r;
				tail = &r->next;
			} else {
				lane_push(c, r);
			}
		}
	}
	c->timers = NULL;
	c->ntimers = c->timers_cap = 0;
	for (size_t i = 0; i < n; i++) {
		r = timers[i];
		if (c->stop_drop(r)) {
			r->next = NULL;
			*tail = r;
			tail = &r->next;
		} else {
			timer_push(c, r);
		}
	}
	free(timers);
	for (r = gone; r; r = next) {
		next = r->next;
		r->next = NULL;
		reset_results(r);
		r->stopped = 1;
		r->curl_code = CURLE_ABORTED_BY_CALLBACK;
		if (snprintf(r->error, sizeof r->error, "%s %s: not sent: stopped", r->method, r->url) < 0)
			r->error[0] = '\0';
		logmsg(LOG_DEBUG, "%s", r->error);
		finish(c, r);
	}
}

int
http_run(struct http_client *c)
{
	CURLMsg *msg;
	int running, left;
	long wait;

	for (;;) {
		if (c->stop && *c->stop && c->stop_drop && queued(c))
			drop_waiting(c);
		wait = start_due(c);
		if (c->inflight == 0 && !queued(c))
			break;
		if (wait < 0 || wait > POLL_MAX_MS)
			wait = POLL_MAX_MS;
		if (c->inflight == 0) {
			/* Only timers: sleep until the first is due. */
			poll(NULL, 0, (int)wait);
			continue;
		}
		/* curl cuts the wait to its own timers (timeouts, new transfers). */
		curl_multi_poll(c->multi, NULL, 0, (int)wait, NULL);
		curl_multi_perform(c->multi, &running);
		while ((msg = curl_multi_info_read(c->multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				end_attempt(c, msg->easy_handle, msg->data.result);
	}
	return 0;
}

/* ---- the REST retry policy ---- */

int
http_transport_maybe_sent(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_FAILED_INIT:
		return 0;   /* no connection, or no request on it */
	default:
		return 1;
	}
}

int
http_transport_retryable(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_FAILED_INIT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_WRITE_ERROR:         /* our own limit on the response size */
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_PEER_FAILED_VERIFICATION: /* TLS trust does not fix itself */
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_LOGIN_DENIED:
		return 0;
	default:
		return 1;
	}
}

/* Retry-After: delta seconds or an HTTP date; -1 when absent or unreadable. */
static long
retry_after_ms(const struct http_request *req)
{
	const char *v = http_header_get(req, "retry-after");
	int64_t when;
	char *end;
	long long secs;

	if (!v || !*v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		secs = strtoll(v, &end, 10);
		if (*end || errno)
			return errno == ERANGE ? RETRY_AFTER_MAX_MS : -1;
		return secs > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : (long)(secs * 1000);
	}
	if (http_date_parse(v, &when))
		return -1;
	when -= now_ms();
	if (when < 0)
		return 0;
	return when > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : (long)when;
}

/* Pacing by X-RateLimit-*. incident.io's limit is a token bucket refilled
 * at Limit per minute: when few tokens remain (no more than twice what may be
 * in flight), attempts start no closer together than the refill interval,
 * which keeps the bucket from running dry without stopping; with plenty left
 * they run freely. Only without X-RateLimit-Limit does Remaining: 0 hold
 * every new attempt until X-RateLimit-Reset (Unix seconds). */
static void
rate_limit_pace(const struct http_request *req)
{
	const char *rem = http_header_get(req, "x-ratelimit-remaining");
	const char *reset = http_header_get(req, "x-ratelimit-reset");
	const char *lim = http_header_get(req, "x-ratelimit-limit");
	struct http_client *c = req->client;
	int64_t now, until;
	long long v, remaining, limit = 0;
	char *end;

	if (!rem)
		return;
	errno = 0;
	remaining = strtoll(rem, &end, 10);
	if (end == rem || *end || errno || remaining < 0)
		return;
	if (lim) {
		errno = 0;
		limit = strtoll(lim, &end, 10);
		if (end == lim || *end || errno || limit <= 0 || limit > 6000000)
			limit = 0;
	}
	if (limit > 0) {
		long gap = (long)(60000 / limit) + 1;
		long was = c->min_gap_ms;
		c->min_gap_ms = remaining <= 2LL * c->opts.max_inflight ? gap : 0;
		if (c->min_gap_ms && !was)
			logmsg(LOG_INFO, "rate limit: %lld requests left; one request every %ld ms",
			       remaining, c->min_gap_ms);
		return;
	}
	if (!reset || remaining != 0)
		return;
	errno = 0;
	v = strtoll(reset, &end, 10);
	if (end == reset || *end || errno || v < 0)
		return;
	now = now_ms();
	/* Unix seconds per the documentation; a small number is read as
	 * seconds from now, which some servers send. */
	until = v < 1000000000LL ? now + v * 1000 : v * 1000;
	if (until - now > RATE_PAUSE_MAX_MS)
		until = now + RATE_PAUSE_MAX_MS;
	if (until > now) {
		logmsg(LOG_INFO, "rate limit reached; holding requests for %lld ms",
		       (long long)(until - now));
		http_client_pause_until(req->client, until);
	}
}

enum http_verdict
http_classify_rest(struct http_request *req, long *delay_ms)
{
	const struct http_client_opts *o = http_client_options(req->client);
	int retryable;
	long ra;

	rate_limit_pace(req);
	retryable = http_proxy_refused(req) ? 0 :
	            req->curl_code != CURLE_OK ? http_transport_retryable(req->curl_code) :
	            req->status == 429 || req->status >= 500;
	if (!retryable || req->attempts > o->max_retries)
		return HTTP_DONE;
	ra = req->curl_code == CURLE_OK ? retry_after_ms(req) : -1;
	*delay_ms = ra >= 0 ? ra : http_backoff_ms(req->client, req->attempts);
	return HTTP_RETRY;
}
