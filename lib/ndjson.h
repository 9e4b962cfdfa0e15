/* ndjson.h: newline-delimited JSON, one object a line, read strictly.
 *
 * The line layer under lib/record.c (which knows the records and the end
 * rule): a line that is not one JSON object in UTF-8 is reported with its
 * line number, never half-understood. */
#ifndef ONCALL_NDJSON_H
#define ONCALL_NDJSON_H

#include <stdio.h>
#include <cjson/cJSON.h>

#define NDJSON_MAX_LINE (1024 * 1024) /* longer lines are refused */

struct ndjson_reader {
	FILE *fp;
	const char *name;      /* "<stdin>" or a file name, for messages */
	char *line;            /* the last line read, at most NDJSON_MAX_LINE + 2 bytes */
	size_t cap;
	char *in;              /* input read ahead, in blocks */
	size_t in_pos, in_len;
	int in_eof;
	long lineno;           /* line number of the last line read */
};

void ndjson_reader_init(struct ndjson_reader *r, FILE *fp, const char *name);
void ndjson_reader_clear(struct ndjson_reader *r);

/* Read the next line into r->line (newline included, NUL-terminated): 1,
 * 0 at the end of the input, -1 on a read error or a line longer than
 * NDJSON_MAX_LINE (said). */
int ndjson_read_line(struct ndjson_reader *r, size_t *len);

/* Read the next line as a JSON object: valid UTF-8, no NUL byte, no
 * duplicate keys, nested at most 64 deep, at most NDJSON_MAX_LINE bytes;
 * a blank line is an error too. 1 with *out the object (the caller owns
 * it; r->line holds its text without the newline), 0 at the end of the
 * input, -1 with the message printed. */
int ndjson_read(struct ndjson_reader *r, cJSON **out);

/* Print "prog: NAME:LINE: message" for a data error at the reader's line. */
void ndjson_error(const struct ndjson_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write rec as one line (cJSON_PrintUnformatted, text that is not UTF-8
 * made so), or text of len bytes and a newline. 0, or -1 with the error
 * said. */
int ndjson_write(FILE *fp, const cJSON *rec);
int ndjson_write_text(FILE *fp, const char *text, size_t len);

/* Field helpers: return the string value or NULL when absent or not a string. */
const char *json_str(const cJSON *obj, const char *key);

#endif
