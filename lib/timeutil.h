/* timeutil.h: RFC 3339 times and durations. Times are Unix seconds plus
 * milliseconds, always compared and written in UTC. */
#ifndef ONCALL_TIMEUTIL_H
#define ONCALL_TIMEUTIL_H

#include <stdint.h>
#include <stddef.h>

/* Parse RFC 3339 ("2026-11-29T07:00:00Z", "…T07:00:00.801578+02:00").
 * Lower-case 't'/'z' accepted. Returns 0 and sets *ms (Unix milliseconds, UTC),
 * or -1 when malformed. */
int rfc3339_parse(const char *s, int64_t *ms);

/* Write "YYYY-MM-DDTHH:MM:SSZ" (milliseconds dropped unless nonzero, then
 * ".mmmZ") into buf (at least 32 bytes). Returns buf. */
char *rfc3339_format(int64_t ms, char *buf, size_t len);

/* Parse a duration: "0", "90s", "15m", "1h30m", "2d", "500ms", plain seconds
 * "900", or ISO 8601 "PT15M". Negative is an error. Returns 0 and *ms, or -1. */
int duration_parse(const char *s, int64_t *ms);

/* Parse an HTTP date (IMF-fixdate, RFC 850 and asctime forms). 0/-1. */
int http_date_parse(const char *s, int64_t *ms);

/* Current wall-clock time in Unix milliseconds. */
int64_t now_ms(void);

#endif
