/*
 * The PostgreSQL backend (docs/internals.md, "Storage: PostgreSQL"): the
 * connection, its errors and the transaction discipline the record files
 * (storage/pg_*.c) share. Every write is committed before the call
 * returns, as with LMDB: synchronous_commit is the server's (on), so a
 * COMMIT returns once the server has the transaction in its WAL on disk.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg_int.h"

/* what pg_run's callers assume of the server (ON CONFLICT: 9.5) */
#define PG_VERSION_MIN		120000

void
pgq_init(struct pgq *q)
{
	memset(q, 0, sizeof(*q));
}

static int
pgq_add(struct pgq *q, const char *val, int len, int fmt)
{
	if (q->n == PGQ_MAX)
		fatalx("%s: more than %d parameters", __func__, PGQ_MAX);
	q->vals[q->n] = val;
	q->lens[q->n] = len;
	q->fmts[q->n] = fmt;
	return q->n++;
}

void
pgq_text(struct pgq *q, const char *s)
{
	pgq_add(q, s, 0, 0);
}

void
pgq_bytes(struct pgq *q, const void *p, size_t len)
{
	/* libpq takes a NULL value as SQL NULL: an empty value is not */
	pgq_add(q, p != NULL ? p : "", (int)len, 1);
}

/*
 * int8 is signed: a larger value (SIZE_MAX for "no limit", as an import
 * passes) is the largest int8, not an error from the server.
 */
void
pgq_u64(struct pgq *q, uint64_t v)
{
	int	i = pgq_add(q, NULL, 0, 0);

	if (v > INT64_MAX)
		v = INT64_MAX;

	snprintf(q->num[i], sizeof(q->num[i]), "%llu",
	    (unsigned long long)v);
	q->vals[i] = q->num[i];
}

void
pgq_owner(struct pgq *q, const char *node, const char *domain)
{
	pgq_init(q);
	pgq_text(q, domain);
	pgq_text(q, node != NULL ? node : "");
}

bool
pg_acct_ok(const char *node, const char *domain)
{
	size_t	dlen = strlen(domain), nlen = strlen(node);

	return dlen > 0 && nlen > 0 && dlen + 1 + nlen <= PG_ACCT_MAX;
}

void
pg_clear(PGresult *res)
{
	int	err = errno;

	PQclear(res);
	errno = err;
}

uint64_t
pg_changed(const PGresult *res)
{
	return strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

uint64_t
pg_u64(const PGresult *res, int row, int col)
{
	const uint8_t	*p = (const uint8_t *)PQgetvalue(res, row, col);
	int		 len = PQgetlength(res, row, col), i;
	uint64_t	 v = 0;

	if (len != 8 && len != 4 && len != 2)
		return 0;
	for (i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

int
pg_counter_next(struct pgstore *pg, const char *op, const char *node,
    const char *domain, const char *kind, uint64_t *val)
{
	PGresult	*res;
	struct pgq	 q;

	pgq_owner(&q, node, domain);
	pgq_text(&q, kind);
	if ((res = pg_run(pg, op, "INSERT INTO counters AS c "
	    "(domain, node, kind, val) VALUES ($1, $2, $3, 1) "
	    "ON CONFLICT (domain, node, kind) DO UPDATE SET val = c.val + 1 "
	    "RETURNING val", &q)) == NULL)
		return -1;
	*val = PQntuples(res) == 1 ? pg_u64(res, 0, 0) : 0;
	PQclear(res);
	if (*val == 0) {
		log_warnx("store: %s: counter %s gave nothing", op, kind);
		errno = EIO;
		return -1;
	}
	return 0;
}

int
pg_owner_count(struct pgstore *pg, const char *op, const char *table,
    const char *node, const char *domain, size_t *n)
{
	PGresult	*res;
	struct pgq	 q;
	char		 sql[128];

	*n = 0;
	if (node != NULL && *node != '\0' && !pg_acct_ok(node, domain))
		return 0;	/* could never have been stored */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s "
	    "WHERE domain = $1 AND node = $2", table);
	pgq_owner(&q, node, domain);
	if ((res = pg_run(pg, op, sql, &q)) == NULL)
		return -1;
	*n = (size_t)pg_u64(res, 0, 0);
	PQclear(res);
	return 0;
}

/* a transaction of ours is open on the connection */
static bool
pg_in_txn(const struct pgstore *pg)
{
	return pg->batch || pg->later || pg->txn;
}

/* the server's message without its newline, for the log */
static void
pg_log_failure(const char *op, const char *what, const char *msg)
{
	size_t	len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	log_warnx("store: %s: %s: %s", op, what, log_esc(msg, len));
}

/*
 * The connection broke inside a transaction: the server rolled it back.
 * The deferred writes are lost (store.h allows it: they were not
 * committed), a batch fails at store_commit.
 */
static void
pg_lost(struct pgstore *pg, const char *op)
{
	if (pg->later)
		log_warnx("store: %s: connection lost: the deferred writes "
		    "were not committed", op);
	pg->later = pg->txn = pg->batch_sp = false;
	if (pg->batch && pg->batch_err == 0)
		pg->batch_err = EIO;
}

/* SQLSTATE to errno (store.h); anything unexpected is logged */
static int
pg_errno(struct pgstore *pg, const char *op, const PGresult *res)
{
	const char	*state = NULL;

	if (res != NULL)
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state != NULL && strcmp(state, "23505") == 0)
		return EEXIST;	/* unique_violation: an add that exists */
	pg_log_failure(op, state != NULL ? state : "connection",
	    res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(pg->conn));
	/* class 53, insufficient resources: disk full, out of memory */
	if (state != NULL && strncmp(state, "53", 2) == 0)
		return ENOSPC;
	return EIO;
}

/* a broken connection outside any transaction: one new one */
static int
pg_reset(struct pgstore *pg, const char *op)
{
	log_warnx("store: %s: connection to PostgreSQL lost, reconnecting",
	    op);
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pg_log_failure(op, "reconnect", PQerrorMessage(pg->conn));
		return -1;
	}
	log_info("store: reconnected to PostgreSQL");
	return 0;
}

PGresult *
pg_run(struct pgstore *pg, const char *op, const char *sql,
    const struct pgq *q)
{
	PGresult	*res;
	bool		 retried = false;

	if (PQstatus(pg->conn) != CONNECTION_OK && !pg_in_txn(pg)) {
		retried = true;
		if (pg_reset(pg, op) == -1) {
			errno = EIO;
			return NULL;
		}
	}
again:
	res = PQexecParams(pg->conn, sql, q != NULL ? q->n : 0, NULL,
	    q != NULL ? q->vals : NULL, q != NULL ? q->lens : NULL,
	    q != NULL ? q->fmts : NULL, 1);
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		return res;
	default:
		break;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		/*
		 * Outside a transaction the statement is a read or BEGIN
		 * (writes run inside one): safe to run again.
		 */
		if (!pg_in_txn(pg) && !retried) {
			retried = true;
			PQclear(res);
			if (pg_reset(pg, op) == 0)
				goto again;
			errno = EIO;
			return NULL;
		}
		pg_lost(pg, op);
	}
	errno = pg_errno(pg, op, res);
	PQclear(res);
	return NULL;
}

int
pg_cmd(struct pgstore *pg, const char *op, const char *sql,
    const struct pgq *q)
{
	PGresult	*res;

	if ((res = pg_run(pg, op, sql, q)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
pg_cmd_one(struct pgstore *pg, const char *op, const char *sql,
    const struct pgq *q)
{
	PGresult	*res;
	uint64_t	 n;

	if ((res = pg_run(pg, op, sql, q)) == NULL)
		return -1;
	n = pg_changed(res);
	PQclear(res);
	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/*
 * COMMIT of a transaction the server already failed answers ROLLBACK,
 * with success: only the tag tells.
 */
static int
pg_commit(struct pgstore *pg, const char *op)
{
	PGresult	*res;
	int		 rc = 0;

	/* in the transaction still: a lost connection is not reset here */
	pg->txn = true;
	res = pg_run(pg, op, "COMMIT", NULL);
	pg->txn = false;
	if (res == NULL)
		return -1;
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_warnx("store: %s: the transaction was rolled back", op);
		errno = EIO;
		rc = -1;
	} else
		pg->commits++;
	PQclear(res);
	return rc;
}

static void
pg_rollback(struct pgstore *pg, const char *op)
{
	int	err = errno;

	pg->txn = true;
	(void)pg_cmd(pg, op, "ROLLBACK", NULL);
	pg->txn = false;
	errno = err;
}

/* fn with pg->writing set: a pg_write inside it joins */
static int
pg_fn(struct pgstore *pg, pg_write_fn *fn, void *arg)
{
	int	rc;

	pg->writing = true;
	rc = fn(pg, arg);
	pg->writing = false;
	return rc;
}

/*
 * fn inside the open transaction, in a savepoint: one that fails is
 * undone alone and leaves the transaction usable (PostgreSQL refuses
 * every statement of a transaction after a failed one).
 */
static int
pg_nested(struct pgstore *pg, const char *op, pg_write_fn *fn, void *arg)
{
	int	err;

	if (pg_cmd(pg, op, "SAVEPOINT pg_write", NULL) == -1)
		return -1;
	if (pg_fn(pg, fn, arg) == 0)
		return pg_cmd(pg, op, "RELEASE SAVEPOINT pg_write", NULL);
	err = errno;
	if (pg_in_txn(pg) && pg_cmd(pg, op,
	    "ROLLBACK TO SAVEPOINT pg_write", NULL) == 0)
		(void)pg_cmd(pg, op, "RELEASE SAVEPOINT pg_write", NULL);
	errno = err;
	return -1;
}

/*
 * In a batch: a failed write is undone alone, as LMDB leaves a batch
 * usable after ENOENT or EEXIST; one that failed for the store's sake
 * (EIO, ENOSPC) spoils it, as store.h says.
 */
static int
pg_batch_write(struct pgstore *pg, const char *op, pg_write_fn *fn,
    void *arg)
{
	if (pg->batch_err != 0) {
		errno = pg->batch_err;
		return -1;
	}
	if (pg_nested(pg, op, fn, arg) == 0)
		return 0;
	if ((errno == EIO || errno == ENOSPC) && pg->batch_err == 0)
		pg->batch_err = errno;
	return -1;
}

int
pg_write(struct pgstore *pg, const char *op, pg_write_fn *fn, void *arg,
    bool later)
{
	int	rc, err;

	if (pg->writing)
		return fn(pg, arg);	/* part of the write that runs */
	if (pg->batch)
		return pg_batch_write(pg, op, fn, arg);
	if (later && !pg->later) {
		if (pg_cmd(pg, op, "BEGIN", NULL) == -1)
			return -1;
		pg->later = true;
	}
	if (pg->later) {
		rc = pg_nested(pg, op, fn, arg);
		if (later)
			return rc;
		/* an ordinary write commits the deferred ones with it */
		err = errno;
		if (pgs_flush(pg) == -1)
			return -1;
		errno = err;
		return rc;
	}
	if (pg_cmd(pg, op, "BEGIN", NULL) == -1)
		return -1;
	pg->txn = true;
	if (pg_fn(pg, fn, arg) == -1) {
		if (pg->txn)
			pg_rollback(pg, op);
		pg->txn = false;
		return -1;
	}
	if (!pg->txn) {
		errno = EIO;	/* lost with the connection (logged) */
		return -1;
	}
	return pg_commit(pg, op);
}

static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: PostgreSQL: %s", log_escs(msg));
}

struct pgstore *
pgs_open(const char *conninfo, char *errbuf, size_t errlen)
{
	/*
	 * conninfo may name any parameter; application_name before it is
	 * a default it can override, client_encoding after it is ours
	 * (every string here is UTF-8). PQreset keeps them.
	 */
	const char *const	 keys[] = { "application_name", "dbname",
	    "client_encoding", NULL };
	const char *const	 vals[] = { "parley", conninfo, "UTF8", NULL };
	struct pgstore		*pg;
	int			 ver;

	pg = xcalloc(1, sizeof(*pg));
	pg->conninfo = xstrdup(conninfo);
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL) {
		snprintf(errbuf, errlen, "PostgreSQL: out of memory");
		goto fail;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		snprintf(errbuf, errlen, "PostgreSQL: %s",
		    PQerrorMessage(pg->conn));
		errbuf[strcspn(errbuf, "\n")] = '\0';
		goto fail;
	}
	PQsetNoticeProcessor(pg->conn, pg_notice, NULL);
	if ((ver = PQserverVersion(pg->conn)) < PG_VERSION_MIN) {
		snprintf(errbuf, errlen, "PostgreSQL %d.%d is too old: "
		    "Parley needs %d or later", ver / 10000, ver % 10000 / 100,
		    PG_VERSION_MIN / 10000);
		goto fail;
	}
	if (pg_schema_upgrade(pg, errbuf, errlen) == -1)
		goto fail;
	return pg;

fail:
	pgs_close(pg);
	return NULL;
}

void
pgs_close(struct pgstore *pg)
{
	if (pg == NULL)
		return;
	pgs_abort(pg);
	(void)pgs_flush(pg);	/* logged */
	PQfinish(pg->conn);
	free(pg->conninfo);
	free(pg);
}

int
pgs_bulk(struct pgstore *pg)
{
	/*
	 * store_bulk's promise exactly: commits do not wait for the disk,
	 * and the server writes them out within moments (a crash of the
	 * server can lose the last ones, never break the database).
	 */
	return pg_cmd(pg, "bulk", "SET synchronous_commit = off", NULL);
}

int
pgs_flush(struct pgstore *pg)
{
	if (!pg->later || pg->batch)
		return 0;
	pg->later = false;
	return pg_commit(pg, "deferred writes");
}

/*
 * A batch opened while deferred writes wait joins their transaction
 * behind a savepoint: store_abort undoes only the batch, store_commit
 * commits both (one commit where LMDB makes two).
 */
int
pgs_begin(struct pgstore *pg)
{
	if (pg->batch)
		fatalx("%s: a batch is already open", __func__);
	if (pg->later) {
		if (pg_cmd(pg, "begin", "SAVEPOINT pg_batch", NULL) == 0) {
			pg->batch = pg->batch_sp = true;
			pg->batch_err = 0;
			return 0;
		}
		if (pg->later)
			return -1;
		/* the connection was lost with the deferred writes */
	}
	if (pg_cmd(pg, "begin", "BEGIN", NULL) == -1)
		return -1;
	pg->batch = true;
	pg->batch_sp = false;
	pg->batch_err = 0;
	return 0;
}

int
pgs_commit(struct pgstore *pg)
{
	int	err = pg->batch_err;

	if (!pg->batch)
		fatalx("%s: no batch open", __func__);
	if (err != 0) {
		pgs_abort(pg);
		errno = err;
		return -1;
	}
	pg->batch = pg->batch_sp = false;
	pg->later = false;
	return pg_commit(pg, "commit");
}

void
pgs_abort(struct pgstore *pg)
{
	int	err = errno;

	if (!pg->batch)
		return;
	pg->batch = false;
	if (pg->batch_sp) {
		pg->batch_sp = false;
		if (pg_cmd(pg, "abort", "ROLLBACK TO SAVEPOINT pg_batch",
		    NULL) == 0)
			(void)pg_cmd(pg, "abort", "RELEASE SAVEPOINT pg_batch",
			    NULL);
	} else if (PQstatus(pg->conn) == CONNECTION_OK)
		pg_rollback(pg, "abort");
	errno = err;
}
