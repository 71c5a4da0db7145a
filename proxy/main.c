/*
 * parley-proxy: the SOCKS5 bytestream proxy (XEP-0065). Started by
 * parleyd as "parley-proxy -c FILE" when the configuration has a
 * proxy-listen; one per server, so that both parties of a transfer
 * reach the same process (docs/internals.md, "The bytestream proxy").
 */
#include <stdlib.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/priv.h"
#include "../common/proc.h"
#include "proxy.h"

struct proxy	proxy;

static void
listen_pause(bool pause)
{
	listeners_pause(proxy.listeners, proxy.loop, pause);
}

static void
listen_take(int fd, void *lst)
{
	(void)lst;
	(void)relay_accept(fd);
}

int
main(int argc, char *argv[])
{
	(void)proc_init(argc, argv, "proxy", false, &proxy.conf);
	proxy.loop = ev_default_loop(EVFLAG_AUTO);
	proxy.waiting = map_new();
	accept_backoff_init(&proxy.backoff, listen_pause);
	/* one process: no SO_REUSEPORT, the pair must meet here */
	if (listeners_open(&proxy.listeners, &proxy.backoff, &proxy.conf,
	    LISTEN_PROXY, LISTEN_PROXY, false, listen_take) == -1)
		exit(1);
	priv_drop(&proxy.conf, true);	/* ports bound */
	link_loop_init(proxy.loop);
	transport_loop_init(proxy.loop);
	uplink_start();
	listen_pause(false);
	log_info("started");
	proc_run(proxy.loop);
	return 0;
}
