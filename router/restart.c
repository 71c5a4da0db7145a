/*
 * A planned restart of the router (parleyctl restart router): nothing
 * the router was handed is lost and no client connection drops
 * (docs/internals.md, "Router restart").
 *
 * 1. LINK_QUIESCE goes to every c2s and s2s process: each stops sending
 *    us stanzas (it holds what its clients and peers send, their reading
 *    paused) and answers LINK_QUIESCED. A link keeps order, so once it
 *    has answered, every stanza sent on it has been handled here.
 * 2. When every link has answered, or after RESTART_QUIESCE_WAIT seconds
 *    (a process that is stopped or stuck must not hold the restart up),
 *    the hibernated XEP-0198 sessions end as their timeout would end
 *    them: what their clients never acked is routed again, to another
 *    resource or to offline storage (sm_unacked), since only our memory
 *    holds it. Storage is committed.
 * 3. From then on frames from the processes are dropped (none can be a
 *    stanza: they hold those), and what is queued to them is written,
 *    for at most RESTART_FLUSH_WAIT seconds (a peer that reads nothing
 *    does not keep us). The processes that answered are written to
 *    RESTART_FILE in the run directory, and the router exits with
 *    PROC_EXIT_RESTART; parleyd starts the binary now installed at once.
 * 4. Each process links to the new router, announces its sessions and
 *    says LINK_QUIESCED again: it holds stanzas. The new router sends
 *    every one LINK_RELEASE once all those RESTART_FILE names have done
 *    so (or after RESTART_GATHER_WAIT seconds): a stanza released
 *    earlier would find its recipient's session, on a worker not yet
 *    back, missing, and go to offline storage instead.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/util.h"
#include "../storage/store.h"
#include "ctl.h"
#include "router.h"

enum restart_state {
	RESTART_NONE,
	RESTART_QUIESCING,	/* LINK_QUIESCE sent, answers awaited */
	RESTART_FLUSHING	/* writing out what is queued, then exit */
};

static enum restart_state	restart_state;
static size_t			restart_nwait;	/* links yet to answer */
static struct ctimer		restart_timer;
static double			restart_deadline; /* of the flush */
static int			restart_status;	/* main's exit status */

/* step 4: the processes awaited (from RESTART_FILE), by role and instance */
struct restart_peer {
	uint32_t	role, instance;
};
static struct restart_peer	*restart_expect;
static size_t			 restart_nexpect;
static bool			 restart_gathering;
static struct ctimer		 restart_gather;

static void	restart_flush(void);
static void	restart_gathered(const char *);

/* hibernated sessions (no link) of router.sm_ids */
struct restart_walk {
	struct sess	**v;
	size_t		  n, cap;
};

static int
restart_collect(const void *key, size_t len, void *val, void *arg)
{
	struct restart_walk	*w = arg;
	struct sess		*s = val;

	(void)key;
	(void)len;
	if (s->rl != NULL)
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n++] = s;
	return 0;
}

/* step 2: what only our memory holds goes where it survives */
static void
restart_hibernated_end(void)
{
	struct restart_walk	w = { NULL, 0, 0 };
	size_t			i;

	map_foreach(router.sm_ids, restart_collect, &w);
	for (i = 0; i < w.n; i++)
		sess_end(w.v[i]);	/* sm_unacked: offline storage */
	free(w.v);
	if (w.n > 0)
		log_info("restart: %zu hibernated sessions ended, their "
		    "unacked stanzas routed again", w.n);
}

/* the processes that answered, for the next router (step 4) */
static void
restart_file_write(void)
{
	struct rlink	*rl;
	FILE		*f;
	char		 path[PATH_MAX], tmp[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/%s", router.conf.rundir,
	    RESTART_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("restart: %s", tmp);
		return;
	}
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl->answered && !rl->l->failed)
			fprintf(f, "%s %u\n", rl->role == LINK_ROLE_C2S ?
			    "c2s" : "s2s", rl->instance);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warn("restart: %s", path);
		(void)unlink(tmp);
	}
}

static void
restart_finish(void)
{
	struct rlink	*rl;

	ctimer_stop(&restart_timer);
	if (restart_nwait > 0)
		log_warnx("restart: %zu processes did not answer in %.0f s; "
		    "going on", restart_nwait, RESTART_QUIESCE_WAIT);
	for (rl = router.links; rl != NULL; rl = rl->next)
		rl->quiescing = false;
	restart_nwait = 0;
	restart_file_write();
	restart_hibernated_end();
	(void)store_flush(router.store);	/* logged */
	restart_state = RESTART_FLUSHING;
	restart_deadline = clock_now() + RESTART_FLUSH_WAIT;
	ctimer_start(&restart_timer, 0);
}

/* the wait for the answers ended, or the next look at the queues */
static void
restart_timer_cb(struct ctimer *t)
{
	(void)t;
	if (restart_state == RESTART_QUIESCING)
		restart_finish();
	else
		restart_flush();
}

/* step 3: every process link's queue written, or the deadline passed */
static void
restart_flush(void)
{
	struct rlink	*rl;
	size_t		 left = 0;

	for (rl = router.links; rl != NULL; rl = rl->next) {
		if (rl->role == LINK_ROLE_CTL || rl->l->failed)
			continue;
		link_flush(rl->l);
		if (buf_avail(&rl->l->out) > 0 || rl->l->tls_retry)
			left++;
	}
	if (left > 0 && clock_now() < restart_deadline) {
		ctimer_start(&restart_timer, RESTART_FLUSH_STEP);
		return;
	}
	if (left > 0)
		log_warnx("restart: %zu links not written out in %.0f s",
		    left, RESTART_FLUSH_WAIT);
	log_info("restart: quiesced; exiting for parleyd to start the "
	    "router again");
	restart_status = PROC_EXIT_RESTART;
	ev_break(router.loop, EVBREAK_ALL);
}

int
restart_begin(void)
{
	struct rlink	*rl;
	struct link_out	 m;

	if (restart_state != RESTART_NONE)
		return -1;
	/*
	 * Still gathering after the last restart: the holders are released
	 * first, so that each answers this LINK_QUIESCE as any process does
	 * (what it sends before its answer is handled before the exit)
	 */
	restart_gathered("another restart");
	restart_state = RESTART_QUIESCING;
	for (rl = router.links; rl != NULL; rl = rl->next) {
		if ((rl->role != LINK_ROLE_C2S && rl->role != LINK_ROLE_S2S) ||
		    rl->preauth || !rl->l->hello_heard || rl->l->failed)
			continue;
		link_begin(&m, rl->l, LINK_QUIESCE, 0);
		if (link_end(&m) == -1)
			continue;	/* failed: nothing to wait for */
		rl->quiescing = true;
		restart_nwait++;
	}
	log_info("restart: planned; %zu processes told to quiesce",
	    restart_nwait);
	ctimer_init(&restart_timer, restart_timer_cb);
	ctimer_start(&restart_timer, restart_nwait > 0 ?
	    RESTART_QUIESCE_WAIT : 0);
	return 0;
}

static void
restart_answered(struct rlink *rl)
{
	rl->quiescing = false;
	if (--restart_nwait == 0)
		restart_finish();
}

static void
restart_release(struct rlink *rl)
{
	struct link_out	m;

	rl->holding = false;
	link_begin(&m, rl->l, LINK_RELEASE, 0);
	(void)link_end(&m);
}

/* step 4 is over: everyone holding sends what it held */
static void
restart_gathered(const char *why)
{
	struct rlink	*rl;

	if (!restart_gathering)
		return;
	restart_gathering = false;
	ctimer_stop(&restart_gather);
	log_info("restart: %s; releasing held stanzas", why);
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl->holding && !rl->l->failed)
			restart_release(rl);
	free(restart_expect);
	restart_expect = NULL;
	restart_nexpect = 0;
}

static void
restart_gather_cb(struct ctimer *t)
{
	(void)t;
	log_warnx("restart: %zu processes not back in %.0f s",
	    restart_nexpect, RESTART_GATHER_WAIT);
	restart_gathered("the wait is over");
}

/* a process holding stanzas linked to us, its sessions announced */
static void
restart_holding(struct rlink *rl)
{
	size_t	i;

	if (!restart_gathering) {
		restart_release(rl);
		return;
	}
	rl->holding = true;
	for (i = 0; i < restart_nexpect; i++) {
		if (restart_expect[i].role != rl->role ||
		    restart_expect[i].instance != rl->instance)
			continue;
		restart_expect[i] = restart_expect[--restart_nexpect];
		break;
	}
	if (restart_nexpect == 0)
		restart_gathered("every process is back");
}

int
restart_quiesced(struct rlink *rl, const struct link_hdr *h)
{
	if (h->len != 0 || h->sid != 0 || (rl->role != LINK_ROLE_C2S &&
	    rl->role != LINK_ROLE_S2S) || rl->holding || rl->answered) {
		log_warnx("%s: LINK_QUIESCED malformed or said twice",
		    rl->l->name);
		return -1;
	}
	if (rl->quiescing) {
		rl->answered = true;
		restart_answered(rl);
	} else if (restart_state == RESTART_NONE)
		restart_holding(rl);
	/* else it linked while we stop: the next router releases it */
	return 0;
}

void
restart_init(void)
{
	FILE		*f;
	char		 path[PATH_MAX], role[8];
	unsigned int	 inst;

	ctimer_init(&restart_gather, restart_gather_cb);
	snprintf(path, sizeof(path), "%s/%s", router.conf.rundir,
	    RESTART_FILE);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("restart: %s", path);
		return;
	}
	while (fscanf(f, "%7s %u", role, &inst) == 2) {
		if (strcmp(role, "c2s") != 0 && strcmp(role, "s2s") != 0)
			break;
		restart_expect = xrealloc(restart_expect,
		    (restart_nexpect + 1) * sizeof(*restart_expect));
		restart_expect[restart_nexpect].role = role[0] == 'c' ?
		    LINK_ROLE_C2S : LINK_ROLE_S2S;
		restart_expect[restart_nexpect++].instance = inst;
	}
	fclose(f);
	(void)unlink(path);	/* read once: a later crash waits for none */
	if (restart_nexpect == 0)
		return;
	restart_gathering = true;
	ctimer_start(&restart_gather, RESTART_GATHER_WAIT);
	log_info("restart: waiting for %zu processes to announce their "
	    "sessions", restart_nexpect);
}

void
restart_link_gone(struct rlink *rl)
{
	if (rl->quiescing)
		restart_answered(rl);
}

bool
restart_stopping(void)
{
	return restart_state == RESTART_FLUSHING;
}

int
restart_exit_status(void)
{
	return restart_status;
}
