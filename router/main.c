/*
 * parley-router: the hub process. Started by parleyd as
 * "parley-router -c FILE".
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/ready.h"
#include "../common/upslot.h"
#include "../common/util.h"
#include "../common/work.h"
#include "../storage/store.h"
#include "../storage/store_conf.h"
#include "router.h"

/* in the data directory: the key of the made-up SCRAM salts */
#define SASL_SECRET_FILE	"sasl-secret"

struct router	router;

/*
 * The one step before each wait (Redis's beforeSleep), in a written
 * order: failed links reaped and queued frames written (their close
 * callbacks end sessions, which queue more), reading resumed if the
 * links drained (rlink_flow), then the deferred storage writes of the
 * whole iteration committed at once. Two prepare watchers would run in
 * an order libev picks.
 */
static ev_idle	router_again;

static void
router_again_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w);
}

/*
 * Deferred writes (PEP items, last activity) are committed before any
 * frame leaves the router: an answer never reports what a crash could
 * still lose, and all the writes of one loop iteration share one commit.
 */
static void
router_before_write(void)
{
	(void)store_flush(router.store);	/* logged */
}

static void
router_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)w;
	(void)revents;
	link_run_pending();
	/*
	 * Links resumed here are read after this step, before the loop
	 * would block: the idle watcher makes it go round once more, so
	 * that what they queue is written by the next step.
	 */
	if (rlink_flow())
		ev_idle_start(loop, &router_again);
	(void)store_flush(router.store);
}

static void
router_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* one of the keys every c2s gets (LINK_SECRETS), from the data directory */
static void
router_secret(const char *name, uint8_t *key, size_t len)
{
	if (secret_load(router.conf.datadir, name, key, len) == 0)
		return;
	if (errno == EINVAL)
		fatalx("%s/%s: too short; remove it to make a new one",
		    router.conf.datadir, name);
	fatal("%s/%s", router.conf.datadir, name);
}

int
main(int argc, char *argv[])
{
	char		 err[640];
	ev_signal	 sigterm, sigint;
	ev_prepare	 prepare;

	(void)proc_init(argc, argv, "router", false, &router.conf);
	router.started = (double)time(NULL);
	/* before storage and sockets, so that what they create is the user's */
	priv_drop(&router.conf, false);
	if ((router.store = store_open_conf(&router.conf, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	/*
	 * The keys every c2s shares with us, on this host or another: the
	 * made-up salts' (c2s/sasl.c) and the upload slots' (upload.c),
	 * kept here across restarts and handed over on each c2s link
	 */
	router_secret(SASL_SECRET_FILE, router.secrets.sasl,
	    sizeof(router.secrets.sasl));
	router_secret(UPSLOT_KEY_FILE, router.secrets.upload,
	    sizeof(router.secrets.upload));
	upslot_key_set(router.secrets.upload);
	router.loop = ev_default_loop(EVFLAG_AUTO);
	last_init();
	pep_init();
	muc_load();
	invite_sweep_init();
	router.by_full = map_new();
	router.by_bare = map_new();
	router.sm_ids = map_new();
	buf_init(&router.scratch, LINK_STANZA_MAX);	/* one stanza */
	link_set_before_write(router_before_write);
	if (rlink_listen() == -1)
		exit(1);
	ev_idle_init(&router_again, router_again_cb);
	ev_prepare_init(&prepare, router_prepare_cb);
	ev_prepare_start(router.loop, &prepare);
	ev_signal_init(&sigterm, router_signal_cb, SIGTERM);
	ev_signal_start(router.loop, &sigterm);
	ev_signal_init(&sigint, router_signal_cb, SIGINT);
	ev_signal_start(router.loop, &sigint);
	/*
	 * limits and options are read from router.conf where they apply;
	 * the link certificates are loaded, so they are loaded again
	 */
	proc_reload_watch(router.loop, &router.conf, rlink_reload);
	work_init(router.loop, WORK_THREADS);
	restart_init();		/* after a planned restart: who comes back */
	log_info("started, storage in %s", router.conf.datadir);
	ready_report();		/* the workers can connect now */
	ev_run(router.loop, 0);
	work_shutdown();
	store_close(router.store);
	log_info("stopped");
	return restart_exit_status();
}
