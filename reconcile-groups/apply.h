/* apply.h: read StrongDM's managed groups, plan, and apply the plan. */
#ifndef RECONCILE_APPLY_H
#define RECONCILE_APPLY_H

#include "sdm.h"
#include "input.h"
#include "plan.h"

/* Managed groups up to this many: memberships are listed per group (one
 * request each, concurrently); more: one listing of every membership. */
#define MEMBERSHIP_LIST_PER_GROUP_MAX 20
#define LIST_LIMIT 1000

struct apply_opts {
	const char *group_prefix;   /* NULL: none */
	int dry_run;
	int prune;
	long max_changes;           /* < 0: unlimited */
};

/* Read, plan, and (unless dry run or held) write. The plan is filled with
 * every change and its final status (empty if a read failed). Returns the
 * exit status: EXIT_DONE, EXIT_FAILED (a read or write failed, a schedule in
 * error) or EXIT_REFUSED (held by --max-changes). Messages go to stderr. */
int reconcile(struct sdm_client *c, const struct input *in, const struct apply_opts *o,
              struct plan *plan);

#endif
