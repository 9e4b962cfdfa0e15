/* fuzz_incidentio: fetch-oncall's incident.io response parsers (schedules
 * list, schedule show, schedule entries, error bodies) over arbitrary bytes.
 *
 * Whatever the parsers give back ends up in NDJSON records (names, emails,
 * ids, error messages): all of it, written by the NDJSON writer, must be
 * read back by the next stage's reader (valid UTF-8 among other things).
 * Everything is freed.
 * fuzz-sources: fetch-oncall/incidentio.c lib/http.c lib/timeutil.c lib/ndjson.c lib/record.c lib/util.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incidentio.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string given back goes into one record; at the end it is written
 * with the NDJSON writer and must be read back by the reader. */
static cJSON *strings;

static void
keep_string(const char *s)
{
	if (s && !cJSON_AddItemToArray(strings, cJSON_CreateString(s)))
		abort();
}

static void
strings_roundtrip(void)
{
	cJSON *rec = cJSON_CreateObject(), *back = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len), *in;
	struct record_writer w;
	struct record_reader r;

	if (!rec || !out || !cJSON_AddStringToObject(rec, "type", "roster") ||
	    !cJSON_AddItemToObject(rec, "schedule", record_schedule_new("S", "Fuzz")) ||
	    !cJSON_AddArrayToObject(rec, "oncall"))
		abort();
	cJSON_AddItemToObject(rec, "strings", strings);
	record_writer_init(&w, out);
	if (record_write(&w, rec) || record_write_end(&w, "fetch-oncall", NULL, 0))
		abort();
	fclose(out);
	if (!(in = fmemopen(text, len, "r")))
		abort();
	record_reader_init(&r, in, "<written>", 0);
	if (record_read(&r, &back, NULL) != RECORD_READ)
		abort(); /* fetch-oncall would write a record the next stage refuses */
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(back, "strings")) !=
	    cJSON_GetArraySize(strings))
		abort();
	cJSON_Delete(back);
	if (record_read(&r, &back, NULL) != RECORD_END)
		abort();
	record_reader_clear(&r);
	fclose(in);
	free(text);
	cJSON_Delete(rec);
	strings = NULL;
}

static void
check_shifts(const struct iio_shift *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].end_ms < v[i].start_ms)
			abort();
		if (v[i].user_email && !v[i].user_email[0])
			abort(); /* "" is given back as NULL */
		if (v[i].user_id && !v[i].user_name)
			abort(); /* a user has an id and a name */
		keep_string(v[i].user_id);
		keep_string(v[i].user_name);
		keep_string(v[i].user_email);
	}
}

static void
check_schedule(const struct iio_schedule *s)
{
	if (!s->id || !s->id[0] || !s->name || !s->timezone)
		abort();
	if (!s->has_current && (s->current || s->ncurrent))
		abort();
	keep_string(s->id);
	keep_string(s->name);
	keep_string(s->timezone);
	check_shifts(s->current, s->ncurrent);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], out[600], type[64], *s, *esc;
	struct iio_schedule_page page;
	struct iio_schedule sched;
	struct iio_entries_page ent;
	const char *body = (const char *)data;

	err[0] = '\0';
	if (!(strings = cJSON_CreateArray()))
		abort();
	if (iio_parse_schedule_list(body, size, &page, err, sizeof err) == 0) {
		for (size_t i = 0; i < page.n; i++)
			check_schedule(&page.items[i]);
		if (page.after && !page.after[0])
			abort();
		keep_string(page.after);
		iio_schedule_page_clear(&page);
	} else {
		if (page.items || page.n || page.after)
			abort(); /* a failed parse leaves nothing to free */
		if (!memchr(err, '\0', sizeof err) || !err[0])
			abort();
		keep_string(err);
	}
	if (iio_parse_schedule_show(body, size, &sched, err, sizeof err) == 0) {
		check_schedule(&sched);
		iio_schedule_clear(&sched);
	} else {
		if (sched.id || sched.name || sched.current)
			abort();
		keep_string(err);
	}
	if (iio_parse_entries(body, size, &ent, err, sizeof err) == 0) {
		check_shifts(ent.shifts, ent.n);
		keep_string(ent.after);
		iio_entries_page_clear(&ent);
	} else {
		if (ent.shifts || ent.n || ent.after)
			abort();
		keep_string(err);
	}

	iio_describe_error(size ? 400 + data[0] % 200 : 500, body, size, out, sizeof out,
	                   type, sizeof type);
	if (!memchr(out, '\0', sizeof out) || !memchr(type, '\0', sizeof type))
		abort();
	keep_string(out);
	keep_string(type);
	iio_describe_error(429, body, size, out, 8, NULL, 0);
	if (!memchr(out, '\0', 8))
		abort();
	keep_string(out);
	strings_roundtrip();

	/* URL escaping and the id hint on the text up to the first NUL. */
	s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	esc = iio_url_escape(s);
	for (const char *c = esc; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      strchr("-._~%", *c)))
			abort();
	if (strlen(esc) > 3 * strlen(s))
		abort();
	free(esc);
	(void)iio_looks_like_id(s);
	free(s);
	return 0;
}
