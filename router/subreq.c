/*
 * Subscription requests waiting for an answer (RFC 6121 3.1.3): kept
 * compactly in the roster item -- who (the item), when, and the status
 * text cut to subscription-status-max -- not as the stanza that came,
 * and within quotas per account and per remote domain, so that nobody,
 * a federated server least of all, can fill an account's storage or its
 * login with requests. At login they are rebuilt as stanzas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "router.h"

#define NS_DELAY	"urn:xmpp:delay"

struct subreq_count {
	const char	*domain;	/* the new request's */
	int		 all, same;
};

static const char *
subreq_domain(const char *bare)
{
	const char	*at = strchr(bare, '@');

	return at != NULL ? at + 1 : bare;
}

static int
subreq_count_cb(const struct roster_item *it, void *arg)
{
	struct subreq_count	*c = arg;

	if (!it->pending_in)
		return 0;
	c->all++;
	if (strcmp(subreq_domain(it->jid), c->domain) == 0)
		c->same++;
	return 0;
}

int
subreq_admit(const char *node, const char *domain, const char *from)
{
	struct subreq_count	c;
	bool			remote;

	c.domain = subreq_domain(from);
	c.all = c.same = 0;
	remote = conf_host_find(&router.conf, c.domain) == NULL;
	if (store_roster_list(router.store, node, domain, subreq_count_cb,
	    &c) == -1)
		return -1;
	if (c.all >= router.conf.sub_pending_max ||
	    (remote && c.same >= router.conf.sub_pending_domain)) {
		log_info("subscription request from %s to %s@%s refused: %d "
		    "waiting, %d from %s", log_escs(from), log_escs(node),
		    log_escs(domain), c.all, c.same, log_escs(c.domain));
		return -1;
	}
	return 0;
}

static void
subreq_status(struct xnode *el, struct arena *a, void *arg)
{
	struct xnode	*st = xnode_child(el, NS_CLIENT, "status");

	if (st != NULL)
		*(char **)arg = xstrdup(xnode_text(a, st));
}

/* n, or less so as not to cut a UTF-8 sequence */
static size_t
subreq_cut(const char *s, size_t n)
{
	if (strlen(s) <= n)
		return strlen(s);
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

char *
subreq_record(const char *xml, size_t len)
{
	char	*status = NULL, *rec;

	(void)deliver_parse(xml, len, subreq_status, &status);
	rec = xasprintf("%lld %.*s", (long long)time(NULL),
	    status != NULL ? (int)subreq_cut(status,
	    router.conf.sub_status_max) : 0, status != NULL ? status : "");
	free(status);
	return rec;
}

int
subreq_stanza(struct buf *b, const char *from, const char *to,
    const char *rec)
{
	char		 stamp[32];
	char		*end;
	double		 t;
	int		 rc = 0;

	/* records of an older version: the whole stanza */
	if (*rec == '<')
		return buf_puts(b, rec);
	t = strtod(rec, &end);
	rc |= buf_puts(b, "<presence type='subscribe' from='");
	rc |= xml_escape(b, from, strlen(from));
	rc |= buf_puts(b, "' to='");
	rc |= xml_escape(b, to, strlen(to));
	rc |= buf_puts(b, "'>");
	if (*end == ' ' && end[1] != '\0') {
		rc |= buf_puts(b, "<status>");
		rc |= xml_escape(b, end + 1, strlen(end + 1));
		rc |= buf_puts(b, "</status>");
	}
	/* XEP-0203: it waited since then, here */
	if (end != rec) {
		xmpp_datetime(stamp, t);
		rc |= buf_printf(b, "<delay xmlns='" NS_DELAY "' from='");
		rc |= xml_escape(b, subreq_domain(to),
		    strlen(subreq_domain(to)));
		rc |= buf_printf(b, "' stamp='%s'/>", stamp);
	}
	rc |= buf_puts(b, "</presence>");
	return rc;
}
