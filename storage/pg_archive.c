/*
 * The message archive (XEP-0313) over PostgreSQL (storage/pg.h): the
 * same contract as storage/store_archive.c. Tables (pg_pubsub.c's
 * pg_schema_rich): archive_owners holds each owner's last id, count and
 * bytes; archive the entries by (owner, id), with the index archive_with
 * by (owner, correspondent, id) (docs/internals.md, "Storage:
 * PostgreSQL, publish-subscribe and archive").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "pg_int.h"
#include "store_retain.h"

/*
 * What an entry counts against archive-max-bytes: the size of the LMDB
 * backend's record (store_codec.h: version, nonce, stamp, with's length
 * and bytes, the message), so that a limit means the same on both.
 */
#define ENTRY_OVERHEAD	(1 + 8 + 8 + 4)
/* entries read per statement by a walk: bounds the memory of a page */
#define WALK_PAGE	64
/* a trim reads the oldest entries this many at a time */
#define TRIM_PAGE	64

struct totals {
	uint64_t	last, count, bytes;
};

/*
 * An int8 parameter holding a u64's bits (a nonce may pass INT64_MAX),
 * written into buf, which must outlive the statement.
 */
static void
pgq_bits(struct pgq *q, char buf[24], uint64_t v)
{
	snprintf(buf, 24, "%" PRId64, (int64_t)v);
	pgq_text(q, buf);
}

struct arch_put {
	const char			*node, *domain;
	const struct archive_entry	*e;
	const struct archive_limits	*max;
	uint64_t			 id;	/* out */
	/* its statement's parameters (arch_params) */
	struct pgq			 q;
	char				 nb[3][24];
};

/*
 * Retention: the oldest entries go while the archive is past a limit
 * (never the one just added), a page of them read at a time; t follows.
 */
static int
arch_trim(struct pgstore *ps, struct arch_put *ap, struct totals *t)
{
	struct pgq	 q;
	PGresult	*res;
	uint64_t	 id, cut = 0, after = 0, b;
	int		 i, rows;
	bool		 more = true;

	/* within count and bytes, no age limit: nothing to read */
	if (ap->max->age == 0 && !archive_over(ap->max, t->count, t->bytes,
	    ap->e->stamp, UINT64_MAX))
		return 0;
	while (more) {
		pgq_owner(&q, ap->node, ap->domain);
		pgq_u64(&q, after);
		pgq_u64(&q, ap->id);
		pgq_u64(&q, TRIM_PAGE);
		if ((res = pg_run(ps, "archive trim", "SELECT id, bytes"
		    " FROM archive WHERE domain = $1 AND node = $2"
		    " AND id >= $3 AND id < $4 ORDER BY id LIMIT $5",
		    &q)) == NULL)
			return -1;
		rows = PQntuples(res);
		more = rows == TRIM_PAGE;
		for (i = 0; i < rows; i++) {
			id = pg_u64(res, i, 0);
			if (!archive_over(ap->max, t->count, t->bytes,
			    ap->e->stamp, id)) {
				more = false;
				break;
			}
			b = pg_u64(res, i, 1);
			t->count = t->count > 0 ? t->count - 1 : 0;
			t->bytes = t->bytes > b ? t->bytes - b : 0;
			cut = id;
			after = id + 1;
		}
		PQclear(res);
	}
	if (after == 0)
		return 0;
	pgq_owner(&q, ap->node, ap->domain);
	pgq_u64(&q, cut);
	if (pg_cmd(ps, "archive trim", "DELETE FROM archive"
	    " WHERE domain = $1 AND node = $2 AND id <= $3", &q) == -1)
		return -1;
	pgq_owner(&q, ap->node, ap->domain);
	pgq_u64(&q, t->count);
	pgq_u64(&q, t->bytes);
	return pg_cmd(ps, "archive trim", "UPDATE archive_owners"
	    " SET count = $3, bytes = $4 WHERE domain = $1 AND node = $2", &q);
}

/*
 * The entry and the owner's last id and totals in one statement, so that
 * the entries of a message go in one round trip (pg_run_n). The id is
 * time-ordered and unique: the stamp, or one past the owner's last id
 * when the clock lags, and past every id given in a transaction that was
 * lost (pgstore's arch_floor). The owner's row is kept when its entries
 * go, so ids never go back.
 */
static const char	arch_put_sql[] = "WITH o AS ("
    "INSERT INTO archive_owners AS o"
    " VALUES ($1, $2, GREATEST($3::int8, $9::int8), 1, $4::int8)"
    " ON CONFLICT (domain, node) DO UPDATE"
    " SET last_id = GREATEST(o.last_id + 1, $3::int8, $9::int8),"
    " count = o.count + 1, bytes = o.bytes + $4::int8"
    " RETURNING last_id, count, bytes),"
    " e AS (INSERT INTO archive SELECT $1, $2, o.last_id, $5::int8,"
    " $6::int8, $7::text, $4::int8, $8::bytea FROM o)"
    " SELECT last_id, count, bytes FROM o";

static void
arch_params(struct pgstore *ps, struct arch_put *ap)
{
	const struct archive_entry	*e = ap->e;
	struct pgq			*q = &ap->q;

	pgq_owner(q, ap->node, ap->domain);
	pgq_bits(q, ap->nb[0], e->stamp > 0 ? e->stamp : 1);
	pgq_u64(q, ENTRY_OVERHEAD + strlen(e->with) + e->len);
	pgq_bits(q, ap->nb[1], e->nonce);
	pgq_bits(q, ap->nb[2], e->stamp);
	pgq_text(q, e->with);
	pgq_bytes(q, e->xml, e->len);
	pgq_u64(q, ps->arch_floor + 1);
}

static bool
same_owner(const struct arch_put *a, const struct arch_put *b)
{
	return strcmp(a->node, b->node) == 0 &&
	    strcmp(a->domain, b->domain) == 0;
}

/*
 * n entries, then their owners' trims. An owner twice: one at a time,
 * as each trim follows the totals its own statement returned.
 */
static int
arch_put_all(struct pgstore *ps, struct arch_put *ap, size_t n)
{
	const char		*sql[ARCHIVE_PUT_MAX] = { NULL };
	const struct pgq	*q[ARCHIVE_PUT_MAX] = { NULL };
	PGresult		*res[ARCHIVE_PUT_MAX];
	struct totals		 t[ARCHIVE_PUT_MAX];
	size_t			 i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (same_owner(&ap[i], &ap[j])) {
				for (j = 0; j < n; j++)
					if (arch_put_all(ps, &ap[j], 1) == -1)
						return -1;
				return 0;
			}
	for (i = 0; i < n; i++) {
		arch_params(ps, &ap[i]);
		sql[i] = arch_put_sql;
		q[i] = &ap[i].q;
	}
	if (pg_run_n(ps, "archive put", (int)n, sql, q, res) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		t[i].last = pg_u64(res[i], 0, 0);
		t[i].count = pg_u64(res[i], 0, 1);
		t[i].bytes = pg_u64(res[i], 0, 2);
		PQclear(res[i]);
		ap[i].id = t[i].last;
		if (ap[i].id > ps->arch_high)
			ps->arch_high = ap[i].id;
	}
	for (i = 0; i < n; i++)
		if (arch_trim(ps, &ap[i], &t[i]) == -1)
			return -1;
	return 0;
}

static int
arch_put_fn(struct pgstore *ps, void *arg)
{
	return arch_put_all(ps, arg, 1);
}

/* the entries of one message, in one transaction */
struct arch_msg {
	struct arch_put	*ap;
	size_t		 n;
};

static int
arch_msg_fn(struct pgstore *ps, void *arg)
{
	struct arch_msg	*m = arg;

	return arch_put_all(ps, m->ap, m->n);
}

int
pgs_archive_put_many(struct pgstore *ps, struct archive_req *req, size_t n,
    const struct archive_limits *max, bool later)
{
	struct arch_put	ap[ARCHIVE_PUT_MAX];
	struct arch_msg	m = { ap, 0 };
	size_t		i, j, of[ARCHIVE_PUT_MAX];
	int		rc = 0, err = 0;

	if (n > ARCHIVE_PUT_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		req[i].e->id = 0;
		if (!pg_owner_ok(req[i].owner, req[i].domain, &ap[m.n].node)) {
			err = ENAMETOOLONG;
			continue;
		}
		/* what the LMDB backend's record could not hold either */
		if (req[i].e->with == NULL || *req[i].e->with == '\0' ||
		    req[i].e->xml == NULL) {
			err = EINVAL;
			continue;
		}
		ap[m.n].domain = req[i].domain;
		ap[m.n].e = req[i].e;
		ap[m.n].max = max;
		ap[m.n].id = 0;
		of[m.n++] = i;
	}
	if (m.n < n)
		rc = -1;
	/*
	 * One transaction for the message's entries; if it fails, each
	 * alone, so that one archive's failure (a quota, a bad owner)
	 * spoils no other's.
	 */
	if (m.n > 0 && pg_write(ps, "archive put", arch_msg_fn, &m,
	    later) == 0) {
		for (j = 0; j < m.n; j++)
			req[of[j]].e->id = ap[j].id;
	} else if (m.n == 1) {
		err = errno;
		rc = -1;
	} else if (m.n > 1) {
		err = errno;
		for (j = 0; j < m.n; j++) {
			if (pg_write(ps, "archive put", arch_put_fn, &ap[j],
			    later) == 0)
				req[of[j]].e->id = ap[j].id;
			else {
				err = errno;
				rc = -1;
			}
		}
	}
	errno = err;
	return rc;
}

int
pgs_archive_put(struct pgstore *ps, const char *owner, const char *domain,
    struct archive_entry *e, const struct archive_limits *max, bool later)
{
	struct archive_req	req = { owner, domain, e };

	return pgs_archive_put_many(ps, &req, 1, max, later);
}

/* row's columns id, nonce, stamp, with_jid, xml, borrowed from res */
static void
entry_row(const PGresult *res, int row, struct archive_entry *e)
{
	e->id = pg_u64(res, row, 0);
	e->nonce = pg_u64(res, row, 1);
	e->stamp = pg_u64(res, row, 2);
	e->with = PQgetvalue(res, row, 3);
	e->xml = PQgetvalue(res, row, 4);
	e->len = (size_t)PQgetlength(res, row, 4);
}

int
pgs_archive_get(struct pgstore *ps, const char *owner, const char *domain,
    uint64_t id, struct archive_entry *out)
{
	struct archive_entry	 e;
	struct pgq		 q;
	PGresult		*res;
	const char		*node;

	memset(out, 0, sizeof(*out));
	if (!pg_owner_ok(owner, domain, &node) || id > INT64_MAX) {
		errno = ENOENT;
		return -1;
	}
	pgq_owner(&q, node, domain);
	pgq_u64(&q, id);
	if ((res = pg_run(ps, "archive get", "SELECT id, nonce, stamp,"
	    " with_jid, xml FROM archive WHERE domain = $1 AND node = $2"
	    " AND id = $3", &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	entry_row(res, 0, &e);
	*out = e;
	out->with = xstrdup(e.with);
	out->xml = xmalloc(e.len + 1);
	memcpy(out->xml, e.xml, e.len + 1);
	PQclear(res);
	return 0;
}

struct arch_del {
	const char	*node, *domain;
	uint64_t	 id;
};

static int
arch_del_fn(struct pgstore *ps, void *arg)
{
	struct arch_del	*ad = arg;
	struct pgq	 q;
	PGresult	*res;
	uint64_t	 b;

	pgq_owner(&q, ad->node, ad->domain);
	pgq_u64(&q, ad->id);
	if ((res = pg_run(ps, "archive del", "DELETE FROM archive"
	    " WHERE domain = $1 AND node = $2 AND id = $3 RETURNING bytes",
	    &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	b = pg_u64(res, 0, 0);
	PQclear(res);
	/* the totals follow (XEP-0425 moderation) */
	pgq_owner(&q, ad->node, ad->domain);
	pgq_u64(&q, b);
	return pg_cmd(ps, "archive del", "UPDATE archive_owners"
	    " SET count = GREATEST(count - 1, 0),"
	    " bytes = GREATEST(bytes - $3, 0)"
	    " WHERE domain = $1 AND node = $2", &q);
}

int
pgs_archive_del(struct pgstore *ps, const char *owner, const char *domain,
    uint64_t id)
{
	struct arch_del	ad = { NULL, domain, id };

	if (!pg_owner_ok(owner, domain, &ad.node) || id > INT64_MAX) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(ps, "archive del", arch_del_fn, &ad, false);
}

/* the entries go; the owner's last id stays, so ids never go back */
static int
arch_clear_fn(struct pgstore *ps, void *arg)
{
	struct arch_del	*ad = arg;
	struct pgq	 q;

	pgq_owner(&q, ad->node, ad->domain);
	if (pg_cmd(ps, "archive clear", "DELETE FROM archive"
	    " WHERE domain = $1 AND node = $2", &q) == -1)
		return -1;
	return pg_cmd(ps, "archive clear", "UPDATE archive_owners"
	    " SET count = 0, bytes = 0 WHERE domain = $1 AND node = $2", &q);
}

int
pgs_archive_clear(struct pgstore *ps, const char *owner, const char *domain)
{
	struct arch_del	ad = { NULL, domain, 0 };

	if (!pg_owner_ok(owner, domain, &ad.node)) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(ps, "archive clear", arch_clear_fn, &ad, false);
}

/*
 * The statements of a walk: by the primary key, or by archive_with for a
 * correspondent; both read ids lo..hi in either direction.
 */
static const char *const walk_sql[2][2] = {
	{ "SELECT id, nonce, stamp, with_jid, xml FROM archive"
	  " WHERE domain = $1 AND node = $2 AND id >= $3 AND id <= $4"
	  " ORDER BY id LIMIT $5",
	  "SELECT id, nonce, stamp, with_jid, xml FROM archive"
	  " WHERE domain = $1 AND node = $2 AND id >= $3 AND id <= $4"
	  " ORDER BY id DESC LIMIT $5" },
	{ "SELECT id, nonce, stamp, with_jid, xml FROM archive"
	  " WHERE domain = $1 AND node = $2 AND id >= $3 AND id <= $4"
	  " AND with_jid = $6 ORDER BY id LIMIT $5",
	  "SELECT id, nonce, stamp, with_jid, xml FROM archive"
	  " WHERE domain = $1 AND node = $2 AND id >= $3 AND id <= $4"
	  " AND with_jid = $6 ORDER BY id DESC LIMIT $5" },
};

/*
 * The entries of r in order, a page at a time (each page a statement
 * of its own, so fn may write): the next page starts past the last id
 * read. With match, a page is read whole and filtered here.
 */
int
pgs_archive_query(struct pgstore *ps, const char *owner, const char *domain,
    const struct archive_range *r,
    int (*fn)(const struct archive_entry *, void *), void *arg)
{
	struct archive_entry	 e;
	struct pgq		 q;
	PGresult		*res;
	const char		*node, *sql;
	uint64_t		 lo = r->lo, hi = r->hi, last = 0;
	size_t			 n = 0, page;
	int			 i, rows, stop = 0;

	if (!pg_owner_ok(owner, domain, &node))
		return 0;
	if (hi > INT64_MAX)
		hi = INT64_MAX;
	sql = walk_sql[r->with != NULL][r->backward];
	while (lo <= hi && stop == 0) {
		page = WALK_PAGE;
		if (r->match == NULL && r->max > 0 && r->max - n < page)
			page = r->max - n;
		pgq_owner(&q, node, domain);
		pgq_u64(&q, lo);
		pgq_u64(&q, hi);
		pgq_u64(&q, page);
		if (r->with != NULL)
			pgq_text(&q, r->with);
		if ((res = pg_run(ps, "archive query", sql, &q)) == NULL)
			return -1;
		rows = PQntuples(res);
		for (i = 0; i < rows && stop == 0; i++) {
			entry_row(res, i, &e);
			last = e.id;
			if (r->match != NULL && !r->match(&e, r->match_arg))
				continue;
			if (fn(&e, arg) != 0 || (r->max > 0 && ++n >= r->max))
				stop = 1;
		}
		PQclear(res);
		if ((size_t)rows < page)
			break;
		if (r->backward) {
			if (last == 0)
				break;
			hi = last - 1;
		} else
			lo = last + 1;
	}
	return 0;
}

static int
count_match(const struct archive_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* the owner's totals (all zero when it never archived) */
static int
totals_get(struct pgstore *ps, const char *op, const char *node,
    const char *domain, struct totals *t)
{
	struct pgq	 q;
	PGresult	*res;

	memset(t, 0, sizeof(*t));
	pgq_owner(&q, node, domain);
	if ((res = pg_run(ps, op, "SELECT last_id, count, bytes"
	    " FROM archive_owners WHERE domain = $1 AND node = $2",
	    &q)) == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		t->last = pg_u64(res, 0, 0);
		t->count = pg_u64(res, 0, 1);
		t->bytes = pg_u64(res, 0, 2);
	}
	PQclear(res);
	return 0;
}

int
pgs_archive_count(struct pgstore *ps, const char *owner, const char *domain,
    const struct archive_range *r, size_t *n)
{
	struct archive_range	 all;
	struct totals		 t;
	struct pgq		 q;
	PGresult		*res;
	const char		*node;
	uint64_t		 hi = r->hi > INT64_MAX ? INT64_MAX : r->hi;

	*n = 0;
	if (!pg_owner_ok(owner, domain, &node) || r->lo > hi)
		return 0;
	if (r->match != NULL) {
		/* only the entries themselves can say */
		all = *r;
		all.max = 0;
		return pgs_archive_query(ps, owner, domain, &all, count_match,
		    n);
	}
	if (r->with == NULL && r->lo == 0 && r->hi == UINT64_MAX) {
		/* the whole archive: its totals, no scan */
		if (totals_get(ps, "archive count", node, domain, &t) == -1)
			return -1;
		*n = (size_t)t.count;
		return 0;
	}
	pgq_owner(&q, node, domain);
	pgq_u64(&q, r->lo);
	pgq_u64(&q, hi);
	if (r->with != NULL)
		pgq_text(&q, r->with);
	if ((res = pg_run(ps, "archive count", r->with != NULL ?
	    "SELECT count(*) FROM archive WHERE domain = $1 AND node = $2"
	    " AND id >= $3 AND id <= $4 AND with_jid = $5" :
	    "SELECT count(*) FROM archive WHERE domain = $1 AND node = $2"
	    " AND id >= $3 AND id <= $4", &q)) == NULL)
		return -1;
	*n = (size_t)pg_u64(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pgs_archive_usage(struct pgstore *ps, const char *owner, const char *domain,
    struct store_usage *u)
{
	struct totals	 t;
	const char	*node;

	u->count = u->bytes = 0;
	if (!pg_owner_ok(owner, domain, &node))
		return 0;
	if (totals_get(ps, "archive usage", node, domain, &t) == -1)
		return -1;
	u->count = (size_t)t.count;
	u->bytes = (size_t)t.bytes;
	return 0;
}
