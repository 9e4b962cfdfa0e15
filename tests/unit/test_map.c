/* test_map.c: lib/map, the one string-to-index map. */
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "map.h"
#include "util.h"

static void
an_empty_map_finds_nothing(void)
{
	struct map m = { 0 };

	is_int(map_get(&m, "a") == MAP_NONE, 1, "a zeroed map is empty");
	is_int(map_get(&m, NULL) == MAP_NONE, 1, "a NULL key is never found");
	map_clear(&m);
}

static void
add_keeps_and_put_replaces(void)
{
	struct map m;

	map_init(&m, 0);
	is_int(map_add(&m, "s1", 0) == MAP_NONE, 1, "map_add of a new key adds it");
	is_int(map_add(&m, "s1", 5), 0, "map_add of a present key returns its value");
	is_int(map_get(&m, "s1"), 0, "and keeps it");
	is_int(map_put(&m, "s1", 7), 0, "map_put returns the value it replaces");
	is_int(map_get(&m, "s1"), 7, "and replaces it");
	is_int(map_get(&m, "S1") == MAP_NONE, 1, "keys are case-sensitive by default");
	is_int(map_get_n(&m, "s1 and more", 2), 7, "map_get_n looks up the first len bytes");
	is_int(map_get_n(&m, "s", 1) == MAP_NONE, 1, "and a prefix of a key is another key");
	map_clear(&m);
	is_int(map_get(&m, "s1") == MAP_NONE, 1, "map_clear empties it");
	map_clear(&m);
}

static void
case_insensitive_keys_fold_ascii(void)
{
	struct map m;

	map_init(&m, 1);
	map_add(&m, "Payments On-Call", 3);
	is_int(map_get(&m, "payments on-call"), 3, "an icase map finds a key in other case");
	is_int(map_add(&m, "PAYMENTS ON-CALL", 4), 3, "and counts it as the same key");
	map_clear(&m);
	map_add(&m, "A", 1);
	is_int(map_get(&m, "a"), 1, "map_clear keeps the map case-insensitive");
	map_clear(&m);
}

static void
a_map_grows_and_keeps_every_key(void)
{
	enum { N = 20000 };
	static char keys[N][16];
	struct map m = { 0 };
	size_t i, bad = 0;

	for (i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "key-%zu", i);
		if (map_add(&m, keys[i], i) != MAP_NONE)
			bad++;
	}
	for (i = 0; i < N; i++)
		if (map_get(&m, keys[i]) != i)
			bad++;
	is_int(bad, 0, "20000 keys added and found again through the map's growth");
	is_int(m.n, N, "each counted once");
	ok(m.cap >= 2 * m.n, "and the table is at most half full");
	map_clear(&m);
}

int
main(void)
{
	an_empty_map_finds_nothing();
	add_keeps_and_put_replaces();
	case_insensitive_keys_fold_ascii();
	a_map_grows_and_keeps_every_key();
	return tap_done();
}
