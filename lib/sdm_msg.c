/* sdm_msg.c: StrongDM request encoding, response decoding, entities, tags
 * and filters. Field numbers: reference/strongdm.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "sdm_internal.h"

/* ---------------------------------------------------------------- entities */

void
sdm_tags_clear(struct sdm_tags *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const char *
sdm_tags_get(const struct sdm_tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].value;
	return NULL;
}

void
sdm_tags_set(struct sdm_tags *t, const char *name, const char *value)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0) {
			free(t->v[i].value);
			t->v[i].value = estrdup(value ? value : "");
			return;
		}
	}
	t->v = erealloc(t->v, (t->n + 1) * sizeof *t->v);
	t->v[t->n].name = estrdup(name);
	t->v[t->n].value = estrdup(value ? value : "");
	t->n++;
}

void
sdm_account_clear(struct sdm_account *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->email);
	free(a->first_name);
	free(a->last_name);
	free(a->name);
	sdm_tags_clear(&a->tags);
	memset(a, 0, sizeof *a);
}

void
sdm_group_clear(struct sdm_group *g)
{
	if (!g)
		return;
	free(g->id);
	free(g->name);
	free(g->description);
	free(g->source);
	sdm_tags_clear(&g->tags);
	memset(g, 0, sizeof *g);
}

void
sdm_identity_set_clear(struct sdm_identity_set *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->name);
	memset(s, 0, sizeof *s);
}

void
sdm_identity_alias_clear(struct sdm_identity_alias *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->account_id);
	free(a->identity_set_id);
	free(a->username);
	memset(a, 0, sizeof *a);
}

void
sdm_account_group_clear(struct sdm_account_group *ag)
{
	if (!ag)
		return;
	free(ag->id);
	free(ag->account_id);
	free(ag->group_id);
	memset(ag, 0, sizeof *ag);
}

void
sdm_role_clear(struct sdm_role *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->name);
	free(r->managed_by);
	sdm_tags_clear(&r->tags);
	memset(r, 0, sizeof *r);
}

void
sdm_group_role_clear(struct sdm_group_role *gr)
{
	if (!gr)
		return;
	free(gr->id);
	free(gr->group_id);
	free(gr->role_id);
	memset(gr, 0, sizeof *gr);
}

#define ARRAY_FREE(fn, type, one) \
	void fn(type *v, size_t n) \
	{ \
		for (size_t i = 0; v && i < n; i++) \
			one(&v[i]); \
		free(v); \
	}
ARRAY_FREE(sdm_accounts_free, struct sdm_account, sdm_account_clear)
ARRAY_FREE(sdm_groups_free, struct sdm_group, sdm_group_clear)
ARRAY_FREE(sdm_identity_sets_free, struct sdm_identity_set, sdm_identity_set_clear)
ARRAY_FREE(sdm_identity_aliases_free, struct sdm_identity_alias, sdm_identity_alias_clear)
ARRAY_FREE(sdm_account_groups_free, struct sdm_account_group, sdm_account_group_clear)
ARRAY_FREE(sdm_roles_free, struct sdm_role, sdm_role_clear)
ARRAY_FREE(sdm_group_roles_free, struct sdm_group_role, sdm_group_role_clear)

/* ---------------------------------------------------------------- filters */

static void
sdm_json_quote(struct buf *out, const char *s)
{
	buf_append(out, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': buf_puts(out, "\\\""); break;
		case '\\': buf_puts(out, "\\\\"); break;
		case '\n': buf_puts(out, "\\n"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\t': buf_puts(out, "\\t"); break;
		case '\b': buf_puts(out, "\\b"); break;
		case '\f': buf_puts(out, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\u%04x", c);
			else
				buf_append(out, s, 1);
		}
	}
	buf_append(out, "\"", 1);
}

void
sdm_filter_add(struct buf *f, const char *field, const char *value)
{
	if (f->len)
		buf_append(f, " ", 1);
	buf_puts(f, field);
	buf_append(f, ":", 1);
	sdm_json_quote(f, value ? value : "");
}

void
sdm_filter_add_tag(struct buf *f, const char *key, const char *value)
{
	if (f->len)
		buf_append(f, " ", 1);
	buf_puts(f, "tag:");
	sdm_json_quote(f, key);
	if (value) {
		buf_append(f, "=", 1);
		sdm_json_quote(f, value);
	}
}

/* ---------------------------------------------------------------- encoding */

/* Create, Get, Update and Delete requests carry meta present and empty, as
 * the Go SDK sends them (the reference vectors start "0a 00"). */
static void
put_empty_meta(struct buf *out)
{
	struct buf empty = { 0 };

	pb_put_message(out, 1, &empty);
}

void
sdm_enc_list_request(struct buf *out, const char *cursor, int limit, const char *filter)
{
	struct buf meta = { 0 };

	pb_put_string(&meta, 1, cursor);
	pb_put_int32(&meta, 3, limit);
	pb_put_message(out, 1, &meta);
	pb_put_string(out, 2, filter);
	buf_clear(&meta);
}

void
sdm_enc_id_request(struct buf *out, const char *id)
{
	put_empty_meta(out);
	pb_put_string(out, 2, id);
}

static void
sdm_enc_tags(struct buf *out, const struct sdm_tags *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct buf pair = { 0 };

		pb_put_string(&pair, 1, t->v[i].name);
		pb_put_string(&pair, 2, t->v[i].value);
		pb_put_message(out, 1, &pair);
		buf_clear(&pair);
	}
}

/* A group as a client sends it: source is read-only and left out; tags are
 * written only when there are some. */
static void
sdm_enc_group(struct buf *out, const struct sdm_group *g)
{
	pb_put_string(out, 1, g->id);
	pb_put_string(out, 2, g->name);
	pb_put_string(out, 3, g->description);
	if (g->tags.n) {
		struct buf tags = { 0 };

		sdm_enc_tags(&tags, &g->tags);
		pb_put_message(out, 5, &tags);
		buf_clear(&tags);
	}
}

void
sdm_enc_group_create(struct buf *out, const struct sdm_group *g)
{
	struct buf sub = { 0 };

	put_empty_meta(out);
	sdm_enc_group(&sub, g);
	pb_put_message(out, 2, &sub);
	buf_clear(&sub);
}

void
sdm_enc_group_update(struct buf *out, const struct sdm_group *g)
{
	struct buf sub = { 0 };

	put_empty_meta(out);
	pb_put_string(out, 2, g->id);
	sdm_enc_group(&sub, g);
	pb_put_message(out, 3, &sub);
	buf_clear(&sub);
}

void
sdm_enc_account_group_create(struct buf *out, const char *account_id, const char *group_id)
{
	struct buf sub = { 0 };

	put_empty_meta(out);
	pb_put_string(&sub, 2, account_id);
	pb_put_string(&sub, 3, group_id);
	pb_put_message(out, 2, &sub);
	buf_clear(&sub);
}

/* GroupRoleCreateRequest: 1 meta, 2 group_role {2 group_id, 3 role_id}. */
void
sdm_enc_group_role_create(struct buf *out, const char *group_id, const char *role_id)
{
	struct buf sub = { 0 };

	put_empty_meta(out);
	pb_put_string(&sub, 2, group_id);
	pb_put_string(&sub, 3, role_id);
	pb_put_message(out, 2, &sub);
	buf_clear(&sub);
}

/* ---------------------------------------------------------------- decoding */

static int
dec_tags(const struct pb_field *tf, struct sdm_tags *t)
{
	struct pb_reader r, pr;
	struct pb_field f, g;
	int rc;

	if (tf->wt != PB_LEN)
		return -1;
	pb_reader_init(&r, tf->data, tf->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		char *name = NULL, *value = NULL;

		if (f.num != 1)
			continue;
		if (pb_sub(&r, &f, &pr) < 0)
			return -1;
		while ((rc = pb_next(&pr, &g)) > 0) {
			if ((g.num == 1 && pb_get_string(&g, &name) < 0) ||
			    (g.num == 2 && pb_get_string(&g, &value) < 0)) {
				rc = -1;
				break;
			}
		}
		if (rc < 0) {
			free(name);
			free(value);
			return -1;
		}
		sdm_tags_set(t, name ? name : "", value ? value : "");
		free(name);
		free(value);
	}
	return rc;
}

static int
dec_user(const struct pb_field *uf, struct sdm_account *a)
{
	struct pb_reader r;
	struct pb_field f;
	int rc, s5 = 0, s10 = 0, have10 = 0;

	pb_reader_init(&r, uf->data, uf->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		switch (f.num) {
		case 1: rc = pb_get_string(&f, &a->id); break;
		case 2: rc = pb_get_string(&f, &a->email); break;
		case 3: rc = pb_get_string(&f, &a->first_name); break;
		case 4: rc = pb_get_string(&f, &a->last_name); break;
		case 5: rc = pb_get_bool(&f, &s5); break;
		case 6: rc = dec_tags(&f, &a->tags); break;
		case 10:
			rc = pb_get_bool(&f, &s10);
			have10 = 1;
			break;
		default: rc = 0;
		}
		if (rc < 0)
			return -1;
	}
	/* The service fills suspendedRO (10); 5 only counts when 10 is absent. */
	a->suspended = have10 ? s10 : s5;
	return rc;
}

/* Service: 1 id, 2 name, 3 suspended, 4 tags. Token: 1 id, 2 name. */
static int
dec_named(const struct pb_field *sf, struct sdm_account *a, int suspended_field, int tags_field)
{
	struct pb_reader r;
	struct pb_field f;
	int rc;

	pb_reader_init(&r, sf->data, sf->len);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1)
			rc = pb_get_string(&f, &a->id);
		else if (f.num == 2)
			rc = pb_get_string(&f, &a->name);
		else if ((int)f.num == suspended_field)
			rc = pb_get_bool(&f, &a->suspended);
		else if ((int)f.num == tags_field)
			rc = dec_tags(&f, &a->tags);
		else
			rc = 0;
		if (rc < 0)
			return -1;
	}
	return rc;
}

int
sdm_dec_account(const uint8_t *p, size_t n, struct sdm_account *a)
{
	struct pb_reader r;
	struct pb_field f;
	int rc;

	memset(a, 0, sizeof *a);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num < 1 || f.num > 3)
			continue;
		if (f.wt != PB_LEN)
			goto bad;
		/* A oneof: the last member seen wins, as in protobuf. */
		sdm_account_clear(a);
		a->kind = (enum sdm_account_kind)f.num;
		if (f.num == 1)
			rc = dec_user(&f, a);
		else if (f.num == 2)
			rc = dec_named(&f, a, 3, 4);
		else
			rc = dec_named(&f, a, 0, 0);
		if (rc < 0)
			goto bad;
	}
	if (rc < 0)
		goto bad;
	return a->kind ? 1 : 0;
bad:
	sdm_account_clear(a);
	return -1;
}

int
sdm_dec_group(const uint8_t *p, size_t n, struct sdm_group *g)
{
	struct pb_reader r;
	struct pb_field f;
	int rc;

	memset(g, 0, sizeof *g);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		switch (f.num) {
		case 1: rc = pb_get_string(&f, &g->id); break;
		case 2: rc = pb_get_string(&f, &g->name); break;
		case 3: rc = pb_get_string(&f, &g->description); break;
		case 4: rc = pb_get_string(&f, &g->source); break;
		case 5: rc = dec_tags(&f, &g->tags); break;
		default: rc = 0;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		sdm_group_clear(g);
		return -1;
	}
	return 0;
}

/* Messages whose fields 1..k are all strings. */
static int
dec_strings(const uint8_t *p, size_t n, char **fields[], size_t k)
{
	struct pb_reader r;
	struct pb_field f;
	int rc;

	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num >= 1 && f.num <= k && pb_get_string(&f, fields[f.num - 1]) < 0)
			return -1;
	}
	return rc;
}

int
sdm_dec_account_group(const uint8_t *p, size_t n, struct sdm_account_group *ag)
{
	char **fields[] = { &ag->id, &ag->account_id, &ag->group_id };

	memset(ag, 0, sizeof *ag);
	if (dec_strings(p, n, fields, 3) < 0) {
		sdm_account_group_clear(ag);
		return -1;
	}
	return 0;
}

int
sdm_dec_identity_set(const uint8_t *p, size_t n, struct sdm_identity_set *s)
{
	char **fields[] = { &s->id, &s->name };

	memset(s, 0, sizeof *s);
	if (dec_strings(p, n, fields, 2) < 0) {
		sdm_identity_set_clear(s);
		return -1;
	}
	return 0;
}

int
sdm_dec_identity_alias(const uint8_t *p, size_t n, struct sdm_identity_alias *a)
{
	char **fields[] = { &a->id, &a->account_id, &a->identity_set_id, &a->username };

	memset(a, 0, sizeof *a);
	if (dec_strings(p, n, fields, 4) < 0) {
		sdm_identity_alias_clear(a);
		return -1;
	}
	return 0;
}

/* Role: 1 id, 2 name, 4 tags, 5 access_rules (not kept), 6 managed_by. */
int
sdm_dec_role(const uint8_t *p, size_t n, struct sdm_role *r)
{
	struct pb_reader rd;
	struct pb_field f;
	int rc;

	memset(r, 0, sizeof *r);
	pb_reader_init(&rd, p, n);
	while ((rc = pb_next(&rd, &f)) > 0) {
		switch (f.num) {
		case 1: rc = pb_get_string(&f, &r->id); break;
		case 2: rc = pb_get_string(&f, &r->name); break;
		case 4: rc = dec_tags(&f, &r->tags); break;
		case 6: rc = pb_get_string(&f, &r->managed_by); break;
		default: rc = 0;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		sdm_role_clear(r);
		return -1;
	}
	return 0;
}

/* GroupRole: 1 id, 2 group_id, 3 role_id (4 group_name and 5 role_name are
 * not part of the SDKs' interface: not read). */
static int
sdm_dec_group_role(const uint8_t *p, size_t n, struct sdm_group_role *gr)
{
	char **fields[] = { &gr->id, &gr->group_id, &gr->role_id };

	memset(gr, 0, sizeof *gr);
	if (dec_strings(p, n, fields, 3) < 0) {
		sdm_group_role_clear(gr);
		return -1;
	}
	return 0;
}

static size_t
sdm_item_size(enum sdm_kind kind)
{
	switch (kind) {
	case SDM_KIND_ACCOUNT: return sizeof(struct sdm_account);
	case SDM_KIND_IDENTITY_SET: return sizeof(struct sdm_identity_set);
	case SDM_KIND_IDENTITY_ALIAS: return sizeof(struct sdm_identity_alias);
	case SDM_KIND_GROUP: return sizeof(struct sdm_group);
	case SDM_KIND_ACCOUNT_GROUP: return sizeof(struct sdm_account_group);
	case SDM_KIND_ROLE: return sizeof(struct sdm_role);
	case SDM_KIND_GROUP_ROLE: return sizeof(struct sdm_group_role);
	}
	return 0;
}

static void
item_free(enum sdm_kind kind, void *item)
{
	switch (kind) {
	case SDM_KIND_ACCOUNT: sdm_account_clear(item); break;
	case SDM_KIND_IDENTITY_SET: sdm_identity_set_clear(item); break;
	case SDM_KIND_IDENTITY_ALIAS: sdm_identity_alias_clear(item); break;
	case SDM_KIND_GROUP: sdm_group_clear(item); break;
	case SDM_KIND_ACCOUNT_GROUP: sdm_account_group_clear(item); break;
	case SDM_KIND_ROLE: sdm_role_clear(item); break;
	case SDM_KIND_GROUP_ROLE: sdm_group_role_clear(item); break;
	}
}

void
sdm_items_clear(struct sdm_items *it)
{
	size_t sz = sdm_item_size(it->kind);

	for (size_t i = 0; i < it->n; i++)
		item_free(it->kind, (char *)it->v + i * sz);
	free(it->v);
	it->v = NULL;
	it->n = it->cap = 0;
}

/* Decode one item into the slot after the last; 1 kept, 0 skipped, -1 bad. */
static int
item_decode(struct sdm_items *it, const struct pb_field *f)
{
	size_t sz = sdm_item_size(it->kind);
	void *slot;
	int rc;

	if (f->wt != PB_LEN)
		return -1;
	if (it->n == it->cap) {
		size_t cap = it->cap ? it->cap * 2 : 64;

		it->v = erealloc(it->v, cap * sz);
		it->cap = cap;
	}
	slot = (char *)it->v + it->n * sz;
	switch (it->kind) {
	case SDM_KIND_ACCOUNT: rc = sdm_dec_account(f->data, f->len, slot); break;
	case SDM_KIND_IDENTITY_SET: rc = sdm_dec_identity_set(f->data, f->len, slot); break;
	case SDM_KIND_IDENTITY_ALIAS: rc = sdm_dec_identity_alias(f->data, f->len, slot); break;
	case SDM_KIND_GROUP: rc = sdm_dec_group(f->data, f->len, slot); break;
	case SDM_KIND_ACCOUNT_GROUP: rc = sdm_dec_account_group(f->data, f->len, slot); break;
	case SDM_KIND_ROLE: rc = sdm_dec_role(f->data, f->len, slot); break;
	case SDM_KIND_GROUP_ROLE: rc = sdm_dec_group_role(f->data, f->len, slot); break;
	default: rc = -1;
	}
	if (rc < 0)
		return -1;
	/* Accounts of a kind this client does not know are left out. */
	if (it->kind == SDM_KIND_ACCOUNT && rc == 0)
		return 0;
	it->n++;
	return 1;
}

int
sdm_dec_list_response(const uint8_t *p, size_t n, struct sdm_items *it,
                      char **next_cursor, struct grpc_rate_limit *rl)
{
	struct pb_reader r, mr;
	struct pb_field f, g;
	size_t n0 = it->n;
	char *cursor = NULL;
	int rc;

	*next_cursor = NULL;
	memset(rl, 0, sizeof *rl);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (f.num == 1) {
			if (pb_sub(&r, &f, &mr) < 0) {
				rc = -1;
				break;
			}
			while ((rc = pb_next(&mr, &g)) > 0)
				if (g.num == 1 && pb_get_string(&g, &cursor) < 0) {
					rc = -1;
					break;
				}
			if (rc < 0)
				break;
		} else if (f.num == 2) {
			if (item_decode(it, &f) < 0) {
				rc = -1;
				break;
			}
		} else if (f.num == 3) {
			if (f.wt != PB_LEN || grpc_parse_rate_limit(f.data, f.len, rl) < 0) {
				rc = -1;
				break;
			}
		}
	}
	if (rc < 0) {
		size_t sz = sdm_item_size(it->kind);

		for (size_t i = n0; i < it->n; i++)
			item_free(it->kind, (char *)it->v + i * sz);
		it->n = n0;
		free(cursor);
		memset(rl, 0, sizeof *rl);
		return -1;
	}
	if (cursor && *cursor == '\0') {
		free(cursor);
		cursor = NULL;
	}
	*next_cursor = cursor;
	return 0;
}

/* Responses: 1 meta, then the entity in field ent (0: none), rate_limit in rlf. */
static int
dec_single(const uint8_t *p, size_t n, int ent, int rlf, struct pb_field *entity,
           struct grpc_rate_limit *rl)
{
	struct pb_reader r;
	struct pb_field f;
	int rc, seen = 0;

	memset(rl, 0, sizeof *rl);
	pb_reader_init(&r, p, n);
	while ((rc = pb_next(&r, &f)) > 0) {
		if (ent && (int)f.num == ent) {
			if (f.wt != PB_LEN)
				return -1;
			*entity = f;
			seen = 1;
		} else if ((int)f.num == rlf) {
			if (f.wt != PB_LEN || grpc_parse_rate_limit(f.data, f.len, rl) < 0)
				return -1;
		}
	}
	if (rc < 0 || (ent && !seen))
		return -1;
	return 0;
}

int
sdm_dec_group_response(const uint8_t *p, size_t n, struct sdm_group *g,
                       struct grpc_rate_limit *rl)
{
	struct pb_field e;

	memset(g, 0, sizeof *g);
	if (dec_single(p, n, 2, 3, &e, rl) < 0)
		return -1;
	return sdm_dec_group(e.data, e.len, g);
}

int
sdm_dec_account_group_response(const uint8_t *p, size_t n, struct sdm_account_group *ag,
                               struct grpc_rate_limit *rl)
{
	struct pb_field e;

	memset(ag, 0, sizeof *ag);
	if (dec_single(p, n, 2, 3, &e, rl) < 0)
		return -1;
	return sdm_dec_account_group(e.data, e.len, ag);
}

int
sdm_dec_group_role_response(const uint8_t *p, size_t n, struct sdm_group_role *gr,
                            struct grpc_rate_limit *rl)
{
	struct pb_field e;

	memset(gr, 0, sizeof *gr);
	if (dec_single(p, n, 2, 3, &e, rl) < 0)
		return -1;
	return sdm_dec_group_role(e.data, e.len, gr);
}

int
sdm_dec_delete_response(const uint8_t *p, size_t n, struct grpc_rate_limit *rl)
{
	return dec_single(p, n, 0, 2, NULL, rl);
}
