/* input.h: read and check the whole matched stream before anything else. */
#ifndef RECONCILE_INPUT_H
#define RECONCILE_INPUT_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "plan.h"

struct input {
	cJSON **passed;             /* records written on unchanged, input order */
	size_t n_passed;
	cJSON **kept;               /* roster records (the schedules point into them) */
	size_t n_kept;
	struct plan_schedule *schedules;   /* roster and error records, input order */
	size_t n_schedules;
	struct plan_account *accounts;     /* storage behind schedules[].oncall */
	size_t n_accounts;
	size_t error_records;       /* error records read */
	size_t errors_without_id;   /* error records naming no schedule id */
	long lines;                 /* lines read */
};

/* Read fp to its end record and check every roster and error record.
 * 0: complete and valid. -1: refused (cut, malformed, wrong types, a roster
 * that did not pass match-users, a schedule id twice); the message with the
 * line number is printed and nothing is kept. */
int input_read(struct input *in, FILE *fp, const char *name);
void input_free(struct input *in);

#endif
