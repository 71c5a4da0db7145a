/*
 * Password derivation on the work pool for a session's IQ (pwjob.h):
 * PBKDF2 at scram-iterations up to a million is about a second the
 * router's loop must not spend. The session is found again by its full
 * JID and id when the worker is done, and may have gone meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/map.h"
#include "../common/util.h"
#include "../common/work.h"
#include "pwjob.h"

static void
pwjob_free(struct pwjob *j)
{
	explicit_bzero(j->pass, strlen(j->pass));
	free(j->pass);
	free(j->id);
	free(j->to);
	explicit_bzero(&j->c, sizeof(j->c));
	free(j);
}

static void
pwjob_run(void *arg)
{
	struct pwjob	*j = arg;

	j->rc = scram_creds_make(&j->c, j->pass, j->iter);
}

static void
pwjob_ran(void *arg, bool cancelled)
{
	struct pwjob	*j = arg;
	struct sess	*s;

	s = cancelled ? NULL : map_get(router.by_full, j->full);
	if (s != NULL && s->sid != j->sid)
		s = NULL;
	j->done(s, j, j->arg);
	pwjob_free(j);
}

int
pwjob_submit(const struct rstanza *rs, const struct xnode *iq,
    const char *pass, pwjob_done_fn *done, void *arg)
{
	struct pwjob	*j;
	const char	*to;

	j = xcalloc(1, sizeof(*j));
	snprintf(j->full, sizeof(j->full), "%s", rs->sender->full);
	j->sid = rs->sender->sid;
	j->id = xstrdup(xnode_attr(iq, "id"));
	to = xnode_attr(iq, "to");
	j->to = to != NULL ? xstrdup(to) : NULL;
	j->pass = xstrdup(pass);
	j->iter = (uint32_t)router.conf.scram_iterations;
	j->done = done;
	j->arg = arg;
	if (work_submit(pwjob_run, pwjob_ran, j) == NULL) {
		pwjob_free(j);
		return -1;
	}
	return 0;
}

struct xnode *
pwjob_iq(const struct pwjob *j, const struct sess *s, struct arena *a)
{
	struct xnode	*iq;

	iq = xnode_new(a, NS_CLIENT, "iq");
	xnode_set_attr(a, iq, "type", "set");
	xnode_set_attr(a, iq, "id", j->id);
	xnode_set_attr(a, iq, "from", s->full);
	xnode_set_attr(a, iq, "to", j->to);
	return iq;
}
