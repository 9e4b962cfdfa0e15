/* match.c: the index of needed accounts and the decision for one person.
 *
 * Strings live in an arena and are found through lib's maps, so a run of a million on-call entries costs no allocation per
 * entry: only each distinct key and each kept account is stored once. */
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "match.h"

/* ------------------------------------------------------------ arena */

#define ARENA_CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct arena {
	struct chunk *head;
};

static const char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	struct chunk *c = a->head;
	char *p;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
		c = emalloc(sizeof *c + cap);
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

static void
arena_clear(struct arena *a)
{
	struct chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* The index a map holds for key, or -1. */
static long
find(const struct map *m, const char *key)
{
	size_t i = map_get(m, key);

	return i == MAP_NONE ? -1 : (long)i;
}

/* ------------------------------------------------------------ index */

struct keyinfo {
	const char *key;
	int32_t first;     /* email: first account; alias: first alias; -1 none */
	uint32_t count;
	const char *fail;
};

/* Alias mode: an account id some alias names. */
struct accinfo {
	const char *id;
	int32_t account;   /* index into acc, -1 until StrongDM returns it */
	const char *fail;
};

struct alias {
	int32_t acc;       /* index into av */
	int32_t next;
};

struct match_index {
	enum match_by by;
	struct arena arena;
	struct map keys;      /* key -> index into kv */
	struct keyinfo *kv;
	size_t nk, capk;
	struct match_account *acc;
	size_t nacc, capacc;
	struct map accids;    /* account id -> index into av */
	struct accinfo *av;
	size_t na, capa;
	struct alias *al;
	size_t nal, capal;
	const char *set_label;
	const char *fail_all;
	struct buf scratch;
};

#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 64; \
		(arr) = erealloc((arr), (cap) * sizeof *(arr)); \
	} \
} while (0)

struct match_index *
match_index_new(enum match_by by)
{
	struct match_index *idx = ecalloc(1, sizeof *idx);

	idx->by = by;
	idx->set_label = "?";
	return idx;
}

void
match_index_free(struct match_index *idx)
{
	if (!idx)
		return;
	arena_clear(&idx->arena);
	map_clear(&idx->keys);
	free(idx->kv);
	free(idx->acc);
	map_clear(&idx->accids);
	free(idx->av);
	free(idx->al);
	buf_clear(&idx->scratch);
	free(idx);
}

enum match_by
match_index_by(const struct match_index *idx)
{
	return idx->by;
}

void
match_set_identity_set(struct match_index *idx, const char *label)
{
	idx->set_label = arena_strndup(&idx->arena, label, strlen(label));
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t
match_normalize_email(const char *email, struct buf *out)
{
	const char *s = email, *e;
	size_t n;

	out->len = 0;
	if (!s)
		s = "";
	while (is_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	buf_append(out, s, n + 1);   /* with a NUL, then lower-case in place */
	out->len = n;
	out->data[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = out->data[i];
		if (c >= 'A' && c <= 'Z')
			out->data[i] = (char)(c - 'A' + 'a');
	}
	return n;
}

const char *
match_person_key(const struct match_index *idx, const char *incident_id, const char *email,
                 struct buf *scratch)
{
	if (idx->by == MATCH_BY_ALIAS)
		return incident_id && *incident_id ? incident_id : NULL;
	return match_normalize_email(email, scratch) ? scratch->data : NULL;
}

/* The index of key (len bytes), noted now if it is new. */
static long
need_n(struct match_index *idx, const char *key, size_t len)
{
	size_t k = map_get_n(&idx->keys, key, len);

	if (k == MAP_NONE) {
		k = idx->nk;
		GROW(idx->kv, idx->nk, idx->capk);
		idx->kv[idx->nk++] = (struct keyinfo){ arena_strndup(&idx->arena, key, len), -1, 0, NULL };
		map_add(&idx->keys, idx->kv[k].key, k);
	}
	return (long)k;
}

long
match_need(struct match_index *idx, const char *key)
{
	return need_n(idx, key, strlen(key));
}

size_t
match_key_count(const struct match_index *idx)
{
	return idx->nk;
}

const char *
match_key(const struct match_index *idx, size_t i)
{
	return i < idx->nk ? idx->kv[i].key : NULL;
}

long
match_key_find(const struct match_index *idx, const char *key)
{
	return find(&idx->keys, key);
}

static int32_t
new_account(struct match_index *idx, const char *id, enum match_kind kind, const char *email,
            int suspended)
{
	GROW(idx->acc, idx->nacc, idx->capacc);
	idx->acc[idx->nacc] = (struct match_account){
		arena_strndup(&idx->arena, id, strlen(id)),
		email ? arena_strndup(&idx->arena, email, strlen(email)) : NULL,
		kind, suspended ? 1 : 0, -1
	};
	return (int32_t)idx->nacc++;
}

/* Email mode: append the account to key k's chain unless already there. */
static int
chain_account(struct match_index *idx, size_t k, const char *id, enum match_kind kind,
              const char *email, int suspended)
{
	int32_t a, last = -1;

	for (a = idx->kv[k].first; a >= 0; a = idx->acc[a].next) {
		if (strcmp(idx->acc[a].id, id) == 0)
			return 0;
		last = a;
	}
	a = new_account(idx, id, kind, email, suspended);
	if (last < 0)
		idx->kv[k].first = a;
	else
		idx->acc[last].next = a;
	idx->kv[k].count++;
	return 1;
}

static int
add_email_account(struct match_index *idx, long want, const char *id, enum match_kind kind,
                  const char *email, int suspended)
{
	long k;

	if (kind != MATCH_USER || !email || !match_normalize_email(email, &idx->scratch))
		return 0;
	k = find(&idx->keys, idx->scratch.data);
	if (k < 0 || (want >= 0 && k != want))
		return 0;
	return chain_account(idx, (size_t)k, id, kind, email, suspended);
}

static int
add_alias_account(struct match_index *idx, const char *id, enum match_kind kind,
                  const char *email, int suspended)
{
	long j = find(&idx->accids, id);

	if (j < 0 || idx->av[j].account >= 0)
		return 0;
	idx->av[j].account = new_account(idx, id, kind, kind == MATCH_USER ? email : NULL,
	                                 suspended);
	return 1;
}

int
match_add_account(struct match_index *idx, const char *id, enum match_kind kind,
                  const char *email, int suspended)
{
	if (!id || !*id)
		return 0;
	if (idx->by == MATCH_BY_ALIAS)
		return add_alias_account(idx, id, kind, email, suspended);
	return add_email_account(idx, -1, id, kind, email, suspended);
}

int
match_add_account_for(struct match_index *idx, size_t i, const char *id,
                      enum match_kind kind, const char *email, int suspended)
{
	if (!id || !*id || i >= idx->nk)
		return 0;
	if (idx->by == MATCH_BY_ALIAS)
		return add_alias_account(idx, id, kind, email, suspended);
	return add_email_account(idx, (long)i, id, kind, email, suspended);
}

int
match_add_alias(struct match_index *idx, const char *username, const char *account_id)
{
	long k, j;
	struct keyinfo *ki;

	if (idx->by != MATCH_BY_ALIAS || !username || !account_id || !*account_id)
		return 0;
	if ((k = find(&idx->keys, username)) < 0)
		return 0;
	if ((j = find(&idx->accids, account_id)) < 0) {
		j = (long)idx->na;
		GROW(idx->av, idx->na, idx->capa);
		idx->av[idx->na++] = (struct accinfo){
			arena_strndup(&idx->arena, account_id, strlen(account_id)), -1, NULL
		};
		map_add(&idx->accids, idx->av[j].id, (size_t)j);
	}
	ki = &idx->kv[k];
	/* The same alias seen twice (a retried page) counts once. */
	for (int32_t a = ki->first; a >= 0; a = idx->al[a].next)
		if (idx->al[a].acc == j)
			return 0;
	GROW(idx->al, idx->nal, idx->capal);
	idx->al[idx->nal] = (struct alias){ (int32_t)j, ki->first };
	ki->first = (int32_t)idx->nal++;
	ki->count++;
	return 1;
}

size_t
match_alias_account_count(const struct match_index *idx)
{
	return idx->na;
}

const char *
match_alias_account(const struct match_index *idx, size_t i)
{
	return i < idx->na ? idx->av[i].id : NULL;
}

/* A failure is kept as one interned string "code\0message": the field
 * points at the code, the message follows it. */
static const char *
intern_fail(struct match_index *idx, const char *code, const char *message)
{
	struct buf *b = &idx->scratch;
	const char *s;

	b->len = 0;
	buf_puts(b, code && *code ? code : "failed");
	buf_append(b, "", 1);
	buf_puts(b, message ? message : "");
	s = arena_strndup(&idx->arena, b->data, b->len);
	return s;
}

static const char *
fail_message(const char *fail)
{
	return fail + strlen(fail) + 1;
}

void
match_fail_key(struct match_index *idx, size_t i, const char *code, const char *message)
{
	if (i < idx->nk && !idx->kv[i].fail)
		idx->kv[i].fail = intern_fail(idx, code, message);
}

void
match_fail_alias_account(struct match_index *idx, const char *account_id, const char *code,
                         const char *message)
{
	long j = find(&idx->accids, account_id);

	if (j >= 0 && !idx->av[j].fail)
		idx->av[j].fail = intern_fail(idx, code, message);
}

void
match_fail_all(struct match_index *idx, const char *code, const char *message)
{
	if (!idx->fail_all)
		idx->fail_all = intern_fail(idx, code, message);
}

const char *
match_failed_all(const struct match_index *idx)
{
	return idx->fail_all ? fail_message(idx->fail_all) : NULL;
}

const char *
match_failed_all_code(const struct match_index *idx)
{
	return idx->fail_all;
}

static struct match_result
person_by_email(const struct match_index *idx, const struct keyinfo *ki)
{
	struct match_result r = { .key = ki->key };

	if (ki->count == 0) {
		r.status = MATCH_NO_USER;
		return r;
	}
	/* Suspended users never match, so they are dropped before ambiguity
	 * is judged: one active user among suspended ones is the match. */
	for (int32_t i = ki->first; i >= 0; i = idx->acc[i].next) {
		if (idx->acc[i].suspended)
			continue;
		if (!r.count++)
			r.account = &idx->acc[i];
	}
	if (r.count == 1) {
		r.status = MATCH_OK;
	} else if (r.count > 1) {
		r.status = MATCH_AMBIGUOUS;
	} else {
		/* all suspended: the first one says so */
		r.account = &idx->acc[ki->first];
		r.count = ki->count;
		r.status = MATCH_SUSPENDED;
	}
	return r;
}

static struct match_result
person_by_alias(const struct match_index *idx, const struct keyinfo *ki)
{
	struct match_result r = { .key = ki->key };
	const struct accinfo *ai;
	const struct match_account *a;

	r.count = ki->count;
	if (ki->count == 0) {
		r.status = MATCH_NO_ALIAS;
		return r;
	}
	if (ki->count > 1) {
		r.status = MATCH_ALIAS_AMBIGUOUS;
		return r;
	}
	ai = &idx->av[idx->al[ki->first].acc];
	r.alias_account_id = ai->id;
	if (ai->fail) {
		r.status = MATCH_FAILED;
		r.error = fail_message(ai->fail);
		r.error_code = ai->fail;
		return r;
	}
	if (ai->account < 0) {
		r.status = MATCH_ALIAS_MISSING;
		return r;
	}
	a = &idx->acc[ai->account];
	r.account = a;
	if (a->kind != MATCH_USER)
		r.status = MATCH_ALIAS_NOT_USER;
	else if (a->suspended)
		r.status = MATCH_ALIAS_SUSPENDED;
	else
		r.status = MATCH_OK;
	return r;
}

static struct match_result
match_person_at(const struct match_index *idx, long k)
{
	struct match_result r = { 0 };

	if (k < 0 || (size_t)k >= idx->nk) {
		/* No key: needs no look-up, so no failure can touch it. */
		r.status = idx->by == MATCH_BY_EMAIL ? MATCH_NO_EMAIL : MATCH_NO_ALIAS;
		return r;
	}
	r.key = idx->kv[k].key;
	if (idx->fail_all) {
		r.status = MATCH_FAILED;
		r.error = fail_message(idx->fail_all);
		r.error_code = idx->fail_all;
		return r;
	}
	if (idx->kv[k].fail) {
		r.status = MATCH_FAILED;
		r.error = fail_message(idx->kv[k].fail);
		r.error_code = idx->kv[k].fail;
		return r;
	}
	return idx->by == MATCH_BY_EMAIL ? person_by_email(idx, &idx->kv[k])
	                                 : person_by_alias(idx, &idx->kv[k]);
}

struct match_result
match_person(const struct match_index *idx, const char *key)
{
	struct match_result r = { .key = key };
	long k;

	if (!key)
		return match_person_at(idx, -1);
	if ((k = find(&idx->keys, key)) < 0) {
		/* Not noted in pass 1: nothing was looked up for it. */
		if (idx->fail_all) {
			r.status = MATCH_FAILED;
			r.error = fail_message(idx->fail_all);
			r.error_code = idx->fail_all;
		} else {
			r.status = idx->by == MATCH_BY_EMAIL ? MATCH_NO_USER : MATCH_NO_ALIAS;
		}
		return r;
	}
	return match_person_at(idx, k);
}

static const char *
kind_name(enum match_kind k)
{
	switch (k) {
	case MATCH_USER: return "user";
	case MATCH_SERVICE: return "service";
	case MATCH_TOKEN: return "token";
	}
	return "account";
}

static void
alias_intro(const struct match_index *idx, const struct match_result *res, struct buf *out)
{
	buf_printf(out, "the alias equal to incident.io id %s in identity set %s points to ",
	           res->key, idx->set_label);
}

void
match_reason(const struct match_index *idx, const struct match_result *res, struct buf *out)
{
	const struct match_account *a = res->account;

	switch (res->status) {
	case MATCH_OK:
		break;
	case MATCH_NO_EMAIL:
		buf_puts(out, "no email in incident.io");
		break;
	case MATCH_NO_USER:
		buf_printf(out, "no StrongDM user with email %s", res->key);
		break;
	case MATCH_SUSPENDED:
		buf_printf(out, "StrongDM user %s (%s) is suspended", a->id, a->email);
		break;
	case MATCH_AMBIGUOUS:
		/* the active users only: suspended ones were not candidates */
		buf_printf(out, "%zu StrongDM users have email %s (", res->count, res->key);
		for (int32_t i = (int32_t)(a - idx->acc), first = 1; i >= 0; i = idx->acc[i].next) {
			if (idx->acc[i].suspended)
				continue;
			buf_printf(out, "%s%s", first ? "" : ", ", idx->acc[i].id);
			first = 0;
		}
		buf_puts(out, "): not guessing");
		break;
	case MATCH_NO_ALIAS:
		if (res->key)
			buf_printf(out, "identity set %s has no alias equal to incident.io id %s",
			           idx->set_label, res->key);
		else
			buf_puts(out, "no incident.io id");
		break;
	case MATCH_ALIAS_AMBIGUOUS:
		buf_printf(out, "identity set %s has %zu aliases equal to incident.io id %s: not guessing",
		           idx->set_label, res->count, res->key);
		break;
	case MATCH_ALIAS_MISSING:
		alias_intro(idx, res, out);
		buf_printf(out, "account %s, which does not exist", res->alias_account_id);
		break;
	case MATCH_ALIAS_NOT_USER:
		alias_intro(idx, res, out);
		buf_printf(out, "account %s, which is a %s, not a user", a->id, kind_name(a->kind));
		break;
	case MATCH_ALIAS_SUSPENDED:
		alias_intro(idx, res, out);
		buf_printf(out, "StrongDM user %s (%s), who is suspended", a->id,
		           a->email ? a->email : "no email");
		break;
	case MATCH_FAILED:
		buf_printf(out, "StrongDM: %s", res->error ? res->error : "look-up failed");
		break;
	}
}

const char *
match_reason_code(const struct match_result *res)
{
	switch (res->status) {
	case MATCH_OK: return NULL;
	case MATCH_NO_EMAIL: return "no_email";
	case MATCH_NO_USER: return "no_user";
	case MATCH_SUSPENDED: return "suspended";
	case MATCH_AMBIGUOUS: return "ambiguous";
	case MATCH_NO_ALIAS: return res->key ? "no_alias" : "no_id";
	case MATCH_ALIAS_AMBIGUOUS: return "ambiguous";
	case MATCH_ALIAS_MISSING: return "no_user";
	case MATCH_ALIAS_NOT_USER: return "not_a_user";
	case MATCH_ALIAS_SUSPENDED: return "suspended";
	case MATCH_FAILED: return "failed";
	}
	return "failed";
}

void
match_hint(const struct match_index *idx, const struct match_result *res, struct buf *out)
{
	match_reason(idx, res, out);
	switch (res->status) {
	case MATCH_OK:
	case MATCH_FAILED:
		return;
	case MATCH_NO_EMAIL:
		buf_puts(out, "; check the user's email in incident.io, or match by identity alias");
		break;
	case MATCH_NO_USER:
		buf_puts(out, "; check that the user exists in StrongDM and that its email equals "
		         "the one in incident.io");
		break;
	case MATCH_SUSPENDED:
	case MATCH_ALIAS_SUSPENDED:
		buf_puts(out, "; check whether the user should be reactivated in StrongDM");
		break;
	case MATCH_AMBIGUOUS:
		buf_puts(out, "; check that exactly one StrongDM user has this email");
		break;
	case MATCH_NO_ALIAS:
		buf_printf(out, "; check that the user exists in StrongDM and has an identity alias "
		           "in set %s equal to their incident.io id", idx->set_label);
		break;
	case MATCH_ALIAS_AMBIGUOUS:
		buf_printf(out, "; check that only one alias in identity set %s has this username",
		           idx->set_label);
		break;
	case MATCH_ALIAS_MISSING:
	case MATCH_ALIAS_NOT_USER:
		buf_printf(out, "; check the alias in identity set %s: it must belong to an existing "
		           "StrongDM user", idx->set_label);
		break;
	}
}
