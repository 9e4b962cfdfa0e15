/* apply.c: StrongDM reads, the plan, and the writes of reconcile-groups.
 *
 * Reads: the managed groups in one filtered listing; their memberships per
 * group (few groups) or in one listing (many); one name look-up per group
 * to be created or renamed; the accounts once when a member to remove is
 * not in the input (for the email in the change record). Writes: phase 1
 * creates and renames, phase 2 adds and removes, phase 3 deletes of pruned
 * groups, each phase's calls concurrent (the client paces them). */
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
	int read_failed;

	struct sdm_group *listed;   /* the managed-tag listing, as answered */
	size_t n_listed;
	struct sdm_group **managed; /* those whose tags are exactly ours, by id */
	size_t n_managed;

	struct sdm_account_group *ags;  /* memberships of managed groups */
	size_t n_ags, cap_ags;

	struct sdm_group *others;   /* unmanaged groups holding a wanted name */
	size_t n_others, cap_others;

	struct sdm_account *accounts;   /* by id; only when needed */
	size_t n_accounts;
};

struct lookup {
	struct state *st;
	const char *name;
};

struct call {
	struct state *st;
	size_t i;
};

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
cmp_plan_account_id(const void *a, const void *b)
{
	return strcmp(((const struct plan_account *)a)->id, ((const struct plan_account *)b)->id);
}

static int
cmp_key_plan_account(const void *key, const void *elem)
{
	return strcmp(key, ((const struct plan_account *)elem)->id);
}

/* ---------------------------------------------------------------- reads */

static void
on_managed(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing managed groups", err);
		return;
	}
	st->listed = v;
	st->n_listed = n;
}

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

static void
on_name(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct lookup *lk = user;
	struct state *st = lk->st;
	size_t i, j;

	if (err && err->code != SDM_OK) {
		char what[600];
		snprintf(what, sizeof what, "looking up groups named %s", lk->name);
		read_error(st, what, err);
		sdm_groups_free(v, n);
		return;
	}
	for (i = 0; i < n; i++) {
		int dup = 0;
		/* the filter matches case-insensitively and takes '*' as a
		 * wildcard: keep only the exact (case-insensitive) name */
		if (!v[i].id || !group_name_equal(v[i].name, lk->name) || managed_index(st, v[i].id) >= 0)
			dup = 1;
		for (j = 0; !dup && j < st->n_others; j++)
			if (strcmp(st->others[j].id, v[i].id) == 0)
				dup = 1;
		if (dup) {
			sdm_group_free(&v[i]);
			continue;
		}
		if (st->n_others == st->cap_others) {
			st->cap_others = st->cap_others ? 2 * st->cap_others : 8;
			st->others = erealloc(st->others, st->cap_others * sizeof *st->others);
		}
		st->others[st->n_others++] = v[i];
	}
	free(v);
}

static void
on_accounts(void *user, struct sdm_account *v, size_t n, const struct sdm_error *err)
{
	struct state *st = user;

	if (err && err->code != SDM_OK) {
		read_error(st, "listing accounts", err);
		sdm_accounts_free(v, n);
		return;
	}
	st->accounts = v;
	st->n_accounts = n;
	if (n > 1)
		qsort(st->accounts, n, sizeof *st->accounts, cmp_account_id);
}

static int
is_managed(const struct sdm_group *g)
{
	const char *by = sdm_tags_get(&g->tags, MANAGED_BY_TAG);
	const char *sid = sdm_tags_get(&g->tags, SCHEDULE_ID_TAG);

	/* the filter matched case-insensitively; the tag must be exactly ours */
	return g->id && g->name && by && strcmp(by, MANAGED_BY_VALUE) == 0 && sid && *sid;
}

static int
read_managed(struct state *st)
{
	struct buf f = {0};
	size_t i;

	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	sdm_groups_list(st->c, f.data, LIST_LIMIT, on_managed, st);
	buf_free(&f);
	sdm_run(st->c);
	if (st->read_failed)
		return -1;
	st->managed = ecalloc(st->n_listed + 1, sizeof *st->managed);
	for (i = 0; i < st->n_listed; i++)
		if (is_managed(&st->listed[i]))
			st->managed[st->n_managed++] = &st->listed[i];
	if (st->n_managed > 1)
		qsort(st->managed, st->n_managed, sizeof *st->managed, cmp_group_ptr_id);
	for (i = 1; i < st->n_managed; i++)
		if (strcmp(st->managed[i - 1]->id, st->managed[i]->id) == 0) {
			weprintf("listing managed groups: group %s answered twice", st->managed[i]->id);
			st->read_failed = 1;
			return -1;
		}
	return 0;
}

static int
read_memberships(struct state *st)
{
	size_t i;

	if (st->n_managed == 0)
		return 0;
	if (st->n_managed <= MEMBERSHIP_LIST_PER_GROUP_MAX) {
		for (i = 0; i < st->n_managed; i++) {
			struct buf f = {0};
			sdm_filter_add(&f, "groupid", st->managed[i]->id);
			sdm_account_groups_list(st->c, f.data, LIST_LIMIT, on_memberships, st);
			buf_free(&f);
		}
	} else {
		sdm_account_groups_list(st->c, NULL, LIST_LIMIT, on_memberships, st);
	}
	sdm_run(st->c);
	return st->read_failed ? -1 : 0;
}

static int
cmp_member_row(const void *a, const void *b)
{
	const struct member_row *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return strcmp(x->m.id, y->m.id);
}

/* The plan's view of the groups: managed ones with members, then others.
 * *members_out holds the members, each group's contiguous. */
static struct plan_group *
build_groups(struct state *st, struct plan_member **members_out, const struct plan_account *known,
             size_t n_known)
{
	struct plan_group *g = ecalloc(st->n_managed + st->n_others + 1, sizeof *g);
	struct member_row *rows = ecalloc(st->n_ags + 1, sizeof *rows);
	struct plan_member *pm = ecalloc(st->n_ags + 1, sizeof *pm);
	size_t i, r = 0;

	for (i = 0; i < st->n_ags; i++) {
		const struct plan_account *pa;
		const struct sdm_account *sa;
		rows[i].group = (size_t)managed_index(st, st->ags[i].group_id);
		rows[i].m.id = st->ags[i].id;
		rows[i].m.account_id = st->ags[i].account_id;
		pa = n_known ? bsearch(rows[i].m.account_id, known, n_known, sizeof *known, cmp_key_plan_account) : NULL;
		sa = st->n_accounts ? bsearch(rows[i].m.account_id, st->accounts, st->n_accounts,
		                              sizeof *st->accounts, cmp_key_account) : NULL;
		rows[i].m.email = pa && pa->email ? pa->email : sa ? sa->email : NULL;
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
	for (i = 0; i < st->n_others; i++) {
		g[st->n_managed + i].id = st->others[i].id;
		g[st->n_managed + i].name = st->others[i].name;
	}
	free(rows);
	*members_out = pm;
	return g;
}

/* ---------------------------------------------------------------- writes */

static void
set_failed(struct change *c, const struct sdm_error *err)
{
	change_set_failed(c, "%s", err->message);
}

static void
on_created(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct plan *p = k->st->plan;
	struct change *c = &p->v[k->i];
	size_t j;

	if (err && err->code != SDM_OK) {
		if (err->code == SDM_ALREADY_EXISTS)
			change_set_failed(c, "name %s is taken by a group which oncall-sync does not manage "
			                  "(%s)", c->group_name, err->message);
		else
			set_failed(c, err);
		free_single_group(g);
		return;
	}
	if (!g || !g->id) {
		change_set_failed(c, "StrongDM answered without a group id");
		free_single_group(g);
		return;
	}
	c->status = CHANGE_DONE;
	c->group_id = estrdup(g->id);
	for (j = k->i + 1; j < p->n; j++)
		if (p->v[j].group_change == k->i && !p->v[j].group_id)
			p->v[j].group_id = estrdup(g->id);
	free_single_group(g);
}

static void
on_renamed(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	if (err && err->code != SDM_OK) {
		if (err->code == SDM_ALREADY_EXISTS)
			change_set_failed(c, "name %s is taken by a group which oncall-sync does not manage "
			                  "(%s)", c->group_name, err->message);
		else
			set_failed(c, err);
	} else {
		c->status = CHANGE_DONE;
	}
	free_single_group(g);
}

static void
on_added(void *user, struct sdm_account_group *ag, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	/* already a member (a concurrent run, a retried call): the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_ALREADY_EXISTS)
		set_failed(c, err);
	else
		c->status = CHANGE_DONE;
	free_single_account_group(ag);
}

static void
on_removed(void *user, const struct sdm_error *err)
{
	struct call *k = user;
	struct change *c = &k->st->plan->v[k->i];

	/* already gone: the goal holds */
	if (err && err->code != SDM_OK && err->code != SDM_NOT_FOUND)
		set_failed(c, err);
	else
		c->status = CHANGE_DONE;
}

static const struct sdm_group *
managed_by_id(const struct state *st, const char *id)
{
	long i = managed_index(st, id);
	return i >= 0 ? st->managed[i] : NULL;
}

static void
run_phase(struct state *st, int phase, struct call *calls)
{
	struct plan *p = st->plan;
	size_t i, queued = 0;

	plan_cascade_failures(p, phase);
	for (i = 0; i < p->n; i++) {
		struct change *c = &p->v[i];
		if (c->phase != phase || c->status != CHANGE_PLANNED)
			continue;
		calls[i].st = st;
		calls[i].i = i;
		queued++;
		switch (c->action) {
		case CHANGE_CREATE_GROUP: {
			struct sdm_group g = {0};
			char *tagname = tag_value_sanitize(c->schedule_name ? c->schedule_name : "");
			g.name = c->group_name;
			g.description = (char *)GROUP_DESCRIPTION;
			sdm_tags_set(&g.tags, MANAGED_BY_TAG, MANAGED_BY_VALUE);
			sdm_tags_set(&g.tags, SCHEDULE_ID_TAG, c->schedule_id);
			if (*tagname)
				sdm_tags_set(&g.tags, SCHEDULE_NAME_TAG, tagname);
			free(tagname);
			sdm_group_create(st->c, &g, on_created, &calls[i]);
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
			sdm_group_update(st->c, &g, on_renamed, &calls[i]);
			sdm_tags_free(&g.tags);
			break;
		}
		case CHANGE_ADD:
			sdm_account_group_create(st->c, c->account_id, c->group_id, on_added, &calls[i]);
			break;
		case CHANGE_REMOVE:
			sdm_account_group_delete(st->c, c->membership_id, on_removed, &calls[i]);
			break;
		case CHANGE_DELETE_GROUP:
			sdm_group_delete(st->c, c->group_id, on_removed, &calls[i]);
			break;
		}
	}
	if (queued)
		sdm_run(st->c);
}

/* ---------------------------------------------------------------- all */

static int
needs_accounts(const struct state *st, const struct plan_account *known, size_t n_known)
{
	size_t i;

	for (i = 0; i < st->n_ags; i++) {
		const struct plan_account *pa = n_known ?
			bsearch(st->ags[i].account_id, known, n_known, sizeof *known, cmp_key_plan_account) : NULL;
		if (!pa || !pa->email)
			return 1;
	}
	return 0;
}

static void
state_free(struct state *st)
{
	sdm_groups_free(st->listed, st->n_listed);
	free(st->managed);
	sdm_account_groups_free(st->ags, st->n_ags);
	sdm_groups_free(st->others, st->n_others);
	sdm_accounts_free(st->accounts, st->n_accounts);
}

int
reconcile(struct sdm_client *c, const struct input *in, const struct apply_opts *o, struct plan *plan)
{
	struct state st = {0};
	struct plan_input pin = {0};
	struct plan_account *known = NULL;
	struct plan_member *members = NULL;
	struct plan_group *groups = NULL;
	struct lookup *lookups = NULL;
	struct call *calls = NULL;
	char **names = NULL;
	size_t n_names = 0, i;
	int status = EXIT_DONE;

	memset(plan, 0, sizeof *plan);
	st.c = c;
	st.plan = plan;

	/* the accounts the input names, by id, for emails of members */
	known = ecalloc(in->n_accounts + 1, sizeof *known);
	if (in->n_accounts)
		memcpy(known, in->accounts, in->n_accounts * sizeof *known);
	if (in->n_accounts > 1)
		qsort(known, in->n_accounts, sizeof *known, cmp_plan_account_id);

	if (read_managed(&st) || read_memberships(&st))
		goto read_failed;

	pin.schedules = in->schedules;
	pin.n_schedules = in->n_schedules;
	pin.group_prefix = o->group_prefix;
	pin.prune = o->prune;
	pin.prune_unsafe = in->errors_without_id > 0;

	/* names to be given to a group: is an unmanaged group holding one? */
	groups = build_groups(&st, &members, known, in->n_accounts);
	pin.groups = groups;
	pin.n_groups = st.n_managed;
	n_names = plan_wanted_names(&pin, &names);
	lookups = ecalloc(n_names + 1, sizeof *lookups);
	for (i = 0; i < n_names; i++) {
		struct buf f = {0};
		lookups[i].st = &st;
		lookups[i].name = names[i];
		sdm_filter_add(&f, "name", names[i]);
		sdm_groups_list(c, f.data, 0, on_name, &lookups[i]);
		buf_free(&f);
	}
	if (needs_accounts(&st, known, in->n_accounts))
		sdm_accounts_list(c, NULL, LIST_LIMIT, on_accounts, &st);
	sdm_run(c);
	if (st.read_failed)
		goto read_failed;
	free(groups);
	free(members);
	groups = build_groups(&st, &members, known, in->n_accounts);
	pin.groups = groups;
	pin.n_groups = st.n_managed + st.n_others;

	plan_changes(&pin, plan);
	for (i = 0; i < plan->n_notes; i++)
		weprintf("%s", plan->notes[i]);
	if (plan->failed_schedules || in->error_records)
		status = EXIT_FAILED;
	if (plan_hold(plan, o->max_changes)) {
		weprintf("%zu changes planned, more than --max-changes %ld: holding them all",
		         plan_count(plan, CHANGE_HELD), o->max_changes);
		status = EXIT_REFUSED;
		goto out;
	}
	if (o->dry_run)
		goto out;

	calls = ecalloc(plan->n + 1, sizeof *calls);
	run_phase(&st, 1, calls);
	run_phase(&st, 2, calls);
	run_phase(&st, 3, calls);
	for (i = 0; i < plan->n; i++)
		if (plan->v[i].status == CHANGE_FAILED) {
			status = EXIT_FAILED;
			break;
		}
	goto out;

read_failed:
	weprintf("nothing changed: StrongDM could not be read");
	status = EXIT_FAILED;
out:
	for (i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	free(lookups);
	free(calls);
	free(groups);
	free(members);
	free(known);
	state_free(&st);
	return status;
}
