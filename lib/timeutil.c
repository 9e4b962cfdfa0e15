/* timeutil.c: RFC 3339, durations and HTTP dates by plain arithmetic on the
 * proleptic Gregorian calendar, so nothing depends on TZ or the C library's
 * idea of local time. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* Days since 1970-01-01 of a civil date (Howard Hinnant's well-known
 * algorithm, written out from its description). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly n digits at *s; advances *s. */
static int
digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int
expect(const char **s, char c)
{
	if (**s != c)
		return -1;
	(*s)++;
	return 0;
}

static int
civil_to_ms(int64_t y, int mo, int d, int h, int mi, int sec, int64_t *ms)
{
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	/* A leap second (:60) counts as the first second of the next minute. */
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000;
	return 0;
}

int
rfc3339_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, sign = 0;
	int64_t t;

	if (!s || digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) ||
	    expect(&s, '-') || digits(&s, 2, &d))
		return -1;
	if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) ||
	    expect(&s, ':') || digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		int n = 0;

		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		/* Keep milliseconds, truncate anything finer. */
		for (; isdigit((unsigned char)*s); n++, s++)
			if (n < 3)
				frac = frac * 10 + (*s - '0');
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s)
		return -1;
	if (civil_to_ms(y, mo, d, h, mi, sec, &t))
		return -1;
	*ms = t + frac - (int64_t)sign * ((int64_t)oh * 60 + om) * 60000;
	return 0;
}

char *
rfc3339_format(int64_t ms, char *buf, size_t len)
{
	int64_t days, rem, y;
	int m, d, msec;

	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	msec = (int)(rem % 1000);
	rem /= 1000;
	if (msec)
		snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
		         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msec);
	else
		snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
		         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return buf;
}

/* An unsigned decimal number at *s (at least one digit); advances *s. */
static int
number(const char **s, int64_t *out)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)**s))
		return -1;
	while (isdigit((unsigned char)**s)) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

static int
add_scaled(int64_t *acc, int64_t v, int64_t unit)
{
	if (v > (INT64_MAX - *acc) / unit)
		return -1;
	*acc += v * unit;
	return 0;
}

/* "PnW", "PnDTnHnMnS" (integer fields; seconds may carry a fraction). */
static int
iso_duration(const char *s, int64_t *ms)
{
	int64_t acc = 0, v;
	int in_time = 0, any = 0;

	s++; /* 'P' */
	while (*s) {
		if (*s == 'T' || *s == 't') {
			if (in_time)
				return -1;
			in_time = 1;
			s++;
			if (!*s)
				return -1;
			continue;
		}
		if (number(&s, &v))
			return -1;
		int64_t unit;
		char c = (char)toupper((unsigned char)*s);
		if (in_time && c == '.' ) {
			/* fractional seconds: up to millisecond precision */
			int64_t f = 0;
			int n = 0;
			s++;
			if (!isdigit((unsigned char)*s))
				return -1;
			for (; isdigit((unsigned char)*s); s++, n++)
				if (n < 3)
					f = f * 10 + (*s - '0');
			for (; n < 3; n++)
				f *= 10;
			if (toupper((unsigned char)*s) != 'S')
				return -1;
			s++;
			if (add_scaled(&acc, v, 1000) || add_scaled(&acc, f, 1))
				return -1;
			any = 1;
			continue;
		}
		if (!in_time && c == 'W')
			unit = 7 * 86400000LL;
		else if (!in_time && c == 'D')
			unit = 86400000LL;
		else if (in_time && c == 'H')
			unit = 3600000LL;
		else if (in_time && c == 'M')
			unit = 60000LL;
		else if (in_time && c == 'S')
			unit = 1000LL;
		else
			return -1;
		s++;
		if (add_scaled(&acc, v, unit))
			return -1;
		any = 1;
	}
	if (!any)
		return -1;
	*ms = acc;
	return 0;
}

int
duration_parse(const char *s, int64_t *ms)
{
	int64_t acc = 0, v, unit;

	if (!s || !*s)
		return -1;
	if (*s == 'P' || *s == 'p')
		return iso_duration(s, ms);
	/* Plain seconds. */
	{
		const char *p = s;
		if (number(&p, &v) == 0 && *p == '\0') {
			if (add_scaled(&acc, v, 1000))
				return -1;
			*ms = acc;
			return 0;
		}
	}
	while (*s) {
		if (number(&s, &v))
			return -1;
		if (s[0] == 'm' && s[1] == 's') {
			unit = 1;
			s += 2;
		} else {
			switch (*s) {
			case 's': unit = 1000LL; break;
			case 'm': unit = 60000LL; break;
			case 'h': unit = 3600000LL; break;
			case 'd': unit = 86400000LL; break;
			case 'w': unit = 7 * 86400000LL; break;
			default: return -1;
			}
			s++;
		}
		if (add_scaled(&acc, v, unit))
			return -1;
	}
	*ms = acc;
	return 0;
}

static int
month_from_name(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (strncmp(s, names + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

static int
weekday_name(const char **s, int full)
{
	static const char *const days[] = {
		"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
	};

	for (int i = 0; i < 7; i++) {
		size_t n = full ? strlen(days[i]) : 3;
		if (strncmp(*s, days[i], n) == 0) {
			*s += n;
			return 0;
		}
	}
	return -1;
}

static int
hms(const char **s, int *h, int *mi, int *sec)
{
	return digits(s, 2, h) || expect(s, ':') || digits(s, 2, mi) ||
	       expect(s, ':') || digits(s, 2, sec) ? -1 : 0;
}

int
http_date_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h, mi, sec;

	if (!s)
		return -1;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	if (weekday_name(&p, 0) == 0 && *p == ',') {
		p++;
		if (expect(&p, ' ') || digits(&p, 2, &d) || expect(&p, ' ') ||
		    !(mo = month_from_name(p)))
			return -1;
		p += 3;
		if (expect(&p, ' ') || digits(&p, 4, &y) || expect(&p, ' ') ||
		    hms(&p, &h, &mi, &sec) || strcmp(p, " GMT") != 0)
			return -1;
		return civil_to_ms(y, mo, d, h, mi, sec, ms);
	}
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	p = s;
	if (weekday_name(&p, 1) == 0 && *p == ',') {
		p++;
		if (expect(&p, ' ') || digits(&p, 2, &d) || expect(&p, '-') ||
		    !(mo = month_from_name(p)))
			return -1;
		p += 3;
		if (expect(&p, '-') || digits(&p, 2, &y) || expect(&p, ' ') ||
		    hms(&p, &h, &mi, &sec) || strcmp(p, " GMT") != 0)
			return -1;
		y += y < 70 ? 2000 : 1900;
		return civil_to_ms(y, mo, d, h, mi, sec, ms);
	}
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	p = s;
	if (weekday_name(&p, 0) == 0 && *p == ' ') {
		p++;
		if (!(mo = month_from_name(p)))
			return -1;
		p += 3;
		if (expect(&p, ' '))
			return -1;
		if (*p == ' ') {
			p++;
			if (digits(&p, 1, &d))
				return -1;
		} else if (digits(&p, 2, &d)) {
			return -1;
		}
		if (expect(&p, ' ') || hms(&p, &h, &mi, &sec) || expect(&p, ' ') ||
		    digits(&p, 4, &y) || *p)
			return -1;
		return civil_to_ms(y, mo, d, h, mi, sec, ms);
	}
	return -1;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
