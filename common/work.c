/*
 * The worker pool: one mutex-protected FIFO of jobs for the workers, one
 * list of finished jobs for the loop, and an ev_async that wakes the
 * loop when a job finishes. A job is freed on the loop only, after its
 * done callback.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"
#include "work.h"

struct work {
	work_run_fn	*run;
	work_done_fn	*done;
	void		*arg;
	bool		 cancelled;	/* under work_lock */
	struct work	*next;
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	struct work	*head, *tail;	/* queued, oldest first */
	struct work	*finished;	/* for the loop, any order */
	size_t		 pending;	/* queued, running or finished */
	bool		 stop;
	pthread_t	*threads;
	int		 nthreads;
	struct ev_loop	*loop;
	ev_async	 async;
	bool		 inline_run;	/* tests: no threads (work_inline) */
} work = { .lock = PTHREAD_MUTEX_INITIALIZER,
	   .wake = PTHREAD_COND_INITIALIZER };

static void *
work_main(void *unused)
{
	struct work	*w;
	bool		 skip;

	(void)unused;
	pthread_mutex_lock(&work.lock);
	for (;;) {
		while (work.head == NULL && !work.stop)
			pthread_cond_wait(&work.wake, &work.lock);
		if (work.head == NULL)
			break;
		w = work.head;
		if ((work.head = w->next) == NULL)
			work.tail = NULL;
		skip = w->cancelled;
		pthread_mutex_unlock(&work.lock);
		if (!skip)
			w->run(w->arg);
		pthread_mutex_lock(&work.lock);
		w->next = work.finished;
		work.finished = w;
		ev_async_send(work.loop, &work.async);
	}
	pthread_mutex_unlock(&work.lock);
	return NULL;
}

/* on the loop: every finished job's done callback, then the job freed */
static size_t
work_finish(void)
{
	struct work	*w, *next;
	size_t		 n = 0;

	pthread_mutex_lock(&work.lock);
	w = work.finished;
	work.finished = NULL;
	pthread_mutex_unlock(&work.lock);
	for (; w != NULL; w = next) {
		next = w->next;
		/* cancelled only on the loop, so no lock is needed here */
		w->done(w->arg, w->cancelled);
		pthread_mutex_lock(&work.lock);
		work.pending--;
		pthread_mutex_unlock(&work.lock);
		free(w);
		n++;
	}
	return n;
}

static void
work_async_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)loop;
	(void)a;
	(void)revents;
	(void)work_finish();
}

void
work_inline(bool on)
{
	work.inline_run = on;
}

size_t
work_poll(void)
{
	return work_finish();
}

void
work_init(struct ev_loop *loop, int nthreads)
{
	sigset_t	all, old;
	int		i, rc;

	if (work.threads != NULL)
		fatalx("%s: twice", __func__);
	work.loop = loop;
	ev_async_init(&work.async, work_async_cb);
	ev_async_start(loop, &work.async);
	ev_unref(loop);		/* no job keeps the loop running */
	work.nthreads = nthreads;
	work.threads = xcalloc((size_t)nthreads, sizeof(*work.threads));
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nthreads; i++)
		if ((rc = pthread_create(&work.threads[i], NULL, work_main,
		    NULL)) != 0) {
			errno = rc;
			fatal("%s: pthread_create", __func__);
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
work_shutdown(void)
{
	struct work	*w;
	int		 i;

	if (work.threads == NULL)
		return;
	pthread_mutex_lock(&work.lock);
	work.stop = true;
	for (w = work.head; w != NULL; w = w->next)
		w->cancelled = true;
	pthread_cond_broadcast(&work.wake);
	pthread_mutex_unlock(&work.lock);
	for (i = 0; i < work.nthreads; i++)
		pthread_join(work.threads[i], NULL);
	free(work.threads);
	work.threads = NULL;
	/* the jobs the workers finished or skipped meet their owners */
	ev_ref(work.loop);
	work_async_cb(work.loop, &work.async, 0);
	ev_async_stop(work.loop, &work.async);
	work.stop = false;
}

struct work *
work_submit(work_run_fn *run, work_done_fn *done, void *arg)
{
	struct work	*w;

	/* a done callback of work_shutdown's may ask for more */
	if (work.stop) {
		errno = ESHUTDOWN;
		return NULL;
	}
	if (work.threads == NULL && !work.inline_run)
		fatalx("%s: no workers", __func__);
	pthread_mutex_lock(&work.lock);
	if (work.pending >= WORK_QUEUE_MAX) {
		pthread_mutex_unlock(&work.lock);
		errno = EAGAIN;
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->run = run;
	w->done = done;
	w->arg = arg;
	work.pending++;
	if (work.inline_run) {
		/* run now; done waits for work_poll, as it would for the loop */
		pthread_mutex_unlock(&work.lock);
		run(arg);
		pthread_mutex_lock(&work.lock);
		w->next = work.finished;
		work.finished = w;
		pthread_mutex_unlock(&work.lock);
		return w;
	}
	if (work.tail != NULL)
		work.tail->next = w;
	else
		work.head = w;
	work.tail = w;
	pthread_cond_signal(&work.wake);
	pthread_mutex_unlock(&work.lock);
	return w;
}

void
work_cancel(struct work *w)
{
	pthread_mutex_lock(&work.lock);
	w->cancelled = true;
	pthread_mutex_unlock(&work.lock);
}

size_t
work_pending(void)
{
	size_t	n;

	pthread_mutex_lock(&work.lock);
	n = work.pending;
	pthread_mutex_unlock(&work.lock);
	return n;
}
