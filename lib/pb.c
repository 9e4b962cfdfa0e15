/* pb.c: protobuf wire format, canonical writing and bounds-checked reading. */
#include <stdlib.h>
#include <string.h>

#include "pb.h"

void
pb_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_append(b, tmp, n);
}

void
pb_put_key(struct buf *b, uint32_t field, enum pb_wire wt)
{
	pb_put_varint(b, (uint64_t)field << 3 | (uint64_t)wt);
}

void
pb_put_uint64(struct buf *b, uint32_t field, uint64_t v)
{
	if (v == 0)
		return;
	pb_put_key(b, field, PB_VARINT);
	pb_put_varint(b, v);
}

void
pb_put_int32(struct buf *b, uint32_t field, int32_t v)
{
	/* proto3 int32: a negative value is sign-extended to 64 bits. */
	pb_put_uint64(b, field, (uint64_t)(int64_t)v);
}

void
pb_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
	if (n == 0)
		return;
	pb_put_key(b, field, PB_LEN);
	pb_put_varint(b, n);
	buf_append(b, p, n);
}

void
pb_put_string(struct buf *b, uint32_t field, const char *s)
{
	if (s == NULL)
		return;
	pb_put_bytes(b, field, s, strlen(s));
}

void
pb_put_message(struct buf *b, uint32_t field, const struct buf *sub)
{
	pb_put_key(b, field, PB_LEN);
	pb_put_varint(b, sub->len);
	if (sub->len)
		buf_append(b, sub->data, sub->len);
}

void
pb_reader_init(struct pb_reader *r, const void *p, size_t n)
{
	r->p = p;
	r->end = p ? r->p + n : NULL; /* no arithmetic on a null pointer */
	r->depth = 0;
}

static int
read_varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (r->p >= r->end)
			return -1;
		byte = *r->p++;
		/* The tenth byte holds only the top bit. */
		if (shift == 63 && (byte & 0x7e))
			return -1;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int
read_key(struct pb_reader *r, uint32_t *num, unsigned *wt)
{
	uint64_t key;

	if (read_varint(r, &key) < 0)
		return -1;
	if (key >> 3 == 0 || key >> 3 > PB_MAX_FIELD)
		return -1;
	*num = (uint32_t)(key >> 3);
	*wt = (unsigned)(key & 7);
	return 0;
}

/* Skip the value of a field of wire type wt (not a group). */
static int
skip_value(struct pb_reader *r, unsigned wt, struct pb_field *f)
{
	uint64_t n;

	switch (wt) {
	case PB_VARINT:
		return read_varint(r, &f->u);
	case PB_FIXED64:
		if (r->end - r->p < 8)
			return -1;
		f->u = 0;
		for (int i = 7; i >= 0; i--)
			f->u = f->u << 8 | r->p[i];
		r->p += 8;
		return 0;
	case PB_FIXED32:
		if (r->end - r->p < 4)
			return -1;
		f->u = 0;
		for (int i = 3; i >= 0; i--)
			f->u = f->u << 8 | r->p[i];
		r->p += 4;
		return 0;
	case PB_LEN:
		if (read_varint(r, &n) < 0)
			return -1;
		if (n > (uint64_t)(r->end - r->p))
			return -1;
		f->data = r->p;
		f->len = (size_t)n;
		r->p += n;
		return 0;
	default:
		return -1;
	}
}

/* Skip a group whose start key (field num) has just been read: iterate over
 * its fields, counting nested groups, without recursion. */
static int
skip_group(struct pb_reader *r, uint32_t num)
{
	uint32_t stack[PB_MAX_DEPTH];
	int depth = 0;
	struct pb_field tmp;

	if (r->depth + 1 >= PB_MAX_DEPTH)
		return -1;
	stack[depth++] = num;
	while (depth > 0) {
		uint32_t n;
		unsigned wt;

		if (read_key(r, &n, &wt) < 0)
			return -1;
		if (wt == PB_SGROUP) {
			if (r->depth + depth + 1 >= PB_MAX_DEPTH)
				return -1;
			stack[depth++] = n;
		} else if (wt == PB_EGROUP) {
			if (stack[depth - 1] != n)
				return -1;
			depth--;
		} else if (skip_value(r, wt, &tmp) < 0) {
			return -1;
		}
	}
	return 0;
}

int
pb_next(struct pb_reader *r, struct pb_field *f)
{
	for (;;) {
		uint32_t num;
		unsigned wt;

		if (r->p >= r->end)
			return 0;
		memset(f, 0, sizeof *f);
		if (read_key(r, &num, &wt) < 0)
			return -1;
		if (wt == PB_SGROUP) {
			if (skip_group(r, num) < 0)
				return -1;
			continue;
		}
		if (wt == PB_EGROUP)
			return -1;   /* an end without a start */
		if (skip_value(r, wt, f) < 0)
			return -1;
		f->num = num;
		f->wt = (enum pb_wire)wt;
		return 1;
	}
}

int
pb_sub(const struct pb_reader *parent, const struct pb_field *f, struct pb_reader *sub)
{
	if (f->wt != PB_LEN || parent->depth + 1 >= PB_MAX_DEPTH)
		return -1;
	sub->p = f->data;
	sub->end = f->data + f->len;
	sub->depth = parent->depth + 1;
	return 0;
}

int
pb_get_int64(const struct pb_field *f, int64_t *v)
{
	if (f->wt != PB_VARINT)
		return -1;
	*v = (int64_t)f->u;
	return 0;
}

int
pb_get_int32(const struct pb_field *f, int32_t *v)
{
	if (f->wt != PB_VARINT)
		return -1;
	*v = (int32_t)(uint32_t)(f->u & 0xffffffffu);
	return 0;
}

int
pb_get_bool(const struct pb_field *f, int *v)
{
	if (f->wt != PB_VARINT)
		return -1;
	*v = f->u != 0;
	return 0;
}

int
pb_utf8_valid(const uint8_t *p, size_t n)
{
	return n == 0 || (!memchr(p, 0, n) && utf8_check(p, n, NULL) == n);
}

int
pb_get_string(const struct pb_field *f, char **s)
{
	if (f->wt != PB_LEN || !pb_utf8_valid(f->data, f->len))
		return -1;
	free(*s);
	*s = estrndup(f->len ? (const char *)f->data : "", f->len);
	return 0;
}
