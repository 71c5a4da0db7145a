/*
 * The s2s process: federation with other XMPP servers (RFC 6120 server
 * streams). Outgoing streams per (local domain, remote domain) pair,
 * found with SRV (c-ares) or a static route, secured with STARTTLS or
 * direct TLS, authenticated with SASL EXTERNAL (XEP-0178) when the peer's
 * certificate verifies and Server Dialback (XEP-0220) otherwise. Incoming
 * streams accept only stanzas whose from and to domains were
 * authenticated on that stream. Stanzas come from and go to the router
 * over one framed link.
 */
#ifndef PARLEY_S2S_H
#define PARLEY_S2S_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>
#include <gnutls/gnutls.h>

#include "../common/accept.h"
#include "../common/buf.h"
#include "../common/conf.h"
#include "../common/jid.h"
#include "../common/link.h"
#include "../common/routerlink.h"
#include "../common/tls.h"
#include "../common/transport.h"
#include "../common/xml.h"
#include "../common/xmlstream.h"
#include "dialback.h"
#include "srv.h"

#define NS_DIALBACK		"jabber:server:dialback"
#define NS_DIALBACK_FEATURE	"urn:xmpp:features:dialback"
#define NS_COMPONENT		"jabber:component:accept"	/* XEP-0114 */
#define CONN_OUT_MAX		(8u << 20)	/* peers that do not read */
#define CONN_ID_LEN		32		/* hex digits of our stream ids */
/*
 * A stream header or control element we write with our own content: two
 * domains (each at most six bytes a character once escaped), our ids and
 * keys, markup.
 */
#define S2S_CTL_MAX		(12 * JID_PART_MAX + 4096)
#define CONN_SID_MAX		128		/* longest peer stream id kept */
#define S2S_DB_KEY_MAX		1024		/* longest peer key we check */
/* our db:verify: the control element and a peer's key, escaped */
#define S2S_VERIFY_MAX		(S2S_CTL_MAX + 6 * S2S_DB_KEY_MAX)
/*
 * Stanzas of an incoming stream held while the router is away (c->held).
 * Reading stops at the first, so only the rest of that read waits; one
 * frame's worth: the largest stanza (LINK_STANZA_MAX) with its envelope
 * always fits.
 */
#define CONN_HELD_MAX		LINK_MAX_PAYLOAD

enum conn_state {
	CS_CONNECTING,	/* outgoing: TCP connect in progress */
	CS_HANDSHAKE,	/* TLS handshake in progress */
	CS_HEADER,	/* waiting for the peer's stream header */
	CS_FEATURES,	/* outgoing: waiting for <stream:features/> */
	CS_STARTTLS,	/* outgoing: <starttls/> sent, waiting <proceed/>
			   (incoming: CS_HANDSHAKE once <proceed/> is
			   queued) */
	CS_SASL,	/* outgoing: <auth/> sent */
	CS_DIALBACK,	/* outgoing: <db:result/> sent */
	CS_OPEN,	/* stanzas may flow */
	CS_CLOSING
};

/* a resolved address of a target */
struct dns_addr {
	struct sockaddr_storage	sa;
	socklen_t		salen;
};

struct out;

/* one TCP connection carrying a server stream, either direction */
struct conn {
	uint64_t		 id;
	struct transport	 tp;		/* socket, TLS, output, timer
						   (set-up deadline, idle),
						   linger and reap */
	bool			 outgoing;
	enum conn_state		 state;
	double			 last_io;
	gnutls_session_t	 tls;		/* tp.tls once TLS is on */
	gnutls_certificate_credentials_t creds;	/* outgoing: ours */
	bool			 tls_on;
	bool			 direct_tls;	/* TLS from the first byte */
	bool			 cert_ok;	/* peer cert verified for
						   the remote domain */
	bool			 header_sent;
	bool			 gone;		/* out of the table: closing
						   or dead */
	struct xstream		*xs;
	char			 sid[CONN_SID_MAX + 1];	/* the stream id
						   (ours when incoming,
						   theirs when outgoing) */
	char			*local;		/* our domain */
	char			*remote;	/* the peer's domain */
	/* outgoing */
	struct out		*o;
	bool			 no_external;	/* the peer refused it */
	char			*peer;		/* incoming: address key
						   counted in listen.c */
	/* incoming: authenticated "local remote" pairs -> 1 */
	struct map		*pairs;
	struct buf		 held;		/* stanzas for the router while
						   its link is down (framed as
						   out.c's queue); reading
						   pauses meanwhile */
	struct conn		*next_held;
	bool			 paused;	/* router link congested */
	bool			 sasl_done;
	bool			 component;	/* XEP-0114 (component.c); the
						   domain is remote */
	bool			 comp_on;	/* handshake done: in comps */
	int			 db_pending;	/* db:result being verified */
	double			 db_tokens;	/* s2s-dialback-rate bucket */
	double			 db_at;
};

/* a db:verify we sent for an incoming db:result, awaiting its answer */
struct verify {
	uint64_t		 conn;		/* the incoming conn's id */
	char			*id;		/* its stream id */
	char			*key;
	struct verify		*next;
};

/* the outgoing side of one (local, remote) domain pair */
struct out {
	char			*key;		/* "local remote" */
	char			*local;
	char			*remote;
	struct conn		*c;		/* NULL while none */
	struct srv_target	*targets;
	size_t			 ntargets;
	size_t			 target;	/* being tried */
	struct dns_addr		*addrs;		/* of that target */
	size_t			 naddrs, addr;
	bool			 resolving;
	bool			 ready;		/* authenticated: stanzas go */
	bool			 no_external;
	bool			 retry_same;	/* reconnect to the same
						   address (after EXTERNAL
						   was refused) */
	bool			 reached;	/* some target connected */
	bool			 routed;	/* an s2s-route: the operator
						   chose the address */
	struct buf		 queue;		/* framed stanzas waiting */
	size_t			 nqueued;
	struct ctimer		 timer;		/* set-up deadline */
	struct verify		*verifies;	/* to send once the stream is
						   open */
};

struct s2s {
	struct ev_loop		*loop;
	struct conf		 conf;
	struct tls_ctx		 tls;		/* server side, every host */
	gnutls_certificate_credentials_t *host_creds; /* client side, per
						   host, with the trust */
	char			 secret[65];	/* dialback */
	struct link		*up;		/* router */
	struct routerlink	 uplink;	/* keeps up */
	struct listener		*listeners;
	struct map		*conns;		/* id -> conn */
	struct map		*outs;		/* "local remote" -> out */
	uint64_t		 next_id;
	struct conn		*held;		/* conns with held stanzas */
	size_t			 npaused;	/* paused by the uplink */
	bool			 quiesced;	/* LINK_QUIESCE heard: the
						   router restarts, nothing
						   more goes to it */
	struct map		*rejoins;	/* rejoin.c: "room real" ->
						   its join, or NULL */
	struct map		*rjdomains;	/* remote domain -> joins */
};

extern struct s2s	s2s;

/* dns.c: c-ares in the libev loop */
int	dns_init(void);
/*
 * SRV records of _xmpps-server._tcp.domain and _xmpp-server._tcp.domain:
 * fn gets the merged, unordered targets (caller owns them); none when
 * neither exists (a domain that does not exist then fails at its A/AAAA
 * lookup).
 */
void	dns_srv(const char *domain, void (*fn)(void *, struct srv_target *,
	    size_t), void *arg);
/* A and AAAA of host: fn gets the addresses with port set (caller owns) */
void	dns_addrs(const char *host, uint16_t port, void (*fn)(void *,
	    struct dns_addr *, size_t), void *arg);

/* conn.c */
/* an incoming conn on fd, or an outgoing one (connect with tp_connect) */
struct conn *conn_new(int fd, bool outgoing);
void	conn_write(struct conn *, const char *, size_t);
void	conn_puts(struct conn *, const char *);
void	conn_send_element(struct conn *, const struct xnode *);
void	conn_error(struct conn *, enum stream_err, const char *text);
void	conn_close(struct conn *);
/* reading stops (paused: router link congested; held: router away) */
void	conn_update_reading(struct conn *);
void	conn_start_tls(struct conn *, bool client);
/*
 * Our stream header (incoming streams), built in b (cleared here): sent,
 * the conn then waits in CS_FEATURES; or, when fail says a put did not
 * fit, the stream ends with internal-server-error and -1.
 */
int	conn_send_header(struct conn *, struct buf *b, int fail);
/* a new random stream id of ours in c->sid */
void	conn_new_sid(struct conn *);
void	conn_restart(struct conn *);
/* the set-up deadline becomes the idle timeout */
void	conn_opened(struct conn *);
struct conn *conn_find(uint64_t id);
const char *conn_name(const struct conn *);

/* listen.c */
int	listen_open(void);
void	listen_pause(bool);
/* the limits of an incoming stream until a domain is authenticated */
const struct xstream_preauth *listen_preauth(void);
/* counts an incoming conn's address; false (conn closed) over the limit */
bool	listen_peer_admit(struct conn *);
void	listen_peer_gone(struct conn *);

/* in.c: incoming streams (the callbacks of an incoming conn) */
/* the router link is back: held stanzas go, reading resumes */
void	in_release_held(void);
/* the router link drained below its high-water mark (or is gone) */
void	in_resume_all(void);
void	in_accept(struct listener *, int fd);
void	in_open(struct conn *, const struct xnode *hdr, const char *ns);
void	in_element(struct conn *, struct xnode *, struct arena *);
void	in_tls_done(struct conn *);
/* the authoritative server answered our db:verify for conn id */
void	in_verified(uint64_t conn, const char *local, const char *remote,
	    bool valid);

/*
 * A stanza read from c (to and from checked, xml its bytes) to the
 * router: held while the router is away, the conn paused while its link
 * is congested.
 */
void	in_forward(struct conn *c, int kind, int type, const char *to,
	    const char *from, const struct buf *xml);

/*
 * A stanza of an authenticated stream (content namespace ns) to the
 * router: to and from required (improper-addressing), allowed() checks
 * them (it ends the stream itself and returns false), then the stanza is
 * serialised as the router's bytes and handed to in_forward.
 */
void	in_pass(struct conn *, struct xnode *, struct arena *, int kind,
	    const char *ns, bool (*allowed)(struct conn *, const struct jid *,
	    const struct jid *));

/* component.c: external components (XEP-0114) */
void	comp_accept(struct listener *, int fd);
void	comp_open(struct conn *, const struct xnode *hdr);
void	comp_element(struct conn *, struct xnode *, struct arena *);
void	comp_gone(struct conn *);
/* the open stream of the component serving domain, or NULL */
struct conn *comp_conn(const char *domain);

/* out.c: outgoing streams */
void	out_stanza(const char *to, const char *from, const char *xml,
	    size_t len);
void	out_connected(struct conn *);
void	out_open(struct conn *, const struct xnode *hdr, const char *ns);
void	out_element(struct conn *, struct xnode *, struct arena *);
void	out_tls_done(struct conn *);
void	out_conn_gone(struct conn *);
/* an incoming db:result for (local, remote) needs remote's word */
void	out_verify(const char *local, const char *remote, uint64_t conn,
	    const char *id, const char *key);

/*
 * Parses one stanza (bytes in the router's form, jabber:client) for a
 * bounce: fn gets the tree and its arena. -1 if it is not one element.
 */
int	s2s_parse(const char *xml, size_t len,
	    void (*fn)(struct xnode *, struct arena *, void *), void *arg);

/* policy.c: what the operator allows of a remote domain */
/* s2s-require-valid-cert and its per-domain lists: no dialback */
bool	policy_cert_required(const char *remote);
/* one of our hosted domains or components': a peer may never claim it */
bool	policy_is_ours(const char *domain);

/*
 * rejoin.c: the rooms of our group chat services users of other servers
 * are in, joined again after a router crash (docs/internals.md, "Group
 * chat after a crash: remote occupants"). At most S2S_REJOIN_MAX joins
 * in all and S2S_REJOIN_DOMAIN_MAX of one remote domain, each at most
 * MUCJOIN_XML_MAX bytes (docs/hardening.md).
 */
#define S2S_REJOIN_MAX		10000
#define S2S_REJOIN_DOMAIN_MAX	1000
/*
 * A presence a remote user (from, full; comp: a component's) sent to to,
 * el the stanza with to and from set (in_pass), or our bounce of what
 * was sent to that user (type error)
 */
void	rejoin_out(const struct xnode *el, struct arena *, int type,
	    const char *to, const char *from, bool comp);
/* a presence the router sends out (from: ours, to: a remote user) */
void	rejoin_in(int type, const char *to, const char *from);
/* the router is back after a crash: each room's join again, on l */
void	rejoin_announce(struct link *l);
/* the joins kept, of domain (NULL: in all) */
size_t	rejoin_count(const char *domain);
void	rejoin_clear(void);

/* stats.c: connection counts for the router's /metrics */
void	stats_start(void);

/* uplink.c */
void	uplink_start(void);
bool	uplink_up(void);
/*
 * A stanza from a remote server (or a bounce) to the router; comp: from
 * a component or our bounce for one (LINK_F_COMPONENT), never a peer's
 */
int	uplink_stanza(int kind, int type, const char *to, const char *from,
	    const char *xml, size_t len, bool comp);

#endif
