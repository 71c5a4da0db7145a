/*
 * Unit tests for proxy/relay.c on the memory transport and the fake
 * clock: pairing by hash and relaying both ways, the rate bucket, the
 * byte cap, the pending and idle timeouts, the caps on waiting
 * connections and on transfers, and what closes a connection early.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/map.h"
#include "../../proxy/proxy.h"
#include "unit.h"

#define HASH	"0123456789abcdef0123456789abcdef01234567"
#define HASH2	"fedcba9876543210fedcba9876543210fedcba98"

struct proxy	proxy;

static void
setup(void)
{
	memset(&proxy, 0, sizeof(proxy));
	clock_fake_start(1000);
	tp_use_memory(true);
	proxy.waiting = map_new();
	proxy.conf.proxy_max_bytes = 1 << 20;
	proxy.conf.proxy_rate = 0;
	proxy.conf.proxy_pending_timeout = 60;
	proxy.conf.proxy_idle_timeout = 300;
	proxy.conf.proxy_max_pending = 10;
	proxy.conf.proxy_max_relays = 10;
}

/* every connection closed and reaped: nothing counted, nothing waits */
static void
finish(void)
{
	transport_run();		/* closes start their linger */
	clock_advance(TP_LINGER + 1);
	transport_run();
	assert_int_equal(proxy.npending, 0);
	assert_int_equal(proxy.nrelays, 0);
	assert_int_equal(map_count(proxy.waiting), 0);
	map_free(proxy.waiting, NULL);
	tp_use_memory(false);
}

static size_t
out_len(struct pconn *pc)
{
	return buf_avail(&pc->tp.mem->out);
}

static const char *
out(struct pconn *pc)
{
	return buf_rptr(&pc->tp.mem->out);
}

/* a connection through its handshake, waiting for activation */
static struct pconn *
waiting(const char *hash)
{
	struct pconn	*pc;
	char		 req[5 + 40 + 2];

	assert_non_null(pc = relay_accept(-1));
	memcpy(req, "\x05\x01\x00\x03\x28", 5);
	memcpy(req + 5, hash, 40);
	memcpy(req + 45, "\x00\x00", 2);
	tp_mem_inject(&pc->tp, "\x05\x01\x00", 3);
	tp_mem_inject(&pc->tp, req, sizeof(req));
	transport_run();
	assert_int_equal(pc->state, PC_WAITING);
	assert_int_equal(out_len(pc), 2 + 7 + 40);
	tp_mem_output_reset(&pc->tp);
	return pc;
}

/* target and initiator of hash, activated; fill bytes queued by i */
static void
paired(const char *hash, struct pconn **t, struct pconn **i, char fill,
    size_t n)
{
	char	data[4096];

	*t = waiting(hash);
	*i = waiting(hash);
	assert_int_equal(relay_activate(hash, "i@x/r"), LINK_PROXY_OK);
	assert_true(n <= sizeof(data));
	memset(data, fill, n);
	if (n > 0)
		tp_mem_inject(&(*i)->tp, data, n);
}

static bool
closed(struct pconn *pc)
{
	return tp_mem_shut(&pc->tp) || tp_dead(&pc->tp);
}

static void
test_relay_pairs_and_relays(void **state)
{
	struct pconn	*t, *i, *other;

	(void)state;
	setup();
	t = waiting(HASH);
	other = waiting(HASH2);
	assert_int_equal(relay_activate(HASH, "i@x/r"), LINK_PROXY_NOT_FOUND);
	i = waiting(HASH);
	assert_int_equal(proxy.npending, 3);
	assert_int_equal(relay_activate(HASH, "i@x/r"), LINK_PROXY_OK);
	assert_int_equal(proxy.npending, 1);
	assert_int_equal(proxy.nrelays, 1);
	tp_mem_inject(&i->tp, "file", 4);
	transport_run();
	assert_int_equal(out_len(t), 4);
	assert_memory_equal(out(t), "file", 4);
	tp_mem_inject(&t->tp, "ok", 2);
	transport_run();
	assert_memory_equal(out(i), "ok", 2);
	/* once: the pair is no longer waiting */
	assert_int_equal(relay_activate(HASH, "i@x/r"), LINK_PROXY_NOT_FOUND);
	/* the initiator is done: the target closes after its output */
	tp_mem_eof(&i->tp);
	transport_run();
	assert_true(closed(t));
	assert_false(closed(other));
	tp_mem_eof(&other->tp);
	finish();
}

/* proxy-rate 1000: a second's worth at once, the rest as it is earned */
static void
test_relay_rate(void **state)
{
	struct pconn	*t, *i;

	(void)state;
	setup();
	proxy.conf.proxy_rate = 1000;
	paired(HASH, &t, &i, 'r', 2500);
	tp_mem_inject(&i->tp, "zz", 2);
	transport_run();
	assert_int_equal(out_len(t), 1000);
	assert_true(i->tp.paused);
	/* the next part waits until a second's worth is earned */
	clock_advance(0.5);
	transport_run();
	assert_int_equal(out_len(t), 1000);
	clock_advance(0.6);
	transport_run();
	assert_int_equal(out_len(t), 2000);
	clock_advance(0.5);
	transport_run();
	/* the hold drained: reading went on, with what the 0.1 s earned */
	assert_int_equal(out_len(t), 2502);
	assert_false(i->tp.paused);
	tp_mem_eof(&t->tp);
	finish();
}

/* at EOF what the rate held back still goes */
static void
test_relay_rate_flushes_at_eof(void **state)
{
	struct pconn	*t, *i;

	(void)state;
	setup();
	proxy.conf.proxy_rate = 1000;
	paired(HASH, &t, &i, 'e', 3000);
	transport_run();
	assert_int_equal(out_len(t), 1000);
	tp_mem_eof(&i->tp);
	/* paused while holding: the EOF is read once the hold is sent */
	clock_advance(2.0);
	transport_run();
	assert_int_equal(out_len(t), 3000);
	assert_true(closed(t));
	finish();
}

static void
test_relay_max_bytes(void **state)
{
	struct pconn	*t, *i;

	(void)state;
	setup();
	proxy.conf.proxy_max_bytes = 1000;
	paired(HASH, &t, &i, 'b', 600);
	transport_run();
	assert_int_equal(out_len(t), 600);
	/* both directions count */
	tp_mem_inject(&t->tp, out(t), 600);
	transport_run();
	assert_true(closed(t));
	assert_true(closed(i));
	assert_int_equal(out_len(i), 0);
	finish();
}

static void
test_relay_timeouts(void **state)
{
	struct pconn	*silent, *t, *i;

	(void)state;
	setup();
	proxy.conf.proxy_pending_timeout = 5;
	proxy.conf.proxy_idle_timeout = 20;
	silent = relay_accept(-1);
	t = waiting(HASH);
	clock_advance(4);
	transport_run();
	assert_false(closed(silent));
	clock_advance(1.5);
	transport_run();
	assert_true(closed(silent));
	assert_true(closed(t));
	/* a pair lives while bytes flow, then idles out */
	paired(HASH2, &t, &i, 0, 0);
	clock_advance(15);
	tp_mem_inject(&t->tp, "x", 1);
	transport_run();
	clock_advance(15);
	transport_run();
	assert_false(closed(i));
	clock_advance(6);
	transport_run();
	assert_true(closed(i));
	assert_true(closed(t));
	finish();
}

static void
test_relay_caps(void **state)
{
	struct pconn	*a, *b, *c, *d;

	(void)state;
	setup();
	proxy.conf.proxy_max_pending = 2;
	proxy.conf.proxy_max_relays = 1;
	a = waiting(HASH);
	b = waiting(HASH);
	assert_null(relay_accept(-1));
	assert_int_equal(relay_activate(HASH, "i"), LINK_PROXY_OK);
	c = waiting(HASH2);
	d = waiting(HASH2);
	assert_int_equal(relay_activate(HASH2, "i"), LINK_PROXY_BUSY);
	/* refused, not lost: still waiting */
	assert_int_equal(c->state, PC_WAITING);
	tp_mem_eof(&a->tp);
	transport_run();
	assert_int_equal(relay_activate(HASH2, "i"), LINK_PROXY_OK);
	tp_mem_eof(&d->tp);
	(void)b;
	finish();
}

static void
test_relay_early_close(void **state)
{
	struct pconn	*a, *b, *c, *bad;

	(void)state;
	setup();
	/* data before activation */
	a = waiting(HASH);
	tp_mem_inject(&a->tp, "early", 5);
	transport_run();
	assert_true(closed(a));
	/* a third connection for one hash */
	a = waiting(HASH2);
	b = waiting(HASH2);
	assert_non_null(c = relay_accept(-1));
	tp_mem_inject(&c->tp, "\x05\x01\x00\x05\x01\x00\x03\x28", 8);
	tp_mem_inject(&c->tp, HASH2 "\x00\x00", 42);
	transport_run();
	assert_true(closed(c));
	assert_false(closed(a));
	assert_false(closed(b));
	/* a SOCKS5 error: the reply, then closed */
	assert_non_null(bad = relay_accept(-1));
	tp_mem_inject(&bad->tp, "\x05\x01\x02", 3);
	transport_run();
	assert_int_equal(out_len(bad), 2);
	assert_memory_equal(out(bad), "\x05\xff", 2);
	assert_true(closed(bad));
	tp_mem_eof(&a->tp);
	tp_mem_eof(&b->tp);
	finish();
}

UNIT_MAIN(
	cmocka_unit_test(test_relay_pairs_and_relays),
	cmocka_unit_test(test_relay_rate),
	cmocka_unit_test(test_relay_rate_flushes_at_eof),
	cmocka_unit_test(test_relay_max_bytes),
	cmocka_unit_test(test_relay_timeouts),
	cmocka_unit_test(test_relay_caps),
	cmocka_unit_test(test_relay_early_close),
)
