/*
 * Publish-subscribe (XEP-0060, XEP-0163) nodes and items over PostgreSQL
 * (storage/pg.h): the same contract as storage/store_pubsub.c, with
 * tables instead of key ranges (docs/internals.md, "Storage: PostgreSQL,
 * publish-subscribe and archive"). This file also holds the schema of
 * both (migration version 2): the archive's tables are pg_archive.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "pg_int.h"

/*
 * The owner's counters (pg_counter_next, kinds of the core's counters
 * table, as LMDB's meta tags): they are kept when nodes, items or the
 * account go, so an id is never given twice and a node made again under
 * an old name never meets the old one's items.
 */
#define PUBSUB_NODE_ID	"n"	/* the last node id given */
#define PUBSUB_SEQ	"p"	/* the last item sequence given */

/*
 * Owners are (domain, node), node '' for a service (pg_int.h). Text
 * columns sort in byte order (COLLATE "C"), as LMDB's keys do.
 */
const char *const pg_schema_rich[] = {
	"CREATE TABLE pubsub_nodes ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  name text COLLATE \"C\" NOT NULL,"
	"  nid int8 NOT NULL,"
	"  conf bytea NOT NULL,"	/* opaque: router/pubsub.c's */
	"  PRIMARY KEY (domain, node, name))",
	"CREATE TABLE pubsub_items ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  nid int8 NOT NULL,"
	"  id text COLLATE \"C\" NOT NULL,"
	"  seq int8 NOT NULL,"		/* publish order, per owner */
	"  publisher text COLLATE \"C\" NOT NULL,"
	"  xml bytea NOT NULL,"
	"  PRIMARY KEY (domain, node, nid, id))",
	/* a node's items in publish order: newest first, trimming, counts */
	"CREATE UNIQUE INDEX pubsub_items_seq"
	"  ON pubsub_items (domain, node, nid, seq)",
	/*
	 * The archive (pg_archive.c): the owner's last id and totals, the
	 * entries by id, and the index by correspondent.
	 */
	"CREATE TABLE archive_owners ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  last_id int8 NOT NULL,"
	"  count int8 NOT NULL,"
	"  bytes int8 NOT NULL,"
	"  PRIMARY KEY (domain, node))",
	"CREATE TABLE archive ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  id int8 NOT NULL,"
	"  nonce int8 NOT NULL,"	/* the u64's bits */
	"  stamp int8 NOT NULL,"
	"  with_jid text COLLATE \"C\" NOT NULL,"
	"  bytes int8 NOT NULL,"	/* what it counts against the limit */
	"  xml bytea NOT NULL,"
	"  PRIMARY KEY (domain, node, id))",
	"CREATE INDEX archive_with"
	"  ON archive (domain, node, with_jid, id)",
	NULL
};

/* as storage/store.c's owner_prefix: PG_ACCT_MAX */
bool
pg_owner_ok(const char *owner, const char *domain, const char **node)
{
	*node = owner != NULL ? owner : "";
	if (**node != '\0')
		return pg_acct_ok(*node, domain);
	return *domain != '\0' && strlen(domain) + 1 <= PG_ACCT_MAX;
}

/* a new copy of a text or bytea column, NUL-terminated */
static char *
col_dup(const PGresult *res, int row, int col, size_t *len)
{
	size_t	 n = (size_t)PQgetlength(res, row, col);
	char	*s = xmalloc(n + 1);

	memcpy(s, PQgetvalue(res, row, col), n);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

int
pgs_pubsub_node_get(struct pgstore *ps, const char *owner,
    const char *domain, const char *name, uint64_t *nid, char **conf,
    size_t *clen)
{
	struct pgq	 q;
	PGresult	*res;
	const char	*node;

	if (conf != NULL)
		*conf = NULL;
	if (!pg_owner_ok(owner, domain, &node)) {
		errno = ENOENT;
		return -1;
	}
	pgq_owner(&q, node, domain);
	pgq_text(&q, name);
	if ((res = pg_run(ps, "pubsub node get", "SELECT nid, conf"
	    " FROM pubsub_nodes WHERE domain = $1 AND node = $2"
	    " AND name = $3", &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	*nid = pg_u64(res, 0, 0);
	if (conf != NULL)
		*conf = col_dup(res, 0, 1, clen);
	PQclear(res);
	return 0;
}

struct node_put {
	const char	*node, *domain, *name;
	uint64_t	 nid;		/* in: 0 to create; out */
	const char	*conf;
	size_t		 clen, max;
};

static int
node_put_fn(struct pgstore *ps, void *arg)
{
	struct node_put	*np = arg;
	struct pgq	 q;
	PGresult	*res;
	bool		 exists;
	uint64_t	 n;

	if (np->nid == 0) {
		pgq_owner(&q, np->node, np->domain);
		pgq_text(&q, np->name);
		pgq_u64(&q, np->max);
		if ((res = pg_run(ps, "pubsub node put", "SELECT"
		    " EXISTS (SELECT 1 FROM pubsub_nodes WHERE domain = $1"
		    " AND node = $2 AND name = $3),"
		    " (SELECT count(*) FROM (SELECT 1 FROM pubsub_nodes"
		    " WHERE domain = $1 AND node = $2 LIMIT $4) AS n)",
		    &q)) == NULL)
			return -1;
		exists = *PQgetvalue(res, 0, 0) != 0;
		n = pg_u64(res, 0, 1);
		PQclear(res);
		if (exists) {
			errno = EEXIST;
			return -1;
		}
		if (n >= np->max) {
			errno = EDQUOT;
			return -1;
		}
		if (pg_counter_next(ps, "pubsub node put", np->node,
		    np->domain, PUBSUB_NODE_ID, &np->nid) == -1)
			return -1;
	}
	/* as LMDB's put at the name: a given id replaces the record */
	pgq_owner(&q, np->node, np->domain);
	pgq_text(&q, np->name);
	pgq_u64(&q, np->nid);
	pgq_bytes(&q, np->conf, np->clen);
	return pg_cmd(ps, "pubsub node put", "INSERT INTO pubsub_nodes"
	    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain, node, name)"
	    " DO UPDATE SET nid = EXCLUDED.nid, conf = EXCLUDED.conf", &q);
}

int
pgs_pubsub_node_put(struct pgstore *ps, const char *owner,
    const char *domain, const char *name, uint64_t *nid, const char *conf,
    size_t clen, size_t max)
{
	struct node_put	np;

	if (!pg_owner_ok(owner, domain, &np.node) || *name == '\0') {
		errno = ENAMETOOLONG;
		return -1;
	}
	np.domain = domain;
	np.name = name;
	np.nid = *nid;
	np.conf = conf != NULL ? conf : "";
	np.clen = conf != NULL ? clen : 0;
	np.max = max;
	if (pg_write(ps, "pubsub node put", node_put_fn, &np, false) == -1)
		return -1;
	*nid = np.nid;
	return 0;
}

struct node_ref {
	const char	*node, *domain, *name;
	uint64_t	 nid;
};

/* every item of node nid (or of every node with nid 0) */
static int
items_del(struct pgstore *ps, const char *op, const struct node_ref *nr)
{
	struct pgq	q;

	pgq_owner(&q, nr->node, nr->domain);
	if (nr->nid == 0)
		return pg_cmd(ps, op, "DELETE FROM pubsub_items"
		    " WHERE domain = $1 AND node = $2", &q);
	pgq_u64(&q, nr->nid);
	return pg_cmd(ps, op, "DELETE FROM pubsub_items"
	    " WHERE domain = $1 AND node = $2 AND nid = $3", &q);
}

static int
node_del_fn(struct pgstore *ps, void *arg)
{
	struct node_ref	*nr = arg;
	struct pgq	 q;
	PGresult	*res;

	pgq_owner(&q, nr->node, nr->domain);
	pgq_text(&q, nr->name);
	if ((res = pg_run(ps, "pubsub node del", "DELETE FROM pubsub_nodes"
	    " WHERE domain = $1 AND node = $2 AND name = $3 RETURNING nid",
	    &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	nr->nid = pg_u64(res, 0, 0);
	PQclear(res);
	/* a node id is never 0; should one be, it is not "all" here */
	return nr->nid == 0 ? 0 : items_del(ps, "pubsub node del", nr);
}

int
pgs_pubsub_node_del(struct pgstore *ps, const char *owner,
    const char *domain, const char *name)
{
	struct node_ref	nr = { NULL, domain, name, 0 };

	if (!pg_owner_ok(owner, domain, &nr.node)) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(ps, "pubsub node del", node_del_fn, &nr, false);
}

int
pgs_pubsub_node_list(struct pgstore *ps, const char *owner,
    const char *domain,
    int (*fn)(const char *name, uint64_t nid, const char *conf,
    size_t clen, void *arg), void *arg)
{
	struct pgq	 q;
	PGresult	*res;
	const char	*node;
	int		 i;

	if (!pg_owner_ok(owner, domain, &node))
		return 0;
	pgq_owner(&q, node, domain);
	if ((res = pg_run(ps, "pubsub node list", "SELECT name, nid, conf"
	    " FROM pubsub_nodes WHERE domain = $1 AND node = $2"
	    " ORDER BY name", &q)) == NULL)
		return -1;
	/* a bytea value is NUL-terminated too (pg_int.h) */
	for (i = 0; i < PQntuples(res); i++)
		if (fn(PQgetvalue(res, i, 0), pg_u64(res, i, 1),
		    PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2),
		    arg) != 0)
			break;
	PQclear(res);
	return 0;
}

struct item_put {
	const char			*node, *domain;
	uint64_t			 nid;
	const struct pubsub_item	*it;
	size_t				 max;
};

/*
 * The owner's sequence raised and the item written in one statement,
 * the trim in a second sent with it: one round trip (pg_run_n).
 */
static int
item_put_fn(struct pgstore *ps, void *arg)
{
	struct item_put		*ip = arg;
	struct pgq		 q[2];
	const struct pgq	*qs[2] = { &q[0], &q[1] };
	const char		*sql[2];
	PGresult		*res[2];

	/* a publish with an existing id replaces it and becomes newest */
	pgq_owner(&q[0], ip->node, ip->domain);
	pgq_u64(&q[0], ip->nid);
	pgq_text(&q[0], ip->it->id);
	pgq_text(&q[0], ip->it->publisher != NULL ? ip->it->publisher : "");
	pgq_bytes(&q[0], ip->it->xml != NULL ? ip->it->xml : "",
	    ip->it->len);
	sql[0] = "WITH c AS (INSERT INTO counters AS c"
	    " (domain, node, kind, val) VALUES ($1, $2, '" PUBSUB_SEQ "', 1)"
	    " ON CONFLICT (domain, node, kind) DO UPDATE SET val = c.val + 1"
	    " RETURNING val)"
	    " INSERT INTO pubsub_items SELECT $1, $2, $3::int8, $4::text,"
	    " val, $5::text, $6::bytea FROM c"
	    " ON CONFLICT (domain, node, nid, id) DO UPDATE"
	    " SET seq = EXCLUDED.seq, publisher = EXCLUDED.publisher,"
	    " xml = EXCLUDED.xml";
	/* the oldest items past max go: XEP-0060 12.x, max_items */
	pgq_owner(&q[1], ip->node, ip->domain);
	pgq_u64(&q[1], ip->nid);
	pgq_u64(&q[1], ip->max);
	sql[1] = "DELETE FROM pubsub_items"
	    " WHERE domain = $1 AND node = $2 AND nid = $3 AND seq <="
	    " (SELECT seq FROM pubsub_items WHERE domain = $1 AND node = $2"
	    " AND nid = $3 ORDER BY seq DESC OFFSET $4 LIMIT 1)";
	if (pg_run_n(ps, "pubsub item put", 2, sql, qs, res) == -1)
		return -1;
	PQclear(res[0]);
	PQclear(res[1]);
	return 0;
}

int
pgs_pubsub_item_put(struct pgstore *ps, const char *owner,
    const char *domain, uint64_t nid, const struct pubsub_item *it,
    size_t max)
{
	struct item_put	ip;

	if (!pg_owner_ok(owner, domain, &ip.node)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (it->id == NULL || *it->id == '\0') {
		errno = EINVAL;
		return -1;
	}
	ip.domain = domain;
	ip.nid = nid;
	ip.it = it;
	ip.max = max > 0 ? max : 1;
	/* one commit for the publishes of a loop iteration (store.h) */
	return pg_write(ps, "pubsub item put", item_put_fn, &ip, true);
}

/* row's columns seq, id, publisher, xml as an item (new strings) */
static void
item_row(const PGresult *res, int row, struct pubsub_item *it)
{
	it->seq = pg_u64(res, row, 0);
	it->id = col_dup(res, row, 1, NULL);
	it->publisher = col_dup(res, row, 2, NULL);
	it->xml = col_dup(res, row, 3, &it->len);
}

int
pgs_pubsub_item_get(struct pgstore *ps, const char *owner,
    const char *domain, uint64_t nid, const char *id,
    struct pubsub_item *out)
{
	struct pgq	 q;
	PGresult	*res;
	const char	*node;

	memset(out, 0, sizeof(*out));
	if (!pg_owner_ok(owner, domain, &node)) {
		errno = ENOENT;
		return -1;
	}
	pgq_owner(&q, node, domain);
	pgq_u64(&q, nid);
	pgq_text(&q, id);
	if ((res = pg_run(ps, "pubsub item get", "SELECT seq, id, publisher,"
	    " xml FROM pubsub_items WHERE domain = $1 AND node = $2"
	    " AND nid = $3 AND id = $4", &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		errno = ENOENT;
		return -1;
	}
	item_row(res, 0, out);
	PQclear(res);
	return 0;
}

struct item_del {
	const char	*node, *domain, *id;
	uint64_t	 nid;
};

static int
item_del_fn(struct pgstore *ps, void *arg)
{
	struct item_del	*d = arg;
	struct pgq	 q;

	pgq_owner(&q, d->node, d->domain);
	pgq_u64(&q, d->nid);
	pgq_text(&q, d->id);
	return pg_cmd_one(ps, "pubsub item del", "DELETE FROM pubsub_items"
	    " WHERE domain = $1 AND node = $2 AND nid = $3 AND id = $4", &q);
}

int
pgs_pubsub_item_del(struct pgstore *ps, const char *owner,
    const char *domain, uint64_t nid, const char *id)
{
	struct item_del	d = { NULL, domain, id, nid };

	if (!pg_owner_ok(owner, domain, &d.node)) {
		errno = ENOENT;
		return -1;
	}
	return pg_write(ps, "pubsub item del", item_del_fn, &d, false);
}

/* newest first, at most max (0: all: LIMIT NULL) */
int
pgs_pubsub_items(struct pgstore *ps, const char *owner, const char *domain,
    uint64_t nid, size_t max,
    int (*fn)(const struct pubsub_item *, void *arg), void *arg)
{
	struct pubsub_item	 it;
	struct pgq		 q;
	PGresult		*res;
	const char		*node;
	int			 i, stop = 0;

	if (!pg_owner_ok(owner, domain, &node))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_u64(&q, nid);
	if (max > 0)
		pgq_u64(&q, max);
	else
		pgq_text(&q, NULL);
	if ((res = pg_run(ps, "pubsub items", "SELECT seq, id, publisher, xml"
	    " FROM pubsub_items WHERE domain = $1 AND node = $2 AND nid = $3"
	    " ORDER BY seq DESC LIMIT $4", &q)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res) && stop == 0; i++) {
		item_row(res, i, &it);
		stop = fn(&it, arg);
		pubsub_item_clear(&it);
	}
	PQclear(res);
	return 0;
}

int
pgs_pubsub_item_count(struct pgstore *ps, const char *owner,
    const char *domain, uint64_t nid, size_t *n)
{
	struct pgq	 q;
	PGresult	*res;
	const char	*node;

	*n = 0;
	if (!pg_owner_ok(owner, domain, &node))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_u64(&q, nid);
	if ((res = pg_run(ps, "pubsub count", "SELECT count(*)"
	    " FROM pubsub_items WHERE domain = $1 AND node = $2"
	    " AND nid = $3", &q)) == NULL)
		return -1;
	*n = (size_t)pg_u64(res, 0, 0);
	PQclear(res);
	return 0;
}

static int
purge_fn(struct pgstore *ps, void *arg)
{
	return items_del(ps, "pubsub purge", arg);
}

int
pgs_pubsub_purge(struct pgstore *ps, const char *owner, const char *domain,
    uint64_t nid)
{
	struct node_ref	nr = { NULL, domain, NULL, nid };

	if (!pg_owner_ok(owner, domain, &nr.node) || nid == 0)
		return 0;
	return pg_write(ps, "pubsub purge", purge_fn, &nr, false);
}

/* the owner's nodes and items; its counters stay (ids are not reused) */
static int
owner_del_fn(struct pgstore *ps, void *arg)
{
	struct node_ref	*nr = arg;
	struct pgq	 q;

	pgq_owner(&q, nr->node, nr->domain);
	if (pg_cmd(ps, "pubsub owner del", "DELETE FROM pubsub_nodes"
	    " WHERE domain = $1 AND node = $2", &q) == -1)
		return -1;
	return items_del(ps, "pubsub owner del", nr);
}

int
pgs_pubsub_owner_del(struct pgstore *ps, const char *owner,
    const char *domain)
{
	struct node_ref	nr = { NULL, domain, NULL, 0 };

	if (!pg_owner_ok(owner, domain, &nr.node))
		return 0;
	return pg_write(ps, "pubsub owner del", owner_del_fn, &nr, false);
}
