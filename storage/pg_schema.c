/*
 * The PostgreSQL schema and its migrations (docs/internals.md, "Storage:
 * PostgreSQL"). parley_schema holds the version reached; each migration
 * runs in its own transaction under an advisory lock, so a router and a
 * parleyctl opening a new database at once apply it once. A database
 * newer than this binary is refused: its meaning is unknown here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "pg_int.h"

/* pg_advisory_xact_lock's key: "parley" in ASCII */
#define PG_SCHEMA_LOCK		"112568566260857"

/*
 * Version 1, the core records. Names compare as bytes (COLLATE "C", as
 * LMDB orders its keys), so every listing is in the order store.h gives.
 * An owner is (domain, node), store.h's prefix "domain\0node\0".
 * Records whose layout store_codec.c defines (credentials, roster items)
 * are kept in that layout as bytea: one encoder for both backends.
 */
const char *const pg_schema_core[] = {
	"CREATE TABLE accounts ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  creds bytea NOT NULL,"
	"  PRIMARY KEY (domain, node))",
	/*
	 * Per-owner counters, kept when the account goes (as LMDB's meta):
	 * 'r' the roster version (XEP-0237: never reused), 'o' the next
	 * offline sequence; the archive and publish-subscribe may add
	 * their own kinds.
	 */
	"CREATE TABLE counters ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  kind text COLLATE \"C\" NOT NULL,"
	"  val bigint NOT NULL,"
	"  PRIMARY KEY (domain, node, kind))",
	"CREATE TABLE roster ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  contact text COLLATE \"C\" NOT NULL,"
	"  item bytea NOT NULL,"
	"  PRIMARY KEY (domain, node, contact))",
	"CREATE TABLE offline ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  seq bigint NOT NULL,"
	"  stanza bytea NOT NULL,"
	"  PRIMARY KEY (domain, node, seq))",
	/* kind: storage/pg_doc.c's names (vcard, private...) */
	"CREATE TABLE docs ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  kind text COLLATE \"C\" NOT NULL,"
	"  name text COLLATE \"C\" NOT NULL,"
	"  val bytea NOT NULL,"
	"  PRIMARY KEY (domain, node, kind, name))",
	/* a domain's documents of one kind (a group chat service's rooms) */
	"CREATE INDEX docs_kind ON docs (domain, kind, node, name)",
	"CREATE TABLE blocks ("
	"  domain text COLLATE \"C\" NOT NULL,"
	"  node text COLLATE \"C\" NOT NULL,"
	"  jid text COLLATE \"C\" NOT NULL,"
	"  PRIMARY KEY (domain, node, jid))",
	NULL
};

static const struct pg_migration	migrations[] = {
	{ 1, pg_schema_core },
	{ 2, pg_schema_rich },
};

/* the version recorded, in the open transaction; -1 on failure */
static int
schema_version(struct pgstore *pg, int *ver)
{
	PGresult	*res;

	if (pg_cmd(pg, "schema", "CREATE TABLE IF NOT EXISTS parley_schema "
	    "(version integer NOT NULL)", NULL) == -1)
		return -1;
	if ((res = pg_run(pg, "schema", "SELECT version FROM parley_schema",
	    NULL)) == NULL)
		return -1;
	*ver = PQntuples(res) > 0 ? (int)pg_u64(res, 0, 0) : 0;
	PQclear(res);
	if (*ver == 0)
		return pg_cmd(pg, "schema",
		    "INSERT INTO parley_schema VALUES (0)", NULL);
	return 0;
}

struct migrate {
	const struct pg_migration	*m;
	int				 from;	/* out */
	char				*errbuf;
	size_t				 errlen;
};

static int
migrate_fn(struct pgstore *pg, void *arg)
{
	struct migrate	*mg = arg;
	struct pgq	 q;
	size_t		 i;

	/* the lock holds until this transaction ends */
	if (pg_cmd(pg, "schema", "SELECT pg_advisory_xact_lock("
	    PG_SCHEMA_LOCK ")", NULL) == -1 ||
	    schema_version(pg, &mg->from) == -1)
		return -1;
	if (mg->from > migrations[nitems(migrations) - 1].version) {
		snprintf(mg->errbuf, mg->errlen, "PostgreSQL: the database's "
		    "schema is version %d, newer than this Parley knows "
		    "(%d): run the Parley that upgraded it, or a later one",
		    mg->from, migrations[nitems(migrations) - 1].version);
		errno = EPROTO;
		return -1;
	}
	if (mg->from >= mg->m->version)
		return 0;	/* applied already, perhaps just now */
	for (i = 0; mg->m->stmts[i] != NULL; i++)
		if (pg_cmd(pg, "schema", mg->m->stmts[i], NULL) == -1)
			return -1;
	pgq_init(&q);
	pgq_u64(&q, (uint64_t)mg->m->version);
	return pg_cmd(pg, "schema", "UPDATE parley_schema SET version = $1",
	    &q);
}

int
pg_schema_upgrade(struct pgstore *pg, char *errbuf, size_t errlen)
{
	struct migrate	mg;
	size_t		i;

	for (i = 0; i < nitems(migrations); i++) {
		mg.m = &migrations[i];
		mg.errbuf = errbuf;
		mg.errlen = errlen;
		errbuf[0] = '\0';
		if (pg_write(pg, "schema", migrate_fn, &mg, false) == -1) {
			if (errbuf[0] == '\0')
				snprintf(errbuf, errlen, "PostgreSQL: the "
				    "schema could not be brought to version "
				    "%d (logged)", mg.m->version);
			return -1;
		}
		if (mg.from < mg.m->version)
			log_info("store: PostgreSQL schema: version %d",
			    mg.m->version);
	}
	return 0;
}
