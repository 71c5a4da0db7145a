/*
 * parley-c2s: one client-facing process. Started by parleyd as
 * "parley-c2s -c FILE -i N"; several share the client ports.
 */
#include <signal.h>
#include <stdlib.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/util.h"
#include "../common/work.h"
#include "c2s.h"

struct c2s	c2s;

static void
c2s_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	transport_reap();
}

static void
c2s_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	ev_signal	 sigterm, sigint;

	c2s.instance = proc_init(argc, argv, "c2s", true, &c2s.conf);
	if (sasl_secret_load() == -1)
		fatalx("malformed %s in the environment", SASL_SECRET_ENV);
	c2s.loop = ev_default_loop(EVFLAG_AUTO);
	c2s.streams = map_new();
	buf_init(&c2s.scratch, 0);
	if (tls_ctx_init(&c2s.tls, &c2s.conf) == -1)
		exit(1);
	if (listen_open() == -1)
		exit(1);
	priv_drop(&c2s.conf, true);	/* ports bound, keys read */
	link_loop_init(c2s.loop);
	ev_prepare_init(&c2s.reaper, c2s_prepare_cb);
	ev_prepare_start(c2s.loop, &c2s.reaper);
	ev_unref(c2s.loop);
	ev_signal_init(&sigterm, c2s_signal_cb, SIGTERM);
	ev_signal_start(c2s.loop, &sigterm);
	ev_signal_init(&sigint, c2s_signal_cb, SIGINT);
	ev_signal_start(c2s.loop, &sigint);
	uplink_start();
	work_init(c2s.loop, WORK_THREADS);
	log_info("started");
	ev_run(c2s.loop, 0);
	work_shutdown();
	log_info("stopped");
	return 0;
}
