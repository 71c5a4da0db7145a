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
#include "store_int.h"

int
store_account_get(struct store *st, const char *node, const char *domain,
    struct scram_creds *out)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc, err = 0;

	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;	/* could never have been stored */
		return -1;
	}
	k.mv_data = key;
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("account get", rc);
		return -1;
	}
	if ((rc = mdb_get(txn, st->accounts, &k, &v)) != 0)
		err = store_errno("account get", rc);
	else if (rec_account_decode(v.mv_data, v.mv_size, out) == -1) {
		log_warnx("store: account %s@%s: corrupt record (%zu bytes)",
		    log_escs(node), log_escs(domain), v.mv_size);
		err = EIO;
	}
	store_rtxn_end(st, txn);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
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
	return account_put(st, node, domain, cr, true);
}

int
store_account_set(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(st, node, domain, cr, false);
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
		st->roster, st->offline, st->docs, st->blocks,
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
		if ((rc = range_del(txn, owned[i], ad->key, ad->plen)) != 0)
			return rc;
	return 0;
}

int
store_account_del(struct store *st, const char *node, const char *domain)
{
	char			key[STORE_KEY_BUF];
	struct account_del	ad;

	ad.key = key;
	if ((ad.klen = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	/* the key and the prefix share the buffer: prefix = key + NUL */
	ad.plen = account_prefix(st, key, node, domain);
	return store_write(st, "account del", account_del_fn, &ad, false);
}

int
store_account_list(struct store *st, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	char		 key[STORE_KEY_BUF];
	const char	*nul;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = 0;
	int		 rc, op;

	if (domain != NULL) {
		plen = strlen(domain) + 1;	/* the prefix is "domain\0" */
		if (plen == 1 || plen >= st->maxkey)
			return 0;	/* no key can carry it: nothing there */
		memcpy(key, domain, plen);
	}
	if ((rc = store_rtxn(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->accounts, &cur)) != 0) {
		store_rtxn_end(st, txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	op = domain != NULL ? MDB_SET_RANGE : MDB_FIRST;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, domain, plen) != 0))
			break;	/* past the domain's range */
		/* key is "domain\0node": one NUL, both parts non-empty */
		if (k.mv_size >= sizeof(key) ||
		    (nul = memchr(k.mv_data, '\0', k.mv_size)) == NULL ||
		    nul == k.mv_data ||
		    (size_t)(nul - (const char *)k.mv_data) + 1 >= k.mv_size ||
		    memchr(nul + 1, '\0', k.mv_size -
		    (size_t)(nul - (const char *)k.mv_data) - 1) != NULL) {
			log_warnx("store: accounts: malformed key "
			    "(%zu bytes), skipped", k.mv_size);
			continue;
		}
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if (fn(key + strlen(key) + 1, key, arg) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	store_rtxn_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("account list", rc);
	return -1;
}
