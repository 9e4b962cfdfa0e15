/* select.h: which schedules a selection names, and which requests answer it
 * with fewest calls. Pure: no I/O. */
#ifndef FETCH_ONCALL_SELECT_H
#define FETCH_ONCALL_SELECT_H

#include <stddef.h>

#include "incidentio.h"

/* The most -s values answered by one GET /v2/schedules/{id} each rather than
 * by listing every schedule (the list holds up to 250 a page, but its size is
 * unknown before the first page: two show calls never cost more than two
 * list pages, and ids that are not found fall back to the list). */
#define SELECT_MAX_SHOW_CALLS 2

/* 1 when the values are better answered by show calls: at most
 * SELECT_MAX_SHOW_CALLS of them, each shaped like an incident.io id. */
int select_use_show(char *const *values, size_t n);

enum select_result {
	SELECT_FOUND,
	SELECT_NONE,      /* no schedule has that id or name */
	SELECT_MANY       /* several schedules have that name */
};

/* Resolve value against the schedules: an id matches first, then an exact
 * (case-sensitive) name. SELECT_FOUND sets *index; otherwise *message is an
 * allocated explanation naming the value (and, for SELECT_MANY, the ids). */
enum select_result select_resolve(const struct iio_schedule *all, size_t n, const char *value,
                                  size_t *index, char **message);

#endif
