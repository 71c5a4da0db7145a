/*
 * Documents: key prefix + a kind tag + the document's name (empty for
 * vCard and last activity), hashed like any long tail; the value is the
 * document's bytes. A hashed private-storage name is trusted to its
 * SHA-256: nothing lists documents, so the value does not repeat it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "pg.h"
#include "store_int.h"

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
	case DOC_MAM_PREFS:
		return 'M';
	case DOC_PUSH:
		return 'n';
	case DOC_FAST:
		return 'F';
	case DOC_DISABLED:
		return 'D';
	case DOC_MUC:
		return 'R';
	case DOC_UPLOAD:
		return 'U';
	case DOC_ROLE:
		return 'L';
	case DOC_INVITE:
		return 'V';
	}
	return '\0';
}

/* the document's key in key; 0 with errno when it has none */
static size_t
doc_key(struct store *st, char *key, enum store_doc kind, const char *node,
    const char *domain, const char *name)
{
	char	tag = doc_tag(kind);
	size_t	plen;

	if (tag == '\0') {
		errno = EINVAL;
		return 0;
	}
	if ((plen = account_prefix(st, key, node, domain)) == 0) {
		errno = ENAMETOOLONG;
		return 0;
	}
	return tail_key(st, key, plen, tag, name != NULL ? name : "");
}

struct doc_get {
	char	**val;
	size_t	 *len;
};

static int
doc_read(const MDB_val *v, void *arg)
{
	struct doc_get	*dg = arg;

	*dg->val = xmalloc(v->mv_size + 1);
	memcpy(*dg->val, v->mv_data, v->mv_size);
	(*dg->val)[v->mv_size] = '\0';
	if (dg->len != NULL)
		*dg->len = v->mv_size;
	return 0;
}

/* deferred and batched writes are seen through their transaction */
int
store_doc_get(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, char **val, size_t *len)
{
	char		key[STORE_KEY_BUF];
	struct doc_get	dg = { val, len };
	MDB_val		k;

	if (st->pg != NULL)
		return pgs_doc_get(st->pg, kind, node, domain, name, val, len);
	*val = NULL;
	if (len != NULL)
		*len = 0;
	if ((k.mv_size = doc_key(st, key, kind, node, domain, name)) == 0) {
		if (errno == ENAMETOOLONG)
			errno = ENOENT;
		return -1;
	}
	k.mv_data = key;
	return store_get(st, st->docs, "doc get", &k, doc_read, &dg);
}

struct doc_write {
	MDB_val	k, v;		/* v.mv_data NULL: delete */
};

/* deleting a document that is not there is not an error */
static int
doc_write_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct doc_write	*dw = arg;
	int			 rc;

	if (dw->v.mv_data != NULL)
		return mdb_put(txn, st->docs, &dw->k, &dw->v, 0);
	if ((rc = mdb_del(txn, st->docs, &dw->k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	return rc;
}

static int
doc_write(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len,
    bool later)
{
	char			key[STORE_KEY_BUF];
	struct doc_write	dw;

	if ((dw.k.mv_size = doc_key(st, key, kind, node, domain,
	    name)) == 0)
		return val == NULL && errno == ENAMETOOLONG ? 0 : -1;
	dw.k.mv_data = key;
	dw.v.mv_data = (void *)val;
	dw.v.mv_size = len;
	return store_write(st, "doc put", doc_write_fn, &dw, later);
}

int
store_doc_put(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	if (st->pg != NULL)
		return pgs_doc_put(st->pg, kind, node, domain, name, val, len);
	return doc_write(st, kind, node, domain, name, val, len, false);
}

int
store_doc_put_later(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	if (st->pg != NULL)
		return pgs_doc_put_later(st->pg, kind, node, domain, name, val,
		    len);
	return doc_write(st, kind, node, domain, name, val, len, true);
}

int
store_doc_usage(struct store *st, enum store_doc kind, const char *node,
    const char *domain, struct store_usage *u)
{
	char	tag = doc_tag(kind);

	if (st->pg != NULL)
		return pgs_doc_usage(st->pg, kind, node, domain, u);
	if (tag == '\0') {
		errno = EINVAL;
		return -1;
	}
	return account_usage(st, st->docs, "doc usage", tag, node, domain, u);
}

struct doc_walk {
	size_t	  plen;
	char	  tag;
	int	(*fn)(const char *, size_t, void *);
	void	 *arg;
};

/* key: the domain's prefix, the node, NUL, the tag, the name */
static int
doc_walk_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct doc_walk	*dw = arg;
	const char	*p = (const char *)k->mv_data + dw->plen, *end;

	end = (const char *)k->mv_data + k->mv_size;
	p = memchr(p, '\0', (size_t)(end - p));
	if (p == NULL || p + 1 >= end || p[1] != dw->tag)
		return 0;
	return dw->fn(v->mv_data, v->mv_size, dw->arg);
}

int
store_doc_walk(struct store *st, enum store_doc kind, const char *domain,
    int (*fn)(const char *, size_t, void *), void *arg)
{
	struct doc_walk	dw = { strlen(domain) + 1, doc_tag(kind), fn, arg };
	char		key[STORE_KEY_BUF];

	if (st->pg != NULL)
		return pgs_doc_walk(st->pg, kind, domain, fn, arg);
	if (dw.tag == '\0' || dw.plen > st->acctmax) {
		errno = EINVAL;
		return -1;
	}
	memcpy(key, domain, dw.plen);
	return store_walk(st, st->docs, "doc walk", key, dw.plen,
	    doc_walk_one, &dw);
}

struct doc_walk_acct {
	const char	 *prefix;	/* account prefix and tag */
	size_t		  plen;
	const char	 *skip;		/* the key of `after`, not walked */
	size_t		  slen;
	size_t		  left;
	int		(*fn)(const char *, const char *, size_t, void *);
	void		 *arg;
};

static int
doc_walk_acct_one(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct doc_walk_acct	*dw = arg;
	char			 name[STORE_KEY_BUF];
	size_t			 n = k->mv_size - dw->plen;

	if (k->mv_size == dw->slen && memcmp(k->mv_data, dw->skip,
	    dw->slen) == 0)
		return 0;
	if (dw->left == 0)
		return 1;
	dw->left--;
	memcpy(name, (const char *)k->mv_data + dw->plen, n);
	name[n] = '\0';
	return dw->fn(name, v->mv_data, v->mv_size, dw->arg);
}

int
store_doc_walk_account(struct store *st, enum store_doc kind,
    const char *node, const char *domain, const char *after, size_t max,
    int (*fn)(const char *, const char *, size_t, void *), void *arg)
{
	char			 prefix[STORE_KEY_BUF], key[STORE_KEY_BUF];
	struct doc_walk_acct	 dw = { prefix, 0, NULL, 0, max, fn, arg };
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	size_t			 plen;
	int			 rc, op = MDB_SET_RANGE;

	if (st->pg != NULL)
		return pgs_doc_walk_account(st->pg, kind, node, domain, after,
		    max, fn, arg);
	if (doc_tag(kind) == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((plen = account_prefix(st, prefix, node, domain)) == 0)
		return 0;	/* an account that cannot be has none */
	prefix[plen++] = doc_tag(kind);
	dw.plen = plen;
	k.mv_data = prefix;
	k.mv_size = plen;
	if (after[0] != '\0') {
		if ((dw.slen = doc_key(st, key, kind, node, domain,
		    after)) == 0)
			return -1;
		dw.skip = key;
		k.mv_data = key;
		k.mv_size = dw.slen;
	}
	if ((rc = store_rtxn(st, &txn)) != 0) {
		errno = store_errno("doc walk", rc);
		return -1;
	}
	if ((rc = mdb_cursor_open(txn, st->docs, &cur)) == 0) {
		while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
			op = MDB_NEXT;
			if (!key_in(&k, prefix, plen) ||
			    doc_walk_acct_one(&k, &v, &dw) != 0)
				break;
		}
		mdb_cursor_close(cur);
	}
	store_rtxn_end(st, txn);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		errno = store_errno("doc walk", rc);
		return -1;
	}
	return 0;
}
