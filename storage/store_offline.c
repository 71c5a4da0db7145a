/*
 * Offline messages (XEP-0160): key prefix + u64 big-endian sequence, so
 * byte order is arrival order; the value is the stanza as given. The next
 * sequence is a counter in meta, never lowered by deletes, so a sequence
 * the router has seen is never reused for another message. Sequences
 * start at 1: upto 0 deletes none.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

#define OFFLINE_KEY_LEN(plen)	((plen) + 8)

struct offline_put {
	char				*key;
	size_t				 plen;
	const char			*xml;
	size_t				 len;
	const struct store_usage	*max;
	uint64_t			 seq;	/* out */
};

static int
offline_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct offline_put	*op = arg;
	struct store_usage	 u;
	uint64_t		 next;
	MDB_val			 k, v;
	int			 rc;

	/* counted in the write txn: nothing can slip in between */
	if ((rc = range_usage(txn, st->offline, op->key, op->plen,
	    op->max->count, &u)) != 0)
		return rc;
	if (u.count >= op->max->count ||
	    u.bytes + op->len > op->max->bytes) {
		errno = EDQUOT;
		return -1;
	}
	if ((rc = meta_get(st, txn, op->key, op->plen, META_OFFLINE_SEQ,
	    &next)) != 0)
		return rc;
	if (next == 0)
		next = 1;
	rec_put_u64((uint8_t *)op->key + op->plen, next);
	k.mv_data = op->key;
	k.mv_size = OFFLINE_KEY_LEN(op->plen);
	v.mv_data = (void *)op->xml;
	v.mv_size = op->len;
	if ((rc = mdb_put(txn, st->offline, &k, &v, MDB_NOOVERWRITE)) != 0) {
		if (rc != MDB_KEYEXIST)
			return rc;
		/* the counter went back: never overwrite a message */
		log_warnx("store: offline %s: sequence %llu already used",
		    log_esc(op->key, op->plen), (unsigned long long)next);
		errno = EIO;
		return -1;
	}
	op->seq = next;
	return meta_put(st, txn, op->key, op->plen, META_OFFLINE_SEQ,
	    next + 1);
}

int
store_offline_put(struct store *st, const char *node, const char *domain,
    const char *xml, size_t len, const struct store_usage *max,
    uint64_t *seq)
{
	char			key[STORE_KEY_BUF];
	struct offline_put	op;

	if (st->pg != NULL)
		return pgs_offline_put(st->pg, node, domain, xml, len, max,
		    seq);
	op.key = key;
	if ((op.plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	op.xml = xml;
	op.len = len;
	op.max = max;
	if (store_write(st, "offline put", offline_put_fn, &op, false) == -1)
		return -1;
	if (seq != NULL)
		*seq = op.seq;
	return 0;
}

struct offline_walk {
	const char	*node, *domain;
	size_t		 plen;
	int		(*fn)(uint64_t, const char *, size_t, void *);
	void		*arg;
};

/*
 * fn gets a NUL-terminated copy, valid during the call: the mapped bytes
 * carry no terminator.
 */
static int
offline_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct offline_walk	*ow = arg;
	char			*copy;
	int			 stop;

	if (k->mv_size != OFFLINE_KEY_LEN(ow->plen)) {
		log_warnx("store: offline %s@%s: malformed key (%zu bytes), "
		    "skipped", log_escs(ow->node), log_escs(ow->domain),
		    k->mv_size);
		return 0;
	}
	copy = xmalloc(v->mv_size + 1);
	memcpy(copy, v->mv_data, v->mv_size);
	copy[v->mv_size] = '\0';
	stop = ow->fn(rec_get_u64((const uint8_t *)k->mv_data + ow->plen),
	    copy, v->mv_size, ow->arg);
	free(copy);
	return stop;
}

int
store_offline_list(struct store *st, const char *node, const char *domain,
    int (*fn)(uint64_t, const char *, size_t, void *), void *arg)
{
	char			key[STORE_KEY_BUF];
	struct offline_walk	ow = { node, domain, 0, fn, arg };

	if (st->pg != NULL)
		return pgs_offline_list(st->pg, node, domain, fn, arg);
	if ((ow.plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	return store_walk(st, st->offline, "offline list", key, ow.plen,
	    offline_one, &ow);
}

struct offline_del {
	const char	*key;
	size_t		 plen;
	uint64_t	 upto;
	bool		 one;		/* only the message of sequence upto */
};

/* a malformed key is kept (and was logged by the listing) */
static enum range_pick
offline_pick(const MDB_val *k, void *arg)
{
	struct offline_del	*od = arg;

	if (k->mv_size != OFFLINE_KEY_LEN(od->plen))
		return RANGE_SKIP;
	if (rec_get_u64((const uint8_t *)k->mv_data + od->plen) > od->upto)
		return RANGE_STOP;
	return RANGE_DEL;
}

static int
offline_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct offline_del	*od = arg;
	char			 key[STORE_KEY_BUF];
	MDB_val			 k = { OFFLINE_KEY_LEN(od->plen), key };

	if (!od->one)
		return range_del(txn, st->offline, od->key, od->plen,
		    offline_pick, od);
	memcpy(key, od->key, od->plen);
	rec_put_u64((uint8_t *)key + od->plen, od->upto);
	return mdb_del(txn, st->offline, &k, NULL);
}

static int
offline_del(struct store *st, const char *node, const char *domain,
    uint64_t upto, bool one)
{
	char			key[STORE_KEY_BUF];
	struct offline_del	od = { key, 0, upto, one };

	if ((od.plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return one ? -1 : 0;
	}
	return store_write(st, "offline del", offline_del_fn, &od, false);
}

int
store_offline_del(struct store *st, const char *node, const char *domain,
    uint64_t upto)
{
	if (st->pg != NULL)
		return pgs_offline_del(st->pg, node, domain, upto);
	return offline_del(st, node, domain, upto, false);
}

int
store_offline_del_one(struct store *st, const char *node, const char *domain,
    uint64_t seq)
{
	if (st->pg != NULL)
		return pgs_offline_del_one(st->pg, node, domain, seq);
	return offline_del(st, node, domain, seq, true);
}

int
store_offline_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	if (st->pg != NULL)
		return pgs_offline_count(st->pg, node, domain, n);
	return account_count(st, st->offline, "offline count", node, domain,
	    n);
}
