/* pb.h: the little of protobuf (proto3 wire format) StrongDM's API needs.
 *
 * Writing is canonical: the caller writes fields in ascending order and the
 * scalar writers leave proto3 defaults (0, false, "") out. A sub-message is
 * encoded into its own buffer first and then written whole, so a present but
 * empty message comes out as "tag 00" (StrongDM's "meta {}").
 *
 * Reading never trusts a length: every varint, length and fixed field is
 * checked against the end of the buffer, unknown fields of every wire type
 * (groups included) are skipped, and nesting is bounded by PB_MAX_DEPTH. A
 * truncated or hostile message gives an error, never an over-read. */
#ifndef ONCALL_PB_H
#define ONCALL_PB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum pb_wire {
	PB_VARINT = 0,
	PB_FIXED64 = 1,
	PB_LEN = 2,
	PB_SGROUP = 3,
	PB_EGROUP = 4,
	PB_FIXED32 = 5
};

#define PB_MAX_DEPTH 32
#define PB_MAX_FIELD 536870911u   /* 2^29 - 1 */

/* Writing (into a struct buf from util.h). */
void pb_put_varint(struct buf *b, uint64_t v);
void pb_put_key(struct buf *b, uint32_t field, enum pb_wire wt);
void pb_put_uint64(struct buf *b, uint32_t field, uint64_t v);  /* left out if 0 */
void pb_put_int32(struct buf *b, uint32_t field, int32_t v);    /* left out if 0; negative: 10 bytes */
void pb_put_string(struct buf *b, uint32_t field, const char *s); /* left out if NULL or "" */
void pb_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n); /* left out if n == 0 */
/* A sub-message: always written, even when empty (presence). */
void pb_put_message(struct buf *b, uint32_t field, const struct buf *sub);

/* Reading. */
struct pb_reader {
	const uint8_t *p, *end;
	int depth;
};

struct pb_field {
	uint32_t num;
	enum pb_wire wt;
	uint64_t u;            /* PB_VARINT, PB_FIXED64, PB_FIXED32 */
	const uint8_t *data;   /* PB_LEN: the bytes (inside the reader's buffer) */
	size_t len;
};

void pb_reader_init(struct pb_reader *r, const void *p, size_t n);

/* The next field: 1 when one was read, 0 at the end, -1 on a malformed
 * message (truncated, bad wire type, field 0, over-long varint, unmatched
 * group end, groups nested beyond PB_MAX_DEPTH). Groups (wire types 3/4) are
 * skipped whole and never returned. */
int pb_next(struct pb_reader *r, struct pb_field *f);

/* A reader over a PB_LEN field's bytes, one level deeper. -1 if the field is
 * not length-delimited or the depth bound is reached. */
int pb_sub(const struct pb_reader *parent, const struct pb_field *f, struct pb_reader *sub);

/* Typed views of a field; -1 when the wire type does not fit. */
int pb_get_int64(const struct pb_field *f, int64_t *v);
int pb_get_int32(const struct pb_field *f, int32_t *v);   /* truncates like proto3 */
int pb_get_bool(const struct pb_field *f, int *v);
/* A string field, copied and NUL-terminated into *s (replacing and freeing a
 * previous value: the last occurrence wins). -1 for a wrong wire type, an
 * embedded NUL or invalid UTF-8. */
int pb_get_string(const struct pb_field *f, char **s);

/* 1 if p[0..n) is valid UTF-8 without NUL bytes. */
int pb_utf8_valid(const uint8_t *p, size_t n);

#endif
