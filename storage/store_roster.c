/*
 * Roster items (RFC 6121 2, 3): prefix + contact to the roster record
 * (store_codec.c), and the account's roster version (XEP-0237) in meta,
 * bumped by every put and delete in the same transaction.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "store_int.h"

int
store_roster_get(struct store *st, const char *node, const char *domain,
    const char *contact, struct roster_item *out)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	int	 rc, err = 0;

	memset(out, 0, sizeof(*out));
	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	if ((k.mv_size = tail_key(st, key, plen, '\0', contact)) == 0) {
		if (errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("roster get", rc);
		return -1;
	}
	if ((rc = mdb_get(txn, st->roster, &k, &v)) != 0)
		err = store_errno("roster get", rc);
	else if (rec_roster_decode(v.mv_data, v.mv_size, out) == -1 ||
	    strcmp(out->jid, contact) != 0) {
		/* the second test also catches a digest collision */
		log_warnx("store: roster %s@%s: item %s: corrupt record "
		    "(%zu bytes)", log_escs(node), log_escs(domain),
		    log_escs(contact), v.mv_size);
		roster_item_clear(out);
		err = EIO;
	}
	store_rtxn_end(st, txn);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

struct roster_write {
	char		*key;
	size_t		 plen;
	MDB_val		 k, v;		/* v.mv_data NULL: delete */
	uint64_t	 ver;		/* out: the version written */
};

static int
roster_write_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct roster_write	*rw = arg;
	uint64_t		 cur;
	int			 rc;

	if (rw->v.mv_data == NULL &&
	    (rc = mdb_del(txn, st->roster, &rw->k, NULL)) != 0)
		return rc;
	if ((rc = meta_get(st, txn, rw->key, rw->plen, META_ROSTER_VER,
	    &cur)) != 0 ||
	    (rc = meta_put(st, txn, rw->key, rw->plen, META_ROSTER_VER,
	    cur + 1)) != 0)
		return rc;
	rw->ver = cur + 1;
	if (rw->v.mv_data == NULL)
		return 0;
	/* the record carries the version this very write creates */
	rec_put_u64((uint8_t *)rw->v.mv_data + ROSTER_REC_VER_OFF, rw->ver);
	return mdb_put(txn, st->roster, &rw->k, &rw->v, 0);
}

int
store_roster_put(struct store *st, const char *node, const char *domain,
    struct roster_item *item, uint64_t *ver)
{
	char			key[STORE_KEY_BUF];
	struct roster_write	rw;
	int			rc, err;

	memset(&rw, 0, sizeof(rw));
	rw.key = key;
	if ((rw.plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((rw.v.mv_data = rec_roster_encode(item, &rw.v.mv_size)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((rw.k.mv_size = tail_key(st, key, rw.plen, '\0',
	    item->jid)) == 0) {
		free(rw.v.mv_data);
		return -1;
	}
	rw.k.mv_data = key;
	rc = store_write(st, "roster put", roster_write_fn, &rw, false);
	err = errno;
	free(rw.v.mv_data);
	if (rc == -1) {
		errno = err;
		return -1;
	}
	item->ver = rw.ver;
	if (ver != NULL)
		*ver = rw.ver;
	return 0;
}

int
store_roster_del(struct store *st, const char *node, const char *domain,
    const char *contact, uint64_t *ver)
{
	char			key[STORE_KEY_BUF];
	struct roster_write	rw;

	memset(&rw, 0, sizeof(rw));
	rw.key = key;
	if ((rw.plen = account_prefix(st, key, node, domain)) == 0 ||
	    (rw.k.mv_size = tail_key(st, key, rw.plen, '\0', contact)) == 0) {
		if (rw.plen == 0 || errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	rw.k.mv_data = key;
	if (store_write(st, "roster del", roster_write_fn, &rw, false) == -1)
		return -1;
	if (ver != NULL)
		*ver = rw.ver;
	return 0;
}

/*
 * A corrupt record is logged and skipped rather than failing the whole
 * roster: the user keeps the rest and can re-add the contact, which
 * replaces the damaged record.
 */
int
store_roster_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const struct roster_item *, void *), void *arg)
{
	char			 key[STORE_KEY_BUF];
	struct roster_item	 it;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 plen;
	int			 rc, stop, op = MDB_SET_RANGE;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;	/* no key can carry it: nothing there */
	if ((rc = store_rtxn(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->roster, &cur)) != 0) {
		store_rtxn_end(st, txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, key, plen))
			break;
		if (rec_roster_decode(v.mv_data, v.mv_size, &it) == -1 ||
		    !key_is(st, &k, key, plen, it.jid)) {
			log_warnx("store: roster %s@%s: corrupt record "
			    "(%zu bytes), skipped", log_escs(node),
			    log_escs(domain), v.mv_size);
			roster_item_clear(&it);
			continue;
		}
		stop = fn(&it, arg);
		roster_item_clear(&it);
		if (stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	store_rtxn_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("roster list", rc);
	return -1;
}

int
store_roster_version(struct store *st, const char *node, const char *domain,
    uint64_t *ver)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	size_t	 plen;
	int	 rc;

	*ver = 0;
	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("roster version", rc);
		return -1;
	}
	rc = meta_get(st, txn, key, plen, META_ROSTER_VER, ver);
	store_rtxn_end(st, txn);
	if (rc > 0 || rc < -1)
		errno = store_errno("roster version", rc);
	return rc == 0 ? 0 : -1;
}

int
store_roster_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	struct store_usage	u;
	int			rc;

	rc = account_usage(st, st->roster, "roster count", '\0', node,
	    domain, &u);
	*n = u.count;
	return rc;
}
