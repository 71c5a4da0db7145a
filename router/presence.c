/*
 * Presence (RFC 6121 3, 4): the subscription state machine of appendix A
 * in both directions, initial presence with broadcast and probes,
 * updates, unavailable when a session ends, directed presence, and
 * presence to the user's own resources. Outbound processing (the user's
 * server) and inbound processing (the contact's server) are separate
 * steps, so a remote contact takes the same path once federation exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "router.h"
#include "subscription.h"

/*
 * A presence stanza made here: two JIDs, each escaped to at most six
 * bytes a character (&apos;), and the markup around them.
 */
#define PRES_OWN_MAX	(2 * 6 * JID_STR_MAX + 128)

static const char *const pres_types[] = {
	NULL, "unavailable", "subscribe", "subscribed", "unsubscribe",
	"unsubscribed", "probe", "error"
};

/* ---- helpers ------------------------------------------------------------- */

static struct user *
user_find(const char *node, const char *domain)
{
	char	bare[JID_STR_MAX + 1];

	jid_format(bare, node, domain, NULL);
	return map_get(router.by_bare, bare);
}

static bool
account_exists(const char *node, const char *domain)
{
	struct scram_creds	c;

	return user_find(node, domain) != NULL ||
	    store_account_get(router.store, node, domain, &c) == 0;
}

/* contacts of an account collected (LMDB read transaction closed first) */
struct contacts {
	char	**v;
	size_t	  n, cap;
	int	  want;		/* SUB_TO or SUB_FROM bit */
};

static int
contacts_add(const struct roster_item *it, void *arg)
{
	struct contacts	*c = arg;

	if (it->hidden || (it->sub & c->want) == 0)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = xstrdup(it->jid);
	return 0;
}

static void
contacts_load(struct contacts *c, const char *node, const char *domain,
    int want)
{
	memset(c, 0, sizeof(*c));
	c->want = want;
	if (store_roster_list(router.store, node, domain, contacts_add,
	    c) == -1)
		log_warnx("roster of %s@%s unreadable", node, domain);
}

static void
contacts_clear(struct contacts *c)
{
	while (c->n > 0)
		free(c->v[--c->n]);
	free(c->v);
}

/*
 * Routes a presence stanza (xml, with its from and to already right) to
 * the address to: a local account takes the inbound path. -1 with errno
 * (s2s_forward's) when one for a remote address did not reach the s2s
 * process; a broadcast bounces nothing, a directed presence does.
 */
static int
pres_route(const char *from, const char *to, int type, const char *xml,
    size_t len)
{
	struct rstanza	rs;
	struct jid	j;
	int		rc = 0;

	if (jid_parse(&j, to) == -1)
		return 0;
	memset(&rs, 0, sizeof(rs));
	rs.kind = KIND_PRESENCE;
	rs.type = type;
	rs.to = to;
	rs.from = from;
	rs.xml = xml;
	rs.xlen = len;
	if (deliver_svc_presence(from, &j, type, xml, len))
		;	/* XEP-0045 to a room; other services take none */
	else if (conf_host_find(&router.conf, j.domain) == NULL) {
		/* RFC 6121: remote contacts take the same path, via s2s */
		if ((rc = s2s_forward(KIND_PRESENCE, type, to, from, xml,
		    len)) == -1)
			log_debug("presence to %s not sent to the s2s "
			    "process: %s", log_escs(to), strerror(errno));
	} else if (j.node != NULL)
		presence_inbound(&rs, j.node, j.domain, j.resource);
	jid_clear(&j);
	return rc;
}

/* a presence stanza made here: <presence from to type/> */
static void
pres_send(const char *from, const char *to, int type)
{
	struct buf	b;
	int		rc;

	buf_init(&b, PRES_OWN_MAX);
	rc = buf_puts(&b, "<presence from='") |
	    xml_escape(&b, from, strlen(from)) |
	    buf_puts(&b, "' to='") |
	    xml_escape(&b, to, strlen(to)) |
	    buf_puts(&b, "'");
	if (pres_types[type] != NULL)
		rc |= buf_printf(&b, " type='%s'", pres_types[type]);
	rc |= buf_puts(&b, "/>");
	if (rc == 0)
		pres_route(from, to, type, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
}

/* the current presence of every available resource of u, to the JID to */
static void
pres_send_current(struct user *u, const char *to)
{
	struct sess	*s;

	for (s = u ? u->sessions : NULL; s != NULL; s = s->next)
		if (s->available && s->presence != NULL)
			pres_route(s->full, to, PRES_AVAILABLE, s->presence,
			    strlen(s->presence));
}

/* unavailable from every available resource of u to the JID to */
static void
pres_send_unavailable(struct user *u, const char *to)
{
	struct sess	*s;

	for (s = u ? u->sessions : NULL; s != NULL; s = s->next)
		if (s->available)
			pres_send(s->full, to, PRES_UNAVAILABLE);
}

/* to every available resource of u (but skip) */
static void
pres_to_resources(struct user *u, struct sess *skip, int type,
    const char *from, const char *xml, size_t len)
{
	struct sess	*s;

	for (s = u ? u->sessions : NULL; s != NULL; s = s->next)
		if (s != skip && s->available)
			deliver_to_sess(s, KIND_PRESENCE, type, NULL, from, xml,
			    len);
}

/* ---- roster items as subscription state ------------------------------- */

static bool
item_load(const char *node, const char *domain, const char *contact,
    struct roster_item *it)
{
	memset(it, 0, sizeof(*it));
	if (store_roster_get(router.store, node, domain, contact, it) == 0)
		return true;
	memset(it, 0, sizeof(*it));
	it->jid = xstrdup(contact);
	it->hidden = true;	/* until the user puts it in the roster */
	return false;
}

/*
 * Stores the changed item and pushes it; an empty hidden item goes away.
 * Returns false when it could not be stored: a new item past
 * roster-max-items, or a storage error (logged).
 */
static bool
item_save(const char *node, const char *domain, struct roster_item *it,
    bool existed)
{
	struct user	*u = user_find(node, domain);
	uint64_t	 ver;

	if (it->hidden && it->sub == SUB_NONE && !it->ask &&
	    !it->pending_in && !it->preapproved) {
		if (existed)
			(void)store_roster_del(router.store, node, domain,
			    it->jid, &ver);
		return true;
	}
	if (!existed && roster_full(node, domain)) {
		log_info("roster of %s@%s is full: no item for %s",
		    log_escs(node), log_escs(domain), log_escs(it->jid));
		return false;
	}
	if (store_roster_put(router.store, node, domain, it, &ver) == -1) {
		log_warn("roster of %s@%s: %s", node, domain, it->jid);
		return false;
	}
	it->ver = ver;
	roster_push(u, it, false);
	return true;
}

struct sub_job {
	const char	*from;		/* bare JID the stanza is sent from */
	const char	*to;		/* bare JID it goes to */
	int		 type;
	struct buf	 out;
};

/* the client's subscription stanza with from and to made bare */
static void
sub_rewrite(struct xnode *el, struct arena *a, void *arg)
{
	struct sub_job	*job = arg;

	xnode_set_attr(a, el, "from", job->from);
	xnode_set_attr(a, el, "to", job->to);
	(void)xnode_write(&job->out, el, NS_CLIENT);
}

/*
 * Outbound subscription stanzas, the user's server (RFC 6121 3.1.2,
 * 3.2.2, 3.3.2, 3.4, A.2): state first, then the stanza is routed.
 */
static void
sub_outbound(struct rstanza *rs, const char *contact)
{
	struct sess		*s = rs->sender;
	struct user		*u = s->user;
	struct roster_item	 it;
	struct sub_job		 job;
	bool			 existed;
	int			 acts;

	existed = item_load(u->node, u->domain, contact, &it);
	acts = subscription_out(&it, rs->type);
	/*
	 * XEP-0379 3.6: who subscribes with an invitation's token wants
	 * the creator's subscription back, approved as its client would
	 */
	if (rs->type == PRES_SUBSCRIBE && (it.sub & SUB_FROM) == 0 &&
	    !it.preapproved && invite_presence_has(rs)) {
		it.preapproved = true;
		acts |= SUB_ACT_CHANGED;
	}
	if (!it.pending_in) {
		free(it.pending_xml);
		it.pending_xml = NULL;
	}
	if ((acts & SUB_ACT_CHANGED) != 0 &&
	    !item_save(u->node, u->domain, &it, existed)) {
		/* not recorded, so not sent: the user learns why */
		roster_item_clear(&it);
		deliver_error(rs, existed ? XERR_INTERNAL_SERVER_ERROR :
		    XERR_NOT_ALLOWED);
		return;
	}
	roster_item_clear(&it);
	if ((acts & SUB_ACT_PASS) == 0)
		return;
	job.from = u->bare;
	job.to = contact;
	job.type = rs->type;
	buf_init(&job.out, LINK_STANZA_MAX);
	/* xnode_write writes all or nothing: nothing, past the cap */
	if (deliver_parse(rs->xml, rs->xlen, sub_rewrite, &job) == 0 &&
	    buf_avail(&job.out) > 0)
		pres_route(u->bare, contact, rs->type, buf_rptr(&job.out),
		    buf_avail(&job.out));
	buf_clear(&job.out);
	/* RFC 6121 3.1.5 and 3.2.2: what the contact may now see */
	if ((acts & SUB_ACT_CURRENT) != 0)
		pres_send_current(u, contact);
	if ((acts & SUB_ACT_UNAVAILABLE) != 0)
		pres_send_unavailable(u, contact);
}

/*
 * node@domain subscribes to contact without a client's stanza (an
 * invitation's, XEP-0379 3.5): as sub_outbound does for PRES_SUBSCRIBE.
 */
static void
sub_as(const char *node, const char *domain, const char *contact)
{
	struct roster_item	it;
	char			bare[JID_STR_MAX + 1];
	bool			existed;
	int			acts;

	existed = item_load(node, domain, contact, &it);
	acts = subscription_out(&it, PRES_SUBSCRIBE);
	if ((acts & SUB_ACT_CHANGED) != 0 &&
	    !item_save(node, domain, &it, existed)) {
		roster_item_clear(&it);
		return;
	}
	roster_item_clear(&it);
	jid_format(bare, node, domain, NULL);
	pres_send(bare, contact, PRES_SUBSCRIBE);
}

/*
 * Inbound subscription stanzas, the contact's server (RFC 6121 3.1.3,
 * 3.2.3, 3.3.3, 3.1.6, 3.4, A.3). node@domain is the local account, from
 * the (bare) sender.
 */
static void
sub_inbound(struct rstanza *rs, const char *node, const char *domain,
    const char *from)
{
	struct roster_item	 it;
	struct user		*u = user_find(node, domain);
	char			 bare[JID_STR_MAX + 1];
	bool			 existed, invited = false;
	int			 acts;

	jid_format(bare, node, domain, NULL);
	existed = item_load(node, domain, from, &it);
	/* XEP-0379 3.5: the user's invitation approves it in advance */
	if (rs->type == PRES_SUBSCRIBE && (it.sub & SUB_FROM) == 0 &&
	    invite_presence_use(rs, node, domain)) {
		it.preapproved = true;
		invited = true;
	}
	if (rs->type == PRES_SUBSCRIBE && (it.sub & SUB_FROM) == 0 &&
	    !it.preapproved && !it.pending_in &&
	    subreq_admit(node, domain, from) == -1) {
		/* over a quota: refused for the user, as when the roster
		   is full */
		roster_item_clear(&it);
		pres_send(bare, from, PRES_UNSUBSCRIBED);
		return;
	}
	acts = subscription_in(&it, rs->type);
	if (!it.pending_in) {
		free(it.pending_xml);
		it.pending_xml = NULL;
	} else if ((acts & SUB_ACT_PASS) != 0 && rs->type == PRES_SUBSCRIBE) {
		/* a request waits in the item, compactly (subreq.c), for a
		   resource to be available */
		free(it.pending_xml);
		it.pending_xml = subreq_record(rs->xml, rs->xlen);
	}
	if ((acts & SUB_ACT_UNAVAILABLE) != 0)
		pres_send_unavailable(u, from);
	if ((acts & SUB_ACT_CHANGED) != 0 &&
	    !item_save(node, domain, &it, existed)) {
		/*
		 * A request that cannot be kept (the roster is full) is
		 * denied, so the sender's state does not wait forever
		 * (RFC 6121 3.1.3: the server may answer for the user).
		 */
		if ((acts & SUB_ACT_PASS) != 0 && rs->type == PRES_SUBSCRIBE)
			pres_send(bare, from, PRES_UNSUBSCRIBED);
		acts &= ~SUB_ACT_PASS;
	}
	roster_item_clear(&it);
	if ((acts & SUB_ACT_SUBSCRIBED) != 0)
		pres_send(bare, from, PRES_SUBSCRIBED);
	if ((acts & SUB_ACT_CURRENT) != 0)
		pres_send_current(u, from);
	if ((acts & SUB_ACT_PASS) != 0) {
		pres_to_resources(u, NULL, rs->type, from, rs->xml, rs->xlen);
		/* XEP-0357 7: a request the user should hear of */
		if (rs->type == PRES_SUBSCRIBE)
			push_subscribe(node, domain);
	}
	/* XEP-0379 3.5: and the user subscribes back */
	if (invited)
		sub_as(node, domain, from);
}

/*
 * XEP-0379 with XEP-0401: the account node@domain, made with an
 * invitation of creator (a local bare JID), and the creator approve
 * each other in advance and subscribe: both ways, at once.
 */
/* node@domain approves contact's subscription in advance (RFC 6121 3.4) */
static void
preapprove(const char *node, const char *domain, const char *contact)
{
	struct roster_item	it;
	bool			existed;

	existed = item_load(node, domain, contact, &it);
	if ((it.sub & SUB_FROM) == 0) {
		it.preapproved = true;
		it.hidden = false;
		(void)item_save(node, domain, &it, existed);
	}
	roster_item_clear(&it);
}

void
presence_invited(const char *node, const char *domain, const char *creator)
{
	struct jid		c;
	char			bare[JID_STR_MAX + 1];

	if (jid_parse(&c, creator) == -1)
		return;
	jid_format(bare, node, domain, NULL);
	preapprove(node, domain, creator);
	if (c.node != NULL) {
		preapprove(c.node, c.domain, bare);
		sub_as(node, domain, creator);
		sub_as(c.node, c.domain, bare);
	}
	jid_clear(&c);
}

/* RFC 6121 4.3.2: a probe from 'from' for the account node@domain */
static void
probe_inbound(const char *node, const char *domain, const char *from)
{
	struct user	*u = user_find(node, domain);
	char		 bare[JID_STR_MAX + 1];
	struct jid	 j;

	if (jid_parse(&j, from) == -1)
		return;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	if ((roster_sub_of(node, domain, bare) & SUB_FROM) == 0) {
		jid_format(bare, node, domain, NULL);
		pres_send(bare, from, PRES_UNSUBSCRIBED);
		return;
	}
	pres_send_current(u, from);
}

struct caps_job {
	const char	*from;
	const char	*domain;
};

static void
caps_read(struct xnode *el, struct arena *a, void *arg)
{
	struct caps_job	*job = arg;

	(void)a;
	caps_seen(job->from, job->domain, el);
}

/*
 * A remote contact's presence to our account at domain: its caps
 * (XEP-0115), read only when the bytes hold some; local senders' caps
 * are read from their own presence (presence_read)
 */
static void
pres_caps_remote(struct rstanza *rs, const char *domain)
{
	struct caps_job	 job = { rs->from, domain };

	if (rs->from == NULL || domain_is_local_jid(rs->from))
		return;
	if (rs->type == PRES_UNAVAILABLE)
		caps_gone(rs->from);
	else if (rs->type == PRES_AVAILABLE &&
	    memmem(rs->xml, rs->xlen, NS_CAPS, strlen(NS_CAPS)) != NULL)
		(void)deliver_parse(rs->xml, rs->xlen, caps_read, &job);
}

void
presence_inbound(struct rstanza *rs, const char *node, const char *domain,
    const char *resource)
{
	struct user	*u;
	struct sess	*s;
	struct jid	 j;
	char		 from[JID_STR_MAX + 1];

	if (!account_exists(node, domain))
		return;		/* RFC 6121 8.5.1: silently ignored */
	if (blocking_blocks(node, domain, rs->from))
		return;		/* XEP-0191 3.5: nothing from the blocked */
	switch (rs->type) {
	case PRES_SUBSCRIBE:
	case PRES_SUBSCRIBED:
	case PRES_UNSUBSCRIBE:
	case PRES_UNSUBSCRIBED:
		if (jid_parse(&j, rs->from) == -1)
			return;
		jid_format(from, j.node, j.domain, NULL);
		jid_clear(&j);
		sub_inbound(rs, node, domain, from);
		return;
	case PRES_PROBE:
		probe_inbound(node, domain, rs->from);
		return;
	}
	/* a remote resource's availability: who hears of PEP events */
	pep_presence_in(node, domain, rs->from, rs->type);
	if (rs->sender == NULL)
		pres_caps_remote(rs, domain);
	u = user_find(node, domain);
	if (resource == NULL) {
		pres_to_resources(u, NULL, rs->type, rs->from, rs->xml,
		    rs->xlen);
		return;
	}
	/* RFC 6121 8.5.3.2.2: to a resource that is gone: dropped */
	for (s = u ? u->sessions : NULL; s != NULL; s = s->next)
		if (strcmp(s->full + strlen(u->bare) + 1, resource) == 0)
			deliver_to_sess(s, KIND_PRESENCE, rs->type, rs->to,
			    rs->from, rs->xml, rs->xlen);
}

/* ---- the user's own presence ------------------------------------------ */

/* reading the session's own available presence */
struct pres_job {
	struct sess	*s;
	struct buf	*out;		/* the presence rewritten */
	bool		 rewritten;
};

static void
presence_read(struct xnode *el, struct arena *a, void *arg)
{
	struct pres_job	*job = arg;
	struct sess	*s = job->s;
	struct xnode	*p;
	long		 v;

	s->priority = 0;
	if ((p = xnode_child(el, NS_CLIENT, "priority")) != NULL) {
		v = strtol(xnode_text(a, p), NULL, 10);
		/* RFC 6121 4.7.2.3: -128 to +127 */
		s->priority = v < -128 ? -128 : v > 127 ? 127 : (int)v;
	}
	/* XEP-0115: the tree is at hand, so caps are read here */
	caps_seen(s->full, s->user->domain, el);
	/* XEP-0398 4: the avatar hash, put in by the server */
	job->rewritten = pep_compat_presence(s->user, el, a, job->out) == 1;
}

/* broadcast of xml from s to its contacts with a subscription 'from' */
static void
pres_broadcast(struct sess *s, int type, const char *xml, size_t len)
{
	struct contacts	c;
	size_t		i;

	contacts_load(&c, s->user->node, s->user->domain, SUB_FROM);
	/* one frame per c2s process for all the local contacts */
	deliver_fanout_begin(KIND_PRESENCE, type, s->full, xml, len);
	for (i = 0; i < c.n; i++)
		/* XEP-0191 3.4: no presence to a blocked contact */
		if (!blocking_blocks(s->user->node, s->user->domain, c.v[i]))
			pres_route(s->full, c.v[i], type, xml, len);
	deliver_fanout_end();
	contacts_clear(&c);
}

/*
 * The steps below send what a new available session is owed; each
 * starts at s->burst_pos and stops (1, with the position saved) while
 * the session's link is congested, so that a large roster or many
 * stored requests wait for the link to drain instead of passing its cap
 * (sess_burst).
 */
static bool
burst_blocked(struct sess *s)
{
	/* a hibernating session (XEP-0198) keeps what it is sent */
	return s->rl != NULL && (s->rl->l->failed ||
	    link_congested(s->rl->l));
}

/* RFC 6121 4.2.2: the user's other available resources, to the new one */
int
presence_burst_own(struct sess *s)
{
	struct sess	*o;
	size_t		 i = 0;

	for (o = s->user->sessions; o != NULL; o = o->next) {
		if (o == s || !o->available || o->presence == NULL)
			continue;
		if (i++ < s->burst_pos)
			continue;
		if (burst_blocked(s)) {
			s->burst_pos = i - 1;
			return 1;
		}
		deliver_to_sess(s, KIND_PRESENCE, PRES_AVAILABLE, NULL,
		    o->full, o->presence, strlen(o->presence));
	}
	return 0;
}

/* RFC 6121 4.3: probes of local contacts are answered at once */
int
presence_burst_probes(struct sess *s)
{
	struct contacts		 c;
	struct user		*cu;
	struct sess		*o;
	struct jid		 j;
	size_t			 i;
	int			 rc = 0;

	contacts_load(&c, s->user->node, s->user->domain, SUB_TO);
	for (i = s->burst_pos; i < c.n; i++) {
		if (burst_blocked(s)) {
			s->burst_pos = i;
			rc = 1;
			break;
		}
		if (jid_parse(&j, c.v[i]) == -1)
			continue;
		if (j.node != NULL && (cu = user_find(j.node, j.domain)) !=
		    NULL && (roster_sub_of(j.node, j.domain, s->user->bare) &
		    SUB_FROM) != 0 && !blocking_blocks(s->user->node,
		    s->user->domain, c.v[i]))
			for (o = cu->sessions; o != NULL; o = o->next)
				if (o->available && o->presence != NULL)
					deliver_to_sess(s, KIND_PRESENCE,
					    PRES_AVAILABLE, NULL, o->full,
					    o->presence, strlen(o->presence));
		jid_clear(&j);
	}
	contacts_clear(&c);
	return rc;
}

/* RFC 6121 3.1.3: requests that arrived while the user was away */
static int
pending_collect(const struct roster_item *it, void *arg)
{
	struct contacts	*c = arg;

	if (!it->pending_in || it->pending_xml == NULL)
		return 0;
	if (c->n + 2 > c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	/* pairs: who, and the record (subreq.c) */
	c->v[c->n++] = xstrdup(it->jid);
	c->v[c->n++] = xstrdup(it->pending_xml);
	return 0;
}

int
presence_burst_pending(struct sess *s)
{
	struct contacts	c;
	struct buf	b;
	size_t		i;
	int		rc = 0;

	memset(&c, 0, sizeof(c));
	buf_init(&b, LINK_STANZA_MAX);
	(void)store_roster_list(router.store, s->user->node, s->user->domain,
	    pending_collect, &c);
	for (i = 2 * s->burst_pos; i + 1 < c.n; i += 2) {
		if (burst_blocked(s)) {
			s->burst_pos = i / 2;
			rc = 1;
			break;
		}
		buf_reset(&b);
		if (subreq_stanza(&b, c.v[i], s->user->bare, c.v[i + 1]) ==
		    -1) {
			log_warnx("%s: request from %s too large", __func__,
			    log_escs(c.v[i]));
			continue;
		}
		deliver_to_sess(s, KIND_PRESENCE, PRES_SUBSCRIBE, NULL, NULL,
		    buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
	contacts_clear(&c);
	return rc;
}

static void
pres_last_activity(struct sess *s, const char *status)
{
	struct sess	*o;
	char		 rec[64 + 1024];
	int		 n;

	if (s->user->removed)
		return;
	for (o = s->user->sessions; o != NULL; o = o->next)
		if (o != s && o->available)
			return;
	n = snprintf(rec, sizeof(rec), "%lld %s", (long long)clock_wall(),
	    status ? status : "");
	if (n > 0 && (size_t)n >= sizeof(rec))
		n = sizeof(rec) - 1;
	(void)store_doc_put_later(router.store, DOC_LAST, s->user->node,
	    s->user->domain, "", rec, (size_t)n);
}

static int
directed_send(const void *key, size_t len, void *val, void *arg)
{
	struct sess	*s = arg;
	char		 to[JID_STR_MAX + 1];

	(void)val;
	if (len > JID_STR_MAX)
		return 0;
	memcpy(to, key, len);
	to[len] = '\0';
	pres_send(s->full, to, PRES_UNAVAILABLE);
	return 0;
}

/* the session becomes unavailable: everyone who saw it learns it */
static void
pres_unavailable(struct sess *s, const char *xml, size_t len,
    const char *status)
{
	struct buf	b;

	if (!s->available)
		return;
	buf_init(&b, PRES_OWN_MAX);
	if (xml == NULL) {
		/* PRES_OWN_MAX holds it: a JID is bounded */
		if (buf_puts(&b, "<presence type='unavailable' from='") |
		    xml_escape(&b, s->full, strlen(s->full)) |
		    buf_puts(&b, "'/>"))
			log_warnx("%s: presence of %s too large", __func__,
			    s->full);
		else {
			xml = buf_rptr(&b);
			len = buf_avail(&b);
		}
	}
	pres_last_activity(s, status);
	s->available = false;
	caps_gone(s->full);
	if (xml != NULL) {
		pres_broadcast(s, PRES_UNAVAILABLE, xml, len);
		pres_to_resources(s->user, s, PRES_UNAVAILABLE, s->full, xml,
		    len);
	}
	if (s->directed != NULL) {
		/* RFC 6121 4.6.3: directed presence is cleaned up */
		map_foreach(s->directed, directed_send, s);
		map_free(s->directed, NULL);
		s->directed = NULL;
	}
	free(s->presence);
	s->presence = NULL;
	buf_clear(&b);
}

struct status_job {
	char	*status;
};

static void
status_read(struct xnode *el, struct arena *a, void *arg)
{
	struct status_job	*job = arg;
	struct xnode		*st = xnode_child(el, NS_CLIENT, "status");

	if (st != NULL)
		job->status = xstrdup(xnode_text(a, st));
}

/* presence with no 'to': the session's own availability (RFC 6121 4.2-4.5) */
static void
pres_own(struct rstanza *rs)
{
	struct sess		*s = rs->sender;
	struct status_job	 job = { NULL };
	struct pres_job		 pj;
	struct buf		 b;
	const char		*xml;
	size_t			 len;
	bool			 first, was_negative;

	if (rs->type == PRES_UNAVAILABLE) {
		s->burst = BURST_NONE;	/* what was owed is no more */
		(void)deliver_parse(rs->xml, rs->xlen, status_read, &job);
		pres_unavailable(s, rs->xml, rs->xlen, job.status);
		free(job.status);
		s->initial = false;
		return;
	}
	if (rs->type != PRES_AVAILABLE)
		return;
	first = !s->available;
	was_negative = s->priority < 0;
	buf_init(&b, LINK_STANZA_MAX);
	pj.s = s;
	pj.out = &b;
	pj.rewritten = false;
	if (deliver_parse(rs->xml, rs->xlen, presence_read, &pj) == -1) {
		buf_clear(&b);
		return;
	}
	xml = pj.rewritten ? buf_rptr(&b) : rs->xml;
	len = pj.rewritten ? buf_avail(&b) : rs->xlen;
	s->available = true;
	free(s->presence);
	s->presence = xstrndup(xml, len);
	pres_broadcast(s, PRES_AVAILABLE, xml, len);
	/* RFC 6121 4.2.2: to all the user's resources, the sender too */
	pres_to_resources(s->user, NULL, PRES_AVAILABLE, s->full, xml, len);
	buf_clear(&b);
	if (first) {
		s->initial = true;
		push_online(s->user);
		motd_send(s);	/* XEP-0133 4.26: at login */
	}
	/* XEP-0160 2: the first presence that can take messages */
	sess_burst(s, first, s->priority >= 0 && (first || was_negative));
}

/*
 * XEP-0398 4: directed available presence (a MUC join) has the hash.
 * One that cannot leave for a remote server (no s2s process yet, its
 * link full) is bounced as a message would be: a join must not wait
 * for an answer that cannot come.
 */
static void
pres_directed(struct sess *s, struct rstanza *rs)
{
	struct buf	b;
	int		rc, err;

	buf_init(&b, LINK_STANZA_MAX);
	if (rs->type == PRES_AVAILABLE &&
	    pep_compat_presence_xml(s->user, rs->xml, rs->xlen, &b) == 1)
		rc = pres_route(s->full, rs->to, rs->type, buf_rptr(&b),
		    buf_avail(&b));
	else
		rc = pres_route(s->full, rs->to, rs->type, rs->xml, rs->xlen);
	err = errno;
	buf_clear(&b);
	if (rc == -1 && rs->type == PRES_AVAILABLE)
		deliver_error(rs, s2s_forward_error(err));
}

void
presence_outbound(struct rstanza *rs)
{
	struct sess	*s = rs->sender;
	struct jid	 j;
	char		 bare[JID_STR_MAX + 1];

	if (rs->to == NULL) {
		pres_own(rs);
		return;
	}
	if (jid_parse(&j, rs->to) == -1)
		return;
	jid_format(bare, j.node, j.domain, NULL);
	switch (rs->type) {
	case PRES_SUBSCRIBE:
	case PRES_SUBSCRIBED:
	case PRES_UNSUBSCRIBE:
	case PRES_UNSUBSCRIBED:
		if (j.node != NULL &&
		    !blocking_blocks(s->user->node, s->user->domain, bare))
			sub_outbound(rs, bare);
		break;
	case PRES_PROBE:
		break;		/* RFC 6121 4.3: probes are the server's */
	case PRES_AVAILABLE:
	case PRES_UNAVAILABLE:
		if (blocking_blocks(s->user->node, s->user->domain, rs->to))
			break;
		/* RFC 6121 4.6: directed presence, remembered */
		if (rs->type == PRES_AVAILABLE && s->available) {
			if (s->directed == NULL)
				s->directed = map_new();
			/*
			 * presence-directed-max: an untracked one would never
			 * be followed by unavailable (RFC 6121 4.6.3), so past
			 * the cap it is refused, not sent
			 */
			if (map_get(s->directed, rs->to) == NULL &&
			    map_count(s->directed) >=
			    (size_t)router.conf.presence_directed_max) {
				deliver_error(rs, XERR_RESOURCE_CONSTRAINT);
				break;
			}
			map_put(s->directed, rs->to, (void *)1);
		} else if (s->directed != NULL)
			map_del(s->directed, rs->to);
		pres_directed(s, rs);
		break;
	default:
		pres_route(s->full, rs->to, rs->type, rs->xml, rs->xlen);
		break;
	}
	jid_clear(&j);
}

void
presence_gone(struct sess *s)
{
	pres_unavailable(s, NULL, 0, NULL);
}

void
presence_unavailable_to(const char *from, const char *to)
{
	pres_send(from, to, PRES_UNAVAILABLE);
}

void
presence_block_changed(struct user *u, const char *jid, bool blocked)
{
	struct jid	j;
	char		bare[JID_STR_MAX + 1];

	if (jid_parse(&j, jid) == -1)
		return;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	if ((roster_sub_of(u->node, u->domain, bare) & SUB_FROM) == 0)
		return;
	if (blocked)
		pres_send_unavailable(u, jid);
	else
		pres_send_current(u, jid);
}

/* RFC 6121 2.5.2: removing an item cancels both subscriptions */
void
presence_roster_removed(const char *bare, struct user *u,
    const struct roster_item *it)
{
	if ((it->sub & SUB_TO) != 0 || it->ask)
		pres_send(bare, it->jid, PRES_UNSUBSCRIBE);
	if ((it->sub & SUB_FROM) != 0 || it->pending_in) {
		pres_send(bare, it->jid, PRES_UNSUBSCRIBED);
		pres_send_unavailable(u, it->jid);
	}
}
