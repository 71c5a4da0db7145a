/*
 * c2s scenarios on the driver of scn_c2s.h: whole client streams with
 * no sockets and no waiting (the fake clock moves time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "scn_c2s.h"

/* RFC 6120 4.6.1 and the negotiation-timeout option: at the deadline */
static void
test_negotiation_timeout_fires_at_the_deadline(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	sid = st->sid;
	scn_send(&st->tp, SCN_HEADER);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<stream:features>"));
	scn_advance(c2s.conf.negotiation_timeout - 0.01);
	assert_null(strstr(tp_mem_output(&st->tp), "connection-timeout"));
	assert_true(scn_c2s_alive(sid));
	scn_advance(0.02);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<connection-timeout "));
	assert_non_null(strstr(tp_mem_output(&st->tp),
	    "</stream:error></stream:stream>"));
	/* written, then our side is shut; the table forgot it at once */
	assert_true(tp_mem_shut(&st->tp));
	assert_false(scn_c2s_alive(sid));
	assert_int_equal(c2s.nstreams, 1);
	/* the client never closes: the linger ends it */
	scn_advance(TP_LINGER);
	assert_int_equal(c2s.nstreams, 0);
	scn_c2s_teardown();
}

/* the timer follows the stream: a restart does not extend the deadline */
static void
test_negotiation_timeout_counts_from_the_connection(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	scn_advance(20);
	scn_send(&st->tp, SCN_HEADER);
	scn_advance(10.01);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<connection-timeout "));
	scn_c2s_teardown();
}

/* a client that closes: the stream leaves the table and is freed */
static void
test_client_close_frees_the_stream(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	sid = st->sid;
	scn_send(&st->tp, SCN_HEADER);
	scn_send(&st->tp, "</stream:stream>");
	assert_non_null(strstr(tp_mem_output(&st->tp), "</stream:stream>"));
	assert_false(scn_c2s_alive(sid));
	scn_eof(&st->tp);
	assert_int_equal(c2s.nstreams, 0);
	scn_c2s_teardown();
}

/* RFC 6120 4.9.3.6: an unknown host, with our header first */
static void
test_unknown_host_gets_host_unknown(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	scn_send(&st->tp, "<stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' "
	    "to='elsewhere.test' version='1.0'>");
	assert_non_null(strstr(tp_mem_output(&st->tp), "<stream:stream "));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<host-unknown "));
	scn_c2s_teardown();
}

#define CHAT(n)	"<message to='romeo@example.net' type='chat'><body>" n \
		"</body></message>"

/* idle-timeout counts from the last byte read; the parser sleeps first */
static void
test_idle_timeout_counts_from_the_last_read(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	sid = st->sid;
	/* no negotiation deadline any more */
	scn_advance(c2s.conf.negotiation_timeout + 1);
	assert_true(scn_c2s_alive(sid));
	/* STREAM_HIBERNATE seconds of silence: the parser is freed */
	assert_true(xstream_hibernating(st->xs));
	scn_advance(300 - (c2s.conf.negotiation_timeout + 1));
	scn_send(&st->tp, "<presence/>");
	assert_false(xstream_hibernating(st->xs));
	assert_int_equal(scn_router.stanzas, 1);
	scn_advance(c2s.conf.idle_timeout - 0.01);
	assert_true(scn_c2s_alive(sid));
	assert_null(strstr(tp_mem_output(&st->tp), "connection-timeout"));
	scn_advance(0.02);
	assert_false(scn_c2s_alive(sid));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<connection-timeout "));
	assert_int_equal(scn_router.sess_ends, 1);
	scn_c2s_teardown();
}

/* c2s-stanza-rate: a burst goes, the rest is held and released in time */
static void
test_stanza_rate_holds_and_releases_in_order(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	c2s.conf.c2s_stanza_rate = 1;		/* a burst of 2 */
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, CHAT("1") CHAT("2") CHAT("3") CHAT("4"));
	assert_int_equal(scn_router.stanzas, 2);
	assert_true(st->throttled);
	/* read no further meanwhile: this waits in the socket */
	scn_send(&st->tp, CHAT("5"));
	assert_int_equal(scn_router.stanzas, 2);
	scn_advance(0.99);
	assert_int_equal(scn_router.stanzas, 2);
	scn_advance(0.02);
	assert_int_equal(scn_router.stanzas, 3);
	scn_advance(1);
	/* the 4th, then reading resumes and the 5th waits for its token */
	assert_int_equal(scn_router.stanzas, 4);
	scn_advance(1);
	assert_int_equal(scn_router.stanzas, 5);
	scn_c2s_teardown();
}

static void
drained(struct link *l, void *ctx)
{
	(void)l;
	(void)ctx;
	stream_resume_all();
}

static int
no_frame(struct link *l, const struct link_hdr *h, const char *p, void *ctx)
{
	(void)l;
	(void)h;
	(void)p;
	(void)ctx;
	return 0;
}

static void
no_close(struct link *l, const char *why, void *ctx)
{
	(void)l;
	(void)why;
	(void)ctx;
}

/*
 * Backpressure: a congested router link pauses the session's reading;
 * the link's drain resumes it (as c2s/uplink.c wires it), no polling.
 */
static void
test_congested_uplink_pauses_until_it_drains(void **state)
{
	struct stream	*st;
	int		 sv[2];
	char		 junk[600], sink[4096];

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	c2s.up = link_new(ev_default_loop(0), sv[0], "router", 1024,
	    no_frame, no_close, NULL);
	c2s.up->on_drain = drained;
	memset(junk, 'x', sizeof(junk));
	/* above the high-water mark (a quarter of the cap) */
	assert_int_equal(buf_append(&c2s.up->out, junk, sizeof(junk)), 0);
	assert_true(link_congested(c2s.up));
	scn_send(&st->tp, CHAT("1"));
	assert_int_equal(scn_router.stanzas, 1);
	assert_true(st->paused);
	scn_send(&st->tp, CHAT("2"));
	assert_int_equal(scn_router.stanzas, 1);
	link_flush(c2s.up);
	assert_false(link_congested(c2s.up));
	assert_false(st->paused);
	scn_run();
	assert_int_equal(scn_router.stanzas, 2);
	assert_true(read(sv[1], sink, sizeof(sink)) > 0);
	link_free(c2s.up);
	c2s.up = NULL;
	close(sv[1]);
	scn_c2s_teardown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_negotiation_timeout_fires_at_the_deadline),
		cmocka_unit_test(
		    test_negotiation_timeout_counts_from_the_connection),
		cmocka_unit_test(test_client_close_frees_the_stream),
		cmocka_unit_test(test_unknown_host_gets_host_unknown),
		cmocka_unit_test(test_idle_timeout_counts_from_the_last_read),
		cmocka_unit_test(test_stanza_rate_holds_and_releases_in_order),
		cmocka_unit_test(test_congested_uplink_pauses_until_it_drains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
