/*
 * Conversions between PEP and the older stores of the same data, so that
 * an old and a new client of one account agree:
 *
 * - avatars (XEP-0398): a publish to the XEP-0084 metadata node puts the
 *   image of the data node into the vCard PHOTO (XEP-0054); a vCard with
 *   a PHOTO publishes both nodes; the XEP-0153 hash of the vCard photo
 *   goes into the user's available presence;
 * - bookmarks (XEP-0402 with its compatibility rules, XEP-0411): the
 *   items of 'urn:xmpp:bookmarks:1' and the XEP-0048 list in private XML
 *   (XEP-0049) and in the PEP node 'storage:bookmarks' are kept the same.
 *
 * Each conversion is one storage batch, written whole or not at all: a
 * size limit passed skips it (logged), never half of it. It writes to
 * the stores directly, never through the request handlers, so that a
 * conversion never sets off the reverse one. Notifications of what it
 * published go out once the batch is committed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/base64.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "pubsub.h"
#include "router.h"

#define NS_VCARD		"vcard-temp"
#define NS_VCARD_UPDATE		"vcard-temp:x:update"
#define NS_AVATAR_DATA		"urn:xmpp:avatar:data"
#define NS_AVATAR_META		"urn:xmpp:avatar:metadata"
#define NS_BOOKMARKS		"urn:xmpp:bookmarks:1"
#define NS_BOOKMARKS_OLD	"storage:bookmarks"
#define BOOKMARKS_DOC		"{" NS_BOOKMARKS_OLD "}storage"
#define BOOKMARKS_OLD_ID	"current"	/* XEP-0048 3.3 */
#define SHA1_LEN		20
/* XEP-0084 4.2: a type is required; PNG is the one all must support */
#define AVATAR_TYPE_DEFAULT	"image/png"

/* XEP-0398 2, XEP-0402 6 */
static const char *const compat_features[] = {
	"urn:xmpp:pep-vcard-conversion:0",
	NS_BOOKMARKS "#compat",
	NS_BOOKMARKS "#compat-pep",
};

/* an event of a conversion, sent once the batch is committed */
struct cv_event {
	struct ps_node	 n;
	enum ps_event	 ev;
	struct xnode	*item;
	const char	*id;
};

/* one conversion of one account's data */
struct conv {
	struct ps_service	 svc;
	struct arena		*a;
	const char		*what;		/* for the log */
	struct cv_event		*ev;
	size_t			 nev, cap;
	const char		*hash;		/* a new XEP-0153 hash */
};

/* ---- the batch ---------------------------------------------------------- */

static void
conv_init(struct conv *cv, const char *node, const char *domain,
    const char *what, struct arena *a)
{
	char	bare[JID_STR_MAX + 1];

	memset(cv, 0, sizeof(*cv));
	jid_format(bare, node, domain, NULL);
	cv->svc.owner = node;
	cv->svc.domain = domain;
	cv->svc.jid = arena_strdup(a, bare);
	cv->svc.pep = true;
	cv->a = a;
	cv->what = what;
}

static void
conv_event(struct conv *cv, const struct ps_node *n, enum ps_event ev,
    struct xnode *item, const char *id)
{
	struct cv_event	*v;

	if (cv->nev == cv->cap) {
		cv->cap = cv->cap ? 2 * cv->cap : 8;
		v = arena_alloc(cv->a, cv->cap * sizeof(*v));
		if (cv->nev > 0)
			memcpy(v, cv->ev, cv->nev * sizeof(*v));
		cv->ev = v;
	}
	v = &cv->ev[cv->nev++];
	v->n = *n;
	v->ev = ev;
	v->item = item;
	/* sent after the batch: nothing of the caller's stack */
	v->id = id != NULL ? arena_strdup(cv->a, id) : NULL;
}

/*
 * Runs fn in one batch, again while the map grows (store.h); then sends
 * its events and takes its new photo hash. A failure is logged: the
 * conversion is skipped, the request that set it off stands.
 */
static void
conv_run(struct conv *cv, int (*fn)(struct conv *, const void *),
    const void *arg)
{
	struct user	*u;
	size_t		 i;
	int		 rc, err;

	do {
		cv->nev = 0;
		cv->hash = NULL;
		if ((rc = store_begin(router.store)) == -1)
			break;
		if ((rc = fn(cv, arg)) == 0)
			rc = store_commit(router.store);
		else {
			err = errno;
			store_abort(router.store);
			errno = err;
		}
	} while (rc == -1 && errno == EAGAIN);
	if (rc == -1) {
		log_info("%s: %s skipped: %s", log_escs(cv->svc.jid), cv->what,
		    errno == EMSGSIZE ? "past a size limit" :
		    errno == EDQUOT ? "past a quota" : strerror(errno));
		return;
	}
	if (cv->hash != NULL &&
	    (u = map_get(router.by_bare, cv->svc.jid)) != NULL) {
		free(u->photo);
		u->photo = xstrdup(cv->hash);
	}
	for (i = 0; i < cv->nev; i++)
		pep_notify(&cv->svc, &cv->ev[i].n, cv->ev[i].ev,
		    cv->ev[i].item, cv->ev[i].id, cv->a);
}

/* the node, created with conf (NULL: ENOENT if there is none) */
static int
conv_node(struct conv *cv, const char *name, const struct ps_conf *conf,
    struct ps_node *n)
{
	if (ps_node_load(cv->a, &cv->svc, name, n) == 0)
		return 0;
	if (errno != ENOENT || conf == NULL)
		return -1;
	n->name = name;
	n->nid = 0;
	n->conf = *conf;
	return ps_node_put(&cv->svc, n);
}

/* publishes payload as item id of n, within pubsub-item-max-size */
static int
conv_put(struct conv *cv, const struct ps_node *n, const char *id,
    const struct xnode *payload)
{
	struct pubsub_item	 it;
	struct xnode		*item;
	struct buf		 b;
	int			 rc = 0, err;

	buf_init(&b, router.conf.pubsub_item_max_size);
	if (xnode_write(&b, payload, "") == -1) {
		buf_clear(&b);
		errno = EMSGSIZE;
		return -1;
	}
	if (n->conf.persist) {
		memset(&it, 0, sizeof(it));
		it.id = (char *)id;
		it.publisher = (char *)cv->svc.jid;
		it.xml = (char *)buf_rptr(&b);
		it.len = buf_avail(&b);
		rc = store_pubsub_item_put(router.store, cv->svc.owner,
		    cv->svc.domain, n->nid, &it, ps_conf_max_items(&n->conf));
	}
	err = errno;
	buf_clear(&b);
	if (rc == -1) {
		errno = err;
		return -1;
	}
	item = xnode_new(cv->a, NS_PUBSUB, "item");
	xnode_set_attr(cv->a, item, "id", id);
	xnode_append(item, xnode_copy(cv->a, payload));
	conv_event(cv, n, PS_EV_ITEMS, item, id);
	return 0;
}

/* the payload of a stored item, parsed; NULL for none */
static struct xnode *
item_payload(struct arena *a, const struct pubsub_item *it)
{
	return it->len > 0 ? doc_parse(a, it->xml, it->len) : NULL;
}

struct newest {
	struct arena	*a;
	struct xnode	*payload;
};

static int
newest_one(const struct pubsub_item *it, void *arg)
{
	struct newest	*nw = arg;

	nw->payload = item_payload(nw->a, it);
	return 1;
}

/* the payload of the newest item of n; NULL for none */
static int
node_newest(struct conv *cv, const struct ps_node *n, struct xnode **payload)
{
	struct newest	nw = { cv->a, NULL };

	if (store_pubsub_items(router.store, cv->svc.owner, cv->svc.domain,
	    n->nid, 1, newest_one, &nw) == -1)
		return -1;
	*payload = nw.payload;
	return 0;
}

/* ---- avatars (XEP-0398, XEP-0084, XEP-0153) ----------------------------- */

/* the base64 of a vCard or a data item without the whitespace it folds */
static char *
b64_strip(struct arena *a, const char *s, size_t *len)
{
	char	*out = arena_alloc(a, strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			*o++ = *s;
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/*
 * Decodes b64 (stripped) and hashes the image: its SHA-1 in hex into id,
 * the size into bytes. -1 when it is not base64 or is larger than a
 * vCard may be.
 */
static int
image_hash(const char *b64, size_t len, char id[2 * SHA1_LEN + 1],
    size_t *bytes)
{
	struct buf	img;
	uint8_t		dig[SHA1_LEN];
	int		rc = -1;

	/* an image a vCard cannot hold is not converted */
	if (len / 4 * 3 > router.conf.vcard_max_size) {
		errno = EMSGSIZE;
		return -1;
	}
	errno = EINVAL;
	buf_init(&img, router.conf.vcard_max_size);
	if (len > 0 && base64_decode(&img, b64, len) == 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, buf_rptr(&img), buf_avail(&img),
	    dig) == 0) {
		hex_encode(id, dig, SHA1_LEN);
		id[2 * SHA1_LEN] = '\0';
		*bytes = buf_avail(&img);
		rc = 0;
	}
	buf_clear(&img);
	return rc;
}

struct photo {
	const char	*type;
	const char	*b64;
	size_t		 len;
	size_t		 bytes;
	char		 id[2 * SHA1_LEN + 1];
};

/* the vCard's PHOTO (BINVAL, not EXTVAL): 1, 0 none, -1 not base64 */
static int
vcard_photo(struct arena *a, const struct xnode *card, struct photo *p)
{
	const struct xnode	*ph, *bin, *t;

	if ((ph = xnode_child(card, NS_VCARD, "PHOTO")) == NULL ||
	    (bin = xnode_child(ph, NS_VCARD, "BINVAL")) == NULL)
		return 0;
	p->b64 = b64_strip(a, xnode_text(a, bin), &p->len);
	if (p->len == 0)
		return 0;
	if (image_hash(p->b64, p->len, p->id, &p->bytes) == -1)
		return -1;
	t = xnode_child(ph, NS_VCARD, "TYPE");
	p->type = t != NULL ? xnode_text(a, t) : "";
	if (*p->type == '\0')
		p->type = AVATAR_TYPE_DEFAULT;
	return 1;
}

/* the hash of the account's vCard photo: "" none, NULL unreadable */
static const char *
avatar_hash(struct user *u)
{
	struct arena	 a;
	struct xnode	*card;
	struct photo	 p;
	char		*val;
	size_t		 len;

	if (u->photo != NULL)
		return u->photo;
	if (store_doc_get(router.store, DOC_VCARD, u->node, u->domain, "",
	    &val, &len) == -1) {
		if (errno == ENOENT)
			u->photo = xstrdup("");
		return u->photo;
	}
	arena_init(&a);
	card = doc_parse(&a, val, len);
	free(val);
	if (card != NULL)
		u->photo = xstrdup(vcard_photo(&a, card, &p) == 1 ? p.id : "");
	arena_free(&a);
	return u->photo;
}

/*
 * XEP-0398 4: the hash goes into every available presence that has no
 * empty <photo/> (the client's "leave it alone"); an <x/> without a
 * <photo/> is completed. A client's own non-empty hash is left as it is
 * (the XEP allows either). An empty <photo/> means no avatar (XEP-0153
 * 4.1).
 */
int
pep_compat_presence(struct user *u, struct xnode *pres, struct arena *a,
    struct buf *out)
{
	struct xnode	*x, *ph;
	const char	*hash;

	x = xnode_child(pres, NS_VCARD_UPDATE, "x");
	if ((x != NULL && xnode_child(x, NS_VCARD_UPDATE, "photo") != NULL) ||
	    (hash = avatar_hash(u)) == NULL)
		return 0;
	if (x == NULL)
		x = xnode_add(a, pres, NS_VCARD_UPDATE, "x");
	ph = xnode_add(a, x, NS_VCARD_UPDATE, "photo");
	if (*hash != '\0')
		xnode_add_text(a, ph, hash, strlen(hash));
	buf_reset(out);
	return xnode_write(out, pres, NS_CLIENT) == 0 ? 1 : 0;
}

struct pres_rewrite {
	struct user	*u;
	struct buf	*out;
	int		 rc;
};

static void
pres_rewrite(struct xnode *el, struct arena *a, void *arg)
{
	struct pres_rewrite	*pr = arg;

	pr->rc = pep_compat_presence(pr->u, el, a, pr->out);
}

int
pep_compat_presence_xml(struct user *u, const char *xml, size_t len,
    struct buf *out)
{
	struct pres_rewrite	pr = { u, out, 0 };

	if (deliver_parse(xml, len, pres_rewrite, &pr) == -1)
		return 0;
	return pr.rc;
}

/*
 * The avatar nodes a conversion creates: open, as the vCard they mirror
 * is (XEP-0054 and XEP-0398 6), and as the clients that publish them
 * configure them; one item each (XEP-0163 defaults otherwise).
 */
static void
avatar_conf(struct ps_conf *c)
{
	ps_conf_default(c);
	c->access = PS_ACCESS_OPEN;
}

/* the id of the first info without a url of a metadata item: NULL none */
static const struct xnode *
meta_info(const struct xnode *meta)
{
	const struct xnode	*info;

	for (info = xnode_child(meta, NS_AVATAR_META, "info"); info != NULL;
	    info = xnode_next(info, NS_AVATAR_META, "info"))
		if (xnode_attr(info, "url") == NULL &&
		    xnode_attr(info, "id") != NULL)
			return info;
	return NULL;
}

/* removes every PHOTO of the card */
static void
card_drop_photo(struct xnode *card)
{
	struct xnode	*c, **pp = &card->children;

	card->last = NULL;
	while ((c = *pp) != NULL) {
		if (c->type == XNODE_ELEM && strcmp(c->ns, NS_VCARD) == 0 &&
		    strcmp(c->name, "PHOTO") == 0) {
			*pp = c->next;
			continue;
		}
		card->last = c;
		pp = &c->next;
	}
}

static void
text_child(struct arena *a, struct xnode *parent, const char *name,
    const char *text)
{
	xnode_add_text(a, xnode_add(a, parent, NULL, name), text,
	    strlen(text));
}

/*
 * XEP-0398 3.1: the image of the metadata's info (the data node's item
 * of the same id, its SHA-1 checked) into the vCard PHOTO; metadata
 * without info removes the PHOTO (XEP-0084 4.5: avatar disabled).
 */
static int
avatar_to_vcard(struct conv *cv, const void *arg)
{
	const struct xnode	*info = meta_info(arg);
	struct pubsub_item	 it;
	struct ps_node		 n;
	struct xnode		*card = NULL, *data, *ph;
	struct photo		 p;
	struct buf		 b;
	const char		*type;
	char			*val;
	size_t			 len;
	int			 rc, err;

	memset(&p, 0, sizeof(p));
	if (info != NULL) {
		if (conv_node(cv, NS_AVATAR_DATA, NULL, &n) == -1 ||
		    store_pubsub_item_get(router.store, cv->svc.owner,
		    cv->svc.domain, n.nid, xnode_attr(info, "id"), &it) == -1)
			return -1;
		data = item_payload(cv->a, &it);
		pubsub_item_clear(&it);
		if (data == NULL || strcmp(data->ns, NS_AVATAR_DATA) != 0) {
			errno = EINVAL;
			return -1;
		}
		p.b64 = b64_strip(cv->a, xnode_text(cv->a, data), &p.len);
		/* XEP-0398 3.1: the image is the one the id names */
		if (image_hash(p.b64, p.len, p.id, &p.bytes) == -1)
			return -1;
		if (strcasecmp(p.id, xnode_attr(info, "id")) != 0) {
			errno = EINVAL;
			return -1;
		}
	}
	if (store_doc_get(router.store, DOC_VCARD, cv->svc.owner,
	    cv->svc.domain, "", &val, &len) == 0) {
		card = doc_parse(cv->a, val, len);
		free(val);
		if (card == NULL) {
			/* not replaced by a card that lost the rest */
			errno = EIO;
			return -1;
		}
	} else if (errno != ENOENT)
		return -1;
	else
		card = xnode_new(cv->a, NS_VCARD, "vCard");
	card_drop_photo(card);
	if (info != NULL) {
		ph = xnode_add(cv->a, card, NS_VCARD, "PHOTO");
		type = xnode_attr(info, "type");
		text_child(cv->a, ph, "TYPE", type != NULL && *type != '\0' ?
		    type : AVATAR_TYPE_DEFAULT);
		text_child(cv->a, ph, "BINVAL", p.b64);
	}
	buf_init(&b, router.conf.vcard_max_size);
	if (xnode_write(&b, card, "") == -1) {
		buf_clear(&b);
		errno = EMSGSIZE;
		return -1;
	}
	/* as vcard.c: an empty vCard is no vCard */
	rc = store_doc_put(router.store, DOC_VCARD, cv->svc.owner,
	    cv->svc.domain, "", xnode_child(card, NULL, NULL) == NULL ? NULL :
	    buf_rptr(&b), buf_avail(&b));
	err = errno;
	buf_clear(&b);
	if (rc == -1 && err != ENOENT) {
		errno = err;
		return -1;
	}
	cv->hash = arena_strdup(cv->a, p.id);
	return 0;
}

/*
 * XEP-0398 3.2: the vCard's photo to the data node (item id its SHA-1),
 * then the metadata node with one info; a vCard without a photo, where
 * the metadata had one, disables the avatar (XEP-0084 4.5). An avatar
 * already there is not published again.
 */
static int
vcard_to_avatar(struct conv *cv, const void *arg)
{
	const struct xnode	*cur_info = NULL;
	struct ps_node		 data, meta;
	struct ps_conf		 conf;
	struct xnode		*el = NULL, *info;
	struct photo		 p;
	int			 rc;

	memset(&p, 0, sizeof(p));
	if ((rc = vcard_photo(cv->a, arg, &p)) == -1)
		return -1;
	avatar_conf(&conf);
	if (conv_node(cv, NS_AVATAR_META, NULL, &meta) == 0) {
		if (node_newest(cv, &meta, &el) == -1)
			return -1;
		cur_info = meta_info(el);
	} else if (errno != ENOENT)
		return -1;
	cv->hash = rc == 1 ? arena_strdup(cv->a, p.id) : "";
	if (rc == 0) {
		if (cur_info == NULL)
			return 0;
		el = xnode_new(cv->a, NS_AVATAR_META, "metadata");
		return conv_put(cv, &meta, ps_item_id_new(cv->a), el);
	}
	if (cur_info != NULL &&
	    strcasecmp(xnode_attr(cur_info, "id"), p.id) == 0)
		return 0;
	el = xnode_new(cv->a, NS_AVATAR_DATA, "data");
	xnode_add_text(cv->a, el, p.b64, p.len);
	if (conv_node(cv, NS_AVATAR_DATA, &conf, &data) == -1 ||
	    conv_put(cv, &data, p.id, el) == -1)
		return -1;
	el = xnode_new(cv->a, NS_AVATAR_META, "metadata");
	info = xnode_add(cv->a, el, NULL, "info");
	xnode_set_attr(cv->a, info, "bytes", arena_printf(cv->a, "%zu",
	    p.bytes));
	xnode_set_attr(cv->a, info, "id", p.id);
	xnode_set_attr(cv->a, info, "type", p.type);
	if (conv_node(cv, NS_AVATAR_META, &conf, &meta) == -1)
		return -1;
	return conv_put(cv, &meta, p.id, el);
}

/* ---- bookmarks (XEP-0402, XEP-0048, XEP-0411) --------------------------- */

/* one room, from either form */
struct bm {
	const char		*jid;
	const char		*name;
	const char		*nick;
	const char		*password;
	bool			 autojoin;
	const struct xnode	*ext;		/* XEP-0402 <extensions/> */
};

struct bms {
	struct bm	*v;
	size_t		 n;
	size_t		 cap;
};

static bool
bm_bool(const char *s)
{
	/* XEP-0402 and XEP-0048: xs:boolean */
	return s != NULL && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
}

static const char *
bm_text(struct arena *a, const struct xnode *el, const char *ns,
    const char *name)
{
	const struct xnode	*c = xnode_child(el, ns, name);

	return c != NULL ? xnode_text(a, c) : NULL;
}

/* reads a <conference/> of either namespace; -1 past the limit */
static int
bm_read(struct arena *a, struct bms *l, const char *jid,
    const struct xnode *conf)
{
	struct bm	*b;
	struct jid	 j;
	size_t		 i;

	/* a room is a bare JID (XEP-0402 3: the item id) */
	if (jid == NULL || jid_parse(&j, jid) == -1)
		return 0;
	if (j.resource != NULL || j.node == NULL) {
		jid_clear(&j);
		return 0;
	}
	jid_clear(&j);
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].jid, jid) == 0)
			return 0;	/* XEP-0048 lists the room once */
	/* a node keeps at most pubsub-max-items of them */
	if (l->n == (size_t)router.conf.pubsub_max_items) {
		errno = EMSGSIZE;
		return -1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		b = arena_alloc(a, l->cap * sizeof(*b));
		if (l->n > 0)
			memcpy(b, l->v, l->n * sizeof(*b));
		l->v = b;
	}
	b = &l->v[l->n++];
	memset(b, 0, sizeof(*b));
	b->jid = arena_strdup(a, jid);
	b->name = xnode_attr(conf, "name");
	b->autojoin = bm_bool(xnode_attr(conf, "autojoin"));
	b->nick = bm_text(a, conf, conf->ns, "nick");
	b->password = bm_text(a, conf, conf->ns, "password");
	b->ext = xnode_child(conf, NS_BOOKMARKS, "extensions");
	return 0;
}

static void
bms_init(struct bms *l)
{
	memset(l, 0, sizeof(*l));
}

static bool
str_eq(const char *x, const char *y)
{
	return strcmp(x != NULL ? x : "", y != NULL ? y : "") == 0;
}

static bool
bm_equal(const struct bm *x, const struct bm *y)
{
	return str_eq(x->name, y->name) && str_eq(x->nick, y->nick) &&
	    str_eq(x->password, y->password) && x->autojoin == y->autojoin;
}

/* the conference element of b, in ns (the new or the old form) */
static struct xnode *
bm_conference(struct arena *a, const struct bm *b, const char *ns)
{
	struct xnode	*c = xnode_new(a, ns, "conference");

	if (strcmp(ns, NS_BOOKMARKS_OLD) == 0)
		xnode_set_attr(a, c, "jid", b->jid);
	if (b->name != NULL)
		xnode_set_attr(a, c, "name", b->name);
	if (b->autojoin)
		xnode_set_attr(a, c, "autojoin", "true");
	if (b->nick != NULL)
		text_child(a, c, "nick", b->nick);
	if (b->password != NULL)
		text_child(a, c, "password", b->password);
	if (b->ext != NULL && strcmp(ns, NS_BOOKMARKS) == 0)
		xnode_append(c, xnode_copy(a, b->ext));
	return c;
}

/* the rooms of a XEP-0048 <storage/> */
static int
bms_of_storage(struct arena *a, const struct xnode *st, struct bms *l)
{
	const struct xnode	*c;

	for (c = xnode_child(st, NS_BOOKMARKS_OLD, "conference"); c != NULL;
	    c = xnode_next(c, NS_BOOKMARKS_OLD, "conference"))
		if (bm_read(a, l, xnode_attr(c, "jid"), c) == -1)
			return -1;
	return 0;
}

struct bm_walk {
	struct arena	*a;
	struct bms	*l;
	int		 rc;
};

static int
bm_item(const struct pubsub_item *it, void *arg)
{
	struct bm_walk		*w = arg;
	const struct xnode	*conf = item_payload(w->a, it);

	if (conf == NULL || strcmp(conf->ns, NS_BOOKMARKS) != 0 ||
	    strcmp(conf->name, "conference") != 0)
		return 0;	/* not a bookmark: not converted */
	if ((w->rc = bm_read(w->a, w->l, it->id, conf)) == -1)
		return 1;
	return 0;
}

/* the rooms of the bookmarks:1 node; none when there is no node */
static int
bms_of_node(struct conv *cv, struct ps_node *n, bool *have, struct bms *l)
{
	struct bm_walk	w = { cv->a, l, 0 };

	*have = false;
	if (conv_node(cv, NS_BOOKMARKS, NULL, n) == -1)
		return errno == ENOENT ? 0 : -1;
	*have = true;
	if (store_pubsub_items(router.store, cv->svc.owner, cv->svc.domain,
	    n->nid, 0, bm_item, &w) == -1 || w.rc == -1)
		return -1;
	return 0;
}

/*
 * XEP-0402 3.1: the bookmarks:1 node the conversion creates: private
 * (XEP-0223), one item per room, as many as the server keeps, never
 * sent at presence (a client asks for them).
 */
static void
bm_conf_new(struct ps_conf *c)
{
	ps_conf_default(c);
	c->access = PS_ACCESS_WHITELIST;
	c->max_items = 0;
	c->send_last = PS_SENDLAST_NEVER;
}

/* XEP-0048 3.3 and XEP-0223: the legacy node, private, one item */
static void
bm_conf_old(struct ps_conf *c)
{
	ps_conf_default(c);
	c->access = PS_ACCESS_WHITELIST;
}

/* the old list into private XML (XEP-0049), within its quota */
static int
bm_put_private(struct conv *cv, const struct xnode *st)
{
	struct store_usage	u;
	struct buf		b;
	int			rc, err;

	if (store_doc_usage(router.store, DOC_PRIVATE, cv->svc.owner,
	    cv->svc.domain, &u) == -1)
		return -1;
	buf_init(&b, router.conf.private_max_size);
	if (xnode_write(&b, st, "") == -1) {
		buf_clear(&b);
		errno = EMSGSIZE;
		return -1;
	}
	rc = private_put(cv->svc.owner, cv->svc.domain, BOOKMARKS_DOC, &b,
	    &u);
	err = errno;
	buf_clear(&b);
	errno = err;
	return rc;
}

/* the old list into the PEP node storage:bookmarks (XEP-0048 3.3) */
static int
bm_put_pep(struct conv *cv, const struct xnode *st)
{
	struct ps_node	n;
	struct ps_conf	conf;

	bm_conf_old(&conf);
	if (conv_node(cv, NS_BOOKMARKS_OLD, &conf, &n) == -1)
		return -1;
	return conv_put(cv, &n, BOOKMARKS_OLD_ID, st);
}

/*
 * XEP-0402 6.1 (the new form written): every bookmarks:1 item, with the
 * jid its item id, into one XEP-0048 list, in private XML and in PEP.
 * What the old list held besides rooms (<url/>) is kept.
 */
static int
bm_new_to_old(struct conv *cv, const void *arg)
{
	struct ps_node		 n;
	struct bms		 l;
	struct xnode		*st, *old = NULL, *c;
	char			*val;
	size_t			 len, i;
	bool			 have;

	(void)arg;
	bms_init(&l);
	if (bms_of_node(cv, &n, &have, &l) == -1)
		return -1;
	if (store_doc_get(router.store, DOC_PRIVATE, cv->svc.owner,
	    cv->svc.domain, BOOKMARKS_DOC, &val, &len) == 0) {
		old = doc_parse(cv->a, val, len);
		free(val);
	} else if (errno != ENOENT)
		return -1;
	st = xnode_new(cv->a, NS_BOOKMARKS_OLD, "storage");
	for (i = 0; i < l.n; i++)
		xnode_append(st, bm_conference(cv->a, &l.v[i],
		    NS_BOOKMARKS_OLD));
	for (c = xnode_child(old, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL))
		if (strcmp(c->ns, NS_BOOKMARKS_OLD) != 0 ||
		    strcmp(c->name, "conference") != 0)
			xnode_append(st, xnode_copy(cv->a, c));
	if (bm_put_private(cv, st) == -1)
		return -1;
	return bm_put_pep(cv, st);
}

struct bm_old {
	const struct xnode	*st;
	bool			 from_pep;	/* else private XML */
};

/*
 * XEP-0402 6.2 (the old form written): the bookmarks:1 items updated one
 * by one, a notification for each changed item and none for the others;
 * the rooms no longer listed retracted; the other old store written.
 */
static int
bm_old_to_new(struct conv *cv, const void *arg)
{
	const struct bm_old	*bo = arg;
	struct ps_node		 n;
	struct ps_conf		 conf;
	struct bms		 want, have;
	struct bm		*b;
	size_t			 i, k;
	bool			 exists;

	bms_init(&want);
	bms_init(&have);
	if (bms_of_storage(cv->a, bo->st, &want) == -1 ||
	    bms_of_node(cv, &n, &exists, &have) == -1)
		return -1;
	bm_conf_new(&conf);
	if (!exists && want.n > 0 &&
	    conv_node(cv, NS_BOOKMARKS, &conf, &n) == -1)
		return -1;
	for (i = 0; i < want.n; i++) {
		b = &want.v[i];
		for (k = 0; k < have.n; k++)
			if (strcmp(have.v[k].jid, b->jid) == 0)
				break;
		if (k < have.n) {
			if (bm_equal(b, &have.v[k]))
				continue;
			/* the old form has no extensions: they stay */
			b->ext = have.v[k].ext;
		}
		if (conv_put(cv, &n, b->jid, bm_conference(cv->a, b,
		    NS_BOOKMARKS)) == -1)
			return -1;
	}
	for (k = 0; k < have.n; k++) {
		for (i = 0; i < want.n; i++)
			if (strcmp(have.v[k].jid, want.v[i].jid) == 0)
				break;
		if (i < want.n)
			continue;
		if (store_pubsub_item_del(router.store, cv->svc.owner,
		    cv->svc.domain, n.nid, have.v[k].jid) == -1)
			return -1;
		if (n.conf.notify_retract)
			conv_event(cv, &n, PS_EV_RETRACT, NULL,
			    have.v[k].jid);
	}
	return bo->from_pep ? bm_put_private(cv, bo->st) :
	    bm_put_pep(cv, bo->st);
}

/* ---- the hooks ---------------------------------------------------------- */

static bool
is_el(const struct xnode *el, const char *ns, const char *name)
{
	return el != NULL && strcmp(el->ns, ns) == 0 &&
	    strcmp(el->name, name) == 0;
}

void
pep_compat_published(const struct ps_service *svc, const char *name,
    const struct xnode *item, struct arena *a)
{
	const struct xnode	*payload = xnode_child(item, NULL, NULL);
	struct conv		 cv;
	struct bm_old		 bo;

	if (!svc->pep)
		return;
	if (strcmp(name, NS_AVATAR_META) == 0 &&
	    is_el(payload, NS_AVATAR_META, "metadata")) {
		conv_init(&cv, svc->owner, svc->domain, "avatar to vCard", a);
		conv_run(&cv, avatar_to_vcard, payload);
	} else if (strcmp(name, NS_BOOKMARKS) == 0) {
		conv_init(&cv, svc->owner, svc->domain,
		    "bookmarks to XEP-0048", a);
		conv_run(&cv, bm_new_to_old, NULL);
	} else if (strcmp(name, NS_BOOKMARKS_OLD) == 0 &&
	    is_el(payload, NS_BOOKMARKS_OLD, "storage")) {
		conv_init(&cv, svc->owner, svc->domain,
		    "XEP-0048 PEP bookmarks to XEP-0402", a);
		bo.st = payload;
		bo.from_pep = true;
		conv_run(&cv, bm_old_to_new, &bo);
	}
}

void
pep_compat_removed(const struct ps_service *svc, const char *name,
    struct arena *a)
{
	struct conv	cv;

	if (!svc->pep || strcmp(name, NS_BOOKMARKS) != 0)
		return;
	conv_init(&cv, svc->owner, svc->domain, "bookmarks to XEP-0048", a);
	conv_run(&cv, bm_new_to_old, NULL);
}

void
pep_compat_vcard(const char *node, const char *domain,
    const struct xnode *card, struct arena *a)
{
	struct conv	cv;
	struct user	*u;
	char		 bare[JID_STR_MAX + 1];

	/* the hash is read again at the next presence */
	jid_format(bare, node, domain, NULL);
	if ((u = map_get(router.by_bare, bare)) != NULL) {
		free(u->photo);
		u->photo = NULL;
	}
	conv_init(&cv, node, domain, "vCard to avatar", a);
	conv_run(&cv, vcard_to_avatar, card);
}

void
pep_compat_private(const char *node, const char *domain,
    const struct xnode *el, struct arena *a)
{
	struct conv	cv;
	struct bm_old	bo;

	if (!is_el(el, NS_BOOKMARKS_OLD, "storage"))
		return;
	conv_init(&cv, node, domain, "XEP-0048 bookmarks to XEP-0402", a);
	bo.st = el;
	bo.from_pep = false;
	conv_run(&cv, bm_old_to_new, &bo);
}

void
pep_compat_features(struct xnode *q, struct arena *a)
{
	size_t	i;

	for (i = 0; i < sizeof(compat_features) / sizeof(*compat_features);
	    i++)
		xnode_set_attr(a, xnode_add(a, q, NS_DISCO_INFO, "feature"),
		    "var", compat_features[i]);
}
