/* test_reconcile_spec.c: group specs folded into planned schedules, role
 * resolution, and the planner's role changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "../../reconcile-groups/input.h"
#include "../../reconcile-groups/plan.h"
#include "../../reconcile-groups/spec.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct plan_account alice = {"a-1", "alice@example.com"};
static const struct plan_account bob = {"a-2", "bob@example.com"};
static const struct plan_account carlos = {"a-3", "carlos@example.com"};

static const struct plan_role known[] = {
	{"r-jit", "TestSchedule JIT"}, {"r-ro", "payments-prod-ro"}, {"r-rw", "Payments-Prod-RW"},
	{"r-dup1", "twin"}, {"r-dup2", "TWIN"},
};

static void
schedules_naming_one_group_fold_into_one(void)
{
	struct plan_account on1[] = {alice, bob}, on2[] = {bob, carlos};
	struct plan_schedule s[] = {
		{"S1", "Payments Primary", 0, on1, 2, "payments-oncall"},
		{"S2", "Other", 0, NULL, 0},
		{"S3", "Payments Secondary", 0, on2, 2, "Payments-Oncall"},
	};
	struct input in = {0};
	struct spec_units u;

	in.schedules = s;
	in.n_schedules = 3;
	spec_fold(&in, &u);
	is_int(u.n, 2, "three schedules, two groups");
	is_str(u.v[0].id, "group:payments-oncall", "the group's key comes from its name");
	is_str(u.v[0].group_name, "payments-oncall", "its name is the first spelling");
	is_int(u.v[0].n_oncall, 4, "its people: both schedules' (the planner drops the repeat)");
	is_str(u.v[0].oncall[3].id, "a-3", "in input order");
	is_str(u.v[0].schedules_json, "[{\"id\":\"S1\",\"name\":\"Payments Primary\"},"
	       "{\"id\":\"S3\",\"name\":\"Payments Secondary\"}]", "its schedules, for the change records");
	is_str(u.v[1].id, "S2", "a schedule without a group name stays itself");
	spec_units_clear(&u);
}

static void
one_schedule_failing_upstream_holds_the_group(void)
{
	struct plan_schedule s[] = {
		{"S1", "A", 0, &alice, 1, "g"},
		{"S2", "B", 1, NULL, 0, "g"},
	};
	const char *errored[] = {"lone"};
	struct input in = {0};
	struct spec_units u;

	in.schedules = s;
	in.n_schedules = 2;
	in.errored_groups = errored;
	in.n_errored_groups = 1;
	spec_fold(&in, &u);
	is_int(u.n, 2, "the group, and one named only by an error without schedule id");
	ok(u.v[0].upstream_error, "a schedule in error: the group is held");
	ok(u.v[1].upstream_error && strcmp(u.v[1].id, "group:lone") == 0,
	   "an error naming only the group holds it too (not pruned)");
	spec_units_clear(&u);
}

static void
different_roles_for_one_group_hold_it(void)
{
	const char *r1[] = {"a", "b"}, *r2[] = {"b", "a", "a"}, *r3[] = {"c"};
	struct plan_schedule s[] = {
		{"S1", "A", 0, NULL, 0, "g", NULL, r1, 2, 1},
		{"S2", "B", 0, NULL, 0, "g", NULL, r2, 3, 1},
		{"S3", "C", 0, NULL, 0, "g"},
		{"S4", "D", 0, NULL, 0, "h", NULL, r1, 2, 1},
		{"S5", "E", 0, NULL, 0, "h", NULL, r3, 1, 1},
	};
	struct input in = {0};
	struct spec_units u;

	in.schedules = s;
	in.n_schedules = 5;
	spec_fold(&in, &u);
	ok(u.v[0].roles_given && !u.v[0].upstream_error,
	   "the same roles in another order, or none: one list");
	ok(u.v[1].upstream_error && !u.v[1].roles_given, "different roles: the group is held");
	is_int(u.conflicts, 1, "and counted");
	spec_units_clear(&u);
}

static void
roles_resolve_by_id_then_name(void)
{
	const char *refs[] = {"r-jit", "payments-prod-ro", "payments-prod-rw", "TestSchedule JIT"};
	const char *bad[] = {"r-jit", "nope", "Twin"};
	struct plan_schedule s[] = {
		{"S1", "A", 0, NULL, 0, NULL, NULL, refs, 4, 1},
		{"S2", "B", 0, NULL, 0, NULL, NULL, bad, 3, 1},
	};
	struct input in = {0};
	struct spec_units u;

	in.schedules = s;
	in.n_schedules = 2;
	spec_fold(&in, &u);
	ok(spec_any_roles(&u), "roles are given");
	spec_resolve_roles(&u, known, sizeof known / sizeof *known, "in StrongDM");
	is_int(u.v[0].n_roles, 3, "by id, by name, by name case-insensitively; a repeat once");
	is_str(u.v[0].roles[2].id, "r-rw", "the case-insensitive match");
	ok(u.v[0].roles_error == NULL, "all found");
	is_str(u.v[1].roles_error, "roles \"nope\", \"Twin\" do not exist in StrongDM",
	       "an unknown role, and an ambiguous case-insensitive name, are named");
	spec_units_clear(&u);
}

static char *
render(const struct plan *p)
{
	struct buf b = {0};
	size_t i;

	for (i = 0; i < p->n; i++)
		buf_printf(&b, "%s%s:%s:%s", i ? " " : "", change_action_name(p->v[i].action),
		           change_status_name(p->v[i].status),
		           p->v[i].role_name ? p->v[i].role_name : p->v[i].account_id ? p->v[i].account_id : "-");
	if (!b.data)
		buf_puts(&b, "");
	return b.data;
}

static void
planner_makes_roles_equal_to_the_spec(void)
{
	struct plan_role want[] = {{"r-jit", "TestSchedule JIT"}, {"r-ro", "payments-prod-ro"}};
	struct plan_attachment att[] = {{"grouprole-1", "r-ro", "payments-prod-ro"},
	                                {"grouprole-2", "r-x", "break-glass"}};
	struct plan_group g[] = {{"group-1", "TestSchedule", "S1", NULL, NULL, 0, att, 2}};
	struct plan_schedule s[] = {{"S1", "TestSchedule", 0, NULL, 0, NULL, NULL, NULL, 0, 1, want, 2}};
	struct plan_input in = {s, 1, g, 1, NULL, 0, 0};
	struct plan p;
	char *got;

	plan_changes(&in, &p);
	got = render(&p);
	is_str(got, "attach_role:planned:TestSchedule JIT detach_role:planned:break-glass",
	       "attach what is missing, detach what is not listed");
	free(got);
	is_str(p.v[1].attachment_id, "grouprole-2", "a detach deletes the attachment by id");
	is_int(plan_hold(&p, 1), 1, "role changes count for --max-changes");
	plan_clear(&p);

	s[0].roles_given = 0;
	plan_changes(&in, &p);
	is_int(p.n, 0, "no roles given: the group's roles are not touched");
	plan_clear(&p);

	s[0].roles_given = 1;
	s[0].roles_error = "role \"nope\" does not exist in StrongDM";
	plan_changes(&in, &p);
	got = render(&p);
	is_str(got, "attach_role:failed:-", "a role that does not exist: one failed record, no other role change");
	free(got);
	is_int(p.failed_schedules, 1, "the group counts as failed");
	plan_clear(&p);
}

static void
new_group_gets_its_roles_after_it_is_created(void)
{
	struct plan_role want[] = {{"r-jit", "TestSchedule JIT"}};
	struct plan_account on[] = {alice};
	struct plan_schedule s[] = {{"group:payments", "payments", 0, on, 1, "payments",
	                             "[{\"id\":\"S1\",\"name\":\"P1\"}]", NULL, 0, 1, want, 1}};
	struct plan_input in = {s, 1, NULL, 0, "pre-", 0, 0};
	struct plan p;
	cJSON *rec;
	char *txt;

	plan_changes(&in, &p);
	is_int(p.n, 3, "create, add, attach");
	is_str(p.v[0].group_name, "payments", "a spec's group name takes no prefix");
	is_int(p.v[2].group_change, 0, "the attach waits for the create");
	rec = change_to_json(&p.v[2]);
	txt = cJSON_PrintUnformatted(rec);
	is_str(txt, "{\"type\":\"change\",\"action\":\"attach_role\",\"status\":\"planned\","
	       "\"schedule\":{\"id\":\"S1\",\"name\":\"P1\"},\"schedules\":[{\"id\":\"S1\",\"name\":\"P1\"}],"
	       "\"group\":{\"name\":\"payments\"},\"role\":{\"id\":\"r-jit\",\"name\":\"TestSchedule JIT\"}}",
	       "the record: its schedules, the group, the role");
	free(txt);
	cJSON_Delete(rec);
	plan_clear(&p);
}

static void
spec_group_takes_over_a_schedules_own_group(void)
{
	struct plan_role want[] = {{"r-ro", "payments-prod-ro"}};
	struct plan_attachment att[] = {{"grouprole-1", "r-ro", "payments-prod-ro"}};
	struct plan_member m[] = {{"ag-1", "a-1", "alice@example.com"}};
	struct plan_group g[] = {
		{"group-1", "Payments Primary", "S1", "Payments Primary", m, 1, att, 1},
		{"group-2", "Payments Secondary", "S2", "Payments Secondary", NULL, 0},
	};
	const char *ids[] = {"S1", "S2"};
	struct plan_account on[] = {alice};
	struct plan_schedule s[] = {{"group:payments", "payments", 0, on, 1, "payments", NULL, NULL, 0, 1,
	                             want, 1, NULL, ids, 2}};
	struct plan_input in = {s, 1, g, 2, NULL, 1, 0};
	struct plan p;
	char *got;

	plan_changes(&in, &p);
	got = render(&p);
	is_str(got, "rename_group:planned:- delete_group:planned:-",
	       "the first schedule's own group is renamed (and retagged); the other's is retired");
	free(got);
	ok(p.v[0].retag && strcmp(p.v[0].group_id, "group-1") == 0, "the rename retags group-1, kept");
	is_str(p.v[1].group_id, "group-2", "only group-2 is deleted");
	is_int(p.n, 2, "no member or role change: its people and role are the spec's already");
	plan_clear(&p);

	s[0].upstream_error = 1;
	plan_changes(&in, &p);
	is_int(p.n, 0, "a schedule of the spec failed upstream: no change, nor a prune of their own groups");
	plan_clear(&p);
}

int
main(void)
{
	schedules_naming_one_group_fold_into_one();
	one_schedule_failing_upstream_holds_the_group();
	different_roles_for_one_group_hold_it();
	roles_resolve_by_id_then_name();
	planner_makes_roles_equal_to_the_spec();
	new_group_gets_its_roles_after_it_is_created();
	spec_group_takes_over_a_schedules_own_group();
	return tap_done();
}
