/*
 * The LMDB backend behind storage/store.h: one environment under the data
 * directory, one named database per kind. This is the only file that
 * includes <lmdb.h>; every write is committed before the call returns, so
 * whatever the server answers after a store call is on disk.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#define ACCOUNT_VERSION		1
/* version, then per hash: iter, saltlen, salt, stored key, server key */
#define ACCOUNT_REC_MAX		(1 + SCRAM_NHASH * \
	(4 + 1 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_MAX))

struct store {
	MDB_env		*env;
	MDB_dbi		 accounts;
	size_t		 maxkey;
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

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "accounts", MDB_CREATE,
	    &st->accounts)) != 0) {
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
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	free(st);
}

/*
 * "domain\0node": all accounts of a domain sit together, so listing a
 * domain is one range scan. Returns the key length, or 0 if the key
 * cannot be stored (longer than LMDB's key limit).
 */
static size_t
account_key(const struct store *st, char *key, const char *node,
    const char *domain)
{
	size_t	dlen = strlen(domain), nlen = strlen(node);

	if (dlen == 0 || nlen == 0 || dlen + 1 + nlen > st->maxkey)
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
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
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
	MDB_txn	*txn;
	MDB_val	 k;
	int	 rc;

	if ((k.mv_size = account_key(st, key, node, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_del(txn, st->accounts, &k, NULL)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;

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
