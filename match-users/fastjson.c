/* fastjson.c: the strict scanner of fastjson.h. Every function returns 0
 * when the text is in the strict subset, -1 when it is not (which only
 * means "not for the fast path"). */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fastjson.h"
#include "util.h"

struct fj {
	const unsigned char *p, *end;
};

struct fj_keys {
	const unsigned char *s[FJ_MAX_KEYS];
	size_t n[FJ_MAX_KEYS];
	size_t count;
};

static int value(struct fj *j, int depth);

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
ws(struct fj *j)
{
	const unsigned char *p = j->p, *e = j->end;

	while (p < e && is_ws(*p))
		p++;
	j->p = p;
}

/* ws when there may be some: most often there is none. */
#define WS(j) do { if ((j)->p < (j)->end && is_ws(*(j)->p)) ws(j); } while (0)

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX at p (p[0] is the backslash): its value, or -1. */
static long
hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;

	if (end - p < 6 || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++) {
		int h = hexval(p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Not 0 when some byte of w is '"', '\\', below 0x20 or above 0x7f; then
 * the lowest such byte (in memory order on a little-endian machine) has
 * its high bit set in the result, and no byte before it has. */
static uint64_t
special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | (w - ONES * 0x20) | w) & HIGHS;
}

/* A string at j->p (its opening quote): valid UTF-8, no control byte, only
 * the escapes of RFC 8259 and none of them \u0000 or a lone surrogate. */
static int
string_full(struct fj *j, struct fj_str *out)
{
	const unsigned char *p = j->p + 1, *end = j->end;
	int esc = 0;

	out->s = (const char *)p;
	for (;;) {
		/* Eight bytes at a time up to the first byte that needs a look. */
		uint64_t w, m;
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if ((m = special8(w))) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				p += __builtin_ctzll(m) / 8;   /* exact for the lowest one */
#endif
				break;
			}
			p += 8;
		}
		if (p >= end)
			return -1;
		unsigned char c = *p;
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			esc = 1;
			if (end - p < 2)
				return -1;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u': {
				long cp = hex4(p, end), lo;
				if (cp <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
					return -1;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					lo = hex4(p + 6, end);
					if (lo < 0xdc00 || lo > 0xdfff || p[6] != '\\')
						return -1;
					p += 12;
				} else {
					p += 6;
				}
				continue;
			}
			default:
				return -1;
			}
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		/* A multi-byte sequence, as utf8_check wants it. */
		size_t len = utf8_seq(p, (size_t)(end - p), NULL);
		if (!len)
			return -1;
		p += len;
	}
	out->n = (size_t)(p - (const unsigned char *)out->s);
	out->esc = esc;
	out->null = 0;
	j->p = p + 1;
	return 0;
}

/* string_full for the common case, inline: printable ASCII up to the
 * closing quote, at least eight bytes before the end of the line. */
static inline int
string(struct fj *j, struct fj_str *out)
{
#if defined(__SSE2__)
	/* Sixteen bytes at a time: a signed compare with 0x20 finds both the
	 * control bytes and those above 0x7f. */
	const unsigned char *p = j->p + 1;
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
	              space = _mm_set1_epi8(0x20);
	unsigned int m;

	while (j->end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
			_mm_cmplt_epi8(v, space)));
		if (m) {
			p += __builtin_ctz(m);
			if (*p != '"')
				break;
			out->s = (const char *)j->p + 1;
			out->n = (size_t)(p - j->p - 1);
			out->esc = 0;
			out->null = 0;
			j->p = p + 1;
			return 0;
		}
		p += 16;
	}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const unsigned char *p = j->p + 1;
	uint64_t w, m;

	while (j->end - p >= 8) {
		memcpy(&w, p, 8);
		if ((m = special8(w))) {
			p += __builtin_ctzll(m) / 8;
			if (*p != '"')
				break;
			out->s = (const char *)j->p + 1;
			out->n = (size_t)(p - j->p - 1);
			out->esc = 0;
			out->null = 0;
			j->p = p + 1;
			return 0;
		}
		p += 8;
	}
#endif
	return string_full(j, out);
}

static int
digits(struct fj *j)
{
	const unsigned char *p = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > p ? 0 : -1;
}

/* RFC 8259 numbers only, and at most 63 characters (cJSON copies a number
 * into a 64-byte buffer before strtod). */
static int
number(struct fj *j)
{
	const unsigned char *start = j->p;

	if (*j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return -1;
	if (*j->p == '0')
		j->p++;
	else if (digits(j))
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (digits(j))
			return -1;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (digits(j))
			return -1;
	}
	return j->p - start <= 63 ? 0 : -1;
}

static int
literal(struct fj *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

/* A key at j->p: a string without escapes, not seen before in this object,
 * then the colon and the white space up to the value. */
static int
key(struct fj *j, struct fj_keys *seen, struct fj_str *k)
{
	if (j->p >= j->end || *j->p != '"' || string(j, k) || k->esc)
		return -1;
	for (size_t i = 0; i < seen->count; i++) {
		if (seen->n[i] != k->n)
			continue;
		size_t q = 0;
		while (q < k->n && seen->s[i][q] == (unsigned char)k->s[q])
			q++;
		if (q == k->n)
			return -1;   /* a duplicate: the usual reader names it */
	}
	if (seen->count == FJ_MAX_KEYS)
		return -1;
	seen->s[seen->count] = (const unsigned char *)k->s;
	seen->n[seen->count++] = k->n;
	WS(j);
	if (j->p >= j->end || *j->p != ':')
		return -1;
	j->p++;
	WS(j);
	return 0;
}

/* After a member or element: 1 at the closing byte (consumed), 0 after a
 * comma (white space skipped), -1 otherwise. */
static int
next(struct fj *j, unsigned char close)
{
	WS(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == close) {
		j->p++;
		return 1;
	}
	if (*j->p != ',')
		return -1;
	j->p++;
	WS(j);
	return 0;
}

/* Opening an object or array at j->p: 1 when it is empty (and consumed). */
static int
open_(struct fj *j, unsigned char close)
{
	j->p++;
	WS(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 1;
	}
	return 0;
}

static int
object(struct fj *j, int depth)
{
	struct fj_keys seen;
	struct fj_str k;
	int rc;

	if (depth > FJ_MAX_DEPTH)
		return -1;
	if (open_(j, '}'))
		return 0;
	seen.count = 0;
	do {
		if (key(j, &seen, &k) || value(j, depth))
			return -1;
	} while ((rc = next(j, '}')) == 0);
	return rc > 0 ? 0 : -1;
}

static int
array(struct fj *j, int depth)
{
	int rc;

	if (depth > FJ_MAX_DEPTH)
		return -1;
	if (open_(j, ']'))
		return 0;
	do {
		if (value(j, depth))
			return -1;
	} while ((rc = next(j, ']')) == 0);
	return rc > 0 ? 0 : -1;
}

/* Any value at j->p, inside depth levels of nesting. */
static int
value(struct fj *j, int depth)
{
	struct fj_str s;

	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"':
		return string(j, &s);
	case '{':
		return object(j, depth + 1);
	case '[':
		return array(j, depth + 1);
	case 't':
		return literal(j, "true", 4);
	case 'f':
		return literal(j, "false", 5);
	case 'n':
		return literal(j, "null", 4);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return number(j);
		return -1;
	}
}

static int
is_key(const struct fj_str *k, const char *name, size_t n)
{
	if (k->n != n || k->s[0] != name[0])
		return 0;
	for (size_t i = 1; i < n; i++)   /* short names: no call to memcmp */
		if (k->s[i] != name[i])
			return 0;
	return 1;
}

struct name {
	const char *s;
	size_t n;
};
#define NAME(lit) { lit, sizeof(lit) - 1 }

#define IS(k, lit) is_key((k), (lit), sizeof(lit) - 1)

/* A string or null value (into out), -1 for anything else. */
static int
string_or_null(struct fj *j, struct fj_str *out)
{
	if (j->p < j->end && *j->p == '"')
		return string(j, out);
	if (literal(j, "null", 4))
		return -1;
	memset(out, 0, sizeof *out);
	out->null = 1;
	return 0;
}

/* Members of an object at j->p (its opening brace), at nesting depth
 * (counting this object). For each of the names given, a string or null
 * value is required and stored; other members may be anything. Members
 * named in refuse make it fail. */
static int
object_fields(struct fj *j, int depth, const struct name *names, struct fj_str *vals,
              size_t nnames, const struct name *refuse)
{
	struct fj_keys seen;
	struct fj_str k;
	int rc;

	for (size_t i = 0; i < nnames; i++)
		memset(&vals[i], 0, sizeof vals[i]);
	if (j->p >= j->end || *j->p != '{' || depth > FJ_MAX_DEPTH)
		return -1;
	if (open_(j, '}'))
		return 0;
	seen.count = 0;
	do {
		size_t i;
		if (key(j, &seen, &k))
			return -1;
		for (i = 0; i < nnames; i++)
			if (is_key(&k, names[i].s, names[i].n))
				break;
		if (i < nnames) {
			if (string_or_null(j, &vals[i]))
				return -1;
			continue;
		}
		for (const struct name *r = refuse; r && r->s; r++)
			if (is_key(&k, r->s, r->n))
				return -1;
		if (value(j, depth))
			return -1;
	} while ((rc = next(j, '}')) == 0);
	return rc > 0 ? 0 : -1;
}

static const struct name entry_names[] = { NAME("id"), NAME("email"), NAME("name"), NAME("until") };
static const struct name entry_refuse[] = { NAME("account"), NAME("unmatched"), NAME("reason"),
                                            { NULL, 0 } };

/* The "oncall" array at j->p; line is where offsets count from. */
static int
oncall(struct fj *j, struct fj_roster *fr, enum match_by by, const char *line)
{
	int rc;

	if (j->p >= j->end || *j->p != '[')
		return -1;
	if (open_(j, ']'))
		return 0;
	do {
		struct fj_str f[4];
		struct roster_entry *e;
		const unsigned char *start = j->p;
		if (object_fields(j, 3, entry_names, f, 4, entry_refuse))
			return -1;
		/* roster_check: a non-empty string id; email, name and until
		 * strings or null. */
		if (!f[0].s || f[0].n == 0 || f[0].esc)
			return -1;
		if (by == MATCH_BY_EMAIL && f[1].s && f[1].esc)
			return -1;
		if (fr->n == fr->cap) {
			fr->cap = fr->cap ? fr->cap * 2 : 16;
			fr->ents = erealloc(fr->ents, fr->cap * sizeof *fr->ents);
			fr->keys = erealloc(fr->keys, fr->cap * sizeof *fr->keys);
		}
		e = &fr->ents[fr->n];
		e->start = (uint32_t)((const char *)start - line);
		e->end = (uint32_t)((const char *)j->p - 1 - line);
		e->key = -1;
		fr->keys[fr->n++] = by == MATCH_BY_ALIAS ? f[0] : f[1];
	} while ((rc = next(j, ']')) == 0);
	return rc > 0 ? 0 : -1;
}

void
fj_roster_free(struct fj_roster *fr)
{
	free(fr->ents);
	free(fr->keys);
	free(fr->norm);
	free(fr->kp);
	free(fr->kl);
	free(fr->kv);
	memset(fr, 0, sizeof *fr);
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int
fj_roster_parse(struct fj_roster *fr, struct match_index *idx, const char *line, size_t len)
{
	static const struct name sched_names[] = { NAME("id"), NAME("name") };
	struct fj j = { (const unsigned char *)line, (const unsigned char *)line + len };
	struct fj_keys seen;
	struct fj_str k, type = { 0 }, sched[2];
	int rc, have_sched = 0, have_oncall = 0;
	enum match_by by = match_index_by(idx);

	if (len > UINT32_MAX)
		return 0;
	fr->n = 0;
	ws(&j);
	if (j.p >= j.end || *j.p != '{' || open_(&j, '}'))
		return 0;
	seen.count = 0;
	do {
		if (key(&j, &seen, &k))
			return 0;
		if (IS(&k, "type")) {
			if (j.p >= j.end || *j.p != '"' || string(&j, &type))
				return 0;
		} else if (IS(&k, "schedule")) {
			if (object_fields(&j, 2, sched_names, sched, 2, NULL))
				return 0;
			have_sched = 1;
		} else if (IS(&k, "at")) {
			/* roster_check: a string (or null) */
			struct fj_str at;
			if (string_or_null(&j, &at))
				return 0;
		} else if (IS(&k, "window")) {
			/* roster_check: an object whose from and to are strings */
			static const struct name window_names[] = { NAME("from"), NAME("to") };
			struct fj_str w[2];
			if (j.p < j.end && *j.p == 'n') {
				if (value(&j, 1))
					return 0;
			} else if (object_fields(&j, 2, window_names, w, 2, NULL)) {
				return 0;
			}
		} else if (IS(&k, "oncall")) {
			if (oncall(&j, fr, by, line))
				return 0;
			have_oncall = 1;
		} else if (value(&j, 1)) {
			return 0;
		}
	} while ((rc = next(&j, '}')) == 0);
	if (rc < 0)
		return 0;
	ws(&j);
	if (j.p != j.end)
		return 0;
	if (!type.s || type.esc || !IS(&type, "roster") || !have_sched || !have_oncall)
		return 0;
	/* roster_check: a string schedule id; the name a string or null.
	 * roster_schedule_label: the name when not empty, else the id. */
	if (!sched[0].s || sched[0].n == 0 || sched[0].esc || sched[1].esc)
		return 0;
	fr->label = sched[1].s && sched[1].n ? sched[1] : sched[0];

	/* Every check passed: note the keys, as roster_need would. */
	if (fr->n > fr->capbatch) {
		fr->capbatch = fr->cap;
		fr->kp = erealloc(fr->kp, fr->capbatch * sizeof *fr->kp);
		fr->kl = erealloc(fr->kl, fr->capbatch * sizeof *fr->kl);
		fr->kv = erealloc(fr->kv, fr->capbatch * sizeof *fr->kv);
	}
	size_t total = 0;
	for (size_t i = 0; i < fr->n; i++) {
		const struct fj_str *ks = &fr->keys[i];
		fr->kp[i] = NULL;
		fr->kl[i] = 0;
		if (!ks->s)
			continue;
		if (by == MATCH_BY_ALIAS) {
			fr->kp[i] = ks->s;
			fr->kl[i] = ks->n;
			continue;
		}
		/* match_normalize_email: trimmed (here), ASCII letters
		 * lower-cased (below, into norm) */
		const char *a = ks->s, *b = ks->s + ks->n;
		while (a < b && is_space((unsigned char)*a))
			a++;
		while (b > a && is_space((unsigned char)b[-1]))
			b--;
		if (a == b)
			continue;
		fr->kp[i] = a;
		fr->kl[i] = (size_t)(b - a);
		total += (size_t)(b - a);
	}
	if (by == MATCH_BY_EMAIL) {
		size_t used = 0;
		if (total > fr->capnorm) {
			fr->capnorm = total * 2;
			fr->norm = erealloc(fr->norm, fr->capnorm);
		}
		for (size_t i = 0; i < fr->n; i++) {
			const char *from = fr->kp[i];
			char *to;
			size_t kn = fr->kl[i];
			if (!from)
				continue;
			to = fr->norm + used;   /* norm is NULL while no entry has an email */
			for (size_t q = 0; q < kn; q++) {
				char c = from[q];
				to[q] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
			}
			fr->kp[i] = to;
			used += kn;
		}
	}
	match_need_many(idx, fr->kp, fr->kl, fr->n, fr->kv);
	for (size_t i = 0; i < fr->n; i++)
		fr->ents[i].key = fr->kv[i];
	return 1;
}

int
fj_entry_fields(const char *s, size_t n, struct fj_str *id, struct fj_str *email,
                struct fj_str *name)
{
	struct fj j = { (const unsigned char *)s, (const unsigned char *)s + n };
	struct fj_str f[3];

	if (object_fields(&j, 3, entry_names, f, 3, NULL) || j.p != j.end)
		return -1;
	*id = f[0];
	*email = f[1];
	*name = f[2];
	return 0;
}

int
fj_account_line(const char *line, size_t len, struct fj_field f[FJA_N])
{
	static const struct name names[FJA_N] = {
		NAME("type"), NAME("id"), NAME("email"), NAME("suspended"), NAME("identity_set"),
		NAME("username"), NAME("account_id"), NAME("name")
	};
	struct fj j = { (const unsigned char *)line, (const unsigned char *)line + len };
	struct fj_str k, s;
	int rc;

	memset(f, 0, FJA_N * sizeof *f);
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -1;
	if (!open_(&j, '}')) {
		do {
			size_t i;
			struct fj_keys seen;
			/* duplicates are cJSON's business here: the first one counts */
			seen.count = 0;
			if (key(&j, &seen, &k))
				return -1;
			for (i = 0; i < FJA_N; i++)
				if (is_key(&k, names[i].s, names[i].n))
					break;
			if (i == FJA_N || f[i].type) {
				if (value(&j, 1))
					return -1;
				continue;
			}
			if (j.p >= j.end)
				return -1;
			switch (*j.p) {
			case '"':
				if (string(&j, &s) || s.esc)
					return -1;
				f[i] = (struct fj_field){ cJSON_String, s.s, s.n };
				break;
			case 't':
				if (literal(&j, "true", 4))
					return -1;
				f[i].type = cJSON_True;
				break;
			case 'f':
				if (literal(&j, "false", 5))
					return -1;
				f[i].type = cJSON_False;
				break;
			case 'n':
				if (literal(&j, "null", 4))
					return -1;
				f[i].type = cJSON_NULL;
				break;
			case '{':
				if (object(&j, 2))
					return -1;
				f[i].type = cJSON_Object;
				break;
			case '[':
				if (array(&j, 2))
					return -1;
				f[i].type = cJSON_Array;
				break;
			default:
				if (value(&j, 1))
					return -1;
				f[i].type = cJSON_Number;
				break;
			}
		} while ((rc = next(&j, '}')) == 0);
		if (rc < 0)
			return -1;
	}
	ws(&j);
	return j.p == j.end ? 0 : -1;
}
