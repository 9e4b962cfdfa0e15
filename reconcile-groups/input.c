/* input.c: read the matched stream whole and check it before any call. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "ndjson.h"
#include "input.h"

struct seen {
	const char *id;
	long line;
};

static void
push_record(cJSON ***v, size_t *n, cJSON *rec)
{
	*v = erealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = rec;
}

/* A string field that must be present and non-empty. */
static int
want_id(const struct ndjson_reader *r, const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v) {
		ndjson_error(r, "%s has no \"%s\"", where, key);
		return -1;
	}
	if (!cJSON_IsString(v)) {
		ndjson_error(r, "%s \"%s\" must be a string", where, key);
		return -1;
	}
	if (!*v->valuestring) {
		ndjson_error(r, "%s \"%s\" is empty", where, key);
		return -1;
	}
	return 0;
}

static int
want_optional_string(const struct ndjson_reader *r, const cJSON *obj, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v) || cJSON_IsString(v))
		return 0;
	ndjson_error(r, "%s \"%s\" must be a string", where, key);
	return -1;
}

/* Check one roster record; on success append its matched people. */
static int
check_roster(struct input *in, const struct ndjson_reader *r, const cJSON *rec,
             struct plan_schedule *s, size_t *first_account)
{
	const cJSON *sched, *oncall, *e, *acc, *unm, *win;
	char where[64];
	int i = 0;

	sched = cJSON_GetObjectItemCaseSensitive(rec, "schedule");
	if (!sched) {
		ndjson_error(r, "roster has no \"schedule\"");
		return -1;
	}
	if (!cJSON_IsObject(sched)) {
		ndjson_error(r, "roster \"schedule\" must be an object");
		return -1;
	}
	if (want_id(r, sched, "id", "roster schedule"))
		return -1;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(sched, "name"))) {
		ndjson_error(r, cJSON_GetObjectItemCaseSensitive(sched, "name") ?
		             "roster schedule \"name\" must be a string" :
		             "roster schedule has no \"name\"");
		return -1;
	}
	/* fields this stage does not use are still checked: a known field of
	 * the wrong type means the stream is not what it claims to be */
	if (want_optional_string(r, rec, "at", "roster") || json_expect_object(r, rec, "window", 0))
		return -1;
	win = cJSON_GetObjectItemCaseSensitive(rec, "window");
	if (cJSON_IsObject(win) && (want_optional_string(r, win, "from", "roster window") ||
	                            want_optional_string(r, win, "to", "roster window")))
		return -1;
	oncall = cJSON_GetObjectItemCaseSensitive(rec, "oncall");
	if (!oncall) {
		ndjson_error(r, "roster has no \"oncall\"");
		return -1;
	}
	if (!cJSON_IsArray(oncall)) {
		ndjson_error(r, "roster \"oncall\" must be an array");
		return -1;
	}
	s->id = json_str(sched, "id");
	s->name = json_str(sched, "name");
	*first_account = in->n_accounts;
	cJSON_ArrayForEach(e, oncall) {
		snprintf(where, sizeof where, "roster oncall[%d]", i);
		if (!cJSON_IsObject(e)) {
			ndjson_error(r, "%s must be an object", where);
			return -1;
		}
		if (want_optional_string(r, e, "id", where) || want_optional_string(r, e, "email", where) ||
		    want_optional_string(r, e, "name", where) || want_optional_string(r, e, "until", where))
			return -1;
		acc = cJSON_GetObjectItemCaseSensitive(e, "account");
		unm = cJSON_GetObjectItemCaseSensitive(e, "unmatched");
		if (cJSON_IsNull(acc))
			acc = NULL;
		if (cJSON_IsNull(unm))
			unm = NULL;
		if (!acc && !unm) {
			ndjson_error(r, "%s has neither \"account\" nor \"unmatched\": "
			             "the roster did not pass through match-users", where);
			return -1;
		}
		if (acc && unm) {
			ndjson_error(r, "%s has both \"account\" and \"unmatched\"", where);
			return -1;
		}
		if (unm) {
			if (!cJSON_IsString(unm)) {
				ndjson_error(r, "%s \"unmatched\" must be a string", where);
				return -1;
			}
		} else {
			if (!cJSON_IsObject(acc)) {
				ndjson_error(r, "%s \"account\" must be an object", where);
				return -1;
			}
			snprintf(where, sizeof where, "roster oncall[%d] account", i);
			if (want_id(r, acc, "id", where) || want_optional_string(r, acc, "email", where))
				return -1;
			in->accounts = erealloc(in->accounts, (in->n_accounts + 1) * sizeof *in->accounts);
			in->accounts[in->n_accounts].id = json_str(acc, "id");
			in->accounts[in->n_accounts].email = json_str(acc, "email");
			in->n_accounts++;
		}
		i++;
	}
	s->n_oncall = in->n_accounts - *first_account;
	return 0;
}

/* Check one error record; 1 when it names a schedule id (s filled). */
static int
check_error(struct input *in, const struct ndjson_reader *r, const cJSON *rec, struct plan_schedule *s)
{
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(rec, "schedule");

	if (json_expect_string(r, rec, "message", 0) || json_expect_string(r, rec, "stage", 0) ||
	    json_expect_object(r, rec, "schedule", 0))
		return -1;
	in->error_records++;
	if (!cJSON_IsObject(sched)) {
		in->errors_without_id++;
		return 0;
	}
	if (want_optional_string(r, sched, "id", "error schedule") ||
	    want_optional_string(r, sched, "name", "error schedule"))
		return -1;
	s->id = json_str(sched, "id");
	s->name = json_str(sched, "name");
	if (!s->id || !*s->id) {
		in->errors_without_id++;
		return 0;
	}
	s->upstream_error = 1;
	return 1;
}

static int
cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int r = strcmp(x->id, y->id);
	return r ? r : (x->line > y->line) - (x->line < y->line);
}

int
input_read(struct input *in, FILE *fp, const char *name)
{
	struct ndjson_reader r;
	enum ndjson_status st;
	cJSON *rec;
	size_t *first = NULL, i, cap = 0;
	struct seen *seen = NULL;
	int rc = -1;

	memset(in, 0, sizeof *in);
	ndjson_reader_init(&r, fp, name);
	while ((st = ndjson_read(&r, &rec)) == NDJSON_RECORD) {
		const char *type = json_str(rec, "type");
		struct plan_schedule s = {0};
		size_t first_account = 0;
		int has;

		if (strcmp(type, "roster") == 0) {
			if (check_roster(in, &r, rec, &s, &first_account)) {
				cJSON_Delete(rec);
				goto out;
			}
			push_record(&in->kept, &in->n_kept, rec);
			has = 1;
		} else if (strcmp(type, "error") == 0) {
			if ((has = check_error(in, &r, rec, &s)) < 0) {
				cJSON_Delete(rec);
				goto out;
			}
			push_record(&in->passed, &in->n_passed, rec);
		} else {
			push_record(&in->passed, &in->n_passed, rec);
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
		seen[in->n_schedules].line = r.lineno;
		in->schedules[in->n_schedules++] = s;
	}
	if (st == NDJSON_ERR)
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
	 * anything, and with --prune it would delete every managed group. */
	if (in->n_schedules == 0 && in->error_records == 0) {
		weprintf("%s:%ld: the stream holds no roster and no error record: refusing to act on it",
		         name, r.lineno);
		goto out;
	}
	in->lines = r.lineno;
	rc = 0;
out:
	free(first);
	free(seen);
	ndjson_reader_free(&r);
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
	for (i = 0; i < in->n_kept; i++)
		cJSON_Delete(in->kept[i]);
	free(in->passed);
	free(in->kept);
	free(in->schedules);
	free(in->accounts);
	memset(in, 0, sizeof *in);
}
