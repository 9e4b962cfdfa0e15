/* incidentio.h: the incident.io calls fetch-oncall makes, and strict parsing
 * of their responses into plain structs.
 *
 * A response that is not the documented shape is an error for the schedule
 * (or page) it was for, with a message naming the call. Unknown fields are
 * ignored. */
#ifndef FETCH_ONCALL_INCIDENTIO_H
#define FETCH_ONCALL_INCIDENTIO_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define IIO_SCHEDULES_PAGE_SIZE 250  /* the most incident.io serves a page */
#define IIO_SCHEDULES_NEXT_PAGE_SIZE 25 /* the most for which lists carry next_shifts */
#define IIO_MAX_PAGES 100000         /* a guard against a server that never ends */

/* A final shift (ScheduleEntryV2). user_id is NULL when the entry has no user. */
struct iio_shift {
	char *user_id, *user_name, *user_email;  /* email NULL when absent or "" */
	int64_t start_ms, end_ms;
};

struct iio_schedule {
	char *id, *name, *timezone;
	int has_current;              /* current_shifts was present */
	struct iio_shift *current;
	size_t ncurrent;
	int has_next;                 /* next_shifts was present (see iio_api.list_page_size) */
	struct iio_shift *next;       /* the shifts after the next changeover */
	size_t nnext;
};

struct iio_schedule_page {
	struct iio_schedule *items;
	size_t n;
	char *after;                  /* NULL on the last page */
	long long total;              /* pagination_meta.total_record_count, or -1 */
};

struct iio_entries_page {
	struct iio_shift *shifts;     /* the final entries */
	size_t n;
	char *after;                  /* NULL on the last page */
};

/* Parsers: 0, or -1 with a message in err (what is wrong, not the call). */
int iio_parse_schedule_list(const char *body, size_t len, struct iio_schedule_page *out,
                            char *err, size_t errlen);
int iio_parse_schedule_show(const char *body, size_t len, struct iio_schedule *out,
                            char *err, size_t errlen);
int iio_parse_entries(const char *body, size_t len, struct iio_entries_page *out,
                      char *err, size_t errlen);

void iio_schedule_clear(struct iio_schedule *s);
void iio_schedule_page_clear(struct iio_schedule_page *p);
void iio_entries_page_clear(struct iio_entries_page *p);

/* "incident.io answered 404 not_found: Resource not found" from an error
 * response; falls back to the HTTP status when the body is not an
 * incident.io error. The error type is copied into type (may be ""). */
void iio_describe_error(long status, const char *body, size_t len, char *out, size_t outlen,
                        char *type, size_t typelen);

/* The machine-readable code of an error record for a failed request's
 * HTTP status: 0 (network) and 5xx "unavailable", 401 "unauthenticated",
 * 403 "permission_denied", 404 "not_found", 429 "rate_limited", other 4xx
 * "invalid", a 2xx with an unusable body "bad_response". */
const char *iio_error_code(long status);

/* Percent-encode s for a URL query value or path segment. */
char *iio_url_escape(const char *s);

/* 1 when s has the shape of today's incident.io ids (a 26-character ULID).
 * Only a hint for choosing requests: ids are opaque and may change. */
int iio_looks_like_id(const char *s);

/* The API client. */
struct iio_api {
	struct http_client *http;
	char *base;                   /* INCIDENT_API_URL without a trailing '/' */
	char *auth;                   /* the Authorization header line */
	char *auth_error;             /* set by the first 401: the message to print */
	int list_page_size;           /* GET /v2/schedules page_size; 0: the most */
};

void iio_api_init(struct iio_api *api, struct http_client *http, const char *base_url,
                  const char *key);
void iio_api_clear(struct iio_api *api);

/* Every schedule, page after page (GET /v2/schedules?page_size=250).
 * Complete only when proven so: every page read, no cursor left, and as
 * many schedules as pagination_meta.total_record_count on every page that
 * states it (all stating the same); otherwise error is set. */
struct iio_listing {
	struct iio_schedule *items;
	size_t n, cap;
	long pages;
	long long total;              /* the total the pages stated, or -1 */
	char *error;                  /* NULL when complete */
	long status;                  /* HTTP status of a failure (0: none or network) */
	char **cursors;               /* every after cursor followed */
	size_t ncursors;
};
void iio_listing_submit(struct iio_api *api, struct iio_listing *l);
void iio_listing_clear(struct iio_listing *l);

/* One schedule (GET /v2/schedules/{id}). */
struct iio_show {
	char *id;
	int ok;
	struct iio_schedule sched;
	char *error;
	long status;
};
void iio_show_submit(struct iio_api *api, struct iio_show *s, const char *id);
void iio_show_clear(struct iio_show *s);

/* A schedule's final entries in a window, page after page
 * (GET /v2/schedule_entries). */
struct iio_entries {
	char *schedule_id;
	char *window_end;             /* entry_window_end, the same on every page */
	struct iio_shift *shifts;
	size_t n, cap;
	long pages;
	char *error;
	long status;
	char **cursors;
	size_t ncursors;
};
void iio_entries_submit(struct iio_api *api, struct iio_entries *e, const char *schedule_id,
                        int64_t from_ms, int64_t to_ms);
void iio_entries_clear(struct iio_entries *e);

#endif
