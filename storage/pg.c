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
#include <time.h>

#include "../common/log.h"
#include "../common/map.h"
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

static double
pg_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A reconnection failed. While the server is down every store call
 * tries one, so a router under load would log a line per call: the
 * first failure is logged, then one line per PG_WARN_EVERY seconds
 * saying how many were not.
 */
static void
pg_log_down(struct pgstore *pg, const char *op, const char *msg)
{
	char	what[64];
	double	now = pg_mono();

	pg->down_fails = pg->down ? pg->down_fails + 1 : 1;
	if (pg->down && now - pg->down_warned < PG_WARN_EVERY) {
		pg->down_quiet++;
		return;
	}
	if (pg->down_quiet > 0)
		snprintf(what, sizeof(what), "reconnect (%lu failures not "
		    "logged)", pg->down_quiet);
	else
		snprintf(what, sizeof(what), "reconnect");
	pg_log_failure(op, what, msg);
	pg->down = true;
	pg->down_warned = now;
	pg->down_quiet = 0;
}

/* a transaction ended without its commit: see arch_floor */
static void
pg_txn_lost(struct pgstore *pg)
{
	if (pg->arch_high > pg->arch_floor)
		pg->arch_floor = pg->arch_high;
	pg->arch_high = 0;
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
	pg->nlazy = 0;
	pg_txn_lost(pg);
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

/*
 * Every statement goes through libpq's pipeline mode, so that commands
 * whose results can wait (pg_lazy) travel with the next statement: one
 * round trip where each would make its own.
 */
static int
pg_pipeline(struct pgstore *pg)
{
	if (PQpipelineStatus(pg->conn) != PQ_PIPELINE_OFF)
		return 0;
	return PQenterPipelineMode(pg->conn) == 1 ? 0 : -1;
}

/* a broken connection outside any transaction: one new one */
static int
pg_reset(struct pgstore *pg, const char *op)
{
	if (!pg->down)
		log_warnx("store: %s: connection to PostgreSQL lost, "
		    "reconnecting", op);
	pg->nlazy = 0;
	PQreset(pg->conn);
	/* a new session: nothing is prepared in it */
	map_free(pg->prep, NULL);
	pg->prep = map_new();
	if (PQstatus(pg->conn) != CONNECTION_OK || pg_pipeline(pg) == -1) {
		pg_log_down(pg, op, PQerrorMessage(pg->conn));
		return -1;
	}
	if (pg->down)
		log_info("store: reconnected to PostgreSQL (%lu attempts "
		    "failed)", pg->down_fails);
	else
		log_info("store: reconnected to PostgreSQL");
	pg->down = false;
	pg->down_quiet = pg->down_fails = 0;
	return 0;
}

/*
 * Queues sql into the pipeline; -1 if libpq could not. A statement with
 * parameters is prepared on its first use on the connection (the server
 * parses and plans it once, not on every call): the Parse goes first, in
 * the same pipeline, and *prepared says that its result comes before
 * the statement's (pg_read). Commands without parameters (BEGIN,
 * SAVEPOINT, the lazy ones) go as they are. A prepared statement
 * outlives a transaction that rolls back (the server's are not
 * transactional); one whose Parse failed is forgotten (pg_read).
 */
static int
pg_send(struct pgstore *pg, const char *sql, const struct pgq *q,
    bool *prepared)
{
	char		name[24];
	uintptr_t	num;

	*prepared = false;
	if (q == NULL || q->n == 0 || ((num = (uintptr_t)map_get(pg->prep,
	    sql)) == 0 && map_count(pg->prep) >= PG_PREP_MAX))
		return PQsendQueryParams(pg->conn, sql, q != NULL ? q->n : 0,
		    NULL, q != NULL ? q->vals : NULL, q != NULL ? q->lens :
		    NULL, q != NULL ? q->fmts : NULL, 1) == 1 ? 0 : -1;
	if (num == 0) {
		num = ++pg->nprep;
		snprintf(name, sizeof(name), "p%lu", (unsigned long)num);
		if (PQsendPrepare(pg->conn, name, sql, q->n, NULL) != 1)
			return -1;
		(void)map_put(pg->prep, sql, (void *)num);
		*prepared = true;
	} else
		snprintf(name, sizeof(name), "p%lu", (unsigned long)num);
	if (PQsendQueryPrepared(pg->conn, name, q->n, q->vals, q->lens,
	    q->fmts, 1) == 1)
		return 0;
	/* not sent: pg_read ends at the sync, whatever the Parse gave */
	if (*prepared)
		(void)map_del(pg->prep, sql);
	*prepared = false;
	return -1;
}

/*
 * The result of the pipeline's next statement (NULL: the connection
 * gave none), the NULL that ends a statement's results consumed.
 */
static PGresult *
pg_next(struct pgstore *pg)
{
	PGresult	*res, *more;

	if ((res = PQgetResult(pg->conn)) == NULL)
		return NULL;
	if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		return res;	/* not followed by NULL */
	while ((more = PQgetResult(pg->conn)) != NULL)
		PQclear(more);
	return res;
}

static bool
pg_ok(const PGresult *res)
{
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		return true;
	default:
		return false;
	}
}

/*
 * Reads the results of nl lazy commands and of sent statements (into
 * res; those whose text was prepared with them, prep, have the Parse's
 * result first) up to the sync point; the first failure's result is
 * returned in *bad (NULL: the connection gave none). false if anything
 * failed.
 */
static bool
pg_read(struct pgstore *pg, int nl, int sent, const char *const *sql,
    bool *prep, PGresult **res, PGresult **bad)
{
	PGresult	*r;
	bool		 ok = true, parse;
	int		 i;

	*bad = NULL;
	for (i = 0; i < nl + sent; i++) {
		parse = i >= nl && prep[i - nl];
		r = pg_next(pg);
		if (r != NULL && pg_ok(r)) {
			if (parse) {
				/* the statement's own result follows */
				PQclear(r);
				prep[i - nl] = false;
				i--;
			} else if (i >= nl)
				res[i - nl] = r;
			else
				PQclear(r);
			continue;
		}
		ok = false;
		if (parse) {
			/* not prepared: the next use prepares it again */
			(void)map_del(pg->prep, sql[i - nl]);
			/* the statement's result follows, aborted */
			prep[i - nl] = false;
			i--;
		}
		/* the statements after a failed one report only that */
		if (*bad == NULL && r != NULL &&
		    PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
			*bad = r;
		else
			PQclear(r);
	}
	while ((r = PQgetResult(pg->conn)) != NULL) {
		ExecStatusType	st = PQresultStatus(r);

		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	return ok;
}

int
pg_run_n(struct pgstore *pg, const char *op, int n, const char *const *sql,
    const struct pgq *const *q, PGresult **res)
{
	PGresult	*bad;
	bool		 retried = false, begins, lazy, prep[PGQ_MAX];
	int		 i, nl, sent;

	if (n > PGQ_MAX)
		fatalx("%s: more than %d statements", __func__, PGQ_MAX);
	if (PQstatus(pg->conn) != CONNECTION_OK && !pg_in_txn(pg)) {
		retried = true;
		if (pg_reset(pg, op) == -1) {
			errno = EIO;
			return -1;
		}
	}
again:
	nl = pg->nlazy;
	begins = pg->lazy_begins;
	for (i = 0; i < n; i++)
		res[i] = NULL;
	for (sent = 0; sent < n; sent++)
		if (pg_send(pg, sql[sent], q != NULL ? q[sent] : NULL,
		    &prep[sent]) == -1)
			break;
	(void)PQpipelineSync(pg->conn);	/* a failure: no results */
	pg->syncs++;
	pg->nlazy = 0;
	pg->lazy_begins = false;
	if (pg_read(pg, nl, sent, sql, prep, res, &bad) && sent == n)
		return 0;
	for (i = 0; i < n; i++) {
		PQclear(res[i]);
		res[i] = NULL;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		/*
		 * Outside a transaction the statements are reads or BEGIN
		 * (writes run inside one); a transaction whose BEGIN was
		 * among the lazy commands had not run before them. Either
		 * is safe to send again on a new connection.
		 */
		if ((!pg_in_txn(pg) || begins) && !retried) {
			retried = true;
			PQclear(bad);
			if (pg_reset(pg, op) == 0) {
				for (i = 0; i < nl; i++)
					if (pg_send(pg, pg->lazy[i],
					    NULL, &lazy) == -1)
						break;
				pg->nlazy = i;
				pg->lazy_begins = begins;
				goto again;
			}
			if (pg_in_txn(pg))
				pg_lost(pg, op);
			errno = EIO;
			return -1;
		}
		pg_lost(pg, op);
	}
	errno = pg_errno(pg, op, bad);
	PQclear(bad);
	return -1;
}

PGresult *
pg_run(struct pgstore *pg, const char *op, const char *sql,
    const struct pgq *q)
{
	PGresult	*res;

	if (pg_run_n(pg, op, 1, &sql, &q, &res) == -1)
		return NULL;
	return res;
}

int
pg_lazy(struct pgstore *pg, const char *op, const char *sql)
{
	bool	lazy;		/* never prepared: no parameters */

	if (pg->nlazy == PG_LAZY_MAX)
		return pg_cmd(pg, op, sql, NULL);	/* reads them */
	if (PQstatus(pg->conn) != CONNECTION_OK && !pg_in_txn(pg) &&
	    pg_reset(pg, op) == -1) {
		errno = EIO;
		return -1;
	}
	if (pg_send(pg, sql, NULL, &lazy) == -1) {
		/* a connection that fails at once */
		errno = pg_errno(pg, op, NULL);
		pg_lost(pg, op);
		return -1;
	}
	if (pg->nlazy == 0)
		pg->lazy_begins = strcmp(sql, "BEGIN") == 0;
	pg->lazy[pg->nlazy++] = sql;
	return 0;
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
	if (res == NULL) {
		pg_txn_lost(pg);
		return -1;
	}
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		log_warnx("store: %s: the transaction was rolled back", op);
		errno = EIO;
		rc = -1;
	} else {
		pg->commits++;
		pg->arch_high = 0;
	}
	if (rc == -1)
		pg_txn_lost(pg);
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

	if (pg_lazy(pg, op, "SAVEPOINT pg_write") == -1)
		return -1;
	if (pg_fn(pg, fn, arg) == 0)
		return pg_lazy(pg, op, "RELEASE SAVEPOINT pg_write");
	err = errno;
	if (pg_in_txn(pg) && pg_cmd(pg, op,
	    "ROLLBACK TO SAVEPOINT pg_write", NULL) == 0)
		(void)pg_lazy(pg, op, "RELEASE SAVEPOINT pg_write");
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
		if (pg_lazy(pg, op, "BEGIN") == -1)
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
	if (pg_lazy(pg, op, "BEGIN") == -1)
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
	pg->prep = map_new();
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
	if (pg_pipeline(pg) == -1) {
		snprintf(errbuf, errlen, "PostgreSQL: no pipeline mode: %s",
		    PQerrorMessage(pg->conn));
		errbuf[strcspn(errbuf, "\n")] = '\0';
		goto fail;
	}
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
	map_free(pg->prep, NULL);
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
