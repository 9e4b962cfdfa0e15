/* adopt.c: --adopt and --release (see adopt.h). Each reads what it needs
 * in one or two rounds of calls, then makes at most one group's changes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "util.h"
#include "adopt.h"
#include "roles.h"
#include "spec.h"

struct one {
	const char *instance;
	int failed;
	struct sdm_group *listed;   /* the managed-tag listing */
	size_t n_listed;
	struct sdm_group *found;    /* the group looked up by id or name */
	size_t n_found;
	struct sdm_account_group *ags;  /* its memberships */
	size_t n_ags;
};

static void
on_listed(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;

	if (err && err->code != SDM_OK) {
		weprintf("listing managed groups: %s", err->message);
		o->failed = 1;
		return;
	}
	o->listed = v;
	o->n_listed = n;
}

static void
on_found(void *user, struct sdm_group *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;

	if (err && err->code != SDM_OK) {
		weprintf("looking the group up: %s", err->message);
		o->failed = 1;
		return;
	}
	o->found = v;
	o->n_found = n;
}

static void
on_ags(void *user, struct sdm_account_group *v, size_t n, const struct sdm_error *err)
{
	struct one *o = user;

	if (err && err->code != SDM_OK) {
		weprintf("listing the group's members: %s", err->message);
		o->failed = 1;
		return;
	}
	o->ags = v;
	o->n_ags = n;
}

static void
one_clear(struct one *o)
{
	sdm_groups_free(o->listed, o->n_listed);
	sdm_groups_free(o->found, o->n_found);
	sdm_account_groups_free(o->ags, o->n_ags);
}

/* The key of a group this instance manages, or NULL (caller frees). */
static char *
managed_key(const struct one *o, const struct sdm_group *g)
{
	const char *by = sdm_tags_get(&g->tags, MANAGED_BY_TAG);

	if (!by || strcmp(by, MANAGED_BY_VALUE) != 0 ||
	    !instance_owns(o->instance, sdm_tags_get(&g->tags, INSTANCE_TAG)))
		return NULL;
	return spec_group_key(sdm_tags_get(&g->tags, SCHEDULE_ID_TAG), sdm_tags_get(&g->tags, GROUP_TAG));
}

/* The managed group with this key, or NULL. */
static const struct sdm_group *
managed_with_key(const struct one *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n_listed; i++) {
		char *k = managed_key(o, &o->listed[i]);
		int hit = k && strcmp(k, key) == 0;
		free(k);
		if (hit)
			return &o->listed[i];
	}
	return NULL;
}

static void
push_change(struct plan *p, const struct change *c)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->v = erealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = *c;
}

static struct change
group_change(enum change_action a, const struct sdm_group *g, const char *key,
             const struct plan_schedule *u)
{
	struct change c;

	memset(&c, 0, sizeof c);
	c.action = a;
	c.status = CHANGE_PLANNED;
	c.group_change = NO_CHANGE;
	c.schedule_index = NO_CHANGE;
	c.schedule_id = estrdup(key);
	c.schedule_name = u && u->name && !plan_key_is_group(key) ? estrdup(u->name) : NULL;
	c.schedules_json = u && u->schedules_json ? estrdup(u->schedules_json) : NULL;
	c.group_id = estrdup(g->id);
	c.group_name = estrdup(g->name);
	return c;
}

static void
on_updated(void *user, struct sdm_group *g, const struct sdm_error *err)
{
	struct change *c = user;

	if (err && err->code != SDM_OK)
		change_set_failed(c, "%s", err->message);
	else
		c->status = CHANGE_DONE;
	sdm_groups_free(g, g ? 1 : 0);
}

/* The group sent back as read (Update overwrites it), its tags changed. */
static void
update_tags(struct sdm_client *c, const struct sdm_group *old, const struct sdm_tags *tags,
            struct change *ch)
{
	struct sdm_group g = {0};

	g.id = old->id;
	g.name = old->name;
	g.description = old->description;
	g.source = old->source;
	g.tags = *tags;
	sdm_group_update(c, &g, on_updated, ch);
}

int
adopt_group(struct sdm_client *c, const struct input *in, const char *group,
            const struct apply_opts *opts, struct plan *plan)
{
	struct one o = {0};
	struct spec_units u;
	struct role_reads rr = {0};
	struct buf f = {0};
	const struct sdm_group *g = NULL, *has;
	struct plan_schedule *unit;
	struct plan_member *members = NULL;
	struct plan_group pg;
	struct plan_input pin;
	struct plan sub = {0};
	struct change adopt;
	char *key = NULL;
	size_t i;
	int status = EXIT_FAILED;

	memset(plan, 0, sizeof *plan);
	o.instance = opts->instance && *opts->instance ? opts->instance : NULL;
	spec_fold(in, &u);
	if (u.n != 1) {
		weprintf("--adopt: the stream must hold the records of one group (one schedule, or the "
		         "schedules of one group spec), not %zu", u.n);
		spec_units_clear(&u);
		return EXIT_USAGE;
	}
	unit = &u.v[0];

	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	sdm_groups_list(c, f.data, LIST_LIMIT, on_listed, &o);
	buf_clear(&f);
	sdm_filter_add(&f, strncmp(group, "group-", 6) == 0 ? "id" : "name", group);
	sdm_groups_list(c, f.data, 0, on_found, &o);
	buf_clear(&f);
	sdm_run(c);
	if (o.failed)
		goto out;
	for (i = 0; i < o.n_found && !g; i++)
		if (o.found[i].id && o.found[i].name &&
		    (strcmp(o.found[i].id, group) == 0 || strcasecmp(o.found[i].name, group) == 0))
			g = &o.found[i];
	if (!g) {
		weprintf("--adopt: StrongDM has no group with the id or name %s", group);
		goto out;
	}
	if ((key = managed_key(&o, g))) {
		if (strcmp(key, unit->id) == 0) {
			weprintf("group %s (%s) is already oncall-sync's group of %s: nothing to adopt",
			         g->name, g->id, unit->name ? unit->name : unit->id);
			status = EXIT_DONE;
		} else {
			weprintf("--adopt: group %s (%s) is oncall-sync's group of %s already: refused",
			         g->name, g->id, key);
			status = EXIT_REFUSED;
		}
		goto out;
	}
	if (sdm_tags_get(&g->tags, MANAGED_BY_TAG) &&
	    strcmp(sdm_tags_get(&g->tags, MANAGED_BY_TAG), MANAGED_BY_VALUE) == 0) {
		weprintf("--adopt: group %s (%s) is managed by another oncall-sync instance (%s): refused",
		         g->name, g->id, sdm_tags_get(&g->tags, INSTANCE_TAG) ? sdm_tags_get(&g->tags, INSTANCE_TAG) : "default");
		status = EXIT_REFUSED;
		goto out;
	}
	if ((has = managed_with_key(&o, unit->id))) {
		weprintf("--adopt: %s has its managed group already, %s (%s): refused (remove --release it first)",
		         unit->name ? unit->name : unit->id, has->name, has->id);
		status = EXIT_REFUSED;
		goto out;
	}
	key = estrdup(unit->id);
	adopt = group_change(CHANGE_ADOPT_GROUP, g, key, unit);

	if (!opts->dry_run) {
		struct sdm_tags tags = {0};
		char *tagname;
		for (i = 0; i < g->tags.n; i++)
			sdm_tags_set(&tags, g->tags.v[i].name, g->tags.v[i].value);
		sdm_tags_set(&tags, MANAGED_BY_TAG, MANAGED_BY_VALUE);
		if (plan_key_is_group(key)) {
			sdm_tags_set(&tags, GROUP_TAG, key + strlen(GROUP_KEY_PREFIX));
		} else {
			sdm_tags_set(&tags, SCHEDULE_ID_TAG, key);
			tagname = tag_value_sanitize(unit->name ? unit->name : "");
			if (*tagname)
				sdm_tags_set(&tags, SCHEDULE_NAME_TAG, tagname);
			free(tagname);
		}
		if (o.instance)
			sdm_tags_set(&tags, INSTANCE_TAG, o.instance);
		push_change(plan, &adopt);
		update_tags(c, g, &tags, &plan->v[0]);
		sdm_run(c);
		sdm_tags_clear(&tags);
		status = plan->v[0].status == CHANGE_DONE ? EXIT_DONE : EXIT_FAILED;
		goto out;
	}

	/* Dry run: what the next sync will change in it, as if it were ours. */
	sdm_filter_add(&f, "groupid", g->id);
	sdm_account_groups_list(c, f.data, LIST_LIMIT, on_ags, &o);
	buf_clear(&f);
	if (unit->roles_given)
		role_reads_start(&rr, c, (const char *const *)&g->id, 1);
	sdm_run(c);
	if (o.failed || rr.failed) {
		change_clear(&adopt);
		goto out;
	}
	members = ecalloc(o.n_ags + 1, sizeof *members);
	memset(&pg, 0, sizeof pg);
	pg.id = g->id;
	pg.name = g->name;
	pg.schedule_id = key;
	pg.members = members;
	for (i = 0; i < o.n_ags; i++) {
		const struct plan_account *a;
		if (!o.ags[i].id || !o.ags[i].account_id)
			continue;
		a = input_account(in, o.ags[i].account_id);
		members[pg.n_members].id = o.ags[i].id;
		members[pg.n_members].account_id = o.ags[i].account_id;
		members[pg.n_members++].email = a ? a->email : NULL;
	}
	if (unit->roles_given) {
		size_t n_known;
		const struct plan_role *known = role_reads_known(&rr, &n_known);
		spec_resolve_roles(&u, known, n_known, "in StrongDM");
		role_reads_fill_groups(&rr, &pg, 1);
	}
	memset(&pin, 0, sizeof pin);
	pin.schedules = u.v;
	pin.n_schedules = u.n;
	pin.groups = &pg;
	pin.n_groups = 1;
	pin.group_prefix = opts->group_prefix;
	plan_changes(&pin, &sub);
	for (i = 0; i < sub.n_notes; i++)
		weprintf("%s", sub.notes[i]);
	push_change(plan, &adopt);
	for (i = 0; i < sub.n; i++)
		push_change(plan, &sub.v[i]);
	free(sub.v);
	sub.v = NULL;
	sub.n = 0;
	plan_clear(&sub);
	status = EXIT_DONE;
out:
	free(key);
	free(members);
	role_reads_clear(&rr);
	spec_units_clear(&u);
	one_clear(&o);
	return status;
}

static void
on_member_removed(void *user, const struct sdm_error *err)
{
	struct change *c = user;

	if (err && err->code != SDM_OK && err->code != SDM_NOT_FOUND)
		change_set_failed(c, "%s", err->message);
	else
		c->status = CHANGE_DONE;
}

static int
is_our_tag(const char *name)
{
	return strcmp(name, MANAGED_BY_TAG) == 0 || strcmp(name, SCHEDULE_ID_TAG) == 0 ||
	       strcmp(name, SCHEDULE_NAME_TAG) == 0 || strcmp(name, GROUP_TAG) == 0 ||
	       strcmp(name, INSTANCE_TAG) == 0;
}

int
release_group(struct sdm_client *c, const char *key, const struct apply_opts *opts,
              struct plan *plan)
{
	struct one o = {0};
	struct role_reads rr = {0};
	struct buf f = {0};
	const struct sdm_group *g;
	struct change rel;
	cJSON *roles;
	size_t i, n_removes, failed = 0;
	int status = EXIT_FAILED;

	memset(plan, 0, sizeof *plan);
	o.instance = opts->instance && *opts->instance ? opts->instance : NULL;
	sdm_filter_add_tag(&f, MANAGED_BY_TAG, MANAGED_BY_VALUE);
	sdm_groups_list(c, f.data, LIST_LIMIT, on_listed, &o);
	buf_clear(&f);
	sdm_run(c);
	if (o.failed)
		goto out;
	if (!(g = managed_with_key(&o, key))) {
		weprintf("--release: oncall-sync manages no group for %s: nothing to release", key);
		status = EXIT_DONE;
		goto out;
	}
	sdm_filter_add(&f, "groupid", g->id);
	sdm_account_groups_list(c, f.data, LIST_LIMIT, on_ags, &o);
	buf_clear(&f);
	role_reads_start(&rr, c, (const char *const *)&g->id, 1);
	sdm_run(c);
	if (o.failed || rr.failed)
		goto out;

	for (i = 0; i < o.n_ags; i++) {
		struct change r = group_change(CHANGE_REMOVE, g, key, NULL);
		if (!o.ags[i].id || !o.ags[i].account_id) {
			change_clear(&r);
			continue;
		}
		r.account_id = estrdup(o.ags[i].account_id);
		r.membership_id = estrdup(o.ags[i].id);
		push_change(plan, &r);
	}
	n_removes = plan->n;
	rel = group_change(CHANGE_RELEASE_GROUP, g, key, NULL);
	roles = cJSON_CreateArray();
	{
		struct plan_group pg;
		memset(&pg, 0, sizeof pg);
		pg.id = g->id;
		role_reads_fill_groups(&rr, &pg, 1);
		for (i = 0; i < pg.n_roles; i++)
			cJSON_AddItemToArray(roles, cJSON_CreateString(pg.roles[i].role_name ?
			                                               pg.roles[i].role_name : pg.roles[i].role_id));
	}
	rel.roles_json = cJSON_PrintUnformatted(roles);
	cJSON_Delete(roles);
	push_change(plan, &rel);
	if (opts->dry_run) {
		status = EXIT_DONE;
		goto out;
	}
	for (i = 0; i < n_removes; i++)
		sdm_account_group_delete(c, plan->v[i].membership_id, on_member_removed, &plan->v[i]);
	sdm_run(c);
	for (i = 0; i < n_removes; i++)
		if (plan->v[i].status == CHANGE_FAILED)
			failed++;
	if (failed) {
		change_set_failed(&plan->v[n_removes], "not attempted: %zu members could not be removed", failed);
		goto out;
	}
	{
		struct sdm_tags tags = {0};
		for (i = 0; i < g->tags.n; i++)
			if (!is_our_tag(g->tags.v[i].name))
				sdm_tags_set(&tags, g->tags.v[i].name, g->tags.v[i].value);
		update_tags(c, g, &tags, &plan->v[n_removes]);
		sdm_run(c);
		sdm_tags_clear(&tags);
	}
	status = plan->v[n_removes].status == CHANGE_DONE ? EXIT_DONE : EXIT_FAILED;
out:
	role_reads_clear(&rr);
	one_clear(&o);
	return status;
}
