/* test_record.c: the records of the stream contract (lib/record.c) read
 * strictly over lib/ndjson.c, checked with their line numbers, written and
 * counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "tap.h"
#include "capture.h"
#include "util.h"

/* Read the whole stream of len bytes; returns the count of records, or -1
 * on error with *msg holding stderr (caller frees). */
static unsigned read_flags;   /* record_reader_init's flags for read_all */

static long
read_all(const char *data, size_t len, char **msg)
{
	FILE *fp = fmemopen((void *)data, len, "r");
	struct record_reader r;
	cJSON *rec;
	enum record_status st;
	long n = 0;

	capture_start();
	record_reader_init(&r, fp, "in.ndjson", read_flags);
	while ((st = record_read(&r, &rec, NULL)) == RECORD_READ) {
		n++;
		cJSON_Delete(rec);
	}
	if (st == RECORD_ERR)
		n = -1;
	else if (record_read(&r, &rec, NULL) != RECORD_END) /* stays at the end */
		n = -2;
	record_reader_clear(&r);
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
	REFUSES("{\"type\":\"sample\"}\n{\"type\":\"sample\"}\n",
	        "in.ndjson:2: input ended without an end record (the stage before failed or was stopped): the stream was cut short (2 records read)",
	        "EOF without end");
	REFUSES("{\"type\":\"sample\"}\n{\"type\":\"end\",\"stage\":\"s\",\"records\":5}\n",
	        "in.ndjson:2: end record says 5 records, 1 were read", "wrong count");
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n{\"type\":\"sample\"}\n",
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
	REFUSES("{\"type\":\"sample\"}\n\n{\"type\":\"end\",\"stage\":\"s\",\"records\":1}\n",
	        "in.ndjson:2: blank line", "blank line");
	REFUSES("  \t\n", "in.ndjson:1: blank line", "white-space line");
	REFUSES("{\"type\":\"sample\"\n", "in.ndjson:1: invalid JSON", "truncated JSON");
	REFUSES("{\"type\":\"sample\"} x\n", "in.ndjson:1: invalid JSON", "trailing garbage");
	REFUSES("{\"type\":\"sample\"}{\"type\":\"sample\"}\n", "invalid JSON", "two objects on a line");
	REFUSES("[1,2]\n", "not a JSON object", "array");
	REFUSES("\"x\"\n", "not a JSON object", "string");
	REFUSES("{\"kind\":\"roster\"}\n", "no string \"type\"", "no type");
	REFUSES("{\"type\":7}\n", "no string \"type\"", "numeric type");
	REFUSES("{\"type\":\"\"}\n", "no string \"type\"", "empty type");
	REFUSES("{\"type\":\"sample\",\"type\":\"end\"}\n", "duplicate key \"type\"", "duplicate top key");
	REFUSES("{\"type\":\"sample\",\"oncall\":[{\"id\":\"a\",\"email\":\"x\",\"id\":\"b\"}]}\n",
	        "duplicate key \"id\"", "duplicate nested key");
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"sample\",\"big\":{");
		for (int i = 0; i < 100; i++)
			buf_printf(&b, "\"k%d\":%d,", i, i);
		buf_puts(&b, "\"k57\":1}}\n");
		refuses(b.data, b.len, "duplicate key \"k57\"", "duplicate key among many");
		buf_clear(&b);
	}
	REFUSES("{\"type\":\"sample\",\"n\":\"\xff\"}\n", "in.ndjson:1: invalid UTF-8 at byte 23", "invalid byte");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xc0\xaf\"}\n", "invalid UTF-8", "overlong 2-byte");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xe0\x80\xaf\"}\n", "overlong", "overlong 3-byte");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xf0\x80\x80\xaf\"}\n", "overlong", "overlong 4-byte");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xed\xa0\x80\"}\n", "surrogate", "encoded surrogate");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xf4\x90\x80\x80\"}\n", "U+10FFFF", "beyond U+10FFFF");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xe2\x82\"}\n", "invalid UTF-8", "cut sequence");
	REFUSES("{\"type\":\"sample\",\"n\":\"\xe2\x82", "invalid UTF-8", "cut sequence at EOF");
	REFUSES("{\"type\":\"sample\",\"n\":\"\\ud800\"}\n", "invalid JSON", "lone surrogate escape");
	REFUSES("{\"type\":\"sample\",\"n\":\"a\\u0000b\"}\n", "NUL", "\\u0000 escape");
	REFUSES("{\"type\":\"sample\",\"n\":\"a\0b\"}\n", "in.ndjson:1: NUL byte in line at byte 24", "NUL byte");
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"sample\",\"n\":");
		for (int i = 0; i < 64; i++)
			buf_puts(&b, "[");
		for (int i = 0; i < 64; i++)
			buf_puts(&b, "]");
		buf_puts(&b, "}\n");
		refuses(b.data, b.len, "nested too deeply", "65 levels refused");
		buf_clear(&b);

		buf_puts(&b, "{\"type\":\"sample\",\"n\":");
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
		buf_puts(&b, "{\"type\":\"sample\",\"n\":");
		for (int i = 0; i < 200000; i++)
			buf_puts(&b, "[");
		buf_puts(&b, "\n");
		refuses(b.data, b.len, "nested too deeply", "deep nesting refused before parsing");
		buf_clear(&b);
	}
	{
		struct buf b = { 0 };
		buf_puts(&b, "{\"type\":\"sample\",\"pad\":\"");
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
		struct record_reader r;
		cJSON *rec;

		record_reader_init(&r, fp, "<stdin>", 0);
		is_int(record_read(&r, &rec, NULL), RECORD_READ, "first record");
		cJSON_Delete(rec);
		is_int(record_read(&r, &rec, NULL), RECORD_END, "end");
		is_str(r.end_stage, "match-users", "end_stage");
		is_int(r.end_records, 1, "end_records");
		is_int(r.nd.lineno, 2, "lineno");
		record_reader_clear(&r);
		fclose(fp);
	}
	{
		const char *in = "nope\n{\"type\":\"end\",\"stage\":\"s\",\"records\":0}\n";
		FILE *fp = fmemopen((void *)in, strlen(in), "r");
		struct record_reader r;
		cJSON *rec;

		capture_start();
		record_reader_init(&r, fp, "<stdin>", 0);
		is_int(record_read(&r, &rec, NULL), RECORD_ERR, "bad line");
		is_int(record_read(&r, &rec, NULL), RECORD_ERR, "error is sticky");
		record_reader_clear(&r);
		fclose(fp);
		msg = capture_end();
		free(msg);
	}
	{
		/* A read error: a directory opened as a stream. */
		FILE *fp = fopen("/", "r");
		struct record_reader r;
		cJSON *rec;

		if (fp) {
			capture_start();
			record_reader_init(&r, fp, "/", 0);
			is_int(record_read(&r, &rec, NULL), RECORD_ERR, "read error reported");
			record_reader_clear(&r);
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
	struct record_writer w;
	cJSON *rec = cJSON_Parse("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\"},\"oncall\":[]}");

	record_writer_init(&w, fp);
	is_int(record_write(&w, rec), 0, "write");
	is_int(record_write(&w, rec), 0, "write again");
	is_int(record_write_end(&w, "fetch-oncall", NULL, 0), 0, "write end");
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
		record_writer_init(&w, fp);
		capture_start();
		is_int(record_write(&w, rec), -1, "write error detected");
		is_int(record_write_end(&w, "x", NULL, 0), -1, "later writes fail too");
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
	struct record_writer w;
	cJSON *rec = cJSON_CreateObject();

	cJSON_AddStringToObject(rec, "type", "error");
	/* "caf\xc3\xa9" cut after its first byte, a stray \xff, then valid text */
	cJSON_AddStringToObject(rec, "message", "caf\xc3 \xff ok \xe2\x82\xac");
	record_writer_init(&w, fp);
	is_int(record_write(&w, rec), 0, "bad UTF-8: write");
	is_int(record_write_end(&w, "fetch-oncall", NULL, 0), 0, "bad UTF-8: write end");
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

	buf_puts(&b, "{\"type\":\"sample\",\"pad\":\"");
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
	buf_puts(&b, "{\"type\":\"sample\",\"pad\":\"");
	while (b.len < NDJSON_MAX_LINE - 1)
		buf_append(&b, "x", 1);
	buf_puts(&b, "\"}\n{\"type\":\"end\",\"stage\":\"t\",\"records\":1}\n");
	is_int(read_all(b.data, b.len, &msg), -1, "one byte more is refused");
	ok(msg && strstr(msg, "longer than the limit"), "and says why");
	free(msg);
	buf_clear(&b);
}

/* ------------------------------------------------------------ the contract
 * Each rule refused with its message at its line; a record that keeps
 * every rule is read. Line 2 is the record under test: line 1 a good one. */
#define GOOD_ROSTER "{\"type\":\"roster\",\"schedule\":{\"id\":\"S0\",\"name\":\"Zero\"},\"oncall\":[]}\n"
#define R(body) "{\"type\":\"roster\"," body "}\n"
#define S "\"schedule\":{\"id\":\"S1\",\"name\":\"A\"}"
#define M(entry) R(S ",\"oncall\":[" entry "]")
#define END(n) "{\"type\":\"end\",\"stage\":\"t\",\"records\":" #n "}\n"

static void
refuses_at_2(unsigned flags, const char *rec, const char *want, const char *desc)
{
	struct buf b = { 0 }, w = { 0 };

	buf_puts(&b, GOOD_ROSTER);
	buf_puts(&b, rec);
	buf_puts(&b, END(2));
	buf_printf(&w, "in.ndjson:2: %s", want);
	read_flags = flags;
	refuses(b.data, b.len, w.data, desc);
	read_flags = 0;
	buf_clear(&b);
	buf_clear(&w);
}

static void
reads(unsigned flags, const char *rec, const char *desc)
{
	struct buf b = { 0 };
	char *msg;
	long n;

	buf_puts(&b, rec);
	buf_puts(&b, END(1));
	read_flags = flags;
	n = read_all(b.data, b.len, &msg);
	read_flags = 0;
	is_int(n, 1, "%s", desc);
	if (n != 1)
		printf("#   stderr: %s", msg);
	free(msg);
	buf_clear(&b);
}

/* Every stage: the roster fields' types. */
static void
roster_rules_should_hold_in_every_stream(void)
{
	reads(0, R("\"schedule\":{\"id\":\"S\"},\"oncall\":[]"), "a minimal roster is fine");
	reads(0, R("\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"email\":null}]"),
	      "a null email is no email");
	reads(0, R(S ",\"at\":\"2026-11-29T07:00:00Z\",\"window\":{\"from\":\"x\",\"to\":\"y\"},"
	         "\"next_change\":\"2026-11-29T09:00:00Z\",\"group\":{\"name\":\"g\",\"roles\":[\"r\"]},"
	         "\"extra\":{\"any\":1},\"oncall\":[{\"id\":\"U\",\"email\":\"u@x\",\"name\":\"U\","
	         "\"until\":\"t\",\"unknown\":[1]}]"), "every known field of its type, unknown ones kept");
	refuses_at_2(0, R("\"oncall\":[]"), "roster has no \"schedule\"", "no schedule");
	refuses_at_2(0, R("\"schedule\":\"S\",\"oncall\":[]"), "roster \"schedule\" must be an object",
	             "a schedule that is not an object");
	refuses_at_2(0, R("\"schedule\":{\"name\":\"S\"},\"oncall\":[]"), "roster schedule has no \"id\"",
	             "a schedule without id");
	refuses_at_2(0, R("\"schedule\":{\"id\":1,\"name\":\"A\"},\"oncall\":[]"),
	             "roster schedule \"id\" must be a string", "a schedule id that is not a string");
	refuses_at_2(0, R("\"schedule\":{\"id\":\"\"},\"oncall\":[]"), "roster schedule \"id\" is empty",
	             "an empty schedule id");
	refuses_at_2(0, R("\"schedule\":{\"id\":\"S\",\"name\":2},\"oncall\":[]"),
	             "roster schedule \"name\" must be a string", "a schedule name that is not a string");
	refuses_at_2(0, R(S ",\"at\":5,\"oncall\":[]"), "roster \"at\" must be a string",
	             "an at of the wrong type");
	refuses_at_2(0, R(S ",\"next_change\":5,\"oncall\":[]"), "roster \"next_change\" must be a string",
	             "a next_change of the wrong type");
	refuses_at_2(0, R(S ",\"window\":\"now\",\"oncall\":[]"), "roster \"window\" must be an object",
	             "a window of the wrong type");
	refuses_at_2(0, R(S ",\"window\":{\"from\":1},\"oncall\":[]"),
	             "roster window \"from\" must be a string", "a window start of the wrong type");
	refuses_at_2(0, R(S ",\"window\":{\"to\":[]},\"oncall\":[]"),
	             "roster window \"to\" must be a string", "a window end of the wrong type");
	refuses_at_2(0, R(S), "roster has no \"oncall\"", "no oncall");
	refuses_at_2(0, R(S ",\"oncall\":{}"), "roster \"oncall\" must be an array",
	             "an oncall that is not an array");
	refuses_at_2(0, M("\"U\""), "roster oncall[0] must be an object", "an entry that is not an object");
	refuses_at_2(0, M("{\"id\":\"U\"},{\"name\":\"V\"}"), "roster oncall[1] has no \"id\"",
	             "an entry without id (match-users looks people up by it)");
	refuses_at_2(0, M("{\"id\":\"\"}"), "roster oncall[0] \"id\" is empty", "an empty entry id");
	refuses_at_2(0, M("{\"id\":5}"), "roster oncall[0] \"id\" must be a string",
	             "an incident.io user id of the wrong type");
	refuses_at_2(0, M("{\"id\":\"U\",\"email\":7}"), "roster oncall[0] \"email\" must be a string",
	             "an email that is not a string");
	refuses_at_2(0, M("{\"id\":\"U\",\"name\":1}"), "roster oncall[0] \"name\" must be a string",
	             "a name that is not a string");
	refuses_at_2(0, M("{\"id\":\"U\",\"until\":5}"), "roster oncall[0] \"until\" must be a string",
	             "an until of the wrong type");
	refuses_at_2(0, M("{\"id\":\"U\",\"account\":\"a-1\"}"),
	             "roster oncall[0] \"account\" must be an object", "an account that is not an object");
	refuses_at_2(0, M("{\"id\":\"U\",\"account\":{\"email\":\"x\"}}"),
	             "roster oncall[0] account has no \"id\"", "an account without id");
	refuses_at_2(0, M("{\"id\":\"U\",\"account\":{\"id\":\"a-1\",\"email\":7}}"),
	             "roster oncall[0] account \"email\" must be a string",
	             "an account email of the wrong type");
	refuses_at_2(0, M("{\"id\":\"U\",\"unmatched\":true}"),
	             "roster oncall[0] \"unmatched\" must be a string",
	             "an unmatched message that is not a string");
	refuses_at_2(0, M("{\"id\":\"U\",\"unmatched\":\"x\",\"reason\":1}"),
	             "roster oncall[0] \"reason\" must be a string", "a reason that is not a string");
	refuses_at_2(0, R(S ",\"group\":\"g\",\"oncall\":[]"),
	             "roster \"group\" must be an object ({\"name\":…,\"roles\":[…]})",
	             "a group spec that is not an object");
	refuses_at_2(0, R(S ",\"group\":{\"name\":\"\"},\"oncall\":[]"),
	             "roster group \"name\" must be a non-empty string", "a group spec with an empty name");
	refuses_at_2(0, R(S ",\"group\":{\"roles\":\"r\"},\"oncall\":[]"),
	             "roster group \"roles\" must be an array of role names or ids",
	             "group roles that are not an array");
	refuses_at_2(0, R(S ",\"group\":{\"roles\":[\"r\",3]},\"oncall\":[]"),
	             "roster group roles[1] must be a non-empty string", "a role that is not a string");
}

/* RECORD_MATCHED (reconcile-groups): each person passed match-users. */
static void
matched_rosters_should_say_who_matched(void)
{
	reads(RECORD_MATCHED, M("{\"id\":\"U1\",\"account\":{\"id\":\"a-1\",\"email\":\"a@x\"}},"
	                        "{\"id\":\"U2\",\"unmatched\":\"no StrongDM user\",\"reason\":\"no_user\"}"),
	      "matched: an account or an unmatched reason each");
	reads(RECORD_MATCHED, M("{\"account\":{\"id\":\"a-1\"}}"),
	      "matched: an entry need not carry the incident.io id any more");
	refuses_at_2(RECORD_MATCHED, M("{\"id\":\"U1\",\"email\":\"alice@example.com\"}"),
	             "roster oncall[0] has neither \"account\" nor \"unmatched\": "
	             "the roster did not pass through match-users",
	             "matched: a roster that did not pass through match-users");
	refuses_at_2(RECORD_MATCHED, M("{\"id\":\"U1\",\"account\":{\"id\":\"a-1\"},\"unmatched\":\"x\"}"),
	             "roster oncall[0] has both \"account\" and \"unmatched\"", "matched: both");
	refuses_at_2(RECORD_MATCHED, R("\"schedule\":{\"id\":\"S1\"},\"oncall\":[]"),
	             "roster schedule has no \"name\"", "matched: a schedule without name (the group's)");
	refuses_at_2(RECORD_MATCHED, R("\"schedule\":{\"id\":\"S1\",\"name\":null},\"oncall\":[]"),
	             "roster schedule \"name\" must be a string", "matched: a null schedule name");
	refuses_at_2(RECORD_MATCHED, M("{\"id\":5,\"account\":{\"id\":\"a-1\"}}"),
	             "roster oncall[0] \"id\" must be a string", "matched: an id of the wrong type");
	refuses_at_2(RECORD_MATCHED, M("{\"id\":\"U\",\"account\":{\"id\":\"\"}}"),
	             "roster oncall[0] account \"id\" is empty", "matched: an empty account id");
}

static void
error_and_change_rules_should_hold(void)
{
	reads(RECORD_MATCHED, "{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"id\":\"S3\","
	      "\"name\":\"C\"},\"code\":\"not_found\",\"message\":\"404\",\"group\":{\"name\":\"g\"}}\n",
	      "an error record");
	reads(0, "{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"name\":\"Nope\"},"
	      "\"message\":\"no schedule named Nope\"}\n", "an error record naming no schedule id");
	reads(0, "{\"type\":\"error\"}\n", "an error record says little");
	refuses_at_2(0, "{\"type\":\"error\",\"message\":3}\n", "error \"message\" must be a string",
	             "an error message of the wrong type");
	refuses_at_2(0, "{\"type\":\"error\",\"stage\":1}\n", "error \"stage\" must be a string",
	             "an error stage of the wrong type");
	refuses_at_2(0, "{\"type\":\"error\",\"code\":404}\n", "error \"code\" must be a string",
	             "an error code of the wrong type");
	refuses_at_2(0, "{\"type\":\"error\",\"schedule\":\"S\"}\n", "error \"schedule\" must be an object",
	             "an error schedule of the wrong type");
	refuses_at_2(0, "{\"type\":\"error\",\"schedule\":{\"id\":1}}\n",
	             "error schedule \"id\" must be a string", "an error schedule id of the wrong type");
	refuses_at_2(0, "{\"type\":\"error\",\"group\":{\"roles\":[\"\"]}}\n",
	             "error group roles[0] must be a non-empty string", "an error's group spec is checked");

	reads(0, "{\"type\":\"change\",\"action\":\"add\",\"status\":\"done\",\"schedule\":{\"id\":\"S\"},"
	      "\"group\":{\"id\":\"g\",\"name\":\"G\"},\"account\":{\"id\":\"a\"}}\n", "a change record");
	refuses_at_2(0, "{\"type\":\"change\",\"status\":\"done\"}\n", "change has no \"action\"",
	             "a change without action");
	refuses_at_2(0, "{\"type\":\"change\",\"action\":\"grant\",\"status\":\"done\"}\n",
	             "change \"action\" is not one the contract knows: \"grant\"", "an unknown action");
	refuses_at_2(0, "{\"type\":\"change\",\"action\":\"add\",\"status\":1}\n",
	             "change \"status\" must be a string", "a status of the wrong type");
	refuses_at_2(0, "{\"type\":\"change\",\"action\":\"add\",\"status\":\"done\",\"group\":[]}\n",
	             "change \"group\" must be an object", "a change group of the wrong type");
	refuses_at_2(0, "{\"type\":\"change\",\"action\":\"add\",\"status\":\"failed\",\"error\":{}}\n",
	             "change \"error\" must be a string", "a change error of the wrong type");
}

/* The records the stages build read back. */
static void
built_records_should_keep_the_contract(void)
{
	cJSON *e = record_error_new("match-users", record_schedule_new("S1", NULL), NULL, "StrongDM: down");
	char *s = cJSON_PrintUnformatted(e);
	struct buf b = { 0 };

	is_str(s, "{\"type\":\"error\",\"stage\":\"match-users\",\"schedule\":{\"id\":\"S1\"},"
	       "\"code\":\"failed\",\"message\":\"StrongDM: down\"}", "record_error_new: the design's fields");
	buf_printf(&b, "%s\n", s);
	reads(RECORD_MATCHED, b.data, "record_error_new: read back");
	buf_clear(&b);
	free(s);
	cJSON_Delete(e);
	e = record_error_new("fetch-oncall", NULL, "unauthenticated", "401");
	ok(!cJSON_GetObjectItem(e, "schedule"), "record_error_new: no schedule when none is given");
	cJSON_Delete(e);
}

/* The writer counts what it wrote; selection and interrupted in the end. */
static void
end_record_should_count_and_carry_its_fields(void)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp = open_memstream(&out, &outlen);
	struct record_writer w;
	cJSON *rec = cJSON_Parse("{\"type\":\"sample\"}");

	record_writer_init(&w, fp);
	record_write(&w, rec);
	record_write_text(&w, "{\"type\":\"sample\",  \"kept\":1.50}", 31);
	record_write_end(&w, "fetch-oncall", "all", 0);
	fclose(fp);
	is_str(out, "{\"type\":\"sample\"}\n{\"type\":\"sample\",  \"kept\":1.50}\n"
	       "{\"type\":\"end\",\"stage\":\"fetch-oncall\",\"records\":2,\"selection\":\"all\"}\n",
	       "end: counts records written as text too, with the selection");
	{
		FILE *in = fmemopen(out, outlen, "r");
		struct record_reader r;
		cJSON *v;
		record_reader_init(&r, in, "<stdin>", 0);
		while (record_read(&r, &v, NULL) == RECORD_READ)
			cJSON_Delete(v);
		is_str(r.end_selection, "all", "end: the reader gives the selection");
		record_reader_clear(&r);
		fclose(in);
	}
	free(out);
	out = NULL;
	fp = open_memstream(&out, &outlen);
	record_writer_init(&w, fp);
	record_write_end(&w, "reconcile-groups", NULL, 1);
	fclose(fp);
	is_str(out, "{\"type\":\"end\",\"stage\":\"reconcile-groups\",\"records\":0,\"interrupted\":true}\n",
	       "end: interrupted");
	free(out);
	REFUSES("{\"type\":\"end\",\"stage\":\"s\",\"records\":0,\"selection\":\"some\"}\n",
	        "in.ndjson:1: end record: \"selection\" must be \"all\" or \"explicit\"", "end: an unknown selection");
	cJSON_Delete(rec);
}

int
main(void)
{
	log_init("test_record");
	test_reader();
	test_writer();
	writer_output_with_bad_utf8_should_read_back();
	line_limit_should_not_count_the_newline();
	roster_rules_should_hold_in_every_stream();
	matched_rosters_should_say_who_matched();
	error_and_change_rules_should_hold();
	built_records_should_keep_the_contract();
	end_record_should_count_and_carry_its_fields();
	return tap_done();
}
