/*
 * A password turned into SCRAM credentials on a worker (common/work.c)
 * for a session's IQ: XEP-0077 password change (register.c) and the
 * XEP-0133 add-user and change-user-password commands (adhoc_cred.c).
 */
#ifndef ROUTER_PWJOB_H
#define ROUTER_PWJOB_H

#include <stdint.h>

#include "../common/jid.h"
#include "../common/scram.h"
#include "router.h"

struct pwjob;
/*
 * The job done: s is the asking session found again by full JID and
 * sid, NULL when it has gone (or the job was cancelled): a change nobody
 * can be told of is not made. j is freed, its password wiped, on return.
 */
typedef void	pwjob_done_fn(struct sess *s, const struct pwjob *j,
		    void *arg);

struct pwjob {
	char			 full[JID_STR_MAX + 1];	/* who asked */
	uint64_t		 sid;
	char			*id, *to;	/* of the IQ, to answer it */
	char			*pass;
	uint32_t		 iter;
	struct scram_creds	 c;
	int			 rc;		/* scram_creds_make's */
	pwjob_done_fn		*done;
	void			*arg;
};

/*
 * Derives pass at scram-iterations for the sender of iq, then calls done.
 * -1 when the pool is full: nothing is kept (the caller answers and
 * frees arg).
 */
int		 pwjob_submit(const struct rstanza *, const struct xnode *iq,
		    const char *pass, pwjob_done_fn *, void *arg);
/* the asked IQ again, from s, to be turned into its answer */
struct xnode	*pwjob_iq(const struct pwjob *, const struct sess *,
		    struct arena *);

#endif
