/*
 * The group chat service of a host (XEP-0045) at its muc-name: the room
 * table, where stanzas to the service, its rooms and their occupants
 * enter (muc_route, muc_presence_route), and the one way out to real
 * JIDs, local sessions in one frame per c2s or remote ones through s2s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

static struct map	*rooms;		/* room JID -> struct muc_room */
static struct map	*joined;	/* real full JID -> struct joined */

/* the rooms one session is in, so that its end is one lookup */
struct joined {
	struct muc_room	**v;
	size_t		  n, cap;
};

static const char *const aff_names[] = {
	"outcast", "none", "member", "admin", "owner"
};
static const char *const role_names[] = {
	"none", "visitor", "participant", "moderator"
};

const char *
muc_aff_name(int aff)
{
	return aff >= 0 && aff <= AFF_OWNER ? aff_names[aff] : "none";
}

const char *
muc_role_name(int role)
{
	return role >= 0 && role <= ROLE_MODERATOR ? role_names[role] :
	    "none";
}

int
muc_aff_find(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < nitems(aff_names); i++)
		if (strcmp(s, aff_names[i]) == 0)
			return (int)i;
	return -1;
}

int
muc_role_find(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < nitems(role_names); i++)
		if (strcmp(s, role_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
muc_text(struct arena *a, const struct xnode *parent, const char *ns,
    const char *name)
{
	const struct xnode	*c = xnode_child(parent, ns, name);

	return c != NULL ? xnode_text(a, c) : NULL;
}

int
muc_aff(const struct muc_room *r, const char *bare)
{
	void	*v = map_get(r->aff, bare);

	return v != NULL ? (int)(intptr_t)v - 1 : AFF_NONE;
}

/* ---- the room table ----------------------------------------------------- */

struct muc_room *
muc_room_find(const char *jid)
{
	return rooms != NULL ? map_get(rooms, jid) : NULL;
}

struct muc_room *
muc_room_new(const char *node, const char *service, const char *creator)
{
	struct muc_room	*r = xcalloc(1, sizeof(*r));

	if (rooms == NULL)
		rooms = map_new();
	r->node = xstrdup(node);
	r->service = xstrdup(service);
	r->jid = xasprintf("%s@%s", node, service);
	r->creator = xstrdup(creator != NULL ? creator : "");
	muc_cfg_default(&r->cfg);
	r->aff = map_new();
	r->nicks = map_new();
	r->by_nick = map_new();
	r->by_full = map_new();
	random_bytes(&r->salt, sizeof(r->salt));
	map_put(rooms, r->jid, r);
	return r;
}

void
muc_salt_format(const struct muc_room *r, char *out)
{
	hex_encode(out, &r->salt, sizeof(r->salt));
}

int
muc_salt_parse(struct muc_room *r, const char *hex)
{
	unsigned char	salt[sizeof(r->salt)];
	size_t		i;

	/* sscanf alone would take one digit of "eg" */
	if (strlen(hex) != MUC_SALT_HEX ||
	    strspn(hex, "0123456789abcdefABCDEF") != MUC_SALT_HEX)
		return -1;
	for (i = 0; i < sizeof(salt); i++)
		if (sscanf(hex + 2 * i, "%2hhx", &salt[i]) != 1)
			return -1;
	memcpy(&r->salt, salt, sizeof(salt));
	return 0;
}

void
muc_room_free(struct muc_room *r)
{
	struct muc_occ	*o, *next;
	size_t		 i;

	map_del(rooms, r->jid);
	for (o = r->occ; o != NULL; o = next) {
		next = o->next;
		for (i = 0; i < o->nres; i++) {
			muc_joined(o->res[i], r, false);
			free(o->res[i]);
		}
		ctimer_stop(&o->pres_timer);
		free(o->nick);
		free(o->bare);
		free(o->extra);
		free(o);
	}
	map_free(r->aff, NULL);
	map_free(r->nicks, free);
	map_free(r->by_nick, NULL);
	map_free(r->by_full, NULL);
	muc_hist_free(r);
	muc_cfg_clear(&r->cfg);
	free(r->subject);
	free(r->subject_by);
	free(r->vcard);
	free(r->jid);
	free(r->node);
	free(r->service);
	free(r->creator);
	free(r);
}

struct count_job {
	const char	*service, *creator;
	size_t		 n, bycreator;
	void		(*fn)(struct muc_room *, void *);
	void		*arg;
};

static int
room_visit(const void *key, size_t len, void *val, void *arg)
{
	struct count_job	*job = arg;
	struct muc_room		*r = val;

	(void)key;
	(void)len;
	if (strcmp(r->service, job->service) != 0)
		return 0;
	job->n++;
	if (job->creator != NULL && strcmp(r->creator, job->creator) == 0)
		job->bycreator++;
	if (job->fn != NULL)
		job->fn(r, job->arg);
	return 0;
}

size_t
muc_room_count(const char *service, const char *creator, size_t *bycreator)
{
	struct count_job	job = { service, creator, 0, 0, NULL, NULL };

	if (rooms != NULL)
		map_foreach(rooms, room_visit, &job);
	if (bycreator != NULL)
		*bycreator = job.bycreator;
	return job.n;
}

void
muc_room_foreach(const char *service, void (*fn)(struct muc_room *, void *),
    void *arg)
{
	struct count_job	job = { service, NULL, 0, 0, fn, arg };

	if (rooms != NULL)
		map_foreach(rooms, room_visit, &job);
}

void
muc_joined(const char *full, struct muc_room *r, bool in)
{
	struct joined	*j;
	size_t		 i;

	if (joined == NULL)
		joined = map_new();
	j = map_get(joined, full);
	if (in) {
		if (j == NULL) {
			j = xcalloc(1, sizeof(*j));
			map_put(joined, full, j);
		}
		if (j->n == j->cap) {
			j->cap = j->cap ? 2 * j->cap : 4;
			j->v = xrealloc(j->v, j->cap * sizeof(*j->v));
		}
		j->v[j->n++] = r;
		return;
	}
	for (i = 0; j != NULL && i < j->n; i++)
		if (j->v[i] == r) {
			j->v[i] = j->v[--j->n];
			break;
		}
	if (j != NULL && j->n == 0) {
		map_del(joined, full);
		free(j->v);
		free(j);
	}
}

struct muc_room *const *
muc_sess_rooms(const char *full, size_t *n)
{
	struct joined	*j = joined != NULL ? map_get(joined, full) : NULL;

	*n = j != NULL ? j->n : 0;
	return j != NULL ? j->v : NULL;
}

/* RFC 6121 4.6.3 and XEP-0045 7.14: a session that ends leaves its rooms */
void
muc_sess_gone(const char *full)
{
	struct joined	*j;
	struct muc_room	*r;
	struct muc_occ	*o;

	while (joined != NULL && (j = map_get(joined, full)) != NULL) {
		r = j->v[j->n - 1];
		if ((o = muc_occ_of(r, full)) == NULL) {
			muc_joined(full, r, false);
			continue;
		}
		muc_leave(r, o, full, NULL);
	}
}

/* ---- sending ------------------------------------------------------------ */

static struct {
	int		 kind, type;
	const char	*from, *xml;
	size_t		 len;
	struct buf	 stamped;
} out;

void
muc_send_begin(int kind, int type, const char *from, const char *xml,
    size_t len)
{
	out.kind = kind;
	out.type = type;
	out.from = from;
	out.xml = xml;
	out.len = len;
	deliver_fanout_begin_each(kind, type, from, xml, len);
}

/* the bytes with to='to' written after the element's name */
static int
stamp_to(struct buf *b, const char *xml, size_t len, const char *to)
{
	size_t	n;

	for (n = 1; n < len && strchr(" />", xml[n]) == NULL; n++)
		;
	if (b->max == 0)
		buf_init(b, LINK_STANZA_MAX);
	buf_reset(b);
	return buf_append(b, xml, n) | buf_puts(b, " to='") |
	    xml_escape(b, to, strlen(to)) | buf_puts(b, "'") |
	    buf_append(b, xml + n, len - n);
}

/*
 * XEP-0191 for what a room sends: a local recipient that blocks the
 * room's or the occupant's JID (or the service's domain) does not get
 * it. Only recipients with a list pay, from the list kept in memory: no
 * store read per recipient. Remote ones are their server's to filter.
 */
static bool
sess_blocks(struct sess *s, const char *from)
{
	return s->user->blocklist && blocking_blocks_user(s->user, from);
}

bool
muc_blocked_by(const char *to, const char *from)
{
	struct sess	*s = map_get(router.by_full, to);

	return s != NULL && sess_blocks(s, from);
}

void
muc_send_to(const char *to)
{
	struct sess	*s;

	if ((s = map_get(router.by_full, to)) != NULL) {
		if (sess_blocks(s, out.from))
			return;
		deliver_to_sess(s, out.kind, out.type, to, out.from, out.xml,
		    out.len);
		return;
	}
	/*
	 * A local session that is gone has left already (muc_sess_gone).
	 * to is an envelope's JID, prepared: no jid_parse per recipient.
	 */
	if (domain_is_local_jid(to))
		return;
	if (stamp_to(&out.stamped, out.xml, out.len, to) == -1 ||
	    s2s_forward(out.kind, out.type, to, out.from,
	    buf_rptr(&out.stamped), buf_avail(&out.stamped)) == -1)
		log_debug("muc: to %s not sent: %s", log_escs(to),
		    strerror(errno));
}

void
muc_send_end(void)
{
	deliver_fanout_end();
}

void
muc_send(int kind, int type, const char *from, const char *xml, size_t len,
    const char *to)
{
	muc_send_begin(kind, type, from, xml, len);
	muc_send_to(to);
	muc_send_end();
}

void
muc_send_tree(struct xnode *el)
{
	struct buf	 b;
	const char	*to = xnode_attr(el, "to");
	int		 kind;

	kind = stanza_kind_of(el->ns, el->name, NS_CLIENT);
	if (to == NULL || kind == -1)
		return;
	xnode_set_attr(NULL, el, "to", NULL);
	buf_init(&b, LINK_STANZA_MAX);
	if (xnode_write(&b, el, NS_CLIENT) == 0)
		muc_send(kind, stanza_type_of(kind, xnode_attr(el, "type")),
		    xnode_attr(el, "from"), buf_rptr(&b), buf_avail(&b), to);
	else
		log_warnx("muc: stanza to %s too large, dropped",
		    log_escs(to));
	buf_clear(&b);
}

void
muc_error(struct muc_req *q, enum stanza_err err, const char *text)
{
	if (stanza_is_error(q->el))
		return;
	xnode_set_attr(q->a, q->el, "from", q->from);
	stanza_make_error(q->a, q->el, err, text);
	muc_send_tree(q->el);
}

/* ---- the service's own JID ---------------------------------------------- */

static bool
is_payload(const struct xnode *c, const char *ns, const char *name)
{
	return c != NULL && strcmp(c->ns, ns) == 0 &&
	    strcmp(c->name, name) == 0;
}

static void
svc_disco_info(struct muc_req *q)
{
	const struct conf_host	*h = conf_muc_find(&router.conf, q->service);
	struct xnode		*qq, *n;
	static const char *const feats[] = {
		NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING, NS_MUC_UNIQUE,
		"vcard-temp",	/* XEP-0486 3.1: rooms take a vCard */
		/* XEP-0410 3.3: rooms answer self-pings (occupant_iq) */
		NS_MUC "#self-ping-optimization",
	};
	size_t			 i;

	iq_make_result(q->el, q->a);
	qq = xnode_add(q->a, q->el, NS_DISCO_INFO, "query");
	n = xnode_add(q->a, qq, NS_DISCO_INFO, "identity");
	xnode_set_attr(q->a, n, "category", "conference");
	xnode_set_attr(q->a, n, "type", "text");
	xnode_set_attr(q->a, n, "name", h->muc_title);
	for (i = 0; i < nitems(feats); i++) {
		n = xnode_add(q->a, qq, NS_DISCO_INFO, "feature");
		xnode_set_attr(q->a, n, "var", feats[i]);
	}
	muc_send_tree(q->el);
}

struct items_job {
	struct muc_req	*q;
	struct xnode	*query;
	size_t		 n;
};

static void
svc_item(struct muc_room *r, void *arg)
{
	struct items_job	*job = arg;
	struct xnode		*it;

	/* XEP-0045 6.3: public rooms only; bounded like a disco page */
	if (!r->cfg.public || r->locked || job->n >= 1000)
		return;
	it = xnode_add(job->q->a, job->query, NS_DISCO_ITEMS, "item");
	xnode_set_attr(job->q->a, it, "jid", r->jid);
	xnode_set_attr(job->q->a, it, "name", r->cfg.name != NULL &&
	    *r->cfg.name != '\0' ? r->cfg.name : r->node);
	job->n++;
}

static void
svc_disco_items(struct muc_req *q)
{
	struct items_job	job = { q, NULL, 0 };

	if (xnode_attr(xnode_child(q->el, NULL, NULL), "node") != NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	iq_make_result(q->el, q->a);
	job.query = xnode_add(q->a, q->el, NS_DISCO_ITEMS, "query");
	muc_room_foreach(q->service, svc_item, &job);
	muc_send_tree(q->el);
}

/*
 * XEP-0045 10.1.4: a room name nobody has, for the asker to create: 128
 * random bits in hex, which no room of the service has.
 */
static void
svc_unique(struct muc_req *q)
{
	uint64_t	 rnd[2];
	char		 node[33], rjid[JID_STR_MAX + 1];
	struct xnode	*u;

	do {
		random_bytes(rnd, sizeof(rnd));
		hex_encode(node, rnd, sizeof(rnd));
		jid_format(rjid, node, q->service, NULL);
	} while (muc_room_find(rjid) != NULL);
	iq_make_result(q->el, q->a);
	u = xnode_add(q->a, q->el, NS_MUC_UNIQUE, "unique");
	xnode_add_text(q->a, u, node, strlen(node));
	muc_send_tree(q->el);
}

static void
svc_request(struct muc_req *q)
{
	struct xnode	*c = xnode_child(q->el, NULL, NULL);

	if (q->kind == KIND_PRESENCE)
		return;		/* the service takes no presence */
	if (q->kind == KIND_IQ && q->type == IQ_GET && c != NULL &&
	    strcmp(c->ns, NS_DISCO_INFO) == 0 &&
	    strcmp(c->name, "query") == 0)
		svc_disco_info(q);
	else if (q->kind == KIND_IQ && q->type == IQ_GET && c != NULL &&
	    strcmp(c->ns, NS_DISCO_ITEMS) == 0 &&
	    strcmp(c->name, "query") == 0)
		svc_disco_items(q);
	else if (q->kind == KIND_IQ && q->type == IQ_GET &&
	    is_payload(c, NS_MUC_UNIQUE, "unique"))
		svc_unique(q);
	else if (q->kind == KIND_IQ && q->type == IQ_GET && c != NULL &&
	    strcmp(c->ns, NS_PING) == 0) {
		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
	} else if (q->kind != KIND_IQ || q->type == IQ_GET ||
	    q->type == IQ_SET)
		/* RFC 6120 8.4 */
		muc_error(q, XERR_SERVICE_UNAVAILABLE, NULL);
}

/* ---- IQs to a room or an occupant --------------------------------------- */

/*
 * An IQ to an occupant JID. XEP-0410: a ping to one's own says one is
 * still joined. Others go between occupants (XEP-0045 7.5 for IQs: a
 * vCard, a version, a ping), from the sender's occupant JID to the
 * target's first session with an id of the room's, the answer back to
 * the asker with its own id (muc_iq.c).
 */
static void
occupant_iq(struct muc_req *q)
{
	struct xnode	*c = xnode_child(q->el, NULL, NULL);
	struct muc_occ	*me, *t;

	me = q->room != NULL ? muc_occ_of(q->room, q->from) : NULL;
	t = q->room != NULL ? map_get(q->room->by_nick, q->nick) : NULL;
	if (q->type != IQ_GET && q->type != IQ_SET) {
		muc_iq_answer(q);
		return;
	} else if (me == NULL) {
		muc_error(q, XERR_NOT_ACCEPTABLE, "not joined");
		return;
	} else if (is_payload(c, NS_PING, "ping") &&
	    strcmp(me->nick, q->nick) == 0) {
		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
		return;
	} else if (t == NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	muc_iq_relay(q, me, t);
}

/*
 * XEP-0313 on the room's JID: the archive engine's query, for those who
 * may enter the room (members of a members-only one, any non-outcast of
 * an open one), its results to the asking full JID.
 */
static void
room_archive(struct muc_req *q)
{
	struct rstanza	rs;
	int		aff = muc_aff(q->room, q->bare);

	if (aff == AFF_OUTCAST || (q->room->cfg.members_only &&
	    aff < AFF_MEMBER)) {
		muc_error(q, XERR_FORBIDDEN, NULL);
		return;
	}
	memset(&rs, 0, sizeof(rs));
	rs.sender = map_get(router.by_full, q->from);
	rs.kind = KIND_IQ;
	rs.type = q->type;
	rs.from = q->from;
	rs.to = q->room->jid;
	if (q->type == IQ_SET)
		mam_query_run(&rs, q->el, q->a, q->room->node,
		    q->room->service, q->from);
	else
		mam_form_run(&rs, q->el, q->a);
}

static void
room_iq(struct muc_req *q)
{
	struct xnode	*c = xnode_child(q->el, NULL, NULL);

	if (q->type != IQ_GET && q->type != IQ_SET)
		return;		/* results and errors to a room end here */
	if (q->room == NULL || c == NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	if (q->type == IQ_GET && is_payload(c, NS_DISCO_INFO, "query"))
		muc_disco_info(q, c);
	else if (q->type == IQ_GET && is_payload(c, NS_DISCO_ITEMS, "query")) {
		/* XEP-0045 6.5: occupants are not listed */
		iq_make_result(q->el, q->a);
		xnode_add(q->a, q->el, NS_DISCO_ITEMS, "query");
		muc_send_tree(q->el);
	} else if (q->type == IQ_GET && is_payload(c, NS_PING, "ping")) {
		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
	} else if (is_payload(c, NS_MUC_OWNER, "query"))
		muc_owner_iq(q, c);
	else if (is_payload(c, NS_MUC_ADMIN, "query"))
		muc_admin_iq(q, c);
	else if (is_payload(c, NS_REGISTER, "query"))
		muc_register_iq(q, c);
	else if (is_payload(c, "vcard-temp", "vCard"))
		muc_vcard_iq(q, c);
	else if (q->type == IQ_SET && is_payload(c, NS_MODERATE, "moderate"))
		muc_moderate_iq(q, c);
	else if (router.conf.archive && is_payload(c, NS_MAM, "query"))
		room_archive(q);
	else
		muc_error(q, XERR_SERVICE_UNAVAILABLE, NULL);
}

/* ---- entry -------------------------------------------------------------- */

struct entry_job {
	const char	*from, *service, *rnode, *nick;
	int		 kind, type;
};

/* links.c, around the routing of one LINK_F_MUC_REJOIN presence */
static bool	rejoining;

void
muc_rejoining(bool on)
{
	rejoining = on;
}

static void
entry_parsed(struct xnode *el, struct arena *a, void *arg)
{
	struct entry_job	*job = arg;
	struct muc_req		 q;
	struct jid		 f;
	char			 rjid[JID_STR_MAX + 1];

	memset(&q, 0, sizeof(q));
	if (jid_parse(&f, job->from) == -1)
		return;
	jid_format(q.bare, f.node, f.domain, NULL);
	q.local = f.node != NULL && conf_host_find(&router.conf,
	    f.domain) != NULL;
	jid_clear(&f);
	q.from = job->from;
	q.service = job->service;
	q.rnode = job->rnode;
	q.nick = job->nick;
	q.kind = job->kind;
	q.type = job->type;
	q.rejoin = rejoining && job->kind == KIND_PRESENCE;
	q.el = el;
	q.a = a;
	/* the real sender and the envelope's 'to', whatever the bytes said */
	xnode_set_attr(a, el, "from", job->from);
	xnode_set_attr(a, el, "to", jid_format(rjid, job->rnode,
	    job->service, job->nick));
	if (q.kind == KIND_IQ && (q.type == IQ_GET || q.type == IQ_SET) &&
	    xnode_only_child(el) == NULL) {
		/* RFC 6120 8.2.3: one payload, not the first of several */
		muc_error(&q, XERR_BAD_REQUEST, NULL);
		return;
	}
	if (job->rnode == NULL && job->nick != NULL) {
		/* a resource on the service's own JID is no room's */
		if (q.kind != KIND_PRESENCE)
			muc_error(&q, XERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (job->rnode == NULL) {
		svc_request(&q);
		return;
	}
	jid_format(rjid, job->rnode, job->service, NULL);
	q.room = muc_room_find(rjid);
	switch (q.kind) {
	case KIND_PRESENCE:
		muc_presence_in(&q);
		break;
	case KIND_MESSAGE:
		muc_message_in(&q);
		break;
	case KIND_IQ:
		if (q.nick != NULL)
			occupant_iq(&q);
		else
			room_iq(&q);
		break;
	}
}

static void
entry(const char *from, const struct jid *to, int kind, int type,
    const char *xml, size_t len)
{
	struct entry_job	job;

	if (from == NULL)
		return;
	job.from = from;
	job.service = to->domain;
	job.rnode = to->node;
	job.nick = to->resource;
	job.kind = kind;
	job.type = type;
	(void)deliver_parse(xml, len, entry_parsed, &job);
}

bool
muc_route(struct rstanza *rs, const struct jid *to)
{
	if (conf_muc_find(&router.conf, to->domain) == NULL)
		return false;
	entry(rs->from, to, rs->kind, rs->type, rs->xml, rs->xlen);
	return true;
}

bool
muc_presence_route(const char *from, const struct jid *to, int type,
    const char *xml, size_t len)
{
	if (conf_muc_find(&router.conf, to->domain) == NULL)
		return false;
	entry(from, to, KIND_PRESENCE, type, xml, len);
	return true;
}

static int
muc_first(const void *key, size_t len, void *val, void *arg)
{
	(void)key;
	(void)len;
	*(struct muc_room **)arg = val;
	return 1;
}

void
muc_clear(void)
{
	struct muc_room	*r;

	while (rooms != NULL && map_count(rooms) > 0) {
		r = NULL;
		map_foreach(rooms, muc_first, &r);
		muc_room_free(r);
	}
	map_free(rooms, NULL);
	map_free(joined, NULL);
	rooms = joined = NULL;
	muc_iq_clear();
	buf_clear(&out.stamped);
}
