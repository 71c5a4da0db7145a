/*
 * The LMDB backend behind storage/store.h: one environment under the data
 * directory, one named database per kind. This is the only file that
 * includes <lmdb.h>; every write is committed before the call returns, so
 * whatever the server answers after a store call is on disk.
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

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <lmdb.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "store.h"

#define STORE_MAXDBS		16
/*
 * The router and parleyctl are single-threaded; a few slots more leave
 * room for mdb_stat and a stale slot or two from a crashed process.
 */
#define STORE_MAXREADERS	16
/* "domain\0node" and a NUL; LMDB's own limit (511) is usually lower */
#define STORE_KEY_BUF		(2 * (JID_PART_MAX + 1))
/* a hashed tail ends in a NUL and this digest (SHA-256) */
#define KEY_DIGEST_LEN		32
/* room an account key leaves: the prefix's NUL, a tag, NUL + digest */
#define KEY_TAIL_RESERVE	(1 + 1 + 1 + KEY_DIGEST_LEN)
#define ACCOUNT_VERSION		1
/* version, then per hash: iter, saltlen, salt, stored key, server key */
#define ACCOUNT_REC_MAX		(1 + SCRAM_NHASH * \
	(4 + 1 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_MAX))

struct store {
	MDB_env		*env;
	MDB_dbi		 accounts;
	MDB_dbi		 roster;	/* prefix + contact: roster record */
	MDB_dbi		 offline;	/* prefix + u64 seq: stanza bytes */
	MDB_dbi		 docs;		/* prefix + kind tag + name: bytes */
	MDB_dbi		 blocks;	/* prefix + jid: the jid */
	MDB_dbi		 meta;		/* prefix + tag: u64 counter */
	size_t		 maxkey;	/* LMDB's key limit */
	size_t		 acctmax;	/* longest "domain\0node" we accept */
	MDB_txn		*later;		/* deferred writes, see store_flush */
};

/*
 * LMDB's own error codes become the errno values store.h promises.
 * Anything unexpected is logged here, once, with the operation.
 */
static int
store_errno(const char *op, int rc)
{
	switch (rc) {
	case MDB_NOTFOUND:
		return ENOENT;
	case MDB_KEYEXIST:
		return EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		log_warnx("store: %s: %s (raise lmdb-mapsize)", op,
		    mdb_strerror(rc));
		return ENOSPC;
	case ENOSPC:
		log_warnx("store: %s: %s", op, mdb_strerror(rc));
		return ENOSPC;
	default:
		log_warnx("store: %s: %s", op, mdb_strerror(rc));
		return EIO;
	}
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
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0) {
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

void
store_close(struct store *st)
{
	int	rc;

	if (st == NULL)
		return;
	store_flush(st);
	if ((rc = mdb_env_sync(st->env, 1)) != 0)
		log_warnx("lmdb sync: %s", mdb_strerror(rc));
	mdb_env_close(st->env);
	free(st);
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

	if (st->later == NULL)
		return 0;
	rc = mdb_txn_commit(st->later);
	st->later = NULL;
	if (rc != 0) {
		errno = store_errno("deferred writes", rc);
		return -1;
	}
	return 0;
}

static int
wtxn_begin(struct store *st, MDB_txn **txn)
{
	(void)store_flush(st);	/* logged; the write asked for goes on */
	return mdb_txn_begin(st->env, NULL, 0, txn);
}

static int
later_begin(struct store *st, MDB_txn **txn)
{
	int	rc = 0;

	if (st->later == NULL)
		rc = mdb_txn_begin(st->env, NULL, 0, &st->later);
	*txn = st->later;
	return rc;
}

int
store_bulk(struct store *st)
{
	int	rc;

	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 1)) != 0) {
		log_warnx("lmdb: %s", mdb_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * "domain\0node": all accounts of a domain sit together, so listing a
 * domain is one range scan. Returns the key length, or 0 if the key
 * cannot be stored (longer than LMDB's key limit less the room the
 * account's own records need after it).
 */
static size_t
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

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

/* "domain\0node\0", the start of every key the account owns; 0 if none */
static size_t
account_prefix(const struct store *st, char *key, const char *node,
    const char *domain)
{
	size_t	len;

	if ((len = account_key(st, key, node, domain)) == 0)
		return 0;
	key[len] = '\0';
	return len + 1;
}

/*
 * Appends the tail tag (when not 0) + s to the prefix in key[0..plen),
 * hashing it as described at the top when the key would be too long.
 * account_key left room for that. Returns the key length, or 0 with errno
 * (EINVAL for an empty tail, EIO if the digest failed).
 */
static size_t
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

static bool
key_in(const MDB_val *k, const char *prefix, size_t plen)
{
	return k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0;
}

/* whether k is the key tail_key builds for s: a record names its key */
static bool
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
 * Removes every key of dbi that starts with prefix. Seeks again after
 * each delete rather than trusting the cursor position a delete leaves.
 * Returns 0 or an LMDB error.
 */
static int
range_del(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	for (;;) {
		k.mv_data = (void *)prefix;
		k.mv_size = plen;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!key_in(&k, prefix, plen)) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* counts the keys under prefix, stopping at max; 0 or an LMDB error */
static int
range_count(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    size_t max, size_t *n)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, op = MDB_SET_RANGE;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	while (*n < max && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, prefix, plen))
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Per-account counters in the meta database, keyed prefix + tag: the
 * roster version and the next offline sequence. Absent reads as 0.
 */
#define META_ROSTER_VER		'r'
#define META_OFFLINE_SEQ	'o'

/* 0, an LMDB error, or -1 for a malformed record (logged) */
static int
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
		return -1;
	}
	*val = get_u64(v.mv_data);
	return 0;
}

static int
meta_put(const struct store *st, MDB_txn *txn, const char *prefix,
    size_t plen, char tag, uint64_t val)
{
	char	key[STORE_KEY_BUF];
	uint8_t	buf[8];
	MDB_val	k, v;

	put_u64(buf, val);
	memcpy(key, prefix, plen);
	key[plen] = tag;
	k.mv_data = key;
	k.mv_size = plen + 1;
	v.mv_data = buf;
	v.mv_size = sizeof(buf);
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* meta_get's -1 (corrupt record) or an LMDB error, as an errno value */
static int
meta_errno(const char *op, int rc)
{
	return rc == -1 ? EIO : store_errno(op, rc);
}

static int
cred_valid(const struct scram_cred *c)
{
	return c->iter >= 1 && c->iter <= SCRAM_ITER_MAX &&
	    c->saltlen >= 1 && c->saltlen <= SCRAM_SALT_MAX;
}

/* returns the record length, or 0 for credentials we would not read back */
static size_t
account_encode(uint8_t *rec, const struct scram_creds *cr)
{
	const struct scram_cred	*c;
	uint8_t			*p = rec;
	size_t			 hlen;
	int			 h;

	*p++ = ACCOUNT_VERSION;
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		if (!cred_valid(c))
			return 0;
		hlen = scram_hash_len((enum scram_hash)h);
		put_u32(p, c->iter);
		p += 4;
		*p++ = c->saltlen;
		memcpy(p, c->salt, c->saltlen);
		p += c->saltlen;
		memcpy(p, c->stored_key, hlen);
		p += hlen;
		memcpy(p, c->server_key, hlen);
		p += hlen;
	}
	return (size_t)(p - rec);
}

/* strict: wrong version, bad bounds, short or trailing bytes all fail */
static int
account_decode(const uint8_t *p, size_t len, struct scram_creds *out)
{
	struct scram_cred	*c;
	size_t			 hlen;
	int			 h;

	memset(out, 0, sizeof(*out));
	if (len < 1 || *p != ACCOUNT_VERSION)
		return -1;
	p++;
	len--;
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &out->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		if (len < 5)
			return -1;
		c->iter = get_u32(p);
		c->saltlen = p[4];
		p += 5;
		len -= 5;
		if (!cred_valid(c) || len < c->saltlen + 2 * hlen)
			return -1;
		memcpy(c->salt, p, c->saltlen);
		p += c->saltlen;
		memcpy(c->stored_key, p, hlen);
		p += hlen;
		memcpy(c->server_key, p, hlen);
		p += hlen;
		len -= c->saltlen + 2 * hlen;
	}
	return len == 0 ? 0 : -1;
}

int
store_account_get(struct store *st, const char *node, const char *domain,
    struct scram_creds *out)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	int	 rc, err = 0;

	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;	/* could never have been stored */
		return -1;
	}
	k.mv_data = key;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		errno = store_errno("account get", rc);
		return -1;
	}
	if ((rc = mdb_get(txn, st->accounts, &k, &v)) != 0)
		err = store_errno("account get", rc);
	else if (account_decode(v.mv_data, v.mv_size, out) == -1) {
		log_warnx("store: account %s@%s: corrupt record (%zu bytes)",
		    log_escs(node), log_escs(domain), v.mv_size);
		memset(out, 0, sizeof(*out));
		err = EIO;
	}
	mdb_txn_abort(txn);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* one committed put; flags MDB_NOOVERWRITE for add */
static int
account_put(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr, int add)
{
	char		 key[STORE_KEY_BUF];
	uint8_t		 rec[ACCOUNT_REC_MAX];
	const char	*op = add ? "account add" : "account set";
	MDB_txn		*txn;
	MDB_val		 k, v, old;
	int		 rc;

	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = add ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((v.mv_size = account_encode(rec, cr)) == 0) {
		errno = EINVAL;
		return -1;
	}
	v.mv_data = rec;
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	/* set replaces only what exists; the lookup shares the write txn */
	if (!add && (rc = mdb_get(txn, st->accounts, &k, &old)) != 0)
		goto abort;
	if ((rc = mdb_put(txn, st->accounts, &k, &v,
	    add ? MDB_NOOVERWRITE : 0)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	explicit_bzero(rec, sizeof(rec));
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	explicit_bzero(rec, sizeof(rec));
	errno = store_errno(op, rc);
	return -1;
}

int
store_account_add(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(st, node, domain, cr, 1);
}

int
store_account_set(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(st, node, domain, cr, 0);
}

int
store_account_del(struct store *st, const char *node, const char *domain)
{
	char	 key[STORE_KEY_BUF];
	/*
	 * The counters in meta stay: an account created again under the
	 * same name must not reuse a roster version (XEP-0237: a client
	 * caching the old roster would be told nothing changed) or an
	 * offline sequence.
	 */
	MDB_dbi	 owned[] = {
		st->roster, st->offline, st->docs, st->blocks,
	};
	MDB_txn	*txn;
	MDB_val	 k;
	size_t	 i, plen;
	int	 rc;

	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_del(txn, st->accounts, &k, NULL)) != 0)
		goto abort;
	/*
	 * Everything else goes in the same transaction: a crash leaves
	 * either the whole account or nothing. The counters go too, so a
	 * new account of the same name starts its roster version again.
	 */
	plen = account_prefix(st, key, node, domain);
	for (i = 0; i < nitems(owned); i++)
		if ((rc = range_del(txn, owned[i], key, plen)) != 0)
			goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	errno = store_errno("account del", rc);
	return -1;
}

int
store_account_list(struct store *st, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	char		 key[STORE_KEY_BUF];
	const char	*nul;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = 0;
	int		 rc, op;

	if (domain != NULL) {
		plen = strlen(domain) + 1;	/* the prefix is "domain\0" */
		if (plen == 1 || plen >= st->maxkey)
			return 0;	/* no key can carry it: nothing there */
		memcpy(key, domain, plen);
	}
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->accounts, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	op = domain != NULL ? MDB_SET_RANGE : MDB_FIRST;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (plen > 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, domain, plen) != 0))
			break;	/* past the domain's range */
		/* key is "domain\0node": one NUL, both parts non-empty */
		if (k.mv_size >= sizeof(key) ||
		    (nul = memchr(k.mv_data, '\0', k.mv_size)) == NULL ||
		    nul == k.mv_data ||
		    (size_t)(nul - (const char *)k.mv_data) + 1 >= k.mv_size ||
		    memchr(nul + 1, '\0', k.mv_size -
		    (size_t)(nul - (const char *)k.mv_data) - 1) != NULL) {
			log_warnx("store: accounts: malformed key "
			    "(%zu bytes), skipped", k.mv_size);
			continue;
		}
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if (fn(key + strlen(key) + 1, key, arg) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("account list", rc);
	return -1;
}

/*
 * Roster records. Layout (version 1), integers big-endian, a string is a
 * u32 length and its bytes (no NUL inside), length 0xffffffff for NULL:
 *	u8 version, u8 sub, u8 flags, u64 ver, str jid, str name (nullable),
 *	u16 ngroups, ngroups strs, str pending_xml (nullable)
 * Decoding is strict: unknown version, sub or flag bits, short or trailing
 * bytes all make the record corrupt.
 */
#define ROSTER_REC_VERSION	1
#define ROSTER_REC_VER_OFF	3	/* where u64 ver sits */
#define STR_NULL		UINT32_MAX
#define ROSTER_F_ASK		0x01
#define ROSTER_F_PENDING_IN	0x02
#define ROSTER_F_PREAPPROVED	0x04
#define ROSTER_F_HIDDEN		0x08
#define ROSTER_F_ALL		0x0f

void
roster_item_clear(struct roster_item *it)
{
	size_t	i;

	free(it->jid);
	free(it->name);
	for (i = 0; i < it->ngroups && i < ROSTER_GROUPS_MAX; i++)
		free(it->groups[i]);
	free(it->pending_xml);
	memset(it, 0, sizeof(*it));
}

static bool
str_fits(const char *s)
{
	return s == NULL || strlen(s) < STR_NULL;
}

static uint8_t *
str_put(uint8_t *p, const char *s)
{
	size_t	len;

	if (s == NULL) {
		put_u32(p, STR_NULL);
		return p + 4;
	}
	len = strlen(s);
	put_u32(p, (uint32_t)len);
	memcpy(p + 4, s, len);
	return p + 4 + len;
}

/* returns a new record and its length, or NULL (EINVAL) for a bad item */
static uint8_t *
roster_encode(const struct roster_item *it, size_t *len)
{
	uint8_t	*rec, *p, flags = 0;
	size_t	 i, size;

	if (it->jid == NULL || it->jid[0] == '\0' || it->sub > SUB_BOTH ||
	    it->ngroups > ROSTER_GROUPS_MAX || !str_fits(it->jid) ||
	    !str_fits(it->name) || !str_fits(it->pending_xml))
		return NULL;
	size = 3 + 8 + 4 + strlen(it->jid) + 4 + 2 + 4;
	size += it->name != NULL ? strlen(it->name) : 0;
	size += it->pending_xml != NULL ? strlen(it->pending_xml) : 0;
	for (i = 0; i < it->ngroups; i++) {
		if (it->groups[i] == NULL || !str_fits(it->groups[i]))
			return NULL;
		size += 4 + strlen(it->groups[i]);
	}
	if (it->ask)
		flags |= ROSTER_F_ASK;
	if (it->pending_in)
		flags |= ROSTER_F_PENDING_IN;
	if (it->preapproved)
		flags |= ROSTER_F_PREAPPROVED;
	if (it->hidden)
		flags |= ROSTER_F_HIDDEN;

	p = rec = xmalloc(size);
	*p++ = ROSTER_REC_VERSION;
	*p++ = (uint8_t)it->sub;
	*p++ = flags;
	put_u64(p, it->ver);
	p += 8;
	p = str_put(p, it->jid);
	p = str_put(p, it->name);
	*p++ = (uint8_t)(it->ngroups >> 8);
	*p++ = (uint8_t)it->ngroups;
	for (i = 0; i < it->ngroups; i++)
		p = str_put(p, it->groups[i]);
	p = str_put(p, it->pending_xml);
	if ((size_t)(p - rec) != size)
		fatalx("%s: size %zu, wrote %zu", __func__, size,
		    (size_t)(p - rec));
	*len = size;
	return rec;
}

/* a reader whose failures are sticky: check bad once at the end */
struct rd {
	const uint8_t	*p;
	size_t		 left;
	bool		 bad;
};

static const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t	*p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t
rd_u8(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint16_t
rd_u16(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t
rd_u32(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 4);

	return p != NULL ? get_u32(p) : 0;
}

static uint64_t
rd_u64(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 8);

	return p != NULL ? get_u64(p) : 0;
}

/* returns new; NULL for the NULL marker (bad unless nullable) or failure */
static char *
rd_str(struct rd *r, bool nullable)
{
	const uint8_t	*p;
	uint32_t	 len;

	len = rd_u32(r);
	if (r->bad)
		return NULL;
	if (len == STR_NULL) {
		if (!nullable)
			r->bad = true;
		return NULL;
	}
	if ((p = rd_take(r, len)) == NULL)
		return NULL;
	if (memchr(p, '\0', len) != NULL) {
		r->bad = true;
		return NULL;
	}
	return xstrndup((const char *)p, len);
}

/* 0, or -1 with out cleared */
static int
roster_decode(const void *rec, size_t len, struct roster_item *out)
{
	struct rd	 r = { rec, len, false };
	uint8_t		 sub, flags;
	size_t		 i, ngroups;

	memset(out, 0, sizeof(*out));
	if (rd_u8(&r) != ROSTER_REC_VERSION)
		r.bad = true;
	sub = rd_u8(&r);
	flags = rd_u8(&r);
	out->ver = rd_u64(&r);
	out->jid = rd_str(&r, false);
	out->name = rd_str(&r, true);
	ngroups = rd_u16(&r);
	if (ngroups > ROSTER_GROUPS_MAX)
		r.bad = true;
	for (i = 0; i < ngroups && !r.bad; i++) {
		out->groups[i] = rd_str(&r, false);
		out->ngroups = i + 1;
	}
	out->pending_xml = rd_str(&r, true);
	if (r.bad || r.left != 0 || sub > SUB_BOTH ||
	    (flags & ~ROSTER_F_ALL) != 0 || out->jid[0] == '\0') {
		roster_item_clear(out);
		return -1;
	}
	out->sub = (enum roster_sub)sub;
	out->ask = (flags & ROSTER_F_ASK) != 0;
	out->pending_in = (flags & ROSTER_F_PENDING_IN) != 0;
	out->preapproved = (flags & ROSTER_F_PREAPPROVED) != 0;
	out->hidden = (flags & ROSTER_F_HIDDEN) != 0;
	return 0;
}

int
store_roster_get(struct store *st, const char *node, const char *domain,
    const char *contact, struct roster_item *out)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	int	 rc, err = 0;

	memset(out, 0, sizeof(*out));
	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	if ((k.mv_size = tail_key(st, key, plen, '\0', contact)) == 0) {
		if (errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0) {
		errno = store_errno("roster get", rc);
		return -1;
	}
	if ((rc = mdb_get(txn, st->roster, &k, &v)) != 0)
		err = store_errno("roster get", rc);
	else if (roster_decode(v.mv_data, v.mv_size, out) == -1 ||
	    strcmp(out->jid, contact) != 0) {
		/* the second test also catches a digest collision */
		log_warnx("store: roster %s@%s: item %s: corrupt record "
		    "(%zu bytes)", log_escs(node), log_escs(domain),
		    log_escs(contact), v.mv_size);
		roster_item_clear(out);
		err = EIO;
	}
	mdb_txn_abort(txn);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
store_roster_put(struct store *st, const char *node, const char *domain,
    struct roster_item *item, uint64_t *ver)
{
	char		 key[STORE_KEY_BUF];
	uint8_t		*rec;
	uint64_t	 cur;
	MDB_txn		*txn;
	MDB_val		 k, v;
	size_t		 plen;
	int		 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((rec = roster_encode(item, &v.mv_size)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	v.mv_data = rec;
	if ((k.mv_size = tail_key(st, key, plen, '\0', item->jid)) == 0) {
		free(rec);
		return -1;
	}
	k.mv_data = key;
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	if ((rc = meta_get(st, txn, key, plen, META_ROSTER_VER, &cur)) != 0)
		goto abort;
	/* the record carries the version this very write creates */
	put_u64(rec + ROSTER_REC_VER_OFF, cur + 1);
	if ((rc = meta_put(st, txn, key, plen, META_ROSTER_VER,
	    cur + 1)) != 0 ||
	    (rc = mdb_put(txn, st->roster, &k, &v, 0)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	free(rec);
	item->ver = cur + 1;
	if (ver != NULL)
		*ver = cur + 1;
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	free(rec);
	errno = meta_errno("roster put", rc);
	return -1;
}

int
store_roster_del(struct store *st, const char *node, const char *domain,
    const char *contact, uint64_t *ver)
{
	char		 key[STORE_KEY_BUF];
	uint64_t	 cur;
	MDB_txn		*txn;
	MDB_val		 k;
	size_t		 plen;
	int		 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0 ||
	    (k.mv_size = tail_key(st, key, plen, '\0', contact)) == 0) {
		if (plen == 0 || errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_del(txn, st->roster, &k, NULL)) != 0 ||
	    (rc = meta_get(st, txn, key, plen, META_ROSTER_VER, &cur)) != 0 ||
	    (rc = meta_put(st, txn, key, plen, META_ROSTER_VER,
	    cur + 1)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	if (ver != NULL)
		*ver = cur + 1;
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	errno = meta_errno("roster del", rc);
	return -1;
}

/*
 * A corrupt record is logged and skipped rather than failing the whole
 * roster: the user keeps the rest and can re-add the contact, which
 * replaces the damaged record.
 */
int
store_roster_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const struct roster_item *, void *), void *arg)
{
	char			 key[STORE_KEY_BUF];
	struct roster_item	 it;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 plen;
	int			 rc, stop, op = MDB_SET_RANGE;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;	/* no key can carry it: nothing there */
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->roster, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, key, plen))
			break;
		if (roster_decode(v.mv_data, v.mv_size, &it) == -1 ||
		    !key_is(st, &k, key, plen, it.jid)) {
			log_warnx("store: roster %s@%s: corrupt record "
			    "(%zu bytes), skipped", log_escs(node),
			    log_escs(domain), v.mv_size);
			roster_item_clear(&it);
			continue;
		}
		stop = fn(&it, arg);
		roster_item_clear(&it);
		if (stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("roster list", rc);
	return -1;
}

int
store_roster_version(struct store *st, const char *node, const char *domain,
    uint64_t *ver)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	size_t	 plen;
	int	 rc;

	*ver = 0;
	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	rc = meta_get(st, txn, key, plen, META_ROSTER_VER, ver);
	mdb_txn_abort(txn);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	errno = meta_errno("roster version", rc);
	return -1;
}

/* counts the keys of dbi under the account's prefix */
static int
account_count(struct store *st, MDB_dbi dbi, const char *op,
    const char *node, const char *domain, size_t *n)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	size_t	 plen;
	int	 rc;

	*n = 0;
	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	rc = range_count(txn, dbi, key, plen, SIZE_MAX, n);
	mdb_txn_abort(txn);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno(op, rc);
	return -1;
}

int
store_roster_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	return account_count(st, st->roster, "roster count", node, domain, n);
}

/*
 * Offline messages: key prefix + u64 big-endian sequence, so byte order is
 * arrival order; the value is the stanza as given. The next sequence is a
 * counter in meta, never lowered by deletes, so a sequence the router has
 * seen is never reused for another message (it is only reset when the
 * account itself is deleted). Sequences start at 1: upto 0 deletes none.
 */
#define OFFLINE_KEY_LEN(plen)	((plen) + 8)

int
store_offline_put(struct store *st, const char *node, const char *domain,
    const char *xml, size_t len, size_t limit, uint64_t *seq)
{
	char		 key[STORE_KEY_BUF];
	uint64_t	 next;
	MDB_txn		*txn;
	MDB_val		 k, v;
	size_t		 plen, n;
	int		 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	/* counted in the write txn: nothing can slip in between */
	if ((rc = range_count(txn, st->offline, key, plen, limit, &n)) != 0)
		goto abort;
	if (n >= limit) {
		mdb_txn_abort(txn);
		errno = EDQUOT;
		return -1;
	}
	if ((rc = meta_get(st, txn, key, plen, META_OFFLINE_SEQ,
	    &next)) != 0)
		goto abort;
	if (next == 0)
		next = 1;
	put_u64((uint8_t *)key + plen, next);
	k.mv_data = key;
	k.mv_size = OFFLINE_KEY_LEN(plen);
	v.mv_data = (void *)xml;
	v.mv_size = len;
	if ((rc = mdb_put(txn, st->offline, &k, &v, MDB_NOOVERWRITE)) != 0) {
		if (rc == MDB_KEYEXIST) {
			/* the counter went back: never overwrite a message */
			log_warnx("store: offline %s@%s: sequence %llu "
			    "already used", log_escs(node), log_escs(domain),
			    (unsigned long long)next);
			rc = -1;
		}
		goto abort;
	}
	if ((rc = meta_put(st, txn, key, plen, META_OFFLINE_SEQ,
	    next + 1)) != 0)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	if (seq != NULL)
		*seq = next;
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	errno = meta_errno("offline put", rc);
	return -1;
}

/*
 * fn gets a NUL-terminated copy, valid during the call: the mapped bytes
 * carry no terminator.
 */
int
store_offline_list(struct store *st, const char *node, const char *domain,
    int (*fn)(uint64_t, const char *, size_t, void *), void *arg)
{
	char		 key[STORE_KEY_BUF];
	char		*copy;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen;
	int		 rc, stop, op = MDB_SET_RANGE;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->offline, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, key, plen))
			break;
		if (k.mv_size != OFFLINE_KEY_LEN(plen)) {
			log_warnx("store: offline %s@%s: malformed key "
			    "(%zu bytes), skipped", log_escs(node),
			    log_escs(domain), k.mv_size);
			continue;
		}
		copy = xmalloc(v.mv_size + 1);
		memcpy(copy, v.mv_data, v.mv_size);
		copy[v.mv_size] = '\0';
		stop = fn(get_u64((const uint8_t *)k.mv_data + plen), copy,
		    v.mv_size, arg);
		free(copy);
		if (stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("offline list", rc);
	return -1;
}

int
store_offline_del(struct store *st, const char *node, const char *domain,
    uint64_t upto)
{
	char		 key[STORE_KEY_BUF], from[STORE_KEY_BUF];
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen, flen;
	int		 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->offline, &cur)) != 0)
		goto abort;
	/*
	 * Seek afresh after every step, from the key just deleted or just
	 * past one skipped (key + NUL is its immediate successor).
	 */
	memcpy(from, key, plen);
	flen = plen;
	for (;;) {
		k.mv_data = from;
		k.mv_size = flen;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!key_in(&k, key, plen))
			break;
		if (k.mv_size != OFFLINE_KEY_LEN(plen)) {
			memcpy(from, k.mv_data, k.mv_size);
			from[k.mv_size] = '\0';
			flen = k.mv_size + 1;
			continue;
		}
		if (get_u64((const uint8_t *)k.mv_data + plen) > upto)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto abort;
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

abort:
	mdb_txn_abort(txn);
fail:
	errno = store_errno("offline del", rc);
	return -1;
}

int
store_offline_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	return account_count(st, st->offline, "offline count", node, domain,
	    n);
}

/*
 * Documents: key prefix + a kind tag + the document's name (empty for
 * vCard and last activity), hashed like any long tail; the value is the
 * document's bytes. A hashed private-storage name is trusted to its
 * SHA-256: nothing lists documents, so the value does not repeat it.
 */
static char
doc_tag(enum store_doc kind)
{
	switch (kind) {
	case DOC_VCARD:
		return 'v';
	case DOC_PRIVATE:
		return 'p';
	case DOC_LAST:
		return 'l';
	}
	return '\0';
}

int
store_doc_get(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, char **val, size_t *len)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	char	 tag = doc_tag(kind);
	int	 rc;

	*val = NULL;
	if (len != NULL)
		*len = 0;
	if (tag == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	if ((k.mv_size = tail_key(st, key, plen, tag,
	    name != NULL ? name : "")) == 0)
		return -1;
	k.mv_data = key;
	/* deferred writes are seen through their own transaction */
	if (st->later != NULL)
		txn = st->later;
	else if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	rc = mdb_get(txn, st->docs, &k, &v);
	if (rc == 0) {
		*val = xmalloc(v.mv_size + 1);
		memcpy(*val, v.mv_data, v.mv_size);
		(*val)[v.mv_size] = '\0';
		if (len != NULL)
			*len = v.mv_size;
	}
	if (txn != st->later)
		mdb_txn_abort(txn);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("doc get", rc);
	return -1;
}

/* deleting a document that is not there is not an error */
static int
doc_write(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len,
    bool later)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	char	 tag = doc_tag(kind);
	int	 rc;

	if (tag == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		if (val == NULL)
			return 0;
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((k.mv_size = tail_key(st, key, plen, tag,
	    name != NULL ? name : "")) == 0)
		return -1;
	k.mv_data = key;
	v.mv_data = (void *)val;
	v.mv_size = len;
	if ((rc = later ? later_begin(st, &txn) : wtxn_begin(st, &txn)) != 0)
		goto fail;
	if (val != NULL)
		rc = mdb_put(txn, st->docs, &k, &v, 0);
	else if ((rc = mdb_del(txn, st->docs, &k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0) {
		/* a failed put spoils its transaction: all of it goes */
		mdb_txn_abort(txn);
		if (later)
			st->later = NULL;
		goto fail;
	}
	if (!later && (rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("doc put", rc);
	return -1;
}

int
store_doc_put(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	return doc_write(st, kind, node, domain, name, val, len, false);
}

int
store_doc_put_later(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	return doc_write(st, kind, node, domain, name, val, len, true);
}

/*
 * Block list: key prefix + the JID as written (hashed when long), value
 * the JID again so a listing never depends on the key's form.
 */
int
store_block_add(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	int	 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((k.mv_size = tail_key(st, key, plen, '\0', jid)) == 0)
		return -1;
	k.mv_data = key;
	v.mv_data = (void *)jid;
	v.mv_size = strlen(jid);
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	/* adding one already there is not an error (XEP-0191 3.3) */
	if ((rc = mdb_put(txn, st->blocks, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("block add", rc);
	return -1;
}

int
store_block_del(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k;
	size_t	 plen;
	int	 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		if (jid == NULL)
			return 0;
		errno = ENOENT;
		return -1;
	}
	if (jid != NULL) {
		if ((k.mv_size = tail_key(st, key, plen, '\0', jid)) == 0) {
			if (errno == EINVAL)
				errno = ENOENT;
			return -1;
		}
		k.mv_data = key;
	}
	if ((rc = wtxn_begin(st, &txn)) != 0)
		goto fail;
	if (jid != NULL)
		rc = mdb_del(txn, st->blocks, &k, NULL);
	else
		rc = range_del(txn, st->blocks, key, plen);
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("block del", rc);
	return -1;
}

int
store_block_has(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	 key[STORE_KEY_BUF];
	MDB_txn	*txn;
	MDB_val	 k, v;
	size_t	 plen;
	int	 rc;

	if ((plen = account_prefix(st, key, node, domain)) == 0 ||
	    (k.mv_size = tail_key(st, key, plen, '\0', jid)) == 0) {
		if (plen == 0 || errno == EINVAL)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	rc = mdb_get(txn, st->blocks, &k, &v);
	mdb_txn_abort(txn);
	if (rc != 0)
		goto fail;
	return 0;

fail:
	errno = store_errno("block has", rc);
	return -1;
}

int
store_block_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const char *, void *), void *arg)
{
	char		 key[STORE_KEY_BUF];
	char		*jid;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen;
	int		 rc, stop, op = MDB_SET_RANGE;

	if ((plen = account_prefix(st, key, node, domain)) == 0)
		return 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_cursor_open(txn, st->blocks, &cur)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	k.mv_data = key;
	k.mv_size = plen;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (!key_in(&k, key, plen))
			break;
		jid = xstrndup(v.mv_data, v.mv_size);
		if (v.mv_size == 0 || strlen(jid) != v.mv_size ||
		    !key_is(st, &k, key, plen, jid)) {
			log_warnx("store: blocks %s@%s: corrupt record "
			    "(%zu bytes), skipped", log_escs(node),
			    log_escs(domain), v.mv_size);
			free(jid);
			continue;
		}
		stop = fn(jid, arg);
		free(jid);
		if (stop != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	return 0;

fail:
	errno = store_errno("block list", rc);
	return -1;
}
