/* map.h: one hash map for every program: a string key to an index (into
 * the caller's own array), open addressing, growing as it fills.
 *
 * The map borrows its keys: each must stay unchanged while the map holds
 * it (keep them in the caller's array or an arena). A zeroed struct map is
 * an empty case-sensitive map; map_init sets case-insensitive keys (ASCII
 * only: group names). map_clear frees what the map allocated, never the
 * keys. */
#ifndef ONCALL_MAP_H
#define ONCALL_MAP_H

#include <stddef.h>

#define MAP_NONE ((size_t)-1)

struct map_entry {
	const char *key;   /* NULL: empty */
	size_t hash;
	size_t val;
};

struct map {
	struct map_entry *v;
	size_t cap, n;     /* cap: 0 or a power of two */
	int icase;
};

void map_init(struct map *m, int icase);
void map_clear(struct map *m);

/* The value of key (len bytes, no NUL among them, for map_get_n), or
 * MAP_NONE when it is absent (or key is NULL). */
size_t map_get(const struct map *m, const char *key);
size_t map_get_n(const struct map *m, const char *key, size_t len);

/* map_add keeps a value already there: it returns that value, or MAP_NONE
 * when it added key with val. map_put replaces it: it returns the value it
 * replaced, or MAP_NONE when key was new (for chains: the previous head). */
size_t map_add(struct map *m, const char *key, size_t val);
size_t map_put(struct map *m, const char *key, size_t val);

#endif
