/* fuzz_pb: the protobuf reader and every StrongDM response decoder over
 * arbitrary bytes.
 *
 * The generic walk checks the reader's promises (fields inside the buffer,
 * legal numbers and wire types, bounded depth), that a message read and
 * written again with the writer reads back as the same fields, and that
 * pb_utf8_valid agrees with an independent UTF-8 check. Then the input is
 * decoded as every StrongDM response and entity; everything is freed.
 * fuzz-sources: lib/pb.c lib/sdm_msg.c lib/grpc.c lib/util.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "sdm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer passes NULL for the empty input; the client never does (a
 * message's bytes point into the response), so give the decoders an empty
 * buffer. NULL reaching pb_reader_init is covered by a regression input. */
static const uint8_t fuzz_empty[1];

/* Independent UTF-8 check (RFC 3629 table), NUL refused as pb wants. */
static int
utf8_ref(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t a = p[i];
		if (a == 0)
			return 0;
		if (a <= 0x7f) {
			i++;
		} else if (a >= 0xc2 && a <= 0xdf) {
			if (n - i < 2 || (p[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if (a >= 0xe0 && a <= 0xef) {
			uint8_t lo = a == 0xe0 ? 0xa0 : 0x80, hi = a == 0xed ? 0x9f : 0xbf;
			if (n - i < 3 || p[i + 1] < lo || p[i + 1] > hi || (p[i + 2] & 0xc0) != 0x80)
				return 0;
			i += 3;
		} else if (a >= 0xf0 && a <= 0xf4) {
			uint8_t lo = a == 0xf0 ? 0x90 : 0x80, hi = a == 0xf4 ? 0x8f : 0xbf;
			if (n - i < 4 || p[i + 1] < lo || p[i + 1] > hi ||
			    (p[i + 2] & 0xc0) != 0x80 || (p[i + 3] & 0xc0) != 0x80)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Read every field (recursing into length-delimited ones), re-encoding the
 * top level into out. Returns pb_next's final answer. */
static int
walk(struct pb_reader *r, const uint8_t *start, const uint8_t *end, struct buf *out)
{
	struct pb_field f;
	struct pb_reader sub;
	int rc;

	while ((rc = pb_next(r, &f)) > 0) {
		if (f.num == 0 || f.num > PB_MAX_FIELD)
			abort();
		switch (f.wt) {
		case PB_VARINT:
		case PB_FIXED64:
		case PB_FIXED32: {
			int64_t i64;
			int32_t i32;
			int b;
			int want = f.wt == PB_VARINT ? 0 : -1;

			if (pb_get_int64(&f, &i64) != want ||
			    pb_get_int32(&f, &i32) != want || pb_get_bool(&f, &b) != want)
				abort();
			if (f.wt == PB_FIXED32 && f.u > UINT32_MAX)
				abort();
			if (out) {
				pb_put_key(out, f.num, f.wt);
				if (f.wt == PB_VARINT) {
					pb_put_varint(out, f.u);
				} else {
					uint8_t le[8];
					int k = f.wt == PB_FIXED64 ? 8 : 4;
					for (int j = 0; j < k; j++)
						le[j] = (uint8_t)(f.u >> (8 * j));
					buf_append(out, le, (size_t)k);
				}
			}
			break;
		}
		case PB_LEN: {
			char *s = NULL;
			int valid = utf8_ref(f.data, f.len);

			if (f.len && (f.data < start || f.data + f.len > end || f.data + f.len < f.data))
				abort();
			if (pb_utf8_valid(f.data, f.len) != valid)
				abort();
			if (pb_get_string(&f, &s) != (valid ? 0 : -1))
				abort();
			if (s && (strlen(s) != f.len || memcmp(s, f.data, f.len) != 0))
				abort();
			free(s);
			if (pb_sub(r, &f, &sub) == 0) {
				if (sub.depth != r->depth + 1 || sub.depth >= PB_MAX_DEPTH)
					abort();
				(void)walk(&sub, f.data, f.data + f.len, NULL);
			} else if (r->depth + 1 < PB_MAX_DEPTH) {
				abort();
			}
			if (out) {
				pb_put_key(out, f.num, PB_LEN);
				pb_put_varint(out, f.len);
				if (f.len)
					buf_append(out, f.data, f.len);
			}
			break;
		}
		default:
			abort(); /* groups are skipped, never returned */
		}
	}
	if (rc != 0 && rc != -1)
		abort();
	return rc;
}

/* The fields of a message without groups, as (num, wt, value/bytes). */
static int
same_fields(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct pb_reader ra, rb;
	struct pb_field fa, fb;
	int x, y;

	pb_reader_init(&ra, a, an);
	pb_reader_init(&rb, b, bn);
	for (;;) {
		x = pb_next(&ra, &fa);
		y = pb_next(&rb, &fb);
		if (x != y)
			return 0;
		if (x <= 0)
			return 1;
		if (fa.num != fb.num || fa.wt != fb.wt || fa.u != fb.u || fa.len != fb.len ||
		    (fa.len && memcmp(fa.data, fb.data, fa.len) != 0))
			return 0;
	}
}

static void
list_kind(enum sdm_kind kind, const uint8_t *data, size_t size)
{
	struct sdm_items it = { .kind = kind };
	struct grpc_rate_limit rl;
	char *cursor = (char *)1;
	size_t n1;

	if (sdm_dec_list_response(data, size, &it, &cursor, &rl) == 0) {
		if (cursor && !*cursor)
			abort(); /* an empty cursor means done: NULL */
		free(cursor);
	} else if (cursor || it.n) {
		abort(); /* a failed decode adds nothing */
	}
	/* A second page into the same array keeps the first page's items. */
	n1 = it.n;
	cursor = (char *)1;
	if (sdm_dec_list_response(data, size, &it, &cursor, &rl) == 0) {
		if (it.n != 2 * n1)
			abort();
		free(cursor);
	} else if (cursor || it.n != n1) {
		abort();
	}
	sdm_items_clear(&it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data0, size_t size)
{
	const uint8_t *data = data0 ? data0 : fuzz_empty;
	struct pb_reader r;
	struct buf again = { 0 };
	struct grpc_rate_limit rl;
	struct sdm_account acc;
	struct sdm_group g;
	struct sdm_account_group ag;
	struct sdm_identity_set is;
	struct sdm_identity_alias ia;
	int rc;

	pb_reader_init(&r, data, size);
	if (walk(&r, data, data + size, &again) == 0) {
		/* Groups aside, writing what was read gives the same fields. */
		if (!same_fields(data, size, again.data ? (const uint8_t *)again.data : fuzz_empty, again.len))
			abort();
	}
	buf_clear(&again);

	list_kind(SDM_KIND_ACCOUNT, data, size);
	list_kind(SDM_KIND_IDENTITY_SET, data, size);
	list_kind(SDM_KIND_IDENTITY_ALIAS, data, size);
	list_kind(SDM_KIND_GROUP, data, size);
	list_kind(SDM_KIND_ACCOUNT_GROUP, data, size);
	list_kind(SDM_KIND_ROLE, data, size);
	list_kind(SDM_KIND_GROUP_ROLE, data, size);

	if (sdm_dec_group_response(data, size, &g, &rl) == 0)
		sdm_group_clear(&g);
	if (sdm_dec_account_group_response(data, size, &ag, &rl) == 0)
		sdm_account_group_clear(&ag);
	(void)sdm_dec_delete_response(data, size, &rl);
	{
		struct sdm_group_role gr;
		struct sdm_role role;
		if (sdm_dec_group_role_response(data, size, &gr, &rl) == 0)
			sdm_group_role_clear(&gr);
		if (sdm_dec_role(data, size, &role) == 0)
			sdm_role_clear(&role);
	}

	rc = sdm_dec_account(data, size, &acc);
	if (rc == 1) {
		if (acc.kind < SDM_ACCOUNT_USER || acc.kind > SDM_ACCOUNT_TOKEN)
			abort();
		for (size_t i = 0; i < acc.tags.n; i++)
			if (!acc.tags.v[i].name || !acc.tags.v[i].value)
				abort();
	}
	if (rc >= 0)
		sdm_account_clear(&acc);
	if (sdm_dec_group(data, size, &g) == 0)
		sdm_group_clear(&g);
	if (sdm_dec_account_group(data, size, &ag) == 0)
		sdm_account_group_clear(&ag);
	if (sdm_dec_identity_set(data, size, &is) == 0)
		sdm_identity_set_clear(&is);
	if (sdm_dec_identity_alias(data, size, &ia) == 0)
		sdm_identity_alias_clear(&ia);
	return 0;
}
