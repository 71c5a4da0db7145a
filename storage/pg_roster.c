/*
 * Roster items over PostgreSQL (RFC 6121 2, 3): a row per (account,
 * contact), the item in storage/store_codec.c's record, and the roster
 * version (XEP-0237) in counters (kind 'r'), raised by every put and
 * delete in the same transaction and kept when the account goes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "pg_int.h"
#include "store_codec.h"

#define ROSTER_VER	"r"

/* one row's item; -1 (logged) when the record is not one for contact */
static int
roster_decode(const PGresult *res, int row, const char *node,
    const char *domain, struct roster_item *out)
{
	const char	*contact = PQgetvalue(res, row, 0);

	if (rec_roster_decode(PQgetvalue(res, row, 1),
	    (size_t)PQgetlength(res, row, 1), out) == 0 &&
	    strcmp(out->jid, contact) == 0)
		return 0;
	log_warnx("store: roster %s@%s: item %s: corrupt record (%d bytes)",
	    log_escs(node), log_escs(domain), log_escs(contact),
	    PQgetlength(res, row, 1));
	roster_item_clear(out);
	return -1;
}

int
pgs_roster_get(struct pgstore *pg, const char *node, const char *domain,
    const char *contact, struct roster_item *out)
{
	PGresult	*res;
	struct pgq	 q;
	int		 rc = 0;

	memset(out, 0, sizeof(*out));
	if (!pg_acct_ok(node, domain) || *contact == '\0') {
		errno = ENOENT;
		return -1;
	}
	pgq_owner(&q, node, domain);
	pgq_text(&q, contact);
	if ((res = pg_run(pg, "roster get", "SELECT contact, item "
	    "FROM roster WHERE domain = $1 AND node = $2 AND contact = $3",
	    &q)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		errno = ENOENT;
		rc = -1;
	} else if (roster_decode(res, 0, node, domain, out) == -1) {
		errno = EIO;
		rc = -1;
	}
	pg_clear(res);
	return rc;
}

struct roster_write {
	const char	*node, *domain, *contact;
	uint8_t		*rec;		/* NULL: delete */
	size_t		 len;
	uint64_t	 ver;		/* out: the version written */
};

static int
roster_write_fn(struct pgstore *pg, void *arg)
{
	struct roster_write	*rw = arg;
	struct pgq		 q;

	pgq_owner(&q, rw->node, rw->domain);
	pgq_text(&q, rw->contact);
	if (rw->rec == NULL && pg_cmd_one(pg, "roster del", "DELETE FROM "
	    "roster WHERE domain = $1 AND node = $2 AND contact = $3",
	    &q) == -1)
		return -1;
	if (pg_counter_next(pg, "roster version", rw->node, rw->domain,
	    ROSTER_VER, &rw->ver) == -1)
		return -1;
	if (rw->rec == NULL)
		return 0;
	/* the record carries the version this very write creates */
	rec_put_u64(rw->rec + ROSTER_REC_VER_OFF, rw->ver);
	pgq_bytes(&q, rw->rec, rw->len);
	return pg_cmd(pg, "roster put", "INSERT INTO roster "
	    "(domain, node, contact, item) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (domain, node, contact) DO UPDATE "
	    "SET item = EXCLUDED.item", &q);
}

int
pgs_roster_put(struct pgstore *pg, const char *node, const char *domain,
    struct roster_item *item, uint64_t *ver)
{
	struct roster_write	rw;
	int			rc, err;

	memset(&rw, 0, sizeof(rw));
	if (!pg_acct_ok(node, domain)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (item->jid == NULL || *item->jid == '\0' ||
	    (rw.rec = rec_roster_encode(item, &rw.len)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	rw.node = node;
	rw.domain = domain;
	rw.contact = item->jid;
	rc = pg_write(pg, "roster put", roster_write_fn, &rw, false);
	err = errno;
	free(rw.rec);
	if (rc == -1) {
		errno = err;
		return -1;
	}
	item->ver = rw.ver;
	if (ver != NULL)
		*ver = rw.ver;
	return 0;
}

int
pgs_roster_del(struct pgstore *pg, const char *node, const char *domain,
    const char *contact, uint64_t *ver)
{
	struct roster_write	rw;

	memset(&rw, 0, sizeof(rw));
	if (!pg_acct_ok(node, domain) || *contact == '\0') {
		errno = ENOENT;
		return -1;
	}
	rw.node = node;
	rw.domain = domain;
	rw.contact = contact;
	if (pg_write(pg, "roster del", roster_write_fn, &rw, false) == -1)
		return -1;
	if (ver != NULL)
		*ver = rw.ver;
	return 0;
}

struct roster_list {
	const char	  *node, *domain;
	int		 (*fn)(const struct roster_item *, void *);
	void		  *arg;
};

/*
 * A corrupt record is logged and skipped, as store_roster.c does: the
 * user keeps the rest of the roster.
 */
static int
roster_list_row(const PGresult *res, int row, void *arg)
{
	struct roster_list	*rl = arg;
	struct roster_item	 it;
	int			 stop;

	if (roster_decode(res, row, rl->node, rl->domain, &it) == -1)
		return 0;
	stop = rl->fn(&it, rl->arg);
	roster_item_clear(&it);
	return stop;
}

/* no contact is "": the first page starts after it */
int
pgs_roster_list(struct pgstore *pg, const char *node, const char *domain,
    int (*fn)(const struct roster_item *, void *), void *arg)
{
	struct roster_list	rl = { node, domain, fn, arg };
	struct pgq		q;

	if (!pg_acct_ok(node, domain))
		return 0;	/* could never have been stored */
	pgq_owner(&q, node, domain);
	pgq_text(&q, "");
	return pg_list(pg, "roster list", "SELECT contact, item FROM roster "
	    "WHERE domain = $1 AND node = $2 AND contact > $3 "
	    "ORDER BY contact LIMIT $4", &q, 1, roster_list_row, &rl);
}

int
pgs_roster_version(struct pgstore *pg, const char *node, const char *domain,
    uint64_t *ver)
{
	PGresult	*res;
	struct pgq	 q;

	*ver = 0;
	if (!pg_acct_ok(node, domain))
		return 0;
	pgq_owner(&q, node, domain);
	pgq_text(&q, ROSTER_VER);
	if ((res = pg_run(pg, "roster version", "SELECT val FROM counters "
	    "WHERE domain = $1 AND node = $2 AND kind = $3", &q)) == NULL)
		return -1;
	if (PQntuples(res) > 0)
		*ver = pg_u64(res, 0, 0);
	PQclear(res);
	return 0;
}

int
pgs_roster_count(struct pgstore *pg, const char *node, const char *domain,
    size_t *n)
{
	return pg_owner_count(pg, "roster count", "roster", node, domain, n);
}
