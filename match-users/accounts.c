/* accounts.c: reading the StrongDM accounts (and aliases) a run needs, in
 * as few requests as possible.
 *
 * P distinct people: at most --lookup-max of them are looked up one by one
 * with a filter (the calls run concurrently), by email after one page of
 * every user showed that the organization does not fit in it; more are
 * served by one paged listing of every user, of which each page keeps only
 * the needed ones. StrongDM's
 * filters ignore case and treat * as a wildcard, so every answer is checked
 * again exactly in code (match_add_account_for, match_add_alias). */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "sdm.h"
#include "util.h"

struct ctx {
	struct match_index *idx;
	struct sdm_client *c;
	const char *set_id;         /* alias mode: the identity set's id */
	size_t queued_accounts;     /* alias look-ups: account ids already queued */
	int per_account;            /* alias look-ups: query accounts by id as found */
	int probing;                /* one page of a listing, to see if it is all */
	int probed_more;            /* ... and it was not */
};

struct one {
	struct ctx *ctx;
	size_t i;                   /* the key (or alias account) looked up */
};

static enum match_kind
kind_of(enum sdm_account_kind k)
{
	switch (k) {
	case SDM_ACCOUNT_USER: return MATCH_USER;
	case SDM_ACCOUNT_SERVICE: return MATCH_SERVICE;
	case SDM_ACCOUNT_TOKEN: return MATCH_TOKEN;
	}
	return MATCH_SERVICE;   /* an account kind we do not know never matches */
}

/* The client's message names the call and the status already. */
static void
error_text(const struct sdm_error *err, char *out, size_t n)
{
	const char *m = err->message[0] ? err->message : sdm_status_name(err->code);

	if (err->code == SDM_UNAUTHENTICATED)
		snprintf(out, n, "%s (check SDM_API_ACCESS_KEY and SDM_API_SECRET_KEY)", m);
	else if (err->code == SDM_PERMISSION_DENIED)
		snprintf(out, n, "%s (the API key needs user:list, and identityset:read and "
		         "identityalias:read for alias matching)", m);
	else
		snprintf(out, n, "%s", m);
}

/* A key or a missing permission fails every call alike: fail everyone. */
static int
fatal(struct ctx *x, const struct sdm_error *err)
{
	char msg[768];

	if (err->code != SDM_UNAUTHENTICATED && err->code != SDM_PERMISSION_DENIED)
		return 0;
	error_text(err, msg, sizeof msg);
	match_fail_all(x->idx, sdm_error_code(err->code), msg);
	return 1;
}

static void
fail_keys(struct ctx *x, const struct sdm_error *err)
{
	char msg[768];

	if (fatal(x, err))
		return;
	error_text(err, msg, sizeof msg);
	for (size_t i = 0; i < match_key_count(x->idx); i++)
		match_fail_key(x->idx, i, sdm_error_code(err->code), msg);
}

static void
fail_alias_accounts(struct ctx *x, const struct sdm_error *err)
{
	char msg[768];

	if (fatal(x, err))
		return;
	error_text(err, msg, sizeof msg);
	for (size_t i = 0; i < match_alias_account_count(x->idx); i++)
		match_fail_alias_account(x->idx, match_alias_account(x->idx, i),
		                         sdm_error_code(err->code), msg);
}

static void
add_accounts(struct match_index *idx, long key, struct sdm_account *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (key >= 0)
			match_add_account_for(idx, (size_t)key, v[i].id, kind_of(v[i].kind),
			                      v[i].email, v[i].suspended);
		else
			match_add_account(idx, v[i].id, kind_of(v[i].kind), v[i].email,
			                  v[i].suspended);
	}
}

/* ------------------------------------------------------------ by email */

static void
email_one_done(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;

	if (err && err->code != SDM_OK) {
		char msg[768];
		if (!fatal(o->ctx, err)) {
			error_text(err, msg, sizeof msg);
			match_fail_key(o->ctx->idx, o->i, sdm_error_code(err->code), msg);
		}
	} else {
		add_accounts(o->ctx->idx, (long)o->i, v, n);
	}
	sdm_accounts_free(v, n);
}

/* Whether a page of a listing is kept: always, but when probing only if it
 * is the whole listing (else x->probed_more is set). */
static int
page_wanted(struct ctx *x, int more)
{
	if (x->probing && more) {
		x->probed_more = 1;
		return 0;
	}
	return 1;
}

/* Every user (by email), or every account (the accounts aliases name:
 * services and tokens too, so that the reason can say what an alias names),
 * page by page: each page keeps the accounts somebody needs and is freed.
 * Probing (x->probing), only a listing that fits in its first page is used;
 * a longer one is set aside (x->probed_more) for look-ups. A failure fails
 * the people (by email) or the alias accounts (by alias: x->set_id). */
static int
accounts_page(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct ctx *x = user;

	if (err && err->code != SDM_OK) {
		if (x->set_id)
			fail_alias_accounts(x, err);
		else
			fail_keys(x, err);
		return 0;
	}
	if (page_wanted(x, more))
		add_accounts(x->idx, -1, v, n);
	sdm_accounts_free(v, n);
	return !x->probing;
}

/* Runs a paged listing of one page (probe = 1) or all; 1 when a probe found
 * more pages than the one it read. */
static int
list_run(struct ctx *x, int probe, void (*start)(struct ctx *x))
{
	x->probing = probe;
	x->probed_more = 0;
	start(x);
	sdm_run(x->c);
	x->probing = 0;
	return x->probed_more;
}

static void
start_users(struct ctx *x)
{
	struct buf f = { 0 };

	sdm_filter_add(&f, "type", "user");
	sdm_accounts_list_pages(x->c, f.data, ACCOUNTS_PAGE, accounts_page, x);
	buf_clear(&f);
}

static void
lookup_emails(struct ctx *x, size_t p)
{
	struct one *ones = ecalloc(p, sizeof *ones);
	struct buf f = { 0 };

	for (size_t i = 0; i < p; i++) {
		ones[i] = (struct one){ x, i };
		f.len = 0;
		sdm_filter_add(&f, "type", "user");
		sdm_filter_add(&f, "email", match_key(x->idx, i));
		sdm_accounts_list(x->c, f.data, ACCOUNTS_LOOKUP_PAGE, email_one_done, &ones[i]);
	}
	sdm_run(x->c);
	buf_clear(&f);
	free(ones);
}

/*
 * P people: more than --lookup-max, one listing of every user. From
 * ACCOUNTS_PROBE_MIN up to --lookup-max, first one page of that listing: an
 * organization with at most ACCOUNTS_PAGE users is all in it, one request
 * instead of P; a bigger one costs that page more than the P look-ups that
 * follow. Fewer people: the look-ups.
 */
static void
by_email(struct ctx *x, const struct accounts_opts *o, struct accounts_report *rep)
{
	size_t p = match_key_count(x->idx);
	int lookups = (long)p <= o->lookup_max;

	if (p == 0)
		return;
	if (!lookups || p >= ACCOUNTS_PROBE_MIN) {
		rep->probed = lookups;
		/* a failed page failed every key already */
		lookups = list_run(x, lookups, start_users);
		rep->listed = !lookups;
	}
	if (lookups)
		lookup_emails(x, p);
}

/* ------------------------------------------------------------ by alias */

struct set_lookup {
	const char *want;
	char *id, *name;
	int found, failed;
	struct sdm_error err;
	struct buf known;           /* "name (id), ..." when not found */
};

static int
set_is(const struct sdm_identity_set *s, const char *want)
{
	return (s->id && strcmp(s->id, want) == 0) || (s->name && strcmp(s->name, want) == 0);
}

static void
sets_done(void *user, struct sdm_identity_set *v, size_t n, const struct sdm_error *err)
{
	struct set_lookup *l = user;

	if (err && err->code != SDM_OK) {
		l->failed = 1;
		l->err = *err;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!l->found && set_is(&v[i], l->want)) {
				l->found = 1;
				l->id = estrdup(v[i].id ? v[i].id : "");
				l->name = estrdup(v[i].name ? v[i].name : "");
			}
			buf_printf(&l->known, "%s%s (%s)", l->known.len ? ", " : "",
			           v[i].name ? v[i].name : "", v[i].id ? v[i].id : "");
		}
	}
	sdm_identity_sets_free(v, n);
}

/* Finds the identity set: 0 found, -1 failed (recorded), EXIT_USAGE. */
static int
find_set(struct ctx *x, const char *want, struct set_lookup *l)
{
	struct buf f = { 0 };
	char msg[768];

	sdm_filter_add(&f, strncmp(want, "ig-", 3) == 0 ? "id" : "name", want);
	sdm_identity_sets_list(x->c, f.data, ACCOUNTS_LOOKUP_PAGE, sets_done, l);
	sdm_run(x->c);
	buf_clear(&f);
	if (!l->found && !l->failed) {
		/* Name the sets there are, to help the user choose. */
		l->known.len = 0;
		sdm_identity_sets_list(x->c, NULL, ACCOUNTS_PAGE, sets_done, l);
		sdm_run(x->c);
		if (!l->failed) {
			weprintf("identity set %s not found in StrongDM; the sets there: %s", want,
			         l->known.len ? l->known.data : "none");
			return EXIT_USAGE;
		}
	}
	if (l->failed) {
		if (!fatal(x, &l->err)) {
			error_text(&l->err, msg, sizeof msg);
			match_fail_all(x->idx, sdm_error_code(l->err.code), msg);
		}
		return -1;
	}
	return 0;
}

static void
add_aliases(struct ctx *x, long key, struct sdm_identity_alias *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].identity_set_id || strcmp(v[i].identity_set_id, x->set_id) != 0)
			continue;
		if (key >= 0 && (!v[i].username ||
		                 strcmp(v[i].username, match_key(x->idx, (size_t)key)) != 0))
			continue;
		match_add_alias(x->idx, v[i].username, v[i].account_id);
	}
}

static void account_one_done(void *user, struct sdm_account *v, size_t n,
                             const struct sdm_error *err);

/* Queues a look-up by id for every alias account not yet queued. */
static void
queue_account_lookups(struct ctx *x)
{
	struct buf f = { 0 };
	size_t n = match_alias_account_count(x->idx);

	for (; x->queued_accounts < n; x->queued_accounts++) {
		struct one *o = emalloc(sizeof *o);
		*o = (struct one){ x, x->queued_accounts };
		f.len = 0;
		sdm_filter_add(&f, "id", match_alias_account(x->idx, x->queued_accounts));
		sdm_accounts_list(x->c, f.data, ACCOUNTS_LOOKUP_PAGE, account_one_done, o);
	}
	buf_clear(&f);
}

static void
account_one_done(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;
	const char *id = match_alias_account(o->ctx->idx, o->i);

	if (err && err->code != SDM_OK) {
		char msg[768];
		if (!fatal(o->ctx, err)) {
			error_text(err, msg, sizeof msg);
			match_fail_alias_account(o->ctx->idx, id, sdm_error_code(err->code), msg);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (v[i].id && strcmp(v[i].id, id) == 0)
				match_add_account(o->ctx->idx, v[i].id, kind_of(v[i].kind), v[i].email,
				                  v[i].suspended);
	}
	sdm_accounts_free(v, n);
	free(o);
}

static void
alias_one_done(void *user, struct sdm_identity_alias *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;

	if (err && err->code != SDM_OK) {
		char msg[768];
		if (!fatal(o->ctx, err)) {
			error_text(err, msg, sizeof msg);
			match_fail_key(o->ctx->idx, o->i, sdm_error_code(err->code), msg);
		}
	} else {
		add_aliases(o->ctx, (long)o->i, v, n);
		if (o->ctx->per_account)
			queue_account_lookups(o->ctx);
	}
	sdm_identity_aliases_free(v, n);
}

/* The set's aliases, page by page; probing as accounts_page. */
static int
aliases_page(void *user, struct sdm_identity_alias *v, size_t n, int more,
             const struct sdm_error *err)
{
	struct ctx *x = user;

	if (err && err->code != SDM_OK) {
		fail_keys(x, err);
		return 0;
	}
	if (page_wanted(x, more))
		add_aliases(x, -1, v, n);
	sdm_identity_aliases_free(v, n);
	return !x->probing;
}

static void
start_aliases(struct ctx *x)
{
	struct buf f = { 0 };

	sdm_filter_add(&f, "identitysetid", x->set_id);
	sdm_identity_aliases_list_pages(x->c, f.data, ACCOUNTS_PAGE, aliases_page, x);
	buf_clear(&f);
}

static void
start_accounts(struct ctx *x)
{
	sdm_accounts_list_pages(x->c, NULL, ACCOUNTS_PAGE, accounts_page, x);
}

/* The accounts the aliases name, once every alias is known: as the people
 * by email (look-ups, a first page, or a listing), by id. */
static void
alias_accounts(struct ctx *x, long lookup_max, struct accounts_report *rep)
{
	size_t a = match_alias_account_count(x->idx);
	int lookups = (long)a <= lookup_max;

	if (a == 0 || match_failed_all(x->idx))
		return;
	if (!lookups || a >= ACCOUNTS_PROBE_MIN) {
		lookups = list_run(x, lookups, start_accounts);
		rep->accounts_listed = !lookups;
	}
	if (lookups) {
		queue_account_lookups(x);
		sdm_run(x->c);
	}
}

/*
 * The set, then the aliases of the people as their emails are read: more
 * than --lookup-max people, one listing of the set's aliases; from
 * ACCOUNTS_PROBE_MIN, its first page when it is the whole listing; else one
 * look-up per person, each answer queueing the look-up of its account at
 * once (the two kinds of call overlap).
 */
static int
by_alias(struct ctx *x, const struct accounts_opts *o, struct accounts_report *rep)
{
	struct set_lookup l = { .want = o->identity_set };
	size_t p = match_key_count(x->idx);
	struct buf f = { 0 };
	struct one *ones = NULL;
	int rc, lookups;

	/* The set is looked up even with nobody on call: a wrong name is a
	 * usage error whatever the roster. */
	rc = find_set(x, o->identity_set, &l);
	if (rc)
		goto out;
	x->set_id = l.id;
	if (strcmp(l.name, o->identity_set) == 0 || !*l.name)
		match_set_identity_set(x->idx, o->identity_set);
	else {
		char *label = easprintf("%s (%s)", l.name, l.id);
		match_set_identity_set(x->idx, label);
		free(label);
	}
	if (p == 0)
		goto out;
	lookups = (long)p <= o->lookup_max;
	if (!lookups || p >= ACCOUNTS_PROBE_MIN) {
		rep->probed = lookups;
		lookups = list_run(x, lookups, start_aliases);
		rep->listed = !lookups;
		if (!lookups) {
			alias_accounts(x, o->lookup_max, rep);
			goto out;
		}
	}
	x->per_account = 1;
	ones = ecalloc(p, sizeof *ones);
	for (size_t i = 0; i < p; i++) {
		ones[i] = (struct one){ x, i };
		f.len = 0;
		sdm_filter_add(&f, "identitysetid", x->set_id);
		sdm_filter_add(&f, "username", match_key(x->idx, i));
		sdm_identity_aliases_list(x->c, f.data, ACCOUNTS_LOOKUP_PAGE, alias_one_done, &ones[i]);
	}
	sdm_run(x->c);
out:
	x->set_id = NULL;
	buf_clear(&f);
	buf_clear(&l.known);
	free(l.id);
	free(l.name);
	free(ones);
	return rc == EXIT_USAGE ? EXIT_USAGE : 0;
}

int
accounts_read_sdm(struct match_index *idx, struct sdm_client *c,
                  const struct accounts_opts *o, struct accounts_report *rep)
{
	struct ctx x = { .idx = idx, .c = c };

	memset(rep, 0, sizeof *rep);
	rep->people = match_key_count(idx);
	if (match_index_by(idx) == MATCH_BY_ALIAS)
		return by_alias(&x, o, rep);
	by_email(&x, o, rep);
	return 0;
}
