/*
 * A small pool of worker threads for CPU-bound jobs that must not run on
 * an event loop (PBKDF2 at high iteration counts). A job's run function
 * executes on a worker and touches only its own argument; its done
 * function runs later on the loop, once, and owns the argument again.
 */
#ifndef PARLEY_WORK_H
#define PARLEY_WORK_H

#include <stdbool.h>

#include <ev.h>

/* workers per process that has them (c2s, router) */
#define WORK_THREADS	2
/* jobs queued or running at once; past this work_submit refuses */
#define WORK_QUEUE_MAX	1024

struct work;

/* on a worker thread: no loop, no logging, no shared state */
typedef void	work_run_fn(void *arg);
/*
 * On the loop: the job ran (cancelled false) or was cancelled before or
 * while it ran (cancelled true; its result is to be dropped). Frees arg.
 */
typedef void	work_done_fn(void *arg, bool cancelled);

/* starts nthreads workers whose results come back through loop */
void		 work_init(struct ev_loop *, int nthreads);
/* stops the workers: queued jobs are cancelled, running ones awaited */
void		 work_shutdown(void);
/*
 * Queues run(arg); done(arg, ...) follows on the loop. Returns the job
 * (valid until done is called) or NULL with errno EAGAIN when the queue
 * is full, ESHUTDOWN from a done callback during work_shutdown.
 */
struct work	*work_submit(work_run_fn *, work_done_fn *, void *arg);
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
