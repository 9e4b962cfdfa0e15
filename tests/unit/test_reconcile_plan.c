/* test_reconcile_plan.c: the pure planner of reconcile-groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util.h"
#include "ndjson.h"
#include "../../reconcile-groups/plan.h"

/* The plain structs below are written positionally; fields added later
 * (group specs, roles) are left zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct plan_account alice = {"a-1", "alice@example.com"};
static const struct plan_account bob = {"a-2", "bob@example.com"};
static const struct plan_account carlos = {"a-3", "carlos@example.com"};
static const struct plan_account deanna = {"a-4", "deanna@example.com"};

/* A compact rendering of a plan: "action:status:group:account" per change. */
static char *
render(const struct plan *p)
{
	struct buf b = {0};
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct change *c = &p->v[i];
		buf_printf(&b, "%s%s:%s:%s:%s", i ? " " : "", change_action_name(c->action),
		           change_status_name(c->status), c->group_name ? c->group_name : "-",
		           c->account_email ? c->account_email : c->account_id ? c->account_id : "-");
	}
	if (!b.data)
		buf_puts(&b, "");
	return b.data;
}

static void
is_plan(const struct plan *p, const char *want, const char *desc)
{
	char *got = render(p);
	is_str(got, want, "%s", desc);
	free(got);
}

static void
new_group_is_created_with_its_on_call_people(void)
{
	struct plan_account on[] = {bob, alice};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, on, 2}};
	struct plan_input in = {s, 1, NULL, 0, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "create_group:planned:TestSchedule:- add:planned:TestSchedule:alice@example.com "
	        "add:planned:TestSchedule:bob@example.com", "a missing group is created, then adds by email");
	is_int(p.v[1].group_change, 0, "an add waits for the create");
	ok(p.v[1].group_id == NULL, "the add has no group id before the create");
	is_int(p.failed_schedules, 0, "no schedule failed");
	plan_clear(&p);
}

static void
shift_change_replaces_members(void)
{
	struct plan_account on[] = {deanna, carlos};
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}, {"ag-2", "a-2", "bob@example.com"}};
	struct plan_group g[] = {{"group-1", "TestSchedule", "S1", NULL, m, 2}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, on, 2}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "add:planned:TestSchedule:carlos@example.com add:planned:TestSchedule:deanna@example.com "
	        "remove:planned:TestSchedule:alice@example.com remove:planned:TestSchedule:bob@example.com",
	        "Carlos and Deanna replace Alice and Bob");
	is_str(p.v[2].membership_id, "ag-1", "a remove names the membership");
	is_str(p.v[0].group_id, "group-1", "an add names the group");
	plan_clear(&p);
}

static void
up_to_date_group_makes_no_change(void)
{
	struct plan_account on[] = {alice, bob};
	struct plan_member m[] = {{"ag-2", "a-2", "bob@example.com"}, {"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {{"group-1", "TestSchedule", "S1", NULL, m, 2}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, on, 2}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_int(p.n, 0, "a second run with the same state plans nothing");
	plan_clear(&p);
}

static void
renamed_schedule_renames_group(void)
{
	struct plan_account on[] = {alice};
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {{"group-1", "Old name", "S1", NULL, m, 1}};
	struct plan_schedule s[] = {{"S1", "New name", 0, on, 1}};
	struct plan_input in = {s, 1, g, 1, "oncall-", 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "rename_group:planned:oncall-New name:-", "renamed schedule (with a prefix) renames the group");
	is_str(p.v[0].previous_name, "Old name", "rename keeps the previous name");
	is_str(p.v[0].group_id, "group-1", "rename names the group by id");
	plan_clear(&p);
}

static void
nobody_on_call_empties_group(void)
{
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}, {"ag-2", "a-2", NULL}};
	struct plan_group g[] = {{"group-1", "TestSchedule", "S1", NULL, m, 2}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, NULL, 0}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "remove:planned:TestSchedule:a-2 remove:planned:TestSchedule:alice@example.com",
	        "nobody on call: every member is removed (hand-added ones too; no email sorts first)");
	plan_clear(&p);
}

static void
upstream_error_keeps_group(void)
{
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {{"group-1", "Old", "S1", NULL, m, 1}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 1, NULL, 0}};
	struct plan_input in = {s, 1, g, 1, NULL, 1, 0};
	struct plan p;
	char **names;

	plan_changes(&in, &p);
	is_int(p.n, 0, "a schedule that failed upstream keeps its group, even with --prune");
	is_int(p.failed_schedules, 1, "and counts as failed");
	is_int(plan_wanted_names(&in, &names), 0, "and needs no name look-up");
	free(names);
	plan_clear(&p);
}

static void
name_taken_by_unmanaged_group_is_error(void)
{
	struct plan_account on[] = {alice};
	struct plan_member um[] = {{"ag-9", "a-4", "deanna@example.com"}};
	struct plan_group g[] = {{"group-9", "testschedule", NULL, NULL, um, 1}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, on, 1}};
	struct plan_input in = {s, 1, g, 1, NULL, 1, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "create_group:failed:TestSchedule:-",
	        "a name taken (case-insensitively) by an unmanaged group: failed create, nothing else");
	is_str(p.v[0].error, "name TestSchedule is taken by group group-9 which oncall-sync does not manage "
	       "(oncall-sync adopt SCHEDULE group-9 makes it the schedule's group)",
	       "the error names the group");
	is_int(p.failed_schedules, 1, "the schedule counts as failed");
	is_int(p.n_notes, 1, "and a note is made");
	plan_clear(&p);
}

static void
rename_onto_taken_name_is_error(void)
{
	struct plan_account on[] = {alice};
	struct plan_group g[] = {{"group-1", "Old", "S1", NULL, NULL, 0}, {"group-9", "New", NULL, NULL, NULL, 0}};
	struct plan_schedule s[] = {{"S1", "New", 0, on, 1}};
	struct plan_input in = {s, 1, g, 2, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "rename_group:failed:New:-", "a rename onto a taken name fails and adds nothing");
	plan_clear(&p);
}

static void
name_of_other_managed_group_is_error(void)
{
	struct plan_group g[] = {{"group-1", "Same", "S1", NULL, NULL, 0}};
	struct plan_schedule s[] = {{"S1", "Same", 0, NULL, 0}, {"S2", "Same", 0, NULL, 0}};
	struct plan_input in = {s, 2, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "create_group:failed:Same:-", "two schedules, one name: the second cannot take the first's group");
	is_str(p.v[0].error, "name Same is taken by group group-1 which oncall-sync manages for schedule Same (S1)",
	       "the error says which schedule holds it");
	plan_clear(&p);
}

static void
two_new_schedules_same_name(void)
{
	struct plan_schedule s[] = {{"S1", "Same", 0, NULL, 0}, {"S2", "same", 0, NULL, 0}};
	struct plan_input in = {s, 2, NULL, 0, NULL, 0, 0};
	struct plan p;
	char **names;
	size_t n, i;

	plan_changes(&in, &p);
	is_plan(&p, "create_group:planned:Same:- create_group:failed:same:-",
	        "two new schedules wanting one name: the first in input order wins");
	n = plan_wanted_names(&in, &names);
	is_int(n, 1, "one name look-up for both");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	plan_clear(&p);
}

static void
duplicate_managed_groups_touch_neither(void)
{
	struct plan_account on[] = {alice};
	struct plan_group g[] = {{"group-1", "A", "S1", NULL, NULL, 0}, {"group-2", "A2", "S1", NULL, NULL, 0}};
	struct plan_schedule s[] = {{"S1", "A", 0, on, 1}};
	struct plan_input in = {s, 1, g, 2, NULL, 1, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_int(p.n, 0, "two managed groups for one schedule: neither is touched");
	is_int(p.failed_schedules, 1, "the schedule is in error");
	ok(p.n_notes == 1 && strstr(p.notes[0], "group-1, group-2"), "the note names both groups");
	plan_clear(&p);
}

static void
prune_empties_and_deletes_unknown_schedules(void)
{
	struct plan_member m[] = {{"ag-2", "a-2", "bob@example.com"}, {"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {
		{"group-1", "Kept", "S1", NULL, NULL, 0},
		{"group-3", "Zed", "S3", "Zed", NULL, 0},
		{"group-2", "Gone", "S2", "Gone", m, 2},
		{"group-4", "Hand made", NULL, NULL, m, 2},
		{"group-5", "Failed", "S5", NULL, m, 2},
	};
	struct plan_schedule s[] = {{"S1", "Kept", 0, NULL, 0}, {"S5", NULL, 1, NULL, 0}};
	struct plan_input in = {s, 2, g, 5, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_int(p.n, 0, "without --prune a group of a schedule in no record is left alone");
	plan_clear(&p);
	in.prune = 1;
	plan_changes(&in, &p);
	is_plan(&p, "remove:planned:Gone:alice@example.com remove:planned:Gone:bob@example.com "
	        "delete_group:planned:Gone:- delete_group:planned:Zed:-",
	        "--prune empties then deletes groups of absent schedules, by name; never unmanaged or errored ones");
	is_str(p.v[0].schedule_id, "S2", "a pruned change names the schedule id from the tag");
	is_str(p.v[2].schedule_name, "Gone", "and its name from the name tag");
	plan_clear(&p);
	in.prune_unsafe = 1;
	plan_changes(&in, &p);
	is_int(p.n, 0, "an error record without schedule id skips pruning");
	ok(p.prune_skipped && p.n_notes == 1, "with a note");
	plan_clear(&p);
}

static void
prune_share_holds_a_big_prune_of_every_schedule(void)
{
	struct plan_group g[] = {
		{"group-1", "A", "S1", NULL, NULL, 0},
		{"group-2", "B", "S2", NULL, NULL, 0},
		{"group-3", "C", "S3", NULL, NULL, 0},
		{"group-4", "D", "S4", NULL, NULL, 0},
		{"group-9", "Hand made", NULL, NULL, NULL, 0},
	};
	struct plan_schedule s[] = {{"S1", "A", 0, NULL, 0}, {"S2", "B", 0, NULL, 0}};
	struct plan_input in = {s, 2, g, 5, NULL, 1, 0};
	struct plan p;
	size_t del, managed;

	plan_changes(&in, &p);
	is_int(plan_hold_prune(&p, &in, 0.5, 0, &del, &managed), 0, "2 of 4 managed groups: half, not held");
	ok(del == 2 && managed == 4, "counts 2 deletes of 4 managed groups (not the unmanaged one)");
	is_int(plan_hold_prune(&p, &in, 0.4, 0, &del, &managed), 1, "more than 0.4 of them: held");
	is_plan(&p, "delete_group:held:C:- delete_group:held:D:-", "every planned change held");
	plan_clear(&p);
	in.n_schedules = 0;
	plan_changes(&in, &p);
	is_int(plan_hold_prune(&p, &in, 1, 0, &del, &managed), 1, "all of them, even at share 1: held");
	plan_clear(&p);
	plan_changes(&in, &p);
	is_int(plan_hold_prune(&p, &in, 1, 1, &del, &managed), 0, "all of them at share 1 with --allow-empty");
	plan_clear(&p);
	in.n_schedules = 2;
	in.prune = 0;
	plan_changes(&in, &p);
	is_int(plan_hold_prune(&p, &in, 0, 0, &del, &managed), 0, "no delete: nothing to hold");
	plan_clear(&p);
}

static void
max_changes_holds_everything(void)
{
	struct plan_account on[] = {alice, bob};
	struct plan_group g[] = {{"group-9", "Taken", NULL, NULL, NULL, 0}};
	struct plan_schedule s[] = {{"S1", "A", 0, on, 2}, {"S2", "Taken", 0, NULL, 0}};
	struct plan_input in = {s, 2, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_int(plan_count(&p, CHANGE_PLANNED), 3, "three changes planned");
	is_int(plan_hold(&p, 3), 0, "--max-changes 3 lets three through");
	is_int(plan_hold(&p, -1), 0, "no limit lets all through");
	is_int(plan_hold(&p, 2), 1, "--max-changes 2 holds");
	is_plan(&p, "create_group:held:A:- add:held:A:alice@example.com add:held:A:bob@example.com "
	        "create_group:failed:Taken:-", "every planned change is held; a failed one stays failed");
	plan_clear(&p);
	plan_changes(&in, &p);
	is_int(plan_hold(&p, 0), 1, "--max-changes 0 holds any change");
	plan_clear(&p);
}

static void
unmatched_and_duplicates_change_nothing(void)
{
	/* input.c passes only matched people; a person matched twice counts once */
	struct plan_account on[] = {alice, alice};
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {{"group-1", "A", "S1", NULL, m, 1}};
	struct plan_schedule s[] = {{"S1", "A", 0, on, 2}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_int(p.n, 0, "a person listed twice is one member");
	plan_clear(&p);
	g[0].n_members = 0;
	plan_changes(&in, &p);
	is_plan(&p, "add:planned:A:alice@example.com", "and one add");
	plan_clear(&p);
}

static void
change_record_format(void)
{
	struct plan_account on[] = {alice};
	struct plan_group g[] = {{"group-7a1", "TestSchedule", "01G0", NULL, NULL, 0}};
	struct plan_schedule s[] = {{"01G0", "TestSchedule", 0, on, 1}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;
	cJSON *j;
	char *txt;

	plan_changes(&in, &p);
	p.v[0].status = CHANGE_DONE;
	j = change_to_json(&p.v[0]);
	txt = cJSON_PrintUnformatted(j);
	is_str(txt, "{\"type\":\"change\",\"action\":\"add\",\"status\":\"done\","
	       "\"schedule\":{\"id\":\"01G0\",\"name\":\"TestSchedule\"},"
	       "\"group\":{\"id\":\"group-7a1\",\"name\":\"TestSchedule\"},"
	       "\"account\":{\"id\":\"a-1\",\"email\":\"alice@example.com\"}}", "change record as in DESIGN.md");
	free(txt);
	cJSON_Delete(j);
	change_set_failed(&p.v[0], "PERMISSION_DENIED: no");
	j = change_to_json(&p.v[0]);
	is_str(json_str(j, "error"), "PERMISSION_DENIED: no", "a failed change carries its error");
	cJSON_Delete(j);
	plan_clear(&p);
}

static void
emails_learnt_late_sort_removes_again(void)
{
	struct plan_account on[] = {alice};
	/* members whose emails are not known at planning time */
	struct plan_member m[] = {{"ag-1", "a-9", NULL}, {"ag-2", "a-8", NULL}, {"ag-3", "a-7", NULL}};
	struct plan_member gm[] = {{"ag-4", "a-6", NULL}, {"ag-5", "a-5", NULL}};
	struct plan_group g[] = {{"group-1", "A", "S1", NULL, m, 3}, {"group-2", "Gone", "S2", NULL, gm, 2}};
	struct plan_schedule s[] = {{"S1", "A", 0, on, 1}};
	struct plan_input in = {s, 1, g, 2, NULL, 1, 0};
	struct plan p;

	plan_changes(&in, &p);
	is_plan(&p, "add:planned:A:alice@example.com remove:planned:A:a-7 remove:planned:A:a-8 "
	        "remove:planned:A:a-9 remove:planned:Gone:a-5 remove:planned:Gone:a-6 "
	        "delete_group:planned:Gone:-", "without emails, removes by account id");
	p.v[1].account_email = estrdup("zed@example.com");
	p.v[3].account_email = estrdup("ann@example.com");
	p.v[4].account_email = estrdup("yves@example.com");
	plan_sort_members(&p);
	is_plan(&p, "add:planned:A:alice@example.com remove:planned:A:a-8 remove:planned:A:ann@example.com "
	        "remove:planned:A:zed@example.com remove:planned:Gone:a-6 remove:planned:Gone:yves@example.com "
	        "delete_group:planned:Gone:-", "emails learnt late: each group's removes sorted again, in place");
	p.v[1].dropped = 1;
	is_int(plan_count(&p, CHANGE_PLANNED), 6, "a dropped change is not counted");
	plan_clear(&p);
}

/* CPU time this process has used, in ms: unlike the wall clock, other
 * work on a loaded machine does not add to it. */
static long long
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Plans n schedules and groups (every tenth renamed, schedule 5's name
 * taken by an unmanaged group); returns the CPU ms it took. */
static long long
plan_many(size_t n, int check)
{
	struct plan_schedule *s = ecalloc(n, sizeof *s);
	struct plan_group *g = ecalloc(n + 1, sizeof *g);
	char (*ids)[16] = ecalloc(n, sizeof *ids), (*names)[16] = ecalloc(n, sizeof *names);
	struct plan_input in = {s, n, g, n + 1, NULL, 1, 0};
	struct plan p;
	long long t0, el;
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "S%zu", i);
		snprintf(names[i], sizeof names[i], "Sched %zu", i);
		s[i].id = ids[i];
		s[i].name = names[i];
		g[i].id = ids[i];
		g[i].schedule_id = ids[i];
		g[i].name = i % 10 ? names[i] : "old";   /* every tenth renamed */
	}
	g[n].id = "group-x";
	g[n].name = "SCHED 5";   /* unmanaged, holds a wanted name (case aside) */
	g[5].name = "old";
	t0 = cpu_ms();
	plan_changes(&in, &p);
	el = cpu_ms() - t0;
	if (check) {
		is_int(p.n, n / 10 + 1, "one rename per tenth schedule, and schedule 5's");
		is_int(p.failed_schedules, 1, "schedule 5 finds its name taken");
	}
	plan_clear(&p);
	free(s);
	free(g);
	free(ids);
	free(names);
	return el;
}

static void
many_schedules_plan_in_linear_time(void)
{
	/* Four times the schedules may take about four times the CPU, never
	 * sixteen (quadratic look-ups): a ratio on this machine, whatever its
	 * speed or load (CPU time; 50 ms for the clock's grain). */
	long long small = plan_many(10000, 0), big = plan_many(40000, 1);

	ok(big < 8 * small + 50, "40,000 schedules planned in %lld ms of CPU, 10,000 in %lld ms: linear",
	   big, small);
}

static void
tag_values_are_sanitised(void)
{
	char *t = tag_value_sanitize("Ops (EU) — primary #1 a@b.c");
	char long_name[400];

	is_str(t, "Ops _EU_ _ primary _1 a@b.c", "disallowed characters become _ (one per UTF-8 character)");
	free(t);
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	t = tag_value_sanitize(long_name);
	is_int(strlen(t), 256, "at most 256 bytes");
	free(t);
}

int
main(void)
{
	new_group_is_created_with_its_on_call_people();
	shift_change_replaces_members();
	up_to_date_group_makes_no_change();
	renamed_schedule_renames_group();
	nobody_on_call_empties_group();
	upstream_error_keeps_group();
	name_taken_by_unmanaged_group_is_error();
	rename_onto_taken_name_is_error();
	name_of_other_managed_group_is_error();
	two_new_schedules_same_name();
	duplicate_managed_groups_touch_neither();
	prune_empties_and_deletes_unknown_schedules();
	max_changes_holds_everything();
	prune_share_holds_a_big_prune_of_every_schedule();
	unmatched_and_duplicates_change_nothing();
	change_record_format();
	emails_learnt_late_sort_removes_again();
	many_schedules_plan_in_linear_time();
	tag_values_are_sanitised();
	return tap_done();
}
