/* oncall.c: fold final shifts into who is on call; build the records. */
#include <stdlib.h>
#include <string.h>

#include "oncall.h"
#include "record.h"
#include "timeutil.h"
#include "util.h"

static int64_t sat_sub(int64_t a, int64_t b)
{
	if (b > 0 && a < INT64_MIN + b)
		return INT64_MIN;
	return a - b;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

struct oncall_window oncall_window_at(int64_t at_ms, int64_t lead_ms, int64_t grace_ms)
{
	struct oncall_window w;

	w.from_ms = sat_sub(at_ms, grace_ms < 0 ? 0 : grace_ms);
	w.to_ms = sat_add(at_ms, lead_ms < 0 ? 0 : lead_ms);
	return w;
}

struct oncall_window oncall_window_any(void)
{
	struct oncall_window w = { INT64_MIN, INT64_MAX };
	return w;
}

int oncall_shift_overlaps(const struct oncall_shift *s, struct oncall_window w)
{
	return s->start_ms <= w.to_ms && s->end_ms > w.from_ms;
}

static int person_cmp(const void *a, const void *b)
{
	const struct oncall_person *x = a, *y = b;
	int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");

	return c ? c : strcmp(x->id, y->id);
}

size_t oncall_fold(const struct oncall_shift *shifts, size_t n, struct oncall_window w,
                   struct oncall_person **out)
{
	struct oncall_person *people = NULL;
	size_t np = 0, i, j;

	*out = NULL;
	for (i = 0; i < n; i++) {
		const struct oncall_shift *s = &shifts[i];

		if (!s->user_id || !oncall_shift_overlaps(s, w))
			continue;
		for (j = 0; j < np; j++)
			if (strcmp(people[j].id, s->user_id) == 0)
				break;
		if (j < np) {
			if (s->end_ms > people[j].until_ms)
				people[j].until_ms = s->end_ms;
			/* the first shift that has an email gives it */
			if (!people[j].email && s->user_email)
				people[j].email = s->user_email;
			continue;
		}
		if (!people)
			people = ecalloc(n, sizeof *people);
		people[np].id = s->user_id;
		people[np].name = s->user_name ? s->user_name : "";
		people[np].email = s->user_email;
		people[np].until_ms = s->end_ms;
		np++;
	}
	if (np > 1)
		qsort(people, np, sizeof *people, person_cmp);
	*out = people;
	return np;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ms_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids on call in window w, each once, sorted, into ids (room for n). */
static size_t ids_in(const struct oncall_shift *shifts, size_t n, struct oncall_window w,
                     const char **ids)
{
	size_t k = 0, i, j;

	for (i = 0; i < n; i++) {
		if (!shifts[i].user_id || !oncall_shift_overlaps(&shifts[i], w))
			continue;
		for (j = 0; j < k && strcmp(ids[j], shifts[i].user_id) != 0; j++)
			;
		if (j == k)
			ids[k++] = shifts[i].user_id;
	}
	qsort(ids, k, sizeof *ids, str_ptr_cmp);
	return k;
}

int oncall_next_change(const struct oncall_shift *shifts, size_t n, int64_t at_ms,
                       int64_t lead_ms, int64_t grace_ms, int64_t horizon_ms, int64_t *next_ms)
{
	const char **now, **then;
	int64_t *edges, c;
	size_t ne = 0, k0, k, i, j;
	int found = 0;

	if (n == 0)
		return 0;
	edges = ecalloc(2 * n, sizeof *edges);
	for (i = 0; i < n; i++) {
		if (!shifts[i].user_id)
			continue; /* puts nobody on call: changes nothing */
		c = sat_sub(shifts[i].start_ms, lead_ms < 0 ? 0 : lead_ms);
		if (c > at_ms && c <= horizon_ms)
			edges[ne++] = c;
		c = sat_add(shifts[i].end_ms, grace_ms < 0 ? 0 : grace_ms);
		if (c > at_ms && c <= horizon_ms)
			edges[ne++] = c;
	}
	qsort(edges, ne, sizeof *edges, ms_cmp);
	now = ecalloc(n, sizeof *now);
	then = ecalloc(n, sizeof *then);
	/* the roster is the same between two edges: each edge is a sync's view */
	k0 = ids_in(shifts, n, oncall_window_at(at_ms, lead_ms, grace_ms), now);
	for (i = 0; i < ne && !found; i++) {
		if (i > 0 && edges[i] == edges[i - 1])
			continue;
		k = ids_in(shifts, n, oncall_window_at(edges[i], lead_ms, grace_ms), then);
		for (j = 0; k == k0 && j < k && strcmp(now[j], then[j]) == 0; j++)
			;
		if (k != k0 || j < k) {
			*next_ms = edges[i];
			found = 1;
		}
	}
	free(then);
	free(now);
	free(edges);
	return found;
}

static cJSON *add_obj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		die(EXIT_FAILED, "out of memory");
	cJSON_AddItemToObject(parent, key, o);
	return o;
}

static void add_str(cJSON *o, const char *key, const char *val)
{
	if (!cJSON_AddStringToObject(o, key, val))
		die(EXIT_FAILED, "out of memory");
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];

	add_str(o, key, rfc3339_format(ms, t, sizeof t));
}

static cJSON *new_record(const char *type)
{
	cJSON *r = cJSON_CreateObject();

	if (!r)
		die(EXIT_FAILED, "out of memory");
	add_str(r, "type", type);
	return r;
}

cJSON *oncall_roster_record(const char *schedule_id, const char *schedule_name, int64_t at_ms,
                            struct oncall_window w, const struct oncall_person *people, size_t n)
{
	cJSON *r = new_record("roster"), *s, *win, *arr;
	size_t i;

	s = add_obj(r, "schedule");
	add_str(s, "id", schedule_id);
	add_str(s, "name", schedule_name);
	add_time(r, "at", at_ms);
	win = add_obj(r, "window");
	add_time(win, "from", w.from_ms);
	add_time(win, "to", w.to_ms);
	arr = cJSON_AddArrayToObject(r, "oncall");
	if (!arr)
		die(EXIT_FAILED, "out of memory");
	for (i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		if (!p)
			die(EXIT_FAILED, "out of memory");
		cJSON_AddItemToArray(arr, p);
		add_str(p, "id", people[i].id);
		if (people[i].email)
			add_str(p, "email", people[i].email);
		add_str(p, "name", people[i].name);
		add_time(p, "until", people[i].until_ms);
	}
	return r;
}

void oncall_roster_add_next_change(cJSON *roster, int64_t next_ms)
{
	add_time(roster, "next_change", next_ms);
}

cJSON *oncall_error_record(const char *schedule_id, const char *schedule_name, const char *code,
                           const char *message)
{
	return record_error_new("fetch-oncall", schedule_id || schedule_name ?
	                        record_schedule_new(schedule_id, schedule_name) : NULL,
	                        code, message);
}

cJSON *oncall_schedule_record(const char *id, const char *name, const char *timezone)
{
	cJSON *r = new_record("schedule");

	add_str(r, "id", id);
	add_str(r, "name", name);
	add_str(r, "timezone", timezone);
	return r;
}
