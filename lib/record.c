/* record.c: the records of the stream contract, read, checked, written and
 * counted (record.h). Every rule a stage relies on is checked here, with the
 * line number: a known field of the wrong type means the stream is not what
 * it claims to be, and nothing may be done on it (DESIGN.md, Safety 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

void
record_reader_init(struct record_reader *r, FILE *fp, const char *name, unsigned flags)
{
	memset(r, 0, sizeof *r);
	ndjson_reader_init(&r->nd, fp, name);
	r->flags = flags;
	r->end_records = -1;
}

void
record_reader_clear(struct record_reader *r)
{
	ndjson_reader_clear(&r->nd);
	free(r->end_stage);
	free(r->end_selection);
	r->end_stage = r->end_selection = NULL;
}

static enum record_type
record_type_of(const cJSON *rec)
{
	const char *t = json_str(rec, "type");

	if (!t)
		return RECORD_OTHER;
	if (strcmp(t, "roster") == 0)
		return RECORD_ROSTER;
	if (strcmp(t, "error") == 0)
		return RECORD_ERROR;
	if (strcmp(t, "change") == 0)
		return RECORD_CHANGE;
	return RECORD_OTHER;
}

/* ------------------------------------------------------------ field rules
 * where names the object in messages: "roster", "roster schedule",
 * "roster oncall[3] account", ... Each returns 0, or -1 said. */

static const cJSON *
field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	/* null is absent: an optional field may be null */
	return cJSON_IsNull(v) ? NULL : v;
}

/* A string that must be there and not be empty. */
static int
want_id(const struct record_reader *r, const cJSON *o, const char *key, const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v) {
		record_error(r, "%s has no \"%s\"", where, key);
		return -1;
	}
	if (!cJSON_IsString(v)) {
		record_error(r, "%s \"%s\" must be a string", where, key);
		return -1;
	}
	if (!*v->valuestring) {
		record_error(r, "%s \"%s\" is empty", where, key);
		return -1;
	}
	return 0;
}

static int
want_string(const struct record_reader *r, const cJSON *o, const char *key, const char *where)
{
	const cJSON *v = field(o, key);

	if (!v || cJSON_IsString(v))
		return 0;
	record_error(r, "%s \"%s\" must be a string", where, key);
	return -1;
}

/* An optional object; required: it must be there. */
static int
want_object(const struct record_reader *r, const cJSON *o, const char *key, const char *where,
            int required)
{
	const cJSON *v = required ? cJSON_GetObjectItemCaseSensitive(o, key) : field(o, key);

	if (!v && required) {
		record_error(r, "%s has no \"%s\"", where, key);
		return -1;
	}
	if (!v || cJSON_IsObject(v))
		return 0;
	record_error(r, "%s \"%s\" must be an object", where, key);
	return -1;
}

/* One of the words in list (NULL-terminated), required. */
static int
want_word(const struct record_reader *r, const cJSON *o, const char *key, const char *where,
          const char *const *list)
{
	const char *s;

	if (want_id(r, o, key, where))
		return -1;
	s = json_str(o, key);
	for (const char *const *w = list; *w; w++)
		if (strcmp(s, *w) == 0)
			return 0;
	record_error(r, "%s \"%s\" is not one the contract knows: \"%s\"", where, key, s);
	return -1;
}

/* The schedule's group spec on a roster or error record (optional):
 * {"name": NAME?, "roles": [ROLE...]?}. */
static int
check_group_spec(const struct record_reader *r, const cJSON *rec, const char *what)
{
	const cJSON *g = field(rec, "group"), *name, *roles, *e;
	int i = 0;

	if (!g)
		return 0;
	if (!cJSON_IsObject(g)) {
		record_error(r, "%s \"group\" must be an object ({\"name\":…,\"roles\":[…]})", what);
		return -1;
	}
	name = field(g, "name");
	if (name && (!cJSON_IsString(name) || !*name->valuestring)) {
		record_error(r, "%s group \"name\" must be a non-empty string", what);
		return -1;
	}
	roles = field(g, "roles");
	if (!roles)
		return 0;
	if (!cJSON_IsArray(roles)) {
		record_error(r, "%s group \"roles\" must be an array of role names or ids", what);
		return -1;
	}
	cJSON_ArrayForEach(e, roles) {
		if (!cJSON_IsString(e) || !*e->valuestring) {
			record_error(r, "%s group roles[%d] must be a non-empty string", what, i);
			return -1;
		}
		i++;
	}
	return 0;
}

/* One on-call entry, oncall[i]. Before match-users its "id" (incident.io's)
 * is needed to look the person up; after, "account" or "unmatched" is. */
static int
check_entry(const struct record_reader *r, const cJSON *e, int i)
{
	static const char *const strings[] = { "email", "name", "until", "unmatched", "reason" };
	const cJSON *acc, *unm;
	char where[64], accwhere[80];

	snprintf(where, sizeof where, "roster oncall[%d]", i);
	if (!cJSON_IsObject(e)) {
		record_error(r, "%s must be an object", where);
		return -1;
	}
	if (r->flags & RECORD_MATCHED ? want_string(r, e, "id", where) : want_id(r, e, "id", where))
		return -1;
	for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
		if (want_string(r, e, strings[k], where))
			return -1;
	if (want_object(r, e, "account", where, 0))
		return -1;
	acc = field(e, "account");
	unm = field(e, "unmatched");
	if (acc) {
		snprintf(accwhere, sizeof accwhere, "%s account", where);
		if (want_id(r, acc, "id", accwhere) || want_string(r, acc, "email", accwhere))
			return -1;
	}
	if (!(r->flags & RECORD_MATCHED))
		return 0;
	if (!acc && !unm) {
		record_error(r, "%s has neither \"account\" nor \"unmatched\": "
		             "the roster did not pass through match-users", where);
		return -1;
	}
	if (acc && unm) {
		record_error(r, "%s has both \"account\" and \"unmatched\"", where);
		return -1;
	}
	return 0;
}

static int
check_roster(const struct record_reader *r, const cJSON *rec)
{
	const cJSON *sched, *oncall, *e;
	int i = 0;

	if (want_object(r, rec, "schedule", "roster", 1) ||
	    want_id(r, (sched = field(rec, "schedule")), "id", "roster schedule"))
		return -1;
	/* the group is named after the schedule */
	if ((r->flags & RECORD_MATCHED) && !cJSON_GetObjectItemCaseSensitive(sched, "name")) {
		record_error(r, "roster schedule has no \"name\"");
		return -1;
	}
	if ((r->flags & RECORD_MATCHED) && !cJSON_IsString(field(sched, "name"))) {
		record_error(r, "roster schedule \"name\" must be a string");
		return -1;
	}
	if (want_string(r, sched, "name", "roster schedule") ||
	    want_string(r, rec, "at", "roster") || want_string(r, rec, "next_change", "roster") ||
	    want_object(r, rec, "window", "roster", 0))
		return -1;
	if (field(rec, "window") && (want_string(r, field(rec, "window"), "from", "roster window") ||
	                             want_string(r, field(rec, "window"), "to", "roster window")))
		return -1;
	if (check_group_spec(r, rec, "roster"))
		return -1;
	oncall = cJSON_GetObjectItemCaseSensitive(rec, "oncall");
	if (!oncall) {
		record_error(r, "roster has no \"oncall\"");
		return -1;
	}
	if (!cJSON_IsArray(oncall)) {
		record_error(r, "roster \"oncall\" must be an array");
		return -1;
	}
	cJSON_ArrayForEach(e, oncall)
		if (check_entry(r, e, i++))
			return -1;
	return 0;
}

static int
check_error(const struct record_reader *r, const cJSON *rec)
{
	const cJSON *sched;

	if (want_string(r, rec, "stage", "error") || want_string(r, rec, "code", "error") ||
	    want_string(r, rec, "message", "error") || want_object(r, rec, "schedule", "error", 0))
		return -1;
	/* an error may name no schedule (a selection that matched nothing) */
	if ((sched = field(rec, "schedule")) &&
	    (want_string(r, sched, "id", "error schedule") ||
	     want_string(r, sched, "name", "error schedule")))
		return -1;
	return check_group_spec(r, rec, "error");
}

static int
check_change(const struct record_reader *r, const cJSON *rec)
{
	static const char *const actions[] = {
		"create_group", "rename_group", "add", "remove", "delete_group", "attach_role",
		"detach_role", "adopt_group", "release_group", NULL
	};
	static const char *const statuses[] = { "done", "planned", "failed", "held", NULL };

	if (want_word(r, rec, "action", "change", actions) ||
	    want_word(r, rec, "status", "change", statuses) ||
	    want_object(r, rec, "schedule", "change", 0) || want_object(r, rec, "group", "change", 0) ||
	    want_object(r, rec, "account", "change", 0) || want_string(r, rec, "error", "change") ||
	    want_string(r, rec, "code", "change"))
		return -1;
	return 0;
}

/* The end record: "stage" a string and "records" the count before it. */
static int
check_end(struct record_reader *r, const cJSON *v)
{
	const cJSON *stage = cJSON_GetObjectItemCaseSensitive(v, "stage");
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(v, "records");
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(v, "selection");
	double d;

	if (!cJSON_IsString(stage) || !stage->valuestring[0]) {
		record_error(r, "end record has no string \"stage\"");
		return -1;
	}
	if (!cJSON_IsNumber(recs) || (d = recs->valuedouble) < 0 || d != floor(d) || d > 9e15) {
		record_error(r, "end record has no whole-number \"records\"");
		return -1;
	}
	if ((long)d != r->records) {
		record_error(r, "end record says %ld records, %ld were read: the stream was changed or cut",
		             (long)d, r->records);
		return -1;
	}
	/* how the schedules were chosen decides what a prune may infer */
	if (sel && !(cJSON_IsString(sel) && (strcmp(sel->valuestring, "all") == 0 ||
	                                     strcmp(sel->valuestring, "explicit") == 0))) {
		record_error(r, "end record: \"selection\" must be \"all\" or \"explicit\"");
		return -1;
	}
	r->end_records = (long)d;
	free(r->end_stage);
	r->end_stage = estrdup(stage->valuestring);
	free(r->end_selection);
	r->end_selection = sel ? estrdup(sel->valuestring) : NULL;
	return 0;
}

static enum record_status
fail(struct record_reader *r, cJSON *v)
{
	cJSON_Delete(v);
	r->ended = -1; /* sticky: every later call fails too */
	return RECORD_ERR;
}

enum record_status
record_read(struct record_reader *r, cJSON **out, enum record_type *type)
{
	const cJSON *t;
	enum record_type rt;
	cJSON *v;
	size_t n;
	int rc;

	*out = NULL;
	if (r->ended < 0)
		return RECORD_ERR;
	if (r->ended)
		return RECORD_END;
	rc = ndjson_read(&r->nd, &v);
	if (rc < 0)
		return fail(r, NULL);
	if (rc == 0) {
		record_error(r, "input ended without an end record (the stage before failed or was "
		             "stopped): the stream was cut short (%ld records read)", r->records);
		return fail(r, NULL);
	}
	t = cJSON_GetObjectItemCaseSensitive(v, "type");
	if (!cJSON_IsString(t) || !t->valuestring[0]) {
		record_error(r, "record has no string \"type\"");
		return fail(r, v);
	}
	if (strcmp(t->valuestring, "end") == 0) {
		rc = check_end(r, v);
		cJSON_Delete(v);
		if (rc)
			return fail(r, NULL);
		/* Nothing may follow the end: look now, so a caller that stops
		 * at RECORD_END cannot miss it. */
		if ((rc = ndjson_read_line(&r->nd, &n)) < 0)
			return fail(r, NULL);
		if (rc > 0) {
			record_error(r, "line after the end record");
			return fail(r, NULL);
		}
		r->ended = 1;
		return RECORD_END;
	}
	rt = record_type_of(v);
	if ((rt == RECORD_ROSTER && check_roster(r, v)) || (rt == RECORD_ERROR && check_error(r, v)) ||
	    (rt == RECORD_CHANGE && check_change(r, v)))
		return fail(r, v);
	r->records++;
	*out = v;
	if (type)
		*type = rt;
	return RECORD_READ;
}

/* ------------------------------------------------------------ writing */

void
record_writer_init(struct record_writer *w, FILE *fp)
{
	memset(w, 0, sizeof *w);
	w->fp = fp;
}

static int
counted(struct record_writer *w, int rc)
{
	if (rc) {
		w->failed = 1;
		return -1;
	}
	w->records++;
	return 0;
}

int
record_write(struct record_writer *w, const cJSON *rec)
{
	if (w->failed)
		return -1;
	return counted(w, ndjson_write(w->fp, rec));
}

int
record_write_text(struct record_writer *w, const char *text, size_t len)
{
	if (w->failed)
		return -1;
	return counted(w, ndjson_write_text(w->fp, text, len));
}

int
record_write_end(struct record_writer *w, const char *stage, const char *selection,
                 int interrupted)
{
	cJSON *end = cJSON_CreateObject();
	int rc = -1;

	if (!end || !cJSON_AddStringToObject(end, "type", "end") ||
	    !cJSON_AddStringToObject(end, "stage", stage) ||
	    !cJSON_AddNumberToObject(end, "records", (double)w->records) ||
	    (selection && !cJSON_AddStringToObject(end, "selection", selection)) ||
	    (interrupted && !cJSON_AddTrueToObject(end, "interrupted")))
		die(EXIT_FAILED, "out of memory");
	if (!w->failed && ndjson_write(w->fp, end) == 0)
		rc = 0;
	cJSON_Delete(end);
	if (rc == 0 && fflush(w->fp) == EOF) {
		weprintf("write error:");
		rc = -1;
	}
	if (rc)
		w->failed = 1;
	return rc;
}

cJSON *
record_schedule_new(const char *id, const char *name)
{
	cJSON *s = cJSON_CreateObject();

	if (!s || (id && !cJSON_AddStringToObject(s, "id", id)) ||
	    (name && !cJSON_AddStringToObject(s, "name", name)))
		die(EXIT_FAILED, "out of memory");
	return s;
}

cJSON *
record_error_new(const char *stage, cJSON *schedule, const char *code, const char *message)
{
	cJSON *rec = cJSON_CreateObject();

	if (!rec || !cJSON_AddStringToObject(rec, "type", "error") ||
	    !cJSON_AddStringToObject(rec, "stage", stage) ||
	    (schedule && !cJSON_AddItemToObject(rec, "schedule", schedule)) ||
	    !cJSON_AddStringToObject(rec, "code", code ? code : "failed") ||
	    !cJSON_AddStringToObject(rec, "message", message))
		die(EXIT_FAILED, "out of memory");
	return rec;
}
