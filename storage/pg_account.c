/*
 * Accounts over PostgreSQL: a row per account, the credentials in
 * storage/store_codec.c's record. Deleting an account deletes everything
 * it owns in the same transaction, but not its counters (roster version,
 * offline sequence): as with LMDB, an account made again under the same
 * name never reuses them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg_int.h"
#include "store_codec.h"

int
pgs_account_get(struct pgstore *pg, const char *node, const char *domain,
    struct scram_creds *out)
{
	PGresult	*res;
	struct pgq	 q;
	int		 rc = 0;

	if (!pg_acct_ok(node, domain)) {
		errno = ENOENT;	/* could never have been stored */
		return -1;
	}
	pgq_owner(&q, node, domain);
	if ((res = pg_run(pg, "account get", "SELECT creds FROM accounts "
	    "WHERE domain = $1 AND node = $2", &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		errno = ENOENT;
		rc = -1;
	} else if (rec_account_decode((const uint8_t *)PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), out) == -1) {
		log_warnx("store: account %s@%s: corrupt record (%d bytes)",
		    log_escs(node), log_escs(domain), PQgetlength(res, 0, 0));
		errno = EIO;
		rc = -1;
	}
	if (PQntuples(res) > 0)
		explicit_bzero(PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0));
	pg_clear(res);
	return rc;
}

struct account_put {
	const char	*node, *domain;
	const uint8_t	*rec;
	size_t		 len;
	bool		 add;
};

static int
account_put_fn(struct pgstore *pg, void *arg)
{
	struct account_put	*ap = arg;
	struct pgq		 q;

	pgq_owner(&q, ap->node, ap->domain);
	pgq_bytes(&q, ap->rec, ap->len);
	/*
	 * A unique violation is EEXIST: an add of one that exists; set
	 * replaces only what exists (ENOENT).
	 */
	return pg_cmd_one(pg, ap->add ? "account add" : "account set",
	    ap->add ? "INSERT INTO accounts (domain, node, creds) "
	    "VALUES ($1, $2, $3)" :
	    "UPDATE accounts SET creds = $3 WHERE domain = $1 AND node = $2",
	    &q);
}

static int
account_put(struct pgstore *pg, const char *node, const char *domain,
    const struct scram_creds *cr, bool add)
{
	uint8_t			rec[ACCOUNT_REC_MAX];
	struct account_put	ap = { node, domain, rec, 0, add };
	int			rc, err;

	if (!pg_acct_ok(node, domain)) {
		errno = add ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	if ((ap.len = rec_account_encode(rec, cr)) == 0) {
		errno = EINVAL;
		return -1;
	}
	rc = pg_write(pg, add ? "account add" : "account set",
	    account_put_fn, &ap, false);
	err = errno;
	explicit_bzero(rec, sizeof(rec));
	errno = err;
	return rc;
}

int
pgs_account_add(struct pgstore *pg, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(pg, node, domain, cr, true);
}

int
pgs_account_set(struct pgstore *pg, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(pg, node, domain, cr, false);
}

/*
 * XEP-0480: the row is read FOR UPDATE, so the record replaced is the
 * one read even with another process writing.
 */
struct account_upgrade {
	const char		*node, *domain;
	enum scram_hash		 hash;
	const struct scram_cred	*c;
	bool			 added;
};

static int
account_upgrade_fn(struct pgstore *pg, void *arg)
{
	struct account_upgrade	*au = arg;
	struct scram_creds	 cr;
	uint8_t			 rec[ACCOUNT_REC_MAX];
	PGresult		*res;
	struct pgq		 q;
	size_t			 len;
	int			 rc = 0;

	au->added = false;
	pgq_owner(&q, au->node, au->domain);
	if ((res = pg_run(pg, "account upgrade", "SELECT creds FROM accounts "
	    "WHERE domain = $1 AND node = $2 FOR UPDATE", &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		pg_clear(res);
		errno = ENOENT;
		return -1;
	}
	rc = rec_account_decode((const uint8_t *)PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), &cr);
	explicit_bzero(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	if (rc == -1) {
		errno = EIO;
		return -1;
	}
	if (cr.h[au->hash].iter == 0) {
		cr.h[au->hash] = *au->c;
		if ((len = rec_account_encode(rec, &cr)) == 0) {
			errno = EINVAL;
			rc = -1;
		} else {
			pgq_bytes(&q, rec, len);
			rc = pg_cmd(pg, "account upgrade", "UPDATE accounts "
			    "SET creds = $3 WHERE domain = $1 AND node = $2",
			    &q);
			au->added = rc == 0;
		}
	}
	explicit_bzero(&cr, sizeof(cr));
	explicit_bzero(rec, sizeof(rec));
	return rc;
}

int
pgs_account_upgrade(struct pgstore *pg, const char *node,
    const char *domain, enum scram_hash hash, const struct scram_cred *c)
{
	struct account_upgrade	au = { node, domain, hash, c, false };

	if (!pg_acct_ok(node, domain)) {
		errno = ENOENT;
		return -1;
	}
	if (pg_write(pg, "account upgrade", account_upgrade_fn, &au,
	    false) == -1)
		return -1;
	return au.added ? 1 : 0;
}

struct account_del {
	const char	*node, *domain;
};

static int
account_del_fn(struct pgstore *pg, void *arg)
{
	/* the counters stay: see the top of the file */
	static const char *const	 owned[] = {
		"DELETE FROM roster WHERE domain = $1 AND node = $2",
		"DELETE FROM offline WHERE domain = $1 AND node = $2",
		"DELETE FROM docs WHERE domain = $1 AND node = $2",
		"DELETE FROM blocks WHERE domain = $1 AND node = $2",
	};
	struct account_del		*ad = arg;
	struct pgq			 q;
	size_t				 i;

	pgq_owner(&q, ad->node, ad->domain);
	if (pg_cmd_one(pg, "account del", "DELETE FROM accounts "
	    "WHERE domain = $1 AND node = $2", &q) == -1)
		return -1;
	/*
	 * Everything else in the same transaction (the pubsub and archive
	 * calls join it: pg_write inside a write): a crash leaves either
	 * the whole account or nothing.
	 */
	for (i = 0; i < nitems(owned); i++)
		if (pg_cmd(pg, "account del", owned[i], &q) == -1)
			return -1;
	if (pgs_pubsub_owner_del(pg, ad->node, ad->domain) == -1 ||
	    pgs_archive_clear(pg, ad->node, ad->domain) == -1)
		return -1;
	return 0;
}

int
pgs_account_del(struct pgstore *pg, const char *node, const char *domain)
{
	struct account_del	ad = { node, domain };

	if (!pg_acct_ok(node, domain)) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(pg, "account del", account_del_fn, &ad, false);
}

struct account_list {
	int	(*fn)(const char *, const char *, void *);
	void	 *arg;
};

static int
account_list_row(const PGresult *res, int row, void *arg)
{
	struct account_list	*al = arg;

	return al->fn(PQgetvalue(res, row, 1), PQgetvalue(res, row, 0),
	    al->arg);
}

/*
 * In (domain, node) order, a page at a time (pg_list): fn may call the
 * store (an export reads each account's records). No domain is "": the
 * first page starts after ("", "").
 */
int
pgs_account_list(struct pgstore *pg, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	struct account_list	al = { fn, arg };
	struct pgq		q;

	pgq_init(&q);
	pgq_text(&q, domain);
	pgq_text(&q, "");
	pgq_text(&q, "");
	return pg_list(pg, "account list", "SELECT domain, node "
	    "FROM accounts WHERE ($1::text IS NULL OR domain = $1) "
	    "AND (domain, node) > ($2, $3) ORDER BY domain, node "
	    "LIMIT $4", &q, 2, account_list_row, &al);
}
