/*
 * XEP-0082 date and time profiles, read: the router's archive queries
 * (router/mam_query.c) and the archives of XEP-0227 files
 * (storage/pie_parse.c).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "xeptime.h"

/* n digits at *p as a number in lo..hi; -1 otherwise */
static int
digits(const char **p, size_t n, int lo, int hi, int *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return *v >= lo && *v <= hi ? 0 : -1;
}

static int
expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/*
 * XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD Z or +-hh:mm.
 * Fractions past microseconds are read and dropped; before 1970 is
 * refused (nothing is archived then, and ids are unsigned).
 */
int
xeptime_parse(const char *s, uint64_t *us)
{
	struct tm	tm;
	time_t		t;
	int		y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t	frac = 0, scale = 100000;

	if (s == NULL)
		return -1;
	if (digits(&s, 4, 1970, 9999, &y) == -1 || expect(&s, '-') == -1 ||
	    digits(&s, 2, 1, 12, &mo) == -1 || expect(&s, '-') == -1 ||
	    digits(&s, 2, 1, 31, &d) == -1 || expect(&s, 'T') == -1 ||
	    digits(&s, 2, 0, 23, &h) == -1 || expect(&s, ':') == -1 ||
	    digits(&s, 2, 0, 59, &mi) == -1 || expect(&s, ':') == -1 ||
	    digits(&s, 2, 0, 60, &sec) == -1)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			frac += (uint64_t)(*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, 0, 23, &oh) == -1 || expect(&s, ':') == -1 ||
		    digits(&s, 2, 0, 59, &om) == -1)
			return -1;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*us = (uint64_t)t * 1000000 + frac;
	return 0;
}
