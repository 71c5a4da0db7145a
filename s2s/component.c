/*
 * External components (XEP-0114, the "accept" side): a gateway or bot
 * connects to component-listen, opens a jabber:component:accept stream
 * to the domain configured for it, proves the shared secret with the
 * handshake, and then exchanges stanzas with the router like a server
 * stream (docs/internals.md, "External components").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "s2s.h"

#define SHA1_HEX	40

/* before the handshake only the handshake (and a stream error) may come */
static const struct xstream_name comp_preauth_names[] = {
	{ NS_COMPONENT, "handshake" },
	{ NS_STREAM, "error" },
	{ NULL, NULL }
};
static struct xstream_preauth	comp_preauth_policy;

/* domain -> the open conn that serves it */
static struct map	*comps;

struct conn *
comp_conn(const char *domain)
{
	const struct conf_component	*k;

	if (comps == NULL ||
	    (k = conf_component_find(&s2s.conf, domain)) == NULL)
		return NULL;
	return map_get(comps, k->domain);
}

void
comp_accept(struct listener *lst, int fd)
{
	struct conn	*c;

	c = conn_new(fd, false);
	c->component = true;
	xstream_preauth(c->xs, xstream_preauth_policy(&comp_preauth_policy,
	    comp_preauth_names, s2s.conf.s2s_max_stanza_preauth,
	    s2s.conf.preauth_stream_memory, s2s.conf.preauth_memory_max));
	log_debug("%s: component accepted on %s port %u", conn_name(c),
	    lst->cl->addr, lst->cl->port);
	c->state = CS_HEADER;
}

void
comp_open(struct conn *c, const struct xnode *hdr)
{
	const struct conf_component *k;
	const char	*to = xnode_attr(hdr, "to");
	char		 dom[JID_PART_MAX + 1];
	struct buf	 b;
	int		 fail;

	/* XEP-0114 3: 'to' names the component; only the configured ones */
	if (to == NULL || jid_nameprep(to, dom) == -1) {
		conn_error(c, SERR_IMPROPER_ADDRESSING, NULL);
		return;
	}
	k = conf_component_find(&s2s.conf, dom);
	if (k == NULL || strcmp(k->domain, dom) != 0) {
		log_info("%s: no component %s", conn_name(c),
		    log_esc(dom, strlen(dom)));
		conn_error(c, SERR_HOST_UNKNOWN, NULL);
		return;
	}
	c->remote = xstrdup(dom);
	conn_new_sid(c);
	buf_init(&b, S2S_CTL_MAX);
	fail = buf_puts(&b, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_COMPONENT "' xmlns:stream='" NS_STREAM "' id='") |
	    buf_puts(&b, c->sid) | buf_puts(&b, "' from='") |
	    xml_escape(&b, dom, strlen(dom)) | buf_puts(&b, "'>");
	/* then only the handshake (comp_preauth_names) */
	(void)conn_send_header(c, &b, fail);
}

/*
 * XEP-0114 3: lowercase hex SHA-1 of the stream id and the secret. The
 * component is looked up by name each time (c->remote): a reload may
 * have replaced the list.
 */
static bool
comp_handshake_ok(const struct conn *c, const char *presented)
{
	const struct conf_component *k;
	unsigned char	 digest[20];
	char		 want[SHA1_HEX + 1], got[SHA1_HEX + 1], *text;
	size_t		 i, n;

	k = conf_component_find(&s2s.conf, c->remote);
	if (k == NULL || strnlen(presented, SHA1_HEX + 1) != SHA1_HEX)
		return false;
	n = strlen(c->sid) + strlen(k->secret);
	text = xmalloc(n + 1);
	snprintf(text, n + 1, "%s%s", c->sid, k->secret);
	(void)gnutls_hash_fast(GNUTLS_DIG_SHA1, text, n, digest);
	explicit_bzero(text, n);
	free(text);
	hex_encode(want, digest, sizeof(digest));
	for (i = 0; i < SHA1_HEX; i++)
		got[i] = (char)tolower((unsigned char)presented[i]);
	got[SHA1_HEX] = '\0';
	explicit_bzero(digest, sizeof(digest));
	return timingsafe_memcmp(got, want, SHA1_HEX) == 0;
}

static void
comp_handshake(struct conn *c, struct xnode *el, struct arena *a)
{
	if (c->state == CS_OPEN) {
		conn_error(c, SERR_NOT_AUTHORIZED, "handshake done already");
		return;
	}
	if (!comp_handshake_ok(c, xnode_text(a, el))) {
		log_info("%s: component handshake failed", conn_name(c));
		conn_error(c, SERR_NOT_AUTHORIZED, NULL);
		return;
	}
	if (comps == NULL)
		comps = map_new();
	/* one stream per component: the one connected keeps it */
	if (map_get(comps, c->remote) != NULL) {
		log_info("%s: component %s is connected already",
		    conn_name(c), c->remote);
		conn_error(c, SERR_CONFLICT, NULL);
		return;
	}
	map_put(comps, c->remote, c);
	c->comp_on = true;
	xstream_preauth_end(c->xs);
	conn_puts(c, "<handshake/>");
	conn_opened(c);
	log_info("%s: component %s connected", conn_name(c), c->remote);
}

/*
 * A stanza of the component: its 'from' must be the component's domain
 * or a JID in it (or in a subdomain); any other is a spoof (RFC 6120
 * 4.9.3.9 invalid-from), and the stream ends, as on a server stream.
 */
static bool
comp_allowed(struct conn *c, const struct jid *to, const struct jid *from)
{
	const struct conf_component	*k;

	(void)to;
	k = conf_component_find(&s2s.conf, from->domain);
	if (k != NULL && strcmp(k->domain, c->remote) == 0)
		return true;
	log_info("%s: stanza from %s", conn_name(c),
	    log_esc(from->domain, strlen(from->domain)));
	conn_error(c, SERR_INVALID_FROM, NULL);
	return false;
}

static void
comp_stanza(struct conn *c, struct xnode *el, struct arena *a, int kind)
{
	if (c->state != CS_OPEN) {
		conn_error(c, SERR_NOT_AUTHORIZED, NULL);
		return;
	}
	in_pass(c, el, a, kind, NS_COMPONENT, comp_allowed);
}

void
comp_element(struct conn *c, struct xnode *el, struct arena *a)
{
	int	kind;

	if (strcmp(el->ns, NS_STREAM) == 0 && strcmp(el->name, "error") == 0) {
		log_info("%s: stream error from the component", conn_name(c));
		conn_close(c);
		return;
	}
	if (c->state != CS_FEATURES && c->state != CS_OPEN) {
		conn_error(c, SERR_BAD_FORMAT, NULL);
		return;
	}
	if (strcmp(el->ns, NS_COMPONENT) == 0 &&
	    strcmp(el->name, "handshake") == 0) {
		comp_handshake(c, el, a);
		return;
	}
	if ((kind = stanza_kind_of(el->ns, el->name, NS_COMPONENT)) != -1) {
		comp_stanza(c, el, a, kind);
		return;
	}
	conn_error(c, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
}

/* from conn_forget: the domain is free again; stanzas to it bounce */
void
comp_gone(struct conn *c)
{
	if (!c->comp_on || map_get(comps, c->remote) != c)
		return;
	map_del(comps, c->remote);
	log_info("%s: component %s disconnected", conn_name(c), c->remote);
}
