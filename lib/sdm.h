/* sdm.h: StrongDM's admin API (gRPC over HTTP/2, signed requests).
 *
 * Calls are asynchronous: each function queues one call (a list call pages
 * through every page by cursor before its callback runs); sdm_run runs
 * everything queued, up to max_inflight calls at once on one HTTP/2
 * connection, and returns when all callbacks have run. Callbacks may queue
 * more calls. Items passed to a callback belong to the callback: an array
 * goes with the matching sdm_*s_free (the items' members and the array),
 * one entity with its sdm_*_clear (its members) and free.
 *
 * Retries follow StrongDM's SDKs: RESOURCE_EXHAUSTED waits until reset_at
 * (or backs off 1 s × 1.6^n, capped at 120 s, ±20 % jitter when absent);
 * INTERNAL and UNAVAILABLE (and network errors) are retried at most 3 times
 * with backoff and jitter; nothing else is retried; every attempt is signed
 * again. */
#ifndef ONCALL_SDM_H
#define ONCALL_SDM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SDM_API_VERSION "2025-04-14"
#define SDM_DEFAULT_HOST "app.strongdm.com:443"

/* gRPC status codes StrongDM uses. */
enum {
	SDM_OK = 0,
	SDM_INVALID_ARGUMENT = 3,
	SDM_NOT_FOUND = 5,
	SDM_ALREADY_EXISTS = 6,
	SDM_PERMISSION_DENIED = 7,
	SDM_RESOURCE_EXHAUSTED = 8,
	SDM_INTERNAL = 13,
	SDM_UNAVAILABLE = 14,
	SDM_UNAUTHENTICATED = 16,
	SDM_TRANSPORT = -1,  /* no gRPC status: network error, bad framing, bad message */
	SDM_STOPPED = -2     /* not sent: dropped by a stop (sdm_client_stop_on) */
};

struct sdm_config {
	char *host;          /* "app.strongdm.com:443", or "http://127.0.0.1:PORT" (h2c) */
	char *access_key;
	char *secret_key;    /* base64 text, trimmed */
	int max_inflight;    /* default 8 */
	long timeout_ms;     /* one attempt; default 30000 (SDM_API_TIMEOUT) */
};

/* Read SDM_API_HOST, SDM_API_ACCESS_KEY / SDM_API_ACCESS_KEY_FILE,
 * SDM_API_SECRET_KEY / SDM_API_SECRET_KEY_FILE, and SDM_API_TIMEOUT (a
 * duration such as "30s": how long one attempt may take). A missing key, a secret that
 * is not base64, a key file readable by others, or a plaintext host that is
 * not loopback is an error (-1, message in err, never containing a secret). */
int sdm_config_from_env(struct sdm_config *cfg, char *err, size_t errlen);
void sdm_config_clear(struct sdm_config *cfg);

struct sdm_client;
struct sdm_client *sdm_client_new(const struct sdm_config *cfg, char *err, size_t errlen);
void sdm_client_free(struct sdm_client *c);
/* Returns the number of calls (queued before or during this run) whose
 * callback got an error: 0 when all succeeded. */
int sdm_run(struct sdm_client *c);

/* Stop on *flag (a signal handler sets it): from then on, every write
 * waiting to be sent (queued, held by the rate limit, or waiting to try
 * again after RESOURCE_EXHAUSTED) ends at once with SDM_STOPPED, unsent,
 * unless an earlier attempt of it may have reached StrongDM (it is then
 * sent again, to settle it). Reads and the writes on the wire run to their
 * end. */
void sdm_client_stop_on(struct sdm_client *c, volatile sig_atomic_t *flag);

struct sdm_error {
	int code;               /* SDM_OK or a gRPC status, or SDM_TRANSPORT */
	char message[512];      /* percent-decoded grpc-message or transport error */
	int64_t reset_at_ms;    /* from RateLimitMetadata, 0 if none */
	int replayed;           /* the call was sent again after an attempt that may
	                           have reached StrongDM (a stream reset, a cut
	                           connection, INTERNAL, UNAVAILABLE): a write may
	                           have been applied whatever this error says, so
	                           read the state before concluding */
};

/* Counters: calls, attempts, waits for rate limits, retries, pages. */
struct sdm_stats {
	long calls;
	long attempts;
	long rate_limited;
	long retries;        /* INTERNAL/UNAVAILABLE/network retries */
	long pages;          /* requests asked for (list pages and single calls), before retries */
};
void sdm_client_stats(const struct sdm_client *c, struct sdm_stats *out);

/* Entities. */
struct sdm_tag { char *name, *value; };
struct sdm_tags { struct sdm_tag *v; size_t n; };

enum sdm_account_kind { SDM_ACCOUNT_USER = 1, SDM_ACCOUNT_SERVICE = 2, SDM_ACCOUNT_TOKEN = 3 };
struct sdm_account {
	enum sdm_account_kind kind;
	char *id;
	char *email;        /* users only */
	char *first_name, *last_name;
	char *name;         /* services and tokens */
	int suspended;
	struct sdm_tags tags;
};
struct sdm_identity_set { char *id, *name; };
struct sdm_identity_alias { char *id, *account_id, *identity_set_id, *username; };
struct sdm_group {
	char *id, *name, *description, *source;
	struct sdm_tags tags;
};
struct sdm_account_group { char *id, *account_id, *group_id; };
/* A role (access rules are not read: oncall-sync only attaches roles) and
 * its attachment to a group. */
struct sdm_role {
	char *id, *name, *managed_by;
	struct sdm_tags tags;
};
struct sdm_group_role { char *id, *group_id, *role_id; };

void sdm_tags_clear(struct sdm_tags *t);
const char *sdm_tags_get(const struct sdm_tags *t, const char *name);
void sdm_tags_set(struct sdm_tags *t, const char *name, const char *value);
void sdm_account_clear(struct sdm_account *a);
void sdm_group_clear(struct sdm_group *g);
void sdm_identity_set_clear(struct sdm_identity_set *s);
void sdm_identity_alias_clear(struct sdm_identity_alias *a);
void sdm_account_group_clear(struct sdm_account_group *ag);
void sdm_accounts_free(struct sdm_account *v, size_t n);  /* frees members and v */
void sdm_groups_free(struct sdm_group *v, size_t n);
void sdm_identity_sets_free(struct sdm_identity_set *v, size_t n);
void sdm_identity_aliases_free(struct sdm_identity_alias *v, size_t n);
void sdm_account_groups_free(struct sdm_account_group *v, size_t n);
void sdm_role_clear(struct sdm_role *r);
void sdm_group_role_clear(struct sdm_group_role *gr);
void sdm_roles_free(struct sdm_role *v, size_t n);
void sdm_group_roles_free(struct sdm_group_role *v, size_t n);

/* Filters: terms joined by spaces, values JSON-quoted.
 * sdm_filter_add(&f, "email", "a@b.c") appends email:"a@b.c";
 * sdm_filter_add_tag(&f, "managed-by", "oncall-sync") appends tag:"managed-by"="oncall-sync". */
void sdm_filter_add(struct buf *f, const char *field, const char *value);
void sdm_filter_add_tag(struct buf *f, const char *key, const char *value);

/* List calls. filter may be NULL; limit 0 means the default (50). On error
 * v is NULL and n 0. In every callback err is NULL on success. */
typedef void (*sdm_accounts_cb)(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err);
typedef void (*sdm_groups_cb)(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err);
typedef void (*sdm_identity_sets_cb)(void *user, struct sdm_identity_set *v, size_t n, const struct sdm_error *err);
typedef void (*sdm_identity_aliases_cb)(void *user, struct sdm_identity_alias *v, size_t n, const struct sdm_error *err);
typedef void (*sdm_account_groups_cb)(void *user, struct sdm_account_group *v, size_t n, const struct sdm_error *err);

void sdm_accounts_list(struct sdm_client *c, const char *filter, int limit, sdm_accounts_cb cb, void *user);
void sdm_identity_sets_list(struct sdm_client *c, const char *filter, int limit, sdm_identity_sets_cb cb, void *user);
void sdm_identity_aliases_list(struct sdm_client *c, const char *filter, int limit, sdm_identity_aliases_cb cb, void *user);
void sdm_groups_list(struct sdm_client *c, const char *filter, int limit, sdm_groups_cb cb, void *user);
void sdm_account_groups_list(struct sdm_client *c, const char *filter, int limit, sdm_account_groups_cb cb, void *user);

/* Roles.List (filters id, name) and GroupsRoles.List (filters id, groupid,
 * roleid). */
typedef void (*sdm_roles_cb)(void *user, struct sdm_role *v, size_t n, const struct sdm_error *err);
typedef void (*sdm_group_roles_cb)(void *user, struct sdm_group_role *v, size_t n, const struct sdm_error *err);
void sdm_roles_list(struct sdm_client *c, const char *filter, int limit, sdm_roles_cb cb, void *user);
void sdm_group_roles_list(struct sdm_client *c, const char *filter, int limit, sdm_group_roles_cb cb, void *user);

/* The same page by page, so that a caller keeps only what it needs or stops
 * early: cb gets each page's items (and owns them), more = 1 when another
 * page follows; it returns non-zero to have that page fetched, 0 to end the
 * listing there. On error v is NULL, n 0, more 0, and the call ends. */
typedef int (*sdm_accounts_page_cb)(void *user, struct sdm_account *v, size_t n, int more,
                                    const struct sdm_error *err);
typedef int (*sdm_account_groups_page_cb)(void *user, struct sdm_account_group *v, size_t n,
                                          int more, const struct sdm_error *err);
typedef int (*sdm_identity_aliases_page_cb)(void *user, struct sdm_identity_alias *v, size_t n,
                                            int more, const struct sdm_error *err);
void sdm_accounts_list_pages(struct sdm_client *c, const char *filter, int limit,
                             sdm_accounts_page_cb cb, void *user);
void sdm_account_groups_list_pages(struct sdm_client *c, const char *filter, int limit,
                                   sdm_account_groups_page_cb cb, void *user);
void sdm_identity_aliases_list_pages(struct sdm_client *c, const char *filter, int limit,
                                     sdm_identity_aliases_page_cb cb, void *user);

/* Single-entity calls. The group passed in is copied; the callback gets the
 * server's answer (NULL on error) and owns it: sdm_group_clear(g); free(g)
 * (or sdm_groups_free(g, 1)). */
typedef void (*sdm_group_cb)(void *user, struct sdm_group *g, const struct sdm_error *err);
typedef void (*sdm_account_group_cb)(void *user, struct sdm_account_group *ag, const struct sdm_error *err);
typedef void (*sdm_done_cb)(void *user, const struct sdm_error *err);

void sdm_group_create(struct sdm_client *c, const struct sdm_group *g, sdm_group_cb cb, void *user);
void sdm_group_update(struct sdm_client *c, const struct sdm_group *g, sdm_group_cb cb, void *user); /* g->id names it */
void sdm_group_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user);
void sdm_account_group_create(struct sdm_client *c, const char *account_id, const char *group_id, sdm_account_group_cb cb, void *user);
void sdm_account_group_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user);

/* GroupsRoles.Create (attach a role to a group) and .Delete (by the
 * grouprole- id). */
typedef void (*sdm_group_role_cb)(void *user, struct sdm_group_role *gr, const struct sdm_error *err);
void sdm_group_role_create(struct sdm_client *c, const char *group_id, const char *role_id,
                           sdm_group_role_cb cb, void *user);
void sdm_group_role_delete(struct sdm_client *c, const char *id, sdm_done_cb cb, void *user);

/* Human-readable name of a gRPC status ("RESOURCE_EXHAUSTED"). */
const char *sdm_status_name(int code);
/* The machine-readable code of an error record (the "code" field) for a
 * gRPC status: "unauthenticated", "permission_denied", "not_found",
 * "rate_limited", "unavailable" (UNAVAILABLE, INTERNAL, a network error),
 * "invalid", "already_exists", or "failed" for any other. */
const char *sdm_error_code(int code);

#endif
