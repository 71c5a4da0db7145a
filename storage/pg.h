/*
 * The PostgreSQL backend (docs/internals.md, "Storage", "PostgreSQL"):
 * the same contract as store.h, one function per store_* function.
 * storage/store*.c dispatch to these when the store was opened with
 * store_open_pg; nothing outside storage/ includes this header.
 * Core records: storage/pg.c, pg_account.c, pg_roster.c, pg_offline.c,
 * pg_doc.c, pg_block.c. Publish-subscribe and the archive:
 * storage/pg_pubsub.c, pg_archive.c.
 */
#ifndef PARLEY_PG_H
#define PARLEY_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct pgstore;

/*
 * Connects with conninfo (libpq's "key=value" or URI form), creates or
 * upgrades the schema (storage/pg_schema.c) and returns new, or NULL
 * with a message in errbuf.
 */
struct pgstore	*pgs_open(const char *conninfo, char *errbuf, size_t errlen);
void		 pgs_close(struct pgstore *);
/* store_bulk: commits stop waiting for the server's disk */
int		 pgs_bulk(struct pgstore *);
int		 pgs_begin(struct pgstore *);
int		 pgs_commit(struct pgstore *);
void		 pgs_abort(struct pgstore *);
/*
 * Declared, not defined: store_disabled.c and store_role.c are built on
 * the public store_* calls (the fuzz targets' fake store links them), so
 * over PostgreSQL they run through pgs_account_get and pgs_doc_*.
 */
int	 pgs_account_disable(struct pgstore *, const char *node,
	    const char *domain, bool disabled);
int	 pgs_account_disabled(struct pgstore *, const char *node,
	    const char *domain);
int	 pgs_account_role_set(struct pgstore *, const char *node,
	    const char *domain, enum role);
int	 pgs_account_role_get(struct pgstore *, const char *node,
	    const char *domain, enum role *);
int	 pgs_account_get(struct pgstore *, const char *node,
	    const char *domain, struct scram_creds *out);
int	 pgs_account_add(struct pgstore *, const char *node,
	    const char *domain, const struct scram_creds *);
int	 pgs_account_set(struct pgstore *, const char *node,
	    const char *domain, const struct scram_creds *);
int	 pgs_account_del(struct pgstore *, const char *node,
	    const char *domain);
int	 pgs_account_upgrade(struct pgstore *, const char *node,
	    const char *domain, enum scram_hash, const struct scram_cred *);
int	 pgs_account_list(struct pgstore *, const char *domain,
	    int (*fn)(const char *node, const char *domain, void *arg),
	    void *arg);
int	 pgs_roster_get(struct pgstore *, const char *node,
	    const char *domain, const char *contact, struct roster_item *out);
int	 pgs_roster_put(struct pgstore *, const char *node,
	    const char *domain, struct roster_item *item, uint64_t *ver);
int	 pgs_roster_del(struct pgstore *, const char *node,
	    const char *domain, const char *contact, uint64_t *ver);
int	 pgs_roster_list(struct pgstore *, const char *node,
	    const char *domain,
	    int (*fn)(const struct roster_item *, void *arg), void *arg);
int	 pgs_roster_version(struct pgstore *, const char *node,
	    const char *domain, uint64_t *ver);
int	 pgs_roster_count(struct pgstore *, const char *node,
	    const char *domain, size_t *n);
int	 pgs_offline_put(struct pgstore *, const char *node,
	    const char *domain, const char *xml, size_t len,
	    const struct store_usage *max, uint64_t *seq);
int	 pgs_offline_list(struct pgstore *, const char *node,
	    const char *domain,
	    int (*fn)(uint64_t seq, const char *xml, size_t len, void *arg),
	    void *arg);
int	 pgs_offline_del(struct pgstore *, const char *node,
	    const char *domain, uint64_t upto);
int	 pgs_offline_del_one(struct pgstore *, const char *node,
	    const char *domain, uint64_t seq);
int	 pgs_offline_count(struct pgstore *, const char *node,
	    const char *domain, size_t *n);
int	 pgs_doc_get(struct pgstore *, enum store_doc, const char *node,
	    const char *domain, const char *key, char **val, size_t *len);
int	 pgs_doc_put(struct pgstore *, enum store_doc, const char *node,
	    const char *domain, const char *key, const char *val, size_t len);
int	 pgs_doc_put_later(struct pgstore *, enum store_doc, const char *node,
	    const char *domain, const char *key, const char *val, size_t len);
int	 pgs_flush(struct pgstore *);
int	 pgs_doc_walk(struct pgstore *, enum store_doc, const char *domain,
	    int (*fn)(const char *val, size_t len, void *arg), void *arg);
int	 pgs_doc_walk_account(struct pgstore *, enum store_doc,
	    const char *node, const char *domain, const char *after,
	    size_t max, int (*fn)(const char *name, const char *val,
	    size_t len, void *arg), void *arg);
int	 pgs_doc_usage(struct pgstore *, enum store_doc, const char *node,
	    const char *domain, struct store_usage *);
int	 pgs_block_add(struct pgstore *, const char *node, const char *domain,
	    const char *jid);
int	 pgs_block_del(struct pgstore *, const char *node, const char *domain,
	    const char *jid);
int	 pgs_block_has(struct pgstore *, const char *node, const char *domain,
	    const char *jid);
int	 pgs_block_list(struct pgstore *, const char *node, const char *domain,
	    int (*fn)(const char *jid, void *arg), void *arg);
int	 pgs_block_count(struct pgstore *, const char *node,
	    const char *domain, size_t *n);

/* storage/pg_pubsub.c, storage/pg_archive.c */
int	 pgs_pubsub_node_get(struct pgstore *, const char *owner,
	    const char *domain, const char *name, uint64_t *nid, char **conf,
	    size_t *clen);
int	 pgs_pubsub_node_put(struct pgstore *, const char *owner,
	    const char *domain, const char *name, uint64_t *nid,
	    const char *conf, size_t clen, size_t max);
int	 pgs_pubsub_node_del(struct pgstore *, const char *owner,
	    const char *domain, const char *name);
int	 pgs_pubsub_node_list(struct pgstore *, const char *owner,
	    const char *domain,
	    int (*fn)(const char *name, uint64_t nid, const char *conf,
	    size_t clen, void *arg), void *arg);
int	 pgs_pubsub_item_put(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid, const struct pubsub_item *it,
	    size_t max);
int	 pgs_pubsub_item_get(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid, const char *id,
	    struct pubsub_item *out);
int	 pgs_pubsub_item_del(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid, const char *id);
int	 pgs_pubsub_items(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid, size_t max,
	    int (*fn)(const struct pubsub_item *, void *arg), void *arg);
int	 pgs_pubsub_item_count(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid, size_t *n);
int	 pgs_pubsub_purge(struct pgstore *, const char *owner,
	    const char *domain, uint64_t nid);
int	 pgs_archive_put(struct pgstore *, const char *owner,
	    const char *domain, struct archive_entry *e,
	    const struct archive_limits *, bool later);
int	 pgs_archive_put_many(struct pgstore *, struct archive_req *,
	    size_t, const struct archive_limits *, bool later);
int	 pgs_archive_del(struct pgstore *, const char *owner,
	    const char *domain, uint64_t id);
int	 pgs_archive_clear(struct pgstore *, const char *owner,
	    const char *domain);
int	 pgs_archive_get(struct pgstore *, const char *owner,
	    const char *domain, uint64_t id, struct archive_entry *out);
int	 pgs_archive_query(struct pgstore *, const char *owner,
	    const char *domain, const struct archive_range *r,
	    int (*fn)(const struct archive_entry *, void *arg), void *arg);
int	 pgs_archive_count(struct pgstore *, const char *owner,
	    const char *domain, const struct archive_range *r, size_t *n);
int	 pgs_archive_usage(struct pgstore *, const char *owner,
	    const char *domain, struct store_usage *);

/* every publish-subscribe node and item of an owner (an account gone) */
int	 pgs_pubsub_owner_del(struct pgstore *, const char *owner,
	    const char *domain);

#endif
