/*
 * Accounts: "domain\0node" to the SCRAM credentials (store_codec.c).
 * Deleting an account deletes everything it owns in the same transaction.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

struct account_get {
	const char		*node, *domain;
	struct scram_creds	*out;
};

static int
account_read(const MDB_val *v, void *arg)
{
	struct account_get	*ag = arg;

	if (rec_account_decode(v->mv_data, v->mv_size, ag->out) == 0)
		return 0;
	log_warnx("store: account %s@%s: corrupt record (%zu bytes)",
	    log_escs(ag->node), log_escs(ag->domain), v->mv_size);
	errno = EIO;
	return -1;
}

int
store_account_get(struct store *st, const char *node, const char *domain,
    struct scram_creds *out)
{
	char			key[STORE_KEY_BUF];
	struct account_get	ag = { node, domain, out };
	MDB_val			k;

	if (st->pg != NULL)
		return pgs_account_get(st->pg, node, domain, out);
	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;	/* could never have been stored */
		return -1;
	}
	k.mv_data = key;
	return store_get(st, st->accounts, "account get", &k, account_read,
	    &ag);
}

struct account_put {
	MDB_val	k, v;
	bool	add;
};

static int
account_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct account_put	*ap = arg;
	MDB_val			 old;
	int			 rc;

	/* set replaces only what exists; the lookup shares the write txn */
	if (!ap->add && (rc = mdb_get(txn, st->accounts, &ap->k, &old)) != 0)
		return rc;
	return mdb_put(txn, st->accounts, &ap->k, &ap->v,
	    ap->add ? MDB_NOOVERWRITE : 0);
}

static int
account_put(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr, bool add)
{
	char			key[STORE_KEY_BUF];
	uint8_t			rec[ACCOUNT_REC_MAX];
	struct account_put	ap;
	int			rc, err;

	if ((ap.k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = add ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	ap.k.mv_data = key;
	if ((ap.v.mv_size = rec_account_encode(rec, cr)) == 0) {
		errno = EINVAL;
		return -1;
	}
	ap.v.mv_data = rec;
	ap.add = add;
	rc = store_write(st, add ? "account add" : "account set",
	    account_put_fn, &ap, false);
	err = errno;
	explicit_bzero(rec, sizeof(rec));
	errno = err;
	return rc;
}

int
store_account_add(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	if (st->pg != NULL)
		return pgs_account_add(st->pg, node, domain, cr);
	return account_put(st, node, domain, cr, true);
}

int
store_account_set(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	if (st->pg != NULL)
		return pgs_account_set(st->pg, node, domain, cr);
	return account_put(st, node, domain, cr, false);
}

/*
 * XEP-0480: one hash's credentials added to an account that lacks them
 * (imported with SCRAM-SHA-1 only), in one write transaction so the
 * record read is the one replaced. An account that has that hash keeps
 * it: the task never replaces credentials, and the others stay as they
 * were. 1 when added, 0 when there was one already.
 */
struct account_upgrade {
	MDB_val			 k;
	enum scram_hash		 hash;
	const struct scram_cred	*c;
	bool			 added;
};

static int
account_upgrade_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct account_upgrade	*au = arg;
	struct scram_creds	 cr;
	uint8_t			 rec[ACCOUNT_REC_MAX];
	MDB_val			 v;
	int			 rc;

	au->added = false;
	if ((rc = mdb_get(txn, st->accounts, &au->k, &v)) != 0)
		return rc;
	if (rec_account_decode(v.mv_data, v.mv_size, &cr) == -1) {
		errno = EIO;
		return -1;
	}
	rc = 0;
	if (cr.h[au->hash].iter == 0) {
		cr.h[au->hash] = *au->c;
		if ((v.mv_size = rec_account_encode(rec, &cr)) == 0) {
			errno = EINVAL;
			rc = -1;
		} else {
			v.mv_data = rec;
			rc = mdb_put(txn, st->accounts, &au->k, &v, 0);
			au->added = rc == 0;
		}
	}
	explicit_bzero(&cr, sizeof(cr));
	explicit_bzero(rec, sizeof(rec));
	return rc;
}

int
store_account_upgrade(struct store *st, const char *node,
    const char *domain, enum scram_hash hash, const struct scram_cred *c)
{
	char			key[STORE_KEY_BUF];
	struct account_upgrade	au;

	if (st->pg != NULL)
		return pgs_account_upgrade(st->pg, node, domain, hash, c);
	if ((au.k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	au.k.mv_data = key;
	au.hash = hash;
	au.c = c;
	if (store_write(st, "account upgrade", account_upgrade_fn, &au,
	    false) == -1)
		return -1;
	return au.added ? 1 : 0;
}

struct account_del {
	char	*key;
	size_t	 klen, plen;
};

static int
account_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct account_del	*ad = arg;
	/*
	 * The counters in meta stay: an account created again under the
	 * same name must not reuse a roster version (XEP-0237: a client
	 * caching the old roster would be told nothing changed) or an
	 * offline sequence.
	 */
	MDB_dbi			 owned[] = {
		st->roster, st->offline, st->docs, st->blocks, st->ps_nodes,
		st->ps_items, st->archive, st->archive_with,
	};
	MDB_val			 k;
	size_t			 i;
	int			 rc;

	k.mv_data = ad->key;
	k.mv_size = ad->klen;
	if ((rc = mdb_del(txn, st->accounts, &k, NULL)) != 0)
		return rc;
	/*
	 * Everything else goes in the same transaction: a crash leaves
	 * either the whole account or nothing.
	 */
	for (i = 0; i < nitems(owned); i++)
		if ((rc = range_del(txn, owned[i], ad->key, ad->plen,
		    NULL, NULL)) != 0)
			return rc;
	return 0;
}

int
store_account_del(struct store *st, const char *node, const char *domain)
{
	char			key[STORE_KEY_BUF];
	struct account_del	ad;

	if (st->pg != NULL)
		return pgs_account_del(st->pg, node, domain);
	ad.key = key;
	if ((ad.klen = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	/* the key and the prefix share the buffer: prefix = key + NUL */
	ad.plen = account_prefix(st, key, node, domain);
	return store_write(st, "account del", account_del_fn, &ad, false);
}

struct account_walk {
	int	(*fn)(const char *, const char *, void *);
	void	*arg;
};

static int
account_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct account_walk	*aw = arg;
	char			 key[STORE_KEY_BUF];
	const char		*nul;
	size_t			 dlen;

	(void)v;
	/* key is "domain\0node": one NUL, both parts non-empty */
	if (k->mv_size >= sizeof(key) ||
	    (nul = memchr(k->mv_data, '\0', k->mv_size)) == NULL ||
	    (dlen = (size_t)(nul - (const char *)k->mv_data)) == 0 ||
	    dlen + 1 >= k->mv_size ||
	    memchr(nul + 1, '\0', k->mv_size - dlen - 1) != NULL) {
		log_warnx("store: accounts: malformed key (%zu bytes), "
		    "skipped", k->mv_size);
		return 0;
	}
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	return aw->fn(key + dlen + 1, key, aw->arg);
}

int
store_account_list(struct store *st, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	char			key[STORE_KEY_BUF];
	struct account_walk	aw = { fn, arg };
	size_t			plen = 0;

	if (st->pg != NULL)
		return pgs_account_list(st->pg, domain, fn, arg);
	if (domain != NULL) {
		plen = strlen(domain) + 1;	/* the prefix is "domain\0" */
		if (plen == 1 || plen >= st->maxkey)
			return 0;	/* no key can carry it: nothing there */
		memcpy(key, domain, plen);
	}
	return store_walk(st, st->accounts, "account list", key, plen,
	    account_one, &aw);
}
