/*
 * Entity Time (XEP-0202) for the server's JID, in UTC, and the XEP-0082
 * date-time format the other handlers share (offline delay stamps,
 * XEP-0203).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "router.h"

#define NS_TIME	"urn:xmpp:time"

/* 9999-12-31T23:59:59Z: the last instant four year digits hold */
#define DATETIME_MAX	253402300799.0

/*
 * XEP-0082 3.2 DateTime, always in UTC ("Z") and always with milliseconds
 * so stamps within one second still order. Times outside what the format
 * holds are clamped: before the epoch is the epoch.
 */
void
xmpp_datetime(char *out, double t)
{
	struct tm	tm;
	time_t		secs;
	unsigned	ms;
	size_t		n;

	if (!(t >= 0))		/* negative or NaN */
		t = 0;
	if (t > DATETIME_MAX)
		t = DATETIME_MAX;
	secs = (time_t)t;	/* truncates: the floor, t being >= 0 */
	/* rounded: 0.123 is stored as 0.12299... */
	ms = (unsigned)((t - (double)secs) * 1000.0 + 0.5);
	if (ms > 999)
		ms = 999;
	if (gmtime_r(&secs, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", ms);
}

static void
time_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *el;
	char		 now[32];

	xmpp_datetime(now, clock_wall());
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_TIME, "time");
	/* the server keeps UTC, so its offset (XEP-0082 TZD) is zero */
	el = xnode_add(a, q, NULL, "tzo");
	xnode_add_text(a, el, "+00:00", 6);
	el = xnode_add(a, q, NULL, "utc");
	xnode_add_text(a, el, now, strlen(now));
	deliver_tree(rs->sender, iq);
}

const struct iq_handler time_handler = {
	.ns = NS_TIME, .name = "time", .server = true,
	.get = time_get,
};
