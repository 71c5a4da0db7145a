/*
 * A small pool of worker threads for jobs that must not run on an event
 * loop: CPU-bound ones (PBKDF2 at high iteration counts) and disk I/O
 * (uploads). A job's run function executes on a worker and touches only
 * its own argument; its done function runs later on the loop, once, and
 * owns the argument again. Each kind has its own queue and its own
 * threads, so that neither waits behind the other: a burst of logins
 * does not delay an upload's writes, nor a large upload a login.
 */
#ifndef PARLEY_WORK_H
#define PARLEY_WORK_H

#include <stdbool.h>

#include <ev.h>

/* workers per queue in a process that has them (c2s, router) */
#define WORK_THREADS	2
/* jobs of one queue queued or running at once; past this it refuses */
#define WORK_QUEUE_MAX	1024

/* the queues: each with its own workers and its own WORK_QUEUE_MAX */
enum work_queue {
	WORK_CPU,	/* computation: PBKDF2 (logins, registration) */
	WORK_IO,	/* files: upload writes, reads, sweeps */
	WORK_NQUEUES
};

struct work;

/* on a worker thread: no loop, no logging, no shared state */
typedef void	work_run_fn(void *arg);
/*
 * On the loop: the job ran (cancelled false) or was cancelled before or
 * while it ran (cancelled true; its result is to be dropped). Frees arg.
 */
typedef void	work_done_fn(void *arg, bool cancelled);

/* starts nthreads workers per queue, whose results come back on loop */
void		 work_init(struct ev_loop *, int nthreads);
/* stops the workers: queued jobs are cancelled, running ones awaited */
void		 work_shutdown(void);
/*
 * Queues run(arg); done(arg, ...) follows on the loop. Returns the job
 * (valid until done is called) or NULL with errno EAGAIN when the queue
 * is full, ESHUTDOWN from a done callback during work_shutdown.
 */
struct work	*work_submit(work_run_fn *, work_done_fn *, void *arg);
/* the same on queue q (work_submit is WORK_CPU's) */
struct work	*work_submit_to(enum work_queue q, work_run_fn *,
		    work_done_fn *, void *arg);
/* the requester has gone: done still runs, with cancelled true */
void		 work_cancel(struct work *);
/* jobs queued or running (for tests and statistics) */
size_t		 work_pending(void);
/*
 * Tests without threads (the scenario drivers): with inline on, a job
 * runs inside work_submit and its done callback waits for work_poll,
 * which runs those of every finished job and says how many.
 */
void		 work_inline(bool);
size_t		 work_poll(void);

#endif
