/*
 * Unit tests for storage/store.c against a real LMDB environment in a
 * fresh temporary directory: account add/get/set/del/list, the errno
 * contract, corrupt records, a full map, and persistence across reopen.
 */
#include <sys/stat.h>

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

#include "../../common/log.h"
#include "../../common/util.h"
#include "../../storage/store.h"

#define MAPSIZE		(1u << 20)
#define MARKER		"MARKER-SALT-0001"	/* 16 bytes: SCRAM_SALT_LEN */

struct fixture {
	char		 dir[64];
	struct store	*st;
};

/* deterministic credentials: every byte derived from seed */
static void
creds_fill(struct scram_creds *c, uint8_t seed)
{
	int	h;
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (h = 0; h < SCRAM_NHASH; h++) {
		c->h[h].iter = 4096 + seed + (uint32_t)h;
		c->h[h].saltlen = SCRAM_SALT_LEN;
		for (i = 0; i < SCRAM_SALT_LEN; i++)
			c->h[h].salt[i] = (uint8_t)(seed + i + 7 * h);
		for (i = 0; i < scram_hash_len((enum scram_hash)h); i++) {
			c->h[h].stored_key[i] = (uint8_t)(seed * 3 + i);
			c->h[h].server_key[i] = (uint8_t)(seed * 5 + i + h);
		}
	}
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
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
	f->st = store_open(f->dir, MAPSIZE, err, sizeof(err));
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

	store_close(f->st);
	nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
reopen(struct fixture *f, size_t mapsize)
{
	char	err[256];

	store_close(f->st);
	f->st = store_open(f->dir, mapsize, err, sizeof(err));
	assert_non_null(f->st);
}

static void
test_add_get_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 in, out;

	creds_fill(&in, 1);
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

	creds_fill(&a, 1);
	creds_fill(&b, 2);
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

	creds_fill(&c, 3);
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

	creds_fill(&a, 4);
	creds_fill(&b, 5);
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

	creds_fill(&c, 6);
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

	creds_fill(&a, 7);
	creds_fill(&b, 8);
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

static void
test_invalid_creds_rejected(void **state)
{
	struct fixture		*f = *state;
	struct scram_creds	 c;

	creds_fill(&c, 9);
	c.h[SCRAM_SHA256].iter = 0;
	errno = 0;
	assert_int_equal(store_account_add(f->st, "x", "localhost", &c), -1);
	assert_int_equal(errno, EINVAL);
	creds_fill(&c, 9);
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

	creds_fill(&c, 10);
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

	creds_fill(&c, 11);
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

	creds_fill(&c, 12);
	memcpy(c.h[SCRAM_SHA1].salt, MARKER, strlen(MARKER));
	assert_int_equal(store_account_add(f->st, "eve", "localhost", &c), 0);
	creds_fill(&c, 13);
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

	reopen(f, 64 * 1024);
	creds_fill(&c, 14);
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

	creds_fill(&c, 15);
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

	/* a regular file where the directory should be */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd != -1);
	close(fd);
	err[0] = '\0';
	assert_null(store_open(path, MAPSIZE, err, sizeof(err)));
	assert_non_null(strstr(err, path));
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		T(test_add_get_roundtrip),
		T(test_add_existing_is_eexist),
		T(test_missing_is_enoent),
		T(test_set_replaces),
		T(test_del),
		T(test_same_node_other_domain),
		T(test_invalid_creds_rejected),
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
	};

	/* corrupt records and the full map are logged; keep output clean */
	log_verbosity = LOG_LVL_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
