/*
 * Link framing: frames built on one end of a socketpair arrive whole and
 * in order on the other; getters are sticky; short, oversized and
 * over-cap frames fail the link instead of being delivered. The HELLO
 * check every link shares, and the wire values of the protocol, pinned:
 * a change here is a protocol change and bumps LINK_VERSION.
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
#include <errno.h>
#include <stdlib.h>

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

/* ---- wire values ------------------------------------------------------- */

enum pin_list { PIN_STREAM, PIN_STANZA, PIN_SASL };

static void
test_link_wire_numbers_pinned(void **state)
{
	static const struct {
		enum pin_list	 list;
		int		 e;
		uint32_t	 w;
		const char	*name;	/* NULL: XERR_COUNT, "no error" */
	} pin[] = {
		{ PIN_STREAM, SERR_NONE, 0, "" },
		{ PIN_STREAM, SERR_BAD_FORMAT, 1, "bad-format" },
		{ PIN_STREAM, SERR_BAD_NAMESPACE_PREFIX, 2,
		    "bad-namespace-prefix" },
		{ PIN_STREAM, SERR_CONFLICT, 3, "conflict" },
		{ PIN_STREAM, SERR_CONNECTION_TIMEOUT, 4,
		    "connection-timeout" },
		{ PIN_STREAM, SERR_HOST_GONE, 5, "host-gone" },
		{ PIN_STREAM, SERR_HOST_UNKNOWN, 6, "host-unknown" },
		{ PIN_STREAM, SERR_IMPROPER_ADDRESSING, 7,
		    "improper-addressing" },
		{ PIN_STREAM, SERR_INTERNAL_SERVER_ERROR, 8,
		    "internal-server-error" },
		{ PIN_STREAM, SERR_INVALID_FROM, 9, "invalid-from" },
		{ PIN_STREAM, SERR_INVALID_NAMESPACE, 10, "invalid-namespace" },
		{ PIN_STREAM, SERR_INVALID_XML, 11, "invalid-xml" },
		{ PIN_STREAM, SERR_NOT_AUTHORIZED, 12, "not-authorized" },
		{ PIN_STREAM, SERR_NOT_WELL_FORMED, 13, "not-well-formed" },
		{ PIN_STREAM, SERR_POLICY_VIOLATION, 14, "policy-violation" },
		{ PIN_STREAM, SERR_REMOTE_CONNECTION_FAILED, 15,
		    "remote-connection-failed" },
		{ PIN_STREAM, SERR_RESET, 16, "reset" },
		{ PIN_STREAM, SERR_RESOURCE_CONSTRAINT, 17,
		    "resource-constraint" },
		{ PIN_STREAM, SERR_RESTRICTED_XML, 18, "restricted-xml" },
		{ PIN_STREAM, SERR_SEE_OTHER_HOST, 19, "see-other-host" },
		{ PIN_STREAM, SERR_SYSTEM_SHUTDOWN, 20, "system-shutdown" },
		{ PIN_STREAM, SERR_UNDEFINED_CONDITION, 21,
		    "undefined-condition" },
		{ PIN_STREAM, SERR_UNSUPPORTED_ENCODING, 22,
		    "unsupported-encoding" },
		{ PIN_STREAM, SERR_UNSUPPORTED_FEATURE, 23,
		    "unsupported-feature" },
		{ PIN_STREAM, SERR_UNSUPPORTED_STANZA_TYPE, 24,
		    "unsupported-stanza-type" },
		{ PIN_STREAM, SERR_UNSUPPORTED_VERSION, 25,
		    "unsupported-version" },
		{ PIN_STANZA, XERR_BAD_REQUEST, 1, "bad-request" },
		{ PIN_STANZA, XERR_CONFLICT, 2, "conflict" },
		{ PIN_STANZA, XERR_FEATURE_NOT_IMPLEMENTED, 3,
		    "feature-not-implemented" },
		{ PIN_STANZA, XERR_FORBIDDEN, 4, "forbidden" },
		{ PIN_STANZA, XERR_GONE, 5, "gone" },
		{ PIN_STANZA, XERR_INTERNAL_SERVER_ERROR, 6,
		    "internal-server-error" },
		{ PIN_STANZA, XERR_ITEM_NOT_FOUND, 7, "item-not-found" },
		{ PIN_STANZA, XERR_JID_MALFORMED, 8, "jid-malformed" },
		{ PIN_STANZA, XERR_NOT_ACCEPTABLE, 9, "not-acceptable" },
		{ PIN_STANZA, XERR_NOT_ALLOWED, 10, "not-allowed" },
		{ PIN_STANZA, XERR_NOT_AUTHORIZED, 11, "not-authorized" },
		{ PIN_STANZA, XERR_POLICY_VIOLATION, 12, "policy-violation" },
		{ PIN_STANZA, XERR_RECIPIENT_UNAVAILABLE, 13,
		    "recipient-unavailable" },
		{ PIN_STANZA, XERR_REDIRECT, 14, "redirect" },
		{ PIN_STANZA, XERR_REGISTRATION_REQUIRED, 15,
		    "registration-required" },
		{ PIN_STANZA, XERR_REMOTE_SERVER_NOT_FOUND, 16,
		    "remote-server-not-found" },
		{ PIN_STANZA, XERR_REMOTE_SERVER_TIMEOUT, 17,
		    "remote-server-timeout" },
		{ PIN_STANZA, XERR_RESOURCE_CONSTRAINT, 18,
		    "resource-constraint" },
		{ PIN_STANZA, XERR_SERVICE_UNAVAILABLE, 19,
		    "service-unavailable" },
		{ PIN_STANZA, XERR_SUBSCRIPTION_REQUIRED, 20,
		    "subscription-required" },
		{ PIN_STANZA, XERR_UNDEFINED_CONDITION, 21,
		    "undefined-condition" },
		{ PIN_STANZA, XERR_UNEXPECTED_REQUEST, 22,
		    "unexpected-request" },
		{ PIN_STANZA, XERR_COUNT, 0, NULL },
		{ PIN_SASL, SASLERR_NONE, 0, "" },
		{ PIN_SASL, SASLERR_ABORTED, 1, "aborted" },
		{ PIN_SASL, SASLERR_ACCOUNT_DISABLED, 2, "account-disabled" },
		{ PIN_SASL, SASLERR_CREDENTIALS_EXPIRED, 3,
		    "credentials-expired" },
		{ PIN_SASL, SASLERR_ENCRYPTION_REQUIRED, 4,
		    "encryption-required" },
		{ PIN_SASL, SASLERR_INCORRECT_ENCODING, 5,
		    "incorrect-encoding" },
		{ PIN_SASL, SASLERR_INVALID_AUTHZID, 6, "invalid-authzid" },
		{ PIN_SASL, SASLERR_INVALID_MECHANISM, 7, "invalid-mechanism" },
		{ PIN_SASL, SASLERR_MALFORMED_REQUEST, 8, "malformed-request" },
		{ PIN_SASL, SASLERR_MECHANISM_TOO_WEAK, 9,
		    "mechanism-too-weak" },
		{ PIN_SASL, SASLERR_NOT_AUTHORIZED, 10, "not-authorized" },
		{ PIN_SASL, SASLERR_TEMPORARY_AUTH_FAILURE, 11,
		    "temporary-auth-failure" },
	};
	size_t		i, n[3] = { 0, 0, 0 };
	int		e;
	const char	*name;

	(void)state;
	for (i = 0; i < nitems(pin); i++) {
		n[pin[i].list]++;
		switch (pin[i].list) {
		case PIN_STREAM:
			assert_int_equal(stream_err_wire(pin[i].e), pin[i].w);
			e = stream_err_unwire(pin[i].w);
			name = stream_err_name((enum stream_err)e);
			break;
		case PIN_STANZA:
			assert_int_equal(stanza_err_wire(pin[i].e), pin[i].w);
			e = stanza_err_unwire(pin[i].w);
			name = e == XERR_COUNT ? NULL :
			    stanza_err_name((enum stanza_err)e);
			break;
		default:
			assert_int_equal(sasl_err_wire(pin[i].e), pin[i].w);
			e = sasl_err_unwire(pin[i].w);
			name = sasl_err_name((enum sasl_err)e);
			break;
		}
		assert_int_equal(e, pin[i].e);
		if (pin[i].name != NULL)
			assert_string_equal(name, pin[i].name);
	}
	/* every condition is listed here: a new one needs a pinned line */
	assert_int_equal(n[PIN_STREAM], SERR_COUNT);
	assert_int_equal(n[PIN_STANZA], XERR_COUNT + 1);
	assert_int_equal(n[PIN_SASL], SASLERR_COUNT);
	/* numbers no condition has are refused, not clamped */
	assert_int_equal(stream_err_unwire(26), -1);
	assert_int_equal(stream_err_unwire(UINT32_MAX), -1);
	assert_int_equal(stanza_err_unwire(23), -1);
	assert_int_equal(sasl_err_unwire(12), -1);
}

static void
test_link_stanza_kinds_and_types_pinned(void **state)
{
	static const struct {
		int		 kind, type;
		const char	*name;
	} t[] = {
		{ KIND_MESSAGE, 0, "normal" },
		{ KIND_MESSAGE, 1, "chat" },
		{ KIND_MESSAGE, 2, "groupchat" },
		{ KIND_MESSAGE, 3, "headline" },
		{ KIND_MESSAGE, 4, "error" },
		{ KIND_PRESENCE, 0, NULL },
		{ KIND_PRESENCE, 1, "unavailable" },
		{ KIND_PRESENCE, 2, "subscribe" },
		{ KIND_PRESENCE, 3, "subscribed" },
		{ KIND_PRESENCE, 4, "unsubscribe" },
		{ KIND_PRESENCE, 5, "unsubscribed" },
		{ KIND_PRESENCE, 6, "probe" },
		{ KIND_PRESENCE, 7, "error" },
		{ KIND_IQ, 0, "get" },
		{ KIND_IQ, 1, "set" },
		{ KIND_IQ, 2, "result" },
		{ KIND_IQ, 3, "error" },
	};
	size_t	i;

	(void)state;
	assert_int_equal(KIND_MESSAGE, 1);
	assert_int_equal(KIND_PRESENCE, 2);
	assert_int_equal(KIND_IQ, 3);
	assert_int_equal(MTYPE_CHAT, 1);
	assert_int_equal(PRES_PROBE, 6);
	assert_int_equal(IQ_RESULT, 2);
	assert_int_equal(stanza_kind_of(NS_CLIENT, "message", NS_CLIENT),
	    KIND_MESSAGE);
	assert_int_equal(stanza_kind_of(NS_SERVER, "presence", NS_SERVER),
	    KIND_PRESENCE);
	assert_int_equal(stanza_kind_of(NS_CLIENT, "iq", NS_CLIENT), KIND_IQ);
	assert_int_equal(stanza_kind_of(NS_SERVER, "iq", NS_CLIENT), -1);
	assert_int_equal(stanza_kind_of(NS_CLIENT, "query", NS_CLIENT), -1);
	for (i = 0; i < nitems(t); i++) {
		assert_int_equal(stanza_type_of(t[i].kind, t[i].name),
		    t[i].type);
		assert_true(stanza_kind_type_valid(t[i].kind, t[i].type));
	}
	/* RFC 6121 5.2.2: no type, or an unknown one, is a normal message */
	assert_int_equal(stanza_type_of(KIND_MESSAGE, NULL), MTYPE_NORMAL);
	assert_int_equal(stanza_type_of(KIND_MESSAGE, "bogus"), MTYPE_NORMAL);
	/* available presence has no name; an iq must have a type */
	assert_int_equal(stanza_type_of(KIND_PRESENCE, ""), STANZA_TYPE_BAD);
	assert_int_equal(stanza_type_of(KIND_PRESENCE, "available"),
	    STANZA_TYPE_BAD);
	assert_int_equal(stanza_type_of(KIND_IQ, NULL), STANZA_TYPE_BAD);
	assert_int_equal(stanza_type_of(KIND_IQ, "chat"), STANZA_TYPE_BAD);
	assert_false(stanza_kind_type_valid(KIND_IQ, 4));
	assert_false(stanza_kind_type_valid(KIND_PRESENCE, 8));
	assert_false(stanza_kind_type_valid(0, 0));
	assert_false(stanza_kind_type_valid(4, 0));
	assert_false(stanza_kind_type_valid(KIND_MESSAGE, STANZA_TYPE_BAD));
}

static void
test_link_types_and_statuses_pinned(void **state)
{
	static const struct {
		uint16_t	type;
		int		min;
		const char	*name;
	} t[] = {
		{ 0x0001, 12, "LINK_HELLO" },
		{ 0x0101, 16, "LINK_AUTH_GET" },
		{ 0x0102, 8, "LINK_AUTH_CRED" },
		{ 0x0103, 8, "LINK_SESS_BEGIN" },
		{ 0x0104, 8, "LINK_SESS_BOUND" },
		{ 0x0105, 0, "LINK_SESS_END" },
		{ 0x0106, 4, "LINK_SESS_KICK" },
		{ 0x0107, 16, "LINK_REG_ADD" },
		{ 0x0108, 4, "LINK_REG_RESULT" },
		{ 0x0109, 8, "LINK_HOST_CAPS" },
		{ 0x010a, 20, "LINK_SM_ENABLE" },
		{ 0x010b, 8, "LINK_SM_ENABLED" },
		{ 0x010c, 16, "LINK_SM_ACK" },
		{ 0x010d, 12, "LINK_SM_RESUME" },
		{ 0x010e, 24, "LINK_SM_RESUMED" },
		{ 0x010f, 16, "LINK_FAST_PUT" },
		{ 0x0111, 8, "LINK_METRICS_GET" },
		{ 0x0112, 8, "LINK_METRICS" },
		{ 0x0113, 0, "LINK_AUTH_FAIL" },
		{ 0x0114, 4, "LINK_S2S_COUNTS" },
		{ 0x0201, 20, "LINK_STANZA" },
		{ 0x0202, 24, "LINK_STANZA_MULTI" },
		{ 0x0301, 4, "LINK_CTL_ADDUSER" },
		{ 0x0302, 4, "LINK_CTL_PASSWD" },
		{ 0x0303, 4, "LINK_CTL_DELUSER" },
		{ 0x0304, 4, "LINK_CTL_LIST" },
		{ 0x0305, 8, "LINK_CTL_REPLY" },
		{ 0x0401, 8, "LINK_PROXY_ACTIVATE" },
		{ 0x0402, 4, "LINK_PROXY_RESULT" },
		{ 0x0306, 4, "LINK_CTL_SESSIONS" },
		{ 0x0307, 4, "LINK_CTL_KICK" },
		{ 0x0308, 4, "LINK_CTL_STATS" },
		{ 0x0309, 4, "LINK_CTL_ABOUT" },
		{ 0x030a, 4, "LINK_CTL_DISABLE" },
		{ 0x030b, 4, "LINK_CTL_ENABLE" },
		{ 0x030c, 8, "LINK_CTL_DRAIN" },
		{ 0x0110, 4, "LINK_DRAIN" },
		{ 0x030d, 8, "LINK_CTL_ROLE" },
		{ 0x030e, 16, "LINK_CTL_INVITE" },
		{ 0x0115, 16, "LINK_BOSH_FWD" },
		{ 0x0116, 20, "LINK_BOSH_ANSWER" },
		{ 0x030f, 4, "LINK_CTL_RESTART" },
		{ 0x0002, 0, "LINK_QUIESCE" },
		{ 0x0003, 0, "LINK_QUIESCED" },
		{ 0x0004, 0, "LINK_RELEASE" },
		{ 0x0117, 24, "LINK_AUTH_UPGRADE" },
		{ 0x0118, 4, "LINK_AUTH_UPGRADED" },
		{ 0x0119, 8, "LINK_SESS_KEEP" },
		{ 0x011a, 8, "LINK_SECRETS" },
	};
	static const struct {
		uint32_t	status;
		int		err;
	} ctl[] = {
		{ 0, 0 }, { 1, EEXIST }, { 2, ENOENT }, { 3, ENOSPC },
		{ 4, EINVAL }, { 5, EIO },
	};
	size_t	i;
	int	err;

	(void)state;
	assert_int_equal(LINK_VERSION, 24);
	assert_int_equal(LINK_SECRET_LEN, 32);
	assert_int_equal(LINK_F_MUC_REJOIN, 4);
	assert_int_equal(LINK_SM_F_RESUME, 1);
	assert_int_equal(LINK_F_SESS_LOST, 1);
	assert_int_equal(LINK_F_BOSH_CANCEL, 1);
	assert_int_equal(LINK_BOSH_OK, 0);
	assert_int_equal(LINK_BOSH_UNKNOWN, 1);
	assert_int_equal(LINK_BOSH_DOWN, 2);
	assert_int_equal(LINK_BOSH_BUSY, 3);
	for (i = 0; i < nitems(t); i++) {
		assert_string_equal(link_msg_name(t[i].type), t[i].name);
		assert_int_equal(link_msg_min(t[i].type), t[i].min);
	}
	assert_int_equal(LINK_ROLE_C2S, 1);
	assert_int_equal(LINK_ROLE_CTL, 2);
	assert_int_equal(LINK_ROLE_S2S, 3);
	assert_int_equal(LINK_ROLE_ROUTER, 4);
	assert_int_equal(LINK_ROLE_PROXY, 5);
	assert_int_equal(LINK_PROXY_OK, 0);
	assert_int_equal(LINK_PROXY_NOT_FOUND, 1);
	assert_int_equal(LINK_PROXY_BUSY, 2);
	assert_int_equal(LINK_AUTH_OK, 0);
	assert_int_equal(LINK_AUTH_NO_USER, 1);
	assert_int_equal(LINK_AUTH_FAILED, 2);
	assert_int_equal(LINK_CTL_MORE, 1);
	assert_int_equal(LINK_F_STAMP_TO, 1);
	assert_int_equal(LINK_F_COMPONENT, 2);
	for (i = 0; i < nitems(ctl); i++) {
		assert_int_equal(link_ctl_status(ctl[i].err), ctl[i].status);
		assert_int_equal(link_ctl_errno(ctl[i].status, &err), 0);
		assert_int_equal(err, ctl[i].err);
	}
	/* any other errno is a failure the reply's text explains */
	assert_int_equal(link_ctl_status(EPERM), LINK_CTL_FAILED);
	assert_int_equal(link_ctl_errno(6, &err), -1);
}

/* conditions go as wire numbers; an unknown number is a bad frame */
static void
test_link_conditions_on_the_wire(void **state)
{
	struct buf	b;
	struct link_out	m;
	struct link_in	in;
	enum stanza_err	xe;
	enum stream_err	se;
	unsigned char	bad[] = { 0, 0, 0, 99 };

	(void)state;
	buf_init(&b, 64);
	link_out_buf(&m, &b);
	link_put_stanza_err(&m, XERR_COUNT);
	link_put_stanza_err(&m, XERR_RESOURCE_CONSTRAINT);
	link_put_stream_err(&m, SERR_CONFLICT);
	assert_false(m.fail);
	assert_int_equal(buf_avail(&b), 12);
	assert_memory_equal(buf_rptr(&b),
	    "\0\0\0\0" "\0\0\0\x12" "\0\0\0\x03", 12);
	link_in_init(&in, buf_rptr(&b), buf_avail(&b));
	link_get_stanza_err(&in, &xe);
	assert_int_equal(xe, XERR_COUNT);
	link_get_stanza_err(&in, &xe);
	assert_int_equal(xe, XERR_RESOURCE_CONSTRAINT);
	link_get_stream_err(&in, &se);
	assert_int_equal(se, SERR_CONFLICT);
	assert_true(link_in_done(&in));
	buf_clear(&b);

	link_in_init(&in, bad, sizeof(bad));
	link_get_stream_err(&in, &se);
	assert_false(link_in_done(&in));
	link_in_init(&in, bad, sizeof(bad));
	link_get_stanza_err(&in, &xe);
	assert_false(link_in_done(&in));
}

/* a held record that passes its buffer's cap is removed whole */
static void
test_link_out_buf_record_whole_or_nothing(void **state)
{
	struct buf		b;
	struct link_out		m;
	struct link_in		in;
	struct link_stanza	ls;

	(void)state;
	/* a record: 4 + (4 + 1) + (4 + 1) + (4 + 8) = 26 bytes */
	buf_init(&b, 40);
	link_out_buf(&m, &b);
	link_put_stanza(&m, KIND_MESSAGE, 0, "a", "b", "<x>1</x>", 8);
	assert_int_equal(link_out_buf_end(&m), 0);
	assert_int_equal(buf_avail(&b), 26);
	/* the second passes the cap in its xml: nothing of it stays */
	link_out_buf(&m, &b);
	link_put_stanza(&m, KIND_MESSAGE, 0, "a", "b", "<x>2</x>", 8);
	assert_int_equal(link_out_buf_end(&m), -1);
	assert_int_equal(buf_avail(&b), 26);
	link_in_init(&in, buf_rptr(&b), buf_avail(&b));
	link_get_stanza(&in, &ls);
	assert_true(link_in_done(&in));
	assert_memory_equal(ls.xml, "<x>1</x>", 8);
	buf_clear(&b);
}

/* ---- LINK_HELLO ---------------------------------------------------------- */

static void
hello_payload(unsigned char *p, uint32_t version, uint32_t role,
    uint32_t instance)
{
	version = htobe32(version);
	role = htobe32(role);
	instance = htobe32(instance);
	memcpy(p, &version, 4);
	memcpy(p + 4, &role, 4);
	memcpy(p + 8, &instance, 4);
}

static int
hello_check(uint32_t version, uint32_t role, uint32_t instance,
    unsigned roles, struct link_peer *peer)
{
	struct link_hdr	h = { 12, LINK_HELLO, 0, 0 };
	unsigned char	p[12];
	char		why[96];

	hello_payload(p, version, role, instance);
	return link_hello_parse(&h, (const char *)p, roles, peer, why,
	    sizeof(why));
}

static void
test_link_hello_checked(void **state)
{
	struct link_peer peer;
	struct link_hdr	 h = { 16, LINK_HELLO, 0, 0 };
	unsigned char	 p[16];
	unsigned	 proc = LINK_ROLE_BIT(LINK_ROLE_C2S) |
			    LINK_ROLE_BIT(LINK_ROLE_S2S);
	char		 why[96];

	(void)state;
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_C2S, 7, proc,
	    &peer), 0);
	assert_int_equal(peer.role, LINK_ROLE_C2S);
	assert_int_equal(peer.instance, 7);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_C2S,
	    LINK_INSTANCE_MAX, proc, &peer), 0);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_S2S, 0, proc,
	    &peer), 0);
	/* another version is told apart, whatever else it says */
	assert_int_equal(hello_check(LINK_VERSION - 1, 99, 99, proc, &peer),
	    -1);
	assert_int_equal(peer.version, LINK_VERSION - 1);
	/* a role the socket does not serve, or none at all */
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_CTL, 0, proc,
	    &peer), -1);
	assert_int_equal(hello_check(LINK_VERSION, 0, 0, ~0u, &peer), -1);
	assert_int_equal(hello_check(LINK_VERSION, 200, 0, ~0u, &peer), -1);
	/* a c2s instance fits in 16 bits and is never 0; others are 0 */
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_C2S, 0, proc,
	    &peer), -1);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_C2S,
	    LINK_INSTANCE_MAX + 1, proc, &peer), -1);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_S2S, 1, proc,
	    &peer), -1);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_ROUTER, 0,
	    LINK_ROLE_BIT(LINK_ROLE_ROUTER), &peer), 0);
	/* the proxy is a role of its own, instance 0 */
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_PROXY, 0,
	    LINK_ROLE_BIT(LINK_ROLE_PROXY), &peer), 0);
	assert_int_equal(hello_check(LINK_VERSION, LINK_ROLE_PROXY, 0, proc,
	    &peer), -1);
	/* trailing bytes, and another frame first */
	memset(p, 0, sizeof(p));
	hello_payload(p, LINK_VERSION, LINK_ROLE_S2S, 0);
	assert_int_equal(link_hello_parse(&h, (const char *)p, proc, &peer,
	    why, sizeof(why)), -1);
	h.len = 12;
	h.type = LINK_SESS_END;
	assert_int_equal(link_hello_parse(&h, (const char *)p, proc, &peer,
	    why, sizeof(why)), -1);
	assert_non_null(strstr(why, "expected LINK_HELLO"));
}

static int
hello_frame(struct link *l, const struct link_hdr *h, const char *p,
    void *ctx)
{
	struct rx	*rx = ctx;

	rx->types[rx->frames++] = h->type;
	if (!l->hello_heard)
		return link_hello_recv(l, h, p,
		    LINK_ROLE_BIT(LINK_ROLE_C2S), LINK_ROLE_ROUTER);
	return 0;
}

/*
 * A peer of another version that speaks first hears our LINK_HELLO before
 * the link closes, so that it can say why (a failed link is never
 * flushed by the loop).
 */
static void
test_link_hello_mismatch_answered(void **state)
{
	struct link	*a;
	struct rx	 ra = { 0 };
	struct link_hdr	 h;
	unsigned char	 f[LINK_HDR_LEN + 12];
	char		*payload;
	uint32_t	 v;
	int		 sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	a = link_new(loop, sv[0], "a", 1 << 16, hello_frame, rx_close, &ra);
	assert_non_null(a);	/* freed by the loop once failed */
	memset(f, 0, sizeof(f));
	f[3] = 12;
	f[5] = LINK_HELLO;
	hello_payload(f + LINK_HDR_LEN, LINK_VERSION + 1, LINK_ROLE_C2S, 1);
	assert_int_equal(write(sv[1], f, sizeof(f)), sizeof(f));
	spin();
	assert_true(ra.closed);
	assert_non_null(strstr(ra.why, "version"));
	assert_int_equal(link_read_frame(sv[1], &h, &payload), 0);
	assert_int_equal(h.type, LINK_HELLO);
	assert_int_equal(h.len, 12);
	memcpy(&v, payload, 4);
	assert_int_equal(be32toh(v), LINK_VERSION);
	memcpy(&v, payload + 4, 4);
	assert_int_equal(be32toh(v), LINK_ROLE_ROUTER);
	free(payload);
	close(sv[1]);
}

/* nothing but a LINK_HELLO may come first, and only once */
static void
test_link_hello_first(void **state)
{
	struct link	*a, *b;
	struct rx	 ra = { 0 }, rb = { 0 };
	struct link_out	 m;
	int		 sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	assert_int_equal(fd_nonblock(sv[1]), 0);
	a = link_new(loop, sv[0], "a", 1 << 16, rx_frame, rx_close, &ra);
	b = link_new(loop, sv[1], "b", 1 << 16, hello_frame, rx_close, &rb);
	link_begin(&m, a, LINK_SESS_END, 1);
	assert_int_equal(link_end(&m), 0);
	spin();
	assert_true(rb.closed);
	assert_non_null(strstr(rb.why, "expected LINK_HELLO"));
	assert_true(ra.closed);		/* b hung up; the loop freed both */

	/* a good one passes and records the peer */
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_nonblock(sv[0]), 0);
	assert_int_equal(fd_nonblock(sv[1]), 0);
	a = link_new(loop, sv[0], "a", 1 << 16, rx_frame, rx_close, &ra);
	b = link_new(loop, sv[1], "b", 1 << 16, hello_frame, rx_close, &rb);
	link_hello(a, LINK_ROLE_C2S, 3);
	assert_true(a->hello_sent);
	spin();
	assert_false(rb.closed);
	assert_true(b->hello_heard);
	assert_int_equal(b->peer.role, LINK_ROLE_C2S);
	assert_int_equal(b->peer.instance, 3);
	link_free(a);
	link_free(b);
}

/* ---- LINK_SECRETS -------------------------------------------------------- */

/* p: a LINK_SECRETS payload of n bytes; its parse fails and wipes ks */
static void
secrets_refused(const uint8_t *p, size_t n)
{
	struct link_secrets	ks, zero;

	memset(&ks, 0xaa, sizeof(ks));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(link_secrets_parse((const char *)p, n, &ks), -1);
	assert_memory_equal(&ks, &zero, sizeof(ks));
}

static void
test_link_secrets_parse(void **state)
{
	struct link_secrets	 ks, got;
	struct link_out		 m;
	struct link_hdr		 h;
	struct buf		 b;
	uint8_t			 p[2 * (4 + LINK_SECRET_LEN) + 1], *q;
	size_t			 i, n;

	(void)state;
	for (i = 0; i < LINK_SECRET_LEN; i++) {
		ks.sasl[i] = (uint8_t)i;
		ks.upload[i] = (uint8_t)(0x80 + i);
	}
	buf_init(&b, 256);
	link_begin_buf(&m, &b, LINK_SECRETS, 0);
	link_put_secrets(&m, &ks);
	assert_int_equal(link_end(&m), 0);
	link_hdr_decode(&h, buf_rptr(&b));
	assert_int_equal(h.type, LINK_SECRETS);
	assert_int_equal(h.len, sizeof(p) - 1);
	/* on the wire: str sasl, str upload, 32 bytes each */
	q = (uint8_t *)buf_rptr(&b) + LINK_HDR_LEN;
	assert_int_equal(q[0] | q[1] | q[2], 0);
	assert_int_equal(q[3], LINK_SECRET_LEN);
	assert_memory_equal(q + 4, ks.sasl, LINK_SECRET_LEN);
	assert_int_equal(q[4 + LINK_SECRET_LEN + 3], LINK_SECRET_LEN);
	assert_memory_equal(q + 8 + LINK_SECRET_LEN, ks.upload,
	    LINK_SECRET_LEN);
	memset(&got, 0, sizeof(got));
	assert_int_equal(link_secrets_parse((const char *)q, h.len, &got), 0);
	assert_memory_equal(&got, &ks, sizeof(ks));

	n = h.len;
	memcpy(p, q, n);
	buf_clear(&b);
	/* a byte past the second key */
	p[n] = 0;
	secrets_refused(p, n + 1);
	/* the second key missing, or cut short */
	secrets_refused(p, 4 + LINK_SECRET_LEN);
	secrets_refused(p, n - 1);
	/* a key of 31 bytes, the frame as long as it says */
	p[4 + LINK_SECRET_LEN + 3] = LINK_SECRET_LEN - 1;
	secrets_refused(p, n - 1);
	/* a key of 33 bytes (the first reads into the second) */
	p[4 + LINK_SECRET_LEN + 3] = LINK_SECRET_LEN;
	p[3] = LINK_SECRET_LEN + 1;
	secrets_refused(p, n);
	/* a NULL key */
	memset(p, 0xff, 4);
	secrets_refused(p, n);
	secrets_refused(p, 0);
}

/* ---- frames without a link (parleyctl) ---------------------------------- */

static void
test_link_frame_in_plain_buffer(void **state)
{
	struct link	*a, *b;
	struct rx	 ra = { 0 }, rb = { 0 };
	struct link_out	 m;
	struct link_hdr	 h;
	struct buf	 plain, small;
	char		*payload;
	int		 sv[2];

	(void)state;
	pair(&a, &b, &ra, &rb, 1 << 16);
	buf_init(&plain, 256);
	link_begin(&m, a, LINK_CTL_REPLY, 42);
	link_set_flags(&m, LINK_CTL_MORE);
	link_put_u32(&m, 0);
	link_put_str(&m, "a@b\n");
	assert_int_equal(link_end(&m), 0);
	link_begin_buf(&m, &plain, LINK_CTL_REPLY, 42);
	link_set_flags(&m, LINK_CTL_MORE);
	link_put_u32(&m, 0);
	link_put_str(&m, "a@b\n");
	assert_int_equal(link_end(&m), 0);
	/* the same bytes as the link queued */
	assert_int_equal(buf_avail(&plain), buf_avail(&a->out));
	assert_memory_equal(buf_rptr(&plain), buf_rptr(&a->out),
	    buf_avail(&plain));
	link_free(a);
	link_free(b);

	/* and the blocking reader decodes the header the same way */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(link_write_all(sv[0], buf_rptr(&plain),
	    buf_avail(&plain)), 0);
	assert_int_equal(link_read_frame(sv[1], &h, &payload), 0);
	assert_int_equal(h.type, LINK_CTL_REPLY);
	assert_int_equal(h.flags, LINK_CTL_MORE);
	assert_true(h.sid == 42);
	assert_int_equal(h.len, 4 + 4 + 4);
	free(payload);
	close(sv[0]);
	close(sv[1]);
	buf_clear(&plain);

	/* a frame that does not fit its buffer fails, and leaves nothing */
	buf_init(&small, LINK_HDR_LEN + 4);
	link_begin_buf(&m, &small, LINK_CTL_LIST, 1);
	link_put_str(&m, "example.org");
	assert_int_equal(link_end(&m), -1);
	assert_int_equal(buf_avail(&small), 0);
	buf_clear(&small);
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
		cmocka_unit_test(test_link_wire_numbers_pinned),
		cmocka_unit_test(test_link_stanza_kinds_and_types_pinned),
		cmocka_unit_test(test_link_types_and_statuses_pinned),
		cmocka_unit_test(test_link_conditions_on_the_wire),
	cmocka_unit_test(test_link_out_buf_record_whole_or_nothing),
		cmocka_unit_test(test_link_hello_checked),
		cmocka_unit_test(test_link_hello_mismatch_answered),
		cmocka_unit_test(test_link_hello_first),
		cmocka_unit_test(test_link_frame_in_plain_buffer),
		cmocka_unit_test(test_link_secrets_parse),
	};

	loop = ev_default_loop(0);
	link_loop_init(loop);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
