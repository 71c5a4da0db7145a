/*
 * The server-to-server listeners (s2s-listen, s2s-tls-listen). Unlike
 * the client ports there is one s2s process, so no SO_REUSEPORT. Running
 * out of descriptors pauses accepting for a moment (common/accept.c).
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/accept.h"
#include "../common/log.h"
#include "../common/util.h"
#include "s2s.h"

static struct accept_backoff	backoff;

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
	struct xstream_preauth	*pa = &listen_preauth_policy;

	if (pa->allowed == NULL) {
		pa->allowed = listen_preauth_names;
		pa->refuse = SERR_NOT_AUTHORIZED;
		pa->max_stanza = s2s.conf.s2s_max_stanza_preauth;
		pa->budget = s2s.conf.preauth_stream_memory;
		xstream_preauth_total(s2s.conf.preauth_memory_max);
	}
	return pa;
}

static void
listen_take(int fd, void *arg)
{
	in_accept(arg, fd);
}

static void
listen_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct listener	*lst = container_of(w, struct listener, io);

	(void)loop;
	(void)revents;
	accept_batch(&backoff, lst->fd, lst->cl->addr, lst->cl->port,
	    listen_take, lst);
}

int
listen_open(void)
{
	const struct conf_listen	*cl;
	struct listener			*lst;
	size_t				 i;
	int				 fd;

	accept_backoff_init(&backoff, s2s.loop, listen_pause);
	for (i = 0; i < s2s.conf.nlistens; i++) {
		cl = &s2s.conf.listens[i];
		if (cl->kind != LISTEN_S2S && cl->kind != LISTEN_S2S_TLS)
			continue;
		if ((fd = tcp_listen((const struct sockaddr *)&cl->sa,
		    cl->salen, false)) == -1) {
			log_warn("%s:%d: listen on %s port %u",
			    s2s.conf.path, cl->line, cl->addr, cl->port);
			return -1;
		}
		lst = xcalloc(1, sizeof(*lst));
		lst->cl = cl;
		lst->fd = fd;
		/* accepting starts once the router link is up */
		ev_io_init(&lst->io, listen_accept_cb, fd, EV_READ);
		lst->next = s2s.listeners;
		s2s.listeners = lst;
	}
	return 0;
}

void
listen_pause(bool pause)
{
	struct listener	*lst;

	for (lst = s2s.listeners; lst != NULL; lst = lst->next)
		if (pause)
			ev_io_stop(s2s.loop, &lst->io);
		else
			ev_io_start(s2s.loop, &lst->io);
}
