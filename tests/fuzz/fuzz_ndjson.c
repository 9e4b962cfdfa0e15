/* fuzz_ndjson: the record reader (lib/record.h, over lib/ndjson.h) over arbitrary bytes.
 *
 * Reads records until the end or an error, as every stage does. Each record
 * read is written back with the writer; the written stream must be read
 * again without error and with the same count (what one stage writes, the
 * next must accept).
 * fuzz-sources: lib/ndjson.c lib/record.c lib/util.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long
read_all(FILE *fp, FILE *copy, enum record_status *last)
{
	struct record_reader r;
	struct record_writer w;
	enum record_status st;
	cJSON *rec;
	long n = 0;

	record_reader_init(&r, fp, "<fuzz>", 0);
	if (copy)
		record_writer_init(&w, copy);
	while ((st = record_read(&r, &rec, NULL)) == RECORD_READ) {
		if (!rec)
			abort();
		if (copy && record_write(&w, rec))
			abort();
		cJSON_Delete(rec);
		n++;
	}
	if (rec)
		abort(); /* *out must be NULL unless a record is returned */
	/* Sticky: once ended or failed, the reader answers the same again. */
	if (record_read(&r, &rec, NULL) != st || rec)
		abort();
	if (st == RECORD_END && r.end_records != n)
		abort();
	if (copy && st == RECORD_END && record_write_end(&w, "fuzz", NULL, 0))
		abort();
	record_reader_clear(&r);
	*last = st;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = NULL;
	size_t copylen = 0;
	enum record_status st, st2;
	long n, n2;
	FILE *fp, *out;

	/* fmemopen reads from a private copy: the reader may not write into it,
	 * but the copy keeps the fuzzer's buffer const either way. */
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	if (size)
		memcpy(in, data, size);
	fp = fmemopen(in, size, "r");
	out = open_memstream(&copy, &copylen);
	if (!fp || !out)
		abort();
	n = read_all(fp, out, &st);
	fclose(fp);
	fclose(out);
	if (st == RECORD_END) {
		fp = fmemopen(copy, copylen, "r");
		if (!fp)
			abort();
		n2 = read_all(fp, NULL, &st2);
		fclose(fp);
		if (st2 != RECORD_END || n2 != n)
			abort(); /* the writer wrote what the reader refuses */
	}
	free(copy);
	free(in);
	return 0;
}
