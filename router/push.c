/*
 * Push notifications (XEP-0357), the user's server's part: a device
 * registers its app server (JID, node, publish-options form), kept in one
 * document per account; a message with a body or a subscription request
 * for an account with no session that can take it now (all gone, or
 * hibernating under XEP-0198) is summarised to each registered app server
 * as a pubsub publish from the account's bare JID, at most once per
 * device per push-interval; an app server that answers with an error
 * loses its registration (docs/internals.md, "Push notifications").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "pubsub.h"
#include "router.h"

#define NS_PUSH		"urn:xmpp:push:0"
#define PUSH_SUMMARY	"urn:xmpp:push:summary"
#define PUSH_OPTIONS	NS_PUBSUB "#publish-options"
#define PUSH_NODE_MAX	1024	/* bytes of a node name */
#define PUSH_BODY_MAX	512	/* bytes of a body sent, when it is */
#define PUSH_WAIT	120	/* seconds an app server's answer is awaited */

/* what was pushed to one registration (the registrations are stored) */
struct push_dev {
	char		*jid, *node;
	double		 last;		/* when, clock_now() */
	uint32_t	 pushed;	/* the account's seq it carried */
	bool		 seen;		/* still registered at the last read */
};

/* an account owed pushes: what arrived since it was last online */
struct push_acct {
	char		*bare, *node, *domain;
	uint32_t	 seq;		/* events counted, for the devices */
	uint32_t	 msgs, subs;
	char		*sender;	/* the last message's */
	char		*body;		/* NULL unless push-body */
	struct push_dev	*devs;
	size_t		 ndevs;
	struct ctimer	 timer;		/* the next push due */
};

/* a push awaiting the app server's answer */
struct push_wait {
	char		 id[32];
	char		*node, *domain;	/* the account */
	char		*to, *pnode;	/* the registration */
	struct ctimer	 timer;
};

static struct map	*push_accts;	/* bare JID -> push_acct */
static struct map	*push_waits;	/* IQ id -> push_wait */
static uint64_t		 push_next_id;

/* ---- the registrations ------------------------------------------------- */

/*
 * The record (a document, key ""): <push xmlns='urn:xmpp:push:0'> with
 * one <reg jid node> per registration, oldest first, each holding its
 * publish-options form as the device sent it. NULL when there is none.
 */
static struct xnode *
push_regs(struct arena *a, const char *node, const char *domain)
{
	struct xnode	*root;
	char		*val;
	size_t		 len;

	if (store_doc_get(router.store, DOC_PUSH, node, domain, "", &val,
	    &len) == -1)
		return NULL;
	root = doc_parse(a, val, len);
	free(val);
	return root;
}

static int
push_save(const char *node, const char *domain, const struct xnode *root)
{
	struct buf	b;
	int		rc;

	if (xnode_child(root, NS_PUSH, "reg") == NULL)
		return store_doc_put(router.store, DOC_PUSH, node, domain, "",
		    NULL, 0);
	/* the form was measured written; attributes may escape to 6x */
	buf_init(&b, (size_t)router.conf.push_max_devices *
	    (router.conf.push_form_max_size + 6 * (JID_STR_MAX +
	    PUSH_NODE_MAX) + 64) + 64);
	if (xnode_write(&b, root, "") == -1) {
		buf_clear(&b);
		errno = EOVERFLOW;
		return -1;
	}
	rc = store_doc_put(router.store, DOC_PUSH, node, domain, "",
	    buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	return rc;
}

/* reg is jid's (and node's, unless node is NULL) */
static bool
push_reg_is(const struct xnode *reg, const char *jid, const char *node)
{
	const char	*j = xnode_attr(reg, "jid");
	const char	*n = xnode_attr(reg, "node");

	return j != NULL && n != NULL && strcmp(j, jid) == 0 &&
	    (node == NULL || strcmp(n, node) == 0);
}

/*
 * A new record in a: old's registrations but jid's (node's), the oldest
 * skip of them dropped too. *kept gets how many it holds.
 */
static struct xnode *
push_regs_but(struct arena *a, const struct xnode *old, const char *jid,
    const char *node, size_t skip, size_t *kept)
{
	struct xnode	*root = xnode_new(a, NS_PUSH, "push");
	struct xnode	*reg;

	*kept = 0;
	for (reg = xnode_child(old, NS_PUSH, "reg"); reg != NULL;
	    reg = xnode_next(reg, NS_PUSH, "reg")) {
		if (push_reg_is(reg, jid, node))
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		xnode_append(root, xnode_copy(a, reg));
		(*kept)++;
	}
	return root;
}

static size_t
push_count(const struct xnode *root, const char *jid, const char *node)
{
	const struct xnode	*reg;
	size_t			 n = 0;

	for (reg = xnode_child(root, NS_PUSH, "reg"); reg != NULL;
	    reg = xnode_next(reg, NS_PUSH, "reg"))
		if (jid == NULL || !push_reg_is(reg, jid, node))
			n++;
	return n;
}

/* removes jid's registrations (node's only, unless NULL); -1 if unsaved */
static int
push_remove(const char *node, const char *domain, const char *jid,
    const char *pnode)
{
	struct arena	 a;
	struct xnode	*old;
	size_t		 n;
	int		 rc = 0;

	arena_init(&a);
	if ((old = push_regs(&a, node, domain)) != NULL &&
	    push_count(old, jid, pnode) != push_count(old, NULL, NULL))
		rc = push_save(node, domain, push_regs_but(&a, old, jid, pnode,
		    0, &n));
	arena_free(&a);
	return rc;
}

/* the JID attribute of enable or disable, prepared; NULL if not a JID */
static const char *
push_jid_attr(struct arena *a, const struct xnode *el)
{
	const char	*s = xnode_attr(el, "jid");
	struct jid	 j;
	char		*full, *copy;

	if (s == NULL || jid_parse(&j, s) == -1)
		return NULL;
	full = jid_full(&j);
	jid_clear(&j);
	copy = arena_strdup(a, full);
	free(full);
	return copy;
}

/*
 * XEP-0357 5: enable with the app server's JID, the node and, optionally,
 * the publish-options form to send with each notification. The same JID
 * and node again replace that registration; past push-max-devices the
 * oldest goes (a reinstalled app never disables its old registration).
 */
static void
push_enable(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*en = xnode_child(iq, NS_PUSH, "enable");
	struct xnode	*x, *old, *root, *reg;
	struct xdata	 d;
	struct buf	 b;
	const char	*jid, *node, *why;
	size_t		 n, max = (size_t)router.conf.push_max_devices;
	bool		 big;

	if ((jid = push_jid_attr(a, en)) == NULL) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "jid: the app server's");
		return;
	}
	node = xnode_attr(en, "node");
	if (node == NULL || node[0] == '\0' || strlen(node) > PUSH_NODE_MAX) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "node: required");
		return;
	}
	if ((x = xnode_child(en, NULL, NULL)) != NULL) {
		/* XEP-0357 5: the one child is the publish-options form */
		why = NULL;
		if (xdata_parse(a, x, &d, &why) == -1)
			;	/* why says it */
		else if (strcmp(d.type, "submit") != 0 || d.form_type == NULL ||
		    strcmp(d.form_type, PUSH_OPTIONS) != 0)
			why = "publish-options: a submitted form of FORM_TYPE "
			    PUSH_OPTIONS;
		else if (xnode_next(x, NULL, NULL) != NULL)
			why = "one publish-options form";
		if (why != NULL) {
			iq_error(rs, iq, a, XERR_BAD_REQUEST, why);
			return;
		}
		buf_init(&b, router.conf.push_form_max_size);
		big = xnode_write(&b, x, "") == -1;
		buf_clear(&b);
		if (big) {
			iq_error(rs, iq, a, XERR_NOT_ACCEPTABLE,
			    "publish-options too large");
			return;
		}
	}
	old = push_regs(a, rs->tnode, rs->tdomain);
	n = push_count(old, jid, node);
	root = push_regs_but(a, old, jid, node, n >= max ? n - max + 1 : 0,
	    &n);
	reg = xnode_add(a, root, NS_PUSH, "reg");
	xnode_set_attr(a, reg, "jid", jid);
	xnode_set_attr(a, reg, "node", node);
	if (x != NULL)
		xnode_append(reg, xnode_copy(a, x));
	if (push_save(rs->tnode, rs->tdomain, root) == -1) {
		iq_error(rs, iq, a, errno == ENOSPC ?
		    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR,
		    NULL);
		return;
	}
	log_info("%s@%s: push enabled to %s (%zu registrations)",
	    log_escs(rs->tnode), log_escs(rs->tdomain), log_escs(jid), n + 1);
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
}

/* XEP-0357 6: disable one node of an app server, or all of its nodes */
static void
push_disable(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*dis = xnode_child(iq, NS_PUSH, "disable");
	const char	*jid, *node;

	if ((jid = push_jid_attr(a, dis)) == NULL) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "jid: the app server's");
		return;
	}
	node = xnode_attr(dis, "node");
	if (push_remove(rs->tnode, rs->tdomain, jid, node) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	log_info("%s@%s: push disabled to %s", log_escs(rs->tnode),
	    log_escs(rs->tdomain), log_escs(jid));
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
}

static void
push_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q = xnode_child(iq, NULL, NULL);

	/* XEP-0357 5: the account's own resources register its devices */
	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	if (strcmp(q->name, "enable") == 0)
		push_enable(rs, iq, a);
	else if (strcmp(q->name, "disable") == 0)
		push_disable(rs, iq, a);
	else
		iq_error(rs, iq, a, XERR_BAD_REQUEST, NULL);
}

/* ---- what is owed ------------------------------------------------------ */

static void
push_acct_free(struct push_acct *pa)
{
	size_t	i;

	ctimer_stop(&pa->timer);
	for (i = 0; i < pa->ndevs; i++) {
		free(pa->devs[i].jid);
		free(pa->devs[i].node);
	}
	free(pa->devs);
	free(pa->sender);
	free(pa->body);
	free(pa->bare);
	free(pa->node);
	free(pa->domain);
	free(pa);
}

static void
push_wait_free(struct push_wait *w)
{
	ctimer_stop(&w->timer);
	free(w->node);
	free(w->domain);
	free(w->to);
	free(w->pnode);
	free(w);
}

/* no answer: forgotten; a slow app server is not a failing one */
static void
push_wait_timeout(struct ctimer *t)
{
	struct push_wait	*w = container_of(t, struct push_wait, timer);

	log_debug("push %s to %s: no answer", w->id, log_escs(w->to));
	map_del(push_waits, w->id);
	push_wait_free(w);
}

/* the push's id; it is tracked while push-pending-max allows */
static const char *
push_track(struct push_acct *pa, const char *to, const char *pnode,
    struct arena *a)
{
	struct push_wait	*w;
	char			 id[32];

	snprintf(id, sizeof(id), "push%llx",
	    (unsigned long long)++push_next_id);
	if (push_waits == NULL)
		push_waits = map_new();
	if (map_count(push_waits) >= (size_t)router.conf.push_pending_max) {
		log_debug("push %s to %s: push-pending-max reached, its "
		    "answer is not awaited", id, log_escs(to));
		return arena_strdup(a, id);
	}
	w = xcalloc(1, sizeof(*w));
	memcpy(w->id, id, sizeof(w->id));
	w->node = xstrdup(pa->node);
	w->domain = xstrdup(pa->domain);
	w->to = xstrdup(to);
	w->pnode = xstrdup(pnode);
	ctimer_init(&w->timer, push_wait_timeout);
	ctimer_start(&w->timer, PUSH_WAIT);
	map_put(push_waits, w->id, w);
	return arena_strdup(a, id);
}

static void
push_field_u32(struct arena *a, struct xnode *x, const char *var,
    uint32_t v)
{
	xdata_add(a, x, var, NULL, NULL, arena_printf(a, "%u", v));
}

/*
 * XEP-0357 7: the publish to the app server, from the account's bare
 * JID, with the summary (XEP-0357 8 urn:xmpp:push:summary) and the
 * registration's publish-options. The routing may answer at once (an
 * error from a JID that is gone): nothing of pa's devices is used after.
 */
static void
push_send(struct push_acct *pa, const struct xnode *reg, struct arena *a)
{
	const char	*to = xnode_attr(reg, "jid"), *pnode = xnode_attr(reg,
	    "node");
	struct xnode	*iq, *ps, *el, *x, *opts;

	iq = xnode_new(a, NS_CLIENT, "iq");
	xnode_set_attr(a, iq, "type", "set");
	xnode_set_attr(a, iq, "id", push_track(pa, to, pnode, a));
	xnode_set_attr(a, iq, "to", to);
	xnode_set_attr(a, iq, "from", pa->bare);
	ps = xnode_add(a, iq, NS_PUBSUB, "pubsub");
	el = xnode_add(a, ps, NULL, "publish");
	xnode_set_attr(a, el, "node", pnode);
	el = xnode_add(a, xnode_add(a, el, NULL, "item"), NS_PUSH,
	    "notification");
	x = xdata_new(a, el, "submit", PUSH_SUMMARY);
	if (pa->msgs > 0)
		push_field_u32(a, x, "message-count", pa->msgs);
	if (pa->subs > 0)
		push_field_u32(a, x, "pending-subscription-count", pa->subs);
	if (pa->sender != NULL)
		xdata_add(a, x, "last-message-sender", NULL, NULL, pa->sender);
	if (pa->body != NULL)
		xdata_add(a, x, "last-message-body", NULL, NULL, pa->body);
	if ((opts = xnode_child(reg, NS_XDATA, "x")) != NULL)
		xnode_append(xnode_add(a, ps, NULL, "publish-options"),
		    xnode_copy(a, opts));
	log_info("%s: push %s to %s (%u messages, %u requests)",
	    log_escs(pa->bare), xnode_attr(iq, "id"), log_escs(to), pa->msgs,
	    pa->subs);
	deliver_tree(NULL, iq);
}

static struct push_dev *
push_dev_get(struct push_acct *pa, const char *jid, const char *node)
{
	struct push_dev	*d;
	size_t		 i;

	for (i = 0; i < pa->ndevs; i++)
		if (strcmp(pa->devs[i].jid, jid) == 0 &&
		    strcmp(pa->devs[i].node, node) == 0)
			return &pa->devs[i];
	pa->devs = xrealloc(pa->devs, (pa->ndevs + 1) * sizeof(*pa->devs));
	d = &pa->devs[pa->ndevs++];
	memset(d, 0, sizeof(*d));
	d->jid = xstrdup(jid);
	d->node = xstrdup(node);
	d->last = -1e9;
	return d;
}

/* the devices no longer registered are forgotten */
static void
push_devs_prune(struct push_acct *pa)
{
	size_t	i, n = 0;

	for (i = 0; i < pa->ndevs; i++) {
		if (!pa->devs[i].seen) {
			free(pa->devs[i].jid);
			free(pa->devs[i].node);
			continue;
		}
		pa->devs[n++] = pa->devs[i];
	}
	pa->ndevs = n;
}

/*
 * Each registration owed what arrived since its last push gets it now,
 * or when push-interval since that push has passed: what comes meanwhile
 * goes in that one push, counted.
 */
static void
push_timer_cb(struct ctimer *t)
{
	struct push_acct	*pa = container_of(t, struct push_acct, timer);
	struct push_dev		*d;
	struct arena		 a;
	struct xnode		*root, *reg;
	double			 now = clock_now(), due, next = -1;
	size_t			 i;

	arena_init(&a);
	if ((root = push_regs(&a, pa->node, pa->domain)) == NULL) {
		/* disabled meanwhile, or the account was deleted */
		arena_free(&a);
		map_del(push_accts, pa->bare);
		push_acct_free(pa);
		return;
	}
	for (i = 0; i < pa->ndevs; i++)
		pa->devs[i].seen = false;
	for (reg = xnode_child(root, NS_PUSH, "reg"); reg != NULL;
	    reg = xnode_next(reg, NS_PUSH, "reg")) {
		if (xnode_attr(reg, "jid") == NULL ||
		    xnode_attr(reg, "node") == NULL)
			continue;
		d = push_dev_get(pa, xnode_attr(reg, "jid"),
		    xnode_attr(reg, "node"));
		d->seen = true;
		if (d->pushed == pa->seq)
			continue;
		due = d->last + router.conf.push_interval;
		if (due > now) {
			if (next < 0 || due < next)
				next = due;
			continue;
		}
		d->last = now;
		d->pushed = pa->seq;
		push_send(pa, reg, &a);
	}
	push_devs_prune(pa);
	if (next >= 0)
		ctimer_start(&pa->timer, next - now);
	arena_free(&a);
}

/*
 * The account node@domain (bare in out) can take nothing now: no
 * available session that is not hibernating.
 */
static bool
push_idle(const char *node, const char *domain, char *bare)
{
	struct user	*u;
	struct sess	*s;

	jid_format(bare, node, domain, NULL);
	if ((u = map_get(router.by_bare, bare)) != NULL) {
		if (u->removed)
			return false;
		for (s = u->sessions; s != NULL; s = s->next)
			if (s->available && s->rl != NULL)
				return false;
	}
	return true;
}

static bool
push_registered(const char *node, const char *domain)
{
	char	*val;

	if (store_doc_get(router.store, DOC_PUSH, node, domain, "", &val,
	    NULL) == -1)
		return false;
	free(val);
	return true;
}

static struct push_acct *
push_acct_get(const char *node, const char *domain, const char *bare)
{
	struct push_acct	*pa;

	if (push_accts == NULL)
		push_accts = map_new();
	if ((pa = map_get(push_accts, bare)) != NULL)
		return pa;
	pa = xcalloc(1, sizeof(*pa));
	pa->bare = xstrdup(bare);
	pa->node = xstrdup(node);
	pa->domain = xstrdup(domain);
	ctimer_init(&pa->timer, push_timer_cb);
	map_put(push_accts, pa->bare, pa);
	return pa;
}

/* from the loop: the routing that counted it may be deep in a delivery */
static void
push_due(struct push_acct *pa)
{
	pa->seq++;
	if (!ctimer_active(&pa->timer))
		ctimer_start(&pa->timer, 0);
}

struct push_msg {
	bool	 body;
	bool	 keep;		/* push-body: the text is sent */
	char	*text;
};

/* n, or less so as not to cut a UTF-8 sequence */
static char *
push_body_cut(const char *s)
{
	size_t	n = strlen(s);

	if (n > PUSH_BODY_MAX) {
		n = PUSH_BODY_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

static void
push_msg_read(struct xnode *el, struct arena *a, void *arg)
{
	struct push_msg	*pm = arg;
	struct xnode	*b = xnode_child(el, NS_CLIENT, "body");

	if (b == NULL)
		return;
	pm->body = true;
	if (pm->keep)
		pm->text = push_body_cut(xnode_text(a, b));
}

void
push_message(const struct rstanza *rs, const char *node, const char *domain)
{
	const struct conf_host	*h;
	struct push_acct	*pa;
	struct push_msg		 pm;
	char			 bare[JID_STR_MAX + 1];

	/* XEP-0357 7: messages a user would be told of: with a body */
	if (rs->kind != KIND_MESSAGE || rs->replayed || (rs->type !=
	    MTYPE_CHAT && rs->type != MTYPE_NORMAL) ||
	    !push_idle(node, domain, bare) ||
	    memmem(rs->xml, rs->xlen, "body", 4) == NULL ||
	    !push_registered(node, domain))
		return;
	h = conf_host_find(&router.conf, domain);
	memset(&pm, 0, sizeof(pm));
	/* privacy by default: the body only where the operator says so */
	pm.keep = h != NULL && h->push_body;
	if (deliver_parse(rs->xml, rs->xlen, push_msg_read, &pm) == -1 ||
	    !pm.body) {
		free(pm.text);
		return;
	}
	pa = push_acct_get(node, domain, bare);
	pa->msgs++;
	free(pa->sender);
	pa->sender = rs->from != NULL ? xstrdup(rs->from) : NULL;
	free(pa->body);
	pa->body = pm.text;
	push_due(pa);
}

static void
push_unacked(const struct rstanza *rs, void *arg)
{
	const struct sess	*s = arg;

	push_message(rs, s->user->node, s->user->domain);
}

/*
 * A connection lost with messages unacked: its client may never have
 * seen them (a dead connection swallows what was written to it), so
 * they count as if they came now (XEP-0357 with XEP-0198, as Prosody
 * and ejabberd do).
 */
void
push_hibernated(const struct sess *s)
{
	sm_each(s, push_unacked, (void *)s);
}

void
push_subscribe(const char *node, const char *domain)
{
	struct push_acct	*pa;
	char			 bare[JID_STR_MAX + 1];

	if (!push_idle(node, domain, bare) || !push_registered(node, domain))
		return;
	pa = push_acct_get(node, domain, bare);
	pa->subs++;
	push_due(pa);
}

void
push_forget(const char *bare)
{
	struct push_acct	*pa;

	if (push_accts != NULL && (pa = map_del(push_accts, bare)) != NULL)
		push_acct_free(pa);
}

void
push_online(const struct user *u)
{
	/* it reads what waited: the counts start again */
	push_forget(u->bare);
}

struct push_answer {
	struct rstanza	*rs;
	bool		 ours;
};

static void
push_answer_read(struct xnode *iq, struct arena *a, void *arg)
{
	struct push_answer	*job = arg;
	struct rstanza		*rs = job->rs;
	struct push_wait	*w;
	const char		*id = xnode_attr(iq, "id");

	(void)a;
	/* only the app server asked answers, to the account that asked */
	if (id == NULL || (w = map_get(push_waits, id)) == NULL ||
	    strcmp(rs->from, w->to) != 0 || strcmp(rs->tnode, w->node) != 0 ||
	    strcmp(rs->tdomain, w->domain) != 0)
		return;
	job->ours = true;
	map_del(push_waits, w->id);
	/* XEP-0357 7: an error means the app server wants no more */
	if (rs->type == IQ_ERROR) {
		log_info("%s@%s: push %s refused by %s: registration removed",
		    log_escs(w->node), log_escs(w->domain), w->id,
		    log_escs(w->to));
		if (push_remove(w->node, w->domain, w->to, w->pnode) == -1)
			log_warnx("%s@%s: push registration to %s not removed",
			    log_escs(w->node), log_escs(w->domain),
			    log_escs(w->to));
	}
	push_wait_free(w);
}

bool
push_iq_answer(struct rstanza *rs)
{
	struct push_answer	job = { rs, false };

	if (push_waits == NULL || map_count(push_waits) == 0 ||
	    rs->from == NULL || rs->tnode == NULL)
		return false;
	(void)deliver_parse(rs->xml, rs->xlen, push_answer_read, &job);
	return job.ours;
}

const struct iq_handler push_handler = {
	.ns = NS_PUSH, .server = false, .account = true, .set = push_set,
};
