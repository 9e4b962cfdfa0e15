/* fuzz_fastjson: match-users' own strict JSON scanner (match-users/
 * fastjson.c), which takes common roster lines and accounts-file lines past
 * cJSON, against the slow path it stands in for.
 *
 * fastjson.h promises that the fast path "can only be faster, never
 * different": a line it takes must be one the NDJSON reader and
 * roster_check accept, with no entry carrying "account" or "unmatched"; the
 * entries it finds must be the record's "oncall" entries; each entry's
 * lookup key must be the one match_person_key gives; fj_entry_fields must
 * give the entry's id, email and name; and an accounts-file line it takes
 * must hold the fields cJSON finds there. Checked in email and alias mode,
 * on an exactly sized copy of the line (so an over-read shows).
 * fuzz-sources: match-users/fastjson.c match-users/roster.c match-users/match.c lib/map.c lib/ndjson.c lib/util.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastjson.h"
#include "match.h"
#include "ndjson.h"
#include "roster.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The slow path's view: the record when the reader, roster_check and the
 * "no verdict yet" rule accept the line, else NULL. */
static cJSON *
slow_roster(const char *line, size_t len)
{
	struct ndjson_reader r;
	cJSON *rec = NULL, *e;
	char *in = malloc(len + 1);
	FILE *fp;

	if (!in)
		abort();
	memcpy(in, line, len);
	in[len] = '\n';
	if (!(fp = fmemopen(in, len + 1, "r")))
		abort();
	ndjson_reader_init(&r, fp, "<slow>");
	if (ndjson_read(&r, &rec) != NDJSON_RECORD) {
		rec = NULL;
	} else if (!json_str(rec, "type") || strcmp(json_str(rec, "type"), "roster") != 0 ||
	           roster_check(&r, rec) != 0) {
		cJSON_Delete(rec);
		rec = NULL;
	} else {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rec, "oncall"))
			if (cJSON_GetObjectItemCaseSensitive(e, "account") ||
			    cJSON_GetObjectItemCaseSensitive(e, "unmatched")) {
				cJSON_Delete(rec);
				rec = NULL;
				break;
			}
	}
	ndjson_reader_free(&r);
	fclose(fp);
	free(in);
	return rec;
}

/* An fj_str against the cJSON value it stands for (absent, null or string). */
static void
same_str(const struct fj_str *f, const cJSON *v)
{
	if (!v) {
		if (f->s || f->null)
			abort();
		return;
	}
	if (cJSON_IsNull(v)) {
		if (!f->null)
			abort();
		return;
	}
	if (!cJSON_IsString(v) || !f->s)
		abort();
	if (!f->esc && (strlen(v->valuestring) != f->n || memcmp(v->valuestring, f->s, f->n) != 0))
		abort();
}

static void
roster_mode(enum match_by by, const char *line, size_t len)
{
	struct match_index *idx = match_index_new(by);
	struct fj_roster fr;
	struct buf scratch = { 0 };
	cJSON *rec;
	int fast;

	memset(&fr, 0, sizeof fr);
	fast = fj_roster_parse(&fr, idx, line, len);
	if (fast) {
		const cJSON *oncall, *e;
		size_t i = 0;

		if (!(rec = slow_roster(line, len)))
			abort(); /* the fast path took a line the slow path refuses */
		oncall = cJSON_GetObjectItemCaseSensitive(rec, "oncall");
		if ((size_t)cJSON_GetArraySize(oncall) != fr.n)
			abort();
		/* The label: the schedule's name when not empty, else its id. */
		const char *label = roster_schedule_label(rec);
		if (!label || strlen(label) != fr.label.n || memcmp(label, fr.label.s, fr.label.n) != 0)
			abort();
		cJSON_ArrayForEach(e, oncall) {
			const struct roster_entry *en = &fr.ents[i];
			struct fj_str id, email, name;
			cJSON *slice;
			const char *key;

			if (en->start >= en->end || en->end >= len || line[en->start] != '{' ||
			    line[en->end] != '}')
				abort();
			slice = cJSON_ParseWithLength(line + en->start, en->end - en->start + 1);
			if (!slice || !cJSON_Compare(slice, e, 1))
				abort(); /* the entry found is not the record's entry */
			cJSON_Delete(slice);
			if (fj_entry_fields(line + en->start, en->end - en->start + 1, &id, &email, &name))
				abort();
			same_str(&id, cJSON_GetObjectItemCaseSensitive(e, "id"));
			same_str(&email, cJSON_GetObjectItemCaseSensitive(e, "email"));
			same_str(&name, cJSON_GetObjectItemCaseSensitive(e, "name"));
			key = match_person_key(idx, json_str(e, "id"), json_str(e, "email"), &scratch);
			if (key ? match_key_find(idx, key) != en->key : en->key != -1)
				abort(); /* a different person would be looked up */
			i++;
		}
		cJSON_Delete(rec);
	}
	fj_roster_free(&fr);
	buf_clear(&scratch);
	match_index_free(idx);
}

static void
account_line(const char *line, size_t len)
{
	static const char *const names[FJA_N] = {
		"type", "id", "email", "suspended", "identity_set", "username", "account_id", "name"
	};
	struct fj_field f[FJA_N];
	cJSON *o;

	if (fj_account_line(line, len, f) != 0)
		return;
	o = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(o))
		abort(); /* taken by the fast path, not an object to cJSON */
	for (int i = 0; i < FJA_N; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
		if (!v) {
			if (f[i].type)
				abort();
			continue;
		}
		if (f[i].type != (v->type & 0xff))
			abort(); /* a field of another type than cJSON sees */
		if (f[i].type == cJSON_String &&
		    (strlen(v->valuestring) != f[i].n || memcmp(v->valuestring, f[i].s, f[i].n) != 0))
			abort();
	}
	cJSON_Delete(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;

	/* One line, NUL-terminated, in a buffer of exactly that size. */
	if (memchr(data, '\n', size) || memchr(data, '\0', size))
		return 0;
	if (!(line = malloc(size + 1)))
		return 0;
	if (size)
		memcpy(line, data, size);
	line[size] = '\0';
	roster_mode(MATCH_BY_EMAIL, line, size);
	roster_mode(MATCH_BY_ALIAS, line, size);
	account_line(line, size);
	free(line);
	return 0;
}
