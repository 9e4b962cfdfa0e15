/* input.c: read the matched stream whole and check it before any call. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"
#include "record.h"
#include "input.h"
#include "spec.h"

struct seen {
	const char *id;
	long line;
};

#define POOL_BLOCK (256 * 1024)

static const char *
pool_dup(struct strpool *p, const char *s)
{
	size_t len;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	if (len > p->left) {
		size_t size = len > POOL_BLOCK ? len : POOL_BLOCK;
		p->blocks = erealloc(p->blocks, (p->n_blocks + 1) * sizeof *p->blocks);
		p->blocks[p->n_blocks++] = p->cur = emalloc(size);
		p->left = size;
	}
	out = p->cur;
	memcpy(out, s, len);
	p->cur += len;
	p->left -= len;
	return out;
}

static void
pool_free(struct strpool *p)
{
	size_t i;

	for (i = 0; i < p->n_blocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof *p);
}

static size_t
id_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	/* FNV's low bits (the ones a table uses) see only the low bits of
	 * each byte: mix the high bits down */
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93u;
	h ^= h >> 32;
	return h;
}

static struct account_slot *
account_slot(const struct account_table *t, const char *id, size_t h)
{
	size_t i = h & t->mask;

	for (;; i = (i + 1) & t->mask) {
		struct account_slot *e = &t->v[i];
		if (!e->a.id || (e->hash == h && strcmp(e->a.id, id) == 0))
			return e;
	}
}

const struct plan_account *
input_account(const struct input *in, const char *id)
{
	const struct account_slot *e;

	if (!in->known.n || !id)
		return NULL;
	e = account_slot(&in->known, id, id_hash(id));
	return e->a.id ? &e->a : NULL;
}

/* The account id and email as stored once: an account named again (on
 * another schedule) shares the strings. */
static struct plan_account
account_keep(struct input *in, const char *id, const char *email)
{
	struct account_table *t = &in->known;
	struct account_slot *e;
	size_t h = id_hash(id);

	if (2 * (t->n + 1) > t->mask) {
		struct account_table old = *t;
		size_t i, cap = old.v ? 2 * (old.mask + 1) : 1024;
		t->v = ecalloc(cap, sizeof *t->v);
		t->mask = cap - 1;
		for (i = 0; old.v && i <= old.mask; i++)
			if (old.v[i].a.id)
				*account_slot(t, old.v[i].a.id, old.v[i].hash) = old.v[i];
		free(old.v);
	}
	e = account_slot(t, id, h);
	if (!e->a.id) {
		e->a.id = pool_dup(&in->pool, id);
		e->a.email = pool_dup(&in->pool, email);
		e->hash = h;
		t->n++;
		return e->a;
	}
	if (email && !e->a.email)
		e->a.email = pool_dup(&in->pool, email);
	if (email && e->a.email != email && strcmp(e->a.email, email) != 0) {
		/* the same account with another email: keep what this entry says */
		struct plan_account other = {e->a.id, pool_dup(&in->pool, email)};
		return other;
	}
	return (struct plan_account){e->a.id, email ? e->a.email : NULL};
}

static void
push_record(struct input *in, cJSON *rec)
{
	if (in->n_passed == in->cap_passed) {
		in->cap_passed = in->cap_passed ? 2 * in->cap_passed : 16;
		in->passed = erealloc(in->passed, in->cap_passed * sizeof *in->passed);
	}
	in->passed[in->n_passed++] = rec;
}

/* The optional "group" spec of a roster or error record (checked by
 * record_read): {"name": NAME?, "roles": [ROLE...]?}; s gets it. */
static void
keep_group_spec(struct input *in, const cJSON *rec, struct plan_schedule *s)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(rec, "group"), *roles, *e;
	const char **refs;
	size_t n = 0;

	if (!cJSON_IsObject(g))
		return;
	s->group_name = pool_dup(&in->pool, json_str(g, "name"));
	roles = cJSON_GetObjectItemCaseSensitive(g, "roles");
	if (!cJSON_IsArray(roles))
		return;
	refs = ecalloc((size_t)cJSON_GetArraySize(roles) + 1, sizeof *refs);
	cJSON_ArrayForEach(e, roles)
		refs[n++] = pool_dup(&in->pool, e->valuestring);
	in->ref_arrays = erealloc(in->ref_arrays, (in->n_ref_arrays + 1) * sizeof *in->ref_arrays);
	in->ref_arrays[in->n_ref_arrays++] = refs;
	s->role_refs = refs;
	s->n_role_refs = n;
	s->roles_given = 1;
}

/* A roster record (checked by record_read): its matched people appended. */
static void
keep_roster(struct input *in, const cJSON *rec, struct plan_schedule *s, size_t *first_account)
{
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(rec, "schedule"), *e, *acc;

	keep_group_spec(in, rec, s);
	s->id = pool_dup(&in->pool, json_str(sched, "id"));
	s->name = pool_dup(&in->pool, json_str(sched, "name"));
	*first_account = in->n_accounts;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec, "oncall")) {
		acc = cJSON_GetObjectItemCaseSensitive(e, "account");
		if (!cJSON_IsObject(acc))
			continue;   /* unmatched */
		if (in->n_accounts == in->cap_accounts) {
			in->cap_accounts = in->cap_accounts ? 2 * in->cap_accounts : 64;
			in->accounts = erealloc(in->accounts, in->cap_accounts * sizeof *in->accounts);
		}
		in->accounts[in->n_accounts++] = account_keep(in, json_str(acc, "id"),
		                                              json_str(acc, "email"));
	}
	s->n_oncall = in->n_accounts - *first_account;
}

/* An error record (checked by record_read); 1 when it names a schedule id
 * (s filled). */
static int
keep_error(struct input *in, const cJSON *rec, struct plan_schedule *s)
{
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(rec, "schedule");

	keep_group_spec(in, rec, s);
	in->error_records++;
	if (!cJSON_IsObject(sched)) {
		in->errors_without_id++;
		goto no_id;
	}
	s->id = pool_dup(&in->pool, json_str(sched, "id"));
	s->name = pool_dup(&in->pool, json_str(sched, "name"));
	if (!s->id || !*s->id) {
		in->errors_without_id++;
		goto no_id;
	}
	s->upstream_error = 1;
	return 1;
no_id:
	/* no schedule to keep, but the group it feeds must stay as it is */
	if (s->group_name) {
		in->errored_groups = erealloc(in->errored_groups,
		                              (in->n_errored_groups + 1) * sizeof *in->errored_groups);
		in->errored_groups[in->n_errored_groups++] = s->group_name;
	}
	return 0;
}

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int r = strcmp(x->id, y->id);
	return r ? r : (x->line > y->line) - (x->line < y->line);
}

int
input_read(struct input *in, FILE *fp, const char *name, int flags)
{
	struct record_reader r;
	enum record_status st;
	enum record_type type;
	cJSON *rec;
	size_t *first = NULL, i, cap = 0;
	struct seen *seen = NULL;
	int rc = -1;

	memset(in, 0, sizeof *in);
	record_reader_init(&r, fp, name, RECORD_MATCHED);
	while ((st = record_read(&r, &rec, &type)) == RECORD_READ) {
		struct plan_schedule s = {0};
		size_t first_account = 0;
		int has;

		if (type == RECORD_ROSTER) {
			keep_roster(in, rec, &s, &first_account);
			/* what the plan needs is copied out: the record goes */
			cJSON_Delete(rec);
			has = 1;
		} else if (type == RECORD_ERROR) {
			has = keep_error(in, rec, &s);
			push_record(in, rec);
		} else {
			push_record(in, rec);
			has = 0;
		}
		if (!has)
			continue;
		if (in->n_schedules == cap) {
			cap = cap ? 2 * cap : 16;
			in->schedules = erealloc(in->schedules, cap * sizeof *in->schedules);
			first = erealloc(first, cap * sizeof *first);
			seen = erealloc(seen, cap * sizeof *seen);
		}
		first[in->n_schedules] = first_account;
		seen[in->n_schedules].id = s.id;
		seen[in->n_schedules].line = r.nd.lineno;
		in->schedules[in->n_schedules++] = s;
	}
	if (st == RECORD_ERR)
		goto out;
	/* Pointers into the account storage only now that it stops moving. */
	for (i = 0; i < in->n_schedules; i++)
		in->schedules[i].oncall = in->n_accounts ? in->accounts + first[i] : NULL;
	if (in->n_schedules > 1) {
		qsort(seen, in->n_schedules, sizeof *seen, cmp_seen);
		for (i = 1; i < in->n_schedules; i++)
			if (strcmp(seen[i - 1].id, seen[i].id) == 0) {
				weprintf("%s:%ld: schedule %s appears again (first on line %ld): "
				         "refusing an ambiguous stream", name, seen[i].line,
				         seen[i].id, seen[i - 1].line);
				goto out;
			}
	}
	/* Complete but naming no schedule at all: nothing upstream selected
	 * anything, and with --prune it would delete every managed group;
	 * only on purpose (--allow-empty). */
	if (in->n_schedules == 0 && in->error_records == 0 && !(flags & INPUT_ALLOW_EMPTY)) {
		weprintf("%s:%ld: the stream holds no roster and no error record: refusing to act on it "
		         "(--allow-empty accepts it)", name, r.nd.lineno);
		goto out;
	}
	in->lines = r.nd.lineno;
	in->selection_all = r.end_selection && strcmp(r.end_selection, "all") == 0;
	rc = 0;
out:
	free(first);
	free(seen);
	record_reader_clear(&r);
	if (rc)
		input_free(in);
	return rc;
}

void
input_free(struct input *in)
{
	size_t i;

	for (i = 0; i < in->n_passed; i++)
		cJSON_Delete(in->passed[i]);
	free(in->passed);
	free(in->known.v);
	pool_free(&in->pool);
	free(in->schedules);
	free(in->accounts);
	for (i = 0; i < in->n_ref_arrays; i++)
		free(in->ref_arrays[i]);
	free(in->ref_arrays);
	free(in->errored_groups);
	memset(in, 0, sizeof *in);
}

/* ---------------------------------------------------------------- --groups FILE */

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
	g->id = pool_dup(&gf->pool, id);
	g->name = pool_dup(&gf->pool, name);
	if (!managed) {
		gf->n_groups++;
		return 0;   /* it only holds a name */
	}
	if (spec) {
		char *key = spec_group_key(NULL, spec);
		g->schedule_id = pool_dup(&gf->pool, key);
		free(key);
	} else {
		g->schedule_id = pool_dup(&gf->pool, sid);
		g->schedule_name = pool_dup(&gf->pool, sname);
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
		pm->id = pool_dup(&gf->pool, mid);
		/* strings the input holds already are shared */
		pm->account_id = known ? known->id : pool_dup(&gf->pool, acc);
		if (!email)
			pm->email = known ? known->email : NULL;
		else if (known && known->email && strcmp(known->email, email) == 0)
			pm->email = known->email;
		else
			pm->email = pool_dup(&gf->pool, email);
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
		pa->id = pool_dup(&gf->pool, aid);
		pa->role_id = pool_dup(&gf->pool, rid);
		pa->role_name = rname && *rname ? pool_dup(&gf->pool, rname) : NULL;
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
	char *line = NULL;
	size_t cap = 0, cap_groups = 0, cap_members = 0, i;
	ssize_t len;
	long lineno = 0;
	const struct plan_group **byid;
	int rc = -1;

	memset(gf, 0, sizeof *gf);
	gf->instance = instance;
	if (!(fp = fopen(path, "r"))) {
		weprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		const char *why = NULL;
		cJSON *o;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (!(o = cJSON_ParseWithLength(line, (size_t)len))) {
			weprintf("%s:%ld: not JSON", path, lineno);
			goto out;
		}
		if (gf_group(gf, o, &cap_groups, &cap_members, in, &why)) {
			weprintf("%s:%ld: %s", path, lineno, why);
			cJSON_Delete(o);
			goto out;
		}
		cJSON_Delete(o);
	}
	if (ferror(fp)) {
		weprintf("%s: %s", path, strerror(errno));
		goto out;
	}
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
	free(line);
	fclose(fp);
	if (rc)
		groups_file_free(gf);
	return rc;
}

void
groups_file_free(struct groups_file *gf)
{
	free(gf->groups);
	free(gf->members);
	free(gf->atts);
	pool_free(&gf->pool);
	memset(gf, 0, sizeof *gf);
}
