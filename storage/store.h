/*
 * Storage: the narrow interface callers see, and all a backend provides
 * (docs/internals.md, "Storage"). The LMDB backend is storage/store*.c:
 * one environment under the data directory, a named database per kind
 * (accounts, roster, offline messages, documents, block list, counters).
 * Only the router (or parleyctl with the server stopped) opens it for
 * writing. Nothing here names LMDB: callers see records, errno values and
 * transactions.
 */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/jid.h"
#include "../common/scram.h"
#include "../common/role.h"

struct store;

/*
 * Opens (creating the directory and the environment if needed) the store
 * under dir. mapsize: the LMDB map size in bytes. Returns new, or NULL with
 * a message written to errbuf.
 */
struct store	*store_open(const char *dir, size_t mapsize, char *errbuf,
		    size_t errlen);
/*
 * The same over PostgreSQL (storage/pg.h): conninfo is libpq's; the
 * schema is created or upgraded on open.
 */
struct store	*store_open_pg(const char *conninfo, char *errbuf,
		    size_t errlen);
void		 store_close(struct store *);
/*
 * Bulk loading (the benchmark's provisioning, an import): transactions
 * commit without syncing to disk; store_close syncs once. A crash before
 * then can lose what was written since store_bulk.
 */
int		 store_bulk(struct store *);
/*
 * The map may grow up to max bytes (never below the size it was opened
 * with, the default): it doubles once the data fills 80 % of it, and the
 * log warns from 80 % of max. At max, writes fail with ENOSPC while
 * reads go on.
 */
void		 store_set_mapmax(struct store *, size_t max);

/*
 * One request, one transaction. Between store_begin and store_commit
 * every write joins one transaction (and deferred writes with it), which
 * store_commit commits with one sync and store_abort discards; reads see
 * the writes made so far. Not nested; nothing else may run between (the
 * router opens and closes a batch inside one handler). A write that fails
 * for lack of room spoils the batch: later writes and store_commit fail
 * with the same errno and nothing of it is stored. EAGAIN means the map
 * was full but may grow: it has grown once store_commit or store_abort
 * returns, and the caller runs the batch again (each EAGAIN doubles the
 * map; at its max the error is ENOSPC, so the retries end).
 */
int		 store_begin(struct store *);
int		 store_commit(struct store *);
void		 store_abort(struct store *);

/* what an account holds of one kind: records and their bytes */
struct store_usage {
	size_t	count;
	size_t	bytes;
};

/*
 * Accounts. node and domain are already prepared (nodeprep, nameprep).
 * Returns 0 on success, -1 with errno: ENOENT (no such account), EEXIST
 * (store_account_add on an existing one), ENOSPC (map full), EIO (other
 * storage failures, logged).
 */
/*
 * Disabled accounts keep their data and may not log in (a DOC_DISABLED
 * document). disable: ENOENT for no such account. disabled: 1, 0 or -1.
 */
int	 store_account_disable(struct store *, const char *node,
	    const char *domain, bool disabled);
int	 store_account_disabled(struct store *, const char *node,
	    const char *domain);
/*
 * An account's role (storage/store_role.c, a DOC_ROLE document; none:
 * member). Both fail with ENOENT for no such account. set: ROLE_MEMBER
 * removes the document. get: 0 with the role (member when none is
 * stored), or -1 with errno (EIO also for a record naming no role).
 */
int	 store_account_role_set(struct store *, const char *node,
	    const char *domain, enum role);
int	 store_account_role_get(struct store *, const char *node,
	    const char *domain, enum role *);
int	 store_account_get(struct store *, const char *node,
	    const char *domain, struct scram_creds *out);
int	 store_account_add(struct store *, const char *node,
	    const char *domain, const struct scram_creds *);
/* replaces the credentials of an existing account */
int	 store_account_set(struct store *, const char *node,
	    const char *domain, const struct scram_creds *);
int	 store_account_del(struct store *, const char *node,
	    const char *domain);
/*
 * XEP-0480: adds one hash's credentials to an account lacking them; the
 * others are kept. 1 added, 0 the account had that hash (unchanged).
 */
int	 store_account_upgrade(struct store *, const char *node,
	    const char *domain, enum scram_hash, const struct scram_cred *);
/*
 * Calls fn for every account of domain (NULL: all domains), in order.
 * fn returning non-zero stops the walk. Returns 0 or -1 (errno).
 */
int	 store_account_list(struct store *, const char *domain,
	    int (*fn)(const char *node, const char *domain, void *arg),
	    void *arg);

/*
 * Roster (RFC 6121 2, 3): one record per (account, contact), keyed
 * "domain\0node\0contact" so an account's roster is a range scan. The
 * subscription state is the RFC 6121 appendix A state: sub (none, to,
 * from, both) plus pending-out (ask), pending-in and pre-approval. Each
 * account has a roster version, bumped by every put and delete
 * (XEP-0237); an item records the version that last changed it.
 */
enum roster_sub { SUB_NONE, SUB_TO, SUB_FROM, SUB_BOTH };

#define ROSTER_GROUPS_MAX	64

struct roster_item {
	char		*jid;		/* contact, bare, prepared */
	char		*name;		/* NULL when none */
	char		*groups[ROSTER_GROUPS_MAX];
	size_t		 ngroups;
	enum roster_sub	 sub;
	bool		 ask;		/* pending out: we asked them */
	bool		 pending_in;	/* they asked us, unanswered */
	bool		 preapproved;	/* RFC 6121 3.4 */
	bool		 hidden;	/* not in roster results and pushes:
					   state kept for a contact that is
					   only pending-in (RFC 6121 3.1.3) */
	char		*pending_xml;	/* their request while pending_in,
					   as router/subreq.c records it
					   ("SECONDS STATUS"); NULL if
					   none */
	uint64_t	 ver;		/* roster version of the last change */
};

/* frees the strings (not the struct); safe on a zeroed item */
void	 roster_item_clear(struct roster_item *);
/* ENOENT when there is no such item */
int	 store_roster_get(struct store *, const char *node,
	    const char *domain, const char *contact, struct roster_item *out);
/* inserts or replaces; bumps the roster version, returned in *ver */
int	 store_roster_put(struct store *, const char *node,
	    const char *domain, struct roster_item *item, uint64_t *ver);
/* ENOENT when there is no such item; bumps the version */
int	 store_roster_del(struct store *, const char *node,
	    const char *domain, const char *contact, uint64_t *ver);
/* every item in contact order; fn returning non-zero stops the walk */
int	 store_roster_list(struct store *, const char *node,
	    const char *domain,
	    int (*fn)(const struct roster_item *, void *arg), void *arg);
/* the current version (0 for an account that never had a roster) */
int	 store_roster_version(struct store *, const char *node,
	    const char *domain, uint64_t *ver);
int	 store_roster_count(struct store *, const char *node,
	    const char *domain, size_t *n);

/*
 * Offline messages (XEP-0160): stanzas (serialised, with their delay
 * already added) in arrival order, keyed "domain\0node\0" + u64 sequence.
 * store_offline_put fails with EDQUOT when the account already holds
 * max->count messages or the new one would bring their bytes past
 * max->bytes (checked in the write's own transaction). The sequence of
 * the stored message is returned.
 */
int	 store_offline_put(struct store *, const char *node,
	    const char *domain, const char *xml, size_t len,
	    const struct store_usage *max, uint64_t *seq);
/* oldest first; fn returning non-zero stops the walk */
int	 store_offline_list(struct store *, const char *node,
	    const char *domain,
	    int (*fn)(uint64_t seq, const char *xml, size_t len, void *arg),
	    void *arg);
/* removes the messages with sequence <= upto */
int	 store_offline_del(struct store *, const char *node,
	    const char *domain, uint64_t upto);
/*
 * Removes the one message of sequence seq (a retracted one, XEP-0424);
 * ENOENT when there is none.
 */
int	 store_offline_del_one(struct store *, const char *node,
	    const char *domain, uint64_t seq);
int	 store_offline_count(struct store *, const char *node,
	    const char *domain, size_t *n);

/*
 * Small per-account documents: vcard-temp (key ""), private XML storage
 * (key "{namespace}element"), last activity (key "": "seconds status"),
 * archive preferences (XEP-0441, key "": router/mam.c's record), push
 * registrations (XEP-0357, key "": router/push.c's record), a group chat
 * room's record (node: the room, domain: its service, key "":
 * router/muc_config.c's record), upload usage (XEP-0363, key "":
 * router/upload.c's record).
 * get returns a malloc'd copy (caller frees) or ENOENT; put with val NULL
 * deletes.
 */
enum store_doc { DOC_VCARD, DOC_PRIVATE, DOC_LAST, DOC_MAM_PREFS,
	DOC_PUSH,
	DOC_FAST,	/* XEP-0484 token hashes, key: the device id */
	DOC_DISABLED,	/* present: the account may not log in */
	DOC_MUC,
	DOC_UPLOAD,
	DOC_ROLE,	/* the account's role (common/role.h); none: member */
	DOC_INVITE };	/* XEP-0379/0401 invitations (router/invite.c):
			   node INVITE_NODE, key the token's hash */

/* a DOC_INVITE document (record: storage/store_codec.h) */
#define INVITE_ACCOUNT		'a'	/* register an account */
/* subscribe with the creator (and register, XEP-0401 ibr=y) */
#define INVITE_CONTACT		'c'
/* subscribe with the creator only (its role may not register accounts) */
#define INVITE_ROSTER		'r'
#define INVITE_HASH_LEN		64	/* hex SHA-256 */
struct invite {
	char		hash[INVITE_HASH_LEN + 1];
	char		kind;
	uint32_t	uses;		/* left */
	int64_t		expires;	/* epoch seconds; 0: never */
	char		creator[JID_STR_MAX + 1];	/* "" for none */
	/* an account invitation for this localpart only (XEP-0401) */
	char		username[JID_PART_MAX + 1];	/* "" for any */
};

int	 store_doc_get(struct store *, enum store_doc, const char *node,
	    const char *domain, const char *key, char **val, size_t *len);
int	 store_doc_put(struct store *, enum store_doc, const char *node,
	    const char *domain, const char *key, const char *val, size_t len);
/*
 * The same, deferred: written with every other deferred write in one
 * transaction when store_flush runs (or any ordinary write, or
 * store_close), so that many of them cost one commit and one sync; until
 * then store_doc_get sees it and a crash loses it. Each deferred write
 * runs in a transaction nested in that one: one that fails leaves
 * nothing behind and spoils none of the others. The router commits them
 * before it writes any frame (link_set_before_write).
 */
int	 store_doc_put_later(struct store *, enum store_doc, const char *node,
	    const char *domain, const char *key, const char *val, size_t len);
/* commits the deferred writes; -1 with errno (logged) if that failed */
int	 store_flush(struct store *);
/*
 * Every document of kind of every account at domain (a group chat
 * service's rooms), in key order: fn(val, len, arg), non-zero stops.
 */
int	 store_doc_walk(struct store *, enum store_doc, const char *domain,
	    int (*fn)(const char *val, size_t len, void *arg), void *arg);
/*
 * A bounded walk of one account's documents of kind (a sweep that
 * resumes where it stopped): at most max of them in name order, from
 * the first whose name sorts after `after` ("": the first).
 * fn(name, val, len, arg), non-zero stops; name is the one the key
 * holds (one too long for a key is cut where its digest starts), to
 * resume from. 0 or -1 (errno).
 */
int	 store_doc_walk_account(struct store *, enum store_doc,
	    const char *node, const char *domain, const char *after,
	    size_t max, int (*fn)(const char *name, const char *val,
	    size_t len, void *arg), void *arg);
/* how many documents of kind the account has, and their bytes */
int	 store_doc_usage(struct store *, enum store_doc, const char *node,
	    const char *domain, struct store_usage *);

/*
 * Block list (XEP-0191): the JIDs an account blocks, as written (bare,
 * full or domain), keyed "domain\0node\0jid".
 */
int	 store_block_add(struct store *, const char *node, const char *domain,
	    const char *jid);
/* jid NULL removes all; ENOENT when a given one was not there */
int	 store_block_del(struct store *, const char *node, const char *domain,
	    const char *jid);
/* 0 if listed, ENOENT if not */
int	 store_block_has(struct store *, const char *node, const char *domain,
	    const char *jid);
int	 store_block_list(struct store *, const char *node, const char *domain,
	    int (*fn)(const char *jid, void *arg), void *arg);
int	 store_block_count(struct store *, const char *node,
	    const char *domain, size_t *n);

/*
 * Publish-subscribe (XEP-0060, XEP-0163): the nodes and items of an owner,
 * an account (owner = its node part) or a pubsub service (owner NULL,
 * domain = the service's domain). A node's configuration is opaque here:
 * the router encodes it. Each node has an id, given at creation and never
 * reused, that names its items. Items are kept in publish order; an item
 * published again under its id replaces the old one and becomes newest.
 */
struct pubsub_item {
	uint64_t	 seq;		/* publish order, per owner */
	char		*id;
	char		*publisher;	/* a bare or full JID, or "" */
	char		*xml;		/* the payload, NUL-terminated */
	size_t		 len;
};

/* frees the strings (not the struct); safe on a zeroed item */
void	 pubsub_item_clear(struct pubsub_item *);
/* ENOENT when there is no such node; conf NULL: only whether it is */
int	 store_pubsub_node_get(struct store *, const char *owner,
	    const char *domain, const char *name, uint64_t *nid, char **conf,
	    size_t *clen);
/*
 * *nid 0 creates the node (EEXIST if there is one, EDQUOT when the owner
 * has max nodes already) and returns its id in *nid; else replaces the
 * configuration of node *nid.
 */
int	 store_pubsub_node_put(struct store *, const char *owner,
	    const char *domain, const char *name, uint64_t *nid,
	    const char *conf, size_t clen, size_t max);
/* the node and all its items; ENOENT when there is none */
int	 store_pubsub_node_del(struct store *, const char *owner,
	    const char *domain, const char *name);
/* every node in name order (conf NUL-terminated); non-zero stops */
int	 store_pubsub_node_list(struct store *, const char *owner,
	    const char *domain,
	    int (*fn)(const char *name, uint64_t nid, const char *conf,
	    size_t clen, void *arg), void *arg);
/*
 * Stores it (it->seq ignored); the oldest items past max are removed.
 * A deferred write (store_doc_put_later): the publishes of one loop
 * iteration share one commit, which the router makes before it writes
 * any frame, so no answer reports an item a crash could still lose.
 */
int	 store_pubsub_item_put(struct store *, const char *owner,
	    const char *domain, uint64_t nid, const struct pubsub_item *it,
	    size_t max);
/* ENOENT when there is no such item */
int	 store_pubsub_item_get(struct store *, const char *owner,
	    const char *domain, uint64_t nid, const char *id,
	    struct pubsub_item *out);
int	 store_pubsub_item_del(struct store *, const char *owner,
	    const char *domain, uint64_t nid, const char *id);
/* newest first, at most max (0: all); fn returning non-zero stops */
int	 store_pubsub_items(struct store *, const char *owner,
	    const char *domain, uint64_t nid, size_t max,
	    int (*fn)(const struct pubsub_item *, void *arg), void *arg);
int	 store_pubsub_item_count(struct store *, const char *owner,
	    const char *domain, uint64_t nid, size_t *n);
/* removes every item of the node */
int	 store_pubsub_purge(struct store *, const char *owner,
	    const char *domain, uint64_t nid);

/*
 * Message archive (XEP-0313): the messages of an owner, an account
 * (owner = its node part) or later a room (owner NULL as for pubsub:
 * see owner_prefix). Entries are kept in id order; an id is the
 * archiving time in microseconds, raised to one past the owner's last id
 * when the clock has not moved on, so ids are unique per owner, never go
 * back, and a time range is an id range. The nonce (random, given by the
 * caller) makes the XEP-0359 stanza-id built from id and nonce
 * unguessable. with is the other party's bare JID: queries by it use an
 * index instead of reading the whole archive.
 */
struct archive_entry {
	uint64_t	 id;		/* out of put */
	uint64_t	 nonce;
	uint64_t	 stamp;		/* microseconds since the epoch */
	char		*with;		/* bare JID, NUL-terminated */
	char		*xml;		/* the message, NUL-terminated */
	size_t		 len;
};

/* retention per owner: entries older, more or larger go first (0: none) */
struct archive_limits {
	uint64_t	 age;		/* microseconds */
	size_t		 count;
	size_t		 bytes;
};

/* ids lo..hi (inclusive), of with (NULL: all), at most max, in order */
struct archive_range {
	const char	*with;
	uint64_t	 lo, hi;
	bool		 backward;	/* newest first */
	size_t		 max;		/* 0: no limit */
	/*
	 * A further test of each entry with matches (NULL: none), for
	 * what the index cannot tell: a full JID's resource (XEP-0313
	 * 4.1.1). Counting then reads every entry of the range.
	 */
	bool		(*match)(const struct archive_entry *, void *);
	void		*match_arg;
};

/* frees the strings (not the struct); safe on a zeroed entry */
void	 archive_entry_clear(struct archive_entry *);
/*
 * Stores e (e->id set on return) and applies the limits in the same
 * transaction. later: joins the deferred writes (store_flush), for the
 * delivery path; a crash can lose what store_flush has not committed.
 */
int	 store_archive_put(struct store *, const char *owner,
	    const char *domain, struct archive_entry *e,
	    const struct archive_limits *, bool later);
/*
 * The entries of one message in several archives (sender and recipient),
 * in one transaction; if that fails, each alone. An entry not stored
 * has e->id 0; -1 (errno) when one was not.
 */
#define ARCHIVE_PUT_MAX	4
struct archive_req {
	const char		*owner, *domain;
	struct archive_entry	*e;
};
int	 store_archive_put_many(struct store *, struct archive_req *,
	    size_t, const struct archive_limits *, bool later);
/*
 * Removes entry id and its index key, the totals following (XEP-0425
 * moderation); ENOENT when there is no such entry.
 */
int	 store_archive_del(struct store *, const char *owner,
	    const char *domain, uint64_t id);
/* removes the owner's whole archive (a room that is gone) */
int	 store_archive_clear(struct store *, const char *owner,
	    const char *domain);
/* ENOENT when there is no such entry */
int	 store_archive_get(struct store *, const char *owner,
	    const char *domain, uint64_t id, struct archive_entry *out);
/* the entries of r in order; fn returning non-zero stops */
int	 store_archive_query(struct store *, const char *owner,
	    const char *domain, const struct archive_range *r,
	    int (*fn)(const struct archive_entry *, void *arg), void *arg);
/* how many entries r holds (r->max and r->backward ignored) */
int	 store_archive_count(struct store *, const char *owner,
	    const char *domain, const struct archive_range *r, size_t *n);
/* the whole archive: entries and their bytes */
int	 store_archive_usage(struct store *, const char *owner,
	    const char *domain, struct store_usage *);

/*
 * store_account_del also removes everything else the account owns
 * (roster, offline messages, documents, block list, PEP nodes and
 * items, message archive), in one transaction.
 */

#endif
