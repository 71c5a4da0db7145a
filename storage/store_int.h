/*
 * The LMDB backend's private header: the environment, the key layout and
 * the one write path shared by the record files (store_account.c,
 * store_roster.c, store_offline.c, store_doc.c, store_block.c). Only the
 * storage/store*.c files include it, and only they include <lmdb.h>.
 */
#ifndef PARLEY_STORE_INT_H
#define PARLEY_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "../common/jid.h"
#include "store.h"
#include "store_codec.h"

/* "domain\0node" and a NUL; LMDB's own limit (511) is usually lower */
#define STORE_KEY_BUF		(2 * (JID_PART_MAX + 1))
/* a hashed tail ends in a NUL and this digest (SHA-256) */
#define KEY_DIGEST_LEN		32
/* room an account key leaves: the prefix's NUL, a tag, NUL + digest */
#define KEY_TAIL_RESERVE	(1 + 1 + 1 + KEY_DIGEST_LEN)

struct replay;
struct pgstore;

struct store {
	/*
	 * Opened by store_open_pg: every store_* function hands its call to
	 * pgs_* (storage/pg.h) and nothing below is used.
	 */
	struct pgstore	*pg;
	MDB_env		*env;
	MDB_dbi		 accounts;
	MDB_dbi		 roster;	/* prefix + contact: roster record */
	MDB_dbi		 offline;	/* prefix + u64 seq: stanza bytes */
	MDB_dbi		 docs;		/* prefix + kind tag + name: bytes */
	MDB_dbi		 blocks;	/* prefix + jid: the jid */
	MDB_dbi		 meta;		/* prefix + tag: u64 counter */
	MDB_dbi		 ps_nodes;	/* owner prefix + name: node record */
	MDB_dbi		 ps_items;	/* owner prefix + node id + ...: items
					   and their id index */
	MDB_dbi		 archive;	/* owner prefix + u64 id: entry;
					   the prefix alone: the totals */
	MDB_dbi		 archive_with;	/* owner prefix + hash(with) + id */
	size_t		 maxkey;	/* LMDB's key limit */
	size_t		 acctmax;	/* longest "domain\0node" we accept */
	MDB_txn		*later;		/* deferred writes, see store_flush */
	MDB_txn		*shared;	/* child of later: store_write_replay */
	struct replay	*replay;	/* the writes in shared, in order
					   (store.c) */
	size_t		 nreplay, capreplay;
	int		 shared_readers;	/* store_rtxn gave it out */
	bool		 shared_pinned;	/* holds a write it cannot replay */
	MDB_txn		*batch;		/* store_begin .. store_commit */
	int		 batch_err;	/* errno that spoiled the batch */
	size_t		 mapsize;	/* the map now */
	size_t		 mapmax;	/* store_set_mapmax: growth stops here */
	int		 warned;	/* percent of mapmax last warned of */
	uint64_t	 commits;	/* write transactions committed */
};

/*
 * A write: runs inside the transaction store_write gives it and returns
 * 0, an LMDB error, or -1 with errno set (EDQUOT, ENOENT, EIO...). It may
 * run twice (after the map has grown), so it changes nothing but the
 * transaction and *arg's outputs.
 */
typedef int	 store_write_fn(struct store *, MDB_txn *, void *arg);

/* store.c */
int	 store_errno(const char *op, int rc);
/*
 * Runs fn in a write transaction and commits it (op names it in logs).
 * Inside store_begin .. store_commit, fn joins the batch; with later,
 * fn joins the deferred writes (store_flush). 0, or -1 with errno.
 */
int	 store_write(struct store *, const char *op, store_write_fn *,
	    void *arg, bool later);
/*
 * A deferred write that joins the writes before it in one transaction
 * nested in the deferred one, instead of a nested transaction of its own
 * (LMDB copies every page a nested transaction touches): for many small
 * writes on the delivery path. The store keeps arg, and frees it with
 * free_fn once the writes are committed; if a later one fails, the
 * shared transaction is undone and the kept ones run again (fn must give
 * the same result then), so a failure still spoils no other write. On
 * failure (-1, errno) nothing of this write is left, and arg is still the
 * caller's: it may run it again with store_write(..., later = true),
 * which grows a full map.
 */
int	 store_write_replay(struct store *, const char *op, store_write_fn *,
	    void *arg, void (*free_fn)(void *));
/* a transaction to read in: the batch or deferred one if open */
int	 store_rtxn(struct store *, MDB_txn **);
void	 store_rtxn_end(struct store *, MDB_txn *);
size_t	 account_key(const struct store *, char *key, const char *node,
	    const char *domain);
size_t	 account_prefix(const struct store *, char *key, const char *node,
	    const char *domain);
size_t	 tail_key(const struct store *, char *key, size_t plen, char tag,
	    const char *s);
/*
 * "domain\0node\0" for an account, "domain\0\0" for a service's own
 * records (node NULL or empty: a publish-subscribe service); 0 if none.
 */
size_t	 owner_prefix(const struct store *, char *key, const char *node,
	    const char *domain);
bool	 key_in(const MDB_val *, const char *prefix, size_t plen);
bool	 key_is(const struct store *, const MDB_val *, const char *prefix,
	    size_t plen, const char *s);
/* reads one record: 0, or -1 with errno set */
typedef int	 store_read_fn(const MDB_val *v, void *arg);
int	 store_get(struct store *, MDB_dbi, const char *op, const MDB_val *k,
	    store_read_fn *, void *arg);
enum range_pick { RANGE_DEL, RANGE_SKIP, RANGE_STOP };
typedef enum range_pick	 range_pick_fn(const MDB_val *k, void *arg);
int	 range_del(MDB_txn *, MDB_dbi, const char *prefix, size_t plen,
	    range_pick_fn *, void *arg);
/* one record of a walk: 0 goes on, non-zero stops */
typedef int	 store_walk_fn(const MDB_val *k, const MDB_val *v, void *arg);
int	 range_walk(MDB_txn *, MDB_dbi, const char *prefix, size_t plen,
	    store_walk_fn *, void *arg);
int	 store_walk(struct store *, MDB_dbi, const char *op,
	    const char *prefix, size_t plen, store_walk_fn *, void *arg);
/* keys under prefix (stops at max) and their values' bytes */
int	 range_usage(MDB_txn *, MDB_dbi, const char *prefix, size_t plen,
	    size_t max, struct store_usage *);
/* store_walk counting the records under prefix and their bytes */
int	 store_walk_usage(struct store *, MDB_dbi, const char *op,
	    const char *prefix, size_t plen, struct store_usage *);
/* the usage of dbi under the account's prefix + tag (0: none) */
int	 account_usage(struct store *, MDB_dbi, const char *op, char tag,
	    const char *node, const char *domain, struct store_usage *);
int	 account_count(struct store *, MDB_dbi, const char *op,
	    const char *node, const char *domain, size_t *n);

/*
 * Per-account counters in the meta database, keyed prefix + tag: the
 * roster version and the next offline sequence. Absent reads as 0.
 */
#define META_ROSTER_VER		'r'
#define META_OFFLINE_SEQ	'o'
#define META_PUBSUB_NODE	'n'	/* the next node id */
#define META_PUBSUB_SEQ		'p'	/* the next item sequence */

/* 0, an LMDB error, or -1 with errno EIO for a corrupt record (logged) */
int	 meta_get(const struct store *, MDB_txn *, const char *prefix,
	    size_t plen, char tag, uint64_t *val);
int	 meta_put(const struct store *, MDB_txn *, const char *prefix,
	    size_t plen, char tag, uint64_t val);

#endif
