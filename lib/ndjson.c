/* ndjson.c: read and write NDJSON record streams with the end-record rule.
 *
 * The reader is strict on purpose (DESIGN.md, Safety 1): a stream that is
 * not exactly what a stage wrote is refused with its line number, never
 * half-understood. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndjson.h"
#include "util.h"

#define NDJSON_MAX_DEPTH 64
#define NDJSON_BLOCK (64 * 1024)

void
ndjson_reader_init(struct ndjson_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fp = fp;
	r->name = name ? name : "<stdin>";
	r->end_records = -1;
}

void
ndjson_reader_free(struct ndjson_reader *r)
{
	free(r->line);
	free(r->in);
	free(r->end_stage);
	free(r->end_selection);
	r->line = NULL;
	r->in = NULL;
	r->end_stage = NULL;
	r->end_selection = NULL;
	r->cap = 0;
}

void
ndjson_error(const struct ndjson_reader *r, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* escaped by weprintf: a message may quote the input (a key) */
	weprintf("%s:%ld: %s", r->name, r->lineno, msg);
}

/* Check the raw line before cJSON sees it: valid UTF-8 (utf8_check), no
 * NUL byte and no \u0000 escape (cJSON would silently cut the string
 * there), and nesting no deeper than NDJSON_MAX_DEPTH (checked before cJSON
 * recurses). Returns NULL or a message; *col gets the 1-based byte offset of
 * the problem. */
static const char *
scan_line(const unsigned char *s, size_t n, size_t *col)
{
	int depth = 0, in_str = 0;
	const char *why = NULL;
	size_t i = 0, valid;

	valid = utf8_check(s, n, &why);
	while (i < n) {
		unsigned char c = s[i];
		*col = i + 1;
		if (i >= valid)
			return why;
		if (c == 0)
			return "NUL byte in line";
		if (in_str) {
			if (c == '\\') {
				if (i + 5 < n && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0)
					return "an escaped NUL character (U+0000) in a string";
				/* the escaped character is ASCII, or invalid JSON anyway */
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > NDJSON_MAX_DEPTH)
				return "JSON nested too deeply";
		} else if (c == '}' || c == ']') {
			depth--;
		}
		i++;
	}
	if (valid < n) {
		/* an escape skipped over the first bad byte */
		*col = valid + 1;
		return why;
	}
	return NULL;
}

static int
cmp_names(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* The first key that occurs twice in one object anywhere in v, or NULL. */
static const char *
duplicate_key(const cJSON *v)
{
	const cJSON *c;
	const char *d;
	size_t n = 0, i;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return NULL;
	for (c = v->child; c; c = c->next) {
		if ((d = duplicate_key(c)))
			return d;
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return NULL;
	if (n <= 16) {
		for (c = v->child; c; c = c->next)
			for (const cJSON *e = c->next; e; e = e->next)
				if (strcmp(c->string, e->string) == 0)
					return c->string;
		return NULL;
	}
	const cJSON **arr = emalloc(n * sizeof *arr);
	for (i = 0, c = v->child; c; c = c->next)
		arr[i++] = c;
	qsort(arr, n, sizeof *arr, cmp_names);
	d = NULL;
	for (i = 1; i < n && !d; i++)
		if (strcmp(arr[i - 1]->string, arr[i]->string) == 0)
			d = arr[i]->string;
	free(arr);
	return d;
}

static int
is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* Read one line, newline included, into r->line; 1 line, 0 EOF, -1 error
 * (printed). The input is read in blocks of NDJSON_BLOCK bytes and a line
 * is never held beyond NDJSON_MAX_LINE bytes: a longer one stops the
 * reading there, whatever its length (a 1 GiB line costs 1 MiB, not
 * 1 GiB), and the rest of it is left unread. The line buffer grows with
 * the longest line read so far, and its growth failing is out of memory
 * (erealloc says so), never taken for the end of the input. */
static int
read_line(struct ndjson_reader *r, size_t *len)
{
	size_t n = 0;

	for (;;) {
		const char *p, *nl;
		size_t avail, take;

		if (r->in_pos == r->in_len) {
			if (r->in_eof)
				break;
			if (!r->in)
				r->in = emalloc(NDJSON_BLOCK);
			errno = 0;
			r->in_len = fread(r->in, 1, NDJSON_BLOCK, r->fp);
			r->in_pos = 0;
			if (r->in_len < NDJSON_BLOCK) {
				if (ferror(r->fp)) {
					ndjson_error(r, "read error: %s", strerror(errno ? errno : EIO));
					return -1;
				}
				r->in_eof = 1;
			}
			continue;
		}
		p = r->in + r->in_pos;
		avail = r->in_len - r->in_pos;
		nl = memchr(p, '\n', avail);
		take = nl ? (size_t)(nl - p) + 1 : avail;
		/* the record, without its newline, may have NDJSON_MAX_LINE bytes */
		if (n + take > NDJSON_MAX_LINE + (nl ? 1 : 0)) {
			r->lineno++;
			ndjson_error(r, "line is longer than the limit of %d bytes; reading stopped there",
			             NDJSON_MAX_LINE);
			return -1;
		}
		if (n + take + 1 > r->cap) {
			size_t cap = r->cap < 4096 ? 4096 : r->cap;
			while (cap < n + take + 1)
				cap *= 2;
			if (cap > NDJSON_MAX_LINE + 2)
				cap = NDJSON_MAX_LINE + 2;
			r->line = erealloc(r->line, cap);
			r->cap = cap;
		}
		memcpy(r->line + n, p, take);
		n += take;
		r->in_pos += take;
		if (nl)
			break;
	}
	if (n == 0)
		return 0;
	r->lineno++;
	r->line[n] = '\0';
	*len = n;
	return 1;
}

static enum ndjson_status
fail(struct ndjson_reader *r)
{
	r->ended = -1; /* sticky: every later call fails too */
	return NDJSON_ERR;
}

/* Parse and check the line just read. */
static cJSON *
parse_line(struct ndjson_reader *r, size_t n)
{
	const char *msg, *dup, *end = NULL;
	size_t col = 0;
	cJSON *v, *type;

	/* the newline ends the record and is not part of it: the same record
	 * is read alike whether or not it is the last line of a file without
	 * a final newline */
	if (n > 0 && r->line[n - 1] == '\n')
		n--;
	if (is_blank(r->line, n)) {
		ndjson_error(r, "blank line (every line must be one JSON record)");
		return NULL;
	}
	if ((msg = scan_line((const unsigned char *)r->line, n, &col))) {
		ndjson_error(r, "%s at byte %zu", msg, col);
		return NULL;
	}
	r->line[n] = '\0';
	v = cJSON_ParseWithOpts(r->line, &end, 1);
	if (!v) {
		if (end && end >= r->line && (size_t)(end - r->line) <= n)
			ndjson_error(r, "invalid JSON at byte %zu", (size_t)(end - r->line) + 1);
		else
			ndjson_error(r, "invalid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(v)) {
		ndjson_error(r, "record is not a JSON object");
		goto bad;
	}
	if ((dup = duplicate_key(v))) {
		ndjson_error(r, "duplicate key \"%s\"", dup);
		goto bad;
	}
	type = cJSON_GetObjectItemCaseSensitive(v, "type");
	if (!cJSON_IsString(type) || !type->valuestring[0]) {
		ndjson_error(r, "record has no string \"type\"");
		goto bad;
	}
	return v;
bad:
	cJSON_Delete(v);
	return NULL;
}

/* The end record: "stage" a string and "records" the count before it. */
static int
check_end(struct ndjson_reader *r, const cJSON *v)
{
	const cJSON *stage = cJSON_GetObjectItemCaseSensitive(v, "stage");
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(v, "records");
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(v, "selection");
	double d;

	if (!cJSON_IsString(stage) || !stage->valuestring[0]) {
		ndjson_error(r, "end record has no string \"stage\"");
		return -1;
	}
	if (!cJSON_IsNumber(recs) || (d = recs->valuedouble) < 0 || d != floor(d) || d > 9e15) {
		ndjson_error(r, "end record has no whole-number \"records\"");
		return -1;
	}
	if ((long)d != r->records) {
		ndjson_error(r, "end record says %ld records, %ld were read: the stream was changed or cut",
		             (long)d, r->records);
		return -1;
	}
	/* how the schedules were chosen decides what a prune may infer */
	if (sel && !(cJSON_IsString(sel) && (strcmp(sel->valuestring, "all") == 0 ||
	                                     strcmp(sel->valuestring, "explicit") == 0))) {
		ndjson_error(r, "end record: \"selection\" must be \"all\" or \"explicit\"");
		return -1;
	}
	r->end_records = (long)d;
	free(r->end_stage);
	r->end_stage = estrdup(stage->valuestring);
	free(r->end_selection);
	r->end_selection = sel ? estrdup(sel->valuestring) : NULL;
	return 0;
}

/* ndjson_read with a fast path: each line (without its newline,
 * NUL-terminated, at most NDJSON_MAX_LINE bytes) is first offered to
 * fast(user, line, len). A return of 1 means fast has taken the line as a
 * record, having made sure itself that it passes every check of this
 * reader and is not the end record: it is counted and NDJSON_RECORD is
 * returned with *out NULL. On 0 the line is read as usual (and any problem
 * reported as usual). fast may be NULL. */
enum ndjson_status
ndjson_read_fast(struct ndjson_reader *r, cJSON **out,
                 int (*fast)(void *user, const char *line, size_t len), void *user)
{
	size_t n;
	int rc;
	cJSON *v;

	*out = NULL;
	if (r->ended < 0)
		return NDJSON_ERR;
	if (r->ended)
		return NDJSON_END;
	rc = read_line(r, &n);
	if (rc < 0)
		return fail(r);
	if (rc == 0) {
		ndjson_error(r, "input ended without an end record (the stage before failed or was "
		             "stopped): the stream was cut short (%ld records read)", r->records);
		return fail(r);
	}
	if (fast) {
		/* read_line never returns more than NDJSON_MAX_LINE bytes and a
		 * newline */
		size_t m = n > 0 && r->line[n - 1] == '\n' ? n - 1 : n;
		r->line[m] = '\0';
		if (fast(user, r->line, m)) {
			r->records++;
			return NDJSON_RECORD;
		}
		if (m < n)
			r->line[m] = '\n';  /* as read, for parse_line */
	}
	if (!(v = parse_line(r, n)))
		return fail(r);
	if (strcmp(cJSON_GetObjectItemCaseSensitive(v, "type")->valuestring, "end") != 0) {
		r->records++;
		*out = v;
		return NDJSON_RECORD;
	}
	rc = check_end(r, v);
	cJSON_Delete(v);
	if (rc)
		return fail(r);
	/* Nothing may follow the end: look now, so a caller that stops at
	 * NDJSON_END cannot miss it. */
	rc = read_line(r, &n);
	if (rc < 0)
		return fail(r);
	if (rc > 0) {
		ndjson_error(r, "line after the end record");
		return fail(r);
	}
	r->ended = 1;
	return NDJSON_END;
}

enum ndjson_status
ndjson_read(struct ndjson_reader *r, cJSON **out)
{
	return ndjson_read_fast(r, out, NULL, NULL);
}

void
ndjson_writer_init(struct ndjson_writer *w, FILE *fp)
{
	memset(w, 0, sizeof *w);
	w->fp = fp;
}

static int
write_line(struct ndjson_writer *w, const cJSON *rec)
{
	char *s;
	int rc = 0;

	if (w->failed)
		return -1;
	s = cJSON_PrintUnformatted(rec);
	if (!s)
		die(EXIT_FAILED, "out of memory");
	/* cJSON passes string bytes through unchecked: text from an API (or a
	 * message cut at a fixed length) may not be UTF-8, and the next stage
	 * would refuse the whole stream for it. Outside strings cJSON writes
	 * ASCII only, so '?' for each bad byte keeps the line valid JSON. */
	if (utf8_sanitize(s, strlen(s)))
		logmsg(LOG_INFO, "a record held text that is not UTF-8; bad bytes written as '?'");
	if (fputs(s, w->fp) == EOF || putc('\n', w->fp) == EOF) {
		weprintf("write error:");
		w->failed = 1;
		rc = -1;
	}
	free(s);
	return rc;
}

int
ndjson_write(struct ndjson_writer *w, const cJSON *rec)
{
	if (write_line(w, rec))
		return -1;
	w->records++;
	return 0;
}

static int
write_end(struct ndjson_writer *w, const char *stage, const char *selection, int interrupted)
{
	cJSON *end = cJSON_CreateObject();
	int rc;

	if (!end || !cJSON_AddStringToObject(end, "type", "end") ||
	    !cJSON_AddStringToObject(end, "stage", stage) ||
	    !cJSON_AddNumberToObject(end, "records", (double)w->records) ||
	    (selection && !cJSON_AddStringToObject(end, "selection", selection)) ||
	    (interrupted && !cJSON_AddTrueToObject(end, "interrupted")))
		die(EXIT_FAILED, "out of memory");
	rc = write_line(w, end);
	cJSON_Delete(end);
	if (rc == 0 && fflush(w->fp) == EOF) {
		weprintf("write error:");
		w->failed = 1;
		rc = -1;
	}
	return rc;
}

int
ndjson_write_end(struct ndjson_writer *w, const char *stage)
{
	return write_end(w, stage, NULL, 0);
}

int
ndjson_write_end_selection(struct ndjson_writer *w, const char *stage, const char *selection)
{
	return write_end(w, stage, selection, 0);
}

int
ndjson_write_end_interrupted(struct ndjson_writer *w, const char *stage)
{
	return write_end(w, stage, NULL, 1);
}

const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
expect(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required,
       int ok, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *type = json_str(obj, "type");

	/* An optional field may be absent or null. */
	if (ok || (!required && (!v || cJSON_IsNull(v))))
		return 0;
	if (!v) {
		if (type)
			ndjson_error(r, "%s has no \"%s\"", type, key);
		else
			ndjson_error(r, "missing \"%s\"", key);
	} else if (type) {
		ndjson_error(r, "%s \"%s\" must be %s", type, key, what);
	} else {
		ndjson_error(r, "\"%s\" must be %s", key, what);
	}
	return -1;
}

int
json_expect_string(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required)
{
	return expect(r, obj, key, required,
	              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, key)), "a string");
}

int
json_expect_object(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required)
{
	return expect(r, obj, key, required,
	              cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, key)), "an object");
}

int
json_expect_array(const struct ndjson_reader *r, const cJSON *obj, const char *key, int required)
{
	return expect(r, obj, key, required,
	              cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(obj, key)), "an array");
}
