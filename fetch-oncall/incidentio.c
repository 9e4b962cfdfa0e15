/* incidentio.c: incident.io requests and strict response parsing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "incidentio.h"
#include "timeutil.h"
#include "util.h"

/* ---------------------------------------------------------------- parsing */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static cJSON *parse_body(const char *body, size_t len, char *err, size_t errlen)
{
	cJSON *root;

	if (len == 0)
		return fail(err, errlen, "the response is empty"), NULL;
	root = cJSON_ParseWithLength(body, len);
	if (!root)
		return fail(err, errlen, "the response is not valid JSON"), NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, "the response is not a JSON object"), NULL;
	}
	return root;
}

/* A string field: required or optional (absent or null → *out NULL). */
static int get_string(const cJSON *obj, const char *key, int required, char **out,
                      const char *where, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return fail(err, errlen, "%s has no \"%s\"", where, key);
		return 0;
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return fail(err, errlen, "%s: \"%s\" is not a string", where, key);
	*out = estrdup(v->valuestring);
	/* JSON is UTF-8 (RFC 8259) but cJSON does not check, and a record
	 * that is not would be refused whole by the next stage: bad bytes
	 * become '?' here, so that one bad name fails no other schedule. */
	utf8_sanitize(*out, strlen(*out));
	return 0;
}

static int get_time(const cJSON *obj, const char *key, int64_t *ms, const char *where,
                    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		return fail(err, errlen, "%s has no \"%s\"", where, key);
	if (!cJSON_IsString(v) || rfc3339_parse(v->valuestring, ms) < 0)
		return fail(err, errlen, "%s: \"%s\" is not an RFC 3339 time", where, key);
	return 0;
}

static void shift_clear(struct iio_shift *s)
{
	free(s->user_id);
	free(s->user_name);
	free(s->user_email);
	memset(s, 0, sizeof *s);
}

static void iio_shifts_free(struct iio_shift *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		shift_clear(&s[i]);
	free(s);
}

static int parse_shift(const cJSON *o, struct iio_shift *s, const char *where,
                       char *err, size_t errlen)
{
	const cJSON *u;
	char uwhere[200];

	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(o))
		return fail(err, errlen, "%s is not an object", where);
	if (get_time(o, "start_at", &s->start_ms, where, err, errlen) < 0 ||
	    get_time(o, "end_at", &s->end_ms, where, err, errlen) < 0)
		return -1;
	if (s->end_ms < s->start_ms)
		return fail(err, errlen, "%s ends before it starts", where);
	u = cJSON_GetObjectItemCaseSensitive(o, "user");
	if (!u || cJSON_IsNull(u))
		return 0;
	if (!cJSON_IsObject(u))
		return fail(err, errlen, "%s: \"user\" is not an object", where);
	snprintf(uwhere, sizeof uwhere, "%s.user", where);
	if (get_string(u, "id", 1, &s->user_id, uwhere, err, errlen) < 0 ||
	    get_string(u, "name", 1, &s->user_name, uwhere, err, errlen) < 0 ||
	    get_string(u, "email", 0, &s->user_email, uwhere, err, errlen) < 0) {
		shift_clear(s);
		return -1;
	}
	if (s->user_email && !s->user_email[0]) {
		free(s->user_email);
		s->user_email = NULL;
	}
	return 0;
}

/* An array of shifts at obj[key]; absent is an error only when required. */
static int parse_shifts(const cJSON *obj, const char *key, int required, int *present,
                        struct iio_shift **out, size_t *n, const char *where,
                        char *err, size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *it;
	size_t i = 0, cnt;
	char w[160];

	*out = NULL;
	*n = 0;
	if (present)
		*present = 0;
	if (!arr || (!required && cJSON_IsNull(arr))) {
		if (required)
			return fail(err, errlen, "%s has no \"%s\"", where, key);
		return 0;
	}
	if (!cJSON_IsArray(arr))
		return fail(err, errlen, "%s: \"%s\" is not an array", where, key);
	if (present)
		*present = 1;
	cnt = (size_t)cJSON_GetArraySize(arr);
	if (cnt == 0)
		return 0;
	*out = ecalloc(cnt, sizeof **out);
	cJSON_ArrayForEach(it, arr) {
		snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
		if (parse_shift(it, &(*out)[i], w, err, errlen) < 0) {
			iio_shifts_free(*out, i);
			*out = NULL;
			return -1;
		}
		i++;
	}
	*n = i;
	return 0;
}

void iio_schedule_clear(struct iio_schedule *s)
{
	free(s->id);
	free(s->name);
	free(s->timezone);
	iio_shifts_free(s->current, s->ncurrent);
	iio_shifts_free(s->next, s->nnext);
	memset(s, 0, sizeof *s);
}

static int parse_schedule(const cJSON *o, struct iio_schedule *s, const char *where,
                          char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(o))
		return fail(err, errlen, "%s is not an object", where);
	if (get_string(o, "id", 1, &s->id, where, err, errlen) < 0 ||
	    get_string(o, "name", 1, &s->name, where, err, errlen) < 0 ||
	    get_string(o, "timezone", 1, &s->timezone, where, err, errlen) < 0 ||
	    parse_shifts(o, "current_shifts", 0, &s->has_current, &s->current, &s->ncurrent,
	                 where, err, errlen) < 0 ||
	    parse_shifts(o, "next_shifts", 0, &s->has_next, &s->next, &s->nnext,
	                 where, err, errlen) < 0) {
		iio_schedule_clear(s);
		return -1;
	}
	if (!s->id[0]) {
		iio_schedule_clear(s);
		return fail(err, errlen, "%s: \"id\" is empty", where);
	}
	return 0;
}

/* pagination_meta.after: NULL when absent or empty. */
static int parse_after(const cJSON *root, int meta_required_after, char **after,
                       char *err, size_t errlen)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "pagination_meta");

	*after = NULL;
	if (!meta || cJSON_IsNull(meta))
		return 0;
	if (!cJSON_IsObject(meta))
		return fail(err, errlen, "\"pagination_meta\" is not an object");
	if (get_string(meta, "after", meta_required_after, after, "pagination_meta", err, errlen) < 0)
		return -1;
	if (*after && !(*after)[0]) {
		free(*after);
		*after = NULL;
	}
	return 0;
}

void iio_schedule_page_clear(struct iio_schedule_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		iio_schedule_clear(&p->items[i]);
	free(p->items);
	free(p->after);
	memset(p, 0, sizeof *p);
}

int iio_parse_schedule_list(const char *body, size_t len, struct iio_schedule_page *out,
                            char *err, size_t errlen)
{
	cJSON *root, *arr, *it, *meta, *total;
	size_t i = 0, cnt;
	char w[64];

	memset(out, 0, sizeof *out);
	out->total = -1;
	if (!(root = parse_body(body, len, err, errlen)))
		return -1;
	arr = cJSON_GetObjectItemCaseSensitive(root, "schedules");
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(root);
		return fail(err, errlen, arr ? "\"schedules\" is not an array"
		                             : "the response has no \"schedules\"");
	}
	cnt = (size_t)cJSON_GetArraySize(arr);
	out->items = ecalloc(cnt, sizeof *out->items); /* never NULL, even for none */
	cJSON_ArrayForEach(it, arr) {
		snprintf(w, sizeof w, "schedules[%zu]", i);
		if (parse_schedule(it, &out->items[i], w, err, errlen) < 0)
			goto bad;
		out->n = ++i;
	}
	if (parse_after(root, 0, &out->after, err, errlen) < 0)
		goto bad;
	out->total = -1;
	meta = cJSON_GetObjectItemCaseSensitive(root, "pagination_meta");
	total = cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "total_record_count") : NULL;
	if (total && !cJSON_IsNull(total)) {
		/* also keeps the conversion below defined */
		if (!cJSON_IsNumber(total) || !(total->valuedouble >= 0 && total->valuedouble <= 9e15)) {
			fail(err, errlen, "pagination_meta: \"total_record_count\" is not a count");
			goto bad;
		}
		out->total = (long long)total->valuedouble;
	}
	cJSON_Delete(root);
	return 0;
bad:
	cJSON_Delete(root);
	iio_schedule_page_clear(out);
	return -1;
}

int iio_parse_schedule_show(const char *body, size_t len, struct iio_schedule *out,
                            char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (!(root = parse_body(body, len, err, errlen)))
		return -1;
	if (!cJSON_GetObjectItemCaseSensitive(root, "schedule")) {
		cJSON_Delete(root);
		return fail(err, errlen, "the response has no \"schedule\"");
	}
	rc = parse_schedule(cJSON_GetObjectItemCaseSensitive(root, "schedule"), out, "schedule",
	                    err, errlen);
	cJSON_Delete(root);
	return rc;
}

void iio_entries_page_clear(struct iio_entries_page *p)
{
	iio_shifts_free(p->shifts, p->n);
	free(p->after);
	memset(p, 0, sizeof *p);
}

int iio_parse_entries(const char *body, size_t len, struct iio_entries_page *out,
                      char *err, size_t errlen)
{
	cJSON *root, *se;
	struct iio_shift *tmp;
	size_t ntmp;

	memset(out, 0, sizeof *out);
	if (!(root = parse_body(body, len, err, errlen)))
		return -1;
	se = cJSON_GetObjectItemCaseSensitive(root, "schedule_entries");
	if (!cJSON_IsObject(se)) {
		cJSON_Delete(root);
		return fail(err, errlen, se ? "\"schedule_entries\" is not an object"
		                            : "the response has no \"schedule_entries\"");
	}
	/* scheduled and overrides are required too; only final says who is on call */
	if (parse_shifts(se, "scheduled", 1, NULL, &tmp, &ntmp, "schedule_entries", err, errlen) < 0)
		goto bad;
	iio_shifts_free(tmp, ntmp);
	if (parse_shifts(se, "overrides", 1, NULL, &tmp, &ntmp, "schedule_entries", err, errlen) < 0)
		goto bad;
	iio_shifts_free(tmp, ntmp);
	if (parse_shifts(se, "final", 1, NULL, &out->shifts, &out->n, "schedule_entries",
	                 err, errlen) < 0)
		goto bad;
	if (parse_after(root, 1, &out->after, err, errlen) < 0)
		goto bad;
	cJSON_Delete(root);
	return 0;
bad:
	cJSON_Delete(root);
	iio_entries_page_clear(out);
	return -1;
}

/* Copy s into out, at most max bytes of it, cut between characters,
 * control characters and bytes that are not UTF-8 replaced: the text is
 * the server's and goes to a terminal and into records. */
static void clean_copy(char *out, size_t outlen, const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (outlen == 0)
		return;
	if (max > outlen - 1)
		max = outlen - 1;
	if (n > max)
		n = utf8_cut(s, max);
	for (i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[n] = '\0';
	utf8_sanitize(out, n);
	if (s[n] && n + 4 < outlen)
		memcpy(out + n, "...", 4);
}

void iio_describe_error(long status, const char *body, size_t len, char *out, size_t outlen,
                        char *type, size_t typelen)
{
	cJSON *root = len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *t = NULL, *errs, *e0, *msg = NULL;
	char tbuf[64] = "", mbuf[400] = "";

	if (cJSON_IsObject(root)) {
		t = cJSON_GetObjectItemCaseSensitive(root, "type");
		errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
		e0 = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
		if (cJSON_IsObject(e0))
			msg = cJSON_GetObjectItemCaseSensitive(e0, "message");
	}
	if (cJSON_IsString(t))
		clean_copy(tbuf, sizeof tbuf, t->valuestring, 60);
	if (cJSON_IsString(msg))
		clean_copy(mbuf, sizeof mbuf, msg->valuestring, 300);
	if (tbuf[0] && mbuf[0])
		snprintf(out, outlen, "incident.io answered %ld %s: %s", status, tbuf, mbuf);
	else if (tbuf[0])
		snprintf(out, outlen, "incident.io answered %ld %s", status, tbuf);
	else
		snprintf(out, outlen, "incident.io answered HTTP %ld", status);
	if (type && typelen)
		snprintf(type, typelen, "%s", tbuf);
	cJSON_Delete(root);
}

char *iio_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), j = 0;
	char *out = emalloc(3 * n + 1);

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return out;
}

int iio_looks_like_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return i == 26;
}

/* --------------------------------------------------------------- requests */

enum call_kind { CALL_LIST, CALL_SHOW, CALL_ENTRIES };

static void listing_done(struct http_request *req);
static void show_done(struct http_request *req);
static void entries_done(struct http_request *req);

struct call {
	struct iio_api *api;
	enum call_kind kind;
	void *target;
	char *what;            /* "GET /v2/..." for messages: no host, no key */
};

void iio_api_init(struct iio_api *api, struct http_client *http, const char *base_url,
                  const char *key)
{
	size_t n = strlen(base_url);

	memset(api, 0, sizeof *api);
	api->http = http;
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	api->base = estrndup(base_url, n);
	api->auth = easprintf("Authorization: Bearer %s", key);
}

void iio_api_clear(struct iio_api *api)
{
	free(api->base);
	secret_free(api->auth);   /* the key does not linger in freed memory */
	free(api->auth_error);
	memset(api, 0, sizeof *api);
}

/* next_page: a page whose cursor has come, started before the first pages
 * still waiting (it is the only way that listing goes on). */
static void submit_get(struct iio_api *api, enum call_kind kind, void *target,
                       const char *pathq, void (*done)(struct http_request *), int next_page)
{
	struct call *c = ecalloc(1, sizeof *c);
	char *url = easprintf("%s%s", api->base, pathq);
	struct http_request *req = http_request_new("GET", url);

	c->api = api;
	c->kind = kind;
	c->target = target;
	c->what = easprintf("GET %s", pathq);
	http_request_header(req, "%s", api->auth);
	http_request_header(req, "Accept: application/json");
	req->done = done;
	req->user = c;
	req->priority = next_page;
	free(url);
	http_submit(api->http, req);
}

static void call_free(struct call *c)
{
	free(c->what);
	free(c);
}

/* 0 for a 200 response; otherwise a message in *error (allocated). */
static int check_response(struct http_request *req, struct call *c, char **error, long *status)
{
	char msg[600], type[64];
	const char *ct;

	*status = req->status;
	ct = http_header_get(req, "content-type");
	if (req->status != 0 && ct && !strncasecmp(ct, "text/html", 9)) {
		/* whatever stands in the way answered, not incident.io */
		*error = easprintf("%s: incident.io answered HTTP %ld with a web page (text/html), "
		                   "not JSON: a captive portal or a proxy's block page?",
		                   c->what, req->status);
		return -1;
	}
	if (req->status == 200)
		return 0;
	if (req->status == 0) {
		*error = easprintf("%s failed after %d attempt%s: %s", c->what, req->attempts,
		                   req->attempts == 1 ? "" : "s",
		                   req->error[0] ? req->error : "no response");
		return -1;
	}
	iio_describe_error(req->status, req->resp.data, req->resp.len, msg, sizeof msg,
	                   type, sizeof type);
	if (req->status == 401) {
		const char *m = strchr(msg, ':');

		*error = easprintf("incident.io rejected the API key (401 %s)%s",
		                   type[0] ? type : "authentication_error",
		                   m && type[0] ? m : ": check INCIDENT_API_KEY");
		if (!c->api->auth_error)
			c->api->auth_error = estrdup(*error);
		return -1;
	}
	if (req->status == 403) {
		*error = easprintf("%s (%s): the API key needs the schedules.view permission",
		                   msg, c->what);
		return -1;
	}
	if (req->status >= 200 && req->status < 300)
		*error = easprintf("%s: unexpected HTTP status %ld", c->what, req->status);
	else if (req->status >= 500 || req->status == 429)
		*error = easprintf("%s (%s, after %d attempt%s)", msg, c->what, req->attempts,
		                   req->attempts == 1 ? "" : "s");
	else
		*error = easprintf("%s (%s)", msg, c->what);
	return -1;
}

const char *iio_error_code(long status)
{
	if (status == 0 || status >= 500)
		return "unavailable";
	if (status == 401)
		return "unauthenticated";
	if (status == 403)
		return "permission_denied";
	if (status == 404)
		return "not_found";
	if (status == 429)
		return "rate_limited";
	if (status >= 400)
		return "invalid";
	return "bad_response";
}

static char *bad_response(const struct call *c, const char *err)
{
	return easprintf("%s: unexpected response from incident.io: %s", c->what, err);
}

/* 1 when cursor was followed before (and records it otherwise). */
static int cursor_seen(char ***cursors, size_t *n, const char *cursor)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*cursors)[i], cursor) == 0)
			return 1;
	*cursors = erealloc(*cursors, (*n + 1) * sizeof **cursors);
	(*cursors)[(*n)++] = estrdup(cursor);
	return 0;
}

static void cursors_free(char **cursors, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cursors[i]);
	free(cursors);
}

/* schedules list */

static void listing_page(struct iio_api *api, struct iio_listing *l, const char *after)
{
	char *pathq;
	int size = api->list_page_size > 0 ? api->list_page_size : IIO_SCHEDULES_PAGE_SIZE;

	if (after) {
		char *e = iio_url_escape(after);

		pathq = easprintf("/v2/schedules?page_size=%d&after=%s", size, e);
		free(e);
	} else {
		pathq = easprintf("/v2/schedules?page_size=%d", size);
	}
	submit_get(api, CALL_LIST, l, pathq, listing_done, after != NULL);
	free(pathq);
}

static int
cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The listing is over: a schedule listed twice (a page served again in
 * place of another) would make the count match with a schedule missing. */
static void
listing_check_unique(struct iio_listing *l, const struct call *c)
{
	char **ids = emalloc((l->n + 1) * sizeof *ids);
	size_t i;

	for (i = 0; i < l->n; i++)
		ids[i] = l->items[i].id;
	qsort(ids, l->n, sizeof *ids, cmp_str_ptr);
	for (i = 1; i < l->n && !l->error; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			l->error = easprintf("%s: incident.io listed schedule %s twice; the listing may "
			                     "be incomplete", c->what, ids[i]);
	free(ids);
}

static void listing_done(struct http_request *req)
{
	struct call *c = req->user;
	struct iio_listing *l = c->target;
	struct iio_schedule_page page;
	char err[300];
	size_t i;

	l->pages++;
	if (check_response(req, c, &l->error, &l->status) < 0)
		goto out;
	if (iio_parse_schedule_list(req->resp.data, req->resp.len, &page, err, sizeof err) < 0) {
		l->error = bad_response(c, err);
		goto out;
	}
	if (l->n + page.n > l->cap) {
		l->cap = (l->n + page.n) * 2;
		l->items = erealloc(l->items, l->cap * sizeof *l->items);
	}
	for (i = 0; i < page.n; i++) {
		struct iio_schedule *it = &page.items[i];

		/* incident.io leaves next_shifts empty on list pages of more than
		 * 25: there it says nothing */
		if (!(c->api->list_page_size > 0 &&
		      c->api->list_page_size <= IIO_SCHEDULES_NEXT_PAGE_SIZE)) {
			iio_shifts_free(it->next, it->nnext);
			it->next = NULL;
			it->nnext = 0;
			it->has_next = 0;
		}
		l->items[l->n++] = *it;
	}
	page.n = 0;
	/* Every total a page states must be the same one: a listing whose
	 * size changed under it proves nothing. */
	if (page.total >= 0) {
		if (l->total >= 0 && l->total != page.total)
			l->error = easprintf("%s: incident.io stated %lld schedules on one page and %lld "
			                     "on another; the listing may be incomplete", c->what,
			                     l->total, page.total);
		l->total = page.total;
	}
	/* incident.io: stop when after is missing or empty, and on an empty page.
	 * The listing must be proven complete (with --all, a schedule missing
	 * from it would look deleted downstream and its group be pruned): no
	 * cursor left, and as many schedules as every page stated. An empty page
	 * that still carries a cursor is an end only when the total says so. */
	if (l->error)
		;
	else if (page.after && i > 0) {
		if (cursor_seen(&l->cursors, &l->ncursors, page.after))
			l->error = easprintf("%s: incident.io repeated the page cursor \"%s\"; "
			                     "stopped rather than loop", c->what, page.after);
		else if (l->pages >= IIO_MAX_PAGES)
			l->error = easprintf("%s: more than %d pages; stopped", c->what, IIO_MAX_PAGES);
		else
			listing_page(c->api, l, page.after);
	} else if (page.after && (l->total < 0 || (long long)l->n != l->total)) {
		if (l->total >= 0)
			l->error = easprintf("%s: incident.io answered an empty page after %zu of the %lld "
			                     "schedules it announced", c->what, l->n, l->total);
		else
			l->error = easprintf("%s: incident.io answered an empty page that still carries a "
			                     "cursor, after %zu schedules and without a total; the listing "
			                     "may be incomplete", c->what, l->n);
	} else if (l->total >= 0 && (long long)l->n != l->total) {
		l->error = easprintf("%s: the listing ended after %zu schedules, but incident.io "
		                     "stated %lld; it may be incomplete", c->what, l->n, l->total);
	} else {
		listing_check_unique(l, c);
	}
	iio_schedule_page_clear(&page);
out:
	call_free(c);
}

void iio_listing_submit(struct iio_api *api, struct iio_listing *l)
{
	memset(l, 0, sizeof *l);
	l->total = -1;
	listing_page(api, l, NULL);
}

void iio_listing_clear(struct iio_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		iio_schedule_clear(&l->items[i]);
	free(l->items);
	free(l->error);
	cursors_free(l->cursors, l->ncursors);
	memset(l, 0, sizeof *l);
}

/* one schedule */

static void show_done(struct http_request *req)
{
	struct call *c = req->user;
	struct iio_show *s = c->target;
	char err[300];

	if (check_response(req, c, &s->error, &s->status) == 0) {
		if (iio_parse_schedule_show(req->resp.data, req->resp.len, &s->sched, err,
		                            sizeof err) < 0)
			s->error = bad_response(c, err);
		else
			s->ok = 1;
	}
	call_free(c);
}

void iio_show_submit(struct iio_api *api, struct iio_show *s, const char *id)
{
	char *e = iio_url_escape(id), *pathq = easprintf("/v2/schedules/%s", e);

	memset(s, 0, sizeof *s);
	s->id = estrdup(id);
	submit_get(api, CALL_SHOW, s, pathq, show_done, 0);
	free(pathq);
	free(e);
}

void iio_show_clear(struct iio_show *s)
{
	free(s->id);
	iio_schedule_clear(&s->sched);
	free(s->error);
	memset(s, 0, sizeof *s);
}

/* schedule entries */

static void entries_page(struct iio_api *api, struct iio_entries *e, const char *start)
{
	char *id = iio_url_escape(e->schedule_id), *st = iio_url_escape(start);
	char *en = iio_url_escape(e->window_end);
	char *pathq = easprintf("/v2/schedule_entries?schedule_id=%s&entry_window_start=%s"
	                        "&entry_window_end=%s", id, st, en);

	submit_get(api, CALL_ENTRIES, e, pathq, entries_done, e->pages > 0);
	free(pathq);
	free(id);
	free(st);
	free(en);
}

static void entries_done(struct http_request *req)
{
	struct call *c = req->user;
	struct iio_entries *e = c->target;
	struct iio_entries_page page;
	char err[300];
	size_t i;

	e->pages++;
	if (check_response(req, c, &e->error, &e->status) < 0)
		goto out;
	if (iio_parse_entries(req->resp.data, req->resp.len, &page, err, sizeof err) < 0) {
		e->error = bad_response(c, err);
		goto out;
	}
	if (e->n + page.n > e->cap) {
		e->cap = (e->n + page.n) * 2;
		e->shifts = erealloc(e->shifts, e->cap * sizeof *e->shifts);
	}
	for (i = 0; i < page.n; i++)
		e->shifts[e->n++] = page.shifts[i];
	free(page.shifts);
	page.shifts = NULL;
	page.n = 0;
	/* pagination_meta is present only while more pages exist */
	if (page.after) {
		if (cursor_seen(&e->cursors, &e->ncursors, page.after))
			e->error = easprintf("%s: incident.io repeated the page cursor \"%s\"; "
			                     "stopped rather than loop", c->what, page.after);
		else if (e->pages >= IIO_MAX_PAGES)
			e->error = easprintf("%s: more than %d pages; stopped", c->what, IIO_MAX_PAGES);
		else
			entries_page(c->api, e, page.after);
	}
	iio_entries_page_clear(&page);
out:
	call_free(c);
}

void iio_entries_submit(struct iio_api *api, struct iio_entries *e, const char *schedule_id,
                        int64_t from_ms, int64_t to_ms)
{
	char from[40], to[40];

	memset(e, 0, sizeof *e);
	e->schedule_id = estrdup(schedule_id);
	e->window_end = estrdup(rfc3339_format(to_ms, to, sizeof to));
	entries_page(api, e, rfc3339_format(from_ms, from, sizeof from));
}

void iio_entries_clear(struct iio_entries *e)
{
	free(e->schedule_id);
	free(e->window_end);
	iio_shifts_free(e->shifts, e->n);
	free(e->error);
	cursors_free(e->cursors, e->ncursors);
	memset(e, 0, sizeof *e);
}
