/* fuzz_timeutil: RFC 3339, duration and HTTP-date parsing of arbitrary text.
 *
 * Each parser gets a NUL-terminated copy. A time that parses is formatted and
 * parsed again: the same instant must come back (when its year still has
 * four digits).
 * fuzz-sources: lib/timeutil.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(int64_t ms)
{
	char buf[64];
	int64_t again;

	rfc3339_format(ms, buf, sizeof buf);
	if (strlen(buf) >= sizeof buf - 1)
		abort();
	/* Years outside 0000..9999 cannot be written in RFC 3339. */
	if (buf[0] < '0' || buf[0] > '9' || buf[4] != '-')
		return;
	if (rfc3339_parse(buf, &again) != 0 || again != ms)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t ms = 0;

	if (!s)
		return 0;
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	if (rfc3339_parse(s, &ms) == 0)
		roundtrip(ms);
	if (duration_parse(s, &ms) == 0 && ms < 0)
		abort(); /* negative durations are errors */
	if (http_date_parse(s, &ms) == 0)
		roundtrip(ms);
	free(s);
	return 0;
}
