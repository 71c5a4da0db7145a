/*
 * Client state indication (c2s/csi.c): what counts as urgent, and whole
 * sessions on the c2s scenario driver (scn_c2s.h) that go inactive, get
 * stanzas from the router and become active again.
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

#define CSI_Q		"xmlns='urn:xmpp:csi:0'"
#define INACTIVE	"<inactive " CSI_Q "/>"
#define ACTIVE		"<active " CSI_Q "/>"
#define JULIET		"juliet@example.org/balcony"
#define PRES(from, n)	"<presence from='" from "' to='" JULIET "'><status>" \
			n "</status></presence>"
#define GONE(from)	"<presence from='" from "' to='" JULIET "' " \
			"type='unavailable'/>"
#define COMPOSING(n)	"<message from='romeo@example.net/a' type='chat' " \
			"id='" n "'><composing xmlns='http://jabber.org/" \
			"protocol/chatstates'/></message>"
#define CHAT(n)		"<message from='romeo@example.net/a' " \
			"type='chat' id='" n "'><body>hi</body></message>"
#define IQ(n)		"<iq from='example.org' to='" JULIET "' type='get' " \
			"id='" n "'><ping xmlns='urn:xmpp:ping'/></iq>"

/* the router hands the session a stanza (as c2s/uplink.c does) */
static void
deliver(struct stream *st, int kind, int type, const char *from,
    const char *xml)
{
	struct link_stanza	ls;

	memset(&ls, 0, sizeof(ls));
	ls.kind = (uint8_t)kind;
	ls.type = (uint8_t)type;
	ls.from = from;
	ls.fromlen = from != NULL ? strlen(from) : 0;
	ls.xml = xml;
	ls.xlen = strlen(xml);
	csi_deliver(st, &ls, -1);
	scn_run();
}

static void
pres(struct stream *st, const char *from, const char *xml)
{
	deliver(st, KIND_PRESENCE, strstr(xml, "unavailable") ?
	    PRES_UNAVAILABLE : PRES_AVAILABLE, from, xml);
}

static void
msg(struct stream *st, const char *xml)
{
	deliver(st, KIND_MESSAGE, MTYPE_CHAT, "romeo@example.net/a", xml);
}

/* the output holds each of the strings, in this order, and nothing else */
static void
assert_output(struct stream *st, const char *const *want, size_t n)
{
	const char	*out = tp_mem_output(&st->tp);
	size_t		 i, len;

	for (i = 0; i < n; i++) {
		len = strlen(want[i]);
		if (strncmp(out, want[i], len) != 0)
			fail_msg("at %zu: want %s, got %s", i, want[i], out);
		out += len;
	}
	assert_string_equal(out, "");
	tp_mem_output_reset(&st->tp);
}

static enum csi_class
classify(int kind, int type, const char *xml)
{
	return csi_classify(kind, type, xml, strlen(xml));
}

#define M(x)	"<message from='romeo@example.net/a' type='chat'>" x \
		"</message>"
#define FWD(w, x) "<" w " xmlns='urn:xmpp:carbons:2'><forwarded " \
		"xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' " \
		"from='juliet@example.org/phone' to='romeo@example.net' " \
		"type='chat'>" x "</message></forwarded></" w ">"

/* what is urgent: the envelope first, the bytes of messages only */
static void
test_classify(void **state)
{
	static const struct {
		int		 kind, type;
		const char	*xml;
		enum csi_class	 want;
	} cases[] = {
		{ KIND_IQ, IQ_GET, IQ("1"), CSI_URGENT },
		{ KIND_IQ, IQ_RESULT, "<iq type='result' id='1'/>",
		  CSI_URGENT },
		{ KIND_PRESENCE, PRES_AVAILABLE, "<presence/>", CSI_LATEST },
		{ KIND_PRESENCE, PRES_UNAVAILABLE, "<presence/>", CSI_LATEST },
		{ KIND_PRESENCE, PRES_SUBSCRIBE, "<presence/>", CSI_URGENT },
		{ KIND_PRESENCE, PRES_SUBSCRIBED, "<presence/>", CSI_URGENT },
		{ KIND_PRESENCE, PRES_UNSUBSCRIBE, "<presence/>", CSI_URGENT },
		{ KIND_PRESENCE, PRES_UNSUBSCRIBED, "<presence/>",
		  CSI_URGENT },
		{ KIND_PRESENCE, PRES_ERROR, "<presence/>", CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_ERROR, M(""), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<body>hi</body>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<body/>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT,
		  M("<b:body xmlns:b='jabber:client'>hi</b:body>"),
		  CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_GROUPCHAT, M("<subject>t</subject>"),
		  CSI_URGENT },
		/* chat states, receipts, markers: held */
		{ KIND_MESSAGE, MTYPE_CHAT, M("<composing xmlns='http://"
		  "jabber.org/protocol/chatstates'/>"), CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<received xmlns='urn:xmpp:"
		  "receipts' id='x'/>"), CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_NORMAL, M(""), CSI_HOLD },
		/* <body in an attribute, in text, or of another namespace */
		{ KIND_MESSAGE, MTYPE_CHAT, M("<active xmlns='http://jabber."
		  "org/protocol/chatstates' a='&lt;body&gt;'/>"), CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<thread>&lt;body&gt;</thread>"),
		  CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<html xmlns='http://jabber.org"
		  "/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/"
		  "xhtml'>hi</body></html>"), CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<body xmlns='urn:other'/>"),
		  CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<x xmlns='urn:a'><body xmlns="
		  "'jabber:client'>nested</body></x>"), CSI_HOLD },
		/* encrypted payloads */
		{ KIND_MESSAGE, MTYPE_CHAT, M("<encrypted xmlns='eu.siacs."
		  "conversations.axolotl'><payload>AA==</payload></encrypted>"),
		  CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<encrypted xmlns='urn:xmpp:"
		  "omemo:2'><payload>AA==</payload></encrypted>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<x xmlns='jabber:x:encrypted'>"
		  "AA==</x>"), CSI_URGENT },
		/* a namespace behind a character reference */
		{ KIND_MESSAGE, MTYPE_CHAT, M("<x xmlns='&#106;abber:x:&#101;"
		  "ncrypted'>AA==</x>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<encryption xmlns='urn:xmpp:"
		  "eme:0' namespace='urn:xmpp:otr:0'/>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M("<propose xmlns='urn:xmpp:"
		  "jingle-message:0' id='c'/>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_NORMAL, M("<x xmlns='http://jabber.org/"
		  "protocol/muc#user'><invite from='a@b'/></x>"), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_NORMAL, M("<x xmlns='http://jabber.org/"
		  "protocol/muc#user'><status code='104'/></x>"), CSI_HOLD },
		/* carbons: as urgent as the message they forward */
		{ KIND_MESSAGE, MTYPE_CHAT,
		  M(FWD("received", "<body>hi</body>")), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M(FWD("sent", "<body>hi</body>")),
		  CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M(FWD("sent", "<encrypted xmlns="
		  "'urn:xmpp:omemo:2'/>")), CSI_URGENT },
		{ KIND_MESSAGE, MTYPE_CHAT, M(FWD("received", "<composing "
		  "xmlns='http://jabber.org/protocol/chatstates'/>")),
		  CSI_HOLD },
		{ KIND_MESSAGE, MTYPE_CHAT, M(FWD("private", "<body>hi</body>")),
		  CSI_HOLD },
		/* PEP notifications */
		{ KIND_MESSAGE, MTYPE_HEADLINE, M("<event xmlns='http://jabber"
		  ".org/protocol/pubsub#event'><items node='urn:xmpp:avatar:"
		  "metadata'/></event>"), CSI_HOLD },
		/* bytes that do not parse: sent rather than held */
		{ KIND_MESSAGE, MTYPE_CHAT, "<message><body>", CSI_URGENT },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		if (classify(cases[i].kind, cases[i].type, cases[i].xml) !=
		    cases[i].want)
			fail_msg("case %zu (%s): want %d", i, cases[i].xml,
			    (int)cases[i].want);
	csi_shutdown();
}

/* XEP-0352 4.1: the feature comes with the features after SASL */
static void
test_feature_after_auth_only(void **state)
{
	struct stream	*st;
	const char	*out, *second;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_authed("juliet");
	out = tp_mem_output(&st->tp);
	second = strstr(strstr(out, "<stream:features>") + 1,
	    "<stream:features>");
	assert_non_null(second);
	/* the XEP-0388 inline list names it; the feature waits */
	assert_null(memmem(out, (size_t)(second - out),
	    "<csi xmlns='urn:xmpp:csi:0'/>", 29));
	assert_non_null(strstr(second,
	    "<csi xmlns='urn:xmpp:csi:0'/>"));
	scn_c2s_teardown();
}

/* an active session (the default) gets everything at once */
static void
test_active_sends_at_once(void **state)
{
	struct stream	*st;
	const char	*want[] = { PRES("romeo@example.net/a", "1"),
	    COMPOSING("2") };

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	pres(st, "romeo@example.net/a", want[0]);
	msg(st, want[1]);
	assert_output(st, want, 2);
	scn_c2s_teardown();
}

/*
 * Presence collapses to the latest per sender's full JID, which goes
 * where the latest came; <active/> sends what is held, in order.
 */
static void
test_presence_collapses_until_active(void **state)
{
	struct stream	*st;
	const char	*want[] = { GONE("romeo@example.net/a"),
	    PRES("nurse@example.org/b", "c1"),
	    PRES("romeo@example.net/b", "rb"),
	    PRES("benvolio@example.net/x", "b2") };

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	assert_true(st->inactive);
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "1"));
	pres(st, "benvolio@example.net/x", PRES("benvolio@example.net/x",
	    "b1"));
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "2"));
	pres(st, "romeo@example.net/a", GONE("romeo@example.net/a"));
	pres(st, "nurse@example.org/b", PRES("nurse@example.org/b", "c1"));
	/* another resource of the same contact is another sender */
	pres(st, "romeo@example.net/b", PRES("romeo@example.net/b", "rb"));
	pres(st, "benvolio@example.net/x", PRES("benvolio@example.net/x",
	    "b2"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	assert_int_equal(st->csi.count, 4);
	scn_send(&st->tp, ACTIVE);
	assert_false(st->inactive);
	assert_output(st, want, nitems(want));
	assert_int_equal(st->csi.count, 0);
	assert_null(st->csi.latest);
	scn_c2s_teardown();
}

/* chat states are held; a message with a body sends them first */
static void
test_body_flushes_held_first(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"),
	    PRES("romeo@example.net/a", "p"), COMPOSING("2"), CHAT("3") };

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "p"));
	msg(st, COMPOSING("2"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	msg(st, CHAT("3"));
	assert_output(st, want, nitems(want));
	/* still inactive: holding goes on */
	assert_true(st->inactive);
	msg(st, COMPOSING("4"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	scn_c2s_teardown();
}

/* an IQ passes at once, after what was held */
static void
test_iq_passes_at_once(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"), IQ("2") };

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	deliver(st, KIND_IQ, IQ_GET, "example.org", IQ("2"));
	assert_output(st, want, nitems(want));
	scn_c2s_teardown();
}

/* csi-queue-max: the stanza past the cap sends all, nothing is dropped */
static void
test_count_cap_flushes(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"), COMPOSING("2"),
	    COMPOSING("3"), COMPOSING("4") };

	(void)state;
	scn_c2s_setup();
	c2s.conf.csi_queue_max = 3;
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	msg(st, COMPOSING("2"));
	msg(st, COMPOSING("3"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	msg(st, COMPOSING("4"));
	assert_output(st, want, nitems(want));
	assert_int_equal(st->csi.count, 0);
	/* a presence that replaces a held one takes no room */
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "1"));
	msg(st, COMPOSING("5"));
	msg(st, COMPOSING("6"));
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "2"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	scn_c2s_teardown();
}

/* csi-queue-max-bytes, likewise */
static void
test_bytes_cap_flushes(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"), COMPOSING("2") };

	(void)state;
	scn_c2s_setup();
	c2s.conf.csi_queue_max_bytes = strlen(COMPOSING("1")) + 10;
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	assert_int_equal(st->csi.bytes, strlen(COMPOSING("1")));
	msg(st, COMPOSING("2"));
	assert_output(st, want, nitems(want));
	scn_c2s_teardown();
}

/* a flush past the output cap closes as any write would: no crash */
static void
test_flush_past_the_output_cap(void **state)
{
	struct stream	*st;
	uint64_t	 sid;
	char		*big;
	size_t		 len = 60 * 1024;
	int		 i;

	(void)state;
	scn_c2s_setup();
	c2s.conf.csi_queue_max_bytes = STREAM_OUT_MAX;
	st = scn_c2s_bound("juliet", "balcony");
	sid = st->sid;
	scn_send(&st->tp, INACTIVE);
	big = xmalloc(len + 1);
	memset(big, 'a', len);
	memcpy(big, "<message><thread>", 17);
	memcpy(big + len - 20, "</thread></message>", 20);
	for (i = 0; i < 70 && scn_c2s_alive(sid); i++)
		msg(st, big);
	assert_false(scn_c2s_alive(sid));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<policy-violation "));
	free(big);
	scn_c2s_teardown();
}

/*
 * Held bytes count with the unwritten output towards its cap: a client
 * that does not read meets policy-violation as it would if active.
 */
static void
test_held_and_unwritten_meet_the_output_cap(void **state)
{
	struct stream		*st;
	struct link_stanza	 ls;
	uint64_t		 sid;
	char			*fill;
	size_t			 n = STREAM_OUT_MAX - 100;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	sid = st->sid;
	scn_send(&st->tp, INACTIVE);
	/* output queued in this loop iteration, not yet written */
	fill = xmalloc(n);
	memset(fill, ' ', n);
	stream_write(st, fill, n);
	free(fill);
	memset(&ls, 0, sizeof(ls));
	ls.kind = KIND_MESSAGE;
	ls.type = MTYPE_CHAT;
	ls.xml = COMPOSING("1");
	ls.xlen = strlen(ls.xml);
	csi_deliver(st, &ls, -1);
	scn_run();
	assert_false(scn_c2s_alive(sid));
	assert_non_null(strstr(tp_mem_output(&st->tp), "<policy-violation "));
	scn_c2s_teardown();
}

/* <inactive/> twice is still inactive; <active/> twice still active */
static void
test_twice(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"), COMPOSING("2") };

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("2"));
	assert_string_equal(tp_mem_output(&st->tp), "");
	scn_send(&st->tp, ACTIVE ACTIVE);
	assert_output(st, want, nitems(want));
	scn_c2s_teardown();
}

/*
 * Before SASL a CSI element is refused as anything else (RFC 6120
 * 4.9.3.12); between SASL and binding there is no session to set.
 */
static void
test_before_bind(void **state)
{
	struct stream	*st;
	uint64_t	 sid;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_accept();
	sid = st->sid;
	scn_send(&st->tp, SCN_HEADER);
	scn_send(&st->tp, INACTIVE);
	assert_non_null(strstr(tp_mem_output(&st->tp), "<not-authorized "));
	assert_false(scn_c2s_alive(sid));

	st = scn_c2s_authed("juliet");
	sid = st->sid;
	scn_send(&st->tp, INACTIVE);
	assert_true(scn_c2s_alive(sid));
	assert_false(st->inactive);
	assert_null(strstr(tp_mem_output(&st->tp), "stream:error"));
	/* nor while the router binds */
	scn_send(&st->tp, "<iq type='set' id='b'><bind xmlns='urn:ietf:"
	    "params:xml:ns:xmpp-bind'/></iq>");
	assert_int_equal(st->state, ST_BIND_WAIT);
	scn_send(&st->tp, INACTIVE);
	assert_true(scn_c2s_alive(sid));
	bind_result(st, XERR_COUNT, JULIET);
	scn_run();
	assert_false(st->inactive);
	scn_c2s_teardown();
}

static void
bad_element(const char *xml, const char *cond)
{
	struct stream	*st;
	uint64_t	 sid;

	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	sid = st->sid;
	scn_send(&st->tp, xml);
	assert_false(scn_c2s_alive(sid));
	if (strstr(tp_mem_output(&st->tp), cond) == NULL)
		fail_msg("%s: want %s, got %s", xml, cond,
		    tp_mem_output(&st->tp));
	scn_c2s_teardown();
}

/* RFC 6120 4.9.3.22 for unknown elements; XEP-0352 9: both are empty */
static void
test_bad_elements(void **state)
{
	(void)state;
	bad_element("<csi " CSI_Q "/>", "<unsupported-stanza-type ");
	bad_element("<idle " CSI_Q "/>", "<unsupported-stanza-type ");
	bad_element("<inactive " CSI_Q "><x/></inactive>", "<bad-format ");
	bad_element("<active " CSI_Q ">now</active>", "<bad-format ");
	/* whitespace is no content */
	{
		struct stream	*st;

		scn_c2s_setup();
		st = scn_c2s_bound("juliet", "balcony");
		scn_send(&st->tp, "<inactive " CSI_Q ">\n </inactive>");
		assert_true(st->inactive);
		scn_c2s_teardown();
	}
}

/* the stream ends: what is held goes before the end, as queued output */
static void
test_stream_end_writes_held(void **state)
{
	struct stream	*st;
	const char	*want[] = { COMPOSING("1"), "</stream:stream>" };
	const char	*out;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	scn_send(&st->tp, "</stream:stream>");
	assert_output(st, want, nitems(want));
	scn_c2s_teardown();

	/* a stream error (here the router's conflict) comes after them */
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	stream_error(st, SERR_CONFLICT, NULL);
	scn_run();
	out = tp_mem_output(&st->tp);
	assert_true(strncmp(out, COMPOSING("1"), strlen(COMPOSING("1"))) ==
	    0);
	assert_non_null(strstr(out, "<conflict "));
	scn_c2s_teardown();
}

/* held stanzas of a stream that ends otherwise are freed with it */
static void
test_stream_killed_while_holding(void **state)
{
	struct stream	*st;

	(void)state;
	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	scn_send(&st->tp, INACTIVE);
	msg(st, COMPOSING("1"));
	pres(st, "romeo@example.net/a", PRES("romeo@example.net/a", "1"));
	assert_int_equal(st->csi.count, 2);
	/* closed with no stream end (the router's link lost, a failure) */
	scn_c2s_teardown();
}

/*
 * The measurement of the report: presence churn from 20 contacts, 10
 * changes each, one router frame per loop iteration (the worst case: no
 * batching by the link), to an active and to an inactive session that
 * becomes active at the end. A write is a loop iteration that wrote.
 */
static void
churn(bool inactive, int *writes, size_t *bytes)
{
	struct stream	*st;
	char		 from[64], xml[256];
	size_t		 before;
	int		 round, c;

	scn_c2s_setup();
	st = scn_c2s_bound("juliet", "balcony");
	if (inactive)
		scn_send(&st->tp, INACTIVE);
	*writes = 0;
	for (round = 0; round < 10; round++)
		for (c = 0; c < 20; c++) {
			snprintf(from, sizeof(from), "contact%d@example.net/"
			    "phone", c);
			snprintf(xml, sizeof(xml), "<presence from='%s' to='"
			    JULIET "'><show>%s</show><status>round %d"
			    "</status></presence>", from,
			    round % 2 ? "away" : "chat", round);
			before = strlen(tp_mem_output(&st->tp));
			pres(st, from, xml);
			if (strlen(tp_mem_output(&st->tp)) != before)
				(*writes)++;
		}
	if (inactive) {
		before = strlen(tp_mem_output(&st->tp));
		scn_send(&st->tp, ACTIVE);
		if (strlen(tp_mem_output(&st->tp)) != before)
			(*writes)++;
	}
	*bytes = strlen(tp_mem_output(&st->tp));
	scn_c2s_teardown();
}

static void
test_churn_measure(void **state)
{
	int	aw, iw;
	size_t	ab, ib;

	(void)state;
	churn(false, &aw, &ab);
	churn(true, &iw, &ib);
	print_message("csi churn: active writes=%d bytes=%zu, inactive "
	    "writes=%d bytes=%zu\n", aw, ab, iw, ib);
	assert_int_equal(aw, 200);
	assert_int_equal(iw, 1);
	assert_true(ib * 9 < ab);
}

UNIT_MAIN(
	cmocka_unit_test(test_classify),
	cmocka_unit_test(test_feature_after_auth_only),
	cmocka_unit_test(test_active_sends_at_once),
	cmocka_unit_test(test_presence_collapses_until_active),
	cmocka_unit_test(test_body_flushes_held_first),
	cmocka_unit_test(test_iq_passes_at_once),
	cmocka_unit_test(test_count_cap_flushes),
	cmocka_unit_test(test_bytes_cap_flushes),
	cmocka_unit_test(test_flush_past_the_output_cap),
	cmocka_unit_test(test_held_and_unwritten_meet_the_output_cap),
	cmocka_unit_test(test_twice),
	cmocka_unit_test(test_before_bind),
	cmocka_unit_test(test_bad_elements),
	cmocka_unit_test(test_stream_end_writes_held),
	cmocka_unit_test(test_stream_killed_while_holding),
	cmocka_unit_test(test_churn_measure),
)
