/* spec.c: group specs folded into planned schedules (see spec.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "util.h"
#include "spec.h"

static const char *
keep(struct spec_units *u, char *s)
{
	if (u->n_strings == u->cap_strings) {
		u->cap_strings = u->cap_strings ? 2 * u->cap_strings : 16;
		u->strings = erealloc(u->strings, u->cap_strings * sizeof *u->strings);
	}
	u->strings[u->n_strings++] = s;
	return s;
}

char *
spec_group_key(const char *schedule_id_tag, const char *group_tag)
{
	if (group_tag && *group_tag)
		return easprintf("%s%s", GROUP_KEY_PREFIX, group_tag);
	if (schedule_id_tag && *schedule_id_tag)
		return estrdup(schedule_id_tag);
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same roles, whatever their order and repetitions. */
static int
same_refs(const struct plan_schedule *a, const struct plan_schedule *b)
{
	const char **x = ecalloc(a->n_role_refs + 1, sizeof *x);
	const char **y = ecalloc(b->n_role_refs + 1, sizeof *y);
	size_t i, j, nx = 0, ny = 0;
	int same = 1;

	for (i = 0; i < a->n_role_refs; i++)
		x[i] = a->role_refs[i];
	for (i = 0; i < b->n_role_refs; i++)
		y[i] = b->role_refs[i];
	qsort(x, a->n_role_refs, sizeof *x, cmp_str);
	qsort(y, b->n_role_refs, sizeof *y, cmp_str);
	for (i = 0; i < a->n_role_refs; i++)
		if (!nx || strcmp(x[nx - 1], x[i]) != 0)
			x[nx++] = x[i];
	for (i = 0; i < b->n_role_refs; i++)
		if (!ny || strcmp(y[ny - 1], y[i]) != 0)
			y[ny++] = y[i];
	if (nx != ny)
		same = 0;
	for (j = 0; same && j < nx; j++)
		if (strcmp(x[j], y[j]) != 0)
			same = 0;
	free(x);
	free(y);
	return same;
}

static size_t
unit_of(const struct spec_units *u, const char *group_name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->v[i].group_name && strcasecmp(u->v[i].group_name, group_name) == 0)
			return i;
	return (size_t)-1;
}

static struct plan_schedule *
new_unit(struct spec_units *u, const char *group_name, cJSON ***lists, size_t **first_of)
{
	struct plan_schedule *g;
	char *tag = tag_value_sanitize(group_name);

	u->v = erealloc(u->v, (u->n + 1) * sizeof *u->v);
	*lists = erealloc(*lists, (u->n + 1) * sizeof **lists);
	*first_of = erealloc(*first_of, (u->n + 1) * sizeof **first_of);
	g = &u->v[u->n];
	memset(g, 0, sizeof *g);
	g->id = keep(u, easprintf("%s%s", GROUP_KEY_PREFIX, tag));
	g->name = group_name;
	g->group_name = group_name;
	(*lists)[u->n] = cJSON_CreateArray();
	(*first_of)[u->n] = (size_t)-1;
	u->n++;
	free(tag);
	return g;
}

void
spec_fold(const struct input *in, struct spec_units *u)
{
	cJSON **lists = NULL;       /* per unit: its schedules, for change records */
	size_t *first_of = NULL;    /* per unit: the input schedule that gave its roles */
	size_t i, j, n_acc = 0, at;

	memset(u, 0, sizeof *u);
	for (i = 0; i < in->n_schedules; i++) {
		const struct plan_schedule *s = &in->schedules[i];
		struct plan_schedule *g;
		cJSON *o;

		if (!s->group_name) {
			u->v = erealloc(u->v, (u->n + 1) * sizeof *u->v);
			lists = erealloc(lists, (u->n + 1) * sizeof *lists);
			first_of = erealloc(first_of, (u->n + 1) * sizeof *first_of);
			u->v[u->n] = *s;
			lists[u->n] = NULL;
			first_of[u->n] = i;
			u->n++;
			continue;
		}
		j = unit_of(u, s->group_name);
		g = j == (size_t)-1 ? new_unit(u, s->group_name, &lists, &first_of) : &u->v[j];
		if (j == (size_t)-1)
			j = u->n - 1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", s->id);
		if (s->name)
			cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddItemToArray(lists[j], o);
		g->upstream_error |= s->upstream_error;
		g->n_oncall += s->n_oncall;
		if (!s->roles_given)
			continue;
		if (!g->roles_given) {
			g->roles_given = 1;
			g->role_refs = s->role_refs;
			g->n_role_refs = s->n_role_refs;
			first_of[j] = i;
		} else if (!same_refs(g, s) && !g->roles_error) {
			const struct plan_schedule *f = &in->schedules[first_of[j]];
			weprintf("group %s: schedules %s (%s) and %s (%s) give it different roles; "
			         "it is left as it is", s->group_name, f->name ? f->name : "?", f->id,
			         s->name ? s->name : "?", s->id);
			g->roles_error = "different roles";
			g->upstream_error = 1;
			u->conflicts++;
		}
	}
	/* an error record naming the group but no schedule: keep the group */
	for (i = 0; i < in->n_errored_groups; i++) {
		j = unit_of(u, in->errored_groups[i]);
		if (j == (size_t)-1) {
			new_unit(u, in->errored_groups[i], &lists, &first_of);
			j = u->n - 1;
		}
		u->v[j].upstream_error = 1;
	}
	/* the unions, and each unit's schedule list as JSON text */
	for (i = 0; i < u->n; i++)
		if (u->v[i].group_name)
			n_acc += u->v[i].n_oncall;
	u->accounts = ecalloc(n_acc + 1, sizeof *u->accounts);
	u->member_ids = ecalloc(in->n_schedules + 1, sizeof *u->member_ids);
	{
		size_t m = 0;
		for (i = 0; i < u->n; i++) {
			if (!u->v[i].group_name)
				continue;
			u->v[i].member_ids = u->member_ids + m;
			for (j = 0; j < in->n_schedules; j++)
				if (in->schedules[j].group_name &&
				    strcasecmp(in->schedules[j].group_name, u->v[i].group_name) == 0)
					u->member_ids[m++] = in->schedules[j].id;
			u->v[i].n_member_ids = (size_t)(u->member_ids + m - u->v[i].member_ids);
		}
	}
	at = 0;
	for (i = 0; i < u->n; i++) {
		struct plan_schedule *g = &u->v[i];
		if (!g->group_name)
			continue;
		g->oncall = u->accounts + at;
		for (j = 0; j < in->n_schedules; j++) {
			const struct plan_schedule *s = &in->schedules[j];
			if (s->group_name && strcasecmp(s->group_name, g->group_name) == 0 && s->n_oncall) {
				memcpy(u->accounts + at, s->oncall, s->n_oncall * sizeof *s->oncall);
				at += s->n_oncall;
			}
		}
		g->schedules_json = keep(u, cJSON_PrintUnformatted(lists[i]));
		if (g->roles_error)
			g->roles_given = 0;   /* left as it is: upstream_error holds it */
	}
	for (i = 0; i < u->n; i++)
		cJSON_Delete(lists[i]);
	free(lists);
	free(first_of);
	u->roles = ecalloc(u->n + 1, sizeof *u->roles);
}

void
spec_units_clear(struct spec_units *u)
{
	size_t i;

	for (i = 0; i < u->n_strings; i++)
		free(u->strings[i]);
	free(u->strings);
	for (i = 0; u->roles && i < u->n; i++)
		free(u->roles[i]);
	free(u->roles);
	free(u->v);
	free(u->accounts);
	free(u->member_ids);
	memset(u, 0, sizeof *u);
}

int
spec_any_roles(const struct spec_units *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->v[i].roles_given)
			return 1;
	return 0;
}

void
spec_fail_roles(struct spec_units *u, const char *why)
{
	size_t i;
	const char *kept = NULL;

	for (i = 0; i < u->n; i++)
		if (u->v[i].roles_given) {
			if (!kept)
				kept = keep(u, estrdup(why));
			u->v[i].roles_error = kept;
		}
}

static const struct plan_role *
resolve(const char *ref, const struct plan_role *known, size_t n)
{
	const struct plan_role *hit = NULL;
	size_t i, hits = 0;

	for (i = 0; i < n; i++)
		if (known[i].id && strcmp(known[i].id, ref) == 0)
			return &known[i];
	for (i = 0; i < n; i++)
		if (known[i].name && strcmp(known[i].name, ref) == 0)
			return &known[i];
	for (i = 0; i < n; i++)
		if (known[i].name && strcasecmp(known[i].name, ref) == 0) {
			hit = &known[i];
			hits++;
		}
	return hits == 1 ? hit : NULL;
}

void
spec_resolve_roles(struct spec_units *u, const struct plan_role *known, size_t n_known,
                   const char *where)
{
	size_t i, j, k;

	for (i = 0; i < u->n; i++) {
		struct plan_schedule *g = &u->v[i];
		struct plan_role *out;
		struct buf missing = {0};
		size_t n = 0, n_missing = 0;

		if (!g->roles_given)
			continue;
		out = ecalloc(g->n_role_refs + 1, sizeof *out);
		for (j = 0; j < g->n_role_refs; j++) {
			const struct plan_role *r = resolve(g->role_refs[j], known, n_known);
			int dup = 0;
			if (!r) {
				buf_printf(&missing, "%s\"%s\"", n_missing ? ", " : "", g->role_refs[j]);
				n_missing++;
				continue;
			}
			for (k = 0; k < n; k++)
				if (strcmp(out[k].id, r->id) == 0)
					dup = 1;
			if (!dup)
				out[n++] = *r;
		}
		free(u->roles[i]);
		u->roles[i] = out;
		g->roles = out;
		g->n_roles = n;
		g->roles_error = NULL;
		if (n_missing)
			g->roles_error = keep(u, easprintf("%s %s %s not exist %s",
			                                   n_missing == 1 ? "role" : "roles", missing.data,
			                                   n_missing == 1 ? "does" : "do", where));
		buf_clear(&missing);
	}
}
