/* map.c: see map.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "map.h"
#include "util.h"

void
map_init(struct map *m, int icase)
{
	memset(m, 0, sizeof *m);
	m->icase = icase;
}

void
map_clear(struct map *m)
{
	int icase = m->icase;

	free(m->v);
	map_init(m, icase);
}

static size_t
hash(const struct map *m, const char *s, size_t len)
{
	size_t h = (size_t)1469598103934665603u;   /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (m->icase && ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * (size_t)1099511628211u;
	}
	/* FNV's low bits (the ones a table uses) see only the low bits of
	 * each byte: mix the high bits down */
	h ^= h >> 32;
	h *= (size_t)0xd6e8feb86659fd93u;
	h ^= h >> 32;
	return h;
}

static int
same(const struct map *m, const struct map_entry *e, size_t h, const char *key, size_t len)
{
	if (e->hash != h)
		return 0;
	if (m->icase ? strncasecmp(e->key, key, len) : strncmp(e->key, key, len))
		return 0;
	return e->key[len] == '\0';
}

/* The entry for key: found, or empty where it would go. The table is
 * never more than half full, so the probe ends. */
static struct map_entry *
slot(const struct map *m, const char *key, size_t len, size_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct map_entry *e = &m->v[i];
		if (!e->key || same(m, e, h, key, len))
			return e;
	}
}

size_t
map_get_n(const struct map *m, const char *key, size_t len)
{
	const struct map_entry *e;

	if (!m->n || !key)
		return MAP_NONE;
	e = slot(m, key, len, hash(m, key, len));
	return e->key ? e->val : MAP_NONE;
}

size_t
map_get(const struct map *m, const char *key)
{
	return key ? map_get_n(m, key, strlen(key)) : MAP_NONE;
}

static void
grow(struct map *m)
{
	struct map bigger = { NULL, m->cap ? m->cap * 2 : 16, m->n, m->icase };

	bigger.v = ecalloc(bigger.cap, sizeof *bigger.v);
	for (size_t i = 0; i < m->cap; i++) {
		const struct map_entry *o = &m->v[i];
		size_t j;
		if (!o->key)
			continue;
		/* keys are distinct: the first free entry */
		for (j = o->hash & (bigger.cap - 1); bigger.v[j].key; j = (j + 1) & (bigger.cap - 1))
			;
		bigger.v[j] = *o;
	}
	free(m->v);
	*m = bigger;
}

static size_t
insert(struct map *m, const char *key, size_t val, int replace)
{
	size_t len = strlen(key), h, old;
	struct map_entry *e;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	h = hash(m, key, len);
	e = slot(m, key, len, h);
	if (!e->key) {
		*e = (struct map_entry){ key, h, val };
		m->n++;
		return MAP_NONE;
	}
	old = e->val;
	if (replace)
		e->val = val;
	return old;
}

size_t
map_add(struct map *m, const char *key, size_t val)
{
	return insert(m, key, val, 0);
}

size_t
map_put(struct map *m, const char *key, size_t val)
{
	return insert(m, key, val, 1);
}
