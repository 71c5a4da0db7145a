/*
 * Link framing: frames built on one end of a socketpair arrive whole and
 * in order on the other; getters are sticky; short, oversized and
 * over-cap frames fail the link instead of being delivered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <endian.h>

#include "../../common/link.h"
#include "../../common/util.h"

struct rx {
	int		 frames;
	uint16_t	 types[16];
	uint64_t	 sids[16];
	char		 strs[16][64];
	uint32_t	 u32s[16];
	bool		 closed;
	char		 why[96];
};

static int
rx_frame(struct link *l, const struct link_hdr *h, const char *p, void *ctx)
{
	struct rx	*rx = ctx;
	struct link_in	 in;
	int		 i = rx->frames++;

	(void)l;
	rx->types[i] = h->type;
	rx->sids[i] = h->sid;
	link_in_init(&in, p, h->len);
	if (h->type == LINK_SESS_BEGIN) {
		link_get_str(&in, rx->strs[i], sizeof(rx->strs[i]));
		link_get_u32(&in, &rx->u32s[i]);
		return link_in_done(&in) ? 0 : -1;
	}
	return 0;
}

static void
rx_close(struct link *l, const char *why, void *ctx)
{
	struct rx	*rx = ctx;

	(void)l;
	rx->closed = true;
	snprintf(rx->why, sizeof(rx->why), "%s", why);
}

static struct ev_loop	*loop;

static void
pair( struct link **a, struct link **b, struct rx *ra,
    struct rx *rb, size_t cap)
{
	int	sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	assert_int_equal(fd_nonblock(sv[1]), 0);
	*a = link_new(loop, sv[0], "a", cap, rx_frame, rx_close, ra);
	*b = link_new(loop, sv[1], "b", cap, rx_frame, rx_close, rb);
}

static void
spin(void)
{
	int	i;

	for (i = 0; i < 20; i++)
		ev_run(loop, EVRUN_NOWAIT);
}

static void
test_link_frames_roundtrip(void **state)
{
	struct link	*a, *b;
	struct rx	 ra = { 0 }, rb = { 0 };
	struct link_out	 m;
	int		 i;

	(void)state;
	pair(&a, &b, &ra, &rb, 1 << 20);
	for (i = 0; i < 10; i++) {
		link_begin(&m, a, LINK_SESS_BEGIN, 0x0102030405060708ull + i);
		link_put_str(&m, "alice@example.org/phone");
		link_put_u32(&m, (uint32_t)i);
		assert_int_equal(link_end(&m), 0);
	}
	spin();
	assert_int_equal(rb.frames, 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(rb.types[i], LINK_SESS_BEGIN);
		assert_true(rb.sids[i] == 0x0102030405060708ull + (uint64_t)i);
		assert_string_equal(rb.strs[i], "alice@example.org/phone");
		assert_int_equal(rb.u32s[i], i);
	}
	assert_false(rb.closed);
	link_free(a);
	link_free(b);
}

static void
test_link_getters_are_sticky(void **state)
{
	unsigned char	 p[] = { 0, 0, 0, 5, 'a', 'b' };	/* str of 5, 2 there */
	struct link_in	 in;
	char		 s[16];
	uint32_t	 v = 7;
	const char	*sp;
	size_t		 n;

	(void)state;
	link_in_init(&in, p, sizeof(p));
	link_get_str(&in, s, sizeof(s));
	link_get_u32(&in, &v);
	assert_false(link_in_done(&in));
	assert_int_equal(v, 0);

	/* NULL string and trailing bytes */
	unsigned char	 q[] = { 0xff, 0xff, 0xff, 0xff, 9 };
	link_in_init(&in, q, sizeof(q));
	link_get_strn(&in, &sp, &n);
	assert_null(sp);
	assert_false(link_in_done(&in));

	/* an embedded NUL is refused where a C string is wanted */
	unsigned char	 r[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	link_in_init(&in, r, sizeof(r));
	link_get_str(&in, s, sizeof(s));
	assert_false(link_in_done(&in));

	/* too long for the destination */
	link_in_init(&in, r, sizeof(r));
	link_get_str(&in, s, 3);
	assert_false(link_in_done(&in));
}

static void
test_link_rejects_bad_frames(void **state)
{
	struct link	*a;
	struct rx	 ra = { 0 };
	unsigned char	 hdr[LINK_HDR_LEN];
	uint32_t	 len;
	uint16_t	 type;
	int		 sv[2];

	(void)state;
	/* a frame longer than LINK_MAX_PAYLOAD fails the link */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	a = link_new(loop, sv[0], "a", 1 << 20, rx_frame, rx_close, &ra);
	assert_non_null(a);	/* freed by the loop once failed */
	memset(hdr, 0, sizeof(hdr));
	len = htobe32(LINK_MAX_PAYLOAD + 1);
	memcpy(hdr, &len, 4);
	assert_int_equal(write(sv[1], hdr, sizeof(hdr)), sizeof(hdr));
	spin();
	assert_true(ra.closed);
	assert_int_equal(ra.frames, 0);
	assert_non_null(strstr(ra.why, "over the limit"));
	close(sv[1]);

	/* a frame shorter than its type's minimum too */
	memset(&ra, 0, sizeof(ra));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	a = link_new(loop, sv[0], "a", 1 << 20, rx_frame, rx_close, &ra);
	assert_non_null(a);
	memset(hdr, 0, sizeof(hdr));
	len = htobe32(2);
	type = htobe16(LINK_HELLO);
	memcpy(hdr, &len, 4);
	memcpy(hdr + 4, &type, 2);
	assert_int_equal(write(sv[1], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(sv[1], "xx", 2), 2);
	spin();
	assert_true(ra.closed);
	assert_int_equal(ra.frames, 0);
	close(sv[1]);
}

static void
test_link_output_cap(void **state)
{
	struct link	*a, *b;
	struct rx	 ra = { 0 }, rb = { 0 };
	struct link_out	 m;
	char		 big[4096];
	int		 i, rc = 0;

	(void)state;
	pair(&a, &b, &ra, &rb, 64 * 1024);
	link_pause(b, true);	/* b never reads */
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 1000 && rc == 0; i++) {
		link_begin(&m, a, LINK_STANZA, 1);
		link_put_bytes(&m, big, sizeof(big));
		rc = link_end(&m);
		ev_run(loop, EVRUN_NOWAIT);
	}
	/* the queue never grew past its cap: the link failed instead */
	assert_int_equal(rc, -1);
	spin();
	assert_true(ra.closed);
	assert_non_null(strstr(ra.why, "cap"));
	link_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_frames_roundtrip),
		cmocka_unit_test(test_link_getters_are_sticky),
		cmocka_unit_test(test_link_rejects_bad_frames),
		cmocka_unit_test(test_link_output_cap),
	};

	loop = ev_default_loop(0);
	link_loop_init(loop);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
