/* ndjson.c: read and write NDJSON lines, one JSON object each.
 *
 * The reader is strict on purpose (DESIGN.md, Safety 1): a line that is
 * not exactly what a stage wrote is refused with its line number, never
 * half-understood. The records and the end rule are lib/record.c's. */
#include <errno.h>
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
}

void
ndjson_reader_clear(struct ndjson_reader *r)
{
	free(r->line);
	free(r->in);
	r->line = NULL;
	r->in = NULL;
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
int
ndjson_read_line(struct ndjson_reader *r, size_t *len)
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

/* Parse and check the line just read. */
static cJSON *
parse_line(struct ndjson_reader *r, size_t n)
{
	const char *msg, *dup, *end = NULL;
	size_t col = 0;
	cJSON *v;

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
	return v;
bad:
	cJSON_Delete(v);
	return NULL;
}

int
ndjson_read(struct ndjson_reader *r, cJSON **out)
{
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = ndjson_read_line(r, &n)) <= 0)
		return rc;
	if (!(*out = parse_line(r, n)))
		return -1;
	return 1;
}

static int
put_line(FILE *fp, const char *s, size_t len)
{
	if (fwrite(s, 1, len, fp) != len || putc('\n', fp) == EOF) {
		weprintf("write error:");
		return -1;
	}
	return 0;
}

int
ndjson_write(FILE *fp, const cJSON *rec)
{
	char *s = cJSON_PrintUnformatted(rec);
	int rc;

	if (!s)
		die(EXIT_FAILED, "out of memory");
	/* cJSON passes string bytes through unchecked: text from an API (or a
	 * message cut at a fixed length) may not be UTF-8, and the next stage
	 * would refuse the whole stream for it. Outside strings cJSON writes
	 * ASCII only, so '?' for each bad byte keeps the line valid JSON. */
	if (utf8_sanitize(s, strlen(s)))
		logmsg(LOG_INFO, "a record held text that is not UTF-8; bad bytes written as '?'");
	rc = put_line(fp, s, strlen(s));
	free(s);
	return rc;
}

int
ndjson_write_text(FILE *fp, const char *text, size_t len)
{
	return put_line(fp, text, len);
}

const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}
