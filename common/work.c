/*
 * The worker pool: a mutex-protected FIFO of jobs per queue (work.h's
 * enum work_queue), each served by its own threads, one list of
 * finished jobs for the loop, and an ev_async that wakes the loop when a
 * job finishes. A job is freed on the loop only, after its done
 * callback. Separate threads rather than one FIFO, or two served in
 * turn by the same threads: a disk job may block for seconds (an fsync
 * behind writeback) and a PBKDF2 job computes for up to a second, so
 * with shared threads two jobs of one kind would still hold every
 * worker while the other kind waits.
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
	enum work_queue	 q;
	bool		 cancelled;	/* under work_lock */
	struct work	*next;
};

/* one queue and the threads that serve it */
struct work_fifo {
	pthread_cond_t	 wake;
	struct work	*head, *tail;	/* queued, oldest first */
	size_t		 pending;	/* queued, running or finished */
};

static struct {
	pthread_mutex_t	 lock;
	struct work_fifo fifo[WORK_NQUEUES];
	struct work	*finished;	/* for the loop, any order */
	bool		 stop;
	pthread_t	*threads;	/* nthreads per queue, queue by queue */
	int		 nthreads;
	struct ev_loop	*loop;
	ev_async	 async;
	bool		 inline_run;	/* tests: no threads (work_inline) */
} work = { .lock = PTHREAD_MUTEX_INITIALIZER,
	   .fifo = { { .wake = PTHREAD_COND_INITIALIZER },
		     { .wake = PTHREAD_COND_INITIALIZER } } };

/* a worker of the queue arg points at */
static void *
work_main(void *arg)
{
	struct work_fifo	*f = arg;
	struct work		*w;
	bool			 skip;

	pthread_mutex_lock(&work.lock);
	for (;;) {
		while (f->head == NULL && !work.stop)
			pthread_cond_wait(&f->wake, &work.lock);
		if (f->head == NULL)
			break;
		w = f->head;
		if ((f->head = w->next) == NULL)
			f->tail = NULL;
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
		work.fifo[w->q].pending--;
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
	unsigned	q;

	if (work.threads != NULL)
		fatalx("%s: twice", __func__);
	work.loop = loop;
	ev_async_init(&work.async, work_async_cb);
	ev_async_start(loop, &work.async);
	ev_unref(loop);		/* no job keeps the loop running */
	work.nthreads = nthreads * WORK_NQUEUES;
	work.threads = xcalloc((size_t)work.nthreads, sizeof(*work.threads));
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < work.nthreads; i++) {
		q = (unsigned)(i / nthreads);
		if ((rc = pthread_create(&work.threads[i], NULL, work_main,
		    &work.fifo[q])) != 0) {
			errno = rc;
			fatal("%s: pthread_create", __func__);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
work_shutdown(void)
{
	struct work	*w;
	int		 i, q;

	if (work.threads == NULL)
		return;
	pthread_mutex_lock(&work.lock);
	work.stop = true;
	for (q = 0; q < WORK_NQUEUES; q++) {
		for (w = work.fifo[q].head; w != NULL; w = w->next)
			w->cancelled = true;
		pthread_cond_broadcast(&work.fifo[q].wake);
	}
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
	return work_submit_to(WORK_CPU, run, done, arg);
}

struct work *
work_submit_to(enum work_queue q, work_run_fn *run, work_done_fn *done,
    void *arg)
{
	struct work_fifo	*f = &work.fifo[q];
	struct work		*w;

	/* a done callback of work_shutdown's may ask for more */
	if (work.stop) {
		errno = ESHUTDOWN;
		return NULL;
	}
	if (work.threads == NULL && !work.inline_run)
		fatalx("%s: no workers", __func__);
	pthread_mutex_lock(&work.lock);
	if (f->pending >= WORK_QUEUE_MAX) {
		pthread_mutex_unlock(&work.lock);
		errno = EAGAIN;
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->run = run;
	w->done = done;
	w->arg = arg;
	w->q = q;
	f->pending++;
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
	if (f->tail != NULL)
		f->tail->next = w;
	else
		f->head = w;
	f->tail = w;
	pthread_cond_signal(&f->wake);
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
	size_t	n = 0;
	int	q;

	pthread_mutex_lock(&work.lock);
	for (q = 0; q < WORK_NQUEUES; q++)
		n += work.fifo[q].pending;
	pthread_mutex_unlock(&work.lock);
	return n;
}
