/* Unit tests of fetch-oncall's incident.io response parsing and selection. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../fetch-oncall/incidentio.h"
#include "../../fetch-oncall/select.h"
#include "timeutil.h"
#include "util.h"

#define PARSE_LIST(js, page) iio_parse_schedule_list(js, strlen(js), page, err, sizeof err)
#define PARSE_ENTRIES(js, page) iio_parse_entries(js, strlen(js), page, err, sizeof err)

static char err[300];

static const char *SCHED_A =
	"{\"id\":\"01G0J1EXE7AXZ2C93K61WBPYEH\",\"name\":\"TestSchedule\",\"timezone\":\"Europe/London\","
	"\"team_ids\":[],\"permalink\":\"https://app.incident.io/x\",\"created_at\":\"2026-01-05T10:00:00Z\","
	"\"updated_at\":\"2026-11-01T10:00:00Z\",\"annotations\":{},\"future_field\":{\"x\":1},"
	"\"current_shifts\":[{\"start_at\":\"2026-11-29T01:00:00Z\",\"end_at\":\"2026-11-29T09:00:00.801578+00:00\","
	"\"entry_id\":\"E1\",\"fingerprint\":\"F1\",\"layer_id\":\"L1\",\"rotation_id\":\"R1\","
	"\"user\":{\"id\":\"U1\",\"name\":\"Alice\",\"email\":\"alice@example.com\",\"role\":\"responder\"}},"
	"{\"start_at\":\"2026-11-29T01:00:00Z\",\"end_at\":\"2026-11-29T09:00:00Z\","
	"\"user\":{\"id\":\"U5\",\"name\":\"Frank\",\"role\":\"viewer\"}}]}";

static void schedule_list_should_parse_schedules_shifts_and_cursor(void)
{
	struct iio_schedule_page p;
	char *js = easprintf("{\"schedules\":[%s,{\"id\":\"S2\",\"name\":\"Platform\",\"timezone\":\"UTC\"}],"
	                     "\"pagination_meta\":{\"after\":\"S2\",\"page_size\":250,\"total_record_count\":900}}",
	                     SCHED_A);

	is_int(PARSE_LIST(js, &p), 0, "a documented page parses");
	is_int(p.n, 2, "two schedules");
	is_str(p.items[0].name, "TestSchedule", "name");
	is_str(p.items[0].timezone, "Europe/London", "timezone");
	ok(p.items[0].has_current, "current_shifts present");
	is_int(p.items[0].ncurrent, 2, "two current shifts");
	is_str(p.items[0].current[0].user_email, "alice@example.com", "email");
	ok(p.items[0].current[1].user_email == NULL, "a user without email");
	{
		int64_t ms;
		rfc3339_parse("2026-11-29T09:00:00.801Z", &ms);
		is_int(p.items[0].current[0].end_ms, ms, "fractional seconds and offsets accepted");
	}
	ok(!p.items[1].has_current, "a schedule without current_shifts says so");
	is_str(p.after, "S2", "the cursor");
	is_int(p.total, 900, "the total announced");
	iio_schedule_page_clear(&p);
	free(js);

	is_int(PARSE_LIST("{\"schedules\":[],\"pagination_meta\":{\"page_size\":250}}", &p), 0, "an empty last page");
	ok(p.after == NULL && p.n == 0, "no cursor, no schedules");
	is_int(p.total, -1, "no total announced");
	iio_schedule_page_clear(&p);
	is_int(PARSE_LIST("{\"schedules\":[],\"pagination_meta\":{\"after\":\"\",\"page_size\":250}}", &p), 0,
	       "an empty cursor");
	ok(p.after == NULL, "an empty cursor means the last page");
	iio_schedule_page_clear(&p);
}

static void schedule_list_should_refuse_what_is_not_the_documented_shape(void)
{
	static const struct { const char *js, *why; } bad[] = {
		{ "", "an empty body" },
		{ "not json", "not JSON" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\"}", "a truncated document" },
		{ "[]", "an array" },
		{ "{}", "no schedules" },
		{ "{\"schedules\":{}}", "schedules not an array" },
		{ "{\"schedules\":[{\"name\":\"A\",\"timezone\":\"UTC\"}]}", "a schedule without id" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":7,\"timezone\":\"UTC\"}]}", "a number for a name" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\"}]}", "no timezone" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\",\"current_shifts\":{}}]}", "current_shifts not an array" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\",\"current_shifts\":[{\"start_at\":\"yesterday\",\"end_at\":\"2026-11-29T09:00:00Z\"}]}]}", "a start that is not RFC 3339" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\",\"current_shifts\":[{\"start_at\":\"2026-11-29T09:00:00Z\"}]}]}", "a shift without end" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\",\"current_shifts\":[{\"start_at\":\"2026-11-29T09:00:00Z\",\"end_at\":\"2026-11-29T08:00:00Z\"}]}]}", "a shift ending before it starts" },
		{ "{\"schedules\":[{\"id\":\"S1\",\"name\":\"A\",\"timezone\":\"UTC\",\"current_shifts\":[{\"start_at\":\"2026-11-29T07:00:00Z\",\"end_at\":\"2026-11-29T08:00:00Z\",\"user\":{\"name\":\"X\"}}]}]}", "a user without id" },
		{ "{\"schedules\":[],\"pagination_meta\":{\"after\":5}}", "a cursor that is not a string" },
		{ "{\"schedules\":[],\"pagination_meta\":{\"total_record_count\":\"9\"}}", "a total that is not a number" },
	};
	struct iio_schedule_page p;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		is_int(PARSE_LIST(bad[i].js, &p), -1, "refused: %s (%s)", bad[i].why, err);
		ok(p.n == 0 && p.items == NULL && p.after == NULL, "and nothing kept");
	}
}

static void show_should_parse_one_schedule(void)
{
	struct iio_schedule s;
	char *js = easprintf("{\"schedule\":%s}", SCHED_A);

	is_int(iio_parse_schedule_show(js, strlen(js), &s, err, sizeof err), 0, "show parses");
	is_str(s.id, "01G0J1EXE7AXZ2C93K61WBPYEH", "its id");
	iio_schedule_clear(&s);
	free(js);
	is_int(iio_parse_schedule_show("{\"schedules\":[]}", 16, &s, err, sizeof err), -1,
	       "a list where one schedule was expected is refused");
}

static void entries_should_keep_final_and_cursor(void)
{
	static const char *js =
		"{\"schedule_entries\":{"
		"\"scheduled\":[{\"start_at\":\"2026-11-29T01:00:00Z\",\"end_at\":\"2026-11-29T09:00:00Z\",\"user\":{\"id\":\"U1\",\"name\":\"Alice\",\"role\":\"x\"}}],"
		"\"overrides\":[{\"start_at\":\"2026-11-29T06:00:00Z\",\"end_at\":\"2026-11-29T10:00:00Z\",\"user\":{\"id\":\"U3\",\"name\":\"Carlos\",\"role\":\"x\"}}],"
		"\"final\":[{\"start_at\":\"2026-11-29T01:00:00Z\",\"end_at\":\"2026-11-29T06:00:00Z\",\"user\":{\"id\":\"U1\",\"name\":\"Alice\",\"role\":\"x\"}},"
		"{\"start_at\":\"2026-11-29T06:00:00Z\",\"end_at\":\"2026-11-29T10:00:00Z\",\"user\":{\"id\":\"U3\",\"name\":\"Carlos\",\"role\":\"x\",\"email\":\"\"}},"
		"{\"start_at\":\"2026-11-29T10:00:00Z\",\"end_at\":\"2026-11-29T12:00:00Z\"}]},"
		"\"pagination_meta\":{\"after\":\"cursor-2\",\"after_url\":\"/v2/schedule_entries?x\"}}";
	struct iio_entries_page p;

	is_int(PARSE_ENTRIES(js, &p), 0, "entries parse");
	is_int(p.n, 3, "only final entries kept");
	is_str(p.shifts[1].user_id, "U3", "the override in final");
	ok(p.shifts[1].user_email == NULL, "an empty email is no email");
	ok(p.shifts[2].user_id == NULL, "an entry without user");
	is_str(p.after, "cursor-2", "cursor");
	iio_entries_page_clear(&p);

	is_int(PARSE_ENTRIES("{\"schedule_entries\":{\"scheduled\":[],\"overrides\":[],\"final\":[]}}", &p), 0,
	       "no pagination_meta: the last page");
	ok(p.after == NULL && p.n == 0, "empty");
	iio_entries_page_clear(&p);
	is_int(PARSE_ENTRIES("{\"schedule_entries\":{\"scheduled\":[],\"overrides\":[]}}", &p), -1,
	       "no final: refused (%s)", err);
	is_int(PARSE_ENTRIES("{\"schedule_entries\":{\"final\":[],\"overrides\":[]}}", &p), -1,
	       "no scheduled: refused (%s)", err);
	is_int(PARSE_ENTRIES("{\"schedule_entries\":[]}", &p), -1, "schedule_entries not an object: refused");
	is_int(PARSE_ENTRIES("{\"schedule_entries\":{\"scheduled\":[],\"overrides\":[],\"final\":[]},"
	                     "\"pagination_meta\":{\"after_url\":\"x\"}}", &p), -1,
	       "pagination_meta without after: refused (%s)", err);
	is_int(PARSE_ENTRIES("{\"schedule_entries\":{\"scheduled\":[1],\"overrides\":[],\"final\":[]}}", &p), -1,
	       "a scheduled entry that is not an object: refused");
}

static void errors_should_carry_incidentio_type_and_message(void)
{
	char msg[400], type[64];
	const char *b404 = "{\"type\":\"not_found\",\"status\":404,\"request_id\":\"r1\","
	                   "\"errors\":[{\"code\":\"not_found\",\"message\":\"Resource not found\"}]}";

	iio_describe_error(404, b404, strlen(b404), msg, sizeof msg, type, sizeof type);
	is_str(msg, "incident.io answered 404 not_found: Resource not found", "as DESIGN.md's example");
	is_str(type, "not_found", "the type");
	iio_describe_error(502, "<html>bad gateway</html>", 24, msg, sizeof msg, type, sizeof type);
	is_str(msg, "incident.io answered HTTP 502", "a body that is not incident.io's: the status");
	is_str(type, "", "no type");
	{
		const char *b = "{\"type\":\"x\\ny\",\"errors\":[{\"message\":\"a\\u0007b\"}]}";
		iio_describe_error(500, b, strlen(b), msg, sizeof msg, NULL, 0);
	}
	is_str(msg, "incident.io answered 500 x?y: a?b", "control characters do not reach the terminal");
}

/* The message is cut at 300 bytes: never inside a character, or the error
 * record would not be UTF-8. */
static void long_error_messages_should_be_cut_between_characters(void)
{
	struct buf b = { 0 };
	char msg[600];
	size_t i;

	buf_puts(&b, "{\"type\":\"validation_error\",\"errors\":[{\"message\":\"");
	for (i = 0; i < 299; i++)
		buf_puts(&b, "a");
	buf_puts(&b, "\xc3\xa9\xc3\xa9 and more\"}]}");
	iio_describe_error(422, b.data, b.len, msg, sizeof msg, NULL, 0);
	is_int(utf8_check(msg, strlen(msg), NULL), strlen(msg), "a cut message is still UTF-8");
	ok(strstr(msg, "aaa...") != NULL, "cut before the character, and marked: %.40s", msg + strlen(msg) - 40);
	buf_clear(&b);
}

/* JSON is UTF-8; cJSON does not check. A name that is not would make a
 * record the next stage refuses (and with it every other schedule): its bad
 * bytes become '?'. A count beyond what a double holds exactly is not a
 * count (and its conversion would be undefined). */
static void responses_should_give_utf8_and_sane_counts(void)
{
	struct iio_schedule_page page;
	struct iio_schedule sched;
	const char *bad_name = "{\"schedules\":[{\"id\":\"01G0J1EXE7AXZ2C93K61WBPYEH\","
	                       "\"name\":\"Caf\xe9\",\"timezone\":\"UTC\"},"
	                       "{\"id\":\"S2\",\"name\":\"Good\",\"timezone\":\"UTC\"}]}";
	const char *bad_show = "{\"schedule\":{\"id\":\"S\",\"name\":\"Bo\xc3\",\"timezone\":\"UTC\"}}";
	const char *huge = "{\"schedules\":[],\"pagination_meta\":{\"total_record_count\":1e300}}";

	if (is_int(iio_parse_schedule_list(bad_name, strlen(bad_name), &page, err, sizeof err), 0,
	           "a Latin-1 schedule name does not fail the page")) {
		is_str(page.items[0].name, "Caf?", "its bad byte becomes '?'");
		is_str(page.items[1].name, "Good", "the other schedule is untouched");
		iio_schedule_page_clear(&page);
	}
	if (is_int(iio_parse_schedule_show(bad_show, strlen(bad_show), &sched, err, sizeof err), 0,
	           "show: a name cut inside a character")) {
		is_str(sched.name, "Bo?", "show: the cut byte becomes '?'");
		iio_schedule_clear(&sched);
	}
	is_int(iio_parse_schedule_list(huge, strlen(huge), &page, err, sizeof err), -1,
	       "total_record_count 1e300 is not a count");
	{
		char msg[600];
		const char *b = "{\"type\":\"not_found\",\"errors\":[{\"message\":\"gone \xff\xfe\"}]}";

		iio_describe_error(404, b, strlen(b), msg, sizeof msg, NULL, 0);
		is_str(msg, "incident.io answered 404 not_found: gone ??", "an error body that is not UTF-8: '?'");
	}
}

static void urls_and_ids(void)
{
	char *e = iio_url_escape("2026-11-29T07:00:00+02:00 a/b&c");

	is_str(e, "2026-11-29T07%3A00%3A00%2B02%3A00%20a%2Fb%26c", "query values are percent-encoded");
	free(e);
	ok(iio_looks_like_id("01G0J1EXE7AXZ2C93K61WBPYEH"), "a ULID looks like an id");
	ok(!iio_looks_like_id("TestSchedule"), "a name does not");
	ok(!iio_looks_like_id("01G0J1EXE7AXZ2C93K61WBPYE"), "25 characters do not");
	ok(!iio_looks_like_id("01g0j1exe7axz2c93k61wbpyeh"), "lower case does not");
}

static void selection_should_prefer_ids_then_exact_names(void)
{
	struct iio_schedule all[4];
	char *vals2[] = { "01G0J1EXE7AXZ2C93K61WBPYEH", "01G0J1EXE7AXZ2C93K61WBPYEI" };
	char *vals3[] = { "01G0J1EXE7AXZ2C93K61WBPYEH", "01G0J1EXE7AXZ2C93K61WBPYEI", "01G0J1EXE7AXZ2C93K61WBPYEJ" };
	char *named[] = { "Platform" };
	char *msg;
	size_t idx = 99;

	memset(all, 0, sizeof all);
	all[0].id = "S1"; all[0].name = "Platform";
	all[1].id = "S2"; all[1].name = "Support";
	all[2].id = "S3"; all[2].name = "Support";
	all[3].id = "S4"; all[3].name = "S1";

	ok(select_use_show(vals2, 2), "two ids: show calls");
	ok(!select_use_show(vals3, 3), "three ids: list");
	ok(!select_use_show(named, 1), "a name: list");

	is_int(select_resolve(all, 4, "S1", &idx, &msg), SELECT_FOUND, "an id resolves");
	is_int(idx, 0, "to that schedule, before a schedule named like it");
	is_int(select_resolve(all, 4, "Platform", &idx, &msg), SELECT_FOUND, "an exact name resolves");
	is_int(idx, 0, "to it");
	is_int(select_resolve(all, 4, "platform", &idx, &msg), SELECT_NONE, "names are case-sensitive");
	is_str(msg, "no incident.io schedule has the id or name \"platform\"", "the message names it");
	free(msg);
	is_int(select_resolve(all, 4, "Support", &idx, &msg), SELECT_MANY, "a name two schedules share");
	is_str(msg, "2 incident.io schedules are named \"Support\" (S2, S3): select one by id",
	       "the message names it and the ids");
	free(msg);
}

int main(void)
{
	schedule_list_should_parse_schedules_shifts_and_cursor();
	schedule_list_should_refuse_what_is_not_the_documented_shape();
	show_should_parse_one_schedule();
	entries_should_keep_final_and_cursor();
	errors_should_carry_incidentio_type_and_message();
	long_error_messages_should_be_cut_between_characters();
	responses_should_give_utf8_and_sane_counts();
	urls_and_ids();
	selection_should_prefer_ids_then_exact_names();
	return tap_done();
}
