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
#include "pg.h"
#include "store_int.h"

struct roster_get {
	const char		*node, *domain, *contact;
	struct roster_item	*out;
};

static int
roster_read(const MDB_val *v, void *arg)
{
	struct roster_get	*rg = arg;

	/* the second test also catches a digest collision */
	if (rec_roster_decode(v->mv_data, v->mv_size, rg->out) == 0 &&
	    strcmp(rg->out->jid, rg->contact) == 0)
		return 0;
	log_warnx("store: roster %s@%s: item %s: corrupt record (%zu bytes)",
	    log_escs(rg->node), log_escs(rg->domain), log_escs(rg->contact),
	    v->mv_size);
	roster_item_clear(rg->out);
	errno = EIO;
	return -1;
}

int
store_roster_get(struct store *st, const char *node, const char *domain,
    const char *contact, struct roster_item *out)
{
	char			key[STORE_KEY_BUF];
	struct roster_get	rg = { node, domain, contact, out };
	MDB_val			k;
	size_t			plen;

	if (st->pg != NULL)
		return pgs_roster_get(st->pg, node, domain, contact, out);
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
	return store_get(st, st->roster, "roster get", &k, roster_read, &rg);
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

	if (st->pg != NULL)
		return pgs_roster_put(st->pg, node, domain, item, ver);
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

	if (st->pg != NULL)
		return pgs_roster_del(st->pg, node, domain, contact, ver);
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

struct roster_walk {
	struct store	*st;
	const char	*node, *domain, *prefix;
	size_t		 plen;
	int		(*fn)(const struct roster_item *, void *);
	void		*arg;
};

static int
roster_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct roster_walk	*rw = arg;
	struct roster_item	 it;
	int			 stop;

	if (rec_roster_decode(v->mv_data, v->mv_size, &it) == -1 ||
	    !key_is(rw->st, k, rw->prefix, rw->plen, it.jid)) {
		log_warnx("store: roster %s@%s: corrupt record (%zu bytes), "
		    "skipped", log_escs(rw->node), log_escs(rw->domain),
		    v->mv_size);
		roster_item_clear(&it);
		return 0;
	}
	stop = rw->fn(&it, rw->arg);
	roster_item_clear(&it);
	return stop;
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
	char			key[STORE_KEY_BUF];
	struct roster_walk	rw = { st, node, domain, key, 0, fn, arg };

	if (st->pg != NULL)
		return pgs_roster_list(st->pg, node, domain, fn, arg);
	if ((rw.plen = account_prefix(st, key, node, domain)) == 0)
		return 0;	/* no key can carry it: nothing there */
	return store_walk(st, st->roster, "roster list", key, rw.plen,
	    roster_one, &rw);
}

int
store_roster_version(struct store *st, const char *node, const char *domain,
    uint64_t *ver)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	size_t	 plen;
	int	 rc;

	if (st->pg != NULL)
		return pgs_roster_version(st->pg, node, domain, ver);
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
	if (st->pg != NULL)
		return pgs_roster_count(st->pg, node, domain, n);
	return account_count(st, st->roster, "roster count", node, domain, n);
}
