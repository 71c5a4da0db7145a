/*
 * Listings over PostgreSQL in pages (docs/internals.md, "Storage:
 * PostgreSQL", "Listings"): keyset pagination in key order, so that a
 * huge roster, offline queue or walk over a domain is never one result
 * in the router's memory, where LMDB walks a cursor.
 */
#include <stddef.h>

#include "pg_int.h"

/*
 * Each page is its own statement, run in the open transaction if any
 * (a batch's listing sees the batch's writes): the next page starts
 * after the last row's key, so a row that stays is listed once, in
 * order, whatever is written between two pages.
 */
int
pg_list(struct pgstore *pg, const char *op, const char *sql, struct pgq *q,
    int nkey, pg_row_fn *fn, void *arg)
{
	PGresult	*res, *prev = NULL;
	int		 base = q->n - nkey, i, n, stop = 0;

	do {
		pgq_u64(q, PG_PAGE);
		/* q's key points into prev's last row until this returns */
		res = pg_run(pg, op, sql, q);
		pg_clear(prev);
		if (res == NULL)
			return -1;
		n = PQntuples(res);
		for (i = 0; i < n && stop == 0; i++)
			stop = fn(res, i, arg);
		/* the key's columns as they came: binary, any type */
		q->n = base;
		for (i = 0; n > 0 && i < nkey; i++)
			pgq_bytes(q, PQgetvalue(res, n - 1, i),
			    (size_t)PQgetlength(res, n - 1, i));
		prev = res;
	} while (stop == 0 && n == PG_PAGE);
	PQclear(prev);
	return 0;
}
