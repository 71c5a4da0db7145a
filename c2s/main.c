/*
 * parley-c2s: one client-facing process. Started by parleyd as
 * "parley-c2s -c FILE -i N"; several share the client ports.
 */
#include <stdlib.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/util.h"
#include "../common/work.h"
#include "c2s.h"
#include "http.h"

struct c2s	c2s;

/* SIGHUP: new client connections get the certificates as they are now */
static void
c2s_reload(void)
{
	if (tls_ctx_reload(&c2s.tls, &c2s.conf) == -1)
		log_warnx("reload: keeping the running certificates");
	routerlink_reload(&c2s.uplink);
}

int
main(int argc, char *argv[])
{
	c2s.instance = proc_init(argc, argv, "c2s", true, &c2s.conf);
	c2s.loop = ev_default_loop(EVFLAG_AUTO);
	c2s.streams = map_new();
	/* one stanza or reply: what passes it is not sent (stream.c) */
	buf_init(&c2s.scratch, LINK_STANZA_MAX);
	if (tls_ctx_init(&c2s.tls, &c2s.conf) == -1)
		exit(1);
	if (listen_open() == -1)
		exit(1);
	upload_init();	/* its directory made before writes are refused */
	if (static_load() == -1)
		exit(1);
	priv_drop(&c2s.conf, true);	/* ports bound, keys read */
	link_loop_init(c2s.loop);
	transport_loop_init(c2s.loop);
	uplink_start();
	proc_reload_watch(c2s.loop, &c2s.conf, c2s_reload);
	work_init(c2s.loop, WORK_THREADS);
	log_info("started");
	proc_run(c2s.loop);
	work_shutdown();
	return 0;
}
