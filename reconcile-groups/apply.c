/* apply.c: StrongDM reads, the plan, and the writes of reconcile-groups.
 *
 * Reads, started before the input is read (they need nothing from it): the
 * managed groups in one filtered listing, then their memberships (see
 * on_managed: per group, or first one page of every membership, which is
 * all of them in a small organization, or the whole listing page by page).
 * The input is read and checked meanwhile, in a thread; no write is queued
 * before it is complete.
 *
 * Dry run: the names to be given to a group are looked up (one name: look-up
 * each, or one listing of every group when there are many), so that the plan
 * shows a name taken by an unmanaged group. Writing, names are not looked up:
 * StrongDM answers ALREADY_EXISTS to the create or rename, which is the same
 * error for that schedule. (Except when the client had to retry calls: a
 * create whose answer was lost meets ALREADY_EXISTS on its retry, so then
 * one name: look-up tells this run's own group from a name taken.)
 *
 * Writes follow the plan's dependencies, all in one run of the client: the
 * creates and renames, the adds and removes of other groups and the removes
 * of pruned groups start at once; a group's adds and removes start when its
 * create or rename is done; a pruned group's delete when its last member is
 * removed. The emails of removed members that the input does not name (for
 * the change records) are looked up concurrently with the writes, in the
 * same way as the memberships (see queue_email_lookups). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "apply.h"
#include "roles.h"
#include "spec.h"

/* New groups say what they are in the Admin UI; a rename keeps whatever
 * description the group has. */
#define GROUP_DESCRIPTION "Who is on call on an incident.io schedule; managed by oncall-sync " \
	"(members added by hand are removed)"
#define SPEC_GROUP_DESCRIPTION "Who is on call on the incident.io schedules of an oncall-sync " \
	"group spec; managed by oncall-sync (members added by hand are removed)"

struct member_row {
	size_t group;               /* index into st->managed */
	struct plan_member m;
};

struct state {
	struct sdm_client *c;
	struct plan *plan;
	const char *instance;       /* --instance (NULL: the default) */
	int read_failed;

	struct sdm_group *listed;   /* the managed-tag listing, as answered */
	size_t n_listed;
	struct sdm_group **managed; /* those whose tags are exactly ours, by id */
	size_t n_managed;
	char **keys;                /* each managed group's key (spec.h), by the same index */

	struct sdm_account_group *ags;  /* memberships of managed groups */
	size_t n_ags, cap_ags;

	struct sdm_group *others;   /* unmanaged groups found by name (dry run) */
	size_t n_others, cap_others;

	char **want;                /* the ids whose email is wanted, sorted, unique */
	char **want_email;          /* want[k]'s email once learnt, else NULL */
	size_t *want_defer;         /* want[k]'s first remove waiting for it */
	size_t n_want, n_unknown;   /* ids wanted; those without an email yet */
	int letters_pending;        /* listings per first letter not ended */
	char next_letter;           /* the next of them to start */

	/* writes */
	struct call *calls;
	size_t *next_dep;           /* the next change waiting for the same change */
	size_t *first_dep;          /* the first change waiting for this one */
	size_t *pending;            /* delete_group: its removes not yet finished */
	size_t *delete_of;          /* a pruned remove: its group's delete_group */
	unsigned char *member_failed;   /* delete_group: one of its removes failed */

	/* streaming the records, and stopping on a signal */
	struct record_writer *out;  /* NULL: the caller writes every record at the end */
	int writing;                /* the plan is being applied */
	int jobs;                   /* writes handed to the client at once, at most */
	int submitted;              /* writes handed to the client, not yet answered */
	size_t *ready;              /* FIFO: changes that may start, waiting for a slot */
	size_t n_ready, next_ready;
	int lookups_pending;        /* email look-ups not yet answered */
	unsigned char *deferred;    /* a remove waiting for its member's email */
	size_t *defer_next;         /* the next remove waiting for the same one */
};

volatile sig_atomic_t apply_stop;

struct lookup {
	struct state *st;
	const char *name;
};

struct call {
	struct state *st;
	size_t i;
	char *answer;               /* a replayed write's final answer, while the
	                               state is read to settle it */
	int answer_code;
};

static void queue_change(struct state *st, size_t i);
static void settle(struct state *st, size_t i);

static void
free_single_group(struct sdm_group *g)
{
	if (g) {
		sdm_group_clear(g);
		free(g);
	}
}

static void
free_single_account_group(struct sdm_account_group *ag)
{
	if (ag) {
		sdm_account_group_clear(ag);
		free(ag);
	}
}

static void
read_error(struct state *st, const char *what, const struct sdm_error *err)
{
	/* the client's message names the method and the status */
	weprintf("%s: %s", what, err->message);
	st->read_failed = 1;
}

static int
cmp_group_ptr_id(const void *a, const void *b)
{
	return strcmp((*(struct sdm_group *const *)a)->id, (*(struct sdm_group *const *)b)->id);
}

static int
cmp_key_group_ptr(const void *key, const void *elem)
{
	return strcmp(key, (*(struct sdm_group *const *)elem)->id);
}

static long
managed_index(const struct state *st, const char *id)
{
	struct sdm_group **hit;

	if (!st->n_managed || !id)
		return -1;
	hit = bsearch(id, st->managed, st->n_managed, sizeof *st->managed, cmp_key_group_ptr);
	return hit ? hit - st->managed : -1;
}

static int
cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
is_managed(const struct state *st, const struct sdm_group *g)
{
	const char *by = sdm_tags_get(&g->tags, MANAGED_BY_TAG);
	const char *sid = sdm_tags_get(&g->tags, SCHEDULE_ID_TAG);
	const char *spec = sdm_tags_get(&g->tags, GROUP_TAG);

	/* the filter matched case-insensitively; the tag must be exactly ours,
	 * and the group this instance's; a schedule's group or a spec's */
	return g->id && g->name && by && strcmp(by, MANAGED_BY_VALUE) == 0 &&
	       ((sid && *sid) || (spec && *spec)) &&
	       instance_owns(st->instance, sdm_tags_get(&g->tags, INSTANCE_TAG));
}

/* A managed group's key: its schedule id, or "group:" + its spec's name. */
static char *
group_key(const struct sdm_group *g)
{
	return spec_group_key(sdm_tags_get(&g->tags, SCHEDULE_ID_TAG), sdm_tags_get(&g->tags, GROUP_TAG));
}

/* ---------------------------------------------------------------- reads */

/* Keep the memberships of managed groups; v is consumed. */
static void
keep_memberships(struct state *st, struct sdm_account_group *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!v[i].id || !v[i].account_id || managed_index(st, v[i].group_id) < 0) {
			sdm_account_group_clear(&v[i]);
			continue;
		}
		if (st->n_ags == st->cap_ags) {
			st->cap_ags = st->cap_ags ? 2 * st->cap_ags : 64;
			st->ags = erealloc(st->ags, st->cap_ags * sizeof *st->ags);
		}
		st->ags[st->n_ags++] = v[i];
	}
	free(v);
}

static void
on_memberships(void *user, struct sdm_account_group *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing group memberships", err);
		sdm_account_groups_free(v, n);
		return;
	}
	keep_memberships(st, v, n);
}

/* One page of every membership: only the managed groups' are kept, so
 * memory holds no more than they and one page. */
static int
on_memberships_page(void *user, struct sdm_account_group *v, size_t n, int more,
                    const struct sdm_error *err)
{
	struct state *st = user;

	(void)more;
	if (err && err->code != SDM_OK) {
		read_error(st, "listing group memberships", err);
		sdm_account_groups_free(v, n);
		return 0;
	}
	keep_memberships(st, v, n);
	return 1;
}

static void
list_memberships_per_group(struct state *st)
{
	size_t i;

	for (i = 0; i < st->n_managed; i++) {
		struct buf f = {0};
		sdm_filter_add(&f, "groupid", st->managed[i]->id);
		sdm_account_groups_list(st->c, f.data, LIST_LIMIT, on_memberships, st);
		buf_clear(&f);
	}
}

/* The first page of every membership. The whole listing (a small
 * organization): the memberships are read in this one request. More pages
 * follow: the page is set aside and the groups are listed one by one,
 * which costs fewer requests than the listing would in a big organization.
 * A failure is a read error as any other: nothing is written. */
static int
on_memberships_probe(void *user, struct sdm_account_group *v, size_t n, int more,
                     const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing group memberships", err);
		sdm_account_groups_free(v, n);
		return 0;
	}
	if (more) {
		sdm_account_groups_free(v, n);
		list_memberships_per_group(st);
		return 0;
	}
	keep_memberships(st, v, n);
	return 0;
}

/* The managed groups are known: keep ours, then read their memberships:
 * one or two groups, per group (no more requests than a probe); up to
 * MEMBERSHIP_LIST_PER_GROUP_MAX, one page of the unfiltered listing first
 * (on_memberships_probe); more, the unfiltered listing page by page. */
static void
on_managed(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;
	size_t i;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing managed groups", err);
		return;
	}
	st->listed = v;
	st->n_listed = n;
	st->managed = ecalloc(n + 1, sizeof *st->managed);
	for (i = 0; i < n; i++)
		if (is_managed(st, &v[i]))
			st->managed[st->n_managed++] = &v[i];
	if (st->n_managed > 1)
		qsort(st->managed, st->n_managed, sizeof *st->managed, cmp_group_ptr_id);
	for (i = 1; i < st->n_managed; i++)
		if (strcmp(st->managed[i - 1]->id, st->managed[i]->id) == 0) {
			weprintf("listing managed groups: group %s answered twice", st->managed[i]->id);
			st->read_failed = 1;
			return;
		}
	if (st->n_managed == 0)
		return;
	if (st->n_managed < MEMBERSHIP_PROBE_MIN)
		list_memberships_per_group(st);
	else if (st->n_managed <= MEMBERSHIP_LIST_PER_GROUP_MAX)
		sdm_account_groups_list_pages(st->c, NULL, LIST_LIMIT, on_memberships_probe, st);
	else
		sdm_account_groups_list_pages(st->c, NULL, LIST_LIMIT, on_memberships_page, st);
}

static void
add_other(struct state *st, struct sdm_group *g)
{
	if (!g->id || !g->name) {
		sdm_group_clear(g);
		return;
	}
	if (st->n_others == st->cap_others) {
		st->cap_others = st->cap_others ? 2 * st->cap_others : 8;
		st->others = erealloc(st->others, st->cap_others * sizeof *st->others);
	}
	st->others[st->n_others++] = *g;
}

static int
cmp_group_id(const void *a, const void *b)
{
	return strcmp(((const struct sdm_group *)a)->id, ((const struct sdm_group *)b)->id);
}

/* The groups found by name once each, and none the managed-tag listing
 * answered already. */
static void
dedupe_others(struct state *st)
{
	struct sdm_group **listed = ecalloc(st->n_listed + 1, sizeof *listed);
	size_t i, n = 0, nl = 0;

	for (i = 0; i < st->n_listed; i++)
		if (st->listed[i].id)
			listed[nl++] = &st->listed[i];
	if (nl > 1)
		qsort(listed, nl, sizeof *listed, cmp_group_ptr_id);
	if (st->n_others > 1)
		qsort(st->others, st->n_others, sizeof *st->others, cmp_group_id);
	for (i = 0; i < st->n_others; i++) {
		struct sdm_group *g = &st->others[i];
		if ((n && strcmp(st->others[n - 1].id, g->id) == 0) ||
		    (nl && bsearch(g->id, listed, nl, sizeof *listed, cmp_key_group_ptr))) {
			sdm_group_clear(g);
			continue;
		}
		st->others[n++] = *g;
	}
	st->n_others = n;
	free(listed);
}

static void
on_name(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct lookup *lk = user;
	struct state *st = lk->st;
	size_t i;

	if (err && err->code != SDM_OK) {
		char what[600];
		snprintf(what, sizeof what, "looking up groups named %s", lk->name);
		read_error(st, what, err);
		sdm_groups_free(v, n);
		return;
	}
	for (i = 0; i < n; i++) {
		/* the filter matches case-insensitively and takes '*' as a
		 * wildcard: keep only the exact (case-insensitive) name */
		if (!group_name_equal(v[i].name, lk->name)) {
			sdm_group_clear(&v[i]);
			continue;
		}
		add_other(st, &v[i]);
	}
	free(v);
}

static void
on_all_groups(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;
	size_t i;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing groups", err);
		sdm_groups_free(v, n);
		return;
	}
	for (i = 0; i < n; i++)
		add_other(st, &v[i]);
	free(v);
}

/* ------------------------------------------------ emails of removed members
 *
 * The removes of members the input does not name wait for the member's
 * email (their change records name it): each starts the moment its email
 * is learnt, or when every look-up has ended (then without one). The ids
 * wanted are st->want, sorted; st->want_email[k] is want[k]'s email once
 * learnt. A failed look-up costs only emails: it warns, nothing else.
 *
 * How (fewer requests, and no long chain of pages, as far as possible):
 * fewer than ACCOUNT_PROBE_MIN ids, a look-up by id each; else one page of
 * every account first (a small organization: that is all). When more
 * follow, up to ACCOUNT_LOOKUP_MAX ids still unknown are looked up by id;
 * more are found by listing the users per first letter of the email
 * (email:"a*" .. email:"z*", LETTER_LISTINGS_AT_ONCE at a time), which
 * costs about what the whole listing costs but takes a fraction of its
 * time: each listing is a chain of pages, each page's cursor naming the
 * next. StrongDM documents * as a
 * wildcard in email filters, case-insensitive (its CLI's and Terraform's
 * example is a leading one, email:"*@example.com", quoted as the SDKs quote
 * every value); a trailing one is not shown, so nothing depends on it: any
 * id those do not find (an email starting otherwise, an account without
 * one, a service that refuses the filter or reads * as a character) is then
 * looked up by id, or, more than ACCOUNT_LOOKUP_MAX of them, in the listing
 * of every account. Every listing stops at the page after which no wanted
 * id is unknown. */

static ssize_t
want_index(const struct state *st, const char *id)
{
	char **hit;

	if (!st->n_want || !id)
		return -1;
	hit = bsearch(&id, st->want, st->n_want, sizeof *st->want, cmp_str_ptr);
	return hit ? hit - st->want : -1;
}

/* An account answered: if its email is wanted, keep it and start the
 * removes that waited for it. */
static void
learn(struct state *st, const struct sdm_account *a)
{
	ssize_t k = want_index(st, a->id);
	size_t i, next;

	if (k < 0 || !a->email || !*a->email || st->want_email[k])
		return;
	st->want_email[k] = estrdup(a->email);
	st->n_unknown--;
	if (!st->writing)
		return;
	for (i = st->want_defer[k], st->want_defer[k] = NO_CHANGE; i != NO_CHANGE; i = next) {
		next = st->defer_next[i];
		st->deferred[i] = 0;
		queue_change(st, i);
	}
}

static void
learn_all(struct state *st, struct sdm_account *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		learn(st, &v[i]);
	sdm_accounts_free(v, n);
}

/* Only for an email in a change record: say so, go on. */
static void
accounts_error(const struct sdm_error *err)
{
	weprintf("listing accounts (for the emails of removed members): %s", err->message);
}

static void emails_known(struct state *st);

/* One email look-up call (or listing) ended: when it was the last, the
 * removes still waiting start, without an email. */
static void
lookup_done(struct state *st)
{
	if (--st->lookups_pending == 0 && st->writing)
		emails_known(st);
}

/* The answer to a look-up by id. */
static void
on_accounts(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK)
		accounts_error(err);
	learn_all(st, v, n);
	lookup_done(st);
}

/* A page of every account: a listing that ends (returns 0) counts as done. */
static int
on_accounts_page(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK)
		accounts_error(err);
	learn_all(st, v, n);
	if (more && st->n_unknown > 0)
		return 1;
	lookup_done(st);
	return 0;
}

/* Each wanted id whose email is still unknown, by id. */
static void
look_up_unknown_by_id(struct state *st)
{
	size_t i;

	for (i = 0; i < st->n_want; i++) {
		struct buf f = {0};
		if (st->want_email[i])
			continue;
		st->lookups_pending++;
		sdm_filter_add(&f, "id", st->want[i]);
		sdm_accounts_list(st->c, f.data, 0, on_accounts, st);
		buf_clear(&f);
	}
}

/* After the listings per letter: the ids they did not find. */
static void
look_up_rest(struct state *st)
{
	if (st->n_unknown == 0)
		return;
	if (st->n_unknown <= ACCOUNT_LOOKUP_MAX) {
		look_up_unknown_by_id(st);
	} else {
		st->lookups_pending++;
		sdm_accounts_list_pages(st->c, NULL, LIST_LIMIT, on_accounts_page, st);
	}
}

static int on_letter_page(void *user, struct sdm_account *v, size_t n, int more,
                          const struct sdm_error *err);

/* The next listing per letter, unless every email wanted is known (then
 * the letters not started count as ended). */
static void
start_letter(struct state *st)
{
	struct buf f = {0};
	char value[3] = {st->next_letter, '*', '\0'};

	if (st->next_letter > 'z')
		return;
	if (st->n_unknown == 0) {
		st->letters_pending -= 'z' - st->next_letter + 1;
		st->next_letter = 'z' + 1;
		return;
	}
	st->next_letter++;
	st->lookups_pending++;
	sdm_filter_add(&f, "email", value);
	sdm_accounts_list_pages(st->c, f.data, LIST_LIMIT, on_letter_page, st);
	buf_clear(&f);
}

/* A page of the users whose email starts with one letter. An error ends
 * that listing without a warning: what it would have found is looked up
 * another way when the last one ends (look_up_rest), which warns if that
 * fails too. */
static int
on_letter_page(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct state *st = user;

	learn_all(st, v, n);
	if (!(err && err->code != SDM_OK) && more && st->n_unknown > 0)
		return 1;
	st->letters_pending--;
	start_letter(st);
	if (st->letters_pending == 0)
		look_up_rest(st);
	lookup_done(st);
	return 0;
}

/* The first page of every account: the whole listing (a small
 * organization) answers every id at once; else the ids it did not answer
 * are looked up by id, or (many) by the listings per letter. */
static int
on_accounts_probe(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct state *st = user;
	int i;

	if (err && err->code != SDM_OK) {
		accounts_error(err);
		lookup_done(st);
		return 0;
	}
	learn_all(st, v, n);
	if (more && st->n_unknown > ACCOUNT_LOOKUP_MAX) {
		st->letters_pending = 26;
		st->next_letter = 'a';
		for (i = 0; i < LETTER_LISTINGS_AT_ONCE; i++)
			start_letter(st);
	} else if (more) {
		look_up_unknown_by_id(st);
	}
	lookup_done(st);
	return 0;
}

static const char *
account_email(const struct state *st, const char *id)
{
	ssize_t k = want_index(st, id);

	return k < 0 ? NULL : st->want_email[k];
}

/* Queue the look-up of the emails of the removed members without one, as
 * the memberships are read (see above). The ids are copied: a dry run
 * frees the plan before the answers come. */
static void
queue_email_lookups(struct state *st, const struct plan *p)
{
	const char **ids = ecalloc(p->n + 1, sizeof *ids);
	size_t i, n = 0, u = 0;

	for (i = 0; i < p->n; i++)
		if (p->v[i].action == CHANGE_REMOVE && !p->v[i].account_email && p->v[i].account_id)
			ids[n++] = p->v[i].account_id;
	if (n > 1)
		qsort(ids, n, sizeof *ids, cmp_str_ptr);
	for (i = 0; i < n; i++)
		if (!u || strcmp(ids[u - 1], ids[i]) != 0)
			ids[u++] = ids[i];
	st->want = ecalloc(u + 1, sizeof *st->want);
	st->want_email = ecalloc(u + 1, sizeof *st->want_email);
	st->want_defer = emalloc((u + 1) * sizeof *st->want_defer);
	for (i = 0; i < u; i++) {
		st->want[i] = estrdup(ids[i]);
		st->want_defer[i] = NO_CHANGE;
	}
	st->n_want = st->n_unknown = u;
	free(ids);
	if (u == 0)
		return;
	if (u < ACCOUNT_PROBE_MIN) {
		look_up_unknown_by_id(st);
	} else {
		st->lookups_pending++;
		sdm_accounts_list_pages(st->c, NULL, LIST_LIMIT, on_accounts_probe, st);
	}
}

static int
cmp_member_row(const void *a, const void *b)
{
	const struct member_row *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return strcmp(x->m.id, y->m.id);
}

/* The plan's view of the groups: managed ones with members, then the other
 * groups known (listed by the managed tag but not exactly ours, or found by
 * name). *members_out holds the members, each group's contiguous. */
static struct plan_group *
build_groups(struct state *st, size_t *n_out, struct plan_member **members_out,
             const struct input *in)
{
	struct plan_group *g = ecalloc(st->n_listed + st->n_others + 1, sizeof *g);
	struct member_row *rows = ecalloc(st->n_ags + 1, sizeof *rows);
	struct plan_member *pm = ecalloc(st->n_ags + 1, sizeof *pm);
	size_t i, r = 0, n;

	for (i = 0; i < st->n_ags; i++) {
		const struct plan_account *pa;
		rows[i].group = (size_t)managed_index(st, st->ags[i].group_id);
		rows[i].m.id = st->ags[i].id;
		rows[i].m.account_id = st->ags[i].account_id;
		pa = input_account(in, rows[i].m.account_id);
		rows[i].m.email = pa && pa->email ? pa->email : account_email(st, rows[i].m.account_id);
	}
	if (st->n_ags > 1)
		qsort(rows, st->n_ags, sizeof *rows, cmp_member_row);
	for (i = 0; i < st->n_ags; i++)
		pm[i] = rows[i].m;
	if (!st->keys) {
		st->keys = ecalloc(st->n_managed + 1, sizeof *st->keys);
		for (i = 0; i < st->n_managed; i++)
			st->keys[i] = group_key(st->managed[i]);
	}
	for (i = 0; i < st->n_managed; i++) {
		const struct sdm_group *sg = st->managed[i];
		size_t start = r;
		g[i].id = sg->id;
		g[i].name = sg->name;
		g[i].schedule_id = st->keys[i];
		g[i].schedule_name = sdm_tags_get(&sg->tags, SCHEDULE_NAME_TAG);
		while (r < st->n_ags && rows[r].group == i)
			r++;
		g[i].members = pm + start;
		g[i].n_members = r - start;
	}
	n = st->n_managed;
	for (i = 0; i < st->n_listed; i++)
		if (st->listed[i].id && st->listed[i].name && !is_managed(st, &st->listed[i])) {
			g[n].id = st->listed[i].id;
			g[n++].name = st->listed[i].name;
		}
	for (i = 0; i < st->n_others; i++) {
		g[n].id = st->others[i].id;
		g[n++].name = st->others[i].name;
	}
	free(rows);
	*members_out = pm;
	*n_out = n;
	return g;
}

/* ---------------------------------------------------------------- writes */

/* The name is taken: fail the create or rename (why: who holds it, or
 * StrongDM's answer); the schedule gets no other change, as when the plan
 * finds the name taken (they are not written). */
static void
name_taken(struct state *st, size_t i, const char *why)
{
	struct plan *p = st->plan;
	struct change *c = &p->v[i];
	size_t d;

	change_set_failed(c, "name %s is taken by %s", c->group_name, why);
	c->code = "name_taken";
	weprintf("schedule %s (%s): %s", c->schedule_name ? c->schedule_name : "", c->schedule_id, c->error);
	for (d = st->first_dep[i]; d != NO_CHANGE; d = st->next_dep[d])
		p->v[d].dropped = 1;
}

static void
name_taken_answer(struct state *st, size_t i, const struct sdm_error *err)
{
	char why[700];

	snprintf(why, sizeof why, "a group which oncall-sync does not manage (%s; "
	         "oncall-sync adopt SCHEDULE GROUP makes it the schedule's group)", err->message);
	name_taken(st, i, why);
}

/* Change i is finished (done or failed): start what waited for it. */
static void
finished(struct state *st, size_t i)
{
	struct plan *p = st->plan;
	struct change *c = &p->v[i];
	size_t d;

	for (d = st->first_dep[i]; d != NO_CHANGE; d = st->next_dep[d]) {
		struct change *dc = &p->v[d];
		if (dc->status != CHANGE_PLANNED)
			continue;
		if (dc->dropped) {
			change_set_failed(dc, "not attempted: %s of %s failed",
			                  change_action_name(c->action), dc->group_name);
			dc->code = "not_attempted";
			continue;
		}
		if (c->status == CHANGE_FAILED) {
			change_set_failed(dc, "not attempted: %s of %s failed",
			                  change_action_name(c->action), dc->group_name);
			dc->code = "not_attempted";
			finished(st, d);
			continue;
		}
		if (!dc->group_id && c->group_id)
			dc->group_id = estrdup(c->group_id);
		queue_change(st, d);
	}
	if (st->delete_of[i] != NO_CHANGE) {
		size_t del = st->delete_of[i];
		if (c->status == CHANGE_FAILED)
			st->member_failed[del] = 1;
		if (--st->pending[del] == 0 && p->v[del].status == CHANGE_PLANNED) {
			if (st->member_failed[del]) {
				change_set_failed(&p->v[del], "not attempted: a member of %s could not be removed",
				                  p->v[del].group_name);
				p->v[del].code = "not_attempted";
			} else {
				queue_change(st, del);
			}
		}
	}
}

/* A write a stop kept from being sent (SDM_STOPPED: it waited for the rate
 * limit, say): the change stays planned, not started, and gets no record. */
static int
not_sent(const struct sdm_error *err)
{
	return err && err->code == SDM_STOPPED;
}

static void
create_done(struct state *st, size_t i, const char *group_id)
{
	struct change *c = &st->plan->v[i];

	c->status = CHANGE_DONE;
	c->group_id = estrdup(group_id);
}

/* A write sent again after an attempt that may have reached StrongDM
 * (err->replayed: a stream reset, a cut connection, INTERNAL...) may have
 * been applied whatever the final answer says: ALREADY_EXISTS to a create
 * may be this run's own group, NOT_FOUND to a remove its own removal. Such
 * a change is settled by reading StrongDM's state: the group by its managed
 * tags, the membership by account and group. k->answer keeps the final
 * answer meanwhile. */
static void
keep_answer(struct call *k, const struct sdm_error *err)
{
	free(k->answer);
	k->answer = estrdup(err->message);
	k->answer_code = err->code;
}

/* The failure when the state does not show the write applied. */
static void
replay_failed(struct state *st, size_t i, const char *read_error)
{
	struct call *k = &st->calls[i];
	struct change *c = &st->plan->v[i];

	if (read_error)
		change_set_failed(c, "%s (sent again after a failed attempt; reading StrongDM to see "
		                  "whether it was applied failed: %s)", k->answer, read_error);
	else
		change_set_failed(c, "%s (sent again after a failed attempt; StrongDM does not hold "
		                  "it)", k->answer);
}

/* create_group: is there now a group managed for this schedule? */
static void
on_create_check(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct call *k = user;
	struct state *st = k->st;
	struct change *c = &st->plan->v[k->i];
	const struct sdm_group *hit = NULL;
	size_t j;

	if (err && err->code != SDM_OK) {
		replay_failed(st, k->i, err->message);
	} else {
		/* the filter is case-insensitive: the tags must be exactly ours */
		for (j = 0; j < n && !hit; j++) {
			char *key = is_managed(st, &v[j]) ? group_key(&v[j]) : NULL;
			if (key && strcmp(key, c->schedule_id) == 0)
				hit = &v[j];
			free(key);
		}
		if (hit) {
			logmsg(LOG_INFO, "Groups.Create of %s: the attempt whose answer was lost created "
			       "group %s", c->group_name, hit->id);
			create_done(st, k->i, hit->id);
		} else if (k->answer_code == SDM_ALREADY_EXISTS) {
			char why[700];
			snprintf(why, sizeof why, "a group which oncall-sync does not manage (%s)", k->answer);
			name_taken(st, k->i, why);
		} else {
			replay_failed(st, k->i, NULL);
		}
	}
	sdm_groups_free(v, n);
	settle(st, k->i);
}

static void
check_create(struct call *k, const struct sdm_error *err)
{
	struct change *c = &k->st->plan->v[k->i];
	struct buf f = {0};

	keep_answer(k, err);
	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	if (strncmp(c->schedule_id, GROUP_KEY_PREFIX, strlen(GROUP_KEY_PREFIX)) == 0)
		sdm_filter_add_tag(&f, GROUP_TAG, c->schedule_id + strlen(GROUP_KEY_PREFIX));
	else
		sdm_filter_add_tag(&f, SCHEDULE_ID_TAG, c->schedule_id);
	sdm_groups_list(k->st->c, f.data, 0, on_create_check, k);
	buf_clear(&f);
}

static void
on_created(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	k->st->submitted--;
	if (not_sent(err)) {
		free_single_group(g);
		return;
	}
	if (err && err->code != SDM_OK && err->replayed) {
		free_single_group(g);
		check_create(k, err);
		return;
	}
	if (err && err->code == SDM_ALREADY_EXISTS) {
		free_single_group(g);
		name_taken_answer(k->st, k->i, err);
	} else if (err && err->code != SDM_OK) {
		change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
		free_single_group(g);
	} else if (!g || !g->id) {
		change_set_failed(c, "StrongDM answered without a group id");
		free_single_group(g);
	} else {
		create_done(k->st, k->i, g->id);
		free_single_group(g);
	}
	settle(k->st, k->i);
}

static void
on_renamed(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	k->st->submitted--;
	if (not_sent(err)) {
		free_single_group(g);
		return;
	}
	if (err && err->code != SDM_OK) {
		if (err->code == SDM_ALREADY_EXISTS)
			name_taken_answer(k->st, k->i, err);
		else
			change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	} else {
		c->status = CHANGE_DONE;
	}
	free_single_group(g);
	settle(k->st, k->i);
}

/* add, remove: does the group now hold the account? */
static void
on_membership_check(void *user, struct sdm_account_group *v, size_t n, const struct sdm_error *err)
{
	struct call *k = user;
	struct state *st = k->st;
	struct change *c = &st->plan->v[k->i];
	int member = 0;
	size_t j;

	if (err && err->code != SDM_OK) {
		replay_failed(st, k->i, err->message);
	} else {
		for (j = 0; j < n; j++)
			if (v[j].account_id && v[j].group_id && strcmp(v[j].account_id, c->account_id) == 0 &&
			    strcmp(v[j].group_id, c->group_id) == 0)
				member = 1;
		if (member == (c->action == CHANGE_ADD))
			c->status = CHANGE_DONE;
		else
			replay_failed(st, k->i, NULL);
	}
	sdm_account_groups_free(v, n);
	settle(st, k->i);
}

static void
check_membership(struct call *k, const struct sdm_error *err)
{
	struct change *c = &k->st->plan->v[k->i];
	struct buf f = {0};

	keep_answer(k, err);
	sdm_filter_add(&f, "accountid", c->account_id);
	sdm_filter_add(&f, "groupid", c->group_id);
	sdm_account_groups_list(k->st->c, f.data, 0, on_membership_check, k);
	buf_clear(&f);
}

/* delete_group: is the group gone? */
static void
on_group_check(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct call *k = user;
	struct state *st = k->st;
	struct change *c = &st->plan->v[k->i];
	int present = 0;
	size_t j;

	if (err && err->code != SDM_OK) {
		replay_failed(st, k->i, err->message);
	} else {
		for (j = 0; j < n; j++)
			if (v[j].id && strcmp(v[j].id, c->group_id) == 0)
				present = 1;
		if (present)
			replay_failed(st, k->i, NULL);
		else
			c->status = CHANGE_DONE;
	}
	sdm_groups_free(v, n);
	settle(st, k->i);
}

static void
on_added(void *user, struct sdm_account_group *ag, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	k->st->submitted--;
	free_single_account_group(ag);
	if (not_sent(err))
		return;
	if (err && err->code != SDM_OK && err->replayed) {
		check_membership(k, err);
		return;
	}
	/* already a member (a concurrent run): the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_ALREADY_EXISTS)
		change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	else
		c->status = CHANGE_DONE;
	settle(k->st, k->i);
}

static void
on_removed(void *user, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	k->st->submitted--;
	if (not_sent(err))
		return;
	/* a detach_role that comes back NOT_FOUND is done, replayed or not */
	if (err && err->code != SDM_OK && err->replayed && c->action != CHANGE_DETACH_ROLE) {
		struct buf f = {0};
		if (c->action == CHANGE_REMOVE) {
			check_membership(k, err);
			return;
		}
		keep_answer(k, err);
		sdm_filter_add(&f, "id", c->group_id);
		sdm_groups_list(k->st->c, f.data, 0, on_group_check, k);
		buf_clear(&f);
		return;
	}
	/* already gone (a concurrent run): the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_NOT_FOUND)
		change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	else
		c->status = CHANGE_DONE;
	settle(k->st, k->i);
}

static void
on_attached(void *user, struct sdm_group_role *gr, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	k->st->submitted--;
	if (not_sent(err)) {
		sdm_group_roles_free(gr, gr ? 1 : 0);
		return;
	}
	/* already attached (a concurrent run, a replayed call the server had
	 * applied): the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_ALREADY_EXISTS)
		change_set_failed(c, "%s", err->message);
	else
		c->status = CHANGE_DONE;
	sdm_group_roles_free(gr, gr ? 1 : 0);
	settle(k->st, k->i);
}

static const struct sdm_group *
managed_by_id(const struct state *st, const char *id)
{
	long i = managed_index(st, id);
	return i >= 0 ? st->managed[i] : NULL;
}

/* A schedule's own group taken over by its spec's group: the schedule
 * tags go, the spec's tag comes (others, such as the instance, stay). */
static void
retag_for_spec(struct sdm_tags *t, const char *key)
{
	struct sdm_tags keep = {0};
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, SCHEDULE_ID_TAG) != 0 && strcmp(t->v[i].name, SCHEDULE_NAME_TAG) != 0)
			sdm_tags_set(&keep, t->v[i].name, t->v[i].value);
	sdm_tags_set(&keep, GROUP_TAG, key + strlen(GROUP_KEY_PREFIX));
	sdm_tags_clear(t);
	*t = keep;
}

/* Write change i's record now, one flushed line, if its write was
 * answered: so that a stage killed later loses no applied change. */
static void
emit(struct state *st, size_t i)
{
	struct change *c = &st->plan->v[i];
	cJSON *rec;

	if (!st->out || c->written || c->dropped ||
	    (c->status != CHANGE_DONE && c->status != CHANGE_FAILED))
		return;
	rec = change_to_json(c);
	record_write(st->out, rec);
	cJSON_Delete(rec);
	if (fflush(st->out->fp) == EOF && !st->out->failed) {
		weprintf("write error:");
		st->out->failed = 1;
	}
	c->written = 1;
}

static void submit_change(struct state *st, size_t i);

/* Hand waiting changes to the client while fewer than jobs writes are on
 * it: the client's own queue then never holds a write that a signal
 * should have kept from starting. */
static void
pump(struct state *st)
{
	while (!apply_stop && st->submitted < st->jobs && st->next_ready < st->n_ready) {
		st->submitted++;
		submit_change(st, st->ready[st->next_ready++]);
	}
}

/* Change i may start: now, or when a slot frees; a remove of a member
 * whose email is being looked up waits for it (its record names it); on
 * a signal nothing starts (the change stays planned and is not written). */
static void
queue_change(struct state *st, size_t i)
{
	struct change *c = &st->plan->v[i];

	if (apply_stop)
		return;
	if (c->action == CHANGE_REMOVE && !c->account_email && c->account_id) {
		ssize_t k = want_index(st, c->account_id);

		if (k >= 0 && st->want_email[k]) {
			c->account_email = estrdup(st->want_email[k]);
		} else if (k >= 0 && st->lookups_pending > 0) {
			st->deferred[i] = 1;
			st->defer_next[i] = st->want_defer[k];
			st->want_defer[k] = i;
			return;
		}
	}
	st->ready[st->n_ready++] = i;
	pump(st);
}

/* Write i was answered and its outcome settled: record it, start what
 * waited for it. */
static void
settle(struct state *st, size_t i)
{
	emit(st, i);
	finished(st, i);
	pump(st);
}

/* Every look-up has ended: the removes still waiting (their member's
 * email was not found) start. */
static void
emails_known(struct state *st)
{
	struct plan *p = st->plan;
	size_t i;

	for (i = 0; i < st->n_want; i++)
		st->want_defer[i] = NO_CHANGE;
	for (i = 0; i < p->n; i++) {
		if (!st->deferred[i])
			continue;
		st->deferred[i] = 0;
		queue_change(st, i);
	}
}

static void
submit_change(struct state *st, size_t i)
{
	struct change *c = &st->plan->v[i];
	struct call *k = &st->calls[i];

	k->st = st;
	k->i = i;
	switch (c->action) {
	case CHANGE_CREATE_GROUP: {
		struct sdm_group g = {0};
		char *tagname = tag_value_sanitize(c->schedule_name ? c->schedule_name : "");
		int spec = plan_key_is_group(c->schedule_id);
		g.name = c->group_name;
		g.description = (char *)(spec ? SPEC_GROUP_DESCRIPTION : GROUP_DESCRIPTION);
		sdm_tags_set(&g.tags, MANAGED_BY_TAG, MANAGED_BY_VALUE);
		if (spec) {
			sdm_tags_set(&g.tags, GROUP_TAG, c->schedule_id + strlen(GROUP_KEY_PREFIX));
			*tagname = '\0';   /* its schedules are many: no name tag */
		} else {
			sdm_tags_set(&g.tags, SCHEDULE_ID_TAG, c->schedule_id);
		}
		if (st->instance)
			sdm_tags_set(&g.tags, INSTANCE_TAG, st->instance);
		if (*tagname)
			sdm_tags_set(&g.tags, SCHEDULE_NAME_TAG, tagname);
		free(tagname);
		sdm_group_create(st->c, &g, on_created, k);
		sdm_tags_clear(&g.tags);
		break;
	}
	case CHANGE_RENAME_GROUP: {
		/* Update overwrites the whole group: send it back as read,
		 * with the new name and our name tag brought up to date. */
		const struct sdm_group *old = managed_by_id(st, c->group_id);
		struct sdm_group g = {0};
		size_t t;
		char *tagname;
		g.id = old->id;
		g.name = c->group_name;
		g.description = old->description;
		g.source = old->source;
		for (t = 0; t < old->tags.n; t++)
			sdm_tags_set(&g.tags, old->tags.v[t].name, old->tags.v[t].value);
		tagname = tag_value_sanitize(c->schedule_name ? c->schedule_name : "");
		if (*tagname && !plan_key_is_group(c->schedule_id))
			sdm_tags_set(&g.tags, SCHEDULE_NAME_TAG, tagname);
		if (c->retag)
			retag_for_spec(&g.tags, c->schedule_id);
		free(tagname);
		sdm_group_update(st->c, &g, on_renamed, k);
		sdm_tags_clear(&g.tags);
		break;
	}
	case CHANGE_ADD:
		sdm_account_group_create(st->c, c->account_id, c->group_id, on_added, k);
		break;
	case CHANGE_REMOVE:
		sdm_account_group_delete(st->c, c->membership_id, on_removed, k);
		break;
	case CHANGE_DELETE_GROUP:
		sdm_group_delete(st->c, c->group_id, on_removed, k);
		break;
	case CHANGE_ATTACH_ROLE:
		sdm_group_role_create(st->c, c->group_id, c->role_id, on_attached, k);
		break;
	case CHANGE_DETACH_ROLE:
		sdm_group_role_delete(st->c, c->attachment_id, on_removed, k);
		break;
	case CHANGE_ADOPT_GROUP:
	case CHANGE_RELEASE_GROUP:
		break;   /* never planned by a sync (adopt.c) */
	}
}

/* Queue every write that waits for nothing; the rest start from the
 * callbacks of what they wait for. */
static void
start_writes(struct state *st)
{
	struct plan *p = st->plan;
	size_t i, n = p->n;

	st->calls = ecalloc(n + 1, sizeof *st->calls);
	st->first_dep = emalloc((n + 1) * sizeof *st->first_dep);
	st->next_dep = emalloc((n + 1) * sizeof *st->next_dep);
	st->pending = ecalloc(n + 1, sizeof *st->pending);
	st->delete_of = emalloc((n + 1) * sizeof *st->delete_of);
	st->member_failed = ecalloc(n + 1, 1);
	st->ready = ecalloc(n + 1, sizeof *st->ready);
	st->deferred = ecalloc(n + 1, 1);
	st->defer_next = ecalloc(n + 1, sizeof *st->defer_next);
	st->writing = 1;
	for (i = 0; i < n; i++)
		st->first_dep[i] = st->next_dep[i] = st->delete_of[i] = NO_CHANGE;
	/* dependents in plan order: link from the back */
	for (i = n; i-- > 0;) {
		struct change *c = &p->v[i];
		if (c->group_change != NO_CHANGE && c->group_change < n) {
			st->next_dep[i] = st->first_dep[c->group_change];
			st->first_dep[c->group_change] = i;
		}
	}
	/* a pruned group's removes come right before its delete_group */
	for (i = 0; i < n; i++) {
		size_t j;
		if (p->v[i].action != CHANGE_DELETE_GROUP)
			continue;
		for (j = i; j-- > 0;) {
			const struct change *r = &p->v[j];
			if (r->action != CHANGE_REMOVE || r->schedule_index != NO_CHANGE ||
			    strcmp(r->group_id, p->v[i].group_id) != 0)
				break;
			st->delete_of[j] = i;
			if (r->status == CHANGE_PLANNED)
				st->pending[i]++;
		}
	}
	for (i = 0; i < n; i++) {
		struct change *c = &p->v[i];
		if (c->status != CHANGE_PLANNED)
			continue;
		if (c->group_change != NO_CHANGE) {
			if (p->v[c->group_change].status == CHANGE_FAILED) {
				change_set_failed(c, "not attempted: %s of %s failed",
				                  change_action_name(p->v[c->group_change].action), c->group_name);
				c->code = "not_attempted";
				finished(st, i);
			}
			continue;   /* started when its create or rename is done */
		}
		if (c->action == CHANGE_DELETE_GROUP && st->pending[i])
			continue;   /* started when its last remove is done */
		queue_change(st, i);
	}
}

/* The emails learnt go into the remove changes, which are sorted again. */
static void
fill_emails(struct state *st, struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct change *c = &p->v[i];
		const char *e;
		if (c->action != CHANGE_REMOVE || c->account_email || !c->account_id)
			continue;
		if ((e = account_email(st, c->account_id)))
			c->account_email = estrdup(e);
	}
	plan_sort_members(p);
}

/* ---------------------------------------------------------------- all */

static void
state_clear(struct state *st)
{
	size_t i;

	for (i = 0; st->keys && i < st->n_managed; i++)
		free(st->keys[i]);
	free(st->keys);
	sdm_groups_free(st->listed, st->n_listed);
	free(st->managed);
	sdm_account_groups_free(st->ags, st->n_ags);
	sdm_groups_free(st->others, st->n_others);
	for (i = 0; i < st->n_want; i++) {
		free(st->want[i]);
		free(st->want_email[i]);
	}
	free(st->want);
	free(st->want_email);
	free(st->want_defer);
	for (i = 0; st->calls && i < st->plan->n; i++)
		free(st->calls[i].answer);
	free(st->calls);
	free(st->first_dep);
	free(st->next_dep);
	free(st->pending);
	free(st->delete_of);
	free(st->member_failed);
	free(st->ready);
	free(st->deferred);
	free(st->defer_next);
}

struct input_job {
	FILE *fp;
	const char *name;
	struct input *in;
	int flags;
	int rc;
};

static void *
input_thread(void *arg)
{
	struct input_job *job = arg;

	job->rc = input_read(job->in, job->fp, job->name, job->flags);
	return NULL;
}

/* The plan is made: report it, and hold it under --max-changes. */
int
apply_after_plan(struct plan *plan, const struct plan_input *pin, const struct input *in,
                 const struct apply_opts *o, int *held)
{
	size_t i, deletes, managed;
	int status = EXIT_DONE;

	for (i = 0; i < plan->n_notes; i++)
		weprintf("%s", plan->notes[i]);
	if (plan->failed_schedules || in->error_records)
		status = EXIT_FAILED;
	*held = 0;
	if (plan_hold(plan, o->max_changes)) {
		weprintf("%zu changes planned, more than --max-changes %ld: holding them all",
		         plan_count(plan, CHANGE_HELD), o->max_changes);
		*held = 1;
		status = EXIT_REFUSED;
	}
	/* Safety rule 7: a stream of every schedule (-a) names a group's
	 * schedule only by leaving it out; a listing proven complete is still
	 * not trusted to retire most groups at once. An explicit selection
	 * (-s, the config) names what it wants, and is not held. */
	if (!*held && o->prune && in->selection_all &&
	    plan_hold_prune(plan, pin, o->max_prune_share, o->allow_empty, &deletes, &managed)) {
		weprintf("the stream selects every schedule (fetch-oncall -a) and the prune would delete "
		         "%zu of the %zu managed groups, more than %s: holding every change "
		         "(--max-prune-share, --allow-empty)", deletes, managed,
		         deletes == managed && !o->allow_empty ? "all of them without --allow-empty"
		                                                : "--max-prune-share allows");
		*held = 1;
		status = EXIT_REFUSED;
	}
	return status;
}

void
apply_plan_input(struct plan_input *pin, const struct input *in, const struct apply_opts *o)
{
	memset(pin, 0, sizeof *pin);
	pin->schedules = in->schedules;
	pin->n_schedules = in->n_schedules;
	pin->group_prefix = o->group_prefix;
	pin->prune = o->prune;
	pin->prune_unsafe = in->errors_without_id > 0;
}

/* Group specs: the planner gets the input's schedules folded (spec.h);
 * when some give roles, every role and the attachments of their managed
 * groups are read (one more round of reads) and the groups get them. When
 * those reads fail, the roles of every group that gives some are left as
 * they are (failed attach_role records), the members still synced. */
static int
use_specs(struct state *st, const struct input *in, struct spec_units *u, struct role_reads *rr,
          struct plan_input *pin, struct plan_group *groups)
{
	const char **ids;
	size_t i, j, n = 0, n_known;
	const struct plan_role *known;

	spec_fold(in, u);
	pin->schedules = u->v;
	pin->n_schedules = u->n;
	if (!spec_any_roles(u))
		return 0;
	ids = ecalloc(st->n_managed + 1, sizeof *ids);
	/* the groups of those specs, and the own groups of their schedules
	 * (which a spec's group may take over) */
	for (i = 0; i < st->n_managed; i++)
		for (j = 0; j < u->n; j++) {
			size_t m;
			int hit = 0;
			if (!u->v[j].roles_given || !groups[i].schedule_id)
				continue;
			hit = strcmp(u->v[j].id, groups[i].schedule_id) == 0;
			for (m = 0; !hit && m < u->v[j].n_member_ids; m++)
				hit = strcmp(u->v[j].member_ids[m], groups[i].schedule_id) == 0;
			if (hit) {
				ids[n++] = groups[i].id;
				break;
			}
		}
	role_reads_start(rr, st->c, ids, n);
	free(ids);
	sdm_run(st->c);
	if (rr->failed) {
		spec_fail_roles(u, "StrongDM's roles could not be read (the message above says why)");
		return 0;
	}
	known = role_reads_known(rr, &n_known);
	spec_resolve_roles(u, known, n_known, "in StrongDM");
	role_reads_fill_groups(rr, groups, st->n_managed);
	return 0;
}

int
reconcile(struct sdm_client *c, FILE *fp, const char *name, struct input *in, int *input_refused,
          const struct apply_opts *o, struct plan *plan)
{
	struct state st = {0};
	struct plan_input pin;
	struct plan_member *members = NULL;
	struct plan_group *groups = NULL;
	struct lookup *lookups = NULL;
	struct input_job job = {fp, name, in, o->allow_empty ? INPUT_ALLOW_EMPTY : 0, -1};
	struct spec_units units = {0};
	struct role_reads rr = {0};
	struct buf f = {0};
	pthread_t th;
	char **names = NULL;
	size_t n_names = 0, n_groups, i;
	int status = EXIT_DONE, threaded, held;

	memset(plan, 0, sizeof *plan);
	*input_refused = 0;
	st.c = c;
	st.plan = plan;
	st.instance = o->instance && *o->instance ? o->instance : NULL;
	st.jobs = o->jobs > 0 ? o->jobs : JOBS_DEFAULT;

	/* The reads need nothing from the input: start them, and read the
	 * input meanwhile. Nothing is written before both are done. */
	threaded = pthread_create(&th, NULL, input_thread, &job) == 0;
	if (!threaded)
		input_thread(&job);
	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	sdm_groups_list(c, f.data, LIST_LIMIT, on_managed, &st);
	buf_clear(&f);
	sdm_run(c);
	if (threaded)
		pthread_join(th, NULL);
	if (job.rc) {
		*input_refused = 1;
		state_clear(&st);
		return EXIT_REFUSED;
	}
	if (st.read_failed)
		goto read_failed;

	apply_plan_input(&pin, in, o);
	groups = build_groups(&st, &n_groups, &members, in);
	pin.groups = groups;
	pin.n_groups = n_groups;
	if (use_specs(&st, in, &units, &rr, &pin, groups))
		goto read_failed;

	if (o->dry_run) {
		/* Show a name taken by an unmanaged group in the plan: look the
		 * names up (or list every group when that is fewer requests),
		 * and the emails of members to remove. */
		plan_changes(&pin, plan);
		n_names = plan_wanted_names(&pin, &names);
		if (n_names > NAME_LOOKUP_MAX) {
			sdm_groups_list(c, NULL, LIST_LIMIT, on_all_groups, &st);
		} else {
			lookups = ecalloc(n_names + 1, sizeof *lookups);
			for (i = 0; i < n_names; i++) {
				lookups[i].st = &st;
				lookups[i].name = names[i];
				sdm_filter_add(&f, "name", names[i]);
				sdm_groups_list(c, f.data, 0, on_name, &lookups[i]);
				buf_clear(&f);
			}
		}
		queue_email_lookups(&st, plan);
		plan_clear(plan);
		sdm_run(c);
		if (st.read_failed)
			goto read_failed;
		dedupe_others(&st);
		free(groups);
		free(members);
		groups = build_groups(&st, &n_groups, &members, in);
		role_reads_fill_groups(&rr, groups, st.n_managed);
		pin.groups = groups;
		pin.n_groups = n_groups;
		plan_changes(&pin, plan);
		status = apply_after_plan(plan, &pin, in, o, &held);
		goto out;
	}

	plan_changes(&pin, plan);
	status = apply_after_plan(plan, &pin, in, o, &held);
	/* the writes (unless held), and meanwhile the emails of removed
	 * members (the removes that need one wait for them); each change's
	 * record goes out the moment its write is answered, after the
	 * records passed on */
	if (!held && o->out) {
		for (i = 0; i < in->n_passed; i++)
			record_write(o->out, in->passed[i]);
		in->passed_written = 1;
		fflush(o->out->fp);
		st.out = o->out;
	}
	queue_email_lookups(&st, plan);
	/* a signal drops the writes still waiting (for the rate limit, say):
	 * they stay planned, the run ends without waiting for the window */
	sdm_client_stop_on(c, &apply_stop);
	if (!held)
		start_writes(&st);
	sdm_run(c);
	fill_emails(&st, plan);
	for (i = 0; !held && i < plan->n; i++)
		if (plan->v[i].status == CHANGE_FAILED) {
			status = EXIT_FAILED;
			break;
		}
	if (!held && apply_stop) {
		size_t left = plan_count(plan, CHANGE_PLANNED);
		weprintf("interrupted by a signal: %zu changes made, %zu failed, %zu not started "
		         "(the next run makes them)", plan_count(plan, CHANGE_DONE),
		         plan_count(plan, CHANGE_FAILED), left);
		status = EXIT_FAILED;
	}
	goto out;

read_failed:
	plan_clear(plan);
	weprintf("nothing changed: StrongDM could not be read");
	status = EXIT_FAILED;
out:
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(lookups);
	free(groups);
	free(members);
	spec_units_clear(&units);
	role_reads_clear(&rr);
	state_clear(&st);
	return status;
}
