/* fuzz_reconcile: reconcile-groups' input check (input_read: the whole
 * stream, every known field typed) and its planner, over arbitrary bytes.
 *
 * A stream input_read accepts is planned against a fixed StrongDM (two
 * managed groups, two unmanaged ones) with --prune, and the plan must keep
 * the safety rules: no change to an unmanaged group, none to the group of a
 * schedule that failed upstream, no delete without --prune or while an error
 * names no schedule, adds only of on-call people and removes only of others.
 * Every change record written must be read back by the next reader.
 * fuzz-sources: reconcile-groups/input.c reconcile-groups/plan.c lib/map.c reconcile-groups/spec.c lib/ndjson.c lib/record.c lib/util.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "record.h"
#include "plan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S1 "01G0J1EXE7AXZ2C93K61WBPYEH"
#define S2 "01G0J1EXE7AXZ2C93K61WBPYE2"

static const struct plan_member m1[] = {
	{ "ag-1", "a-0000000000000001", "alice@example.com" },
	{ "ag-2", "a-0000000000000002", "bob@example.com" },
};
static const struct plan_member m2[] = { { "ag-3", "a-0000000000000003", "carlos@example.com" } };
static const struct plan_member m3[] = { { "ag-4", "a-0000000000000001", "alice@example.com" } };
static const struct plan_group groups[] = {
	{ "group-1", "TestSchedule", S1, "TestSchedule", m1, 2, NULL, 0 },
	{ "group-2", "Payments", S2, "Payments", m2, 1, NULL, 0 },
	{ "group-3", "Admins", NULL, NULL, m3, 1, NULL, 0 },
	{ "group-4", "Platform", NULL, NULL, NULL, 0, NULL, 0 },
};

static const struct plan_schedule *
find_schedule(const struct input *in, const char *id)
{
	for (size_t i = 0; id && i < in->n_schedules; i++)
		if (strcmp(in->schedules[i].id, id) == 0)
			return &in->schedules[i];
	return NULL;
}

static int
on_call(const struct plan_schedule *s, const char *account)
{
	for (size_t i = 0; i < s->n_oncall; i++)
		if (strcmp(s->oncall[i].id, account) == 0)
			return 1;
	return 0;
}

static void
check_plan(const struct input *in, const struct plan_input *pi, const struct plan *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct record_writer w;

	if (!out)
		abort();
	record_writer_init(&w, out);
	for (size_t i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		const struct plan_schedule *s = find_schedule(in, c->schedule_id);
		cJSON *j;

		if (c->group_id && (strcmp(c->group_id, "group-3") == 0 || strcmp(c->group_id, "group-4") == 0) &&
		    c->status != CHANGE_FAILED)
			abort(); /* an unmanaged group would change */
		if (s && s->upstream_error && c->status != CHANGE_FAILED)
			abort(); /* the group of a schedule that failed upstream would change */
		if (c->action == CHANGE_DELETE_GROUP && c->status != CHANGE_FAILED) {
			if (!pi->prune || pi->prune_unsafe || s)
				abort(); /* a delete that --prune does not allow */
		}
		if (c->action == CHANGE_ADD && c->status != CHANGE_FAILED && (!s || !on_call(s, c->account_id)))
			abort(); /* an add of someone not on call */
		if (c->action == CHANGE_REMOVE && c->status != CHANGE_FAILED && s && on_call(s, c->account_id))
			abort(); /* a remove of someone on call */
		if (!(j = change_to_json(c)))
			abort();
		if (record_write(&w, j))
			abort();
		cJSON_Delete(j);
	}
	if (record_write_end(&w, "reconcile-groups", NULL, 0))
		abort();
	fclose(out);

	/* The changes stream is read back whole by the next reader. */
	{
		struct record_reader r;
		FILE *fp = fmemopen(text, len, "r");
		cJSON *rec;
		enum record_status st;

		if (!fp)
			abort();
		record_reader_init(&r, fp, "<changes>", 0);
		while ((st = record_read(&r, &rec, NULL)) == RECORD_READ)
			cJSON_Delete(rec);
		if (st != RECORD_END || (size_t)r.end_records != p->n)
			abort(); /* a change record the next reader refuses */
		record_reader_clear(&r);
		fclose(fp);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	FILE *fp;
	char *buf = malloc(size + 1);

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	fp = fmemopen(buf, size, "r");
	if (!fp)
		abort();
	memset(&in, 0, sizeof in);
	if (input_read(&in, fp, "<fuzz>", 0) == 0) {
		struct plan_input pi = {
			.schedules = in.schedules, .n_schedules = in.n_schedules,
			.groups = groups, .n_groups = sizeof groups / sizeof groups[0],
			.group_prefix = NULL, .prune = 1, .prune_unsafe = in.errors_without_id > 0,
		};
		struct plan p;

		for (size_t i = 0; i < in.n_schedules; i++)
			if (!in.schedules[i].id || !in.schedules[i].id[0])
				abort();
		memset(&p, 0, sizeof p);
		plan_changes(&pi, &p);
		check_plan(&in, &pi, &p);
		plan_clear(&p);
		/* And without --prune: nothing is deleted. */
		pi.prune = 0;
		memset(&p, 0, sizeof p);
		plan_changes(&pi, &p);
		check_plan(&in, &pi, &p);
		plan_clear(&p);
		input_clear(&in);
	}
	fclose(fp);
	free(buf);
	return 0;
}
