/*
 * The server-to-server listeners (s2s-listen, s2s-tls-listen). Unlike
 * the client ports there is one s2s process, so no SO_REUSEPORT. Running
 * out of descriptors pauses accepting for a moment (common/accept.c).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/accept.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/peer.h"
#include "../common/util.h"
#include "s2s.h"

static struct accept_backoff	backoff;

/* incoming connections per address (s2s-max-per-address) */
struct listen_peer {
	int	conns;
	bool	warned;
};
static struct map	*listen_peers;	/* peer key -> struct listen_peer */

bool
listen_peer_admit(struct conn *c)
{
	struct listen_peer	*p;
	char			 key[PEER_KEY_MAX];

	peer_key(tp_fd(&c->tp), key, sizeof(key));
	if (listen_peers == NULL)
		listen_peers = map_new();
	if ((p = map_get(listen_peers, key)) == NULL) {
		p = xcalloc(1, sizeof(*p));
		map_put(listen_peers, key, p);
	}
	if (s2s.conf.s2s_max_per_address > 0 &&
	    p->conns >= s2s.conf.s2s_max_per_address) {
		if (!p->warned)
			log_warnx("%s: s2s-max-per-address (%d) reached; "
			    "refusing its connections", key,
			    s2s.conf.s2s_max_per_address);
		p->warned = true;
		conn_close(c);
		return false;
	}
	p->conns++;
	c->peer = xstrdup(key);
	return true;
}

void
listen_peer_gone(struct conn *c)
{
	struct listen_peer	*p;

	if (c->peer == NULL)
		return;
	if ((p = map_get(listen_peers, c->peer)) != NULL && --p->conns == 0)
		free(map_del(listen_peers, c->peer));
	else if (p != NULL && p->conns < s2s.conf.s2s_max_per_address)
		p->warned = false;
	free(c->peer);
	c->peer = NULL;
}

/*
 * Before any domain is authenticated on an incoming stream the peer may
 * negotiate TLS, SASL EXTERNAL and dialback, and send a stream error;
 * anything else is refused at its start tag (RFC 6120 4.9.3.12), and its
 * elements are small.
 */
static const struct xstream_name listen_preauth_names[] = {
	{ NS_TLS, "starttls" },
	{ NS_SASL, NULL },
	{ NS_DIALBACK, NULL },
	{ NS_STREAM, "error" },
	{ NULL, NULL }
};
static struct xstream_preauth	listen_preauth_policy;

const struct xstream_preauth *
listen_preauth(void)
{
	return xstream_preauth_policy(&listen_preauth_policy,
	    listen_preauth_names, s2s.conf.s2s_max_stanza_preauth,
	    s2s.conf.preauth_stream_memory, s2s.conf.preauth_memory_max);
}

static void
listen_take(int fd, void *arg)
{
	in_accept(arg, fd);
}

static void
listen_take_component(int fd, void *arg)
{
	comp_accept(arg, fd);
}

int
listen_open(void)
{
	accept_backoff_init(&backoff, listen_pause);
	/* accepting starts once the router link is up */
	if (listeners_open(&s2s.listeners, &backoff, &s2s.conf, LISTEN_S2S,
	    LISTEN_S2S_TLS, false, listen_take) == -1)
		return -1;
	/* XEP-0114 components: the same process, the same pause */
	return listeners_open(&s2s.listeners, &backoff, &s2s.conf,
	    LISTEN_COMPONENT, LISTEN_COMPONENT, false, listen_take_component);
}

void
listen_pause(bool pause)
{
	listeners_pause(s2s.listeners, s2s.loop, pause);
}
