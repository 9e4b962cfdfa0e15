/* oncall.h: who is on call in a window, folded from a schedule's final
 * shifts, and the records fetch-oncall writes. Pure: no I/O. */
#ifndef FETCH_ONCALL_ONCALL_H
#define FETCH_ONCALL_ONCALL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* One final shift [start_ms, end_ms) of one person. A shift without a user
 * (user_id NULL) puts nobody on call. */
struct oncall_shift {
	const char *user_id;
	const char *user_name;
	const char *user_email;   /* NULL when incident.io has none */
	int64_t start_ms, end_ms;
};

/* The window [from_ms, to_ms] (both ends included). */
struct oncall_window {
	int64_t from_ms, to_ms;
};

/* One person on call; the strings point into the shifts folded. */
struct oncall_person {
	const char *id, *name, *email;
	int64_t until_ms;          /* the latest end of their overlapping shifts */
};

/* [at - grace, at + lead], saturating instead of overflowing. */
struct oncall_window oncall_window_at(int64_t at_ms, int64_t lead_ms, int64_t grace_ms);

/* A window that every shift overlaps (for incident.io's current_shifts,
 * which are on call by definition). */
struct oncall_window oncall_window_any(void);

/* 1 when the shift puts its user on call in the window:
 * start <= to && end > from. */
int oncall_shift_overlaps(const struct oncall_shift *s, struct oncall_window w);

/* Fold the shifts overlapping w into one entry per person (by user id),
 * sorted by name, then id (byte order). Returns the count; *out is
 * allocated (free()) or NULL when nobody is on call. */
size_t oncall_fold(const struct oncall_shift *shifts, size_t n, struct oncall_window w,
                   struct oncall_person **out);

/* When the roster next differs from the roster at at_ms, from the shifts
 * read: the earliest edge later than at_ms (S - lead or E + grace of a shift
 * [S, E) that has a user: a shift starting at S puts someone on call from
 * S - lead, one ending at E takes them off at E + grace) at which the people
 * on call are not the same as at at_ms. A person whose next shift starts as
 * the last ends is no change. The end of the shifts read empties the roster,
 * so a roster that stays the same to the end of what is known changes there.
 * Shifts starting after horizon_ms + lead were not read, so a change later
 * than horizon_ms is not known: returns 0 then, or when nothing changes;
 * else 1 with *next_ms set. */
int oncall_next_change(const struct oncall_shift *shifts, size_t n, int64_t at_ms,
                       int64_t lead_ms, int64_t grace_ms, int64_t horizon_ms, int64_t *next_ms);

/* Records. Each returns a new cJSON object the caller owns. */
cJSON *oncall_roster_record(const char *schedule_id, const char *schedule_name, int64_t at_ms,
                            struct oncall_window w, const struct oncall_person *people, size_t n);
/* Adds "next_change" to a roster record. */
void oncall_roster_add_next_change(cJSON *roster, int64_t next_ms);
/* Either of id and name may be NULL (a selection that matched nothing).
 * code is the machine-readable "code" (iio_error_code; NULL: "failed"). */
cJSON *oncall_error_record(const char *schedule_id, const char *schedule_name, const char *code,
                           const char *message);
cJSON *oncall_schedule_record(const char *id, const char *name, const char *timezone);

#endif
