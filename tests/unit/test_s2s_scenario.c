/*
 * s2s scenarios on the driver of scn_s2s.h: outgoing and incoming server
 * streams with scripted DNS, no sockets and no waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/map.h"
#include "../../common/util.h"
#include "scn_s2s.h"
#include "unit.h"

#define PAIR		SCN_HOST " remote.test"
#define MSG		"<message xmlns='jabber:client' " \
			"to='romeo@remote.test' " \
			"from='juliet@example.org/balcony' type='chat' " \
			"id='m1'><body>hi</body></message>"
#define PEER_HEADER	"<stream:stream xmlns='jabber:server' " \
			"xmlns:stream='http://etherx.jabber.org/streams' " \
			"xmlns:db='jabber:server:dialback' id='peer-id-1' " \
			"from='remote.test' to='" SCN_HOST "' " \
			"version='1.0'>"
#define PEER_FEATURES	"<stream:features><dialback " \
			"xmlns='urn:xmpp:features:dialback'/>" \
			"</stream:features>"

#define DB_VALID	"<db:result from='remote.test' to='" SCN_HOST \
			"' type='valid'/>"

/* a stanza for remote.test, resolved to an address that never answers */
static struct conn *
start_out(void)
{
	struct conn	*c;

	scn_dns_script("remote.test", NULL, 0, "192.0.2.1");
	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	/* no SRV records: the domain itself (RFC 6120 3.2.2), then A */
	assert_int_equal(scn_dns_answer(), 2);
	c = scn_s2s_out(PAIR);
	assert_non_null(c);
	assert_int_equal(c->state, CS_CONNECTING);
	return c;
}

/* the receiving server says valid: the queue goes out, nothing bounces */
static void
dialback_valid(struct conn *c)
{
	scn_send(&c->tp, DB_VALID);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<body>hi</body>"));
	assert_int_equal(scn_up.stanzas, 0);
}

/* the one queued stanza went back to its sender with cond */
static void
assert_bounced(const char *cond)
{
	const char	*log = buf_cstr(&scn_up.log);

	assert_int_equal(scn_up.stanzas, 1);
	/* back to the sender, from the address it was sent to */
	assert_non_null(strstr(log,
	    "juliet@example.org/balcony romeo@remote.test "));
	assert_non_null(strstr(log, "type='error'"));
	assert_non_null(strstr(log, cond));
}

/* RFC 6120 8.3.3.16: no stream in s2s-connect-timeout, the queue bounces */
static void
test_connect_timeout_bounces_the_queue(void **state)
{
	(void)state;
	scn_s2s_setup();
	(void)start_out();
	scn_advance(s2s.conf.s2s_connect_timeout - 0.01);
	assert_int_equal(scn_up.stanzas, 0);
	scn_advance(0.02);
	assert_bounced("<remote-server-not-found ");
	assert_null(scn_s2s_out(PAIR));
	scn_s2s_teardown();
}

/* XEP-0220: dialback on the new stream, then the queue goes out */
static void
test_dialback_valid_sends_the_queue(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	c = start_out();
	tp_mem_connected(&c->tp, 0);
	scn_run();
	assert_non_null(strstr(tp_mem_output(&c->tp), "to='remote.test'"));
	scn_send(&c->tp, PEER_HEADER PEER_FEATURES);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<db:result from='"
	    SCN_HOST "' to='remote.test'>"));
	assert_null(strstr(tp_mem_output(&c->tp), "<body>hi</body>"));
	scn_send(&c->tp, "<db:result from='remote.test' to='" SCN_HOST
	    "' type='valid'/>");
	assert_non_null(strstr(tp_mem_output(&c->tp), "<body>hi</body>"));
	assert_int_equal(c->state, CS_OPEN);
	/* ready before the deadline: nothing bounces after it */
	scn_advance(s2s.conf.s2s_connect_timeout + 1);
	assert_int_equal(scn_up.stanzas, 0);
	scn_s2s_teardown();
}

/*
 * ejabberd offers SASL EXTERNAL and then refuses it: dialback follows on
 * a new stream to the same address (XEP-0178 with XEP-0220 as fallback).
 */
static void
test_external_refused_then_dialback(void **state)
{
	struct conn	*c, *c2;

	(void)state;
	scn_s2s_setup();
	c = start_out();
	tp_mem_connected(&c->tp, 0);
	scn_run();
	c->cert_ok = true;	/* as if TLS had verified the certificate */
	scn_send(&c->tp, PEER_HEADER "<stream:features><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL"
	    "</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:"
	    "dialback'/></stream:features>");
	assert_non_null(strstr(tp_mem_output(&c->tp), "mechanism='EXTERNAL'"));
	scn_send(&c->tp, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
	    "<not-authorized/></failure>");
	/* the first stream ends; a second one connects to the same address */
	assert_non_null(strstr(tp_mem_output(&c->tp), "</stream:stream>"));
	c2 = scn_s2s_out(PAIR);
	assert_non_null(c2);
	assert_true(c2 != c);
	assert_int_equal(c2->state, CS_CONNECTING);
	tp_mem_connected(&c2->tp, 0);
	scn_run();
	c2->cert_ok = true;
	scn_send(&c2->tp, PEER_HEADER "<stream:features><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL"
	    "</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:"
	    "dialback'/></stream:features>");
	assert_null(strstr(tp_mem_output(&c2->tp), "EXTERNAL"));
	assert_non_null(strstr(tp_mem_output(&c2->tp), "<db:result "));
	dialback_valid(c2);
	scn_s2s_teardown();
}

/* a refused connect fails over at once, and with no address left, bounces */
static void
test_connect_refused_bounces_at_once(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	c = start_out();
	tp_mem_connected(&c->tp, 111);	/* ECONNREFUSED */
	scn_run();
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "<remote-server-not-found "));
	scn_s2s_teardown();
}

/* RFC 6120 3.2.1: a target that refuses, then the next by priority */
static void
test_srv_failover_to_the_next_target(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	scn_dns_script("remote.test", "xmpp1.remote.test", 5269, "192.0.2.1");
	scn_dns_script("remote.test", "xmpp2.remote.test", 5270, "192.0.2.2");
	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	assert_int_equal(scn_dns_answer(), 2);
	c = scn_s2s_out(PAIR);
	assert_non_null(c);
	tp_mem_connected(&c->tp, 111);	/* ECONNREFUSED */
	scn_run();
	/* the second target's address is looked up, then dialled */
	assert_int_equal(scn_dns_answer(), 1);
	c = scn_s2s_out(PAIR);
	assert_non_null(c);
	assert_int_equal(c->state, CS_CONNECTING);
	tp_mem_connected(&c->tp, 0);
	scn_run();
	scn_send(&c->tp, PEER_HEADER PEER_FEATURES);
	dialback_valid(c);
	scn_s2s_teardown();
}

/* XEP-0220 2.1.3: we answer db:verify for a key we issued */
static void
test_incoming_db_verify(void **state)
{
	struct conn	*c;
	char		 key[DIALBACK_KEY_LEN + 1], el[512];

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<stream:features>"));
	dialback_key(SCN_SECRET, "remote.test", SCN_HOST, "some-id", key);
	snprintf(el, sizeof(el), "<db:verify from='remote.test' to='"
	    SCN_HOST "' id='some-id'>%s</db:verify>", key);
	scn_send(&c->tp, el);
	assert_non_null(strstr(tp_mem_output(&c->tp), "id='some-id' "
	    "type='valid'/>"));
	scn_send(&c->tp, "<db:verify from='remote.test' to='" SCN_HOST
	    "' id='other-id'>0000</db:verify>");
	assert_non_null(strstr(tp_mem_output(&c->tp), "id='other-id' "
	    "type='invalid'/>"));
	scn_s2s_teardown();
}

/* an incoming stream gets twice s2s-connect-timeout to authenticate */
static void
test_incoming_negotiation_timeout(void **state)
{
	struct conn	*c;
	uint64_t	 id;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	id = c->id;
	scn_send(&c->tp, PEER_HEADER);
	scn_advance(2 * s2s.conf.s2s_connect_timeout - 0.01);
	assert_non_null(conn_find(id));
	scn_advance(0.02);
	assert_null(conn_find(id));
	assert_non_null(strstr(tp_mem_output(&c->tp), "<connection-timeout "));
	scn_s2s_teardown();
}

/* a stanza on a stream that authenticated nothing: RFC 6120 4.9.3.12 */
static void
test_incoming_stanza_before_auth(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER "<message from='romeo@remote.test' "
	    "to='juliet@example.org'><body>x</body></message>");
	assert_non_null(strstr(tp_mem_output(&c->tp), "<not-authorized "));
	assert_int_equal(scn_up.stanzas, 0);
	scn_s2s_teardown();
}

/* ---- dialback invalid and timeouts (XEP-0220) ------------------------ */

/* the stream to remote.test up to our db:result, the message queued */
static struct conn *
out_at_dialback(void)
{
	struct conn	*c = start_out();

	tp_mem_connected(&c->tp, 0);
	scn_run();
	scn_send(&c->tp, PEER_HEADER PEER_FEATURES);
	assert_int_equal(c->state, CS_DIALBACK);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<db:result "));
	return c;
}

/*
 * XEP-0220 2.1.2: the receiving server answers type='invalid': nothing
 * queued goes out on that stream, each stanza bounces, the stream ends.
 */
static void
test_dialback_invalid_bounces_the_queue(void **state)
{
	struct conn	*c;
	uint64_t	 id;

	(void)state;
	scn_s2s_setup();
	c = out_at_dialback();
	id = c->id;
	scn_send(&c->tp, "<db:result from='remote.test' to='" SCN_HOST
	    "' type='invalid'/>");
	assert_null(strstr(tp_mem_output(&c->tp), "<body>hi</body>"));
	assert_non_null(strstr(tp_mem_output(&c->tp), "</stream:stream>"));
	assert_true(tp_mem_shut(&c->tp));
	assert_null(conn_find(id));
	assert_bounced("<remote-server-not-found ");
	/* the pair is forgotten: the next stanza starts over */
	assert_null(scn_s2s_out(PAIR));
	scn_s2s_teardown();
}

/* XEP-0220 2.1.2: no answer to our db:result by the deadline */
static void
test_dialback_result_timeout_bounces_the_queue(void **state)
{
	struct conn	*c;
	uint64_t	 id;

	(void)state;
	scn_s2s_setup();
	c = out_at_dialback();
	id = c->id;
	/* the deadline counts from the first attempt, not the stream */
	scn_advance(s2s.conf.s2s_connect_timeout - 0.01);
	assert_int_equal(scn_up.stanzas, 0);
	assert_non_null(conn_find(id));
	scn_advance(0.02);
	/* the server was reached: a timeout, not "not found" */
	assert_bounced("<remote-server-timeout ");
	assert_null(strstr(tp_mem_output(&c->tp), "<body>hi</body>"));
	assert_non_null(strstr(tp_mem_output(&c->tp), "</stream:stream>"));
	assert_null(conn_find(id));
	/* a late answer finds nothing */
	scn_send(&c->tp, DB_VALID);
	assert_int_equal(scn_up.stanzas, 1);
	scn_s2s_teardown();
}

/*
 * An incoming stream from remote.test asks for dialback; we, the
 * receiving server, ask remote.test's authoritative server over a
 * stream of our own. Returns the incoming stream; *auth the outgoing
 * one, with our db:verify written.
 */
static struct conn *
in_dialback(struct conn **auth)
{
	struct conn	*in, *out;

	in = scn_s2s_accept();
	scn_send(&in->tp, PEER_HEADER);
	scn_dns_script("remote.test", NULL, 0, "192.0.2.1");
	scn_send(&in->tp, "<db:result from='remote.test' to='" SCN_HOST
	    "'>0123456789abcdef</db:result>");
	assert_int_equal(scn_dns_answer(), 2);
	out = scn_s2s_out(PAIR);
	assert_non_null(out);
	tp_mem_connected(&out->tp, 0);
	scn_run();
	scn_send(&out->tp, PEER_HEADER PEER_FEATURES);
	assert_non_null(strstr(tp_mem_output(&out->tp), "<db:verify from='"
	    SCN_HOST "' to='remote.test' id='"));
	assert_non_null(strstr(tp_mem_output(&out->tp),
	    ">0123456789abcdef</db:verify>"));
	*auth = out;
	return in;
}

/* remote.test's authoritative server answers our db:verify with type */
static void
verify_answer(struct conn *in, struct conn *out, const char *type)
{
	char		 el[256];
	const char	*id;

	/* the id is the incoming stream's, in its header */
	id = strstr(tp_mem_output(&in->tp), " id='");
	assert_non_null(id);
	snprintf(el, sizeof(el), "<db:verify from='remote.test' to='"
	    SCN_HOST "' id='%.*s' type='%s'/>",
	    (int)strcspn(id + 5, "'"), id + 5, type);
	scn_send(&out->tp, el);
}

/*
 * XEP-0220 2.1.3/2.1.4: the authoritative server says type='invalid':
 * the incoming stream is told so, and what it then sends for that
 * domain is refused (RFC 6120 4.9.3.12), nothing reaching the router.
 */
static void
test_dialback_verify_invalid_refuses_the_peer(void **state)
{
	struct conn	*in, *out;

	(void)state;
	scn_s2s_setup();
	in = in_dialback(&out);
	verify_answer(in, out, "invalid");
	assert_non_null(strstr(tp_mem_output(&in->tp), "<db:result from='"
	    SCN_HOST "' to='remote.test' type='invalid'/>"));
	scn_send(&in->tp, "<message from='romeo@remote.test' "
	    "to='juliet@example.org'><body>x</body></message>");
	assert_non_null(strstr(tp_mem_output(&in->tp), "<not-authorized "));
	assert_int_equal(scn_up.stanzas, 0);
	scn_s2s_teardown();
}

/*
 * No answer to our db:verify by the deadline: the incoming stream is
 * not authorized (XEP-0220: the receiving server could not verify) and
 * its stanzas never reach the router.
 */
static void
test_dialback_verify_timeout(void **state)
{
	struct conn	*in, *out;
	uint64_t	 out_id;

	(void)state;
	scn_s2s_setup();
	in = in_dialback(&out);
	out_id = out->id;
	scn_advance(s2s.conf.s2s_connect_timeout - 0.01);
	assert_null(strstr(tp_mem_output(&in->tp), "type="));
	scn_advance(0.02);
	assert_non_null(strstr(tp_mem_output(&in->tp), "<db:result from='"
	    SCN_HOST "' to='remote.test' type="));
	assert_null(strstr(tp_mem_output(&in->tp), "type='valid'"));
	assert_null(conn_find(out_id));
	scn_send(&in->tp, "<message from='romeo@remote.test' "
	    "to='juliet@example.org'><body>x</body></message>");
	assert_int_equal(scn_up.stanzas, 0);
	scn_s2s_teardown();
}

/* ---- federation limits (issue 12 items 7-9) ------------------------ */

#define PEER_HEADER_FROM(d) "<stream:stream xmlns='jabber:server' " \
			"xmlns:stream='http://etherx.jabber.org/streams' " \
			"xmlns:db='jabber:server:dialback' " \
			"from='" d "' to='" SCN_HOST "' version='1.0'>"

#define MSG2		"<message xmlns='jabber:client' " \
			"to='mercutio@other.test' " \
			"from='juliet@example.org/balcony' id='m2'/>"

/* MSG sent; after answers DNS answers a connect to remote.test starts */
static void
dialled_after(int answers)
{
	struct conn	*c;

	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	assert_int_equal(scn_dns_answer(), answers);
	c = scn_s2s_out(PAIR);
	assert_non_null(c);
	assert_int_equal(c->state, CS_CONNECTING);
}

/* an outgoing stream that got the peer's header and (dialback) features */
static struct conn *
out_offered_dialback(void)
{
	struct conn	*c;

	c = start_out();
	tp_mem_connected(&c->tp, 0);
	scn_run();
	scn_send(&c->tp, PEER_HEADER PEER_FEATURES);
	return c;
}

static void
send_db_result(struct conn *c, const char *from)
{
	char	el[256];

	snprintf(el, sizeof(el), "<db:result from='%s' to='" SCN_HOST
	    "'>0123456789abcdef</db:result>", from);
	scn_send(&c->tp, el);
}

/* s2s-allow-private no: an A record on a private network is not dialled */
static void
test_private_address_not_dialled(void **state)
{
	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_allow_private = false;
	scn_dns_script("remote.test", NULL, 0, "10.1.2.3");
	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	assert_int_equal(scn_dns_answer(), 2);
	assert_null(scn_s2s_out(PAIR));
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "<remote-server-not-found "));
	scn_s2s_teardown();
}

/* an SRV target on loopback is skipped; the public one is dialled */
static void
test_loopback_srv_target_skipped(void **state)
{
	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_allow_private = false;
	scn_dns_script("remote.test", "evil.remote.test", 5269, "127.0.0.1");
	scn_dns_script("remote.test", "xmpp.remote.test", 5269, "8.8.4.4");
	dialled_after(3);
	assert_int_equal(scn_up.stanzas, 0);
	scn_s2s_teardown();
}

/* the same scripts dial loopback when the operator allows it (labs) */
static void
test_private_address_allowed(void **state)
{
	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_allow_private = true;
	scn_dns_script("remote.test", "evil.remote.test", 5269, "127.0.0.1");
	dialled_after(2);
	scn_s2s_teardown();
}

/* an IP-literal domain on loopback: bounced before any DNS query */
static void
test_ip_literal_domain_refused(void **state)
{
	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_allow_private = false;
	out_stanza("romeo@127.0.0.1", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	assert_int_equal(scn_dns_answer(), 0);
	assert_null(scn_s2s_out(SCN_HOST " 127.0.0.1"));
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "<remote-server-not-found "));
	scn_s2s_teardown();
}

/* s2s-dialback-pending: past it, db:result gets resource-constraint */
static void
test_dialback_pending_cap(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_dialback_pending = 2;
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	send_db_result(c, "one.test");
	send_db_result(c, "two.test");
	assert_null(strstr(tp_mem_output(&c->tp), "type='error'"));
	assert_int_equal(map_count(s2s.outs), 2);
	send_db_result(c, "three.test");
	assert_non_null(strstr(tp_mem_output(&c->tp), "<db:result from='"
	    SCN_HOST "' to='three.test' type='error'><error type='wait'>"
	    "<resource-constraint "));
	/* no third pair was set up: nothing resolved, nothing dialled */
	assert_int_equal(map_count(s2s.outs), 2);
	assert_non_null(conn_find(c->id));
	/* an answer frees a place */
	while (scn_dns_answer() > 0)
		;
	assert_non_null(strstr(tp_mem_output(&c->tp), "to='one.test' "
	    "type='invalid'/>"));
	send_db_result(c, "four.test");
	assert_null(strstr(tp_mem_output(&c->tp), "to='four.test' "
	    "type='error'"));
	scn_s2s_teardown();
}

/* s2s-dialback-rate: a bucket of one minute's worth, refilled with time */
static void
test_dialback_rate(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_dialback_rate = 2;
	/* the stream and the pairs outlive the refill */
	s2s.conf.s2s_connect_timeout = 60;
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	send_db_result(c, "one.test");
	send_db_result(c, "two.test");
	send_db_result(c, "three.test");
	assert_non_null(strstr(tp_mem_output(&c->tp), "to='three.test' "
	    "type='error'><error type='wait'><policy-violation "));
	assert_int_equal(map_count(s2s.outs), 2);
	scn_advance(30.5);	/* one token back */
	send_db_result(c, "four.test");
	assert_null(strstr(tp_mem_output(&c->tp), "to='four.test' "
	    "type='error'"));
	assert_int_equal(map_count(s2s.outs), 3);
	scn_s2s_teardown();
}

/* db:verify has no error form: past the rate the stream ends */
static void
test_db_verify_rate(void **state)
{
	struct conn	*c;
	uint64_t	 id;
	int		 i;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_dialback_rate = 3;
	c = scn_s2s_accept();
	id = c->id;
	scn_send(&c->tp, PEER_HEADER);
	for (i = 0; i < 3; i++)
		scn_send(&c->tp, "<db:verify from='remote.test' to='"
		    SCN_HOST "' id='x'>00</db:verify>");
	assert_null(strstr(tp_mem_output(&c->tp), "<policy-violation "));
	scn_send(&c->tp, "<db:verify from='remote.test' to='" SCN_HOST
	    "' id='x'>00</db:verify>");
	assert_non_null(strstr(tp_mem_output(&c->tp), "<policy-violation "));
	scn_advance(TP_LINGER + 1);
	assert_null(conn_find(id));
	scn_s2s_teardown();
}

/* RFC 6120 4.9.3.9: a peer claiming our own domain in its header */
static void
test_own_domain_in_header(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER_FROM(SCN_HOST));
	assert_non_null(strstr(tp_mem_output(&c->tp), "<invalid-from "));
	assert_null(strstr(tp_mem_output(&c->tp), "<stream:features>"));
	scn_s2s_teardown();
}

/* ... or in a db:result: no verification is even started */
static void
test_own_domain_in_db_result(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	send_db_result(c, SCN_HOST);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<invalid-from "));
	assert_int_equal(map_count(s2s.outs), 0);
	scn_s2s_teardown();
}

/* s2s-out-max: a pair past the cap bounces with resource-constraint */
static void
test_out_max(void **state)
{
	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_out_max = 1;
	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	out_stanza("mercutio@other.test", "juliet@example.org/balcony", MSG2,
	    strlen(MSG2));
	assert_int_equal(map_count(s2s.outs), 1);
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "juliet@example.org/balcony mercutio@other.test "));
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "<resource-constraint "));
	/* a pair that exists still takes stanzas */
	out_stanza("romeo@remote.test", "juliet@example.org/balcony", MSG,
	    strlen(MSG));
	assert_int_equal(scn_up.stanzas, 1);
	scn_s2s_teardown();
}

/* s2s-require-valid-cert: no dialback fallback, the queue bounces */
static void
test_require_valid_cert_outgoing(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_require_valid_cert = true;
	c = out_offered_dialback();
	assert_null(strstr(tp_mem_output(&c->tp), "<db:result"));
	assert_non_null(strstr(tp_mem_output(&c->tp), "</stream:stream>"));
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log),
	    "<remote-server-not-found "));
	assert_null(scn_s2s_out(PAIR));
	scn_s2s_teardown();
}

/* the per-domain lists override the global value both ways */
static void
test_require_valid_cert_per_domain(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_require_valid_cert = true;
	s2s.conf.s2s_allow_dialback_for = "legacy.test , remote.test ";
	c = out_offered_dialback();
	assert_non_null(strstr(tp_mem_output(&c->tp), "<db:result from='"
	    SCN_HOST "' to='remote.test'>"));
	scn_s2s_teardown();

	scn_s2s_setup();
	s2s.conf.s2s_require_valid_cert = false;
	s2s.conf.s2s_require_valid_cert_for = "bank.test,remote.test";
	c = out_offered_dialback();
	assert_null(strstr(tp_mem_output(&c->tp), "<db:result"));
	assert_int_equal(scn_up.stanzas, 1);
	scn_s2s_teardown();
}

/* incoming: dialback is neither offered nor accepted from such a domain */
static void
test_require_valid_cert_incoming(void **state)
{
	struct conn	*c;

	(void)state;
	scn_s2s_setup();
	s2s.conf.s2s_require_valid_cert = true;
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<stream:features>"));
	assert_null(strstr(tp_mem_output(&c->tp), "urn:xmpp:features:"
	    "dialback"));
	send_db_result(c, "remote.test");
	assert_non_null(strstr(tp_mem_output(&c->tp), "to='remote.test' "
	    "type='error'><error type='auth'><not-authorized "));
	assert_int_equal(map_count(s2s.outs), 0);
	scn_s2s_teardown();
}

/* AAAA answers too: loopback, link-local and v4-mapped private refused */
static void
test_private_ipv6_not_dialled(void **state)
{
	static const char	*addrs[] = { "::1", "fe80::1", "fd00::5",
	    "::ffff:127.0.0.1", "::ffff:10.0.0.1" };
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		scn_s2s_setup();
		s2s.conf.s2s_allow_private = false;
		scn_dns_script("remote.test", "xmpp.remote.test", 5269,
		    addrs[i]);
		out_stanza("romeo@remote.test", "juliet@example.org/balcony",
		    MSG, strlen(MSG));
		assert_int_equal(scn_dns_answer(), 2);
		assert_null(scn_s2s_out(PAIR));
		assert_int_equal(scn_up.stanzas, 1);
		scn_s2s_teardown();
	}
	scn_s2s_setup();
	s2s.conf.s2s_allow_private = false;
	scn_dns_script("remote.test", "xmpp.remote.test", 5269,
	    "2001:4860:4860::8888");
	dialled_after(2);
	scn_s2s_teardown();
}

/* ---- buffer caps (issue 11 6.6) ------------------------------------ */

/* n copies of c, NUL-terminated (the caller frees) */
static char *
repeat(char c, size_t n)
{
	char	*s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* an incoming stream on which remote.test is authenticated (dialback) */
static struct conn *
in_authed(void)
{
	struct conn	*in, *out;

	in = in_dialback(&out);
	verify_answer(in, out, "valid");
	assert_non_null(strstr(tp_mem_output(&in->tp), "<db:result from='"
	    SCN_HOST "' to='remote.test' type='valid'/>"));
	tp_mem_output_reset(&in->tp);
	return in;
}

#define IN_MSG(body)	"<message from='romeo@remote.test' " \
			"to='juliet@example.org'><body>" body \
			"</body></message>"

/* the router away: stanzas wait, in order, and go when it is back */
static void
test_hold_released_when_the_router_returns(void **state)
{
	struct conn	*in;

	(void)state;
	scn_s2s_setup();
	in = in_authed();
	scn_up.down = true;
	scn_send(&in->tp, IN_MSG("1") IN_MSG("2"));
	assert_int_equal(scn_up.stanzas, 0);
	assert_true(buf_avail(&in->held) > 0);
	scn_up.down = false;
	in_release_held();
	scn_run();
	assert_int_equal(scn_up.stanzas, 2);
	assert_true(strstr(buf_cstr(&scn_up.log), "<body>1</body>") <
	    strstr(buf_cstr(&scn_up.log), "<body>2</body>"));
	assert_null(strstr(tp_mem_output(&in->tp), "<stream:error>"));
	scn_s2s_teardown();
}

/*
 * CONN_HELD_MAX: a stanza of about a megabyte once escaped is held, the
 * next in the same read (an attribute of quotes, six times its size
 * escaped) passes the cap: resource-constraint, the stream ends, and
 * nothing of that one reaches the router.
 */
static void
test_hold_is_capped(void **state)
{
	struct conn	*in;
	struct buf	 b;
	char		*big = repeat('>', 250000), *q = repeat('\'', 10000);

	(void)state;
	scn_s2s_setup();
	s2s.conf.max_stanza_size = 256 * 1024;	/* streams take twice */
	in = in_authed();
	scn_up.down = true;
	buf_init(&b, 0);
	/* the second ends in the read (16K) that ends the first */
	assert_int_equal(buf_printf(&b, IN_MSG("%s") "<message from='"
	    "romeo@remote.test' to='juliet@example.org' a=\"%s\"/>", big, q),
	    0);
	scn_send(&in->tp, buf_cstr(&b));
	assert_non_null(strstr(tp_mem_output(&in->tp),
	    "<resource-constraint "));
	assert_true(buf_avail(&in->held) <= CONN_HELD_MAX);
	/* what was held before it still goes, whole; it never */
	scn_up.down = false;
	in_release_held();
	assert_int_equal(scn_up.stanzas, 1);
	assert_non_null(strstr(buf_cstr(&scn_up.log), "&gt;</body>"));
	assert_null(strstr(buf_cstr(&scn_up.log), " a='"));
	buf_clear(&b);
	free(big);
	free(q);
	scn_s2s_teardown();
}

/* a stream error's text that would pass S2S_CTL_MAX is left out */
static void
test_stream_error_text_capped(void **state)
{
	struct conn	*in;
	char		*name = repeat('a', 20000), *el;

	(void)state;
	scn_s2s_setup();
	in = in_authed();
	el = xasprintf("<%s/>", name);
	scn_send(&in->tp, el);
	assert_non_null(strstr(tp_mem_output(&in->tp),
	    "<unsupported-stanza-type "));
	assert_null(strstr(tp_mem_output(&in->tp), "<text"));
	assert_true(strlen(tp_mem_output(&in->tp)) < S2S_CTL_MAX);
	free(el);
	free(name);
	scn_s2s_teardown();
}

/*
 * A db:result whose to, escaped, passes S2S_CTL_MAX: its error answer
 * would echo it, so the stream ends instead (RFC 6120 4.9.3.10), no
 * db:result half-written.
 */
static void
test_db_result_address_too_long(void **state)
{
	struct conn	*c;
	char		*to = repeat('\'', 5000), *el;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	scn_send(&c->tp, PEER_HEADER);
	el = xasprintf("<db:result from='remote.test' to=\"%s\">"
	    "0123</db:result>", to);
	scn_send(&c->tp, el);
	assert_non_null(strstr(tp_mem_output(&c->tp),
	    "<improper-addressing "));
	assert_null(strstr(tp_mem_output(&c->tp), "<db:result"));
	assert_null(conn_find(c->id));
	free(el);
	free(to);
	scn_s2s_teardown();
}

/* a db:verify whose id, escaped, passes S2S_CTL_MAX: policy-violation */
static void
test_db_verify_id_too_long(void **state)
{
	struct conn	*c;
	char		*id = repeat('\'', 5000), *el;
	uint64_t	 cid;

	(void)state;
	scn_s2s_setup();
	c = scn_s2s_accept();
	cid = c->id;
	scn_send(&c->tp, PEER_HEADER);
	el = xasprintf("<db:verify from='remote.test' to='" SCN_HOST
	    "' id=\"%s\">0000</db:verify>", id);
	scn_send(&c->tp, el);
	assert_non_null(strstr(tp_mem_output(&c->tp), "<policy-violation "));
	assert_null(strstr(tp_mem_output(&c->tp), "<db:verify"));
	assert_null(conn_find(cid));
	free(el);
	free(id);
	scn_s2s_teardown();
}


/* ---- remote occupants kept for a router crash (s2s/rejoin.c) -------- */

#define MUCSVC		"conference." SCN_HOST

static void
rj_parsed(struct xnode *el, struct arena *a, void *arg)
{
	int	*type = arg;

	rejoin_out(el, a, *type, xnode_attr(el, "to"),
	    xnode_attr(el, "from"), false);
}

/* real sends the presence type (with body inside) to to, as in_pass does */
static void
rj_send(int type, const char *real, const char *to, const char *body)
{
	char	*xml;

	xml = xasprintf("<presence from='%s' to='%s'%s>%s</presence>", real,
	    to, type == PRES_UNAVAILABLE ? " type='unavailable'" : "", body);
	assert_int_equal(s2s_parse(xml, strlen(xml), rj_parsed, &type), 0);
	free(xml);
}

#define RJ_JOIN		"<x xmlns='http://jabber.org/protocol/muc'>" \
			"<history maxchars='0'/><password>pw</password></x>"

static void
rj_join(const char *real, const char *room, const char *nick)
{
	char	to[JID_STR_MAX + 1];

	snprintf(to, sizeof(to), "%s@" MUCSVC "/%s", room, nick);
	rj_send(PRES_AVAILABLE, real, to, RJ_JOIN);
}

/* the frames on l's queue: how many joins again, each checked */
static int
rj_frames(struct link *l)
{
	const char	*p = buf_rptr(&l->out), *end = p + buf_avail(&l->out);
	struct link_hdr	 h;
	struct link_in	 in;
	struct link_stanza ls;
	int		 n = 0;

	while (p < end) {
		assert_true(end - p >= LINK_HDR_LEN);
		link_hdr_decode(&h, p);
		assert_int_equal(h.type, LINK_STANZA);
		assert_int_equal(h.flags, LINK_F_MUC_REJOIN);
		assert_int_equal(h.sid, 0);
		link_in_init(&in, p + LINK_HDR_LEN, h.len);
		link_get_stanza(&in, &ls);
		assert_true(link_in_done(&in));
		assert_int_equal(ls.kind, KIND_PRESENCE);
		assert_int_equal(ls.type, PRES_AVAILABLE);
		assert_true(ls.tolen == strlen("r1@" MUCSVC "/romeo") &&
		    memcmp(ls.to, "r1@" MUCSVC "/romeo", ls.tolen) == 0);
		assert_true(ls.fromlen == strlen("romeo@remote.test/a") &&
		    memcmp(ls.from, "romeo@remote.test/a", ls.fromlen) == 0);
		/* no history asked for; the password kept */
		assert_non_null(memmem(ls.xml, ls.xlen,
		    "<history maxstanzas='0'/>", 25));
		assert_null(memmem(ls.xml, ls.xlen, "maxchars", 8));
		assert_non_null(memmem(ls.xml, ls.xlen,
		    "<password>pw</password>", 23));
		p += LINK_HDR_LEN + h.len;
		n++;
	}
	return n;
}

/*
 * Joins to our rooms only; sent again once the room took them (its
 * self-presence went out); each way of forgetting; at most
 * S2S_REJOIN_DOMAIN_MAX joins of one remote domain and S2S_REJOIN_MAX
 * in all, a slot freed taken again.
 */
static void
test_rejoin_remote_occupants(void **state)
{
	struct conf_host	 host;
	struct link		*l;
	char			 real[64], room[32];
	int			 sv[2], i, d;

	(void)state;
	scn_s2s_setup();
	memset(&host, 0, sizeof(host));
	host.name = SCN_HOST;
	host.muc = true;
	host.muc_name = MUCSVC;
	s2s.conf.hosts = &host;
	s2s.conf.nhosts = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	l = link_new(EV_DEFAULT, sv[0], "router", 1u << 24, NULL, NULL,
	    NULL);

	/* not ours, no nick, no <x/>: nothing kept */
	rj_send(PRES_AVAILABLE, "romeo@remote.test/a",
	    "r@muc.elsewhere.test/romeo", RJ_JOIN);
	rj_send(PRES_AVAILABLE, "romeo@remote.test/a", "juliet@" SCN_HOST
	    "/x", RJ_JOIN);
	rj_send(PRES_AVAILABLE, "romeo@remote.test/a", "r@" MUCSVC, RJ_JOIN);
	rj_send(PRES_AVAILABLE, "romeo@remote.test/a", "r@" MUCSVC "/romeo",
	    "");
	assert_int_equal(rejoin_count(NULL), 0);

	/* kept, but not sent again before the room took it */
	rj_join("romeo@remote.test/a", "r1", "romeo");
	assert_int_equal(rejoin_count("remote.test"), 1);
	rejoin_announce(l);
	assert_int_equal(rj_frames(l), 0);
	/* another occupant's presence says nothing of romeo's join */
	rejoin_in(PRES_AVAILABLE, "romeo@remote.test/a", "r1@" MUCSVC "/x");
	rejoin_announce(l);
	assert_int_equal(rj_frames(l), 0);
	rejoin_in(PRES_AVAILABLE, "romeo@remote.test/a",
	    "r1@" MUCSVC "/romeo");
	rejoin_announce(l);
	assert_int_equal(rj_frames(l), 1);
	buf_reset(&l->out);

	/* forgotten: a refused join, a leave, the room's unavailable, and
	   our bounce of what the room sent a server we cannot reach */
	rj_join("romeo@remote.test/b", "r2", "romeo");
	rejoin_in(PRES_ERROR, "romeo@remote.test/b", "r2@" MUCSVC "/romeo");
	rj_join("romeo@remote.test/c", "r3", "romeo");
	rj_send(PRES_UNAVAILABLE, "romeo@remote.test/c", "r3@" MUCSVC
	    "/romeo", "");
	rj_join("romeo@remote.test/d", "r4", "romeo");
	rejoin_in(PRES_AVAILABLE, "romeo@remote.test/d",
	    "r4@" MUCSVC "/romeo");
	rejoin_in(PRES_UNAVAILABLE, "romeo@remote.test/d",
	    "r4@" MUCSVC "/romeo");
	rj_join("romeo@remote.test/e", "r5", "romeo");
	rejoin_out(NULL, NULL, PRES_ERROR, "r5@" MUCSVC "/other",
	    "romeo@remote.test/e", false);
	assert_int_equal(rejoin_count(NULL), 1);
	/* a nick change the room took is the nick joined again */
	rj_join("romeo@remote.test/f", "r6", "romeo");
	rejoin_in(PRES_AVAILABLE, "romeo@remote.test/f",
	    "r6@" MUCSVC "/romeo");
	rj_send(PRES_AVAILABLE, "romeo@remote.test/f", "r6@" MUCSVC "/rom",
	    "");
	rejoin_in(PRES_UNAVAILABLE, "romeo@remote.test/f",
	    "r6@" MUCSVC "/romeo");
	rejoin_in(PRES_AVAILABLE, "romeo@remote.test/f", "r6@" MUCSVC "/rom");
	assert_int_equal(rejoin_count(NULL), 2);
	rj_send(PRES_UNAVAILABLE, "romeo@remote.test/f", "r6@" MUCSVC "/rom",
	    "");
	assert_int_equal(rejoin_count(NULL), 1);

	/* one remote domain: S2S_REJOIN_DOMAIN_MAX */
	for (i = 0; i < S2S_REJOIN_DOMAIN_MAX + 5; i++) {
		snprintf(room, sizeof(room), "q%d", i);
		rj_join("romeo@remote.test/a", room, "romeo");
	}
	assert_int_equal(rejoin_count("remote.test"), S2S_REJOIN_DOMAIN_MAX);
	/* a join again to a room it is in replaces, and is no new one */
	rj_join("romeo@remote.test/a", "r1", "romeo");
	assert_int_equal(rejoin_count("remote.test"), S2S_REJOIN_DOMAIN_MAX);
	rj_join("romeo@remote.test/z", "q0", "romeo");
	assert_int_equal(rejoin_count("remote.test"), S2S_REJOIN_DOMAIN_MAX);
	/* a slot freed is taken again */
	rj_send(PRES_UNAVAILABLE, "romeo@remote.test/a", "q0@" MUCSVC
	    "/romeo", "");
	rj_join("romeo@remote.test/z", "q0", "romeo");
	assert_int_equal(rejoin_count("remote.test"), S2S_REJOIN_DOMAIN_MAX);

	/* in all: S2S_REJOIN_MAX */
	for (d = 0; rejoin_count(NULL) < S2S_REJOIN_MAX; d++)
		for (i = 0; i < S2S_REJOIN_DOMAIN_MAX; i++) {
			snprintf(real, sizeof(real), "u@d%d.test/r", d);
			snprintf(room, sizeof(room), "q%d", i);
			rj_join(real, room, "u");
		}
	assert_int_equal(rejoin_count(NULL), S2S_REJOIN_MAX);
	rj_join("mercutio@other.test/a", "r1", "m");
	assert_int_equal(rejoin_count("other.test"), 0);
	assert_int_equal(rejoin_count(NULL), S2S_REJOIN_MAX);

	/* the one the room took is still the only one sent */
	rejoin_announce(l);
	assert_int_equal(rj_frames(l), 1);
	buf_reset(&l->out);
	link_free(l);
	close(sv[1]);
	rejoin_clear();
	assert_int_equal(rejoin_count(NULL), 0);
	scn_s2s_teardown();
}

UNIT_MAIN(
	cmocka_unit_test(test_connect_timeout_bounces_the_queue),
	cmocka_unit_test(test_dialback_valid_sends_the_queue),
	cmocka_unit_test(test_connect_refused_bounces_at_once),
	cmocka_unit_test(test_external_refused_then_dialback),
	cmocka_unit_test(test_srv_failover_to_the_next_target),
	cmocka_unit_test(test_incoming_db_verify),
	cmocka_unit_test(test_incoming_negotiation_timeout),
	cmocka_unit_test(test_incoming_stanza_before_auth),
	cmocka_unit_test(test_dialback_invalid_bounces_the_queue),
	cmocka_unit_test(
	    test_dialback_result_timeout_bounces_the_queue),
	cmocka_unit_test(
	    test_dialback_verify_invalid_refuses_the_peer),
	cmocka_unit_test(test_dialback_verify_timeout),
	cmocka_unit_test(test_private_address_not_dialled),
	cmocka_unit_test(test_loopback_srv_target_skipped),
	cmocka_unit_test(test_private_address_allowed),
	cmocka_unit_test(test_ip_literal_domain_refused),
	cmocka_unit_test(test_dialback_pending_cap),
	cmocka_unit_test(test_dialback_rate),
	cmocka_unit_test(test_db_verify_rate),
	cmocka_unit_test(test_own_domain_in_header),
	cmocka_unit_test(test_own_domain_in_db_result),
	cmocka_unit_test(test_out_max),
	cmocka_unit_test(test_require_valid_cert_outgoing),
	cmocka_unit_test(test_require_valid_cert_per_domain),
	cmocka_unit_test(test_require_valid_cert_incoming),
	cmocka_unit_test(test_private_ipv6_not_dialled),
	cmocka_unit_test(test_hold_released_when_the_router_returns),
	cmocka_unit_test(test_hold_is_capped),
	cmocka_unit_test(test_stream_error_text_capped),
	cmocka_unit_test(test_db_result_address_too_long),
	cmocka_unit_test(test_db_verify_id_too_long),
	cmocka_unit_test(test_rejoin_remote_occupants),
)
