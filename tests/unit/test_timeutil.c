/* test_timeutil.c: RFC 3339, durations, HTTP dates. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "timeutil.h"

static int64_t
p3339(const char *s)
{
	int64_t ms = -12345;

	if (rfc3339_parse(s, &ms))
		return -1;
	return ms;
}

static int64_t
pdur(const char *s)
{
	int64_t ms;

	if (duration_parse(s, &ms))
		return -1;
	return ms;
}

static int64_t
phttp(const char *s)
{
	int64_t ms;

	if (http_date_parse(s, &ms))
		return -1;
	return ms;
}

int
main(void)
{
	char buf[64];
	static const char *const bad3339[] = {
		"", "2026-11-29", "2026-11-29T07:00:00", "2026-11-29 07:00:00Z",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-11-29T24:00:00Z", "2026-11-29T07:60:00Z", "2026-11-29T07:00:61Z",
		"2026-11-29T07:00:00.Z", "2026-11-29T07:00:00+0200", "2026-11-29T07:00:00+24:00",
		"2026-11-29T07:00:00Z ", "x2026-11-29T07:00:00Z", "2026-1-29T07:00:00Z",
		"2026-11-29T07:00:00+02:60", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z",
		"2026-11-29T07:00:00ZZ",
	};

	is_int(p3339("1970-01-01T00:00:00Z"), 0, "epoch");
	is_int(p3339("2026-11-29T07:00:00Z"), 1795935600000LL, "a plain UTC time");
	is_int(p3339("2026-11-29t07:00:00z"), 1795935600000LL, "lower-case t and z");
	is_int(p3339("2026-11-29T09:00:00+02:00"), 1795935600000LL, "positive offset");
	is_int(p3339("2026-11-29T01:30:00-05:30"), 1795935600000LL, "negative offset with minutes");
	is_int(p3339("2026-11-29T07:00:00.801578+00:00"), 1795935600801LL, "microseconds truncated to ms");
	is_int(p3339("2026-11-29T07:00:00.8Z"), 1795935600800LL, "one fraction digit");
	is_int(p3339("2026-11-29T07:00:00.123456789123Z"), 1795935600123LL, "a long fraction");
	is_int(p3339("2024-02-29T00:00:00Z"), 1709164800000LL, "leap day");
	is_int(p3339("2000-02-29T00:00:00Z"), 951782400000LL, "leap day in a 400 year");
	ok(p3339("1900-02-29T00:00:00Z") == -1, "no leap day in 1900");
	is_int(p3339("1969-12-31T23:59:59Z"), -1000, "before the epoch");
	is_int(p3339("2016-12-31T23:59:60Z"), p3339("2017-01-01T00:00:00Z"), "leap second");
	for (size_t i = 0; i < sizeof bad3339 / sizeof *bad3339; i++)
		ok(p3339(bad3339[i]) == -1, "refuses \"%s\"", bad3339[i]);

	is_str(rfc3339_format(1795935600000LL, buf, sizeof buf), "2026-11-29T07:00:00Z", "format");
	is_str(rfc3339_format(1795935600801LL, buf, sizeof buf), "2026-11-29T07:00:00.801Z", "format with ms");
	is_str(rfc3339_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z", "format epoch");
	is_str(rfc3339_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z", "format before epoch");
	is_str(rfc3339_format(951782400000LL, buf, sizeof buf), "2000-02-29T00:00:00Z", "format leap day");
	{
		int okall = 1;
		for (int64_t t = -86400000LL * 800; t < 86400000LL * 365 * 500; t += 86400000LL * 7 + 3601001) {
			int64_t back;
			rfc3339_format(t, buf, sizeof buf);
			if (rfc3339_parse(buf, &back) || back != t) {
				okall = 0;
				printf("# round trip failed at %lld (%s)\n", (long long)t, buf);
				break;
			}
		}
		ok(okall, "format and parse round-trip over 500 years");
	}

	is_int(pdur("0"), 0, "duration 0");
	is_int(pdur("900"), 900000, "plain seconds");
	is_int(pdur("90s"), 90000, "seconds");
	is_int(pdur("15m"), 900000, "minutes");
	is_int(pdur("1h30m"), 5400000, "hours and minutes");
	is_int(pdur("1h30m15s"), 5415000, "h m s");
	is_int(pdur("2d"), 172800000, "days");
	is_int(pdur("1w"), 604800000, "weeks");
	is_int(pdur("500ms"), 500, "milliseconds");
	is_int(pdur("1m500ms"), 60500, "minutes and milliseconds");
	is_int(pdur("PT15M"), 900000, "ISO PT15M");
	is_int(pdur("PT1H30M"), 5400000, "ISO PT1H30M");
	is_int(pdur("P1D"), 86400000, "ISO P1D");
	is_int(pdur("P1DT2H"), 93600000, "ISO P1DT2H");
	is_int(pdur("PT0.5S"), 500, "ISO fractional seconds");
	is_int(pdur("P2W"), 1209600000, "ISO weeks");
	ok(pdur("") == -1, "empty duration refused");
	ok(pdur("-5m") == -1, "negative refused");
	ok(pdur("5") == 5000, "5 = 5 s");
	ok(pdur("5x") == -1, "unknown unit refused");
	ok(pdur("m") == -1, "unit without number refused");
	ok(pdur("1h 30m") == -1, "space refused");
	ok(pdur("P") == -1, "bare P refused");
	ok(pdur("PT") == -1, "bare PT refused");
	ok(pdur("P1H") == -1, "hours before T refused");
	ok(pdur("99999999999999999999") == -1, "overflow refused");
	ok(pdur("9999999999999999h") == -1, "overflow in unit refused");

	is_int(phttp("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000LL, "IMF-fixdate");
	is_int(phttp("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777000LL, "RFC 850");
	is_int(phttp("Sun Nov  6 08:49:37 1994"), 784111777000LL, "asctime");
	is_int(phttp("Wed, 21 Oct 2026 07:28:00 GMT"), 1792567680000LL, "IMF-fixdate 2026");
	ok(phttp("Sun, 06 Nov 1994 08:49:37 UTC") == -1, "non-GMT zone refused");
	ok(phttp("Sun, 31 Feb 1994 08:49:37 GMT") == -1, "impossible date refused");
	ok(phttp("120") == -1, "seconds are not a date");
	ok(phttp("") == -1, "empty refused");

	{
		int64_t a = now_ms();
		ok(a > 1700000000000LL, "now_ms is plausible");
	}
	return tap_done();
}
