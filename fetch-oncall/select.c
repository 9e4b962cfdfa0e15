/* select.c: resolve -s values to schedules. */
#include <string.h>

#include "select.h"
#include "util.h"

int select_use_show(char *const *values, size_t n)
{
	size_t i;

	if (n == 0 || n > SELECT_MAX_SHOW_CALLS)
		return 0;
	for (i = 0; i < n; i++)
		if (!iio_looks_like_id(values[i]))
			return 0;
	return 1;
}

enum select_result select_resolve(const struct iio_schedule *all, size_t n, const char *value,
                                  size_t *index, char **message)
{
	struct buf ids = { 0 };
	size_t i, found = 0;

	*message = NULL;
	for (i = 0; i < n; i++)
		if (strcmp(all[i].id, value) == 0) {
			*index = i;
			return SELECT_FOUND;
		}
	for (i = 0; i < n; i++) {
		if (strcmp(all[i].name, value) != 0)
			continue;
		if (found++ == 0)
			*index = i;
		buf_printf(&ids, "%s%s", found > 1 ? ", " : "", all[i].id);
	}
	if (found == 1) {
		buf_clear(&ids);
		return SELECT_FOUND;
	}
	if (found == 0) {
		*message = easprintf("no incident.io schedule has the id or name \"%s\"", value);
		return SELECT_NONE;
	}
	*message = easprintf("%zu incident.io schedules are named \"%s\" (%s): select one by id",
	                     found, value, ids.data);
	buf_clear(&ids);
	return SELECT_MANY;
}
