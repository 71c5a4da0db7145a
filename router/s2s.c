/*
 * The router's side of federation: stanzas for domains we do not serve
 * go to the s2s process over its link; stanzas it received from remote
 * servers (their 'from' domain authenticated, their 'to' domain ours)
 * come back and are routed like any other, with no local sender.
 */
#include <errno.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "router.h"

static int	s2s_forward_bytes(int, int, const char *, const char *,
		    const char *, size_t);

struct address_job {
	const char	*to, *from;
	struct buf	 out;
};

static void
address_set(struct xnode *el, struct arena *a, void *arg)
{
	struct address_job	*job = arg;

	xnode_set_attr(a, el, "to", job->to);
	xnode_set_attr(a, el, "from", job->from);
	(void)xnode_write(&job->out, el, NS_CLIENT);
}

/*
 * A user addressing an IP-literal domain on loopback or a private network
 * would make the s2s process dial it: refused here already, as it is
 * there (s2s-allow-private), so the sender hears at once. to is a
 * normalised JID: its domain follows the '@', up to the '/'.
 */
static bool
s2s_refused(const char *to)
{
	const char	*d = strchr(to, '@'), *slash;
	char		 domain[JID_STR_MAX + 1];
	size_t		 n;

	if (router.conf.s2s_allow_private)
		return false;
	d = d != NULL ? d + 1 : to;
	slash = strchr(d, '/');
	n = slash != NULL ? (size_t)(slash - d) : strlen(d);
	if (n >= sizeof(domain))
		return false;
	memcpy(domain, d, n);
	domain[n] = '\0';
	return addr_domain_refused(domain);
}

int
s2s_forward(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len)
{
	struct address_job	 job;
	int			 rc;

	if (s2s_refused(to)) {
		errno = EHOSTUNREACH;
		return -1;
	}
	if (router.s2s == NULL || router.s2s->l->failed) {
		errno = ENOTCONN;
		return -1;
	}
	/*
	 * A broadcast presence is the session's stored stanza, addressed by
	 * the envelope only; between servers 'to' and 'from' are required
	 * (RFC 6120 8.1.1.1, 8.1.2.2), so they are written in.
	 */
	if (kind != KIND_PRESENCE)
		return s2s_forward_bytes(kind, type, to, from, xml, len);
	job.to = to;
	job.from = from;
	/* the stanza re-serialised: empty when it passed the cap */
	buf_init(&job.out, LINK_STANZA_MAX);
	if (deliver_parse(xml, len, address_set, &job) == -1) {
		errno = EINVAL;
		rc = -1;
	} else if (buf_avail(&job.out) == 0) {
		errno = EMSGSIZE;
		rc = -1;
	} else
		rc = s2s_forward_bytes(kind, type, to, from,
		    buf_rptr(&job.out), buf_avail(&job.out));
	buf_clear(&job.out);
	return rc;
}

/*
 * RFC 6120 8.3.3.18 and 8.3.3.19: a domain we will not dial, a queue
 * that is full or a stanza too large, federation not available now
 */
int
s2s_forward_error(int err)
{
	switch (err) {
	case EHOSTUNREACH:
		return XERR_REMOTE_SERVER_NOT_FOUND;
	case EAGAIN:
	case EMSGSIZE:
		return XERR_RESOURCE_CONSTRAINT;
	default:
		return XERR_SERVICE_UNAVAILABLE;
	}
}

/*
 * A stanza the s2s link cannot take is refused here, not queued past the
 * link's cap (which would close the link and lose every stanza on it):
 * above the high-water mark the s2s process is not keeping up.
 */
static int
s2s_forward_bytes(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len)
{
	struct link_out	m;

	if (link_congested(router.s2s->l)) {
		errno = EAGAIN;
		return -1;
	}
	link_begin(&m, router.s2s->l, LINK_STANZA, 0);
	link_put_stanza(&m, kind, type, to, from, xml, len);
	return link_end(&m);
}

int
s2s_frame(struct rlink *rl, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	struct rstanza	 rs;
	struct link_stanza ls;
	char		 to[JID_STR_MAX + 1], from[JID_STR_MAX + 1];
	char		 dom[JID_PART_MAX + 1];

	if (h->type == LINK_S2S_COUNTS)
		return metrics_s2s_counts(h, payload);
	if (h->type != LINK_STANZA) {
		log_warnx("s2s sent unexpected %s", link_msg_name(h->type));
		return -1;
	}
	(void)rl;
	link_in_init(&in, payload, h->len);
	link_get_stanza(&in, &ls);
	if (!link_in_done(&in) || !stanza_kind_type_valid(ls.kind, ls.type) ||
	    !link_strcpy(to, sizeof(to), ls.to, ls.tolen) ||
	    !link_strcpy(from, sizeof(from), ls.from, ls.fromlen))
		return -1;
	/*
	 * XEP-0114: the s2s process flags a component's stanzas (its
	 * stream's from is checked there) and refuses a peer that claims a
	 * component's domain; both views of the domain must agree (a
	 * reload may reach the two processes at different times).
	 */
	memset(&rs, 0, sizeof(rs));
	rs.component = (h->flags & LINK_F_COMPONENT) != 0;
	if (rs.component != (jid_domain_of(from, dom) &&
	    conf_component_find(&router.conf, dom) != NULL)) {
		log_info("s2s: dropping a stanza from %s (%s a component's)",
		    log_esc(from, strlen(from)), rs.component ? "not" :
		    "marked as not");
		return 0;
	}
	rs.to = to;
	rs.from = from;
	rs.xml = ls.xml;
	rs.xlen = ls.xlen;
	rs.kind = ls.kind;
	rs.type = ls.type;
	if (!(h->flags & LINK_F_MUC_REJOIN)) {
		deliver_stanza(&rs);
		return 0;
	}
	/*
	 * s2s/rejoin.c: a remote occupant's join again, after a crash; as
	 * a c2s's (links.c), only an available presence to a room
	 */
	if (ls.kind != KIND_PRESENCE || ls.type != PRES_AVAILABLE)
		return -1;
	if (!jid_domain_of(to, dom) ||
	    conf_muc_find(&router.conf, dom) == NULL) {
		log_info("s2s: dropping a join again of %s to %s: not a "
		    "room of ours", log_esc(from, strlen(from)),
		    log_esc(to, strlen(to)));
		return 0;
	}
	muc_rejoining(true);
	deliver_stanza(&rs);
	muc_rejoining(false);
	return 0;
}
