/*
 * parley-router: the hub process. Started by parleyd as
 * "parley-router -c FILE".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../storage/store.h"
#include "router.h"

struct router	router;

static void
usage(void)
{
	fprintf(stderr, "usage: parley-router -c FILE [-d] [-T trace,...]\n");
	exit(2);
}

static void
router_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	const char	*path = NULL;
	char		 err[256];
	ev_signal	 sigterm, sigint;
	int		 ch, debug = 0, lvl;

	while ((ch = getopt(argc, argv, "c:dT:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'T':
			if (log_parse_traces(optarg) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	log_init("router", 0);
	if (conf_load(&router.conf, path) == -1)
		exit(1);
	if ((lvl = log_parse_level(router.conf.log_level)) != -1)
		log_verbosity = lvl;
	if (debug)
		log_verbosity = LOG_LVL_DEBUG;
	signal(SIGPIPE, SIG_IGN);

	if ((router.store = store_open(router.conf.datadir,
	    router.conf.lmdb_mapsize, err, sizeof(err))) == NULL)
		fatalx("storage in %s: %s", router.conf.datadir, err);
	router.loop = ev_default_loop(EVFLAG_AUTO);
	router.by_full = map_new();
	router.by_bare = map_new();
	buf_init(&router.scratch, 0);
	link_loop_init(router.loop);
	if (rlink_listen() == -1)
		exit(1);
	ev_signal_init(&sigterm, router_signal_cb, SIGTERM);
	ev_signal_start(router.loop, &sigterm);
	ev_signal_init(&sigint, router_signal_cb, SIGINT);
	ev_signal_start(router.loop, &sigint);
	log_info("started, storage in %s", router.conf.datadir);
	ev_run(router.loop, 0);
	store_close(router.store);
	log_info("stopped");
	return 0;
}
