/* sdm.c: the StrongDM client: configuration, calls, paging, retries and
 * pacing, on the shared HTTP client (one HTTP/2 connection, many streams).
 *
 * A call is a struct sdm_call that lives until its callback has run; each
 * attempt of each page is one http_request whose prepare hook signs it (the
 * UTC date may change between attempts), whose classify hook decides on
 * retries, and whose done hook decodes the answer and either asks for the
 * next page or runs the callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "grpc.h"
#include "http.h"
#include "sdm.h"
#include "sdm_internal.h"
#include "timeutil.h"

#ifndef ONCALL_VERSION
#define ONCALL_VERSION "dev"
#endif

#define SDM_USER_AGENT "oncall-sync/" ONCALL_VERSION
#define MAX_RATE_WAITS 10        /* RESOURCE_EXHAUSTED waits before giving up */
#define MAX_RETRIES 3            /* INTERNAL, UNAVAILABLE, network */
#define RATE_BACKOFF_BASE_MS 1000.0
#define RATE_BACKOFF_MAX_MS 120000.0
#define RATE_WAIT_MAX_MS 120000L /* never trust a reset_at further away */
#define RETRY_BASE_MS 250
#define RETRY_MAX_MS 4000
#define MAX_PAGES 100000         /* a listing that never ends is an error */

enum call_type { CALL_LIST, CALL_GROUP, CALL_ACCOUNT_GROUP, CALL_DONE, CALL_GROUP_ROLE };

struct sdm_call {
	struct sdm_client *c;
	const char *method;          /* "Accounts.List": what is signed */
	const char *path;            /* "/v1.Accounts/List" */
	enum call_type type;
	struct buf body;             /* the message of the current request */
	/* list calls */
	char *filter;
	int limit;
	char *cursor;                /* sent with the current page */
	char **seen;                 /* every cursor followed: a cycle is an error */
	size_t nseen;
	struct sdm_items items;
	/* retries of the current request */
	int rate_waits, retries;
	int replayed;                /* sent again after an attempt that may have
	                                reached StrongDM (see sdm_error.replayed) */
	int on_wire;                 /* an attempt was prepared and not yet classified */
	int write;                   /* counts against the write limit */
	int paged;                   /* list: each page to a page callback */
	union {
		sdm_accounts_cb accounts;
		sdm_identity_sets_cb identity_sets;
		sdm_identity_aliases_cb identity_aliases;
		sdm_groups_cb groups;
		sdm_account_groups_cb account_groups;
		sdm_roles_cb roles;
		sdm_group_roles_cb group_roles;
		sdm_group_role_cb group_role;
		sdm_accounts_page_cb accounts_page;
		sdm_account_groups_page_cb account_groups_page;
		sdm_identity_aliases_page_cb identity_aliases_page;
		sdm_group_cb group;
		sdm_account_group_cb account_group;
		sdm_done_cb done;
	} cb;
	void *user;
	struct sdm_call *prev, *next;   /* the client's live calls */
};

struct sdm_client {
	char *access_key;
	uint8_t *secret;
	size_t secret_len;
	char *base;                  /* "https://host:443" or "http://127.0.0.1:port" */
	struct http_client *http;
	struct sdm_stats stats;
	int inflight[2];             /* attempts on the wire: reads, writes */
	/* Per bucket, from the rate_limit of the latest responses: how many
	 * more attempts the window ending at budget_reset (Unix ms; 0:
	 * unknown) takes. Several responses are handled before the free
	 * slots are filled, so a check per response alone overshoots. */
	long budget[2];
	int64_t budget_reset[2];
	long failed;                 /* calls that ended in an error (sdm_run's result) */
	struct sdm_call *calls;
};

/* ---------------------------------------------------------------- config */

static char *
trimmed_dup(const char *s)
{
	const char *e;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	return estrndup(s, (size_t)(e - s));
}

/* The base URL for a host setting; NULL with a message if unusable. */
static char *
base_url(const char *host, char *err, size_t errlen)
{
	char why[256], *url;
	size_t n;

	if (!strncasecmp(host, "http://", 7) || !strncasecmp(host, "https://", 8)) {
		url = estrdup(host);
	} else if (strchr(host, '/') || strstr(host, "://")) {
		snprintf(err, errlen, "SDM_API_HOST must be HOST:PORT, https://HOST:PORT or "
		         "http://127.0.0.1:PORT (loopback only)");
		return NULL;
	} else {
		url = easprintf("https://%s", host);
	}
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (http_url_check(url, why, sizeof why) < 0) {
		snprintf(err, errlen, "SDM_API_HOST: %s", why);
		free(url);
		return NULL;
	}
	if (strchr(url + (url[4] == 's' || url[4] == 'S' ? 8 : 7), '/')) {
		snprintf(err, errlen, "SDM_API_HOST must not have a path");
		free(url);
		return NULL;
	}
	return url;
}

int
sdm_config_from_env(struct sdm_config *cfg, char *err, size_t errlen)
{
	const char *host = getenv("SDM_API_HOST");
	char *base;
	uint8_t *secret;
	size_t slen;

	memset(cfg, 0, sizeof *cfg);
	cfg->max_inflight = 8;
	if (!host || !*host)
		host = SDM_DEFAULT_HOST;
	cfg->host = trimmed_dup(host);
	if (!(base = base_url(cfg->host, err, errlen)))
		goto fail;
	free(base);
	if (getenv("SDM_API_TIMEOUT") && *getenv("SDM_API_TIMEOUT")) {
		int64_t ms;
		if (duration_parse(getenv("SDM_API_TIMEOUT"), &ms) != 0 || ms < 100 || ms > 600000) {
			snprintf(err, errlen, "SDM_API_TIMEOUT is not a duration from 100ms to 10m: %.40s",
			         getenv("SDM_API_TIMEOUT"));
			goto fail;
		}
		cfg->timeout_ms = (long)ms;
	}
	/* util's reader: the same rules as fetch-oncall's key */
	if (read_credential("SDM_API_ACCESS_KEY", &cfg->access_key, err, errlen) != 0 ||
	    read_credential("SDM_API_SECRET_KEY", &cfg->secret_key, err, errlen) != 0)
		goto fail;
	if (sdm_secret_decode(cfg->secret_key, &secret, &slen) < 0) {
		snprintf(err, errlen, "SDM_API_SECRET_KEY is not a base64 API secret key");
		goto fail;
	}
	secret_wipe(secret, slen);
	free(secret);
	return 0;
fail:
	sdm_config_clear(cfg);
	return -1;
}

void
sdm_config_clear(struct sdm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->host);
	secret_free(cfg->access_key);
	secret_free(cfg->secret_key);
	memset(cfg, 0, sizeof *cfg);
}

/* ---------------------------------------------------------------- client */

/* Uniform in [0, 1): the HTTP client's generator. */
static double
rng_unit(struct sdm_client *c)
{
	return http_client_random(c->http);
}

struct sdm_client *
sdm_client_new(const struct sdm_config *cfg, char *err, size_t errlen)
{
	struct sdm_client *c;
	struct http_client_opts o = { 0 };

	if (!cfg || !cfg->host || !cfg->access_key || !cfg->secret_key) {
		snprintf(err, errlen, "StrongDM configuration incomplete");
		return NULL;
	}
	c = ecalloc(1, sizeof *c);
	if (!(c->base = base_url(cfg->host, err, errlen)))
		goto fail;
	if (sdm_secret_decode(cfg->secret_key, &c->secret, &c->secret_len) < 0) {
		snprintf(err, errlen, "SDM_API_SECRET_KEY is not a base64 API secret key");
		goto fail;
	}
	c->access_key = estrdup(cfg->access_key);
	o.max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 8;
	o.timeout_ms = cfg->timeout_ms;   /* 0: the client's default */
	o.http2 = 1;
	o.http2_required = 1;         /* gRPC is HTTP/2 only */
	o.max_retries = MAX_RETRIES;  /* our classify hook decides; kept for the record */
	o.backoff_base_ms = RETRY_BASE_MS;
	o.backoff_max_ms = RETRY_MAX_MS;
	o.user_agent = SDM_USER_AGENT;
	c->http = http_client_new(&o);
	return c;
fail:
	free(c->base);
	free(c);
	return NULL;
}

static void call_free(struct sdm_call *call);

void
sdm_client_free(struct sdm_client *c)
{
	if (!c)
		return;
	/* Calls queued but never run (sdm_run not called): their requests go
	 * with the HTTP client, the calls here, without callbacks. */
	http_client_free(c->http);
	while (c->calls)
		call_free(c->calls);
	if (c->secret) {
		secret_wipe(c->secret, c->secret_len);
		free(c->secret);
	}
	secret_free(c->access_key);
	free(c->base);
	free(c);
}

int
sdm_run(struct sdm_client *c)
{
	long before = c->failed;

	http_run(c->http);
	return (int)(c->failed - before);
}

void
sdm_client_stats(const struct sdm_client *c, struct sdm_stats *out)
{
	*out = c->stats;
}

const char *
sdm_status_name(int code)
{
	if (code == SDM_TRANSPORT)
		return "TRANSPORT";
	if (code == SDM_STOPPED)
		return "STOPPED";
	return grpc_status_name(code);
}

const char *
sdm_error_code(int code)
{
	switch (code) {
	case SDM_UNAUTHENTICATED: return "unauthenticated";
	case SDM_PERMISSION_DENIED: return "permission_denied";
	case SDM_NOT_FOUND: return "not_found";
	case SDM_RESOURCE_EXHAUSTED: return "rate_limited";
	case SDM_UNAVAILABLE:
	case SDM_INTERNAL:
	case SDM_TRANSPORT: return "unavailable";
	case SDM_INVALID_ARGUMENT: return "invalid";
	case SDM_ALREADY_EXISTS: return "already_exists";
	}
	return "failed";
}

/* ---------------------------------------------------------------- calls */

static struct sdm_call *
call_new(struct sdm_client *c, const char *method, const char *path, enum call_type type)
{
	struct sdm_call *call = ecalloc(1, sizeof *call);

	call->c = c;
	call->method = method;
	call->path = path;
	call->type = type;
	/* StrongDM counts reads and writes against separate limits. */
	call->write = strstr(method, ".Create") || strstr(method, ".Update") ||
	              strstr(method, ".Delete");
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->stats.calls++;
	return call;
}

static void
call_free(struct sdm_call *call)
{
	struct sdm_client *c = call->c;

	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	buf_clear(&call->body);
	free(call->filter);
	free(call->cursor);
	for (size_t i = 0; i < call->nseen; i++)
		free(call->seen[i]);
	free(call->seen);
	sdm_items_clear(&call->items);
	free(call);
}

/* An attempt starts: when it takes the last of the window's budget, hold
 * the others until the window resets. */
static void
take_budget(struct sdm_client *c, int write)
{
	int64_t now, until = c->budget_reset[write];

	if (!until || --c->budget[write] > 0)
		return;
	now = now_ms();
	if (until <= now)
		return;
	if (until - now > RATE_WAIT_MAX_MS)
		until = now + RATE_WAIT_MAX_MS;
	logmsg(LOG_INFO, "StrongDM %s limit: the window's last request started; holding requests for %lld ms",
	       write ? "write" : "read", (long long)(until - now));
	http_client_pause_until(c->http, until);
}

static int
sdm_prepare(struct http_request *req)
{
	struct sdm_call *call = req->user;
	struct sdm_client *c = call->c;
	char date[16], sig[SDM_SIG_LEN + 1], *h;
	struct tm tm;
	time_t now = time(NULL);
	struct curl_slist *l;

	if (!gmtime_r(&now, &tm) || strftime(date, sizeof date, "%Y-%m-%d", &tm) != 10 ||
	    sdm_sign_raw(c->secret, c->secret_len, date, call->method, call->body.data,
	                 call->body.len, sig) < 0) {
		snprintf(req->error, sizeof req->error, "could not sign the request");
		return -1;
	}
	h = easprintf("x-sdm-signature: %s", sig);
	l = curl_slist_append(req->attempt_headers, h);
	free(h);
	if (!l)
		die(EXIT_FAILED, "out of memory");
	req->attempt_headers = l;
	/* http.c may replay an attempt the server never saw (a reused h2c
	 * connection that was gone) without classifying it: count it once. */
	if (!call->on_wire) {
		call->on_wire = 1;
		c->stats.attempts++;
		c->inflight[call->write]++;
		take_budget(c, call->write);
	}
	return 0;
}

/* How long to wait after the n-th RESOURCE_EXHAUSTED (n >= 1). */
static long
rate_limit_delay(struct sdm_client *c, const struct grpc_result *r, int n)
{
	int64_t now = now_ms();
	double ms;

	if (r->rl.reset_at_ms > 0) {
		ms = (double)(r->rl.reset_at_ms - now);
		if (ms < 0)
			ms = 0;
		if (ms > RATE_WAIT_MAX_MS)
			ms = RATE_WAIT_MAX_MS;
		/* A little after the reset, spread so waiters do not all return at once. */
		return (long)(ms + 50 + rng_unit(c) * (200 + ms * 0.05));
	}
	ms = RATE_BACKOFF_BASE_MS;
	for (int i = 1; i < n && ms < RATE_BACKOFF_MAX_MS; i++)
		ms *= 1.6;
	if (ms > RATE_BACKOFF_MAX_MS)
		ms = RATE_BACKOFF_MAX_MS;
	return (long)(ms * (0.8 + 0.4 * rng_unit(c)));
}

/* A write not yet sent, or whose attempts all provably failed unapplied
 * (RESOURCE_EXHAUSTED, refused before it was sent): a stop may drop it. */
static int
sdm_droppable(const struct http_request *req)
{
	const struct sdm_call *call = req->user;

	return call->write && !call->replayed;
}

void
sdm_client_stop_on(struct sdm_client *c, volatile sig_atomic_t *flag)
{
	http_client_stop_on(c->http, flag, sdm_droppable);
}

static enum http_verdict
sdm_classify(struct http_request *req, long *delay_ms)
{
	struct sdm_call *call = req->user;
	struct sdm_client *c = call->c;
	struct grpc_result r;

	if (call->on_wire) {
		call->on_wire = 0;
		c->inflight[call->write]--;
	}
	grpc_parse_response(req->status, req->hdrs, req->nhdrs, req->resp.data, req->resp.len,
	                    req->curl_code, req->error, &r);
	if (r.code == SDM_RESOURCE_EXHAUSTED) {
		c->stats.rate_limited++;
		if (++call->rate_waits > MAX_RATE_WAITS)
			return HTTP_DONE;
		*delay_ms = rate_limit_delay(c, &r, call->rate_waits);
		/* Every call shares the key's limit: hold them all. */
		http_client_pause_until(c->http, now_ms() + *delay_ms);
		logmsg(LOG_INFO, "%s: rate limited; waiting %ld ms", call->method, *delay_ms);
		return HTTP_RETRY;
	}
	if (r.code == SDM_INTERNAL || r.code == SDM_UNAVAILABLE ||
	    (r.transport && !http_proxy_refused(req) &&
	     (req->curl_code == CURLE_OK || http_transport_retryable(req->curl_code)))) {
		/* the server may have done the work: an answer to this call
		 * is then no proof of what happened (sdm_error.replayed) */
		if (r.code == SDM_INTERNAL || r.code == SDM_UNAVAILABLE ||
		    req->curl_code == CURLE_OK || http_transport_maybe_sent(req->curl_code))
			call->replayed = 1;
		if (++call->retries > MAX_RETRIES)
			return HTTP_DONE;
		c->stats.retries++;
		*delay_ms = http_backoff_ms(c->http, call->retries);
		logmsg(LOG_INFO, "%s: %s: %s; retry %d in %ld ms", call->method,
		       r.code == GRPC_NO_STATUS ? "network error" : sdm_status_name(r.code),
		       r.message, call->retries, *delay_ms);
		return HTTP_RETRY;
	}
	return HTTP_DONE;
}

/* Slow down before the limit is hit: when a response says the key's
 * bucket is (nearly) empty, hold new attempts until it resets. */
static void
pace(struct sdm_client *c, const struct grpc_rate_limit *rl, int write)
{
	int64_t now, until;

	if (!rl->present || rl->reset_at_ms <= 0)
		return;
	/* What the attempts still on the wire leave; an answer from an earlier
	 * window says nothing about this one. */
	if (rl->reset_at_ms > c->budget_reset[write]) {
		c->budget_reset[write] = rl->reset_at_ms;
		c->budget[write] = rl->remaining - c->inflight[write];
	} else if (rl->reset_at_ms == c->budget_reset[write] &&
	           rl->remaining - c->inflight[write] < c->budget[write]) {
		c->budget[write] = rl->remaining - c->inflight[write];
	}
	/* The attempts still on the wire will take from what remains. */
	if (rl->remaining > c->inflight[write])
		return;
	now = now_ms();
	until = rl->reset_at_ms;
	if (until <= now)
		return;
	if (until - now > RATE_WAIT_MAX_MS)
		until = now + RATE_WAIT_MAX_MS;
	logmsg(LOG_INFO, "StrongDM %s limit: %lld left; holding requests for %lld ms",
	       write ? "write" : "read", (long long)rl->remaining, (long long)(until - now));
	http_client_pause_until(c->http, until);
}

/* How much of msg fits in max bytes without splitting a character (messages
 * end up in records, which must be UTF-8). */
static int
cut_len(const char *msg, size_t max)
{
	size_t n = strlen(msg);

	return (int)(n > max ? utf8_cut(msg, max) : n);
}

static void
set_error(struct sdm_error *e, const struct sdm_call *call, int code, const char *msg,
          int64_t reset_at_ms)
{
	memset(e, 0, sizeof *e);
	e->code = code;
	e->reset_at_ms = reset_at_ms;
	if (code == SDM_TRANSPORT || code == SDM_STOPPED)
		snprintf(e->message, sizeof e->message, "%s: %.*s", call->method,
		         cut_len(msg, 460), msg);
	else
		snprintf(e->message, sizeof e->message, "%s: %s: %.*s", call->method,
		         sdm_status_name(code), *msg ? cut_len(msg, 440) : 12,
		         *msg ? msg : "(no message)");
}

static void submit(struct sdm_call *call);

/* A page to a paged listing's callback: its answer, go on or not. */
static int
page_to(struct sdm_call *call, void *v, size_t n, int more, const struct sdm_error *err)
{
	switch (call->items.kind) {
	case SDM_KIND_ACCOUNT: return call->cb.accounts_page(call->user, v, n, more, err);
	case SDM_KIND_ACCOUNT_GROUP: return call->cb.account_groups_page(call->user, v, n, more, err);
	case SDM_KIND_IDENTITY_ALIAS: return call->cb.identity_aliases_page(call->user, v, n, more, err);
	case SDM_KIND_IDENTITY_SET:
	case SDM_KIND_GROUP:
	case SDM_KIND_ROLE:
	case SDM_KIND_GROUP_ROLE:
		break;
	}
	return 0;   /* no paged listing of these */
}

/* Run the callback with an error; the call ends. */
static void
call_fail(struct sdm_call *call, const struct sdm_error *err)
{
	struct sdm_client *c = call->c;

	c->failed++;
	logmsg(LOG_DEBUG, "%s", err->message);
	switch (call->type) {
	case CALL_LIST:
		sdm_items_clear(&call->items);
		if (call->paged) {
			page_to(call, NULL, 0, 0, err);
			break;
		}
		switch (call->items.kind) {
		case SDM_KIND_ACCOUNT: call->cb.accounts(call->user, NULL, 0, err); break;
		case SDM_KIND_IDENTITY_SET: call->cb.identity_sets(call->user, NULL, 0, err); break;
		case SDM_KIND_IDENTITY_ALIAS: call->cb.identity_aliases(call->user, NULL, 0, err); break;
		case SDM_KIND_GROUP: call->cb.groups(call->user, NULL, 0, err); break;
		case SDM_KIND_ACCOUNT_GROUP: call->cb.account_groups(call->user, NULL, 0, err); break;
		case SDM_KIND_ROLE: call->cb.roles(call->user, NULL, 0, err); break;
		case SDM_KIND_GROUP_ROLE: call->cb.group_roles(call->user, NULL, 0, err); break;
		}
		break;
	case CALL_GROUP_ROLE:
		call->cb.group_role(call->user, NULL, err);
		break;
	case CALL_GROUP:
		call->cb.group(call->user, NULL, err);
		break;
	case CALL_ACCOUNT_GROUP:
		call->cb.account_group(call->user, NULL, err);
		break;
	case CALL_DONE:
		call->cb.done(call->user, err);
		break;
	}
	call_free(call);
}

static void
list_page_done(struct sdm_call *call, const struct grpc_result *r)
{
	struct sdm_error err;
	struct grpc_rate_limit rl;
	char *next = NULL;
	void *v;
	size_t n;

	if (sdm_dec_list_response(r->msg, r->msglen, &call->items, &next, &rl) < 0) {
		set_error(&err, call, SDM_TRANSPORT, "malformed response message", 0);
		call_fail(call, &err);
		return;
	}
	pace(call->c, &rl, call->write);
	if (call->paged) {
		/* This page to the callback, which says whether to go on. */
		int go;

		v = call->items.v;
		n = call->items.n;
		call->items.v = NULL;
		call->items.n = call->items.cap = 0;
		go = page_to(call, v, n, next != NULL, NULL);
		if (!go && next) {
			free(next);
			next = NULL;
		}
		if (!next) {
			call_free(call);
			return;
		}
	}
	if (next) {
		/* Not only the last cursor: a server that cycles A, B, A would
		 * otherwise be followed until memory runs out. */
		for (size_t i = 0; i < call->nseen; i++) {
			if (strcmp(next, call->seen[i]) == 0) {
				free(next);
				set_error(&err, call, SDM_TRANSPORT, "the server repeated a page cursor", 0);
				call_fail(call, &err);
				return;
			}
		}
		if (call->nseen >= MAX_PAGES) {
			free(next);
			set_error(&err, call, SDM_TRANSPORT, "more than 100000 pages; stopped", 0);
			call_fail(call, &err);
			return;
		}
		call->seen = erealloc(call->seen, (call->nseen + 1) * sizeof *call->seen);
		call->seen[call->nseen++] = estrdup(next);
		free(call->cursor);
		call->cursor = next;
		call->body.len = 0;
		sdm_enc_list_request(&call->body, call->cursor, call->limit, call->filter);
		call->rate_waits = call->retries = 0;
		submit(call);
		return;
	}
	/* The items go to the callback. */
	v = call->items.v;
	n = call->items.n;
	call->items.v = NULL;
	call->items.n = call->items.cap = 0;
	switch (call->items.kind) {
	case SDM_KIND_ACCOUNT: call->cb.accounts(call->user, v, n, NULL); break;
	case SDM_KIND_IDENTITY_SET: call->cb.identity_sets(call->user, v, n, NULL); break;
	case SDM_KIND_IDENTITY_ALIAS: call->cb.identity_aliases(call->user, v, n, NULL); break;
	case SDM_KIND_GROUP: call->cb.groups(call->user, v, n, NULL); break;
	case SDM_KIND_ACCOUNT_GROUP: call->cb.account_groups(call->user, v, n, NULL); break;
	case SDM_KIND_ROLE: call->cb.roles(call->user, v, n, NULL); break;
	case SDM_KIND_GROUP_ROLE: call->cb.group_roles(call->user, v, n, NULL); break;
	}
	call_free(call);
}

static void
single_done(struct sdm_call *call, const struct grpc_result *r)
{
	struct grpc_rate_limit rl;
	struct sdm_error err;
	int rc;

	if (call->type == CALL_GROUP) {
		struct sdm_group *g = ecalloc(1, sizeof *g);

		rc = sdm_dec_group_response(r->msg, r->msglen, g, &rl);
		if (rc == 0) {
			pace(call->c, &rl, call->write);
			call->cb.group(call->user, g, NULL);
			call_free(call);
			return;
		}
		free(g);
	} else if (call->type == CALL_ACCOUNT_GROUP) {
		struct sdm_account_group *ag = ecalloc(1, sizeof *ag);

		rc = sdm_dec_account_group_response(r->msg, r->msglen, ag, &rl);
		if (rc == 0) {
			pace(call->c, &rl, call->write);
			call->cb.account_group(call->user, ag, NULL);
			call_free(call);
			return;
		}
		free(ag);
	} else if (call->type == CALL_GROUP_ROLE) {
		struct sdm_group_role *gr = ecalloc(1, sizeof *gr);

		rc = sdm_dec_group_role_response(r->msg, r->msglen, gr, &rl);
		if (rc == 0) {
			pace(call->c, &rl, call->write);
			call->cb.group_role(call->user, gr, NULL);
			call_free(call);
			return;
		}
		free(gr);
	} else {
		rc = sdm_dec_delete_response(r->msg, r->msglen, &rl);
		if (rc == 0) {
			pace(call->c, &rl, call->write);
			call->cb.done(call->user, NULL);
			call_free(call);
			return;
		}
	}
	set_error(&err, call, SDM_TRANSPORT, "malformed response message", 0);
	call_fail(call, &err);
}

static void
sdm_done(struct http_request *req)
{
	struct sdm_call *call = req->user;
	struct grpc_result r;
	struct sdm_error err;

	if (call->on_wire) {   /* done without classify (the attempt never ran) */
		call->on_wire = 0;
		call->c->inflight[call->write]--;
	}
	if (req->stopped) {
		set_error(&err, call, SDM_STOPPED, "not sent: stopped", 0);
		call_fail(call, &err);
		return;
	}
	grpc_parse_response(req->status, req->hdrs, req->nhdrs, req->resp.data, req->resp.len,
	                    req->curl_code, req->error, &r);
	if (r.code != SDM_OK) {
		char msg[sizeof err.message];

		if (r.code == SDM_RESOURCE_EXHAUSTED && call->rate_waits > MAX_RATE_WAITS)
			snprintf(msg, sizeof msg, "%.*s (gave up after %d waits)",
			         cut_len(r.message, 400), r.message, MAX_RATE_WAITS);
		else if (call->retries > MAX_RETRIES)
			snprintf(msg, sizeof msg, "%.*s (after %d attempts)",
			         cut_len(r.message, 400), r.message, call->retries);
		else
			snprintf(msg, sizeof msg, "%s", r.message);
		set_error(&err, call, r.code == GRPC_NO_STATUS ? SDM_TRANSPORT : r.code, msg,
		          r.rl.reset_at_ms);
		err.replayed = call->replayed;
		call_fail(call, &err);
		return;
	}
	if (call->type == CALL_LIST)
		list_page_done(call, &r);
	else
		single_done(call, &r);
}

/* The HTTP request for the call's current message. */
static struct http_request *
build_request(struct sdm_call *call)
{
	struct sdm_client *c = call->c;
	struct http_request *req;
	char *url = easprintf("%s%s", c->base, call->path);
	struct buf framed = { 0 };

	req = http_request_new("POST", url);
	free(url);
	req->headers = grpc_sdm_headers(req->headers, c->access_key, SDM_API_VERSION, SDM_USER_AGENT);
	grpc_frame(&framed, call->body.data, call->body.len);
	http_request_body(req, framed.data, framed.len);
	buf_clear(&framed);
	req->prepare = sdm_prepare;
	req->classify = sdm_classify;
	req->done = sdm_done;
	req->user = call;
	/* Reads before writes: a listing's next page, or a read that runs
	 * beside the writes (the emails of removed members), never waits
	 * behind thousands of queued writes. */
	req->priority = !call->write;
	return req;
}

static void
submit(struct sdm_call *call)
{
	call->c->stats.pages++;
	http_submit(call->c->http, build_request(call));
}

struct http_request *
sdm_request_new(struct sdm_client *c, const char *method, const char *path,
                const void *msg, size_t n)
{
	struct sdm_call *call = call_new(c, method, path, CALL_DONE);

	buf_append(&call->body, msg, n);
	return build_request(call);
}

void
sdm_request_free(struct http_request *req)
{
	struct sdm_call *call = req->user;

	if (call->on_wire)
		call->c->inflight[call->write]--;
	call_free(call);
	http_request_free(req);
}

/* ---------------------------------------------------------------- API */

static struct sdm_call *
list_call(struct sdm_client *c, const char *method, const char *path, enum sdm_kind kind,
          const char *filter, int limit)
{
	struct sdm_call *call = call_new(c, method, path, CALL_LIST);

	call->items.kind = kind;
	call->filter = filter && *filter ? estrdup(filter) : NULL;
	call->limit = limit > 0 ? limit : 0;
	sdm_enc_list_request(&call->body, NULL, call->limit, call->filter);
	return call;
}

void
sdm_accounts_list(struct sdm_client *c, const char *filter, int limit, sdm_accounts_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "Accounts.List", "/v1.Accounts/List",
	                                  SDM_KIND_ACCOUNT, filter, limit);

	call->cb.accounts = cb;
	call->user = user;
	submit(call);
}

void
sdm_identity_sets_list(struct sdm_client *c, const char *filter, int limit,
                       sdm_identity_sets_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "IdentitySets.List", "/v1.IdentitySets/List",
	                                  SDM_KIND_IDENTITY_SET, filter, limit);

	call->cb.identity_sets = cb;
	call->user = user;
	submit(call);
}

void
sdm_identity_aliases_list(struct sdm_client *c, const char *filter, int limit,
                          sdm_identity_aliases_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "IdentityAliases.List", "/v1.IdentityAliases/List",
	                                  SDM_KIND_IDENTITY_ALIAS, filter, limit);

	call->cb.identity_aliases = cb;
	call->user = user;
	submit(call);
}

void
sdm_groups_list(struct sdm_client *c, const char *filter, int limit, sdm_groups_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "Groups.List", "/v1.Groups/List",
	                                  SDM_KIND_GROUP, filter, limit);

	call->cb.groups = cb;
	call->user = user;
	submit(call);
}

void
sdm_account_groups_list(struct sdm_client *c, const char *filter, int limit,
                        sdm_account_groups_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "AccountsGroups.List", "/v1.AccountsGroups/List",
	                                  SDM_KIND_ACCOUNT_GROUP, filter, limit);

	call->cb.account_groups = cb;
	call->user = user;
	submit(call);
}

void
sdm_accounts_list_pages(struct sdm_client *c, const char *filter, int limit,
                        sdm_accounts_page_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "Accounts.List", "/v1.Accounts/List",
	                                  SDM_KIND_ACCOUNT, filter, limit);

	call->paged = 1;
	call->cb.accounts_page = cb;
	call->user = user;
	submit(call);
}

void
sdm_account_groups_list_pages(struct sdm_client *c, const char *filter, int limit,
                              sdm_account_groups_page_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "AccountsGroups.List", "/v1.AccountsGroups/List",
	                                  SDM_KIND_ACCOUNT_GROUP, filter, limit);

	call->paged = 1;
	call->cb.account_groups_page = cb;
	call->user = user;
	submit(call);
}

void
sdm_identity_aliases_list_pages(struct sdm_client *c, const char *filter, int limit,
                                sdm_identity_aliases_page_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "IdentityAliases.List", "/v1.IdentityAliases/List",
	                                  SDM_KIND_IDENTITY_ALIAS, filter, limit);

	call->paged = 1;
	call->cb.identity_aliases_page = cb;
	call->user = user;
	submit(call);
}

void
sdm_group_create(struct sdm_client *c, const struct sdm_group *g, sdm_group_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "Groups.Create", "/v1.Groups/Create", CALL_GROUP);

	sdm_enc_group_create(&call->body, g);
	call->cb.group = cb;
	call->user = user;
	submit(call);
}

void
sdm_group_update(struct sdm_client *c, const struct sdm_group *g, sdm_group_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "Groups.Update", "/v1.Groups/Update", CALL_GROUP);

	sdm_enc_group_update(&call->body, g);
	call->cb.group = cb;
	call->user = user;
	submit(call);
}

void
sdm_group_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "Groups.Delete", "/v1.Groups/Delete", CALL_DONE);

	sdm_enc_id_request(&call->body, id);
	call->cb.done = cb;
	call->user = user;
	submit(call);
}

void
sdm_account_group_create(struct sdm_client *c, const char *account_id, const char *group_id,
                         sdm_account_group_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "AccountsGroups.Create", "/v1.AccountsGroups/Create",
	                                 CALL_ACCOUNT_GROUP);

	sdm_enc_account_group_create(&call->body, account_id, group_id);
	call->cb.account_group = cb;
	call->user = user;
	submit(call);
}

void
sdm_account_group_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "AccountsGroups.Delete", "/v1.AccountsGroups/Delete",
	                                 CALL_DONE);

	sdm_enc_id_request(&call->body, id);
	call->cb.done = cb;
	call->user = user;
	submit(call);
}

void
sdm_roles_list(struct sdm_client *c, const char *filter, int limit, sdm_roles_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "Roles.List", "/v1.Roles/List", SDM_KIND_ROLE,
	                                  filter, limit);

	call->cb.roles = cb;
	call->user = user;
	submit(call);
}

void
sdm_group_roles_list(struct sdm_client *c, const char *filter, int limit,
                     sdm_group_roles_cb cb, void *user)
{
	struct sdm_call *call = list_call(c, "GroupsRoles.List", "/v1.GroupsRoles/List",
	                                  SDM_KIND_GROUP_ROLE, filter, limit);

	call->cb.group_roles = cb;
	call->user = user;
	submit(call);
}

void
sdm_group_role_create(struct sdm_client *c, const char *group_id, const char *role_id,
                      sdm_group_role_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "GroupsRoles.Create", "/v1.GroupsRoles/Create",
	                                 CALL_GROUP_ROLE);

	sdm_enc_group_role_create(&call->body, group_id, role_id);
	call->cb.group_role = cb;
	call->user = user;
	submit(call);
}

/* The answer (1 meta, 2 rate_limit, 3 the deleted attachment) reads as any
 * delete's. */
void
sdm_group_role_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user)
{
	struct sdm_call *call = call_new(c, "GroupsRoles.Delete", "/v1.GroupsRoles/Delete",
	                                 CALL_DONE);

	sdm_enc_id_request(&call->body, id);
	call->cb.done = cb;
	call->user = user;
	submit(call);
}
