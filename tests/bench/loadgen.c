/*
 * The benchmark's load generator: real XMPP clients (TCP, STARTTLS,
 * SCRAM-SHA-1, bind, session when required, initial presence) in one libev
 * loop, driving one scenario against one server and measuring the server's
 * CPU and memory from /proc. Output: one JSON line per figure on stdout,
 * a human summary on stderr. See docs/BENCHMARKS.md.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <inttypes.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <expat.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "bench.h"
#include "wsclient.h"

#define NS_SEP		'|'
#define TEXT_MAX	4096
#define ATTR_MAX	256
#define LOGIN_TIMEOUT	60.0
#define STALL_TIMEOUT	5.0

enum state {
	S_CONNECT, S_FEAT1, S_PROCEED, S_HANDSHAKE, S_FEAT2, S_CHAL, S_SUCC,
	S_FEAT3, S_BIND, S_SESS, S_READY, S_DEAD,
	S_UPGRADE,	/* web: the HTTP answer to the upgrade awaited */
	S_SASL2,	/* XEP-0388: the outcome of <authenticate/> */
	S_RESUME	/* reconnect-scram: the answer to <resume/> */
};

/* -T: how the client reaches the server */
enum transport {
	T_TCP,		/* RFC 6120, STARTTLS */
	T_WS,		/* RFC 7395 over TLS (wss:), at WS_PATH */
	T_BOSH		/* XEP-0124 and XEP-0206 over HTTPS, at BOSH_PATH */
};
#define BOSH_PATH	"/http-bind"
#define NS_BOSH		"http://jabber.org/protocol/httpbind"
#define NS_XBOSH	"urn:xmpp:xbosh"
/* bosh: the longest a request is held (XEP-0124 7.1), over the settle */
#define BOSH_WAIT	60
#define WS_PATH		"/xmpp-websocket"
#define NS_FRAMING	"urn:ietf:params:xml:ns:xmpp-framing"
#define HTTP_HDR_MAX	2048
#define WS_WRAPPER	"<w xmlns='jabber:client' " \
			"xmlns:stream='http://etherx.jabber.org/streams'>"

enum scen {
	SC_LOGIN, SC_IDLE, SC_MSG, SC_PRESENCE, SC_PEP, SC_HIBERNATE, SC_MUC,
	SC_RECONNECT
};

/* reconnect: how a client whose connection dropped comes back */
enum reconn {
	RC_FAST,	/* XEP-0388 with a FAST token, <resume/> inline */
	RC_SCRAM,	/* RFC 6120 SCRAM-SHA-1, then XEP-0198 <resume/> */
	RC_FULL		/* RFC 6120 SCRAM-SHA-1, bind, <enable/>: anew */
};

#define NS_SASL2	"urn:xmpp:sasl:2"
#define NS_FAST		"urn:xmpp:fast:0"
#define NS_BIND2	"urn:xmpp:bind:0"
/* fast: the token's mechanism (draft-schmaus-kitten-sasl-ht) */
#define FAST_MECH	"HT-SHA-256-NONE"
#define NS_CAPS		"http://jabber.org/protocol/caps"
#define NS_SM		"urn:xmpp:sm:3"
#define NS_CARBONS	"urn:xmpp:carbons:2"
#define NS_CSI		"urn:xmpp:csi:0"
#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_PUBSUB	"http://jabber.org/protocol/pubsub"
#define NS_MOOD		"http://jabber.org/protocol/mood"
#define NS_MUC		"http://jabber.org/protocol/muc"
/* pep: the caps node every client announces (XEP-0115 4) */
#define CAPS_NODE	"https://parley.invalid/bench"

struct user {
	uint8_t		 salt[64];
	size_t		 saltlen;
	unsigned	 iter;
	bool		 cached;
	uint8_t		 client_key[20];
	uint8_t		 stored_key[20];
	uint8_t		 server_key[20];
	/* fast: the account's token (XEP-0484) and its last count */
	char		*token;
	uint32_t	 count;
	/* reconnect: the session to resume (XEP-0198 5), what it handled */
	char		*previd;
	uint32_t	 h;
};

/*
 * bosh: the session's second HTTP connection (XEP-0124 11: with hold='1'
 * a client keeps one request at the server and sends the next beside
 * it). Requests alternate between the two, so that with several c2s
 * workers (SO_REUSEPORT) some reach a worker that does not hold the
 * session and are forwarded, as a browser's would be.
 */
enum bchan_state { BC_CONNECT, BC_TLS, BC_UP };
struct bchan {
	struct conn	*c;
	int		 fd;
	ev_io		 io;
	gnutls_session_t tls;
	enum bchan_state st;
	struct obuf	 out;
	struct obuf	 in;		/* the answer so far */
};

struct conn {
	int		 fd;
	ev_io		 io;
	enum state	 st;
	gnutls_session_t tls;
	bool		 tls_on;
	XML_Parser	 xp;
	bool		 restart;	/* reset the parser after this chunk */
	bool		 start_tls;	/* begin the handshake after this chunk */
	bool		 closing;
	uint32_t	 idx;		/* user index */
	struct obuf	 out;
	double		 t0;		/* connect time */
	/* SCRAM */
	char		 cnonce[32];
	char		*cfmb;		/* client-first-message-bare */
	uint8_t		 ssig[20];
	uint8_t		 ssig_fast[32];	/* fast: the token's answer */
	bool		 fast_used;
	/* XML */
	int		 depth;
	char		 sname[16];	/* stanza local name */
	char		 stype[16];
	char		 sid[ATTR_MAX];
	char		 sfrom[ATTR_MAX];
	bool		 f_starttls, f_mech, f_bind, f_sess, f_sess_opt;
	bool		 want_sess;	/* bind: a session IQ follows it */
	bool		 f_sasl2;	/* XEP-0388 offered */
	char		 fdata[64];	/* fast: additional-data, base64 */
	bool		 ping, in_status;
	bool		 in_ptext;	/* pep: a mood's <text/> is open */
	bool		 disco;		/* the iq holds a disco#info query */
	char		 dnode[ATTR_MAX];	/* ... and its node */
	bool		 serr;		/* a <stream:error> is open */
	char		 serr_cond[48];	/* its condition */
	char		 text[TEXT_MAX];
	size_t		 textlen;
	/* scenario */
	uint32_t	 inflight;	/* messages or presence updates */
	double		 last_progress;
	uint32_t	 seq;		/* messages or updates sent */
	uint32_t	 got;		/* ... received, once each, from peers */
	uint32_t	 peer_seq;	/* msg: the peer's last sequence number */
	/* XEP-0198: on once <enabled/> came; stanzas received since */
	bool		 sm_on;
	uint32_t	 sm_h;
	/* the <enabled/>, <resumed/> (alone or in <success/>) or <failed/>
	   of this stanza, and its id or previd */
	bool		 sm_got_enabled, sm_got_resumed, sm_got_failed;
	char		 smid[ATTR_MAX];
	/*
	 * reconnect: flights the client sent and then waited on an answer
	 * for: TCP's SYN and TLS's (net), XMPP's (xmpp)
	 */
	uint32_t	 rtt_net, rtt_xmpp;
	bool		 inactive;	/* csi: told the server so */
	uint64_t	 reads;		/* read(2)s that returned data */
	uint64_t	 rbytes;	/* bytes of XML read */
	uint64_t	 wakes;		/* readable events with data */
	/* web transports */
	struct ws_rx	 wsrx;
	bool		 upgraded;	/* the HTTP upgrade is done */
	char		 wskey[25];	/* Sec-WebSocket-Key */
	char		*hbuf;		/* the HTTP answer so far */
	size_t		 hlen;
	/*
	 * bosh: requests on channel 0 (this connection) and 1 (b2, for
	 * login and msg); each channel carries one request at a time
	 */
	struct obuf	 bin;		/* channel 0's answer so far */
	struct bchan	*b2;
	bool		 bbusy[2];	/* a request is out on the channel */
	bool		 bdone[2];	/* ... and its whole answer is in */
	size_t		 banslen[2];	/* the answer's header and body */
	size_t		 banshl[2];	/* ... its header */
	uint64_t	 brid[2];	/* ... the request's rid */
	int		 blast;		/* the channel used last */
	struct obuf	 bpend;		/* payload for the next request */
	char		 bsid[64];	/* the session's sid */
	uint64_t	 rid;
	bool		 brestart;	/* the next request restarts */
	bool		 joined;	/* muc: its self-presence came */
};

static struct {
	const char	*host;
	int		 port;
	const char	*domain;
	const char	*prefix;
	const char	*password;
	const char	*label;
	const char	*srcnet;	/* first three octets, e.g. 127.0.1 */
	enum scen	 scen;
	enum transport	 transport;
	const char	*scen_name;
	uint32_t	 n, conc, pool, idle, pairs, window, users, contacts;
	uint32_t	 first;		/* user number of index 0 */
	uint32_t	 jobs;		/* idle: processes holding sessions */
	double		 secs, warmup, settle;
	bool		 bare;
	bool		 no_verify;
	/* msg: -F sm,carbons (carbons: a second resource per user) */
	bool		 sm, carbons;
	bool		 joinstorm;	/* muc: one room, joins after login */
	bool		 fast;		/* login: with FAST tokens */
	enum reconn	 reconn;	/* reconnect: which way */
	uint32_t	 inactive;	/* presence: every Nth user is (csi) */
	int		 pids[16];
	int		 npids;
	FILE		*json;
} opt;

static struct ev_loop		*loop;
static gnutls_certificate_credentials_t xcred;
static gnutls_priority_t	 prio;
static struct user		*users;
static struct conn		**conns;	/* by user index (slot) */
static uint32_t			 nconns;
/* msg with carbons: conns[nprim + i] is user i's second resource */
static uint32_t			 nprim;
static uint32_t			 srcaddr;
static ev_timer			 tick;
static ev_timer			 phase_timer;

/* counters */
static uint64_t	 started, ready, failed, closed_early, delivered, sent;
static uint64_t	 errors_stanza, stalls, login_next, self_presence;
static uint64_t	 login_stream_errors;	/* logins ended by a stream error */
static uint64_t	 disco_answers;		/* pep: caps queries answered */
static uint64_t	 self_events;		/* pep: own events, not counted */
static uint64_t	 sm_enabled, sm_acks;	/* XEP-0198 */
/* reconnect: the round trips of the reconnects done */
static uint64_t	 rtt_net_sum, rtt_xmpp_sum;
static uint64_t	 carbons;		/* copies the second resources got */
static uint64_t	 inactive_got;		/* csi: deliveries to inactive ones */
/* deliveries that must never happen: to the wrong session, or twice */
static uint64_t	 misrouted, duplicates;
static struct samples	 lat_login, lat_deliv;
/* bosh: the HTTP requests sent, and when the measure began and ended */
static uint64_t	 bosh_posts, m_posts0, m_posts1;
static bool	 measuring;
static int	 phase;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static void conn_free(struct conn *);

/* the user (account number) of connection idx */
static uint32_t
user_of(uint32_t idx)
{
	return nprim > 0 && idx >= nprim ? idx - nprim : idx;
}

static void conn_flush(struct conn *);
static void reconnect_done(struct conn *);
static void scen_ready(struct conn *);
static void scen_stanza(struct conn *);
static void scen_closed(struct conn *);

/* ---- output ---------------------------------------------------------- */

static void
emit(const char *figure, double value, const char *unit)
{
	fprintf(opt.json, "{\"server\":\"%s\",\"scenario\":\"%s\","
	    "\"figure\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
	    opt.label, opt.scen_name, figure, value, unit);
	fflush(opt.json);
	fprintf(stderr, "  %-28s %14.6g %s\n", figure, value, unit);
}

/* a WebSocket mask (RFC 6455 5.3): for proxies, not secrecy; xorshift */
static void
ws_mask(uint8_t key[4])
{
	static uint32_t	x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	memcpy(key, &x, 4);
}

/*
 * RFC 7395 3.3.3: a message is an XML document of its own, so a stanza
 * names its namespace (Prosody drops an <iq/> without it); in BOSH
 * (XEP-0206 8) it would otherwise be in <body/>'s. The elements written
 * here without one get xmlns='jabber:client' after their name.
 */
static void
qualify(struct obuf *b)
{
	static const char	 q[] = " xmlns='jabber:client'";
	char			*gt, *name_end;
	size_t			 at;

	if (b->len < 2 || b->data[0] != '<' || b->data[1] == '/')
		return;
	obuf_reserve(b, sizeof(q));
	b->data[b->len] = '\0';
	if ((gt = strchr(b->data, '>')) == NULL)
		return;
	*gt = '\0';
	if (strstr(b->data, "xmlns=") != NULL) {
		*gt = '>';
		return;
	}
	*gt = '>';
	name_end = b->data + 1 + strcspn(b->data + 1, " />");
	at = (size_t)(name_end - b->data);
	memmove(b->data + at + sizeof(q) - 1, b->data + at, b->len - at);
	memcpy(b->data + at, q, sizeof(q) - 1);
	b->len += sizeof(q) - 1;
}

/*
 * One XML element (or several, over TCP). Over WebSocket and BOSH each
 * call is one element, qualified; over WebSocket it is one message: RFC 7395 3.3.3 wants every element in its own, so no
 * caller of a web session writes two at once.
 */
static void
conn_printf(struct conn *c, const char *fmt, ...)
{
	static struct obuf	 tmp;
	va_list			 ap;
	uint8_t			 key[4];

	va_start(ap, fmt);
	if (opt.transport == T_BOSH) {
		tmp.len = tmp.off = 0;
		obuf_vprintf(&tmp, fmt, ap);
		qualify(&tmp);
		obuf_append(&c->bpend, tmp.data, tmp.len);
	} else if (c->upgraded) {
		tmp.len = tmp.off = 0;
		obuf_vprintf(&tmp, fmt, ap);
		qualify(&tmp);
		ws_mask(key);
		ws_frame(&c->out, WS_TEXT, tmp.data, tmp.len, key);
	} else
		obuf_vprintf(&c->out, fmt, ap);
	va_end(ap);
}

static void
xml_escape_into(char *dst, size_t cap, const char *src)
{
	size_t	i = 0;

	for (; *src && i + 7 < cap; src++) {
		switch (*src) {
		case '<': memcpy(dst + i, "&lt;", 4); i += 4; break;
		case '&': memcpy(dst + i, "&amp;", 5); i += 5; break;
		case '\'': memcpy(dst + i, "&apos;", 6); i += 6; break;
		default: dst[i++] = *src;
		}
	}
	dst[i] = '\0';
}

/* ---- connection I/O ---------------------------------------------------- */

static void
conn_events(struct conn *c)
{
	int	ev = EV_READ;

	if (c->st == S_CONNECT || c->out.len > c->out.off)
		ev |= EV_WRITE;
	if (c->st == S_HANDSHAKE)
		ev = gnutls_record_get_direction(c->tls) ? EV_WRITE : EV_READ;
	if ((c->io.events & (EV_READ | EV_WRITE)) != ev) {
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, ev);
		ev_io_start(loop, &c->io);
	}
	if (c->b2 == NULL)
		return;
	if (c->b2->st == BC_CONNECT)
		ev = EV_WRITE;
	else if (c->b2->st == BC_TLS)
		ev = gnutls_record_get_direction(c->b2->tls) ? EV_WRITE :
		    EV_READ;
	else
		ev = EV_READ | (c->b2->out.len > c->b2->out.off ? EV_WRITE :
		    0);
	if ((c->b2->io.events & (EV_READ | EV_WRITE)) != ev) {
		ev_io_stop(loop, &c->b2->io);
		ev_io_set(&c->b2->io, c->b2->fd, ev);
		ev_io_start(loop, &c->b2->io);
	}
}

static void
conn_fail(struct conn *c, const char *why)
{
	if (c->st == S_DEAD)
		return;
	if (c->st != S_READY) {
		failed++;
		if (failed <= 5)
			fprintf(stderr, "loadgen: login of %s%u failed: %s\n",
			    opt.prefix, c->idx, why);
	} else if (!c->closing) {
		closed_early++;
		if (closed_early <= 5)
			fprintf(stderr, "loadgen: session %s%u lost: %s\n",
			    opt.prefix, c->idx, why);
	}
	c->st = S_DEAD;
	scen_closed(c);
}

static void
stream_header(struct conn *c)
{
	if (opt.transport == T_BOSH) {
		/* XEP-0206 5: a restart is an attribute of a request */
		c->brestart = true;
		return;
	}
	if (c->upgraded) {
		/* RFC 7395 3.4 */
		conn_printf(c, "<open xmlns='" NS_FRAMING "' to='%s' "
		    "version='1.0'/>", opt.domain);
		return;
	}
	c->rtt_xmpp++;		/* the features are awaited */
	conn_printf(c, "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' "
	    "to='%s' version='1.0'>", opt.domain);
}

static void xml_start(void *, const XML_Char *, const XML_Char **);
static void bosh_request(struct conn *);
static void xml_end(void *, const XML_Char *);
static void xml_text(void *, const XML_Char *, int);

static void
parser_setup(struct conn *c)
{
	if (c->xp == NULL)
		c->xp = XML_ParserCreateNS(NULL, NS_SEP);
	else
		XML_ParserReset(c->xp, NULL);
	if (c->xp == NULL)
		fatal_exit("XML_ParserCreateNS");
	XML_SetUserData(c->xp, c);
	XML_SetElementHandler(c->xp, xml_start, xml_end);
	XML_SetCharacterDataHandler(c->xp, xml_text);
	c->depth = 0;
	/*
	 * RFC 7395: each message is one element, with no stream around
	 * them; a wrapper of our own puts them at the depth of stanzas
	 * (the server's <open/> and <close/> are then stanzas: on_stanza)
	 */
	if (c->upgraded && XML_Parse(c->xp, WS_WRAPPER,
	    (int)strlen(WS_WRAPPER), 0) != XML_STATUS_OK)
		fatal_exit("XML_Parse of the wrapper");
}

static void ob_printf(struct obuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	obuf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* bosh: login and msg keep two requests (XEP-0124 11); idle only one */
static bool
bosh_two(void)
{
	return opt.scen != SC_IDLE;
}

static int	conn_socket(void);
static void	bchan_io_cb(struct ev_loop *, ev_io *, int);

/* bosh: the second connection, opened when its first request is due */
static void
bchan_open(struct conn *c)
{
	struct bchan	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal_exit("calloc");
	b->c = c;
	b->st = BC_CONNECT;
	if ((b->fd = conn_socket()) == -1)
		fatal_exit("connect: %s", strerror(errno));
	ev_io_init(&b->io, bchan_io_cb, b->fd, EV_WRITE);
	ev_io_start(loop, &b->io);
	c->b2 = b;
}

/* a connection's watcher, TLS session and socket */
static void
sock_close(ev_io *io, gnutls_session_t tls, int fd)
{
	ev_io_stop(loop, io);
	if (tls != NULL)
		gnutls_deinit(tls);
	close(fd);
}

static void
bchan_free(struct bchan *b)
{
	sock_close(&b->io, b->tls, b->fd);
	free(b->out.data);
	free(b->in.data);
	free(b);
}

/* bosh: one POST of body on channel ch */
static void
bosh_post(struct conn *c, int ch, const struct obuf *body)
{
	struct obuf	*out = &c->out;

	if (ch == 1) {
		if (c->b2 == NULL)
			bchan_open(c);
		out = &c->b2->out;
	}
	ob_printf(out, "POST " BOSH_PATH " HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: text/xml; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n\r\n", opt.domain, body->len);
	obuf_append(out, body->data, body->len);
	bosh_posts++;
}

/*
 * bosh: the channel for the next request: the other one than last time
 * when it is free (two requests), else channel 0; -1 if none may go
 */
static int
bosh_channel(struct conn *c)
{
	int	n = c->bbusy[0] + c->bbusy[1];

	if (!bosh_two())
		return n == 0 ? 0 : -1;
	if (n == 2 || (n == 1 && c->bsid[0] == '\0'))
		return -1;
	return c->bbusy[1 - c->blast] ? c->blast : 1 - c->blast;
}

/*
 * bosh: a POST when one may go: the first creates the session (XEP-0124
 * 7.1, XEP-0206 4), the others carry what conn_printf queued, or
 * nothing when no request is at the server: one for it to hold, so that
 * it can send. A second request goes only with something in it.
 */
static void
bosh_request(struct conn *c)
{
	static struct obuf	b;
	int			ch;
	bool			empty;

	if (c->st == S_DEAD || c->st == S_CONNECT || c->st == S_HANDSHAKE ||
	    c->closing || (ch = bosh_channel(c)) == -1)
		return;
	empty = c->bpend.len == c->bpend.off && !c->brestart;
	if (empty && (c->bbusy[0] || c->bbusy[1]))
		return;
	b.len = b.off = 0;
	if (c->bsid[0] == '\0')
		ob_printf(&b, "<body xmlns='" NS_BOSH "' rid='%" PRIu64 "' "
		    "to='%s' xml:lang='en' wait='%d' hold='1' ver='1.6' "
		    "xmpp:version='1.0' xmlns:xmpp='" NS_XBOSH "'/>", c->rid,
		    opt.domain, BOSH_WAIT);
	else {
		ob_printf(&b, "<body xmlns='" NS_BOSH "' rid='%" PRIu64 "' "
		    "sid='%s'", c->rid, c->bsid);
		if (c->brestart)
			ob_printf(&b, " to='%s' xml:lang='en' "
			    "xmpp:restart='true' xmlns:xmpp='" NS_XBOSH "'",
			    opt.domain);
		c->brestart = false;
		ob_printf(&b, ">");
		obuf_append(&b, c->bpend.data + c->bpend.off,
		    c->bpend.len - c->bpend.off);
		ob_printf(&b, "</body>");
		c->bpend.len = c->bpend.off = 0;
	}
	c->bbusy[ch] = true;
	c->bdone[ch] = false;
	c->brid[ch] = c->rid++;
	c->blast = ch;
	bosh_post(c, ch, &b);
}

/*
 * bosh: the end, with what is still queued (a login's presence) in it,
 * on a free channel (pipelined behind the held request if none is)
 */
static void
bosh_terminate(struct conn *c)
{
	static struct obuf	b;
	int			ch = 0;

	if (c->bbusy[0] && c->b2 != NULL && c->b2->st == BC_UP &&
	    !c->bbusy[1])
		ch = 1;
	b.len = b.off = 0;
	ob_printf(&b, "<body xmlns='" NS_BOSH "' rid='%" PRIu64 "' "
	    "sid='%s' type='terminate'>", c->rid++, c->bsid);
	obuf_append(&b, c->bpend.data + c->bpend.off,
	    c->bpend.len - c->bpend.off);
	ob_printf(&b, "</body>");
	c->bpend.len = c->bpend.off = 0;
	bosh_post(c, ch, &b);
}

/* RFC 6455 4.1: the opening handshake, on the TLS connection */
static void
ws_upgrade(struct conn *c)
{
	uint8_t	rnd[16];

	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd));
	b64_encode(rnd, sizeof(rnd), c->wskey, sizeof(c->wskey));
	conn_printf(c, "GET " WS_PATH " HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: xmpp\r\n\r\n", opt.domain, c->wskey);
	c->st = S_UPGRADE;
}

/* a TLS client session on fd, for opt.domain, its handshake to come */
static gnutls_session_t
tls_client(int fd)
{
	gnutls_session_t	tls;
	int			rc;

	if ((rc = gnutls_init(&tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0)
		fatal_exit("gnutls_init: %s", gnutls_strerror(rc));
	gnutls_priority_set(tls, prio);
	gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, xcred);
	gnutls_server_name_set(tls, GNUTLS_NAME_DNS, opt.domain,
	    strlen(opt.domain));
	gnutls_transport_set_int(tls, fd);
	return tls;
}

static void
tls_begin(struct conn *c)
{
	c->tls = tls_client(c->fd);
	c->st = S_HANDSHAKE;
}

/* 0 once the connection under way on fd is up, else its errno */
static int
connect_error(int fd)
{
	int		err = 0;
	socklen_t	sl = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		return errno;
	return err;
}

static int
tls_handshake(struct conn *c)
{
	int	rc = gnutls_handshake(c->tls);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return 0;
	if (rc < 0) {
		conn_fail(c, gnutls_strerror(rc));
		return -1;
	}
	c->tls_on = true;
	/* TLS 1.3's full handshake is one round trip, 1.2's two */
	c->rtt_net += gnutls_protocol_get_version(c->tls) == GNUTLS_TLS1_3 ?
	    1 : 2;
	if (opt.transport == T_WS) {
		ws_upgrade(c);
		return 0;
	}
	if (opt.transport == T_BOSH) {
		c->st = S_FEAT2;
		c->rid = 1000 + (uint64_t)c->idx * 7;
		bosh_request(c);
		return 0;
	}
	c->st = S_FEAT2;
	parser_setup(c);
	stream_header(c);
	return 0;
}

static int
conn_feed(struct conn *c, const char *p, size_t n)
{
	if (XML_Parse(c->xp, p, (int)n, 0) == XML_STATUS_ERROR) {
		conn_fail(c, XML_ErrorString(XML_GetErrorCode(c->xp)));
		return -1;
	}
	if (c->st == S_DEAD)
		return -1;
	if (c->restart) {
		c->restart = false;
		parser_setup(c);
	}
	if (c->start_tls) {
		c->start_tls = false;
		tls_begin(c);
		if (tls_handshake(c) == -1)
			return -1;
	}
	return 0;
}

/* a piece of the server's WebSocket stream (wsclient.h's ws_cb) */
static int
ws_in(void *arg, int op, const char *p, size_t n, bool end)
{
	struct conn	*c = arg;
	uint8_t		 key[4];

	(void)end;
	switch (op) {
	case WS_TEXT:
		return conn_feed(c, p, n);
	case WS_PING:
		ws_mask(key);
		ws_frame(&c->out, WS_PONG, p, n, key);
		return 0;
	case WS_PONG:
		return 0;
	case WS_CLOSE:
		conn_fail(c, "WebSocket closed by server");
		return -1;
	default:
		/* RFC 7395 3.2: text only */
		conn_fail(c, "binary WebSocket message");
		return -1;
	}
}

/* does the header block h hold name: value (case-insensitive name)? */
static bool
http_has(const char *h, const char *name, const char *value)
{
	const char	*p = h;
	size_t		 nl = strlen(name);

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		p += nl + 1;
		while (*p == ' ')
			p++;
		return strncasecmp(p, value, strlen(value)) == 0;
	}
	return false;
}

/* the answer to ws_upgrade: 101 and the right accept key (4.2.2) */
static int
ws_upgraded(struct conn *c, const char *p, size_t n)
{
	char		*end, acc[29];
	const char	*why;
	size_t		 used, k;

	k = n < HTTP_HDR_MAX - c->hlen ? n : HTTP_HDR_MAX - c->hlen;
	if ((c->hbuf == NULL && (c->hbuf = malloc(HTTP_HDR_MAX + 1)) ==
	    NULL))
		fatal_exit("malloc");
	memcpy(c->hbuf + c->hlen, p, k);
	c->hlen += k;
	c->hbuf[c->hlen] = '\0';
	if ((end = strstr(c->hbuf, "\r\n\r\n")) == NULL) {
		if (c->hlen == HTTP_HDR_MAX) {
			conn_fail(c, "HTTP answer too long");
			return -1;
		}
		return 0;
	}
	end[2] = '\0';
	ws_accept(c->wskey, acc);
	if (strncmp(c->hbuf, "HTTP/1.1 101", 12) != 0 ||
	    !http_has(c->hbuf, "Sec-WebSocket-Accept", acc) ||
	    !http_has(c->hbuf, "Sec-WebSocket-Protocol", "xmpp")) {
		conn_fail(c, "WebSocket upgrade refused");
		return -1;
	}
	/* what followed the header block, from this read */
	used = (size_t)(end + 4 - c->hbuf) - (c->hlen - k);
	free(c->hbuf);
	c->hbuf = NULL;
	c->upgraded = true;
	c->st = S_FEAT2;
	parser_setup(c);
	stream_header(c);
	if (used < n && ws_rx_feed(&c->wsrx, p + used, n - used, ws_in, c,
	    &why) == -1) {
		if (why != NULL)
			conn_fail(c, why);
		return -1;
	}
	return 0;
}

/*
 * bosh: an HTTP answer (200, a Content-Length, no chunks: the servers
 * here send that) holds one <body/>; its children are the stanzas, at
 * the depth of a stream's. Answers are read in rid order (XEP-0124 9.1:
 * the client processes them so), whichever channel brought them first;
 * then the next request goes.
 */
static int
bosh_input(struct conn *c, int ch, const char *p, size_t n)
{
	struct obuf	*in = ch == 0 ? &c->bin : &c->b2->in;
	char		*h, *end, *cl;
	size_t		 hl, blen;
	int		 k;

	obuf_append(in, p, n);
	if (!c->bbusy[ch] || c->bdone[ch]) {
		conn_fail(c, "BOSH answer without a request");
		return -1;
	}
	obuf_reserve(in, 1);
	h = in->data + in->off;
	h[in->len - in->off] = '\0';
	if ((end = strstr(h, "\r\n\r\n")) == NULL) {
		if (in->len - in->off > HTTP_HDR_MAX) {
			conn_fail(c, "HTTP answer too long");
			return -1;
		}
		return 0;
	}
	hl = (size_t)(end + 4 - h);
	if (strncmp(h, "HTTP/1.1 200", 12) != 0) {
		conn_fail(c, "BOSH request refused");
		return -1;
	}
	if ((cl = strcasestr(h, "\ncontent-length:")) == NULL || cl > end) {
		conn_fail(c, "BOSH answer without Content-Length");
		return -1;
	}
	blen = strtoul(cl + 16, NULL, 10);
	if (in->len - in->off < hl + blen)
		return 0;
	c->bdone[ch] = true;
	c->banshl[ch] = hl;
	c->banslen[ch] = hl + blen;
	/* the lower rid first: both channels' answers, in order */
	for (;;) {
		k = c->bbusy[0] && (!c->bbusy[1] || c->brid[0] < c->brid[1]) ?
		    0 : 1;
		if (!c->bbusy[k] || !c->bdone[k])
			break;
		in = k == 0 ? &c->bin : &c->b2->in;
		h = in->data + in->off;
		parser_setup(c);
		if (conn_feed(c, h + c->banshl[k], c->banslen[k] -
		    c->banshl[k]) == -1)
			return -1;
		in->off += c->banslen[k];
		if (in->off == in->len)
			in->off = in->len = 0;
		c->bbusy[k] = c->bdone[k] = false;
		if (c->st == S_DEAD)
			return -1;
	}
	bosh_request(c);
	return 0;
}

/* what the server sent, by transport */
static int
conn_input(struct conn *c, const char *p, size_t n)
{
	const char	*why;

	if (opt.transport == T_BOSH)
		return bosh_input(c, 0, p, n);
	if (c->st == S_UPGRADE)
		return ws_upgraded(c, p, n);
	if (!c->upgraded)
		return conn_feed(c, p, n);
	if (ws_rx_feed(&c->wsrx, p, n, ws_in, c, &why) == -1) {
		if (why != NULL)
			conn_fail(c, why);
		return -1;
	}
	return 0;
}

static void
conn_read(struct conn *c)
{
	char	buf[16384];
	ssize_t	n;
	int	i;

	for (i = 0; i < 8 && c->st != S_DEAD; i++) {
		if (c->st == S_HANDSHAKE) {
			(void)tls_handshake(c);
			return;
		}
		if (c->tls_on) {
			n = gnutls_record_recv(c->tls, buf, sizeof(buf));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				return;
			if (n < 0) {
				conn_fail(c, gnutls_strerror((int)n));
				return;
			}
		} else {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n == -1) {
				conn_fail(c, strerror(errno));
				return;
			}
		}
		if (n == 0) {
			conn_fail(c, "closed by server");
			return;
		}
		/* a TLS record each: one write of the server, mostly */
		c->reads++;
		c->rbytes += (uint64_t)n;
		if (i == 0)
			c->wakes++;
		if (conn_input(c, buf, (size_t)n) == -1)
			return;
		if (c->tls_on && c->st != S_HANDSHAKE &&
		    gnutls_record_check_pending(c->tls) > 0)
			i--;
	}
}

static void
conn_flush(struct conn *c)
{
	const char	*why;

	if (c->st == S_DEAD || c->st == S_CONNECT || c->st == S_HANDSHAKE)
		return;
	if (opt.transport == T_BOSH)
		bosh_request(c);
	if (obuf_send(&c->out, c->fd, c->tls_on ? c->tls : NULL, &why) == -1)
		conn_fail(c, why);
	else if (c->b2 != NULL && c->b2->st == BC_UP &&
	    obuf_send(&c->b2->out, c->b2->fd, c->b2->tls, &why) == -1)
		conn_fail(c, why);
}

/*
 * after an event on one of c's connections: what is queued goes out
 * (nothing before the handshake is done), then c waits or is freed
 */
static void
conn_after_io(struct conn *c)
{
	if (c->st != S_DEAD)
		conn_flush(c);
	if (c->st == S_DEAD)
		conn_free(c);
	else
		conn_events(c);
}

/* bosh: the second connection's events (bchan_open) */
static void
bchan_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct bchan	*b = (struct bchan *)((char *)w -
	    offsetof(struct bchan, io));
	struct conn	*c = b->c;
	char		 buf[16384];
	ssize_t		 n;
	int		 err, rc, i;

	(void)l;
	if (b->st == BC_CONNECT) {
		if ((err = connect_error(b->fd)) != 0) {
			conn_fail(c, strerror(err));
			goto out;
		}
		b->tls = tls_client(b->fd);
		b->st = BC_TLS;
	}
	if (b->st == BC_TLS) {
		rc = gnutls_handshake(b->tls);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			goto out;
		if (rc < 0) {
			conn_fail(c, gnutls_strerror(rc));
			goto out;
		}
		b->st = BC_UP;
	}
	for (i = 0; i < 8 && (revents & EV_READ) && c->st != S_DEAD; i++) {
		n = gnutls_record_recv(b->tls, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			break;
		if (n <= 0) {
			conn_fail(c, n == 0 ? "closed by server" :
			    gnutls_strerror((int)n));
			break;
		}
		c->reads++;
		c->rbytes += (uint64_t)n;
		if (bosh_input(c, 1, buf, (size_t)n) == -1)
			break;
		if (gnutls_record_check_pending(b->tls) > 0)
			i--;
	}
out:
	conn_after_io(c);
}

static void
conn_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn	*c = (struct conn *)((char *)w -
	    offsetof(struct conn, io));
	int		 err;

	(void)l;
	if (c->st == S_CONNECT) {
		if ((err = connect_error(c->fd)) != 0) {
			conn_fail(c, strerror(err));
			goto out;
		}
		if (opt.transport != T_TCP) {
			/* wss: and https: TLS first, then HTTP */
			tls_begin(c);
			(void)tls_handshake(c);
			goto out;
		}
		c->st = S_FEAT1;
		stream_header(c);
	} else if (c->st == S_HANDSHAKE) {
		if (tls_handshake(c) == -1)
			goto out;
	} else if (revents & EV_READ)
		conn_read(c);
out:
	conn_after_io(c);
}

/* a TCP connection to the server, under way; -1 with errno */
static int
conn_socket(void)
{
	static uint32_t		 nsock;
	struct sockaddr_in	 src, dst;
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal_exit("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	/* rotate the last octet over 1..254: 254 x 28k ports */
	src.sin_addr.s_addr = srcaddr | htonl(1 + (nsock++ % 254));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		fatal_exit("bind: %s", strerror(errno));
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &dst.sin_addr) != 1)
		fatal_exit("bad host %s", opt.host);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct conn *
conn_new(uint32_t idx)
{
	struct conn		*c;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		fatal_exit("calloc");
	c->idx = idx;
	c->t0 = now();
	started++;
	c->st = S_CONNECT;
	c->rtt_net = 1;		/* SYN, SYN-ACK */
	if ((c->fd = conn_socket()) == -1) {
		fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
		c->st = S_DEAD;
		failed++;
		free(c);
		return NULL;
	}
	ev_io_init(&c->io, conn_io_cb, c->fd, EV_WRITE);
	ev_io_start(loop, &c->io);
	parser_setup(c);
	return c;
}

static void
conn_free(struct conn *c)
{
	sock_close(&c->io, c->tls, c->fd);
	if (c->xp != NULL)
		XML_ParserFree(c->xp);
	free(c->cfmb);
	free(c->hbuf);
	free(c->bin.data);
	free(c->bpend.data);
	free(c->out.data);
	if (c->b2 != NULL)
		bchan_free(c->b2);
	if (c->idx < nconns && conns[c->idx] == c)
		conns[c->idx] = NULL;
	free(c);
}

/* graceful end: close the stream and the socket */
static void
conn_close(struct conn *c)
{
	c->closing = true;
	if (opt.transport == T_BOSH) {
		/* XEP-0124 13: a request of its own, beside the held one */
		if (c->bsid[0] != '\0')
			bosh_terminate(c);
	} else if (c->upgraded)
		conn_printf(c, "<close xmlns='" NS_FRAMING "'/>");
	else
		conn_printf(c, "</stream:stream>");
	conn_flush(c);
	c->st = S_DEAD;
	conn_free(c);
}

/* ---- SCRAM-SHA-1 (RFC 5802) ------------------------------------------- */

static void
sasl_start(struct conn *c)
{
	uint8_t	rnd[18];
	char	b64[512];

	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd));
	b64_encode(rnd, sizeof(rnd), c->cnonce, sizeof(c->cnonce));
	free(c->cfmb);
	if (asprintf(&c->cfmb, "n=%s%u,r=%s", opt.prefix,
	    opt.first + user_of(c->idx), c->cnonce) == -1)
		fatal_exit("asprintf");
	{
		char	first[300];

		snprintf(first, sizeof(first), "n,,%s", c->cfmb);
		b64_encode((const uint8_t *)first, strlen(first), b64,
		    sizeof(b64));
	}
	conn_printf(c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='SCRAM-SHA-1'>%s</auth>", b64);
	c->rtt_xmpp++;
	c->st = S_CHAL;
}

static bool
user_has_key(const struct user *u, const uint8_t *salt, size_t saltlen,
    unsigned iter)
{
	return u->cached && u->iter == iter && u->saltlen == saltlen &&
	    memcmp(u->salt, salt, saltlen) == 0;
}

static void
sasl_challenge(struct conn *c)
{
	char		 sfm[1024], final[1200], b64[2048];
	uint8_t		 salted[20], csig[20], proof[20], salt[64];
	const char	*r = NULL, *s = NULL, *i = NULL;
	char		*p, *tok, *save = NULL, copy[1024];
	struct user	*u = &users[c->idx];
	static struct user last;	/* the latest derivation */
	size_t		 n, saltlen, k;
	unsigned	 iter;
	gnutls_datum_t	 key, sd;

	n = b64_decode(c->text, (uint8_t *)sfm, sizeof(sfm) - 1);
	if (n == (size_t)-1) {
		conn_fail(c, "bad base64 in challenge");
		return;
	}
	sfm[n] = '\0';
	memcpy(copy, sfm, n + 1);
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (strncmp(tok, "r=", 2) == 0)
			r = tok + 2;
		else if (strncmp(tok, "s=", 2) == 0)
			s = tok + 2;
		else if (strncmp(tok, "i=", 2) == 0)
			i = tok + 2;
	}
	if (r == NULL || s == NULL || i == NULL ||
	    strncmp(r, c->cnonce, strlen(c->cnonce)) != 0) {
		conn_fail(c, "bad server-first-message");
		return;
	}
	saltlen = b64_decode(s, salt, sizeof(salt));
	iter = (unsigned)strtoul(i, NULL, 10);
	if (saltlen == (size_t)-1 || iter == 0) {
		conn_fail(c, "bad salt or iteration count");
		return;
	}
	/*
	 * A real client keeps the salted password per account. Every
	 * account here has the same password, so the latest derivation
	 * serves any account with the same salt and count too: that only
	 * saves the generator's CPU, the server's work is the same.
	 */
	if (!user_has_key(u, salt, saltlen, iter) &&
	    user_has_key(&last, salt, saltlen, iter))
		*u = last;
	if (!user_has_key(u, salt, saltlen, iter)) {
		key.data = (unsigned char *)opt.password;
		key.size = (unsigned)strlen(opt.password);
		sd.data = salt;
		sd.size = (unsigned)saltlen;
		if (gnutls_pbkdf2(GNUTLS_MAC_SHA1, &key, &sd, iter, salted,
		    sizeof(salted)) < 0)
			fatal_exit("gnutls_pbkdf2");
		gnutls_hmac_fast(GNUTLS_MAC_SHA1, salted, 20, "Client Key",
		    10, u->client_key);
		gnutls_hash_fast(GNUTLS_DIG_SHA1, u->client_key, 20,
		    u->stored_key);
		gnutls_hmac_fast(GNUTLS_MAC_SHA1, salted, 20, "Server Key",
		    10, u->server_key);
		memcpy(u->salt, salt, saltlen);
		u->saltlen = saltlen;
		u->iter = iter;
		u->cached = true;
		last = *u;
	}
	/* AuthMessage = client-first-bare "," server-first "," final-no-proof */
	snprintf(final, sizeof(final), "%s,%s,c=biws,r=%s", c->cfmb, sfm, r);
	gnutls_hmac_fast(GNUTLS_MAC_SHA1, u->stored_key, 20, final,
	    strlen(final), csig);
	gnutls_hmac_fast(GNUTLS_MAC_SHA1, u->server_key, 20, final,
	    strlen(final), c->ssig);
	for (k = 0; k < 20; k++)
		proof[k] = u->client_key[k] ^ csig[k];
	n = (size_t)snprintf(final, sizeof(final), "c=biws,r=%s,p=", r);
	b64_encode(proof, 20, final + n, sizeof(final) - n);
	b64_encode((const uint8_t *)final, strlen(final), b64, sizeof(b64));
	conn_printf(c, "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
	    "%s</response>", b64);
	c->rtt_xmpp++;
	c->st = S_SUCC;
}

static int
sasl_success(struct conn *c)
{
	char	sfinal[256], want[64];
	size_t	n;

	if (opt.no_verify)
		return 0;
	n = b64_decode(c->text, (uint8_t *)sfinal, sizeof(sfinal) - 1);
	if (n == (size_t)-1)
		return -1;
	sfinal[n] = '\0';
	memcpy(want, "v=", 2);
	b64_encode(c->ssig, 20, want + 2, sizeof(want) - 2);
	return strcmp(sfinal, want) == 0 ? 0 : -1;
}

/* ---- XEP-0388 and FAST (XEP-0484) -------------------------------------- */

/*
 * fast: a user without a token logs in with PLAIN and asks for one
 * (XEP-0484 3.2), one with a token uses it with a count that only goes up
 * (3.4): authcid NUL HMAC-SHA-256(token, "Initiator"), no channel
 * binding. The device is a UUID of the user's number (RFC 4122 4.4's
 * version and variant bits): one per account, as a phone's.
 */
static void
sasl2_start(struct conn *c)
{
	struct user	*u = &users[c->idx];
	char		 ir[512], b64[1024], name[64];
	uint8_t		 mac[32];
	size_t		 n;

	snprintf(name, sizeof(name), "%s%u", opt.prefix,
	    opt.first + user_of(c->idx));
	c->fast_used = u->token != NULL;
	c->st = S_SASL2;
	c->rtt_xmpp++;
	if (u->token == NULL) {
		n = (size_t)snprintf(ir, sizeof(ir), "%c%s%c%s", 0, name, 0,
		    opt.password);
		b64_encode((uint8_t *)ir, n, b64, sizeof(b64));
		conn_printf(c, "<authenticate xmlns='" NS_SASL2 "' "
		    "mechanism='PLAIN'><initial-response>%s"
		    "</initial-response><user-agent id='00000000-0000-4000-"
		    "8000-%012x'><software>bench</software></user-agent>"
		    "<request-token xmlns='" NS_FAST "' mechanism='"
		    FAST_MECH "'/></authenticate>", b64, user_of(c->idx));
		return;
	}
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, u->token, strlen(u->token),
	    "Initiator", 9, mac);
	n = (size_t)snprintf(ir, sizeof(ir), "%s", name) + 1;
	memcpy(ir + n, mac, sizeof(mac));
	b64_encode((uint8_t *)ir, n + sizeof(mac), b64, sizeof(b64));
	conn_printf(c, "<authenticate xmlns='" NS_SASL2 "' "
	    "mechanism='" FAST_MECH "'><initial-response>%s"
	    "</initial-response><user-agent id='00000000-0000-4000-"
	    "8000-%012x'><software>bench</software></user-agent>"
	    "<fast xmlns='" NS_FAST "' count='%u'/>",
	    b64, user_of(c->idx), ++u->count);
	/*
	 * reconnect: the session resumed in the same round trip (XEP-0198
	 * with XEP-0388), and Bind2 (XEP-0386) with stream management on
	 * if it cannot be, as a client sends them
	 */
	if (opt.scen == SC_RECONNECT && u->previd != NULL)
		conn_printf(c, "<resume xmlns='" NS_SM "' previd='%s' "
		    "h='%u'/><bind xmlns='" NS_BIND2 "'><tag>bench</tag>"
		    "<enable xmlns='" NS_SM "' resume='true'/></bind>",
		    u->previd, u->h);
	conn_printf(c, "</authenticate>");
	/* what the server's answer must be (the token may rotate) */
	gnutls_hmac_fast(GNUTLS_MAC_SHA256, u->token, strlen(u->token),
	    "Responder", 9, c->ssig_fast);
}

/* a token login's success carries HMAC(token, "Responder") */
static int
sasl2_success(struct conn *c)
{
	uint8_t	got[48];

	if (!c->fast_used || opt.no_verify)
		return 0;
	if (b64_decode(c->fdata, got, sizeof(got)) != 32 ||
	    memcmp(got, c->ssig_fast, 32) != 0)
		return -1;
	return 0;
}

/* ---- entity capabilities (XEP-0115) ---------------------------------- */

/*
 * pep: every client has the same identity and features, announces their
 * verification string in its presence and answers the server's
 * disco#info query for CAPS_NODE#ver with them. The features are sorted
 * (XEP-0115 5.1 step 4) and include mood+notify (XEP-0163 4), so the
 * server sends the contacts' moods.
 */
#define CAPS_CATEGORY	"client"
#define CAPS_TYPE	"pc"
#define CAPS_NAME	"Parley bench"

static const char	*caps_features[] = {
	NS_CAPS,
	NS_DISCO_INFO,
	NS_MOOD,
	NS_MOOD "+notify",
	"urn:xmpp:ping",
};
#define CAPS_NFEATURES	(sizeof(caps_features) / sizeof(caps_features[0]))

static char	caps_ver[32];		/* base64 of a SHA-1: 28 characters */

/* XEP-0115 5.1: S = identity "<" features each followed by "<" */
static void
caps_setup(void)
{
	struct obuf	s = { 0 };
	uint8_t		dig[20];
	size_t		i;

	obuf_append(&s, CAPS_CATEGORY "/" CAPS_TYPE "//" CAPS_NAME "<",
	    strlen(CAPS_CATEGORY "/" CAPS_TYPE "//" CAPS_NAME "<"));
	for (i = 0; i < CAPS_NFEATURES; i++) {
		if (i > 0 && strcmp(caps_features[i - 1],
		    caps_features[i]) >= 0)
			fatal_exit("caps features not sorted");
		obuf_append(&s, caps_features[i], strlen(caps_features[i]));
		obuf_append(&s, "<", 1);
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, s.data, s.len, dig) < 0)
		fatal_exit("gnutls_hash_fast");
	b64_encode(dig, sizeof(dig), caps_ver, sizeof(caps_ver));
	free(s.data);
}

/*
 * The answer to a disco#info query (XEP-0115 6.2): for CAPS_NODE#ver, or
 * no node, the features; any other node is not ours.
 */
static void
caps_answer(struct conn *c, const char *id, const char *to)
{
	char	node[ATTR_MAX * 6 + 1];
	size_t	i;

	xml_escape_into(node, sizeof(node), c->dnode);
	if (c->dnode[0] != '\0' &&
	    (strncmp(c->dnode, CAPS_NODE "#", strlen(CAPS_NODE "#")) != 0 ||
	    strcmp(c->dnode + strlen(CAPS_NODE "#"), caps_ver) != 0)) {
		conn_printf(c, "<iq type='error' id='%s'%s%s%s><error "
		    "type='cancel'><item-not-found xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-stanzas'/></error></iq>", id,
		    *to ? " to='" : "", to, *to ? "'" : "");
		return;
	}
	disco_answers++;
	conn_printf(c, "<iq type='result' id='%s'%s%s%s><query xmlns='"
	    NS_DISCO_INFO "'%s%s%s><identity category='" CAPS_CATEGORY
	    "' type='" CAPS_TYPE "' name='" CAPS_NAME "'/>", id,
	    *to ? " to='" : "", to, *to ? "'" : "",
	    *node ? " node='" : "", node, *node ? "'" : "");
	for (i = 0; i < CAPS_NFEATURES; i++)
		conn_printf(c, "<feature var='%s'/>", caps_features[i]);
	conn_printf(c, "</query></iq>");
}

/* ---- XML events -------------------------------------------------------- */

static const char *
local(const char *name, const char **ns, size_t *nslen)
{
	const char	*p = strchr(name, NS_SEP);

	if (p == NULL) {
		*ns = "";
		*nslen = 0;
		return name;
	}
	*ns = name;
	*nslen = (size_t)(p - name);
	return p + 1;
}

static bool
ns_is(const char *ns, size_t nslen, const char *want)
{
	return strlen(want) == nslen && memcmp(ns, want, nslen) == 0;
}

/* fast: the token in <success/> (XEP-0484 3.3), new or a successor */
static void
fast_token(struct conn *c, const XML_Char **atts)
{
	struct user	*u = &users[c->idx];
	size_t		 i;

	for (i = 0; atts[i] != NULL; i += 2)
		if (strcmp(atts[i], "token") == 0) {
			free(u->token);
			if ((u->token = strdup(atts[i + 1])) == NULL)
				fatal_exit("strdup");
			u->count = 0;
		}
}

static void
sm_answer(struct conn *c, const char *ln, const XML_Char **atts)
{
	size_t	i;

	if (strcmp(ln, "enabled") == 0)
		c->sm_got_enabled = true;
	else if (strcmp(ln, "resumed") == 0)
		c->sm_got_resumed = true;
	else if (strcmp(ln, "failed") == 0)
		c->sm_got_failed = true;
	else
		return;
	for (i = 0; atts[i] != NULL; i += 2)
		if (strcmp(atts[i], "id") == 0 ||
		    strcmp(atts[i], "previd") == 0)
			snprintf(c->smid, sizeof(c->smid), "%s", atts[i + 1]);
}

static void
xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct conn	*c = ud;
	const char	*ns, *ln;
	size_t		 nslen, i;

	c->depth++;
	ln = local(name, &ns, &nslen);
	if (c->depth == 1 && opt.transport == T_BOSH) {
		for (i = 0; atts[i] != NULL; i += 2)
			if (strcmp(atts[i], "sid") == 0 && c->bsid[0] == '\0')
				snprintf(c->bsid, sizeof(c->bsid), "%s",
				    atts[i + 1]);
			else if (strcmp(atts[i], "type") == 0 &&
			    strcmp(atts[i + 1], "terminate") == 0)
				c->serr = true;
	} else if (c->depth == 2) {
		snprintf(c->sname, sizeof(c->sname), "%s", ln);
		c->stype[0] = c->sid[0] = c->sfrom[0] = '\0';
		c->serr = strcmp(ln, "error") == 0 &&
		    ns_is(ns, nslen, "http://etherx.jabber.org/streams");
		c->serr_cond[0] = '\0';
		c->f_starttls = c->f_mech = c->f_bind = false;
		c->f_sess = c->f_sess_opt = c->ping = c->in_status = false;
		c->f_sasl2 = false;
		c->sm_got_enabled = c->sm_got_resumed = false;
		c->sm_got_failed = false;
		c->fdata[0] = '\0';
		c->in_ptext = c->disco = false;
		c->dnode[0] = '\0';
		c->textlen = 0;
		for (i = 0; atts[i] != NULL; i += 2) {
			if (strcmp(atts[i], "type") == 0)
				snprintf(c->stype, sizeof(c->stype), "%s",
				    atts[i + 1]);
			else if (strcmp(atts[i], "id") == 0)
				snprintf(c->sid, sizeof(c->sid), "%s",
				    atts[i + 1]);
			else if (strcmp(atts[i], "from") == 0)
				snprintf(c->sfrom, sizeof(c->sfrom), "%s",
				    atts[i + 1]);
		}
	} else if (c->depth == 3) {
		if (c->serr && c->serr_cond[0] == '\0' &&
		    strcmp(ln, "text") != 0)
			snprintf(c->serr_cond, sizeof(c->serr_cond), "%s", ln);
		if (strcmp(ln, "starttls") == 0)
			c->f_starttls = true;
		else if (strcmp(ln, "authentication") == 0 &&
		    ns_is(ns, nslen, NS_SASL2))
			c->f_sasl2 = true;
		else if (strcmp(ln, "token") == 0 &&
		    ns_is(ns, nslen, NS_FAST) && c->st == S_SASL2)
			fast_token(c, atts);
		else if (strcmp(ln, "additional-data") == 0 &&
		    c->st == S_SASL2) {
			/* its text is captured as a status's */
			c->in_status = true;
			c->textlen = 0;
		}
		else if (strcmp(ln, "mechanisms") == 0)
			c->f_mech = true;
		else if (strcmp(ln, "bind") == 0)
			c->f_bind = true;
		else if (strcmp(ln, "session") == 0 &&
		    ns_is(ns, nslen, "urn:ietf:params:xml:ns:xmpp-session"))
			c->f_sess = true;
		else if (strcmp(ln, "ping") == 0)
			c->ping = true;
		else if (strcmp(ln, "body") == 0 && opt.scen == SC_MUC) {
			/* muc: the groupchat body carries the sequence */
			c->in_ptext = true;
			c->textlen = 0;
		}
		else if (strcmp(ln, "status") == 0) {
			c->in_status = true;
			c->textlen = 0;
		} else if (strcmp(ln, "query") == 0 &&
		    ns_is(ns, nslen, NS_DISCO_INFO)) {
			c->disco = true;
			for (i = 0; atts[i] != NULL; i += 2)
				if (strcmp(atts[i], "node") == 0)
					snprintf(c->dnode, sizeof(c->dnode),
					    "%s", atts[i + 1]);
		}
	} else if (c->depth == 4 && strcmp(ln, "optional") == 0 && c->f_sess)
		c->f_sess_opt = true;
	else if (c->depth > 4 && strcmp(ln, "text") == 0 &&
	    ns_is(ns, nslen, NS_MOOD)) {
		/* pep: event/items/item/mood/text carries the sequence */
		c->in_ptext = true;
		c->textlen = 0;
	}
	/* XEP-0198: alone, or inline in XEP-0388's <success/> */
	if ((c->depth == 2 || c->depth == 3) && ns_is(ns, nslen, NS_SM))
		sm_answer(c, ln, atts);
}

static void
xml_text(void *ud, const XML_Char *s, int len)
{
	struct conn	*c = ud;

	if (c->depth != 2 && !(c->depth == 3 && c->in_status) &&
	    !c->in_ptext)
		return;
	if (c->textlen + (size_t)len >= TEXT_MAX)
		return;
	memcpy(c->text + c->textlen, s, (size_t)len);
	c->textlen += (size_t)len;
	c->text[c->textlen] = '\0';
}

static void
on_stanza(struct conn *c)
{
	char	why[80];

	c->text[c->textlen] = '\0';
	if (c->serr) {
		/* e.g. jabberd2 2.7's internal-server-error on a login that
		 * reuses the descriptor of a session that just closed */
		if (c->st != S_READY)
			login_stream_errors++;
		snprintf(why, sizeof(why), "stream error %s", c->serr_cond);
		conn_fail(c, why);
		return;
	}
	if (c->upgraded && strcmp(c->sname, "open") == 0)
		return;
	if (c->upgraded && strcmp(c->sname, "close") == 0)
		return conn_fail(c, "stream closed by server");
	switch (c->st) {
	case S_FEAT1:
		if (strcmp(c->sname, "features") != 0 || !c->f_starttls)
			return conn_fail(c, "no STARTTLS offered");
		conn_printf(c, "<starttls "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		c->rtt_xmpp++;
		c->st = S_PROCEED;
		return;
	case S_PROCEED:
		if (strcmp(c->sname, "proceed") != 0)
			return conn_fail(c, "STARTTLS refused");
		c->start_tls = true;
		return;
	case S_FEAT2:
		if (strcmp(c->sname, "features") != 0 || !c->f_mech)
			return conn_fail(c, "no SASL offered");
		if (opt.fast) {
			if (!c->f_sasl2)
				return conn_fail(c, "no SASL2 offered");
			sasl2_start(c);
			return;
		}
		sasl_start(c);
		return;
	case S_SASL2:
		if (strcmp(c->sname, "success") != 0)
			return conn_fail(c, "SASL2 authentication failed");
		if (sasl2_success(c) == -1)
			return conn_fail(c, "bad FAST server signature");
		if (opt.scen == SC_RECONNECT && users[c->idx].previd != NULL) {
			/* the inline <resumed/> is the reconnect done */
			if (!c->sm_got_resumed)
				return conn_fail(c, "inline resumption failed");
			c->st = S_READY;
			reconnect_done(c);
			return;
		}
		/* XEP-0388 2.5: no restart, the features follow */
		c->st = S_FEAT3;
		return;
	case S_CHAL:
		if (strcmp(c->sname, "challenge") != 0)
			return conn_fail(c, "SCRAM-SHA-1 refused");
		sasl_challenge(c);
		return;
	case S_SUCC:
		if (strcmp(c->sname, "success") != 0)
			return conn_fail(c, "authentication failed");
		if (sasl_success(c) == -1)
			return conn_fail(c, "bad server signature");
		c->st = S_FEAT3;
		c->restart = true;
		stream_header(c);
		return;
	case S_FEAT3:
		if (strcmp(c->sname, "features") != 0 || !c->f_bind)
			return conn_fail(c, "no resource binding offered");
		if (opt.scen == SC_RECONNECT && opt.reconn == RC_SCRAM &&
		    users[c->idx].previd != NULL) {
			/* XEP-0198 5: instead of binding */
			conn_printf(c, "<resume xmlns='" NS_SM "' previd='%s' "
			    "h='%u'/>", users[c->idx].previd,
			    users[c->idx].h);
			c->rtt_xmpp++;
			c->st = S_RESUME;
			return;
		}
		/* RFC 3921 session: only when not marked optional */
		c->f_sess = c->f_sess && !c->f_sess_opt;
		/* a second resource (carbons) is m, the first r */
		conn_printf(c, "<iq type='set' id='b'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%c%u"
		    "</resource></bind></iq>", user_of(c->idx) != c->idx ?
		    'm' : 'r', user_of(c->idx));
		c->st = S_BIND;
		c->rtt_xmpp++;
		/* remembered apart: the bind result's <bind/> sets f_bind */
		c->want_sess = c->f_sess;
		return;
	case S_BIND:
		if (strcmp(c->sname, "iq") != 0 || strcmp(c->sid, "b") != 0)
			return;
		if (strcmp(c->stype, "result") != 0)
			return conn_fail(c, "bind failed");
		if (c->want_sess) {
			conn_printf(c, "<iq type='set' id='s'><session "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
			    "</iq>");
			c->rtt_xmpp++;
			c->st = S_SESS;
			return;
		}
		c->st = S_READY;
		scen_ready(c);
		return;
	case S_SESS:
		if (strcmp(c->sname, "iq") != 0 || strcmp(c->sid, "s") != 0)
			return;
		if (strcmp(c->stype, "result") != 0)
			return conn_fail(c, "session failed");
		c->st = S_READY;
		scen_ready(c);
		return;
	case S_RESUME:
		if (!c->sm_got_resumed)
			return conn_fail(c, c->sm_got_failed ?
			    "resumption failed" : "no answer to <resume/>");
		c->st = S_READY;
		reconnect_done(c);
		return;
	case S_READY:
		/* XEP-0198 4 and 5: enabled, ack requests */
		if (strcmp(c->sname, "enabled") == 0) {
			c->sm_on = true;
			sm_enabled++;
			if (opt.scen == SC_RECONNECT)
				reconnect_done(c);
			/* hibernate: drop it now (from login_cb) */
			if (opt.scen == SC_HIBERNATE)
				c->closing = true;
			return;
		}
		if (strcmp(c->sname, "r") == 0) {
			conn_printf(c, "<a xmlns='" NS_SM "' h='%u'/>",
			    c->sm_h);
			sm_acks++;
			return;
		}
		if (strcmp(c->sname, "a") == 0)
			return;
		if (c->sm_on && (strcmp(c->sname, "message") == 0 ||
		    strcmp(c->sname, "presence") == 0 ||
		    strcmp(c->sname, "iq") == 0))
			c->sm_h++;
		if (strcmp(c->sname, "iq") == 0 &&
		    (strcmp(c->stype, "get") == 0 ||
		    strcmp(c->stype, "set") == 0)) {
			char	id[ATTR_MAX * 6 + 1], from[ATTR_MAX * 6 + 1];

			xml_escape_into(id, sizeof(id), c->sid);
			xml_escape_into(from, sizeof(from), c->sfrom);
			if (c->ping)
				conn_printf(c, "<iq type='result' id='%s'%s%s%s/>",
				    id, *from ? " to='" : "", from,
				    *from ? "'" : "");
			else if (c->disco && strcmp(c->stype, "get") == 0)
				caps_answer(c, id, from);
			else
				conn_printf(c, "<iq type='error' id='%s'%s%s%s>"
				    "<error type='cancel'><service-unavailable "
				    "xmlns='urn:ietf:params:xml:ns:"
				    "xmpp-stanzas'/></error></iq>", id,
				    *from ? " to='" : "", from,
				    *from ? "'" : "");
			return;
		}
		scen_stanza(c);
		return;
	default:
		return;
	}
}

static void
xml_end(void *ud, const XML_Char *name)
{
	struct conn	*c = ud;

	(void)name;
	if (c->depth == 2)
		on_stanza(c);
	else if (c->depth == 3) {
		if (c->in_status && c->st == S_SASL2)
			snprintf(c->fdata, sizeof(c->fdata), "%.63s", c->text);
		c->in_status = false;
	}
	else if (c->in_ptext)
		c->in_ptext = false;
	else if (c->depth == 1 && c->serr && opt.transport == T_BOSH)
		conn_fail(c, "BOSH session terminated");
	else if (c->depth == 1 && c->st != S_DEAD && opt.transport != T_BOSH)
		conn_fail(c, "stream closed by server");
	c->depth--;
}

/* ---- server measurements ----------------------------------------------- */

#define BY_MAX	8

struct srvstat {
	double	cpu;		/* seconds, utime+stime of the process tree */
	double	rss;		/* bytes, sum of VmRSS */
	int	nproc;
	struct {		/* cpu and rss by program name (comm) */
		char	comm[16];
		double	cpu;
		double	rss;
	}	by[BY_MAX];
	int	nby;
};

/* the parent of pid; its CPU seconds and program name when asked */
static int
proc_ppid(int pid, double *cpu, char comm[16])
{
	char	path[64], buf[1024], *p, *q;
	FILE	*f;
	size_t	n;
	int	ppid, i;
	unsigned long	ut, stt;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (comm != NULL) {
		if ((q = strchr(buf, '(')) == NULL || p - q - 1 > 15)
			return -1;
		memcpy(comm, q + 1, (size_t)(p - q - 1));
		comm[p - q - 1] = '\0';
	}
	p += 2;
	/* fields from 3 (state): ppid is 4, utime 14, stime 15 */
	if (*p == 'Z')
		return -1;
	p = strchr(p, ' ') + 1;
	ppid = atoi(p);
	for (i = 4; i < 14; i++)
		p = strchr(p, ' ') + 1;
	ut = strtoul(p, &p, 10);
	stt = strtoul(p, &p, 10);
	if (cpu != NULL)
		*cpu = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
	return ppid;
}

static double
proc_rss(int pid)
{
	char	path[64], line[256];
	FILE	*f;
	double	kb = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return kb * 1024;
}

/* the roots given with -x and all their descendants */
static void
server_stat(struct srvstat *s)
{
	DIR		*d;
	struct dirent	*de;
	int		*pid = NULL, *ppid = NULL, n = 0, cap = 0, i, j, k;
	bool		*in = NULL, changed;
	double		 cpu, rss;
	char		 comm[16];

	memset(s, 0, sizeof(*s));
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			pid = realloc(pid, sizeof(int) * (size_t)cap);
			ppid = realloc(ppid, sizeof(int) * (size_t)cap);
			if (pid == NULL || ppid == NULL)
				fatal_exit("realloc");
		}
		pid[n] = atoi(de->d_name);
		if ((ppid[n] = proc_ppid(pid[n], NULL, NULL)) == -1)
			continue;
		n++;
	}
	closedir(d);
	in = calloc((size_t)n + 1, sizeof(bool));
	for (i = 0; i < n; i++)
		for (k = 0; k < opt.npids; k++)
			if (pid[i] == opt.pids[k])
				in[i] = true;
	do {
		changed = false;
		for (i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (j = 0; j < n; j++)
				if (in[j] && ppid[i] == pid[j]) {
					in[i] = changed = true;
					break;
				}
		}
	} while (changed);
	for (i = 0; i < n; i++) {
		if (!in[i])
			continue;
		if (proc_ppid(pid[i], &cpu, comm) == -1)
			continue;
		rss = proc_rss(pid[i]);
		s->cpu += cpu;
		s->rss += rss;
		s->nproc++;
		for (k = 0; k < s->nby; k++)
			if (strcmp(s->by[k].comm, comm) == 0)
				break;
		if (k == s->nby) {
			if (k == BY_MAX)
				continue;
			memcpy(s->by[k].comm, comm, sizeof(comm));
			s->nby++;
		}
		s->by[k].cpu += cpu;
		s->by[k].rss += rss;
	}
	free(pid);
	free(ppid);
	free(in);
}

/*
 * The server's CPU between two readings split by program name, scaled to
 * a unit of work: FIGURE:COMM, e.g. server_cpu_s_per_1000:parley-router.
 */
static void
emit_by_process(const char *figure, const struct srvstat *a,
    const struct srvstat *b, double scale, const char *unit)
{
	char	name[64];
	double	before;
	int	i, k;

	for (i = 0; i < b->nby; i++) {
		before = 0;
		for (k = 0; k < a->nby; k++)
			if (strcmp(a->by[k].comm, b->by[i].comm) == 0)
				before = a->by[k].cpu;
		snprintf(name, sizeof(name), "%s:%s", figure, b->by[i].comm);
		emit(name, (b->by[i].cpu - before) * scale, unit);
	}
}

/* the server's RSS in MiB, in all and by program: FIGURE, FIGURE:COMM */
static void
emit_rss(const char *figure, const struct srvstat *s)
{
	char	name[64];
	int	i;

	emit(figure, s->rss / 1048576.0, "MiB");
	for (i = 0; i < s->nby; i++) {
		snprintf(name, sizeof(name), "%s:%s", figure, s->by[i].comm);
		emit(name, s->by[i].rss / 1048576.0, "MiB");
	}
}

static double
self_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- scenarios ---------------------------------------------------------- */

static struct srvstat	 m_srv0, m_srv1;
static double		 m_t0, m_t1, m_self0, m_self1;
static uint64_t		 m_deliv0, m_deliv1, m_sent0;
static uint32_t		 target_ready, next_login;
static uint64_t		 m_carb0, m_carb1;
/* csi: [inactive?][reads, bytes, wakes, sessions] over the sessions */
static double		 m_io0[2][4], m_io1[2][4];

static void
io_sums(double io[2][4])
{
	uint32_t	 i;
	struct conn	*c;
	int		 k;

	memset(io, 0, sizeof(double) * 8);
	for (i = 0; i < nconns; i++) {
		if ((c = conns[i]) == NULL || c->st != S_READY)
			continue;
		k = c->inactive ? 1 : 0;
		io[k][0] += (double)c->reads;
		io[k][1] += (double)c->rbytes;
		io[k][2] += (double)c->wakes;
		io[k][3]++;
	}
}

static void
measure_begin(void)
{
	m_carb0 = carbons;
	io_sums(m_io0);
	server_stat(&m_srv0);
	m_t0 = now();
	m_self0 = self_cpu();
	m_deliv0 = delivered;
	m_sent0 = sent;
	m_posts0 = bosh_posts;
	samples_reset(&lat_deliv);
	stalls = 0;
	measuring = true;
}

static void
measure_end(void)
{
	server_stat(&m_srv1);
	m_t1 = now();
	m_self1 = self_cpu();
	m_deliv1 = delivered;
	m_posts1 = bosh_posts;
	m_carb1 = carbons;
	io_sums(m_io1);
	measuring = false;
}

/* the user index for connection number i of this scenario */
static void
login_more(void)
{
	uint32_t	 idx;
	struct conn	*c;

	while (next_login < target_ready &&
	    started - ready - failed < opt.conc) {
		if (opt.scen == SC_LOGIN || opt.scen == SC_RECONNECT)
			idx = next_login % opt.pool;
		else
			idx = next_login;
		if (conns[idx] != NULL) {
			/* the previous login of this user is still going */
			break;
		}
		next_login++;
		if ((c = conn_new(idx)) != NULL)
			conns[idx] = c;
	}
}

static struct conn *
peer_of(struct conn *c)
{
	uint32_t	p = c->idx ^ 1u;

	return p < nconns ? conns[p] : NULL;
}

static void
msg_send(struct conn *c)
{
	struct conn	*p = peer_of(c);

	if (c->idx != user_of(c->idx))
		return;		/* a second resource only listens */
	while (c->inflight < opt.window && c->st == S_READY) {
		c->inflight++;
		c->seq++;
		sent++;
		if (opt.bare)
			conn_printf(c, "<message to='%s%u@%s' type='chat' "
			    "id='%u-%" PRIu64 "-%u'><body>Hello, this is "
			    "message %u of a benchmark run; nothing to see "
			    "here.</body></message>", opt.prefix, c->idx ^ 1u,
			    opt.domain, c->idx, now_us(), c->seq, c->seq);
		else
			conn_printf(c, "<message to='%s%u@%s/r%u' type='chat' "
			    "id='%u-%" PRIu64 "-%u'><body>Hello, this is "
			    "message %u of a benchmark run; nothing to see "
			    "here.</body></message>", opt.prefix, c->idx ^ 1u,
			    opt.domain, c->idx ^ 1u, c->idx, now_us(), c->seq,
			    c->seq);
	}
	(void)p;
}

static uint32_t
clique_size(void)
{
	return opt.contacts + 1;
}

static void
pres_send(struct conn *c)
{
	static const char	*shows[] = { "away", "chat", "dnd", "xa" };

	if (c->inactive)
		return;		/* csi: an inactive client stays quiet */
	while (c->inflight < opt.window && c->st == S_READY) {
		c->inflight++;
		c->seq++;
		sent++;
		conn_printf(c, "<presence><show>%s</show><status>b %u %u %"
		    PRIu64 "</status></presence>", shows[c->seq % 4], c->idx,
		    c->seq, now_us());
	}
}

/*
 * pep: a mood (XEP-0107) published to the account's PEP node without an
 * item id, as a client does; its text carries sender, sequence and time.
 */
static void
pep_send(struct conn *c)
{
	while (c->inflight < opt.window && c->st == S_READY) {
		c->inflight++;
		c->seq++;
		sent++;
		conn_printf(c, "<iq type='set' id='p%u'><pubsub xmlns='"
		    NS_PUBSUB "'><publish node='" NS_MOOD "'><item><mood "
		    "xmlns='" NS_MOOD "'><happy/><text>b %u %u %" PRIu64
		    "</text></mood></item></publish></pubsub></iq>", c->seq,
		    c->idx, c->seq, now_us());
	}
}

/*
 * muc: rooms of -C + 1 occupants (one per clique), room r at
 * bench<r>@conference.DOMAIN, the nick the user's index; a groupchat
 * message's body is "b SENDER SEQ TIME", reflected to the sender too.
 */
static void
muc_join(struct conn *c)
{
	conn_printf(c, "<presence to='bench%u@conference.%s/%u'><x xmlns='"
	    NS_MUC "'><history maxstanzas='0'/></x></presence>",
	    c->idx / clique_size(), opt.domain, c->idx);
}

static void
muc_send(struct conn *c)
{
	while (c->inflight < opt.window && c->st == S_READY) {
		c->inflight++;
		c->seq++;
		sent++;
		conn_printf(c, "<message to='bench%u@conference.%s' type="
		    "'groupchat'><body>b %u %u %" PRIu64 "</body></message>",
		    c->idx / clique_size(), opt.domain, c->idx, c->seq,
		    now_us());
	}
}

/* fills c's window with the scenario's stanzas */
static void
window_fill(struct conn *c)
{
	if (opt.scen == SC_MSG)
		msg_send(c);
	else if (opt.scen == SC_MUC)
		muc_send(c);
	else if (opt.scen == SC_PEP)
		pep_send(c);
	else
		pres_send(c);
}

/* one of s's stanzas is done: its window slot is free for the next */
static void
window_done(struct conn *s)
{
	if (s->inflight > 0)
		s->inflight--;
	s->last_progress = now();
	if (phase == 1 || phase == 2) {
		window_fill(s);
		conn_flush(s);
		conn_events(s);
	}
}

/* deliveries of one presence update, per sender: they come back in order */
static uint32_t	*pres_got;
/*
 * presence, pep: the last sequence number each session had from each
 * clique mate (index idx * clique + mate): a sender's updates arrive in
 * order, so one not above it is a second copy (Prosody 0.12's PEP sends
 * some events twice, see docs/BENCHMARKS.md), not a delivery.
 */
static uint32_t	*mate_seq;

/* csi: every opt.inactive-th user says it is inactive */
static bool
is_inactive(uint32_t idx)
{
	return opt.inactive > 0 && idx % opt.inactive == opt.inactive - 1;
}

/* csi: the contacts of sender whose deliveries close its update */
static uint32_t
active_contacts(uint32_t sender)
{
	uint32_t	base = sender - sender % clique_size(), i, n = 0;

	for (i = base; i < base + clique_size(); i++)
		if (i != sender && !is_inactive(i))
			n++;
	return n;
}

/*
 * reconnect: the session is back (resumed, or enabled after a login
 * anew): counted with its round trips, and its connection dropped from
 * the next loop step without closing the stream, for the next one
 */
static void
reconnect_done(struct conn *c)
{
	struct user	*u = &users[c->idx];
	char		 id[ATTR_MAX * 6 + 1];

	if (c->smid[0] == '\0')
		return conn_fail(c, "no stream management id");
	xml_escape_into(id, sizeof(id), c->smid);
	free(u->previd);
	if ((u->previd = strdup(id)) == NULL)
		fatal_exit("strdup");
	/* XEP-0198 5: a resumed session counts on from what we handled */
	c->sm_h = c->sm_got_resumed ? u->h : 0;
	c->sm_on = true;
	ready++;
	samples_add(&lat_login, (uint32_t)((now() - c->t0) * 1e6));
	rtt_net_sum += c->rtt_net;
	rtt_xmpp_sum += c->rtt_xmpp;
	c->closing = true;
}

/* the connection goes, the stream is not closed: the server keeps it */
static void
conn_drop(struct conn *c)
{
	if (opt.scen == SC_RECONNECT)
		users[c->idx].h = c->sm_h;
	c->st = S_DEAD;
	conn_free(c);
}

static void
scen_ready(struct conn *c)
{
	if (opt.scen == SC_RECONNECT) {
		/* a login anew: resumable stream management, done at
		   <enabled/> (reconnect_done) */
		conn_printf(c, "<enable xmlns='" NS_SM "' resume='true'/>"
		    "<presence/>");
		c->rtt_xmpp++;
		return;
	}
	ready++;
	samples_add(&lat_login, (uint32_t)((now() - c->t0) * 1e6));
	c->last_progress = now();
	switch (opt.scen) {
	case SC_LOGIN:
		conn_printf(c, "<presence/>");
		login_next++;
		conn_flush(c);
		/* closed from the timer: not inside this parser's callback */
		c->closing = true;
		break;
	case SC_IDLE:
		conn_printf(c, "<presence/>");
		break;
	case SC_MSG:
		/* XEP-0198 4, XEP-0280 4: before any traffic */
		if (opt.sm)
			conn_printf(c, "<enable xmlns='" NS_SM "'/>");
		if (opt.carbons)
			conn_printf(c, "<iq type='set' id='cb'><enable xmlns='"
			    NS_CARBONS "'/></iq>");
		conn_printf(c, "<presence/>");
		break;
	case SC_HIBERNATE:
		conn_printf(c, "<enable xmlns='" NS_SM "' resume='true'/>"
		    "<presence/>");
		break;
	case SC_PRESENCE:
		conn_printf(c, "<presence/>");
		/* XEP-0352: after the initial presence, as clients do */
		if (is_inactive(c->idx)) {
			c->inactive = true;
			conn_printf(c, "<inactive xmlns='" NS_CSI "'/>");
		}
		break;
	case SC_PEP:
		conn_printf(c, "<presence><c xmlns='" NS_CAPS "' hash='sha-1' "
		    "node='" CAPS_NODE "' ver='%s'/></presence>", caps_ver);
		break;
	case SC_MUC:
		conn_printf(c, "<presence/>");
		/* joinstorm: the joins are the measured work (run()) */
		if (!opt.joinstorm)
			muc_join(c);
		break;
	case SC_RECONNECT:
		break;
	}
}

static uint32_t	muc_joined;
static uint32_t	muc_target;
static uint32_t	muc_refused;	/* joins refused (sent again) */	/* muc_wait_n: the joins awaited */

/*
 * muc: the room's presence to c. Its own (nick = its index) means it is
 * in: it submits an instant configuration, which unlocks the room if it
 * created it (anyone else's is refused: ignored). A join refused while
 * the creator has not configured the room yet is sent again.
 */
static void
muc_presence(struct conn *c)
{
	const char	*slash = strrchr(c->sfrom, '/');
	char		 me[16];

	if (strcmp(c->stype, "error") == 0) {
		if (++muc_refused <= 5)
			fprintf(stderr, "loadgen: join of %u refused (from %s)\n",
			    c->idx, c->sfrom);
		muc_join(c);
		conn_flush(c);
		return;
	}
	snprintf(me, sizeof(me), "%u", c->idx);
	if (c->joined || slash == NULL || strcmp(slash + 1, me) != 0 ||
	    strcmp(c->stype, "unavailable") == 0)
		return;
	c->joined = true;
	muc_joined++;
	conn_printf(c, "<iq type='set' id='mucc' to='bench%u@conference.%s'>"
	    "<query xmlns='" NS_MUC "#owner'><x xmlns='jabber:x:data' type="
	    "'submit'/></query></iq>", c->idx / clique_size(), opt.domain);
	conn_flush(c);
	/* muc_wait_n: at once, not at the next tick (the storm's time) */
	if (phase == 7 && muc_joined >= muc_target)
		ev_break(loop, EVBREAK_ALL);
}

/* from is one of user idx's full JIDs (or its bare JID) */
static bool
from_user(const char *from, unsigned idx)
{
	char	want[ATTR_MAX];
	int	n;

	n = snprintf(want, sizeof(want), "%s%u@%s", opt.prefix, idx,
	    opt.domain);
	if (n < 0 || (size_t)n >= sizeof(want) ||
	    strncmp(from, want, (size_t)n) != 0)
		return false;
	return from[n] == '\0' || from[n] == '/';
}

/* muc: from is the occupant JID of the user idx (its nick) */
static bool
from_nick(const char *from, unsigned idx)
{
	const char	*slash = strrchr(from, '/');
	char		 want[16];

	snprintf(want, sizeof(want), "%u", idx);
	return slash != NULL && strcmp(slash + 1, want) == 0;
}

/*
 * presence, pep: c received a clique mate's presence update or PEP event
 * (text "b SENDER SEQ TIME"); the sender's update is done once all its
 * contacts have it.
 */
static void
fanout_got(struct conn *c)
{
	struct conn	*s;
	unsigned	 sender, seq;
	uint64_t	 ts;
	uint32_t	*last;

	if (sscanf(c->text, "b %u %u %" SCNu64, &sender, &seq, &ts) != 3)
		return;
	if (sender == c->idx) {
		/* the owner's own resource hears its events (XEP-0163 4) */
		if (opt.scen == SC_PEP)
			self_events++;
		else
			self_presence++;
		return;
	}
	/* rosters (rooms) are cliques: only a clique mate's updates come */
	if (sender / clique_size() != c->idx / clique_size() ||
	    !(opt.scen == SC_MUC ? from_nick(c->sfrom, sender) :
	    from_user(c->sfrom, sender))) {
		if (++misrouted <= 5)
			fprintf(stderr, "loadgen: %s of %u from %s reached "
			    "%s%u\n", c->sname, sender, c->sfrom, opt.prefix,
			    c->idx);
		return;
	}
	last = &mate_seq[c->idx * clique_size() + sender % clique_size()];
	if (seq <= *last) {
		if (++duplicates <= 5)
			fprintf(stderr, "loadgen: %s %u of %u reached %s%u "
			    "again\n", c->sname, seq, sender, opt.prefix,
			    c->idx);
		return;
	}
	*last = seq;
	if (c->inactive) {
		/* csi: held back, maybe dropped when superseded; counted
		 * apart and not waited for */
		inactive_got++;
		return;
	}
	c->got++;
	delivered++;
	if (measuring)
		samples_add(&lat_deliv, (uint32_t)(now_us() - ts));
	if (sender < nconns && (s = conns[sender]) != NULL &&
	    ++pres_got[sender] >= active_contacts(sender)) {
		pres_got[sender] -= active_contacts(sender);
		window_done(s);
	}
}

static void
scen_stanza(struct conn *c)
{
	struct conn	*s;
	unsigned	 sender, seq;
	uint64_t	 ts;
	char		*end;

	if (opt.scen == SC_MUC && strcmp(c->sname, "presence") == 0) {
		muc_presence(c);
		return;
	}
	/* muc: the instant configuration of a room another created */
	if (opt.scen == SC_MUC && strcmp(c->sid, "mucc") == 0)
		return;
	if (strcmp(c->stype, "error") == 0) {
		errors_stanza++;
		if (errors_stanza <= 5)
			fprintf(stderr, "loadgen: %s error from %s id %s\n",
			    c->sname, c->sfrom, c->sid);
		return;
	}
	if (opt.scen == SC_MSG && strcmp(c->sname, "message") == 0 &&
	    c->idx != user_of(c->idx)) {
		/* XEP-0280: a second resource hears copies only */
		carbons++;
		return;
	}
	if (opt.scen == SC_MSG && strcmp(c->sname, "message") == 0) {
		sender = (unsigned)strtoul(c->sid, &end, 10);
		if (*end != '-')
			return;
		ts = strtoull(end + 1, &end, 10);
		if (*end != '-')
			return;
		seq = (unsigned)strtoul(end + 1, NULL, 10);
		/* each session hears only its peer, in order, once each */
		if (sender != (c->idx ^ 1u) || !from_user(c->sfrom, sender)) {
			if (++misrouted <= 5)
				fprintf(stderr, "loadgen: message %s from %s "
				    "reached %s%u\n", c->sid, c->sfrom,
				    opt.prefix, c->idx);
			return;
		}
		if (seq <= c->peer_seq) {
			if (++duplicates <= 5)
				fprintf(stderr, "loadgen: message %s reached "
				    "%s%u again\n", c->sid, opt.prefix,
				    c->idx);
			return;
		}
		c->peer_seq = seq;
		c->got++;
		delivered++;
		if (measuring)
			samples_add(&lat_deliv, (uint32_t)(now_us() - ts));
		if (sender < nconns && (s = conns[sender]) != NULL)
			window_done(s);
		return;
	}
	if (c->textlen <= 2 || strncmp(c->text, "b ", 2) != 0)
		return;
	if ((opt.scen == SC_PRESENCE && strcmp(c->sname, "presence") == 0 &&
	    c->in_status == false) ||
	    ((opt.scen == SC_PEP || opt.scen == SC_MUC) &&
	    strcmp(c->sname, "message") == 0))
		fanout_got(c);
}

static void
scen_closed(struct conn *c)
{
	(void)c;
}

static void
start_traffic(void)
{
	uint32_t	 i;
	struct conn	*c;

	phase = 1;
	for (i = 0; i < nconns; i++) {
		if ((c = conns[i]) == NULL || c->st != S_READY)
			continue;
		c->last_progress = now();
		window_fill(c);
		conn_flush(c);
		conn_events(c);
	}
}

static void
phase_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	switch (phase) {
	case 1:		/* warm-up over */
		measure_begin();
		phase = 2;
		ev_timer_set(&phase_timer, opt.secs, 0);
		ev_timer_start(l, &phase_timer);
		break;
	case 2:
		measure_end();
		phase = 3;
		ev_break(l, EVBREAK_ALL);
		break;
	}
}

static double	drain_until, create_until;

static uint64_t
inflight_total(void)
{
	uint64_t	n = 0;
	uint32_t	i;

	for (i = 0; i < nconns; i++)
		if (conns[i] != NULL && conns[i]->st == S_READY)
			n += conns[i]->inflight;
	return n;
}

/*
 * After the measured phase nothing more is sent; what is still in flight
 * gets STALL_TIMEOUT to arrive. A session still waiting then has
 * stalled; what has not arrived is lost: every message a session sent
 * must have reached its peer, every presence update each of the sender's
 * contacts. Returns the number lost; more arrivals than were sent are
 * duplicates.
 */
static uint64_t
drain_and_count_lost(void)
{
	uint64_t	 expect = 0, got = 0, lost = 0;
	uint32_t	 i;
	struct conn	*c, *p;

	drain_until = now() + STALL_TIMEOUT;
	phase = 5;
	ev_run(loop, 0);
	for (i = 0; i < nconns; i++) {
		if ((c = conns[i]) == NULL)
			continue;
		/* no progress within STALL_TIMEOUT (the smoke run's phases
		 * are shorter than that: its stalls are caught here) */
		if (c->st == S_READY && c->inflight > 0)
			stalls++;
		if (opt.scen == SC_MSG) {
			p = peer_of(c);
			if (p == NULL || p->got < c->seq)
				lost += c->seq - (p != NULL ? p->got : 0);
		} else {
			expect += (uint64_t)c->seq * active_contacts(i);
			got += c->got;
		}
	}
	if (opt.scen != SC_MSG) {
		if (got < expect)
			lost = expect - got;
		else
			duplicates += got - expect;
	}
	return lost;
}

/*
 * pep: the first publish of an account creates its node (XEP-0163 3),
 * which costs a server more than a publish to a node that exists (SQL
 * inserts for ejabberd). Every account publishes once and the measured
 * traffic starts when all those have reached every contact, or after
 * LOGIN_TIMEOUT: the figures are those of the steady state. Returns the
 * seconds it took.
 */
static double
pep_create(void)
{
	double	t0 = now();

	start_traffic();
	phase = 6;	/* no refill, no stalls: wait for these */
	create_until = t0 + LOGIN_TIMEOUT;
	ev_run(loop, 0);
	return now() - t0;
}

/*
 * muc: every user joins its room (creating and configuring it when
 * first); the measured traffic starts when all are in, or after
 * LOGIN_TIMEOUT. Returns the seconds it took.
 */
static double
muc_wait_n(uint32_t n)
{
	double	t0 = now();

	phase = 7;
	muc_target = n;
	create_until = t0 + LOGIN_TIMEOUT;
	if (muc_joined < n)
		ev_run(loop, 0);
	return now() - t0;
}

static double
muc_wait(void)
{
	return muc_wait_n(nconns);
}

static void
tick_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	uint32_t	 i;
	struct conn	*c;
	double		 t = now();

	(void)w;
	(void)revents;
	for (i = 0; i < nconns; i++) {
		if ((c = conns[i]) == NULL)
			continue;
		if (c->closing && c->st == S_READY) {
			if (opt.scen == SC_HIBERNATE ||
			    opt.scen == SC_RECONNECT)
				conn_drop(c);
			else
				conn_close(c);
			continue;
		}
		if (c->st != S_READY && c->st != S_DEAD &&
		    t - c->t0 > LOGIN_TIMEOUT) {
			conn_fail(c, "login timeout");
			conn_free(c);
			continue;
		}
		if ((phase == 1 || phase == 2) && c->st == S_READY &&
		    c->inflight > 0 && t - c->last_progress > STALL_TIMEOUT) {
			/* a lost stanza: free the window, count it */
			stalls++;
			c->inflight = 0;
			c->last_progress = t;
			pres_got[c->idx] = 0;
			window_fill(c);
			conn_flush(c);
			conn_events(c);
		}
	}
	if ((phase == 5 && (inflight_total() == 0 || t > drain_until)) ||
	    (phase == 6 && (inflight_total() == 0 || t > create_until)) ||
	    (phase == 7 && (muc_joined >= muc_target || t > create_until))) {
		ev_break(l, EVBREAK_ALL);
		return;
	}
	login_more();
	if (phase == 0 && ready + failed >= target_ready &&
	    next_login >= target_ready) {
		phase = -1;
		ev_break(l, EVBREAK_ALL);
	}
}

static void
login_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	uint32_t	 i;
	struct conn	*c;

	(void)w;
	(void)revents;
	if (opt.scen == SC_HIBERNATE || opt.scen == SC_RECONNECT) {
		/* the connection goes, the stream is not closed */
		for (i = 0; i < nconns; i++)
			if ((c = conns[i]) != NULL && c->closing &&
			    c->st == S_READY)
				conn_drop(c);
	}
	if (opt.scen == SC_LOGIN && login_next > 0) {
		/* close the sessions that just finished logging in */
		for (i = 0; i < nconns; i++)
			if ((c = conns[i]) != NULL && c->closing &&
			    c->st == S_READY)
				conn_close(c);
		login_next = 0;
	}
	if (phase == 0) {
		login_more();
		if (ready + failed >= target_ready &&
		    next_login >= target_ready) {
			phase = -1;
			ev_break(l, EVBREAK_ALL);
		}
	}
}

/* runs the loop until every login of this scenario is done */
static double
ramp(uint32_t count)
{
	double	t0 = now();

	target_ready = count;
	next_login = 0;
	phase = 0;
	ev_run(loop, 0);
	return now() - t0;
}

static void
settle(double secs)
{
	ev_timer_set(&phase_timer, secs, 0);
	phase = 4;
	ev_timer_start(loop, &phase_timer);
	ev_run(loop, 0);
}

static void
settle_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	if (phase == 4) {
		ev_break(l, EVBREAK_ALL);
		return;
	}
	phase_cb(l, w, revents);
}

static void
report_logins(double wall, double cpu_srv, double cpu_self)
{
	emit("logins", (double)ready, "count");
	emit("login_failures", (double)failed, "count");
	emit("login_stream_errors", (double)login_stream_errors, "count");
	emit("logins_per_s", (double)ready / wall, "1/s");
	emit("login_p50_ms", samples_pct(&lat_login, 50) / 1e3, "ms");
	emit("login_p99_ms", samples_pct(&lat_login, 99) / 1e3, "ms");
	if (ready > 0)
		emit("server_cpu_ms_per_login", cpu_srv * 1e3 / (double)ready,
		    "ms");
	emit("server_cpu_share", cpu_srv / wall, "cores");
	emit("loadgen_cpu_share", cpu_self / wall, "cores");
	if (opt.transport == T_BOSH && ready > 0)
		emit("bosh_requests_per_login", (double)bosh_posts /
		    (double)ready, "count");
}

/*
 * reconnect: per reconnect, the round trips (each a flight of the
 * client that waits for the answer: TCP's and TLS's, then XMPP's), the
 * rate, the latency and the server's CPU, by process too
 */
static void
report_reconnects(double wall, const struct srvstat *a,
    const struct srvstat *b, double cpu_self)
{
	emit("reconnects", (double)ready, "count");
	emit("reconnect_failures", (double)failed, "count");
	emit("reconnects_per_s", (double)ready / wall, "1/s");
	emit("reconnect_p50_ms", samples_pct(&lat_login, 50) / 1e3, "ms");
	emit("reconnect_p99_ms", samples_pct(&lat_login, 99) / 1e3, "ms");
	if (ready > 0) {
		emit("round_trips_per_reconnect", (double)(rtt_net_sum +
		    rtt_xmpp_sum) / (double)ready, "count");
		emit("xmpp_round_trips_per_reconnect", (double)rtt_xmpp_sum /
		    (double)ready, "count");
		emit("server_cpu_ms_per_reconnect", (b->cpu - a->cpu) * 1e3 /
		    (double)ready, "ms");
		emit_by_process("server_cpu_ms_per_reconnect", a, b,
		    1e3 / (double)ready, "ms");
	}
	emit("server_cpu_share", (b->cpu - a->cpu) / wall, "cores");
	emit("loadgen_cpu_share", cpu_self / wall, "cores");
}

/* the sessions of a scenario that logs every user in first */
static void
report_ramp(double wall, const struct srvstat *a, const struct srvstat *b)
{
	emit("sessions", (double)ready, "count");
	emit("login_failures", (double)failed, "count");
	emit("login_stream_errors", (double)login_stream_errors, "count");
	emit("logins_per_s", (double)ready / wall, "1/s");
	if (ready > 0)
		emit("server_cpu_ms_per_login", (b->cpu - a->cpu) * 1e3 /
		    (double)ready, "ms");
}

/* the server's memory: a before the sessions, b with them idle */
static void
report_idle(const struct srvstat *a, const struct srvstat *b)
{
	emit("server_rss_total_mb", b->rss / 1048576.0, "MiB");
	emit("server_rss_before_mb", a->rss / 1048576.0, "MiB");
	emit("server_rss_per_session_kb", (b->rss - a->rss) / 1024.0 /
	    (double)ready, "KiB");
	emit("server_processes", b->nproc, "count");
}

/*
 * csi: what one session of each kind received per second of the
 * measured phase: TLS records (about one per write of the server),
 * readable wake-ups of the client, bytes of XML, and the presence
 * stanzas the inactive ones got in all.
 */
static void
report_csi(double wall)
{
	static const char	*kind[] = { "active", "inactive" };
	static const char	*what[] = { "records", "bytes", "wakeups" };
	char			 fig[64];
	double			 n;
	int			 k, j;

	for (k = 0; k < 2; k++) {
		if ((n = m_io1[k][3]) == 0)
			continue;
		emit(k ? "inactive_sessions" : "active_sessions", n, "count");
		for (j = 0; j < 3; j++) {
			snprintf(fig, sizeof(fig), "%s_%s_per_session_s",
			    kind[k], what[j]);
			emit(fig, (m_io1[k][j] - m_io0[k][j]) / n / wall,
			    "1/s");
		}
	}
	emit("inactive_deliveries", (double)inactive_got, "count");
}

static void
close_all(void)
{
	uint32_t	i;

	for (i = 0; i < nconns; i++)
		if (conns[i] != NULL) {
			conns[i]->closing = true;
			conns[i]->st = S_DEAD;
			conn_free(conns[i]);
		}
}

/*
 * hibernate: each session enables resumable stream management
 * (XEP-0198 5) and drops its TCP connection once enabled, without closing
 * the stream: the server keeps the session for its client to resume. At
 * most -c sessions are live at once, so the server's memory after all
 * have gone, opt.settle s later, less its memory before (a), is what the
 * hibernated sessions hold.
 */
static int
run_hibernate(const struct srvstat *a)
{
	struct srvstat	 hib;

	settle(opt.settle);	/* the last ones get their <enabled/> */
	server_stat(&hib);
	close_all();
	emit("sm_enabled", (double)sm_enabled, "count");
	emit_rss("server_rss_before_mb", a);
	emit_rss("server_rss_hibernated_mb", &hib);
	emit("server_rss_per_hibernated_kb", (hib.rss - a->rss) / 1024.0 /
	    (double)ready, "KiB");
	emit("server_processes", hib.nproc, "count");
	return sm_enabled < ready ? 1 : 0;
}

/*
 * joinstorm: every user (all in one room, -C + 1 = -N) joins at once
 * once all are logged in, each join broadcast to everyone present
 * (XEP-0045 7.2.3). The first joins alone and configures the room, so
 * that the others do not bounce off a locked room. Measured: the seconds
 * until the last self-presence, and the server's CPU until then plus
 * -e seconds of settling (the broadcasts still queued).
 */
static int
run_joinstorm(void)
{
	struct srvstat	 a, b;
	double		 t;
	uint32_t	 i;

	muc_join(conns[0]);
	conn_flush(conns[0]);
	muc_wait_n(1);
	settle(0.5);	/* its instant configuration unlocks the room */
	server_stat(&a);
	for (i = 1; i < nconns; i++)
		if (conns[i] != NULL) {
			muc_join(conns[i]);
			conn_flush(conns[i]);
		}
	t = muc_wait_n(nconns);
	emit("join_s", t, "s");
	emit("joins_per_s", (double)(muc_joined - 1) / t, "1/s");
	settle(opt.settle);
	server_stat(&b);
	emit("join_server_cpu_s", b.cpu - a.cpu, "s");
	emit_by_process("join_server_cpu_s", &a, &b, 1.0, "s");
	emit("occupants_missing", (double)(nconns - muc_joined), "count");
	emit("joins_refused", (double)muc_refused, "count");
	emit("sessions_lost", (double)closed_early, "count");
	emit("server_rss_total_mb", b.rss / 1048576.0, "MiB");
	close_all();
	return muc_joined < nconns || closed_early > 0 ? 1 : 0;
}

static int
run(void)
{
	struct srvstat	 a, b;
	double		 wall, selfc;
	uint32_t	 total = 0;

	switch (opt.scen) {
	case SC_LOGIN:
	case SC_RECONNECT:
		nconns = opt.pool;
		total = opt.n;
		break;
	case SC_IDLE:
		nconns = total = opt.idle;
		break;
	case SC_MSG:
		nconns = total = opt.pairs * 2;
		if (opt.carbons) {
			nprim = nconns;
			nconns = total = nprim * 2;
		}
		break;
	case SC_HIBERNATE:
		nconns = total = opt.idle;
		break;
	case SC_PRESENCE:
	case SC_PEP:
	case SC_MUC:
		nconns = total = opt.users;
		break;
	}
	conns = calloc(nconns, sizeof(*conns));
	users = calloc(nconns, sizeof(*users));
	pres_got = calloc(nconns, sizeof(*pres_got));
	mate_seq = calloc((size_t)nconns * clique_size(), sizeof(*mate_seq));
	if (conns == NULL || users == NULL || pres_got == NULL ||
	    mate_seq == NULL)
		fatal_exit("calloc");

	fprintf(stderr, "loadgen: %s %s against %s:%d (%s)\n", opt.label,
	    opt.scen_name, opt.host, opt.port, opt.domain);
	if (opt.scen == SC_PEP)
		fprintf(stderr, "loadgen: caps %s#%s\n", CAPS_NODE, caps_ver);
	server_stat(&a);
	if (a.nproc == 0 && opt.npids > 0)
		fatal_exit("no server process found");
	selfc = self_cpu();
	if (opt.fast || opt.scen == SC_RECONNECT) {
		/*
		 * fast: every user of the pool logs in once with its
		 * password and gets a token; the measured logins use them.
		 * reconnect: and enables resumable stream management, and
		 * its connection drops (the first resumption's session)
		 */
		(void)ramp(opt.pool);
		if (failed > 0 || ready < opt.pool)
			fatal_exit("%s: %" PRIu64 " of %u first logins failed",
			    opt.scen_name, failed, opt.pool);
		started = ready = failed = login_stream_errors = 0;
		rtt_net_sum = rtt_xmpp_sum = 0;
		samples_reset(&lat_login);
		server_stat(&a);
		selfc = self_cpu();
	}
	if (opt.scen == SC_RECONNECT) {
		wall = ramp(total);
		server_stat(&b);
		report_reconnects(wall, &a, &b, self_cpu() - selfc);
		close_all();
		return failed > 0 || ready == 0 ? 1 : 0;
	}
	if (opt.scen == SC_LOGIN) {
		wall = ramp(total);
		server_stat(&b);
		report_logins(wall, b.cpu - a.cpu, self_cpu() - selfc);
		if (ready > 0)
			emit_by_process("server_cpu_ms_per_login", &a, &b,
			    1e3 / (double)ready, "ms");
		close_all();
		return failed > 0 || ready == 0 ? 1 : 0;
	}
	/* all other scenarios: log every user in first */
	wall = ramp(total);
	server_stat(&b);
	report_ramp(wall, &a, &b);
	if (failed > 0 || ready < total) {
		close_all();
		return 1;
	}
	if (opt.scen == SC_HIBERNATE)
		return run_hibernate(&a);
	if (opt.scen == SC_IDLE) {
		settle(opt.settle);
		server_stat(&b);
		report_idle(&a, &b);
		emit("sessions_lost", (double)closed_early, "count");
		close_all();
		return closed_early > 0 ? 1 : 0;
	}
	/* msg, presence, pep: let initial presence settle, then run */
	settle(opt.settle);
	if (opt.scen != SC_MSG) {
		/* the server's memory with the sessions (and, pep, their
		 * caps known), before any update: to compare with pep's */
		server_stat(&b);
		emit_rss("server_rss_before_mb", &a);
		emit_rss("server_rss_ready_mb", &b);
	}
	delivered = sent = 0;
	if (opt.scen == SC_PEP) {
		emit("nodes_created_s", pep_create(), "s");
		emit("nodes_pending", (double)inflight_total(), "count");
	}
	if (opt.joinstorm)
		return run_joinstorm();
	if (opt.scen == SC_MUC) {
		emit("rooms_joined_s", muc_wait(), "s");
		emit("occupants_missing", (double)(nconns - muc_joined),
		    "count");
	}
	start_traffic();
	phase = 1;
	ev_timer_set(&phase_timer, opt.warmup, 0);
	ev_timer_start(loop, &phase_timer);
	ev_run(loop, 0);
	wall = m_t1 - m_t0;
	{
		uint64_t	d = m_deliv1 - m_deliv0;
		double		cpu = m_srv1.cpu - m_srv0.cpu;
		uint64_t	lost = drain_and_count_lost();

		emit("delivered", (double)d, "count");
		emit("delivered_per_s", (double)d / wall, "1/s");
		emit("latency_p50_ms", samples_pct(&lat_deliv, 50) / 1e3,
		    "ms");
		emit("latency_p99_ms", samples_pct(&lat_deliv, 99) / 1e3,
		    "ms");
		if (d > 0 && opt.transport == T_BOSH)
			emit("bosh_requests_per_1000", (double)(m_posts1 -
			    m_posts0) * 1000.0 / (double)d, "count");
		if (d > 0) {
			emit("server_cpu_s_per_1000", cpu * 1000.0 / (double)d,
			    "s");
			emit_by_process("server_cpu_s_per_1000", &m_srv0,
			    &m_srv1, 1000.0 / (double)d, "s");
		}
		emit("server_cpu_share", cpu / wall, "cores");
		emit("loadgen_cpu_share", (m_self1 - m_self0) / wall, "cores");
		emit("stanza_errors", (double)errors_stanza, "count");
		emit("stalls", (double)stalls, "count");
		emit("lost", (double)lost, "count");
		emit("misrouted", (double)misrouted, "count");
		emit("duplicates", (double)duplicates, "count");
		emit("sessions_lost", (double)closed_early, "count");
		emit("server_rss_total_mb", m_srv1.rss / 1048576.0, "MiB");
		if (opt.scen == SC_MSG && (opt.sm || opt.carbons)) {
			emit("sm_enabled", (double)sm_enabled, "count");
			emit("sm_acks_sent", (double)sm_acks, "count");
			if (d > 0)
				emit("carbons_per_message", (double)(m_carb1 -
				    m_carb0) / (double)d, "count");
			/* the server refused or ignored a feature */
			if ((opt.sm && sm_enabled < nconns) ||
			    (opt.carbons && m_carb1 == m_carb0))
				errors_stanza++;
		}
		if (opt.inactive > 0)
			report_csi(wall);
		if (opt.scen == SC_PEP) {
			/* every account now has its mood node and item */
			server_stat(&b);
			emit_rss("server_rss_after_mb", &b);
			emit("disco_answers", (double)disco_answers, "count");
			emit("self_events", (double)self_events, "count");
		}
		close_all();
		return d == 0 || errors_stanza > 0 || closed_early > 0 ||
		    stalls > 0 || lost > 0 || misrouted > 0 ||
		    duplicates > 0 ? 1 : 0;
	}
}

/* ---- idle over several processes ---------------------------------------- */
/*
 * One process holds at most RLIMIT_NOFILE connections (20,000 on the
 * benchmark machine, not raisable), so -j N splits the idle scenario over
 * N child processes: child i logs in its slice of the users from its own
 * source network (third octet + i), tells the parent on a pipe
 * ("READY FAILED\n"), holds its sessions until SIGTERM, then reports the
 * sessions the server closed meanwhile ("LOST\n"). The parent measures the
 * server once every child holds its sessions.
 */

static void	client_setup(void);

static void
hold_stop_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

static void
shard_child(uint32_t first, uint32_t count, uint32_t netoff, int wfd)
{
	static char	net[32];
	unsigned	a, b, c;
	ev_signal	sig;

	if (sscanf(opt.srcnet, "%u.%u.%u", &a, &b, &c) != 3 ||
	    c + netoff > 255)
		fatal_exit("-S %s has no room for %u networks", opt.srcnet,
		    netoff + 1);
	snprintf(net, sizeof(net), "%u.%u.%u", a, b, c + netoff);
	opt.srcnet = net;
	opt.first = first;
	opt.idle = count;
	opt.conc = opt.conc / opt.jobs > 0 ? opt.conc / opt.jobs : 1;
	client_setup();
	nconns = count;
	conns = calloc(nconns, sizeof(*conns));
	users = calloc(nconns, sizeof(*users));
	if (conns == NULL || users == NULL)
		fatal_exit("calloc");
	ramp(count);
	if (dprintf(wfd, "%" PRIu64 " %" PRIu64 "\n", ready, failed) < 0)
		fatal_exit("pipe: %s", strerror(errno));
	/*
	 * hold: the tick answers nothing, the io watchers answer pings.
	 * Not phase 5 (the msg scenario's drain), on which the tick ends
	 * the loop once nothing is in flight: the sessions were closed
	 * half a second after they were up, before anything was measured.
	 */
	phase = 8;
	ev_signal_init(&sig, hold_stop_cb, SIGTERM);
	ev_signal_start(loop, &sig);
	ev_run(loop, 0);
	dprintf(wfd, "%" PRIu64 "\n", closed_early);
	close_all();
	_exit(0);
}

static void
sleep_s(double secs)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
run_sharded(void)
{
	struct srvstat	 a, b;
	pid_t		 pid[64];
	FILE		*in[64];
	int		 fds[2], status;
	uint32_t	 i, per, first, count;
	uint64_t	 r, f, lost = 0;
	double		 t0, wall, gencpu = 0;
	struct rusage	 ru;
	bool		 bad = false;

	fprintf(stderr, "loadgen: %s idle against %s:%d (%s), %u sessions "
	    "from %u processes\n", opt.label, opt.host, opt.port, opt.domain,
	    opt.idle, opt.jobs);
	server_stat(&a);
	if (a.nproc == 0 && opt.npids > 0)
		fatal_exit("no server process found");
	per = (opt.idle + opt.jobs - 1) / opt.jobs;
	t0 = now();
	for (i = 0; i < opt.jobs; i++) {
		first = i * per;
		count = first < opt.idle ? opt.idle - first : 0;
		if (count > per)
			count = per;
		if (pipe(fds) == -1)
			fatal_exit("pipe: %s", strerror(errno));
		fflush(NULL);
		if ((pid[i] = fork()) == -1)
			fatal_exit("fork: %s", strerror(errno));
		if (pid[i] == 0) {
			close(fds[0]);
			shard_child(first, count, i, fds[1]);
		}
		close(fds[1]);
		if ((in[i] = fdopen(fds[0], "r")) == NULL)
			fatal_exit("fdopen: %s", strerror(errno));
	}
	ready = failed = 0;
	for (i = 0; i < opt.jobs; i++) {
		if (fscanf(in[i], "%" SCNu64 " %" SCNu64, &r, &f) != 2) {
			fprintf(stderr, "loadgen: process %u died\n", i);
			bad = true;
			continue;
		}
		ready += r;
		failed += f;
	}
	wall = now() - t0;
	server_stat(&b);
	report_ramp(wall, &a, &b);
	if (!bad && failed == 0 && ready == opt.idle) {
		sleep_s(opt.settle);
		server_stat(&b);
		report_idle(&a, &b);
	} else
		bad = true;
	for (i = 0; i < opt.jobs; i++)
		kill(pid[i], SIGTERM);
	for (i = 0; i < opt.jobs; i++) {
		if (fscanf(in[i], "%" SCNu64, &r) == 1)
			lost += r;
		else
			bad = true;
		fclose(in[i]);
		if (wait4(pid[i], &status, 0, &ru) == pid[i]) {
			gencpu += (double)ru.ru_utime.tv_sec +
			    ru.ru_utime.tv_usec / 1e6 +
			    (double)ru.ru_stime.tv_sec +
			    ru.ru_stime.tv_usec / 1e6;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				bad = true;
		}
	}
	emit("sessions_lost", (double)lost, "count");
	emit("loadgen_processes", opt.jobs, "count");
	emit("loadgen_cpu_s", gencpu, "s");
	return bad || lost > 0 ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -s login|fast|idle|msg|presence|pep|hibernate|"
	    "muc|joinstorm|\n"
	    "    reconnect-fast|reconnect-scram|reconnect-full [options]\n"
	    "  -H ADDR     server address (127.0.0.1)   -p PORT (5222)\n"
	    "  -d DOMAIN   XMPP domain (localhost)      -u PREFIX (u)\n"
	    "  -w PASS     password of every user (bench)\n"
	    "  -x PID      server process (tree root; repeatable)\n"
	    "  -l LABEL    server name in the output    -o FILE (stdout)\n"
	    "  -S NET      source addresses NET.1-254 (127.0.1)\n"
	    "  -n N        login: logins (2000)         -c N concurrent (200)\n"
	    "  -U N        login: distinct users (500)  (reconnect: the same)\n"
	    "  -k N        idle: sessions (10000)\n"
	    "  -j N        idle: over N processes, source nets NET+0..N-1\n"
	    "  -P N        msg: pairs (100)             -W N window (10)\n"
	    "  -t SECS     msg/presence/pep: measured time (10)\n"
	    "  -r SECS     warm-up (2)                  -e SECS settle (2)\n"
	    "  -N N        presence/pep: users (1050)   -C N contacts (20)\n"
	    "  -B          msg: address bare JIDs\n"
	    "  -F LIST     msg: sm,carbons (carbons: a second resource each)\n"
	    "  -I K        presence: every Kth user is inactive (csi)\n"
	    "  -a NAME     the scenario's name in the output (-s's)\n"
	    "  -V          do not check the server's SCRAM signature\n"
	    "  -T ws       login/idle/msg over WebSocket (wss:, " WS_PATH ")\n"
	    "  -T bosh     login/idle/msg over BOSH (https:, " BOSH_PATH
	    ")\n");
	exit(2);
}

/* TLS and the event loop of a process that makes connections */
static void
client_setup(void)
{
	static ev_prepare	prep;

	gnutls_global_init();
	caps_setup();
	if (gnutls_certificate_allocate_credentials(&xcred) < 0 ||
	    gnutls_priority_init(&prio, "NORMAL", NULL) < 0)
		fatal_exit("gnutls setup");
	loop = ev_default_loop(EVFLAG_AUTO);
	ev_prepare_init(&prep, login_cb);
	ev_prepare_start(loop, &prep);
	ev_timer_init(&tick, tick_cb, 0.5, 0.5);
	ev_timer_start(loop, &tick);
	ev_timer_init(&phase_timer, settle_cb, 1, 0);
}

int
main(int argc, char **argv)
{
	struct rlimit	rl;
	int		ch, rc;
	struct in_addr	ia;
	char		net[32];
	const char	*out_name = NULL;

	opt.host = "127.0.0.1";
	opt.port = 5222;
	opt.domain = "localhost";
	opt.prefix = "u";
	opt.password = "bench";
	opt.label = "server";
	opt.srcnet = "127.0.1";
	opt.n = 2000;
	opt.conc = 200;
	opt.pool = 500;
	opt.idle = 10000;
	opt.pairs = 100;
	opt.window = 10;
	opt.secs = 10;
	opt.warmup = 2;
	opt.settle = 2;
	opt.users = 1050;
	opt.contacts = 20;
	opt.json = stdout;
	opt.jobs = 1;
	while ((ch = getopt(argc, argv, "s:H:p:d:u:w:x:l:o:S:n:c:U:k:j:P:W:t:"
	    "r:e:N:C:BVF:I:a:T:")) != -1) {
		switch (ch) {
		case 's':
			opt.scen_name = optarg;
			if (strcmp(optarg, "login") == 0)
				opt.scen = SC_LOGIN;
			else if (strcmp(optarg, "fast") == 0) {
				opt.scen = SC_LOGIN;
				opt.fast = true;
			}
			else if (strcmp(optarg, "idle") == 0)
				opt.scen = SC_IDLE;
			else if (strcmp(optarg, "msg") == 0)
				opt.scen = SC_MSG;
			else if (strcmp(optarg, "presence") == 0)
				opt.scen = SC_PRESENCE;
			else if (strcmp(optarg, "pep") == 0)
				opt.scen = SC_PEP;
			else if (strcmp(optarg, "hibernate") == 0)
				opt.scen = SC_HIBERNATE;
			else if (strcmp(optarg, "reconnect-fast") == 0) {
				opt.scen = SC_RECONNECT;
				opt.reconn = RC_FAST;
				opt.fast = true;
			} else if (strcmp(optarg, "reconnect-scram") == 0) {
				opt.scen = SC_RECONNECT;
				opt.reconn = RC_SCRAM;
			} else if (strcmp(optarg, "reconnect-full") == 0) {
				opt.scen = SC_RECONNECT;
				opt.reconn = RC_FULL;
			}
			else if (strcmp(optarg, "muc") == 0)
				opt.scen = SC_MUC;
			else if (strcmp(optarg, "joinstorm") == 0) {
				opt.scen = SC_MUC;
				opt.joinstorm = true;
			}
			else
				usage();
			break;
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'd': opt.domain = optarg; break;
		case 'u': opt.prefix = optarg; break;
		case 'w': opt.password = optarg; break;
		case 'x':
			if (opt.npids == (int)(sizeof(opt.pids) /
			    sizeof(opt.pids[0])))
				usage();
			opt.pids[opt.npids++] = atoi(optarg);
			break;
		case 'l': opt.label = optarg; break;
		case 'o':
			if ((opt.json = fopen(optarg, "a")) == NULL)
				fatal_exit("%s: %s", optarg, strerror(errno));
			break;
		case 'S': opt.srcnet = optarg; break;
		case 'n': opt.n = (uint32_t)atol(optarg); break;
		case 'c': opt.conc = (uint32_t)atol(optarg); break;
		case 'U': opt.pool = (uint32_t)atol(optarg); break;
		case 'k': opt.idle = (uint32_t)atol(optarg); break;
		case 'j': opt.jobs = (uint32_t)atol(optarg); break;
		case 'P': opt.pairs = (uint32_t)atol(optarg); break;
		case 'W': opt.window = (uint32_t)atol(optarg); break;
		case 't': opt.secs = atof(optarg); break;
		case 'r': opt.warmup = atof(optarg); break;
		case 'e': opt.settle = atof(optarg); break;
		case 'N': opt.users = (uint32_t)atol(optarg); break;
		case 'C': opt.contacts = (uint32_t)atol(optarg); break;
		case 'B': opt.bare = true; break;
		case 'V': opt.no_verify = true; break;
		case 'F':
			opt.sm = strstr(optarg, "sm") != NULL;
			opt.carbons = strstr(optarg, "carbons") != NULL;
			break;
		case 'I': opt.inactive = (uint32_t)atol(optarg); break;
		case 'a': out_name = optarg; break;
		case 'T':
			if (strcmp(optarg, "ws") == 0)
				opt.transport = T_WS;
			else if (strcmp(optarg, "bosh") == 0)
				opt.transport = T_BOSH;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (out_name != NULL && opt.scen_name != NULL)
		opt.scen_name = out_name;
	if (opt.scen_name == NULL || opt.conc == 0 || opt.pool == 0 ||
	    opt.window == 0 || opt.secs <= 0 || opt.contacts == 0)
		usage();
	if ((opt.scen == SC_PRESENCE || opt.scen == SC_PEP ||
	    opt.scen == SC_MUC) && opt.users % clique_size() != 0)
		fatal_exit("-N must be a multiple of -C + 1 (cliques)");
	if (opt.jobs == 0 || opt.jobs > 64 ||
	    (opt.jobs > 1 && opt.scen != SC_IDLE))
		usage();
	/* web sessions: the scenarios that write one element at a time */
	if (opt.transport != T_TCP && opt.scen != SC_LOGIN &&
	    opt.scen != SC_IDLE && opt.scen != SC_MSG)
		usage();
	/* bosh: no FAST (it is a TCP login here) */
	if (opt.transport == T_BOSH && opt.fast)
		usage();
	if ((opt.scen == SC_LOGIN || opt.scen == SC_RECONNECT) &&
	    opt.pool > opt.n)
		opt.pool = opt.n;
	snprintf(net, sizeof(net), "%s.0", opt.srcnet);
	if (inet_pton(AF_INET, net, &ia) != 1)
		fatal_exit("bad -S %s", opt.srcnet);
	srcaddr = ia.s_addr;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.jobs > 1)
		rc = run_sharded();
	else {
		client_setup();
		rc = run();
	}
	fprintf(stderr, "loadgen: %s %s %s\n", opt.label, opt.scen_name,
	    rc == 0 ? "ok" : "FAILED");
	return rc;
}
