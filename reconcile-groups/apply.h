/* apply.h: read StrongDM's managed groups, plan, and apply the plan. */
#ifndef RECONCILE_APPLY_H
#define RECONCILE_APPLY_H

#include <signal.h>
#include <stdio.h>

#include "record.h"
#include "sdm.h"
#include "input.h"
#include "plan.h"

/* Memberships of the managed groups. Fewer than MEMBERSHIP_PROBE_MIN
 * groups: one listing per group (concurrently). Up to
 * MEMBERSHIP_LIST_PER_GROUP_MAX: first one page (LIST_LIMIT) of the
 * listing of every membership; when that page is the whole listing (a
 * small organization) it is all that is read (1 request), else it is set
 * aside and each group is listed (1 + groups requests). More groups: the
 * listing of every membership, page by page, keeping only the managed
 * groups' memberships. */
#define MEMBERSHIP_PROBE_MIN 3
#define MEMBERSHIP_LIST_PER_GROUP_MAX 20
/* Dry run: up to this many names to check, one name: look-up each; more:
 * one listing of every group. */
#define NAME_LOOKUP_MAX 10
/* Accounts whose email is wanted (members to remove that the input does not
 * name): fewer than ACCOUNT_PROBE_MIN, one id: look-up each; else first one
 * page of the listing of every account (the whole listing: 1 request); of
 * the ids it did not answer, up to ACCOUNT_LOOKUP_MAX by id, more by the
 * listings of the users per first letter of the email (see apply.c). */
#define ACCOUNT_PROBE_MIN 3
#define ACCOUNT_LOOKUP_MAX 10
/* The listings per first letter run this many at a time: a few chains of
 * pages beside the writes, not 26 at once (a burst of 26 reads of 1,000
 * accounts each, which the writes would wait behind). */
#define LETTER_LISTINGS_AT_ONCE 8
#define LIST_LIMIT 1000
#define JOBS_DEFAULT 64
#define JOBS_MAX 256

struct apply_opts {
	const char *group_prefix;   /* NULL: none */
	int dry_run;
	int prune;
	int allow_empty;            /* accept a stream naming no schedule */
	const char *instance;       /* --instance: NULL, the default */
	long max_changes;           /* < 0: unlimited */
	double max_prune_share;     /* selection "all": hold a prune of more than this
	                               share of the managed groups (0..1) */
	int jobs;                   /* writes handed to the client at once */
	struct record_writer *out;  /* NULL, or where each change record goes (one
	                               flushed line) the moment its write is
	                               answered; the passed-on records go first */
};

/* Set (by a SIGTERM or SIGINT handler): no new write is started, those
 * waiting to be sent (for the rate limit) are dropped unsent
 * (sdm_client_stop_on); the writes on the wire are finished and their
 * records written. */
extern volatile sig_atomic_t apply_stop;

/* Read the input from fp (in a thread) while the managed groups and their
 * memberships are read from StrongDM; then plan, and (unless dry run or
 * held) write. No write is made before the whole input is read and checked.
 * The plan is filled with every change and its final status (empty if a
 * read failed). Returns the exit status: EXIT_DONE, EXIT_FAILED (a read or
 * write failed, a schedule in error) or EXIT_REFUSED (input refused: *in is
 * empty and nothing may be written; or held by --max-changes). *input_refused
 * tells the two refusals apart. Messages go to stderr. */
int reconcile(struct sdm_client *c, FILE *fp, const char *name, struct input *in,
              int *input_refused, const struct apply_opts *o, struct plan *plan);

/* Shared with the offline run (groups_file.c): the planner's input from
 * the read input and the options; and, the plan made, report its notes and
 * hold it under --max-changes or --max-prune-share (*held). Returns the
 * exit status so far. */
void apply_plan_input(struct plan_input *pin, const struct input *in, const struct apply_opts *o);
int apply_after_plan(struct plan *plan, const struct plan_input *pin, const struct input *in,
                     const struct apply_opts *o, int *held);

#endif
