/*
 * Outgoing server streams, one per (local domain, remote domain) pair.
 * Stanzas for the pair wait in a bounded queue while the stream is set
 * up: a static route or SRV (direct TLS and STARTTLS targets merged,
 * RFC 2782 order), every address of every target in turn, TLS (required
 * by default), then SASL EXTERNAL when the peer's certificate verifies
 * and it offers the mechanism, else Server Dialback. When every target
 * failed or the set-up deadline passed, each queued stanza is bounced
 * (RFC 6120 8.3.3.15, 8.3.3.16); nothing is dropped silently.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../common/addr.h"
#include "../common/base64.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "certid.h"
#include "s2s.h"

static void	out_try_target(struct out *);
static void	out_try_addr(struct out *);
static void	out_fail(struct out *, enum stanza_err);

static uint32_t
out_rnd(void *arg)
{
	uint32_t	v;

	(void)arg;
	random_bytes(&v, sizeof(v));
	return v;
}

static void
out_free(struct out *o)
{
	struct verify	*v;

	map_del(s2s.outs, o->key);
	ctimer_stop(&o->timer);
	srv_targets_free(o->targets, o->ntargets);
	free(o->addrs);
	while ((v = o->verifies) != NULL) {
		o->verifies = v->next;
		free(v->id);
		free(v->key);
		free(v);
	}
	buf_clear(&o->queue);
	free(o->key);
	free(o->local);
	free(o->remote);
	free(o);
}

/* an idle pair with nothing waiting is forgotten */
static void
out_maybe_free(struct out *o)
{
	if (o->c == NULL && !o->resolving && o->nqueued == 0 &&
	    o->verifies == NULL)
		out_free(o);
}

static void
out_deadline_cb(struct ctimer *t)
{
	struct out	*o = container_of(t, struct out, timer);
	log_info("%s: no stream within %ds", o->key,
	    s2s.conf.s2s_connect_timeout);
	out_fail(o, !o->reached ?
	    XERR_REMOTE_SERVER_NOT_FOUND : XERR_REMOTE_SERVER_TIMEOUT);
}

/*
 * The pair's state, made if need be; NULL when s2s-out-max pairs exist
 * already: a peer or a user naming domain after domain must not make us
 * hold a stream (and a descriptor, a queue, a timer) for each.
 */
static struct out *
out_get(const char *local, const char *remote)
{
	struct out	*o;
	char		*key;

	key = xasprintf("%s %s", local, remote);
	if ((o = map_get(s2s.outs, key)) != NULL) {
		free(key);
		return o;
	}
	if (map_count(s2s.outs) >= (size_t)s2s.conf.s2s_out_max) {
		log_warnx("%s: %d outgoing pairs already (s2s-out-max)", key,
		    s2s.conf.s2s_out_max);
		free(key);
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->key = key;
	o->local = xstrdup(local);
	o->remote = xstrdup(remote);
	buf_init(&o->queue, s2s.conf.s2s_queue_max);
	ctimer_init(&o->timer, out_deadline_cb);
	map_put(s2s.outs, o->key, o);
	return o;
}

/* the router's stanza bytes, parsed for a bounce (s2s.h) */
int
s2s_parse(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	static struct xparse	*parser;

	if (parser == NULL)
		parser = xparse_new(NS_CLIENT,
		    s2s.conf.max_stanza_size * 2 + 4096);
	return xparse_one(parser, xml, len, fn, arg);
}

/* ---- bounces -------------------------------------------------------- */

struct bounce_job {
	enum stanza_err	 cond;
	const char	*text;
	bool		 comp;		/* for a component: the error is its */
};

static void
bounce_build(struct xnode *el, struct arena *a, void *arg)
{
	struct bounce_job	*job = arg;
	struct buf		 b;
	const char		*to, *from;
	int			 kind, type;

	kind = stanza_kind_of(el->ns, el->name, NS_CLIENT);
	if (kind == -1 || stanza_is_error(el))
		return;		/* RFC 6120 8.3.1: never an error to an error */
	type = stanza_type_of(kind, xnode_attr(el, "type"));
	if (kind == KIND_IQ && type == IQ_RESULT)
		return;
	stanza_make_error(a, el, job->cond, job->text);
	to = xnode_attr(el, "to");
	from = xnode_attr(el, "from");
	/* the error for a stanza of at most LINK_STANZA_MAX: dropped past it */
	buf_init(&b, LINK_STANZA_MAX);
	/* a room's occupant its server cannot be reached for is gone */
	if (to != NULL && from != NULL && kind == KIND_PRESENCE)
		rejoin_out(el, a, stanza_type_of(kind, "error"), to, from,
		    job->comp);
	if (to != NULL && from != NULL && xnode_write(&b, el, NS_CLIENT) == 0)
		(void)uplink_stanza(kind, stanza_type_of(kind, "error"), to,
		    from, buf_rptr(&b), buf_avail(&b), job->comp);
	buf_clear(&b);
}

/*
 * The stanza (as the router sent it) goes back to its sender with cond;
 * comp: it was for a component, whose domain the error comes from, so
 * the router may send it on to a remote sender (LINK_F_COMPONENT).
 */
static void
bounce_one(const char *xml, size_t len, enum stanza_err cond,
    const char *text, bool comp)
{
	struct bounce_job	job = { cond, text, comp };

	(void)s2s_parse(xml, len, bounce_build, &job);
}

/* queue records: u32 length, the bytes (the stanza as the router sent it) */
static int
queue_put(struct out *o, const char *xml, size_t len)
{
	unsigned char	h[4];

	if (buf_avail(&o->queue) + sizeof(h) + len > s2s.conf.s2s_queue_max)
		return -1;
	h[0] = (unsigned char)(len >> 24);
	h[1] = (unsigned char)(len >> 16);
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	if (buf_append(&o->queue, (const char *)h, sizeof(h)) == -1 ||
	    buf_append(&o->queue, xml, len) == -1)
		return -1;
	o->nqueued++;
	return 0;
}

/*
 * Empties the queue in order: each stanza is written to c, or, with c
 * NULL, bounced to its sender with cond.
 */
static void
queue_drain(struct out *o, struct conn *c, enum stanza_err cond)
{
	struct link_in	 in;
	const char	*s;
	size_t		 len;

	link_in_init(&in, buf_rptr(&o->queue), buf_avail(&o->queue));
	while (o->nqueued > 0) {
		link_get_strn(&in, &s, &len);
		if (in.bad || s == NULL)
			break;
		if (c != NULL)
			conn_write(c, s, len);
		else
			bounce_one(s, len, cond, NULL, false);
		o->nqueued--;
	}
	o->nqueued = 0;
	buf_reset(&o->queue);
}

/* every queued stanza goes back with cond; verifies fail */
static void
out_fail(struct out *o, enum stanza_err cond)
{
	struct verify	*v;

	ctimer_stop(&o->timer);
	if (o->nqueued > 0)
		log_info("%s: bouncing %zu stanzas: %s", o->key, o->nqueued,
		    stanza_err_name(cond));
	queue_drain(o, NULL, cond);
	while ((v = o->verifies) != NULL) {
		o->verifies = v->next;
		in_verified(v->conn, o->local, o->remote, false);
		free(v->id);
		free(v->key);
		free(v);
	}
	srv_targets_free(o->targets, o->ntargets);
	o->targets = NULL;
	o->ntargets = o->target = 0;
	free(o->addrs);
	o->addrs = NULL;
	o->naddrs = o->addr = 0;
	o->no_external = false;
	o->reached = false;
	if (o->c != NULL) {
		o->c->o = NULL;
		/* RFC 6120 4.4: we end our stream; the peer did nothing wrong */
		if (o->c->header_sent)
			conn_puts(o->c, "</stream:stream>");
		conn_close(o->c);
		o->c = NULL;
	}
	out_maybe_free(o);
}

/* ---- resolution and connection ------------------------------------- */

/*
 * Only public addresses, unless the operator allows others or chose the
 * target with s2s-route: a peer's db:result or a user's stanza names the
 * domain, and its DNS (SRV targets, A, AAAA) or an IP-literal domain
 * could otherwise point us at loopback or the operator's own network.
 */
static size_t
out_public_addrs(struct out *o, struct dns_addr *addrs, size_t n)
{
	char	name[INET6_ADDRSTRLEN];
	size_t	i, kept = 0;

	if (o->routed || s2s.conf.s2s_allow_private)
		return n;
	for (i = 0; i < n; i++) {
		if (addr_public((struct sockaddr *)&addrs[i].sa)) {
			addrs[kept++] = addrs[i];
			continue;
		}
		if (getnameinfo((struct sockaddr *)&addrs[i].sa,
		    addrs[i].salen, name, sizeof(name), NULL, 0,
		    NI_NUMERICHOST) != 0)
			snprintf(name, sizeof(name), "?");
		log_info("%s: not dialling non-public address %s of %s "
		    "(s2s-allow-private)", o->key, name,
		    log_escs(o->targets[o->target].host));
	}
	return kept;
}

static void
out_addrs_cb(void *arg, struct dns_addr *addrs, size_t n)
{
	struct out	*o = arg;

	o->resolving = false;
	free(o->addrs);
	o->addrs = addrs;
	o->naddrs = n;
	o->addr = 0;
	if (ctimer_active(&o->timer))
		o->naddrs = out_public_addrs(o, addrs, n);
	if (!ctimer_active(&o->timer)) {
		/* failed meanwhile */
		out_maybe_free(o);
		return;
	}
	out_try_addr(o);
}

static void
out_try_target(struct out *o)
{
	struct srv_target	*t;

	if (o->target >= o->ntargets) {
		log_info("%s: every target failed", o->key);
		out_fail(o, o->reached ? XERR_REMOTE_SERVER_TIMEOUT :
		    XERR_REMOTE_SERVER_NOT_FOUND);
		return;
	}
	t = &o->targets[o->target];
	log_debug("%s: trying %s port %u%s", o->key, t->host, t->port,
	    t->direct_tls ? " (direct TLS)" : "");
	o->resolving = true;
	dns_addrs(t->host, t->port, out_addrs_cb, o);
}

/*
 * The client certificate we present for local: a host's own; a host's
 * services present the host's; a component (XEP-0114) presents its
 * component-certificate (local's own, else its component's), else the
 * nearest host's above it, which the peer may accept for SASL EXTERNAL
 * if it names the component's domain too (a wildcard or a SAN), and
 * otherwise answers with dialback; any other domain presents none (the
 * trust-only credentials at index nhosts): dialback only.
 */
static gnutls_certificate_credentials_t
out_creds(const char *local)
{
	const struct conf_host		 *h;
	const struct conf_component	 *k;
	const struct conf_component_cert *kc;
	const char			 *d = local;

	if ((h = conf_host_find(&s2s.conf, local)) == NULL &&
	    (h = conf_pubsub_find(&s2s.conf, local)) == NULL)
		h = conf_muc_find(&s2s.conf, local);
	if (h == NULL && (k = conf_component_find(&s2s.conf, local)) != NULL) {
		if ((kc = conf_component_cert_find(&s2s.conf, local)) !=
		    NULL || (kc = conf_component_cert_find(&s2s.conf,
		    k->domain)) != NULL)
			return s2s.host_creds[s2s.conf.nhosts + 1 +
			    (size_t)(kc - s2s.conf.component_certs)];
		while (h == NULL && (d = strchr(d, '.')) != NULL)
			h = conf_host_find(&s2s.conf, ++d);
	}
	return s2s.host_creds[h != NULL ? (size_t)(h - s2s.conf.hosts) :
	    s2s.conf.nhosts];
}

static void
out_try_addr(struct out *o)
{
	struct srv_target	*t = &o->targets[o->target];
	struct dns_addr		*ad;
	struct conn		*c;

	if (o->addr >= o->naddrs) {
		o->target++;
		out_try_target(o);
		return;
	}
	ad = &o->addrs[o->addr];
	c = conn_new(-1, true);
	if (tp_connect(&c->tp, (struct sockaddr *)&ad->sa, ad->salen) == -1) {
		log_info("%s: connect to %s: %s", o->key, t->host,
		    strerror(errno));
		conn_close(c);
		o->addr++;
		out_try_addr(o);
		return;
	}
	c->o = o;
	c->local = xstrdup(o->local);
	c->remote = xstrdup(o->remote);
	c->direct_tls = t->direct_tls;
	c->no_external = o->no_external;
	c->creds = out_creds(o->local);
	c->state = CS_CONNECTING;
	o->c = c;
}

static void
out_srv_cb(void *arg, struct srv_target *v, size_t n)
{
	struct out	*o = arg;
	bool		 unavailable = false;

	o->resolving = false;
	if (!ctimer_active(&o->timer)) {
		srv_targets_free(v, n);
		out_maybe_free(o);
		return;
	}
	n = srv_order(v, n, out_rnd, NULL, &unavailable);
	if (unavailable) {
		free(v);
		log_info("%s: SRV says the service is not available",
		    o->key);
		out_fail(o, XERR_REMOTE_SERVER_NOT_FOUND);
		return;
	}
	if (n == 0) {
		free(v);
		/* RFC 6120 3.2.2: no SRV records: the domain itself, 5269 */
		v = xcalloc(1, sizeof(*v));
		v->host = xstrdup(o->remote);
		v->port = 5269;
		n = 1;
	}
	o->targets = v;
	o->ntargets = n;
	o->target = 0;
	out_try_target(o);
}

/* starts setting up a stream for the pair, unless one is under way */
static void
out_start(struct out *o)
{
	const struct conf_route	*r;

	if (o->c != NULL || o->resolving || ctimer_active(&o->timer))
		return;
	ctimer_start(&o->timer, s2s.conf.s2s_connect_timeout);
	r = conf_route_find(&s2s.conf, o->remote);
	o->routed = r != NULL;
	if (r == NULL && !s2s.conf.s2s_allow_private &&
	    addr_domain_refused(o->remote)) {
		log_info("%s: a non-public address (s2s-allow-private)",
		    o->key);
		out_fail(o, XERR_REMOTE_SERVER_NOT_FOUND);
		return;
	}
	o->resolving = true;
	if (r != NULL) {
		struct srv_target	*t = xcalloc(1, sizeof(*t));

		t->host = xstrdup(r->host);
		t->port = r->port;
		out_srv_cb(o, t, 1);
		return;
	}
	dns_srv(o->remote, out_srv_cb, o);
}

/* ---- the stream ----------------------------------------------------- */

static void
out_send_header(struct conn *c)
{
	struct buf	b;

	buf_init(&b, S2S_CTL_MAX);
	if (buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_SERVER "' xmlns:stream='" NS_STREAM "' xmlns:db='"
	    NS_DIALBACK "' from='") |
	    xml_escape(&b, c->local, strlen(c->local)) |
	    buf_puts(&b, "' to='") |
	    xml_escape(&b, c->remote, strlen(c->remote)) |
	    buf_puts(&b, "' version='1.0'>")) {
		buf_clear(&b);
		log_warnx("%s: stream header too large", conn_name(c));
		conn_close(c);
		return;
	}
	conn_write(c, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	c->header_sent = true;
	c->state = CS_HEADER;
}

void
out_connected(struct conn *c)
{
	if (c->o != NULL)
		c->o->reached = true;
	log_debug("%s: connected", conn_name(c));
	if (c->direct_tls) {
		conn_start_tls(c, true);
		return;
	}
	out_send_header(c);
}

void
out_tls_done(struct conn *c)
{
	enum certid_result	r;

	r = certid_verify_session(c->tls, c->remote);
	c->cert_ok = r == CERTID_OK;
	log_info("%s: TLS %s, certificate %s", conn_name(c),
	    gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)),
	    certid_result_name(r));
	out_send_header(c);
}

void
out_open(struct conn *c, const struct xnode *hdr, const char *ns)
{
	const char	*id = xnode_attr(hdr, "id");

	(void)ns;
	if (id == NULL || *id == '\0') {
		conn_error(c, SERR_INVALID_XML, "a stream id is required");
		return;
	}
	if (strlen(id) >= sizeof(c->sid)) {
		/* we keep ids we can store whole: dialback needs them */
		conn_error(c, SERR_POLICY_VIOLATION, "stream id too long");
		return;
	}
	memcpy(c->sid, id, strlen(id) + 1);
	c->state = CS_FEATURES;
}

/*
 * Our db:verify for each waiting key. The id is our own stream id and
 * the key at most S2S_DB_KEY_MAX (in.c), so each fits S2S_VERIFY_MAX;
 * one that did not would be answered invalid, never sent half-written.
 */
static void
out_send_verifies(struct conn *c)
{
	struct verify	*v, **pv;
	struct buf	 b;

	if (c->o == NULL)
		return;
	buf_init(&b, S2S_VERIFY_MAX);
	for (pv = &c->o->verifies; (v = *pv) != NULL;) {
		if (v->key == NULL) {
			pv = &v->next;
			continue;	/* sent already */
		}
		buf_reset(&b);
		if (buf_puts(&b, "<db:verify from='") |
		    xml_escape(&b, c->local, strlen(c->local)) |
		    buf_puts(&b, "' to='") |
		    xml_escape(&b, c->remote, strlen(c->remote)) |
		    buf_puts(&b, "' id='") |
		    xml_escape(&b, v->id, strlen(v->id)) |
		    buf_puts(&b, "'>") |
		    xml_escape(&b, v->key, strlen(v->key)) |
		    buf_puts(&b, "</db:verify>")) {
			log_warnx("%s: db:verify too large, not sent",
			    conn_name(c));
			*pv = v->next;
			in_verified(v->conn, c->local, c->remote, false);
			free(v->id);
			free(v->key);
			free(v);
			continue;
		}
		conn_write(c, buf_rptr(&b), buf_avail(&b));
		free(v->key);
		v->key = NULL;
		pv = &v->next;
	}
	buf_clear(&b);
}

/* authenticated: the queue goes out, the deadline is off */
static void
out_ready(struct conn *c)
{
	struct out	*o = c->o;

	conn_opened(c);
	log_info("%s: ready", conn_name(c));
	if (o == NULL)
		return;
	o->ready = true;
	ctimer_stop(&o->timer);
	queue_drain(o, c, XERR_COUNT);
	out_send_verifies(c);
}

static void
out_dialback(struct conn *c)
{
	char		 key[DIALBACK_KEY_LEN + 1];
	struct buf	 b;

	/* XEP-0220 2.1.1: receiving, originating, the receiver's stream id */
	dialback_key(s2s.secret, c->remote, c->local, c->sid, key);
	buf_init(&b, S2S_CTL_MAX);
	if (buf_puts(&b, "<db:result from='") |
	    xml_escape(&b, c->local, strlen(c->local)) |
	    buf_puts(&b, "' to='") |
	    xml_escape(&b, c->remote, strlen(c->remote)) |
	    buf_printf(&b, "'>%s</db:result>", key)) {
		buf_clear(&b);
		conn_error(c, SERR_INTERNAL_SERVER_ERROR, "db:result");
		return;
	}
	conn_write(c, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	c->state = CS_DIALBACK;
	out_send_verifies(c);
}

static bool
has_mechanism(const struct xnode *feat, const char *mech)
{
	const struct xnode	*ms, *m;
	struct arena		 a;
	bool			 found = false;

	if ((ms = xnode_child(feat, NS_SASL, "mechanisms")) == NULL)
		return false;
	arena_init(&a);
	for (m = xnode_child(ms, NS_SASL, "mechanism"); m != NULL;
	    m = xnode_next(m, NS_SASL, "mechanism"))
		if (strcmp(xnode_text(&a, m), mech) == 0)
			found = true;
	arena_free(&a);
	return found;
}

static void
out_features(struct conn *c, struct xnode *el)
{
	struct buf	b;

	if (c->sasl_done) {
		out_ready(c);
		return;
	}
	if (!c->tls_on) {
		if (xnode_child(el, NS_TLS, "starttls") != NULL) {
			conn_puts(c, "<starttls xmlns='" NS_TLS "'/>");
			c->state = CS_STARTTLS;
			return;
		}
		if (s2s.conf.s2s_require_tls) {
			log_info("%s: the peer offers no TLS, which we "
			    "require", conn_name(c));
			conn_puts(c, "</stream:stream>");
			conn_close(c);
			return;
		}
	}
	if (c->cert_ok && !c->no_external && has_mechanism(el, "EXTERNAL")) {
		/* XEP-0178: the authorization identity is our domain */
		buf_init(&b, S2S_CTL_MAX);
		if (buf_puts(&b, "<auth xmlns='" NS_SASL
		    "' mechanism='EXTERNAL'>") |
		    base64_encode(&b, c->local, strlen(c->local)) |
		    buf_puts(&b, "</auth>")) {
			buf_clear(&b);
			conn_error(c, SERR_INTERNAL_SERVER_ERROR, "auth");
			return;
		}
		conn_write(c, buf_rptr(&b), buf_avail(&b));
		buf_clear(&b);
		c->state = CS_SASL;
		return;
	}
	if (!s2s.conf.s2s_dialback) {
		log_info("%s: cannot authenticate (certificate %s, dialback "
		    "off)", conn_name(c), c->cert_ok ? "verified but no "
		    "EXTERNAL" : "not verified");
		conn_puts(c, "</stream:stream>");
		conn_close(c);
		return;
	}
	if (!c->cert_ok && policy_cert_required(c->remote)) {
		/* no dialback fallback: the pair fails, stanzas bounce */
		log_info("%s: certificate not verified and "
		    "s2s-require-valid-cert applies", conn_name(c));
		conn_puts(c, "</stream:stream>");
		if (c->o != NULL)
			out_fail(c->o, XERR_REMOTE_SERVER_NOT_FOUND);
		else
			conn_close(c);
		return;
	}
	out_dialback(c);
}

void
out_element(struct conn *c, struct xnode *el, struct arena *a)
{
	struct verify	*v, **pv;
	const char	*type, *id;

	(void)a;
	if (strcmp(el->ns, NS_STREAM) == 0 && strcmp(el->name, "error") == 0) {
		log_info("%s: stream error from the peer: %s", conn_name(c),
		    el->children && xnode_child(el, NULL, NULL) ?
		    xnode_child(el, NULL, NULL)->name : "?");
		conn_close(c);
		return;
	}
	/* answers to our db:verify, whatever the stream's state */
	if (strcmp(el->ns, NS_DIALBACK) == 0 &&
	    strcmp(el->name, "verify") == 0) {
		type = xnode_attr(el, "type");
		id = xnode_attr(el, "id");
		if (c->o == NULL || id == NULL)
			return;
		for (pv = &c->o->verifies; (v = *pv) != NULL;
		    pv = &v->next)
			if (v->key == NULL && strcmp(v->id, id) == 0)
				break;
		if (v == NULL)
			return;
		*pv = v->next;
		in_verified(v->conn, c->local, c->remote,
		    type != NULL && strcmp(type, "valid") == 0);
		free(v->id);
		free(v);
		return;
	}
	switch (c->state) {
	case CS_FEATURES:
		if (strcmp(el->ns, NS_STREAM) == 0 &&
		    strcmp(el->name, "features") == 0) {
			out_features(c, el);
			return;
		}
		break;
	case CS_STARTTLS:
		if (strcmp(el->ns, NS_TLS) == 0 &&
		    strcmp(el->name, "proceed") == 0) {
			xstream_stop(c->xs);
			conn_start_tls(c, true);
			return;
		}
		break;
	case CS_SASL:
		if (strcmp(el->ns, NS_SASL) == 0 &&
		    strcmp(el->name, "success") == 0) {
			c->sasl_done = true;
			conn_restart(c);
			out_send_header(c);
			return;
		}
		if (strcmp(el->ns, NS_SASL) == 0 &&
		    strcmp(el->name, "failure") == 0) {
			/* ejabberd offers EXTERNAL then refuses it: dialback
			   on a new stream */
			log_info("%s: SASL EXTERNAL refused; retrying with "
			    "dialback", conn_name(c));
			if (c->o != NULL) {
				c->o->no_external = true;
				c->o->retry_same = true;
			}
			conn_puts(c, "</stream:stream>");
			conn_close(c);
			return;
		}
		break;
	case CS_DIALBACK:
		if (strcmp(el->ns, NS_DIALBACK) == 0 &&
		    strcmp(el->name, "result") == 0) {
			type = xnode_attr(el, "type");
			if (type != NULL && strcmp(type, "valid") == 0) {
				out_ready(c);
				return;
			}
			log_info("%s: dialback %s", conn_name(c),
			    type ? type : "refused");
			if (c->o != NULL)
				out_fail(c->o, XERR_REMOTE_SERVER_NOT_FOUND);
			else
				conn_close(c);
			return;
		}
		break;
	case CS_OPEN:
		/* RFC 6120 4.1: streams are unidirectional */
		log_debug("%s: ignoring <%s/> on an outgoing stream",
		    conn_name(c), el->name);
		return;
	default:
		break;
	}
	conn_error(c, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
}

/* the conn is closing or dead: what next for its pair */
void
out_conn_gone(struct conn *c)
{
	struct out	*o = c->o;

	if (o == NULL || o->c != c)
		return;
	c->o = NULL;
	o->c = NULL;
	if (o->ready) {
		/* a stream that worked: set up again only when needed */
		o->ready = false;
		o->target = 0;
		srv_targets_free(o->targets, o->ntargets);
		o->targets = NULL;
		o->ntargets = 0;
		if (o->nqueued > 0 || o->verifies != NULL)
			out_start(o);
		else
			out_maybe_free(o);
		return;
	}
	if (!ctimer_active(&o->timer))
		return;
	if (o->retry_same)
		o->retry_same = false;
	else
		o->addr++;
	out_try_addr(o);
}

/* ---- the router's stanzas and in.c's verifies ----------------------- */

void
out_stanza(const char *to, const char *from, const char *xml, size_t len)
{
	struct jid	 t, f;
	struct out	*o;
	struct conn	*c;

	if (jid_parse(&t, to) == -1)
		return;
	if (jid_parse(&f, from) == -1) {
		jid_clear(&t);
		return;
	}
	if (conf_component_find(&s2s.conf, t.domain) != NULL) {
		/* XEP-0114: a component away is unavailable, not remote */
		if ((c = comp_conn(t.domain)) != NULL)
			conn_write(c, xml, len);
		else
			bounce_one(xml, len, XERR_SERVICE_UNAVAILABLE,
			    "the component is not connected", true);
		goto done;
	}
	if (!policy_is_ours(f.domain)) {
		log_warnx("stanza from %s: not one of our domains",
		    log_escs(from));
		goto done;
	}
	if ((o = out_get(f.domain, t.domain)) == NULL) {
		bounce_one(xml, len, XERR_RESOURCE_CONSTRAINT,
		    "too many servers being reached at once", false);
		goto done;
	}
	if (o->ready && o->c != NULL) {
		conn_write(o->c, xml, len);
		goto done;
	}
	if (queue_put(o, xml, len) == -1) {
		log_info("%s: queue full (%zu stanzas)", o->key, o->nqueued);
		bounce_one(xml, len, XERR_RESOURCE_CONSTRAINT,
		    "too many stanzas waiting for this server", false);
	}
	out_start(o);
done:
	jid_clear(&t);
	jid_clear(&f);
}

void
out_verify(const char *local, const char *remote, uint64_t conn,
    const char *id, const char *key)
{
	struct out	*o = out_get(local, remote);
	struct verify	*v;

	if (o == NULL) {
		in_verified(conn, local, remote, false);
		return;
	}
	v = xcalloc(1, sizeof(*v));
	v->conn = conn;
	v->id = xstrdup(id);
	v->key = xstrdup(key);
	v->next = o->verifies;
	o->verifies = v;
	if (o->c != NULL && (o->c->state == CS_DIALBACK ||
	    o->c->state == CS_OPEN))
		out_send_verifies(o->c);
	else
		out_start(o);
}
