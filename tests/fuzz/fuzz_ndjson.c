/* fuzz_ndjson: the NDJSON record reader over arbitrary bytes.
 *
 * Reads records until the end or an error, as every stage does. Each record
 * read is written back with the writer; the written stream must be read
 * again without error and with the same count (what one stage writes, the
 * next must accept).
 * fuzz-sources: lib/ndjson.c lib/util.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long
read_all(FILE *fp, FILE *copy, enum ndjson_status *last)
{
	struct ndjson_reader r;
	struct ndjson_writer w;
	enum ndjson_status st;
	cJSON *rec;
	long n = 0;

	ndjson_reader_init(&r, fp, "<fuzz>");
	if (copy)
		ndjson_writer_init(&w, copy);
	while ((st = ndjson_read(&r, &rec)) == NDJSON_RECORD) {
		if (!rec)
			abort();
		if (copy && ndjson_write(&w, rec))
			abort();
		cJSON_Delete(rec);
		n++;
	}
	if (rec)
		abort(); /* *out must be NULL unless a record is returned */
	/* Sticky: once ended or failed, the reader answers the same again. */
	if (ndjson_read(&r, &rec) != st || rec)
		abort();
	if (st == NDJSON_END && r.end_records != n)
		abort();
	if (copy && st == NDJSON_END && ndjson_write_end(&w, "fuzz"))
		abort();
	ndjson_reader_free(&r);
	*last = st;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = NULL;
	size_t copylen = 0;
	enum ndjson_status st, st2;
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
	if (st == NDJSON_END) {
		fp = fmemopen(copy, copylen, "r");
		if (!fp)
			abort();
		n2 = read_all(fp, NULL, &st2);
		fclose(fp);
		if (st2 != NDJSON_END || n2 != n)
			abort(); /* the writer wrote what the reader refuses */
	}
	free(copy);
	free(in);
	return 0;
}
