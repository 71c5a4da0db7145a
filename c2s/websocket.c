/*
 * XMPP over WebSocket (RFC 7395): the upgrade of an HTTP request
 * (RFC 6455 4.2), frames by libwslay, and the framing between them and
 * the client stream: <open/> becomes a stream header for the stream's
 * parser, the stream's output is cut into one top-level element per
 * text message, its header becomes <open/> and its end <close/>.
 * stream.c, SASL, binding and stream management run unchanged.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <http_parser.h>
#include <wslay/wslay.h>

#include "../common/base64.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"
#include "http.h"
#include "websocket.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* 6455 1.3 */

struct ws {
	wslay_event_context_ptr	 ctx;
	struct http_conn	*hc;
	struct stream		*st;		/* NULL once it is gone */
	struct buf		 in;		/* read, not yet framed */
	struct ws_split		 split;		/* the stream's output */
	bool			 ping_out;	/* our ping awaits its pong */
	uint16_t		 close_code;	/* to send after the messages:
						   wslay sends control frames
						   first */
	bool			 closing;
};

/* ---- wslay ------------------------------------------------------------- */

static ssize_t
ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;
	size_t		 n = buf_avail(&ws->in);

	(void)flags;
	if (n == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n > len)
		n = len;
	memcpy(data, buf_rptr(&ws->in), n);
	buf_consume(&ws->in, n);
	return (ssize_t)n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws	*ws = arg;

	(void)flags;
	if (tp_write_raw(http_conn_transport(ws->hc), (const char *)data,
	    len) == -1) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int
ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
    void *arg)
{
	(void)ctx;
	(void)arg;
	random_bytes(buf, len);		/* servers do not mask; not used */
	return 0;
}

/*
 * wslay answers a frame header it refuses (a control frame fragmented or
 * over 125 bytes, a 64-bit length with its top bit set), and a close of
 * one byte, with a close without a code. RFC 6455 7.1.7: the close SHOULD
 * say why, so ours goes instead, 1002 (7.4.1). ws_send_cb writes whole
 * frames, so none is half out; what was queued behind it is dropped.
 */
static void
ws_fail(struct ws *ws)
{
	static const char	 close1002[] = { (char)0x88, 2, 0x03,
				    (char)0xea };
	struct transport	*tp = http_conn_transport(ws->hc);

	wslay_event_shutdown_write(ws->ctx);
	if (tp_write_raw(tp, close1002, sizeof(close1002)) == -1) {
		tp_kill(tp);
		return;
	}
	tp_close(tp);
}

/* a text message from the client: one element, or <open/>, <close/> */
static void	ws_message(struct ws *, const char *, size_t);

static void
ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg
    *a, void *arg)
{
	struct ws	*ws = arg;

	switch (a->opcode) {
	case WSLAY_TEXT_FRAME:
		ws_message(ws, (const char *)a->msg, a->msg_length);
		break;
	case WSLAY_BINARY_FRAME:
		/* RFC 7395 3.2: XMPP goes in text messages */
		log_info("%s websocket: binary message", ws->hc ?
		    http_conn_transport(ws->hc)->name : "-");
		wslay_event_queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA,
		    NULL, 0);
		wslay_event_shutdown_read(ctx);
		break;
	case WSLAY_PONG:
		ws->ping_out = false;
		break;
	case WSLAY_CONNECTION_CLOSE:
		/* RFC 6455 5.5.1: no body, or a code and maybe a reason */
		if (a->msg_length == 1 && ws->hc != NULL)
			ws_fail(ws);
		break;
	default:
		break;
	}
}

static const struct wslay_event_callbacks ws_cbs = {
	ws_recv_cb, ws_send_cb, ws_genmask_cb, NULL, NULL, NULL, ws_msg_cb
};

/* ---- the stream's framing ---------------------------------------------- */

static int
ws_send_message(void *arg, const char *p, size_t n, bool close)
{
	struct ws		*ws = arg;
	struct wslay_event_msg	 m;

	if (ws->ctx == NULL || ws->closing)
		return 0;
	log_trace(TRACE_XML, "%s websocket send %zu bytes",
	    http_conn_transport(ws->hc)->name, n);
	m.opcode = WSLAY_TEXT_FRAME;
	m.msg = (const uint8_t *)p;
	m.msg_length = n;
	if (wslay_event_queue_msg(ws->ctx, &m) != 0)
		return -1;
	if (close) {
		/* RFC 7395 3.6: <close/>, then the WebSocket close */
		ws->close_code = WSLAY_CODE_NORMAL_CLOSURE;
		ws->closing = true;
	}
	return 0;
}

static void	ws_flush(struct ws *);

static int
ws_encode(struct transport *tp, const char *p, size_t n)
{
	struct stream	*st = container_of(tp, struct stream, tp);
	struct ws	*ws = st->web;

	if (ws == NULL || ws->hc == NULL)
		return 0;
	if (ws_split_feed(&ws->split, p, n, ws_send_message, ws) == -1)
		return -1;
	ws_flush(ws);
	return 0;
}

static const struct tp_framing ws_framing = { NULL, ws_encode };

/* ---- the connection ---------------------------------------------------- */

static void
ws_free(struct ws *ws)
{
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	buf_clear(&ws->in);
	ws_split_clear(&ws->split);
	free(ws);
}

/* the stream is freed (stream.c) */
static void
ws_stream_gone(void *arg)
{
	struct ws	*ws = arg;

	ws->st = NULL;
	if (ws->hc == NULL) {
		ws_free(ws);
		return;
	}
	if (!ws->closing) {
		/* killed without <close/>: end the WebSocket too */
		ws->close_code = WSLAY_CODE_GOING_AWAY;
		ws->closing = true;
		ws_flush(ws);
	}
}

/* the HTTP connection is going */
static void
ws_conn_gone(void *arg)
{
	struct ws	*ws = arg;

	ws->hc = NULL;
	if (ws->st != NULL) {
		/* XEP-0198: a lost connection; the session may resume */
		stream_lost(ws->st);
		return;
	}
	ws_free(ws);
}

/* writes what wslay queued; closes once the close is out */
static void
ws_flush(struct ws *ws)
{
	struct transport	*tp;

	if (ws->hc == NULL)
		return;
	tp = http_conn_transport(ws->hc);
	if (wslay_event_send(ws->ctx) != 0) {
		tp_kill(tp);
		return;
	}
	if (ws->close_code != 0 &&
	    wslay_event_get_queued_msg_count(ws->ctx) == 0) {
		(void)wslay_event_queue_close(ws->ctx, ws->close_code, NULL, 0);
		ws->close_code = 0;
		if (wslay_event_send(ws->ctx) != 0) {
			tp_kill(tp);
			return;
		}
	}
	if (wslay_event_get_close_sent(ws->ctx) &&
	    !wslay_event_want_write(ws->ctx))
		tp_close(tp);
}

static void
ws_message(struct ws *ws, const char *p, size_t n)
{
	struct stream	*st = ws->st;
	struct buf	 hdr;
	size_t		 skip;

	/* an empty message (p may then be NULL) carries no element */
	if (st == NULL || n == 0)
		return;
	skip = 0;
	while (skip < n && (p[skip] == ' ' || p[skip] == '\t' ||
	    p[skip] == '\r' || p[skip] == '\n'))
		skip++;
	p += skip;
	n -= skip;
	if ((n >= 5 && memcmp(p, "<open", 5) == 0) ||
	    (n >= 6 && memcmp(p, "<close", 6) == 0)) {
		/* not c2s.scratch: the stream's callbacks write there */
		buf_init(&hdr, 2 * WS_OPEN_MAX);
		if (n > WS_OPEN_MAX || ws_frame_translate(p, n, &hdr) == -1)
			stream_error(st, SERR_NOT_WELL_FORMED,
			    "a malformed <open/> or <close/>");
		else
			stream_feed(st, buf_rptr(&hdr), buf_avail(&hdr));
		buf_clear(&hdr);
		return;
	}
	stream_feed_element(st, p, n);
}

/* input from the connection, framed or not */
static void
ws_input(void *arg, const char *p, size_t n)
{
	struct ws	*ws = arg;

	if (buf_append(&ws->in, p, n) == -1) {
		tp_kill(http_conn_transport(ws->hc));
		return;
	}
	/* anything from the client shows it is there */
	ws->ping_out = false;
	tp_set_timeout(http_conn_transport(ws->hc),
	    c2s.conf.websocket_ping_interval);
	if (wslay_event_recv(ws->ctx) != 0) {
		ws_fail(ws);
		return;
	}
	if (ws->hc != NULL && wslay_event_get_close_received(ws->ctx) &&
	    ws->st != NULL && !ws->closing) {
		log_debug("%s websocket closed by the client (%u)",
		    http_conn_transport(ws->hc)->name,
		    wslay_event_get_status_code_received(ws->ctx));
		ws->closing = true;
	}
	if (ws->hc != NULL)
		ws_flush(ws);
}

static void
ws_timeout(void *arg)
{
	struct ws		*ws = arg;
	struct wslay_event_msg	 m = { WSLAY_PING, NULL, 0 };

	if (ws->ping_out || ws->closing) {
		log_info("%s websocket: no answer to a ping",
		    http_conn_transport(ws->hc)->name);
		tp_kill(http_conn_transport(ws->hc));
		return;
	}
	/* RFC 6455 5.5.2: a dead peer shows itself by not answering */
	(void)wslay_event_queue_msg(ws->ctx, &m);
	ws->ping_out = true;
	tp_set_timeout(http_conn_transport(ws->hc),
	    c2s.conf.websocket_ping_interval);
	ws_flush(ws);
}

static bool
ws_origin_ok(const char *origin)
{
	const char	*l = c2s.conf.http_origins;

	if (origin == NULL || l == NULL)
		return true;	/* not a browser */
	return http_list_has(l, "*") || http_list_has(l, origin);
}

void
websocket_handle(struct http_req *r)
{
	const char		*key, *ver;
	unsigned char		 dig[20];
	struct buf		 b, acc;
	struct ws		*ws;
	struct http_conn	*hc = r->conn;
	char			 client[64];
	bool			 secure;

	if (r->method != HTTP_GET) {
		http_error(r, 405, false);
		return;
	}
	/* RFC 6455 4.2.1 */
	if (!http_list_has(http_header(r, "upgrade"), "websocket") ||
	    !http_list_has(http_header(r, "connection"), "upgrade")) {
		http_header_add(r, "Upgrade", "websocket");
		http_error(r, 426, false);
		return;
	}
	ver = http_header(r, "sec-websocket-version");
	if (ver == NULL || strcmp(ver, "13") != 0) {
		http_header_add(r, "Sec-WebSocket-Version", "13");
		http_error(r, 426, false);
		return;
	}
	key = http_header(r, "sec-websocket-key");
	buf_init(&b, 64);
	if (key == NULL || strlen(key) != 24 ||
	    base64_decode(&b, key, 24) == -1 || buf_avail(&b) != 16) {
		buf_clear(&b);
		http_error(r, 400, true);
		return;
	}
	buf_clear(&b);
	/* RFC 7395 3.1: the xmpp subprotocol, or no XMPP */
	if (!http_list_has(http_header(r, "sec-websocket-protocol"),
	    "xmpp")) {
		http_error(r, 400, true);
		return;
	}
	if (!ws_origin_ok(http_header(r, "origin"))) {
		log_info("%s websocket origin refused",
		    http_conn_transport(hc)->name);
		http_error(r, 403, true);
		return;
	}
	buf_init(&b, 128);
	buf_puts(&b, key);
	buf_puts(&b, WS_GUID);
	gnutls_hash_fast(GNUTLS_DIG_SHA1, buf_rptr(&b), buf_avail(&b), dig);
	buf_clear(&b);
	buf_init(&acc, 64);
	(void)base64_encode(&acc, dig, sizeof(dig));

	ws = xcalloc(1, sizeof(*ws));
	ws->hc = hc;
	buf_init(&ws->in, c2s.conf.max_stanza_size + 64 * 1024);
	ws_split_init(&ws->split, STREAM_OUT_MAX);
	if (wslay_event_context_server_init(&ws->ctx, &ws_cbs, ws) != 0)
		fatalx("%s: wslay", __func__);
	/* RFC 7395 3.3.3: a message is at most one stanza */
	wslay_event_config_set_max_recv_msg_length(ws->ctx,
	    c2s.conf.max_stanza_size);
	snprintf(client, sizeof(client), "%s", r->client);
	secure = r->secure;
	http_header_add(r, "Upgrade", "websocket");
	http_header_add(r, "Connection", "Upgrade");
	http_header_add(r, "Sec-WebSocket-Accept", buf_cstr(&acc));
	http_header_add(r, "Sec-WebSocket-Protocol", "xmpp");
	buf_clear(&acc);
	http_respond(r, 101, NULL, NULL, 0);
	http_conn_upgrade(hc, ws_input, ws_timeout, ws_conn_gone, ws);
	/* after the 101: a refusal is said in frames */
	ws->st = stream_web_new(client, secure, &ws_framing, ws,
	    ws_stream_gone);
	tp_set_timeout(http_conn_transport(hc),
	    c2s.conf.websocket_ping_interval);
}
