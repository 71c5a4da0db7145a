/*
 * The session table: full JID -> session, bare JID -> the account's
 * online resources, (link, sid) -> session. Binding conflicts are settled
 * here: the new session wins, the old one is closed with <conflict/>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xmpp.h"
#include "ctl.h"
#include "router.h"

struct sess *
sess_find(struct rlink *rl, uint64_t sid)
{
	return map_get64(rl->sess, sid);
}

/* unlinks s from every table and frees it */
static void
sess_unlink(struct sess *s)
{
	struct user	*u = s->user;
	struct sess	**pp;
	struct sm	*sm = sm_detach(s);
	char		*full = s->full;

	/* RFC 6121 4.5: a session that ends goes unavailable, always */
	presence_gone(s);
	muc_sess_gone(s->full);
	caps_gone(s->full);
	if (s->carbons)
		u->ncarbons--;
	if (s->rl != NULL)
		map_del64(s->rl->sess, s->sid);
	if (map_get(router.by_full, s->full) == s)
		map_del(router.by_full, s->full);
	for (pp = &u->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (u->sessions == NULL) {
		map_del(router.by_bare, u->bare);
		free(u->bare);
		free(u->node);
		free(u->domain);
		free(u->photo);
		blocking_forget(u);
		free(u);
	}
	map_free(s->directed, NULL);
	free(s->presence);
	free(s);
	/* out of every table: what its client never acked goes elsewhere */
	sm_unacked(sm, full);
	free(full);
}

static int
block_any(const char *jid, void *arg)
{
	(void)jid;
	*(bool *)arg = true;
	return 1;
}

static void
sess_reply(struct rlink *rl, uint64_t sid, enum stanza_err err,
    const char *jid)
{
	struct link_out	m;

	link_begin(&m, rl->l, LINK_SESS_BOUND, sid);
	link_put_stanza_err(&m, err);	/* XERR_COUNT: bound */
	/* the c2s reads a string, never NULL: a refusal has an empty one */
	link_put_str(&m, jid != NULL ? jid : "");
	link_end(&m);
}

void
sess_kick(struct sess *s, int err)
{
	struct link_out	m;

	log_info("session %s closed: %s", log_escs(s->full),
	    stream_err_name((enum stream_err)err));
	if (s->rl != NULL) {	/* else it hibernates: no stream to close */
		link_begin(&m, s->rl->l, LINK_SESS_KICK, s->sid);
		link_put_stream_err(&m, (enum stream_err)err);
		link_end(&m);
	}
	sess_unlink(s);
}

static int
user_sessions(const struct user *u)
{
	const struct sess	*s;
	int			 n = 0;

	for (s = u->sessions; s != NULL; s = s->next)
		n++;
	return n;
}

void
sess_begin(struct rlink *rl, uint64_t sid, const char *jid)
{
	struct jid	 j;
	struct sess	*s, *old;
	struct user	*u;
	char		*bare;

	if (jid_parse(&j, jid) == -1 || j.node == NULL ||
	    j.resource == NULL) {
		sess_reply(rl, sid, XERR_JID_MALFORMED, NULL);
		return;
	}
	if ((old = sess_find(rl, sid)) != NULL)
		sess_unlink(old);	/* a c2s reusing a sid: its old one ended */
	s = xcalloc(1, sizeof(*s));
	s->rl = rl;
	s->sid = sid;
	s->full = jid_full(&j);
	bare = jid_bare(&j);
	/* RFC 6120 7.6.2.1: a limit on the account's resources */
	if (map_get(router.by_full, s->full) == NULL &&
	    (u = map_get(router.by_bare, bare)) != NULL &&
	    user_sessions(u) >= router.conf.max_resources) {
		log_info("%s: max-resources (%d) reached, %s refused",
		    log_escs(bare), router.conf.max_resources,
		    log_escs(s->full));
		free(s->full);
		free(s);
		free(bare);
		jid_clear(&j);
		sess_reply(rl, sid, XERR_RESOURCE_CONSTRAINT, NULL);
		return;
	}
	/* RFC 6120 7.7.2.2: the new session wins the resource */
	if ((old = map_get(router.by_full, s->full)) != NULL)
		sess_kick(old, SERR_CONFLICT);
	if ((u = map_get(router.by_bare, bare)) == NULL) {
		u = xcalloc(1, sizeof(*u));
		u->bare = bare;
		u->node = xstrdup(j.node);
		u->domain = xstrdup(j.domain);
		(void)store_block_list(router.store, u->node, u->domain,
		    block_any, &u->blocklist);
		map_put(router.by_bare, bare, u);
	} else
		free(bare);
	s->user = u;
	s->next = u->sessions;
	u->sessions = s;
	map_put(router.by_full, s->full, s);
	map_put64(rl->sess, sid, s);
	jid_clear(&j);
	log_info("session %s bound on c2s[%u]", log_escs(s->full),
	    rl->instance);
	sess_reply(rl, sid, XERR_COUNT, s->full);
}

void
sess_end(struct sess *s)
{
	log_info("session %s ended", log_escs(s->full));
	sess_unlink(s);
}

static int
sess_collect(const void *key, size_t len, void *val, void *arg)
{
	struct sess	***pp = arg;

	(void)key;
	(void)len;
	*(*pp)++ = val;
	return 0;
}

/* the link to a c2s dropped: its sessions are gone */
void
sess_end_all(struct rlink *rl)
{
	struct sess	**v, **p;
	size_t		  n, i, kept = 0;

	if (rl->sess == NULL || (n = map_count(rl->sess)) == 0)
		return;
	v = p = xcalloc(n, sizeof(*v));
	map_foreach(rl->sess, sess_collect, &p);
	for (i = 0; i < n; i++)
		if (sess_lost(v[i]))
			kept++;
	free(v);
	log_info("c2s[%u] gone: %zu sessions ended, %zu hibernated",
	    rl->instance, n - kept, kept);
}

int
router_account_remove(const char *node, const char *domain)
{
	struct roster_item	*items;
	struct user		*u;
	char			 bare[JID_STR_MAX + 1];
	size_t			 n, i;
	int			 saved;

	items = roster_snapshot(node, domain, &n);
	if (store_account_del(router.store, node, domain) == -1) {
		saved = errno;
		roster_snapshot_free(items, n);
		errno = saved;
		return -1;
	}
	/* the sessions are still here to say unavailable to the contacts */
	jid_format(bare, node, domain, NULL);
	pep_account_gone(bare);
	push_forget(bare);
	log_debug("account %s removed: %zu contacts to tell", log_esc(bare, strlen(bare)),
	    n);
	/*
	 * Nothing is written for it after this: its sessions, closed next,
	 * must not leave a last-activity record behind (XEP-0012) for a
	 * new account of the same name to inherit.
	 */
	if ((u = map_get(router.by_bare, bare)) != NULL)
		u->removed = true;
	for (i = 0; i < n; i++)
		presence_roster_removed(bare, u, &items[i]);
	roster_snapshot_free(items, n);
	return 0;
}

/*
 * A login burst (RFC 6121 4.2.2, 4.3, 3.1.3; XEP-0160) can be far larger
 * than a link's queue: a big roster, many stored requests, a mailbox of
 * large offline messages. It goes step by step; a step that finds the
 * link congested stops where it is and the session waits on the link's
 * list until the link drains (sess_burst_resume), instead of queueing
 * past the cap, which would close the link and every session on it.
 */
static void
sess_wait(struct sess *s)
{
	struct rlink	*rl = s->rl;

	if (s->waiting)
		return;
	if (rl->nwait == rl->capwait) {
		rl->capwait = rl->capwait ? 2 * rl->capwait : 16;
		rl->wait = xrealloc(rl->wait, rl->capwait *
		    sizeof(*rl->wait));
	}
	rl->wait[rl->nwait++] = s->sid;
	s->waiting = true;
}

static void
sess_burst_run(struct sess *s)
{
	int	held;

	while (s->burst != BURST_NONE) {
		switch (s->burst) {
		case BURST_OWN:
			held = presence_burst_own(s);
			break;
		case BURST_PROBES:
			held = presence_burst_probes(s);
			break;
		case BURST_PENDING:
			held = presence_burst_pending(s);
			break;
		case BURST_OFFLINE:
			held = s->burst_offline ? offline_deliver(s) : 0;
			break;
		default:
			s->burst = BURST_NONE;
			return;
		}
		if (held) {
			sess_wait(s);
			return;
		}
		if (s->burst == BURST_OFFLINE)
			s->burst_offline = false;
		s->burst++;
		s->burst_pos = 0;
	}
}

void
sess_burst(struct sess *s, bool owed_login, bool owed_offline)
{
	if (owed_offline)
		s->burst_offline = true;
	if (owed_login) {
		s->burst = BURST_OWN;
		s->burst_pos = 0;
	} else if (owed_offline && (s->burst == BURST_NONE ||
	    s->burst > BURST_OFFLINE)) {
		s->burst = BURST_OFFLINE;
		s->burst_pos = 0;
	}
	if (!s->waiting)
		sess_burst_run(s);
}

bool
sess_lost(struct sess *s)
{
	if (!sm_hibernate(s)) {
		sess_end(s);
		return false;
	}
	/* XEP-0198 5: still available to its contacts, stanzas kept */
	map_del64(s->rl->sess, s->sid);
	s->rl = NULL;
	s->waiting = false;
	if (s->burst != BURST_NONE)
		sess_burst_run(s);
	push_hibernated(s);
	return true;
}

void
sess_move(struct sess *s, struct rlink *rl, uint64_t sid)
{
	struct link_out	m;

	if (s->rl != NULL) {
		log_info("session %s: the resumed stream replaces the old",
		    log_escs(s->full));
		link_begin(&m, s->rl->l, LINK_SESS_KICK, s->sid);
		link_put_stream_err(&m, SERR_CONFLICT);
		link_end(&m);
		map_del64(s->rl->sess, s->sid);
	}
	s->rl = rl;
	s->sid = sid;
	s->waiting = false;
	map_put64(rl->sess, sid, s);
	push_online(s->user);
}

void
sess_burst_resume(struct rlink *rl)
{
	struct sess	*s;
	uint64_t	*v = rl->wait;
	size_t		 n = rl->nwait, i;

	/* a session may wait again: on a fresh list */
	rl->wait = NULL;
	rl->nwait = rl->capwait = 0;
	for (i = 0; i < n; i++) {
		if ((s = sess_find(rl, v[i])) == NULL || !s->waiting)
			continue;
		s->waiting = false;
		sess_burst_run(s);
	}
	free(v);
}

/* every session of keep's account but keep is closed with stream error err */
void
router_user_others_end(struct sess *keep, int err)
{
	struct sess	*o;

	/* keep stays, so the user does too */
	for (;;) {
		for (o = keep->user->sessions; o != NULL && o == keep;
		    o = o->next)
			;
		if (o == NULL)
			break;
		sess_kick(o, err);
	}
}

/* parleyctl changed or removed an account: its sessions must not outlive it */
void
router_user_changed(const char *node, const char *domain)
{
	struct user		*u;
	char			 bare[JID_STR_MAX + 1];

	jid_format(bare, node, domain, NULL);
	/* a removed account's sessions write nothing as they end (removed) */
	while ((u = map_get(router.by_bare, bare)) != NULL)
		sess_kick(u->sessions, SERR_NOT_AUTHORIZED);
}
