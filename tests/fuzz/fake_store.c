/*
 * An in-memory storage/store.h for the router fuzz target: one sorted
 * array of records keyed like the LMDB backend's ("domain\0node\0" + tag
 * + tail, storage/store.c), so that an account's records are a range and
 * every run starts empty without touching the disk. Semantics follow
 * storage/store_*.c: roster versions and offline sequences are counters
 * that outlive deletes (and the account), offline quotas are checked in
 * the write, a batch (store_begin) is undone by store_abort, and a write
 * that finds no room (FAKE_STORE_RECS, FAKE_STORE_BYTES: the map at its
 * max) fails with ENOSPC and spoils its batch. Records reuse the
 * backend's encodings (storage/store_codec.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../storage/store_codec.h"
#include "fake_store.h"

/* tags after the account prefix; meta counters sort apart with their own */
#define TAG_ACCOUNT	'a'	/* the account record: prefix "domain\0node" */
#define TAG_ROSTER	'r'
#define TAG_OFFLINE	'o'
#define TAG_BLOCK	'b'
#define TAG_VCARD	'v'
#define TAG_PRIVATE	'p'
#define TAG_LAST	'l'
#define TAG_MAM_PREFS	'M'
#define TAG_PUSH	'n'
#define TAG_FAST	'F'
#define TAG_DISABLED	'D'
#define TAG_MUC		'R'
#define TAG_UPLOAD	'U'
#define TAG_ROLE	'L'
#define TAG_INVITE	'V'
#define TAG_ARCHIVE	'A'	/* + u64 id: an archive entry */
#define TAG_PSNODE	'N'	/* + name: u64 node id + configuration */
#define TAG_PSITEM	'I'	/* + u64 node id + u64 seq: an item */
#define TAG_META	'm'	/* + 'R' roster version, 'O' offline seq */
#define META_ROSTER	'R'
#define META_OFFLINE	'O'
#define META_PSNODE	'P'
#define META_PSSEQ	'S'

#define KEY_MAX		2048

struct rec {
	char	*key;
	size_t	 klen;
	char	*val;
	size_t	 vlen;
};

/* one write of a batch, undone by store_abort: the key's old value */
struct undo {
	char	*key;
	size_t	 klen;
	char	*val;		/* NULL: there was none */
	size_t	 vlen;
	bool	 had;
};

struct store {
	struct rec	*recs;
	size_t		 nrecs, cap;
	size_t		 bytes;
	bool		 batch;
	int		 batch_err;
	struct undo	*undo;
	size_t		 nundo, undocap;
	size_t		 block_reads;	/* of block_domain's blocklists */
	char		 block_domain[256];
};

/* ---- keys --------------------------------------------------------------- */

/* tag + "domain\0node\0" + tail: the records of one kind of an account */
static size_t
fkey(char *key, char tag, const char *node, const char *domain,
    const void *tail, size_t tlen)
{
	size_t	dlen = strlen(domain), nlen = strlen(node);

	if (dlen == 0 || nlen == 0 || 1 + dlen + 1 + nlen + 1 + tlen > KEY_MAX)
		return 0;
	key[0] = tag;
	memcpy(key + 1, domain, dlen + 1);
	memcpy(key + 2 + dlen, node, nlen + 1);
	if (tlen > 0)
		memcpy(key + 3 + dlen + nlen, tail, tlen);
	return 3 + dlen + nlen + tlen;
}

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* the index of key, or of where it would go; *found says which */
static size_t
find(const struct store *st, const char *key, size_t klen, bool *found)
{
	size_t	lo = 0, hi = st->nrecs, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = keycmp(st->recs[mid].key, st->recs[mid].klen, key, klen);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static const struct rec *
get(const struct store *st, const char *key, size_t klen)
{
	bool	found;
	size_t	i = find(st, key, klen, &found);

	return found ? &st->recs[i] : NULL;
}

/* ---- writes ------------------------------------------------------------- */

static void
undo_push(struct store *st, const char *key, size_t klen,
    const struct rec *old)
{
	struct undo	*u;

	if (st->nundo == st->undocap) {
		st->undocap = st->undocap == 0 ? 16 : st->undocap * 2;
		st->undo = xrealloc(st->undo, st->undocap *
		    sizeof(*st->undo));
	}
	u = &st->undo[st->nundo++];
	u->key = xmalloc(klen);
	memcpy(u->key, key, klen);
	u->klen = klen;
	u->had = old != NULL;
	u->val = NULL;
	u->vlen = 0;
	if (old != NULL) {
		u->val = xmalloc(old->vlen + 1);
		memcpy(u->val, old->val, old->vlen);
		u->vlen = old->vlen;
	}
}

/* sets (val not NULL) or deletes key, with no undo record */
static int
raw_set(struct store *st, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct rec	*r;
	bool		 found;
	size_t		 i = find(st, key, klen, &found);

	if (val == NULL) {
		if (!found)
			return 0;
		r = &st->recs[i];
		st->bytes -= r->klen + r->vlen;
		free(r->key);
		free(r->val);
		memmove(r, r + 1, (st->nrecs - i - 1) * sizeof(*r));
		st->nrecs--;
		return 0;
	}
	if (found) {
		r = &st->recs[i];
		if (st->bytes - r->vlen + vlen > FAKE_STORE_BYTES) {
			errno = ENOSPC;
			return -1;
		}
		st->bytes = st->bytes - r->vlen + vlen;
		free(r->val);
	} else {
		if (st->nrecs >= FAKE_STORE_RECS ||
		    st->bytes + klen + vlen > FAKE_STORE_BYTES) {
			errno = ENOSPC;
			return -1;
		}
		if (st->nrecs == st->cap) {
			st->cap = st->cap == 0 ? 64 : st->cap * 2;
			st->recs = xrealloc(st->recs, st->cap *
			    sizeof(*st->recs));
		}
		r = &st->recs[i];
		memmove(r + 1, r, (st->nrecs - i) * sizeof(*r));
		st->nrecs++;
		r->key = xmalloc(klen);
		memcpy(r->key, key, klen);
		r->klen = klen;
		st->bytes += klen + vlen;
	}
	/* one byte more: a zero-length value is still a pointer */
	r->val = xmalloc(vlen + 1);
	memcpy(r->val, val, vlen);
	r->vlen = vlen;
	return 0;
}

/*
 * One write, alone or in the open batch. A write that finds no room
 * spoils the batch, as an LMDB transaction after a failed put.
 */
static int
set(struct store *st, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	if (st->batch && st->batch_err != 0) {
		errno = st->batch_err;
		return -1;
	}
	if (st->batch)
		undo_push(st, key, klen, get(st, key, klen));
	if (raw_set(st, key, klen, val, vlen) == -1) {
		if (st->batch)
			st->batch_err = errno;
		return -1;
	}
	return 0;
}

/* removes the record of key (klen 0: no key could be made); ENOENT if none */
static int
del_one(struct store *st, const char *key, size_t klen)
{
	if (klen == 0 || get(st, key, klen) == NULL) {
		errno = ENOENT;
		return -1;
	}
	return set(st, key, klen, NULL, 0);
}

static void
undo_clear(struct store *st)
{
	size_t	i;

	for (i = 0; i < st->nundo; i++) {
		free(st->undo[i].key);
		free(st->undo[i].val);
	}
	st->nundo = 0;
}

/* ---- ranges and counters ------------------------------------------------ */

typedef int	walk_fn(const struct rec *, size_t plen, void *);

/*
 * Calls fn for each record under prefix, in key order, on copies taken
 * first: a walker that writes sees the records as they were, as under
 * an LMDB read transaction.
 */
static int
walk(struct store *st, const char *prefix, size_t plen, walk_fn *fn,
    void *arg)
{
	struct rec	*v = NULL;
	bool		 found;
	size_t		 i, j, n = 0;

	i = find(st, prefix, plen, &found);
	for (j = i; j < st->nrecs && st->recs[j].klen >= plen &&
	    memcmp(st->recs[j].key, prefix, plen) == 0; j++)
		n++;
	if (n > 0)
		v = xcalloc(n, sizeof(*v));
	for (j = 0; j < n; j++) {
		v[j].klen = st->recs[i + j].klen;
		v[j].key = xmalloc(v[j].klen);
		memcpy(v[j].key, st->recs[i + j].key, v[j].klen);
		v[j].vlen = st->recs[i + j].vlen;
		v[j].val = xmalloc(v[j].vlen + 1);
		memcpy(v[j].val, st->recs[i + j].val, v[j].vlen);
	}
	for (j = 0; j < n; j++)
		if (fn(&v[j], plen, arg) != 0)
			break;
	for (j = 0; j < n; j++) {
		free(v[j].key);
		free(v[j].val);
	}
	free(v);
	return 0;
}

static int
usage_one(const struct rec *r, size_t plen, void *arg)
{
	struct store_usage	*u = arg;

	(void)plen;
	u->count++;
	u->bytes += r->vlen;
	return 0;
}

static int
usage(struct store *st, char tag, const char *node, const char *domain,
    struct store_usage *u)
{
	char	key[KEY_MAX];
	size_t	plen;

	u->count = u->bytes = 0;
	if ((plen = fkey(key, tag, node, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, usage_one, u);
}

static uint64_t
meta_get(struct store *st, char which, const char *node, const char *domain)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	size_t			 klen;

	if ((klen = fkey(key, TAG_META, node, domain, &which, 1)) == 0 ||
	    (r = get(st, key, klen)) == NULL || r->vlen != 8)
		return 0;
	return rec_get_u64((const uint8_t *)r->val);
}

static int
meta_put(struct store *st, char which, const char *node, const char *domain,
    uint64_t v)
{
	char	key[KEY_MAX];
	uint8_t	b[8];
	size_t	klen;

	if ((klen = fkey(key, TAG_META, node, domain, &which, 1)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rec_put_u64(b, v);
	return set(st, key, klen, (const char *)b, sizeof(b));
}

/*
 * Several writes as one: inside a batch they join it; alone, they are
 * a batch of their own so that a failure leaves nothing half done.
 */
static bool
group_begin(struct store *st)
{
	if (st->batch)
		return false;
	(void)store_begin(st);
	return true;
}

static int
group_end(struct store *st, bool own, int rc)
{
	int	err = errno;

	if (!own)
		return rc;
	if (rc == -1) {
		store_abort(st);
		errno = err;
		return -1;
	}
	return store_commit(st);
}

/* ---- the interface ------------------------------------------------------ */

struct store *
store_open(const char *dir, size_t mapsize, char *errbuf, size_t errlen)
{
	(void)dir;
	(void)mapsize;
	(void)errbuf;
	(void)errlen;
	return xcalloc(1, sizeof(struct store));
}

void
fake_store_reset(struct store *st)
{
	size_t	i;

	for (i = 0; i < st->nrecs; i++) {
		free(st->recs[i].key);
		free(st->recs[i].val);
	}
	st->nrecs = 0;
	st->bytes = 0;
	undo_clear(st);
	st->batch = false;
	st->batch_err = 0;
	st->block_reads = 0;
}

void
fake_store_block_watch(struct store *st, const char *domain)
{
	snprintf(st->block_domain, sizeof(st->block_domain), "%s", domain);
	st->block_reads = 0;
}

size_t
fake_store_block_reads(const struct store *st)
{
	return st->block_reads;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	fake_store_reset(st);
	free(st->recs);
	free(st->undo);
	free(st);
}

int
store_bulk(struct store *st)
{
	(void)st;
	return 0;
}

void
store_set_mapmax(struct store *st, size_t max)
{
	(void)st;
	(void)max;
}

int
store_begin(struct store *st)
{
	if (st->batch)
		abort();	/* store.h: not nested */
	st->batch = true;
	st->batch_err = 0;
	return 0;
}

int
store_commit(struct store *st)
{
	int	err = st->batch_err;

	if (!st->batch)
		abort();
	if (err != 0) {
		store_abort(st);
		errno = err;
		return -1;
	}
	undo_clear(st);
	st->batch = false;
	return 0;
}

void
store_abort(struct store *st)
{
	struct undo	*u;

	if (!st->batch)
		return;
	/* backwards: each key gets the value it had before the batch */
	while (st->nundo > 0) {
		u = &st->undo[st->nundo - 1];
		/* what was there fitted, so it fits again */
		if (raw_set(st, u->key, u->klen, u->had ? u->val : NULL,
		    u->vlen) == -1)
			abort();
		free(u->key);
		free(u->val);
		st->nundo--;
	}
	st->batch = false;
	st->batch_err = 0;
}

int
store_flush(struct store *st)
{
	(void)st;
	return 0;
}

/* ---- accounts ----------------------------------------------------------- */

int
store_account_get(struct store *st, const char *node, const char *domain,
    struct scram_creds *out)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	size_t			 klen;

	memset(out, 0, sizeof(*out));
	if ((klen = fkey(key, TAG_ACCOUNT, node, domain, NULL, 0)) == 0 ||
	    (r = get(st, key, klen)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (rec_account_decode((const uint8_t *)r->val, r->vlen, out) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int
account_put(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr, bool add)
{
	char	key[KEY_MAX];
	uint8_t	rec[ACCOUNT_REC_MAX];
	size_t	klen, vlen;
	int	rc;

	if ((klen = fkey(key, TAG_ACCOUNT, node, domain, NULL, 0)) == 0) {
		errno = add ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	if ((get(st, key, klen) != NULL) == add) {
		errno = add ? EEXIST : ENOENT;
		return -1;
	}
	if ((vlen = rec_account_encode(rec, cr)) == 0) {
		errno = EINVAL;
		return -1;
	}
	rc = set(st, key, klen, (const char *)rec, vlen);
	explicit_bzero(rec, sizeof(rec));
	return rc;
}

int
store_account_add(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(st, node, domain, cr, true);
}

int
store_account_set(struct store *st, const char *node, const char *domain,
    const struct scram_creds *cr)
{
	return account_put(st, node, domain, cr, false);
}

/* XEP-0480: the other hash's credentials added, as store_account.c */
int
store_account_upgrade(struct store *st, const char *node,
    const char *domain, enum scram_hash hash, const struct scram_cred *c)
{
	struct scram_creds	cr;
	int			rc = 0;

	if (store_account_get(st, node, domain, &cr) == -1)
		return -1;
	if (cr.h[hash].iter == 0) {
		cr.h[hash] = *c;
		rc = account_put(st, node, domain, &cr, false) == -1 ? -1 : 1;
	}
	explicit_bzero(&cr, sizeof(cr));
	return rc;
}

/* the keys of every record of tag under the account, to delete */
struct keys {
	char	**k;
	size_t	 *len;
	size_t	  n, cap;
};

static int
keys_one(const struct rec *r, size_t plen, void *arg)
{
	struct keys	*ks = arg;

	(void)plen;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap == 0 ? 16 : ks->cap * 2;
		ks->k = xrealloc(ks->k, ks->cap * sizeof(*ks->k));
		ks->len = xrealloc(ks->len, ks->cap * sizeof(*ks->len));
	}
	ks->k[ks->n] = xmalloc(r->klen);
	memcpy(ks->k[ks->n], r->key, r->klen);
	ks->len[ks->n++] = r->klen;
	return 0;
}

/* deletes the records under prefix with a tail accepted by pick (NULL all) */
static int
range_del(struct store *st, const char *prefix, size_t plen,
    bool (*pick)(const char *tail, size_t tlen, void *), void *arg)
{
	struct keys	ks;
	size_t		i;
	int		rc = 0;

	memset(&ks, 0, sizeof(ks));
	walk(st, prefix, plen, keys_one, &ks);
	for (i = 0; i < ks.n; i++) {
		if (rc == 0 && (pick == NULL ||
		    pick(ks.k[i] + plen, ks.len[i] - plen, arg)))
			rc = set(st, ks.k[i], ks.len[i], NULL, 0);
		free(ks.k[i]);
	}
	free(ks.k);
	free(ks.len);
	return rc;
}

/* the counters stay: a name created again reuses no version (store.c) */
int
store_account_del(struct store *st, const char *node, const char *domain)
{
	static const char	 owned[] = { TAG_ROSTER, TAG_OFFLINE,
	    TAG_BLOCK, TAG_VCARD, TAG_PRIVATE, TAG_LAST, TAG_PSNODE,
	    TAG_PSITEM, TAG_MAM_PREFS, TAG_ARCHIVE, TAG_PUSH, TAG_FAST,
	    TAG_DISABLED, TAG_UPLOAD };
	char			 key[KEY_MAX];
	size_t			 klen, i;
	bool			 own;
	int			 rc;

	if ((klen = fkey(key, TAG_ACCOUNT, node, domain, NULL, 0)) == 0 ||
	    get(st, key, klen) == NULL) {
		errno = ENOENT;
		return -1;
	}
	own = group_begin(st);
	rc = set(st, key, klen, NULL, 0);
	for (i = 0; rc == 0 && i < sizeof(owned); i++) {
		klen = fkey(key, owned[i], node, domain, NULL, 0);
		rc = range_del(st, key, klen, NULL, NULL);
	}
	return group_end(st, own, rc);
}

struct account_walk {
	int	(*fn)(const char *, const char *, void *);
	void	*arg;
};

static int
account_one(const struct rec *r, size_t plen, void *arg)
{
	struct account_walk	*aw = arg;
	const char		*domain = r->key + 1;

	(void)plen;
	return aw->fn(domain + strlen(domain) + 1, domain, aw->arg);
}

int
store_account_list(struct store *st, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	char			key[KEY_MAX];
	struct account_walk	aw = { fn, arg };
	size_t			plen = 1;

	key[0] = TAG_ACCOUNT;
	if (domain != NULL) {
		if (domain[0] == '\0' || strlen(domain) + 2 > KEY_MAX)
			return 0;
		memcpy(key + 1, domain, strlen(domain) + 1);
		plen += strlen(domain) + 1;
	}
	return walk(st, key, plen, account_one, &aw);
}

/* ---- roster ------------------------------------------------------------- */

int
store_roster_get(struct store *st, const char *node, const char *domain,
    const char *contact, struct roster_item *out)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	size_t			 klen;

	memset(out, 0, sizeof(*out));
	if ((klen = fkey(key, TAG_ROSTER, node, domain, contact,
	    strlen(contact))) == 0 || contact[0] == '\0' ||
	    (r = get(st, key, klen)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (rec_roster_decode(r->val, r->vlen, out) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* bumps the version; with rec, writes it at the version it creates */
static int
roster_write(struct store *st, const char *node, const char *domain,
    const char *key, size_t klen, uint8_t *rec, size_t vlen, uint64_t *ver)
{
	uint64_t	v = meta_get(st, META_ROSTER, node, domain) + 1;
	bool		own = group_begin(st);
	int		rc;

	if (rec != NULL)
		rec_put_u64(rec + ROSTER_REC_VER_OFF, v);
	rc = set(st, key, klen, (const char *)rec, vlen);
	if (rc == 0)
		rc = meta_put(st, META_ROSTER, node, domain, v);
	if ((rc = group_end(st, own, rc)) == 0)
		*ver = v;
	return rc;
}

int
store_roster_put(struct store *st, const char *node, const char *domain,
    struct roster_item *item, uint64_t *ver)
{
	char		 key[KEY_MAX];
	uint8_t		*rec;
	uint64_t	 v;
	size_t		 klen, vlen;
	int		 rc;

	if (item->jid == NULL || item->jid[0] == '\0' ||
	    (klen = fkey(key, TAG_ROSTER, node, domain, item->jid,
	    strlen(item->jid))) == 0) {
		errno = item->jid == NULL ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	if ((rec = rec_roster_encode(item, &vlen)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = roster_write(st, node, domain, key, klen, rec, vlen, &v);
	free(rec);
	if (rc == -1)
		return -1;
	item->ver = v;
	if (ver != NULL)
		*ver = v;
	return 0;
}

int
store_roster_del(struct store *st, const char *node, const char *domain,
    const char *contact, uint64_t *ver)
{
	char		key[KEY_MAX];
	uint64_t	v;
	size_t		klen;

	if ((klen = fkey(key, TAG_ROSTER, node, domain, contact,
	    strlen(contact))) == 0 || contact[0] == '\0' ||
	    get(st, key, klen) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (roster_write(st, node, domain, key, klen, NULL, 0, &v) == -1)
		return -1;
	if (ver != NULL)
		*ver = v;
	return 0;
}

struct roster_walk {
	int	(*fn)(const struct roster_item *, void *);
	void	*arg;
};

static int
roster_one(const struct rec *r, size_t plen, void *arg)
{
	struct roster_walk	*rw = arg;
	struct roster_item	 it;
	int			 stop;

	(void)plen;
	if (rec_roster_decode(r->val, r->vlen, &it) == -1)
		return 0;	/* as store_roster.c: skipped */
	stop = rw->fn(&it, rw->arg);
	roster_item_clear(&it);
	return stop;
}

int
store_roster_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const struct roster_item *, void *), void *arg)
{
	char			key[KEY_MAX];
	struct roster_walk	rw = { fn, arg };
	size_t			plen;

	if ((plen = fkey(key, TAG_ROSTER, node, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, roster_one, &rw);
}

int
store_roster_version(struct store *st, const char *node, const char *domain,
    uint64_t *ver)
{
	*ver = meta_get(st, META_ROSTER, node, domain);
	return 0;
}

int
store_roster_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	struct store_usage	u;

	usage(st, TAG_ROSTER, node, domain, &u);
	*n = u.count;
	return 0;
}

/* ---- offline messages --------------------------------------------------- */

int
store_offline_put(struct store *st, const char *node, const char *domain,
    const char *xml, size_t len, const struct store_usage *max,
    uint64_t *seq)
{
	char			key[KEY_MAX];
	uint8_t			b[8];
	struct store_usage	u;
	uint64_t		next;
	size_t			klen;
	bool			own;
	int			rc;

	usage(st, TAG_OFFLINE, node, domain, &u);
	if (u.count >= max->count || u.bytes + len > max->bytes) {
		errno = EDQUOT;
		return -1;
	}
	if ((next = meta_get(st, META_OFFLINE, node, domain)) == 0)
		next = 1;
	rec_put_u64(b, next);
	if ((klen = fkey(key, TAG_OFFLINE, node, domain, b, 8)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	own = group_begin(st);
	rc = set(st, key, klen, xml, len);
	if (rc == 0)
		rc = meta_put(st, META_OFFLINE, node, domain, next + 1);
	if ((rc = group_end(st, own, rc)) == 0 && seq != NULL)
		*seq = next;
	return rc;
}

struct offline_walk {
	int	(*fn)(uint64_t, const char *, size_t, void *);
	void	*arg;
};

static int
offline_one(const struct rec *r, size_t plen, void *arg)
{
	struct offline_walk	*ow = arg;
	char			*copy;
	int			 stop;

	/* a NUL-terminated copy, as store_offline.c hands out */
	copy = xmalloc(r->vlen + 1);
	memcpy(copy, r->val, r->vlen);
	copy[r->vlen] = '\0';
	stop = ow->fn(rec_get_u64((const uint8_t *)r->key + plen), copy,
	    r->vlen, ow->arg);
	free(copy);
	return stop;
}

int
store_offline_list(struct store *st, const char *node, const char *domain,
    int (*fn)(uint64_t, const char *, size_t, void *), void *arg)
{
	char			key[KEY_MAX];
	struct offline_walk	ow = { fn, arg };
	size_t			plen;

	if ((plen = fkey(key, TAG_OFFLINE, node, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, offline_one, &ow);
}

static bool
offline_upto(const char *tail, size_t tlen, void *arg)
{
	return tlen == 8 &&
	    rec_get_u64((const uint8_t *)tail) <= *(uint64_t *)arg;
}

int
store_offline_del(struct store *st, const char *node, const char *domain,
    uint64_t upto)
{
	char	key[KEY_MAX];
	size_t	plen;
	bool	own;

	if ((plen = fkey(key, TAG_OFFLINE, node, domain, NULL, 0)) == 0)
		return 0;
	own = group_begin(st);
	return group_end(st, own, range_del(st, key, plen, offline_upto,
	    &upto));
}

int
store_offline_del_one(struct store *st, const char *node, const char *domain,
    uint64_t seq)
{
	char	key[KEY_MAX];
	uint8_t	b[8];

	rec_put_u64(b, seq);
	return del_one(st, key, fkey(key, TAG_OFFLINE, node, domain, b, 8));
}

int
store_offline_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	struct store_usage	u;

	usage(st, TAG_OFFLINE, node, domain, &u);
	*n = u.count;
	return 0;
}

/* ---- documents ---------------------------------------------------------- */

static char
doc_tag(enum store_doc kind)
{
	switch (kind) {
	case DOC_VCARD:
		return TAG_VCARD;
	case DOC_PRIVATE:
		return TAG_PRIVATE;
	case DOC_LAST:
		return TAG_LAST;
	case DOC_MAM_PREFS:
		return TAG_MAM_PREFS;
	case DOC_PUSH:
		return TAG_PUSH;
	case DOC_FAST:
		return TAG_FAST;
	case DOC_DISABLED:
		return TAG_DISABLED;
	case DOC_MUC:
		return TAG_MUC;
	case DOC_UPLOAD:
		return TAG_UPLOAD;
	case DOC_ROLE:
		return TAG_ROLE;
	case DOC_INVITE:
		return TAG_INVITE;
	}
	return '\0';
}

static size_t
doc_key(char *key, enum store_doc kind, const char *node,
    const char *domain, const char *name)
{
	if (doc_tag(kind) == '\0') {
		errno = EINVAL;
		return 0;
	}
	if (name == NULL)
		name = "";
	return fkey(key, doc_tag(kind), node, domain, name, strlen(name));
}

int
store_doc_get(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, char **val, size_t *len)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	size_t			 klen;

	*val = NULL;
	if (len != NULL)
		*len = 0;
	if ((klen = doc_key(key, kind, node, domain, name)) == 0 ||
	    (r = get(st, key, klen)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	*val = xmalloc(r->vlen + 1);
	memcpy(*val, r->val, r->vlen);
	(*val)[r->vlen] = '\0';
	if (len != NULL)
		*len = r->vlen;
	return 0;
}

int
store_doc_put(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	char	key[KEY_MAX];
	size_t	klen;

	if ((klen = doc_key(key, kind, node, domain, name)) == 0) {
		if (val == NULL)
			return 0;
		errno = ENAMETOOLONG;
		return -1;
	}
	return set(st, key, klen, val, len);
}

/* written at once: nothing here is lost in a crash */
int
store_doc_put_later(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	return store_doc_put(st, kind, node, domain, name, val, len);
}

int
store_doc_usage(struct store *st, enum store_doc kind, const char *node,
    const char *domain, struct store_usage *u)
{
	if (doc_tag(kind) == '\0') {
		errno = EINVAL;
		return -1;
	}
	return usage(st, doc_tag(kind), node, domain, u);
}

struct doc_walk {
	int	(*fn)(const char *, size_t, void *);
	void	 *arg;
};

static int
doc_walk_one(const struct rec *r, size_t plen, void *arg)
{
	struct doc_walk	*dw = arg;

	(void)plen;
	return dw->fn(r->val, r->vlen, dw->arg);
}

int
store_doc_walk(struct store *st, enum store_doc kind, const char *domain,
    int (*fn)(const char *, size_t, void *), void *arg)
{
	struct doc_walk	dw = { fn, arg };
	char		key[KEY_MAX];
	size_t		dlen = strlen(domain);

	if (doc_tag(kind) == '\0' || dlen == 0 || dlen + 2 > KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	key[0] = doc_tag(kind);
	memcpy(key + 1, domain, dlen + 1);
	return walk(st, key, dlen + 2, doc_walk_one, &dw);
}

struct doc_walk_acct {
	const char	 *after;	/* key; the walk starts past it */
	size_t		  alen;
	size_t		  left;
	int		(*fn)(const char *, const char *, size_t, void *);
	void		 *arg;
};

static int
doc_walk_acct_one(const struct rec *r, size_t plen, void *arg)
{
	struct doc_walk_acct	*dw = arg;
	char			 name[KEY_MAX + 1];

	if (dw->after != NULL && keycmp(r->key, r->klen, dw->after,
	    dw->alen) <= 0)
		return 0;
	if (dw->left == 0)
		return 1;
	dw->left--;
	memcpy(name, r->key + plen, r->klen - plen);
	name[r->klen - plen] = '\0';
	return dw->fn(name, r->val, r->vlen, dw->arg);
}

int
store_doc_walk_account(struct store *st, enum store_doc kind,
    const char *node, const char *domain, const char *after, size_t max,
    int (*fn)(const char *, const char *, size_t, void *), void *arg)
{
	struct doc_walk_acct	dw = { NULL, 0, max, fn, arg };
	char			prefix[KEY_MAX], key[KEY_MAX];
	size_t			plen;

	if (doc_tag(kind) == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((plen = fkey(prefix, doc_tag(kind), node, domain, "", 0)) == 0)
		return 0;
	if (after[0] != '\0' && (dw.alen = doc_key(key, kind, node, domain,
	    after)) != 0)
		dw.after = key;
	return walk(st, prefix, plen, doc_walk_acct_one, &dw);
}

/* ---- block list --------------------------------------------------------- */

static size_t
block_key(char *key, const char *node, const char *domain, const char *jid)
{
	if (jid[0] == '\0') {
		errno = EINVAL;
		return 0;
	}
	return fkey(key, TAG_BLOCK, node, domain, jid, strlen(jid));
}

int
store_block_add(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	key[KEY_MAX];
	size_t	klen;

	if ((klen = block_key(key, node, domain, jid)) == 0) {
		errno = jid[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	return set(st, key, klen, jid, strlen(jid));
}

int
store_block_del(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	key[KEY_MAX];
	size_t	klen;
	bool	own;

	if (jid == NULL) {
		if ((klen = fkey(key, TAG_BLOCK, node, domain, NULL, 0)) == 0)
			return 0;
		own = group_begin(st);
		return group_end(st, own, range_del(st, key, klen, NULL,
		    NULL));
	}
	if ((klen = block_key(key, node, domain, jid)) == 0 ||
	    get(st, key, klen) == NULL) {
		errno = ENOENT;
		return -1;
	}
	return set(st, key, klen, NULL, 0);
}

int
store_block_has(struct store *st, const char *node, const char *domain,
    const char *jid)
{
	char	key[KEY_MAX];
	size_t	klen;

	if (strcmp(domain, st->block_domain) == 0)
		st->block_reads++;
	if ((klen = block_key(key, node, domain, jid)) == 0 ||
	    get(st, key, klen) == NULL) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

struct block_walk {
	int	(*fn)(const char *, void *);
	void	*arg;
};

static int
block_one(const struct rec *r, size_t plen, void *arg)
{
	struct block_walk	*bw = arg;
	char			*jid;
	int			 stop;

	(void)plen;
	jid = xstrndup(r->val, r->vlen);
	stop = bw->fn(jid, bw->arg);
	free(jid);
	return stop;
}

int
store_block_list(struct store *st, const char *node, const char *domain,
    int (*fn)(const char *, void *), void *arg)
{
	char			key[KEY_MAX];
	struct block_walk	bw = { fn, arg };
	size_t			plen;

	if ((plen = fkey(key, TAG_BLOCK, node, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, block_one, &bw);
}

int
store_block_count(struct store *st, const char *node, const char *domain,
    size_t *n)
{
	struct store_usage	u;

	usage(st, TAG_BLOCK, node, domain, &u);
	*n = u.count;
	return 0;
}

/* ---- publish-subscribe -------------------------------------------------- */

/*
 * As storage/store_pubsub.c: an owner NULL or "" is a service ("domain\0"
 * + "\0"); items of a node are one range in publish order; an id lookup
 * scans the node's items (the fuzzer's nodes are small).
 */
static size_t
pkey(char *key, char tag, const char *owner, const char *domain,
    const void *tail, size_t tlen)
{
	size_t	dlen = strlen(domain);

	if (owner != NULL && *owner != '\0')
		return fkey(key, tag, owner, domain, tail, tlen);
	if (dlen == 0 || 1 + dlen + 2 + tlen > KEY_MAX)
		return 0;
	key[0] = tag;
	memcpy(key + 1, domain, dlen + 1);
	key[2 + dlen] = '\0';
	if (tlen > 0)
		memcpy(key + 3 + dlen, tail, tlen);
	return 3 + dlen + tlen;
}

static uint64_t
pmeta_get(struct store *st, char which, const char *owner,
    const char *domain)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	size_t			 klen;

	if ((klen = pkey(key, TAG_META, owner, domain, &which, 1)) == 0 ||
	    (r = get(st, key, klen)) == NULL || r->vlen != 8)
		return 0;
	return rec_get_u64((const uint8_t *)r->val);
}

static int
pmeta_put(struct store *st, char which, const char *owner,
    const char *domain, uint64_t v)
{
	char	key[KEY_MAX];
	uint8_t	b[8];
	size_t	klen;

	if ((klen = pkey(key, TAG_META, owner, domain, &which, 1)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rec_put_u64(b, v);
	return set(st, key, klen, (const char *)b, sizeof(b));
}

int
store_pubsub_node_get(struct store *st, const char *owner, const char *domain,
    const char *name, uint64_t *nid, char **conf, size_t *clen)
{
	char			 key[KEY_MAX], *stored;
	const struct rec	*r;
	const char		*c;
	size_t			 klen, cl;

	if (conf != NULL)
		*conf = NULL;
	if (*name == '\0' || (klen = pkey(key, TAG_PSNODE, owner, domain,
	    name, strlen(name))) == 0 || (r = get(st, key, klen)) == NULL ||
	    rec_psnode_decode(r->val, r->vlen, nid, &stored, &c, &cl) == -1) {
		errno = ENOENT;
		return -1;
	}
	free(stored);
	if (conf != NULL) {
		*conf = xstrndup(c, cl);
		*clen = cl;
	}
	return 0;
}

int
store_pubsub_node_put(struct store *st, const char *owner,
    const char *domain, const char *name, uint64_t *nid, const char *conf,
    size_t clen, size_t max)
{
	char			 key[KEY_MAX], *val;
	struct store_usage	 u;
	size_t			 klen, plen, vlen;
	uint64_t		 id = *nid;
	bool			 own;
	int			 rc = 0;

	if (*name == '\0' || (klen = pkey(key, TAG_PSNODE, owner, domain,
	    name, strlen(name))) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	own = group_begin(st);
	if (id == 0) {
		if (get(st, key, klen) != NULL) {
			errno = EEXIST;
			return group_end(st, own, -1);
		}
		plen = pkey(key, TAG_PSNODE, owner, domain, NULL, 0);
		u.count = u.bytes = 0;
		walk(st, key, plen, usage_one, &u);
		if (u.count >= max) {
			errno = EDQUOT;
			return group_end(st, own, -1);
		}
		klen = pkey(key, TAG_PSNODE, owner, domain, name,
		    strlen(name));
		if ((id = pmeta_get(st, META_PSNODE, owner, domain)) == 0)
			id = 1;
		rc = pmeta_put(st, META_PSNODE, owner, domain, id + 1);
	}
	if ((val = (char *)rec_psnode_encode(id, name, conf, clen,
	    &vlen)) == NULL) {
		errno = ENAMETOOLONG;
		rc = -1;
	}
	if (rc == 0)
		rc = set(st, key, klen, val, vlen);
	free(val);
	if (rc == 0)
		*nid = id;
	return group_end(st, own, rc);
}

/* the items prefix of node nid */
static size_t
items_key(char *key, const char *owner, const char *domain, uint64_t nid)
{
	uint8_t	b[8];

	rec_put_u64(b, nid);
	return pkey(key, TAG_PSITEM, owner, domain, b, sizeof(b));
}

int
store_pubsub_node_del(struct store *st, const char *owner, const char *domain,
    const char *name)
{
	char		key[KEY_MAX];
	uint64_t	nid;
	size_t		klen;
	bool		own;
	int		rc;

	if (store_pubsub_node_get(st, owner, domain, name, &nid, NULL,
	    NULL) == -1)
		return -1;
	own = group_begin(st);
	klen = items_key(key, owner, domain, nid);
	rc = range_del(st, key, klen, NULL, NULL);
	klen = pkey(key, TAG_PSNODE, owner, domain, name, strlen(name));
	if (rc == 0)
		rc = set(st, key, klen, NULL, 0);
	return group_end(st, own, rc);
}

struct pnode_walk {
	int	(*fn)(const char *, uint64_t, const char *, size_t, void *);
	void	*arg;
};

static int
pnode_one(const struct rec *r, size_t plen, void *arg)
{
	struct pnode_walk	*pw = arg;
	char			*name, *conf;
	const char		*c;
	uint64_t		 nid;
	size_t			 cl;
	int			 stop;

	(void)plen;
	if (rec_psnode_decode(r->val, r->vlen, &nid, &name, &c, &cl) == -1)
		return 0;
	conf = xstrndup(c, cl);
	stop = pw->fn(name, nid, conf, cl, pw->arg);
	free(conf);
	free(name);
	return stop;
}

int
store_pubsub_node_list(struct store *st, const char *owner,
    const char *domain,
    int (*fn)(const char *, uint64_t, const char *, size_t, void *),
    void *arg)
{
	char			key[KEY_MAX];
	struct pnode_walk	pw = { fn, arg };
	size_t			plen;

	if ((plen = pkey(key, TAG_PSNODE, owner, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, pnode_one, &pw);
}

/* an item record (store_codec.c) at its sequence key */
static int
item_decode(const struct rec *r, size_t plen, struct pubsub_item *it)
{
	memset(it, 0, sizeof(*it));
	if (r->klen != plen + 8)
		return -1;
	it->seq = rec_get_u64((const uint8_t *)r->key + plen);
	return rec_psitem_decode(r->val, r->vlen, it);
}

struct item_find {
	const char	*id;
	char		*key;		/* out: the item's key */
	size_t		 klen;
	struct pubsub_item *out;	/* NULL: only the key */
	size_t		 count;
};

static int
item_find_one(const struct rec *r, size_t plen, void *arg)
{
	struct item_find	*f = arg;
	struct pubsub_item	 it;

	if (item_decode(r, plen, &it) == -1)
		return 0;
	f->count++;
	if (f->id != NULL && strcmp(it.id, f->id) == 0) {
		memcpy(f->key, r->key, r->klen);
		f->klen = r->klen;
		if (f->out != NULL) {
			*f->out = it;
			return 1;
		}
	}
	pubsub_item_clear(&it);
	return f->id != NULL && f->klen > 0;
}

static size_t
item_find(struct store *st, const char *owner, const char *domain,
    uint64_t nid, const char *id, char *key, struct pubsub_item *out)
{
	char			prefix[KEY_MAX];
	struct item_find	f = { id, key, 0, out, 0 };
	size_t			plen;

	if ((plen = items_key(prefix, owner, domain, nid)) == 0)
		return 0;
	walk(st, prefix, plen, item_find_one, &f);
	return f.klen;
}

/* the oldest item of a node: its key */
static int
item_first(const struct rec *r, size_t plen, void *arg)
{
	struct item_find	*f = arg;

	(void)plen;
	memcpy(f->key, r->key, r->klen);
	f->klen = r->klen;
	return 1;
}

int
store_pubsub_item_put(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const struct pubsub_item *it,
    size_t max)
{
	char			 key[KEY_MAX], old[KEY_MAX], *val;
	struct item_find	 f;
	size_t			 plen, klen, vlen;
	uint64_t		 seq;
	uint8_t			 b[16];
	bool			 own;
	int			 rc = 0;

	if (*it->id == '\0' || (plen = items_key(key, owner, domain,
	    nid)) == 0 || plen + 8 > KEY_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	own = group_begin(st);
	if ((klen = item_find(st, owner, domain, nid, it->id, old,
	    NULL)) > 0)
		rc = set(st, old, klen, NULL, 0);
	if ((seq = pmeta_get(st, META_PSSEQ, owner, domain)) == 0)
		seq = 1;
	if (rc == 0)
		rc = pmeta_put(st, META_PSSEQ, owner, domain, seq + 1);
	rec_put_u64(b, nid);
	rec_put_u64(b + 8, seq);
	klen = pkey(key, TAG_PSITEM, owner, domain, b, sizeof(b));
	if ((val = (char *)rec_psitem_encode(it, &vlen)) == NULL) {
		errno = ENAMETOOLONG;
		rc = -1;
	}
	if (rc == 0)
		rc = set(st, key, klen, val, vlen);
	free(val);
	/* the oldest past max go */
	plen = items_key(key, owner, domain, nid);
	while (rc == 0) {
		struct store_usage	u = { 0, 0 };

		walk(st, key, plen, usage_one, &u);
		if (u.count <= (max > 0 ? max : 1))
			break;
		memset(&f, 0, sizeof(f));
		f.key = old;
		walk(st, key, plen, item_first, &f);
		rc = set(st, f.key, f.klen, NULL, 0);
	}
	return group_end(st, own, rc);
}

int
store_pubsub_item_get(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const char *id,
    struct pubsub_item *out)
{
	char	key[KEY_MAX];

	memset(out, 0, sizeof(*out));
	if (item_find(st, owner, domain, nid, id, key, out) == 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
store_pubsub_item_del(struct store *st, const char *owner,
    const char *domain, uint64_t nid, const char *id)
{
	char	key[KEY_MAX];
	size_t	klen;

	if ((klen = item_find(st, owner, domain, nid, id, key, NULL)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return set(st, key, klen, NULL, 0);
}

struct items_walk {
	struct pubsub_item	*v;
	size_t			 n, cap;
};

static int
items_collect(const struct rec *r, size_t plen, void *arg)
{
	struct items_walk	*iw = arg;

	if (iw->n == iw->cap) {
		iw->cap = iw->cap ? 2 * iw->cap : 8;
		iw->v = xrealloc(iw->v, iw->cap * sizeof(*iw->v));
	}
	if (item_decode(r, plen, &iw->v[iw->n]) == 0)
		iw->n++;
	return 0;
}

int
store_pubsub_items(struct store *st, const char *owner, const char *domain,
    uint64_t nid, size_t max,
    int (*fn)(const struct pubsub_item *, void *), void *arg)
{
	char			key[KEY_MAX];
	struct items_walk	iw;
	size_t			plen, i, sent = 0;
	bool			stop = false;

	if ((plen = items_key(key, owner, domain, nid)) == 0)
		return 0;
	memset(&iw, 0, sizeof(iw));
	walk(st, key, plen, items_collect, &iw);
	for (i = iw.n; i > 0; i--) {
		if (!stop && (max == 0 || sent < max)) {
			stop = fn(&iw.v[i - 1], arg) != 0;
			sent++;
		}
		pubsub_item_clear(&iw.v[i - 1]);
	}
	free(iw.v);
	return 0;
}

int
store_pubsub_item_count(struct store *st, const char *owner,
    const char *domain, uint64_t nid, size_t *n)
{
	char			key[KEY_MAX];
	struct store_usage	u;
	size_t			plen;

	u.count = u.bytes = 0;
	if ((plen = items_key(key, owner, domain, nid)) > 0)
		walk(st, key, plen, usage_one, &u);
	*n = u.count;
	return 0;
}

int
store_pubsub_purge(struct store *st, const char *owner, const char *domain,
    uint64_t nid)
{
	char	key[KEY_MAX];
	size_t	plen;
	bool	own;

	if ((plen = items_key(key, owner, domain, nid)) == 0)
		return 0;
	own = group_begin(st);
	return group_end(st, own, range_del(st, key, plen, NULL, NULL));
}

/* ---- for the oracles ---------------------------------------------------- */

size_t
fake_store_records(const struct store *st)
{
	return st->nrecs;
}

size_t
fake_store_owned(struct store *st, const char *node, const char *domain)
{
	static const char	owned[] = { TAG_ACCOUNT, TAG_ROSTER,
	    TAG_OFFLINE, TAG_BLOCK, TAG_VCARD, TAG_PRIVATE, TAG_LAST,
	    TAG_PSNODE, TAG_PSITEM };
	struct store_usage	u;
	size_t			i, n = 0;

	for (i = 0; i < sizeof(owned); i++) {
		usage(st, owned[i], node, domain, &u);
		n += u.count;
	}
	return n;
}

/* ---- message archive ---------------------------------------------------- */

#define META_ARCHIVE	'L'	/* the owner's last archive id */

struct arch_walk {
	const struct archive_range	*r;
	int	(*fn)(const struct archive_entry *, void *);
	void	*arg;
	size_t	 n;
	uint64_t *ids;		/* backward: collected, then visited */
	size_t	 nids;
};

/* whether the record is an entry r selects; *e decoded when it is */
static bool
arch_pick(const struct rec *r, size_t plen, const struct archive_range *ar,
    struct archive_entry *e)
{
	uint64_t	id;

	if (r->klen != plen + 8)
		return false;
	id = rec_get_u64((const uint8_t *)r->key + plen);
	if (id < ar->lo || id > ar->hi)
		return false;
	e->id = id;
	if (rec_archive_decode(r->val, r->vlen, e) == -1)
		return false;
	if ((ar->with != NULL && strcmp(e->with, ar->with) != 0) ||
	    (ar->match != NULL && !ar->match(e, ar->match_arg))) {
		archive_entry_clear(e);
		return false;
	}
	return true;
}

static int
arch_one(const struct rec *r, size_t plen, void *arg)
{
	struct arch_walk	*aw = arg;
	struct archive_entry	 e;
	int			 stop;

	if (!arch_pick(r, plen, aw->r, &e))
		return 0;
	if (aw->fn == NULL) {
		aw->n++;
		aw->ids = xrealloc(aw->ids, aw->n * sizeof(*aw->ids));
		aw->ids[aw->n - 1] = e.id;
		archive_entry_clear(&e);
		return 0;
	}
	stop = aw->fn(&e, aw->arg);
	archive_entry_clear(&e);
	return stop != 0 || (aw->r->max > 0 && ++aw->nids >= aw->r->max);
}

int
store_archive_put_many(struct store *st, struct archive_req *req, size_t n,
    const struct archive_limits *max, bool later)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n; i++) {
		req[i].e->id = 0;
		if (store_archive_put(st, req[i].owner, req[i].domain,
		    req[i].e, max, later) == -1)
			rc = -1;
	}
	return rc;
}

int
store_archive_put(struct store *st, const char *owner, const char *domain,
    struct archive_entry *e, const struct archive_limits *max, bool later)
{
	char			 key[KEY_MAX];
	struct archive_range	 all = { .hi = UINT64_MAX };
	struct arch_walk	 aw;
	uint8_t			*rec, b[8];
	uint64_t		 id;
	size_t			 klen, rlen, plen, i;
	bool			 own;
	int			 rc;

	(void)later;
	id = pmeta_get(st, META_ARCHIVE, owner, domain);
	id = e->stamp > id ? e->stamp : id + 1;
	rec_put_u64(b, id);
	if ((klen = pkey(key, TAG_ARCHIVE, owner, domain, b, 8)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((rec = rec_archive_encode(e, &rlen)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	own = group_begin(st);
	rc = set(st, key, klen, (const char *)rec, rlen);
	free(rec);
	if (rc == 0)
		rc = pmeta_put(st, META_ARCHIVE, owner, domain, id);
	/* retention: by count only here (store_archive.c does all three) */
	memset(&aw, 0, sizeof(aw));
	aw.r = &all;
	plen = klen - 8;
	if (rc == 0)
		walk(st, key, plen, arch_one, &aw);
	for (i = 0; rc == 0 && max->count > 0 && aw.n - i > max->count;
	    i++) {
		rec_put_u64((uint8_t *)key + plen, aw.ids[i]);
		rc = set(st, key, klen, NULL, 0);
	}
	free(aw.ids);
	if ((rc = group_end(st, own, rc)) == 0)
		e->id = id;
	return rc;
}

int
store_archive_clear(struct store *st, const char *owner, const char *domain)
{
	char	key[KEY_MAX];
	size_t	klen;

	if ((klen = pkey(key, TAG_ARCHIVE, owner, domain, NULL, 0)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return range_del(st, key, klen, NULL, NULL);
}

int
store_archive_del(struct store *st, const char *owner, const char *domain,
    uint64_t id)
{
	char	key[KEY_MAX];
	uint8_t	b[8];

	rec_put_u64(b, id);
	return del_one(st, key, pkey(key, TAG_ARCHIVE, owner, domain, b, 8));
}

int
store_archive_get(struct store *st, const char *owner, const char *domain,
    uint64_t id, struct archive_entry *out)
{
	char			 key[KEY_MAX];
	const struct rec	*r;
	uint8_t			 b[8];
	size_t			 klen;

	memset(out, 0, sizeof(*out));
	rec_put_u64(b, id);
	if ((klen = pkey(key, TAG_ARCHIVE, owner, domain, b, 8)) == 0 ||
	    (r = get(st, key, klen)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	out->id = id;
	if (rec_archive_decode(r->val, r->vlen, out) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
store_archive_query(struct store *st, const char *owner,
    const char *domain, const struct archive_range *r,
    int (*fn)(const struct archive_entry *, void *), void *arg)
{
	char			 key[KEY_MAX];
	struct archive_range	 all = *r;
	struct archive_entry	 e;
	struct arch_walk	 aw;
	size_t			 plen, i;

	if ((plen = pkey(key, TAG_ARCHIVE, owner, domain, NULL, 0)) == 0)
		return 0;
	memset(&aw, 0, sizeof(aw));
	aw.r = r;
	aw.fn = fn;
	aw.arg = arg;
	if (!r->backward)
		return walk(st, key, plen, arch_one, &aw);
	/* newest first: the ids in order, then visited from the end */
	all.max = 0;
	aw.r = &all;
	aw.fn = NULL;
	walk(st, key, plen, arch_one, &aw);
	for (i = aw.n; i > 0; i--) {
		if (store_archive_get(st, owner, domain, aw.ids[i - 1],
		    &e) == -1)
			continue;
		if (fn(&e, arg) != 0 || (r->max > 0 && aw.n - i + 1 >=
		    r->max)) {
			archive_entry_clear(&e);
			break;
		}
		archive_entry_clear(&e);
	}
	free(aw.ids);
	return 0;
}

int
store_archive_count(struct store *st, const char *owner,
    const char *domain, const struct archive_range *r, size_t *n)
{
	char			 key[KEY_MAX];
	struct archive_range	 all = *r;
	struct arch_walk	 aw;
	size_t			 plen;

	*n = 0;
	if ((plen = pkey(key, TAG_ARCHIVE, owner, domain, NULL, 0)) == 0)
		return 0;
	memset(&aw, 0, sizeof(aw));
	all.max = 0;
	aw.r = &all;
	walk(st, key, plen, arch_one, &aw);
	free(aw.ids);
	*n = aw.n;
	return 0;
}

int
store_archive_usage(struct store *st, const char *owner,
    const char *domain, struct store_usage *u)
{
	char	key[KEY_MAX];
	size_t	plen;

	u->count = u->bytes = 0;
	if ((plen = pkey(key, TAG_ARCHIVE, owner, domain, NULL, 0)) == 0)
		return 0;
	return walk(st, key, plen, usage_one, u);
}
