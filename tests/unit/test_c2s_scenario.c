/*
 * c2s scenarios on the driver of scn_c2s.h: whole client streams with
 * no sockets and no waiting (the fake clock moves time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/util.h"
#include "scn_c2s.h"
#include "unit.h"

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

/* occurrences of what in the stream's output */
static int
count_out(struct stream *st, const char *what)
{
	const char	*p = tp_mem_output(&st->tp);
	int		 n = 0;

	while ((p = strstr(p, what)) != NULL) {
		n++;
		p += strlen(what);
	}
	return n;
}

/*
 * A session whose JID escapes to about 6 KB: each held stanza carries it,
 * so one read of small stanzas over the rate passes STREAM_HELD_MAX.
 */
static struct stream *
bound_with_long_jid(void)
{
	char	res[1001];

	memset(res, '\'', sizeof(res) - 1);
	res[sizeof(res) - 1] = '\0';
	c2s.conf.c2s_stanza_rate = 1;		/* a burst of 2 */
	return scn_c2s_bound("juliet", res);
}

#define NFLOOD	400

static char *
flood(const char *tail)
{
	char	*in;
	size_t	 i;

	in = xcalloc(1, NFLOOD * 10 + strlen(tail) + 1);
	for (i = 0; i < NFLOOD; i++)
		memcpy(in + 10 * i, "<message/>", 10);
	strcpy(in + 10 * NFLOOD, tail);
	return in;
}

/*
 * STREAM_HELD_MAX: what passes it is refused with resource-constraint
 * (wait), each stanza answered, and what was held still goes, in order,
 * at the rate; nothing is lost unheard and the stream goes on.
 */
static void
test_stanza_rate_hold_is_capped(void **state)
{
	struct stream	*st;
	char		*in = flood("");
	uint64_t	 sid;
	int		 refused;

	(void)state;
	scn_c2s_setup();
	st = bound_with_long_jid();
	sid = st->sid;
	scn_send(&st->tp, in);
	assert_int_equal(scn_router.stanzas, 2);
	assert_true(buf_avail(&st->held) <= STREAM_HELD_MAX);
	refused = count_out(st, "<resource-constraint ");
	assert_true(refused > 0);
	assert_int_equal(count_out(st, "type='wait'"), refused);
	assert_int_equal(count_out(st, "<message "), refused);
	scn_advance(NFLOOD);
	assert_true(scn_c2s_alive(sid));
	assert_int_equal(scn_router.stanzas, NFLOOD - refused);
	assert_false(st->throttled);
	/* the hold emptied: a new burst is taken as at first */
	assert_int_equal(buf_avail(&st->held), 0);
	scn_c2s_teardown();
	free(in);
}

/* an IQ response cannot get an error (RFC 6120 8.2.3): the stream ends */
static void
test_stanza_rate_hold_full_then_result(void **state)
{
	struct stream	*st;
	char		*in = flood("<iq type='result' id='r1'/>");
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = bound_with_long_jid();
	sid = st->sid;
	scn_send(&st->tp, in);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<policy-violation "));
	assert_null(strstr(tp_mem_output(&st->tp), "<iq "));
	assert_false(scn_c2s_alive(sid));
	scn_c2s_teardown();
	free(in);
}

static void
drained(struct link *l, void *ctx)
{
	(void)l;
	(void)ctx;
	stream_resume_all();
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
	    unit_no_frame, no_close, NULL);
	c2s.up->on_drain = drained;
	memset(junk, 'x', sizeof(junk));
	/* above the high-water mark (a quarter of the cap) */
	assert_int_equal(buf_append(&c2s.up->out, junk, sizeof(junk)), 0);
	c2s.up->over = true;	/* as link_end marks a queue past high */
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

/* the stream restart after SASL success, and the client's new header */
static void
restart_authed(struct stream *st)
{
	st->authed = true;
	st->node = xstrdup("juliet");
	xstream_preauth_end(st->xs);
	stream_restart(st);
	scn_send(&st->tp, SCN_HEADER);
}

/*
 * XEP-0115 6.3: the server's caps, as the router sent them for the host,
 * in the features after authentication only; a ver for a host that is
 * not ours is not kept, one too long is a bad frame.
 */
static void
test_server_caps_after_auth(void **state)
{
	struct stream	*st;
	char		 big[200];

	(void)state;
	scn_c2s_setup();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(caps_host_set(SCN_HOST, "abc="), 0);
	assert_int_equal(caps_host_set("other.example", "def="), 0);
	assert_int_equal(caps_host_set(SCN_HOST, big), -1);
	assert_int_equal(caps_host_set(SCN_HOST, ""), -1);
	st = scn_c2s_accept();
	scn_send(&st->tp, SCN_HEADER);
	assert_null(strstr(tp_mem_output(&st->tp), "protocol/caps"));
	tp_mem_output_reset(&st->tp);
	restart_authed(st);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<c xmlns='http://"
	    "jabber.org/protocol/caps' hash='sha-1' node='https://"
	    "parley.example/caps' ver='abc='/>"));
	caps_host_clear();
	scn_c2s_teardown();
}

/*
 * XEP-0478: every features list says what the stream enforces, and the
 * limits change with authentication: the pre-authentication element
 * limit before, max-stanza-size and the idle timeout after; a web
 * framing that carries less lowers max-bytes.
 */
static void
test_stream_limits_advertised(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	scn_send(&st->tp, SCN_HEADER);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<limits xmlns='urn:"
	    "xmpp:stream-limits:0'><max-bytes>10000</max-bytes></limits>"
	    "</stream:features>"));
	tp_mem_output_reset(&st->tp);
	restart_authed(st);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<limits xmlns='urn:"
	    "xmpp:stream-limits:0'><max-bytes>65536</max-bytes><idle-seconds>"
	    "600</idle-seconds></limits></stream:features>"));
	tp_mem_output_reset(&st->tp);
	st->web_max = 4096;
	stream_features(st);
	scn_advance(0.001);
	assert_non_null(strstr(tp_mem_output(&st->tp),
	    "<max-bytes>4096</max-bytes>"));
	scn_c2s_teardown();
}

/* ---- SASL: retries, their limit, the address's limit, <abort/> ------- */

#define NS_SASL_Q	"xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
#define PLAIN_AUTH(b64)	"<auth " NS_SASL_Q " mechanism='PLAIN'>" b64 "</auth>"
#define PLAIN_RIGHT	PLAIN_AUTH("AGp1bGlldABzZWNyZXQ=")	/* juliet secret */
#define PLAIN_WRONG	PLAIN_AUTH("AGp1bGlldAB3cm9uZw==")	/* juliet wrong */
#define NOT_AUTHORIZED	"<failure " NS_SASL_Q "><not-authorized/></failure>"

/* a client on a stream that TLS protects (PLAIN is offered), at features */
static struct stream *
sasl_stream(void)
{
	struct stream	*st = scn_c2s_accept();

	st->tls_on = true;	/* as if STARTTLS had run */
	scn_send(&st->tp, SCN_HEADER);
	assert_non_null(strstr(tp_mem_output(&st->tp),
	    "<mechanism>PLAIN</mechanism>"));
	return st;
}

/* one PLAIN attempt, the router holding password "secret" for juliet */
static void
sasl_try(struct stream *st, const char *auth)
{
	int	gets = scn_router.auth_gets;

	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, auth);
	assert_int_equal(scn_router.auth_gets, gets + 1);
	assert_string_equal(scn_router.last_node, "juliet");
	assert_int_equal(st->state, ST_AUTH_WAIT);
	scn_router_creds(st, "secret");
}

/* RFC 6120 6.4.5: a wrong password is not-authorized; the client retries */
static void
test_sasl_wrong_password_then_retry(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = sasl_stream();
	sid = st->sid;
	sasl_try(st, PLAIN_WRONG);
	assert_non_null(strstr(tp_mem_output(&st->tp), NOT_AUTHORIZED));
	assert_null(strstr(tp_mem_output(&st->tp), "<stream:error>"));
	assert_false(st->authed);
	assert_int_equal(st->state, ST_FEATURES);
	sasl_try(st, PLAIN_WRONG);
	assert_non_null(strstr(tp_mem_output(&st->tp), NOT_AUTHORIZED));
	/* the auth-retries-th attempt still counts: it is right */
	sasl_try(st, PLAIN_RIGHT);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<success "));
	assert_true(st->authed);
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

/* an unknown account looks like a wrong password (no account probing) */
static void
test_sasl_unknown_account_is_not_authorized(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = sasl_stream();
	scn_send(&st->tp, PLAIN_RIGHT);
	assert_int_equal(scn_router.auth_gets, 1);
	scn_router_creds(st, NULL);
	assert_non_null(strstr(tp_mem_output(&st->tp), NOT_AUTHORIZED));
	assert_false(st->authed);
	scn_c2s_teardown();
}

#define SCRAM_AUTH(b64) "<auth " NS_SASL_Q " mechanism='SCRAM-SHA-256'>" \
			b64 "</auth>"
#define TEMPORARY	"<failure " NS_SASL_Q "><temporary-auth-failure/>" \
			"</failure>"

/*
 * No exchange is answered before the router's first key (LINK_SECRETS):
 * an unknown account's made-up salt would not be the one every c2s gives
 * it. Also for a name that cannot be an account, answered without the
 * router. With the key, both get their challenge.
 */
static void
test_sasl_waits_for_the_router_key(void **state)
{
	static const uint8_t	 key[SASL_SECRET_LEN] = { 0x5c };
	static const char *const auths[] = {
		SCRAM_AUTH("biwsbj1naG9zdCxyPWFiY2RlZg=="),	/* ghost */
		SCRAM_AUTH("biwsbj1hQGIscj1hYmNkZWY="),		/* a@b */
	};
	struct stream		*st;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(auths); i++) {
		scn_c2s_setup();
		sasl_secret_clear();
		st = sasl_stream();
		tp_mem_output_reset(&st->tp);
		scn_send(&st->tp, auths[i]);
		if (i == 0)
			scn_router_creds(st, NULL);
		assert_non_null(strstr(tp_mem_output(&st->tp), TEMPORARY));
		assert_null(strstr(tp_mem_output(&st->tp), "<challenge"));
		sasl_secret_put(key);
		tp_mem_output_reset(&st->tp);
		scn_send(&st->tp, auths[i]);
		if (i == 0)
			scn_router_creds(st, NULL);
		assert_non_null(strstr(tp_mem_output(&st->tp), "<challenge"));
		scn_c2s_teardown();
	}
}

/*
 * RFC 6120 6.4.5 lets the server limit retries (auth-retries): the last
 * failure is answered, then the stream ends with policy-violation.
 */
static void
test_sasl_retry_limit_closes_the_stream(void **state)
{
	struct stream	*st;
	uint64_t	 sid;
	int		 i;
	const char	*out;

	(void)state;
	scn_c2s_setup();
	st = sasl_stream();
	sid = st->sid;
	for (i = 1; i < c2s.conf.auth_retries; i++) {
		sasl_try(st, PLAIN_WRONG);
		assert_non_null(strstr(tp_mem_output(&st->tp),
		    NOT_AUTHORIZED));
		assert_true(scn_c2s_alive(sid));
	}
	sasl_try(st, PLAIN_WRONG);
	out = tp_mem_output(&st->tp);
	assert_non_null(strstr(out, NOT_AUTHORIZED));
	assert_non_null(strstr(out, "<policy-violation "));
	/* the failure first, then the stream error */
	assert_true(strstr(out, NOT_AUTHORIZED) < strstr(out,
	    "<policy-violation "));
	assert_true(tp_mem_shut(&st->tp));
	assert_false(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

/*
 * auth-fail-max: failures from one address, over any number of streams,
 * within 10 minutes; then its logins get temporary-auth-failure without
 * a lookup, until the window has passed.
 */
static void
test_auth_fail_max_throttles_the_address(void **state)
{
	struct stream	*st;
	int		 gets;

	(void)state;
	scn_c2s_setup();
	c2s.conf.auth_fail_max = 2;
	st = sasl_stream();
	sasl_try(st, PLAIN_WRONG);
	stream_close(st);
	st = sasl_stream();
	sasl_try(st, PLAIN_WRONG);
	/* a third stream from the address: refused before any lookup */
	st = sasl_stream();
	gets = scn_router.auth_gets;
	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, PLAIN_RIGHT);
	assert_int_equal(scn_router.auth_gets, gets);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<failure "
	    NS_SASL_Q "><temporary-auth-failure/></failure>"));
	assert_false(st->authed);
	/* the refusal itself is no failure of the client's */
	scn_advance(599);
	st = sasl_stream();
	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, PLAIN_RIGHT);
	assert_int_equal(scn_router.auth_gets, gets);
	/* the window passed: a lookup again, and the right password works */
	scn_advance(1.01);
	st = sasl_stream();
	sasl_try(st, PLAIN_RIGHT);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<success "));
	scn_c2s_teardown();
}

/*
 * RFC 6120 6.4.5: <abort/> while the credentials are looked up gets
 * <failure><aborted/></failure>, not a stream error; the late answer
 * authenticates nothing.
 */
static void
test_sasl_abort_during_the_lookup(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = sasl_stream();
	sid = st->sid;
	scn_send(&st->tp, PLAIN_RIGHT);
	assert_int_equal(st->state, ST_AUTH_WAIT);
	tp_mem_output_reset(&st->tp);
	scn_send(&st->tp, "<abort " NS_SASL_Q "/>");
	assert_non_null(strstr(tp_mem_output(&st->tp), "<failure " NS_SASL_Q
	    "><aborted/></failure>"));
	assert_null(strstr(tp_mem_output(&st->tp), "<stream:error>"));
	assert_true(scn_c2s_alive(sid));
	assert_int_equal(st->state, ST_FEATURES);
	tp_mem_output_reset(&st->tp);
	scn_router_creds(st, "secret");
	assert_null(strstr(tp_mem_output(&st->tp), "<success "));
	assert_false(st->authed);
	/* and SASL starts again from the beginning */
	sasl_try(st, PLAIN_RIGHT);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<success "));
	scn_c2s_teardown();
}

/* aborts count towards auth-retries: each one was a guess */
static void
test_sasl_aborts_count_towards_the_limit(void **state)
{
	struct stream	*st;
	uint64_t	 sid;
	int		 i;

	(void)state;
	scn_c2s_setup();
	st = sasl_stream();
	sid = st->sid;
	for (i = 0; i < c2s.conf.auth_retries; i++) {
		assert_true(scn_c2s_alive(sid));
		scn_send(&st->tp, "<auth " NS_SASL_Q
		    " mechanism='SCRAM-SHA-1'/>");
		assert_non_null(strstr(tp_mem_output(&st->tp),
		    "<challenge "));
		scn_send(&st->tp, "<abort " NS_SASL_Q "/>");
	}
	assert_non_null(strstr(tp_mem_output(&st->tp), "<aborted/>"));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<policy-violation "));
	assert_false(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

#define PING(n)	"<iq type='get' id='ping-0000000" n "' from='" SCN_HOST \
		"' to='juliet@" SCN_HOST "/balcony'><ping xmlns='urn:xmpp:ping'" \
		"/></iq>"

static struct stream *
ping_bound(void)
{
	struct stream	*st;

	scn_c2s_setup();
	c2s.conf.c2s_ping_interval = 300;
	c2s.conf.c2s_ping_timeout = 60;
	st = scn_c2s_bound("juliet", "balcony");
	return st;
}

/* issue 14: a silent client is pinged; no answer at all ends it */
static void
test_ping_silent_client_is_dead(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	st = ping_bound();
	sid = st->sid;
	scn_advance(299.9);
	assert_null(strstr(tp_mem_output(&st->tp), "urn:xmpp:ping"));
	scn_advance(0.2);
	assert_non_null(strstr(tp_mem_output(&st->tp), PING("1")));
	scn_advance(59.8);
	assert_true(scn_c2s_alive(sid));
	scn_advance(0.2);
	assert_false(scn_c2s_alive(sid));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<connection-timeout "));
	assert_int_equal(scn_router.sess_ends, 1);
	assert_true(scn_router.last_lost);	/* resumable would hibernate */
	assert_int_equal(scn_router.stanzas, 0);
	scn_c2s_teardown();
}

/* the pong is the c2s's: not routed; the session stays, pinged again */
static void
test_ping_answer_is_consumed(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	st = ping_bound();
	sid = st->sid;
	scn_advance(300.1);
	assert_non_null(strstr(tp_mem_output(&st->tp), PING("1")));
	scn_advance(10);
	scn_send(&st->tp, "<iq type='result' id='ping-00000001' to='"
	    SCN_HOST "'/>");
	assert_int_equal(scn_router.stanzas, 0);
	/* another id, or an answer to another address, is routed */
	scn_send(&st->tp, "<iq type='result' id='ping-00000002'/>");
	assert_int_equal(scn_router.stanzas, 1);
	scn_send(&st->tp, "<iq type='result' id='ping-00000001' "
	    "to='romeo@example.net'/>");
	assert_int_equal(scn_router.stanzas, 2);
	scn_advance(100);
	assert_true(scn_c2s_alive(sid));
	tp_mem_output_reset(&st->tp);
	/* silence counts from the last read */
	scn_advance(199.8);
	assert_null(strstr(tp_mem_output(&st->tp), "urn:xmpp:ping"));
	scn_advance(0.3);
	assert_non_null(strstr(tp_mem_output(&st->tp), PING("2")));
	/* an error answer is an answer too */
	scn_send(&st->tp, "<iq type='error' id='ping-00000002'><error "
	    "type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:"
	    "ns:xmpp-stanzas'/></error></iq>");
	assert_int_equal(scn_router.stanzas, 2);
	scn_advance(100);
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

/* traffic of its own keeps a client from being pinged at all */
static void
test_ping_waits_for_silence(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	st = ping_bound();
	sid = st->sid;
	scn_advance(200);
	scn_send(&st->tp, "<presence/>");
	scn_advance(299.9);
	assert_null(strstr(tp_mem_output(&st->tp), "urn:xmpp:ping"));
	scn_advance(0.2);
	assert_non_null(strstr(tp_mem_output(&st->tp), PING("1")));
	/* anything read answers it, not only the pong */
	scn_advance(30);
	scn_send(&st->tp, "<presence/>");
	scn_advance(100);
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

/* XEP-0198 on: the probe is an <r/>; its <a/> keeps the session */
static void
test_ping_with_sm_is_an_r(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	st = ping_bound();
	sid = st->sid;
	scn_send(&st->tp, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
	sm_enabled(st, "0123456789abcdef", 300);
	scn_run();
	tp_mem_output_reset(&st->tp);
	scn_advance(300.1);
	assert_non_null(strstr(tp_mem_output(&st->tp),
	    "<r xmlns='urn:xmpp:sm:3'/>"));
	assert_null(strstr(tp_mem_output(&st->tp), "urn:xmpp:ping"));
	scn_send(&st->tp, "<a xmlns='urn:xmpp:sm:3' h='0'/>");
	scn_advance(100);
	assert_true(scn_c2s_alive(sid));
	/* unanswered: the resumable session is lost, to hibernate */
	scn_advance(260);
	assert_false(scn_c2s_alive(sid));
	assert_true(scn_router.last_lost);
	scn_c2s_teardown();
}

/* a client we do not read (over its stanza rate) is not silent */
static void
test_ping_not_while_unread(void **state)
{
	struct stream	*st;
	uint64_t	 sid;
	char		 many[400 * 12 + 1];
	int		 i;

	(void)state;
	st = ping_bound();
	c2s.conf.c2s_stanza_rate = 1;
	sid = st->sid;
	many[0] = '\0';
	for (i = 0; i < 400; i++)
		strcat(many, "<presence/>");
	scn_send(&st->tp, many);
	assert_true(st->throttled);
	/* held until about 400 s: never taken for dead meanwhile */
	scn_advance(390);
	assert_true(st->throttled);
	assert_true(scn_c2s_alive(sid));
	assert_null(strstr(tp_mem_output(&st->tp), "connection-timeout"));
	scn_c2s_teardown();
}

/* c2s-ping-interval 0: never pinged (idle-timeout still applies) */
static void
test_ping_off(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	st = ping_bound();
	c2s.conf.c2s_ping_interval = 0;
	sid = st->sid;
	scn_advance(599);
	assert_null(strstr(tp_mem_output(&st->tp), "urn:xmpp:ping"));
	assert_true(scn_c2s_alive(sid));
	scn_c2s_teardown();
}

/*
 * c2s/rejoin.c: the rooms a session is in, for a router crash. Only
 * joins to our services are kept, rewritten to ask for no history; at
 * most C2S_REJOIN_ROOMS_MAX rooms and C2S_REJOIN_XML_MAX bytes each;
 * forgotten on an unavailable to the room, an unavailable or error from
 * the occupant JID, and the session's broadcast unavailable.
 */
#define MUCSVC	"conference." SCN_HOST

static void
rejoin_send(struct stream *st, const char *fmt, ...)
{
	char	buf[8192];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	scn_send(&st->tp, buf);
	scn_advance(1.0);	/* past the stanza rate */
}

static void
rejoin_from_room(struct stream *st, int type, const char *from)
{
	struct link_stanza	ls;

	memset(&ls, 0, sizeof(ls));
	ls.kind = KIND_PRESENCE;
	ls.type = type;
	ls.from = from;
	ls.fromlen = strlen(from);
	ls.xml = "<presence/>";
	ls.xlen = strlen(ls.xml);
	rejoin_in(st, &ls);
}

/* a bound session of a host with group chat at MUCSVC */
static struct stream *
rejoin_setup(void)
{
	struct conf_host	*h;

	scn_c2s_setup();
	h = &c2s.conf.hosts[0];
	h->muc = true;
	h->muc_name = MUCSVC;
	return scn_c2s_bound("juliet", "balcony");
}

static void
rejoin_teardown(void)
{
	c2s.conf.hosts[0].muc = false;
	c2s.conf.hosts[0].muc_name = NULL;
	scn_c2s_teardown();
}

static void
test_rejoin_rooms_kept_and_bounded(void **state)
{
	struct stream		*st;
	char			 big[C2S_REJOIN_XML_MAX + 1];
	int			 i;

	(void)state;
	st = rejoin_setup();
	rejoin_send(st, "<presence/>");
	/* a remote room lost nothing; a presence without <x/> is no join */
	rejoin_send(st, "<presence to='r@muc.remote.example/j'><x xmlns="
	    "'http://jabber.org/protocol/muc'/></presence>");
	rejoin_send(st, "<presence to='p@" MUCSVC "/j'/>");
	assert_int_equal(st->nrooms, 0);
	for (i = 0; i < C2S_REJOIN_ROOMS_MAX + 2; i++)
		rejoin_send(st, "<presence to='r%d@" MUCSVC "/j'><x xmlns="
		    "'http://jabber.org/protocol/muc'><password>pw</password>"
		    "<history maxchars='1000'/></x></presence>", i);
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX);
	assert_non_null(strstr(st->rooms[0].xml, "<history maxstanzas='0'/>"));
	assert_null(strstr(st->rooms[0].xml, "maxchars"));
	assert_non_null(strstr(st->rooms[0].xml, "<password>pw</password>"));
	assert_string_equal(st->rooms[0].to, "r0@" MUCSVC "/j");
	/* a join too large to keep is not kept */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rejoin_send(st, "<presence to='r0@" MUCSVC "/j'><status>%s</status>"
	    "<x xmlns='http://jabber.org/protocol/muc'/></presence>", big);
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX - 1);
	/* leaving, and the room's unavailable or error */
	rejoin_send(st, "<presence to='r1@" MUCSVC "/j' type='unavailable'/>");
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX - 2);
	rejoin_from_room(st, PRES_UNAVAILABLE, "r2@" MUCSVC "/other");
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX - 2);
	rejoin_from_room(st, PRES_UNAVAILABLE, "r2@" MUCSVC "/j");
	rejoin_from_room(st, PRES_ERROR, "r3@" MUCSVC "/j");
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX - 4);
	/* a nick change: refused, the old nick stays; taken, the new one */
	rejoin_send(st, "<presence to='r4@" MUCSVC "/romeo'/>");
	rejoin_from_room(st, PRES_ERROR, "r4@" MUCSVC "/romeo");
	rejoin_send(st, "<presence to='r5@" MUCSVC "/romeo'/>");
	rejoin_from_room(st, PRES_UNAVAILABLE, "r5@" MUCSVC "/j");
	rejoin_from_room(st, PRES_AVAILABLE, "r5@" MUCSVC "/romeo");
	assert_int_equal(st->nrooms, C2S_REJOIN_ROOMS_MAX - 4);
	for (i = 0; i < (int)st->nrooms; i++) {
		if (strncmp(st->rooms[i].to, "r4@", 3) == 0)
			assert_string_equal(st->rooms[i].to, "r4@" MUCSVC "/j");
		if (strncmp(st->rooms[i].to, "r5@", 3) == 0)
			assert_string_equal(st->rooms[i].to,
			    "r5@" MUCSVC "/romeo");
	}
	/* RFC 6121 4.6.3: unavailable leaves every room */
	rejoin_send(st, "<presence type='unavailable'/>");
	assert_int_equal(st->nrooms, 0);
	assert_null(st->rooms);
	rejoin_teardown();
}

/*
 * A session resumed here is told by the router what the c2s it left had
 * kept (LINK_SESS_KEEP): its rooms' joins, under the same rules as the
 * joins the c2s sees, and its presence unless the client sent one here
 */
static void
test_rejoin_kept_from_the_router(void **state)
{
	static const char	join[] = "<presence to='r@" MUCSVC "/j'><x "
	    "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/>"
	    "</x></presence>";
	struct stream		*st;
	char			 big[C2S_REJOIN_XML_MAX + 1];

	(void)state;
	st = rejoin_setup();
	rejoin_keep(st, "r@" MUCSVC, join, strlen(join));
	rejoin_keep(st, "r@muc.remote.example/j", join, strlen(join));
	memset(big, 'x', sizeof(big));
	rejoin_keep(st, "r@" MUCSVC "/j", big, sizeof(big));
	assert_int_equal(st->nrooms, 0);
	rejoin_keep(st, "r@" MUCSVC "/j", join, strlen(join));
	rejoin_keep(st, "r@" MUCSVC "/j", join, strlen(join));
	assert_int_equal(st->nrooms, 1);
	assert_string_equal(st->rooms[0].to, "r@" MUCSVC "/j");
	assert_int_equal(st->rooms[0].len, strlen(join));
	assert_string_equal(st->rooms[0].xml, join);
	/* kept like the others: the room's unavailable forgets it */
	rejoin_from_room(st, PRES_UNAVAILABLE, "r@" MUCSVC "/j");
	assert_int_equal(st->nrooms, 0);
	stream_presence_kept(st, "<presence/>", 11);
	assert_int_equal(st->presence_len, 11);
	rejoin_send(st, "<presence type='unavailable'/>");
	assert_null(st->presence);
	stream_presence_kept(st, "<presence/>", 11);
	assert_null(st->presence);
	rejoin_teardown();
}

UNIT_MAIN(
	cmocka_unit_test(
	    test_negotiation_timeout_fires_at_the_deadline),
	cmocka_unit_test(
	    test_negotiation_timeout_counts_from_the_connection),
	cmocka_unit_test(test_client_close_frees_the_stream),
	cmocka_unit_test(test_unknown_host_gets_host_unknown),
	cmocka_unit_test(test_idle_timeout_counts_from_the_last_read),
	cmocka_unit_test(test_stanza_rate_holds_and_releases_in_order),
	cmocka_unit_test(test_stanza_rate_hold_is_capped),
	cmocka_unit_test(test_stanza_rate_hold_full_then_result),
	cmocka_unit_test(test_congested_uplink_pauses_until_it_drains),
	cmocka_unit_test(test_sasl_wrong_password_then_retry),
	cmocka_unit_test(test_server_caps_after_auth),
	cmocka_unit_test(test_sasl_unknown_account_is_not_authorized),
	cmocka_unit_test(test_sasl_waits_for_the_router_key),
	cmocka_unit_test(test_sasl_retry_limit_closes_the_stream),
	cmocka_unit_test(test_auth_fail_max_throttles_the_address),
	cmocka_unit_test(test_sasl_abort_during_the_lookup),
	cmocka_unit_test(test_sasl_aborts_count_towards_the_limit),
	cmocka_unit_test(test_ping_silent_client_is_dead),
	cmocka_unit_test(test_ping_answer_is_consumed),
	cmocka_unit_test(test_ping_waits_for_silence),
	cmocka_unit_test(test_ping_with_sm_is_an_r),
	cmocka_unit_test(test_ping_not_while_unread),
	cmocka_unit_test(test_ping_off),
	cmocka_unit_test(test_stream_limits_advertised),
	cmocka_unit_test(test_rejoin_rooms_kept_and_bounded),
	cmocka_unit_test(test_rejoin_kept_from_the_router),
)
