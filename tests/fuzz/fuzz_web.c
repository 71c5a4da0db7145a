/*
 * The harness of the web fuzz targets (fuzz_http.c, fuzz_websocket.c,
 * fuzz_bosh.c): c2s/http.c with its handlers (host-meta, websocket.c,
 * wsframe.c, bosh.c) on the memory transport, the input being what
 * clients send. The client stream of stream.c is played by a stub that
 * answers a header with features, echoes elements and ends on
 * </stream:stream>, so that the framings' both directions run.
 *
 * Oracles:
 * - every answer starts with an HTTP/1.1 status line whose code is one
 *   we send (http.c's table);
 * - a path http_path_decode accepts has no dot segment, backslash or
 *   NUL;
 * - when the clients are gone, every connection, WebSocket and BOSH
 *   session is freed (ASan's leak check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c2s/c2s.h"
#include "../../c2s/http.h"
#include "../../common/log.h"
#include "../../common/util.h"
#include "fuzz.h"
#include "fuzz_web.h"

struct c2s	c2s;

static struct conf_listen	cl = { .kind = LISTEN_HTTP, .addr = "fuzz",
				    .port = 5280 };
static struct listener		lst = { .cl = &cl, .fd = -1 };

/* ---- the client stream, played --------------------------------------- */

static void
fake_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t n, void *arg)
{
	struct stream	*st = arg;

	(void)tp;
	(void)data;
	(void)n;
	if (ev != TP_GONE)
		return;
	if (st->web_gone != NULL)
		st->web_gone(st->web);
	c2s.nstreams--;
	free(st);
}

struct stream *
stream_web_new(const char *peer, bool secure, const struct tp_framing *f,
    void *web, void (*gone)(void *))
{
	struct stream	*st = xcalloc(1, sizeof(*st));

	fuzz_touch(peer, strlen(peer));
	st->tls_on = secure;
	tp_init(&st->tp, STREAM_OUT_MAX, fake_event, st);
	st->tp.framing = f;
	st->web = web;
	st->web_gone = gone;
	c2s.nstreams++;
	return st;
}

static void
fake_close(struct stream *st)
{
	if (st->gone)
		return;
	st->gone = true;
	tp_kill(&st->tp);
}

void
stream_feed(struct stream *st, const char *p, size_t n)
{
	static const char	hdr[] = "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams' id='0123' from='localhost' version='1.0' "
	    "xml:lang='en'>";
	static const char	feats[] = "<stream:features><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
	    "</mechanism></mechanisms></stream:features>";

	if (st->gone)
		return;
	fuzz_touch(p, n);
	if (n >= 15 && memcmp(p, "<stream:stream ", 15) == 0) {
		(void)tp_write(&st->tp, hdr, sizeof(hdr) - 1);
		(void)tp_write(&st->tp, feats, sizeof(feats) - 1);
		return;
	}
	if (memmem(p, n, "</stream:stream>", 16) != NULL) {
		(void)tp_write(&st->tp, "</stream:stream>", 16);
		fake_close(st);
		return;
	}
	/* the client's bytes as ours: the splitter's input */
	if (tp_write(&st->tp, p, n) == -1)
		fake_close(st);
}

/* the one-element check is the parser's (test_xmlstream) */
void
stream_feed_element(struct stream *st, const char *p, size_t n)
{
	stream_feed(st, p, n);
}

void
stream_error(struct stream *st, enum stream_err cond, const char *text)
{
	(void)cond;
	(void)text;
	(void)tp_write(&st->tp, "<stream:error><not-well-formed xmlns='urn:"
	    "ietf:params:xml:ns:xmpp-streams'/></stream:error>"
	    "</stream:stream>", 101);
	fake_close(st);
}

void
stream_lost(struct stream *st)
{
	fake_close(st);
}

/* ---- the harness ------------------------------------------------------ */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	hosts[1];

	(void)argc;
	(void)argv;
	fuzz_log_init();
	c2s.loop = ev_default_loop(EVFLAG_AUTO);
	clock_fake_start(1e9);
	tp_use_memory(true);
	buf_init(&c2s.scratch, LINK_STANZA_MAX);
	hosts[0].name = xstrdup("localhost");
	c2s.conf.hosts = hosts;
	c2s.conf.nhosts = 1;
	c2s.conf.max_stanza_size = 16384;
	c2s.conf.c2s_max_sessions = 100;
	c2s.conf.http_origins = xstrdup("*");
	c2s.conf.http_trusted_proxies = xstrdup("unknown");
	c2s.conf.http_max_header_size = 4096;
	c2s.conf.http_max_body_size = 16384;
	c2s.conf.http_request_timeout = 10;
	c2s.conf.http_keepalive_timeout = 30;
	c2s.conf.http_keepalive_requests = 8;
	c2s.conf.websocket_ping_interval = 60;
	c2s.conf.bosh_max_wait = 60;
	c2s.conf.bosh_max_inactivity = 60;
	c2s.conf.negotiation_timeout = 30;
	return 0;
}

static const int	statuses[] = {
	101, 200, 204, 301, 400, 403, 404, 405, 408, 411, 413, 414, 426, 431,
	500, 501, 503, 505
};

/* the status lines in what a connection was sent */
static void
check_answers(const char *out)
{
	const char	*p = out;
	size_t		 i;
	int		 code;

	if (*out == '\0')
		return;
	FUZZ_CHECK(strncmp(out, "HTTP/1.1 ", 9) == 0, "answer %.40s", out);
	while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
		code = atoi(p + 9);
		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if (statuses[i] == code)
				break;
		/* a frame or a body may quote a status line: only ours count */
		if (p == out)
			FUZZ_CHECK(i < sizeof(statuses) / sizeof(statuses[0]),
			    "status %d", code);
		p += 9;
	}
}

/* the request of a body: "%S" becomes the last session's sid */
static void
fuzz_web_post(struct buf *b, const char *path, const char *body, size_t n,
    const char *sid)
{
	struct buf	x;
	size_t		i;

	buf_init(&x, 0);
	for (i = 0; i < n; i++) {
		if (body[i] == '%' && i + 1 < n && body[i + 1] == 'S') {
			buf_puts(&x, sid);
			i++;
		} else
			buf_append(&x, body + i, 1);
	}
	buf_printf(b, "POST %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: %zu\r\n\r\n", path, buf_avail(&x));
	buf_append(b, buf_rptr(&x), buf_avail(&x));
	buf_clear(&x);
}

/* the connections of one input; what each was sent, kept at its end */
static struct {
	struct transport	*tp;	/* NULL once freed */
	struct buf		 out;
} conns[FUZZ_WEB_CONNS];
static tp_event_cb	*http_cb;

static void
conn_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t n, void *arg)
{
	size_t	i;

	if (ev == TP_GONE)
		for (i = 0; i < FUZZ_WEB_CONNS; i++)
			if (conns[i].tp == tp) {
				buf_reset(&conns[i].out);
				buf_puts(&conns[i].out, tp_mem_output(tp));
				conns[i].tp = NULL;
			}
	http_cb(tp, ev, data, n, arg);
}

void
fuzz_web_conns(const char *const *reqs, const size_t *lens, size_t n,
    const char *post_path)
{
	struct http_conn	*hc;
	struct buf		 req;
	const char		*out, *s;
	char			 sid[64] = "0";
	size_t			 i;
	int			 round;

	if (n > FUZZ_WEB_CONNS)
		n = FUZZ_WEB_CONNS;
	buf_init(&req, 0);
	for (i = 0; i < n; i++) {
		buf_init(&conns[i].out, 0);
		hc = http_accept(&lst, -1);
		FUZZ_CHECK(hc != NULL, "no connection");
		conns[i].tp = http_conn_transport(hc);
		http_cb = conns[i].tp->cb;
		conns[i].tp->cb = conn_event;
		buf_reset(&req);
		if (post_path != NULL)
			fuzz_web_post(&req, post_path, reqs[i], lens[i], sid);
		else
			buf_append(&req, reqs[i], lens[i]);
		tp_mem_inject(conns[i].tp, buf_rptr(&req), buf_avail(&req));
		transport_run();
		out = conns[i].tp != NULL ? tp_mem_output(conns[i].tp) :
		    buf_cstr(&conns[i].out);
		if ((s = strstr(out, "sid='")) != NULL &&
		    strspn(s + 5, "0123456789abcdef") < sizeof(sid))
			snprintf(sid, sizeof(sid), "%.*s",
			    (int)strspn(s + 5, "0123456789abcdef"), s + 5);
	}
	buf_clear(&req);
	/* time passes: held requests and slow clients are answered */
	for (round = 0; round < 3; round++) {
		clock_advance(c2s.conf.bosh_max_wait / 2 + 1);
		transport_run();
	}
	for (i = 0; i < n; i++)
		if (conns[i].tp != NULL)
			tp_mem_eof(conns[i].tp);
	transport_run();
	/* sessions without requests end after their inactivity */
	clock_advance(c2s.conf.bosh_max_inactivity + 1);
	transport_run();
	clock_advance(TP_LINGER + 1);
	transport_run();
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(conns[i].tp == NULL, "connection %zu not freed", i);
		check_answers(buf_cstr(&conns[i].out));
		buf_clear(&conns[i].out);
	}
}

size_t
fuzz_web_split(const uint8_t *data, size_t len, const char **reqs,
    size_t *lens)
{
	const char	*p = (const char *)data, *e;
	size_t		 n = 0, left = len;

	while (n < FUZZ_WEB_CONNS) {
		e = memmem(p, left, "\n==\n", 4);
		reqs[n] = p;
		lens[n++] = e != NULL ? (size_t)(e - p) : left;
		if (e == NULL)
			break;
		left -= (size_t)(e - p) + 4;
		p = e + 4;
	}
	return n;
}

void
fuzz_web_path(const char *p, size_t n)
{
	char	*d;

	if ((d = http_path_decode(p, n)) == NULL)
		return;
	FUZZ_CHECK(d[0] == '/', "decoded %s", d);
	FUZZ_CHECK(strstr(d, "/../") == NULL && strstr(d, "/./") == NULL &&
	    strchr(d, '\\') == NULL, "decoded %s", d);
	n = strlen(d);
	FUZZ_CHECK(!(n >= 3 && strcmp(d + n - 3, "/..") == 0) &&
	    !(n >= 2 && strcmp(d + n - 2, "/.") == 0), "decoded %s", d);
	free(d);
}
