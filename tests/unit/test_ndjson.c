/* test_ndjson.c: the strict record reader and the writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ndjson.h"
#include "tap.h"
#include "capture.h"
#include "util.h"

/* Read the whole stream of len bytes; returns the count of records, or -1
 * on error with *msg holding stderr (caller frees). */
static long
read_all(const char *data, size_t len, char **msg)
{
	FILE *fp = fmemopen((void *)data, len, "r");
	struct ndjson_reader r;
	cJSON *rec;
	enum ndjson_status st;
	long n = 0;

	capture_start();
	ndjson_reader_init(&r, fp, "in.ndjson");
	while ((st = ndjson_read(&r, &rec)) == NDJSON_RECORD) {
		n++;
		cJSON_Delete(rec);
	}
	if (st == NDJSON_ERR)
		n = -1;
	else if (ndjson_read(&r, &rec) != NDJSON_END) /* stays at the end */
		n = -2;
	ndjson_reader_free(&r);
	fclose(fp);
	*msg = capture_end();
	return n;
}

static void
refuses(const char *data, size_t len, const char *want, const char *desc)
{
	char *msg;
	long n = read_all(data, len, &msg);

	ok(n == -1 && strstr(msg, want) != NULL, "%s", desc);
	if (n != -1 || !strstr(msg, want))
		printf("#   got %ld, stderr: %s#   want: %s\n", n, msg, want);
	free(msg);
}

#define REFUSES(lit, want, desc) refuses(lit, sizeof(lit) - 1, want, desc)

static void
test_reader(void)
{
	char *msg;
	long n;
	const char *good =
		"{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"Primary\"},\"oncall\":[]}\n"
		"{\"type\":\"error\",\"message\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\u00e9 \\ud83d\\ude00\"}\n"
		"{\"type\":\"end\",\"stage\":\"fetch-oncall\",\"records\":2}\n";

	n = read_all(good, strlen(good), &msg);
	is_int(n, 2, "a valid stream gives its records");
	is_str(msg, "", "and no message");
	free(msg);

	n = read_all("{\"type\":\"end\",\"stage\":\"x\",\"records\":0}\n", 39, &msg);
	is_int(n, 0, "an empty stream with its end");
	free(msg);
	n = read_all("{\"type\":\"end\",\"stage\":\"x\",\"records\":0}", 38, &msg);
	is_int(n, 0, "end without final newline is still complete");
	free(msg);
	n = read_all("{\"type\":\"end\",\"stage\":\"x\",\"records\":0}\r\n", 40, &msg);
	is_int(n, 0, "CRLF tolerated");
	free(msg);

	REFUSES("", "in.ndjson:0: input ended without an end record (the stage before failed or was stopped): the stream was cut short (0 records read)",
	        "empty input is cut short");
	REFUSES("{\"type\":\"roster\"}\n{\"type\":\"roster\"}\n",
	        "in.ndjson:2: input ended without an end record (the stage before failed or was stopped): the stream was cut short (2 records read)",
	        "EOF without end");
	REFUSES("{\"type\":\"roster\"}\n{\"type\":\"end\",\"stage\":\"s\",\"records\":5}\n",
	        "in.ndjson:2: end record says 5 records, 1 were read", "wrong count");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n{\"type\":\"roster\"}\n",
	        "in.ndjson:2: line after the end record", "record after end");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n\n",
	        "in.ndjson:2: line after the end record", "blank line after end");
	REFUSES("{\"type\":\"end\",\"records\":0}\n", "in.ndjson:1: end record has no string \"stage\"",
	        "end without stage");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":\"0\"}\n", "whole-number \"records\"",
	        "records as string");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":0.5}\n", "whole-number \"records\"",
	        "fractional records");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":-1}\n", "whole-number \"records\"",
	        "negative records");
	REFUSES("{\"type\":\"roster\"}\n\n{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n",
	        "in.ndjson:2: blank line", "blank line");
	REFUSES("  \t\n", "in.ndjson:1: blank line", "white-space line");
	REFUSES("{\"type\":\"roster\"\n", "in.ndjson:1: invalid JSON", "truncated JSON");
	REFUSES("{\"type\":\"roster\"} x\n", "in.ndjson:1: invalid JSON", "trailing garbage");
	REFUSES("{\"type\":\"roster\"}{\"type\":\"roster\"}\n", "invalid JSON", "two objects on a line");
	REFUSES("[1,2]\n", "not a JSON object", "array");
	REFUSES("\"x\"\n", "not a JSON object", "string");
	REFUSES("{\"kind\":\"roster\"}\n", "no string \"type\"", "no type");
	REFUSES("{\"type\":7}\n", "no string \"type\"", "numeric type");
	REFUSES("{\"type\":\"\"}\n", "no string \"type\"", "empty type");
	REFUSES("{\"type\":\"roster\",\"type\":\"end\"}\n", "duplicate key \"type\"", "duplicate top key");
	REFUSES("{\"type\":\"roster\",\"oncall\":[{\"id\":\"a\",\"email\":\"x\",\"id\":\"b\"}]}\n",
	        "duplicate key \"id\"", "duplicate nested key");
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"roster\",\"big\":{");
		for (int i = 0; i < 100; i++)
			buf_printf(&b, "\"k%d\":%d,", i, i);
		buf_puts(&b, "\"k57\":1}}\n");
		refuses(b.data, b.len, "duplicate key \"k57\"", "duplicate key among many");
		buf_clear(&b);
	}
	REFUSES("{\"type\":\"roster\",\"n\":\"\xff\"}\n", "in.ndjson:1: invalid UTF-8 at byte 23", "invalid byte");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xc0\xaf\"}\n", "invalid UTF-8", "overlong 2-byte");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xe0\x80\xaf\"}\n", "overlong", "overlong 3-byte");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xf0\x80\x80\xaf\"}\n", "overlong", "overlong 4-byte");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xed\xa0\x80\"}\n", "surrogate", "encoded surrogate");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xf4\x90\x80\x80\"}\n", "U+10FFFF", "beyond U+10FFFF");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xe2\x82\"}\n", "invalid UTF-8", "cut sequence");
	REFUSES("{\"type\":\"roster\",\"n\":\"\xe2\x82", "invalid UTF-8", "cut sequence at EOF");
	REFUSES("{\"type\":\"roster\",\"n\":\"\\ud800\"}\n", "invalid JSON", "lone surrogate escape");
	REFUSES("{\"type\":\"roster\",\"n\":\"a\\u0000b\"}\n", "NUL", "\\u0000 escape");
	REFUSES("{\"type\":\"roster\",\"n\":\"a\0b\"}\n", "in.ndjson:1: NUL byte in line at byte 24", "NUL byte");
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"roster\",\"n\":");
		for (int i = 0; i < 64; i++)
			buf_puts(&b, "[");
		for (int i = 0; i < 64; i++)
			buf_puts(&b, "]");
		buf_puts(&b, "}\n");
		refuses(b.data, b.len, "nested too deeply", "65 levels refused");
		buf_clear(&b);

		buf_puts(&b, "{\"type\":\"roster\",\"n\":");
		for (int i = 0; i < 63; i++)
			buf_puts(&b, "[");
		for (int i = 0; i < 63; i++)
			buf_puts(&b, "]");
		buf_puts(&b, ",\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"}\n"
		             "{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n");
		n = read_all(b.data, b.len, &msg);
		is_int(n, 1, "64 levels and brackets inside strings are fine");
		free(msg);
		buf_clear(&b);

		/* 200000 levels would overflow a naive recursive parser. */
		buf_puts(&b, "{\"type\":\"roster\",\"n\":");
		for (int i = 0; i < 200000; i++)
			buf_puts(&b, "[");
		buf_puts(&b, "\n");
		refuses(b.data, b.len, "nested too deeply", "deep nesting refused before parsing");
		buf_clear(&b);
	}
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"roster\",\"pad\":\"");
		while (b.len < NDJSON_MAX_LINE + 10)
			buf_puts(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		buf_puts(&b, "\"}\n{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n");
		refuses(b.data, b.len, "in.ndjson:1: line is", "a line over 1 MiB is refused");
		buf_clear(&b);
	}

	/* End fields and sticky errors. */
	{
		const char *in = "{\"type\":\"a\"}\n{\"type\":\"end\",\"stage\":\"match-users\",\"records\":1,\"extra\":true}\n";
		FILE *fp = fmemopen((void *)in, strlen(in), "r");
		struct ndjson_reader r;
		cJSON *rec;

		ndjson_reader_init(&r, fp, "<stdin>");
		is_int(ndjson_read(&r, &rec), NDJSON_RECORD, "first record");
		cJSON_Delete(rec);
		is_int(ndjson_read(&r, &rec), NDJSON_END, "end");
		is_str(r.end_stage, "match-users", "end_stage");
		is_int(r.end_records, 1, "end_records");
		is_int(r.lineno, 2, "lineno");
		ndjson_reader_free(&r);
		fclose(fp);
	}
	{
		const char *in = "nope\n{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n";
		FILE *fp = fmemopen((void *)in, strlen(in), "r");
		struct ndjson_reader r;
		cJSON *rec;

		capture_start();
		ndjson_reader_init(&r, fp, "<stdin>");
		is_int(ndjson_read(&r, &rec), NDJSON_ERR, "bad line");
		is_int(ndjson_read(&r, &rec), NDJSON_ERR, "error is sticky");
		ndjson_reader_free(&r);
		fclose(fp);
		msg = capture_end();
		free(msg);
	}
	{
		/* A read error: a directory opened as a stream. */
		FILE *fp = fopen("/", "r");
		struct ndjson_reader r;
		cJSON *rec;

		if (fp) {
			capture_start();
			ndjson_reader_init(&r, fp, "/");
			is_int(ndjson_read(&r, &rec), NDJSON_ERR, "read error reported");
			ndjson_reader_free(&r);
			fclose(fp);
			msg = capture_end();
			ok(strstr(msg, "read error: Is a directory") != NULL, "read error says why: %.*s",
			   (int)strcspn(msg, "\n"), msg);
			free(msg);
		} else {
			ok(1, "skip: cannot open /");
			ok(1, "skip: cannot open /");
		}
	}
}

static void
test_writer(void)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp = open_memstream(&out, &outlen);
	struct ndjson_writer w;
	cJSON *rec = cJSON_Parse("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\"},\"oncall\":[]}");

	ndjson_writer_init(&w, fp);
	is_int(ndjson_write(&w, rec), 0, "write");
	is_int(ndjson_write(&w, rec), 0, "write again");
	is_int(ndjson_write_end(&w, "fetch-oncall"), 0, "write end");
	fclose(fp);
	is_str(out,
	       "{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\"},\"oncall\":[]}\n"
	       "{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\"},\"oncall\":[]}\n"
	       "{\"type\":\"end\",\"stage\":\"fetch-oncall\",\"records\":2}\n", "writer output");
	{
		char *msg;
		is_int(read_all(out, outlen, &msg), 2, "writer output reads back");
		free(msg);
	}
	free(out);

	fp = fopen("/dev/full", "w");
	if (fp) {
		char *msg;
		setvbuf(fp, NULL, _IONBF, 0);
		ndjson_writer_init(&w, fp);
		capture_start();
		is_int(ndjson_write(&w, rec), -1, "write error detected");
		is_int(ndjson_write_end(&w, "x"), -1, "later writes fail too");
		msg = capture_end();
		ok(strstr(msg, "write error: No space left on device") != NULL, "write error message: %.*s",
		   (int)strcspn(msg, "\n"), msg);
		free(msg);
		fclose(fp);
	}
	cJSON_Delete(rec);
}

/* Text from an API is not checked by cJSON, and a message cut at a fixed
 * length may end inside a character: the writer must still write a line the
 * next stage's reader accepts. */
static void
writer_output_with_bad_utf8_should_read_back(void)
{
	char *out = NULL, *msg = NULL;
	size_t outlen = 0;
	FILE *fp = open_memstream(&out, &outlen);
	struct ndjson_writer w;
	cJSON *rec = cJSON_CreateObject();

	cJSON_AddStringToObject(rec, "type", "error");
	/* "caf\xc3\xa9" cut after its first byte, a stray \xff, then valid text */
	cJSON_AddStringToObject(rec, "message", "caf\xc3 \xff ok \xe2\x82\xac");
	ndjson_writer_init(&w, fp);
	is_int(ndjson_write(&w, rec), 0, "bad UTF-8: write");
	is_int(ndjson_write_end(&w, "fetch-oncall"), 0, "bad UTF-8: write end");
	fclose(fp);
	is_int(read_all(out, outlen, &msg), 1, "bad UTF-8: the written stream reads back (%s)",
	       msg ? msg : "");
	ok(strstr(out, "\"caf? ? ok \xe2\x82\xac\"") != NULL, "bad bytes written as '?', good ones kept");
	free(msg);
	free(out);
	cJSON_Delete(rec);
}

/* The limit is on the record; the newline that ends it is not part of it. */
static void
line_limit_should_not_count_the_newline(void)
{
	struct buf b = { 0 };
	char *msg = NULL;

	buf_puts(&b, "{\"type\":\"roster\",\"pad\":\"");
	while (b.len < NDJSON_MAX_LINE - 2)
		buf_append(&b, "x", 1);
	buf_puts(&b, "\"}");
	is_int(b.len, NDJSON_MAX_LINE, "a record of exactly the limit");
	buf_puts(&b, "\n{\"type\":\"end\",\"stage\":\"t\",\"records\":1}\n");
	is_int(read_all(b.data, b.len, &msg), 1, "a record of exactly the limit, then a newline, is read (%.60s)",
	       msg ? msg : "");
	free(msg);
	msg = NULL;
	b.len = 0;
	buf_puts(&b, "{\"type\":\"roster\",\"pad\":\"");
	while (b.len < NDJSON_MAX_LINE - 1)
		buf_append(&b, "x", 1);
	buf_puts(&b, "\"}\n{\"type\":\"end\",\"stage\":\"t\",\"records\":1}\n");
	is_int(read_all(b.data, b.len, &msg), -1, "one byte more is refused");
	ok(msg && strstr(msg, "longer than the limit"), "and says why");
	free(msg);
	buf_clear(&b);
}

static void
test_expect(void)
{
	cJSON *rec = cJSON_Parse("{\"type\":\"roster\",\"schedule\":\"S1\",\"oncall\":[],\"at\":null,"
	                         "\"nested\":{\"id\":5}}");
	struct ndjson_reader r;
	char *msg;

	ndjson_reader_init(&r, stdin, "<stdin>");
	r.lineno = 42;
	capture_start();
	is_int(json_expect_array(&r, rec, "oncall", 1), 0, "array ok");
	is_int(json_expect_object(&r, rec, "schedule", 1), -1, "string is not an object");
	is_int(json_expect_string(&r, rec, "window", 0), 0, "optional absent ok");
	is_int(json_expect_string(&r, rec, "at", 0), 0, "optional null ok");
	is_int(json_expect_string(&r, rec, "at", 1), -1, "required null refused");
	is_int(json_expect_object(&r, rec, "window", 1), -1, "required absent refused");
	is_int(json_expect_string(&r, cJSON_GetObjectItem(rec, "nested"), "id", 1), -1, "nested wrong type");
	is_int(json_expect_string(&r, cJSON_GetObjectItem(rec, "nested"), "email", 1), -1, "nested missing");
	msg = capture_end();
	is_str(msg,
	       "test_ndjson: <stdin>:42: roster \"schedule\" must be an object\n"
	       "test_ndjson: <stdin>:42: roster \"at\" must be a string\n"
	       "test_ndjson: <stdin>:42: roster has no \"window\"\n"
	       "test_ndjson: <stdin>:42: \"id\" must be a string\n"
	       "test_ndjson: <stdin>:42: missing \"email\"\n", "expect messages");
	free(msg);
	is_str(json_str(rec, "type"), "roster", "json_str");
	ok(json_str(rec, "oncall") == NULL && json_str(rec, "nope") == NULL, "json_str NULL");
	ndjson_reader_free(&r);
	cJSON_Delete(rec);
}


struct fast_log {
	int offered, taken;
	size_t last_len;
	int nul_terminated, has_newline;
};

/* Takes the lines that start with "{\"fast\"" (as a caller would after its
 * own checks), records what it was offered. */
static int
fast_taker(void *user, const char *line, size_t len)
{
	struct fast_log *l = user;

	l->offered++;
	l->last_len = len;
	l->nul_terminated = line[len] == '\0';
	l->has_newline = len > 0 && line[len - 1] == '\n';
	if (strncmp(line, "{\"fast\"", 7) == 0) {
		l->taken++;
		return 1;
	}
	return 0;
}

static long
read_fast_all(const char *data, size_t len, struct fast_log *l, char **msg)
{
	FILE *fp = fmemopen((void *)data, len, "r");
	struct ndjson_reader r;
	cJSON *rec;
	enum ndjson_status st;
	long n = 0;

	memset(l, 0, sizeof *l);
	capture_start();
	ndjson_reader_init(&r, fp, "in.ndjson");
	while ((st = ndjson_read_fast(&r, &rec, fast_taker, l)) == NDJSON_RECORD) {
		if (!rec)
			n += 1000;   /* taken by the fast path */
		else
			n++;
		cJSON_Delete(rec);
	}
	if (st == NDJSON_ERR)
		n = -1;
	else if (ndjson_read_fast(&r, &rec, fast_taker, l) != NDJSON_END)
		n = -2;
	ndjson_reader_free(&r);
	fclose(fp);
	*msg = capture_end();
	return n;
}

static void
read_fast_should_count_taken_lines_and_check_the_rest(void)
{
	struct fast_log l;
	char *msg;
	long n;
	const char *s =
		"{\"fast\":1}\n"
		"{\"type\":\"roster\",\"oncall\":[]}\n"
		"{\"fast\":2}\r\n"
		"{\"type\":\"end\",\"stage\":\"s\",\"records\":3}\n";

	n = read_fast_all(s, strlen(s), &l, &msg);
	is_int(n, 2001, "read_fast: two lines taken fast (no tree), one read as usual");
	is_str(msg, "", "read_fast: the end rule counts the fast ones");
	is_int(l.offered, 4, "read_fast: every line offered, the end record too");
	ok(l.nul_terminated && !l.has_newline &&
	   l.last_len == strlen("{\"type\":\"end\",\"stage\":\"s\",\"records\":3}"),
	   "read_fast: lines offered without the newline, NUL-terminated");
	free(msg);

	s = "{\"fast\":1}\n{\"type\":\"end\",\"stage\":\"s\",\"records\":2}\n";
	n = read_fast_all(s, strlen(s), &l, &msg);
	ok(n == -1 && strstr(msg, "in.ndjson:2: end record says 2 records, 1 were read"),
	   "read_fast: a count off by the fast lines is still caught");
	free(msg);

	s = "{\"type\":\"x\",\"a\":1,\"a\":2}\n{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n";
	n = read_fast_all(s, strlen(s), &l, &msg);
	ok(n == -1 && strstr(msg, "in.ndjson:1: duplicate key \"a\""),
	   "read_fast: a declined line gets every usual check");
	free(msg);

	s = "{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n{\"fast\":1}\n";
	n = read_fast_all(s, strlen(s), &l, &msg);
	ok(n == -1 && strstr(msg, "in.ndjson:2: line after the end record") && l.offered == 1,
	   "read_fast: nothing after the end is offered or taken");
	free(msg);

	s = "{\"fast\":1}\n";
	n = read_fast_all(s, strlen(s), &l, &msg);
	ok(n == -1 && strstr(msg, "input ended without an end record (the stage before failed or was stopped): the stream was cut short "
	                          "(1 records read)"), "read_fast: a cut stream is still refused");
	free(msg);

	/* A line over the limit is never offered: refused as usual. */
	size_t big = NDJSON_MAX_LINE + 1;
	char *line = malloc(big + 64);
	memcpy(line, "{\"fast\":\"", 9);
	memset(line + 9, 'a', big - 11);
	memcpy(line + big - 2, "\"}\n", 3);
	n = read_fast_all(line, big + 1, &l, &msg);
	ok(n == -1 && l.offered == 0 && strstr(msg, "longer than the limit"),
	   "read_fast: a line over the limit is not offered, and refused");
	free(msg);
	/* One at the limit (newline not counted) is. */
	memcpy(line + big - 3, "\"}\n", 3);
	memcpy(line + big, "{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n", 39);
	n = read_fast_all(line, big + 39, &l, &msg);
	ok(n == 1000 && l.offered == 2, "read_fast: a line at the limit is offered");
	if (n != 1000 || l.offered != 2)
		printf("#   got %ld, offered %d: %s\n", n, l.offered, msg);
	free(msg);
	free(line);
}

int
main(void)
{
	log_init("test_ndjson");
	test_reader();
	test_writer();
	writer_output_with_bad_utf8_should_read_back();
	line_limit_should_not_count_the_newline();
	test_expect();
	read_fast_should_count_taken_lines_and_check_the_rest();
	return tap_done();
}
