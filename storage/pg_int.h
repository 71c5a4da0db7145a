/*
 * The PostgreSQL backend's private header: the connection, the
 * transaction discipline and the statement helpers shared by the record
 * files (storage/pg*.c). Only they include it, and only they include
 * <libpq-fe.h>.
 *
 * Owners. Every table that holds an owner's records keys them by two
 * text columns, (domain, node): an account is (its domain, its node), a
 * service's own records (owner NULL or "" in store.h) have node ''.
 *
 * Results. pg_run asks for binary results: an int8 column is 8 bytes in
 * network order (pg_u64), a text or bytea column its bytes (PQgetvalue,
 * always NUL-terminated, PQgetlength). Parameters are text unless added
 * with pgq_bytes.
 */
#ifndef PARLEY_PG_INT_H
#define PARLEY_PG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "pg.h"

/* pipelined commands waiting for the next statement (pg_lazy) */
#define PG_LAZY_MAX	8
/*
 * Statements prepared on the connection (pg_send): each text with
 * parameters once, past this many the others are sent whole each time
 * (the texts are the record files' own, far fewer; a cap in case one
 * were ever built from data).
 */
#define PG_PREP_MAX	512
/* while the server is unreachable, one warning per this many seconds */
#define PG_WARN_EVERY	10.0

struct pgstore {
	PGconn		*conn;
	char		*conninfo;	/* to reconnect */
	bool		 batch;		/* store_begin .. store_commit */
	int		 batch_err;	/* errno that spoiled the batch */
	bool		 later;		/* deferred writes: a transaction is
					   open until store_flush */
	uint64_t	 commits;	/* write transactions committed */
	uint64_t	 syncs;		/* round trips (pg_run_n) */
	/* added by storage/pg.c (fields after this line are its own) */
	bool		 txn;		/* an ordinary write's transaction */
	bool		 writing;	/* a pg_write's fn runs: a pg_write
					   inside it joins its transaction */
	bool		 batch_sp;	/* the batch is a savepoint inside the
					   deferred writes' transaction */
	/*
	 * Pipelined commands (pg_lazy): sent, their results read with the
	 * next statement's (pg_run). lazy_begins: the first is the BEGIN
	 * of the transaction, so nothing of it ran before them.
	 */
	const char	*lazy[PG_LAZY_MAX];
	int		 nlazy;
	bool		 lazy_begins;
	/*
	 * Prepared statements (pg_send): the text of each -> its number
	 * (the name is "p" and the number, never reused on a connection, so
	 * that a text prepared again after a failure gets a new name).
	 * Cleared with a new connection, whose session has none.
	 */
	struct map	*prep;
	uintptr_t	 nprep;		/* the last number given */
	/*
	 * Archive ids (pg_archive.c): the highest given since the last
	 * commit, and the floor the next ones must pass, raised to it when
	 * a transaction is lost, so that an id a caller was given is never
	 * given again (its owner's last id went back with the rollback).
	 */
	uint64_t	 arch_high;
	uint64_t	 arch_floor;
	/* the server unreachable: the log says so once per PG_WARN_EVERY */
	bool		 down;
	double		 down_warned;	/* monotonic seconds */
	unsigned long	 down_quiet;	/* failures not logged since */
	unsigned long	 down_fails;	/* failures since it went down */
};

/*
 * The longest "domain\0node" an account may have: LMDB's (storage/store.c,
 * "Keys"), so that both backends hold the same accounts and an export of
 * one imports into the other. Longer ones: ENAMETOOLONG for writes,
 * absent for reads.
 */
#define PG_ACCT_MAX	(511 - 35)
bool	 pg_acct_ok(const char *node, const char *domain);
/*
 * A publish-subscribe or archive owner (store.h: NULL or "" for a
 * service's own records): *node is owner, or '' for a service; false for
 * one LMDB could not key either (storage/pg_pubsub.c)
 */
bool	 pg_owner_ok(const char *owner, const char *domain,
	    const char **node);

/* the parameters of one statement */
#define PGQ_MAX		16
struct pgq {
	int		 n;
	const char	*vals[PGQ_MAX];
	int		 lens[PGQ_MAX];
	int		 fmts[PGQ_MAX];	/* 0 text, 1 binary */
	char		 num[PGQ_MAX][24];	/* pgq_u64's digits */
};

void	 pgq_init(struct pgq *);
/* a text parameter; NULL: SQL NULL */
void	 pgq_text(struct pgq *, const char *);
/* a bytea parameter (binary) */
void	 pgq_bytes(struct pgq *, const void *, size_t);
/* an int8 parameter (as decimal text; past INT64_MAX: INT64_MAX) */
void	 pgq_u64(struct pgq *, uint64_t);
/* pgq_init, then the owner as $1 (domain) and $2 (node; NULL: '') */
void	 pgq_owner(struct pgq *, const char *node, const char *domain);

/*
 * Runs sql with q's parameters (q NULL: none) in the open transaction,
 * if any, and returns its result (PGRES_TUPLES_OK or PGRES_COMMAND_OK),
 * or NULL with errno set and the failure logged under op: EEXIST for a
 * unique violation, ENOSPC for insufficient resources (class 53), EIO
 * for anything else. A connection found broken outside any transaction
 * is reset once and the statement run again.
 */
PGresult	*pg_run(struct pgstore *, const char *op, const char *sql,
		    const struct pgq *);
/*
 * pg_run for n statements (at most PGQ_MAX) that need no result of each
 * other: sent together, one round trip (libpq's pipeline mode). 0 with
 * each result in res[i], or -1 (errno, logged as pg_run) and none: a
 * failed statement leaves the ones after it unrun.
 */
int		 pg_run_n(struct pgstore *, const char *op, int n,
		    const char *const *sql, const struct pgq *const *q,
		    PGresult **res);
/*
 * A command without parameters whose result is not needed before the
 * next statement (BEGIN, SAVEPOINT, RELEASE): sent now, its result read
 * with the next pg_run's, which fails with its error. 0, or -1 (errno)
 * if it could not be sent.
 */
int		 pg_lazy(struct pgstore *, const char *op, const char *sql);
/* pg_run for a statement whose rows are not wanted: 0 or -1 (errno) */
int		 pg_cmd(struct pgstore *, const char *op, const char *sql,
		    const struct pgq *);
/* PQclear and errno kept */
void		 pg_clear(PGresult *);
/* pg_cmd for a command that must change a row: ENOENT when none did */
int		 pg_cmd_one(struct pgstore *, const char *op, const char *sql,
		    const struct pgq *);
/* the rows a command changed (PQcmdTuples) */
uint64_t	 pg_changed(const PGresult *);
/* an int8 (or int4, widened) column of a binary result */
uint64_t	 pg_u64(const PGresult *, int row, int col);
/*
 * The owner's counter of kind (table counters) raised by one, its row
 * locked until the transaction ends: the new value in *val (1 the first
 * time). Counters outlive their account.
 */
int		 pg_counter_next(struct pgstore *, const char *op,
		    const char *node, const char *domain, const char *kind,
		    uint64_t *val);
/* the owner's rows in table (a constant name): 0 or -1 (errno) */
int		 pg_owner_count(struct pgstore *, const char *op,
		    const char *table, const char *node, const char *domain,
		    size_t *n);

/*
 * A write: runs its statements with pg_run/pg_cmd and returns 0, or -1
 * with errno set (EDQUOT, ENOENT, EEXIST...). pg_write runs it in a
 * transaction and commits it: inside store_begin .. store_commit it
 * joins the batch; with later it joins the deferred writes (committed
 * by store_flush or the next ordinary write) inside a savepoint, so one
 * that fails leaves nothing and spoils no other. Returns 0, or -1 with
 * errno (fn's, or EIO/ENOSPC for a failed commit).
 */
typedef int	 pg_write_fn(struct pgstore *, void *arg);
int		 pg_write(struct pgstore *, const char *op, pg_write_fn *,
		    void *arg, bool later);

/*
 * The schema: migrations applied in order, each in its own transaction,
 * and the version reached recorded in parley_schema (storage/pg_schema.c
 * holds the table and the runner). Each is a list of SQL statements
 * ending in NULL.
 */
struct pg_migration {
	int			 version;
	const char *const	*stmts;
};
extern const char *const	 pg_schema_core[];	/* version 1 */
extern const char *const	 pg_schema_rich[];	/* version 2:
							   pg_pubsub.c */
int		 pg_schema_upgrade(struct pgstore *, char *errbuf,
		    size_t errlen);

/*
 * A listing in key order, PG_PAGE rows a statement (storage/pg_list.c):
 * sql's parameters are q's, whose last nkey are the key the first page
 * starts after (one below every stored key), then the page size; a
 * row's key is its first nkey columns, in the order sql sorts by. fn
 * gets each row, non-zero stops. Returns 0, or -1 with errno (pg_run's).
 */
#define PG_PAGE		256
typedef int	 pg_row_fn(const PGresult *, int row, void *arg);
int		 pg_list(struct pgstore *, const char *op, const char *sql,
		    struct pgq *, int nkey, pg_row_fn *, void *arg);

#endif
