/*
 * Offline messages over PostgreSQL (XEP-0160): a row per stanza, its
 * sequence from the account's counter (kind 'o'), which deletes never
 * lower and which outlives the account, so a sequence the router has
 * seen is never given to another message. The quota is checked in the
 * inserting transaction, after the counter's row lock: two writers for
 * one account take turns, and neither can pass the quota by the other.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "pg_int.h"

#define OFFLINE_SEQ	"o"

struct offline_put {
	const char			*node, *domain, *xml;
	size_t				 len;
	const struct store_usage	*max;
	uint64_t			 seq;	/* out */
};

static int
offline_put_fn(struct pgstore *pg, void *arg)
{
	struct offline_put	*op = arg;
	PGresult		*res;
	struct pgq		 q;
	uint64_t		 count, bytes;

	if (pg_counter_next(pg, "offline put", op->node, op->domain,
	    OFFLINE_SEQ, &op->seq) == -1)
		return -1;
	pgq_owner(&q, op->node, op->domain);
	if ((res = pg_run(pg, "offline put", "SELECT count(*), "
	    "coalesce(sum(octet_length(stanza)), 0) FROM offline "
	    "WHERE domain = $1 AND node = $2", &q)) == NULL)
		return -1;
	count = pg_u64(res, 0, 0);
	bytes = pg_u64(res, 0, 1);
	PQclear(res);
	if (count >= op->max->count || bytes + op->len > op->max->bytes) {
		errno = EDQUOT;	/* the counter's raise is undone with it */
		return -1;
	}
	pgq_u64(&q, op->seq);
	pgq_bytes(&q, op->xml, op->len);
	/* a sequence used already is EEXIST: never overwrite a message */
	return pg_cmd(pg, "offline put", "INSERT INTO offline "
	    "(domain, node, seq, stanza) VALUES ($1, $2, $3, $4)", &q);
}

int
pgs_offline_put(struct pgstore *pg, const char *node, const char *domain,
    const char *xml, size_t len, const struct store_usage *max,
    uint64_t *seq)
{
	struct offline_put	op = { node, domain, xml, len, max, 0 };

	if (!pg_acct_ok(node, domain)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (pg_write(pg, "offline put", offline_put_fn, &op, false) == -1) {
		if (errno == EEXIST)
			errno = EIO;	/* logged by pg_run */
		return -1;
	}
	if (seq != NULL)
		*seq = op.seq;
	return 0;
}

struct offline_list {
	int	(*fn)(uint64_t, const char *, size_t, void *);
	void	 *arg;
};

/* fn gets the stanza NUL-terminated (libpq terminates every value) */
static int
offline_list_row(const PGresult *res, int row, void *arg)
{
	struct offline_list	*ol = arg;

	return ol->fn(pg_u64(res, row, 0), PQgetvalue(res, row, 1),
	    (size_t)PQgetlength(res, row, 1), ol->arg);
}

/* sequences start at 1: the first page starts after 0 */
int
pgs_offline_list(struct pgstore *pg, const char *node, const char *domain,
    int (*fn)(uint64_t, const char *, size_t, void *), void *arg)
{
	struct offline_list	ol = { fn, arg };
	struct pgq		q;

	if (!pg_acct_ok(node, domain))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_u64(&q, 0);
	return pg_list(pg, "offline list", "SELECT seq, stanza FROM offline "
	    "WHERE domain = $1 AND node = $2 AND seq > $3 "
	    "ORDER BY seq LIMIT $4", &q, 1, offline_list_row, &ol);
}

struct offline_del {
	const char	*node, *domain;
	uint64_t	 upto;
	bool		 one;		/* only the message of sequence upto */
};

static int
offline_del_fn(struct pgstore *pg, void *arg)
{
	struct offline_del	*od = arg;
	struct pgq		 q;

	pgq_owner(&q, od->node, od->domain);
	pgq_u64(&q, od->upto);
	if (od->one)
		return pg_cmd_one(pg, "offline del", "DELETE FROM offline "
		    "WHERE domain = $1 AND node = $2 AND seq = $3", &q);
	return pg_cmd(pg, "offline del", "DELETE FROM offline "
	    "WHERE domain = $1 AND node = $2 AND seq <= $3", &q);
}

int
pgs_offline_del(struct pgstore *pg, const char *node, const char *domain,
    uint64_t upto)
{
	struct offline_del	od = { node, domain, upto, false };

	if (!pg_acct_ok(node, domain))
		return 0;
	return pg_write(pg, "offline del", offline_del_fn, &od, false);
}

int
pgs_offline_del_one(struct pgstore *pg, const char *node,
    const char *domain, uint64_t seq)
{
	struct offline_del	od = { node, domain, seq, true };

	if (!pg_acct_ok(node, domain) || seq > INT64_MAX) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(pg, "offline del", offline_del_fn, &od, false);
}

int
pgs_offline_count(struct pgstore *pg, const char *node, const char *domain,
    size_t *n)
{
	return pg_owner_count(pg, "offline count", "offline", node, domain,
	    n);
}
