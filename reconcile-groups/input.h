/* input.h: read and check the whole matched stream before anything else. */
#ifndef RECONCILE_INPUT_H
#define RECONCILE_INPUT_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "map.h"
#include "plan.h"

/* Strings copied out of parsed records, in big blocks (the records
 * themselves are freed at once). */
struct strpool {
	char **blocks;
	size_t n_blocks;
	char *cur;
	size_t left;
};

/* A copy of s in the pool (NULL for NULL); strpool_clear frees them all. */
const char *strpool_dup(struct strpool *p, const char *s);
void strpool_clear(struct strpool *p);

struct input {
	cJSON **passed;             /* records written on unchanged, input order */
	size_t n_passed, cap_passed;
	int passed_written;         /* they are out already (before the first write) */
	struct strpool pool;        /* the strings the schedules point to */
	struct plan_schedule *schedules;   /* roster and error records, input order */
	size_t n_schedules;
	struct plan_account *accounts;     /* storage behind schedules[].oncall */
	size_t n_accounts, cap_accounts;
	struct plan_account *known;        /* every account once */
	size_t n_known, cap_known;
	struct map known_ids;              /* id -> index into known */
	size_t error_records;       /* error records read */
	size_t errors_without_id;   /* error records naming no schedule id */
	long lines;                 /* lines read */
	/* group specs ("group" on roster and error records) */
	const char ***ref_arrays;   /* the schedules' role_refs arrays, to free */
	size_t n_ref_arrays;
	const char **errored_groups;   /* error records naming no schedule id, but a group */
	size_t n_errored_groups;
	int selection_all;          /* the end record says "selection":"all" (fetch-oncall -a):
	                               an absent schedule is inferred gone, not named */
};

/* Read fp to its end record, every record checked (record_read, with
 * RECORD_MATCHED). 0: complete and valid. -1: refused (cut, malformed,
 * wrong types, a roster that did not pass match-users, a schedule id
 * twice); the message with the line number is printed and nothing is
 * kept. With INPUT_ALLOW_EMPTY, a complete stream that names no schedule
 * at all (no roster, no error record) is accepted: the operator synced
 * nothing on purpose (--allow-empty). */
#define INPUT_ALLOW_EMPTY 1
int input_read(struct input *in, FILE *fp, const char *name, int flags);
void input_clear(struct input *in);

/* The account the input names with this id (its email, if it gave one), or
 * NULL. */
const struct plan_account *input_account(const struct input *in, const char *id);

#endif
