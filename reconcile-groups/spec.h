/* spec.h: group specs. The schedules of the input that name the same
 * group (a "group" spec with a name) become one planned schedule whose
 * on-call people are the union of theirs; its key is "group:" + the name
 * as a tag value (GROUP_TAG). A schedule without a group name stays as it
 * is. Pure: no I/O. */
#ifndef RECONCILE_SPEC_H
#define RECONCILE_SPEC_H

#include <stddef.h>
#include "input.h"
#include "plan.h"

struct spec_units {
	struct plan_schedule *v;    /* what the planner gets, input order of first appearance */
	size_t n;
	struct plan_account *accounts;  /* the unions' storage */
	char **strings;             /* keys, schedule lists, messages: owned */
	size_t n_strings, cap_strings;
	struct plan_role **roles;   /* resolved roles, one array per unit (or NULL) */
	const char **member_ids;    /* the units' member_ids */
	size_t conflicts;           /* groups whose schedules give different roles */
};

/* Fold in's schedules into units. A group whose schedules give different
 * "roles" is planned as failed upstream (left as it is) with a message on
 * stderr; so is a group named by an error record without schedule id. */
void spec_fold(const struct input *in, struct spec_units *u);
void spec_units_clear(struct spec_units *u);

/* Whether some unit gives roles (they must be read and resolved). */
int spec_any_roles(const struct spec_units *u);

/* Resolve every unit's role_refs against the roles known: a ref is a role
 * id, else a name (exact, else the only case-insensitive match). Units
 * with a ref that matches nothing get roles_error naming it, and where the
 * roles were looked for (where: "in StrongDM"). */
void spec_resolve_roles(struct spec_units *u, const struct plan_role *known, size_t n_known,
                        const char *where);

/* Every unit that gives roles gets this roles_error (its roles stay). */
void spec_fail_roles(struct spec_units *u, const char *why);

/* The key of a group from its tags (NULL when it is neither a schedule's
 * nor a spec's): the schedule id, or "group:" + GROUP_TAG. Caller frees. */
char *spec_group_key(const char *schedule_id_tag, const char *group_tag);

#endif
