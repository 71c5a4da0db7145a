/*
 * Block list (XEP-0191): key prefix + the JID as written (hashed when
 * long), value the JID again so a listing never depends on the key's
 * form.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

struct block_write {
	const char	*key;
	size_t		 plen;
	MDB_val		 k, v;	/* k.mv_size 0: every entry; v NULL: del */
};

static int
block_write_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct block_write	*bw = arg;

	/* adding one already there is not an error (XEP-0191 3.3) */
	if (bw->v.mv_data != NULL)
		return mdb_put(txn, st->blocks, &bw->k, &bw->v, 0);
	if (bw->k.mv_size == 0)
		return range_del(txn, st->blocks, bw->key, bw->plen, NULL,
		    NULL);
	return mdb_del(txn, st->blocks, &bw->k, NULL);
}

int
store_block_add(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char			key[STORE_KEY_BUF];
	struct block_write	bw;

	if (st->pg != NULL)
		return pgs_block_add(st->pg, node, domain, jid);
	if ((bw.plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((bw.k.mv_size = tail_key(st, key, bw.plen, '\0', jid)) == 0)
		return -1;
	bw.key = key;
	bw.k.mv_data = key;
	bw.v.mv_data = (void *)jid;
	bw.v.mv_size = strlen(jid);
	return store_write(st, "block add", block_write_fn, &bw, false);
}

int
store_block_del(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char			key[STORE_KEY_BUF];
	struct block_write	bw;

	if (st->pg != NULL)
		return pgs_block_del(st->pg, node, domain, jid);
	memset(&bw, 0, sizeof(bw));
	if ((bw.plen = account_prefix(st, key, node, domain)) == 0) {
		if (jid == NULL)
			return 0;
		errno = ENOENT;
		return -1;
	}
	bw.key = key;
	if (jid != NULL) {
		if ((bw.k.mv_size = tail_key(st, key, bw.plen, '\0',
		    jid)) == 0) {
			if (errno == EINVAL)
				errno = ENOENT;
			return -1;
		}
		bw.k.mv_data = key;
	}
	return store_write(st, "block del", block_write_fn, &bw, false);
}

int
store_block_has(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	key[STORE_KEY_BUF];
	MDB_val	k;
	size_t	plen;

	if (st->pg != NULL)
		return pgs_block_has(st->pg, node, domain, jid);
	if ((plen = account_prefix(st, key, node, domain)) == 0 ||
	    (k.mv_size = tail_key(st, key, plen, '\0', jid)) == 0) {
		if (plen == 0 || errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	return store_get(st, st->blocks, "block has", &k, NULL, NULL);
}

struct block_walk {
	struct store	*st;
	const char	*node, *domain, *prefix;
	size_t		 plen;
	int		(*fn)(const char *, void *);
	void		*arg;
};

static int
block_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct block_walk	*bw = arg;
	char			*jid;
	int			 stop = 0;

	jid = xstrndup(v->mv_data, v->mv_size);
	if (v->mv_size == 0 || strlen(jid) != v->mv_size ||
	    !key_is(bw->st, k, bw->prefix, bw->plen, jid))
		log_warnx("store: blocks %s@%s: corrupt record (%zu bytes), "
		    "skipped", log_escs(bw->node), log_escs(bw->domain),
		    v->mv_size);
	else
		stop = bw->fn(jid, bw->arg);
	free(jid);
	return stop;
}

int
store_block_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const char *, void *), void *arg)
{
	char			key[STORE_KEY_BUF];
	struct block_walk	bw = { st, node, domain, key, 0, fn, arg };

	if (st->pg != NULL)
		return pgs_block_list(st->pg, node, domain, fn, arg);
	if ((bw.plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	return store_walk(st, st->blocks, "block list", key, bw.plen,
	    block_one, &bw);
}

int
store_block_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	if (st->pg != NULL)
		return pgs_block_count(st->pg, node, domain, n);
	return account_count(st, st->blocks, "block count", node, domain, n);
}
