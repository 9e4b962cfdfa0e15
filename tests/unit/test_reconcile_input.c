/* test_reconcile_input.c: reconcile-groups reads and checks its whole input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "../../reconcile-groups/input.h"

#define ROSTER_A "{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":[" \
	"{\"id\":\"U1\",\"email\":\"alice@example.com\",\"account\":{\"id\":\"a-1\",\"email\":\"alice@example.com\"}}," \
	"{\"id\":\"U2\",\"email\":\"zed@example.com\",\"unmatched\":\"no StrongDM user with this email\"}]}\n"
#define ROSTER_B "{\"type\":\"roster\",\"schedule\":{\"id\":\"S2\",\"name\":\"B\"},\"oncall\":[]}\n"
#define ERROR_C "{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"id\":\"S3\",\"name\":\"C\"},\"message\":\"404\"}\n"
#define OTHER "{\"type\":\"note\",\"x\":1}\n"
#define END(n) "{\"type\":\"end\",\"stage\":\"match-users\",\"records\":" #n "}\n"

/* Run input_read over text; returns its status, stderr captured in errbuf. */
static int
read_text(const char *text, struct input *in, char *errbuf, size_t errlen)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	FILE *saved = stderr;
	FILE *err = fmemopen(errbuf, errlen, "w");
	int rc;

	memset(errbuf, 0, errlen);
	stderr = err;
	rc = input_read(in, fp, "<stdin>", 0);
	stderr = saved;
	fclose(err);
	fclose(fp);
	return rc;
}

static void
refuses(const char *text, const char *want_msg, const char *desc)
{
	struct input in;
	char err[1024];
	int rc = read_text(text, &in, err, sizeof err);

	ok(rc == -1 && strstr(err, want_msg), "%s", desc);
	if (!strstr(err, want_msg))
		printf("#   stderr: %s#   want:   %s\n", err, want_msg);
	ok(in.n_schedules == 0 && in.n_passed == 0, "  and keeps nothing");
}

static void
complete_stream_is_read(void)
{
	struct input in;
	char err[512];
	int rc = read_text(ROSTER_A OTHER ROSTER_B ERROR_C END(4), &in, err, sizeof err);

	is_int(rc, 0, "a complete matched stream is accepted");
	is_int(in.n_schedules, 3, "three schedules (two rosters, one error)");
	is_str(in.schedules[0].id, "S1", "first schedule id");
	is_int(in.schedules[0].n_oncall, 1, "only the matched person counts");
	is_str(in.schedules[0].oncall[0].id, "a-1", "by StrongDM account id");
	is_str(in.schedules[0].oncall[0].email, "alice@example.com", "with its email");
	is_int(in.schedules[1].n_oncall, 0, "nobody on call is a real answer");
	is_int(in.schedules[2].upstream_error, 1, "an error record keeps its schedule");
	is_int(in.n_passed, 2, "the other record and the error record are passed on");
	is_str(cJSON_GetObjectItem(in.passed[0], "type")->valuestring, "note", "in input order");
	is_int(in.error_records, 1, "one error record");
	input_clear(&in);
}

static void
accounts_are_kept_once_by_id(void)
{
	struct input in;
	char err[512];
	const struct plan_account *a;
	int rc = read_text("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":["
	                   "{\"account\":{\"id\":\"a-1\",\"email\":\"alice@example.com\"}},"
	                   "{\"account\":{\"id\":\"a-6\"}}]}\n"
	                   "{\"type\":\"roster\",\"schedule\":{\"id\":\"S2\",\"name\":\"B\"},\"oncall\":["
	                   "{\"account\":{\"id\":\"a-1\",\"email\":\"alice@example.com\"}}]}\n" END(2),
	                   &in, err, sizeof err);

	is_int(rc, 0, "two rosters naming one account twice");
	ok(in.schedules[0].oncall[0].id == in.schedules[1].oncall[0].id &&
	   in.schedules[0].oncall[0].email == in.schedules[1].oncall[0].email,
	   "the account's id and email are stored once");
	a = input_account(&in, "a-1");
	is_str(a ? a->email : NULL, "alice@example.com", "found by id, with its email");
	a = input_account(&in, "a-6");
	ok(a && !a->email, "an account without email is found, without one");
	ok(!input_account(&in, "a-7"), "an account the input does not name is not");
	input_clear(&in);
}

static void
an_email_given_later_is_kept(void)
{
	struct input in;
	char err[512];
	const struct plan_account *a;
	char text[64 * 1024];
	size_t n = 0;
	int rc;

	/* enough accounts that the map grows several times */
	n += (size_t)snprintf(text + n, sizeof text - n,
	                      "{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":["
	                      "{\"account\":{\"id\":\"a-1\"}}");
	for (int i = 2; i <= 300; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      ",{\"account\":{\"id\":\"a-%d\",\"email\":\"u%d@example.com\"}}", i, i);
	snprintf(text + n, sizeof text - n, "]}\n"
	         "{\"type\":\"roster\",\"schedule\":{\"id\":\"S2\",\"name\":\"B\"},\"oncall\":["
	         "{\"account\":{\"id\":\"a-1\",\"email\":\"alice@example.com\"}},"
	         "{\"account\":{\"id\":\"a-2\",\"email\":\"other@example.com\"}}]}\n" END(2));
	rc = read_text(text, &in, err, sizeof err);
	is_int(rc, 0, "300 accounts, two named again");
	a = input_account(&in, "a-1");
	is_str(a ? a->email : NULL, "alice@example.com", "an account first named without email gets the later one");
	a = input_account(&in, "a-300");
	is_str(a ? a->email : NULL, "u300@example.com", "the last of 300 is found");
	is_str(in.schedules[1].oncall[1].email, "other@example.com",
	       "an account named again with another email: that entry keeps what it says");
	a = input_account(&in, "a-2");
	is_str(a ? a->email : NULL, "u2@example.com", "  and the account keeps its first email");
	input_clear(&in);
}

static void
error_without_schedule_id(void)
{
	struct input in;
	char err[512];
	int rc = read_text("{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"name\":\"Nope\"},"
	                   "\"message\":\"no schedule named Nope\"}\n" END(1), &in, err, sizeof err);

	is_int(rc, 0, "an error record without schedule id is accepted");
	is_int(in.errors_without_id, 1, "and counted (it blocks --prune)");
	is_int(in.n_schedules, 0, "it names no schedule");
	input_clear(&in);
}

int
main(void)
{
	complete_stream_is_read();
	error_without_schedule_id();
	refuses(ROSTER_A ROSTER_B, "<stdin>:2: input ended without an end record", "a cut stream is refused");
	refuses(ROSTER_A ROSTER_B END(3), "<stdin>:3:", "an end whose count disagrees is refused");
	refuses(ROSTER_A "{\"type\":\"roster\",\n" END(2), "<stdin>:2:", "a line that is not JSON is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"id\":\"U1\",\"email\":\"alice@example.com\"}]}\n" END(1),
	        "<stdin>:1: roster oncall[0] has neither \"account\" nor \"unmatched\"",
	        "a roster that did not pass through match-users is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":1,\"name\":\"A\"},\"oncall\":[]}\n" END(1),
	        "<stdin>:1: roster schedule \"id\" must be a string", "a schedule id that is not a string is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\"},\"oncall\":[]}\n" END(1),
	        "<stdin>:1: roster schedule has no \"name\"", "a schedule without name is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"}}\n" END(1),
	        "<stdin>:1: roster has no \"oncall\"", "a roster without oncall is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":{}}\n" END(1),
	        "roster \"oncall\" must be an array", "an oncall that is not an array is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"account\":{\"id\":\"a-1\",\"email\":7}}]}\n" END(1),
	        "roster oncall[0] account \"email\" must be a string", "an account email of the wrong type is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"account\":\"a-1\"}]}\n" END(1),
	        "roster oncall[0] \"account\" must be an object", "an account that is not an object is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"unmatched\":true}]}\n" END(1),
	        "\"unmatched\" must be a string", "an unmatched reason that is not a string is refused");
	refuses(ROSTER_A ROSTER_A END(2), "<stdin>:2: schedule S1 appears again (first on line 1)",
	        "a schedule twice is refused");
	refuses(ROSTER_A "{\"type\":\"error\",\"stage\":\"match-users\",\"schedule\":{\"id\":\"S1\"},\"message\":\"x\"}\n" END(2),
	        "schedule S1 appears again", "a schedule both in a roster and an error record is refused");
	refuses("{\"type\":\"error\",\"message\":3}\n" END(1), "\"message\" must be a string",
	        "an error record with a message of the wrong type is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"at\":5,\"oncall\":[]}\n" END(1),
	        "roster \"at\" must be a string", "an \"at\" of the wrong type is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"window\":\"now\",\"oncall\":[]}\n" END(1),
	        "roster \"window\" must be an object", "a window of the wrong type is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"id\":5,\"account\":{\"id\":\"a-1\"}}]}\n" END(1),
	        "roster oncall[0] \"id\" must be a string", "an incident.io user id of the wrong type is refused");
	refuses("{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"A\"},\"oncall\":"
	        "[{\"until\":5,\"account\":{\"id\":\"a-1\"}}]}\n" END(1),
	        "roster oncall[0] \"until\" must be a string", "an until of the wrong type is refused");
	refuses("{\"type\":\"error\",\"stage\":1}\n" END(1), "\"stage\" must be a string",
	        "an error record with a stage of the wrong type is refused");
	refuses(END(0), "<stdin>:1: the stream holds no roster and no error record",
	        "a stream naming no schedule is refused (--prune would empty StrongDM)");
	refuses(OTHER END(1), "no roster and no error record", "so is one with only other records");
	accounts_are_kept_once_by_id();
	an_email_given_later_is_kept();
	return tap_done();
}
