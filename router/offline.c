/*
 * Offline messages (XEP-0160, XEP-0203): a chat or normal message for an
 * account with no available resource is stored, with its delay stamp,
 * and committed before the sender's next stanza is looked at; it is
 * handed to the first session that becomes available with a
 * non-negative priority, oldest first, and only then removed. A
 * retraction (XEP-0424) stored here removes the message it names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/util.h"
#include "router.h"

#define NS_DELAY	"urn:xmpp:delay"
#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"
#define NS_HINTS	"urn:xmpp:hints"

struct offline_job {
	const char	*domain;
	bool		 skip;
	char		*rid;		/* a retraction's id (XEP-0424) */
	struct buf	 out;
};

/*
 * Worth keeping? XEP-0334 hints decide first (<store/> keeps,
 * <no-store/> and <no-permanent-store/> drop); otherwise a message whose
 * only content is chat states (XEP-0085 5.6) and a thread is transient
 * and dropped, like an empty one. Everything else -- a body, a subject,
 * a receipt, an encrypted payload -- is kept.
 */
static bool
offline_worth(const struct xnode *el)
{
	const struct xnode	*c;
	bool			 content = false;

	if (xnode_child(el, NS_HINTS, "store") != NULL)
		return true;
	if (xnode_child(el, NS_HINTS, "no-store") != NULL ||
	    xnode_child(el, NS_HINTS, "no-permanent-store") != NULL)
		return false;
	for (c = xnode_child(el, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		if (strcmp(c->ns, NS_CHATSTATES) == 0 ||
		    strcmp(c->ns, NS_HINTS) == 0 ||
		    (strcmp(c->ns, NS_CLIENT) == 0 &&
		    strcmp(c->name, "thread") == 0))
			continue;
		content = true;
	}
	return content;
}

static void
offline_stamp(struct xnode *el, struct arena *a, void *arg)
{
	struct offline_job	*job = arg;
	struct xnode		*d;
	const char		*rid;
	char			 stamp[32];

	if (!offline_worth(el)) {
		job->skip = true;
		return;
	}
	if ((rid = retract_id(el)) != NULL)
		job->rid = xstrdup(rid);
	/*
	 * Stored before by us (an unacked message of a stream-managed
	 * session that ended, docs/internals.md): its first stamp stays.
	 */
	for (d = xnode_child(el, NS_DELAY, "delay"); d != NULL;
	    d = xnode_next(d, NS_DELAY, "delay"))
		if (xnode_attr(d, "from") != NULL &&
		    strcmp(xnode_attr(d, "from"), job->domain) == 0) {
			(void)xnode_write(&job->out, el, NS_CLIENT);
			return;
		}
	xmpp_datetime(stamp, clock_wall());
	/* XEP-0203 3: who delayed it and since when */
	d = xnode_add(a, el, NS_DELAY, "delay");
	xnode_set_attr(a, d, "from", job->domain);
	xnode_set_attr(a, d, "stamp", stamp);
	(void)xnode_write(&job->out, el, NS_CLIENT);
}

struct unsend_job {
	const struct retract_target	*t;
	uint64_t			 seq;
};

static int
unsend_one(uint64_t seq, const char *xml, size_t len, void *arg)
{
	struct unsend_job	*job = arg;

	if (!retract_target_is(job->t, xml, len))
		return 0;
	job->seq = seq;
	return 1;
}

/*
 * XEP-0424 5: a retraction stops the service handing the message on, so
 * the author's message it names, if still waiting here, goes; the
 * recipient gets the retraction alone (as an archive query does).
 */
static void
offline_unsend(const char *node, const char *domain, const char *from,
    const char *id)
{
	struct retract_target	 t;
	struct unsend_job	 job = { &t, 0 };
	char			 bare[JID_STR_MAX + 1];
	size_t			 n = strcspn(from, "/");

	if (n > JID_STR_MAX)
		return;
	memcpy(bare, from, n);
	bare[n] = '\0';
	if (retract_target_init(&t, bare, id) == -1)
		return;
	if (store_offline_list(router.store, node, domain, unsend_one,
	    &job) == -1)
		log_warn("offline messages of %s@%s: retraction not read",
		    node, domain);
	else if (job.seq != 0 && store_offline_del_one(router.store, node,
	    domain, job.seq) == -1)
		log_warn("offline messages of %s@%s: retracted message not "
		    "removed", node, domain);
	retract_target_clear(&t);
}

int
offline_store(struct rstanza *rs, const char *node, const char *domain)
{
	struct offline_job	job;
	struct store_usage	max;
	uint64_t		seq;
	int			rc = -1;

	if (router.conf.offline_max == 0) {
		errno = EDQUOT;
		return -1;
	}
	job.domain = domain;
	job.skip = false;
	job.rid = NULL;
	buf_init(&job.out, LINK_STANZA_MAX);	/* it is sent as one later */
	if (deliver_parse(rs->xml, rs->xlen, offline_stamp, &job) == -1)
		goto done;
	if (job.skip) {
		log_debug("transient message for %s@%s from %s not stored",
		    node, domain, log_escs(rs->from));
		rc = 0;
		goto done;
	}
	/* xnode_write writes all or nothing: nothing, past the cap */
	if (buf_avail(&job.out) == 0) {
		log_warnx("offline message for %s@%s from %s too large",
		    node, domain, log_escs(rs->from));
		goto done;
	}
	if (job.rid != NULL && rs->from != NULL)
		offline_unsend(node, domain, rs->from, job.rid);
	/* XEP-0160 / RFC 6121 8.5.2: over quota, whoever sent it, bounces */
	max.count = (size_t)router.conf.offline_max;
	max.bytes = router.conf.offline_max_bytes;
	if ((rc = store_offline_put(router.store, node, domain,
	    buf_rptr(&job.out), buf_avail(&job.out), &max, &seq)) == 0)
		log_debug("offline message %llu for %s@%s from %s",
		    (unsigned long long)seq, node, domain,
		    log_escs(rs->from));
done:
	free(job.rid);
	buf_clear(&job.out);
	return rc;
}

struct deliver_job {
	struct sess	*s;
	uint64_t	 last;
	size_t		 n;
	bool		 held;		/* stopped by congestion */
};

static int
offline_one(uint64_t seq, const char *xml, size_t len, void *arg)
{
	struct deliver_job	*job = arg;

	/* a congested link: the rest waits for it to drain (sess_burst) */
	if (job->s->rl != NULL && (job->s->rl->l->failed ||
	    link_congested(job->s->rl->l))) {
		job->held = true;
		return 1;
	}
	deliver_to_sess(job->s, KIND_MESSAGE, MTYPE_CHAT, NULL, NULL, xml,
	    len);
	job->last = seq;
	job->n++;
	return 0;
}

int
offline_deliver(struct sess *s)
{
	struct deliver_job	job = { s, 0, 0, false };

	if (store_offline_list(router.store, s->user->node, s->user->domain,
	    offline_one, &job) == -1) {
		log_warnx("offline messages of %s unreadable", s->user->bare);
		return 0;
	}
	if (job.n > 0) {
		/* handed to the session's link: now they may go */
		if (store_offline_del(router.store, s->user->node,
		    s->user->domain, job.last) == -1)
			log_warn("offline messages of %s: delete",
			    s->user->bare);
		log_info("%zu offline messages delivered to %s%s", job.n,
		    log_escs(s->full), job.held ? ", more when the link "
		    "drains" : "");
	}
	return job.held ? 1 : 0;
}
