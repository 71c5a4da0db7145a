/*
 * The c2s process: client TCP/TLS streams, XML stream negotiation, SASL and
 * resource binding; stanzas go to the router over one framed link.
 */
#ifndef PARLEY_C2S_H
#define PARLEY_C2S_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <gnutls/gnutls.h>

#include "../common/accept.h"
#include "../common/buf.h"
#include "../common/conf.h"
#include "../common/link.h"
#include "../common/mucjoin.h"
#include "../common/peer.h"
#include "../common/routerlink.h"
#include "../common/tls.h"
#include "../common/transport.h"
#include "../common/xmlstream.h"
#include "sasl.h"

#define NS_SASL2	"urn:xmpp:sasl:2"	/* XEP-0388 */

#define STREAM_OUT_MAX		(4u << 20)	/* never-reading clients */
/*
 * Stanzas read over the stanza rate (st->held). Reading stops at the
 * first, so only the rest of that read (TP_READ_CHUNK of input) waits,
 * but stamped with the session's JID and framed it can grow many times.
 * One frame's worth: the largest stanza (LINK_STANZA_MAX) with its
 * envelope always fits.
 */
#define STREAM_HELD_MAX		LINK_MAX_PAYLOAD
#define STREAM_HIBERNATE	5.0		/* seconds of silence before a
						   session's XML parser is
						   freed (xstream_hibernate) */
#define STREAM_ID_LEN		16		/* hex digits */

enum stream_state {
	ST_HEADER,	/* waiting for the client's stream header */
	ST_FEATURES,	/* negotiating: STARTTLS, SASL */
	ST_STARTTLS,	/* <proceed/> queued; handshake once flushed */
	ST_HANDSHAKE,	/* TLS handshake in progress */
	ST_AUTH_WAIT,	/* waiting for the router's credentials */
	ST_AUTHED,	/* authenticated, not bound */
	ST_BIND_WAIT,	/* waiting for the router's bind answer */
	ST_BOUND,	/* a session: stanzas flow */
	ST_RESUME_WAIT,	/* XEP-0198 <resume/>: waiting for the router */
	ST_CLOSING	/* closing: flush, then free */
};

/* stanzas held for an inactive session (csi.c), oldest first */
struct csi_item;
struct csi_queue {
	struct csi_item		*head, *tail;
	struct map		*latest;	/* sender's full JID -> its
						   held presence; NULL if
						   none */
	size_t			 count, bytes;
};

/*
 * Stream management (XEP-0198, sm.c). Counters are modulo 2^32. The
 * router keeps the unacked stanzas it sent (docs/internals.md, "Stream
 * management"); the c2s maps the client's h to the router's numbers.
 */
struct sm_mark {
	uint32_t		 pos;		/* h_out when it was written */
	uint32_t		 seq;		/* the router's number */
};
struct sm_state {
	bool			 on;		/* <enabled/>, <resumed/> sent */
	bool			 pending;	/* <enable/> at the router */
	bool			 resumable;
	bool			 synced;	/* the router numbers its
						   stanzas to us (rseq is its
						   count) */
	bool			 lost;		/* the connection was lost: the
						   router may hibernate */
	bool			 asked;		/* our <r/> awaits its <a/> */
	char			*id;
	uint32_t		 max;		/* resumption seconds */
	uint32_t		 h_in;		/* handled from the client */
	uint32_t		 h_out;		/* stanzas written to it */
	uint32_t		 acked_h;	/* the client's last h */
	uint32_t		 rseq;		/* router stanzas received */
	uint32_t		 acked;		/* router number acked */
	uint32_t		 last;		/* router number last written */
	uint32_t		 resume_h;	/* <resume h/> in flight */
	double			 asked_at;
	struct ctimer		 timer;		/* <r/> after an interval */
	struct sm_mark		*marks;		/* written, not acked: ring */
	size_t			 mhead, mn, mcap;
};

/* dead connection detection (ping.c) */
struct ping_state {
	struct ctimer		 timer;
	bool			 out;		/* sent, nothing read since */
	uint32_t		 seq;		/* of the last ping; 0: none */
	double			 sent_at;
};

struct stream {
	uint64_t		 sid;
	struct transport	 tp;		/* socket, TLS, output, timer
						   (negotiation, hibernation,
						   idle), linger and reap */
	double			 last_read;
	enum stream_state	 state;
	struct listener		*lst;
	bool			 tls_on;	/* TLS is on (tp.tls_on) */
	bool			 header_sent;
	bool			 authed;
	bool			 registered;	/* the router knows the session */
	bool			 gone;		/* out of the table, the router
						   told: closing or dead */
	bool			 paused;	/* router link congested */
	struct xstream		*xs;
	char			 id[STREAM_ID_LEN + 1];
	char			*domain;	/* our host the client asked for */
	char			*lang;
	char			*node;		/* after SASL */
	char			*jid;		/* full JID once bound */
	char			*bind_id;	/* the bind IQ's id */
	uint32_t		 auth_req;	/* LINK_AUTH_GET in flight */
	char			*reg_id;	/* XEP-0077 IQ awaiting the
						   router; NULL if none */
	char			*preauth;	/* XEP-0445 token given;
						   NULL if none */
	struct sasl		*sasl;
	struct fast		*fast;		/* XEP-0484 request and the
						   device's tokens (fast.c);
						   NULL if none */
	struct sasl2		*sasl2;		/* an XEP-0388 exchange and
						   its inline requests
						   (sasl2.c); NULL if none */
	struct upgrade		*upgrade;	/* XEP-0480 task asked for
						   (upgrade.c); NULL if none */
	enum sasl_mech		 mech;
	int			 auth_failures;
	char			 peer[PEER_KEY_MAX]; /* address key */
	struct auth_job		*auth_job;	/* PLAIN derivation running
						   (auth.c); NULL if none */
	bool			 counted;	/* in the address's count */
	double			 tokens;	/* c2s-stanza-rate bucket */
	double			 tokens_at;
	struct ctimer		 throttle;	/* reading paused by the rate */
	bool			 throttled;
	struct buf		 held;		/* stanzas read but over the
						   rate, in order (at most
						   what one read brought) */
	bool			 held_full;	/* said so since it emptied */
	char			*presence;	/* the last broadcast available
						   presence (XML), for a new
						   router; NULL if none */
	size_t			 presence_len;
	bool			 presence_own;	/* the client sent one on
						   this stream */
	struct mucjoin		*rooms;		/* rejoin.c */
	size_t			 nrooms;
	bool			 inactive;	/* XEP-0352 <inactive/> */
	bool			 carbons_asked;	/* sasl2.c's enable IQ awaits
						   its result */
	struct csi_queue	 csi;		/* held while inactive */
	struct sm_state		 sm;		/* XEP-0198 */
	struct ping_state	 ping;		/* XEP-0199 */
	void			*web;		/* WebSocket, BOSH session:
						   tp has no socket, its
						   framing carries the bytes;
						   NULL over TCP */
	void			(*web_gone)(void *web);	/* freed */
	size_t			 web_max;	/* the largest element its web
						   framing carries (0: none
						   of its own): XEP-0478 */
};

struct auth_job;

struct c2s {
	struct ev_loop		*loop;
	struct conf		 conf;
	int			 instance;
	struct tls_ctx		 tls;
	struct link		*up;		/* router; NULL while down */
	struct routerlink	 uplink;	/* keeps up */
	struct map		*streams;	/* sid -> stream */
	uint64_t		 next_sid;
	struct listener		*listeners;
	size_t			 npaused;	/* paused by the uplink */
	bool			 draining;	/* drain.c */
	bool			 holding;	/* quiesce.c: the router
						   restarts, client stanzas
						   are held */
	struct buf		 scratch;	/* stanza serialization */
	size_t			 nstreams;
};

extern struct c2s	c2s;

/* listen.c */
int	listen_open(void);
void	listen_pause(bool);
/* closes the listening sockets for good (a drain) */
void	listen_close(void);

/*
 * boshfwd.c: BOSH requests between workers, from the router link.
 * LINK_BOSH_FWD from origin (flags LINK_F_BOSH_CANCEL: its connection
 * went); LINK_BOSH_ANSWER from owner (request id 0: every request sent
 * to it); the link is gone. Strings borrowed; body may be NULL.
 */
void	boshfwd_request(uint32_t origin, uint32_t id, uint16_t flags,
	    const char *client, size_t clen, const char *body, size_t blen);
void	boshfwd_answer(uint32_t owner, uint32_t id, uint32_t status,
	    uint32_t http, const char *body, size_t len);
void	boshfwd_link_lost(void);

/* drain.c: LINK_DRAIN, with its grace in seconds */
void	drain_start(uint32_t grace);

/*
 * quiesce.c: a planned router restart. LINK_QUIESCE starts holding what
 * clients send (c2s.holding); the next router's LINK_HELLO, or
 * c2s-restart-hold seconds (30 by default), ends it: what was held goes
 * on (or, with no router, is refused).
 */
void	quiesce_start(void);
void	quiesce_end(void);

/*
 * rejoin.c: the rooms of our services a session is in, joined again
 * after a router crash (docs/internals.md, "Group chat after a crash").
 * At most C2S_REJOIN_ROOMS_MAX rooms a session, each join presence at
 * most C2S_REJOIN_XML_MAX bytes (docs/hardening.md).
 */
#define C2S_REJOIN_ROOMS_MAX	128
#define C2S_REJOIN_XML_MAX	MUCJOIN_XML_MAX
/* a directed presence the session sent (el: the stanza, to normalised) */
void	rejoin_out(struct stream *, const struct xnode *el, struct arena *,
	    int type, const char *to);
/* a broadcast presence the session sent */
void	rejoin_own(struct stream *, int type);
/* a presence the router sent the session */
void	rejoin_in(struct stream *, const struct link_stanza *);
/* the router is new: each room's join again */
void	rejoin_announce(struct stream *);
/* the router's LINK_SESS_KEEP: a room a resumed session is in */
void	rejoin_keep(struct stream *, const char *to, const char *xml,
	    size_t len);
void	rejoin_free(struct stream *);

/* stream.c */
void	stream_accept(struct listener *, int fd);
/*
 * A stream of a web transport (websocket.c, bosh.c): no socket of its
 * own; the framing f carries its output to web, which feeds its input
 * with stream_feed. secure: SASL PLAIN allowed, no STARTTLS offered.
 * gone(web) when the stream is freed.
 */
struct stream *stream_web_new(const char *peer, bool secure,
	    const struct tp_framing *f, void *web, void (*gone)(void *));
void	stream_feed(struct stream *, const char *, size_t);
/* the same, for input that must be exactly one whole element */
void	stream_feed_element(struct stream *, const char *, size_t);
void	stream_write(struct stream *, const char *, size_t);
void	stream_puts(struct stream *, const char *);
void	stream_error(struct stream *, enum stream_err, const char *text);
/* with the condition's character data (see-other-host's HOST[:PORT]) */
void	stream_error_data(struct stream *, enum stream_err, const char *data,
	    const char *text);
void	stream_close(struct stream *);
void	stream_restart(struct stream *);
struct stream *stream_find(uint64_t sid);
void	stream_send_element(struct stream *, const struct xnode *);
void	stream_features(struct stream *);
/* the router link drained below its high-water mark (or is gone) */
void	stream_resume_all(void);
/*
 * The held stanzas go on, in order, as the rate and the router link
 * allow (after a restart, quiesce.c; the link drained, uplink.c)
 */
void	stream_release_all(void);
/*
 * Every stream, in a new array (*v, freed by the caller): for walks that
 * close streams, which map_foreach does not allow. Closed streams stay
 * valid until the loop reaps them.
 */
size_t	stream_list(struct stream ***v);
/* the idle and hibernation timer of a bound session starts */
void	stream_bound(struct stream *);
/* the connection is dead: dropped, a resumable session hibernates */
void	stream_lost(struct stream *);
/* the router's LINK_SESS_KEEP: a resumed session's available presence */
void	stream_presence_kept(struct stream *, const char *xml, size_t len);

/* auth.c */
void	auth_features(struct stream *, struct buf *);
int	auth_element(struct stream *, struct xnode *);
/* the router's LINK_AUTH_CRED; status is an enum link_auth_status */
void	auth_creds(struct stream *, int status, const struct scram_creds *);
/* the limits of a client stream until it authenticates */
const struct xstream_preauth *auth_preauth(void);
/* the mechanisms offered (out holds SASL_NMECH), for RFC 6120 or 0388 */
size_t	auth_mechs(struct stream *, bool sasl2, const char **out);
int	auth_reset(struct stream *);
void	auth_start(struct stream *, const char *mech, bool sasl2,
	    struct buf *in);
void	auth_response(struct stream *, struct buf *in);
void	auth_abort(struct stream *);
void	auth_fail(struct stream *, enum sasl_err);
void	auth_fail_text(struct stream *, enum sasl_err, const char *text);
/* authenticated: the XEP-0388 inline steps, or RFC 6120 <success/> */
void	auth_complete(struct stream *, struct buf *data);

/* sasl2.c: XEP-0388 with XEP-0440, XEP-0386 and XEP-0198 inline */
struct sasl2;
void	sasl2_features(struct stream *, struct buf *);
void	sasl2_cb_features(struct stream *, struct buf *);
void	sasl2_cb_collect(struct stream *, struct sasl *,
	    bool have[SASL_NCB]);
void	sasl2_ssdp(struct stream *, bool sasl2, const bool have[SASL_NCB],
	    struct buf *);
/* 0 when el was an XEP-0388 element (handled), 1 if not */
int	sasl2_element(struct stream *, struct xnode *, struct arena *);
void	sasl2_challenge(struct stream *, const struct buf *);
void	sasl2_failure(struct stream *, enum sasl_err, const char *text);
void	sasl2_success(struct stream *, const struct buf *data);
/* the mechanism succeeded and inline steps run: answers go to sasl2 */
bool	sasl2_pending(const struct stream *);
void	sasl2_bound(struct stream *, enum stanza_err);
void	sasl2_sm_result(struct stream *, const char *xml, size_t len,
	    bool ok);
void	sasl2_stream_free(struct stream *);
/* the id of the carbons enable IQ of Bind2 (XEP-0386), the c2s's own */
#define SASL2_CARBONS_ID	"bind2-carbons"
/* ls is the router's answer to that IQ: the c2s's, not the client's */
bool	sasl2_carbons_answer(struct stream *, const struct link_stanza *);

/* upgrade.c: SASL upgrade tasks (XEP-0480) */
struct upgrade;
void	upgrade_features(struct stream *, struct buf *);
void	upgrade_parse(struct stream *, const struct xnode *, struct arena *);
void	upgrade_creds(struct stream *, const struct scram_creds *);
/* true when <continue/> went out instead of the success */
bool	upgrade_continue(struct stream *, const struct buf *data);
int	upgrade_element(struct stream *, const struct xnode *, struct arena *);
bool	upgrade_running(const struct stream *);
/* the router's LINK_AUTH_UPGRADED (ok: stored), or its link lost */
bool	upgrade_waiting(const struct stream *);
void	upgrade_stored(struct stream *, bool ok);
void	upgrade_stream_free(struct stream *);

/* fast.c: FAST tokens (XEP-0484) */
struct fast;
void	fast_features(struct stream *, struct buf *);
bool	fast_offered(struct stream *, enum sasl_mech);
/* the <fast/> and <request-token/> of an <authenticate/>; -1 and why */
int	fast_parse(struct stream *, const struct xnode *, const char *dev,
	    const char **why);
bool	fast_used(const struct stream *);
/* the XEP-0388 user-agent id, "" if none */
const char *fast_device(const struct stream *);
/* the device's stored record (LINK_AUTH_CRED) */
void	fast_record(struct stream *, const char *, size_t);
void	fast_creds(struct stream *, const struct scram_creds *);
void	fast_authed(struct stream *);
/* appends a <token/> if one is issued; stores the record */
void	fast_success(struct stream *, struct buf *out);
void	fast_stream_free(struct stream *);

/* bind.c */
void	bind_features(struct stream *, struct buf *);
int	bind_element(struct stream *, struct xnode *, struct arena *);
/* the router's LINK_SESS_BOUND: XERR_COUNT when bound */
void	bind_result(struct stream *, enum stanza_err, const char *jid);
int	bind_begin(struct stream *, const char *full, const char *id);

/* register.c: XEP-0077 in-band registration before authentication */
void	register_features(struct stream *, struct buf *);
/* 0 when el was a registration IQ (answered or sent on), 1 if not */
int	register_element(struct stream *, struct xnode *, struct arena *);
/* the router's LINK_REG_RESULT for stream sid (which may be gone):
   XERR_COUNT when the name may be taken (LINK_F_REG_CHECK) or was */
void	register_result(uint64_t sid, uint16_t flags, enum stanza_err);
void	register_link_lost(void);

/* limits.c */
/* false when the address is over c2s-max-per-address */
bool	limits_conn_open(struct stream *);
void	limits_conn_close(struct stream *);
/* the same for a connection counted under key (peer.h), HTTP's */
bool	limits_addr_open(const char *key);
void	limits_addr_close(const char *key);
/* the address failed auth-fail-max logins within the window */
bool	limits_auth_blocked(struct stream *);
void	limits_auth_failed(struct stream *);
/*
 * c2s-stanza-rate: seconds until the session may send its next stanza
 * (0: now), and taking that stanza's token.
 */
double	limits_stanza_wait(struct stream *);
void	limits_stanza_take(struct stream *);
/* XEP-0478: the limits this stream enforces, for its features */
void	limits_features(const struct stream *, struct buf *);

/* csi.c: client state indication (XEP-0352) */
enum csi_class {
	CSI_URGENT,	/* sent at once, after what is held */
	CSI_HOLD,	/* held in order */
	CSI_LATEST	/* held; replaces the sender's held presence */
};
void	csi_features(struct stream *, struct buf *);
/* 0 when el was a CSI element (handled, or the stream closed), 1 if not */
int	csi_element(struct stream *, struct xnode *);
/*
 * A stanza from the router for a bound session (ls borrowed); rseq is
 * its number at the router (sm_arrived), -1 if none.
 */
void	csi_deliver(struct stream *, const struct link_stanza *,
	    int64_t rseq);
/* what an inactive session is sent: kind and type are the envelope's */
enum csi_class csi_classify(int kind, int type, const char *xml, size_t len);
/* writes what is held, in order (why: for the log) */
void	csi_flush(struct stream *, const char *why);
/* the held stanzas' router numbers less base (sm_link_lost) */
void	csi_renumber(struct stream *, uint32_t base);
/* the stream is freed: what is held goes with it, as unwritten output */
void	csi_free(struct stream *);
/* frees the message parser (tests) */
void	csi_shutdown(void);
/* caps.c: the server's XEP-0115 caps in the stream features */
/* the router's ver for our host domain; -1 when malformed */
int	caps_host_set(const char *domain, const char *ver);
/* appends <c/> for st's host, if the router said its ver */
void	caps_features(struct stream *, struct buf *);
void	caps_host_clear(void);

/* sm.c: stream management (XEP-0198) */
void	sm_init(struct stream *);
void	sm_features(struct stream *, struct buf *);
/* 0 when el was an SM element (handled, or the stream closed), 1 if not */
int	sm_element(struct stream *, struct xnode *);
/* a stanza of the client was handled (XEP-0198 h); -1 undoes one */
void	sm_handled(struct stream *, int);
/* a router stanza for st arrived: its router number, or -1 if none */
int64_t	sm_arrived(struct stream *);
/* that frame is not the client's: acknowledged with what came before */
void	sm_skipped(struct stream *, int64_t rseq);
/* a stanza was written to the client: rseq as for csi_deliver */
void	sm_written(struct stream *, int64_t rseq);
/* the router's LINK_SM_ENABLED, LINK_SM_RESUMED */
void	sm_enabled(struct stream *, const char *id, uint32_t max);
void	sm_resumed(struct stream *, enum stanza_err, const char *jid,
	    const char *id, uint32_t h_in, uint32_t acked, uint32_t max);
/* the router link is lost / back (re-announce) */
void	sm_link_lost(struct stream *);
void	sm_link_up(struct stream *);
/* <enable/> and <resume/> with their attributes read (sasl2.c) */
void	sm_enable_with(struct stream *, bool resumable, uint32_t max);
void	sm_resume_with(struct stream *, const char *previd, uint32_t h);
int	sm_parse_u32(const char *, uint32_t *);
void	sm_enable_parse(const struct xnode *, bool *resumable, uint32_t *max);
int	sm_resume_parse(const struct xnode *, const char **previd,
	    uint32_t *h);
void	sm_free(struct stream *);
/* an <r/> that only asks for a sign of life (ping.c) */
void	sm_request(struct stream *);

/* ping.c: dead connections (XEP-0199 pings, or XEP-0198 <r/>) */
void	ping_init(struct stream *);
void	ping_free(struct stream *);
/* the session is bound (or resumed): silence counts from here */
void	ping_start(struct stream *);
/* 0 when el answers our last ping (consumed), 1 if not */
int	ping_element(struct stream *, const struct xnode *);

/* uplink.c */
void	uplink_start(void);
bool	uplink_up(void);
/* the text of what is refused while the router is away or restarting */
#define UPLINK_AWAY_TEXT	"the server is restarting; try again"
void	uplink_auth_get(struct stream *, const char *node);
void	uplink_sess_begin(struct stream *, const char *jid);
void	uplink_sess_end(struct stream *);
int	uplink_stanza(struct stream *, int kind, int type, const char *to,
	    const char *from, struct buf *xml);
void	uplink_sm_enable(struct stream *);
void	uplink_sm_ack(struct stream *);
void	uplink_sm_resume(struct stream *, const char *previd, uint32_t h);
void	uplink_fast_put(struct stream *, const char *dev, const struct buf *);
void	uplink_auth_fail(struct stream *);
void	uplink_auth_upgrade(struct stream *, const struct scram_cred *);

/* metrics.c: /metrics, answered with the router's text */
void	metrics_result(uint32_t id, const char *text, size_t len);
void	metrics_link_lost(void);

#endif
