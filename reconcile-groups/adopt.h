/* adopt.h: reconcile-groups --adopt GROUP and --release KEY: a group made
 * oncall-sync's, or given back to the admin. */
#ifndef RECONCILE_ADOPT_H
#define RECONCILE_ADOPT_H

#include "sdm.h"
#include "input.h"
#include "plan.h"
#include "apply.h"

/* --adopt GROUP (an id or a name): the input holds the records of one
 * group (one schedule, or the schedules of one group spec). Dry run: an
 * adopt_group record and the changes the next sync would make in GROUP,
 * all planned. Else the managed tags are added to GROUP (nothing else) and
 * an adopt_group record says so. GROUP must be unmanaged, and the schedule
 * (or spec) must have no managed group yet. Returns the exit status. */
int adopt_group(struct sdm_client *c, const struct input *in, const char *group,
                const struct apply_opts *o, struct plan *plan);

/* --release KEY (a schedule id, or "group:" + a spec's group name): the
 * group oncall-sync manages for it is emptied and loses oncall-sync's tags;
 * its name, description and roles stay. Records: its removes, then
 * release_group (with the roles it keeps). Returns the exit status. */
int release_group(struct sdm_client *c, const char *key, const struct apply_opts *o,
                  struct plan *plan);

#endif
