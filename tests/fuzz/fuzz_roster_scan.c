/* fuzz_roster_scan: match-users' fast path, which finds the entries of a
 * roster's "oncall" array by scanning the line's text (roster_scan_oncall)
 * and splices each entry's verdict in before its closing brace, instead of
 * parsing and printing the record again.
 *
 * For every line the NDJSON reader and roster_check accept, the scanner must
 * agree with cJSON: when it answers, it finds exactly the array's entries,
 * each slice parses to the same object, and text spliced in before each
 * closing brace gives a valid record whose entries gained exactly that field.
 * fuzz-sources: match-users/roster.c match-users/fastjson.c match-users/match.c lib/map.c lib/ndjson.c lib/util.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "roster.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPLICE ",\"fuzz_verdict\":{\"id\":\"a-1\"}"

static void
check(const char *line, size_t len, const cJSON *rec)
{
	const cJSON *oncall = cJSON_GetObjectItemCaseSensitive(rec, "oncall"), *e;
	size_t want = (size_t)cJSON_GetArraySize(oncall), max = want + 2;
	size_t *starts = calloc(max, sizeof *starts), *ends = calloc(max, sizeof *ends);
	long n;
	size_t i = 0;
	struct buf out = { 0 };
	cJSON *spliced;

	if (!starts || !ends)
		abort();
	n = roster_scan_oncall(line, len, starts, ends, max);
	if (n >= 0) {
		if ((size_t)n != want)
			abort(); /* a different number of entries than the record has */
		cJSON_ArrayForEach(e, oncall) {
			cJSON *slice;

			if (starts[i] >= ends[i] || ends[i] >= len || line[starts[i]] != '{' || line[ends[i]] != '}')
				abort();
			if (i > 0 && starts[i] <= ends[i - 1])
				abort();
			slice = cJSON_ParseWithLength(line + starts[i], ends[i] - starts[i] + 1);
			if (!slice || !cJSON_Compare(slice, e, 1))
				abort(); /* the slice is not the entry */
			cJSON_Delete(slice);
			i++;
		}
		/* Splice as roster_write_fast does. */
		size_t pos = 0;
		for (i = 0; i < (size_t)n; i++) {
			buf_append(&out, line + pos, ends[i] - pos);
			buf_puts(&out, SPLICE);
			pos = ends[i];
		}
		buf_append(&out, line + pos, len - pos);
		buf_append(&out, "", 1);
		spliced = cJSON_Parse(out.data);
		if (!spliced)
			abort(); /* the fast path would write invalid JSON */
		const cJSON *so = cJSON_GetObjectItemCaseSensitive(spliced, "oncall");
		if ((size_t)cJSON_GetArraySize(so) != want)
			abort();
		i = 0;
		cJSON_ArrayForEach(e, so) {
			cJSON *copy = cJSON_Duplicate(e, 1);
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(copy, "fuzz_verdict");
			if (!v || !cJSON_IsObject(v))
				abort();
			cJSON_DeleteItemFromObjectCaseSensitive(copy, "fuzz_verdict");
			if (!cJSON_Compare(copy, cJSON_GetArrayItem(oncall, (int)i), 1))
				abort(); /* the entry changed otherwise */
			cJSON_Delete(copy);
			i++;
		}
		/* Nothing else in the record moved. */
		cJSON_DeleteItemFromObjectCaseSensitive(spliced, "oncall");
		cJSON *rest = cJSON_Duplicate(rec, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(rest, "oncall");
		if (!cJSON_Compare(spliced, rest, 1))
			abort();
		cJSON_Delete(rest);
		cJSON_Delete(spliced);
		buf_clear(&out);
	}
	free(starts);
	free(ends);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson_reader r;
	cJSON *rec = NULL;
	FILE *fp;
	char *in;

	/* One line: the reader checks it as match-users does. */
	if (memchr(data, '\n', size))
		return 0;
	in = malloc(size + 2);
	if (!in)
		return 0;
	if (size)
		memcpy(in, data, size);
	in[size] = '\n';
	fp = fmemopen(in, size + 1, "r");
	if (!fp)
		abort();
	ndjson_reader_init(&r, fp, "<fuzz>");
	if (ndjson_read(&r, &rec) == NDJSON_RECORD) {
		const char *type = json_str(rec, "type");
		if (type && strcmp(type, "roster") == 0 && roster_check(&r, rec) == 0)
			check(r.line, strlen(r.line), rec);
		cJSON_Delete(rec);
	}
	ndjson_reader_free(&r);
	fclose(fp);
	free(in);
	return 0;
}
