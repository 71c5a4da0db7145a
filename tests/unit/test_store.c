/*
 * Unit tests for storage/store.c against a real LMDB environment in a
 * fresh temporary directory: accounts, roster, offline messages, documents
 * and the block list; the errno contract, corrupt records (some written
 * straight into LMDB), a full map, range isolation and persistence.
 * With PARLEY_TEST_PG set to a libpq conninfo (tests/lib/pgserver.py,
 * make pg), the same tests run against PostgreSQL (storage/pg*.c), each
 * in a database of its own; the LMDB-only ones skip, saying why.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <lmdb.h>

#include "../../common/log.h"
#include "../../common/util.h"
#include "../../storage/store.h"
#include "../../storage/store_int.h"
#include "../../storage/pg_int.h"
#include "../../storage/store_retain.h"
#include "unit.h"

#define MAPSIZE		(1u << 20)
#define MARKER		"MARKER-SALT-0001"	/* 16 bytes: SCRAM_SALT_LEN */

struct fixture {
	char		 dir[64];
	struct store	*st;
	char		 db[64];	/* PostgreSQL: the test's database */
	char		 schema[16];	/* ... and schema */
	char		 conninfo[600];
};

/*
 * PARLEY_TEST_PG: the server's conninfo, NULL for LMDB. Each test gets a
 * schema of its own in one database (pg_db), its conninfo's search_path:
 * a schema is made and dropped in milliseconds, a database not.
 */
static const char	*pg_base;
static char		 pg_db[64], pg_dbinfo[512];
static int		 pg_serial;

#define LMDB_ONLY(why)	do {						\
	if (pg_base != NULL) {						\
		print_message("    skipped on PostgreSQL: %s\n", why);	\
		skip();							\
	}								\
} while (0)
#define PG_ONLY()	do {						\
	if (pg_base == NULL)						\
		skip();							\
} while (0)

static void
pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* one statement on the server of PARLEY_TEST_PG (conninfo NULL) or db */
static void
pg_admin(const char *conninfo, const char *sql)
{
	PGconn		*c;
	PGresult	*res;

	c = PQconnectdb(conninfo != NULL ? conninfo : pg_base);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("PostgreSQL: %s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

/* the database of this run's schemas: made (make) or dropped */
static void
pg_unit_db(bool make)
{
	char	sql[128];

	snprintf(pg_db, sizeof(pg_db), "parley_unit_%d", (int)getpid());
	snprintf(pg_dbinfo, sizeof(pg_dbinfo), "%s dbname=%s", pg_base, pg_db);
	snprintf(sql, sizeof(sql), make ? "CREATE DATABASE %s TEMPLATE "
	    "template0" : "DROP DATABASE %s WITH (FORCE)", pg_db);
	pg_admin(NULL, sql);
}

static struct store *
fixture_open(struct fixture *f, size_t mapsize, char *err, size_t errlen)
{
	if (pg_base != NULL)
		return store_open_pg(f->conninfo, err, errlen);
	return store_open(f->dir, mapsize, err, errlen);
}

/* the write transactions the store committed */
static uint64_t
commits(const struct fixture *f)
{
	return f->st->pg != NULL ? f->st->pg->commits : f->st->commits;
}

static int
setup(void **state)
{
	struct fixture	*f;
	char		 err[256];

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	if (pg_base != NULL) {
		snprintf(f->db, sizeof(f->db), "%s", pg_db);
		snprintf(f->schema, sizeof(f->schema), "t%d", ++pg_serial);
		snprintf(err, sizeof(err), "CREATE SCHEMA %s", f->schema);
		pg_admin(pg_dbinfo, err);
		snprintf(f->conninfo, sizeof(f->conninfo), "%s "
		    "options='-c search_path=%s'", pg_dbinfo, f->schema);
	}
	f->st = fixture_open(f, MAPSIZE, err, sizeof(err));
	if (f->st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 sql[128];

	store_close(f->st);
	unit_rmtree(f->dir);
	if (pg_base != NULL) {
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE",
		    f->schema);
		pg_admin(pg_dbinfo, sql);
	}
	free(f);
	return 0;
}

static void
reopen(struct fixture *f, size_t mapsize)
{
	char	err[256];

	store_close(f->st);
	f->st = fixture_open(f, mapsize, err, sizeof(err));
	assert_non_null(f->st);
}

static void
test_add_get_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 in, out;

	unit_creds(&in, 1);
	assert_int_equal(store_account_add(f->st, "alice", "localhost", &in),
	    0);
	memset(&out, 0xaa, sizeof(out));
	assert_int_equal(store_account_get(f->st, "alice", "localhost", &out),
	    0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_add_existing_is_eexist(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 a, b, out;

	unit_creds(&a, 1);
	unit_creds(&b, 2);
	assert_int_equal(store_account_add(f->st, "alice", "localhost", &a),
	    0);
	errno = 0;
	assert_int_equal(store_account_add(f->st, "alice", "localhost", &b),
	    -1);
	assert_int_equal(errno, EEXIST);
	/* the failed add left the first credentials alone */
	assert_int_equal(store_account_get(f->st, "alice", "localhost", &out),
	    0);
	assert_memory_equal(&a, &out, sizeof(a));
}

static void
test_missing_is_enoent(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	unit_creds(&c, 3);
	errno = 0;
	assert_int_equal(store_account_get(f->st, "bob", "localhost", &c), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(store_account_set(f->st, "bob", "localhost", &c), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(store_account_del(f->st, "bob", "localhost"), -1);
	assert_int_equal(errno, ENOENT);
	/* set must not have created it */
	errno = 0;
	assert_int_equal(store_account_get(f->st, "bob", "localhost", &c), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_set_replaces(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 a, b, out;

	unit_creds(&a, 4);
	unit_creds(&b, 5);
	assert_int_equal(store_account_add(f->st, "carol", "example.org", &a),
	    0);
	assert_int_equal(store_account_set(f->st, "carol", "example.org", &b),
	    0);
	assert_int_equal(store_account_get(f->st, "carol", "example.org",
	    &out), 0);
	assert_memory_equal(&b, &out, sizeof(b));
}

static void
test_del(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c, out;

	unit_creds(&c, 6);
	assert_int_equal(store_account_add(f->st, "dave", "localhost", &c), 0);
	assert_int_equal(store_account_add(f->st, "erin", "localhost", &c), 0);
	assert_int_equal(store_account_del(f->st, "dave", "localhost"), 0);
	errno = 0;
	assert_int_equal(store_account_get(f->st, "dave", "localhost", &out),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_account_get(f->st, "erin", "localhost", &out),
	    0);
	/* the name is free again */
	assert_int_equal(store_account_add(f->st, "dave", "localhost", &c), 0);
}

static void
test_same_node_other_domain(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 a, b, out;

	unit_creds(&a, 7);
	unit_creds(&b, 8);
	assert_int_equal(store_account_add(f->st, "alice", "a.example", &a),
	    0);
	assert_int_equal(store_account_add(f->st, "alice", "b.example", &b),
	    0);
	assert_int_equal(store_account_get(f->st, "alice", "b.example", &out),
	    0);
	assert_memory_equal(&b, &out, sizeof(b));
	assert_int_equal(store_account_get(f->st, "alice", "a.example", &out),
	    0);
	assert_memory_equal(&a, &out, sizeof(a));
}

/* store_account_upgrade with with's SHA-256 set: rc, then want stored */
static void
upgrade_check(struct fixture *f, const char *node,
    const struct scram_creds *with, int rc, const struct scram_creds *want)
{
	struct scram_creds	out;

	assert_int_equal(store_account_upgrade(f->st, node, "localhost",
	    SCRAM_SHA256, &with->h[SCRAM_SHA256]), rc);
	assert_int_equal(store_account_get(f->st, node, "localhost", &out),
	    0);
	assert_memory_equal(&out, want, sizeof(out));
}

/* XEP-0480: SHA-256 added to a SHA-1-only account, never replaced */
static void
test_upgrade_adds_sha256(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 a, b, c, want;

	unit_creds(&a, 6);
	memset(&a.h[SCRAM_SHA256], 0, sizeof(a.h[SCRAM_SHA256]));
	unit_creds(&b, 7);
	unit_creds(&c, 8);
	want = a;
	want.h[SCRAM_SHA256] = b.h[SCRAM_SHA256];
	assert_int_equal(store_account_add(f->st, "dave", "localhost", &a),
	    0);
	upgrade_check(f, "dave", &b, 1, &want);
	/* a second one changes nothing, nor one for an account with both */
	upgrade_check(f, "dave", &c, 0, &want);
	assert_int_equal(store_account_add(f->st, "erin", "localhost", &b),
	    0);
	upgrade_check(f, "erin", &c, 0, &b);
	errno = 0;
	assert_int_equal(store_account_upgrade(f->st, "nobody", "localhost",
	    SCRAM_SHA256, &c.h[SCRAM_SHA256]), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_invalid_creds_rejected(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	unit_creds(&c, 9);
	c.h[SCRAM_SHA256].iter = 0;
	errno = 0;
	assert_int_equal(store_account_add(f->st, "x", "localhost", &c), -1);
	assert_int_equal(errno, EINVAL);
	unit_creds(&c, 9);
	c.h[SCRAM_SHA1].saltlen = SCRAM_SALT_MAX + 1;
	errno = 0;
	assert_int_equal(store_account_add(f->st, "x", "localhost", &c), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_key_too_long(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;
	char			 node[1024];

	unit_creds(&c, 10);
	memset(node, 'n', sizeof(node) - 1);
	node[sizeof(node) - 1] = '\0';
	errno = 0;
	assert_int_equal(store_account_add(f->st, node, "localhost", &c), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_int_equal(store_account_get(f->st, node, "localhost", &c), -1);
	assert_int_equal(errno, ENOENT);
}

struct collect {
	char	out[512];
	int	n;
	int	stop_after;	/* 0: never */
};

static int
collect_cb(const char *node, const char *domain, void *arg)
{
	struct collect	*c = arg;
	size_t		 len = strlen(c->out);

	snprintf(c->out + len, sizeof(c->out) - len, "%s@%s\n", node, domain);
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
add_accounts(struct store *st, const char *const *jids, size_t n)
{
	struct scram_creds	 c;
	char			 buf[128], *at;
	size_t			 i;

	unit_creds(&c, 11);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s", jids[i]);
		at = strchr(buf, '@');
		assert_non_null(at);
		*at = '\0';
		assert_int_equal(store_account_add(st, buf, at + 1, &c), 0);
	}
}

static void
test_list_domain_and_all(void **state)
{
	static const char *const jids[] = {
		/* "x.org" is a prefix of "x.orga": the scan must stop */
		"zed@x.org", "amy@x.org", "bob@x.orga", "cat@w.org",
		"dan@x.or",
	};
	struct fixture	*f = *state;
	struct collect	 c;

	add_accounts(f->st, jids, nitems(jids));
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, "x.org", collect_cb, &c),
	    0);
	assert_string_equal(c.out, "amy@x.org\nzed@x.org\n");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, "x.or", collect_cb, &c), 0);
	assert_string_equal(c.out, "dan@x.or\n");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, NULL, collect_cb, &c), 0);
	assert_string_equal(c.out, "cat@w.org\ndan@x.or\namy@x.org\n"
	    "zed@x.org\nbob@x.orga\n");

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_account_list(f->st, "nowhere.example",
	    collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
}

static void
test_list_stops_when_asked(void **state)
{
	static const char *const jids[] = {
		"a@d.example", "b@d.example", "c@d.example",
	};
	struct fixture	*f = *state;
	struct collect	 c;

	add_accounts(f->st, jids, nitems(jids));
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(store_account_list(f->st, "d.example", collect_cb,
	    &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.out, "a@d.example\nb@d.example\n");
}

/*
 * Damages the stored record in data.mdb directly: LMDB keeps small values
 * inline in leaf pages, so the salt marker locates the record (version
 * byte 6 bytes before the SHA-1 salt, saltlen 1 byte before it).
 */
static int
patch_record(const char *dir, int off, uint8_t val)
{
	char		 path[128];
	char		*data, *p;
	struct stat	 sb;
	int		 fd, hits = 0;
	size_t		 left;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	fd = open(path, O_RDWR);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &sb), 0);
	data = malloc((size_t)sb.st_size);
	assert_non_null(data);
	assert_int_equal(pread(fd, data, (size_t)sb.st_size, 0), sb.st_size);
	p = data;
	left = (size_t)sb.st_size;
	while ((p = memmem(p, left, MARKER, strlen(MARKER))) != NULL) {
		assert_true(p - data + off >= 0);
		assert_int_equal(pwrite(fd, &val, 1, p - data + off), 1);
		hits++;
		p++;
		left = (size_t)sb.st_size - (size_t)(p - data);
	}
	free(data);
	close(fd);
	return hits;
}

static void
corrupt_and_check(struct fixture *f, int off, uint8_t val)
{
	struct scram_creds	 c, out;

	LMDB_ONLY("the record is patched in the LMDB file");
	unit_creds(&c, 12);
	memcpy(c.h[SCRAM_SHA1].salt, MARKER, strlen(MARKER));
	assert_int_equal(store_account_add(f->st, "eve", "localhost", &c), 0);
	unit_creds(&c, 13);
	assert_int_equal(store_account_add(f->st, "fay", "localhost", &c), 0);
	store_close(f->st);
	f->st = NULL;
	assert_true(patch_record(f->dir, off, val) >= 1);
	reopen(f, MAPSIZE);

	errno = 0;
	assert_int_equal(store_account_get(f->st, "eve", "localhost", &out),
	    -1);
	assert_int_equal(errno, EIO);
	/* the neighbour is untouched and still reads */
	assert_int_equal(store_account_get(f->st, "fay", "localhost", &out),
	    0);
	assert_memory_equal(&c, &out, sizeof(c));
	/* a corrupt account can still be replaced by the operator */
	assert_int_equal(store_account_set(f->st, "eve", "localhost", &c), 0);
	assert_int_equal(store_account_get(f->st, "eve", "localhost", &out),
	    0);
}

static void
test_corrupt_version(void **state)
{
	corrupt_and_check(*state, -6, 2);
}

static void
test_corrupt_saltlen(void **state)
{
	corrupt_and_check(*state, -1, 0);
}

static void
test_corrupt_length(void **state)
{
	/* saltlen one longer: the record no longer adds up */
	corrupt_and_check(*state, -1, SCRAM_SALT_LEN + 1);
}

static void
test_corrupt_trailing(void **state)
{
	/*
	 * SHA-256 salt length (60 bytes after the SHA-1 salt: 16 salt, 40
	 * key bytes, 4 iter) one short: every field still parses and one byte
	 * is left over.
	 */
	corrupt_and_check(*state, 16 + 40 + 4, SCRAM_SALT_LEN - 1);
}

static void
test_map_full_is_enospc(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c, out;
	char			 node[32];
	int			 i, added = -1;

	LMDB_ONLY("LMDB's map size");
	reopen(f, 64 * 1024);
	unit_creds(&c, 14);
	for (i = 0; i < 100000; i++) {
		snprintf(node, sizeof(node), "user%06d", i);
		if (store_account_add(f->st, node, "localhost", &c) == -1) {
			assert_int_equal(errno, ENOSPC);
			added = i;
			break;
		}
	}
	assert_true(added > 0);
	/* the failed write was rolled back; what was committed is intact */
	snprintf(node, sizeof(node), "user%06d", added);
	errno = 0;
	assert_int_equal(store_account_get(f->st, node, "localhost", &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_account_get(f->st, "user000000", "localhost",
	    &out), 0);
	assert_memory_equal(&c, &out, sizeof(c));
	/* a larger map lets the operator carry on */
	reopen(f, MAPSIZE);
	assert_int_equal(store_account_add(f->st, node, "localhost", &c), 0);
}

static void
test_reopen_persists(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c, out;

	unit_creds(&c, 15);
	assert_int_equal(store_account_add(f->st, "gus", "localhost", &c), 0);
	reopen(f, MAPSIZE);
	assert_int_equal(store_account_get(f->st, "gus", "localhost", &out),
	    0);
	assert_memory_equal(&c, &out, sizeof(c));
}

static void
test_open_creates_dirs(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	struct stat	 sb;
	char		 dir[128], err[256];

	LMDB_ONLY("LMDB's directory");
	snprintf(dir, sizeof(dir), "%s/a/b/c", f->dir);
	st = store_open(dir, MAPSIZE, err, sizeof(err));
	assert_non_null(st);
	store_close(st);
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(dir, sizeof(dir), "%s/a", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
}

static void
test_open_failure_reports(void **state)
{
	struct fixture	*f = *state;
	char		 path[128], err[256];
	int		 fd;

	LMDB_ONLY("LMDB's directory");
	/* a regular file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd != -1);
	close(fd);
	err[0] = '\0';
	assert_null(store_open(path, MAPSIZE, err, sizeof(err)));
	assert_non_null(strstr(err, path));
}

/*
 * The store refuses account keys it could not extend with its longest
 * tail: "domain\0node" of up to LMDB's 511 less 35 bytes.
 */
#define ACCT_KEY_MAX	(511 - 35)

static void
test_account_key_limit(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;
	char			 node[ACCT_KEY_MAX + 2];
	const char		*dom = "d.example";
	size_t			 nlen = ACCT_KEY_MAX - strlen(dom) - 1;

	unit_creds(&c, 16);
	memset(node, 'n', nlen + 1);
	node[nlen + 1] = '\0';
	errno = 0;
	assert_int_equal(store_account_add(f->st, node, dom, &c), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	node[nlen] = '\0';
	assert_int_equal(store_account_add(f->st, node, dom, &c), 0);
	assert_int_equal(store_account_get(f->st, node, dom, &c), 0);
}

static void
assert_item_equal(const struct roster_item *a, const struct roster_item *b)
{
	size_t	i;

	assert_string_equal(a->jid, b->jid);
	if (a->name == NULL || b->name == NULL)
		assert_ptr_equal(a->name, b->name);
	else
		assert_string_equal(a->name, b->name);
	assert_int_equal(a->ngroups, b->ngroups);
	for (i = 0; i < a->ngroups; i++)
		assert_string_equal(a->groups[i], b->groups[i]);
	assert_int_equal(a->sub, b->sub);
	assert_int_equal(a->ask, b->ask);
	assert_int_equal(a->pending_in, b->pending_in);
	assert_int_equal(a->preapproved, b->preapproved);
	assert_int_equal(a->hidden, b->hidden);
	if (a->pending_xml == NULL || b->pending_xml == NULL)
		assert_ptr_equal(a->pending_xml, b->pending_xml);
	else
		assert_string_equal(a->pending_xml, b->pending_xml);
	assert_int_equal(a->ver, b->ver);
}

/* puts a plain item (no name, groups or flags) and returns the version */
static uint64_t
roster_add(struct store *st, const char *node, const char *domain,
    const char *contact)
{
	struct roster_item	it;
	uint64_t		ver = 0;

	memset(&it, 0, sizeof(it));
	it.jid = (char *)contact;
	it.sub = SUB_BOTH;
	assert_int_equal(store_roster_put(st, node, domain, &it, &ver), 0);
	assert_int_equal(it.ver, ver);
	return ver;
}

static void
test_roster_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct roster_item	 in, out;
	uint64_t		 ver = 0;

	memset(&in, 0, sizeof(in));
	in.jid = "bob@example.org";
	in.name = "Bob \xc3\xa9";
	in.groups[0] = "Friends";
	in.groups[1] = "";
	in.groups[2] = "Work";
	in.ngroups = 3;
	in.sub = SUB_BOTH;
	in.ask = in.pending_in = in.preapproved = in.hidden = true;
	in.pending_xml = "<presence type='subscribe' from='bob@example.org'/>";
	in.ver = 77;	/* ignored: put sets it */
	assert_int_equal(store_roster_put(f->st, "alice", "example.org", &in,
	    &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(in.ver, 1);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(store_roster_get(f->st, "alice", "example.org",
	    "bob@example.org", &out), 0);
	assert_item_equal(&in, &out);
	roster_item_clear(&out);
	assert_null(out.jid);
	roster_item_clear(&out);	/* twice is harmless */

	/* NULL name and pending_xml stay NULL; "" stays "" */
	memset(&in, 0, sizeof(in));
	in.jid = "carol@example.org";
	in.sub = SUB_NONE;
	assert_int_equal(store_roster_put(f->st, "alice", "example.org", &in,
	    NULL), 0);
	assert_int_equal(in.ver, 2);
	assert_int_equal(store_roster_get(f->st, "alice", "example.org",
	    "carol@example.org", &out), 0);
	assert_null(out.name);
	assert_null(out.pending_xml);
	assert_item_equal(&in, &out);
	roster_item_clear(&out);
	in.name = "";
	in.pending_xml = "";
	assert_int_equal(store_roster_put(f->st, "alice", "example.org", &in,
	    NULL), 0);
	assert_int_equal(store_roster_get(f->st, "alice", "example.org",
	    "carol@example.org", &out), 0);
	assert_non_null(out.name);
	assert_non_null(out.pending_xml);
	assert_item_equal(&in, &out);
	roster_item_clear(&out);
}

/* each flag and each state alone: no bit stands in for another */
static void
test_roster_each_flag_and_sub(void **state)
{
	struct fixture		*f = *state;
	struct roster_item	 in, out;
	int			 i;

	for (i = 0; i < 4 + 4; i++) {
		memset(&in, 0, sizeof(in));
		in.jid = "x@y.example";
		if (i < 4)
			in.sub = (enum roster_sub)i;
		else {
			in.sub = SUB_TO;
			in.ask = i == 4;
			in.pending_in = i == 5;
			in.preapproved = i == 6;
			in.hidden = i == 7;
		}
		assert_int_equal(store_roster_put(f->st, "u", "y.example",
		    &in, NULL), 0);
		assert_int_equal(store_roster_get(f->st, "u", "y.example",
		    "x@y.example", &out), 0);
		assert_item_equal(&in, &out);
		roster_item_clear(&out);
	}
}

static void
test_roster_groups_max(void **state)
{
	struct fixture		*f = *state;
	struct roster_item	 in, out;
	char			 names[ROSTER_GROUPS_MAX + 1][16];
	uint64_t		 ver;
	size_t			 i;

	memset(&in, 0, sizeof(in));
	in.jid = "g@example.org";
	for (i = 0; i < ROSTER_GROUPS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "group %zu", i);
		in.groups[i] = names[i];
	}
	in.ngroups = ROSTER_GROUPS_MAX;
	assert_int_equal(store_roster_put(f->st, "u", "example.org", &in,
	    NULL), 0);
	assert_int_equal(store_roster_get(f->st, "u", "example.org",
	    "g@example.org", &out), 0);
	assert_item_equal(&in, &out);
	roster_item_clear(&out);

	/* refused items change nothing, not even the version */
	in.ngroups = ROSTER_GROUPS_MAX + 1;
	in.jid = "h@example.org";
	errno = 0;
	assert_int_equal(store_roster_put(f->st, "u", "example.org", &in,
	    NULL), -1);
	assert_int_equal(errno, EINVAL);
	in.ngroups = 1;
	in.groups[0] = NULL;
	errno = 0;
	assert_int_equal(store_roster_put(f->st, "u", "example.org", &in,
	    NULL), -1);
	assert_int_equal(errno, EINVAL);
	in.groups[0] = names[0];
	in.sub = (enum roster_sub)4;
	errno = 0;
	assert_int_equal(store_roster_put(f->st, "u", "example.org", &in,
	    NULL), -1);
	assert_int_equal(errno, EINVAL);
	in.sub = SUB_NONE;
	in.jid = "";
	errno = 0;
	assert_int_equal(store_roster_put(f->st, "u", "example.org", &in,
	    NULL), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(store_roster_get(f->st, "u", "example.org",
	    "h@example.org", &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_roster_version(f->st, "u", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 1);
}

static void
test_roster_replace_del_versions(void **state)
{
	struct fixture		*f = *state;
	struct roster_item	 in, out;
	uint64_t		 ver = 0;
	size_t			 n;

	assert_int_equal(store_roster_version(f->st, "alice", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 0);
	assert_int_equal(store_roster_count(f->st, "alice", "example.org",
	    &n), 0);
	assert_int_equal(n, 0);

	memset(&in, 0, sizeof(in));
	in.jid = "bob@example.org";
	in.name = "Bob";
	assert_int_equal(store_roster_put(f->st, "alice", "example.org", &in,
	    &ver), 0);
	assert_int_equal(ver, 1);
	in.name = "Robert";
	in.sub = SUB_FROM;
	assert_int_equal(store_roster_put(f->st, "alice", "example.org", &in,
	    &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(store_roster_get(f->st, "alice", "example.org",
	    "bob@example.org", &out), 0);
	assert_string_equal(out.name, "Robert");
	assert_int_equal(out.sub, SUB_FROM);
	assert_int_equal(out.ver, 2);
	roster_item_clear(&out);
	assert_int_equal(store_roster_count(f->st, "alice", "example.org",
	    &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_roster_del(f->st, "alice", "example.org",
	    "bob@example.org", &ver), 0);
	assert_int_equal(ver, 3);
	errno = 0;
	assert_int_equal(store_roster_get(f->st, "alice", "example.org",
	    "bob@example.org", &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(out.jid);
	/* deleting what is not there fails and leaves the version */
	ver = 0;
	errno = 0;
	assert_int_equal(store_roster_del(f->st, "alice", "example.org",
	    "bob@example.org", &ver), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_roster_version(f->st, "alice", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 3);
	assert_int_equal(store_roster_count(f->st, "alice", "example.org",
	    &n), 0);
	assert_int_equal(n, 0);
}

static void
test_roster_version_persists(void **state)
{
	struct fixture	*f = *state;
	uint64_t	 ver;

	assert_int_equal(roster_add(f->st, "alice", "example.org", "a@b"), 1);
	assert_int_equal(roster_add(f->st, "alice", "example.org", "c@d"), 2);
	assert_int_equal(roster_add(f->st, "bob", "example.org", "a@b"), 1);
	reopen(f, MAPSIZE);
	assert_int_equal(store_roster_version(f->st, "alice", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(roster_add(f->st, "alice", "example.org", "a@b"), 3);
	assert_int_equal(store_roster_del(f->st, "alice", "example.org",
	    "c@d", &ver), 0);
	assert_int_equal(ver, 4);
	reopen(f, MAPSIZE);
	assert_int_equal(store_roster_version(f->st, "alice", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 4);
	assert_int_equal(store_roster_version(f->st, "bob", "example.org",
	    &ver), 0);
	assert_int_equal(ver, 1);
}

struct rcollect {
	char	out[4096];
	int	n;
	int	stop_after;
};

static int
roster_collect_cb(const struct roster_item *it, void *arg)
{
	struct rcollect	*c = arg;
	size_t		 len = strlen(c->out);

	snprintf(c->out + len, sizeof(c->out) - len, "%s=%s\n", it->jid,
	    it->name != NULL ? it->name : "-");
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

static void
roster_expect(struct store *st, const char *node, const char *domain,
    const char *want)
{
	struct rcollect	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_roster_list(st, node, domain,
	    roster_collect_cb, &c), 0);
	assert_string_equal(c.out, want);
}

/*
 * Accounts whose prefixes share bytes: alice/alice2 on one domain, and
 * domains that are prefixes of each other. No scan may leak.
 */
static void
test_roster_list_isolation(void **state)
{
	struct fixture	*f = *state;
	struct rcollect	 c;
	size_t		 n;

	roster_add(f->st, "alice", "x.org", "zed@x.org");
	roster_add(f->st, "alice", "x.org", "amy@x.org");
	roster_add(f->st, "alice", "x.org", "mia@w.org");
	roster_add(f->st, "alice2", "x.org", "bob@x.org");
	roster_add(f->st, "alic", "x.org", "cat@x.org");
	roster_add(f->st, "alice", "x.orga", "dan@x.org");
	roster_add(f->st, "alice", "x.or", "eve@x.org");
	roster_add(f->st, "x.org", "alice", "fay@x.org");

	roster_expect(f->st, "alice", "x.org",
	    "amy@x.org=-\nmia@w.org=-\nzed@x.org=-\n");
	roster_expect(f->st, "alice2", "x.org", "bob@x.org=-\n");
	roster_expect(f->st, "alic", "x.org", "cat@x.org=-\n");
	roster_expect(f->st, "alice", "x.orga", "dan@x.org=-\n");
	roster_expect(f->st, "alice", "x.or", "eve@x.org=-\n");
	roster_expect(f->st, "x.org", "alice", "fay@x.org=-\n");
	roster_expect(f->st, "nobody", "x.org", "");
	assert_int_equal(store_roster_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_roster_count(f->st, "alic", "x.org", &n), 0);
	assert_int_equal(n, 1);

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(store_roster_list(f->st, "alice", "x.org",
	    roster_collect_cb, &c), 0);
	assert_string_equal(c.out, "amy@x.org=-\nmia@w.org=-\n");
	/* one account's versions do not move another's */
	assert_int_equal(roster_add(f->st, "alice2", "x.org", "q@x.org"), 2);
}

/*
 * Contacts past LMDB's key limit: keyed by digest, distinct even when
 * they share their first several hundred bytes, read back whole.
 */
static void
test_roster_long_contacts(void **state)
{
	struct fixture		*f = *state;
	struct roster_item	 out;
	struct rcollect		 c;
	char			 a[1600], b[1600], node[ACCT_KEY_MAX];
	uint64_t		 ver;
	size_t			 nlen, n;

	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	a[700] = '@';
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 2] = 'b';
	roster_add(f->st, "u", "example.org", a);
	roster_add(f->st, "u", "example.org", b);
	roster_add(f->st, "u", "example.org", "short@example.org");
	assert_int_equal(store_roster_get(f->st, "u", "example.org", b,
	    &out), 0);
	assert_string_equal(out.jid, b);
	assert_int_equal(out.ver, 2);
	roster_item_clear(&out);
	assert_int_equal(store_roster_get(f->st, "u", "example.org", a,
	    &out), 0);
	assert_string_equal(out.jid, a);
	assert_int_equal(out.ver, 1);
	roster_item_clear(&out);
	assert_int_equal(store_roster_count(f->st, "u", "example.org", &n),
	    0);
	assert_int_equal(n, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_roster_list(f->st, "u", "example.org",
	    roster_collect_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(store_roster_del(f->st, "u", "example.org", a, &ver),
	    0);
	errno = 0;
	assert_int_equal(store_roster_get(f->st, "u", "example.org", a,
	    &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_roster_get(f->st, "u", "example.org", b,
	    &out), 0);
	roster_item_clear(&out);

	/* the longest account still takes a long contact */
	nlen = ACCT_KEY_MAX - strlen("example.org") - 1;
	memset(node, 'n', nlen);
	node[nlen] = '\0';
	roster_add(f->st, node, "example.org", a);
	roster_add(f->st, node, "example.org", "s@example.org");
	assert_int_equal(store_roster_get(f->st, node, "example.org", a,
	    &out), 0);
	assert_string_equal(out.jid, a);
	roster_item_clear(&out);
	assert_int_equal(store_roster_count(f->st, node, "example.org", &n),
	    0);
	assert_int_equal(n, 2);
	/* one byte longer could never be an account: nothing is written */
	node[nlen] = 'n';
	node[nlen + 1] = '\0';
	memset(&out, 0, sizeof(out));
	out.jid = "s@example.org";
	errno = 0;
	assert_int_equal(store_roster_put(f->st, node, "example.org", &out,
	    NULL), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_int_equal(store_roster_get(f->st, node, "example.org",
	    "s@example.org", &out), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_roster_version(f->st, node, "example.org",
	    &ver), 0);
	assert_int_equal(ver, 0);
}

/* the documented record layout, written independently of store.c */
struct rec {
	uint8_t	b[512];
	size_t	len;
};

static void
rec_u8(struct rec *r, uint8_t v)
{
	r->b[r->len++] = v;
}

static void
rec_u32(struct rec *r, uint32_t v)
{
	rec_u8(r, (uint8_t)(v >> 24));
	rec_u8(r, (uint8_t)(v >> 16));
	rec_u8(r, (uint8_t)(v >> 8));
	rec_u8(r, (uint8_t)v);
}

static void
rec_str(struct rec *r, const char *s, size_t len)
{
	if (s == NULL) {
		rec_u32(r, UINT32_MAX);
		return;
	}
	rec_u32(r, (uint32_t)len);
	memcpy(r->b + r->len, s, len);
	r->len += len;
}

/* version 1: u8 ver, sub, flags, u64 ver, jid, name, u16 n, groups, xml */
static void
rec_roster(struct rec *r, uint8_t recver, uint8_t sub, uint8_t flags,
    const char *jid, uint16_t ngroups)
{
	uint16_t	i;

	memset(r, 0, sizeof(*r));
	rec_u8(r, recver);
	rec_u8(r, sub);
	rec_u8(r, flags);
	rec_u32(r, 0);
	rec_u32(r, 9);
	rec_str(r, jid, jid != NULL ? strlen(jid) : 0);
	rec_str(r, "Name", 4);
	rec_u8(r, (uint8_t)(ngroups >> 8));
	rec_u8(r, (uint8_t)ngroups);
	for (i = 0; i < ngroups; i++)
		rec_str(r, "g", 1);
	rec_str(r, NULL, 0);
}

/* writes raw records into the roster database with the store closed */
struct raw {
	char		 contact[64];
	struct rec	 r;
};

static void
raw_roster_put(struct fixture *f, const char *node, const char *domain,
    const struct raw *raws, size_t n)
{
	MDB_env	*env;
	MDB_txn	*txn;
	MDB_dbi	 dbi;
	MDB_val	 k, v;
	char	 key[256];
	size_t	 i, plen;

	store_close(f->st);
	f->st = NULL;
	plen = (size_t)snprintf(key, sizeof(key), "%s%c%s%c", domain, '\0',
	    node, '\0');
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, f->dir, MDB_NOTLS, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "roster", 0, &dbi), 0);
	for (i = 0; i < n; i++) {
		memcpy(key + plen, raws[i].contact, strlen(raws[i].contact));
		k.mv_data = key;
		k.mv_size = plen + strlen(raws[i].contact);
		v.mv_data = (void *)raws[i].r.b;
		v.mv_size = raws[i].r.len;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	reopen(f, MAPSIZE);
}

static void
test_roster_corrupt(void **state)
{
	struct fixture		*f = *state;
	struct raw		 raws[64];
	struct roster_item	 out;
	struct rcollect		 c;
	struct rec		 good;
	size_t			 n = 0, i, cut;

	LMDB_ONLY("records are written into LMDB");
	rec_roster(&good, 1, SUB_BOTH, 0x0f, "good@x", 2);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "good@x");
	raws[n++].r = good;
	/* every proper prefix of a good record */
	for (cut = 0; cut < good.len; cut += 3) {
		snprintf(raws[n].contact, sizeof(raws[n].contact),
		    "cut%02zu@x", cut);
		rec_roster(&raws[n].r, 1, SUB_BOTH, 0, raws[n].contact, 1);
		raws[n].r.len = cut < raws[n].r.len ? cut : raws[n].r.len - 1;
		n++;
	}
	snprintf(raws[n].contact, sizeof(raws[n].contact), "trail@x");
	rec_roster(&raws[n].r, 1, SUB_BOTH, 0, "trail@x", 1);
	raws[n++].r.len++;
	snprintf(raws[n].contact, sizeof(raws[n].contact), "version@x");
	rec_roster(&raws[n++].r, 2, SUB_BOTH, 0, "version@x", 1);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "sub@x");
	rec_roster(&raws[n++].r, 1, 4, 0, "sub@x", 1);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "flags@x");
	rec_roster(&raws[n++].r, 1, SUB_BOTH, 0x10, "flags@x", 1);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "groups@x");
	rec_roster(&raws[n++].r, 1, SUB_BOTH, 0, "groups@x",
	    ROSTER_GROUPS_MAX + 1);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "nulljid@x");
	rec_roster(&raws[n++].r, 1, SUB_BOTH, 0, NULL, 0);
	snprintf(raws[n].contact, sizeof(raws[n].contact), "emptyjid@x");
	rec_roster(&raws[n++].r, 1, SUB_BOTH, 0, "", 0);
	/* the record names another contact than its key */
	snprintf(raws[n].contact, sizeof(raws[n].contact), "other@x");
	rec_roster(&raws[n++].r, 1, SUB_BOTH, 0, "good@x", 0);
	/* a NUL inside a string */
	snprintf(raws[n].contact, sizeof(raws[n].contact), "nul@x");
	rec_roster(&raws[n].r, 1, SUB_BOTH, 0, "nul@x", 0);
	raws[n++].r.b[3 + 8 + 4 + 2] = '\0';
	assert_true(n <= nitems(raws));
	raw_roster_put(f, "u", "x", raws, n);

	/* the hand-made good record reads: the layout above is the real one */
	assert_int_equal(store_roster_get(f->st, "u", "x", "good@x", &out), 0);
	assert_string_equal(out.name, "Name");
	assert_int_equal(out.ver, 9);
	assert_int_equal(out.ngroups, 2);
	assert_true(out.ask && out.pending_in && out.preapproved &&
	    out.hidden);
	assert_null(out.pending_xml);
	roster_item_clear(&out);
	for (i = 1; i < n; i++) {
		errno = 0;
		memset(&out, 0x5a, sizeof(out));
		if (store_roster_get(f->st, "u", "x", raws[i].contact,
		    &out) != -1 || errno != EIO)
			fail_msg("%s: read as good (errno %d)",
			    raws[i].contact, errno);
		assert_null(out.jid);
	}
	/* listing skips the damage and shows the rest */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_roster_list(f->st, "u", "x", roster_collect_cb,
	    &c), 0);
	assert_string_equal(c.out, "good@x=Name\n");
	/* a put replaces a damaged record */
	roster_add(f->st, "u", "x", "sub@x");
	assert_int_equal(store_roster_get(f->st, "u", "x", "sub@x", &out), 0);
	roster_item_clear(&out);
}

struct ocollect {
	uint64_t	seq[400];
	char		out[4096];
	size_t		n;
	size_t		stop_after;
};

static int
offline_collect_cb(uint64_t seq, const char *xml, size_t len, void *arg)
{
	struct ocollect	*c = arg;
	size_t		 used = strlen(c->out);

	assert_int_equal(xml[len], '\0');
	if (c->n < nitems(c->seq))
		c->seq[c->n] = seq;
	c->n++;
	if (used + len + 2 < sizeof(c->out)) {
		memcpy(c->out + used, xml, len);
		c->out[used + len] = '|';
		c->out[used + len + 1] = '\0';
	}
	return c->stop_after != 0 && c->n >= c->stop_after;
}

/* a quota of n messages and no byte limit */
static const struct store_usage *
cap(size_t n)
{
	static struct store_usage	u;

	u.count = n;
	u.bytes = SIZE_MAX;
	return &u;
}

static uint64_t
offline_add(struct store *st, const char *node, const char *domain,
    const char *xml, size_t limit)
{
	uint64_t	seq = 0;

	assert_int_equal(store_offline_put(st, node, domain, xml, strlen(xml),
	    cap(limit), &seq), 0);
	return seq;
}

static void
test_offline_order_and_del(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	uint64_t	 seq[5];
	size_t		 i, n;
	char		 xml[32];

	for (i = 0; i < 5; i++) {
		snprintf(xml, sizeof(xml), "<message id='%zu'/>", i);
		seq[i] = offline_add(f->st, "alice", "x.org", xml, 100);
		if (i > 0)
			assert_true(seq[i] > seq[i - 1]);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.out, "<message id='0'/>|<message id='1'/>|"
	    "<message id='2'/>|<message id='3'/>|<message id='4'/>|");
	for (i = 0; i < 5; i++)
		assert_int_equal(c.seq[i], seq[i]);

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, 2);

	assert_int_equal(store_offline_del(f->st, "alice", "x.org", 0), 0);
	assert_int_equal(store_offline_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_offline_del(f->st, "alice", "x.org", seq[2]),
	    0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_string_equal(c.out, "<message id='3'/>|<message id='4'/>|");
	assert_int_equal(c.seq[0], seq[3]);
	assert_int_equal(store_offline_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_offline_del(f->st, "alice", "x.org",
	    UINT64_MAX), 0);
	assert_int_equal(store_offline_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_offline_count(f->st, "nobody", "x.org", &n), 0);
	assert_int_equal(n, 0);
}

/*
 * One message out of the middle (a retraction, XEP-0424): the others stay
 * in order, the next sequence is not reused, a second removal and one of
 * an unknown sequence or account are ENOENT.
 */
static void
test_offline_del_one(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	uint64_t	 seq[3], next;
	size_t		 n;

	seq[0] = offline_add(f->st, "alice", "x.org", "<a/>", 100);
	seq[1] = offline_add(f->st, "alice", "x.org", "<b/>", 100);
	seq[2] = offline_add(f->st, "alice", "x.org", "<c/>", 100);
	offline_add(f->st, "bob", "x.org", "<b/>", 100);
	assert_int_equal(store_offline_del_one(f->st, "alice", "x.org",
	    seq[1]), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_string_equal(c.out, "<a/>|<c/>|");
	assert_int_equal(store_offline_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_offline_del_one(f->st, "alice", "x.org",
	    seq[1]), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_offline_del_one(f->st, "alice", "x.org",
	    seq[2] + 100), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_offline_del_one(f->st, "nobody", "x.org",
	    seq[0]), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_offline_count(f->st, "bob", "x.org", &n), 0);
	assert_int_equal(n, 1);
	next = offline_add(f->st, "alice", "x.org", "<d/>", 100);
	assert_true(next > seq[2]);
}

static void
test_offline_binary_len(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	const char	 body[] = "<m>a\0b</m>";

	assert_int_equal(store_offline_put(f->st, "u", "x.org", body,
	    sizeof(body) - 1, cap(10), NULL), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "u", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	/* the collector copied len bytes: all ten are there */
	assert_memory_equal(c.out, body, sizeof(body) - 1);
}

static void
test_offline_limit(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	uint64_t	 seq, first;
	size_t		 n;

	first = offline_add(f->st, "alice", "x.org", "<a/>", 3);
	offline_add(f->st, "alice", "x.org", "<b/>", 3);
	offline_add(f->st, "alice", "x.org", "<c/>", 3);
	seq = 0;
	errno = 0;
	assert_int_equal(store_offline_put(f->st, "alice", "x.org", "<d/>", 4,
	    cap(3), &seq), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(seq, 0);
	/* the other accounts have their own quota */
	offline_add(f->st, "alice2", "x.org", "<z/>", 3);
	/* nothing dropped, nothing added */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_string_equal(c.out, "<a/>|<b/>|<c/>|");
	/* a larger limit, or room made by a delete, lets the next one in */
	offline_add(f->st, "alice", "x.org", "<d/>", 4);
	errno = 0;
	assert_int_equal(store_offline_put(f->st, "alice", "x.org", "<e/>", 4,
	    cap(4), NULL), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(store_offline_del(f->st, "alice", "x.org", first),
	    0);
	offline_add(f->st, "alice", "x.org", "<e/>", 4);
	assert_int_equal(store_offline_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 4);
	errno = 0;
	assert_int_equal(store_offline_put(f->st, "bob", "x.org", "<a/>", 4,
	    cap(0), NULL), -1);
	assert_int_equal(errno, EDQUOT);
}

static void
test_offline_seq_monotonic_across_reopen(void **state)
{
	struct fixture	*f = *state;
	uint64_t	 a, b, c;

	a = offline_add(f->st, "alice", "x.org", "<a/>", 10);
	b = offline_add(f->st, "alice", "x.org", "<b/>", 10);
	assert_true(b > a);
	assert_int_equal(store_offline_del(f->st, "alice", "x.org", b), 0);
	reopen(f, MAPSIZE);
	/* everything was deleted; the sequence still moves on */
	c = offline_add(f->st, "alice", "x.org", "<c/>", 10);
	assert_true(c > b);
	reopen(f, MAPSIZE);
	assert_true(offline_add(f->st, "alice", "x.org", "<d/>", 10) > c);
}

/* many messages over several pages; deleting a range leaves the rest */
static void
test_offline_many_isolated(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	uint64_t	 seq[300];
	char		 xml[128];
	size_t		 i, n;

	for (i = 0; i < nitems(seq); i++) {
		snprintf(xml, sizeof(xml), "<message id='%zu'>%064d</message>",
		    i, 0);
		seq[i] = offline_add(f->st, "alice", "x.org", xml, 1000);
		if (i % 10 == 0) {
			offline_add(f->st, "alice2", "x.org", "<x/>", 1000);
			offline_add(f->st, "alic", "x.org", "<y/>", 1000);
			offline_add(f->st, "alice", "x.orga", "<w/>", 1000);
		}
	}
	assert_int_equal(store_offline_del(f->st, "alice", "x.org", seq[249]),
	    0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(c.seq[i], seq[250 + i]);
	assert_int_equal(store_offline_count(f->st, "alice2", "x.org", &n), 0);
	assert_int_equal(n, 30);
	assert_int_equal(store_offline_count(f->st, "alic", "x.org", &n), 0);
	assert_int_equal(n, 30);
	assert_int_equal(store_offline_count(f->st, "alice", "x.orga", &n), 0);
	assert_int_equal(n, 30);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alic", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, 30);
	assert_non_null(strstr(c.out, "<y/>|"));
	assert_null(strstr(c.out, "<x/>"));
}

static void
test_offline_map_full(void **state)
{
	struct fixture	*f = *state;
	char		*xml;
	size_t		 n, i, stored = 0;

	LMDB_ONLY("LMDB's map size");
	reopen(f, 64 * 1024);
	xml = malloc(4000);
	assert_non_null(xml);
	memset(xml, 'x', 3999);
	xml[3999] = '\0';
	for (i = 0; i < 100; i++) {
		if (store_offline_put(f->st, "u", "x.org", xml, 3999,
		    cap(1000), NULL) == -1) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
		stored++;
	}
	free(xml);
	assert_true(stored > 0 && stored < 100);
	assert_int_equal(store_offline_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, stored);
}

static void
doc_expect(struct store *st, enum store_doc kind, const char *node,
    const char *name, const char *want, size_t wantlen)
{
	char	*val = (char *)"untouched";
	size_t	 len = 99;

	if (want == NULL) {
		errno = 0;
		assert_int_equal(store_doc_get(st, kind, node, "x.org", name,
		    &val, &len), -1);
		assert_int_equal(errno, ENOENT);
		assert_null(val);
		return;
	}
	assert_int_equal(store_doc_get(st, kind, node, "x.org", name, &val,
	    &len), 0);
	assert_int_equal(len, wantlen);
	assert_memory_equal(val, want, wantlen);
	assert_int_equal(val[len], '\0');
	free(val);
}

static void
test_docs(void **state)
{
	static const enum store_doc	 kinds[] = {
		DOC_VCARD, DOC_PRIVATE, DOC_LAST, DOC_PUSH,
	};
	struct fixture			*f = *state;
	char				 val[32], lname[1200], lname2[1200];
	size_t				 i;

	/* each kind on its own: same name, different documents */
	for (i = 0; i < nitems(kinds); i++) {
		doc_expect(f->st, kinds[i], "alice", "", NULL, 0);
		snprintf(val, sizeof(val), "doc %zu", i);
		assert_int_equal(store_doc_put(f->st, kinds[i], "alice",
		    "x.org", "", val, strlen(val)), 0);
	}
	for (i = 0; i < nitems(kinds); i++) {
		snprintf(val, sizeof(val), "doc %zu", i);
		doc_expect(f->st, kinds[i], "alice", "", val, strlen(val));
		doc_expect(f->st, kinds[i], "alice2", "", NULL, 0);
		doc_expect(f->st, kinds[i], "alic", "", NULL, 0);
	}
	/* NULL name is the empty one */
	doc_expect(f->st, DOC_VCARD, "alice", NULL, "doc 0", 5);
	/* replace, binary bytes, empty document */
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "alice", "x.org", "",
	    "a\0b", 3), 0);
	doc_expect(f->st, DOC_VCARD, "alice", "", "a\0b", 3);
	assert_int_equal(store_doc_put(f->st, DOC_LAST, "alice", "x.org", "",
	    "", 0), 0);
	doc_expect(f->st, DOC_LAST, "alice", "", "", 0);
	/* delete, and deleting again is fine */
	for (i = 0; i < nitems(kinds); i++) {
		assert_int_equal(store_doc_put(f->st, kinds[i], "alice",
		    "x.org", "", NULL, 0), 0);
		doc_expect(f->st, kinds[i], "alice", "", NULL, 0);
		assert_int_equal(store_doc_put(f->st, kinds[i], "alice",
		    "x.org", "", NULL, 0), 0);
	}

	/* private storage: one document per {namespace}element */
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "alice", "x.org",
	    "{storage:bookmarks}storage", "<b/>", 4), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "alice", "x.org",
	    "{storage:rosternotes}storage", "<n/>", 4), 0);
	doc_expect(f->st, DOC_PRIVATE, "alice", "{storage:bookmarks}storage",
	    "<b/>", 4);
	doc_expect(f->st, DOC_PRIVATE, "alice", "{storage:rosternotes}storage",
	    "<n/>", 4);
	doc_expect(f->st, DOC_PRIVATE, "alice", "{storage:bookmarks}", NULL,
	    0);
	/* names past the key limit, alike but for their last byte */
	memset(lname, 'n', sizeof(lname) - 1);
	lname[0] = '{';
	lname[sizeof(lname) - 1] = '\0';
	memcpy(lname2, lname, sizeof(lname2));
	lname2[sizeof(lname2) - 2] = 'm';
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "alice", "x.org",
	    lname, "<1/>", 4), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "alice", "x.org",
	    lname2, "<2/>", 4), 0);
	doc_expect(f->st, DOC_PRIVATE, "alice", lname, "<1/>", 4);
	doc_expect(f->st, DOC_PRIVATE, "alice", lname2, "<2/>", 4);
	reopen(f, MAPSIZE);
	doc_expect(f->st, DOC_PRIVATE, "alice", lname, "<1/>", 4);

	errno = 0;
	assert_int_equal(store_doc_put(f->st, (enum store_doc)(DOC_INVITE + 1),
	    "alice",
	    "x.org", "", "v", 1), -1);
	assert_int_equal(errno, EINVAL);
}

static const char	*self_path;	/* argv[0], for docs_committed */

/* the child's side: every document's value, each followed by '|' */
static int
docs_dump(const char *dir)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 op;

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_dbi_open(txn, "docs", 0, &dbi) != 0 ||
	    mdb_cursor_open(txn, dbi, &cur) != 0)
		return 1;
	for (op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0;
	    op = MDB_NEXT)
		printf("%.*s|", (int)v.mv_size, (const char *)v.mv_data);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return 0;
}

/*
 * The documents as another process sees them: only what has been
 * committed. This program again (exec'd, so that it holds no handle of
 * ours), read-only: a store_open would wait for the writer lock that the
 * deferred transaction holds.
 */
/* PostgreSQL: another connection sees what is committed */
static const char *
pg_docs_committed(const struct fixture *f)
{
	static char	 seen[256];
	PGconn		*c;
	PGresult	*res;
	int		 i;

	c = PQconnectdb(f->conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "SELECT convert_from(val, 'UTF8') FROM docs "
	    "ORDER BY domain, node, kind, name");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	seen[0] = '\0';
	for (i = 0; i < PQntuples(res); i++) {
		strncat(seen, PQgetvalue(res, i, 0),
		    sizeof(seen) - strlen(seen) - 2);
		strcat(seen, "|");
	}
	PQclear(res);
	PQfinish(c);
	return seen;
}

static const char *
docs_committed(const struct fixture *f)
{
	static char	 seen[256];
	int		 fds[2], status;
	ssize_t		 n;
	size_t		 len = 0;
	pid_t		 pid;

	if (pg_base != NULL)
		return pg_docs_committed(f);

	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(1);
		execl(self_path, self_path, "--docs", f->dir, (char *)NULL);
		_exit(1);
	}
	close(fds[1]);
	while ((n = read(fds[0], seen + len, sizeof(seen) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	seen[len] = '\0';
	return seen;
}

/* deferred writes: seen at once here, committed by flush or any write */
static void
test_docs_later(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", "2 b", 3), 0);
	doc_expect(f->st, DOC_LAST, "alice", "", "1 a", 3);
	assert_string_equal(docs_committed(f), "");
	assert_int_equal(store_flush(f->st), 0);
	assert_string_equal(docs_committed(f), "1 a|2 b|");
	assert_int_equal(store_flush(f->st), 0);	/* nothing to do */

	/* an ordinary write commits the deferred ones first */
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "3 a", 3), 0);
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "alice", "x.org",
	    "", "<v/>", 4), 0);
	assert_non_null(strstr(docs_committed(f), "3 a|"));

	/* and so does closing; a deferred delete too */
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", NULL, 0), 0);
	doc_expect(f->st, DOC_LAST, "bob", "", NULL, 0);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "4 a", 3), 0);
	reopen(f, MAPSIZE);
	doc_expect(f->st, DOC_LAST, "alice", "", "4 a", 3);
	doc_expect(f->st, DOC_LAST, "bob", "", NULL, 0);
}

struct bcollect {
	char	out[4096];
	int	n;
};

static int
block_collect_cb(const char *jid, void *arg)
{
	struct bcollect	*c = arg;
	size_t		 len = strlen(c->out);

	snprintf(c->out + len, sizeof(c->out) - len, "%.64s\n", jid);
	c->n++;
	return 0;
}

static void
block_expect(struct store *st, const char *node, const char *want)
{
	struct bcollect	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_block_list(st, node, "x.org", block_collect_cb,
	    &c), 0);
	assert_string_equal(c.out, want);
}

static void
test_blocks(void **state)
{
	struct fixture	*f = *state;
	char		 jid[1100];

	errno = 0;
	assert_int_equal(store_block_has(f->st, "alice", "x.org", "a@b"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_block_add(f->st, "alice", "x.org",
	    "spam.example"), 0);
	assert_int_equal(store_block_add(f->st, "alice", "x.org", "a@b/r"),
	    0);
	assert_int_equal(store_block_add(f->st, "alice", "x.org", "a@b"), 0);
	assert_int_equal(store_block_add(f->st, "alice", "x.org", "a@b"), 0);
	assert_int_equal(store_block_add(f->st, "alice2", "x.org", "z@z"), 0);
	assert_int_equal(store_block_has(f->st, "alice", "x.org", "a@b"), 0);
	assert_int_equal(store_block_has(f->st, "alice", "x.org", "a@b/r"),
	    0);
	errno = 0;
	assert_int_equal(store_block_has(f->st, "alice", "x.org", "z@z"), -1);
	assert_int_equal(errno, ENOENT);
	block_expect(f->st, "alice", "a@b\na@b/r\nspam.example\n");
	block_expect(f->st, "alice2", "z@z\n");
	block_expect(f->st, "alic", "");

	assert_int_equal(store_block_del(f->st, "alice", "x.org", "a@b/r"), 0);
	errno = 0;
	assert_int_equal(store_block_del(f->st, "alice", "x.org", "a@b/r"),
	    -1);
	assert_int_equal(errno, ENOENT);
	block_expect(f->st, "alice", "a@b\nspam.example\n");

	/* a JID past the key limit */
	memset(jid, 'j', sizeof(jid) - 1);
	jid[sizeof(jid) - 1] = '\0';
	jid[500] = '@';
	assert_int_equal(store_block_add(f->st, "alice", "x.org", jid), 0);
	assert_int_equal(store_block_has(f->st, "alice", "x.org", jid), 0);
	jid[sizeof(jid) - 2] = 'k';
	errno = 0;
	assert_int_equal(store_block_has(f->st, "alice", "x.org", jid), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(store_block_del(f->st, "alice", "x.org", NULL), 0);
	block_expect(f->st, "alice", "");
	block_expect(f->st, "alice2", "z@z\n");
	assert_int_equal(store_block_del(f->st, "alice", "x.org", NULL), 0);
}

static void
populate(struct fixture *f, const char *node)
{
	struct scram_creds	c;

	unit_creds(&c, 20);
	assert_int_equal(store_account_add(f->st, node, "x.org", &c), 0);
	roster_add(f->st, node, "x.org", "bob@x.org");
	roster_add(f->st, node, "x.org", "carol@x.org");
	offline_add(f->st, node, "x.org", "<m/>", 10);
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, node, "x.org", "",
	    "<vCard/>", 8), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, node, "x.org",
	    "{a}b", "<b/>", 4), 0);
	assert_int_equal(store_doc_put(f->st, DOC_LAST, node, "x.org", "",
	    "5 away", 6), 0);
	assert_int_equal(store_block_add(f->st, node, "x.org", "e@x.org"), 0);
}

/*
 * The roster version outlives the account (a new account of the name
 * must not hand out an old version), so it is checked apart.
 */
static void
assert_populated(struct fixture *f, const char *node, bool yes)
{
	uint64_t	ver;
	size_t		n;

	assert_int_equal(store_roster_count(f->st, node, "x.org", &n), 0);
	assert_int_equal(n, yes ? 2 : 0);
	assert_int_equal(store_roster_version(f->st, node, "x.org", &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(store_offline_count(f->st, node, "x.org", &n), 0);
	assert_int_equal(n, yes ? 1 : 0);
	doc_expect(f->st, DOC_VCARD, node, "", yes ? "<vCard/>" : NULL, 8);
	doc_expect(f->st, DOC_PRIVATE, node, "{a}b", yes ? "<b/>" : NULL, 4);
	doc_expect(f->st, DOC_LAST, node, "", yes ? "5 away" : NULL, 6);
	block_expect(f->st, node, yes ? "e@x.org\n" : "");
}

static void
test_account_del_cascades(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	populate(f, "alice");
	populate(f, "alice2");
	populate(f, "alic");
	assert_populated(f, "alice", true);
	assert_int_equal(store_account_del(f->st, "alice", "x.org"), 0);
	assert_populated(f, "alice", false);
	assert_populated(f, "alice2", true);
	assert_populated(f, "alic", true);
	reopen(f, MAPSIZE);
	assert_populated(f, "alice", false);
	assert_populated(f, "alice2", true);
	/* a new account of the name starts empty, its versions go on */
	unit_creds(&c, 21);
	assert_int_equal(store_account_add(f->st, "alice", "x.org", &c), 0);
	assert_populated(f, "alice", false);
	{
		struct roster_item	it;
		uint64_t		ver;

		memset(&it, 0, sizeof(it));
		it.jid = (char *)"z@x.org";
		assert_int_equal(store_roster_put(f->st, "alice", "x.org",
		    &it, &ver), 0);
		assert_int_equal(ver, 3);
	}
	/* no account, no deletion: its neighbours' data stays */
	errno = 0;
	assert_int_equal(store_account_del(f->st, "nobody", "x.org"), -1);
	assert_int_equal(errno, ENOENT);
	assert_populated(f, "alic", true);
}

static int
invite_walk_cb(const char *val, size_t len, void *arg)
{
	size_t	*n = arg;

	assert_true(len > 0 && val[0] == 'h');
	(*n)++;
	return 0;
}

/*
 * Invitations (router/invite.c): documents of the pseudo-account
 * "@invite", which no localpart can name, keyed by the token's hash;
 * walked per host, gone when deleted, apart from the accounts' own.
 */
static void
test_invite_docs(void **state)
{
	struct fixture	*f = *state;
	size_t		 n = 0;

	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "x.org",
	    "h1", "h1 a 1 0 -", 10), 0);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "x.org",
	    "h2", "h2 c 2 0 ann@x.org", 18), 0);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "y.org",
	    "h3", "h3 a 1 0 -", 10), 0);
	reopen(f, MAPSIZE);
	doc_expect(f->st, DOC_INVITE, "@invite", "h2", "h2 c 2 0 ann@x.org",
	    18);
	/* not a role, not a private document of the same name */
	doc_expect(f->st, DOC_PRIVATE, "@invite", "h2", NULL, 0);
	assert_int_equal(store_doc_walk(f->st, DOC_INVITE, "x.org",
	    invite_walk_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "x.org",
	    "h1", NULL, 0), 0);
	doc_expect(f->st, DOC_INVITE, "@invite", "h1", NULL, 0);
	n = 0;
	assert_int_equal(store_doc_walk(f->st, DOC_INVITE, "x.org",
	    invite_walk_cb, &n), 0);
	assert_int_equal(n, 1);
}

/* appends each name walked to the string arg, space-separated */
static int
walk_names_cb(const char *name, const char *val, size_t len, void *arg)
{
	char	*out = arg;

	assert_true(len == 1 && val[0] == name[1]);
	assert_true(strlen(out) + strlen(name) + 2 < 64);
	if (*out != '\0')
		strcat(out, " ");
	strcat(out, name);
	return 0;
}

/* the names of @invite's invitations at domain one walk visits */
static const char *
walk_names(struct store *st, const char *domain, const char *after,
    size_t max)
{
	static char	out[64];

	out[0] = '\0';
	assert_int_equal(store_doc_walk_account(st, DOC_INVITE, "@invite",
	    domain, after, max, walk_names_cb, out), 0);
	return out;
}

/*
 * store_doc_walk_account (the invitation sweep's): one account's
 * documents of one kind in name order, at most max of them, resuming
 * after a name (one gone meanwhile, or never there, too); none of another
 * kind, account or host.
 */
static void
test_doc_walk_account(void **state)
{
	struct fixture		*f = *state;
	static const char	*const names[] = { "k1", "k3", "k5", "k7" };
	size_t			 i;

	for (i = 0; i < nitems(names); i++)
		assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite",
		    "x.org", names[i], names[i] + 1, 1), 0);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@inviteX",
	    "x.org", "k0", "0", 1), 0);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "y.org",
	    "k2", "2", 1), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "@invite",
	    "x.org", "k4", "4", 1), 0);
	assert_string_equal(walk_names(f->st, "x.org", "", 2), "k1 k3");
	assert_string_equal(walk_names(f->st, "x.org", "k3", 2), "k5 k7");
	/* resumed after a name that is not there: from the next one */
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, "@invite", "x.org",
	    "k5", NULL, 0), 0);
	assert_string_equal(walk_names(f->st, "x.org", "k4", 8), "k7");
	assert_string_equal(walk_names(f->st, "x.org", "k7", 8), "");
	assert_string_equal(walk_names(f->st, "x.org", "", 8), "k1 k3 k7");
	assert_string_equal(walk_names(f->st, "z.org", "", 8), "");
}

/*
 * Listings longer than the PostgreSQL backend's page (PG_PAGE rows a
 * statement, storage/pg_list.c): three pages' worth, stored out of
 * order, each item listed once and in key order, on both backends.
 */
#define PAGES_N		(2 * PG_PAGE + 88)

struct pages {
	struct store	*st;
	size_t		 n;		/* items seen */
	size_t		 stop_after;	/* 0: all of them */
	char		 last[64];	/* the item before */
	bool		 grow;		/* at the first, add one at the end */
};

static struct pages *
pages_init(struct pages *p, struct store *st, size_t stop_after, bool grow)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->stop_after = stop_after;
	p->grow = grow;
	return p;
}

static int
pages_see(struct pages *p, const char *item)
{
	assert_true(strlen(item) < sizeof(p->last));
	assert_true(strcmp(p->last, item) < 0);
	snprintf(p->last, sizeof(p->last), "%s", item);
	p->n++;
	return p->stop_after != 0 && p->n >= p->stop_after;
}

/* an item's name (fmt and its index: byte order is index order) */
static const char *pages_name(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
pages_name(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

/* every i below n once, out of order (7 is prime to PAGES_N) */
static size_t
pages_shuffle(size_t k, size_t n)
{
	return k * 7 % n;
}

static int
pages_roster_cb(const struct roster_item *it, void *arg)
{
	struct pages	*p = arg;

	if (p->grow && p->n == 0)
		roster_add(p->st, "alice", "x.org", "zz@x.org");
	return pages_see(p, it->jid);
}

static size_t
pages_roster(struct store *st, size_t stop_after, bool grow)
{
	struct pages	p;

	assert_int_equal(store_roster_list(st, "alice", "x.org",
	    pages_roster_cb, pages_init(&p, st, stop_after, grow)), 0);
	return p.n;
}

static void
test_roster_pages(void **state)
{
	struct fixture	*f = *state;
	struct rcollect	 c;
	char		 jid[32];
	size_t		 k, n;

	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < PAGES_N; k++)
		roster_add(f->st, "alice", "x.org", pages_name(jid,
		    sizeof(jid), "c%04zu@x.org", pages_shuffle(k, PAGES_N)));
	roster_add(f->st, "alice2", "x.org", "c0000@x.org");
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_roster(f->st, 0, false), PAGES_N);
	/* stopped inside the second page: no call after the stop */
	assert_int_equal(pages_roster(f->st, PG_PAGE + 1, false),
	    PG_PAGE + 1);
	/* exactly two pages: the third statement finds none */
	assert_int_equal(store_begin(f->st), 0);
	for (k = 2 * PG_PAGE; k < PAGES_N; k++)
		assert_int_equal(store_roster_del(f->st, "alice", "x.org",
		    pages_name(jid, sizeof(jid), "c%04zu@x.org", k), NULL),
		    0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_roster(f->st, 0, false), 2 * PG_PAGE);
	assert_int_equal(store_roster_count(f->st, "alice", "x.org", &n), 0);
	assert_int_equal(n, 2 * PG_PAGE);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_roster_list(f->st, "alice2", "x.org",
	    roster_collect_cb, &c), 0);
	assert_string_equal(c.out, "c0000@x.org=-\n");
}

static int
pages_offline_cb(uint64_t seq, const char *xml, size_t len, void *arg)
{
	struct pages	*p = arg;

	(void)seq;
	assert_int_equal(xml[len], '\0');
	if (p->grow && p->n == 0)
		(void)offline_add(p->st, "alice", "x.org", "<m id='zz'/>",
		    SIZE_MAX);
	return pages_see(p, xml);
}

static size_t
pages_offline(struct store *st, size_t stop_after, bool grow)
{
	struct pages	p;

	assert_int_equal(store_offline_list(st, "alice", "x.org",
	    pages_offline_cb, pages_init(&p, st, stop_after, grow)), 0);
	return p.n;
}

/* oldest first across pages; delivery's list, stop and delete */
static void
test_offline_pages(void **state)
{
	struct fixture	*f = *state;
	struct ocollect	 c;
	uint64_t	 seq[PAGES_N];
	char		 xml[32];
	size_t		 k, n;

	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < PAGES_N; k++)
		seq[k] = offline_add(f->st, "alice", "x.org", pages_name(xml,
		    sizeof(xml), "<m id='%04zu'/>", k), SIZE_MAX);
	(void)offline_add(f->st, "alice2", "x.org", "<m/>", SIZE_MAX);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_offline(f->st, 0, false), PAGES_N);
	assert_int_equal(pages_offline(f->st, PG_PAGE + 1, false),
	    PG_PAGE + 1);
	assert_int_equal(store_offline_del(f->st, "alice", "x.org",
	    seq[PG_PAGE]), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_offline_list(f->st, "alice", "x.org",
	    offline_collect_cb, &c), 0);
	assert_int_equal(c.n, PAGES_N - PG_PAGE - 1);
	assert_int_equal(c.seq[0], seq[PG_PAGE + 1]);
	assert_int_equal(store_offline_count(f->st, "alice2", "x.org", &n),
	    0);
	assert_int_equal(n, 1);
}

static int
pages_block_cb(const char *jid, void *arg)
{
	struct pages	*p = arg;

	if (p->grow && p->n == 0)
		assert_int_equal(store_block_add(p->st, "alice", "x.org",
		    "zz@x.org"), 0);
	return pages_see(p, jid);
}

static size_t
pages_blocks(struct store *st, bool grow)
{
	struct pages	p;

	assert_int_equal(store_block_list(st, "alice", "x.org",
	    pages_block_cb, pages_init(&p, st, 0, grow)), 0);
	return p.n;
}

static void
test_block_pages(void **state)
{
	struct fixture	*f = *state;
	char		 jid[32];
	size_t		 k;

	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < PAGES_N; k++)
		assert_int_equal(store_block_add(f->st, "alice", "x.org",
		    pages_name(jid, sizeof(jid), "b%04zu@y.org",
		    pages_shuffle(k, PAGES_N))), 0);
	assert_int_equal(store_block_add(f->st, "alice2", "x.org", "a@y.org"),
	    0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_blocks(f->st, false), PAGES_N);
}

static int
pages_doc_cb(const char *val, size_t len, void *arg)
{
	struct pages	*p = arg;
	char		 item[64];

	/* LMDB's value is the map's bytes: no NUL after them */
	assert_true(len < sizeof(item));
	memcpy(item, val, len);
	item[len] = '\0';
	if (p->grow && p->n == 0)
		assert_int_equal(store_doc_put(p->st, DOC_MUC, "zz",
		    "conf.x.org", NULL, "zz/", 3), 0);
	return pages_see(p, item);
}

static size_t
pages_docs(struct store *st, size_t stop_after, bool grow)
{
	struct pages	p;

	assert_int_equal(store_doc_walk(st, DOC_MUC, "conf.x.org",
	    pages_doc_cb, pages_init(&p, st, stop_after, grow)), 0);
	return p.n;
}

/*
 * A walk over a domain (the rooms of a group chat service at start) in
 * (node, name) order: two documents a node, none of another kind or
 * domain.
 */
static void
test_doc_walk_pages(void **state)
{
	struct fixture	*f = *state;
	char		 node[16], val[32];
	size_t		 k, i;

	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < PAGES_N / 2; k++) {
		i = pages_shuffle(k, PAGES_N / 2);
		pages_name(node, sizeof(node), "r%04zu", i);
		snprintf(val, sizeof(val), "%s/", node);
		assert_int_equal(store_doc_put(f->st, DOC_MUC, node,
		    "conf.x.org", NULL, val, strlen(val)), 0);
		snprintf(val, sizeof(val), "%s/n", node);
		assert_int_equal(store_doc_put(f->st, DOC_MUC, node,
		    "conf.x.org", "n", val, strlen(val)), 0);
		assert_int_equal(store_doc_put(f->st, DOC_VCARD, node,
		    "conf.x.org", NULL, "!", 1), 0);
	}
	assert_int_equal(store_doc_put(f->st, DOC_MUC, "r0000", "conf.x.or",
	    NULL, "!", 1), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_docs(f->st, 0, false), PAGES_N);
	assert_int_equal(pages_docs(f->st, 2 * PG_PAGE + 1, false),
	    2 * PG_PAGE + 1);
}

/*
 * PostgreSQL reads a listing a page at a time, never the whole result at
 * once: an item stored behind the walk's first page, while it runs, is
 * listed (LMDB walks a snapshot, where it would not be).
 */
static void
test_pg_listings_page(void **state)
{
	struct fixture	*f = *state;
	char		 name[32];
	size_t		 k;

	PG_ONLY();
	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < PG_PAGE + 1; k++) {
		pages_name(name, sizeof(name), "c%04zu@x.org", k);
		roster_add(f->st, "alice", "x.org", name);
		assert_int_equal(store_block_add(f->st, "alice", "x.org",
		    name), 0);
		(void)offline_add(f->st, "alice", "x.org", pages_name(name,
		    sizeof(name), "<m id='%04zu'/>", k), SIZE_MAX);
		pages_name(name, sizeof(name), "r%04zu", k);
		assert_int_equal(store_doc_put(f->st, DOC_MUC, name,
		    "conf.x.org", NULL, name, strlen(name)), 0);
	}
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(pages_roster(f->st, 0, true), PG_PAGE + 2);
	assert_int_equal(pages_blocks(f->st, true), PG_PAGE + 2);
	assert_int_equal(pages_offline(f->st, 0, true), PG_PAGE + 2);
	assert_int_equal(pages_docs(f->st, 0, true), PG_PAGE + 2);
}

/*
 * Roles (store_role.c): member when none is stored, set and read back,
 * member removes the record, no account is ENOENT, a bad record EIO, and
 * deleting the account forgets the role.
 */
static void
test_roles(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;
	enum role		 r;

	unit_creds(&c, 5);
	assert_int_equal(store_account_add(f->st, "ann", "x.org", &c), 0);
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), 0);
	assert_int_equal(r, ROLE_MEMBER);
	assert_int_equal(store_account_role_set(f->st, "ann", "x.org",
	    ROLE_LIMITED), 0);
	reopen(f, MAPSIZE);
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), 0);
	assert_int_equal(r, ROLE_LIMITED);
	doc_expect(f->st, DOC_ROLE, "ann", "", "limited", 7);
	assert_int_equal(store_account_role_set(f->st, "ann", "x.org",
	    ROLE_ADMIN), 0);
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), 0);
	assert_int_equal(r, ROLE_ADMIN);
	assert_int_equal(store_account_role_set(f->st, "ann", "x.org",
	    ROLE_MEMBER), 0);
	doc_expect(f->st, DOC_ROLE, "ann", "", NULL, 0);
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), 0);
	assert_int_equal(r, ROLE_MEMBER);

	errno = 0;
	assert_int_equal(store_account_role_set(f->st, "bob", "x.org",
	    ROLE_ADMIN), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(store_account_role_get(f->st, "bob", "x.org", &r), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(store_doc_put(f->st, DOC_ROLE, "ann", "x.org", "",
	    "boss", 4), 0);
	errno = 0;
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(store_doc_put(f->st, DOC_ROLE, "ann", "x.org", "",
	    "limited-and-then-some", 21), 0);
	errno = 0;
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), -1);
	assert_int_equal(errno, EIO);

	assert_int_equal(store_account_role_set(f->st, "ann", "x.org",
	    ROLE_ADMIN), 0);
	assert_int_equal(store_account_del(f->st, "ann", "x.org"), 0);
	assert_int_equal(store_account_add(f->st, "ann", "x.org", &c), 0);
	assert_int_equal(store_account_role_get(f->st, "ann", "x.org", &r), 0);
	assert_int_equal(r, ROLE_MEMBER);
}

/* the capability words of member-can and limited-can (common/role.c) */
static void
test_role_words(void **state)
{
	const char	*bad = NULL;
	size_t		 n = 0;
	uint32_t	 caps;
	enum role	 r;

	(void)state;
	assert_int_equal(role_caps_parse("none", &caps, &bad, &n), 0);
	assert_int_equal(caps, 0);
	assert_int_equal(role_caps_parse("", &caps, &bad, &n), 0);
	assert_int_equal(caps, 0);
	assert_int_equal(role_caps_parse(" upload  create-rooms ", &caps,
	    &bad, &n), 0);
	assert_int_equal(caps, ROLE_CAP_UPLOAD | ROLE_CAP_CREATE_ROOMS);
	assert_int_equal(role_caps_parse("create-rooms upload invite "
	    "register-accounts admin-commands", &caps, &bad, &n), 0);
	assert_int_equal(caps, ROLE_CAP_ALL);
	assert_int_equal(role_caps_parse("upload uploads invite", &caps,
	    &bad, &n), -1);
	assert_int_equal(n, 7);
	assert_memory_equal(bad, "uploads", 7);
	assert_int_equal(role_caps_parse("upload-", &caps, &bad, &n), -1);
	assert_int_equal(role_parse("limited", &r), 0);
	assert_int_equal(r, ROLE_LIMITED);
	assert_int_equal(role_parse("admin", &r), 0);
	assert_int_equal(r, ROLE_ADMIN);
	assert_int_equal(role_parse("member", &r), 0);
	assert_int_equal(r, ROLE_MEMBER);
	assert_int_equal(role_parse("Admin", &r), -1);
	assert_int_equal(role_parse("", &r), -1);
	assert_string_equal(role_name(ROLE_LIMITED), "limited");
	assert_string_equal(role_name((enum role)7), "unknown");
}

/* a value of n bytes, the same for one seed */
static char *
blob(size_t n, int seed)
{
	char	*v = malloc(n);

	assert_non_null(v);
	memset(v, 'a' + seed % 26, n);
	return v;
}

static void
test_batch_is_one_commit(void **state)
{
	struct fixture	*f = *state;
	char		 name[16];
	uint64_t	 before;
	size_t		 i, n;
	int		 k;

	/* without a batch: one commit per write */
	before = commits(f);
	for (k = 0; k < 10; k++) {
		snprintf(name, sizeof(name), "{u}a%d", k);
		assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "u", "x.org",
		    name, "<a/>", 4), 0);
	}
	assert_true(commits(f) == before + 10);
	/* in a batch: writes of every kind, reads see them, one commit */
	before = commits(f);
	assert_int_equal(store_begin(f->st), 0);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "j%zu@x.org", i);
		assert_int_equal(store_block_add(f->st, "u", "x.org", name),
		    0);
	}
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "u", "x.org", "",
	    "<v/>", 4), 0);
	assert_int_equal(store_block_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, 500);
	assert_int_equal(store_block_has(f->st, "u", "x.org", "j7@x.org"), 0);
	assert_true(commits(f) == before);
	assert_int_equal(store_commit(f->st), 0);
	assert_true(commits(f) == before + 1);
	reopen(f, MAPSIZE);
	assert_int_equal(store_block_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, 500);
	doc_expect(f->st, DOC_VCARD, "u", "", "<v/>", 4);
}

static void
test_batch_abort_stores_nothing(void **state)
{
	struct fixture	*f = *state;
	size_t		 n;

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_block_add(f->st, "u", "x.org", "a@x.org"), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "u", "x.org",
	    "{u}a", "<a/>", 4), 0);
	store_abort(f->st);
	assert_int_equal(store_block_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, 0);
	doc_expect(f->st, DOC_PRIVATE, "u", "{u}a", NULL, 0);
	/* a missing key does not spoil the batch */
	assert_int_equal(store_begin(f->st), 0);
	errno = 0;
	assert_int_equal(store_block_del(f->st, "u", "x.org", "no@x.org"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_block_add(f->st, "u", "x.org", "b@x.org"), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_block_has(f->st, "u", "x.org", "b@x.org"), 0);
}

/* the map may not grow: a batch too large for it is refused whole */
static void
test_batch_map_full(void **state)
{
	struct fixture	*f = *state;
	char		 name[16], *v;
	int		 k, rc = 0;

	LMDB_ONLY("LMDB's map size");
	v = blob(20000, 1);
	reopen(f, 128 * 1024);
	assert_int_equal(store_begin(f->st), 0);
	for (k = 0; k < 20 && rc == 0; k++) {
		snprintf(name, sizeof(name), "{u}a%d", k);
		rc = store_doc_put(f->st, DOC_PRIVATE, "u", "x.org", name, v,
		    20000);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(errno, ENOSPC);
	/* spoiled: later writes fail alike, the commit stores nothing */
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "u", "x.org", "",
	    "<v/>", 4), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(store_commit(f->st), -1);
	assert_int_equal(errno, ENOSPC);
	doc_expect(f->st, DOC_PRIVATE, "u", "{u}a0", NULL, 0);
	doc_expect(f->st, DOC_VCARD, "u", "", NULL, 0);
	/* the store still writes what fits */
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "u", "x.org", "",
	    "<v/>", 4), 0);
	free(v);
}

/* single writes grow the map as it fills, up to the max, then ENOSPC */
static void
test_map_grows_to_max(void **state)
{
	struct fixture	*f = *state;
	char		 name[16], *v;
	size_t		 stored = 0;
	int		 k;

	LMDB_ONLY("LMDB's map growth");
	v = blob(50000, 2);
	reopen(f, 128 * 1024);
	store_set_mapmax(f->st, 1024 * 1024);
	for (k = 0; k < 100; k++) {
		snprintf(name, sizeof(name), "{u}a%d", k);
		if (store_doc_put(f->st, DOC_PRIVATE, "u", "x.org", name, v,
		    50000) == -1) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
		stored++;
	}
	assert_true(k < 100);
	assert_int_equal(f->st->mapsize, 1024 * 1024);
	/* far more than the first map held */
	assert_true(stored * 50000 > 512 * 1024);
	doc_expect(f->st, DOC_PRIVATE, "u", "{u}a0", v, 50000);
	/* opened again with the small size: the map holds the data */
	reopen(f, 128 * 1024);
	assert_true(f->st->mapsize > 512 * 1024);
	doc_expect(f->st, DOC_PRIVATE, "u", "{u}a0", v, 50000);
	free(v);
}

/* a batch that met a full map which may grow: EAGAIN, then it fits */
static void
test_batch_eagain_then_fits(void **state)
{
	struct fixture	*f = *state;
	char		 name[16], *v;
	int		 k, rc = 0, tries;

	LMDB_ONLY("LMDB's map growth");
	v = blob(30000, 3);
	reopen(f, 128 * 1024);
	store_set_mapmax(f->st, 4 * 1024 * 1024);
	for (tries = 0; tries < 10; tries++) {
		assert_int_equal(store_begin(f->st), 0);
		for (k = 0, rc = 0; k < 10 && rc == 0; k++) {
			snprintf(name, sizeof(name), "{u}a%d", k);
			rc = store_doc_put(f->st, DOC_PRIVATE, "u", "x.org",
			    name, v, 30000);
		}
		if (rc == -1) {
			assert_int_equal(errno, EAGAIN);
			store_abort(f->st);
			continue;
		}
		assert_int_equal(store_commit(f->st), 0);
		break;
	}
	/* the first runs met the full map, each grew it, one fitted */
	assert_true(tries >= 1 && tries < 10);
	assert_true(f->st->mapsize > 128 * 1024);
	doc_expect(f->st, DOC_PRIVATE, "u", "{u}a9", v, 30000);
	free(v);
}

static void
test_usage_and_offline_bytes(void **state)
{
	struct fixture		*f = *state;
	struct store_usage	 u, max = { 10, 10 };
	size_t			 n;

	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "u", "x.org",
	    "{u}a", "12345", 5), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "u", "x.org",
	    "{u}b", "123", 3), 0);
	/* other kinds and other accounts are not counted */
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "u", "x.org", "",
	    "1234567", 7), 0);
	assert_int_equal(store_doc_put(f->st, DOC_PRIVATE, "u2", "x.org",
	    "{u}a", "1", 1), 0);
	assert_int_equal(store_doc_usage(f->st, DOC_PRIVATE, "u", "x.org",
	    &u), 0);
	assert_int_equal(u.count, 2);
	assert_int_equal(u.bytes, 8);
	/* offline: the bytes quota counts what is stored plus the new one */
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "123456", 6,
	    &max, NULL), 0);
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "1234", 4,
	    &max, NULL), 0);
	errno = 0;
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "1", 1,
	    &max, NULL), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(store_offline_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, 2);
	/* a count quota alone still takes it */
	max.bytes = SIZE_MAX;
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "1", 1,
	    &max, NULL), 0);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

static int
ps_collect(const struct pubsub_item *it, void *arg)
{
	char	*out = arg;

	strcat(out, it->id);
	strcat(out, ":");
	strncat(out, it->xml, it->len);
	strcat(out, " ");
	return 0;
}

static int
ps_node_count(const char *name, uint64_t nid, const char *conf, size_t len,
    void *arg)
{
	(void)name;
	(void)nid;
	(void)conf;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/* PEP nodes and items (store_pubsub.c): ids, order, max, isolation */
static void
test_pubsub(void **state)
{
	static const char *const alice[] = { "alice@x.org" };
	struct fixture		*f = *state;
	struct pubsub_item	 it = { 0, "a", "alice@x.org", "<x/>", 4 }, got;
	uint64_t		 nid = 0, nid2 = 0, again = 0;
	char			*conf, out[512], longid[600];
	size_t			 len, n;
	int			 nodes = 0;

	assert_int_equal(store_pubsub_node_get(f->st, "alice", "x.org",
	    "urn:n", &nid, NULL, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &nid, "a1\n", 3, 10), 0);
	assert_true(nid > 0);
	/* creating it again is EEXIST; a service's own node is apart */
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &again, "", 0, 10), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_pubsub_node_put(f->st, NULL, "pubsub.x.org",
	    "urn:n", &nid2, "s\n", 2, 10), 0);
	assert_int_equal(store_pubsub_node_get(f->st, "alice", "x.org",
	    "urn:n", &again, &conf, &len), 0);
	assert_int_equal(again, nid);
	assert_string_equal(conf, "a1\n");
	free(conf);
	/* three items, max 2: the oldest goes; newest first */
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 2), 0);
	it.id = "b";
	it.xml = "<y/>";
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 2), 0);
	it.id = "c";
	it.xml = "<z/>";
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 2), 0);
	out[0] = '\0';
	assert_int_equal(store_pubsub_items(f->st, "alice", "x.org", nid, 0,
	    ps_collect, out), 0);
	assert_string_equal(out, "c:<z/> b:<y/> ");
	/* republishing b makes it newest; max 1 on reading */
	it.id = "b";
	it.xml = "<b2>";
	it.len = 4;
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 2), 0);
	out[0] = '\0';
	assert_int_equal(store_pubsub_items(f->st, "alice", "x.org", nid, 1,
	    ps_collect, out), 0);
	assert_string_equal(out, "b:<b2> ");
	assert_int_equal(store_pubsub_item_get(f->st, "alice", "x.org", nid,
	    "c", &got), 0);
	assert_string_equal(got.xml, "<z/>");
	assert_string_equal(got.publisher, "alice@x.org");
	pubsub_item_clear(&got);
	assert_int_equal(store_pubsub_item_get(f->st, "alice", "x.org", nid,
	    "a", &got), -1);
	assert_int_equal(errno, ENOENT);
	/* a long id is hashed in its key and still found by its name */
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	it.id = longid;
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 5), 0);
	assert_int_equal(store_pubsub_item_get(f->st, "alice", "x.org", nid,
	    longid, &got), 0);
	assert_string_equal(got.id, longid);
	pubsub_item_clear(&got);
	assert_int_equal(store_pubsub_item_count(f->st, "alice", "x.org",
	    nid, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_pubsub_item_del(f->st, "alice", "x.org", nid,
	    "c"), 0);
	assert_int_equal(store_pubsub_item_del(f->st, "alice", "x.org", nid,
	    "c"), -1);
	assert_int_equal(errno, ENOENT);
	/* the service's node holds none of them */
	assert_int_equal(store_pubsub_item_count(f->st, NULL, "pubsub.x.org",
	    nid2, &n), 0);
	assert_int_equal(n, 0);
	/* the node limit */
	again = 0;
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:m", &again, "", 0, 1), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(store_pubsub_node_list(f->st, "alice", "x.org",
	    ps_node_count, &nodes), 0);
	assert_int_equal(nodes, 1);
	/* purge, then delete; a node made again gets a new id, no items */
	assert_int_equal(store_pubsub_purge(f->st, "alice", "x.org", nid), 0);
	assert_int_equal(store_pubsub_item_count(f->st, "alice", "x.org",
	    nid, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 5), 0);
	assert_int_equal(store_pubsub_node_del(f->st, "alice", "x.org",
	    "urn:n"), 0);
	assert_int_equal(store_pubsub_node_del(f->st, "alice", "x.org",
	    "urn:n"), -1);
	again = 0;
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &again, "", 0, 10), 0);
	assert_true(again != nid);
	assert_int_equal(store_pubsub_item_count(f->st, "alice", "x.org",
	    again, &n), 0);
	assert_int_equal(n, 0);
	/* the account's deletion takes its nodes and items */
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", again,
	    &it, 5), 0);
	add_accounts(f->st, alice, 1);
	assert_int_equal(store_account_del(f->st, "alice", "x.org"), 0);
	assert_int_equal(store_pubsub_node_get(f->st, "alice", "x.org",
	    "urn:n", &nid, NULL, NULL), -1);
	assert_int_equal(store_pubsub_item_count(f->st, "alice", "x.org",
	    again, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_pubsub_node_get(f->st, NULL, "pubsub.x.org",
	    "urn:n", &nid, NULL, NULL), 0);
	/* the owner's node ids go on after it: none is given twice */
	nid = 0;
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &nid, "", 0, 10), 0);
	assert_true(nid > again);
}

/*
 * No limit given as SIZE_MAX (parleyctl import makes nodes so): nodes,
 * items kept and items listed are not bounded by it.
 */
static void
test_pubsub_no_limit(void **state)
{
	struct fixture		*f = *state;
	struct pubsub_item	 it = { 0, "a", "", "<x/>", 4 };
	uint64_t		 nid = 0;
	char			 out[512];

	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &nid, "", 0, SIZE_MAX), 0);
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, SIZE_MAX), 0);
	it.id = "b";
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, SIZE_MAX), 0);
	assert_int_equal(store_flush(f->st), 0);
	out[0] = '\0';
	assert_int_equal(store_pubsub_items(f->st, "alice", "x.org", nid,
	    SIZE_MAX, ps_collect, out), 0);
	assert_string_equal(out, "b:<x/> a:<x/> ");
}

struct half_write {
	const char	*key;
};

/* writes one record, then fails as a quota would */
static int
half_write_fn(struct store *st, MDB_txn *txn, void *arg)
{
	struct half_write	*hw = arg;
	MDB_val			 k, v;
	int			 rc;

	k.mv_data = (void *)hw->key;
	k.mv_size = strlen(hw->key);
	v.mv_data = "x";
	v.mv_size = 1;
	if ((rc = mdb_put(txn, st->docs, &k, &v, 0)) != 0)
		return rc;
	errno = EDQUOT;
	return -1;
}

/*
 * A deferred write that fails leaves nothing of itself in the shared
 * transaction and takes none of the other deferred writes with it.
 */
static void
test_deferred_failure_is_contained(void **state)
{
	struct fixture		*f = *state;
	struct half_write	 hw = { "half-written" };
	MDB_txn			*txn;
	MDB_val			 k, v;

	LMDB_ONLY("an LMDB write (PostgreSQL: test_pg_deferred_failure)");
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	assert_int_equal(store_write(f->st, "test", half_write_fn, &hw, true),
	    -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", "2 b", 3), 0);
	assert_int_equal(store_flush(f->st), 0);
	doc_expect(f->st, DOC_LAST, "alice", "", "1 a", 3);
	doc_expect(f->st, DOC_LAST, "bob", "", "2 b", 3);
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn),
	    0);
	k.mv_data = (void *)hw.key;
	k.mv_size = strlen(hw.key);
	assert_int_equal(mdb_get(txn, f->st->docs, &k, &v), MDB_NOTFOUND);
	mdb_txn_abort(txn);
}

/* ---- message archive ---------------------------------------------------- */

static void
arch_put(struct store *st, const char *owner, const char *with,
    uint64_t stamp, const char *body, const struct archive_limits *lim,
    uint64_t *id)
{
	struct archive_entry	e;

	memset(&e, 0, sizeof(e));
	e.nonce = stamp ^ 0x5555;
	e.stamp = stamp;
	e.with = (char *)with;
	e.xml = (char *)body;
	e.len = strlen(body);
	assert_int_equal(store_archive_put(st, owner, "localhost", &e, lim,
	    false), 0);
	if (id != NULL)
		*id = e.id;
}

struct arch_got {
	uint64_t	ids[64];
	char		bodies[64][16];
	size_t		n;
};

static int
arch_collect(const struct archive_entry *e, void *arg)
{
	struct arch_got	*g = arg;

	assert_true(g->n < 64);
	g->ids[g->n] = e->id;
	snprintf(g->bodies[g->n], sizeof(g->bodies[0]), "%s", e->xml);
	g->n++;
	return 0;
}

/* the entries r selects (g emptied first), and how many it counts */
static size_t
arch_query(struct store *st, const struct archive_range *r,
    struct arch_got *g)
{
	size_t	n;

	memset(g, 0, sizeof(*g));
	assert_int_equal(store_archive_query(st, "alice", "localhost", r,
	    arch_collect, g), 0);
	assert_int_equal(store_archive_count(st, "alice", "localhost", r,
	    &n), 0);
	return n;
}

static bool
arch_not_m2(const struct archive_entry *e, void *arg)
{
	return strcmp(e->xml, arg) != 0;
}

static void
test_archive(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_range	 r = { .hi = UINT64_MAX };
	struct archive_entry	 e;
	struct arch_got		 g;
	struct store_usage	 u;
	struct scram_creds	 cr;
	uint64_t		 id[6];
	size_t			 n;

	/* ids follow the stamp, one past the last when the clock lags */
	arch_put(f->st, "alice", "bob@localhost", 1000, "m0", &none, &id[0]);
	arch_put(f->st, "alice", "carol@localhost", 1000, "m1", &none,
	    &id[1]);
	arch_put(f->st, "alice", "bob@localhost", 900, "m2", &none, &id[2]);
	arch_put(f->st, "alice", "bob@localhost", 5000, "m3", &none, &id[3]);
	arch_put(f->st, "alice2", "bob@localhost", 6000, "x", &none, &id[4]);
	assert_int_equal(id[0], 1000);
	assert_int_equal(id[1], 1001);
	assert_int_equal(id[2], 1002);
	assert_int_equal(id[3], 5000);

	assert_int_equal(arch_query(f->st, &r, &g), 4);
	assert_int_equal(g.n, 4);	/* alice2's is not alice's */
	assert_string_equal(g.bodies[0], "m0");
	assert_string_equal(g.bodies[3], "m3");

	/* backward, bounded, with the index */
	r.with = "bob@localhost";
	r.backward = true;
	r.max = 2;
	assert_int_equal(arch_query(f->st, &r, &g), 3);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.bodies[0], "m3");
	assert_string_equal(g.bodies[1], "m2");

	/* an id range, both ways */
	memset(&g, 0, sizeof(g));
	r.with = NULL;
	r.lo = 1001;
	r.hi = 4999;
	r.max = 0;
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.bodies[0], "m2");
	r.backward = false;
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.bodies[0], "m1");

	/* a further test per entry: the query and the count both obey it */
	r.with = "bob@localhost";
	r.lo = 0;
	r.hi = UINT64_MAX;
	r.match = arch_not_m2;
	r.match_arg = "m2";
	assert_int_equal(arch_query(f->st, &r, &g), 2);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.bodies[0], "m0");
	assert_string_equal(g.bodies[1], "m3");
	r.backward = true;
	r.max = 1;
	assert_int_equal(arch_query(f->st, &r, &g), 2);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.bodies[0], "m3");
	r.match = NULL;
	r.backward = false;
	r.max = 0;

	assert_int_equal(store_archive_get(f->st, "alice", "localhost", id[1],
	    &e), 0);
	assert_string_equal(e.with, "carol@localhost");
	assert_string_equal(e.xml, "m1");
	assert_int_equal(e.nonce, 1000 ^ 0x5555);
	archive_entry_clear(&e);
	assert_int_equal(store_archive_get(f->st, "alice", "localhost", 77,
	    &e), -1);
	assert_int_equal(errno, ENOENT);

	/* persistence */
	reopen(f, MAPSIZE);
	assert_int_equal(store_archive_usage(f->st, "alice", "localhost", &u),
	    0);
	assert_int_equal(u.count, 4);

	/* deleted with the account */
	unit_creds(&cr, 1);
	assert_int_equal(store_account_add(f->st, "alice", "localhost", &cr),
	    0);
	assert_int_equal(store_account_del(f->st, "alice", "localhost"), 0);
	assert_int_equal(store_archive_usage(f->st, "alice", "localhost", &u),
	    0);
	assert_int_equal(u.count, 0);
	r.with = "bob@localhost";
	r.lo = 0;
	r.hi = UINT64_MAX;
	assert_int_equal(store_archive_count(f->st, "alice", "localhost", &r,
	    &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_archive_usage(f->st, "alice2", "localhost",
	    &u), 0);
	assert_int_equal(u.count, 1);
}

/* owner's archive has an entry id */
static void
arch_has(struct store *st, const char *owner, uint64_t id)
{
	struct archive_entry	got;

	assert_int_equal(store_archive_get(st, owner, "localhost", id, &got),
	    0);
	archive_entry_clear(&got);
}

/*
 * Every put to owner's archive fails (EIO): its totals corrupt (LMDB),
 * a trigger that refuses its entries (PostgreSQL), after the put has
 * raised the owner's totals in its transaction.
 */
static void
arch_corrupt_totals(struct fixture *f, const char *owner)
{
	struct store	*st = f->st;
	char		 key[STORE_KEY_BUF];
	MDB_txn		*txn;
	MDB_val		 k, v;

	if (pg_base != NULL) {
		snprintf(key, sizeof(key), "CREATE FUNCTION refuse() "
		    "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
		    "IF NEW.node = '%s' THEN RAISE EXCEPTION 'refused'; "
		    "END IF; RETURN NEW; END $$", owner);
		pg_admin(f->conninfo, key);
		pg_admin(f->conninfo, "CREATE TRIGGER refuse BEFORE INSERT "
		    "ON archive FOR EACH ROW EXECUTE FUNCTION refuse()");
		return;
	}
	k.mv_data = key;
	k.mv_size = owner_prefix(st, key, owner, "localhost");
	v.mv_data = "bad";
	v.mv_size = 3;
	assert_int_equal(mdb_txn_begin(st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, st->archive, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/*
 * One message in two archives: one deferred transaction for both; an
 * archive that cannot take it (an owner name too long for a key) spoils
 * not the other's entry.
 */
static void
test_archive_put_many(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e[2], got;
	struct archive_req	 req[2];
	char			 lng[STORE_KEY_BUF + 8];
	int			 i;

	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	memset(e, 0, sizeof(e));
	for (i = 0; i < 2; i++) {
		e[i].nonce = 7 + (uint64_t)i;
		e[i].stamp = 5000;
		e[i].with = i == 0 ? "bob@localhost" : "alice@localhost";
		e[i].xml = "<message/>";
		e[i].len = 10;
		req[i].domain = "localhost";
		req[i].e = &e[i];
	}
	req[0].owner = "alice";
	req[1].owner = "bob";
	assert_int_equal(store_archive_put_many(f->st, req, 2, &none, true),
	    0);
	assert_int_equal(e[0].id, 5000);
	assert_int_equal(e[1].id, 5000);
	assert_int_equal(store_flush(f->st), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(store_archive_get(f->st, req[i].owner,
		    "localhost", 5000, &got), 0);
		assert_string_equal(got.with, e[i].with);
		archive_entry_clear(&got);
	}
	/* the first cannot be stored: the second still is */
	req[0].owner = lng;
	assert_int_equal(store_archive_put_many(f->st, req, 2, &none, true),
	    -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(e[0].id, 0);
	assert_int_equal(e[1].id, 5001);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "bob", 5001);
	assert_int_equal(store_archive_put_many(f->st, req, ARCHIVE_PUT_MAX +
	    1, &none, true), -1);
	assert_int_equal(errno, EINVAL);

	/*
	 * carol's totals are corrupt: her entry fails in the shared
	 * transaction, which is undone; alice's, written before it in the
	 * same transaction, runs again and stays; bob's, in the same call
	 * as carol's, is written alone.
	 */
	arch_corrupt_totals(f, "carol");
	req[0].owner = "alice";
	assert_int_equal(store_archive_put_many(f->st, req, 1, &none, true),
	    0);
	assert_int_equal(e[0].id, 5001);
	req[0].owner = "carol";
	assert_int_equal(store_archive_put_many(f->st, req, 1, &none, true),
	    -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(e[0].id, 0);
	assert_int_equal(store_archive_put_many(f->st, req, 2, &none, true),
	    -1);
	assert_int_equal(e[0].id, 0);
	assert_int_equal(e[1].id, 5002);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "alice", 5001);
	arch_has(f->st, "bob", 5002);
}

/*
 * A message's entries that meet a full map together are each written
 * alone, and the map grows for them: all stored is success.
 */
static void
test_archive_put_many_map_grows(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e[2];
	struct archive_req	 req[2];
	char			*v;
	int			 i, k;

	LMDB_ONLY("LMDB's map growth");
	v = blob(30000, 4);
	reopen(f, 128 * 1024);
	store_set_mapmax(f->st, 4 * 1024 * 1024);
	memset(e, 0, sizeof(e));
	for (i = 0; i < 2; i++) {
		e[i].with = i == 0 ? "bob@localhost" : "alice@localhost";
		e[i].xml = v;
		e[i].len = 30000;
		req[i].owner = i == 0 ? "alice" : "bob";
		req[i].domain = "localhost";
		req[i].e = &e[i];
	}
	for (k = 0; k < 20; k++) {
		e[0].stamp = e[1].stamp = 6000 + (uint64_t)k;
		assert_int_equal(store_archive_put_many(f->st, req, 2, &none,
		    true), 0);
		assert_int_not_equal(e[0].id, 0);
		assert_int_not_equal(e[1].id, 0);
	}
	assert_int_equal(store_flush(f->st), 0);
	assert_true(f->st->mapsize > 128 * 1024);
	arch_has(f->st, "alice", 6019);
	arch_has(f->st, "bob", 6019);
	free(v);
}

/*
 * One flush, deferred writes of every kind, one of which fails: it
 * leaves nothing, the others are committed together at store_flush.
 */
static void
test_deferred_mixed_failure(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e, got;
	struct pubsub_item	 it;
	uint64_t		 nid = 0;
	size_t			 n;

	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &nid, "", 0, 10), 0);
	arch_corrupt_totals(f, "carol");
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	memset(&e, 0, sizeof(e));
	e.stamp = 7000;
	e.with = "bob@localhost";
	e.xml = "<message/>";
	e.len = 10;
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 7000);
	errno = 0;
	assert_int_equal(store_archive_put(f->st, "carol", "localhost", &e,
	    &none, true), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(e.id, 0);
	memset(&it, 0, sizeof(it));
	it.id = "i1";
	it.publisher = "alice@x.org";
	it.xml = "<x/>";
	it.len = 4;
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 10), 0);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", "2 b", 3), 0);
	assert_string_equal(docs_committed(f), "");
	assert_int_equal(store_flush(f->st), 0);
	assert_string_equal(docs_committed(f), "1 a|2 b|");
	arch_has(f->st, "alice", 7000);
	assert_int_equal(store_archive_get(f->st, "carol", "localhost", 7000,
	    &got), -1);
	assert_int_equal(store_pubsub_item_count(f->st, "alice", "x.org", nid,
	    &n), 0);
	assert_int_equal(n, 1);
}

/* a walk over the shared child whose callback writes (test below) */
struct walk_writes {
	struct store	*st;
	size_t		 seen;
};

static int
walk_writes(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct walk_writes	*w = arg;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e;

	(void)k;
	(void)v;
	if (w->seen++ > 0)
		return 0;
	/* carol's put fails: the walk's transaction must stay valid */
	memset(&e, 0, sizeof(e));
	e.stamp = 9000;
	e.with = "bob@localhost";
	e.xml = "<message/>";
	e.len = 10;
	assert_int_equal(store_archive_put(w->st, "carol", "localhost", &e,
	    &none, true), -1);
	assert_int_equal(store_doc_put_later(w->st, DOC_LAST, "dave",
	    "x.org", "", "1 x", 3), 0);
	e.stamp = 9001;
	assert_int_equal(store_archive_put(w->st, "alice", "localhost", &e,
	    &none, true), 0);
	return 0;
}

/*
 * A reader of the deferred writes (store_rtxn gives it the shared child)
 * whose callback writes: the child is not undone or committed under it.
 */
static void
test_archive_shared_reader(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e;
	struct walk_writes	 w = { f->st, 0 };

	LMDB_ONLY("LMDB's shared reader transaction");
	arch_corrupt_totals(f, "carol");
	memset(&e, 0, sizeof(e));
	e.stamp = 8000;
	e.with = "bob@localhost";
	e.xml = "<message/>";
	e.len = 10;
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(store_walk(f->st, f->st->archive, "test", "", 0,
	    walk_writes, &w), 0);
	assert_true(w.seen >= 3);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "alice", 8000);
	arch_has(f->st, "alice", 9001);
	doc_expect(f->st, DOC_LAST, "dave", "", "1 x", 3);
}

static void
test_archive_retention(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 lim = { 0, 3, 0 };
	struct archive_range	 r = { .with = "bob@localhost",
	    .hi = UINT64_MAX };
	struct arch_got		 g;
	struct store_usage	 u;
	size_t			 n;
	uint64_t		 i;

	/* by count: the oldest go, and their index keys with them */
	for (i = 1; i <= 5; i++)
		arch_put(f->st, "alice", "bob@localhost", i * 10, "m", &lim,
		    NULL);
	assert_int_equal(store_archive_usage(f->st, "alice", "localhost", &u),
	    0);
	assert_int_equal(u.count, 3);
	assert_int_equal(store_archive_count(f->st, "alice", "localhost", &r,
	    &n), 0);
	assert_int_equal(n, 3);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.ids[0], 30);

	/* by age: older than stamp - age */
	lim.count = 0;
	lim.age = 100;
	arch_put(f->st, "alice", "bob@localhost", 145, "m", &lim, NULL);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.n, 2);	/* 30 and 40 were older than 45 */
	assert_int_equal(g.ids[0], 50);

	/* by bytes: never the entry just added */
	lim.age = 0;
	lim.bytes = 1;
	arch_put(f->st, "alice", "bob@localhost", 200, "m", &lim, NULL);
	assert_int_equal(store_archive_usage(f->st, "alice", "localhost", &u),
	    0);
	assert_int_equal(u.count, 1);
}

/*
 * The retention rule both backends ask (store_retain.h): strictly past a
 * count or bytes limit; an entry older than the new one's stamp less the
 * age, never when the stamp is within the age of the epoch; 0 is none.
 */
static void
test_archive_over(void **state)
{
	struct archive_limits	none = { 0, 0, 0 }, m = { 100, 3, 50 };

	(void)state;
	assert_false(archive_over(&none, 1000, 1000, 1000, 0));
	assert_false(archive_over(&m, 3, 50, 1000, 900));
	assert_true(archive_over(&m, 4, 50, 1000, 900));
	assert_true(archive_over(&m, 3, 51, 1000, 900));
	assert_true(archive_over(&m, 3, 50, 1000, 899));
	assert_false(archive_over(&m, 3, 50, 100, 0));
	assert_true(archive_over(&m, 3, 50, 101, 0));
	assert_false(archive_over(&m, 3, 50, 1000, UINT64_MAX));
}

/* every other entry's correspondent, for test_archive_pages */
static const char *
pages_with(uint64_t i)
{
	return i % 2 == 0 ? "bob@localhost" : "carol@localhost";
}

static bool
arch_not_body(const struct archive_entry *e, void *arg)
{
	return strcmp(e->xml, arg) != 0;
}

/*
 * Archives longer than a page of the PostgreSQL walk (64 entries): every
 * range, both ways, with the index and with a match, reads each entry
 * once and in order; a nonce keeps all its 64 bits; an id never goes back
 * when the newest entry is deleted; retention removes more than a page.
 */
static void
test_archive_pages(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 }, ten = { 0, 10, 0 };
	struct archive_range	 r = { .hi = UINT64_MAX };
	struct archive_entry	 e;
	struct store_usage	 u;
	struct arch_got		 g;
	uint64_t		 i, id;
	size_t			 n;
	char			 body[16];

	for (i = 0; i < 150; i++) {
		snprintf(body, sizeof(body), "b%llu", (unsigned long long)i);
		arch_put(f->st, "alice", pages_with(i), 10000 + i, body,
		    &none, NULL);
	}
	/* forward past two pages, from the middle of the first */
	r.lo = 10005;
	r.max = 64;
	assert_int_equal(arch_query(f->st, &r, &g), 145);
	assert_int_equal(g.n, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(g.ids[i], 10005 + i);
	/* backward, with the index, to its end */
	r.lo = 0;
	r.hi = 10140;
	r.with = "bob@localhost";
	r.backward = true;
	r.max = 0;
	memset(&g, 0, sizeof(g));
	n = 0;
	assert_int_equal(store_archive_count(f->st, "alice", "localhost", &r,
	    &n), 0);
	assert_int_equal(n, 71);	/* 10000, 10002 ... 10140 */
	r.max = 64;
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.n, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(g.ids[i], 10140 - 2 * i);
	/* a match over several pages: counted and listed alike */
	r.match = arch_not_body;
	r.match_arg = "b4";
	r.with = NULL;
	r.hi = UINT64_MAX;
	r.max = 0;
	assert_int_equal(store_archive_count(f->st, "alice", "localhost", &r,
	    &n), 0);
	assert_int_equal(n, 149);
	r.max = 60;
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_archive_query(f->st, "alice", "localhost", &r,
	    arch_collect, &g), 0);
	assert_int_equal(g.n, 60);
	assert_int_equal(g.ids[0], 10149);
	assert_int_equal(g.ids[59], 10090);
	/* all 64 bits of a nonce */
	memset(&e, 0, sizeof(e));
	e.nonce = UINT64_MAX - 1;
	e.stamp = 10200;
	e.with = "bob@localhost";
	e.xml = "n";
	e.len = 1;
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, false), 0);
	id = e.id;
	assert_int_equal(store_archive_get(f->st, "alice", "localhost", id,
	    &e), 0);
	assert_true(e.nonce == UINT64_MAX - 1);
	archive_entry_clear(&e);
	/* the newest deleted: its id is still not given again */
	assert_int_equal(store_archive_del(f->st, "alice", "localhost", id),
	    0);
	assert_int_equal(store_archive_del(f->st, "alice", "localhost", id),
	    -1);
	assert_int_equal(errno, ENOENT);
	arch_put(f->st, "alice", "bob@localhost", 5, "late", &none, &id);
	assert_int_equal(id, 10201);
	/* 141 of 151 go in the put's transaction, the oldest first */
	arch_put(f->st, "alice", "bob@localhost", 10300, "last", &ten, &id);
	assert_int_equal(store_archive_usage(f->st, "alice", "localhost", &u),
	    0);
	assert_int_equal(u.count, 10);
	memset(&r, 0, sizeof(r));
	r.hi = UINT64_MAX;
	assert_int_equal(arch_query(f->st, &r, &g), 10);
	assert_int_equal(g.ids[0], 10142);
	assert_int_equal(g.ids[7], 10149);
	assert_int_equal(g.ids[8], 10201);
	assert_int_equal(g.ids[9], 10300);
}

/* ---- PostgreSQL only (storage/pg*.c) ------------------------------------ */

/* a database newer than the binary is refused, saying so */
static void
test_pg_schema_newer(void **state)
{
	struct fixture	*f = *state;
	char		 err[512];

	PG_ONLY();
	store_close(f->st);
	f->st = NULL;
	pg_admin(f->conninfo, "UPDATE parley_schema SET version = 999");
	assert_null(store_open_pg(f->conninfo, err, sizeof(err)));
	assert_non_null(strstr(err, "version 999, newer than this Parley"));
	pg_admin(f->conninfo, "UPDATE parley_schema SET version = 2");
	reopen(f, MAPSIZE);
}

static void
test_pg_bad_conninfo(void **state)
{
	char	err[512], conninfo[600];

	(void)state;
	PG_ONLY();
	snprintf(conninfo, sizeof(conninfo), "%s dbname=parley_no_such_db",
	    pg_base);
	assert_null(store_open_pg(conninfo, err, sizeof(err)));
	assert_non_null(strstr(err, "parley_no_such_db"));
}

/*
 * Several processes opening one new database at once (a router and
 * parleyctl): the advisory lock makes one apply the schema, the others
 * find it done.
 */
static void
test_pg_concurrent_open(void **state)
{
	struct fixture	*f = *state;
	struct store	*st;
	char		 conninfo[600], err[512];
	pid_t		 pids[4];
	int		 i, status;

	PG_ONLY();
	pg_admin(NULL, "DROP DATABASE IF EXISTS parley_unit_race");
	pg_admin(NULL, "CREATE DATABASE parley_unit_race TEMPLATE template0");
	snprintf(conninfo, sizeof(conninfo), "%s dbname=parley_unit_race",
	    pg_base);
	for (i = 0; i < 4; i++) {
		assert_true((pids[i] = fork()) != -1);
		if (pids[i] == 0) {
			st = store_open_pg(conninfo, err, sizeof(err));
			if (st == NULL)
				fprintf(stderr, "child: %s\n", err);
			_exit(st == NULL);
		}
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	(void)f;
	pg_admin(NULL, "DROP DATABASE parley_unit_race WITH (FORCE)");
}

/* store_abort undoes the batch, not the deferred writes before it */
static void
test_pg_abort_keeps_deferred(void **state)
{
	struct fixture	*f = *state;

	PG_ONLY();
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "alice", "x.org", "",
	    "<v/>", 4), 0);
	store_abort(f->st);
	doc_expect(f->st, DOC_VCARD, "alice", "", NULL, 0);
	doc_expect(f->st, DOC_LAST, "alice", "", "1 a", 3);
	assert_string_equal(docs_committed(f), "");
	assert_int_equal(store_flush(f->st), 0);
	assert_string_equal(docs_committed(f), "1 a|");
	/* a batch that commits takes the deferred writes with it */
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", "2 b", 3), 0);
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "bob", "x.org", "",
	    "<v/>", 4), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_string_equal(docs_committed(f), "1 a|2 b|<v/>|");
}

/* a failed write inside a batch leaves the batch usable (EEXIST) */
static void
test_pg_batch_survives_eexist(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	PG_ONLY();
	unit_creds(&c, 1);
	assert_int_equal(store_account_add(f->st, "alice", "x.org", &c), 0);
	assert_int_equal(store_begin(f->st), 0);
	errno = 0;
	assert_int_equal(store_account_add(f->st, "alice", "x.org", &c), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_account_add(f->st, "bob", "x.org", &c), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_account_get(f->st, "bob", "x.org", &c), 0);
}

struct half_write_pg {
	const char	*name;
};

/* writes one document, then fails as a quota would */
static int
half_write_pg_fn(struct pgstore *pg, void *arg)
{
	struct half_write_pg	*hw = arg;
	struct pgq		 q;

	pgq_owner(&q, "alice", "x.org");
	pgq_text(&q, hw->name);
	if (pg_cmd(pg, "test", "INSERT INTO docs VALUES ($1, $2, 'last', "
	    "$3, 'x')", &q) == -1)
		return -1;
	errno = EDQUOT;
	return -1;
}

/* a deferred write that fails is undone alone (its savepoint) */
static void
test_pg_deferred_failure(void **state)
{
	struct fixture		*f = *state;
	struct half_write_pg	 hw = { "half-written" };

	PG_ONLY();
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	assert_int_equal(pg_write(f->st->pg, "test", half_write_pg_fn, &hw,
	    true), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "bob",
	    "x.org", "", "2 b", 3), 0);
	assert_int_equal(store_flush(f->st), 0);
	assert_string_equal(docs_committed(f), "1 a|2 b|");
}

/* the server ends our session (a restart, a failover) */
static void
pg_kill_session(const struct fixture *f)
{
	char	sql[256];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE datname = '%s' AND "
	    "pid <> pg_backend_pid()", f->db);
	pg_admin(NULL, sql);
}

/*
 * A lost connection: outside a transaction the next call reconnects and
 * succeeds; deferred writes that were open fail (EIO) and are gone, and
 * the store works again after.
 */
static void
test_pg_reconnect(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	PG_ONLY();
	unit_creds(&c, 1);
	assert_int_equal(store_account_add(f->st, "alice", "x.org", &c), 0);
	pg_kill_session(f);
	assert_int_equal(store_account_get(f->st, "alice", "x.org", &c), 0);
	pg_kill_session(f);
	assert_int_equal(store_account_add(f->st, "bob", "x.org", &c), 0);

	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	pg_kill_session(f);
	errno = 0;
	assert_int_equal(store_flush(f->st), -1);
	assert_int_equal(errno, EIO);
	doc_expect(f->st, DOC_LAST, "alice", "", NULL, 0);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "2 a", 3), 0);
	assert_int_equal(store_flush(f->st), 0);
	doc_expect(f->st, DOC_LAST, "alice", "", "2 a", 3);

	/* a batch whose connection went fails at commit, then all is well */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "alice", "x.org", "",
	    "<v/>", 4), 0);
	pg_kill_session(f);
	errno = 0;
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "bob", "x.org", "",
	    "<v/>", 4), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(store_commit(f->st), -1);
	assert_int_equal(errno, EIO);
	doc_expect(f->st, DOC_VCARD, "alice", "", NULL, 0);
	assert_int_equal(store_account_get(f->st, "bob", "x.org", &c), 0);
}

/* the prepared statements of the store's own session */
static int
pg_prepared(const struct fixture *f, const char *like)
{
	PGresult	*res;
	struct pgq	 q;
	int		 n;

	pgq_init(&q);
	pgq_text(&q, like);
	/* with a parameter: prepared itself, once */
	res = pg_run(f->st->pg, "test", "SELECT count(*) FROM "
	    "pg_prepared_statements WHERE statement LIKE $1", &q);
	assert_non_null(res);
	n = (int)pg_u64(res, 0, 0);
	PQclear(res);
	return n;
}

/*
 * A statement with parameters is prepared once per connection (pg_send)
 * and executed by name after; a statement whose Parse the server never
 * ran (the pipeline aborted before it) is prepared again at its next
 * use, and a new connection prepares them anew.
 */
static void
test_pg_prepared(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;
	const char *const	 sql[2] = { "SELECT 1 / $1::int",
	    "SELECT $1::int + 1" };
	struct pgq		 q0, q1;
	const struct pgq	*qs[2] = { &q0, &q1 };
	PGresult		*res[2];
	int			 i, before;

	PG_ONLY();
	unit_creds(&c, 1);
	assert_int_equal(store_account_add(f->st, "alice", "x.org", &c), 0);
	assert_int_equal(store_account_get(f->st, "alice", "x.org", &c), 0);
	before = pg_prepared(f, "%FROM accounts%");
	assert_int_equal(before, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(store_account_get(f->st, "alice", "x.org",
		    &c), 0);
	assert_int_equal(pg_prepared(f, "%FROM accounts%"), before);

	/* the first fails (division by zero): the second never parsed */
	pgq_init(&q0);
	pgq_text(&q0, "0");
	pgq_init(&q1);
	pgq_text(&q1, "41");
	errno = 0;
	assert_int_equal(pg_run_n(f->st->pg, "test", 2, sql, qs, res), -1);
	assert_int_equal(pg_prepared(f, "SELECT $1::int + 1"), 0);
	assert_int_equal(pg_prepared(f, "SELECT 1 / $1::int"), 1);
	/* both run now, the second prepared at last */
	pgq_init(&q0);
	pgq_text(&q0, "1");
	assert_int_equal(pg_run_n(f->st->pg, "test", 2, sql, qs, res), 0);
	assert_int_equal((int)pg_u64(res[1], 0, 0), 42);
	PQclear(res[0]);
	PQclear(res[1]);
	assert_int_equal(pg_prepared(f, "SELECT $1::int + 1"), 1);

	/* a new session has none: they are prepared again */
	pg_kill_session(f);
	assert_int_equal(store_account_get(f->st, "alice", "x.org", &c), 0);
	assert_int_equal(pg_prepared(f, "%FROM accounts%"), 1);
	assert_int_equal(pg_prepared(f, "SELECT $1::int + 1"), 0);
}

/*
 * The roster version and the offline sequence outlive the account, as
 * LMDB's meta does: the same name made again never reuses them.
 */
static void
test_pg_counters_outlive_account(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;
	struct store_usage	 max = { 10, 1000 };
	uint64_t		 ver, seq;

	PG_ONLY();
	unit_creds(&c, 1);
	assert_int_equal(store_account_add(f->st, "u", "x.org", &c), 0);
	roster_add(f->st, "u", "x.org", "a@x.org");
	roster_add(f->st, "u", "x.org", "b@x.org");
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "m", 1, &max,
	    &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(store_account_del(f->st, "u", "x.org"), 0);
	assert_int_equal(store_account_add(f->st, "u", "x.org", &c), 0);
	assert_int_equal(store_roster_version(f->st, "u", "x.org", &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(roster_add(f->st, "u", "x.org", "a@x.org"), 3);
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "m", 1, &max,
	    &seq), 0);
	assert_int_equal(seq, 2);
}

/*
 * The delivery path's cost: each deferred write is one round trip (its
 * BEGIN, SAVEPOINT and RELEASE travel with its statements, a message's
 * archive entries together), store_flush one more.
 */
static void
test_pg_deferred_round_trips(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e[2];
	struct archive_req	 req[2];
	struct pubsub_item	 it;
	uint64_t		 nid = 0, before;
	int			 i;

	PG_ONLY();
	assert_int_equal(store_pubsub_node_put(f->st, "alice", "x.org",
	    "urn:n", &nid, "", 0, 10), 0);
	memset(e, 0, sizeof(e));
	for (i = 0; i < 2; i++) {
		e[i].stamp = 5000;
		e[i].with = "bob@localhost";
		e[i].xml = "<message/>";
		e[i].len = 10;
		req[i].owner = i == 0 ? "alice" : "bob";
		req[i].domain = "localhost";
		req[i].e = &e[i];
	}
	memset(&it, 0, sizeof(it));
	it.id = "i1";
	it.publisher = "";
	it.xml = "<x/>";
	it.len = 4;
	before = f->st->pg->syncs;
	assert_int_equal(store_archive_put_many(f->st, req, 2, &none, true),
	    0);
	assert_int_equal(f->st->pg->syncs - before, 1);
	assert_int_equal(store_doc_put_later(f->st, DOC_LAST, "alice",
	    "x.org", "", "1 a", 3), 0);
	assert_int_equal(store_pubsub_item_put(f->st, "alice", "x.org", nid,
	    &it, 10), 0);
	assert_int_equal(f->st->pg->syncs - before, 3);
	assert_int_equal(store_flush(f->st), 0);
	assert_int_equal(f->st->pg->syncs - before, 4);
	arch_has(f->st, "alice", 5000);
	arch_has(f->st, "bob", 5000);
	/* an ordinary write: BEGIN travels with its first statement */
	before = f->st->pg->syncs;
	assert_int_equal(store_doc_put(f->st, DOC_VCARD, "alice", "x.org", "",
	    "<v/>", 4), 0);
	assert_int_equal(f->st->pg->syncs - before, 2);
}

/*
 * An archive id handed out in a transaction that was lost is not given
 * again, though the owner's last id went back with the rollback; the
 * first deferred write after the server ended the session reconnects
 * (its BEGIN had not run) and succeeds.
 */
static void
test_pg_archive_ids_not_reused(void **state)
{
	struct fixture		*f = *state;
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e, got;

	PG_ONLY();
	memset(&e, 0, sizeof(e));
	e.stamp = 5000;
	e.with = "bob@localhost";
	e.xml = "<message/>";
	e.len = 10;
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 5000);
	pg_kill_session(f);
	assert_int_equal(store_flush(f->st), -1);
	assert_int_equal(store_archive_get(f->st, "alice", "localhost", 5000,
	    &got), -1);
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 5001);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "alice", 5001);

	/* the session ended while no transaction was open */
	pg_kill_session(f);
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 5002);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "alice", 5002);

	/* a commit the server refuses does the same as a lost session */
	pg_admin(f->conninfo, "CREATE FUNCTION refuse_commit() RETURNS "
	    "trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; "
	    "END $$");
	pg_admin(f->conninfo, "CREATE CONSTRAINT TRIGGER refuse_commit "
	    "AFTER INSERT ON archive DEFERRABLE INITIALLY DEFERRED "
	    "FOR EACH ROW EXECUTE FUNCTION refuse_commit()");
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 5003);
	assert_int_equal(store_flush(f->st), -1);
	pg_admin(f->conninfo, "DROP TRIGGER refuse_commit ON archive");
	assert_int_equal(store_archive_put(f->st, "alice", "localhost", &e,
	    &none, true), 0);
	assert_int_equal(e.id, 5004);
	assert_int_equal(store_flush(f->st), 0);
	arch_has(f->st, "alice", 5004);
}

/* "no limit" (SIZE_MAX, UINT64_MAX) is past int8: the largest, no error */
static void
test_pg_no_limit(void **state)
{
	struct fixture		*f = *state;
	struct store_usage	 max = { SIZE_MAX, SIZE_MAX };
	uint64_t		 nid = 0;
	size_t			 n;

	PG_ONLY();
	assert_int_equal(store_pubsub_node_put(f->st, "u", "x.org", "urn:n",
	    &nid, "c", 1, SIZE_MAX), 0);
	assert_true(nid > 0);
	assert_int_equal(store_offline_put(f->st, "u", "x.org", "m", 1, &max,
	    NULL), 0);
	assert_int_equal(store_offline_del(f->st, "u", "x.org", UINT64_MAX),
	    0);
	assert_int_equal(store_offline_count(f->st, "u", "x.org", &n), 0);
	assert_int_equal(n, 0);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest	tests[] = {
		T(test_add_get_roundtrip),
		T(test_add_existing_is_eexist),
		T(test_missing_is_enoent),
		T(test_set_replaces),
		T(test_del),
		T(test_same_node_other_domain),
		T(test_invalid_creds_rejected),
		T(test_upgrade_adds_sha256),
		T(test_key_too_long),
		T(test_list_domain_and_all),
		T(test_list_stops_when_asked),
		T(test_corrupt_version),
		T(test_corrupt_saltlen),
		T(test_corrupt_length),
		T(test_corrupt_trailing),
		T(test_map_full_is_enospc),
		T(test_reopen_persists),
		T(test_open_creates_dirs),
		T(test_open_failure_reports),
		T(test_account_key_limit),
		T(test_roster_roundtrip),
		T(test_roster_each_flag_and_sub),
		T(test_roster_groups_max),
		T(test_roster_replace_del_versions),
		T(test_roster_version_persists),
		T(test_roster_list_isolation),
		T(test_roster_long_contacts),
		T(test_roster_corrupt),
		T(test_offline_order_and_del),
		T(test_offline_del_one),
		T(test_offline_binary_len),
		T(test_offline_limit),
		T(test_offline_seq_monotonic_across_reopen),
		T(test_offline_many_isolated),
		T(test_offline_map_full),
		T(test_docs),
		T(test_docs_later),
		T(test_blocks),
		T(test_account_del_cascades),
		T(test_roles),
		T(test_invite_docs),
		T(test_doc_walk_account),
		T(test_roster_pages),
		T(test_offline_pages),
		T(test_block_pages),
		T(test_doc_walk_pages),
		T(test_pg_listings_page),
		cmocka_unit_test(test_role_words),
		T(test_batch_is_one_commit),
		T(test_batch_abort_stores_nothing),
		T(test_batch_map_full),
		T(test_map_grows_to_max),
		T(test_batch_eagain_then_fits),
		T(test_usage_and_offline_bytes),
		T(test_pubsub),
		T(test_pubsub_no_limit),
		T(test_deferred_failure_is_contained),
		T(test_archive),
		T(test_archive_put_many),
		T(test_archive_put_many_map_grows),
		T(test_archive_shared_reader),
		T(test_deferred_mixed_failure),
		T(test_archive_retention),
		cmocka_unit_test(test_archive_over),
		T(test_archive_pages),
		T(test_pg_schema_newer),
		cmocka_unit_test(test_pg_bad_conninfo),
		T(test_pg_concurrent_open),
		T(test_pg_abort_keeps_deferred),
		T(test_pg_batch_survives_eexist),
		T(test_pg_deferred_failure),
		T(test_pg_reconnect),
		T(test_pg_prepared),
		T(test_pg_counters_outlive_account),
		T(test_pg_no_limit),
		T(test_pg_deferred_round_trips),
		T(test_pg_archive_ids_not_reused),
	};
	int			rc;

	if (argc == 3 && strcmp(argv[1], "--docs") == 0)
		return docs_dump(argv[2]);
	self_path = argv[0];
	if ((pg_base = getenv("PARLEY_TEST_PG")) != NULL && *pg_base == '\0')
		pg_base = NULL;
	if (pg_base != NULL)
		pg_unit_db(true);
	/* corrupt records and the full map are logged; keep output clean */
	log_verbosity = LOG_LVL_ERR;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (pg_base != NULL)
		pg_unit_db(false);
	return rc;
}
