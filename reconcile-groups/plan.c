/* plan.c: the pure planner of reconcile-groups (see plan.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "map.h"
#include "util.h"
#include "plan.h"

static char *
dup_or_null(const char *s)
{
	return s ? estrdup(s) : NULL;
}

/* ---------------------------------------------------------------- index
 * Maps from a string to an index (lib/map.h), so that planning stays
 * linear in the number of schedules and groups. */

#define NONE MAP_NONE

/* Groups by schedule id and by name, each a chain in input order; the
 * input's schedule ids. */
struct pindex {
	struct map by_sid, by_name, sched;
	size_t *next_sid, *next_name;
};

static void
pindex_build(struct pindex *x, const struct plan_input *in)
{
	size_t i;

	map_init(&x->by_sid, 0);
	map_init(&x->by_name, 1);
	map_init(&x->sched, 0);
	x->next_sid = ecalloc(in->n_groups + 1, sizeof *x->next_sid);
	x->next_name = ecalloc(in->n_groups + 1, sizeof *x->next_name);
	/* backwards: each chain's head is its first group */
	for (i = in->n_groups; i-- > 0;) {
		const struct plan_group *g = &in->groups[i];
		x->next_sid[i] = g->schedule_id ? map_put(&x->by_sid, g->schedule_id, i) : NONE;
		x->next_name[i] = g->name ? map_put(&x->by_name, g->name, i) : NONE;
	}
	for (i = 0; i < in->n_schedules; i++)
		if (in->schedules[i].id)
			map_add(&x->sched, in->schedules[i].id, i);
}

static void
pindex_clear(struct pindex *x)
{
	map_clear(&x->by_sid);
	map_clear(&x->by_name);
	map_clear(&x->sched);
	free(x->next_sid);
	free(x->next_name);
}

int
group_name_equal(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static char *
plan_group_name(const char *prefix, const char *schedule_name)
{
	return easprintf("%s%s", prefix ? prefix : "", schedule_name ? schedule_name : "");
}

static char *
plan_schedule_group_name(const char *prefix, const struct plan_schedule *s)
{
	/* a spec names its group exactly: no prefix */
	return s->group_name ? estrdup(s->group_name) : plan_group_name(prefix, s->name);
}

int
plan_key_is_group(const char *key)
{
	return key && strncmp(key, GROUP_KEY_PREFIX, strlen(GROUP_KEY_PREFIX)) == 0;
}

static int
tag_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr(" +-=._:/@", ch));
}

char *
tag_value_sanitize(const char *s)
{
	size_t len = strlen(s), i = 0, o = 0;
	char *out = emalloc(len + 1);

	while (s[i] && o < TAG_VALUE_MAX) {
		unsigned char ch = (unsigned char)s[i];
		if (tag_char_ok(ch)) {
			out[o++] = (char)ch;
			i++;
			continue;
		}
		/* one '_' for a whole UTF-8 sequence */
		out[o++] = '_';
		i++;
		while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
	}
	out[o] = '\0';
	return out;
}

const char *
change_action_name(enum change_action a)
{
	switch (a) {
	case CHANGE_CREATE_GROUP: return "create_group";
	case CHANGE_RENAME_GROUP: return "rename_group";
	case CHANGE_ADD: return "add";
	case CHANGE_REMOVE: return "remove";
	case CHANGE_DELETE_GROUP: return "delete_group";
	case CHANGE_ATTACH_ROLE: return "attach_role";
	case CHANGE_DETACH_ROLE: return "detach_role";
	case CHANGE_ADOPT_GROUP: return "adopt_group";
	case CHANGE_RELEASE_GROUP: return "release_group";
	}
	return "?";
}

const char *
change_status_name(enum change_status s)
{
	switch (s) {
	case CHANGE_PLANNED: return "planned";
	case CHANGE_DONE: return "done";
	case CHANGE_FAILED: return "failed";
	case CHANGE_HELD: return "held";
	}
	return "?";
}

void
change_set_failed(struct change *c, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	free(c->error);
	c->error = estrdup(tmp);
	c->code = NULL;
	c->status = CHANGE_FAILED;
}

static void
note(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	char tmp[2048];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (p->n_notes == p->cap_notes) {
		p->cap_notes = p->cap_notes ? 2 * p->cap_notes : 8;
		p->notes = erealloc(p->notes, p->cap_notes * sizeof *p->notes);
	}
	p->notes[p->n_notes++] = estrdup(tmp);
}

static struct change *
push(struct plan *p, enum change_action action, size_t sched_index)
{
	struct change *c;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = erealloc(p->v, p->cap * sizeof *p->v);
	}
	c = &p->v[p->n++];
	memset(c, 0, sizeof *c);
	c->action = action;
	c->status = CHANGE_PLANNED;
	c->group_change = NO_CHANGE;
	c->schedule_index = sched_index;
	return c;
}

void
change_clear(struct change *c)
{
	free(c->error);
	free(c->schedule_id);
	free(c->schedule_name);
	free(c->group_id);
	free(c->group_name);
	free(c->previous_name);
	free(c->account_id);
	free(c->account_email);
	free(c->membership_id);
	free(c->role_id);
	free(c->role_name);
	free(c->attachment_id);
	free(c->schedules_json);
	free(c->roles_json);
	memset(c, 0, sizeof *c);
}

void
plan_clear(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		change_clear(&p->v[i]);
	free(p->v);
	for (i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	memset(p, 0, sizeof *p);
}

/* Sort keys: email (absent sorts first), then account id. */
static int
cmp_email_id(const char *ea, const char *ia, const char *eb, const char *ib)
{
	int r = strcmp(ea ? ea : "", eb ? eb : "");
	return r ? r : strcmp(ia ? ia : "", ib ? ib : "");
}

static int
cmp_change_account(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	return cmp_email_id(x->account_email, x->account_id, y->account_email, y->account_id);
}

/* The managed groups of a schedule id: count and the first one. */
static size_t
managed_groups_of(const struct plan_input *in, const struct pindex *x, const char *schedule_id,
                  const struct plan_group **first)
{
	size_t i, n = 0;

	*first = NULL;
	for (i = map_get(&x->by_sid, schedule_id); i != NONE; i = x->next_sid[i]) {
		if (!n)
			*first = &in->groups[i];
		n++;
	}
	return n;
}

static int
account_in(const struct plan_account *v, size_t n, const char *id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return 1;
	return 0;
}

static int
member_in(const struct plan_group *g, const char *account_id)
{
	size_t i;
	for (i = 0; g && i < g->n_members; i++)
		if (strcmp(g->members[i].account_id, account_id) == 0)
			return 1;
	return 0;
}

/* The group (other than own) already holding name, or NULL. */
static const struct plan_group *
name_holder(const struct plan_input *in, const struct pindex *x, const char *name,
            const struct plan_group *own)
{
	size_t i;
	for (i = map_get(&x->by_name, name); i != NONE; i = x->next_name[i])
		if (&in->groups[i] != own)
			return &in->groups[i];
	return NULL;
}

static int
name_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

static int
schedule_known(const struct pindex *x, const char *id)
{
	return map_get(&x->sched, id) != NONE;
}

static void
fill_schedule(struct change *c, const struct plan_schedule *s)
{
	c->schedule_id = dup_or_null(s->id);
	c->schedule_name = dup_or_null(s->name);
	c->schedules_json = dup_or_null(s->schedules_json);
}

static int
cmp_change_role(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int r = strcmp(x->role_name ? x->role_name : "", y->role_name ? y->role_name : "");
	return r ? r : strcmp(x->role_id, y->role_id);
}

static int
role_wanted(const struct plan_schedule *s, const char *role_id)
{
	size_t i;
	for (i = 0; i < s->n_roles; i++)
		if (strcmp(s->roles[i].id, role_id) == 0)
			return 1;
	return 0;
}

static int
role_attached(const struct plan_group *g, const char *role_id, size_t before)
{
	size_t i;
	for (i = 0; g && i < g->n_roles && i < before; i++)
		if (strcmp(g->roles[i].role_id, role_id) == 0)
			return 1;
	return 0;
}

/* The group's role attachments made equal to the spec's roles, when it
 * gives some; a role that could not be resolved fails them all (the roles
 * stay as they are) and the schedule counts as failed. */
static void
plan_roles(struct plan *p, const struct plan_schedule *s, size_t si,
           const struct plan_group *g, const char *group_name, size_t group_change)
{
	size_t i, start;
	struct change *c;

	if (!s->roles_given)
		return;
	if (s->roles_error) {
		c = push(p, CHANGE_ATTACH_ROLE, si);
		fill_schedule(c, s);
		c->group_id = dup_or_null(g ? g->id : NULL);
		c->group_name = estrdup(group_name);
		c->role_id = estrdup("");
		change_set_failed(c, "%s: the roles of group %s are left as they are", s->roles_error,
		                  group_name);
		note(p, "group %s: %s", group_name, c->error);
		p->failed_schedules++;
		return;
	}
	start = p->n;
	for (i = 0; i < s->n_roles; i++) {
		if (role_attached(g, s->roles[i].id, (size_t)-1))
			continue;
		c = push(p, CHANGE_ATTACH_ROLE, si);
		fill_schedule(c, s);
		c->group_id = dup_or_null(g ? g->id : NULL);
		c->group_name = estrdup(group_name);
		c->role_id = estrdup(s->roles[i].id);
		c->role_name = dup_or_null(s->roles[i].name);
		c->group_change = group_change;
	}
	if (p->n - start > 1)
		qsort(p->v + start, p->n - start, sizeof *p->v, cmp_change_role);
	start = p->n;
	for (i = 0; g && i < g->n_roles; i++) {
		const struct plan_attachment *a = &g->roles[i];
		if (role_wanted(s, a->role_id) || role_attached(g, a->role_id, i))
			continue;
		c = push(p, CHANGE_DETACH_ROLE, si);
		fill_schedule(c, s);
		c->group_id = estrdup(g->id);
		c->group_name = estrdup(group_name);
		c->role_id = estrdup(a->role_id);
		c->role_name = dup_or_null(a->role_name);
		c->attachment_id = estrdup(a->id);
		c->group_change = group_change;
	}
	if (p->n - start > 1)
		qsort(p->v + start, p->n - start, sizeof *p->v, cmp_change_role);
}

/* Add and remove changes of one group, sorted by email. */
static void
plan_members(struct plan *p, const struct plan_schedule *s, size_t si,
             const struct plan_group *g, const char *group_name, size_t group_change)
{
	size_t i, start, j;
	struct change *c;

	start = p->n;
	for (i = 0; i < s->n_oncall; i++) {
		const struct plan_account *a = &s->oncall[i];
		if (member_in(g, a->id) || account_in(s->oncall, i, a->id))
			continue;   /* already a member, or a duplicate */
		c = push(p, CHANGE_ADD, si);
		fill_schedule(c, s);
		c->group_id = dup_or_null(g ? g->id : NULL);
		c->group_name = estrdup(group_name);
		c->account_id = estrdup(a->id);
		c->account_email = dup_or_null(a->email);
		c->group_change = group_change;
	}
	if (p->n - start > 1)
		qsort(p->v + start, p->n - start, sizeof *p->v, cmp_change_account);
	start = p->n;
	for (i = 0; g && i < g->n_members; i++) {
		const struct plan_member *m = &g->members[i];
		int dup = 0;
		if (account_in(s->oncall, s->n_oncall, m->account_id))
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(g->members[j].id, m->id) == 0)
				dup = 1;
		if (dup)
			continue;
		c = push(p, CHANGE_REMOVE, si);
		fill_schedule(c, s);
		c->group_id = estrdup(g->id);
		c->group_name = estrdup(group_name);
		c->account_id = estrdup(m->account_id);
		c->account_email = dup_or_null(m->email);
		c->membership_id = estrdup(m->id);
		c->group_change = group_change;
	}
	if (p->n - start > 1)
		qsort(p->v + start, p->n - start, sizeof *p->v, cmp_change_account);
}

static void
describe_holder(char *out, size_t len, const struct plan_input *in, const struct plan_group *h)
{
	size_t i;

	if (!h->schedule_id) {
		snprintf(out, len, "group %s which oncall-sync does not manage "
		         "(oncall-sync adopt SCHEDULE %s makes it the schedule's group)", h->id, h->id);
		return;
	}
	if (plan_key_is_group(h->schedule_id)) {
		snprintf(out, len, "group %s which oncall-sync manages for group spec %s", h->id,
		         h->schedule_id + strlen(GROUP_KEY_PREFIX));
		return;
	}
	for (i = 0; i < in->n_schedules; i++)
		if (in->schedules[i].id && strcmp(in->schedules[i].id, h->schedule_id) == 0 &&
		    in->schedules[i].name) {
			snprintf(out, len, "group %s which oncall-sync manages for schedule %s (%s)",
			         h->id, in->schedules[i].name, h->schedule_id);
			return;
		}
	snprintf(out, len, "group %s which oncall-sync manages for schedule %s", h->id, h->schedule_id);
}

/* A spec's group that has no group yet takes over the own group of one of
 * its schedules (the first, in its order, that has exactly one), keeping
 * its id, members and roles; it is then not pruned. */
static const struct plan_group *
own_group_to_take(const struct plan_input *in, const struct pindex *x, const struct plan_schedule *s,
                  const struct plan_group **taken)
{
	const struct plan_group *g;
	size_t i;

	if (!plan_key_is_group(s->id))
		return NULL;
	for (i = 0; i < s->n_member_ids; i++)
		if (managed_groups_of(in, x, s->member_ids[i], &g) == 1 && !taken[g - in->groups])
			return g;
	return NULL;
}

static void
plan_schedule(struct plan *p, const struct plan_input *in, const struct pindex *x, size_t si,
              char **claimed, struct map *claimed_by, const struct plan_group **taken)
{
	const struct plan_schedule *s = &in->schedules[si];
	const struct plan_group *g, *holder;
	size_t n, j, group_change = NO_CHANGE;
	char *want;
	char why[512];
	struct change *c;
	int retag;

	claimed[si] = NULL;
	if (s->upstream_error) {
		/* held: nor is the own group of one of its schedules pruned */
		for (j = 0; plan_key_is_group(s->id) && j < s->n_member_ids; j++)
			if (managed_groups_of(in, x, s->member_ids[j], &g) == 1)
				taken[g - in->groups] = g;
		p->failed_schedules++;
		return;
	}
	n = managed_groups_of(in, x, s->id, &g);
	if (n > 1) {
		struct buf ids = {0};
		for (j = map_get(&x->by_sid, s->id); j != NONE; j = x->next_sid[j])
			buf_printf(&ids, "%s%s", ids.len ? ", " : "", in->groups[j].id);
		note(p, "schedule %s (%s) has %zu managed groups (%s); changing none of them",
		     s->name, s->id, n, ids.data);
		buf_clear(&ids);
		p->failed_schedules++;
		return;
	}
	want = plan_schedule_group_name(in->group_prefix, s);
	if (!g && (g = own_group_to_take(in, x, s, taken)))
		taken[g - in->groups] = g;
	retag = g && taken[g - in->groups];
	if (!g || strcmp(g->name, want) != 0 || retag) {
		c = push(p, g ? CHANGE_RENAME_GROUP : CHANGE_CREATE_GROUP, si);
		c->retag = retag;
		fill_schedule(c, s);
		c->group_id = dup_or_null(g ? g->id : NULL);
		c->group_name = estrdup(want);
		c->previous_name = dup_or_null(g ? g->name : NULL);
		group_change = p->n - 1;
		holder = name_holder(in, x, want, g);
		if (name_blank(want)) {
			change_set_failed(c, "schedule %s has an empty name", s->id);
			c->code = "invalid";
		} else if (holder) {
			describe_holder(why, sizeof why, in, holder);
			change_set_failed(c, "name %s is taken by %s", want, why);
			c->code = "name_taken";
		} else if ((j = map_get(claimed_by, want)) != NONE) {
			change_set_failed(c, "name %s is also wanted by schedule %s (%s)",
			                  want, in->schedules[j].name, in->schedules[j].id);
			c->code = "name_taken";
		}
		if (c->status == CHANGE_FAILED) {
			note(p, "schedule %s (%s): %s", s->name, s->id, c->error);
			p->failed_schedules++;
			free(want);
			return;
		}
	}
	claimed[si] = want;
	map_add(claimed_by, want, si);
	plan_members(p, s, si, g, want, group_change);
	plan_roles(p, s, si, g, want, group_change);
}

static int
cmp_group_ptr_name(const void *a, const void *b)
{
	const struct plan_group *x = *(const struct plan_group *const *)a;
	const struct plan_group *y = *(const struct plan_group *const *)b;
	int r = strcmp(x->name, y->name);
	return r ? r : strcmp(x->id, y->id);
}

static void
plan_prune(struct plan *p, const struct plan_input *in, const struct pindex *x,
           const struct plan_group **taken)
{
	const struct plan_group **gone;
	size_t i, n = 0, start, j;
	struct change *c;

	gone = ecalloc(in->n_groups + 1, sizeof *gone);
	for (i = 0; i < in->n_groups; i++)
		if (in->groups[i].schedule_id && !schedule_known(x, in->groups[i].schedule_id) &&
		    !(taken && taken[i]))
			gone[n++] = &in->groups[i];
	if (n && in->prune_unsafe) {
		note(p, "--prune skipped: an error record names no schedule id, so its group cannot be told apart");
		p->prune_skipped = 1;
		free(gone);
		return;
	}
	if (n > 1)
		qsort(gone, n, sizeof *gone, cmp_group_ptr_name);
	for (i = 0; i < n; i++) {
		const struct plan_group *g = gone[i];
		start = p->n;
		for (j = 0; j < g->n_members; j++) {
			c = push(p, CHANGE_REMOVE, NO_CHANGE);
			c->schedule_id = estrdup(g->schedule_id);
			c->schedule_name = dup_or_null(g->schedule_name);
			c->group_id = estrdup(g->id);
			c->group_name = estrdup(g->name);
			c->account_id = estrdup(g->members[j].account_id);
			c->account_email = dup_or_null(g->members[j].email);
			c->membership_id = estrdup(g->members[j].id);
		}
		if (p->n - start > 1)
		qsort(p->v + start, p->n - start, sizeof *p->v, cmp_change_account);
		c = push(p, CHANGE_DELETE_GROUP, NO_CHANGE);
		c->schedule_id = estrdup(g->schedule_id);
		c->schedule_name = dup_or_null(g->schedule_name);
		c->group_id = estrdup(g->id);
		c->group_name = estrdup(g->name);
	}
	free(gone);
}

void
plan_changes(const struct plan_input *in, struct plan *out)
{
	const struct plan_group **taken;   /* own groups a spec's group takes over */
	char **claimed;
	struct pindex x;
	struct map claimed_by;
	size_t i;

	memset(out, 0, sizeof *out);
	pindex_build(&x, in);
	map_init(&claimed_by, 1);
	claimed = ecalloc(in->n_schedules + 1, sizeof *claimed);
	taken = ecalloc(in->n_groups + 1, sizeof *taken);
	for (i = 0; i < in->n_schedules; i++)
		plan_schedule(out, in, &x, i, claimed, &claimed_by, taken);
	if (in->prune)
		plan_prune(out, in, &x, taken);
	for (i = 0; i < in->n_schedules; i++)
		free(claimed[i]);
	free(claimed);
	free(taken);
	map_clear(&claimed_by);
	pindex_clear(&x);
}

size_t
plan_wanted_names(const struct plan_input *in, char ***names)
{
	size_t i, n = 0;
	char **v = ecalloc(in->n_schedules + 1, sizeof *v);
	struct pindex x;
	struct map seen_names;

	pindex_build(&x, in);
	map_init(&seen_names, 1);
	for (i = 0; i < in->n_schedules; i++) {
		const struct plan_schedule *s = &in->schedules[i];
		const struct plan_group *g;
		char *want;
		if (s->upstream_error || managed_groups_of(in, &x, s->id, &g) > 1)
			continue;
		want = plan_schedule_group_name(in->group_prefix, s);
		if (g && strcmp(g->name, want) == 0) {
			free(want);
			continue;
		}
		if (name_blank(want) || map_add(&seen_names, want, n) != NONE) {
			free(want);
			continue;
		}
		v[n++] = want;
	}
	map_clear(&seen_names);
	pindex_clear(&x);
	*names = v;
	return n;
}

size_t
plan_count(const struct plan *p, enum change_status st)
{
	size_t i, n = 0;
	for (i = 0; i < p->n; i++)
		if (p->v[i].status == st && !p->v[i].dropped)
			n++;
	return n;
}

static int
same_member_run(const struct change *a, const struct change *b)
{
	if (a->action != b->action || (a->action != CHANGE_ADD && a->action != CHANGE_REMOVE))
		return 0;
	if (a->schedule_index != b->schedule_index)
		return 0;
	/* pruned groups share NO_CHANGE: tell them apart by group */
	return a->schedule_index != NO_CHANGE ||
	       (a->group_id && b->group_id && strcmp(a->group_id, b->group_id) == 0);
}

void
plan_sort_members(struct plan *p)
{
	size_t i = 0, j;

	while (i < p->n) {
		for (j = i + 1; j < p->n && same_member_run(&p->v[i], &p->v[j]); j++)
			;
		if (j - i > 1)
			qsort(p->v + i, j - i, sizeof *p->v, cmp_change_account);
		i = j;
	}
}

int
plan_hold(struct plan *p, long max)
{
	size_t i;

	if (max < 0 || plan_count(p, CHANGE_PLANNED) <= (size_t)max)
		return 0;
	for (i = 0; i < p->n; i++)
		if (p->v[i].status == CHANGE_PLANNED)
			p->v[i].status = CHANGE_HELD;
	return 1;
}

int
plan_hold_prune(struct plan *p, const struct plan_input *in, double share, int allow_empty,
                size_t *deletes, size_t *managed)
{
	size_t i;

	*deletes = *managed = 0;
	for (i = 0; i < in->n_groups; i++)
		if (in->groups[i].schedule_id)
			++*managed;
	for (i = 0; i < p->n; i++)
		if (p->v[i].action == CHANGE_DELETE_GROUP && !p->v[i].dropped &&
		    p->v[i].status == CHANGE_PLANNED)
			++*deletes;
	if (*deletes == 0 ||
	    ((double)*deletes <= share * (double)*managed && (*deletes < *managed || allow_empty)))
		return 0;
	for (i = 0; i < p->n; i++)
		if (p->v[i].status == CHANGE_PLANNED)
			p->v[i].status = CHANGE_HELD;
	return 1;
}

cJSON *
change_to_json(const struct change *c)
{
	cJSON *o = cJSON_CreateObject(), *s, *g, *a;

	cJSON_AddStringToObject(o, "type", "change");
	cJSON_AddStringToObject(o, "action", change_action_name(c->action));
	cJSON_AddStringToObject(o, "status", change_status_name(c->status));
	if (plan_key_is_group(c->schedule_id)) {
		/* a spec group: its schedules (the first as "schedule"); a
		 * retired one has none left */
		cJSON *list = c->schedules_json ? cJSON_Parse(c->schedules_json) : NULL;
		cJSON *first = cJSON_GetArrayItem(list, 0);
		if (!list)
			list = cJSON_CreateArray();
		cJSON_AddItemToObject(o, "schedule", first ? cJSON_Duplicate(first, 1) :
		                      cJSON_CreateObject());
		if (!first)
			cJSON_AddStringToObject(cJSON_GetObjectItem(o, "schedule"), "id", "");
		cJSON_AddItemToObject(o, "schedules", list);
	} else {
		s = cJSON_AddObjectToObject(o, "schedule");
		cJSON_AddStringToObject(s, "id", c->schedule_id ? c->schedule_id : "");
		if (c->schedule_name)
			cJSON_AddStringToObject(s, "name", c->schedule_name);
	}
	g = cJSON_AddObjectToObject(o, "group");
	if (c->group_id)
		cJSON_AddStringToObject(g, "id", c->group_id);
	cJSON_AddStringToObject(g, "name", c->group_name ? c->group_name : "");
	if (c->previous_name)
		cJSON_AddStringToObject(g, "previous_name", c->previous_name);
	if (c->account_id) {
		a = cJSON_AddObjectToObject(o, "account");
		cJSON_AddStringToObject(a, "id", c->account_id);
		if (c->account_email)
			cJSON_AddStringToObject(a, "email", c->account_email);
	}
	if (c->action == CHANGE_ATTACH_ROLE || c->action == CHANGE_DETACH_ROLE) {
		a = cJSON_AddObjectToObject(o, "role");
		if (c->role_id && *c->role_id)
			cJSON_AddStringToObject(a, "id", c->role_id);
		if (c->role_name)
			cJSON_AddStringToObject(a, "name", c->role_name);
	}
	if (c->roles_json)
		cJSON_AddItemToObject(o, "roles", cJSON_Parse(c->roles_json));
	if (c->status == CHANGE_FAILED && c->error) {
		cJSON_AddStringToObject(o, "error", c->error);
		cJSON_AddStringToObject(o, "code", c->code ? c->code : "failed");
	}
	return o;
}

int
instance_owns(const char *want, const char *have)
{
	if (!want || !*want)
		return !have || !*have;
	return have && strcmp(have, want) == 0;
}
