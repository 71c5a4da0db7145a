/*
 * Publish-subscribe (XEP-0060) nodes and items of one owner: an account's
 * PEP service or a pubsub service's domain (owner_prefix).
 *
 *   ps_nodes: owner prefix + node name (tail_key)  -> node record
 *             (both records are encoded in store_codec.c)
 *   ps_items: owner prefix + u64 node id + 's' + u64 sequence -> item
 *             owner prefix + u64 node id + 'd' + item id (tail_key)
 *                 -> u64 sequence (the id index)
 *
 * A node is named by its id in the items database, so deleting or
 * recreating a node under the same name never meets old items, and the
 * items of a node are one range in publish order: the newest are at its
 * end, the ones max_items drops at its start. Ids and sequences come from
 * counters in meta that never go back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

#define PS_SEQ_TAG		's'
#define PS_ID_TAG		'd'

/* the node's key in key; 0 with errno */
static size_t
node_key(const struct store *st, char *key, const char *owner,
    const char *domain, const char *name)
{
	size_t	plen;

	if ((plen = owner_prefix(st, key, owner, domain)) == 0) {
		errno = ENAMETOOLONG;
		return 0;
	}
	return tail_key(st, key, plen, '\0', name);
}

/* owner prefix + node id: the start of the node's items; 0 with errno */
static size_t
items_prefix(const struct store *st, char *key, const char *owner,
    const char *domain, uint64_t nid)
{
	size_t	plen;

	/* room for a tag and a hashed tail after the node id */
	if ((plen = owner_prefix(st, key, owner, domain)) == 0 ||
	    plen + 8 + 2 + KEY_DIGEST_LEN + 1 > st->maxkey) {
		errno = ENAMETOOLONG;
		return 0;
	}
	rec_put_u64((uint8_t *)key + plen, nid);
	return plen + 8;
}

static size_t
seq_key(char *key, size_t plen, uint64_t seq)
{
	key[plen] = PS_SEQ_TAG;
	rec_put_u64((uint8_t *)key + plen + 1, seq);
	return plen + 9;
}

struct node_rec {
	uint64_t	 nid;
	char		*name;
	const char	*conf;		/* in the mapped record */
	size_t		 clen;
};

static int
node_decode(const MDB_val *v, struct node_rec *nr)
{
	memset(nr, 0, sizeof(*nr));
	if (rec_psnode_decode(v->mv_data, v->mv_size, &nr->nid, &nr->name,
	    &nr->conf, &nr->clen) == 0)
		return 0;
	log_warnx("store: pubsub node record corrupt (%zu bytes)",
	    v->mv_size);
	errno = EIO;
	return -1;
}

struct node_get {
	const char	*name;
	uint64_t	*nid;
	char		**conf;
	size_t		*clen;
};

static int
node_read(const MDB_val *v, void *arg)
{
	struct node_get	*ng = arg;
	struct node_rec	 nr;
	bool		 same;

	if (node_decode(v, &nr) == -1)
		return -1;
	/* a hashed key is trusted only with its name */
	same = strcmp(nr.name, ng->name) == 0;
	free(nr.name);
	if (!same) {
		errno = ENOENT;
		return -1;
	}
	*ng->nid = nr.nid;
	if (ng->conf != NULL) {
		*ng->conf = xmalloc(nr.clen + 1);
		memcpy(*ng->conf, nr.conf, nr.clen);
		(*ng->conf)[nr.clen] = '\0';
		*ng->clen = nr.clen;
	}
	return 0;
}

int
store_pubsub_node_get(struct store *st, const char *owner, const char *domain,
    const char *name, uint64_t *nid, char **conf, size_t *clen)
{
	char		key[STORE_KEY_BUF];
	struct node_get	ng = { name, nid, conf, clen };
	MDB_val		k;

	if (st->pg != NULL)
		return pgs_pubsub_node_get(st->pg, owner, domain, name, nid,
		    conf, clen);
	if (conf != NULL)
		*conf = NULL;
	if ((k.mv_size = node_key(st, key, owner, domain, name)) == 0) {
		errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	return store_get(st, st->ps_nodes, "pubsub node get", &k, node_read,
	    &ng);
}

struct node_put {
	char		*key;
	size_t		 klen, plen;
	const char	*name;
	uint64_t	 nid;		/* in: 0 to create; out */
	const char	*conf;
	size_t		 clen;
	size_t		 max;		/* nodes the owner may have */
};

static int
node_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct node_put		*np = arg;
	struct store_usage	 u;
	uint64_t		 nid = np->nid;
	uint8_t			*rec;
	MDB_val			 k, v;
	int			 rc;

	k.mv_data = np->key;
	k.mv_size = np->klen;
	if (nid == 0) {
		if ((rc = mdb_get(txn, st->ps_nodes, &k, &v)) == 0) {
			errno = EEXIST;
			return -1;
		}
		if (rc != MDB_NOTFOUND)
			return rc;
		if ((rc = range_usage(txn, st->ps_nodes, np->key, np->plen,
		    np->max, &u)) != 0)
			return rc;
		if (u.count >= np->max) {
			errno = EDQUOT;
			return -1;
		}
		if ((rc = meta_get(st, txn, np->key, np->plen,
		    META_PUBSUB_NODE, &nid)) != 0)
			return rc;
		if (nid == 0)
			nid = 1;
		if ((rc = meta_put(st, txn, np->key, np->plen,
		    META_PUBSUB_NODE, nid + 1)) != 0)
			return rc;
	}
	if ((rec = rec_psnode_encode(nid, np->name, np->conf, np->clen,
	    &v.mv_size)) == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	v.mv_data = rec;
	rc = mdb_put(txn, st->ps_nodes, &k, &v, 0);
	free(rec);
	if (rc == 0)
		np->nid = nid;
	return rc;
}

int
store_pubsub_node_put(struct store *st, const char *owner, const char *domain,
    const char *name, uint64_t *nid, const char *conf, size_t clen,
    size_t max)
{
	char		key[STORE_KEY_BUF];
	struct node_put	np;

	if (st->pg != NULL)
		return pgs_pubsub_node_put(st->pg, owner, domain, name, nid,
		    conf, clen, max);
	np.key = key;
	if ((np.plen = owner_prefix(st, key, owner, domain)) == 0 ||
	    (np.klen = tail_key(st, key, np.plen, '\0', name)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	np.name = name;
	np.nid = *nid;
	np.conf = conf;
	np.clen = clen;
	np.max = max;
	if (store_write(st, "pubsub node put", node_put_fn, &np, false) == -1)
		return -1;
	*nid = np.nid;
	return 0;
}

struct items_del {
	char	*key;
	size_t	 plen;
};

/* every item of the node and its id index: one range */
static int
items_del_all(struct store *st, MDB_txn *txn, const char *key, size_t plen)
{
	return range_del(txn, st->ps_items, key, plen, NULL, NULL);
}

struct node_del {
	char		*nkey, *ikey;
	size_t		 nklen, iplen;
	const char	*name;
};

static int
node_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct node_del	*nd = arg;
	struct node_rec	 nr;
	MDB_val		 k, v;
	int		 rc;

	k.mv_data = nd->nkey;
	k.mv_size = nd->nklen;
	if ((rc = mdb_get(txn, st->ps_nodes, &k, &v)) != 0)
		return rc;
	if (node_decode(&v, &nr) == -1)
		return -1;
	rc = strcmp(nr.name, nd->name);
	free(nr.name);
	if (rc != 0)
		return MDB_NOTFOUND;
	rec_put_u64((uint8_t *)nd->ikey + nd->iplen - 8, nr.nid);
	if ((rc = items_del_all(st, txn, nd->ikey, nd->iplen)) != 0)
		return rc;
	return mdb_del(txn, st->ps_nodes, &k, NULL);
}

int
store_pubsub_node_del(struct store *st, const char *owner, const char *domain,
    const char *name)
{
	char		nkey[STORE_KEY_BUF], ikey[STORE_KEY_BUF];
	struct node_del	nd;

	if (st->pg != NULL)
		return pgs_pubsub_node_del(st->pg, owner, domain, name);
	nd.nkey = nkey;
	nd.ikey = ikey;
	nd.name = name;
	if ((nd.nklen = node_key(st, nkey, owner, domain, name)) == 0 ||
	    (nd.iplen = items_prefix(st, ikey, owner, domain, 0)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return store_write(st, "pubsub node del", node_del_fn, &nd, false);
}

struct node_walk {
	int	(*fn)(const char *, uint64_t, const char *, size_t, void *);
	void	*arg;
};

static int
node_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct node_walk	*nw = arg;
	struct node_rec		 nr;
	char			*conf;
	int			 stop;

	(void)k;
	if (node_decode(v, &nr) == -1)
		return 0;	/* logged; the others are listed */
	conf = xstrndup(nr.conf, nr.clen);
	stop = nw->fn(nr.name, nr.nid, conf, nr.clen, nw->arg);
	free(conf);
	free(nr.name);
	return stop;
}

int
store_pubsub_node_list(struct store *st, const char *owner,
    const char *domain,
    int (*fn)(const char *name, uint64_t nid, const char *conf,
    size_t clen, void *arg), void *arg)
{
	char			key[STORE_KEY_BUF];
	struct node_walk	nw = { fn, arg };
	size_t			plen;

	if (st->pg != NULL)
		return pgs_pubsub_node_list(st->pg, owner, domain, fn, arg);
	if ((plen = owner_prefix(st, key, owner, domain)) == 0)
		return 0;
	return store_walk(st, st->ps_nodes, "pubsub node list", key, plen,
	    node_one, &nw);
}

/* an item record (store_codec.c) at its sequence key */
static int
item_decode(const MDB_val *k, const MDB_val *v, size_t plen,
    struct pubsub_item *it)
{
	it->seq = k->mv_size == plen + 9 ?
	    rec_get_u64((const uint8_t *)k->mv_data + plen + 1) : 0;
	if (k->mv_size == plen + 9 &&
	    rec_psitem_decode(v->mv_data, v->mv_size, it) == 0)
		return 0;
	memset(it, 0, sizeof(*it));
	log_warnx("store: pubsub item record corrupt (%zu bytes)",
	    v->mv_size);
	errno = EIO;
	return -1;
}

/* the sequence the id index gives item id; MDB_NOTFOUND if none */
static int
item_seq(struct store *st, MDB_txn *txn, char *key, size_t plen,
    const char *id, uint64_t *seq)
{
	MDB_val	k, v;
	size_t	klen;
	int	rc;

	if ((klen = tail_key(st, key, plen, PS_ID_TAG, id)) == 0)
		return MDB_NOTFOUND;
	k.mv_data = key;
	k.mv_size = klen;
	if ((rc = mdb_get(txn, st->ps_items, &k, &v)) != 0)
		return rc;
	if (v.mv_size != 8) {
		errno = EIO;
		return -1;
	}
	*seq = rec_get_u64(v.mv_data);
	return 0;
}

/* removes item id (the record and its index entry); MDB_NOTFOUND if none */
static int
item_remove(struct store *st, MDB_txn *txn, char *key, size_t plen,
    const char *id)
{
	MDB_val		k;
	uint64_t	seq;
	int		rc;

	if ((rc = item_seq(st, txn, key, plen, id, &seq)) != 0)
		return rc;
	k.mv_data = key;
	k.mv_size = tail_key(st, key, plen, PS_ID_TAG, id);
	if ((rc = mdb_del(txn, st->ps_items, &k, NULL)) != 0)
		return rc;
	k.mv_size = seq_key(key, plen, seq);
	rc = mdb_del(txn, st->ps_items, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct item_put {
	char				*key;
	size_t				 plen, oplen;
	const struct pubsub_item	*it;
	size_t				 max;
	uint64_t			 seq;	/* out */
};

/* the oldest items past max go: XEP-0060 12.x, max_items */
static int
items_trim(struct store *st, MDB_txn *txn, char *key, size_t plen,
    size_t max)
{
	struct store_usage	 u;
	struct pubsub_item	 it;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	char			 seqp[STORE_KEY_BUF];
	int			 rc;

	memcpy(seqp, key, plen);
	seqp[plen] = PS_SEQ_TAG;
	if ((rc = range_usage(txn, st->ps_items, seqp, plen + 1, SIZE_MAX,
	    &u)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->ps_items, &cur)) != 0)
		return rc;
	for (; u.count > max; u.count--) {
		k.mv_data = seqp;
		k.mv_size = plen + 1;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!key_in(&k, seqp, plen + 1))
			break;
		if (item_decode(&k, &v, plen, &it) == -1) {
			rc = -1;
			break;
		}
		rc = item_remove(st, txn, key, plen, it.id);
		pubsub_item_clear(&it);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
item_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct item_put			*ip = arg;
	const struct pubsub_item	*it = ip->it;
	uint64_t			 seq;
	uint8_t				*rec, sbuf[8];
	MDB_val				 k, v;
	int				 rc;

	/* a publish with an existing id replaces it and becomes newest */
	if ((rc = item_remove(st, txn, ip->key, ip->plen, it->id)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	if ((rc = meta_get(st, txn, ip->key, ip->oplen, META_PUBSUB_SEQ,
	    &seq)) != 0)
		return rc;
	if (seq == 0)
		seq = 1;
	if ((rc = meta_put(st, txn, ip->key, ip->oplen, META_PUBSUB_SEQ,
	    seq + 1)) != 0)
		return rc;
	if ((rec = rec_psitem_encode(it, &v.mv_size)) == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	v.mv_data = rec;
	k.mv_data = ip->key;
	k.mv_size = seq_key(ip->key, ip->plen, seq);
	rc = mdb_put(txn, st->ps_items, &k, &v, 0);
	free(rec);
	if (rc != 0)
		return rc;
	rec_put_u64(sbuf, seq);
	v.mv_data = sbuf;
	v.mv_size = sizeof(sbuf);
	k.mv_size = tail_key(st, ip->key, ip->plen, PS_ID_TAG, it->id);
	if ((rc = mdb_put(txn, st->ps_items, &k, &v, 0)) != 0)
		return rc;
	ip->seq = seq;
	return items_trim(st, txn, ip->key, ip->plen, ip->max);
}

int
store_pubsub_item_put(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const struct pubsub_item *it,
    size_t max)
{
	char		key[STORE_KEY_BUF];
	struct item_put	ip;

	if (st->pg != NULL)
		return pgs_pubsub_item_put(st->pg, owner, domain, nid, it, max);
	ip.key = key;
	if ((ip.plen = items_prefix(st, key, owner, domain, nid)) == 0 ||
	    *it->id == '\0')
		return -1;
	ip.oplen = ip.plen - 8;
	ip.it = it;
	ip.max = max > 0 ? max : 1;
	/* one commit for the publishes of a loop iteration (store.h) */
	return store_write(st, "pubsub item put", item_put_fn, &ip, true);
}

int
store_pubsub_item_get(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const char *id,
    struct pubsub_item *out)
{
	char		 key[STORE_KEY_BUF];
	MDB_txn		*txn;
	MDB_val		 k, v;
	uint64_t	 seq;
	size_t		 plen;
	int		 rc;

	if (st->pg != NULL)
		return pgs_pubsub_item_get(st->pg, owner, domain, nid, id, out);
	memset(out, 0, sizeof(*out));
	if ((plen = items_prefix(st, key, owner, domain, nid)) == 0) {
		errno = ENOENT;
		return -1;
	}
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("pubsub item get", rc);
		return -1;
	}
	if ((rc = item_seq(st, txn, key, plen, id, &seq)) == 0) {
		k.mv_data = key;
		k.mv_size = seq_key(key, plen, seq);
		if ((rc = mdb_get(txn, st->ps_items, &k, &v)) == 0 &&
		    item_decode(&k, &v, plen, out) == -1)
			rc = -1;
	}
	store_rtxn_end(st, txn);
	if (rc == 0 && strcmp(out->id, id) != 0) {
		pubsub_item_clear(out);
		rc = MDB_NOTFOUND;
	}
	if (rc == -1)
		return -1;
	if (rc != 0) {
		errno = store_errno("pubsub item get", rc);
		return -1;
	}
	return 0;
}

struct item_del {
	char		*key;
	size_t		 plen;
	const char	*id;
};

static int
item_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct item_del	*id = arg;

	return item_remove(st, txn, id->key, id->plen, id->id);
}

int
store_pubsub_item_del(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const char *itemid)
{
	char		key[STORE_KEY_BUF];
	struct item_del	id;

	if (st->pg != NULL)
		return pgs_pubsub_item_del(st->pg, owner, domain, nid, itemid);
	id.key = key;
	id.id = itemid;
	if ((id.plen = items_prefix(st, key, owner, domain, nid)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return store_write(st, "pubsub item del", item_del_fn, &id, false);
}

static int
purge_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct items_del	*d = arg;

	return items_del_all(st, txn, d->key, d->plen);
}

int
store_pubsub_purge(struct store *st, const char *owner, const char *domain,
    uint64_t nid)
{
	char			key[STORE_KEY_BUF];
	struct items_del	d;

	if (st->pg != NULL)
		return pgs_pubsub_purge(st->pg, owner, domain, nid);
	d.key = key;
	if ((d.plen = items_prefix(st, key, owner, domain, nid)) == 0)
		return 0;
	return store_write(st, "pubsub purge", purge_fn, &d, false);
}

/*
 * Newest first: from just past the node's last sequence backwards, at
 * most max items (0: all).
 */
int
store_pubsub_items(struct store *st, const char *owner, const char *domain,
    uint64_t nid, size_t max,
    int (*fn)(const struct pubsub_item *, void *arg), void *arg)
{
	char			 key[STORE_KEY_BUF];
	struct pubsub_item	 it;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 plen, n = 0;
	int			 rc, op;

	if (st->pg != NULL)
		return pgs_pubsub_items(st->pg, owner, domain, nid, max, fn,
		    arg);
	if ((plen = items_prefix(st, key, owner, domain, nid)) == 0)
		return 0;
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("pubsub items", rc);
		return -1;
	}
	if ((rc = mdb_cursor_open(txn, st->ps_items, &cur)) != 0) {
		store_rtxn_end(st, txn);
		errno = store_errno("pubsub items", rc);
		return -1;
	}
	/* the first key after the sequences: 's' + 1 */
	key[plen] = PS_SEQ_TAG + 1;
	k.mv_data = key;
	k.mv_size = plen + 1;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	op = rc == 0 ? MDB_PREV : MDB_LAST;
	key[plen] = PS_SEQ_TAG;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_PREV;
		if (!key_in(&k, key, plen + 1))
			break;
		if (item_decode(&k, &v, plen, &it) == -1)
			continue;	/* logged */
		rc = fn(&it, arg);
		pubsub_item_clear(&it);
		if (rc != 0 || (max > 0 && ++n >= max))
			break;
	}
	mdb_cursor_close(cur);
	store_rtxn_end(st, txn);
	return 0;
}

int
store_pubsub_item_count(struct store *st, const char *owner,
    const char *domain, uint64_t nid, size_t *n)
{
	char			key[STORE_KEY_BUF];
	struct store_usage	u;
	size_t			plen;
	int			rc = 0;

	if (st->pg != NULL)
		return pgs_pubsub_item_count(st->pg, owner, domain, nid, n);
	*n = 0;
	if ((plen = items_prefix(st, key, owner, domain, nid)) == 0)
		return 0;
	key[plen] = PS_SEQ_TAG;
	rc = store_walk_usage(st, st->ps_items, "pubsub count", key,
	    plen + 1, &u);
	*n = u.count;
	return rc;
}
