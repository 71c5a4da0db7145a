/*
 * Stream management in the c2s (c2s/sm.c) on the scenario driver
 * (scn_c2s.h): enabling, the counters both ways modulo 2^32, <r/> and
 * <a/>, the map from the client's h to the router's numbers (what the
 * recorder sees in LINK_SM_ACK), the request policy on the fake clock,
 * resumption, and which ends of a stream let the router hibernate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/util.h"
#include "scn_c2s.h"
#include "unit.h"

#define SM_Q		"xmlns='urn:xmpp:sm:3'"
#define ENABLE		"<enable " SM_Q " resume='true'/>"
#define R		"<r " SM_Q "/>"
#define ID		"0123456789abcdef0123456789abcdef"
#define CHAT(n)		"<message from='romeo@example.net/a' type='chat' " \
			"id='" n "'><body>hi</body></message>"
#define COMPOSING	"<message from='romeo@example.net/a' type='chat'>" \
			"<composing xmlns='http://jabber.org/protocol/" \
			"chatstates'/></message>"

static bool
said(struct stream *st, const char *s)
{
	return strstr(tp_mem_output(&st->tp), s) != NULL;
}

/* the router hands the session a stanza, numbered as uplink.c does */
static void
deliver(struct stream *st, const char *xml)
{
	struct link_stanza	ls;

	memset(&ls, 0, sizeof(ls));
	ls.kind = KIND_MESSAGE;
	ls.type = MTYPE_CHAT;
	ls.xml = xml;
	ls.xlen = strlen(xml);
	csi_deliver(st, &ls, sm_arrived(st));
	scn_run();
}

static void
ack(struct stream *st, uint32_t h)
{
	char	a[64];

	snprintf(a, sizeof(a), "<a " SM_Q " h='%u'/>", h);
	scn_send(&st->tp, a);
}

/* a bound session with resumable SM on (the router said yes) */
static struct stream *
sm_on(void)
{
	struct stream	*st = scn_c2s_bound("juliet", "balcony");
	int		 n = scn_router.sm_enables;

	scn_send(&st->tp, ENABLE);
	assert_int_equal(scn_router.sm_enables, n + 1);
	assert_true(scn_router.sm_resume_flag);
	assert_false(said(st, "<enabled"));	/* the router answers first */
	sm_enabled(st, ID, 300);
	scn_run();
	assert_true(said(st, "<enabled " SM_Q " id='" ID "' resume='true' "
	    "max='300'/>"));
	tp_mem_output_reset(&st->tp);
	return st;
}

/* an authenticated stream (no session) sends <resume attrs/> */
static struct stream *
resuming(const char *attrs)
{
	struct stream	*st = scn_c2s_authed("juliet");
	char		 el[256];

	tp_mem_output_reset(&st->tp);
	snprintf(el, sizeof(el), "<resume " SM_Q " %s/>", attrs);
	scn_send(&st->tp, el);
	return st;
}

static void
test_feature_after_auth(void **state)
{
	struct stream	*st;
	const char	*out, *a, *e, *p;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	scn_send(&st->tp, SCN_HEADER);
	/* only in the XEP-0388 list of what may come inline */
	out = tp_mem_output(&st->tp);
	assert_non_null(a = strstr(out, "<authentication"));
	assert_non_null(e = strstr(out, "</authentication>"));
	p = strstr(out, "urn:xmpp:sm:3");
	assert_true(p == NULL || (p > a && p < e));
	assert_null(strstr(e, "urn:xmpp:sm:3"));
	st = scn_c2s_authed("juliet");
	assert_true(said(st, "<sm " SM_Q "/>"));
	scn_c2s_teardown();
}

static void
test_enable_before_bind(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_authed("juliet");
	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, ENABLE);
	assert_true(said(st, "<failed " SM_Q "><unexpected-request "));
	assert_int_equal(scn_router.sm_enables, 0);
	assert_int_equal(st->state, ST_AUTHED);
	scn_c2s_teardown();
}

static void
test_enable_twice(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	scn_send(&st->tp, "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'"
	    "/></iq>");
	scn_send(&st->tp, ENABLE);
	assert_true(said(st, "<failed " SM_Q " h='1'><unexpected-request "));
	assert_int_equal(scn_router.sm_enables, 1);
	scn_c2s_teardown();
}

static void
test_counts_and_maps_acks(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	c2s.conf.sm_request_stanzas = 100;
	st = sm_on();
	sid = st->sid;
	deliver(st, CHAT("1"));		/* router number 1 */
	deliver(st, CHAT("2"));		/* 2 */
	/* ours: a stanza error, not resumable; the router learns where */
	scn_send(&st->tp, "<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
	assert_true(said(st, "<bad-request "));
	assert_int_equal(scn_router.sm_h_out, 3);
	assert_int_equal(scn_router.sm_last, 2);
	deliver(st, CHAT("3"));		/* 3, written fourth */
	assert_int_equal(st->sm.h_out, 4);
	/* the client got three: the router frees through its number 2 */
	ack(st, 3);
	assert_int_equal(scn_router.sm_acked, 2);
	ack(st, 4);
	assert_int_equal(scn_router.sm_acked, 3);
	/* an old h changes nothing */
	ack(st, 1);
	assert_int_equal(st->sm.acked_h, 4);
	/* the client's stanzas: one message (refused, still handled) */
	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, R);
	assert_true(said(st, "<a " SM_Q " h='1'/>"));
	assert_int_equal(scn_router.sm_h_in, 1);
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

static void
test_asks_after_n_stanzas(void **state)
{
	struct stream	*st;
	int		 i;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	for (i = 0; i < 4; i++)
		deliver(st, CHAT("x"));
	assert_false(said(st, R));
	deliver(st, CHAT("x"));
	assert_true(said(st, R));
	/* one request at a time */
	tp_mem_output_reset(&st->tp);
	deliver(st, CHAT("x"));
	assert_false(said(st, R));
	scn_c2s_teardown();
}

static void
test_asks_after_interval_then_dead(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	sid = st->sid;
	deliver(st, CHAT("1"));
	scn_advance(29.9);
	assert_false(said(st, R));
	scn_advance(0.2);
	assert_true(said(st, R));
	/* no answer and nothing read for another interval: dead */
	scn_advance(30.1);
	assert_false(scn_c2s_alive(sid));
	assert_int_equal(scn_router.sess_ends, 1);
	assert_true(scn_router.last_lost);
	scn_c2s_teardown();
}

static void
test_answer_keeps_it_alive(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	sid = st->sid;
	deliver(st, CHAT("1"));
	scn_advance(30.1);
	assert_true(said(st, R));
	ack(st, 1);
	scn_advance(100);
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

static void
test_h_too_high(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	sid = st->sid;
	deliver(st, CHAT("1"));
	ack(st, 2);
	assert_true(said(st, "<undefined-condition "));
	assert_true(said(st, "<handled-count-too-high " SM_Q " h='2' "
	    "send-count='1'/>"));
	scn_run();
	assert_false(scn_c2s_alive(sid) && st->state != ST_CLOSING);
	assert_false(scn_router.last_lost);
	scn_c2s_teardown();
}

static void
test_bad_ack(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	scn_send(&st->tp, "<a " SM_Q " h='-1'/>");
	assert_true(said(st, "<bad-format "));
	scn_c2s_teardown();
}

/* XEP-0198 4: the counters wrap at 2^32 */
static void
test_wraparound(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	c2s.conf.sm_request_stanzas = 100;
	st = sm_on();
	st->sm.h_out = st->sm.acked_h = UINT32_MAX - 1;
	st->sm.h_in = UINT32_MAX;
	st->sm.rseq = st->sm.acked = st->sm.last = UINT32_MAX - 2;
	deliver(st, CHAT("1"));		/* h_out 2^32-1, number 2^32-2 */
	deliver(st, CHAT("2"));		/* 0, number 2^32-1 */
	deliver(st, CHAT("3"));		/* 1, number 0 */
	assert_int_equal(st->sm.h_out, 1);
	ack(st, 0);
	assert_int_equal(scn_router.sm_acked, UINT32_MAX);
	ack(st, 1);
	assert_int_equal(scn_router.sm_acked, 0);
	assert_int_equal(st->sm.mn, 0);
	/* 2 is above 1 across the wrap too */
	ack(st, 2);
	assert_true(said(st, "<handled-count-too-high " SM_Q " h='2' "
	    "send-count='1'/>"));
	scn_c2s_teardown();
}

static void
test_inbound_wraps(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	st->sm.h_in = UINT32_MAX;
	scn_send(&st->tp, "<presence/>");
	scn_send(&st->tp, R);
	assert_true(said(st, "<a " SM_Q " h='0'/>"));
	scn_c2s_teardown();
}

/* a held stanza (XEP-0352) counts when it is written */
static void
test_held_counts_when_written(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	scn_send(&st->tp, "<inactive xmlns='urn:xmpp:csi:0'/>");
	deliver(st, COMPOSING);
	assert_int_equal(st->sm.h_out, 0);
	scn_send(&st->tp, "<active xmlns='urn:xmpp:csi:0'/>");
	assert_int_equal(st->sm.h_out, 1);
	ack(st, 1);
	assert_int_equal(scn_router.sm_acked, 1);
	scn_c2s_teardown();
}

/*
 * The router restarts: the marks stay, numbered so that the last stanza
 * of the old router is 0 (as its handover numbers the queue), a held
 * one (CSI) alike, and the client's acks of them reach the new router.
 */
static void
test_router_restart_keeps_marks(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	c2s.conf.sm_request_stanzas = 100;
	st = sm_on();
	deliver(st, CHAT("1"));		/* old numbers 1, 2 written */
	deliver(st, CHAT("2"));
	scn_send(&st->tp, "<inactive xmlns='urn:xmpp:csi:0'/>");
	deliver(st, COMPOSING);		/* 3, held */
	ack(st, 1);
	assert_int_equal(scn_router.sm_acked, 1);
	sm_link_lost(st);
	assert_int_equal(st->sm.rseq, 0);
	assert_int_equal(st->sm.acked, (uint32_t)-2);
	sm_enabled(st, ID, 300);	/* the re-announce answered */
	scn_run();
	/* what the client acked is said at once, in the new numbers */
	assert_int_equal(scn_router.sm_acked, (uint32_t)-2);
	deliver(st, CHAT("n"));		/* new number 1, held behind 0 */
	scn_send(&st->tp, "<active xmlns='urn:xmpp:csi:0'/>");
	assert_int_equal(st->sm.h_out, 4);
	ack(st, 2);			/* old 2 */
	assert_int_equal(scn_router.sm_acked, (uint32_t)-1);
	ack(st, 3);			/* the held one, old 3 */
	assert_int_equal(scn_router.sm_acked, 0);
	ack(st, 4);
	assert_int_equal(scn_router.sm_acked, 1);
	scn_c2s_teardown();
}

static void
test_resume(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = resuming("previd='" ID "' h='7'");
	assert_int_equal(scn_router.sm_resumes, 1);
	assert_string_equal(scn_router.sm_previd, ID);
	assert_int_equal(scn_router.sm_h, 7);
	assert_int_equal(st->state, ST_RESUME_WAIT);
	sm_resumed(st, XERR_COUNT, "juliet@example.org/balcony", ID, 4, 10,
	    300);
	scn_run();
	assert_true(said(st, "<resumed " SM_Q " previd='" ID "' h='4'/>"));
	assert_int_equal(st->state, ST_BOUND);
	/* the replay continues the router's numbers and the client's h */
	deliver(st, CHAT("r"));
	assert_int_equal(st->sm.h_out, 8);
	ack(st, 8);
	assert_int_equal(scn_router.sm_acked, 11);
	scn_c2s_teardown();
}

static void
test_resume_refused(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = resuming("previd='nope' h='0'");
	sm_resumed(st, XERR_ITEM_NOT_FOUND, NULL, NULL, 0, 0, 0);
	scn_run();
	assert_true(said(st, "<failed " SM_Q "><item-not-found "));
	assert_int_equal(st->state, ST_AUTHED);
	/* malformed: no number h */
	scn_send(&st->tp, "<resume " SM_Q " previd='x' h='a'/>");
	assert_true(said(st, "<bad-request "));
	assert_int_equal(scn_router.sm_resumes, 1);
	scn_c2s_teardown();
}

static void
test_resume_when_bound_refused(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	scn_send(&st->tp, "<resume " SM_Q " previd='" ID "' h='0'/>");
	assert_true(said(st, "<failed " SM_Q "><unexpected-request "));
	assert_int_equal(scn_router.sm_resumes, 0);
	scn_c2s_teardown();
}

/* which ends let the router hibernate the session */
static void
test_lost_or_closed(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sm_on();
	scn_eof(&st->tp);		/* no </stream:stream> */
	assert_int_equal(scn_router.sess_ends, 1);
	assert_true(scn_router.last_lost);
	/* </stream:stream> is a goodbye: the session ends */
	st = sm_on();
	scn_send(&st->tp, "</stream:stream>");
	assert_int_equal(scn_router.sess_ends, 2);
	assert_false(scn_router.last_lost);
	scn_c2s_teardown();
}

static void
test_r_before_enable(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, R);
	assert_true(said(st, "<unsupported-stanza-type "));
	scn_c2s_teardown();
}

UNIT_MAIN(
	cmocka_unit_test(test_feature_after_auth),
	cmocka_unit_test(test_enable_before_bind),
	cmocka_unit_test(test_enable_twice),
	cmocka_unit_test(test_counts_and_maps_acks),
	cmocka_unit_test(test_asks_after_n_stanzas),
	cmocka_unit_test(test_asks_after_interval_then_dead),
	cmocka_unit_test(test_answer_keeps_it_alive),
	cmocka_unit_test(test_h_too_high),
	cmocka_unit_test(test_bad_ack),
	cmocka_unit_test(test_wraparound),
	cmocka_unit_test(test_inbound_wraps),
	cmocka_unit_test(test_held_counts_when_written),
	cmocka_unit_test(test_router_restart_keeps_marks),
	cmocka_unit_test(test_resume),
	cmocka_unit_test(test_resume_refused),
	cmocka_unit_test(test_resume_when_bound_refused),
	cmocka_unit_test(test_lost_or_closed),
	cmocka_unit_test(test_r_before_enable),
)
