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
		return range_del(txn, st->blocks, bw->key, bw->plen);
	return mdb_del(txn, st->blocks, &bw->k, NULL);
}

int
store_block_add(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char			key[STORE_KEY_BUF];
	struct block_write	bw;

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
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	int	 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0 ||
	    (k.mv_size = tail_key(st, key, plen, '\0', jid)) == 0) {
		if (plen == 0 || errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = store_rtxn(st, &txn)) != 0)
		goto fail;
	rc = mdb_get(txn, st->blocks, &k, &v);
	store_rtxn_end(st, txn);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("block has", rc);
	return -1;
}

int
store_block_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const char *, void *), void *arg)
{
	char		 key[STORE_KEY_BUF];
	char		*jid;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen;
	int		 rc, stop, op = MDB_SET_RANGE;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = store_rtxn(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->blocks, &cur)) != 0) {
		store_rtxn_end(st, txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, key, plen))
			break;
		jid = xstrndup(v.mv_data, v.mv_size);
		if (v.mv_size == 0 || strlen(jid) != v.mv_size ||
		    !key_is(st, &k, key, plen, jid)) {
			log_warnx("store: blocks %s@%s: corrupt record "
			    "(%zu bytes), skipped", log_escs(node),
			    log_escs(domain), v.mv_size);
			free(jid);
			continue;
		}
		stop = fn(jid, arg);
		free(jid);
		if (stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	store_rtxn_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("block list", rc);
	return -1;
}

int
store_block_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	struct store_usage	u;
	int			rc;

	rc = account_usage(st, st->blocks, "block count", '\0', node, domain,
	    &u);
	*n = u.count;
	return rc;
}
