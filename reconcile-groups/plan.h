/* plan.h: what must change in StrongDM so that every managed group holds
 * exactly the matched on-call people of its schedule.
 *
 * Pure: the planner reads plain structs (the schedules from the input, the
 * managed groups with their members, and any other group found holding a
 * wanted name) and returns an ordered list of changes. No I/O. */
#ifndef RECONCILE_PLAN_H
#define RECONCILE_PLAN_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define MANAGED_BY_TAG "managed-by"
#define MANAGED_BY_VALUE "oncall-sync"
#define SCHEDULE_ID_TAG "incidentio-schedule-id"
#define SCHEDULE_NAME_TAG "incidentio-schedule-name"
#define INSTANCE_TAG "oncall-sync-instance"   /* --instance: whose the group is */
#define TAG_VALUE_MAX 256
/* A group spec's group (several schedules, one group): tagged
 * oncall-sync-group=<its name> instead of incidentio-schedule-id; inside
 * reconcile-groups its key is "group:" + that tag value, where a
 * schedule's group has the schedule id (incident.io ids have no ':'). */
#define GROUP_TAG "oncall-sync-group"
#define GROUP_KEY_PREFIX "group:"

/* A matched on-call person: a StrongDM account. */
struct plan_account {
	const char *id;
	const char *email;          /* may be NULL */
};

/* A role: its id and name. */
struct plan_role {
	const char *id;
	const char *name;
};

/* A role attached to a group (a GroupRole). */
struct plan_attachment {
	const char *id;             /* grouprole-… */
	const char *role_id;
	const char *role_name;      /* may be NULL (a role the listing lacks) */
};

/* One schedule of the input, in input order (or, planned, one group: the
 * schedules of a group spec folded into one, see spec.h). */
struct plan_schedule {
	const char *id;             /* the schedule id, or the group key */
	const char *name;           /* may be NULL for an error record */
	int upstream_error;         /* arrived as an error record: keep its group */
	const struct plan_account *oncall;   /* matched people only */
	size_t n_oncall;
	/* the "group" spec of the record (all optional) */
	const char *group_name;     /* the group's exact name; NULL: prefix + name */
	const char *schedules_json; /* a spec group: its schedules, a JSON array */
	const char *const *role_refs;   /* "roles" as given (names or ids) */
	size_t n_role_refs;
	int roles_given;            /* "roles" present: the exact set of roles */
	const struct plan_role *roles;  /* role_refs resolved, unique */
	size_t n_roles;
	const char *roles_error;    /* a role that cannot be resolved: its roles stay */
	const char *const *member_ids;  /* a spec group: its schedules' ids */
	size_t n_member_ids;
};

struct plan_member {
	const char *id;             /* the AccountGroup id (accountgroup-…) */
	const char *account_id;
	const char *email;          /* may be NULL (not a user, or unknown) */
};

/* A group known to the run: every managed group, plus any other group that
 * holds a name some schedule wants. */
struct plan_group {
	const char *id;
	const char *name;
	const char *schedule_id;    /* managed for this schedule; NULL: not managed */
	const char *schedule_name;  /* its incidentio-schedule-name tag, or NULL */
	const struct plan_member *members;
	size_t n_members;
	const struct plan_attachment *roles;   /* read only for groups whose roles are given */
	size_t n_roles;
};

struct plan_input {
	const struct plan_schedule *schedules;
	size_t n_schedules;
	const struct plan_group *groups;
	size_t n_groups;
	const char *group_prefix;   /* NULL or "" for none */
	int prune;                  /* --prune */
	int prune_unsafe;           /* an error record named no schedule id */
};

enum change_action {
	CHANGE_CREATE_GROUP,
	CHANGE_RENAME_GROUP,
	CHANGE_ADD,
	CHANGE_REMOVE,
	CHANGE_DELETE_GROUP,
	CHANGE_ATTACH_ROLE,
	CHANGE_DETACH_ROLE,
	CHANGE_ADOPT_GROUP,         /* --adopt: the managed tags added to a group */
	CHANGE_RELEASE_GROUP        /* --release: oncall-sync's tags taken off */
};

enum change_status {
	CHANGE_PLANNED,
	CHANGE_DONE,
	CHANGE_FAILED,
	CHANGE_HELD
};

#define NO_CHANGE ((size_t)-1)

/* Every string is owned by the change. */
struct change {
	enum change_action action;
	enum change_status status;
	char *error;                /* with CHANGE_FAILED */
	const char *code;           /* its machine-readable code (static; NULL: "failed") */
	char *schedule_id;
	char *schedule_name;        /* may be NULL (a pruned group without name tag) */
	char *group_id;             /* NULL until a planned create_group is done */
	char *group_name;           /* the (new) name */
	char *previous_name;        /* rename_group: the name before */
	char *account_id;           /* add, remove */
	char *account_email;        /* may be NULL */
	char *membership_id;        /* remove: the AccountGroup to delete */
	char *role_id;              /* attach_role, detach_role */
	char *role_name;            /* may be NULL */
	char *attachment_id;        /* detach_role: the GroupRole to delete */
	char *schedules_json;       /* a spec group's schedules (JSON array), or NULL */
	char *roles_json;           /* release_group: the roles the group keeps (JSON array) */
	int retag;                  /* rename_group: a schedule's own group becomes its
	                               spec's (schedule tags off, oncall-sync-group on) */
	size_t group_change;        /* add/remove/delete_group: the create_group,
	                               rename_group or (delete) the removes'
	                               schedule change it waits for, or NO_CHANGE */
	size_t schedule_index;      /* index into the input schedules, or NO_CHANGE (pruned) */
	int dropped;                /* not written: its create or rename found the
	                               name taken (ALREADY_EXISTS), so the schedule
	                               gets no change but that one */
	int written;                /* its record is out already (written the
	                               moment its write was answered) */
};

struct plan {
	struct change *v;
	size_t n, cap;
	char **notes;               /* messages for stderr, in order */
	size_t n_notes, cap_notes;
	size_t failed_schedules;    /* schedules in error: upstream, name taken, duplicate groups */
	int prune_skipped;
};

/* Plan the changes. Order: input schedule order; within a schedule its
 * create_group or rename_group, then adds by email, then removes by email,
 * then (roles given) attach_role and detach_role by role name;
 * then the pruned groups by name, each its removes then delete_group.
 * Changes the planner already knows cannot be made (a name taken) are
 * CHANGE_FAILED with an error; the rest CHANGE_PLANNED. */
void plan_changes(const struct plan_input *in, struct plan *out);
void plan_clear(struct plan *p);

/* Whether a group key (plan_group.schedule_id) is a spec group's. */
int plan_key_is_group(const char *key);

/* The names to look up before planning: those that will be given to a group
 * (create or rename), once each, in input order. Caller frees each and the
 * array. */
size_t plan_wanted_names(const struct plan_input *in, char ***names);

/* Sort again, by email, every run of adds or removes of one group (after
 * emails were learnt late). Changes only move within such a run. */
void plan_sort_members(struct plan *p);

/* Changes with this status (dropped ones not counted). */
size_t plan_count(const struct plan *p, enum change_status st);

/* --max-changes: when more than max changes are planned, every planned
 * change becomes held; returns 1 then, else 0. max < 0 is unlimited. */
int plan_hold(struct plan *p, long max);

/* The prune guard for a stream of every schedule (fetch-oncall -a): when
 * the plan deletes more than share (0..1) of the managed groups, or every
 * one of them (unless allow_empty), every planned change becomes held;
 * returns 1 then, else 0. *deletes and *managed get the counts. */
int plan_hold_prune(struct plan *p, const struct plan_input *in, double share, int allow_empty,
                    size_t *deletes, size_t *managed);

/* Free a change's strings (one not in a plan). */
void change_clear(struct change *c);

void change_set_failed(struct change *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *change_action_name(enum change_action a);
const char *change_status_name(enum change_status s);

/* The change record (DESIGN.md). Caller deletes. */
cJSON *change_to_json(const struct change *c);

/* A schedule name as a tag value: characters StrongDM does not allow in a
 * tag become '_', at most TAG_VALUE_MAX bytes. Caller frees. */
char *tag_value_sanitize(const char *s);

/* Case-insensitive (ASCII) name equality, as StrongDM's unique names. */
int group_name_equal(const char *a, const char *b);

/* Whether a managed group whose INSTANCE_TAG is have (NULL: none) belongs
 * to the instance want (NULL: the default, which owns untagged groups). */
int instance_owns(const char *want, const char *have);

#endif
