/* roles.h: the reads behind a group spec's "roles": every role (to
 * resolve names), and the role attachments of the managed groups whose
 * roles are given. */
#ifndef RECONCILE_ROLES_H
#define RECONCILE_ROLES_H

#include <stddef.h>
#include "sdm.h"
#include "plan.h"

/* More groups than this: their attachments from one listing of every
 * attachment (page by page) instead of one listing per group. */
#define ROLE_LIST_PER_GROUP_MAX 20

struct role_reads {
	struct sdm_role *roles;     /* Roles.List, every role */
	size_t n_roles;
	struct plan_role *known;    /* the same as plan_role */
	struct sdm_group_role *atts;    /* attachments of the groups asked for */
	size_t n_atts, cap_atts;
	struct plan_attachment *patts;  /* the same, each group's contiguous */
	char **want;                /* listing every attachment: the group ids kept, sorted */
	size_t n_want;
	int failed;                 /* a read failed (message printed) */
};

/* Queue the reads (run them with sdm_run): the roles, and the attachments
 * of each of the n groups (GroupsRoles.List groupid:…, or for more than
 * ROLE_LIST_PER_GROUP_MAX groups one GroupsRoles.List of all). */
void role_reads_start(struct role_reads *rr, struct sdm_client *c, const char *const *group_ids,
                      size_t n);

/* After the run: the roles as plan_role (valid while rr lives). */
const struct plan_role *role_reads_known(struct role_reads *rr, size_t *n);

/* Give each group of g its attachments (those read for its id). */
void role_reads_fill_groups(struct role_reads *rr, struct plan_group *g, size_t n);

void role_reads_clear(struct role_reads *rr);

#endif
