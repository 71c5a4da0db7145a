/*
 * The router link kept up (common/routerlink.c) on the fake clock: an attempt
 * every ROUTERLINK_RETRY seconds while the router is away, the link once it
 * listens, and the wait before reconnecting after a loss. The router is a
 * listening Unix socket in a temporary run directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/clock.h"
#include "../../common/link.h"
#include "../../common/routerlink.h"
#include "unit.h"

static int		 ups, losts;
static struct link	*uplink;

static void
on_up(struct routerlink *rl, struct link *l)
{
	(void)rl;
	ups++;
	uplink = l;
}

static void
on_lost(struct routerlink *rl, struct link *l)
{
	(void)rl;
	assert_ptr_equal(l, uplink);
	losts++;
	uplink = NULL;
}

static void
on_drain(void)
{
}

/* the router answers a connection, then closes it; the loss is heard */
static void
router_drops(int lfd)
{
	int	fd, i;

	assert_true((fd = accept(lfd, NULL, NULL)) != -1);
	close(fd);
	for (i = 0; i < 100 && losts < ups; i++)
		ev_run(ev_default_loop(0), EVRUN_NOWAIT);
	assert_int_equal(losts, ups);
}

static void
test_rlink_retries_on_the_clock(void **state)
{
	struct routerlink		 rl;
	struct conf		 conf;
	struct sockaddr_un	 sun;
	char			 dir[] = "/tmp/routerlink.XXXXXX";
	int			 lfd;

	(void)state;
	/* as the processes do: a write to a closed link fails, no signal */
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(mkdtemp(dir));
	clock_fake_start(1700000000.0);
	link_loop_init(ev_default_loop(0));
	memset(&rl, 0, sizeof(rl));
	memset(&conf, 0, sizeof(conf));
	conf.rundir = dir;
	conf.link_queue_max = 1 << 20;
	rl.on_frame = unit_no_frame;
	rl.on_up = on_up;
	rl.on_lost = on_lost;
	rl.on_drain = on_drain;
	assert_int_equal(routerlink_start(&rl, ev_default_loop(0), &conf,
	    LINK_ROLE_S2S, 0), 0);
	/* the first attempt is due now; the router is away */
	clock_advance(0);
	assert_int_equal(ups, 0);
	assert_true(ctimer_active(&rl.retry));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/router.sock", dir);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	/* the router is up now, but the next attempt waits its turn */
	clock_advance(ROUTERLINK_RETRY - 0.01);
	assert_int_equal(ups, 0);
	clock_advance(0.02);
	assert_int_equal(ups, 1);
	assert_non_null(uplink);
	assert_false(ctimer_active(&rl.retry));
	/* lost: not at once again, ROUTERLINK_RETRY later */
	router_drops(lfd);
	assert_true(ctimer_active(&rl.retry));
	clock_advance(ROUTERLINK_RETRY - 0.01);
	assert_int_equal(ups, 1);
	clock_advance(0.02);
	assert_int_equal(ups, 2);
	link_free(uplink);
	close(lfd);
	unlink(sun.sun_path);
	rmdir(dir);
}

UNIT_MAIN(
	cmocka_unit_test(test_rlink_retries_on_the_clock),
)
