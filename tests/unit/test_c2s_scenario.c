/*
 * c2s scenarios on the driver of scn_c2s.h: whole client streams with
 * no sockets and no waiting (the fake clock moves time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
