/*
 * The accept back-off (common/accept.c) on the fake clock: a shortage of
 * descriptors pauses every listener for ACCEPT_BACKOFF, not a moment
 * less, and a shortage while paused counts from the last one. The
 * shortage is real: RLIMIT_NOFILE lowered and every descriptor under it
 * taken, so accept4() fails with EMFILE.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/accept.h"
#include "../../common/clock.h"
#include "../../common/util.h"

#define FILL_MAX	1024

static int	pauses, resumes, taken;
static int	fill[FILL_MAX];
static int	nfill;
static struct rlimit saved;

static void
on_pause(bool pause)
{
	if (pause)
		pauses++;
	else
		resumes++;
}

static void
on_take(int fd, void *arg)
{
	(void)arg;
	taken++;
	close(fd);
}

/*
 * A listening socket on loopback with NCLIENT clients waiting in its
 * backlog. (Under valgrind, which checks the limit itself after the
 * kernel's accept, each EMFILE costs one of them.)
 */
#define NCLIENT		3

static int
listen_with_clients(int *client)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			lfd, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = tcp_listen((struct sockaddr *)&sin, sizeof(sin), false);
	assert_true(lfd != -1);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	for (i = 0; i < NCLIENT; i++) {
		client[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(client[i] != -1);
		assert_int_equal(connect(client[i], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	return lfd;
}

/* no descriptor left for accept4() */
static void
exhaust(int lfd)
{
	struct rlimit	rl;
	int		fd;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (nfill = 0; nfill < FILL_MAX && (fd = dup(lfd)) != -1; nfill++)
		fill[nfill] = fd;
	assert_int_equal(errno, EMFILE);
}

static void
replenish(void)
{
	while (nfill > 0)
		close(fill[--nfill]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

static void
test_backoff_pauses_for_its_time(void **state)
{
	struct accept_backoff	ab;
	int			lfd, i, client[NCLIENT];

	(void)state;
	clock_fake_start(1700000000.0);
	accept_backoff_init(&ab, on_pause);
	lfd = listen_with_clients(client);

	exhaust(lfd);
	accept_batch(&ab, lfd, "127.0.0.1", 0, on_take, NULL);
	replenish();
	assert_int_equal(pauses, 1);
	assert_int_equal(taken, 0);
	assert_true(ctimer_active(&ab.timer));

	clock_advance(ACCEPT_BACKOFF / 2);
	/* another shortage meanwhile: the pause counts from it */
	exhaust(lfd);
	accept_batch(&ab, lfd, "127.0.0.1", 0, on_take, NULL);
	replenish();
	assert_int_equal(pauses, 2);
	clock_advance(ACCEPT_BACKOFF - 0.01);
	assert_int_equal(resumes, 0);
	clock_advance(0.02);
	assert_int_equal(resumes, 1);
	assert_false(ctimer_active(&ab.timer));

	/* the clients waited in the backlog: taken now */
	accept_batch(&ab, lfd, "127.0.0.1", 0, on_take, NULL);
	assert_true(taken >= NCLIENT - 2);
	assert_int_equal(pauses, 2);

	accept_backoff_clear(&ab);
	for (i = 0; i < NCLIENT; i++)
		close(client[i]);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_pauses_for_its_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
