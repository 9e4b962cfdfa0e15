/* test_match_roster.c: match-users' roster checks, the splicing fast path
 * (compared with the cJSON path), and the --accounts file reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
#include "ndjson.h"
#include "../../match-users/accounts.h"
#include "../../match-users/match.h"
#include "../../match-users/roster.h"

static int warnings;
static char last_warning[1024];

static void
count_warning(void *user, const char *w)
{
	(void)user;
	warnings++;
	snprintf(last_warning, sizeof last_warning, "%s", w);
}

static void
test_scan(void)
{
	size_t st[8], en[8];
	const char *s;

	s = "{\"type\":\"roster\",\"oncall\":[{\"id\":\"a\"},{\"id\":\"b\"}]}";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 8), 2, "scan should find two entries");
	ok(s[st[0]] == '{' && s[en[0]] == '}' && s[st[1]] == '{' && s[en[1]] == '}',
	   "scan offsets should point at the braces");
	is_int((long)en[1], (long)strlen(s) - 3, "the second entry ends before ]}");

	s = "{\"schedule\":{\"oncall\":[1,2]},\"x\":\"\\\"oncall\\\":[{\",\"oncall\":[]}";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 8), 0,
	       "scan should ignore a nested \"oncall\" and one inside a string");

	s = "{ \"oncall\" : [ {\"id\":\"a\",\"x\":[{\"y\":\"]}\"}]} , {\"id\":\"b\"} ] , \"z\":1 }";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 8), 2,
	       "scan should follow nesting, strings with brackets, and white space");
	ok(s[en[0] + 1] == ' ' && s[en[0]] == '}', "the first entry ends at its own brace");

	s = "{\"onc\\u0061ll\":[{\"id\":\"a\"}]}";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 8), -1,
	       "scan should give up on a top-level key with an escape");
	s = "{\"oncall\":[{\"id\":\"a\"},{\"id\":\"b\"}]}";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 1), -1, "scan should refuse more than max");
	s = "{\"oncall\":[7]}";
	is_int(roster_scan_oncall(s, strlen(s), st, en, 8), -1, "scan should refuse a scalar element");
}

/* Runs one roster line through both paths and compares. */
static void
compare_paths(struct match_index *idx, const char *line, const char *desc)
{
	cJSON *rec = cJSON_Parse(line);
	struct buf scratch = { 0 }, keys = { 0 };
	struct roster_verdicts v;
	char *slow, *fast = NULL;
	size_t fastlen = 0;
	FILE *mem;
	int rc, w1, w2;

	roster_need(idx, rec, &scratch, &keys);
	roster_verdicts_init(&v, idx);
	mem = open_memstream(&fast, &fastlen);
	warnings = 0;
	rc = roster_write_fast(mem, line, strlen(line), (const int32_t *)keys.data,
	                       keys.len / sizeof(int32_t), "Sched", &v, count_warning, NULL);
	fclose(mem);
	w1 = warnings;
	warnings = 0;
	ok(roster_annotate(idx, rec, &scratch, count_warning, NULL, NULL) == NULL, "%s: annotate", desc);
	w2 = warnings;
	slow = cJSON_PrintUnformatted(rec);
	is_int(rc, 0, "%s: the fast path applies", desc);
	if (fastlen && fast[fastlen - 1] == '\n')
		fast[fastlen - 1] = '\0';
	is_str(fast, slow, "%s: both paths write the same", desc);
	is_int(w1, w2, "%s: and warn the same", desc);
	free(slow);
	free(fast);
	cJSON_Delete(rec);
	roster_verdicts_free(&v);
	buf_clear(&scratch);
	buf_clear(&keys);
}

static void
test_fast_equals_slow(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	const char *l1 = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\",\"name\":\"Sched\"},"
	                 "\"oncall\":[{\"id\":\"U1\",\"email\":\" A@x.com\",\"name\":\"A \\\"q\\\"\"},"
	                 "{\"id\":\"U2\",\"email\":\"nobody@x.com\"},{\"id\":\"U3\"},"
	                 "{\"id\":\"U4\",\"email\":\"s@x.com\",\"tags\":[{\"k\":\"}\"}]}]}";
	const char *l2 = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]}";
	struct buf scratch = { 0 }, keys = { 0 };
	cJSON *rec = cJSON_Parse(l1);

	/* Note the keys first, then add accounts, as a run does. */
	roster_need(idx, rec, &scratch, &keys);
	cJSON_Delete(rec);
	buf_clear(&scratch);
	buf_clear(&keys);
	match_add_account(idx, "a-1", MATCH_USER, "a@X.com", 0);
	match_add_account(idx, "a-4", MATCH_USER, "s@x.com", 1);
	compare_paths(idx, l1, "mixed roster");
	is_str(last_warning, "Sched: U4 (s@x.com, U4): StrongDM user a-4 (s@x.com) is suspended; "
	       "check whether the user should be reactivated in StrongDM", "the warning text");
	compare_paths(idx, l2, "empty roster");
	match_index_free(idx);
}

static void
test_fast_declines_failures(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	const char *l = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U1\",\"email\":\"a@x\"}]}";
	cJSON *rec = cJSON_Parse(l), *err;
	struct buf scratch = { 0 }, keys = { 0 };
	struct roster_verdicts v;
	FILE *null = fopen("/dev/null", "w");
	const char *msg, *code = NULL;

	ok(roster_need(idx, rec, &scratch, &keys) == 1, "a fresh roster may take the fast path");
	match_fail_key(idx, 0, "unavailable", "UNAVAILABLE");
	roster_verdicts_init(&v, idx);
	is_int(roster_write_fast(null, l, strlen(l), (const int32_t *)keys.data, 1, "S", &v, NULL, NULL),
	       1, "a failed look-up sends the roster to the slow path");
	msg = roster_annotate(idx, rec, &scratch, NULL, NULL, &code);
	is_str(msg, "UNAVAILABLE", "which reports the failure");
	is_str(code, "unavailable", "and its code");
	err = roster_error(rec, code, msg);
	char *s = cJSON_PrintUnformatted(err);
	is_str(s, "{\"type\":\"error\",\"stage\":\"match-users\",\"schedule\":{\"id\":\"S\"},"
	       "\"code\":\"unavailable\",\"message\":\"StrongDM: UNAVAILABLE\"}",
	       "and becomes an error record with the code");
	free(s);
	cJSON_Delete(err);
	cJSON_Delete(rec);
	rec = cJSON_Parse("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U1\",\"unmatched\":\"old\"}]}");
	keys.len = 0;
	ok(roster_need(idx, rec, &scratch, &keys) == 0, "an annotated roster takes the slow path");
	cJSON_Delete(rec);
	roster_verdicts_free(&v);
	buf_clear(&scratch);
	buf_clear(&keys);
	fclose(null);
	match_index_free(idx);
}

static int
check_line(const char *line)
{
	FILE *fp = fmemopen((void *)line, strlen(line), "r");
	struct ndjson_reader r;
	cJSON *rec = NULL;
	int rc = -2;

	ndjson_reader_init(&r, fp, "<test>");
	if (ndjson_read(&r, &rec) == NDJSON_RECORD)
		rc = roster_check(&r, rec);
	cJSON_Delete(rec);
	ndjson_reader_free(&r);
	fclose(fp);
	return rc;
}

static void
test_check(void)
{
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]}\n"), 0,
	       "check: a minimal roster is fine");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"email\":null}]}\n"),
	       0, "check: a null email is no email");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":\"S\",\"oncall\":[]}\n"), -1,
	       "check: schedule must be an object");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"name\":\"S\"},\"oncall\":[]}\n"), -1,
	       "check: schedule needs an id");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":{}}\n"), -1,
	       "check: oncall must be an array");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[\"U\"]}\n"), -1,
	       "check: entries must be objects");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"\"}]}\n"), -1,
	       "check: an empty id is refused");
	is_int(check_line("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":1}]}\n"), -1,
	       "check: a name must be a string");
}

static FILE *
file_of(const char *text)
{
	FILE *fp = tmpfile();

	fputs(text, fp);
	rewind(fp);
	return fp;
}

static void
test_accounts_file(void)
{
	const char *text =
		"{\"type\":\"user\",\"id\":\"a-1\",\"email\":\"Alice@x.com\",\"first_name\":\"A\"}\n"
		"{\"type\":\"user\",\"id\":\"a-2\",\"email\":\"bob@x.com\",\"suspended\":true}\n"
		"{\"type\":\"service\",\"id\":\"a-3\",\"name\":\"bot\"}\n"
		"{\"type\":\"identity_set\",\"id\":\"ig-1\",\"name\":\"incidentio\"}\n"
		"{\"type\":\"alias\",\"identity_set\":\"ig-1\",\"username\":\"U1\",\"account_id\":\"a-1\"}\n"
		"{\"type\":\"alias\",\"identity_set\":\"incidentio\",\"username\":\"U3\",\"account_id\":\"a-3\"}\n"
		"{\"type\":\"alias\",\"identity_set\":\"other\",\"username\":\"U2\",\"account_id\":\"a-2\"}\n";
	struct accounts_opts o = { "incidentio", 100 };
	struct match_index *idx;
	FILE *fp;
	int pipefd[2];

	idx = match_index_new(MATCH_BY_EMAIL);
	match_need(idx, "alice@x.com");
	match_need(idx, "bob@x.com");
	fp = file_of(text);
	is_int(accounts_read_file(idx, fp, "acc", &o), 0, "file, email mode: read");
	is_int(match_person(idx, "alice@x.com").status, MATCH_OK, "file, email mode: alice matches");
	is_int(match_person(idx, "bob@x.com").status, MATCH_SUSPENDED, "file, email mode: bob suspended");
	fclose(fp);
	match_index_free(idx);

	idx = match_index_new(MATCH_BY_ALIAS);
	match_need(idx, "U1");
	match_need(idx, "U2");
	match_need(idx, "U3");
	fp = file_of(text);
	is_int(accounts_read_file(idx, fp, "acc", &o), 0, "file, alias mode: read");
	is_int(match_person(idx, "U1").status, MATCH_OK, "file, alias mode: set named by id matches");
	is_int(match_person(idx, "U2").status, MATCH_NO_ALIAS, "file, alias mode: other set's alias ignored");
	is_int(match_person(idx, "U3").status, MATCH_ALIAS_NOT_USER, "file, alias mode: alias of a service");
	fclose(fp);
	match_index_free(idx);

	/* A pipe cannot be read twice: copied aside for the second pass. */
	idx = match_index_new(MATCH_BY_ALIAS);
	match_need(idx, "U1");
	if (pipe(pipefd) == 0) {
		ssize_t wr = write(pipefd[1], text, strlen(text));
		close(pipefd[1]);
		fp = fdopen(pipefd[0], "r");
		is_int(accounts_read_file(idx, fp, "pipe", &o), 0, "file from a pipe, alias mode: read");
		is_int(match_person(idx, "U1").status, MATCH_OK, "file from a pipe: alias matched");
		ok(wr > 0, "pipe written");
		fclose(fp);
	}
	match_index_free(idx);

	idx = match_index_new(MATCH_BY_ALIAS);
	fp = file_of(text);
	o.identity_set = "nope";
	is_int(accounts_read_file(idx, fp, "acc", &o), EXIT_USAGE, "file: unknown set is a usage error");
	fclose(fp);
	match_index_free(idx);

	idx = match_index_new(MATCH_BY_EMAIL);
	fp = file_of("{\"type\":\"user\",\"id\":\"a-1\"}\n{\"type\":\"group\",\"id\":\"g\"}\n");
	is_int(accounts_read_file(idx, fp, "acc", &o), EXIT_FAILED, "file: an unknown type is refused");
	fclose(fp);
	fp = file_of("{\"type\":\"user\",\"id\":\"a-1\",\"suspended\":\"yes\"}\n");
	is_int(accounts_read_file(idx, fp, "acc", &o), EXIT_FAILED, "file: suspended must be a boolean");
	fclose(fp);
	match_index_free(idx);
}

int
main(void)
{
	log_init("test_match_roster");
	test_scan();
	test_fast_equals_slow();
	test_fast_declines_failures();
	test_check();
	test_accounts_file();
	return tap_done();
}
