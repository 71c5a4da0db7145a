/*
 * The message archive (XEP-0313) of an owner: an account, or later a
 * room (owner_prefix). Layout (docs/internals.md, "Message archive"):
 *	archive:	prefix + u64 id		the entry (store_codec.c)
 *	archive:	prefix			the totals: u64 last id, count,
 *						bytes
 *	archive_with:	prefix + u64 h + u64 id	(empty): the entries of one
 *			correspondent, h the first 8 bytes of SHA-256(with)
 * Ids are big-endian, so key order is id order and a page is a range
 * scan; the totals key sorts before every entry of its owner. Two JIDs
 * whose hashes collide share an index range: every hit is checked against
 * the entry's own with.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg.h"
#include "store_int.h"
#include "store_retain.h"

#define TOTALS_LEN	24

struct totals {
	uint64_t	last, count, bytes;
};

static int
with_hash(const char *with, uint8_t *out)
{
	uint8_t	d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, with, strlen(with), d) < 0) {
		log_warnx("store: SHA-256 unavailable");
		errno = EIO;
		return -1;
	}
	memcpy(out, d, 8);
	return 0;
}

/* key = prefix + h(with) + id in key (room: STORE_KEY_BUF); its length */
static size_t
with_key(char *key, const char *prefix, size_t plen, const char *with,
    uint64_t id)
{
	memcpy(key, prefix, plen);
	if (with_hash(with, (uint8_t *)key + plen) == -1)
		return 0;
	rec_put_u64((uint8_t *)key + plen + 8, id);
	return plen + 16;
}

static int
totals_get(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    struct totals *t)
{
	MDB_val	k = { plen, (void *)prefix }, v;
	int	rc;

	memset(t, 0, sizeof(*t));
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != TOTALS_LEN) {
		log_warnx("store: archive %s: corrupt totals",
		    log_esc(prefix, plen));
		errno = EIO;
		return -1;
	}
	t->last = rec_get_u64(v.mv_data);
	t->count = rec_get_u64((const uint8_t *)v.mv_data + 8);
	t->bytes = rec_get_u64((const uint8_t *)v.mv_data + 16);
	return 0;
}

static int
totals_put(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    const struct totals *t)
{
	uint8_t	b[TOTALS_LEN];
	MDB_val	k = { plen, (void *)prefix }, v = { sizeof(b), b };

	rec_put_u64(b, t->last);
	rec_put_u64(b + 8, t->count);
	rec_put_u64(b + 16, t->bytes);
	return mdb_put(txn, dbi, &k, &v, 0);
}

struct archive_put {
	const char			*prefix;
	size_t				 plen;
	const struct archive_entry	*e;
	const uint8_t			*rec;
	size_t				 rlen;
	const struct archive_limits	*max;
	uint64_t			 id;	/* out */
};

/*
 * Retention: the oldest entries go while the archive is past a limit
 * (never the one just added), with their index keys.
 */
static int
archive_trim(struct store *st, MDB_txn *txn, struct archive_put *ap,
    struct totals *t)
{
	char			 key[STORE_KEY_BUF], ikey[STORE_KEY_BUF];
	struct archive_entry	 e;
	MDB_cursor		*cur;
	MDB_val			 k, v, ik;
	uint64_t		 id;
	int			 rc;

	/* within count and bytes, no age limit: no walk (nor cursor) */
	if (ap->max->age == 0 && !archive_over(ap->max, t->count, t->bytes,
	    ap->e->stamp, UINT64_MAX))
		return 0;
	if ((rc = mdb_cursor_open(txn, st->archive, &cur)) != 0)
		return rc;
	memcpy(key, ap->prefix, ap->plen);
	rec_put_u64((uint8_t *)key + ap->plen, 0);
	for (;;) {
		k.mv_data = key;
		k.mv_size = ap->plen + 8;
		if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
			break;
		if (!key_in(&k, ap->prefix, ap->plen) ||
		    k.mv_size != ap->plen + 8)
			break;
		id = rec_get_u64((const uint8_t *)k.mv_data + ap->plen);
		if (id == ap->id || !archive_over(ap->max, t->count,
		    t->bytes, ap->e->stamp, id))
			break;
		e.id = id;
		if (rec_archive_decode(v.mv_data, v.mv_size, &e) == 0) {
			ik.mv_data = ikey;
			ik.mv_size = with_key(ikey, ap->prefix, ap->plen,
			    e.with, id);
			archive_entry_clear(&e);
			if (ik.mv_size == 0) {
				rc = -1;
				break;
			}
			rc = mdb_del(txn, st->archive_with, &ik, NULL);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
		}
		t->count = t->count > 0 ? t->count - 1 : 0;
		t->bytes = t->bytes > v.mv_size ? t->bytes - v.mv_size : 0;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
archive_put_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct archive_put	*ap = arg;
	struct totals		 t;
	char			 key[STORE_KEY_BUF];
	MDB_val			 k, v;
	int			 rc;

	if ((rc = totals_get(txn, st->archive, ap->prefix, ap->plen,
	    &t)) != 0)
		return rc;
	/* time-ordered and unique: one past the last when the clock lags */
	ap->id = ap->e->stamp > t.last ? ap->e->stamp : t.last + 1;
	memcpy(key, ap->prefix, ap->plen);
	rec_put_u64((uint8_t *)key + ap->plen, ap->id);
	k.mv_data = key;
	k.mv_size = ap->plen + 8;
	v.mv_data = (void *)ap->rec;
	v.mv_size = ap->rlen;
	if ((rc = mdb_put(txn, st->archive, &k, &v, MDB_NOOVERWRITE)) != 0)
		return rc;
	if ((k.mv_size = with_key(key, ap->prefix, ap->plen, ap->e->with,
	    ap->id)) == 0)
		return -1;
	v.mv_size = 0;
	if ((rc = mdb_put(txn, st->archive_with, &k, &v, 0)) != 0)
		return rc;
	t.last = ap->id;
	t.count++;
	t.bytes += ap->rlen;
	if ((rc = archive_trim(st, txn, ap, &t)) != 0)
		return rc;
	return totals_put(txn, st->archive, ap->prefix, ap->plen, &t);
}

/*
 * The entries of one message, with copies of all they need: the store
 * keeps it until the deferred writes are committed (store_write_replay).
 */
struct archive_msg {
	struct archive_put	 ap[ARCHIVE_PUT_MAX];
	struct archive_entry	 e[ARCHIVE_PUT_MAX];	/* stamp, with */
	char			 prefix[ARCHIVE_PUT_MAX][STORE_KEY_BUF];
	struct archive_limits	 max;
	size_t			 n;
};

static int
archive_msg_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct archive_msg	*m = arg;
	size_t			 i;
	int			 rc;

	for (i = 0; i < m->n; i++)
		if ((rc = archive_put_fn(st, txn, &m->ap[i])) != 0)
			return rc;
	return 0;
}

static void
archive_msg_free(void *arg)
{
	struct archive_msg	*m = arg;
	size_t			 i;

	for (i = 0; i < m->n; i++) {
		free((void *)m->ap[i].rec);
		free(m->e[i].with);
	}
	free(m);
}

int
store_archive_put_many(struct store *st, struct archive_req *req, size_t n,
    const struct archive_limits *max, bool later)
{
	struct archive_msg	*m;
	struct archive_put	*ap;
	size_t			 i, j, of[ARCHIVE_PUT_MAX];
	int			 rc = 0, err = 0;
	bool			 retry;

	if (st->pg != NULL)
		return pgs_archive_put_many(st->pg, req, n, max, later);
	if (n > ARCHIVE_PUT_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* not zeroed: 8 KiB of prefixes; only what is set is read */
	m = xmalloc(sizeof(*m));
	m->max = *max;
	m->n = 0;
	for (i = 0; i < n; i++) {
		req[i].e->id = 0;
		ap = &m->ap[m->n];
		ap->prefix = m->prefix[m->n];
		ap->max = &m->max;
		ap->id = 0;
		if ((ap->plen = owner_prefix(st, m->prefix[m->n],
		    req[i].owner, req[i].domain)) == 0) {
			err = ENAMETOOLONG;
			continue;
		}
		if ((ap->rec = rec_archive_encode(req[i].e,
		    &ap->rlen)) == NULL) {
			err = EINVAL;
			continue;
		}
		m->e[m->n].stamp = req[i].e->stamp;
		m->e[m->n].with = xstrdup(req[i].e->with);
		ap->e = &m->e[m->n];
		of[m->n++] = i;
	}
	if (m->n < n)
		rc = -1;
	/*
	 * The message's entries in one write that joins the deferred ones
	 * before it (no nested transaction of its own: LMDB copies every
	 * page a nested transaction touches). If it fails, each runs alone,
	 * so that one archive's failure (a full map, a quota) spoils no
	 * other's; the ids are read before the store may free m (at the next
	 * commit).
	 */
	if (m->n > 0 && (later ? store_write_replay(st, "archive put",
	    archive_msg_fn, m, archive_msg_free) : store_write(st,
	    "archive put", archive_msg_fn, m, false)) == 0) {
		for (j = 0; j < m->n; j++)
			req[of[j]].e->id = m->ap[j].id;
		if (later)
			goto done;
	} else if (m->n > 0) {
		err = errno;
		/*
		 * A lone immediate entry has had its try; a deferred one may
		 * fit alone (the full map grew, or the others failed).
		 */
		retry = m->n > 1 || later;
		rc = retry && m->n == n ? 0 : -1;
		for (j = 0; retry && j < m->n; j++) {
			if (store_write(st, "archive put", archive_put_fn,
			    &m->ap[j], later) == 0)
				req[of[j]].e->id = m->ap[j].id;
			else {
				err = errno;
				rc = -1;
			}
		}
	}
	archive_msg_free(m);
done:
	errno = err;
	return rc;
}

int
store_archive_put(struct store *st, const char *owner, const char *domain,
    struct archive_entry *e, const struct archive_limits *max, bool later)
{
	struct archive_req	req = { owner, domain, e };

	if (st->pg != NULL)
		return pgs_archive_put(st->pg, owner, domain, e, max, later);
	return store_archive_put_many(st, &req, 1, max, later);
}

struct archive_get {
	const char		*prefix;
	size_t			 plen;
	struct archive_entry	*out;
};

static int
archive_read(const MDB_val *v, void *arg)
{
	struct archive_get	*ag = arg;

	if (rec_archive_decode(v->mv_data, v->mv_size, ag->out) == 0)
		return 0;
	log_warnx("store: archive %s: entry %llu corrupt",
	    log_esc(ag->prefix, ag->plen), (unsigned long long)ag->out->id);
	errno = EIO;
	return -1;
}

int
store_archive_get(struct store *st, const char *owner, const char *domain,
    uint64_t id, struct archive_entry *out)
{
	char			key[STORE_KEY_BUF];
	struct archive_get	ag = { key, 0, out };
	MDB_val			k;

	if (st->pg != NULL)
		return pgs_archive_get(st->pg, owner, domain, id, out);
	memset(out, 0, sizeof(*out));
	if ((ag.plen = owner_prefix(st, key, owner, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	rec_put_u64((uint8_t *)key + ag.plen, id);
	k.mv_data = key;
	k.mv_size = ag.plen + 8;
	out->id = id;
	return store_get(st, st->archive, "archive get", &k, archive_read,
	    &ag);
}

struct archive_del {
	const char	*prefix;
	size_t		 plen;
	uint64_t	 id;
};

static int
archive_del_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct archive_del	*ad = arg;
	struct archive_entry	 e;
	struct totals		 t;
	char			 key[STORE_KEY_BUF], ikey[STORE_KEY_BUF];
	MDB_val			 k, v, ik;
	int			 rc;

	memcpy(key, ad->prefix, ad->plen);
	rec_put_u64((uint8_t *)key + ad->plen, ad->id);
	k.mv_data = key;
	k.mv_size = ad->plen + 8;
	if ((rc = mdb_get(txn, st->archive, &k, &v)) != 0)
		return rc;
	memset(&e, 0, sizeof(e));
	if (rec_archive_decode(v.mv_data, v.mv_size, &e) == 0) {
		ik.mv_data = ikey;
		ik.mv_size = with_key(ikey, ad->prefix, ad->plen, e.with,
		    ad->id);
		archive_entry_clear(&e);
		if (ik.mv_size > 0 && (rc = mdb_del(txn, st->archive_with, &ik,
		    NULL)) != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	if ((rc = totals_get(txn, st->archive, ad->prefix, ad->plen,
	    &t)) != 0)
		return rc;
	t.count = t.count > 0 ? t.count - 1 : 0;
	t.bytes = t.bytes > v.mv_size ? t.bytes - v.mv_size : 0;
	if ((rc = mdb_del(txn, st->archive, &k, NULL)) != 0)
		return rc;
	return totals_put(txn, st->archive, ad->prefix, ad->plen, &t);
}

int
store_archive_del(struct store *st, const char *owner, const char *domain,
    uint64_t id)
{
	char			prefix[STORE_KEY_BUF];
	struct archive_del	ad = { prefix, 0, id };

	if (st->pg != NULL)
		return pgs_archive_del(st->pg, owner, domain, id);
	if ((ad.plen = owner_prefix(st, prefix, owner, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return store_write(st, "archive del", archive_del_fn, &ad, false);
}

static int
archive_clear_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct archive_del	*ad = arg;
	int			 rc;

	/* the totals sit at the prefix itself: they go too */
	if ((rc = range_del(txn, st->archive, ad->prefix, ad->plen, NULL,
	    NULL)) != 0)
		return rc;
	return range_del(txn, st->archive_with, ad->prefix, ad->plen, NULL,
	    NULL);
}

int
store_archive_clear(struct store *st, const char *owner, const char *domain)
{
	char			prefix[STORE_KEY_BUF];
	struct archive_del	ad = { prefix, 0, 0 };

	if (st->pg != NULL)
		return pgs_archive_clear(st->pg, owner, domain);
	if ((ad.plen = owner_prefix(st, prefix, owner, domain)) == 0) {
		errno = ENOENT;
		return -1;
	}
	return store_write(st, "archive clear", archive_clear_fn, &ad, false);
}

/* one key of a range: its id; 0 goes on, non-zero stops */
typedef int	range_fn(MDB_txn *, uint64_t id, const MDB_val *v, void *);

/*
 * The keys base + u64 id with lo <= id <= hi, ascending or descending.
 * Other keys under base (the totals) are passed over. 0 or an LMDB error.
 */
static int
id_range(MDB_txn *txn, MDB_dbi dbi, const char *base, size_t blen,
    uint64_t lo, uint64_t hi, bool backward, range_fn *fn, void *arg)
{
	char		 key[STORE_KEY_BUF];
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint64_t	 id;
	int		 rc, step;

	if (lo > hi)
		return 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	memcpy(key, base, blen);
	rec_put_u64((uint8_t *)key + blen, backward ? hi : lo);
	k.mv_data = key;
	k.mv_size = blen + 8;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (backward) {
		/* the first key at or past hi: step back unless it is hi */
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		else if (rc == 0 && !(key_in(&k, base, blen) &&
		    k.mv_size == blen + 8 &&
		    rec_get_u64((const uint8_t *)k.mv_data + blen) == hi))
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	}
	step = backward ? MDB_PREV : MDB_NEXT;
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, step)) {
		if (!key_in(&k, base, blen))
			break;
		if (k.mv_size != blen + 8)
			continue;
		id = rec_get_u64((const uint8_t *)k.mv_data + blen);
		if (id < lo || id > hi)
			break;
		if ((rc = fn(txn, id, &v, arg)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || rc == 1)
		return 0;
	return rc;
}

struct archive_walk {
	struct store	*st;
	const char	*prefix;
	size_t		 plen;
	const char	*with;
	bool		(*match)(const struct archive_entry *, void *);
	void		*match_arg;
	size_t		 max, n;
	int		(*fn)(const struct archive_entry *, void *);
	void		*arg;
	int		 err;
};

static int
walk_entry(struct archive_walk *aw, uint64_t id, const MDB_val *v)
{
	struct archive_entry	e;
	int			stop;

	e.id = id;
	if (rec_archive_decode(v->mv_data, v->mv_size, &e) == -1) {
		log_warnx("store: archive %s: entry %llu corrupt, skipped",
		    log_esc(aw->prefix, aw->plen), (unsigned long long)id);
		return 0;
	}
	if (aw->with != NULL && strcmp(e.with, aw->with) != 0) {
		archive_entry_clear(&e);	/* a hash collision */
		return 0;
	}
	if (aw->match != NULL && !aw->match(&e, aw->match_arg)) {
		archive_entry_clear(&e);
		return 0;
	}
	stop = aw->fn(&e, aw->arg);
	archive_entry_clear(&e);
	if (stop != 0 || (aw->max > 0 && ++aw->n >= aw->max))
		return 1;
	return 0;
}

static int
walk_main(MDB_txn *txn, uint64_t id, const MDB_val *v, void *arg)
{
	(void)txn;
	return walk_entry(arg, id, v);
}

/* an index hit: the entry itself from the main database */
static int
walk_index(MDB_txn *txn, uint64_t id, const MDB_val *iv, void *arg)
{
	struct archive_walk	*aw = arg;
	char			 key[STORE_KEY_BUF];
	MDB_val			 k, v;
	int			 rc;

	(void)iv;
	memcpy(key, aw->prefix, aw->plen);
	rec_put_u64((uint8_t *)key + aw->plen, id);
	k.mv_data = key;
	k.mv_size = aw->plen + 8;
	if ((rc = mdb_get(txn, aw->st->archive, &k, &v)) == MDB_NOTFOUND)
		return 0;	/* the index outlived it: harmless */
	if (rc != 0)
		return rc;
	return walk_entry(aw, id, &v);
}

static int
count_one(MDB_txn *txn, uint64_t id, const MDB_val *v, void *arg)
{
	(void)txn;
	(void)id;
	(void)v;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * Walks r: with a with, over its index range (base = prefix + hash),
 * else over the entries themselves.
 */
static int
archive_range(struct store *st, const char *op, const char *owner,
    const char *domain, const struct archive_range *r, range_fn *fn,
    struct archive_walk *aw, size_t *count)
{
	char	 base[STORE_KEY_BUF];
	size_t	 blen;
	MDB_txn	*txn;
	MDB_dbi	 dbi = st->archive;
	struct totals	 t;
	int	 rc;

	if ((blen = owner_prefix(st, base, owner, domain)) == 0)
		return 0;
	if (aw != NULL) {
		aw->prefix = base;
		aw->plen = blen;
	}
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	if (count != NULL && r->with == NULL && r->lo == 0 &&
	    r->hi == UINT64_MAX) {
		/* the whole archive: its totals, no scan */
		if ((rc = totals_get(txn, dbi, base, blen, &t)) == 0)
			*count = (size_t)t.count;
		goto done;
	}
	if (r->with != NULL) {
		if (with_hash(r->with, (uint8_t *)base + blen) == -1) {
			rc = -1;
			goto done;
		}
		blen += 8;
		dbi = st->archive_with;
		if (aw != NULL)
			fn = walk_index;
	}
	rc = id_range(txn, dbi, base, blen, r->lo, r->hi, r->backward, fn,
	    aw != NULL ? (void *)aw : (void *)count);
done:
	store_rtxn_end(st, txn);
	if (rc == -1)
		return -1;
	if (rc != 0) {
		errno = store_errno(op, rc);
		return -1;
	}
	return 0;
}

int
store_archive_query(struct store *st, const char *owner,
    const char *domain, const struct archive_range *r,
    int (*fn)(const struct archive_entry *, void *), void *arg)
{
	struct archive_walk	aw;

	if (st->pg != NULL)
		return pgs_archive_query(st->pg, owner, domain, r, fn, arg);
	memset(&aw, 0, sizeof(aw));
	aw.st = st;
	aw.with = r->with;
	aw.match = r->match;
	aw.match_arg = r->match_arg;
	aw.max = r->max;
	aw.fn = fn;
	aw.arg = arg;
	return archive_range(st, "archive query", owner, domain, r,
	    walk_main, &aw, NULL);
}

static int
count_match(const struct archive_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

int
store_archive_count(struct store *st, const char *owner,
    const char *domain, const struct archive_range *r, size_t *n)
{
	struct archive_range	all;

	if (st->pg != NULL)
		return pgs_archive_count(st->pg, owner, domain, r, n);
	*n = 0;
	if (r->match != NULL) {
		/* only the entries themselves can say */
		all = *r;
		all.max = 0;
		return store_archive_query(st, owner, domain, &all,
		    count_match, n);
	}
	return archive_range(st, "archive count", owner, domain, r,
	    count_one, NULL, n);
}

int
store_archive_usage(struct store *st, const char *owner,
    const char *domain, struct store_usage *u)
{
	char	 prefix[STORE_KEY_BUF];
	size_t	 plen;
	MDB_txn	*txn;
	struct totals	 t;
	int	 rc;

	if (st->pg != NULL)
		return pgs_archive_usage(st->pg, owner, domain, u);
	u->count = u->bytes = 0;
	if ((plen = owner_prefix(st, prefix, owner, domain)) == 0)
		return 0;
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("archive usage", rc);
		return -1;
	}
	rc = totals_get(txn, st->archive, prefix, plen, &t);
	store_rtxn_end(st, txn);
	if (rc == -1)
		return -1;
	if (rc != 0) {
		errno = store_errno("archive usage", rc);
		return -1;
	}
	u->count = (size_t)t.count;
	u->bytes = (size_t)t.bytes;
	return 0;
}
