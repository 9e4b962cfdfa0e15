/* test_match_roster.c: match-users' annotation of a roster and the
 * --accounts file reader. (The roster's checks are lib/record.c's:
 * test_record.c.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
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

/* Pass 1 notes the keys, accounts are added, pass 2 annotates each entry
 * and warns for each person left unmatched. */
static void
test_annotate(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	const char *l1 = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\",\"name\":\"Sched\"},"
	                 "\"oncall\":[{\"id\":\"U1\",\"email\":\" A@x.com\",\"name\":\"A \\\"q\\\"\"},"
	                 "{\"id\":\"U2\",\"email\":\"nobody@x.com\"},{\"id\":\"U3\"},"
	                 "{\"id\":\"U4\",\"email\":\"s@x.com\",\"tags\":[{\"k\":\"}\"}]}]}";
	struct buf scratch = { 0 };
	cJSON *rec = cJSON_Parse(l1);
	char *out;

	roster_need(idx, rec, &scratch);
	is_int(match_key_count(idx), 3, "pass 1 notes each email once (U3 has none)");
	match_add_account(idx, "a-1", MATCH_USER, "a@X.com", 0);
	match_add_account(idx, "a-4", MATCH_USER, "s@x.com", 1);
	warnings = 0;
	ok(roster_annotate(idx, rec, &scratch, count_warning, NULL, NULL) == NULL, "annotate");
	out = cJSON_PrintUnformatted(rec);
	is_str(out, "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\",\"name\":\"Sched\"},\"oncall\":["
	       "{\"id\":\"U1\",\"email\":\" A@x.com\",\"name\":\"A \\\"q\\\"\","
	       "\"account\":{\"id\":\"a-1\",\"email\":\"a@X.com\"}},"
	       "{\"id\":\"U2\",\"email\":\"nobody@x.com\",\"unmatched\":\"no StrongDM user with email nobody@x.com\","
	       "\"reason\":\"no_user\"},"
	       "{\"id\":\"U3\",\"unmatched\":\"no email in incident.io\",\"reason\":\"no_email\"},"
	       "{\"id\":\"U4\",\"email\":\"s@x.com\",\"tags\":[{\"k\":\"}\"}],"
	       "\"unmatched\":\"StrongDM user a-4 (s@x.com) is suspended\",\"reason\":\"suspended\"}]}",
	       "each entry gets its account, or unmatched and reason; unknown fields kept");
	free(out);
	is_int(warnings, 3, "one warning per unmatched person");
	is_str(last_warning, "Sched: U4 (s@x.com, U4): StrongDM user a-4 (s@x.com) is suspended; "
	       "check whether the user should be reactivated in StrongDM", "the warning text");
	cJSON_Delete(rec);
	buf_clear(&scratch);
	match_index_free(idx);
}

static void
test_failures(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	const char *l = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U1\",\"email\":\"a@x\"}]}";
	cJSON *rec = cJSON_Parse(l), *err;
	struct buf scratch = { 0 };
	const char *msg, *code = NULL;
	char *s;

	roster_need(idx, rec, &scratch);
	match_fail_key(idx, 0, "unavailable", "UNAVAILABLE");
	msg = roster_annotate(idx, rec, &scratch, NULL, NULL, &code);
	is_str(msg, "UNAVAILABLE", "a failed look-up is reported");
	is_str(code, "unavailable", "with its code");
	err = roster_error(rec, code, msg);
	s = cJSON_PrintUnformatted(err);
	is_str(s, "{\"type\":\"error\",\"stage\":\"match-users\",\"schedule\":{\"id\":\"S\"},"
	       "\"code\":\"unavailable\",\"message\":\"StrongDM: UNAVAILABLE\"}",
	       "and the roster becomes an error record with the code");
	free(s);
	cJSON_Delete(err);
	cJSON_Delete(rec);
	buf_clear(&scratch);
	match_index_free(idx);

	idx = match_index_new(MATCH_BY_EMAIL);
	rec = cJSON_Parse("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U1\","
	                  "\"email\":\"a@x\",\"unmatched\":\"old\",\"reason\":\"no_user\"}]}");
	roster_need(idx, rec, &scratch);
	match_add_account(idx, "a-1", MATCH_USER, "a@x", 0);
	ok(roster_annotate(idx, rec, &scratch, NULL, NULL, NULL) == NULL, "an annotated roster again");
	s = cJSON_PrintUnformatted(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "oncall"), 0));
	is_str(s, "{\"id\":\"U1\",\"email\":\"a@x\",\"account\":{\"id\":\"a-1\",\"email\":\"a@x\"}}",
	       "its old verdict is replaced");
	free(s);
	cJSON_Delete(rec);
	buf_clear(&scratch);
	match_index_free(idx);
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
	test_annotate();
	test_failures();
	test_accounts_file();
	return tap_done();
}
