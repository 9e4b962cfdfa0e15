/* test_pb: the protobuf codec (lib/pb.c) and StrongDM's messages built on
 * it (lib/sdm_msg.c): canonical encoding, unknown fields skipped, hostile
 * input rejected without over-reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "sdm_internal.h"
#include "tap.h"

static char *
hex(const void *p, size_t n)
{
	const unsigned char *b = p;
	char *s = emalloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[n * 2] = '\0';
	return s;
}

static int
hex_is(const struct buf *b, const char *want, const char *desc)
{
	char *h = hex(b->data, b->len);
	int r = is_str(h, want, "%s", desc);

	free(h);
	return r;
}

/* Read every field; return the count, or -1 on error. */
static int
walk(const void *p, size_t n)
{
	struct pb_reader r;
	struct pb_field f;
	int rc, count = 0;

	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0)
		count++;
	return rc < 0 ? -1 : count;
}

static void
test_varints(void)
{
	struct buf b = { 0 };
	struct pb_reader r;
	struct pb_field f;
	int64_t i64;
	int32_t i32;

	pb_put_varint(&b, 0);
	pb_put_varint(&b, 1);
	pb_put_varint(&b, 127);
	pb_put_varint(&b, 128);
	pb_put_varint(&b, 300);
	hex_is(&b, "00017f8001ac02", "varints 0, 1, 127, 128, 300");
	b.len = 0;
	pb_put_varint(&b, UINT64_MAX);
	hex_is(&b, "ffffffffffffffffff01", "the largest varint takes 10 bytes");
	b.len = 0;

	pb_put_int32(&b, 1, -1);
	hex_is(&b, "08ffffffffffffffffff01", "a negative int32 is sign-extended to 10 bytes");
	pb_reader_init(&r, b.data, b.len);
	ok(pb_next(&r, &f) == 1 && pb_get_int32(&f, &i32) == 0 && i32 == -1, "and reads back as -1");
	b.len = 0;

	pb_put_uint64(&b, 2, (uint64_t)INT64_MIN);
	pb_reader_init(&r, b.data, b.len);
	ok(pb_next(&r, &f) == 1 && f.num == 2 && pb_get_int64(&f, &i64) == 0 && i64 == INT64_MIN,
	   "INT64_MIN round-trips");
	b.len = 0;

	/* Over-long varints. */
	ok(walk("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11) < 0,
	   "a tenth varint byte above 1 is an error");
	ok(walk("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 12) < 0,
	   "an 11-byte varint is an error");
	ok(walk("\x08\x80", 2) < 0, "a varint cut short is an error");
	ok(walk("\x00\x01", 2) < 0, "field number 0 is an error");
	ok(walk("\x0e\x01", 2) < 0, "wire type 6 is an error");
	ok(walk("\x0f\x01", 2) < 0, "wire type 7 is an error");
	buf_clear(&b);
}

static void
test_canonical(void)
{
	struct buf b = { 0 }, sub = { 0 };

	pb_put_uint64(&b, 1, 0);
	pb_put_int32(&b, 2, 0);
	pb_put_string(&b, 4, "");
	pb_put_string(&b, 5, NULL);
	pb_put_bytes(&b, 6, "", 0);
	is_int(b.len, 0, "proto3 defaults are left out");

	pb_put_message(&b, 1, &sub);
	hex_is(&b, "0a00", "a present empty sub-message is written as 0a 00");
	b.len = 0;

	pb_put_uint64(&b, 5, 1);
	pb_put_string(&b, 16, "x");
	hex_is(&b, "280182010178", "bool true and a field number above 15 (two-byte key)");
	buf_clear(&b);
}

static void
test_skip_unknown(void)
{
	/* field 1 varint, field 2 fixed64, field 3 group holding field 1 and a
	 * nested group, field 4 fixed32, field 5 string "hi" */
	static const unsigned char msg[] = {
		0x08, 0x96, 0x01,
		0x11, 1, 2, 3, 4, 5, 6, 7, 8,
		0x1b, 0x08, 0x01, 0x23, 0x08, 0x02, 0x24, 0x1c,
		0x25, 1, 2, 3, 4,
		0x2a, 0x02, 'h', 'i',
	};
	struct pb_reader r;
	struct pb_field f;
	int n = 0, saw_string = 0;

	pb_reader_init(&r, msg, sizeof msg);
	while (pb_next(&r, &f) > 0) {
		n++;
		if (f.num == 5 && f.wt == PB_LEN && f.len == 2 && memcmp(f.data, "hi", 2) == 0)
			saw_string = 1;
		if (f.num == 2)
			ok(f.u == 0x0807060504030201ull, "fixed64 is little-endian");
	}
	is_int(n, 4, "every wire type is read or skipped (the group is skipped whole)");
	ok(saw_string, "the field after a group is found");

	ok(walk("\x1b\x08\x01\x2c", 4) < 0, "a group closed with another number is an error");
	ok(walk("\x1c", 1) < 0, "a group end without a start is an error");
	ok(walk("\x1b\x08\x01", 3) < 0, "an unclosed group is an error");
	{
		/* Groups nested beyond the bound: an error, no stack overflow. */
		unsigned char deep[2 * 1000];
		size_t i;

		for (i = 0; i < 1000; i++)
			deep[i] = 0x0b;
		for (i = 0; i < 1000; i++)
			deep[1000 + i] = 0x0c;
		ok(walk(deep, sizeof deep) < 0, "1000 nested groups are refused");
		ok(walk(deep + 1000 - 5, 10) == 0, "5 nested groups are skipped");
	}
}

static void
test_lengths(void)
{
	struct pb_reader r, sub;
	struct pb_field f;

	ok(walk("\x0a\x05" "abc", 5) < 0, "a length past the end is an error");
	ok(walk("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10) < 0, "a huge length is an error");
	ok(walk("\x09\x01\x02", 3) < 0, "fixed64 cut short is an error");
	ok(walk("\x0d\x01\x02", 3) < 0, "fixed32 cut short is an error");
	ok(walk("", 0) == 0, "an empty message has no fields");
	ok(walk(NULL, 0) == 0, "a NULL message has no fields");

	pb_reader_init(&r, "\x08\x01", 2);
	ok(pb_next(&r, &f) == 1 && pb_sub(&r, &f, &sub) < 0, "a varint is not a sub-message");
	r.depth = PB_MAX_DEPTH - 1;
	pb_reader_init(&r, "\x0a\x00", 2);
	r.depth = PB_MAX_DEPTH - 1;
	ok(pb_next(&r, &f) == 1 && pb_sub(&r, &f, &sub) < 0, "nesting is bounded");
}

static void
test_strings(void)
{
	struct pb_field f = { 0 };
	char *s = NULL;

	f.wt = PB_LEN;
	f.data = (const uint8_t *)"h\xc3\xa9llo";
	f.len = 6;
	ok(pb_get_string(&f, &s) == 0 && strcmp(s, "h\xc3\xa9llo") == 0, "UTF-8 is kept");
	f.data = (const uint8_t *)"a\0b";
	f.len = 3;
	ok(pb_get_string(&f, &s) < 0, "an embedded NUL is an error");
	f.data = (const uint8_t *)"\xff";
	f.len = 1;
	ok(pb_get_string(&f, &s) < 0, "invalid UTF-8 is an error");
	f.data = (const uint8_t *)"\xc3";
	ok(pb_get_string(&f, &s) < 0, "a cut UTF-8 sequence is an error");
	f.data = (const uint8_t *)"\xed\xa0\x80";
	f.len = 3;
	ok(pb_get_string(&f, &s) < 0, "an encoded surrogate is an error");
	f.data = (const uint8_t *)"\xc0\xaf";
	f.len = 2;
	ok(pb_get_string(&f, &s) < 0, "an over-long encoding is an error");
	f.data = (const uint8_t *)"";
	f.len = 0;
	ok(pb_get_string(&f, &s) == 0 && strcmp(s, "") == 0, "an empty string");
	f.wt = PB_VARINT;
	ok(pb_get_string(&f, &s) < 0, "a varint is not a string");
	free(s);
}

/* ---- StrongDM messages */

static void
put_str(struct buf *b, uint32_t n, const char *s)
{
	pb_put_string(b, n, s);
}

static void
put_sub(struct buf *b, uint32_t n, struct buf *sub)
{
	pb_put_message(b, n, sub);
	buf_clear(sub);
}

static void
user(struct buf *items, const char *id, const char *email, int s5, int s10, int has10)
{
	struct buf u = { 0 }, acc = { 0 }, tags = { 0 }, pair = { 0 };

	put_str(&u, 1, id);
	put_str(&u, 2, email);
	put_str(&u, 3, "First");
	put_str(&u, 4, "Last");
	pb_put_uint64(&u, 5, (uint64_t)s5);
	put_str(&pair, 1, "team");
	put_str(&pair, 2, "sre");
	put_sub(&tags, 1, &pair);
	put_sub(&u, 6, &tags);
	put_str(&u, 7, "admin");
	if (has10) {
		/* Written explicitly even when false, as a server might. */
		pb_put_key(&u, 10, PB_VARINT);
		pb_put_varint(&u, (uint64_t)s10);
	}
	put_str(&u, 99, "a field from the future");
	put_sub(&acc, 1, &u);
	put_sub(items, 2, &acc);
}

static void
rate_limit(struct buf *b, uint32_t field, int64_t limit, int64_t remaining, int64_t reset_s, const char *bucket)
{
	struct buf rl = { 0 }, ts = { 0 };

	pb_put_uint64(&rl, 1, (uint64_t)limit);
	pb_put_uint64(&rl, 2, (uint64_t)remaining);
	pb_put_uint64(&ts, 1, (uint64_t)reset_s);
	pb_put_int32(&ts, 2, 500000000);
	put_sub(&rl, 3, &ts);
	put_str(&rl, 4, bucket);
	put_sub(b, field, &rl);
}

static void
test_accounts(void)
{
	struct buf resp = { 0 }, meta = { 0 }, svc = { 0 }, acc = { 0 }, tok = { 0 };
	struct sdm_items it = { SDM_KIND_ACCOUNT, NULL, 0, 0 };
	struct grpc_rate_limit rl;
	struct sdm_account *a;
	char *cursor = NULL;

	put_str(&meta, 1, "next-page");
	put_sub(&resp, 1, &meta);
	user(&resp, "a-1", "alice@example.com", 0, 0, 0);
	user(&resp, "a-2", "bob@example.com", 1, 0, 1);     /* 10 false wins over 5 true */
	user(&resp, "a-3", "carol@example.com", 0, 1, 1);   /* 10 true */
	user(&resp, "a-4", "dave@example.com", 1, 0, 0);    /* only 5: fallback */
	put_str(&svc, 1, "a-5");
	put_str(&svc, 2, "robot");
	pb_put_uint64(&svc, 3, 1);
	put_sub(&acc, 2, &svc);
	put_sub(&resp, 2, &acc);
	put_str(&tok, 1, "a-6");
	put_sub(&acc, 7, &tok);       /* an account kind from the future */
	put_sub(&resp, 2, &acc);
	rate_limit(&resp, 3, 5000, 4990, 1768435200, "read");

	ok(sdm_dec_list_response((uint8_t *)resp.data, resp.len, &it, &cursor, &rl) == 0,
	   "an account list decodes");
	is_int(it.n, 5, "five accounts (the unknown kind left out)");
	is_str(cursor, "next-page", "the next cursor");
	a = it.v;
	if (it.n == 5) {
		is_int(a[0].kind, SDM_ACCOUNT_USER, "a user");
		is_str(a[0].id, "a-1", "its id");
		is_str(a[0].email, "alice@example.com", "its email");
		is_str(a[0].first_name, "First", "its first name");
		is_str(sdm_tags_get(&a[0].tags, "team"), "sre", "its tags");
		is_int(a[0].suspended, 0, "not suspended");
		is_int(a[1].suspended, 0, "field 10 (false) wins over field 5");
		is_int(a[2].suspended, 1, "field 10 true: suspended");
		is_int(a[3].suspended, 1, "field 5 counts when 10 is absent");
		is_int(a[4].kind, SDM_ACCOUNT_SERVICE, "a service account");
		is_str(a[4].name, "robot", "its name");
		is_int(a[4].suspended, 1, "its suspended flag");
	}
	ok(rl.present && rl.limit == 5000 && rl.remaining == 4990 &&
	   rl.reset_at_ms == 1768435200500LL && strcmp(rl.bucket, "read") == 0,
	   "the rate limit metadata");
	free(cursor);

	/* Every truncation of the response is either decodable or an error:
	 * never a crash (ASan/valgrind watch the reads). */
	{
		int errors = 0;
		size_t n0 = it.n;

		for (size_t cut = 0; cut < resp.len; cut++) {
			uint8_t *copy = emalloc(cut ? cut : 1);

			memcpy(copy, resp.data, cut);
			if (sdm_dec_list_response(copy, cut, &it, &cursor, &rl) < 0)
				errors++;
			else
				free(cursor);
			free(copy);
		}
		ok(errors > 0, "truncated responses: %d of %zu rejected, none crashed", errors, resp.len);
		sdm_items_clear(&it);
		it.kind = SDM_KIND_ACCOUNT;
		(void)n0;
	}
	/* Random bytes. */
	{
		unsigned seed = 12345;
		int errors = 0;

		for (int round = 0; round < 20000; round++) {
			uint8_t junk[64];
			size_t n = (size_t)(round % 64);

			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				junk[i] = (uint8_t)(seed >> 16);
			}
			if (sdm_dec_list_response(junk, n, &it, &cursor, &rl) < 0)
				errors++;
			else
				free(cursor);
		}
		ok(1, "20000 random messages decoded without a crash (%d rejected)", errors);
		sdm_items_clear(&it);
	}
	/* Mutations of a valid response. */
	{
		unsigned seed = 99;

		for (int round = 0; round < 20000; round++) {
			uint8_t *copy = emalloc(resp.len);

			memcpy(copy, resp.data, resp.len);
			for (int k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				copy[(seed >> 8) % resp.len] = (uint8_t)(seed >> 20);
			}
			if (sdm_dec_list_response(copy, resp.len, &it, &cursor, &rl) == 0)
				free(cursor);
			free(copy);
		}
		ok(1, "20000 mutated responses decoded without a crash");
		sdm_items_clear(&it);
	}
	buf_clear(&resp);
}

static void
test_other_entities(void)
{
	struct buf resp = { 0 }, meta = { 0 }, g = { 0 }, tags = { 0 }, pair = { 0 }, ag = { 0 };
	struct sdm_items it = { SDM_KIND_GROUP, NULL, 0, 0 };
	struct grpc_rate_limit rl;
	struct sdm_group grp, *gv;
	struct sdm_account_group agr;
	char *cursor = NULL;

	put_sub(&resp, 1, &meta);   /* meta {} : no next cursor */
	put_str(&g, 1, "group-1");
	put_str(&g, 2, "Primary on call");
	put_str(&g, 3, "desc");
	put_str(&g, 4, "oncall-sync");
	put_str(&pair, 1, "managed-by");
	put_str(&pair, 2, "oncall-sync");
	put_sub(&tags, 1, &pair);
	put_str(&pair, 1, "incidentio-schedule-id");
	put_str(&pair, 2, "01G0");
	put_sub(&tags, 1, &pair);
	put_sub(&g, 5, &tags);
	{
		struct buf copy = { 0 };

		buf_append(&copy, g.data, g.len);
		put_sub(&resp, 2, &copy);
	}
	ok(sdm_dec_list_response((uint8_t *)resp.data, resp.len, &it, &cursor, &rl) == 0 &&
	   it.n == 1 && cursor == NULL && !rl.present, "a group list; no cursor means the last page");
	gv = it.v;
	if (it.n == 1) {
		is_str(gv[0].name, "Primary on call", "group name");
		is_str(gv[0].source, "oncall-sync", "group source");
		is_str(sdm_tags_get(&gv[0].tags, "incidentio-schedule-id"), "01G0", "group tag");
		is_int(gv[0].tags.n, 2, "two tags");
	}
	sdm_items_clear(&it);
	buf_clear(&resp);

	/* GroupCreateResponse: 1 meta, 2 group, 3 rate_limit */
	put_sub(&resp, 1, &meta);
	put_sub(&resp, 2, &g);
	rate_limit(&resp, 3, 500, 0, 1768435260, "write");
	ok(sdm_dec_group_response((uint8_t *)resp.data, resp.len, &grp, &rl) == 0 &&
	   strcmp(grp.id, "group-1") == 0 && rl.remaining == 0 && rl.limit == 500,
	   "a group response with its rate limit");
	sdm_group_clear(&grp);
	buf_clear(&resp);
	ok(sdm_dec_group_response((const uint8_t *)"\x0a\x00", 2, &grp, &rl) < 0,
	   "a group response without a group is an error");

	put_str(&ag, 1, "accountgroup-1");
	put_str(&ag, 2, "a-1");
	put_str(&ag, 3, "group-1");
	put_sub(&resp, 2, &ag);
	ok(sdm_dec_account_group_response((uint8_t *)resp.data, resp.len, &agr, &rl) == 0 &&
	   strcmp(agr.id, "accountgroup-1") == 0 && strcmp(agr.account_id, "a-1") == 0 &&
	   strcmp(agr.group_id, "group-1") == 0, "an account group response");
	sdm_account_group_clear(&agr);
	buf_clear(&resp);

	rate_limit(&resp, 2, 500, 499, 1768435260, "write");
	ok(sdm_dec_delete_response((uint8_t *)resp.data, resp.len, &rl) == 0 && rl.remaining == 499,
	   "a delete response");
	buf_clear(&resp);

	{
		struct buf alias = { 0 }, set = { 0 };
		struct sdm_items ai = { SDM_KIND_IDENTITY_ALIAS, NULL, 0, 0 };
		struct sdm_items si = { SDM_KIND_IDENTITY_SET, NULL, 0, 0 };
		struct sdm_identity_alias *av;
		struct sdm_identity_set *sv;

		put_str(&alias, 1, "i-1");
		put_str(&alias, 2, "a-1");
		put_str(&alias, 3, "ig-1");
		put_str(&alias, 4, "01HUSER");
		put_sub(&resp, 2, &alias);
		ok(sdm_dec_list_response((uint8_t *)resp.data, resp.len, &ai, &cursor, &rl) == 0 &&
		   ai.n == 1, "an identity alias list");
		av = ai.v;
		if (ai.n == 1)
			ok(strcmp(av[0].username, "01HUSER") == 0 && strcmp(av[0].identity_set_id, "ig-1") == 0,
			   "alias fields");
		sdm_items_clear(&ai);
		buf_clear(&resp);
		put_str(&set, 1, "ig-1");
		put_str(&set, 2, "incident.io");
		put_sub(&resp, 2, &set);
		ok(sdm_dec_list_response((uint8_t *)resp.data, resp.len, &si, &cursor, &rl) == 0 &&
		   si.n == 1, "an identity set list");
		sv = si.v;
		if (si.n == 1)
			is_str(sv[0].name, "incident.io", "identity set name");
		sdm_items_clear(&si);
		buf_clear(&resp);
	}
}

static void
test_requests(void)
{
	struct buf b = { 0 };
	struct sdm_group g = { 0 };

	sdm_enc_list_request(&b, "c1", 7, "name:\"x\"");
	hex_is(&b, "0a060a026331180712086e616d653a227822", "list request: cursor, limit, filter");
	b.len = 0;
	sdm_enc_id_request(&b, "group-9");
	hex_is(&b, "0a00120767726f75702d39", "get/delete request: meta {} and the id");
	b.len = 0;
	g.id = "group-9";
	g.name = "n";
	g.source = "someone";   /* read-only: never sent */
	sdm_enc_group_update(&b, &g);
	hex_is(&b, "0a00120767726f75702d391a0c0a0767726f75702d3912016e",
	       "update request: meta {}, id, the whole group (without source)");
	buf_clear(&b);
}

static void
test_filters(void)
{
	struct buf f = { 0 };

	sdm_filter_add(&f, "email", "alice@example.com");
	sdm_filter_add_tag(&f, "managed-by", "oncall-sync");
	is_str(f.data, "email:\"alice@example.com\" tag:\"managed-by\"=\"oncall-sync\"",
	       "filter terms joined by a space, values JSON-quoted");
	buf_clear(&f);
	sdm_filter_add(&f, "name", "a\"b\\c\nd\x01");
	is_str(f.data, "name:\"a\\\"b\\\\c\\nd\\u0001\"", "quotes, backslashes and controls escaped");
	buf_clear(&f);
	{
		struct sdm_tags t = { 0 };

		sdm_tags_set(&t, "k", "v1");
		sdm_tags_set(&t, "k", "v2");
		sdm_tags_set(&t, "j", "x");
		ok(t.n == 2 && strcmp(sdm_tags_get(&t, "k"), "v2") == 0 && sdm_tags_get(&t, "z") == NULL,
		   "tags_set replaces a value, tags_get finds it");
		sdm_tags_clear(&t);
	}
}

int
main(void)
{
	test_varints();
	test_canonical();
	test_skip_unknown();
	test_lengths();
	test_strings();
	test_accounts();
	test_other_entities();
	test_requests();
	test_filters();
	return tap_done();
}
