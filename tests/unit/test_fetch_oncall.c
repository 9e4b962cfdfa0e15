/* Unit tests of fetch-oncall's pure parts: the window, the fold, the records. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../fetch-oncall/oncall.h"
#include "timeutil.h"
#include "util.h"

static int64_t T(const char *s)
{
	int64_t ms = 0;

	if (rfc3339_parse(s, &ms) < 0) {
		printf("Bail out! bad time %s\n", s);
		exit(1);
	}
	return ms;
}

#define SHIFT(id, name, email, from, to) { id, name, email, T(from), T(to) }

static char *json_of(cJSON *rec)
{
	char *s = cJSON_PrintUnformatted(rec);

	cJSON_Delete(rec);
	return s;
}

static void window_should_span_grace_before_and_lead_after(void)
{
	struct oncall_window w = oncall_window_at(T("2026-11-29T07:00:00Z"), 15 * 60000, 5 * 60000);

	is_int(w.from_ms, T("2026-11-29T06:55:00Z"), "window starts grace before at");
	is_int(w.to_ms, T("2026-11-29T07:15:00Z"), "window ends lead after at");
	w = oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0);
	is_int(w.from_ms, w.to_ms, "no lead and no grace: a zero-length window");
	w = oncall_window_at(INT64_MAX - 5, 1000, 0);
	is_int(w.to_ms, INT64_MAX, "a huge lead saturates rather than overflows");
}

static void overlap_should_include_start_at_window_end_and_exclude_end_at_window_start(void)
{
	struct oncall_window w = oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0);
	struct oncall_shift s = SHIFT("U1", "A", NULL, "2026-11-29T07:00:00Z", "2026-11-29T08:00:00Z");

	ok(oncall_shift_overlaps(&s, w), "a shift starting exactly at 'at' is on call");
	s.start_ms = T("2026-11-29T06:00:00Z");
	s.end_ms = T("2026-11-29T07:00:00Z");
	ok(!oncall_shift_overlaps(&s, w), "a shift ending exactly at 'at' is not");
	s.end_ms = T("2026-11-29T07:00:00.001Z");
	ok(oncall_shift_overlaps(&s, w), "a shift ending a millisecond after 'at' is");
	w = oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 10 * 60000);
	s.end_ms = T("2026-11-29T06:55:00Z");
	ok(oncall_shift_overlaps(&s, w), "a shift that ended inside the grace window is on call");
	s.end_ms = T("2026-11-29T06:50:00Z");
	ok(!oncall_shift_overlaps(&s, w), "one that ended before the grace window is not");
	w = oncall_window_at(T("2026-11-29T07:00:00Z"), 10 * 60000, 0);
	s.start_ms = T("2026-11-29T07:10:00Z");
	s.end_ms = T("2026-11-29T09:00:00Z");
	ok(oncall_shift_overlaps(&s, w), "a shift starting at the end of the lead window is on call");
	s.start_ms = T("2026-11-29T07:10:01Z");
	ok(!oncall_shift_overlaps(&s, w), "one starting after the lead window is not");
}

static void fold_should_list_each_person_once_sorted_by_name_then_id(void)
{
	struct oncall_shift s[] = {
		SHIFT("U3", "Carlos", "carlos@example.com", "2026-11-29T06:00:00Z", "2026-11-29T08:00:00Z"),
		SHIFT("U1", "Alice", "alice@example.com", "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT("U3", "Carlos", "carlos@example.com", "2026-11-29T06:30:00Z", "2026-11-29T12:00:00Z"),
		SHIFT("U0", "Carlos", NULL, "2026-11-29T06:30:00Z", "2026-11-29T07:30:00Z"),
		SHIFT("U9", "Bob", "bob@example.com", "2026-11-29T08:00:00Z", "2026-11-29T12:00:00Z"),
		SHIFT(NULL, NULL, NULL, "2026-11-29T06:00:00Z", "2026-11-29T08:00:00Z"),
	};
	struct oncall_person *p;
	size_t n = oncall_fold(s, sizeof s / sizeof s[0],
	                       oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0), &p);

	is_int(n, 3, "three people on call: Bob's shift has not started, the userless one counts for nobody");
	is_str(p[0].id, "U1", "Alice first");
	is_str(p[1].id, "U0", "then the Carlos with the smaller id");
	is_str(p[2].id, "U3", "then the other Carlos");
	is_int(p[2].until_ms, T("2026-11-29T12:00:00Z"), "two shifts folded: until is the later end");
	ok(p[1].email == NULL, "a user without email keeps none");
	free(p);
}

static void fold_should_return_nobody_for_an_empty_window(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", NULL, "2026-11-29T01:00:00Z", "2026-11-29T02:00:00Z"),
	};
	struct oncall_person *p = (void *)1;
	size_t n = oncall_fold(s, 1, oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0), &p);

	is_int(n, 0, "nobody on call");
	ok(p == NULL, "and nothing allocated");
	n = oncall_fold(NULL, 0, oncall_window_any(), &p);
	is_int(n, 0, "no shifts at all: nobody");
	n = oncall_fold(s, 1, oncall_window_any(), &p);
	is_int(n, 1, "the any-window takes every shift (current_shifts)");
	free(p);
}

static void fold_should_only_extend_until_with_overlapping_shifts(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", "a@example.com", "2026-11-29T01:00:00Z", "2026-11-29T08:00:00Z"),
		SHIFT("U1", "Alice", "a@example.com", "2026-11-29T08:00:00Z", "2026-11-29T16:00:00Z"),
	};
	struct oncall_person *p;
	size_t n = oncall_fold(s, 2, oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0), &p);

	is_int(n, 1, "one person");
	is_int(p[0].until_ms, T("2026-11-29T08:00:00Z"), "a later shift outside the window does not extend until");
	free(p);
	n = oncall_fold(s, 2, oncall_window_at(T("2026-11-29T07:00:00Z"), 3600000, 0), &p);
	is_int(p[0].until_ms, T("2026-11-29T16:00:00Z"), "inside the lead window it does");
	free(p);
}

static void roster_record_should_match_the_design(void)
{
	struct oncall_shift s[] = {
		SHIFT("01FCNDV6P870EA6S7TK1DSYDG0", "Alice", "alice@example.com", "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT("01FCNDV6P870EA6S7TK1DSYDG5", "Frank", NULL, "2026-11-29T01:00:00Z", "2026-11-29T09:00:00.5Z"),
	};
	struct oncall_window w = oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0);
	struct oncall_person *p;
	size_t n = oncall_fold(s, 2, w, &p);
	char *js = json_of(oncall_roster_record("01G0J1EXE7AXZ2C93K61WBPYEH", "TestSchedule",
	                                        T("2026-11-29T07:00:00Z"), w, p, n));

	is_str(js, "{\"type\":\"roster\",\"schedule\":{\"id\":\"01G0J1EXE7AXZ2C93K61WBPYEH\",\"name\":\"TestSchedule\"},"
	           "\"at\":\"2026-11-29T07:00:00Z\",\"window\":{\"from\":\"2026-11-29T07:00:00Z\",\"to\":\"2026-11-29T07:00:00Z\"},"
	           "\"oncall\":[{\"id\":\"01FCNDV6P870EA6S7TK1DSYDG0\",\"email\":\"alice@example.com\",\"name\":\"Alice\",\"until\":\"2026-11-29T09:00:00Z\"},"
	           "{\"id\":\"01FCNDV6P870EA6S7TK1DSYDG5\",\"name\":\"Frank\",\"until\":\"2026-11-29T09:00:00.500Z\"}]}",
	       "roster record: fields as DESIGN.md, email omitted when none");
	free(js);
	free(p);
	js = json_of(oncall_roster_record("S1", "Empty", T("2026-11-29T07:00:00Z"), w, NULL, 0));
	ok(strstr(js, "\"oncall\":[]") != NULL, "nobody on call is \"oncall\":[]");
	free(js);
}

static void error_and_schedule_records_should_match_the_design(void)
{
	char *js = json_of(oncall_error_record("01G0", "TestSchedule", "not_found", "incident.io answered 404 not_found: Resource not found"));

	is_str(js, "{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"id\":\"01G0\",\"name\":\"TestSchedule\"},"
	           "\"code\":\"not_found\",\"message\":\"incident.io answered 404 not_found: Resource not found\"}", "error record");
	free(js);
	js = json_of(oncall_error_record(NULL, "Nope", NULL, "no schedule"));
	is_str(js, "{\"type\":\"error\",\"stage\":\"fetch-oncall\",\"schedule\":{\"name\":\"Nope\"},\"code\":\"failed\",\"message\":\"no schedule\"}",
	       "error record for a name that matched nothing: no id");
	free(js);
	js = json_of(oncall_schedule_record("S1", "Platform", "UTC"));
	is_str(js, "{\"type\":\"schedule\",\"id\":\"S1\",\"name\":\"Platform\",\"timezone\":\"UTC\"}", "schedule record");
	free(js);
}

static void next_change_should_be_the_earliest_start_or_end_after_at(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", NULL, "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT("U2", "Bob", NULL, "2026-11-29T09:00:00Z", "2026-11-29T17:00:00Z"),
		SHIFT("U3", "Carlos", NULL, "2026-11-29T08:30:00Z", "2026-11-29T12:00:00Z"),
	};
	int64_t at = T("2026-11-29T07:00:00Z"), far = T("2026-12-29T00:00:00Z"), next = 0;

	ok(oncall_next_change(s, 3, at, 0, 0, far, &next), "a change is known");
	is_int(next, T("2026-11-29T08:30:00Z"), "the earliest start after at (Carlos comes on)");
	ok(oncall_next_change(s, 2, at, 0, 0, far, &next), "a handover");
	is_int(next, T("2026-11-29T09:00:00Z"), "is the end of one shift and the start of the next");
	ok(oncall_next_change(s, 2, T("2026-11-29T09:00:00Z"), 0, 0, far, &next), "at the handover");
	is_int(next, T("2026-11-29T17:00:00Z"), "the next change is strictly after at");
	ok(!oncall_next_change(s, 2, T("2026-11-29T17:00:00Z"), 0, 0, far, &next),
	   "after the last shift read: nothing known");
	ok(!oncall_next_change(NULL, 0, at, 0, 0, far, &next), "no shifts: nothing known");
}

static void next_change_should_apply_lead_and_grace(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", NULL, "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT("U2", "Bob", NULL, "2026-11-29T09:00:00Z", "2026-11-29T17:00:00Z"),
	};
	int64_t at = T("2026-11-29T07:00:00Z"), far = T("2026-12-29T00:00:00Z"), next = 0;

	ok(oncall_next_change(s, 2, at, 15 * 60000, 0, far, &next), "with a lead");
	is_int(next, T("2026-11-29T08:45:00Z"), "a shift starting at S puts its user on from S - lead");
	ok(oncall_next_change(s, 2, at, 0, 10 * 60000, far, &next), "with a grace");
	is_int(next, T("2026-11-29T09:00:00Z"), "the start still comes first");
	ok(oncall_next_change(s, 1, at, 0, 10 * 60000, far, &next), "with a grace, one shift");
	is_int(next, T("2026-11-29T09:10:00Z"), "a shift ending at E takes its user off at E + grace");
	ok(oncall_next_change(s, 2, T("2026-11-29T08:50:00Z"), 15 * 60000, 10 * 60000, far, &next),
	   "lead and grace, Bob already on");
	is_int(next, T("2026-11-29T09:10:00Z"), "the next change is Alice going off after her grace");
}

static void next_change_should_be_absent_beyond_the_horizon_and_for_empty_shifts(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", NULL, "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT(NULL, NULL, NULL, "2026-11-29T07:30:00Z", "2026-11-29T08:00:00Z"),
	};
	int64_t at = T("2026-11-29T07:00:00Z"), next = 0;

	ok(oncall_next_change(s, 2, at, 0, 0, T("2026-11-29T09:00:00Z"), &next),
	   "a change exactly at the horizon is known");
	is_int(next, T("2026-11-29T09:00:00Z"), "a shift without a user changes nothing");
	next = 42;
	ok(!oncall_next_change(s, 2, at, 0, 0, T("2026-11-29T08:59:59Z"), &next),
	   "a change after the horizon is not known (a shift may start before it)");
	is_int(next, 42, "and next is left alone");
	s[0].end_ms = INT64_MAX;
	ok(!oncall_next_change(s, 1, at, 0, 3600000, INT64_MAX, &next),
	   "an end of time plus grace saturates: no change");
}

static void next_change_should_skip_edges_where_the_roster_stays_the_same(void)
{
	struct oncall_shift s[] = {
		SHIFT("U1", "Alice", NULL, "2026-11-29T01:00:00Z", "2026-11-29T09:00:00Z"),
		SHIFT("U1", "Alice", NULL, "2026-11-29T09:00:00Z", "2026-11-29T17:00:00Z"),
		SHIFT("U2", "Bob", NULL, "2026-11-29T17:00:00Z", "2026-11-30T01:00:00Z"),
		SHIFT("U3", "Carlos", NULL, "2026-11-29T12:00:00Z", "2026-11-29T13:00:00Z"),
		SHIFT("U1", "Alice", NULL, "2026-11-29T11:00:00Z", "2026-11-29T14:00:00Z"),
	};
	int64_t at = T("2026-11-29T07:00:00Z"), far = T("2026-12-29T00:00:00Z"), next = 0;

	ok(oncall_next_change(s, 3, at, 0, 0, far, &next), "Alice into her next shift, then Bob");
	is_int(next, T("2026-11-29T17:00:00Z"), "Alice's handover to herself at 09:00 is no change");
	ok(oncall_next_change(s, 2, at, 0, 0, far, &next), "Alice's two shifts, nothing after");
	is_int(next, T("2026-11-29T17:00:00Z"), "the end of what is known empties the roster: a change");
	ok(oncall_next_change(s, 2, at, 15 * 60000, 10 * 60000, far, &next), "with lead and grace");
	is_int(next, T("2026-11-29T17:10:00Z"), "Alice off at the end + grace");
	ok(!oncall_next_change(s, 2, at, 0, 0, T("2026-11-29T16:59:59Z"), &next),
	   "a look-ahead that ends before the roster differs: nothing known");
	ok(oncall_next_change(s + 1, 4, T("2026-11-29T10:00:00Z"), 0, 0, far, &next),
	   "an overlapping shift of someone already on");
	is_int(next, T("2026-11-29T12:00:00Z"), "changes nothing: Carlos coming on does");
	ok(oncall_next_change(s + 1, 4, T("2026-11-29T12:30:00Z"), 0, 0, far, &next), "after Carlos came on");
	is_int(next, T("2026-11-29T13:00:00Z"), "his going off (Alice's second shift ending at 14:00 is none)");
}

static void roster_record_should_carry_next_change_when_known(void)
{
	struct oncall_window w = oncall_window_at(T("2026-11-29T07:00:00Z"), 0, 0);
	cJSON *r = oncall_roster_record("S1", "Empty", T("2026-11-29T07:00:00Z"), w, NULL, 0);
	char *js;

	oncall_roster_add_next_change(r, T("2026-11-29T09:00:00Z"));
	js = json_of(r);
	ok(strstr(js, "\"oncall\":[],\"next_change\":\"2026-11-29T09:00:00Z\"}") != NULL,
	   "next_change is an RFC 3339 time after the roster: %s", js);
	free(js);
}

int main(void)
{
	window_should_span_grace_before_and_lead_after();
	overlap_should_include_start_at_window_end_and_exclude_end_at_window_start();
	fold_should_list_each_person_once_sorted_by_name_then_id();
	fold_should_return_nobody_for_an_empty_window();
	fold_should_only_extend_until_with_overlapping_shifts();
	roster_record_should_match_the_design();
	error_and_schedule_records_should_match_the_design();
	next_change_should_be_the_earliest_start_or_end_after_at();
	next_change_should_apply_lead_and_grace();
	next_change_should_be_absent_beyond_the_horizon_and_for_empty_shifts();
	next_change_should_skip_edges_where_the_roster_stays_the_same();
	roster_record_should_carry_next_change_when_known();
	return tap_done();
}
