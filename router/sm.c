/*
 * Stream management (XEP-0198), the router's part: for a session that
 * enabled it, the stanzas sent to it that its client has not acked yet
 * (numbered here), its inbound count, hibernation while it waits for
 * resumption, the resumption itself on any c2s, and what becomes of the
 * unacked stanzas when it ends. Kept here so that a c2s crash loses none
 * of them (docs/internals.md, "Stream management").
 */
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "handover.h"
#include "router.h"

#define SM_ID_HEX	32		/* 128 random bits */

/* a stanza sent to the session, not yet acked, oldest first */
struct sm_item {
	struct sm_item	*next;
	uint32_t	 seq;
	uint8_t		 kind, type;
	uint16_t	 flags;		/* the frame's: LINK_F_STAMP_TO */
	char		*to, *from;	/* the envelope's; NULL if none */
	size_t		 len;
	char		 xml[];
};

struct sm {
	struct sess	*s;
	char		 id[SM_ID_HEX + 1];	/* "" if not resumable */
	uint32_t	 max;		/* seconds of hibernation */
	uint32_t	 seq;		/* the last number given */
	uint32_t	 acked;		/* the client acked through this */
	uint32_t	 h_in;		/* stanzas handled from the client */
	uint32_t	 anchor_h;	/* after anchor_h stanzas written to */
	uint32_t	 anchor_last;	/*   the client, ours ended here */
	struct sm_item	*head, *tail;
	size_t		 count, bytes;
	bool		 over;		/* past sm-queue-max: ending */
	struct ctimer	 timer;		/* hibernation, or the cap */
};

static int32_t
sm_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static void
sm_item_free(struct sm_item *it)
{
	free(it->to);
	free(it->from);
	free(it);
}

/* frees what the client acked, through seq */
static void
sm_drop(struct sm *sm, uint32_t seq)
{
	struct sm_item	*it;

	/* never past what was sent: a c2s cannot make us forget more */
	if (sm_diff(seq, sm->seq) > 0)
		seq = sm->seq;
	if (sm_diff(seq, sm->acked) > 0)
		sm->acked = seq;
	while ((it = sm->head) != NULL && sm_diff(it->seq, sm->acked) <= 0) {
		sm->head = it->next;
		if (sm->head == NULL)
			sm->tail = NULL;
		sm->count--;
		sm->bytes -= it->len;
		sm_item_free(it);
	}
}

static void
sm_item_append(struct sm *sm, struct sm_item *it)
{
	if (sm->tail != NULL)
		sm->tail->next = it;
	else
		sm->head = it;
	sm->tail = it;
	sm->count++;
	sm->bytes += it->len;
}

static void
sm_timer_cb(struct ctimer *t)
{
	struct sm	*sm = container_of(t, struct sm, timer);
	struct sess	*s = sm->s;

	if (sm->over) {
		log_info("session %s: %zu stanzas (%zu bytes) unacked, over "
		    "sm-queue-max", log_escs(s->full), sm->count, sm->bytes);
		if (s->rl != NULL) {
			sess_kick(s, SERR_POLICY_VIOLATION);
			return;
		}
	} else
		log_info("session %s: not resumed in %u s", log_escs(s->full),
		    sm->max);
	sess_end(s);
}

bool
sm_sent(struct sess *s, int kind, int type, uint16_t flags, const char *to,
    const char *from, const char *xml, size_t len)
{
	struct sm	*sm = s->sm;
	struct sm_item	*it;

	it = xmalloc(sizeof(*it) + len);
	it->next = NULL;
	it->seq = ++sm->seq;
	it->kind = (uint8_t)kind;
	it->type = (uint8_t)type;
	it->flags = flags;
	it->to = to != NULL ? xstrdup(to) : NULL;
	it->from = from != NULL ? xstrdup(from) : NULL;
	it->len = len;
	memcpy(it->xml, xml, len);
	sm_item_append(sm, it);
	/*
	 * Past the cap the session ends as if its client were gone, from
	 * the loop (deliveries may be walking the account's sessions). The
	 * stanza is kept meanwhile: what ends the session handles it.
	 */
	if (!sm->over && (sm->count > (size_t)router.conf.sm_queue_max ||
	    sm->bytes > router.conf.sm_queue_max_bytes)) {
		sm->over = true;
		ctimer_start(&sm->timer, 0);
	}
	return s->rl == NULL;
}

void
sm_inbound(struct sess *s)
{
	s->sm->h_in++;
}

static void
sm_free(struct sm *sm)
{
	struct sm_item	*it, *next;

	ctimer_stop(&sm->timer);
	for (it = sm->head; it != NULL; it = next) {
		next = it->next;
		sm_item_free(it);
	}
	free(sm);
}

static uint32_t
sm_max(uint32_t asked)
{
	if (asked == 0)
		return (uint32_t)router.conf.sm_resume_timeout;
	return asked < (uint32_t)router.conf.sm_resume_max ? asked :
	    (uint32_t)router.conf.sm_resume_max;
}

static void	sm_handover_take(struct sess *, struct sm *);

static void
sm_enable(struct rlink *rl, uint64_t sid, struct link_in *in)
{
	struct sess	*s;
	struct sm	*sm;
	struct link_out	 m;
	uint32_t	 flags, max, h_in, h_out;
	unsigned char	 rnd[SM_ID_HEX / 2];
	char		 id[SM_ID_HEX + 1];

	link_get_u32(in, &flags);
	link_get_u32(in, &max);
	link_get_u32(in, &h_in);
	link_get_u32(in, &h_out);
	link_get_str(in, id, sizeof(id));
	if (!link_in_done(in)) {
		link_fail(rl->l, "bad LINK_SM_ENABLE");
		return;
	}
	if ((s = sess_find(rl, sid)) == NULL) {
		log_debug("sm enable for unknown session %016llx",
		    (unsigned long long)sid);
		return;
	}
	if (s->sm != NULL) {
		log_debug("session %s: sm enabled twice", log_escs(s->full));
		return;
	}
	sm = xcalloc(1, sizeof(*sm));
	sm->s = s;
	ctimer_init(&sm->timer, sm_timer_cb);
	sm->max = sm_max(max);
	sm->h_in = h_in;
	sm->anchor_h = h_out;
	if (flags & LINK_SM_F_RESUME) {
		/*
		 * A c2s re-announcing a session after our restart keeps the
		 * id its client knows, unless another session has it now.
		 */
		if (id[0] == '\0' || map_get(router.sm_ids, id) != NULL) {
			random_bytes(rnd, sizeof(rnd));
			hex_encode(sm->id, rnd, sizeof(rnd));
		} else
			memcpy(sm->id, id, sizeof(sm->id));
		map_put(router.sm_ids, sm->id, s);
	}
	s->sm = sm;
	sm_handover_take(s, sm);	/* announced again after a restart */
	link_begin(&m, rl->l, LINK_SM_ENABLED, sid);
	link_put_str(&m, sm->id);
	link_put_u32(&m, sm->max);
	link_end(&m);
	log_info("session %s: sm enabled%s", log_escs(s->full),
	    sm->id[0] != '\0' ? ", resumable" : "");
}

static void
sm_ack(struct rlink *rl, uint64_t sid, struct link_in *in)
{
	struct sess	*s;
	uint32_t	 acked, h_in, h_out, last;

	link_get_u32(in, &acked);
	link_get_u32(in, &h_in);
	link_get_u32(in, &h_out);
	link_get_u32(in, &last);
	if (!link_in_done(in)) {
		link_fail(rl->l, "bad LINK_SM_ACK");
		return;
	}
	if ((s = sess_find(rl, sid)) == NULL || s->sm == NULL)
		return;		/* gone, or moved by a resumption */
	s->sm->h_in = h_in;
	s->sm->anchor_h = h_out;
	s->sm->anchor_last = last;
	sm_drop(s->sm, acked);
}

static void
sm_resumed_reply(struct rlink *rl, uint64_t sid, enum stanza_err err,
    const struct sess *s)
{
	struct link_out	m;

	link_begin(&m, rl->l, LINK_SM_RESUMED, sid);
	link_put_stanza_err(&m, err);
	link_put_str(&m, s != NULL ? s->full : "");
	link_put_str(&m, s != NULL ? s->sm->id : "");
	link_put_u32(&m, s != NULL ? s->sm->h_in : 0);
	link_put_u32(&m, s != NULL ? s->sm->acked : 0);
	link_put_u32(&m, s != NULL ? s->sm->max : 0);
	link_end(&m);
}

/*
 * The client's h counts what the c2s wrote to it, ours among them and
 * some of its own. From the last anchor (h_out written, the last of ours
 * among them) each stanza is taken for one of ours: the c2s anchors
 * again after each of its own, and one of ours it never wrote (a held
 * presence replaced by a newer one) only makes us keep more, so an h
 * never frees a stanza the client did not get.
 */
static uint32_t
sm_seq_of(const struct sm *sm, uint32_t h)
{
	return sm->anchor_last + (uint32_t)sm_diff(h, sm->anchor_h);
}

static void
sm_resume(struct rlink *rl, uint64_t sid, struct link_in *in)
{
	struct sess	*s;
	struct sm	*sm;
	struct sm_item	*it;
	struct link_out	 m;
	uint32_t	 h;
	char		 bare[JID_STR_MAX + 1], previd[128];

	link_get_str(in, bare, sizeof(bare));
	link_get_str(in, previd, sizeof(previd));
	link_get_u32(in, &h);
	if (!link_in_done(in)) {
		link_fail(rl->l, "bad LINK_SM_RESUME");
		return;
	}
	/*
	 * XEP-0198 5: an unknown or expired id, or another account's,
	 * is item-not-found alike: nothing tells which.
	 */
	if ((s = map_get(router.sm_ids, previd)) == NULL ||
	    strcmp(s->user->bare, bare) != 0 || s->sm->over ||
	    sess_find(rl, sid) != NULL) {
		log_info("%s: resume of %s refused", log_esc(bare,
		    strlen(bare)), log_esc(previd, strlen(previd)));
		sm_resumed_reply(rl, sid, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	sm = s->sm;
	sm_drop(sm, sm_seq_of(sm, h));
	ctimer_stop(&sm->timer);
	/* the new stream wins (XEP-0198 5); the old one is told conflict */
	sess_move(s, rl, sid);
	sm->anchor_h = h;
	sm->anchor_last = sm->acked;
	log_info("session %s resumed on c2s[%u], %zu stanzas to replay",
	    log_escs(s->full), rl->instance, sm->count);
	sm_resumed_reply(rl, sid, XERR_COUNT, s);
	for (it = sm->head; it != NULL; it = it->next) {
		link_begin(&m, rl->l, LINK_STANZA, sid);
		/* a carbon is replayed as it was sent: 'to' written in */
		link_set_flags(&m, it->flags);
		link_put_stanza(&m, it->kind, it->type, it->to, it->from,
		    it->xml, it->len);
		link_end(&m);
	}
	/*
	 * After the replay, which is older: what the new c2s tells a
	 * router that comes back after a crash
	 */
	sess_keep_send(s);
	/* a login burst that was cut short goes on, after the replay */
	sess_burst(s, false, false);
}

int
sm_frame(struct rlink *rl, const struct link_hdr *h, const char *payload)
{
	struct link_in	in;

	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_SM_ENABLE:
		sm_enable(rl, h->sid, &in);
		break;
	case LINK_SM_ACK:
		sm_ack(rl, h->sid, &in);
		break;
	case LINK_SM_RESUME:
		sm_resume(rl, h->sid, &in);
		break;
	default:
		return -1;
	}
	return 0;
}

bool
sm_hibernate(struct sess *s)
{
	struct sm	*sm = s->sm;

	if (sm == NULL || sm->id[0] == '\0' || sm->over)
		return false;
	ctimer_start(&sm->timer, sm->max);
	log_info("session %s hibernated for %u s, %zu stanzas unacked",
	    log_escs(s->full), sm->max, sm->count);
	return true;
}

struct sm *
sm_detach(struct sess *s)
{
	struct sm	*sm = s->sm;

	s->sm = NULL;
	if (sm != NULL) {
		ctimer_stop(&sm->timer);
		if (sm->id[0] != '\0' && map_get(router.sm_ids, sm->id) == s)
			map_del(router.sm_ids, sm->id);
		sm->s = NULL;
	}
	return sm;
}

void
sm_each(const struct sess *s, void (*fn)(const struct rstanza *, void *),
    void *arg)
{
	struct sm_item	*it;
	struct rstanza	 rs;

	for (it = s->sm != NULL ? s->sm->head : NULL; it != NULL;
	    it = it->next) {
		memset(&rs, 0, sizeof(rs));
		rs.kind = it->kind;
		rs.type = it->type;
		rs.to = it->to != NULL ? it->to : s->full;
		rs.from = it->from;
		rs.xml = it->xml;
		rs.xlen = it->len;
		fn(&rs, arg);
	}
}

/* what a stored stanza says of itself, read before it is routed again */
struct sm_env {
	int		 kind, type;
	char		*to, *from;
};

static void
sm_envelope(struct xnode *el, struct arena *a, void *arg)
{
	struct sm_env	*env = arg;
	const char	*v;

	(void)a;
	env->kind = stanza_kind_of(el->ns, el->name, NS_CLIENT);
	if (env->kind == -1)
		return;
	env->type = stanza_type_of(env->kind, xnode_attr(el, "type"));
	if ((v = xnode_attr(el, "to")) != NULL)
		env->to = xstrdup(v);
	if ((v = xnode_attr(el, "from")) != NULL)
		env->from = xstrdup(v);
}

/*
 * XEP-0198 5 (and 4 for a session that ends): what the client never
 * acked is not lost. A message goes where one to the gone full JID goes
 * (RFC 6121 8.5.3.2.1: another resource, or offline storage with its
 * delay stamp); an IQ is answered with an error by the same rule
 * (service-unavailable); a presence is dropped, its sender's state being
 * current anyway. Called once the session has left the tables. Each
 * stanza is parsed for its envelope first and routed after: routing may
 * parse too, and the parser is not reentrant.
 */
void
sm_unacked(struct sm *sm, const char *full)
{
	struct sm_item	*it;
	struct sm_env	 env;
	struct rstanza	 rs;
	size_t		 n = 0;

	if (sm == NULL)
		return;
	for (it = sm->head; it != NULL; it = it->next) {
		memset(&env, 0, sizeof(env));
		env.kind = -1;
		if (deliver_parse(it->xml, it->len, sm_envelope, &env) == 0 &&
		    env.kind != -1 && env.kind != KIND_PRESENCE &&
		    env.type != STANZA_TYPE_BAD && env.from != NULL) {
			memset(&rs, 0, sizeof(rs));
			rs.kind = env.kind;
			rs.type = env.type;
			rs.to = env.to != NULL ? env.to : full;
			rs.from = env.from;
			rs.xml = it->xml;
			rs.xlen = it->len;
			rs.replayed = true;
			deliver_stanza(&rs);
			n++;
		}
		free(env.to);
		free(env.from);
	}
	if (n > 0)
		log_info("session %s: %zu unacked stanzas routed again",
		    log_escs(full), n);
	sm_free(sm);
}

/* ---- the handover of a planned restart (handover.h) --------------------- */

/*
 * An attached session's unacked stanzas go to the next router, numbered
 * so that the last one this router gave is 0 (the first -count + 1): the
 * c2s, when it announces the session again, numbers its marks alike
 * (c2s/sm.c sm_enabled), so the client's acks and a later resumption
 * find them where they were, and the next router numbers on from 1.
 */
static struct map	*sm_pend;	/* full JID -> struct sm (no session) */

struct sm_put_job {
	struct buf	*b;
	size_t		 lost;
};

static int
sm_put_one(const void *key, size_t len, void *val, void *arg)
{
	struct sm_put_job	*job = arg;
	struct sess		*s = val;
	struct sm_item		*it;
	const char		*f[8];
	char			 seq[12], kind[4], type[4], flags[8];
	size_t			 before = buf_avail(job->b);
	char			*xml;
	int			 rc = 0;

	(void)key;
	(void)len;
	if (s->rl == NULL || s->sm == NULL || s->sm->head == NULL)
		return 0;
	f[0] = s->full;
	for (it = s->sm->head; it != NULL && rc == 0; it = it->next) {
		snprintf(seq, sizeof(seq), "%u", it->seq - s->sm->seq);
		snprintf(kind, sizeof(kind), "%u", it->kind);
		snprintf(type, sizeof(type), "%u", it->type);
		snprintf(flags, sizeof(flags), "%u", it->flags);
		xml = xstrndup(it->xml, it->len);
		f[1] = seq;
		f[2] = kind;
		f[3] = type;
		f[4] = flags;
		f[5] = it->to != NULL ? it->to : "";
		f[6] = it->from != NULL ? it->from : "";
		f[7] = xml;
		rc = strlen(xml) != it->len ? -1 : ho_add(job->b, HO_SMQ, 8, f);
		free(xml);
	}
	if (rc != 0) {
		/* all of a queue or none: a gap would shift the numbers */
		buf_truncate(job->b, before);
		job->lost += s->sm->count;
		log_warnx("restart: session %s: %zu unacked stanzas do not "
		    "fit in the handover; lost", log_escs(s->full),
		    s->sm->count);
	}
	return 0;
}

int
sm_handover_put(struct buf *b)
{
	struct sm_put_job	job = { b, 0 };

	map_foreach(router.by_full, sm_put_one, &job);
	return job.lost > 0 ? -1 : 0;
}

static int
sm_num(const char *s, uint32_t max, uint32_t *out)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
sm_handover_get(struct ho_rec *rec)
{
	struct sm	*sm;
	struct sm_item	*it;
	uint32_t	 seq, kind, type, flags;

	if (!domain_is_local_jid(rec->f[0]) || strchr(rec->f[0], '/') ==
	    NULL || sm_num(rec->f[1], UINT32_MAX, &seq) == -1 ||
	    sm_num(rec->f[2], KIND_IQ, &kind) == -1 ||
	    sm_num(rec->f[3], STANZA_TYPE_BAD, &type) == -1 ||
	    sm_num(rec->f[4], UINT16_MAX, &flags) == -1 ||
	    rec->len[7] == 0 || rec->len[7] > LINK_STANZA_MAX)
		return -1;
	if (sm_pend == NULL)
		sm_pend = map_new();
	if ((sm = map_get(sm_pend, rec->f[0])) == NULL) {
		sm = xcalloc(1, sizeof(*sm));
		ctimer_init(&sm->timer, sm_timer_cb);
		sm->acked = seq - 1;
		map_put(sm_pend, rec->f[0], sm);
	}
	/* one queue, in order, no gap, ending at 0 at the latest */
	if (seq != (sm->tail != NULL ? sm->tail->seq + 1 : sm->acked + 1) ||
	    sm_diff(seq, 0) > 0)
		return -1;
	it = xmalloc(sizeof(*it) + rec->len[7]);
	it->next = NULL;
	it->seq = seq;
	it->kind = (uint8_t)kind;
	it->type = (uint8_t)type;
	it->flags = (uint16_t)flags;
	it->to = rec->len[5] > 0 ? xstrdup(rec->f[5]) : NULL;
	it->from = rec->len[6] > 0 ? xstrdup(rec->f[6]) : NULL;
	it->len = rec->len[7];
	memcpy(it->xml, rec->f[7], it->len);
	sm_item_append(sm, it);
	return 0;
}

/* at LINK_SM_ENABLE: s, announced again, takes its handed-over queue */
static void
sm_handover_take(struct sess *s, struct sm *sm)
{
	struct sm	*p;

	if (sm_pend == NULL || (p = map_del(sm_pend, s->full)) == NULL)
		return;
	sm->head = p->head;
	sm->tail = p->tail;
	sm->count = p->count;
	sm->bytes = p->bytes;
	sm->acked = p->acked;
	sm->seq = 0;
	free(p);
	log_info("session %s: %zu unacked stanzas handed over",
	    log_escs(s->full), sm->count);
}

void
sm_handover_drop(void)
{
	char	**full;
	size_t	  i, n;

	if (sm_pend == NULL)
		return;
	full = handover_keys(sm_pend, &n);
	for (i = 0; i < n; i++) {
		/* as if the session had ended now: offline storage */
		sm_unacked(map_del(sm_pend, full[i]), full[i]);
		free(full[i]);
	}
	free(full);
	map_free(sm_pend, NULL);
	sm_pend = NULL;
}
