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

/* New groups say what they are in the Admin UI; a rename keeps whatever
 * description the group has. */
#define GROUP_DESCRIPTION "Who is on call on an incident.io schedule; managed by oncall-sync " \
	"(members added by hand are removed)"

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

	struct sdm_account_group *ags;  /* memberships of managed groups */
	size_t n_ags, cap_ags;

	struct sdm_group *others;   /* unmanaged groups found by name (dry run) */
	size_t n_others, cap_others;

	struct sdm_account *accounts;   /* emails looked up; by id once sorted */
	size_t n_accounts, cap_accounts;
	char **want;                /* the ids whose email is wanted, sorted, unique */
	size_t n_want;

	/* writes */
	struct call *calls;
	size_t *next_dep;           /* the next change waiting for the same change */
	size_t *first_dep;          /* the first change waiting for this one */
	size_t *pending;            /* delete_group: its removes not yet finished */
	size_t *delete_of;          /* a pruned remove: its group's delete_group */
	unsigned char *member_failed;   /* delete_group: one of its removes failed */
};

struct lookup {
	struct state *st;
	const char *name;
};

struct call {
	struct state *st;
	size_t i;
};

static void queue_change(struct state *st, size_t i);

static void
free_single_group(struct sdm_group *g)
{
	if (g) {
		sdm_group_free(g);
		free(g);
	}
}

static void
free_single_account_group(struct sdm_account_group *ag)
{
	if (ag) {
		sdm_account_group_free(ag);
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
cmp_account_id(const void *a, const void *b)
{
	const char *x = ((const struct sdm_account *)a)->id, *y = ((const struct sdm_account *)b)->id;
	return strcmp(x ? x : "", y ? y : "");
}

static int
cmp_key_account(const void *key, const void *elem)
{
	const char *id = ((const struct sdm_account *)elem)->id;
	return strcmp(key, id ? id : "");
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

	/* the filter matched case-insensitively; the tag must be exactly ours,
	 * and the group this instance's */
	return g->id && g->name && by && strcmp(by, MANAGED_BY_VALUE) == 0 && sid && *sid &&
	       instance_owns(st->instance, sdm_tags_get(&g->tags, INSTANCE_TAG));
}

/* ---------------------------------------------------------------- reads */

/* Keep the memberships of managed groups; v is consumed. */
static void
keep_memberships(struct state *st, struct sdm_account_group *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!v[i].id || !v[i].account_id || managed_index(st, v[i].group_id) < 0) {
			sdm_account_group_free(&v[i]);
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
		buf_free(&f);
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
		sdm_group_free(g);
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
			sdm_group_free(g);
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
			sdm_group_free(&v[i]);
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

static void
push_account(struct state *st, struct sdm_account *a)
{
	if (st->n_accounts == st->cap_accounts) {
		st->cap_accounts = st->cap_accounts ? 2 * st->cap_accounts : 64;
		st->accounts = erealloc(st->accounts, st->cap_accounts * sizeof *st->accounts);
	}
	st->accounts[st->n_accounts++] = *a;
}

/* Only for an email in a change record: say so, go on. */
static void
accounts_error(const struct sdm_error *err)
{
	weprintf("listing accounts (for the emails of removed members): %s", err->message);
}

/* The answer to a look-up by id. */
static void
on_accounts(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;
	size_t i;

	if (err && err->code != SDM_OK) {
		accounts_error(err);
		sdm_accounts_free(v, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].id || !v[i].email) {
			sdm_account_free(&v[i]);
			continue;
		}
		push_account(st, &v[i]);
	}
	free(v);
}

/* From a page of every account, keep those whose email is wanted; v is
 * consumed. */
static void
keep_wanted_accounts(struct state *st, struct sdm_account *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!v[i].id || !v[i].email ||
		    !bsearch(&v[i].id, st->want, st->n_want, sizeof *st->want, cmp_str_ptr)) {
			sdm_account_free(&v[i]);
			continue;
		}
		push_account(st, &v[i]);
	}
	free(v);
}

static int
on_accounts_page(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct state *st = user;

	(void)more;
	if (err && err->code != SDM_OK) {
		accounts_error(err);
		sdm_accounts_free(v, n);
		return 0;
	}
	keep_wanted_accounts(st, v, n);
	return 1;
}

static void
look_up_accounts_by_id(struct state *st)
{
	size_t i;

	for (i = 0; i < st->n_want; i++) {
		struct buf f = {0};
		sdm_filter_add(&f, "id", st->want[i]);
		sdm_accounts_list(st->c, f.data, 0, on_accounts, st);
		buf_free(&f);
	}
}

/* The first page of every account: the whole listing (a small
 * organization) answers every id at once; else it is set aside and each
 * id looked up. */
static int
on_accounts_probe(void *user, struct sdm_account *v, size_t n, int more, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK) {
		accounts_error(err);
		sdm_accounts_free(v, n);
		return 0;
	}
	if (more) {
		sdm_accounts_free(v, n);
		look_up_accounts_by_id(st);
		return 0;
	}
	keep_wanted_accounts(st, v, n);
	return 0;
}

static const char *
account_email(const struct state *st, const char *id)
{
	const struct sdm_account *a;

	if (!st->n_accounts)
		return NULL;
	a = bsearch(id, st->accounts, st->n_accounts, sizeof *st->accounts, cmp_key_account);
	return a ? a->email : NULL;
}

/* Queue the look-up of the emails of the removed members without one, as
 * the memberships are read: one or two ids, by id; up to
 * ACCOUNT_LOOKUP_MAX, one page of every account first (on_accounts_probe);
 * more, every account page by page, keeping only those wanted. The ids are
 * copied: a dry run frees the plan before the answers come. */
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
	for (i = 0; i < u; i++)
		st->want[i] = estrdup(ids[i]);
	st->n_want = u;
	free(ids);
	if (u == 0)
		return;
	if (u < ACCOUNT_PROBE_MIN)
		look_up_accounts_by_id(st);
	else if (u <= ACCOUNT_LOOKUP_MAX)
		sdm_accounts_list_pages(st->c, NULL, LIST_LIMIT, on_accounts_probe, st);
	else
		sdm_accounts_list_pages(st->c, NULL, LIST_LIMIT, on_accounts_page, st);
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
	for (i = 0; i < st->n_managed; i++) {
		const struct sdm_group *sg = st->managed[i];
		size_t start = r;
		g[i].id = sg->id;
		g[i].name = sg->name;
		g[i].schedule_id = sdm_tags_get(&sg->tags, SCHEDULE_ID_TAG);
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

	snprintf(why, sizeof why, "a group which oncall-sync does not manage (%s)", err->message);
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

static void
create_done(struct state *st, size_t i, const char *group_id)
{
	struct change *c = &st->plan->v[i];

	c->status = CHANGE_DONE;
	c->group_id = estrdup(group_id);
}

/* A create answered ALREADY_EXISTS after calls were retried: the group of
 * that name may be the one this run created, on an attempt whose answer was
 * lost. */
static void
on_create_check(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct call *k = user;
	struct state *st = k->st;
	struct change *c = &st->plan->v[k->i];
	const struct sdm_group *hit = NULL;
	char why[700];
	size_t j;

	if (err && err->code != SDM_OK) {
		snprintf(why, sizeof why, "a group (Groups.Create: ALREADY_EXISTS; looking it up: %s)", err->message);
		name_taken(st, k->i, why);
	} else {
		for (j = 0; j < n && !hit; j++)
			if (v[j].id && group_name_equal(v[j].name, c->group_name))
				hit = &v[j];
		if (hit && is_managed(st, hit) &&
		    strcmp(sdm_tags_get(&hit->tags, SCHEDULE_ID_TAG), c->schedule_id) == 0) {
			create_done(st, k->i, hit->id);
		} else if (hit && is_managed(st, hit)) {
			snprintf(why, sizeof why, "group %s which oncall-sync manages for schedule %s", hit->id,
			         sdm_tags_get(&hit->tags, SCHEDULE_ID_TAG));
			name_taken(st, k->i, why);
		} else if (hit) {
			snprintf(why, sizeof why, "group %s which oncall-sync does not manage", hit->id);
			name_taken(st, k->i, why);
		} else {
			name_taken(st, k->i, "a group which oncall-sync does not manage (Groups.Create: ALREADY_EXISTS)");
		}
	}
	sdm_groups_free(v, n);
	finished(st, k->i);
}

static void
on_created(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	if (err && err->code == SDM_ALREADY_EXISTS) {
		struct sdm_stats stats;
		sdm_client_stats(k->st->c, &stats);
		free_single_group(g);
		if (stats.retries > 0) {
			/* no look-up unless a call was retried: then it may be ours */
			struct buf f = {0};
			sdm_filter_add(&f, "name", c->group_name);
			sdm_groups_list(k->st->c, f.data, 0, on_create_check, k);
			buf_free(&f);
			return;
		}
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
	finished(k->st, k->i);
}

static void
on_renamed(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	if (err && err->code != SDM_OK) {
		if (err->code == SDM_ALREADY_EXISTS)
			name_taken_answer(k->st, k->i, err);
		else
			change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	} else {
		c->status = CHANGE_DONE;
	}
	free_single_group(g);
	finished(k->st, k->i);
}

static void
on_added(void *user, struct sdm_account_group *ag, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	/* already a member (a concurrent run, a retried call): the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_ALREADY_EXISTS)
		change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	else
		c->status = CHANGE_DONE;
	free_single_account_group(ag);
	finished(k->st, k->i);
}

static void
on_removed(void *user, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	/* already gone: the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_NOT_FOUND)
		change_set_failed(c, "%s", err->message), c->code = sdm_error_code(err->code);
	else
		c->status = CHANGE_DONE;
	finished(k->st, k->i);
}

static const struct sdm_group *
managed_by_id(const struct state *st, const char *id)
{
	long i = managed_index(st, id);
	return i >= 0 ? st->managed[i] : NULL;
}

static void
queue_change(struct state *st, size_t i)
{
	struct change *c = &st->plan->v[i];
	struct call *k = &st->calls[i];

	k->st = st;
	k->i = i;
	switch (c->action) {
	case CHANGE_CREATE_GROUP: {
		struct sdm_group g = {0};
		char *tagname = tag_value_sanitize(c->schedule_name ? c->schedule_name : "");
		g.name = c->group_name;
		g.description = (char *)GROUP_DESCRIPTION;
		sdm_tags_set(&g.tags, MANAGED_BY_TAG, MANAGED_BY_VALUE);
		sdm_tags_set(&g.tags, SCHEDULE_ID_TAG, c->schedule_id);
		if (st->instance)
			sdm_tags_set(&g.tags, INSTANCE_TAG, st->instance);
		if (*tagname)
			sdm_tags_set(&g.tags, SCHEDULE_NAME_TAG, tagname);
		free(tagname);
		sdm_group_create(st->c, &g, on_created, k);
		sdm_tags_free(&g.tags);
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
		if (*tagname)
			sdm_tags_set(&g.tags, SCHEDULE_NAME_TAG, tagname);
		free(tagname);
		sdm_group_update(st->c, &g, on_renamed, k);
		sdm_tags_free(&g.tags);
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
state_free(struct state *st)
{
	size_t i;

	sdm_groups_free(st->listed, st->n_listed);
	free(st->managed);
	sdm_account_groups_free(st->ags, st->n_ags);
	sdm_groups_free(st->others, st->n_others);
	sdm_accounts_free(st->accounts, st->n_accounts);
	for (i = 0; i < st->n_want; i++)
		free(st->want[i]);
	free(st->want);
	free(st->calls);
	free(st->first_dep);
	free(st->next_dep);
	free(st->pending);
	free(st->delete_of);
	free(st->member_failed);
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

	job->rc = input_read_flags(job->in, job->fp, job->name, job->flags);
	return NULL;
}

static void
sort_accounts(struct state *st)
{
	if (st->n_accounts > 1)
		qsort(st->accounts, st->n_accounts, sizeof *st->accounts, cmp_account_id);
}

/* The plan is made: report it, and hold it under --max-changes. */
static int
after_plan(struct plan *plan, const struct input *in, const struct apply_opts *o, int *held)
{
	size_t i;
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
	return status;
}

static void
plan_input_init(struct plan_input *pin, const struct input *in, const struct apply_opts *o)
{
	memset(pin, 0, sizeof *pin);
	pin->schedules = in->schedules;
	pin->n_schedules = in->n_schedules;
	pin->group_prefix = o->group_prefix;
	pin->prune = o->prune;
	pin->prune_unsafe = in->errors_without_id > 0;
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

	/* The reads need nothing from the input: start them, and read the
	 * input meanwhile. Nothing is written before both are done. */
	threaded = pthread_create(&th, NULL, input_thread, &job) == 0;
	if (!threaded)
		input_thread(&job);
	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	sdm_groups_list(c, f.data, LIST_LIMIT, on_managed, &st);
	buf_free(&f);
	sdm_run(c);
	if (threaded)
		pthread_join(th, NULL);
	if (job.rc) {
		*input_refused = 1;
		state_free(&st);
		return EXIT_REFUSED;
	}
	if (st.read_failed)
		goto read_failed;

	plan_input_init(&pin, in, o);
	groups = build_groups(&st, &n_groups, &members, in);
	pin.groups = groups;
	pin.n_groups = n_groups;

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
				buf_free(&f);
			}
		}
		queue_email_lookups(&st, plan);
		plan_free(plan);
		sdm_run(c);
		if (st.read_failed)
			goto read_failed;
		dedupe_others(&st);
		sort_accounts(&st);
		free(groups);
		free(members);
		groups = build_groups(&st, &n_groups, &members, in);
		pin.groups = groups;
		pin.n_groups = n_groups;
		plan_changes(&pin, plan);
		status = after_plan(plan, in, o, &held);
		goto out;
	}

	plan_changes(&pin, plan);
	status = after_plan(plan, in, o, &held);
	/* the writes (unless held), and meanwhile the emails of removed members */
	if (!held)
		start_writes(&st);
	queue_email_lookups(&st, plan);
	sdm_run(c);
	sort_accounts(&st);
	fill_emails(&st, plan);
	for (i = 0; !held && i < plan->n; i++)
		if (plan->v[i].status == CHANGE_FAILED) {
			status = EXIT_FAILED;
			break;
		}
	goto out;

read_failed:
	plan_free(plan);
	weprintf("nothing changed: StrongDM could not be read");
	status = EXIT_FAILED;
out:
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(lookups);
	free(groups);
	free(members);
	state_free(&st);
	return status;
}

int
reconcile_offline(const struct input *in, const struct groups_file *gf, const struct apply_opts *o,
                  struct plan *plan)
{
	struct plan_input pin;
	int held;

	plan_input_init(&pin, in, o);
	pin.groups = gf->groups;
	pin.n_groups = gf->n_groups;
	plan_changes(&pin, plan);
	return after_plan(plan, in, o, &held);
}
