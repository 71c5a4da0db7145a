/*
 * Incoming server streams. We offer STARTTLS (required by default), SASL
 * EXTERNAL when the peer's certificate verifies for the domain it claims
 * (XEP-0178), and Server Dialback (XEP-0220): a db:result is checked with
 * the authoritative server over our outgoing stream to it (db:verify), or
 * at once when the TLS certificate already proves the domain. We answer
 * db:verify for keys we issued. A stanza is accepted only when its from
 * and to domains are a pair authenticated on this stream; anything else
 * ends the stream with the error RFC 6120 4.9.3 prescribes.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/base64.h"
#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "certid.h"
#include "s2s.h"

#define PAIR_MAX	64	/* domain pairs one stream may carry */

static bool
pair_ok(struct conn *c, const char *local, const char *remote)
{
	char	key[2 * JID_PART_MAX + 2];

	snprintf(key, sizeof(key), "%s %s", local, remote);
	return c->pairs != NULL && map_get(c->pairs, key) != NULL;
}

static void
pair_add(struct conn *c, const char *local, const char *remote)
{
	char	key[2 * JID_PART_MAX + 2];

	if (c->pairs == NULL)
		c->pairs = map_new();
	if (map_count(c->pairs) >= PAIR_MAX)
		return;
	xstream_preauth_end(c->xs);
	snprintf(key, sizeof(key), "%s %s", local, remote);
	map_put(c->pairs, key, (void *)1);
	log_info("%s: %s authenticated for %s", conn_name(c), remote, local);
}

/* is remote authenticated for any of our domains on this stream? */
struct any_job {
	const char	*remote;
	bool		 found;
};

static int
pair_any_cb(const void *key, size_t len, void *val, void *arg)
{
	struct any_job	*job = arg;
	const char	*sp = memchr(key, ' ', len);
	size_t		 rl = strlen(job->remote);

	(void)val;
	if (sp != NULL && (size_t)((const char *)key + len - sp - 1) == rl &&
	    memcmp(sp + 1, job->remote, rl) == 0)
		job->found = true;
	return 0;
}

static bool
remote_known(struct conn *c, const char *remote)
{
	struct any_job	job = { remote, false };

	if (c->pairs != NULL)
		map_foreach(c->pairs, pair_any_cb, &job);
	return job.found;
}

void
in_accept(struct listener *lst, int fd)
{
	struct conn	*c;

	c = conn_new(fd, false);
	if (!listen_peer_admit(c))
		return;
	xstream_preauth(c->xs, listen_preauth());
	log_debug("%s: accepted on %s port %u", conn_name(c), lst->cl->addr,
	    lst->cl->port);
	if (lst->cl->kind == LISTEN_S2S_TLS) {
		c->direct_tls = true;
		conn_start_tls(c, false);
		return;
	}
	c->state = CS_HEADER;
}

void
in_tls_done(struct conn *c)
{
	log_debug("%s: TLS %s", conn_name(c),
	    gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)));
}

static int
domain_of(const char *s, char *out)
{
	return s == NULL ? -1 : jid_nameprep(s, out);
}

void
in_open(struct conn *c, const struct xnode *hdr, const char *ns)
{
	const char	*to = xnode_attr(hdr, "to");
	const char	*from = xnode_attr(hdr, "from");
	const char	*version = xnode_attr(hdr, "version");
	char		 dom[JID_PART_MAX + 1], fdom[JID_PART_MAX + 1];
	struct buf	 b;
	bool		 v1, external = false;
	int		 fail;

	(void)ns;
	/* RFC 6120 4.9.3.6: only our own domains */
	if (domain_of(to, dom) == -1 ||
	    !policy_is_ours(dom) ||
	    (c->local != NULL && strcmp(c->local, dom) != 0)) {
		conn_error(c, SERR_HOST_UNKNOWN, NULL);
		return;
	}
	if (c->local == NULL)
		c->local = xstrdup(dom);
	if (from != NULL) {
		if (domain_of(from, fdom) == -1 ||
		    (c->remote != NULL && strcmp(c->remote, fdom) != 0)) {
			conn_error(c, SERR_INVALID_FROM, NULL);
			return;
		}
		/* RFC 6120 4.9.3.9: nobody else speaks for our domains */
		if (policy_is_ours(fdom)) {
			log_info("%s: peer claims our domain %s", conn_name(c),
			    log_esc(fdom, strlen(fdom)));
			conn_error(c, SERR_INVALID_FROM, NULL);
			return;
		}
		if (c->remote == NULL)
			c->remote = xstrdup(fdom);
	}
	v1 = version != NULL && strtol(version, NULL, 10) >= 1;
	conn_new_sid(c);
	/* two checked domains, our id, fixed markup: fits, or is not sent */
	buf_init(&b, S2S_CTL_MAX);
	fail = buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_SERVER "' xmlns:stream='" NS_STREAM "' xmlns:db='" NS_DIALBACK
	    "' id='") | buf_puts(&b, c->sid) | buf_puts(&b, "' from='") |
	    xml_escape(&b, c->local, strlen(c->local));
	if (c->remote != NULL)
		fail |= buf_puts(&b, "' to='") |
		    xml_escape(&b, c->remote, strlen(c->remote));
	fail |= buf_puts(&b, v1 ? "' version='1.0'>" : "'>");
	if (v1) {
		fail |= buf_puts(&b, "<stream:features>");
		if (!c->tls_on)
			fail |= buf_puts(&b, s2s.conf.s2s_require_tls ?
			    "<starttls xmlns='" NS_TLS "'><required/>"
			    "</starttls>" : "<starttls xmlns='" NS_TLS "'/>");
		if (c->tls_on && !c->sasl_done && c->remote != NULL) {
			enum certid_result r;

			r = certid_verify_session(c->tls, c->remote);
			c->cert_ok = r == CERTID_OK;
			external = c->cert_ok;
			log_debug("%s: peer certificate %s", conn_name(c),
			    certid_result_name(r));
		}
		if (external)
			fail |= buf_puts(&b, "<mechanisms xmlns='" NS_SASL
			    "'><mechanism>EXTERNAL</mechanism></mechanisms>");
		if (!c->sasl_done && s2s.conf.s2s_dialback &&
		    (c->tls_on || !s2s.conf.s2s_require_tls) &&
		    (c->remote == NULL || !policy_cert_required(c->remote)))
			fail |= buf_puts(&b, "<dialback xmlns='"
			    NS_DIALBACK_FEATURE "'><errors/></dialback>");
		/*
		 * XEP-0478: the element limit is the pre-authentication
		 * one until a domain is authenticated on this stream (SASL
		 * EXTERNAL restarts it and gets these features again); not
		 * beside a required STARTTLS (RFC 6120 5.3.1)
		 */
		if (c->tls_on || !s2s.conf.s2s_require_tls)
			fail |= buf_printf(&b, "<limits xmlns='" NS_STREAM_LIMITS
			    "'><max-bytes>%zu</max-bytes><idle-seconds>%d"
			    "</idle-seconds></limits>", c->pairs != NULL &&
			    map_count(c->pairs) > 0 ?
			    s2s.conf.max_stanza_size * 2 :
			    s2s.conf.s2s_max_stanza_preauth,
			    s2s.conf.s2s_idle_timeout);
		fail |= buf_puts(&b, "</stream:features>");
	}
	(void)conn_send_header(c, &b, fail);
}

static void
sasl_failure(struct conn *c, const char *cond)
{
	struct buf	b;

	buf_init(&b, S2S_CTL_MAX);	/* cond is one of ours */
	if (buf_printf(&b, "<failure xmlns='" NS_SASL "'><%s/></failure>",
	    cond) == 0)
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
}

/* XEP-0178: SASL EXTERNAL with the certificate checked at the header */
static void
in_auth(struct conn *c, struct xnode *el, struct arena *a)
{
	const char	*mech = xnode_attr(el, "mechanism");
	const char	*text = xnode_text(a, el);
	char		 authz[JID_PART_MAX + 1];
	struct buf	 b;

	if (mech == NULL || strcmp(mech, "EXTERNAL") != 0) {
		sasl_failure(c, "invalid-mechanism");
		return;
	}
	if (!c->tls_on || !c->cert_ok || c->remote == NULL || c->sasl_done) {
		sasl_failure(c, "not-authorized");
		return;
	}
	/* an authorization identity, if any, must be the stream's from */
	if (*text != '\0' && strcmp(text, "=") != 0) {
		buf_init(&b, 4 * JID_PART_MAX);
		if (base64_decode(&b, text, strlen(text)) == -1 ||
		    buf_avail(&b) > JID_PART_MAX) {
			buf_clear(&b);
			sasl_failure(c, "incorrect-encoding");
			return;
		}
		buf_append(&b, "", 1);
		if (jid_nameprep(buf_rptr(&b), authz) == -1 ||
		    strcmp(authz, c->remote) != 0) {
			buf_clear(&b);
			sasl_failure(c, "invalid-authzid");
			return;
		}
		buf_clear(&b);
	}
	conn_puts(c, "<success xmlns='" NS_SASL "'/>");
	c->sasl_done = true;
	pair_add(c, c->local, c->remote);
	conn_restart(c);
}

/*
 * <db:result from='local' to='remote' followed by rest (ours, short).
 * An address too long to answer within S2S_CTL_MAX is no domain (RFC
 * 6120 4.9.3.10): the stream ends, nothing half-written; -1.
 */
static int
db_result_write(struct conn *c, const char *local, const char *remote,
    const char *rest)
{
	struct buf	b;
	int		rc = 0;

	buf_init(&b, S2S_CTL_MAX);
	if (buf_puts(&b, "<db:result from='") |
	    xml_escape(&b, local, strlen(local)) |
	    buf_puts(&b, "' to='") |
	    xml_escape(&b, remote, strlen(remote)) |
	    buf_puts(&b, "' ") |
	    buf_puts(&b, rest)) {
		conn_error(c, SERR_IMPROPER_ADDRESSING,
		    "a dialback address too long to answer");
		rc = -1;
	} else
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	return rc;
}

/* XEP-0220 2.4: a db:result we will not (or cannot) verify */
static void
db_error(struct conn *c, const char *local, const char *remote,
    const char *type, const char *cond)
{
	char	rest[160];

	snprintf(rest, sizeof(rest), "type='error'><error type='%s'><%s "
	    "xmlns='" NS_STANZAS "'/></error></db:result>", type, cond);
	db_result_write(c, local, remote, rest);
}

/*
 * s2s-dialback-rate: a token bucket per stream, refilled continuously,
 * bursts of one minute's worth. Each db:result can make us resolve and
 * dial the domain it names, each db:verify costs an HMAC: a peer that
 * needs more than this is not doing dialback.
 */
static bool
db_rate_ok(struct conn *c)
{
	double	now = clock_now(), cap = s2s.conf.s2s_dialback_rate;

	if (c->db_at == 0)
		c->db_tokens = cap;
	else
		c->db_tokens += (now - c->db_at) * cap / 60;
	if (c->db_tokens > cap)
		c->db_tokens = cap;
	c->db_at = now;
	if (c->db_tokens < 1)
		return false;
	c->db_tokens -= 1;
	return true;
}

/* the answer to a db:result: XEP-0220 2.1.2 step 5 */
static void
db_answer(struct conn *c, const char *local, const char *remote, bool valid)
{
	if (db_result_write(c, local, remote, valid ? "type='valid'/>" :
	    "type='invalid'/>") == -1)
		return;
	if (valid)
		pair_add(c, local, remote);
	else
		log_info("%s: dialback for %s failed", conn_name(c), remote);
}

/* XEP-0220 2.1.2: a db:result from a server that wants to send to us */
static void
in_db_result(struct conn *c, struct xnode *el, struct arena *a)
{
	char		 to[JID_PART_MAX + 1], from[JID_PART_MAX + 1];
	const char	*key = xnode_text(a, el);

	if (!s2s.conf.s2s_dialback) {
		conn_error(c, SERR_POLICY_VIOLATION, "dialback is not allowed");
		return;
	}
	if (!c->tls_on && s2s.conf.s2s_require_tls) {
		conn_error(c, SERR_POLICY_VIOLATION, "TLS is required");
		return;
	}
	if (domain_of(xnode_attr(el, "from"), from) == -1 ||
	    policy_is_ours(from)) {
		/* RFC 6120 4.9.3.9; our own domains are never theirs */
		conn_error(c, SERR_INVALID_FROM, NULL);
		return;
	}
	if (domain_of(xnode_attr(el, "to"), to) == -1 ||
	    !policy_is_ours(to)) {
		db_error(c, xnode_attr(el, "to") ? xnode_attr(el, "to") : "",
		    from, "cancel", "item-not-found");
		return;
	}
	if (pair_ok(c, to, from))
		return;		/* known: nothing to do */
	/* XEP-0220 2.4: a request we will not serve now is an error */
	if (!db_rate_ok(c)) {
		log_info("%s: dialback requests over s2s-dialback-rate",
		    conn_name(c));
		db_error(c, to, from, "wait", "policy-violation");
		return;
	}
	/* a certificate that proves the domain is as good (XEP-0344) */
	if (c->tls_on && certid_verify_session(c->tls, from) == CERTID_OK) {
		db_answer(c, to, from, true);
		return;
	}
	if (policy_cert_required(from)) {
		log_info("%s: %s must present a valid certificate "
		    "(s2s-require-valid-cert)", conn_name(c), log_esc(from, strlen(from)));
		db_error(c, to, from, "auth", "not-authorized");
		return;
	}
	if (c->db_pending >= s2s.conf.s2s_dialback_pending) {
		log_info("%s: %d dialback verifications pending "
		    "(s2s-dialback-pending)", conn_name(c), c->db_pending);
		db_error(c, to, from, "wait", "resource-constraint");
		return;
	}
	if (strlen(key) > S2S_DB_KEY_MAX) {
		conn_error(c, SERR_POLICY_VIOLATION, "dialback key too long");
		return;
	}
	c->db_pending++;
	log_debug("%s: verifying %s with its authoritative server",
	    conn_name(c), from);
	out_verify(to, from, c->id, c->sid, key);
}

/* XEP-0220 2.1.3: we are the authoritative server for a key we issued */
static void
in_db_verify(struct conn *c, struct xnode *el, struct arena *a)
{
	char		 to[JID_PART_MAX + 1], from[JID_PART_MAX + 1];
	char		 want[DIALBACK_KEY_LEN + 1];
	const char	*id = xnode_attr(el, "id");
	const char	*key = xnode_text(a, el);
	struct buf	 b;
	bool		 valid;

	if (id == NULL || domain_of(xnode_attr(el, "from"), from) == -1 ||
	    domain_of(xnode_attr(el, "to"), to) == -1) {
		conn_error(c, SERR_IMPROPER_ADDRESSING, NULL);
		return;
	}
	if (policy_is_ours(from)) {
		conn_error(c, SERR_INVALID_FROM, NULL);
		return;
	}
	/* a db:verify has no error form: over the rate, the stream ends */
	if (!db_rate_ok(c)) {
		conn_error(c, SERR_POLICY_VIOLATION, "too many dialback "
		    "requests");
		return;
	}
	valid = policy_is_ours(to);
	if (valid) {
		dialback_key(s2s.secret, from, to, id, want);
		valid = dialback_key_equal(key, want);
	}
	log_info("%s: db:verify for %s -> %s: %s", conn_name(c), to, from,
	    valid ? "valid" : "invalid");
	/* the id is the peer's: one too long to echo ends the stream */
	buf_init(&b, S2S_CTL_MAX);
	if (dialback_verify_answer(&b, from, to, id, valid) == 0)
		conn_write(c, buf_rptr(&b), buf_avail(&b));
	else
		conn_error(c, SERR_POLICY_VIOLATION, "stream id too long");
	buf_clear(&b);
}

void
in_verified(uint64_t id, const char *local, const char *remote, bool valid)
{
	struct conn	*c = conn_find(id);

	if (c == NULL || c->state == CS_CLOSING)
		return;
	if (c->db_pending > 0)
		c->db_pending--;
	db_answer(c, local, remote, valid);
}

/*
 * The router is away (restarting): the stanza is kept, in order, and the
 * stream is not read further until in_release_held(); nothing the peer
 * sent is lost. A peer that sends more than the hold (CONN_HELD_MAX)
 * takes is told (RFC 6120 4.9.3.18 resource-constraint): a stanza on a
 * server stream has no way back but the stream.
 */
static void
in_hold(struct conn *c, int kind, int type, const char *to,
    const char *from, const struct buf *xml)
{
	struct link_out	m;
	bool		first = buf_avail(&c->held) == 0;

	/* held records: stanza envelopes, as sent to the router */
	link_out_buf(&m, &c->held);
	link_put_stanza(&m, kind, type, to, from, buf_rptr(xml),
	    buf_avail(xml));
	if (link_out_buf_end(&m) == -1) {
		conn_error(c, SERR_RESOURCE_CONSTRAINT,
		    "the server is restarting; try again");
		return;
	}
	if (first) {
		log_info("%s: router unavailable, holding stanzas",
		    conn_name(c));
		c->next_held = s2s.held;
		s2s.held = c;
	}
	conn_update_reading(c);
}

void
in_release_held(void)
{
	struct conn	*c, *next;
	struct link_in	 in;
	struct link_stanza ls;
	char		 to[JID_STR_MAX + 1], from[JID_STR_MAX + 1];

	c = s2s.held;
	s2s.held = NULL;
	for (; c != NULL; c = next) {
		next = c->next_held;
		link_in_init(&in, buf_rptr(&c->held), buf_avail(&c->held));
		while (in.left > 0) {
			link_get_stanza(&in, &ls);
			if (in.bad ||
			    !link_strcpy(to, sizeof(to), ls.to, ls.tolen) ||
			    !link_strcpy(from, sizeof(from), ls.from,
			    ls.fromlen))
				break;
			(void)uplink_stanza(ls.kind, ls.type, to, from, ls.xml,
			    ls.xlen, c->component);
		}
		buf_reset(&c->held);
		conn_update_reading(c);
	}
}

/*
 * Backpressure, as in the c2s: while the router link's queue is above its
 * high-water mark, incoming server streams are not read (TCP then slows
 * the peer) instead of the queue growing to its cap. A flooding server
 * is slowed, not obeyed. The link's drain resumes them: no polling.
 */
static int
in_resume_one(const void *key, size_t len, void *val, void *arg)
{
	struct conn	*c = val;

	(void)key;
	(void)len;
	(void)arg;
	if (c->paused) {
		c->paused = false;
		conn_update_reading(c);
	}
	return 0;
}

void
in_resume_all(void)
{
	if (s2s.npaused == 0)
		return;
	s2s.npaused = 0;
	map_foreach(s2s.conns, in_resume_one, NULL);
}

static void
in_pause(struct conn *c)
{
	c->paused = true;
	s2s.npaused++;
	conn_update_reading(c);
}

void
in_forward(struct conn *c, int kind, int type, const char *to,
    const char *from, const struct buf *xml)
{
	if (buf_avail(xml) > 0 && (buf_avail(&c->held) > 0 ||
	    uplink_stanza(kind, type, to, from, buf_rptr(xml),
	    buf_avail(xml), c->component) == -1))
		in_hold(c, kind, type, to, from, xml);
	else if (s2s.up != NULL && link_congested(s2s.up) && !c->paused)
		in_pause(c);
}

/* the pair of domains was authenticated on this stream (in_pass) */
static bool
in_allowed(struct conn *c, const struct jid *to, const struct jid *from)
{
	if (!remote_known(c, from->domain)) {
		/* RFC 6120 4.9.3.9: a from domain it did not prove */
		conn_error(c, SERR_INVALID_FROM, NULL);
		return false;
	}
	if (!policy_is_ours(to->domain)) {
		conn_error(c, SERR_HOST_UNKNOWN, NULL);
		return false;
	}
	if (!pair_ok(c, to->domain, from->domain)) {
		conn_error(c, SERR_INVALID_FROM, "this pair of domains was not "
		    "authenticated on this stream");
		return false;
	}
	return true;
}

void
in_pass(struct conn *c, struct xnode *el, struct arena *a, int kind,
    const char *ns, bool (*allowed)(struct conn *, const struct jid *,
    const struct jid *))
{
	struct jid	 to, from;
	char		*tos, *froms;
	struct buf	 b;
	int		 type;

	if (xnode_attr(el, "from") == NULL || xnode_attr(el, "to") == NULL ||
	    jid_parse(&from, xnode_attr(el, "from")) == -1) {
		conn_error(c, SERR_IMPROPER_ADDRESSING, NULL);
		return;
	}
	if (jid_parse(&to, xnode_attr(el, "to")) == -1) {
		jid_clear(&from);
		conn_error(c, SERR_IMPROPER_ADDRESSING, NULL);
		return;
	}
	if (!allowed(c, &to, &from))
		goto done;
	type = stanza_type_of(kind, xnode_attr(el, "type"));
	if (type == STANZA_TYPE_BAD) {
		log_info("%s: dropping a %s of unknown type", conn_name(c),
		    el->name);
		goto done;
	}
	tos = jid_full(&to);
	froms = jid_full(&from);
	xnode_set_attr(a, el, "to", tos);
	xnode_set_attr(a, el, "from", froms);
	/* a join to one of our rooms is kept for a router crash */
	if (kind == KIND_PRESENCE)
		rejoin_out(el, a, type, tos, froms, c->component);
	buf_init(&b, LINK_STANZA_MAX);
	/*
	 * Escaping can make a stanza under the limit pass the cap. The
	 * stream's content namespace becomes the router's jabber:client.
	 */
	if (xnode_write(&b, el, ns) == -1)
		conn_error(c, SERR_POLICY_VIOLATION,
		    "stanza too large once serialised");
	else
		in_forward(c, kind, type, tos, froms, &b);
	buf_clear(&b);
	free(tos);
	free(froms);
done:
	jid_clear(&to);
	jid_clear(&from);
}

/* a stanza: only between domains authenticated on this stream */
static void
in_stanza(struct conn *c, struct xnode *el, struct arena *a, int kind)
{
	if (c->pairs == NULL || map_count(c->pairs) == 0) {
		/* RFC 6120 4.9.3.12: nothing before authentication */
		conn_error(c, SERR_NOT_AUTHORIZED, NULL);
		return;
	}
	in_pass(c, el, a, kind, NS_SERVER, in_allowed);
}

void
in_element(struct conn *c, struct xnode *el, struct arena *a)
{
	int	kind;

	if (strcmp(el->ns, NS_STREAM) == 0 && strcmp(el->name, "error") == 0) {
		log_info("%s: stream error from the peer", conn_name(c));
		conn_close(c);
		return;
	}
	if (c->state != CS_FEATURES) {
		conn_error(c, SERR_BAD_FORMAT, NULL);
		return;
	}
	if (strcmp(el->ns, NS_TLS) == 0 && strcmp(el->name, "starttls") == 0) {
		if (c->tls_on) {
			conn_error(c, SERR_POLICY_VIOLATION, "TLS already on");
			return;
		}
		conn_puts(c, "<proceed xmlns='" NS_TLS "'/>");
		xstream_stop(c->xs);
		/* the handshake starts once <proceed/> is out */
		conn_start_tls(c, false);
		return;
	}
	/* a stanza before authentication: RFC 6120 4.9.3.12 (in_stanza) */
	if ((kind = stanza_kind_of(el->ns, el->name, NS_SERVER)) != -1) {
		in_stanza(c, el, a, kind);
		return;
	}
	if (!c->tls_on && s2s.conf.s2s_require_tls) {
		conn_error(c, SERR_POLICY_VIOLATION, "TLS is required");
		return;
	}
	if (strcmp(el->ns, NS_SASL) == 0 && strcmp(el->name, "auth") == 0) {
		in_auth(c, el, a);
		return;
	}
	if (strcmp(el->ns, NS_DIALBACK) == 0) {
		if (strcmp(el->name, "result") == 0)
			in_db_result(c, el, a);
		else if (strcmp(el->name, "verify") == 0)
			in_db_verify(c, el, a);
		else
			conn_error(c, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
		return;
	}
	conn_error(c, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
}
