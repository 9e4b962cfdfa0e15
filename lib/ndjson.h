/* ndjson.h: newline-delimited JSON records with the end-record rule.
 *
 * Every stream ends with {"type":"end","stage":"...","records":N}, N counting
 * the records before it. A reader that meets a malformed line, a record after
 * the end, or EOF without a valid end reports it with the line number and
 * returns NDJSON_ERR; the stage then stops, writes no end of its own, and
 * exits non-zero. */
#ifndef ONCALL_NDJSON_H
#define ONCALL_NDJSON_H

#include <stdio.h>
#include <cjson/cJSON.h>

#define NDJSON_MAX_LINE (1024 * 1024) /* longer lines are refused */

enum ndjson_status {
	NDJSON_RECORD = 1, /* *out holds a record (not the end record) */
	NDJSON_END = 0,    /* the valid end record was read; stream complete */
	NDJSON_ERR = -1    /* malformed or cut: message already printed */
};

struct ndjson_reader {
	FILE *fp;
	const char *name;      /* "<stdin>" or a file name, for messages */
	char *line;            /* the last line read, at most NDJSON_MAX_LINE + 2 bytes */
	size_t cap;
	char *in;              /* input read ahead, in blocks */
	size_t in_pos, in_len;
	int in_eof;
	long lineno;           /* line number of the last line read */
	long records;          /* records returned so far */
	long end_records;      /* the N of the end record once read */
	char *end_stage;       /* the stage named by the end record */
	char *end_selection;   /* its "selection" ("all" or "explicit"), or NULL */
	int ended;
};

void ndjson_reader_init(struct ndjson_reader *r, FILE *fp, const char *name);
void ndjson_reader_free(struct ndjson_reader *r);

/* Read the next record. The record must be a JSON object with a string
 * "type"; valid UTF-8, no NUL byte, no duplicate keys, at most
 * NDJSON_MAX_LINE bytes. Blank lines are errors too. On NDJSON_RECORD the
 * caller owns *out (cJSON_Delete). */
enum ndjson_status ndjson_read(struct ndjson_reader *r, cJSON **out);

/* As ndjson_read, but each line is first offered to fast(user, line, len)
 * (the line without its newline). A fast path that returns 1 has taken the
 * line: it must only take lines that pass every check ndjson_read makes; the
 * line then counts as a record and the call returns NDJSON_RECORD with *out
 * NULL. Returning 0 hands the line to the ordinary reader. fast may be NULL. */
enum ndjson_status ndjson_read_fast(struct ndjson_reader *r, cJSON **out,
                                    int (*fast)(void *user, const char *line, size_t len),
                                    void *user);

/* Print "prog: NAME:LINE: message" for a data error at the reader's line. */
void ndjson_error(const struct ndjson_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct ndjson_writer {
	FILE *fp;
	long records;
	int failed;
};

void ndjson_writer_init(struct ndjson_writer *w, FILE *fp);
/* Write one record as a single line (cJSON_PrintUnformatted). 0 or -1. */
int ndjson_write(struct ndjson_writer *w, const cJSON *rec);
/* Write the end record {"type":"end","stage":stage,"records":w->records}. */
int ndjson_write_end(struct ndjson_writer *w, const char *stage);
/* The same with "selection": "all" or "explicit" (NULL: none), which
 * says how the stream's schedules were chosen (fetch-oncall -a, or -s);
 * each stage passes on the selection of its input's end. */
int ndjson_write_end_selection(struct ndjson_writer *w, const char *stage, const char *selection);
/* Extra fields on the end record: "interrupted":true (a stage stopped by a
 * signal). */
int ndjson_write_end_interrupted(struct ndjson_writer *w, const char *stage);

/* Field helpers: return the string value or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *key);
/* Type checks used by every stage: 0 ok, -1 with message printed via r. */
int json_expect_string(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required);
int json_expect_object(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required);
int json_expect_array(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required);

#endif
