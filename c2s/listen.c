/*
 * Client listeners. Every c2s process opens every configured listener
 * with SO_REUSEPORT, so the kernel spreads connections over the
 * processes. Accept errors such as EMFILE pause accepting for a moment
 * instead of spinning (common/accept.c).
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/accept.h"
#include "../common/log.h"
#include "../common/util.h"
#include "c2s.h"
#include "http.h"

static struct accept_backoff	backoff;

static void
listen_take(int fd, void *arg)
{
	struct listener	*lst = arg;

	if (c2s.nstreams >= c2s.conf.c2s_max_sessions) {
		log_warnx("c2s-max-sessions (%zu) reached, refusing",
		    c2s.conf.c2s_max_sessions);
		close(fd);
		return;
	}
	if (lst->cl->kind == LISTEN_HTTP || lst->cl->kind == LISTEN_HTTPS)
		(void)http_accept(lst, fd);
	else
		stream_accept(lst, fd);
}

void
listen_pause(bool pause)
{
	listeners_pause(c2s.listeners, c2s.loop, pause);
}

void
listen_close(void)
{
	listeners_close(&c2s.listeners, c2s.loop);
}

int
listen_open(void)
{
	accept_backoff_init(&backoff, listen_pause);
	/*
	 * every c2s process listens: the kernel spreads clients; accepting
	 * starts once the router link is up
	 */
	if (listeners_open(&c2s.listeners, &backoff, &c2s.conf, LISTEN_C2S,
	    LISTEN_C2S_TLS, true, listen_take) == -1)
		return -1;
	/*
	 * HTTP too: a BOSH request that reaches a worker other than the
	 * session's goes there (boshfwd.c, docs/internals.md, "Several c2s
	 * workers")
	 */
	return listeners_open(&c2s.listeners, &backoff, &c2s.conf,
	    LISTEN_HTTP, LISTEN_HTTPS, true, listen_take);
}
