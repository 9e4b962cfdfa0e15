/* test_match_fast.c: match-users' fast path (match-users/fastjson.c) must
 * never accept what the strict reader and roster_check refuse, and must
 * note the same keys and label; the splicing writer with known offsets
 * must write and warn as the scanning one does; the --accounts fast path
 * must read fields as cJSON does. Random mutations of good lines check the
 * first property beyond the hand-written cases. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
#include "ndjson.h"
#include "../../match-users/fastjson.h"
#include "../../match-users/match.h"
#include "../../match-users/roster.h"

static int quiet_fd = -1;

static void
quiet(int on)
{
	fflush(stderr);
	if (on) {
		int null = open("/dev/null", O_WRONLY);
		quiet_fd = dup(2);
		dup2(null, 2);
		close(null);
	} else {
		dup2(quiet_fd, 2);
		close(quiet_fd);
	}
}

/* What the usual path makes of a line: 1 a roster for the splicing path
 * (keys noted in idx, appended to keys as key strings joined by \n, "-"
 * for none; label copied), 0 anything else (refused, another type, or an
 * annotated roster). */
static int
slow(struct match_index *idx, const char *line, size_t len, struct buf *keys, struct buf *label)
{
	struct ndjson_reader r;
	struct buf text = { 0 }, scratch = { 0 }, kb = { 0 };
	cJSON *rec = NULL;
	FILE *fp;
	int rc = 0;

	buf_append(&text, line, len);
	buf_append(&text, "\n", 1);
	fp = fmemopen(text.data, text.len, "r");
	ndjson_reader_init(&r, fp, "<test>");
	if (ndjson_read(&r, &rec) == NDJSON_RECORD && strcmp(json_str(rec, "type"), "roster") == 0 &&
	    roster_check(&r, rec) == 0 && roster_need(idx, rec, &scratch, &kb) == 1) {
		const int32_t *k = (const int32_t *)kb.data;
		for (size_t i = 0; i < kb.len / sizeof *k; i++) {
			const char *s = k[i] >= 0 ? match_key(idx, (size_t)k[i]) : "-";
			buf_puts(keys, s);
			buf_puts(keys, "\n");
		}
		buf_puts(label, roster_schedule_label(rec));
		rc = 1;
	}
	cJSON_Delete(rec);
	ndjson_reader_free(&r);
	fclose(fp);
	buf_clear(&text);
	buf_clear(&scratch);
	buf_clear(&kb);
	return rc;
}

/* The fast path's verdict, in the same form. */
static int
fast(struct match_index *idx, struct fj_roster *fr, const char *line, size_t len,
     struct buf *keys, struct buf *label)
{
	if (!fj_roster_parse(fr, idx, line, len))
		return 0;
	for (size_t i = 0; i < fr->n; i++) {
		const char *s = fr->ents[i].key >= 0 ? match_key(idx, (size_t)fr->ents[i].key) : "-";
		buf_puts(keys, s);
		buf_puts(keys, "\n");
	}
	buf_append(label, fr->label.s, fr->label.n);
	return 1;
}

static int compared, fast_taken, mismatches;

/* Both paths on one line: the fast one may decline, but what it accepts
 * the usual one accepts alike. Returns the fast verdict. */
static int
compare(const char *line, size_t len, enum match_by by, int verbose)
{
	struct match_index *a = match_index_new(by), *b = match_index_new(by);
	struct fj_roster fr = { 0 };
	struct buf ka = { 0 }, kb = { 0 }, la = { 0 }, lb = { 0 };
	char *copy = emalloc(len + 1);
	int f, s;

	memcpy(copy, line, len);
	copy[len] = '\0';
	buf_puts(&ka, "");
	buf_puts(&kb, "");
	buf_puts(&la, "");
	buf_puts(&lb, "");
	f = fast(a, &fr, copy, len, &ka, &la);
	if (!f && match_key_count(a) != 0)
		f = -1;   /* declined but noted keys: wrong */
	quiet(1);
	s = slow(b, line, len, &kb, &lb);
	quiet(0);
	compared++;
	if (f == 1)
		fast_taken++;
	if (f < 0 || (f && (!s || strcmp(ka.data, kb.data) != 0 || strcmp(la.data, lb.data) != 0))) {
		mismatches++;
		if (verbose || mismatches < 5)
			printf("# mismatch (fast %d, slow %d) on: %.*s\n#  keys %s / %s\n", f, s,
			       (int)(len > 300 ? 300 : len), line, ka.data, kb.data);
	}
	fj_roster_free(&fr);
	match_index_free(a);
	match_index_free(b);
	buf_clear(&ka);
	buf_clear(&kb);
	buf_clear(&la);
	buf_clear(&lb);
	free(copy);
	return f;
}

static const char *const good[] = {
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S1\",\"name\":\"Sched\"},\"at\":\"2026-11-29T07:00:00Z\","
	"\"window\":{\"from\":\"a\",\"to\":\"b\"},\"oncall\":[{\"id\":\"U1\",\"email\":\" A@X.com \","
	"\"name\":\"Alice\",\"until\":\"2026\"},{\"id\":\"U2\",\"email\":null,\"name\":null},{\"id\":\"U3\"},"
	"{\"id\":\"U4\",\"email\":\"b@x.com\",\"name\":\"Jos\\u00e9 \\\"Q\\\" Zo\xc3\xab \xf0\x9f\x98\x80\","
	"\"tags\":[1,2.5,-3e4,0,-0.0e+1,true,false,null,{\"k\":[]},{}]}]}",
	"{\"type\":\"roster\",\"schedule\":{\"name\":null,\"id\":\"S2\"},\"oncall\":[]}",
	"{\"oncall\":[{\"email\":\"\",\"id\":\"U5\"},{\"id\":\"U6\",\"email\":\"   \"}],\"schedule\":{\"id\":\"S4\",\"name\":\"\"},\"type\":\"roster\"}",
	" { \"type\" : \"roster\" ,\t\"schedule\" : { \"id\" : \"S3\" } , \"oncall\" : [ { \"id\" : \"U7\" , \"email\" : \"c@x.com\" } ] }\r",
};

/* Lines the fast path must leave to the usual one (each breaks one rule). */
static const char *const declined[] = {
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"\"},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"at\":7,\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"window\":\"w\",\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"window\":{\"from\":1},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"until\":5}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"a\x01\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"a\\u0000\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\\ud800\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\\udc00\\ud800\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\\uZZZZ\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\\x\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\xc3\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\xed\xa0\x80\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\xe0\x80\xaf\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"name\":\"\xf4\x90\x80\x80\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"id\":\"V\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"\\u0069d\":\"V\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\",\"x\":{\"a\":1,\"a\":2}},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"account\":{}}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"unmatched\":\"x\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\\u0031\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"email\":\"a\\u0040b\"}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[{\"id\":\"U\",\"email\":5}]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[\"U\"]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":{}}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":1},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\",\"name\":2},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\\\"\"},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":[],\"oncall\":[]}",
	"{\"type\":\"roster\",\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"}}",
	"{\"type\":\"r\\u006fster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]}",
	"{\"type\":\"end\",\"stage\":\"x\",\"records\":0}",
	"{\"type\":\"other\"}",
	"{\"schedule\":{\"id\":\"S\"},\"oncall\":[]}",
	"\xef\xbb\xbf{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]}x",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]",
	"{\"type\":\"roster\",\f\"schedule\":{\"id\":\"S\"},\"oncall\":[]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":01}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":1.}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":+1}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":1e}",
	("{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],"
	 "\"n\":1234567890123456789012345678901234567890123456789012345678901234}"),
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":tru}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":[1,]}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":{\"a\":1,}}",
	"{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}",
	"",
	"   ",
};

static void
test_cases(void)
{
	size_t n = sizeof good / sizeof *good;

	for (size_t i = 0; i < n; i++)
		for (int by = 0; by < 2; by++)
			is_int(compare(good[i], strlen(good[i]), by, 1), 1,
			       "good line %zu (%s): fast path taken, same keys and label as the usual one",
			       i + 1, by ? "alias" : "email");
	for (size_t i = 0; i < sizeof declined / sizeof *declined; i++)
		is_int(compare(declined[i], strlen(declined[i]), MATCH_BY_EMAIL, 1), 0,
		       "declined line %zu left to the usual path", i + 1);
	/* a number of 63 characters is cJSON's limit; the fast path may take it */
	const char *l63 = "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],"
	                  "\"n\":123456789012345678901234567890123456789012345678901234567890123}";
	is_int(compare(l63, strlen(l63), MATCH_BY_EMAIL, 1), 1, "a 63-character number is fine");
	/* nesting: 16 levels still fast, the usual path's limit of 64 untouched */
	struct buf deep = { 0 };
	buf_puts(&deep, "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[],\"n\":");
	for (int i = 0; i < 70; i++)
		buf_puts(&deep, "[");
	for (int i = 0; i < 70; i++)
		buf_puts(&deep, "]");
	buf_puts(&deep, "}");
	is_int(compare(deep.data, deep.len, MATCH_BY_EMAIL, 1), 0, "70 levels deep: declined");
	buf_clear(&deep);
	/* more keys than the fast path keeps track of */
	struct buf many = { 0 };
	buf_puts(&many, "{\"type\":\"roster\",\"schedule\":{\"id\":\"S\"},\"oncall\":[]");
	for (int i = 0; i < 40; i++)
		buf_printf(&many, ",\"k%d\":%d", i, i);
	buf_puts(&many, "}");
	is_int(compare(many.data, many.len, MATCH_BY_EMAIL, 1), 0, "43 keys in one object: declined");
	buf_clear(&many);
}

static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static void
test_mutations(void)
{
	static const char pool[] = "{}[]\",:\\ 0aZu\x00\x80\xff\xc3\xa9\x7f\x1f\xed\xf0.e-+";
	struct buf b = { 0 };
	int iterations = 30000;

	compared = fast_taken = mismatches = 0;
	for (int it = 0; it < iterations; it++) {
		const char *g = good[rnd(sizeof good / sizeof *good)];
		b.len = 0;
		buf_append(&b, g, strlen(g));
		int ops = 1 + (int)rnd(3);
		for (int o = 0; o < ops && b.len > 0; o++) {
			size_t i = rnd((uint32_t)b.len), j;
			char c = pool[rnd(sizeof pool - 1)];
			switch (rnd(4)) {
			case 0:
				b.data[i] = c;
				break;
			case 1:
				memmove(b.data + i, b.data + i + 1, b.len - i - 1);
				b.len--;
				break;
			case 2:
				buf_append(&b, "", 1);   /* room for one more */
				memmove(b.data + i + 1, b.data + i, b.len - i - 1);
				b.data[i] = c;
				break;
			default:
				/* copy a piece elsewhere: duplicate keys, nesting, ... */
				j = rnd((uint32_t)b.len);
				size_t k = 1 + rnd(12);
				if (j + k > b.len)
					k = b.len - j;
				char piece[16];
				memcpy(piece, b.data + j, k);
				buf_append(&b, piece, k);
				memmove(b.data + i + k, b.data + i, b.len - i - k);
				memcpy(b.data + i, piece, k);
				break;
			}
		}
		compare(b.data, b.len, rnd(2) ? MATCH_BY_EMAIL : MATCH_BY_ALIAS, 0);
	}
	buf_clear(&b);
	is_int(mismatches, 0, "%d mutated lines: the fast path never accepts what the usual one refuses",
	       compared);
	ok(fast_taken > 100 && fast_taken < compared, "and it was taken for some (%d) of them",
	   fast_taken);
}

static int warnings;
static struct buf warned;

static void
collect(void *user, const char *w)
{
	(void)user;
	warnings++;
	buf_puts(&warned, w);
	buf_puts(&warned, "\n");
}

/* roster_write_at with the fast scanner's offsets writes and warns as
 * roster_write_fast (which scans) does. */
static void
test_write_at(void)
{
	struct match_index *idx = match_index_new(MATCH_BY_EMAIL);
	struct fj_roster fr = { 0 };
	struct roster_verdicts v;
	struct buf out = { 0 }, w1 = { 0 };
	char *copy = estrdup(good[0]), *mem = NULL;
	size_t memlen = 0;
	FILE *fp;
	int32_t keys[16];

	ok(fj_roster_parse(&fr, idx, copy, strlen(copy)), "the roster takes the fast path");
	match_add_account(idx, "a-1", MATCH_USER, "a@x.com", 0);
	match_add_account(idx, "a-2", MATCH_USER, "b@x.com", 1);
	roster_verdicts_init(&v, idx);
	warnings = 0;
	buf_clear(&warned);
	buf_puts(&warned, "");
	is_int(roster_write_at(&out, copy, strlen(copy), fr.ents, fr.n, "Sched", &v, collect, NULL), 0,
	       "written with known offsets");
	buf_puts(&w1, warned.data);
	warned.len = 0;
	warned.data[0] = '\0';
	for (size_t i = 0; i < fr.n; i++)
		keys[i] = fr.ents[i].key;
	fp = open_memstream(&mem, &memlen);
	is_int(roster_write_fast(fp, copy, strlen(copy), keys, fr.n, "Sched", &v, collect, NULL), 0,
	       "written by scanning");
	fclose(fp);
	is_int((long)memlen, (long)out.len, "the same length");
	ok(memlen == out.len && memcmp(mem, out.data, memlen) == 0, "the same bytes");
	is_str(warned.data, w1.data, "the same warnings");
	is_int(warnings, 6, "three unmatched people, warned twice over");
	ok(strstr(w1.data, "Sched: Jos\xc3\xa9 \"Q\" Zo\xc3\xab \xf0\x9f\x98\x80 (b@x.com, U4): StrongDM user a-2") != NULL,
	   "an escaped name is decoded in the warning");
	ok(strstr(w1.data, "Sched: U2 (U2): no email in incident.io; check") != NULL,
	   "no name, no email: the id stands in");
	free(mem);
	free(copy);
	buf_clear(&out);
	buf_clear(&w1);
	buf_clear(&warned);
	roster_verdicts_free(&v);
	fj_roster_free(&fr);
	match_index_free(idx);
}

/* fj_account_line against cJSON on the fields accounts_file.c reads. */
static void
test_account_lines(void)
{
	static const char *const lines[] = {
		"{\"type\":\"user\",\"id\":\"a-1\",\"email\":\"A@x.com\",\"suspended\":false,\"first_name\":\"A\"}",
		"{\"type\":\"user\",\"id\":\"a-1\",\"email\":null,\"suspended\":true}",
		"{\"type\":\"user\",\"type\":\"service\",\"id\":\"a-2\"}",
		"{\"type\":\"alias\",\"identity_set\":\"incidentio\",\"username\":\"U1\",\"account_id\":\"a-1\"}",
		"{\"type\":\"identity_set\",\"id\":\"ig-1\",\"name\":\"incidentio\",\"x\":{\"y\":[1,{}]}}",
		"{\"type\":\"user\",\"id\":5,\"email\":[],\"suspended\":{}}",
		"{\"type\":\"user\",\"id\":\"a\\u0031\"}",
		"{\"type\":\"user\",\"id\":\"a-1\"} junk",
		"[1]",
	};
	static const char *const names[FJA_N] = {
		"type", "id", "email", "suspended", "identity_set", "username", "account_id", "name"
	};
	static const int want[] = { 0, 0, 0, 0, 0, 0, -1, -1, -1 };

	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		struct fj_field f[FJA_N];
		int rc = fj_account_line(lines[i], strlen(lines[i]), f), same = 1;
		is_int(rc, want[i], "account line %zu: %s", i + 1, want[i] ? "left to cJSON" : "fast");
		if (rc)
			continue;
		cJSON *o = cJSON_Parse(lines[i]);
		for (int k = 0; k < FJA_N; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, names[k]);
			int t = v ? (v->type & 0xff) : 0;
			if (t != f[k].type)
				same = 0;
			else if (t == cJSON_String &&
			         (strlen(v->valuestring) != f[k].n || memcmp(v->valuestring, f[k].s, f[k].n)))
				same = 0;
		}
		ok(same, "account line %zu: the fields cJSON finds", i + 1);
		cJSON_Delete(o);
	}
}

int
main(void)
{
	log_init("test_match_fast");
	test_cases();
	test_mutations();
	test_write_at();
	test_account_lines();
	return tap_done();
}
