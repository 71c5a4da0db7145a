/*
 * Remote links (common/linktls.c, the TLS path of common/link.c): the key
 * file reader, and two links over a socket pair with TLS-PSK -- frames
 * queued before the handshake go out after it, a frame larger than a TLS
 * record arrives whole, and a wrong key fails both ends with no frame read.
 * Certificate links: the name check, the reasons, and links with
 * certificates made here (a CA, another CA, an expired one, another name)
 * -- the good one carries frames, each bad one fails with its reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gnutls/x509.h>

#include "../../common/link.h"
#include "../../common/linktls.h"
#include "../../common/util.h"
#include "unit.h"

#define KEY_B	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_X	"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static void
test_find_key(void **state)
{
	unsigned char	k[LINKTLS_KEY_MAX];
	size_t		n;

	(void)state;
	assert_int_equal(linktls_find_key("hostb:0aff\n", "hostb", k, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(k[0], 0x0a);
	assert_int_equal(k[1], 0xff);
	/* the whole identity, not a prefix; CRLF; the last line unended */
	assert_int_equal(linktls_find_key("hostbb:01\r\nhostb:02\r\n", "hostb",
	    k, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(k[0], 2);
	assert_int_equal(linktls_find_key("a:01\nhostb:03", "hostb", k, &n), 0);
	assert_int_equal(k[0], 3);
	assert_int_equal(linktls_find_key("hostc:01\n", "hostb", k, &n), -1);
	assert_int_equal(linktls_find_key("hostb:\n", "hostb", k, &n), -1);
	assert_int_equal(linktls_find_key("hostb:0g\n", "hostb", k, &n), -1);
	assert_int_equal(linktls_find_key("hostb:012\n", "hostb", k, &n), -1);
	assert_int_equal(linktls_find_key("hostb:" KEY_B KEY_B "00\n", "hostb", k,
	    &n), -1);
	assert_int_equal(linktls_find_key("", "hostb", k, &n), -1);
}

struct side {
	int	frames;
	size_t	bytes;
	bool	closed;
	bool	secure;
	char	why[96];
};

static int
count_frame(struct link *l, const struct link_hdr *h, const char *p,
    void *ctx)
{
	struct side	*s = ctx;

	(void)l;
	(void)p;
	s->frames++;
	s->bytes += h->len;
	return 0;
}

static void
note_close(struct link *l, const char *why, void *ctx)
{
	struct side	*s = ctx;

	(void)l;
	snprintf(s->why, sizeof(s->why), "%s", why);
	s->closed = true;
}

static void
note_secure(struct link *l, void *ctx)
{
	struct side	*s = ctx;

	(void)l;
	s->secure = true;
}

static char	*keypath;	/* the server's, removed at the end */

static void
keyfile_done(void)
{
	unlink(keypath);
	free(keypath);
	keypath = NULL;
}

static char *
keyfile(const char *text)
{
	char	*path = xstrdup("/tmp/linktls.XXXXXX");
	int	 fd;

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* links over a socket pair: a the server's end, b the client's */
static void
links(struct linktls *srv, struct linktls *cli, struct link **a,
    struct link **b, struct side *sa, struct side *sb)
{
	int	fd[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	*a = link_new(ev_default_loop(0), fd[0], "srv", 1 << 22, count_frame,
	    note_close, sa);
	*b = link_new(ev_default_loop(0), fd[1], "cli", 1 << 22, count_frame,
	    note_close, sb);
	(*a)->on_secure = note_secure;
	(*b)->on_secure = note_secure;
	/* the ephemeral key exchange under valgrind, beside other work */
	link_start_tls(*a, linktls_session(srv, fd[0]), 60);
	link_start_tls(*b, linktls_session(cli, fd[1]), 60);
}

/* a server and a client link over a socket pair; returns both */
static void
pair(struct linktls *srv, struct linktls *cli, const char *srvkeys,
    const char *clikeys, struct link **a, struct link **b, struct side *sa,
    struct side *sb)
{
	struct conf	 c;
	char		*sf = keyfile(srvkeys), *cf = keyfile(clikeys);

	memset(&c, 0, sizeof(c));
	c.path = "test";
	c.link_psk_file = sf;
	assert_int_equal(linktls_server_init(srv, &c), 0);
	c.link_psk_file = cf;
	c.link_psk_identity = "hostb";
	assert_int_equal(linktls_client_init(cli, &c), 0);
	/* the router's file is read at each handshake (keys added live) */
	unlink(cf);
	free(cf);
	free(keypath);
	keypath = sf;
	links(srv, cli, a, b, sa, sb);
}

/*
 * Runs the loop until done or 30 s have passed: a count of iterations
 * ran out before the handshake under valgrind on a loaded machine
 */
static void
spin(bool (*done)(struct side *, struct side *), struct side *sa,
    struct side *sb)
{
	struct timespec	t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done(sa, sb)) {
		ev_run(ev_default_loop(0), EVRUN_NOWAIT);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30)
			break;
		usleep(200);
	}
}

static bool
got_big(struct side *sa, struct side *sb)
{
	(void)sb;
	return sa->frames == 2 || sa->closed;
}

static bool
both_closed(struct side *sa, struct side *sb)
{
	return sa->closed && sb->closed;
}

static void
test_tls_link(void **state)
{
	struct linktls	 srv, cli;
	struct link	*a, *b;
	struct side	 sa = { 0 }, sb = { 0 };
	struct link_out	 m;
	static char	 big[200 * 1024];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	link_loop_init(ev_default_loop(0));
	pair(&srv, &cli, "hosta:" KEY_X "\nhostb:" KEY_B "\n",
	    "hostb:" KEY_B "\n", &a, &b, &sa, &sb);
	/* queued before the handshake: written after it */
	link_hello(b, LINK_ROLE_C2S, 5);
	memset(big, 'x', sizeof(big));
	link_begin(&m, b, LINK_STANZA, 1);
	link_put_bytes(&m, big, sizeof(big));
	assert_int_equal(link_end(&m), 0);
	spin(got_big, &sa, &sb);
	assert_true(sa.secure && sb.secure);
	assert_false(sa.closed);
	assert_int_equal(sa.frames, 2);
	assert_int_equal(sa.bytes, 12 + sizeof(big));
	link_free(a);
	link_free(b);
	keyfile_done();
	linktls_clear(&srv);
	linktls_clear(&cli);
}

static void
test_tls_wrong_key(void **state)
{
	struct linktls	 srv, cli;
	struct link	*a, *b;
	struct side	 sa = { 0 }, sb = { 0 };

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	link_loop_init(ev_default_loop(0));
	pair(&srv, &cli, "hostb:" KEY_B "\n", "hostb:" KEY_X "\n", &a, &b,
	    &sa, &sb);
	link_hello(b, LINK_ROLE_C2S, 5);
	spin(both_closed, &sa, &sb);
	/* both failed and were reaped by the loop, nothing read */
	assert_true(sa.closed && sb.closed);
	assert_false(sa.secure || sb.secure);
	assert_int_equal(sa.frames, 0);
	keyfile_done();
	linktls_clear(&srv);
	linktls_clear(&cli);
}

/* ---- certificates, made here */

struct pki {
	gnutls_x509_privkey_t	 key;
	gnutls_x509_crt_t	 crt;
	char			*crtpath, *keypath;
};

#define DAY	(24 * 3600)

static char *
pemfile(int (*export)(void *, gnutls_x509_crt_fmt_t, gnutls_datum_t *),
    void *obj)
{
	gnutls_datum_t	 d;
	char		*path = xstrdup("/tmp/linktls.XXXXXX");
	int		 fd;

	assert_int_equal(export(obj, GNUTLS_X509_FMT_PEM, &d), 0);
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, d.data, d.size), (ssize_t)d.size);
	close(fd);
	gnutls_free(d.data);
	return path;
}

static int
crt_export(void *c, gnutls_x509_crt_fmt_t f, gnutls_datum_t *d)
{
	return gnutls_x509_crt_export2(c, f, d);
}

static int
key_export(void *k, gnutls_x509_crt_fmt_t f, gnutls_datum_t *d)
{
	return gnutls_x509_privkey_export2(k, f, d);
}

/*
 * A certificate for cn (and dns as its DNS name when set), valid from
 * days before now to days after, signed by ca or itself (a CA then)
 */
static void
pki_make(struct pki *p, const char *cn, const char *dns, struct pki *ca,
    int from, int to)
{
	static unsigned char	 serial;
	gnutls_datum_t		 der;
	time_t			 now = time(NULL);

	serial++;
	assert_int_equal(gnutls_x509_privkey_init(&p->key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(p->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&p->crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(p->crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(p->crt, &serial, 1), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(p->crt,
	    now - (time_t)from * DAY), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(p->crt,
	    now + (time_t)to * DAY), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(p->crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(p->crt, p->key), 0);
	if (dns != NULL)
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(p->crt,
		    GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
		    GNUTLS_FSAN_APPEND), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(p->crt,
	    ca == NULL, -1), 0);
	assert_int_equal(gnutls_x509_crt_set_key_usage(p->crt, ca == NULL ?
	    GNUTLS_KEY_KEY_CERT_SIGN : GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	if (ca == NULL)
		ca = p;
	assert_int_equal(gnutls_x509_crt_sign2(p->crt, ca->crt, ca->key,
	    GNUTLS_DIG_SHA256, 0), 0);
	p->crtpath = pemfile(crt_export, p->crt);
	p->keypath = pemfile(key_export, p->key);
	/* read back as a peer's would be: what was set is encoded */
	assert_int_equal(gnutls_x509_crt_export2(p->crt, GNUTLS_X509_FMT_DER,
	    &der), 0);
	gnutls_x509_crt_deinit(p->crt);
	assert_int_equal(gnutls_x509_crt_init(&p->crt), 0);
	assert_int_equal(gnutls_x509_crt_import(p->crt, &der,
	    GNUTLS_X509_FMT_DER), 0);
	gnutls_free(der.data);
}

static void
pki_free(struct pki *p)
{
	unlink(p->crtpath);
	unlink(p->keypath);
	free(p->crtpath);
	free(p->keypath);
	gnutls_x509_crt_deinit(p->crt);
	gnutls_x509_privkey_deinit(p->key);
}

static void
test_cert_name(void **state)
{
	struct pki	 ca, b, cn, wild;
	char		 buf[64];

	(void)state;
	pki_make(&ca, "ca", NULL, NULL, 1, 30);
	pki_make(&b, "whatever", "hostb.links.test", &ca, 1, 30);
	pki_make(&cn, "hostc.links.test", NULL, &ca, 1, 30);
	pki_make(&wild, "w", "*.links.test", &ca, 1, 30);
	/* the DNS name, not the common name, when there is one */
	assert_string_equal(linktls_cert_name(b.crt, "hosta.links.test, "
	    "hostb.links.test", buf, sizeof(buf)), "hostb.links.test");
	assert_null(linktls_cert_name(b.crt, "whatever", buf, sizeof(buf)));
	assert_null(linktls_cert_name(b.crt, "hostb.links", buf,
	    sizeof(buf)));
	assert_null(linktls_cert_name(b.crt, "links.test", buf, sizeof(buf)));
	/* empty entries and blanks skipped */
	assert_non_null(linktls_cert_name(b.crt, " ,, hostb.links.test ,",
	    buf, sizeof(buf)));
	assert_string_equal(buf, "hostb.links.test");
	/* a name that does not fit is not cut to one that matches */
	assert_null(linktls_cert_name(b.crt, "hostb.links.test", buf, 8));
	assert_null(linktls_cert_name(b.crt, "", buf, sizeof(buf)));
	/* the common name of a certificate with no DNS name */
	assert_non_null(linktls_cert_name(cn.crt, "hostc.links.test", buf,
	    sizeof(buf)));
	/* a wildcard takes no name (RFC 6125 6.4.3 allowed it) */
	assert_null(linktls_cert_name(wild.crt, "hostb.links.test", buf,
	    sizeof(buf)));
	pki_free(&wild);
	pki_free(&cn);
	pki_free(&b);
	pki_free(&ca);
}

static void
test_status_why(void **state)
{
	(void)state;
	assert_string_equal(linktls_status_why(GNUTLS_CERT_INVALID |
	    GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_EXPIRED),
	    "its issuer is not link-ca");
	assert_string_equal(linktls_status_why(GNUTLS_CERT_INVALID |
	    GNUTLS_CERT_EXPIRED), "expired");
	assert_string_equal(linktls_status_why(GNUTLS_CERT_INVALID |
	    GNUTLS_CERT_NOT_ACTIVATED), "not valid yet");
	assert_string_equal(linktls_status_why(GNUTLS_CERT_INVALID |
	    GNUTLS_CERT_UNEXPECTED_OWNER), "not link-router-name's");
	assert_string_equal(linktls_status_why(GNUTLS_CERT_INVALID),
	    "not trusted");
}

/*
 * A router with rtr's certificate and link-peers hostb.links.test, a host
 * with mine and name as link-router-name, both trusting ca; linked
 */
static void
cert_pair(struct linktls *srv, struct linktls *cli, struct pki *ca,
    struct pki *rtr, struct pki *mine, const char *name, struct link **a,
    struct link **b, struct side *sa, struct side *sb)
{
	struct conf	c;

	memset(&c, 0, sizeof(c));
	c.path = "test";
	c.link_ca = ca->crtpath;
	c.link_cert = rtr->crtpath;
	c.link_key = rtr->keypath;
	c.link_peers = "hosta.links.test,hostb.links.test";
	assert_int_equal(linktls_server_init(srv, &c), 0);
	c.link_cert = mine->crtpath;
	c.link_key = mine->keypath;
	c.link_router_name = (char *)name;
	assert_int_equal(linktls_client_init(cli, &c), 0);
	signal(SIGPIPE, SIG_IGN);
	link_loop_init(ev_default_loop(0));
	links(srv, cli, a, b, sa, sb);
}

static bool
got_hello(struct side *sa, struct side *sb)
{
	(void)sb;
	return sa->frames == 1 || sa->closed;
}

static bool
server_closed(struct side *sa, struct side *sb)
{
	(void)sb;
	return sa->closed;
}

static bool
client_closed(struct side *sa, struct side *sb)
{
	(void)sa;
	return sb->closed;
}

enum bad { BAD_NONE, BAD_OTHER_CA, BAD_EXPIRED, BAD_NAME, BAD_ROUTER };

/* one handshake: the server's close reason for a bad one, or linked */
static void
cert_case(enum bad bad, const char *want)
{
	struct pki	 ca, other, rtr, mine;
	struct linktls	 srv, cli;
	struct link	*a, *b;
	struct side	 sa = { 0 }, sb = { 0 };
	char		 who[64];

	pki_make(&ca, "links ca", NULL, NULL, 1, 30);
	pki_make(&other, "other ca", NULL, NULL, 1, 30);
	pki_make(&rtr, "router", "router.links.test", &ca, 1, 30);
	pki_make(&mine, "b", bad == BAD_NAME ? "hostz.links.test" :
	    "hostb.links.test", bad == BAD_OTHER_CA ? &other : &ca,
	    bad == BAD_EXPIRED ? 30 : 1, bad == BAD_EXPIRED ? -1 : 30);
	cert_pair(&srv, &cli, &ca, &rtr, &mine, bad == BAD_ROUTER ?
	    "other.links.test" : "router.links.test", &a, &b, &sa, &sb);
	link_hello(b, LINK_ROLE_C2S, 5);
	spin(bad == BAD_NONE ? got_hello : bad == BAD_ROUTER ? client_closed :
	    server_closed, &sa, &sb);
	if (bad == BAD_NONE) {
		assert_true(sa.secure && sb.secure);
		assert_int_equal(sa.frames, 1);
		assert_string_equal(linktls_peer(a->tls, who, sizeof(who)),
		    "hostb.links.test");
		link_free(a);
		link_free(b);
	} else {
		/* nothing read on the router, whoever refused */
		assert_int_equal(sa.frames, 0);
		assert_false(sa.secure);
		assert_non_null(strstr(bad == BAD_ROUTER ? sb.why : sa.why,
		    want));
		spin(both_closed, &sa, &sb);
		if (!sa.closed)
			link_free(a);
		if (!sb.closed)
			link_free(b);
	}
	linktls_clear(&srv);
	linktls_clear(&cli);
	pki_free(&mine);
	pki_free(&rtr);
	pki_free(&other);
	pki_free(&ca);
}

static void
test_cert_link(void **state)
{
	(void)state;
	cert_case(BAD_NONE, NULL);
}

static void
test_cert_other_ca(void **state)
{
	(void)state;
	cert_case(BAD_OTHER_CA, "tls handshake: its issuer is not link-ca");
}

static void
test_cert_expired(void **state)
{
	(void)state;
	cert_case(BAD_EXPIRED, "tls handshake: expired");
}

static void
test_cert_not_a_peer(void **state)
{
	(void)state;
	cert_case(BAD_NAME, "tls handshake: no name of link-peers");
}

static void
test_cert_router_name(void **state)
{
	(void)state;
	cert_case(BAD_ROUTER, "tls handshake: not link-router-name's");
}

/*
 * SIGHUP on a remote host (routerlink_reload): a certificate the router
 * refuses is replaced by a good one for the next handshake; a reload whose
 * files do not load changes nothing.
 */
static void
test_cert_reload(void **state)
{
	struct pki	 ca, other, rtr, bad, good;
	struct linktls	 srv, cli;
	struct link	*a, *b;
	struct side	 sa = { 0 }, sb = { 0 };
	struct conf	 c;

	(void)state;
	pki_make(&ca, "links ca", NULL, NULL, 1, 30);
	pki_make(&other, "other ca", NULL, NULL, 1, 30);
	pki_make(&rtr, "router", "router.links.test", &ca, 1, 30);
	pki_make(&bad, "b", "hostb.links.test", &other, 1, 30);
	pki_make(&good, "b", "hostb.links.test", &ca, 1, 30);
	cert_pair(&srv, &cli, &ca, &rtr, &bad, "router.links.test", &a, &b,
	    &sa, &sb);
	spin(both_closed, &sa, &sb);
	assert_non_null(strstr(sa.why, "its issuer is not link-ca"));

	memset(&c, 0, sizeof(c));
	c.path = "test";
	c.link_ca = ca.crtpath;
	c.link_cert = good.crtpath;
	c.link_key = "/nonexistent/b.key";
	c.link_router_name = "router.links.test";
	assert_int_equal(linktls_reload(&cli, &c), -1);
	assert_int_equal(cli.nold, 0);
	c.link_key = good.keypath;
	assert_int_equal(linktls_reload(&cli, &c), 0);
	assert_int_equal(cli.nold, 1);

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	links(&srv, &cli, &a, &b, &sa, &sb);
	link_hello(b, LINK_ROLE_C2S, 5);
	spin(got_hello, &sa, &sb);
	assert_true(sa.secure && sb.secure);
	assert_int_equal(sa.frames, 1);
	link_free(a);
	link_free(b);
	linktls_clear(&srv);
	linktls_clear(&cli);
	pki_free(&good);
	pki_free(&bad);
	pki_free(&rtr);
	pki_free(&other);
	pki_free(&ca);
}

UNIT_MAIN(
	cmocka_unit_test(test_find_key),
	cmocka_unit_test(test_tls_link),
	cmocka_unit_test(test_tls_wrong_key),
	cmocka_unit_test(test_cert_name),
	cmocka_unit_test(test_status_why),
	cmocka_unit_test(test_cert_link),
	cmocka_unit_test(test_cert_other_ca),
	cmocka_unit_test(test_cert_expired),
	cmocka_unit_test(test_cert_not_a_peer),
	cmocka_unit_test(test_cert_router_name),
	cmocka_unit_test(test_cert_reload),
)
