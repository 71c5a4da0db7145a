/*
 * Documents over PostgreSQL: a row per (account, kind, name), the kind by
 * its name below so that an operator reading the table sees what a row
 * is. Deferred writes (store_doc_put_later) join the open deferred
 * transaction, each in a savepoint (storage/pg.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "pg_int.h"

static const char *const	doc_kinds[] = {
	[DOC_VCARD] = "vcard",
	[DOC_PRIVATE] = "private",
	[DOC_LAST] = "last",
	[DOC_MAM_PREFS] = "mam_prefs",
	[DOC_PUSH] = "push",
	[DOC_FAST] = "fast",
	[DOC_DISABLED] = "disabled",
	[DOC_MUC] = "muc",
	[DOC_UPLOAD] = "upload",
	[DOC_ROLE] = "role",
	[DOC_INVITE] = "invite",
};

/* the kind's name, or NULL with errno EINVAL */
static const char *
doc_kind(enum store_doc kind)
{
	if ((size_t)kind >= nitems(doc_kinds) || doc_kinds[kind] == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return doc_kinds[kind];
}

/* $1 domain, $2 node, $3 kind, $4 name */
static void
pgq_doc(struct pgq *q, const char *kind, const char *node,
    const char *domain, const char *name)
{
	pgq_owner(q, node, domain);
	pgq_text(q, kind);
	pgq_text(q, name != NULL ? name : "");
}

int
pgs_doc_get(struct pgstore *pg, enum store_doc kind, const char *node,
    const char *domain, const char *name, char **val, size_t *len)
{
	const char	*k;
	PGresult	*res;
	struct pgq	 q;
	size_t		 n;

	*val = NULL;
	if (len != NULL)
		*len = 0;
	if ((k = doc_kind(kind)) == NULL)
		return -1;
	if (!pg_acct_ok(node, domain)) {
		errno = ENOENT;
		return -1;
	}
	pgq_doc(&q, k, node, domain, name);
	if ((res = pg_run(pg, "doc get", "SELECT val FROM docs WHERE "
	    "domain = $1 AND node = $2 AND kind = $3 AND name = $4",
	    &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	n = (size_t)PQgetlength(res, 0, 0);
	*val = xmalloc(n + 1);
	memcpy(*val, PQgetvalue(res, 0, 0), n);
	(*val)[n] = '\0';
	if (len != NULL)
		*len = n;
	PQclear(res);
	return 0;
}

struct doc_write {
	const char	*kind, *node, *domain, *name, *val;	/* val NULL:
								   delete */
	size_t		 len;
};

/* deleting a document that is not there is not an error */
static int
doc_write_fn(struct pgstore *pg, void *arg)
{
	struct doc_write	*dw = arg;
	struct pgq		 q;

	pgq_doc(&q, dw->kind, dw->node, dw->domain, dw->name);
	if (dw->val == NULL)
		return pg_cmd(pg, "doc put", "DELETE FROM docs WHERE "
		    "domain = $1 AND node = $2 AND kind = $3 AND name = $4",
		    &q);
	pgq_bytes(&q, dw->val, dw->len);
	return pg_cmd(pg, "doc put", "INSERT INTO docs "
	    "(domain, node, kind, name, val) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT (domain, node, kind, name) DO UPDATE "
	    "SET val = EXCLUDED.val", &q);
}

static int
doc_write(struct pgstore *pg, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len,
    bool later)
{
	struct doc_write	dw = { NULL, node, domain, name, val, len };

	if ((dw.kind = doc_kind(kind)) == NULL)
		return -1;
	if (!pg_acct_ok(node, domain)) {
		if (val == NULL)
			return 0;
		errno = ENAMETOOLONG;
		return -1;
	}
	return pg_write(pg, "doc put", doc_write_fn, &dw, later);
}

int
pgs_doc_put(struct pgstore *pg, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	return doc_write(pg, kind, node, domain, name, val, len, false);
}

int
pgs_doc_put_later(struct pgstore *pg, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	return doc_write(pg, kind, node, domain, name, val, len, true);
}

int
pgs_doc_usage(struct pgstore *pg, enum store_doc kind, const char *node,
    const char *domain, struct store_usage *u)
{
	const char	*k;
	PGresult	*res;
	struct pgq	 q;

	memset(u, 0, sizeof(*u));
	if ((k = doc_kind(kind)) == NULL)
		return -1;
	if (!pg_acct_ok(node, domain))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_text(&q, k);
	if ((res = pg_run(pg, "doc usage", "SELECT count(*), "
	    "coalesce(sum(octet_length(val)), 0) FROM docs "
	    "WHERE domain = $1 AND node = $2 AND kind = $3", &q)) == NULL)
		return -1;
	u->count = (size_t)pg_u64(res, 0, 0);
	u->bytes = (size_t)pg_u64(res, 0, 1);
	PQclear(res);
	return 0;
}

struct doc_walk {
	int	(*fn)(const char *, size_t, void *);
	void	 *arg;
};

static int
doc_walk_row(const PGresult *res, int row, void *arg)
{
	struct doc_walk	*dw = arg;

	return dw->fn(PQgetvalue(res, row, 2),
	    (size_t)PQgetlength(res, row, 2), dw->arg);
}

/*
 * In (node, name) order: LMDB's key order. No document's node is ""
 * (pg_acct_ok): the first page starts after ("", "").
 */
int
pgs_doc_walk(struct pgstore *pg, enum store_doc kind, const char *domain,
    int (*fn)(const char *, size_t, void *), void *arg)
{
	struct doc_walk	 dw = { fn, arg };
	const char	*k;
	struct pgq	 q;

	if ((k = doc_kind(kind)) == NULL)
		return -1;
	if (strlen(domain) + 1 > PG_ACCT_MAX) {
		errno = EINVAL;
		return -1;
	}
	pgq_init(&q);
	pgq_text(&q, domain);
	pgq_text(&q, k);
	pgq_text(&q, "");
	pgq_text(&q, "");
	return pg_list(pg, "doc walk", "SELECT node, name, val FROM docs "
	    "WHERE domain = $1 AND kind = $2 AND (node, name) > ($3, $4) "
	    "ORDER BY node, name LIMIT $5", &q, 2, doc_walk_row, &dw);
}

int
pgs_doc_walk_account(struct pgstore *pg, enum store_doc kind,
    const char *node, const char *domain, const char *after, size_t max,
    int (*fn)(const char *, const char *, size_t, void *), void *arg)
{
	const char	*k;
	PGresult	*res;
	struct pgq	 q;
	int		 i, stop = 0;

	if ((k = doc_kind(kind)) == NULL)
		return -1;
	if (!pg_acct_ok(node, domain) || max == 0)
		return 0;	/* an account that cannot be has none */
	pgq_doc(&q, k, node, domain, after);
	pgq_u64(&q, max);
	/* "" starts at the first: a document may be named "" */
	if ((res = pg_run(pg, "doc walk", "SELECT name, val FROM docs "
	    "WHERE domain = $1 AND node = $2 AND kind = $3 AND "
	    "($4 = '' OR name > $4) ORDER BY name LIMIT $5", &q)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && stop == 0; i++)
		stop = fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    (size_t)PQgetlength(res, i, 1), arg);
	PQclear(res);
	return 0;
}
