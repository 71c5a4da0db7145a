/*
 * The router: the hub. It owns the session table, answers the c2s
 * processes' requests (credentials, binding), routes stanzas between
 * sessions and answers IQs addressed to the server. It is the only
 * process that writes storage.
 */
#ifndef PARLEY_ROUTER_H
#define PARLEY_ROUTER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/conf.h"
#include "../common/jid.h"
#include "../common/link.h"
#include "../common/xml.h"

#include "../storage/invitation.h"
#include "../storage/store.h"

struct xparse;

/* one connected process: a c2s, the s2s or a parleyctl */
struct rlink {
	struct link	*l;
	enum link_role	 role;
	uint32_t	 instance;
	struct map	*sess;		/* sid -> struct sess (c2s) */
	uint64_t	*wait;		/* sessions whose burst waits for
					   this link to drain (sids) */
	size_t		 nwait, capwait;
	double		 congested_at;	/* since when, 0 if not */
	struct rlink	*prev, *next;
	pid_t		 pid;		/* the peer's (SO_PEERCRED) */
	double		 since;		/* connected at (wall clock) */
	bool		 preauth;	/* remote, TLS handshake not done */
	bool		 quiescing;	/* LINK_QUIESCE sent, not answered
					   (restart.c) */
	bool		 answered;	/* LINK_QUIESCED in time */
	bool		 holding;	/* on the next router: holds
					   stanzas until LINK_RELEASE */
};

struct user;

/* one bound client session */
struct sess {
	struct rlink	*rl;
	uint64_t	 sid;
	char		*full;		/* node@domain/resource */
	struct user	*user;
	struct sess	*next;		/* in user->sessions */
	int		 priority;
	bool		 available;	/* sent available presence */
	bool		 initial;	/* initial presence done (RFC 6121 4.2) */
	bool		 interested;	/* requested the roster: gets pushes */
	char		*presence;	/* last available presence (XML) */
	struct map	*directed;	/* JIDs sent directed presence */
	/* what it is owed at login, sent as its link allows (sess_burst) */
	uint8_t		 burst;		/* the step, BURST_NONE when done */
	bool		 burst_offline;	/* offline messages are owed too */
	bool		 waiting;	/* on its link's wait list */
	size_t		 burst_pos;	/* where the step stopped */
	bool		 carbons;	/* XEP-0280 enabled (carbons.c) */
	struct sm	*sm;		/* XEP-0198 (sm.c); NULL if off.
					   rl is NULL while it hibernates */
};

/* the steps of a login burst, in order */
enum { BURST_NONE, BURST_OWN, BURST_PROBES, BURST_PENDING, BURST_OFFLINE,
	BURST_END };

/* the online resources of one account */
struct user {
	char		*bare;
	char		*node;		/* parts of bare */
	char		*domain;
	struct sess	*sessions;
	bool		 blocklist;	/* XEP-0191 list not empty: kept by
					   blocking.c, read by the fast path */
	bool		 removed;	/* the account was deleted: its
					   sessions are closing, nothing
					   more is stored for it */
	char		*photo;		/* XEP-0153 hash of the vCard
					   photo, "" none, NULL not read
					   yet (pep_compat.c) */
	int		 ncarbons;	/* sessions with carbons on: kept by
					   carbons.c, read by the fast path */
	struct map	*blocked;	/* XEP-0191 list in memory (JID ->
					   1), NULL not read: blocking.c */
};

/* a stanza being routed, with what the envelope says */
struct rstanza {
	struct sess	*sender;	/* local sender; NULL for the server
					   and for remote senders (from s2s) */
	int		 kind;
	int		 type;
	const char	*to;		/* normalised, NULL if absent */
	const char	*from;
	const char	*xml;
	size_t		 xlen;
	/* for IQs to an account: the account addressed (node@domain) */
	const char	*tnode;
	const char	*tdomain;
	bool		 replayed;	/* routed again by sm_unacked: its
					   recipient was told of it once */
	bool		 component;	/* from an external component
					   (LINK_F_COMPONENT): may go out */
};

struct router {
	struct ev_loop	*loop;
	struct conf	 conf;
	struct store	*store;
	int		 c2s_fd;
	int		 ctl_fd;
	ev_io		 c2s_io;
	ev_io		 ctl_io;
	struct rlink	*links;
	struct rlink	*s2s;		/* the s2s process, NULL if none */
	struct rlink	*proxy;		/* the XEP-0065 proxy, NULL if none */
	struct map	*by_full;	/* full JID -> sess */
	struct map	*by_bare;	/* bare JID -> user */
	struct map	*sm_ids;	/* XEP-0198 resumption id -> sess */
	struct xparse	*parser;	/* for stanzas whose content we read */
	struct buf	 scratch;
	double		 started;	/* wall clock, for parleyctl */
	uint64_t	 routed[4];	/* stanzas by kind (KIND_*), for
					   parleyctl stats */
	uint64_t	 logins;	/* sessions begun, for /metrics */
	uint64_t	 auth_failures;	/* SASL failures the c2s reported */
	/* every c2s gets them after our LINK_HELLO (links.c); main.c */
	struct link_secrets secrets;
};

extern struct router	router;

/* contact.c: the host's XEP-0157 addresses as a disco#info form */
void	 contact_disco_form(struct xnode *q, struct arena *,
	    const char *domain);

/* motd.c: the host's message of the day to a session, if it has one */
void	 motd_send(struct sess *);

/* metrics.c: LINK_METRICS_GET from a c2s (for /metrics) */
int	 metrics_frame(struct rlink *, const struct link_hdr *,
	    const char *payload);
/* LINK_S2S_COUNTS: the s2s process's connections by state */
int	 metrics_s2s_counts(const struct link_hdr *, const char *payload);

/* links.c: the process links (c2s, s2s) and parleyctl's */
int	 rlink_listen(void);
/* SIGHUP: the link certificates read again for the next handshakes */
void	 rlink_reload(void);
/*
 * Pauses or resumes reading the process links as their output allows;
 * true when it resumed them (frames already read are then handled
 * after the caller returns).
 */
bool	 rlink_flow(void);

/* boshrelay.c: BOSH requests between c2s workers */
int	 boshrelay_frame(struct rlink *, const struct link_hdr *,
	    const char *payload);
void	 boshrelay_link_up(struct rlink *);
void	 boshrelay_link_lost(struct rlink *);
/*
 * restart.c: a planned restart (parleyctl restart router). The waits, in
 * seconds: for every process's LINK_QUIESCED, then for the links' queues
 * to be written out (looked at every RESTART_FLUSH_STEP).
 */
#define RESTART_QUIESCE_WAIT	5.0
#define RESTART_FLUSH_WAIT	5.0
#define RESTART_FLUSH_STEP	0.02
/* the next router's wait for the processes that answered (RESTART_FILE) */
#define RESTART_GATHER_WAIT	10.0
#define RESTART_FILE		"router.restart"
/* reads and removes RESTART_FILE (run directory): the processes to await */
void	 restart_init(void);
/* LINK_QUIESCED from rl: -1 (the link fails) when unasked or malformed */
int	 restart_quiesced(struct rlink *, const struct link_hdr *);
/* rl is closing: not waited for */
void	 restart_link_gone(struct rlink *);
/* the answers are in: frames from the processes are dropped */
bool	 restart_stopping(void);
/* main's exit status: PROC_EXIT_RESTART after a planned restart, or 0 */
int	 restart_exit_status(void);

/* session.c */
void	 sess_begin(struct rlink *, uint64_t sid, const char *jid);
void	 sess_end(struct sess *);
void	 sess_kick(struct sess *, int stream_err);
struct sess *sess_find(struct rlink *, uint64_t sid);
void	 sess_end_all(struct rlink *);
/*
 * Sends what a session that became available is owed: with owed_login
 * its resources' and contacts' presence and the stored subscription
 * requests, with owed_offline the offline messages. Each step stops
 * while the link is congested and goes on when it drains.
 */
void	 sess_burst(struct sess *, bool owed_login, bool owed_offline);
/* the link drained: the bursts waiting on it go on */
void	 sess_burst_resume(struct rlink *);
/* the account's other sessions are closed with stream error err */
void	 router_user_others_end(struct sess *keep, int err);
/*
 * The c2s lost the session's connection (or the c2s is gone): a
 * resumable one hibernates, any other ends.
 */
bool	 sess_lost(struct sess *);	/* true: hibernates */
/*
 * A resumption moves the session to (rl, sid); the stream that still
 * holds it, if any, is closed with conflict.
 */
void	 sess_move(struct sess *, struct rlink *rl, uint64_t sid);

/* sm.c: stream management (XEP-0198) */
struct sm;
/* LINK_SM_ENABLE, _ACK, _RESUME; -1 for another type */
int	 sm_frame(struct rlink *, const struct link_hdr *, const char *);
/*
 * A stanza goes to s, which has SM on: kept until acked, with the flags
 * of its frame (replayed alike). True when s hibernates (nothing to
 * write it to).
 */
bool	 sm_sent(struct sess *, int kind, int type, uint16_t flags,
	    const char *to, const char *from, const char *xml, size_t len);
/* a stanza of s's client reached us (its h) */
void	 sm_inbound(struct sess *);
/* true when s is resumable: its timer runs (the caller detaches it) */
bool	 sm_hibernate(struct sess *);
/* takes s's SM state off it (NULL if none), for sm_unacked */
struct sm *sm_detach(struct sess *);
/* routes what was never acked again and frees sm (full: the session's) */
void	 sm_unacked(struct sm *, const char *full);
/* fn on each stanza s's client has not acked, oldest first */
void	 sm_each(const struct sess *, void (*fn)(const struct rstanza *,
	    void *), void *arg);

/* s2s.c */
/*
 * To the s2s process: 0 when queued; -1 when dropped, errno ENOTCONN (no
 * s2s process), EHOSTUNREACH (a non-public IP-literal domain while
 * s2s-allow-private is off), EAGAIN (its link is congested), EMSGSIZE
 * (over the frame limit) or EINVAL (a presence that did not parse). The
 * caller bounces.
 */
int	 s2s_forward(int kind, int type, const char *to, const char *from,
	    const char *xml, size_t len);
/* the stanza error (enum xerr) that bounces what s2s_forward dropped */
int	 s2s_forward_error(int err);
/* a frame from the s2s link; -1 to close it */
int	 s2s_frame(struct rlink *, const struct link_hdr *, const char *);

/* deliver.c */
void	 deliver_stanza(struct rstanza *);
/* a prepared JID (an envelope's, a stored one) at one of our domains */
bool	 domain_is_local_jid(const char *);
/*
 * Between these, deliveries of this stanza (xml, the same bytes, from
 * from) are sent as one frame per c2s process (presence broadcast).
 */
void	 deliver_fanout_begin(int kind, int type, const char *from,
	    const char *xml, size_t len);
/*
 * The same, for a stanza whose xml has no 'to' because each session must
 * be named in its own: its c2s writes it in (LINK_F_STAMP_TO). Only
 * deliver_to_sess may be used inside such a batch.
 */
void	 deliver_fanout_begin_each(int kind, int type, const char *from,
	    const char *xml, size_t len);
void	 deliver_fanout_end(void);
void	 deliver_to_sess(struct sess *, int kind, int type, const char *to,
	    const char *from, const char *xml, size_t xlen);
/*
 * Parses a stanza we must read or answer: fn gets the tree (valid for the
 * call) and its arena. Returns -1 if the bytes are not one element.
 */
int	 deliver_parse(const char *xml, size_t len,
	    void (*fn)(struct xnode *, struct arena *, void *), void *arg);
/* answers the stanza with an error (never an error to an error) */
void	 deliver_error(struct rstanza *, enum stanza_err);
/*
 * Sends a tree (an answer the server made) to a session, or with s NULL
 * routes it by its 'to' like any stanza (a remote sender's answer goes to
 * the s2s process).
 */
void	 deliver_tree(struct sess *, const struct xnode *);
/*
 * Presence to a service domain of ours (deliver.c's table): to a room,
 * routed there; the other services take none. False if to is no
 * service's.
 */
struct jid;
bool	 deliver_svc_presence(const char *from, const struct jid *to,
	    int type, const char *xml, size_t len);

/* iq.c */
/*
 * An IQ get/set for the server (tnode NULL, tdomain the domain) or, on
 * its behalf, for the account tnode@tdomain (RFC 6121 8.5.2.1.3).
 */
void	 iq_to_server(struct rstanza *, const char *tnode,
	    const char *tdomain);
/* true when the IQ's account is the sender's own */
bool	 iq_own_account(const struct rstanza *);
/*
 * True when the sender is an account of host (a service kept for the
 * host's own users); else answers forbidden. host NULL: no such host.
 */
bool	 iq_host_account(struct rstanza *, struct xnode *iq, struct arena *,
	    const char *host);
struct iq_handler;
struct jid;
/*
 * A stanza to a local service's domain (pubsub, proxy): its IQ gets and
 * sets answered by the first handler of table for the payload, anything
 * else the RFC 6120 error.
 */
void	 iq_component(struct rstanza *, const struct jid *to,
	    const struct iq_handler *const *table, size_t n);
/*
 * Such a service's disco#info (XEP-0030): iq made the result with one
 * identity and a feature per handler of table; returns its query, unsent,
 * or NULL after answering a query for a node (item-not-found).
 */
struct xnode *iq_svc_info(struct rstanza *, struct xnode *iq,
	    struct arena *, const char *category, const char *type,
	    const char *name, const struct iq_handler *const *table, size_t n);
/* its disco#items: none */
void	 iq_svc_items(struct rstanza *, struct xnode *iq, struct arena *);

/* one IQ handler: a payload namespace (and element) it answers */
struct iq_handler {
	const char	*ns;
	const char	*name;
	bool		 server;	/* answered for the server's JID */
	bool		 account;	/* answered for an account's bare JID */
	void		(*get)(struct rstanza *, struct xnode *iq,
			    struct arena *);
	void		(*set)(struct rstanza *, struct xnode *iq,
			    struct arena *);
	/*
	 * Answered on an account's bare JID too, but only as a service to
	 * the account's own sessions (RFC 6120 10.3: no 'to'): not listed
	 * in an account's disco#info; the handler refuses other senders.
	 */
	bool		 own;
};

/* one handler per protocol area, listed in iq.c's table */
extern const struct iq_handler	ping_handler;		/* ping.c */
extern const struct iq_handler	disco_info_handler;	/* disco.c */
extern const struct iq_handler	disco_items_handler;
extern const struct iq_handler	roster_handler;		/* roster.c */
extern const struct iq_handler	vcard_handler;		/* vcard.c */
extern const struct iq_handler	private_handler;	/* private.c */
extern const struct iq_handler	version_handler;	/* version.c */
extern const struct iq_handler	time_handler;		/* time.c */
extern const struct iq_handler	last_handler;		/* last.c */
extern const struct iq_handler	blocking_handler;	/* blocking.c */
extern const struct iq_handler	register_handler;	/* register.c */
extern const struct iq_handler	pubsub_handler;		/* pubsub_req.c */
extern const struct iq_handler	pubsub_owner_handler;
extern const struct iq_handler	carbons_handler;	/* carbons.c */
extern const struct iq_handler	mam_handler;		/* mam.c */
extern const struct iq_handler	mam_prefs_handler;
extern const struct iq_handler	mam_metadata_handler;
extern const struct iq_handler	extdisco_services_handler; /* extdisco.c */
extern const struct iq_handler	extdisco_credentials_handler;
extern const struct iq_handler	push_handler;		/* push.c */
extern const struct iq_handler	adhoc_handler;		/* adhoc.c */
/* adhoc.c: disco#items of node NS_COMMANDS, the commands */
void	 adhoc_disco_items(struct rstanza *, struct xnode *iq,
	    struct arena *);

/* roster.c */
/*
 * The subscription the account node@domain has with contact (a bare
 * JID): SUB_NONE when there is no item. For presence and for services
 * that answer only contacts who may see the account (XEP-0012).
 */
int	 roster_sub_of(const char *node, const char *domain,
	    const char *contact);
/* a new item would pass roster-max-items (hidden items count too) */
bool	 roster_full(const char *node, const char *domain);
/* sends a roster push of item (or its removal) to interested resources */
void	 roster_push(struct user *, const struct roster_item *, bool removed);
/*
 * Every item of the account's roster (jid and subscription state only;
 * free with roster_snapshot_free). NULL with *n = 0 when it has none or
 * the roster is unreadable (logged).
 */
struct roster_item *roster_snapshot(const char *node, const char *domain,
	    size_t *n);
void	 roster_snapshot_free(struct roster_item *, size_t n);

/* presence.c */
/*
 * The login steps (sess_burst): each starts at s->burst_pos and returns
 * 1 when it stopped for a congested link (the position saved), 0 done.
 */
int	 presence_burst_own(struct sess *);
int	 presence_burst_probes(struct sess *);
int	 presence_burst_pending(struct sess *);
/* presence from a local session (any type, with or without 'to') */
void	 presence_outbound(struct rstanza *);
/* presence to a local account node@domain (from anywhere) */
void	 presence_inbound(struct rstanza *, const char *node,
	    const char *domain, const char *resource);
/* a session is gone: unavailable to contacts and directed recipients */
void	 presence_gone(struct sess *);
/* RFC 6121 4.6.3: a session that is gone (from) to a JID it had sent
   directed presence to (the handover's sessions that did not return) */
void	 presence_unavailable_to(const char *from, const char *to);
/*
 * XEP-0191 3.3, 3.4: jid was blocked (a subscribed contact sees the user
 * go unavailable) or unblocked (and sees the current presence again).
 */
void	 presence_block_changed(struct user *, const char *jid, bool blocked);
/*
 * The item it of the account bare (u: its sessions, NULL when none) is
 * being removed: both subscriptions are cancelled (RFC 6121 2.5.2).
 */
void	 presence_roster_removed(const char *bare, struct user *u,
	    const struct roster_item *it);

/* offline.c */
/* stores a message for node@domain; -1 (errno EDQUOT) when full */
int	 offline_store(struct rstanza *, const char *node, const char *domain);
/*
 * Hands stored messages to s (first available presence, priority >= 0);
 * 1 when it stopped because the link is congested, with some left.
 */
int	 offline_deliver(struct sess *);

/* subreq.c: subscription requests waiting for an answer */
/* 0 when one more from 'from' fits the account's quotas; -1 (logged) */
int	 subreq_admit(const char *node, const char *domain, const char *from);
/* the compact record of a subscribe stanza: returns new */
char	*subreq_record(const char *xml, size_t len);
/* the stanza redelivered for a record, appended to b; -1 past its cap */
int	 subreq_stanza(struct buf *b, const char *from, const char *to,
	    const char *rec);

/* blocking.c */
/*
 * XEP-0191: true when account node@domain blocks jid (a full, bare or
 * domain JID: a block on the bare JID or the domain covers it).
 */
/*
 * The same for online account u from its list kept in memory (read once,
 * dropped when the list changes): for fan-out that must not read the
 * store per recipient (a room's, muc.c).
 */
bool	 blocking_blocks_user(struct user *u, const char *jid);
/* the list in memory freed (u goes) */
void	 blocking_forget(struct user *u);
bool	 blocking_blocks(const char *node, const char *domain,
	    const char *jid);

/* pep.c: personal eventing (XEP-0163) */
void	 pep_init(void);
/* presence to the account node@domain: remote resources are tracked */
void	 pep_presence_in(const char *node, const char *domain,
	    const char *from, int type);
/* the account (bare JID) was deleted */
void	 pep_account_gone(const char *bare);
/*
 * pep_compat.c: PEP conversions (XEP-0398, XEP-0411). A vCard the account
 * stored (card) and a private XML element it stored (el), after the
 * answer; the features the conversions add to the account's disco#info.
 */
void	 pep_compat_vcard(const char *node, const char *domain,
	    const struct xnode *card, struct arena *);
void	 pep_compat_private(const char *node, const char *domain,
	    const struct xnode *el, struct arena *);
void	 pep_compat_features(struct xnode *query, struct arena *);
/*
 * XEP-0398 4: the available presence pres of u with the XEP-0153 photo
 * hash put in. 1 with the bytes in out, 0 when it is sent unchanged.
 */
int	 pep_compat_presence(struct user *, struct xnode *pres,
	    struct arena *, struct buf *out);
/* the same from the bytes of a directed presence */
int	 pep_compat_presence_xml(struct user *, const char *xml, size_t len,
	    struct buf *out);
/* private.c: one element into the account's private XML, in a batch */
int	 private_put(const char *node, const char *domain, const char *key,
	    const struct buf *, struct store_usage *);
/* pep_disco.c: what disco#info and disco#items say of PEP */
struct xnode;
void	 pep_disco_features(struct xnode *query, struct arena *);
/* disco#info of one of the account's nodes, disco#items of them all */
void	 pep_disco_node_info(struct rstanza *, struct xnode *iq,
	    struct arena *, const char *node);
void	 pep_disco_items(struct rstanza *, struct xnode *iq,
	    struct arena *);
/*
 * pubsub_svc.c: a stanza to a host's pubsub service, or to another JID
 * at its domain, is answered there (true); false if to is no service's.
 */
struct jid;
bool	 pubsub_svc_route(struct rstanza *, const struct jid *to);

/* proxy.c: the XEP-0065 proxy's IQs; true when to is the proxy's */
bool	 proxy_svc_route(struct rstanza *, const struct jid *to);
/* upload.c: a stanza to a host's upload service (XEP-0363) */
bool	 upload_svc_route(struct rstanza *, const struct jid *to);
/* a frame from the proxy process; -1 to close its link */
int	 proxy_frame(struct rlink *, const struct link_hdr *, const char *);
/* its link is gone: the activations waiting on it are answered */
void	 proxy_link_lost(void);
/*
 * muc.c: group chat (XEP-0045). A stanza to a host's group chat service,
 * a room or an occupant is answered there (true); false if to is no
 * service's. Presence comes through muc_presence_route.
 */
bool	 muc_route(struct rstanza *, const struct jid *to);
bool	 muc_presence_route(const char *from, const struct jid *to, int type,
	    const char *xml, size_t len);
/*
 * While set, the presence routed to a room is a session's join sent
 * again by its c2s after a crash (LINK_F_MUC_REJOIN): taken only by an
 * existing room from a session not already in it, and told as a join
 */
void	 muc_rejoining(bool);
/* the session full ended: it leaves its rooms */
void	 muc_sess_gone(const char *full);
/*
 * sesskeep.c: a session resumed on s->rl (XEP-0198) is told its c2s what
 * to tell a router that comes back after a crash (LINK_SESS_KEEP)
 */
void	 sess_keep_send(struct sess *s);
/* reads the persistent rooms (start); frees every room (exit, tests) */
void	 muc_load(void);
void	 muc_clear(void);

/* mam.c: the message archive (XEP-0313) */
/*
 * A message about to be routed: archived for its local sender and its
 * local recipient as their preferences say, stanza-ids claimed by our
 * JIDs removed, the recipient's XEP-0359 stanza-id added. When the bytes
 * change, rs->xml points into out (the caller's, valid while it routes).
 */
void	 mam_route(struct rstanza *, struct buf *out);
/* the archive's features beyond urn:xmpp:mam:2 on an account's disco */
void	 mam_disco_features(struct xnode *query, struct arena *);

/* register.c: XEP-0077 account creation by the c2s (before login) */
struct link_hdr;
int	 register_frame(struct rlink *, const struct link_hdr *,
	    const char *payload);

/* carbons.c: XEP-0280 message carbons */
/* what one message's content says for carbons, read at most once */
struct carbons_msg {
	unsigned	 flags;		/* CM_* (carbons.c) */
	struct buf	 copy;		/* the message without <private/> */
};
void	 carbons_msg_init(struct carbons_msg *);
void	 carbons_msg_clear(struct carbons_msg *);
/*
 * Before a message is routed: -1 when it must be dropped (it carries a
 * carbon not made by the recipient's server, XEP-0280 11); 0 to route
 * it, rs->xml then possibly the copy in cm without <private/> (XEP-0280
 * 7, for a local recipient). One byte search unless the message names
 * the carbons namespace.
 */
int	 carbons_check(struct rstanza *, struct carbons_msg *);
/*
 * The message rs was delivered (or stored): sent carbons to the sender's
 * other enabled sessions and, with u its local recipient's account
 * (NULL if none is online), received carbons to u's enabled sessions
 * that did not get it: not got, nor the available ones of priority best
 * when best >= 0 (a delivery to the bare JID, RFC 6121 8.5.2.1.1).
 */
void	 carbons_copy(struct rstanza *, struct carbons_msg *, struct user *u,
	    const struct sess *got, int best);

/* doc.c */
/*
 * Parses a stored document (one element written with parent ns "") into
 * a tree in a; NULL (logged) if it is not one element.
 */
struct xnode	*doc_parse(struct arena *, const char *xml, size_t len);

/* retract.c: XEP-0424, the stored message a retraction names */
/* borrows: the id of el's <retract/>, or NULL when it has none */
const char	*retract_id(const struct xnode *el);
struct retract_target {
	const char	*author;	/* bare JID; borrowed */
	const char	*id;		/* borrowed */
	struct buf	 needle;	/* id as escaped in stored bytes */
};
int		 retract_target_init(struct retract_target *,
		    const char *author, const char *id);
void		 retract_target_clear(struct retract_target *);
/* xml (a stored message) is the author's message of that id */
bool		 retract_target_is(const struct retract_target *,
		    const char *xml, size_t len);

/* last.c */
/* records the start time: the server's uptime for XEP-0012 */
void	 last_init(void);

/* time and formats shared by the handlers */
/* XEP-0082 UTC date-time "YYYY-MM-DDThh:mm:ss[.sss]Z" into out[32] */
void	 xmpp_datetime(char *out, double t);
/*
 * The feature list of disco#info: one place, from the handler table
 * (those answered for the server, or for an account's bare JID).
 */
void	 iq_features(struct xnode *query, struct arena *, bool account);
/* turns iq into its result (swaps to/from, type result, no children) */
void	 iq_make_result(struct xnode *iq, struct arena *);
/* h's get or set for the iq's type, called: false when h has none */
bool	 iq_run(const struct iq_handler *, struct rstanza *, struct xnode *iq,
	    struct arena *);
/* turns iq into its error and sends it back to rs->sender */
void	 iq_error(struct rstanza *, struct xnode *iq, struct arena *,
	    enum stanza_err, const char *text);

/* capsver.c: the XEP-0115 verification string (section 5), pure */
/* hash functions by IANA name; 0 is none */
enum { CAPS_ALGO_NONE, CAPS_SHA1, CAPS_SHA224, CAPS_SHA256, CAPS_SHA384,
	CAPS_SHA512, CAPS_SHA3_256, CAPS_SHA3_512, CAPS_ALGO_COUNT };
/* base64 of a SHA-512 digest and its NUL */
#define CAPS_VER_MAX		96
/* the longest string S hashed: one link frame's worth */
#define CAPS_STRING_MAX		LINK_MAX_PAYLOAD
/* the algorithm named ("sha-1"), or -1 when we do not support it */
int	 caps_algo_find(const char *name);
const char *caps_algo_name(int algo);
/* the length of a ver under algo: base64 of its digest (0: none) */
size_t	 caps_ver_len(int algo);
/*
 * Appends S (5.1) of a disco#info <query/> to b. With featp, *featp gets
 * the sorted features (in a, borrowing the tree's strings). -1 when the
 * answer is ill-formed (5.4 steps 3.3-3.5: a duplicate identity or
 * feature, two forms of one FORM_TYPE, a FORM_TYPE with differing
 * values) or S passes b's cap.
 */
int	 caps_string(struct arena *, struct buf *b, const struct xnode *query,
	    const char ***featp, size_t *nfeatp);
/* ver (verlen bytes with the NUL) = base64(algo(s)); -1 if it fails */
int	 caps_hash(int algo, const char *s, size_t len, char *ver,
	    size_t verlen);
/* both: the ver a query hashes to under algo; -1 ill-formed */
int	 caps_ver_make(struct arena *, const struct xnode *query, int algo,
	    char *ver, size_t verlen, const char ***featp, size_t *nfeatp);

/* caps.c: entity capabilities (XEP-0115) of sessions and contacts */
/*
 * An available presence (tree: the <presence/> element) from the full
 * JID full: its caps are recorded, and an unknown ver is asked for with a
 * disco#info query from local_domain (one in flight per ver).
 */
void	 caps_seen(const char *full, const char *local_domain,
	    const struct xnode *presence);
/* full went unavailable (or its session ended) */
void	 caps_gone(const char *full);
/* full's verified features include feature (cheap: per recipient) */
bool	 caps_has(const char *full, const char *feature);
/*
 * The one listener: fn(full, arg) when full's features become known or
 * change (at once from the cache, or after a verified answer).
 */
void	 caps_on_known(void (*fn)(const char *full, void *arg), void *arg);
/*
 * An IQ result or error to the server (tnode NULL): true when it answers
 * one of our disco#info queries (then consumed).
 */
bool	 caps_iq_answer(struct rstanza *);
/* the server's own ver (sha-1) for host domain into ver[CAPS_VER_MAX] */
int	 caps_server_ver(const char *domain, char *ver);
/* sends the c2s at the end of l the ver of every host (LINK_HOST_CAPS) */
void	 caps_announce(struct link *l);
/* stops the timers and frees everything (router exit, tests) */
void	 caps_clear(void);
/* what the engine holds, for tests and statistics */
struct caps_stats {
	size_t	jids;		/* JIDs with a record (remote ones among) */
	size_t	remote;
	size_t	cached;		/* hashes with known features, or bad */
	size_t	bytes;		/* what the cache counts */
	size_t	queries;	/* in flight */
};
void	 caps_stats(struct caps_stats *);

/* disco.c */
/*
 * Fills a disco#info <query/> with the identities and features of the
 * server's host domain (account false) or of an account: the one source
 * of disco#info answers and of the server's caps ver.
 */
void	 disco_info_fill(struct xnode *query, struct arena *,
	    const char *domain, bool account);

/* push.c: push notifications (XEP-0357) */
/*
 * A message for the account node@domain was stored or queued for a
 * hibernating session: with a body, and no session that takes it now,
 * it is pushed to the account's app servers (from the loop).
 */
void	 push_message(const struct rstanza *, const char *node,
	    const char *domain);
/* the same for a subscription request kept for the account */
void	 push_subscribe(const char *node, const char *domain);
/* a session of u is back: what the pushes counted starts again */
void	 push_online(const struct user *);
/* the same for the account bare (deleted: a new one inherits nothing) */
void	 push_forget(const char *bare);
/* s hibernates: the messages its client may never have seen count */
void	 push_hibernated(const struct sess *);
/*
 * An IQ result or error to an account (rs->tnode set): true when it
 * answers one of its pushes (an error removes the registration).
 */
bool	 push_iq_answer(struct rstanza *);

/* roles.c: what an account's role lets it do (common/role.h) */
/*
 * The role of node@domain, an account of ours: admin when its host's
 * admins option lists it, else the stored one (member when none; limited
 * when storage cannot say, so a failure grants nothing).
 */
enum role role_of(const char *node, const char *domain);
/* may node@domain do cap, by its role and its own host's member-can,
   limited-can (admins may do everything) */
bool	 role_may(const char *node, const char *domain, enum role_cap cap);

/* invite.c: XEP-0379 and XEP-0401 invitations (storage/invitation.c) */
/* username: an account invitation for that localpart only, or NULL */
int	 invite_create(const char *domain, const char *creator, char kind,
	    uint32_t uses, uint32_t lifetime, const char *username,
	    char token[INVITE_TOKEN_MAX + 1], struct invite *);
bool	 invite_reserved(const char *domain, const char *node,
	    const char *hash);
/* -1 with ENOENT: unknown, used up, revoked or expired */
int	 invite_find(const char *domain, const char *token, struct invite *);
int	 invite_use(const char *domain, const char *token, struct invite *);
void	 invite_refund(const char *domain, struct invite *);
/* the periodic removal of expired invitations (invite-sweep-interval) */
void	 invite_sweep_init(void);
bool	 invite_presence_has(const struct rstanza *);
bool	 invite_presence_use(const struct rstanza *, const char *node,
	    const char *domain);
/* presence.c: the new account and the creator subscribed both ways */
void	 presence_invited(const char *node, const char *domain,
	    const char *creator);

#endif
