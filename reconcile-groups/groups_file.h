/* groups_file.h: --groups FILE, StrongDM's groups read from a file, and
 * the offline run that plans against them (no network, a dry run). */
#ifndef RECONCILE_GROUPS_FILE_H
#define RECONCILE_GROUPS_FILE_H

#include "apply.h"
#include "input.h"
#include "plan.h"

/* --groups FILE: StrongDM's groups as NDJSON, one group a line:
 * {"id","name","tags":{NAME:VALUE,...},"members":[{"id","account_id","email"?}],
 *  "roles"?:[{"id","role_id","name"?}]} (the simulator's state dump's shape)
 * (no end record). Managed groups (tags exactly managed-by=oncall-sync and a
 * non-empty incidentio-schedule-id) keep their members; other groups only
 * hold names. A member without email gets the one the input gives its
 * account, if any. */
struct groups_file {
	struct plan_group *groups;  /* file order */
	size_t n_groups;
	struct plan_member *members;
	size_t n_members;
	struct plan_attachment *atts;   /* managed groups' "roles", each group's contiguous */
	size_t n_atts;
	struct strpool pool;
	const char *instance;       /* whose managed groups count as managed */
};

/* 0, or -1 with the message (file and line) printed. Managed groups are
 * those of instance (NULL: the default; see instance_owns). */
int groups_file_read(struct groups_file *gf, const char *path, const struct input *in,
                     const char *instance);
void groups_file_clear(struct groups_file *gf);

/* Plan against the groups of the file (always a dry run); the exit status
 * as reconcile's. */
int reconcile_offline(const struct input *in, const struct groups_file *gf,
                      const struct apply_opts *o, struct plan *plan);

#endif
