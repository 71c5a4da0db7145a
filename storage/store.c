/*
 * The LMDB backend behind storage/store.h: the environment, its map,
 * transactions and the key layout; each record kind is a file of its own
 * (store_account.c, store_roster.c, store_offline.c, store_doc.c,
 * store_block.c) on top of this one (store_int.h). Every write is
 * committed before the call returns (or, in a batch, before store_commit
 * returns), so whatever the server answers after a store call is on disk.
 *
 * Keys. Everything an account owns is keyed by its prefix "domain\0node\0"
 * followed by a tail, so one account is one range scan (MDB_SET_RANGE on
 * the prefix, stop at the first key that does not start with it; a node
 * holds no NUL, so "alice" never reaches into "alice2"). LMDB refuses keys
 * over 511 bytes while a JID part may be 1023, so:
 *  - an account's "domain\0node" may be at most 511 - 35 bytes: that leaves
 *    room for the prefix's NUL and the longest fixed tail (a kind tag, a
 *    NUL, SHA-256), so any account that exists can own every kind of
 *    record; longer ones are refused with ENAMETOOLONG by every write
 *    (store_account_add first) and are simply absent for every read;
 *  - a variable tail (contact JID, blocked JID, private-XML name) that would
 *    pass the limit becomes its first bytes, a NUL and the SHA-256 of the
 *    whole tail. A plain tail never holds a NUL, so the two forms never
 *    meet, and order stays the tail's order except among long tails that
 *    share their first bytes. Roster and block values carry the full JID,
 *    checked against the key on every read.
 * Databases: accounts, roster, offline, docs, blocks, and meta for the
 * per-account counters (roster version, next offline sequence).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

#define STORE_MAXDBS		16
/*
 * The router and parleyctl are single-threaded; a few slots more leave
 * room for mdb_stat and a stale slot or two from a crashed process.
 */
#define STORE_MAXREADERS	16
/*
 * The map grows (doubling, up to store_set_mapmax) once the data reaches
 * this share of it, so that a transaction rarely meets a full map; past
 * the same share of the largest map the operator is warned, again at
 * every further 5 %.
 */
#define MAP_GROW_PCT		80
#define MAP_WARN_PCT		80

/*
 * LMDB's own error codes become the errno values store.h promises.
 * Anything unexpected is logged here, once, with the operation.
 */
int
store_errno(const char *op, int rc)
{
	switch (rc) {
	case MDB_NOTFOUND:
		return ENOENT;
	case MDB_KEYEXIST:
		return EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		log_warnx("store: %s refused: %s (the database is at "
		    "lmdb-mapsize-max; raise it)", op, mdb_strerror(rc));
		return ENOSPC;
	case ENOSPC:
		log_warnx("store: %s: %s", op, mdb_strerror(rc));
		return ENOSPC;
	default:
		log_warnx("store: %s: %s", op, mdb_strerror(rc));
		return EIO;
	}
}

static bool
map_full(int rc)
{
	return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL;
}

/* mkdir -p with mode 0700 for what we create; existing parts are kept */
static int
store_mkdirs(const char *dir)
{
	char	 path[PATH_MAX];
	char	*p;
	size_t	 len;

	len = strlen(dir);
	if (len == 0 || len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

struct store *
store_open(const char *dir, size_t mapsize, char *errbuf, size_t errlen)
{
	struct store	*st;
	MDB_envinfo	 ei;
	MDB_txn		*txn;
	int		 rc, dead;

	if (store_mkdirs(dir) == -1) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	if ((rc = mdb_env_create(&st->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->env, STORE_MAXREADERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->env, mapsize)) != 0)
		goto fail;
	/* read transactions are not tied to a thread: we run one loop */
	if ((rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	/* slots left behind by a process that died mid-read */
	if (mdb_reader_check(st->env, &dead) == 0 && dead > 0)
		log_info("store: cleared %d stale reader slot(s)", dead);
	/* a map grown by an earlier run stays as large as its file */
	st->mapsize = mapsize;
	if (mdb_env_info(st->env, &ei) == 0 && ei.me_mapsize > mapsize)
		st->mapsize = ei.me_mapsize;
	st->mapmax = st->mapsize;
	st->maxkey = (size_t)mdb_env_get_maxkeysize(st->env);
	if (st->maxkey > STORE_KEY_BUF - 1)
		st->maxkey = STORE_KEY_BUF - 1;
	st->acctmax = st->maxkey > KEY_TAIL_RESERVE ?
	    st->maxkey - KEY_TAIL_RESERVE : 0;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "accounts", MDB_CREATE,
	    &st->accounts)) != 0 ||
	    (rc = mdb_dbi_open(txn, "roster", MDB_CREATE, &st->roster)) != 0 ||
	    (rc = mdb_dbi_open(txn, "offline", MDB_CREATE,
	    &st->offline)) != 0 ||
	    (rc = mdb_dbi_open(txn, "docs", MDB_CREATE, &st->docs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "blocks", MDB_CREATE, &st->blocks)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "pubsub_nodes", MDB_CREATE,
	    &st->ps_nodes)) != 0 ||
	    (rc = mdb_dbi_open(txn, "pubsub_items", MDB_CREATE,
	    &st->ps_items)) != 0 ||
	    (rc = mdb_dbi_open(txn, "archive", MDB_CREATE,
	    &st->archive)) != 0 ||
	    (rc = mdb_dbi_open(txn, "archive_with", MDB_CREATE,
	    &st->archive_with)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return st;

fail:
	snprintf(errbuf, errlen, "%s: %s", dir, mdb_strerror(rc));
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
	return NULL;
}

struct store *
store_open_pg(const char *conninfo, char *errbuf, size_t errlen)
{
	struct store	*st;
	struct pgstore	*pg;

	if ((pg = pgs_open(conninfo, errbuf, errlen)) == NULL)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	st->pg = pg;
	return st;
}

void
store_close(struct store *st)
{
	int	rc;

	if (st == NULL)
		return;
	if (st->pg != NULL) {
		pgs_close(st->pg);
		free(st);
		return;
	}
	store_abort(st);
	store_flush(st);
	if ((rc = mdb_env_sync(st->env, 1)) != 0)
		log_warnx("lmdb sync: %s", mdb_strerror(rc));
	mdb_env_close(st->env);
	free(st->replay);
	free(st);
}

void
store_set_mapmax(struct store *st, size_t max)
{
	long	pg = sysconf(_SC_PAGESIZE);

	if (st->pg != NULL)
		return;	/* the server's disk is the server's */
	/* LMDB wants a map size in whole pages */
	if (pg > 0)
		max -= max % (size_t)pg;
	st->mapmax = max > st->mapsize ? max : st->mapsize;
}

/* bytes the data file reaches (its high-water mark: freed pages reused) */
static size_t
map_used(const struct store *st)
{
	MDB_envinfo	ei;
	MDB_stat	ms;

	if (mdb_env_info(st->env, &ei) != 0 ||
	    mdb_env_stat(st->env, &ms) != 0)
		return 0;
	return ((size_t)ei.me_last_pgno + 1) * ms.ms_psize;
}

/* LMDB allows a new size only while this process has no transaction */
static int
map_grow(struct store *st)
{
	size_t	next;
	int	rc;

	if (st->batch != NULL || st->later != NULL ||
	    st->mapsize >= st->mapmax)
		return -1;
	next = st->mapsize > st->mapmax / 2 ? st->mapmax : 2 * st->mapsize;
	if ((rc = mdb_env_set_mapsize(st->env, next)) != 0) {
		log_warnx("store: map size %zu: %s", next, mdb_strerror(rc));
		st->mapmax = st->mapsize;	/* no more tries: ENOSPC */
		return -1;
	}
	log_info("store: map grown from %zu to %zu bytes "
	    "(lmdb-mapsize-max %zu)", st->mapsize, next, st->mapmax);
	st->mapsize = next;
	return 0;
}

/* after each commit: grow before the map is full, warn before the max */
static void
map_check(struct store *st)
{
	size_t	used, pct;

	used = map_used(st);
	if (used / MAP_GROW_PCT >= st->mapsize / 100)
		(void)map_grow(st);
	pct = used / (st->mapmax / 100 + 1);
	if (pct < MAP_WARN_PCT) {
		st->warned = 0;
		return;
	}
	if ((int)pct < st->warned + 5)
		return;
	st->warned = (int)pct;
	log_warnx("store: the database is %zu%% full (%zu of %zu bytes, "
	    "lmdb-mapsize-max): writes will be refused when it is full",
	    pct, used, st->mapmax);
}

/*
 * Another process that has the environment open (parleyctl reading while
 * the router runs) learns of a grown map here: LMDB answers
 * MDB_MAP_RESIZED until the process adopts the new size.
 */
static int
txn_begin(struct store *st, unsigned int flags, MDB_txn **txn)
{
	MDB_envinfo	ei;
	int		rc;

	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc != MDB_MAP_RESIZED)
		return rc;
	if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
		return rc;
	if (mdb_env_info(st->env, &ei) == 0 && ei.me_mapsize > st->mapsize)
		st->mapsize = ei.me_mapsize;
	if (st->mapmax < st->mapsize)
		st->mapmax = st->mapsize;
	return mdb_txn_begin(st->env, NULL, flags, txn);
}

static int	batch_write(struct store *, const char *, store_write_fn *,
		    void *);

/* a deferred write kept to run again (store_write_replay) */
struct replay {
	store_write_fn	*fn;
	void		*arg;
	void		(*free)(void *);
};

static void
replay_drop(struct store *st)
{
	size_t	i;

	for (i = 0; i < st->nreplay; i++)
		st->replay[i].free(st->replay[i].arg);
	st->nreplay = 0;
}

/*
 * The shared child's writes into the deferred transaction, before that
 * is used otherwise (LMDB: a transaction with a child does nothing else).
 */
static void
shared_end(struct store *st)
{
	int	rc;

	if (st->shared == NULL)
		return;
	rc = mdb_txn_commit(st->shared);
	st->shared = NULL;
	if (rc != 0)
		log_warnx("store: %zu deferred writes lost: %s", st->nreplay,
		    mdb_strerror(rc));
	replay_drop(st);
	st->shared_pinned = false;
}

static void
replay_keep(struct store *st, store_write_fn *fn, void *arg,
    void (*free_fn)(void *))
{
	if (st->nreplay == st->capreplay) {
		st->capreplay = st->capreplay ? 2 * st->capreplay : 64;
		st->replay = xrealloc(st->replay, st->capreplay *
		    sizeof(*st->replay));
	}
	st->replay[st->nreplay].fn = fn;
	st->replay[st->nreplay].arg = arg;
	st->replay[st->nreplay].free = free_fn;
	st->nreplay++;
}

/*
 * The shared child cannot be undone while a reader holds it (store_rtxn:
 * a walk whose callback writes) or once it holds a write it cannot run
 * again: then a write runs in a child of its own inside it.
 */
static int
shared_nested(struct store *st, const char *op, store_write_fn *fn,
    void *arg)
{
	MDB_txn	*child;
	int	 rc, err;

	if ((rc = mdb_txn_begin(st->env, st->shared, 0, &child)) != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	if ((rc = fn(st, child, arg)) != 0) {
		err = rc == -1 ? errno : store_errno(op, rc);
		mdb_txn_abort(child);
		errno = err;
		return -1;
	}
	if ((rc = mdb_txn_commit(child)) != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	return 0;
}

/* a new shared child with the kept writes in it again */
static void
shared_replay(struct store *st)
{
	size_t	i;
	int	rc;

	if (st->nreplay == 0)
		return;
	if ((rc = mdb_txn_begin(st->env, st->later, 0, &st->shared)) != 0) {
		st->shared = NULL;
		goto lost;
	}
	for (i = 0; i < st->nreplay; i++)
		if ((rc = st->replay[i].fn(st, st->shared,
		    st->replay[i].arg)) != 0)
			break;
	if (i == st->nreplay)
		return;
	mdb_txn_abort(st->shared);
	st->shared = NULL;
lost:
	log_warnx("store: %zu deferred writes lost: %s", st->nreplay,
	    rc == -1 ? strerror(errno) : mdb_strerror(rc));
	replay_drop(st);
}

int
store_write_replay(struct store *st, const char *op, store_write_fn *fn,
    void *arg, void (*free_fn)(void *))
{
	int	rc, err;

	if (st->batch != NULL) {
		if (batch_write(st, op, fn, arg) == -1)
			return -1;
		free_fn(arg);
		return 0;
	}
	if (st->later == NULL &&
	    (rc = txn_begin(st, 0, &st->later)) != 0) {
		st->later = NULL;
		errno = store_errno(op, rc);
		return -1;
	}
	if (st->shared == NULL &&
	    (rc = mdb_txn_begin(st->env, st->later, 0, &st->shared)) != 0) {
		st->shared = NULL;
		errno = store_errno(op, rc);
		return -1;
	}
	if (st->shared_readers > 0 || st->shared_pinned) {
		if (shared_nested(st, op, fn, arg) == -1)
			return -1;
		replay_keep(st, fn, arg, free_fn);
		return 0;
	}
	if ((rc = fn(st, st->shared, arg)) == 0) {
		replay_keep(st, fn, arg, free_fn);
		return 0;
	}
	/* undone with the others; they run again without it */
	err = rc == -1 ? errno : store_errno(op, rc);
	mdb_txn_abort(st->shared);
	st->shared = NULL;
	shared_replay(st);
	errno = err;
	return -1;
}

/*
 * Deferred writes share one write transaction, committed by store_flush:
 * one commit (one sync) for all of them. An ordinary write commits them
 * first, so that writes reach the disk in the order they were made and
 * LMDB's single writer is never asked for a second transaction.
 */
int
store_flush(struct store *st)
{
	int	rc;

	if (st->pg != NULL)
		return pgs_flush(st->pg);
	shared_end(st);
	if (st->later == NULL)
		return 0;
	rc = mdb_txn_commit(st->later);
	st->later = NULL;
	if (rc != 0) {
		errno = store_errno("deferred writes", rc);
		if (map_full(rc))
			(void)map_grow(st);
		return -1;
	}
	st->commits++;
	map_check(st);
	return 0;
}

int
store_bulk(struct store *st)
{
	int	rc;

	if (st->pg != NULL)
		return pgs_bulk(st->pg);
	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 1)) != 0) {
		log_warnx("lmdb: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

int
store_begin(struct store *st)
{
	int	rc;

	if (st->pg != NULL)
		return pgs_begin(st->pg);
	if (st->batch != NULL)
		fatalx("%s: a batch is already open", __func__);
	(void)store_flush(st);	/* logged; the batch goes on */
	if ((rc = txn_begin(st, 0, &st->batch)) != 0) {
		st->batch = NULL;
		errno = store_errno("begin", rc);
		return -1;
	}
	st->batch_err = 0;
	return 0;
}

int
store_commit(struct store *st)
{
	MDB_txn	*txn = st->batch;
	int	 rc, err = st->batch_err;

	if (st->pg != NULL)
		return pgs_commit(st->pg);
	if (txn == NULL)
		fatalx("%s: no batch open", __func__);
	st->batch = NULL;
	if (err != 0)
		mdb_txn_abort(txn);
	else if ((rc = mdb_txn_commit(txn)) != 0)
		err = rc == MDB_MAP_FULL && st->mapsize < st->mapmax ? EAGAIN :
		    store_errno("commit", rc);
	if (err == EAGAIN && map_grow(st) == -1)
		err = ENOSPC;
	if (err != 0) {
		errno = err;
		return -1;
	}
	st->commits++;
	map_check(st);
	return 0;
}

void
store_abort(struct store *st)
{
	if (st->pg != NULL) {
		pgs_abort(st->pg);
		return;
	}
	if (st->batch == NULL)
		return;
	mdb_txn_abort(st->batch);
	st->batch = NULL;
	if (st->batch_err == EAGAIN)
		(void)map_grow(st);
}

/*
 * In a batch every write shares its transaction. A write that failed for
 * lack of room spoiled it (LMDB allows only an abort after a failed put):
 * the rest of the batch fails with the same errno and store_commit drops
 * all of it. A missing or existing key leaves the transaction usable.
 * The map cannot grow under an open transaction: when it still may, the
 * errno is EAGAIN, and store_commit or store_abort grow it once the
 * transaction is gone, for the caller to run the batch again.
 */
static int
batch_write(struct store *st, const char *op, store_write_fn *fn,
    void *arg)
{
	int	rc, err;

	if (st->batch_err != 0) {
		errno = st->batch_err;
		return -1;
	}
	if ((rc = fn(st, st->batch, arg)) == 0 || rc == -1)
		return rc;
	if (rc == MDB_MAP_FULL && st->mapsize < st->mapmax)
		err = EAGAIN;
	else
		err = store_errno(op, rc);
	if (rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
		st->batch_err = err;
	errno = err;
	return -1;
}

/* a failed put spoils its transaction: all the deferred writes go */
/*
 * A deferred write runs in a transaction nested in the shared one, so
 * that a write that fails (a quota, a full map) leaves nothing of itself
 * behind and takes nothing of the others with it. A full map commits
 * what was deferred so far, grows the map and runs the write again.
 */
static int
later_write(struct store *st, const char *op, store_write_fn *fn,
    void *arg)
{
	MDB_txn	*child;
	int	 rc, err, tries = 0;

	if (st->shared != NULL && st->shared_readers > 0) {
		/* a reader holds it: inside it, never undone from now */
		st->shared_pinned = true;
		return shared_nested(st, op, fn, arg);
	}
	shared_end(st);
again:
	if (st->later == NULL &&
	    (rc = txn_begin(st, 0, &st->later)) != 0) {
		st->later = NULL;
		errno = store_errno(op, rc);
		return -1;
	}
	if ((rc = mdb_txn_begin(st->env, st->later, 0, &child)) != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	if ((rc = fn(st, child, arg)) != 0) {
		err = errno;
		mdb_txn_abort(child);
		errno = err;
	} else if ((rc = mdb_txn_commit(child)) == 0)
		return 0;
	if (rc == -1)
		return -1;	/* errno set by fn */
	if (map_full(rc) && tries++ == 0 && store_flush(st) == 0 &&
	    map_grow(st) == 0)
		goto again;
	errno = store_errno(op, rc);
	return -1;
}

int
store_write(struct store *st, const char *op, store_write_fn *fn,
    void *arg, bool later)
{
	MDB_txn	*txn;
	int	 rc, err;

	if (st->batch != NULL)
		return batch_write(st, op, fn, arg);
	if (later)
		return later_write(st, op, fn, arg);
again:
	(void)store_flush(st);	/* logged; the write asked for goes on */
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if ((rc = fn(st, txn, arg)) != 0) {
		err = errno;
		mdb_txn_abort(txn);
		errno = err;
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	st->commits++;
	map_check(st);
	return 0;

fail:
	if (rc == -1)
		return -1;	/* errno set by fn */
	/* the map may grow still: once larger, the same write again */
	if (rc == MDB_MAP_FULL && map_grow(st) == 0)
		goto again;
	errno = store_errno(op, rc);
	return -1;
}

int
store_rtxn(struct store *st, MDB_txn **txn)
{
	if (st->batch != NULL)
		*txn = st->batch;
	else if (st->shared != NULL) {
		*txn = st->shared;
		st->shared_readers++;
	} else if (st->later != NULL)
		*txn = st->later;
	else
		return txn_begin(st, MDB_RDONLY, txn);
	return 0;
}

void
store_rtxn_end(struct store *st, MDB_txn *txn)
{
	if (txn == st->shared && st->shared_readers > 0)
		st->shared_readers--;
	else if (txn != st->batch && txn != st->later)
		mdb_txn_abort(txn);
}

/*
 * "domain\0node": all accounts of a domain sit together, so listing a
 * domain is one range scan. Returns the key length, or 0 if the key
 * cannot be stored (longer than LMDB's key limit less the room the
 * account's own records need after it).
 */
size_t
account_key(const struct store *st, char *key, const char *node,
    const char *domain)
{
	size_t	dlen = strlen(domain), nlen = strlen(node);

	if (dlen == 0 || nlen == 0 || dlen + 1 + nlen > st->acctmax)
		return 0;
	memcpy(key, domain, dlen);
	key[dlen] = '\0';
	memcpy(key + dlen + 1, node, nlen);
	return dlen + 1 + nlen;
}

/* "domain\0node\0", the start of every key the account owns; 0 if none */
size_t
account_prefix(const struct store *st, char *key, const char *node,
    const char *domain)
{
	size_t	len;

	if ((len = account_key(st, key, node, domain)) == 0)
		return 0;
	key[len] = '\0';
	return len + 1;
}

size_t
owner_prefix(const struct store *st, char *key, const char *node,
    const char *domain)
{
	size_t	dlen = strlen(domain);

	if (node != NULL && *node != '\0')
		return account_prefix(st, key, node, domain);
	if (dlen == 0 || dlen + 1 > st->acctmax)
		return 0;
	memcpy(key, domain, dlen);
	key[dlen] = key[dlen + 1] = '\0';
	return dlen + 2;
}

/*
 * Appends the tail tag (when not 0) + s to the prefix in key[0..plen),
 * hashing it as described at the top when the key would be too long.
 * account_key left room for that. Returns the key length, or 0 with errno
 * (EINVAL for an empty tail, EIO if the digest failed).
 */
size_t
tail_key(const struct store *st, char *key, size_t plen, char tag,
    const char *s)
{
	gnutls_hash_hd_t	 h;
	size_t			 slen = strlen(s), tlen, m;
	char			*p = key + plen;

	tlen = (tag != '\0') + slen;
	if (tlen == 0) {
		errno = EINVAL;
		return 0;
	}
	if (tag != '\0')
		*p++ = tag;
	if (plen + tlen <= st->maxkey) {
		memcpy(p, s, slen);
		return plen + tlen;
	}
	m = st->maxkey - plen - 1 - KEY_DIGEST_LEN - (tag != '\0');
	memcpy(p, s, m);
	p[m] = '\0';
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
		log_warnx("store: SHA-256 unavailable");
		errno = EIO;
		return 0;
	}
	if (tag != '\0')
		gnutls_hash(h, &tag, 1);
	gnutls_hash(h, s, slen);
	gnutls_hash_deinit(h, p + m + 1);
	return st->maxkey;
}

bool
key_in(const MDB_val *k, const char *prefix, size_t plen)
{
	return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

/* whether k is the key tail_key builds for s: a record names its key */
bool
key_is(const struct store *st, const MDB_val *k, const char *prefix,
    size_t plen, const char *s)
{
	char	key[STORE_KEY_BUF];
	size_t	klen;

	memcpy(key, prefix, plen);
	klen = tail_key(st, key, plen, '\0', s);
	return klen != 0 && klen == k->mv_size &&
	    memcmp(key, k->mv_data, klen) == 0;
}

/*
 * Removes the keys of dbi that start with prefix, in order, as pick
 * decides for each (NULL: all): RANGE_DEL deletes it, RANGE_SKIP keeps it,
 * RANGE_STOP ends the walk. Seeks afresh after every step, from the key
 * just deleted or just past one kept (key + NUL is its immediate
 * successor), rather than trusting the cursor position a delete leaves.
 * Returns 0 or an LMDB error.
 */
int
range_del(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    range_pick_fn *pick, void *arg)
{
	char		 from[STORE_KEY_BUF];
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 flen = plen;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	memcpy(from, prefix, plen);
	for (;;) {
		k.mv_data = from;
		k.mv_size = flen;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!key_in(&k, prefix, plen))
			break;
		switch (pick != NULL ? pick(&k, arg) : RANGE_DEL) {
		case RANGE_STOP:
			goto done;
		case RANGE_SKIP:
			if (k.mv_size >= sizeof(from))
				goto done;	/* not a key we wrote */
			memcpy(from, k.mv_data, k.mv_size);
			from[k.mv_size] = '\0';
			flen = k.mv_size + 1;
			continue;
		case RANGE_DEL:
			break;
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
done:
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Reads the record at k: fn (NULL: only whether it is there) gets its
 * bytes, valid during the call, and returns 0 or -1 with errno. 0, or -1
 * with errno (ENOENT when there is none).
 */
int
store_get(struct store *st, MDB_dbi dbi, const char *op, const MDB_val *k,
    store_read_fn *fn, void *arg)
{
	MDB_txn	*txn;
	MDB_val	 key = *k, v;
	int	 rc, err = 0;

	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	if ((rc = mdb_get(txn, dbi, &key, &v)) != 0)
		err = store_errno(op, rc);
	else if (fn != NULL && fn(&v, arg) == -1)
		err = errno;
	store_rtxn_end(st, txn);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Calls fn for every key of dbi under prefix (plen 0: every key), in key
 * order, until it returns non-zero (a stop, not an error). 0 or an LMDB
 * error.
 */
int
range_walk(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    store_walk_fn *fn, void *arg)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, op = plen > 0 ? MDB_SET_RANGE : MDB_FIRST;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, prefix, plen) || fn(&k, &v, arg) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* range_walk in a read transaction of its own; 0 or -1 with errno */
int
store_walk(struct store *st, MDB_dbi dbi, const char *op,
    const char *prefix, size_t plen, store_walk_fn *fn, void *arg)
{
	MDB_txn	*txn;
	int	 rc;

	if ((rc = store_rtxn(st, &txn)) == 0) {
		rc = range_walk(txn, dbi, prefix, plen, fn, arg);
		store_rtxn_end(st, txn);
	}
	if (rc != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	return 0;
}

struct usage_walk {
	struct store_usage	*u;
	size_t			 max;
};

static int
usage_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct usage_walk	*uw = arg;

	(void)k;
	uw->u->count++;
	uw->u->bytes += v->mv_size;
	return uw->u->count >= uw->max;
}

int
range_usage(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    size_t max, struct store_usage *u)
{
	struct usage_walk	uw = { u, max };

	u->count = u->bytes = 0;
	if (max == 0)
		return 0;
	return range_walk(txn, dbi, prefix, plen, usage_one, &uw);
}

int
store_walk_usage(struct store *st, MDB_dbi dbi, const char *op,
    const char *prefix, size_t plen, struct store_usage *u)
{
	struct usage_walk	uw = { u, SIZE_MAX };

	u->count = u->bytes = 0;
	return store_walk(st, dbi, op, prefix, plen, usage_one, &uw);
}

int
account_usage(struct store *st, MDB_dbi dbi, const char *op, char tag,
    const char *node, const char *domain, struct store_usage *u)
{
	char			key[STORE_KEY_BUF];
	size_t			plen;

	u->count = u->bytes = 0;
	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if (tag != '\0')
		key[plen++] = tag;
	return store_walk_usage(st, dbi, op, key, plen, u);
}

int
account_count(struct store *st, MDB_dbi dbi, const char *op,
    const char *node, const char *domain, size_t *n)
{
	struct store_usage	u;
	int			rc;

	rc = account_usage(st, dbi, op, '\0', node, domain, &u);
	*n = u.count;
	return rc;
}

int
meta_get(const struct store *st, MDB_txn *txn, const char *prefix,
    size_t plen, char tag, uint64_t *val)
{
	char	key[STORE_KEY_BUF];
	MDB_val	k, v;
	int	rc;

	*val = 0;
	memcpy(key, prefix, plen);
	key[plen] = tag;
	k.mv_data = key;
	k.mv_size = plen + 1;
	if ((rc = mdb_get(txn, st->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8) {
		log_warnx("store: counter '%c' of %s: corrupt (%zu bytes)",
		    tag, log_esc(key, plen), v.mv_size);
		errno = EIO;
		return -1;
	}
	*val = rec_get_u64(v.mv_data);
	return 0;
}

int
meta_put(const struct store *st, MDB_txn *txn, const char *prefix,
    size_t plen, char tag, uint64_t val)
{
	char	key[STORE_KEY_BUF];
	uint8_t	buf[8];
	MDB_val	k, v;

	rec_put_u64(buf, val);
	memcpy(key, prefix, plen);
	key[plen] = tag;
	k.mv_data = key;
	k.mv_size = plen + 1;
	v.mv_data = buf;
	v.mv_size = sizeof(buf);
	return mdb_put(txn, st->meta, &k, &v, 0);
}
