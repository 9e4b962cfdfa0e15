/* input.c: read the matched stream whole and check it before any call. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "record.h"
#include "input.h"

struct seen {
	const char *id;
	long line;
};

#define POOL_BLOCK (256 * 1024)

const char *
strpool_dup(struct strpool *p, const char *s)
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

void
strpool_clear(struct strpool *p)
{
	size_t i;

	for (i = 0; i < p->n_blocks; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof *p);
}

const struct plan_account *
input_account(const struct input *in, const char *id)
{
	size_t i = map_get(&in->known_ids, id);

	return i == MAP_NONE ? NULL : &in->known[i];
}

/* The account id and email as stored once: an account named again (on
 * another schedule) shares the strings. */
static struct plan_account
account_keep(struct input *in, const char *id, const char *email)
{
	struct plan_account *e;
	size_t i = map_get(&in->known_ids, id);

	if (i == MAP_NONE) {
		if (in->n_known == in->cap_known) {
			in->cap_known = in->cap_known ? 2 * in->cap_known : 64;
			in->known = erealloc(in->known, in->cap_known * sizeof *in->known);
		}
		e = &in->known[in->n_known];
		e->id = strpool_dup(&in->pool, id);
		e->email = strpool_dup(&in->pool, email);
		/* the key is the pool's copy: it stays while the map does */
		map_add(&in->known_ids, e->id, in->n_known++);
		return *e;
	}
	e = &in->known[i];
	if (email && !e->email)
		e->email = strpool_dup(&in->pool, email);
	if (email && e->email != email && strcmp(e->email, email) != 0) {
		/* the same account with another email: keep what this entry says */
		struct plan_account other = {e->id, strpool_dup(&in->pool, email)};
		return other;
	}
	return (struct plan_account){e->id, email ? e->email : NULL};
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
	s->group_name = strpool_dup(&in->pool, json_str(g, "name"));
	roles = cJSON_GetObjectItemCaseSensitive(g, "roles");
	if (!cJSON_IsArray(roles))
		return;
	refs = ecalloc((size_t)cJSON_GetArraySize(roles) + 1, sizeof *refs);
	cJSON_ArrayForEach(e, roles)
		refs[n++] = strpool_dup(&in->pool, e->valuestring);
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
	s->id = strpool_dup(&in->pool, json_str(sched, "id"));
	s->name = strpool_dup(&in->pool, json_str(sched, "name"));
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
	s->id = strpool_dup(&in->pool, json_str(sched, "id"));
	s->name = strpool_dup(&in->pool, json_str(sched, "name"));
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
		input_clear(in);
	return rc;
}

void
input_clear(struct input *in)
{
	size_t i;

	for (i = 0; i < in->n_passed; i++)
		cJSON_Delete(in->passed[i]);
	free(in->passed);
	free(in->known);
	map_clear(&in->known_ids);
	strpool_clear(&in->pool);
	free(in->schedules);
	free(in->accounts);
	for (i = 0; i < in->n_ref_arrays; i++)
		free(in->ref_arrays[i]);
	free(in->ref_arrays);
	free(in->errored_groups);
	memset(in, 0, sizeof *in);
}
