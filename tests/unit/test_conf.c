/*
 * Unit tests for common/conf.c: every option parses and lands in its
 * field, defaults apply, and every kind of mistake is reported with the
 * right line and message while the load fails and leaves nothing behind.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/conf.h"
#include "../../common/util.h"

#define HOSTS	"host example.org {\n" \
		"\tcertificate test.crt\n" \
		"\tkey test.key\n" \
		"}\n"

static char	 tmpdir[] = "/tmp/test_conf.XXXXXX";
static char	 srcdir[PATH_MAX];
static char	*errs;		/* what the last load wrote to stderr */

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* loads path with stderr captured into errs */
static int
load_path(struct conf *c, const char *path)
{
	FILE	*fp;
	long	 len;
	int	 saved, fd, rc;

	fflush(stderr);
	saved = dup(2);
	fd = open("stderr.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	rc = conf_load(c, path);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);

	free(errs);
	fp = fopen("stderr.txt", "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	errs = calloc(1, (size_t)len + 1);
	assert_non_null(errs);
	assert_int_equal(fread(errs, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return rc;
}

static int
load_len(struct conf *c, const char *text, size_t len)
{
	write_file("t.conf", text, len);
	return load_path(c, "t.conf");
}

static int
load(struct conf *c, const char *text)
{
	return load_len(c, text, strlen(text));
}

static size_t
nerrs(void)
{
	const char	*s;
	size_t		 n = 0;

	for (s = errs; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
expect_raw(const char *want)
{
	if (strstr(errs, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, errs);
}

/* a whole "t.conf:LINE: msg" line */
static void
expect_err(int line, const char *msg)
{
	char	want[1024];

	snprintf(want, sizeof(want), "t.conf:%d: %s\n", line, msg);
	expect_raw(want);
}

static void
assert_cleared(const struct conf *c)
{
	assert_null(c->path);
	assert_null(c->hosts);
	assert_int_equal(c->nhosts, 0);
	assert_null(c->listens);
	assert_int_equal(c->nlistens, 0);
	assert_null(c->datadir);
	assert_null(c->tls_priority);
}

static int
setup(void **state)
{
	(void)state;
	if (getcwd(srcdir, sizeof(srcdir)) == NULL)
		return -1;
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) == -1)
		return -1;
	write_file("test.crt", "cert\n", 5);
	write_file("test.key", "key\n", 4);
	if (mkdir("var", 0700) == -1)
		return -1;
	write_file("var/localhost.crt", "cert\n", 5);
	write_file("var/localhost.key", "key\n", 4);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(errs);
	errs = NULL;
	unlink("test.crt");
	unlink("test.key");
	unlink("t.conf");
	unlink("stderr.txt");
	unlink("var/localhost.crt");
	unlink("var/localhost.key");
	rmdir("var");
	if (chdir(srcdir) == -1)
		return -1;
	return rmdir(tmpdir);
}

static const char *
sa_text(const struct conf_listen *l, char *buf, size_t len)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (l->sa.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)&l->sa;
		return inet_ntop(AF_INET, &sin->sin_addr, buf,
		    (socklen_t)len);
	}
	sin6 = (const struct sockaddr_in6 *)(const void *)&l->sa;
	return inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len);
}

static uint16_t
sa_port(const struct conf_listen *l)
{
	if (l->sa.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)
		    &l->sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)
	    &l->sa)->sin6_port);
}

static void
assert_listen(const struct conf_listen *l, enum listen_kind kind,
    int family, const char *addr, uint16_t port)
{
	char	buf[INET6_ADDRSTRLEN];

	assert_int_equal(l->kind, kind);
	assert_int_equal(l->sa.ss_family, family);
	assert_int_equal(l->salen, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	assert_string_equal(l->addr, addr);
	assert_string_equal(sa_text(l, buf, sizeof(buf)), addr);
	assert_int_equal(l->port, port);
	assert_int_equal(sa_port(l), port);
}

static void
test_conf_full_file(void **state)
{
	struct conf		 c;
	const struct conf_host	*h;

	(void)state;
	assert_int_equal(load(&c,
	    "# every option, none at its default\n"
	    "workers 8\n"
	    "datadir \"/srv/parley data\"   # quoted, with a space\n"
	    "rundir /run/parley\n"
	    "log-level debug\n"
	    "lmdb-mapsize 2G\n"
	    "scram-iterations 10000\n"
	    "c2s-listen 192.0.2.1:5222\n"
	    "c2s-listen [2001:db8::1]:15222\n"
	    "\n"
	    "c2s-tls-listen *:5223\n"
	    "c2s-tls-listen [::]:5223\n"
	    "c2s-require-tls off\n"
	    "tls-priority \"NORMAL:%SERVER_PRECEDENCE\"\n"
	    "max-stanza-size 65536\n"
	    "negotiation-timeout 2m\n"
	    "idle-timeout 1h\n"
	    "auth-retries 5\n"
	    "c2s-max-sessions 5000\n"
	    "link-queue-max 128M\n"
	    "host Example.ORG {\n"
	    "\tcertificate test.crt\n"
	    "\tkey \"test.key\"\n"
	    "}\n"
	    "host xmpp.example.net{\n"
	    "certificate test.crt\n"
	    "key test.key\n"
	    "} # done\n"), 0);
	assert_string_equal(errs, "");
	assert_string_equal(c.path, "t.conf");
	assert_int_equal(c.workers, 8);
	assert_string_equal(c.datadir, "/srv/parley data");
	assert_string_equal(c.rundir, "/run/parley");
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.lmdb_mapsize, 2ULL << 30);
	assert_int_equal(c.scram_iterations, 10000);
	assert_int_equal(c.nlistens, 4);
	assert_listen(&c.listens[0], LISTEN_C2S, AF_INET, "192.0.2.1", 5222);
	assert_int_equal(c.listens[0].line, 8);
	assert_listen(&c.listens[1], LISTEN_C2S, AF_INET6, "2001:db8::1",
	    15222);
	assert_listen(&c.listens[2], LISTEN_C2S_TLS, AF_INET, "0.0.0.0",
	    5223);
	assert_int_equal(c.listens[2].line, 11);
	assert_listen(&c.listens[3], LISTEN_C2S_TLS, AF_INET6, "::", 5223);
	assert_false(c.c2s_require_tls);
	assert_string_equal(c.tls_priority, "NORMAL:%SERVER_PRECEDENCE");
	assert_int_equal(c.max_stanza_size, 65536);
	assert_int_equal(c.negotiation_timeout, 120);
	assert_int_equal(c.idle_timeout, 3600);
	assert_int_equal(c.auth_retries, 5);
	assert_int_equal(c.c2s_max_sessions, 5000);
	assert_int_equal(c.link_queue_max, 128ULL << 20);
	assert_int_equal(c.nhosts, 2);
	assert_string_equal(c.hosts[0].name, "example.org");
	assert_string_equal(c.hosts[0].cert, "test.crt");
	assert_string_equal(c.hosts[0].key, "test.key");
	assert_int_equal(c.hosts[0].line, 21);
	assert_string_equal(c.hosts[1].name, "xmpp.example.net");
	assert_int_equal(c.hosts[1].line, 25);

	h = conf_host_find(&c, "xmpp.example.net");
	assert_ptr_equal(h, &c.hosts[1]);
	assert_ptr_equal(conf_host_find(&c, "example.org"), &c.hosts[0]);
	assert_null(conf_host_find(&c, "example.com"));
	conf_clear(&c);
	assert_cleared(&c);
	conf_clear(&c);		/* twice is harmless */
}

static void
test_conf_defaults(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c, HOSTS), 0);
	assert_string_equal(errs, "");
	assert_int_equal(c.workers, 2);
	assert_string_equal(c.datadir, "var/data");
	assert_string_equal(c.rundir, "var/run");
	assert_string_equal(c.log_level, "info");
	assert_int_equal(c.lmdb_mapsize, 1ULL << 30);
	assert_int_equal(c.scram_iterations, 4096);
	assert_true(c.c2s_require_tls);
	assert_string_equal(c.tls_priority, "SECURE128:-VERS-ALL:"
	    "+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-CIPHER-ALL:+AES-256-GCM:"
	    "+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"
	    "%SERVER_PRECEDENCE");
	assert_int_equal(c.max_stanza_size, 256 * 1024);
	assert_int_equal(c.negotiation_timeout, 30);
	assert_int_equal(c.idle_timeout, 600);
	assert_int_equal(c.auth_retries, 3);
	assert_int_equal(c.c2s_max_sessions, 100000);
	assert_int_equal(c.link_queue_max, 64ULL << 20);
	/* the e2e tests shorten these two; their defaults are checked here */
	assert_int_equal(c.c2s_restart_hold, 30);
	assert_int_equal(c.restart_backoff_max, 30);
	/* no listener at all: the four loopback ones */
	assert_int_equal(c.nlistens, 4);
	assert_listen(&c.listens[0], LISTEN_C2S, AF_INET, "127.0.0.1", 5222);
	assert_listen(&c.listens[1], LISTEN_C2S, AF_INET6, "::1", 5222);
	assert_listen(&c.listens[2], LISTEN_C2S_TLS, AF_INET, "127.0.0.1",
	    5223);
	assert_listen(&c.listens[3], LISTEN_C2S_TLS, AF_INET6, "::1", 5223);
	conf_clear(&c);
}

/* member-can, limited-can, upload-quota-limited (common/role.h) */
static void
test_conf_roles(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c, HOSTS), 0);
	assert_string_equal(c.hosts[0].member_can,
	    "create-rooms upload invite");
	assert_string_equal(c.hosts[0].limited_can, "none");
	assert_int_equal(c.hosts[0].upload_quota_limited, 10 << 20);
	conf_clear(&c);
	assert_int_equal(load(&c, "host example.org {\n"
	    "\tcertificate test.crt\n\tkey test.key\n"
	    "\tmember-can \"upload admin-commands\"\n"
	    "\tlimited-can upload\n\tupload-quota-limited 0\n}\n"), 0);
	assert_string_equal(c.hosts[0].member_can, "upload admin-commands");
	assert_string_equal(c.hosts[0].limited_can, "upload");
	assert_int_equal(c.hosts[0].upload_quota_limited, 0);
	conf_clear(&c);
	/* each unknown word, escaped, with the words to use */
	assert_int_equal(load(&c, "host example.org {\n"
	    "\tcertificate test.crt\n\tkey test.key\n"
	    "\tmember-can \"upload kick\"\n"
	    "\tlimited-can \"none \x1b[31m\"\n}\n"), -1);
	expect_err(4, "member-can: unknown capability \"kick\" (use "
	    "create-rooms, upload, invite, register-accounts, "
	    "admin-commands, or none, separated by spaces)");
	expect_raw("t.conf:5: limited-can: unknown capability \"\\x1b[31m\"");
	assert_int_equal(nerrs(), 2);
	assert_cleared(&c);
}

/* which processes a host runs: processes, and router-address's default */
static void
test_conf_processes(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c, HOSTS), 0);
	assert_int_equal(c.run, CONF_RUN_ROUTER | CONF_RUN_S2S |
	    CONF_RUN_C2S);
	conf_clear(&c);
	assert_int_equal(load(&c, "router-address 10.0.0.1:5270\n"
	    "link-psk-file test.key\nlink-psk-identity b\n" HOSTS), 0);
	assert_int_equal(c.run, CONF_RUN_C2S);
	conf_clear(&c);
	assert_int_equal(load(&c, "processes \" s2s , c2s\"\n"
	    "router-address 10.0.0.1:5270\n"
	    "link-psk-file test.key\nlink-psk-identity b\n" HOSTS), 0);
	assert_int_equal(c.run, CONF_RUN_S2S | CONF_RUN_C2S);
	conf_clear(&c);
	assert_int_equal(load(&c, "processes router\n" HOSTS), 0);
	assert_int_equal(c.run, CONF_RUN_ROUTER);
	conf_clear(&c);
	/* a trailing comma ends the list; a leading one is an empty name */
	assert_int_equal(load(&c, "processes router,c2s,\n" HOSTS), 0);
	assert_int_equal(c.run, CONF_RUN_ROUTER | CONF_RUN_C2S);
	conf_clear(&c);
	assert_int_equal(load(&c, "processes ,c2s\n" HOSTS), -1);
	expect_err(1, "processes: an empty name in \",c2s\" (write names of "
	    "router, s2s and c2s separated by commas)");
	assert_cleared(&c);
	assert_int_equal(load(&c, "processes c2s,C2S\n" HOSTS), -1);
	expect_err(1, "processes: \"C2S\" is not router, s2s or c2s, or is "
	    "named twice");
	assert_cleared(&c);
}

static void
test_conf_one_listener_no_defaults(void **state)
{
	struct conf	c;

	(void)state;
	/* any listener replaces all the defaults, of both kinds */
	assert_int_equal(load(&c, "c2s-tls-listen 127.0.0.1:5223\n" HOSTS),
	    0);
	assert_int_equal(c.nlistens, 1);
	assert_listen(&c.listens[0], LISTEN_C2S_TLS, AF_INET, "127.0.0.1",
	    5223);
	conf_clear(&c);
}

static void
test_conf_example_file(void **state)
{
	struct conf	c;
	char		path[PATH_MAX + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/parley.conf", srcdir);
	if (access(path, R_OK) == -1)
		skip();		/* not run from the repository root */
	assert_int_equal(load_path(&c, path), 0);
	assert_string_equal(errs, "");
	assert_int_equal(c.workers, 2);
	assert_string_equal(c.datadir, "var/data");
	assert_string_equal(c.rundir, "var/run");
	assert_int_equal(c.nlistens, 7);
	assert_listen(&c.listens[0], LISTEN_C2S, AF_INET, "127.0.0.1", 5222);
	assert_listen(&c.listens[1], LISTEN_C2S, AF_INET6, "::1", 5222);
	assert_listen(&c.listens[2], LISTEN_C2S_TLS, AF_INET, "127.0.0.1",
	    5223);
	assert_listen(&c.listens[3], LISTEN_C2S_TLS, AF_INET6, "::1", 5223);
	assert_listen(&c.listens[4], LISTEN_HTTP, AF_INET, "127.0.0.1", 5280);
	assert_listen(&c.listens[5], LISTEN_HTTPS, AF_INET, "127.0.0.1",
	    5281);
	/* make run's bytestream proxy (XEP-0065) */
	assert_listen(&c.listens[6], LISTEN_PROXY, AF_INET, "127.0.0.1",
	    7777);
	assert_int_equal(c.nhosts, 1);
	assert_string_equal(c.hosts[0].name, "localhost");
	assert_true(c.hosts[0].proxy);
	assert_string_equal(c.hosts[0].proxy_name, "proxy.localhost");
	assert_int_equal(c.hosts[0].turn_ttl, 86400);
	assert_string_equal(c.hosts[0].cert, "var/localhost.crt");
	assert_string_equal(c.hosts[0].key, "var/localhost.key");
	conf_clear(&c);
}

static void
test_conf_listen_errors(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c,
	    "c2s-listen ::1:5222\n"
	    "c2s-listen [::1]:0\n"
	    "c2s-listen 127.0.0.1:65536\n"
	    "c2s-listen 127.0.0.1\n"
	    "c2s-listen localhost:5222\n"
	    "c2s-listen [::1]5222\n"
	    "c2s-listen [127.0.0.1]:5222\n"
	    "c2s-listen 127.1:5222\n"
	    "c2s-listen [fe80::zz]:5222\n"
	    "c2s-listen *:5222\n"
	    "c2s-tls-listen 0.0.0.0:5222\n"
	    "c2s-listen 127.0.0.1:x\n"
	    HOSTS), -1);
	expect_err(1, "c2s-listen: IPv6 addresses go in brackets, as in "
	    "[::1]:5222; got \"::1:5222\"");
	expect_err(2, "c2s-listen: expected a port from 1 to 65535 after the "
	    "address, got \"[::1]:0\"");
	expect_err(3, "c2s-listen: expected a port from 1 to 65535 after the "
	    "address, got \"127.0.0.1:65536\"");
	expect_err(4, "c2s-listen: expected ADDRESS:PORT such as "
	    "127.0.0.1:5222, [::1]:5222 or *:5222, got \"127.0.0.1\"");
	expect_err(5, "c2s-listen: \"localhost\" is not a numeric IPv4 "
	    "address (names are not resolved)");
	expect_err(6, "c2s-listen: expected ADDRESS:PORT such as "
	    "127.0.0.1:5222, [::1]:5222 or *:5222, got \"[::1]5222\"");
	expect_err(7, "c2s-listen: expected ADDRESS:PORT such as "
	    "127.0.0.1:5222, [::1]:5222 or *:5222, got \"[127.0.0.1]:5222\"");
	expect_err(8, "c2s-listen: \"127.1\" is not a numeric IPv4 address "
	    "(names are not resolved)");
	expect_raw("t.conf:9: c2s-listen: \"fe80::zz\" is not a numeric IPv6 "
	    "address (");
	/* "*" is 0.0.0.0, and the same address may not serve both kinds */
	expect_err(11, "c2s-tls-listen: 0.0.0.0:5222 is already a listener "
	    "(line 10); remove one");
	expect_err(12, "c2s-listen: expected a port from 1 to 65535 after "
	    "the address, got \"127.0.0.1:x\"");
	assert_int_equal(nerrs(), 11);
	assert_cleared(&c);
}

static void
test_conf_sizes(void **state)
{
	static const struct {
		const char	*opt, *val;
		int		 rc;
		size_t		 want;
	} cases[] = {
		{ "max-stanza-size", "4096", 0, 4096 },
		{ "max-stanza-size", "4K", 0, 4096 },
		{ "max-stanza-size", "4k", 0, 4096 },
		{ "max-stanza-size", "16M", 0, 16 << 20 },
		{ "max-stanza-size", "16384K", 0, 16 << 20 },
		{ "max-stanza-size", "16385K", -1, 0 },
		{ "max-stanza-size", "4095", -1, 0 },
		{ "max-stanza-size", "1.5M", -1, 0 },
		{ "max-stanza-size", "8KB", -1, 0 },
		{ "max-stanza-size", "-8K", -1, 0 },
		{ "max-stanza-size", "0x1000", -1, 0 },
		{ "max-stanza-size", "K", -1, 0 },
		{ "max-stanza-size", "\"\"", -1, 0 },
		{ "link-queue-max", "4G", 0, 4ULL << 30 },
		{ "link-queue-max", "4097M", -1, 0 },
		{ "link-queue-max", "1M", 0, 1 << 20 },
		{ "link-queue-max", "1048575", -1, 0 },
		{ "lmdb-mapsize", "1T", 0, 1ULL << 40 },
		{ "lmdb-mapsize", "1024g", 0, 1ULL << 40 },
		{ "lmdb-mapsize", "1025G", -1, 0 },
		{ "lmdb-mapsize", "18446744073709551616", -1, 0 },
		{ "lmdb-mapsize", "99999999999999999T", -1, 0 },
	};
	struct conf	 c;
	char		 text[512];
	size_t		 i, got;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof(text), "%s %s\n" HOSTS, cases[i].opt,
		    cases[i].val);
		if (load(&c, text) != cases[i].rc)
			fail_msg("%s %s: rc != %d (%s)", cases[i].opt,
			    cases[i].val, cases[i].rc, errs);
		if (cases[i].rc == -1) {
			assert_int_equal(nerrs(), 1);
			expect_raw(": expected a size from ");
			continue;
		}
		got = strcmp(cases[i].opt, "max-stanza-size") == 0 ?
		    c.max_stanza_size : strcmp(cases[i].opt,
		    "link-queue-max") == 0 ? c.link_queue_max :
		    c.lmdb_mapsize;
		if (got != cases[i].want)
			fail_msg("%s %s: got %zu", cases[i].opt, cases[i].val,
			    got);
		conf_clear(&c);
	}
	assert_int_equal(load(&c, "max-stanza-size 17M\n" HOSTS), -1);
	expect_err(1, "max-stanza-size: expected a size from 4K to 16M "
	    "(bytes, or a number with a K, M, G or T suffix), got \"17M\"");
	assert_int_equal(load(&c, "link-queue-max 1.5G\n" HOSTS), -1);
	expect_err(1, "link-queue-max: expected a size from 1M to 4G "
	    "(bytes, or a number with a K, M, G or T suffix), got \"1.5G\"");
}

static void
test_conf_durations(void **state)
{
	static const struct {
		const char	*opt, *val;
		int		 rc;
		int		 want;
	} cases[] = {
		{ "negotiation-timeout", "45", 0, 45 },
		{ "negotiation-timeout", "45s", 0, 45 },
		{ "negotiation-timeout", "2m", 0, 120 },
		{ "negotiation-timeout", "1h", 0, 3600 },
		{ "negotiation-timeout", "60M", 0, 3600 },
		{ "negotiation-timeout", "3601", -1, 0 },
		{ "negotiation-timeout", "0", -1, 0 },
		{ "negotiation-timeout", "0s", -1, 0 },
		{ "negotiation-timeout", "1d", -1, 0 },
		{ "negotiation-timeout", "m", -1, 0 },
		{ "negotiation-timeout", "1.5m", -1, 0 },
		{ "idle-timeout", "24h", 0, 86400 },
		{ "idle-timeout", "1440m", 0, 86400 },
		{ "idle-timeout", "1441m", -1, 0 },
		{ "idle-timeout", "1", 0, 1 },
	};
	struct conf	 c;
	char		 text[512];
	size_t		 i;
	int		 got;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof(text), "%s %s\n" HOSTS, cases[i].opt,
		    cases[i].val);
		if (load(&c, text) != cases[i].rc)
			fail_msg("%s %s: rc != %d (%s)", cases[i].opt,
			    cases[i].val, cases[i].rc, errs);
		if (cases[i].rc == -1) {
			assert_int_equal(nerrs(), 1);
			expect_raw(": expected a duration from 1s to ");
			continue;
		}
		got = cases[i].opt[0] == 'n' ? c.negotiation_timeout :
		    c.idle_timeout;
		if (got != cases[i].want)
			fail_msg("%s %s: got %d", cases[i].opt, cases[i].val,
			    got);
		conf_clear(&c);
	}
	assert_int_equal(load(&c, "negotiation-timeout 2h\n" HOSTS), -1);
	expect_err(1, "negotiation-timeout: expected a duration from 1s to 1h "
	    "(seconds, or a number with an s, m or h suffix), got \"2h\"");
	assert_int_equal(load(&c, "idle-timeout 0\n" HOSTS), -1);
	expect_err(1, "idle-timeout: expected a duration from 1s to 24h "
	    "(seconds, or a number with an s, m or h suffix), got \"0\"");
}

static void
test_conf_ints_and_bools(void **state)
{
	static const struct {
		const char	*val;
		bool		 want;
	} bools[] = {
		{ "yes", true }, { "no", false }, { "true", true },
		{ "false", false }, { "on", true }, { "off", false },
		{ "YES", true }, { "Off", false },
	};
	struct conf	 c;
	char		 text[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bools); i++) {
		snprintf(text, sizeof(text), "c2s-require-tls %s\n" HOSTS,
		    bools[i].val);
		assert_int_equal(load(&c, text), 0);
		assert_int_equal(c.c2s_require_tls, bools[i].want);
		conf_clear(&c);
	}
	assert_int_equal(load(&c, "c2s-require-tls 1\n" HOSTS), -1);
	expect_err(1, "c2s-require-tls: expected yes or no (or true/false, "
	    "on/off), got \"1\"");

	assert_int_equal(load(&c, "workers abc\n" HOSTS), -1);
	expect_err(1, "workers: expected an integer from 1 to 64, got \"abc\"");
	assert_int_equal(load(&c, "workers 65\n" HOSTS), -1);
	expect_err(1, "workers: expected an integer from 1 to 64, got \"65\"");
	assert_int_equal(load(&c, "workers 0\n" HOSTS), -1);
	assert_int_equal(load(&c, "workers +3\n" HOSTS), -1);
	assert_int_equal(load(&c, "workers 3x\n" HOSTS), -1);
	assert_int_equal(load(&c, "workers 64\n" HOSTS), 0);
	assert_int_equal(c.workers, 64);
	conf_clear(&c);
	assert_int_equal(load(&c, "scram-iterations 4095\n" HOSTS), -1);
	expect_err(1, "scram-iterations: expected an integer from 4096 to "
	    "1000000, got \"4095\"");
	assert_int_equal(load(&c, "scram-iterations 1000000\n" HOSTS), 0);
	assert_int_equal(c.scram_iterations, 1000000);
	conf_clear(&c);
	assert_int_equal(load(&c, "c2s-max-sessions 10000001\n" HOSTS), -1);
	assert_int_equal(load(&c, "c2s-max-sessions 10000000\n" HOSTS), 0);
	assert_int_equal(c.c2s_max_sessions, 10000000);
	conf_clear(&c);
	assert_int_equal(load(&c, "auth-retries 11\n" HOSTS), -1);
	expect_err(1, "auth-retries: expected an integer from 1 to 10, "
	    "got \"11\"");
	assert_int_equal(load(&c, "log-level loud\n" HOSTS), -1);
	expect_err(1, "log-level: expected one of err, warn, info, debug, "
	    "got \"loud\"");
	assert_int_equal(load(&c, "log-level err\n" HOSTS), 0);
	assert_string_equal(c.log_level, "err");
	conf_clear(&c);
}

static void
test_conf_quoting(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c,
	    "datadir \"a \\\"b\\\" \\\\c # not a comment\"\r\n"
	    "\trundir\tx#a comment right after the value\r\n"
	    "   # indented comment\n"
	    "\n"
	    "tls-priority \"NORMAL\"#comment\n"
	    HOSTS), 0);
	assert_string_equal(errs, "");
	assert_string_equal(c.datadir, "a \"b\" \\c # not a comment");
	assert_string_equal(c.rundir, "x");
	assert_string_equal(c.tls_priority, "NORMAL");
	conf_clear(&c);
}

static void
test_conf_each_error(void **state)
{
	static const struct {
		const char	*text;
		bool		 hosts;		/* append HOSTS */
		int		 line;
		const char	*msg;
	} cases[] = {
		{ "c2s_port 5222\n", true, 1,
		  "unknown option \"c2s_port\" (did you mean "
		  "\"c2s-listen\"?)" },
		{ "\nwrkers 2\n", true, 2,
		  "unknown option \"wrkers\" (did you mean \"workers\"?)" },
		{ "Max_Stanza_Size 4K\n", true, 1, "unknown option "
		  "\"Max_Stanza_Size\" (did you mean \"max-stanza-size\"?)" },
		{ "frobnicate 1\n", true, 1, "unknown option \"frobnicate\" "
		  "(\"parleyd -h config\" lists them)" },
		{ "workers 2\nworkers 3\n", true, 2,
		  "duplicate option \"workers\" (first set on line 1)" },
		{ "tls-priority \"NORMAL\n", true, 1,
		  "unterminated quoted string (add the closing \")" },
		{ "datadir \"a\\\"\n", true, 1,
		  "unterminated quoted string (add the closing \")" },
		{ "datadir \"a\\qb\"\n", true, 1, "unknown escape \"\\q\" in "
		  "quoted string (only \\\" and \\\\ are allowed)" },
		{ "datadir a\"b\"\n", true, 1, "unexpected quote inside a "
		  "value (quote the whole value)" },
		{ "datadir \"a\"b\n", true, 1,
		  "expected a space after the closing quote" },
		{ "workers\n", true, 1,
		  "workers: missing value (expected an integer from 1 to 64)" },
		{ "datadir   # nothing\n", true, 1,
		  "datadir: missing value (expected a path)" },
		{ "datadir \"\"\n", true, 1,
		  "datadir: expected a path, got an empty string" },
		{ "workers 2 3\n", true, 1, "workers: unexpected \"3\" after "
		  "the value (quote values that contain spaces)" },
		{ "datadir /srv/my data\n", true, 1, "datadir: unexpected "
		  "\"data\" after the value (quote values that contain "
		  "spaces)" },
		{ "key test.key\n", true, 1, "key: only allowed inside a host "
		  "block (host NAME { key PATH })" },
		{ "host a.example {\nworkers 2\ncertificate test.crt\n"
		  "key test.key\n}\n", false, 2, "workers: a global option, "
		  "not a host option (move it above \"host a.example {\")" },
		{ "host a.example {\ncertificate test.crt\nkey test.key\n",
		  false, 1, "host \"a.example\": block not closed at the end "
		  "of the file (add \"}\")" },
		{ HOSTS "}\n", false, 5,
		  "\"}\" without an open host block (remove it)" },
		{ "{\n", true, 1, "unexpected \"{\" (blocks open on the host "
		  "line: host NAME {)" },
		{ "host Example.ORG {\ncertificate test.crt\nkey test.key\n}\n"
		  "host example.org {\ncertificate test.crt\nkey test.key\n}\n",
		  false, 5,
		  "duplicate host \"example.org\" (first defined on line 1)" },
		{ "host a.example {\nkey test.key\n}\n", false, 1,
		  "host \"a.example\" has no certificate (add \"certificate "
		  "PATH\" to the block)" },
		{ "host a.example {\ncertificate test.crt\n}\n", false, 1,
		  "host \"a.example\" has no key (add \"key PATH\" to the "
		  "block)" },
		{ "host a.example {\ncertificate test.crt\n"
		  "certificate test.crt\nkey test.key\n}\n", false, 3,
		  "duplicate option \"certificate\" (first set on line 2)" },
		{ "host a.example {\ncertificate nothere.crt\n"
		  "key test.key\n}\n", false, 2, "certificate: cannot read "
		  "\"nothere.crt\": No such file or directory (create it with "
		  "scripts/mkcert.sh DOMAIN CERT KEY, or fix the path)" },
		{ "host a.example {\ncertificate test.crt\nkey var\n}\n",
		  false, 3, "key: \"var\" is not a regular file (give the path "
		  "of a PEM file)" },
		{ "host a@example {\ncertificate test.crt\nkey test.key\n}\n",
		  false, 1, "host: \"a@example\" is not a valid domain name" },
		{ "host \"\" {\ncertificate test.crt\nkey test.key\n}\n",
		  false, 1, "host: \"\" is not a valid domain name" },
		{ "host {\n}\n", false, 1,
		  "host: missing name (expected: host NAME {)" },
		{ HOSTS "host a.example\ncertificate test.crt\n"
		  "key test.key\n}\n", false, 5, "host: expected \"{\" after "
		  "the name, on the same line (host a.example {)" },
		{ HOSTS "host a.example { key\ncertificate test.crt\n"
		  "key test.key\n}\n", false, 5, "host: unexpected \"key\" "
		  "after \"{\" (one directive per line)" },
		{ "host a.example {\ncertificate test.crt\nkey test.key\n"
		  "} x\n", false, 4,
		  "unexpected text after \"}\" (one directive per line)" },
		{ "host a.example {\ncertificate test.crt\nkey test.key\n"
		  "host b.example {\n}\n", false, 4, "host blocks cannot be "
		  "nested (close \"a.example\" from line 1 with \"}\" first)" },
		{ "tls-priority \"NORMAL:+BOGUS\"\n", true, 1, "tls-priority: "
		  "invalid priority string at position 7 (\"+BOGUS\"): " },
	};
	struct conf	 c;
	char		 text[1024], want[1024];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof(text), "%s%s", cases[i].text,
		    cases[i].hosts ? HOSTS : "");
		memset(&c, 0xa5, sizeof(c));
		if (load(&c, text) != -1)
			fail_msg("case %zu loaded: %s", i, text);
		snprintf(want, sizeof(want), "t.conf:%d: %s", cases[i].line,
		    cases[i].msg);
		if (strstr(errs, want) == NULL || nerrs() != 1)
			fail_msg("case %zu: want \"%s\", got:\n%s", i, want,
			    errs);
		assert_cleared(&c);
	}
}

static void
test_conf_nul_byte(void **state)
{
	static const char	text[] = "workers 2\0 junk\n" HOSTS;
	struct conf		c;

	(void)state;
	assert_int_equal(load_len(&c, text, sizeof(text) - 1), -1);
	expect_err(1, "line contains a NUL byte");
	assert_int_equal(nerrs(), 1);
}

static void
test_conf_no_host(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c, "workers 2\n"), -1);
	expect_raw("t.conf: no host configured (add a block: host "
	    "example.org {");
	assert_int_equal(nerrs(), 1);
	assert_int_equal(load(&c, ""), -1);
	expect_raw("t.conf: no host configured");
	assert_cleared(&c);
}

/* XEP-0114: a component serves its domain and the subdomains below it */
static void
test_conf_component_find(void **state)
{
	struct conf				 c;
	const struct conf_component		*k;

	(void)state;
	assert_int_equal(load(&c, "component-listen 127.0.0.1:5347\n"
	    "component GW.example.org=a=b\n" HOSTS), 0);
	assert_int_equal(c.ncomponents, 1);
	k = conf_component_find(&c, "gw.example.org");
	assert_non_null(k);
	assert_string_equal(k->domain, "gw.example.org");
	assert_string_equal(k->secret, "a=b");
	assert_ptr_equal(conf_component_find(&c, "irc.gw.example.org"), k);
	assert_null(conf_component_find(&c, "example.org"));
	assert_null(conf_component_find(&c, "xgw.example.org"));
	assert_int_equal(c.listens[0].kind, LISTEN_COMPONENT);
	conf_clear(&c);
	assert_int_equal(load(&c, "component gw.example.org=a\n"
	    "component gw.example.org=b\n" HOSTS), -1);
	expect_err(2, "component: gw.example.org is a component already "
	    "(line 1); remove one");
}

/* component-certificate: the key after the last comma, components only */
static void
test_conf_component_cert(void **state)
{
	struct conf				 c;
	const struct conf_component_cert	*kc;

	(void)state;
	write_file("a,b.crt", "x", 1);
	assert_int_equal(load(&c, "component-certificate GW.example.org="
	    "a,b.crt,test.key\ncomponent gw.example.org=s\n" HOSTS), 0);
	kc = conf_component_cert_find(&c, "gw.example.org");
	assert_non_null(kc);
	assert_string_equal(kc->cert, "a,b.crt");
	assert_string_equal(kc->key, "test.key");
	assert_int_equal(kc->line, 1);
	assert_null(conf_component_cert_find(&c, "irc.gw.example.org"));
	conf_clear(&c);
	unlink("a,b.crt");
	assert_int_equal(load(&c, "component gw.example.org=s\n"
	    "component-certificate gw.example.org=test.crt,test.key\n"
	    "component-certificate gw.example.org=test.crt,test.key\n"
	    HOSTS), -1);
	expect_err(3, "component-certificate: gw.example.org has a "
	    "certificate already (line 2); remove one");
	assert_int_equal(load(&c, "component-certificate "
	    "gw.example.org=test.crt,\n" HOSTS), -1);
	expect_err(1, "component-certificate: expected DOMAIN=CERT,KEY such "
	    "as gateway.example.net=/etc/parley/gw.crt,/etc/parley/gw.key, "
	    "got \"gw.example.org=test.crt,\"");
}

static char	restarted[256];

static void
note_restart(const char *opt, void *arg)
{
	(void)arg;
	strncat(restarted, opt, sizeof(restarted) - strlen(restarted) - 2);
	strcat(restarted, " ");
}

/* a reload takes what may change and names what needs a restart */
static void
test_conf_reload(void **state)
{
	struct conf	c, fresh;

	(void)state;
	assert_int_equal(load(&c, "workers 2\nversion-hide no\n"
	    "c2s-listen 127.0.0.1:5222\ns2s-route far.test=127.0.0.1:5269\n"
	    "component gw.example.org=a\n" HOSTS), 0);
	assert_int_equal(load(&fresh, "workers 3\nversion-hide yes\n"
	    "c2s-listen 127.0.0.1:5999\ns2s-route far.test=127.0.0.1:6000\n"
	    "s2s-route near.test=127.0.0.1:6001\n"
	    "component gw.example.org=b\nlog-level debug\n"
	    "host example.org {\n\tcertificate test.key\n"
	    "\tkey test.key\n\tregister yes\n"
	    "\textdisco-service stun:stun.example.org\n}\n"), 0);
	restarted[0] = '\0';
	conf_reload(&c, &fresh, note_restart, NULL);
	assert_string_equal(restarted, "workers c2s-listen ");
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.listens[0].port, 5222);
	assert_true(c.version_hide);
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.routes[0].port, 6000);
	/* each list arrives with its own length */
	assert_int_equal(c.nroutes, 2);
	assert_int_equal(c.routes[1].port, 6001);
	assert_int_equal(c.ncomponents, 1);
	assert_int_equal(c.hosts[0].nextsvcs, 1);
	assert_string_equal(c.components[0].secret, "b");
	assert_string_equal(c.hosts[0].cert, "test.key");
	assert_true(c.hosts[0].allow_register);
	assert_null(fresh.hosts);
	/* another host list is for a restart: the hosts stay as they were */
	assert_int_equal(load(&fresh, "host other.org {\n\tcertificate "
	    "test.crt\n\tkey test.key\n}\n"), 0);
	restarted[0] = '\0';
	conf_reload(&c, &fresh, note_restart, NULL);
	assert_non_null(strstr(restarted, "host "));
	assert_int_equal(c.nhosts, 1);
	assert_string_equal(c.hosts[0].name, "example.org");
	conf_clear(&c);
}

static void
test_conf_all_errors_reported(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load(&c,
	    "workers abc\n"
	    "c2s_port 5222\n"
	    "workers 3\n"
	    "certificate test.crt\n"
	    "host example.org {\n"
	    "\tkey test.key\n"
	    "\tidle-timeout 5\n"
	    "}\n"
	    "}\n"
	    "c2s-listen 127.0.0.1:5222\n"
	    "lmdb-mapsize 2T\n"), -1);
	expect_err(1, "workers: expected an integer from 1 to 64, got \"abc\"");
	expect_err(2, "unknown option \"c2s_port\" (did you mean "
	    "\"c2s-listen\"?)");
	expect_err(3, "duplicate option \"workers\" (first set on line 1)");
	expect_err(4, "certificate: only allowed inside a host block "
	    "(host NAME { certificate PATH })");
	expect_err(5, "host \"example.org\" has no certificate (add "
	    "\"certificate PATH\" to the block)");
	expect_err(7, "idle-timeout: a global option, not a host option "
	    "(move it above \"host example.org {\")");
	expect_err(9, "\"}\" without an open host block (remove it)");
	expect_err(11, "lmdb-mapsize: expected a size from 1M to 1T (bytes, "
	    "or a number with a K, M, G or T suffix), got \"2T\"");
	assert_int_equal(nerrs(), 8);
	assert_cleared(&c);
}

static void
test_conf_missing_file(void **state)
{
	struct conf	c;

	(void)state;
	assert_int_equal(load_path(&c, "nonexistent.conf"), -1);
	assert_string_equal(errs, "nonexistent.conf: cannot open: No such "
	    "file or directory\n");
	assert_cleared(&c);
}

static void
test_conf_usage_lists_all(void **state)
{
	static const char *const	 names[] = {
		"workers", "datadir", "rundir", "log-level", "lmdb-mapsize",
		"scram-iterations", "c2s-listen", "c2s-tls-listen",
		"c2s-require-tls", "tls-priority", "max-stanza-size",
		"negotiation-timeout", "idle-timeout", "auth-retries",
		"c2s-max-sessions", "link-queue-max", "certificate", "key",
	};
	char				*out = NULL, want[64];
	size_t				 len = 0, i;
	FILE				*fp;

	(void)state;
	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	conf_usage(fp);
	assert_int_equal(fclose(fp), 0);
	for (i = 0; i < nitems(names); i++) {
		snprintf(want, sizeof(want), "\n  %s ", names[i]);
		if (strstr(out, want) == NULL)
			fail_msg("%s missing from usage:\n%s", names[i], out);
	}
	assert_non_null(strstr(out, "Default: 256K\n"));
	assert_non_null(strstr(out, "an integer from 1 to 64"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_conf_full_file),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_roles),
		cmocka_unit_test(test_conf_processes),
		cmocka_unit_test(test_conf_one_listener_no_defaults),
		cmocka_unit_test(test_conf_example_file),
		cmocka_unit_test(test_conf_listen_errors),
		cmocka_unit_test(test_conf_sizes),
		cmocka_unit_test(test_conf_durations),
		cmocka_unit_test(test_conf_ints_and_bools),
		cmocka_unit_test(test_conf_quoting),
		cmocka_unit_test(test_conf_each_error),
		cmocka_unit_test(test_conf_nul_byte),
		cmocka_unit_test(test_conf_no_host),
		cmocka_unit_test(test_conf_all_errors_reported),
		cmocka_unit_test(test_conf_component_find),
		cmocka_unit_test(test_conf_component_cert),
		cmocka_unit_test(test_conf_reload),
		cmocka_unit_test(test_conf_missing_file),
		cmocka_unit_test(test_conf_usage_lists_all),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
