/*
 * The block list over PostgreSQL (XEP-0191): a row per (account, JID as
 * written).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

struct block_write {
	const char	*node, *domain, *jid;	/* jid NULL: every one */
	bool		 add;
};

static int
block_write_fn(struct pgstore *pg, void *arg)
{
	struct block_write	*bw = arg;
	struct pgq		 q;

	pgq_owner(&q, bw->node, bw->domain);
	/* adding one already there is not an error (XEP-0191 3.3) */
	if (bw->add) {
		pgq_text(&q, bw->jid);
		return pg_cmd(pg, "block add", "INSERT INTO blocks "
		    "(domain, node, jid) VALUES ($1, $2, $3) "
		    "ON CONFLICT DO NOTHING", &q);
	}
	if (bw->jid == NULL)
		return pg_cmd(pg, "block del", "DELETE FROM blocks "
		    "WHERE domain = $1 AND node = $2", &q);
	pgq_text(&q, bw->jid);
	return pg_cmd_one(pg, "block del", "DELETE FROM blocks "
	    "WHERE domain = $1 AND node = $2 AND jid = $3", &q);
}

int
pgs_block_add(struct pgstore *pg, const char *node, const char *domain,
    const char *jid)
{
	struct block_write	bw = { node, domain, jid, true };

	if (!pg_acct_ok(node, domain)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (*jid == '\0') {
		errno = EINVAL;
		return -1;
	}
	return pg_write(pg, "block add", block_write_fn, &bw, false);
}

int
pgs_block_del(struct pgstore *pg, const char *node, const char *domain,
    const char *jid)
{
	struct block_write	bw = { node, domain, jid, false };

	if (!pg_acct_ok(node, domain) || (jid != NULL && *jid == '\0')) {
		if (jid == NULL)
			return 0;
		errno = ENOENT;
		return -1;
	}
	return pg_write(pg, "block del", block_write_fn, &bw, false);
}

int
pgs_block_has(struct pgstore *pg, const char *node, const char *domain,
    const char *jid)
{
	PGresult	*res;
	struct pgq	 q;
	int		 n;

	if (!pg_acct_ok(node, domain) || *jid == '\0') {
		errno = ENOENT;
		return -1;
	}
	pgq_owner(&q, node, domain);
	pgq_text(&q, jid);
	if ((res = pg_run(pg, "block has", "SELECT 1 FROM blocks "
	    "WHERE domain = $1 AND node = $2 AND jid = $3", &q)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

struct block_list {
	int	(*fn)(const char *, void *);
	void	 *arg;
};

static int
block_list_row(const PGresult *res, int row, void *arg)
{
	struct block_list	*bl = arg;

	return bl->fn(PQgetvalue(res, row, 0), bl->arg);
}

/* no JID is "": the first page starts after it */
int
pgs_block_list(struct pgstore *pg, const char *node, const char *domain,
    int (*fn)(const char *, void *), void *arg)
{
	struct block_list	bl = { fn, arg };
	struct pgq		q;

	if (!pg_acct_ok(node, domain))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_text(&q, "");
	return pg_list(pg, "block list", "SELECT jid FROM blocks "
	    "WHERE domain = $1 AND node = $2 AND jid > $3 "
	    "ORDER BY jid LIMIT $4", &q, 1, block_list_row, &bl);
}

int
pgs_block_count(struct pgstore *pg, const char *node, const char *domain,
    size_t *n)
{
	return pg_owner_count(pg, "block count", "blocks", node, domain, n);
}
