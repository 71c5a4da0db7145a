/*
 * The worker pool: every job's done callback runs once, on the loop, in
 * the loop's thread; a job cancelled while queued is not run and its done
 * says so; the loop goes on serving timers while a job runs; the queue
 * refuses past WORK_QUEUE_MAX; shutdown hands back what was queued, and
 * a done callback that asks for more during shutdown is refused, not
 * killed (an abandoned upload's cleanup, c2s/upload.c); a job of one
 * queue never waits behind the other's (a login behind uploads), nor is
 * it refused because the other is full.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/work.h"
#include "unit.h"

struct job {
	pthread_t	 loop_thread;
	pthread_t	 ran_on;
	bool		 ran;
	bool		 done, cancelled;
	bool		 on_loop;
	int		*gate;		/* the job waits while *gate is 0 */
	int		*ndone;
};

static pthread_mutex_t	gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cond = PTHREAD_COND_INITIALIZER;

static void
job_run(void *arg)
{
	struct job	*j = arg;

	j->ran = true;
	j->ran_on = pthread_self();
	if (j->gate != NULL) {
		pthread_mutex_lock(&gate_lock);
		while (*j->gate == 0)
			pthread_cond_wait(&gate_cond, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
}

static void
job_done(void *arg, bool cancelled)
{
	struct job	*j = arg;

	j->done = true;
	j->cancelled = cancelled;
	j->on_loop = pthread_equal(pthread_self(), j->loop_thread);
	if (j->ndone != NULL)
		(*j->ndone)++;
}

static void
gate_open(int *gate)
{
	pthread_mutex_lock(&gate_lock);
	*gate = 1;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void
run_until(struct ev_loop *loop, int *ndone, int want)
{
	while (*ndone < want)
		ev_run(loop, EVRUN_ONCE);
}

static void
test_work_runs_and_returns_on_loop(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	 j[8];
	int		 ndone = 0, i;

	(void)state;
	work_init(loop, 2);
	memset(j, 0, sizeof(j));
	for (i = 0; i < 8; i++) {
		j[i].loop_thread = pthread_self();
		j[i].ndone = &ndone;
		assert_non_null(work_submit(job_run, job_done, &j[i]));
	}
	run_until(loop, &ndone, 8);
	for (i = 0; i < 8; i++) {
		assert_true(j[i].ran && j[i].done && !j[i].cancelled);
		assert_true(j[i].on_loop);
		assert_false(pthread_equal(j[i].ran_on, pthread_self()));
	}
	assert_int_equal(work_pending(), 0);
	work_shutdown();
	ev_loop_destroy(loop);
}

static int	ticks;

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	if (++ticks == 3) {
		ev_timer_stop(loop, w);
		gate_open(w->data);
	}
}

/*
 * The loop keeps serving while a job blocks a worker: the timer fires
 * three times before the job can finish, and the job finishes only
 * because the loop ran them.
 */
static void
test_work_loop_serves_while_job_runs(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	 j;
	ev_timer	 t;
	int		 gate = 0, ndone = 0;

	(void)state;
	work_init(loop, 1);
	memset(&j, 0, sizeof(j));
	j.loop_thread = pthread_self();
	j.gate = &gate;
	j.ndone = &ndone;
	assert_non_null(work_submit(job_run, job_done, &j));
	ticks = 0;
	ev_timer_init(&t, tick_cb, 0.001, 0.001);
	t.data = &gate;
	ev_timer_start(loop, &t);
	run_until(loop, &ndone, 1);
	assert_int_equal(ticks, 3);
	assert_true(j.done && !j.cancelled);
	work_shutdown();
	ev_loop_destroy(loop);
}

/* one worker held by a gated job: the next, cancelled, is never run */
static void
test_work_cancel_queued(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	 a, b;
	struct work	*w;
	int		 gate = 0, ndone = 0;

	(void)state;
	work_init(loop, 1);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.loop_thread = b.loop_thread = pthread_self();
	a.gate = &gate;
	a.ndone = b.ndone = &ndone;
	assert_non_null(work_submit(job_run, job_done, &a));
	assert_non_null(w = work_submit(job_run, job_done, &b));
	work_cancel(w);
	gate_open(&gate);
	run_until(loop, &ndone, 2);
	assert_true(a.done && !a.cancelled && a.ran);
	assert_true(b.done && b.cancelled && !b.ran && b.on_loop);
	work_shutdown();
	ev_loop_destroy(loop);
}

/* a full queue refuses; shutdown cancels what waited and says so */
static void
test_work_queue_cap_and_shutdown(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	*j;
	int		 gate = 0, ndone = 0, i;

	(void)state;
	work_init(loop, 1);
	j = calloc(WORK_QUEUE_MAX + 1, sizeof(*j));
	for (i = 0; i < WORK_QUEUE_MAX; i++) {
		j[i].loop_thread = pthread_self();
		j[i].ndone = &ndone;
		j[i].gate = i == 0 ? &gate : NULL;
		assert_non_null(work_submit(job_run, job_done, &j[i]));
	}
	errno = 0;
	assert_null(work_submit(job_run, job_done, &j[WORK_QUEUE_MAX]));
	assert_int_equal(errno, EAGAIN);
	gate_open(&gate);
	work_shutdown();
	assert_int_equal(ndone, WORK_QUEUE_MAX);
	for (i = 0; i < WORK_QUEUE_MAX; i++) {
		assert_true(j[i].done && j[i].on_loop);
		/* a job runs, or is cancelled before it starts: not both */
		assert_true(j[i].ran != j[i].cancelled);
	}
	assert_false(j[WORK_QUEUE_MAX].done);
	free(j);
	ev_loop_destroy(loop);
}

static int	resubmit_errno = -1;
static bool	resubmit_null;

static void
job_done_resubmit(void *arg, bool cancelled)
{
	job_done(arg, cancelled);
	errno = 0;
	resubmit_null = work_submit(job_run, job_done, arg) == NULL;
	resubmit_errno = errno;
}

/* during work_shutdown a done callback's work_submit says ESHUTDOWN */
static void
test_work_submit_during_shutdown(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	 a = { 0 }, b = { 0 };
	int		 gate = 0;

	(void)state;
	work_init(loop, 1);
	a.loop_thread = b.loop_thread = pthread_self();
	a.gate = &gate;
	assert_non_null(work_submit(job_run, job_done, &a));
	/* queued behind a: cancelled by the shutdown, its done resubmits */
	assert_non_null(work_submit(job_run, job_done_resubmit, &b));
	gate_open(&gate);
	work_shutdown();
	assert_true(a.done && b.done);
	assert_true(resubmit_null);
	assert_int_equal(resubmit_errno, ESHUTDOWN);
	ev_loop_destroy(loop);
}

static void
give_up_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	*(bool *)w->data = true;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * Runs the loop until *ndone reaches want or 5 s pass; says whether it
 * got there (a job stuck behind others fails the test, not hangs it).
 */
static bool
run_until_or_give_up(struct ev_loop *loop, int *ndone, int want)
{
	ev_timer	t;
	bool		gave_up = false;

	ev_timer_init(&t, give_up_cb, 5, 0);
	t.data = &gave_up;
	ev_timer_start(loop, &t);
	while (*ndone < want && !gave_up)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return !gave_up;
}

/*
 * n jobs on queue busy, all blocked, and more queued behind them than
 * there are workers; then one job on queue other, which must finish
 * while they are all still blocked.
 */
static void
not_behind(enum work_queue busy, enum work_queue other)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	 j[9];
	int		 gate = 0, nbusy = 0, nother = 0, i;

	work_init(loop, 2);
	memset(j, 0, sizeof(j));
	for (i = 0; i < 8; i++) {
		j[i].loop_thread = pthread_self();
		j[i].gate = &gate;
		j[i].ndone = &nbusy;
		assert_non_null(work_submit_to(busy, job_run, job_done,
		    &j[i]));
	}
	j[8].loop_thread = pthread_self();
	j[8].ndone = &nother;
	assert_non_null(work_submit_to(other, job_run, job_done, &j[8]));
	assert_true(run_until_or_give_up(loop, &nother, 1));
	assert_true(j[8].ran && j[8].done && !j[8].cancelled);
	assert_int_equal(nbusy, 0);
	gate_open(&gate);
	assert_true(run_until_or_give_up(loop, &nbusy, 8));
	work_shutdown();
	ev_loop_destroy(loop);
}

/* a login's PBKDF2 does not wait for the uploads' disk jobs */
static void
test_work_cpu_not_behind_io(void **state)
{
	(void)state;
	not_behind(WORK_IO, WORK_CPU);
}

/* nor an upload's write for a burst of logins */
static void
test_work_io_not_behind_cpu(void **state)
{
	(void)state;
	not_behind(WORK_CPU, WORK_IO);
}

/* a full I/O queue refuses I/O jobs only: logins still go */
static void
test_work_queue_caps_apart(void **state)
{
	struct ev_loop	*loop = ev_loop_new(EVFLAG_AUTO);
	struct job	*j;
	int		 gate = 0, ndone = 0, i;

	(void)state;
	work_init(loop, 1);
	j = calloc(WORK_QUEUE_MAX + 2, sizeof(*j));
	for (i = 0; i < WORK_QUEUE_MAX + 2; i++) {
		j[i].loop_thread = pthread_self();
		j[i].ndone = &ndone;
	}
	j[0].gate = &gate;
	for (i = 0; i < WORK_QUEUE_MAX; i++)
		assert_non_null(work_submit_to(WORK_IO, job_run, job_done,
		    &j[i]));
	errno = 0;
	assert_null(work_submit_to(WORK_IO, job_run, job_done,
	    &j[WORK_QUEUE_MAX]));
	assert_int_equal(errno, EAGAIN);
	assert_non_null(work_submit(job_run, job_done,
	    &j[WORK_QUEUE_MAX + 1]));
	assert_true(run_until_or_give_up(loop, &ndone, 1));
	assert_true(j[WORK_QUEUE_MAX + 1].done);
	gate_open(&gate);
	work_shutdown();
	assert_int_equal(ndone, WORK_QUEUE_MAX + 1);
	free(j);
	ev_loop_destroy(loop);
}

UNIT_MAIN(
	cmocka_unit_test(test_work_runs_and_returns_on_loop),
	cmocka_unit_test(test_work_loop_serves_while_job_runs),
	cmocka_unit_test(test_work_cancel_queued),
	cmocka_unit_test(test_work_queue_cap_and_shutdown),
	cmocka_unit_test(test_work_submit_during_shutdown),
	cmocka_unit_test(test_work_cpu_not_behind_io),
	cmocka_unit_test(test_work_io_not_behind_cpu),
	cmocka_unit_test(test_work_queue_caps_apart),
)
