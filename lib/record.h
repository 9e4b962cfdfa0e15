/* record.h: the records of the stream contract (DESIGN.md, "Records"):
 * roster, error, change and end, read, checked, written and counted here
 * and nowhere else.
 *
 * record_read gives every record of a stream (lib/ndjson.c reads the
 * lines) after checking it against the contract: the known fields of a
 * roster, error or change record have their types, and the stream ends
 * with {"type":"end","stage":"...","records":N}, N counting the records
 * before it. A record that breaks a rule, a cut stream or a line after the
 * end is reported with its line number and record_read returns RECORD_ERR:
 * the stage then stops, writes no end of its own, and exits non-zero
 * (Safety 1). Records of other types are checked as JSON only and passed
 * on by the stages unchanged. */
#ifndef ONCALL_RECORD_H
#define ONCALL_RECORD_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "ndjson.h"

enum record_type {
	RECORD_OTHER,               /* a type this contract does not know */
	RECORD_ROSTER,
	RECORD_ERROR,
	RECORD_CHANGE
};

enum record_status {
	RECORD_READ = 1,            /* *out holds a record (not the end record) */
	RECORD_END = 0,             /* the valid end record was read: stream complete */
	RECORD_ERR = -1             /* malformed or cut: the message is printed */
};

/* What a stage asks of its input beyond the contract. */
#define RECORD_MATCHED 1        /* every roster passed match-users: each on-call
                                   entry has "account" or "unmatched", and the
                                   schedule has a "name" (the group's) */

struct record_reader {
	struct ndjson_reader nd;    /* nd.line holds the last line read */
	unsigned flags;             /* RECORD_MATCHED */
	long records;               /* records returned so far */
	long end_records;           /* the N of the end record once read, else -1 */
	char *end_stage;            /* the stage named by the end record */
	char *end_selection;        /* its "selection" ("all" or "explicit"), or NULL */
	int ended;                  /* 1 after the end, -1 after an error (sticky) */
};

void record_reader_init(struct record_reader *r, FILE *fp, const char *name, unsigned flags);
/* Frees what the reader holds (not r itself). */
void record_reader_clear(struct record_reader *r);
/* The next record, checked; on RECORD_READ the caller owns *out
 * (cJSON_Delete) and *type (when not NULL) says which it is. */
enum record_status record_read(struct record_reader *r, cJSON **out, enum record_type *type);
/* Print "prog: NAME:LINE: message" for a data error at the reader's line. */
#define record_error(r, ...) ndjson_error(&(r)->nd, __VA_ARGS__)

struct record_writer {
	FILE *fp;
	long records;               /* records written, for the end record */
	int failed;                 /* a write failed: every later one fails too */
};

void record_writer_init(struct record_writer *w, FILE *fp);
/* One record as one line (cJSON_PrintUnformatted). 0, or -1 (said). */
int record_write(struct record_writer *w, const cJSON *rec);
/* One record passed on as the text it was read as (len bytes, no newline). */
int record_write_text(struct record_writer *w, const char *text, size_t len);
/* The end record {"type":"end","stage":stage,"records":N}, flushed; with
 * "selection" (how the stream's schedules were chosen: "all" or
 * "explicit", NULL: none) and "interrupted":true (a stage stopped by a
 * signal) when asked. 0, or -1 (said). */
int record_write_end(struct record_writer *w, const char *stage, const char *selection,
                     int interrupted);

/* A new error record {"type":"error","stage":...,"schedule":...,"code":...,
 * "message":...}; schedule (taken; NULL: none) is its "schedule" object,
 * code NULL is "failed". */
cJSON *record_error_new(const char *stage, cJSON *schedule, const char *code,
                        const char *message);
/* A new "schedule" object {"id":...,"name":...}; either may be NULL. */
cJSON *record_schedule_new(const char *id, const char *name);

#endif
