/*
 * Remote links (common/linktls.c, the TLS path of common/link.c): the key
 * file reader, and two links over a socket pair with TLS-PSK -- frames
 * queued before the handshake go out after it, a frame larger than a TLS
 * record arrives whole, and a wrong key fails both ends with no frame read.
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
	(void)why;
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

/* a server and a client link over a socket pair; returns both */
static void
pair(struct linktls *srv, struct linktls *cli, const char *srvkeys,
    const char *clikeys, struct link **a, struct link **b, struct side *sa,
    struct side *sb)
{
	struct conf	 c;
	char		*sf = keyfile(srvkeys), *cf = keyfile(clikeys);
	int		 fd[2];

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

UNIT_MAIN(
	cmocka_unit_test(test_find_key),
	cmocka_unit_test(test_tls_link),
	cmocka_unit_test(test_tls_wrong_key),
)
