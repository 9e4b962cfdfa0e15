/* groups_file.c: --groups FILE, StrongDM's groups as NDJSON (the
 * simulator's state dump's shape), and the offline run that plans
 * against them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "groups_file.h"
#include "ndjson.h"
#include "spec.h"
#include "util.h"

static int
gf_string(const cJSON *obj, const char *key, int required, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return required ? -1 : 0;
	if (!cJSON_IsString(v) || (required && !*v->valuestring))
		return -1;
	*out = v->valuestring;
	return 0;
}

/* One group line; -1 with why set. */
static int
gf_group(struct groups_file *gf, const cJSON *o, size_t *cap_groups, size_t *cap_members,
         const struct input *in, const char **why)
{
	const cJSON *tags, *members, *m, *t, *roles;
	const char *id, *name, *by = NULL, *sid = NULL, *sname = NULL, *inst = NULL, *spec = NULL;
	struct plan_group *g;
	int managed;

	if (!cJSON_IsObject(o))
		return *why = "not a JSON object", -1;
	if (gf_string(o, "id", 1, &id))
		return *why = "\"id\" must be a non-empty string", -1;
	if (gf_string(o, "name", 1, &name))
		return *why = "\"name\" must be a non-empty string", -1;
	tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
	if (tags && !cJSON_IsNull(tags)) {
		if (!cJSON_IsObject(tags))
			return *why = "\"tags\" must be an object", -1;
		cJSON_ArrayForEach(t, tags) {
			if (!cJSON_IsString(t))
				return *why = "a tag value must be a string", -1;
			if (strcmp(t->string, MANAGED_BY_TAG) == 0)
				by = t->valuestring;
			else if (strcmp(t->string, SCHEDULE_ID_TAG) == 0)
				sid = t->valuestring;
			else if (strcmp(t->string, SCHEDULE_NAME_TAG) == 0)
				sname = t->valuestring;
			else if (strcmp(t->string, INSTANCE_TAG) == 0)
				inst = t->valuestring;
			else if (strcmp(t->string, GROUP_TAG) == 0 && *t->valuestring)
				spec = t->valuestring;
		}
	}
	members = cJSON_GetObjectItemCaseSensitive(o, "members");
	if (members && !cJSON_IsNull(members) && !cJSON_IsArray(members))
		return *why = "\"members\" must be an array", -1;
	roles = cJSON_GetObjectItemCaseSensitive(o, "roles");
	if (roles && !cJSON_IsNull(roles) && !cJSON_IsArray(roles))
		return *why = "\"roles\" must be an array", -1;
	managed = by && strcmp(by, MANAGED_BY_VALUE) == 0 && ((sid && *sid) || spec) &&
	          instance_owns(gf->instance, inst);

	if (gf->n_groups == *cap_groups) {
		*cap_groups = *cap_groups ? 2 * *cap_groups : 64;
		gf->groups = erealloc(gf->groups, *cap_groups * sizeof *gf->groups);
	}
	g = &gf->groups[gf->n_groups];
	memset(g, 0, sizeof *g);
	g->id = strpool_dup(&gf->pool, id);
	g->name = strpool_dup(&gf->pool, name);
	if (!managed) {
		gf->n_groups++;
		return 0;   /* it only holds a name */
	}
	if (spec) {
		char *key = spec_group_key(NULL, spec);
		g->schedule_id = strpool_dup(&gf->pool, key);
		free(key);
	} else {
		g->schedule_id = strpool_dup(&gf->pool, sid);
		g->schedule_name = strpool_dup(&gf->pool, sname);
	}
	/* members: where they start, as an index until the array stops moving */
	g->members = (const struct plan_member *)(uintptr_t)gf->n_members;
	cJSON_ArrayForEach(m, members) {
		const char *mid, *acc, *email;
		const struct plan_account *known;
		struct plan_member *pm;
		if (!cJSON_IsObject(m) || gf_string(m, "id", 1, &mid) || gf_string(m, "account_id", 1, &acc) ||
		    gf_string(m, "email", 0, &email))
			return *why = "a member must be {\"id\", \"account_id\", \"email\"?} with non-empty strings", -1;
		if (email && !*email)
			email = NULL;   /* not a user */
		known = input_account(in, acc);
		if (gf->n_members == *cap_members) {
			*cap_members = *cap_members ? 2 * *cap_members : 256;
			gf->members = erealloc(gf->members, *cap_members * sizeof *gf->members);
		}
		pm = &gf->members[gf->n_members++];
		pm->id = strpool_dup(&gf->pool, mid);
		/* strings the input holds already are shared */
		pm->account_id = known ? known->id : strpool_dup(&gf->pool, acc);
		if (!email)
			pm->email = known ? known->email : NULL;
		else if (known && known->email && strcmp(known->email, email) == 0)
			pm->email = known->email;
		else
			pm->email = strpool_dup(&gf->pool, email);
		g->n_members++;
	}
	g->roles = (const struct plan_attachment *)(uintptr_t)gf->n_atts;
	cJSON_ArrayForEach(m, roles) {
		const char *aid, *rid, *rname;
		struct plan_attachment *pa;
		if (!cJSON_IsObject(m) || gf_string(m, "id", 1, &aid) || gf_string(m, "role_id", 1, &rid) ||
		    gf_string(m, "name", 0, &rname))
			return *why = "a role must be {\"id\", \"role_id\", \"name\"?} with non-empty strings", -1;
		gf->atts = erealloc(gf->atts, (gf->n_atts + 1) * sizeof *gf->atts);
		pa = &gf->atts[gf->n_atts++];
		pa->id = strpool_dup(&gf->pool, aid);
		pa->role_id = strpool_dup(&gf->pool, rid);
		pa->role_name = rname && *rname ? strpool_dup(&gf->pool, rname) : NULL;
		g->n_roles++;
	}
	gf->n_groups++;
	return 0;
}

static int
cmp_gf_group_id(const void *a, const void *b)
{
	return strcmp((*(const struct plan_group *const *)a)->id, (*(const struct plan_group *const *)b)->id);
}

int
groups_file_read(struct groups_file *gf, const char *path, const struct input *in,
                 const char *instance)
{
	FILE *fp;
	struct ndjson_reader r;
	size_t len, cap_groups = 0, cap_members = 0, i;
	const struct plan_group **byid;
	int got, rc = -1;

	memset(gf, 0, sizeof *gf);
	gf->instance = instance;
	if (!(fp = fopen(path, "r"))) {
		weprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	/* lib/ndjson's bounded reader: a line longer than NDJSON_MAX_LINE is
	 * refused with its number (said there), never held whole */
	ndjson_reader_init(&r, fp, path);
	while ((got = ndjson_read_line(&r, &len)) > 0) {
		const char *why = NULL;
		char *line = r.line;
		cJSON *o;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (!(o = cJSON_ParseWithLength(line, len))) {
			weprintf("%s:%ld: not JSON", path, r.lineno);
			goto out;
		}
		if (gf_group(gf, o, &cap_groups, &cap_members, in, &why)) {
			weprintf("%s:%ld: %s", path, r.lineno, why);
			cJSON_Delete(o);
			goto out;
		}
		cJSON_Delete(o);
	}
	if (got < 0)
		goto out;
	for (i = 0; i < gf->n_groups; i++)
		if (gf->groups[i].schedule_id) {
			gf->groups[i].members = gf->members + (uintptr_t)gf->groups[i].members;
			gf->groups[i].roles = gf->atts ? gf->atts + (uintptr_t)gf->groups[i].roles : NULL;
		}
	/* a group twice is not a state StrongDM can be in */
	byid = ecalloc(gf->n_groups + 1, sizeof *byid);
	for (i = 0; i < gf->n_groups; i++)
		byid[i] = &gf->groups[i];
	if (gf->n_groups > 1)
		qsort(byid, gf->n_groups, sizeof *byid, cmp_gf_group_id);
	for (i = 1; i < gf->n_groups; i++)
		if (strcmp(byid[i - 1]->id, byid[i]->id) == 0) {
			weprintf("%s: group %s appears twice", path, byid[i]->id);
			free(byid);
			goto out;
		}
	free(byid);
	rc = 0;
out:
	ndjson_reader_clear(&r);
	fclose(fp);
	if (rc)
		groups_file_clear(gf);
	return rc;
}

void
groups_file_clear(struct groups_file *gf)
{
	free(gf->groups);
	free(gf->members);
	free(gf->atts);
	strpool_clear(&gf->pool);
	memset(gf, 0, sizeof *gf);
}

int
reconcile_offline(const struct input *in, const struct groups_file *gf, const struct apply_opts *o,
                  struct plan *plan)
{
	struct plan_input pin;
	struct spec_units units;
	int held, status;
	size_t i;

	apply_plan_input(&pin, in, o);
	pin.groups = gf->groups;
	pin.n_groups = gf->n_groups;
	spec_fold(in, &units);
	pin.schedules = units.v;
	pin.n_schedules = units.n;
	/* Offline, the roles known are those attached to a group of the file. */
	if (spec_any_roles(&units)) {
		struct plan_role *known = ecalloc(gf->n_atts + 1, sizeof *known);
		size_t n = 0, j;
		for (i = 0; i < gf->n_atts; i++) {
			for (j = 0; j < n && strcmp(known[j].id, gf->atts[i].role_id) != 0; j++)
				;
			if (j == n) {
				known[n].id = gf->atts[i].role_id;
				known[n++].name = gf->atts[i].role_name;
			}
		}
		spec_resolve_roles(&units, known, n, "among the roles attached to the groups of the file");
		free(known);
	}
	plan_changes(&pin, plan);
	status = apply_after_plan(plan, &pin, in, o, &held);
	spec_units_clear(&units);
	return status;
}
