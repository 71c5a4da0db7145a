/*
 * The SOCKS5 bytestream proxy of a host (XEP-0065) at proxy.NAME: the
 * router answers its IQs -- disco, the streamhost query, activation --
 * and the proxy process (proxy/) holds the connections. An activation
 * is a request on the proxy link (LINK_PROXY_ACTIVATE) whose result
 * answers the initiator's IQ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "router.h"

#define NS_BYTESTREAMS	"http://jabber.org/protocol/bytestreams"
/* activations waiting for the proxy's answer; past it resource-constraint */
#define PROXY_WAIT_MAX	1024
/* a stream id longer than this is refused (XEP-0065 has no bound) */
#define PROXY_SID_MAX	256

/* an activation IQ waiting for LINK_PROXY_RESULT */
struct proxy_wait {
	char	*initiator;	/* the IQ's from: the answer's to */
	char	*svc;		/* the proxy's domain */
	char	*id;		/* the IQ's id, NULL if none */
};

static struct map	*proxy_waits;	/* request id -> struct proxy_wait */
static uint32_t		 proxy_next_rid;

static void	proxy_info(struct rstanza *, struct xnode *, struct arena *);
static void	proxy_streamhost(struct rstanza *, struct xnode *,
		    struct arena *);
static void	proxy_activate(struct rstanza *, struct xnode *,
		    struct arena *);

static const struct iq_handler proxy_info_handler = {
	.ns = NS_DISCO_INFO, .name = "query", .get = proxy_info,
};

static const struct iq_handler proxy_items_handler = {
	.ns = NS_DISCO_ITEMS, .name = "query", .get = iq_svc_items,
};

static const struct iq_handler proxy_bytestreams_handler = {
	.ns = NS_BYTESTREAMS, .name = "query", .get = proxy_streamhost,
	.set = proxy_activate,
};

/* the payloads the proxy answers: one table, as iq.c's */
static const struct iq_handler *const proxy_handlers[] = {
	&proxy_info_handler,
	&proxy_items_handler,
	&proxy_bytestreams_handler,
};

/* XEP-0065 4: identity proxy/bytestreams */
static void
proxy_info(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	if (iq_svc_info(rs, iq, a, "proxy", "bytestreams",
	    "SOCKS5 Bytestreams", proxy_handlers, nitems(proxy_handlers)) !=
	    NULL)
		deliver_tree(rs->sender, iq);
}

/*
 * The proxy serves its host's accounts (its bandwidth is the
 * operator's); false after answering forbidden
 */
static bool
proxy_allowed(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_host	*h = conf_proxy_find(&router.conf,
				    rs->tdomain);

	return iq_host_account(rs, iq, a, h != NULL ? h->name : NULL);
}

/* XEP-0065 4: the streamhost clients connect to */
static void
proxy_streamhost(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_listen	*cl;
	struct xnode			*q, *sh;

	if (!proxy_allowed(rs, iq, a))
		return;
	if ((cl = conf_listen_find(&router.conf, LISTEN_PROXY)) == NULL) {
		iq_error(rs, iq, a, XERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_BYTESTREAMS, "query");
	sh = xnode_add(a, q, NS_BYTESTREAMS, "streamhost");
	xnode_set_attr(a, sh, "jid", rs->tdomain);
	xnode_set_attr(a, sh, "host", router.conf.proxy_host != NULL ?
	    router.conf.proxy_host : cl->addr);
	xnode_set_attr(a, sh, "port", arena_printf(a, "%u", cl->port));
	deliver_tree(rs->sender, iq);
}

/* XEP-0065 5.3.2: hex SHA-1 of SID, initiator and target JIDs */
static int
proxy_hash(struct arena *a, const char *sid, const char *initiator,
    const char *target, char *out)
{
	unsigned char	 md[20];
	const char	*s;

	s = arena_printf(a, "%s%s%s", sid, initiator, target);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, s, strlen(s), md) < 0)
		return -1;
	hex_encode(out, md, sizeof(md));
	return 0;
}

/* XEP-0065 6.3.5: the initiator asks the proxy to relay */
static void
proxy_activate(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode		*q = xnode_child(iq, NULL, NULL), *act;
	struct proxy_wait	*w;
	struct link_out		 m;
	struct jid		 tj;
	const char		*sid, *id;
	char			 hash[41], *target, key[16];

	if (!proxy_allowed(rs, iq, a))
		return;
	sid = xnode_attr(q, "sid");
	act = xnode_child(q, NS_BYTESTREAMS, "activate");
	if (sid == NULL || *sid == '\0' || strlen(sid) > PROXY_SID_MAX ||
	    act == NULL) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "a sid and an activate "
		    "element are required");
		return;
	}
	if (jid_parse(&tj, xnode_text(a, act)) == -1) {
		iq_error(rs, iq, a, XERR_JID_MALFORMED, NULL);
		return;
	}
	target = jid_full(&tj);
	jid_clear(&tj);
	if (proxy_hash(a, sid, rs->from, target, hash) == -1) {
		free(target);
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	free(target);
	if (router.proxy == NULL || router.proxy->l->failed) {
		/* RFC 6120 8.3.3.11: the proxy process is away for now */
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR,
		    "the proxy is not running");
		return;
	}
	if (proxy_waits == NULL)
		proxy_waits = map_new();
	if (map_count(proxy_waits) >= PROXY_WAIT_MAX) {
		iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT, NULL);
		return;
	}
	id = xnode_attr(iq, "id");
	w = xcalloc(1, sizeof(*w));
	w->initiator = xstrdup(rs->from);
	w->svc = xstrdup(rs->tdomain);
	w->id = id != NULL ? xstrdup(id) : NULL;
	snprintf(key, sizeof(key), "%u", ++proxy_next_rid);
	(void)map_put(proxy_waits, key, w);
	link_begin(&m, router.proxy->l, LINK_PROXY_ACTIVATE, proxy_next_rid);
	link_put_str(&m, hash);
	link_put_str(&m, rs->from);
	(void)link_end(&m);
}

static void
proxy_wait_free(void *p)
{
	struct proxy_wait	*w = p;

	free(w->initiator);
	free(w->svc);
	free(w->id);
	free(w);
}

/* answers w's IQ: a result, or err */
static void
proxy_answer(struct proxy_wait *w, enum stanza_err err, const char *text)
{
	struct arena	 a;
	struct xnode	*iq;

	arena_init(&a);
	iq = xnode_new(&a, NS_CLIENT, "iq");
	xnode_set_attr(&a, iq, "type", "set");
	xnode_set_attr(&a, iq, "from", w->initiator);
	xnode_set_attr(&a, iq, "to", w->svc);
	if (w->id != NULL)
		xnode_set_attr(&a, iq, "id", w->id);
	if (err == XERR_COUNT)
		iq_make_result(iq, &a);
	else
		stanza_make_error(&a, iq, err, text);
	deliver_tree(NULL, iq);
	arena_free(&a);
}

int
proxy_frame(struct rlink *rl, const struct link_hdr *h, const char *payload)
{
	struct link_in		 in;
	struct proxy_wait	*w;
	uint32_t		 st;
	char			 key[24];

	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_PROXY_RESULT:
		link_get_u32(&in, &st);
		if (!link_in_done(&in))
			return link_fail(rl->l, "bad %s",
			    link_msg_name(h->type));
		snprintf(key, sizeof(key), "%llu", (unsigned long long)h->sid);
		if (proxy_waits == NULL ||
		    (w = map_del(proxy_waits, key)) == NULL) {
			log_debug("proxy: result for unknown request %s", key);
			return 0;
		}
		/* XEP-0065 6.3.5: no pair for the hash is item-not-found */
		if (st == LINK_PROXY_OK)
			proxy_answer(w, XERR_COUNT, NULL);
		else if (st == LINK_PROXY_BUSY)
			proxy_answer(w, XERR_RESOURCE_CONSTRAINT, NULL);
		else
			proxy_answer(w, XERR_ITEM_NOT_FOUND, "no pair of "
			    "connections for this stream");
		proxy_wait_free(w);
		return 0;
	default:
		log_warnx("proxy: unexpected %s", link_msg_name(h->type));
		return link_fail(rl->l, "unexpected %s",
		    link_msg_name(h->type));
	}
}

static int
proxy_lost_one(const void *key, size_t len, void *val, void *arg)
{
	(void)key;
	(void)len;
	(void)arg;
	proxy_answer(val, XERR_INTERNAL_SERVER_ERROR, "the proxy restarted");
	return 0;
}

void
proxy_link_lost(void)
{
	if (proxy_waits == NULL)
		return;
	map_foreach(proxy_waits, proxy_lost_one, NULL);
	map_free(proxy_waits, proxy_wait_free);
	proxy_waits = NULL;
}

bool
proxy_svc_route(struct rstanza *rs, const struct jid *to)
{
	if (conf_proxy_find(&router.conf, to->domain) == NULL)
		return false;
	iq_component(rs, to, proxy_handlers, nitems(proxy_handlers));
	return true;
}
