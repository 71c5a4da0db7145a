/*
 * Framed links between processes (c2s, s2s and parleyctl <-> router).
 * Every frame: a 16-byte header in network byte order -- len (u32, payload
 * bytes), type (u16), flags (u16), sid (u64 session id) -- then the payload.
 * Payload fields: u8/u16/u32/u64 in network byte order; str is a u32 length
 * (0xffffffff for NULL) then the bytes (no NUL). Statuses and conditions
 * travel as fixed numbers (xmpp.h, below), never as enum ordinals. See
 * docs/internals.md, which also says how each reply finds its request.
 */
#ifndef PARLEY_LINK_H
#define PARLEY_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <gnutls/gnutls.h>

#include "buf.h"
#include "xmpp.h"

#define LINK_VERSION		24
#define LINK_HDR_LEN		16
#define LINK_MAX_PAYLOAD	(1u << 20)
/* the largest serialised stanza a process hands on: room for the envelope */
#define LINK_STANZA_MAX		(LINK_MAX_PAYLOAD - 8192)

/* who speaks in a LINK_HELLO; fixed on the wire */
enum link_role {
	LINK_ROLE_C2S = 1,
	LINK_ROLE_CTL = 2,
	LINK_ROLE_S2S = 3,
	LINK_ROLE_ROUTER = 4,
	LINK_ROLE_PROXY = 5		/* the SOCKS5 bytestream proxy */
};
#define LINK_ROLE_BIT(r)	(1u << (r))
/* a c2s instance is the top 16 bits of its session ids; 0 for the others */
#define LINK_INSTANCE_MAX	0xffff

/* XEP-0388 user-agent id (a UUID) and a FAST record's bytes at most */
#define LINK_DEVICE_MAX		36
#define LINK_FAST_MAX		256

/* LINK_AUTH_CRED status; fixed on the wire */
enum link_auth_status {
	LINK_AUTH_OK = 0,
	LINK_AUTH_NO_USER = 1,
	LINK_AUTH_FAILED = 2,		/* storage trouble: try again later */
	LINK_AUTH_DISABLED = 3		/* parleyctl disable */
};

/* LINK_PROXY_RESULT status; fixed on the wire */
enum link_proxy_status {
	LINK_PROXY_OK = 0,		/* paired, relaying */
	LINK_PROXY_NOT_FOUND = 1,	/* not two connections with the hash */
	LINK_PROXY_BUSY = 2		/* past proxy-max-relays */
};

/* LINK_BOSH_ANSWER status; fixed on the wire (docs/internals.md, BOSH) */
enum link_bosh_status {
	LINK_BOSH_OK = 0,		/* the owner's: HTTP status, body */
	LINK_BOSH_UNKNOWN = 1,		/* no c2s of that instance since the
					   router started */
	LINK_BOSH_DOWN = 2,		/* that c2s's link is gone */
	LINK_BOSH_BUSY = 3		/* the owner holds as many forwarded
					   requests as it may */
};
/* header flag of LINK_BOSH_FWD: the request's connection went (no body) */
#define LINK_F_BOSH_CANCEL	0x0001

/*
 * LINK_CTL_REPLY status: fixed numbers rather than errno values, which
 * differ between systems. X(enum, wire value, errno)
 */
#define LINK_CTL_STATUSES(X)						\
	X(LINK_CTL_OK,		0, 0)					\
	X(LINK_CTL_EXISTS,	1, EEXIST)				\
	X(LINK_CTL_NO_ACCOUNT,	2, ENOENT)				\
	X(LINK_CTL_FULL,	3, ENOSPC)				\
	X(LINK_CTL_INVALID,	4, EINVAL)				\
	X(LINK_CTL_FAILED,	5, EIO)
#define LINK_CTL_ENUM(e, v, err)	e = v,
enum link_ctl_status { LINK_CTL_STATUSES(LINK_CTL_ENUM) };

/*
 * The payload of LINK_SECRETS: never logged, wiped where replaced (the
 * c2s keeps the last it got across a router link loss).
 */
#define LINK_SECRET_LEN		32
struct link_secrets {
	uint8_t		sasl[LINK_SECRET_LEN];
	uint8_t		upload[LINK_SECRET_LEN];
};

/* LINK_METRICS_GET flag: the OpenMetrics format, else Prometheus 0.0.4 */
#define LINK_METRICS_OM		0x0001

/* output queues closed over their cap in this process (link.c) */
extern uint64_t	link_overflows;

/* LINK_CTL_REPLY header flag: more replies to the same request follow */
#define LINK_CTL_MORE		0x0001

/*
 * X(enum, value, minimum payload)
 *   0x00xx  any link
 *   0x01xx  c2s <-> router: sessions and authentication
 *   0x02xx  stanzas
 *   0x03xx  parleyctl <-> router (control)
 *   0x04xx  proxy <-> router (XEP-0065 bytestreams)
 */
#define LINK_TYPES(X)							\
	/* both ways, first on every link: u32 version (first in every */ \
	/*   version), u32 role, u32 instance */			\
	X(LINK_HELLO,		0x0001, 12)				\
	/* c2s->router, sid = session: u32 request id, */		\
	/*   str user (nodeprepped), str domain, str device (the */	\
	/*   XEP-0388 user-agent id, "" if none) */			\
	X(LINK_AUTH_GET,	0x0101, 16)				\
	/* router->c2s: u32 request id (AUTH_GET's), */			\
	/*   u32 status (enum link_auth_status), if ok per hash */	\
	/*   SHA-1, SHA-256: u32 iter, str salt, str stored_key, */	\
	/*   str server_key, then str the device's FAST record */	\
	/*   (c2s/fast.c; "" if none) */				\
	X(LINK_AUTH_CRED,	0x0102, 8)				\
	/* c2s->router: str full jid, u32 flags (reserved) */		\
	X(LINK_SESS_BEGIN,	0x0103, 8)				\
	/* router->c2s: u32 stanza error (wire number, 0: bound), */	\
	/*   str jid */							\
	X(LINK_SESS_BOUND,	0x0104, 8)				\
	/* c2s->router: the session is gone (no payload; flags */	\
	/*   LINK_F_SESS_LOST: lost, hibernated if resumable) */	\
	X(LINK_SESS_END,	0x0105, 0)				\
	/* router->c2s: close the session with u32 stream error */	\
	/*   (wire number, never 0) */					\
	X(LINK_SESS_KICK,	0x0106, 4)				\
	/* c2s->router, sid = stream: in-band registration (XEP-0077): */ \
	/*   str node (nodeprepped), str domain, str client address, */	\
	/*   str preauth token (XEP-0445; NULL: none), then the */	\
	/*   creds as in LINK_AUTH_CRED */				\
	X(LINK_REG_ADD,		0x0107, 16)				\
	/* router->c2s: u32 stanza error (wire number, 0: created) */	\
	/*   flags LINK_F_REG_CHECK: LINK_REG_ADD without the creds */	\
	/*   asks whether the account may be made (the answer has it */	\
	/*   too) before the c2s derives them */			\
	X(LINK_REG_RESULT,	0x0108, 4)				\
	/* router->c2s, sid 0, after its LINK_HELLO, one per host: */	\
	/*   str domain, str ver (the server's XEP-0115 caps, sha-1) */	\
	X(LINK_HOST_CAPS,	0x0109, 8)				\
	/* stream management (XEP-0198), docs/internals.md: */		\
	/* c2s->router: u32 flags (LINK_SM_F_RESUME), u32 max (the */	\
	/*   client's, 0: none), u32 h_in, u32 h_out, str id ("": a */	\
	/*   new one; else re-announced after a router restart) */	\
	X(LINK_SM_ENABLE,	0x010a, 20)				\
	/* router->c2s: str id ("": not resumable), u32 max; the */	\
	/*   router numbers its stanzas to the session from here, 1 */	\
	/*   being the first LINK_STANZA after this frame */		\
	X(LINK_SM_ENABLED,	0x010b, 8)				\
	/* c2s->router: u32 acked (the router's number through */	\
	/*   which the client acked), u32 h_in, then the anchor: */	\
	/*   u32 h_out (stanzas written), u32 last (the router's */	\
	/*   number of the last of its stanzas among them) */		\
	X(LINK_SM_ACK,		0x010c, 16)				\
	/* c2s->router, sid = the new stream: str account (bare */	\
	/*   JID, authenticated), str previd, u32 h (the client's) */	\
	X(LINK_SM_RESUME,	0x010d, 12)				\
	/* router->c2s: u32 stanza error (wire number, 0: resumed), */	\
	/*   str full jid, str id, u32 h_in, u32 acked (the replay */	\
	/*   follows as LINK_STANZA numbered from acked + 1), u32 max */ \
	X(LINK_SM_RESUMED,	0x010e, 24)				\
	/* c2s->router: str node, str domain, str device, str FAST */	\
	/*   record (c2s/fast.c, opaque to the router; "" deletes) */	\
	X(LINK_FAST_PUT,	0x010f, 16)				\
	/* c2s->router, sid 0: u32 request id, u32 flags */		\
	X(LINK_METRICS_GET,	0x0111, 8)				\
	/* router->c2s, sid 0: u32 request id, str text */		\
	X(LINK_METRICS,		0x0112, 8)				\
	/* c2s->router, sid = the stream: a SASL failure, counted */	\
	X(LINK_AUTH_FAIL,	0x0113, 0)				\
	/* s2s->router, every few seconds: u32 n, then n times str */	\
	/*   state, u32 incoming, u32 outgoing (connections) */	\
	X(LINK_S2S_COUNTS,	0x0114, 4)				\
	/* either way: envelope (u8 kind, u8 type, u16 0, str to, */	\
	/*   str from), then str xml. c2s->router: sid = sender; */	\
	/*   router->c2s: sid = recipient session */			\
	X(LINK_STANZA,		0x0201, 20)				\
	/* router->c2s, sid 0: the same stanza for several sessions */	\
	/*   (presence fan-out): the LINK_STANZA envelope and xml, */	\
	/*   then u32 count and count u64 session ids */		\
	/*   flags LINK_F_STAMP_TO (here and on LINK_STANZA): the xml */ \
	/*   has no 'to'; the c2s writes each session's full JID in */	\
	X(LINK_STANZA_MULTI,	0x0202, 24)				\
	/* ctl->router, sid = request id: str jid, then the creds as */	\
	/*   in LINK_AUTH_CRED */					\
	X(LINK_CTL_ADDUSER,	0x0301, 4)				\
	X(LINK_CTL_PASSWD,	0x0302, 4)				\
	/* ctl->router, sid = request id: str jid */			\
	X(LINK_CTL_DELUSER,	0x0303, 4)				\
	/* ctl->router, sid = request id: str domain (NULL: all) */	\
	X(LINK_CTL_LIST,	0x0304, 4)				\
	/* router->ctl, sid = the request's: u32 status */		\
	/*   (LINK_CTL_STATUSES), str text; flags LINK_CTL_MORE */	\
	X(LINK_CTL_REPLY,	0x0305, 8)				\
	/* ctl->router, sid = request id: str jid (NULL: every session; */ \
	/*   bare: the account's). Replies: one line per session */	\
	X(LINK_CTL_SESSIONS,	0x0306, 4)				\
	/* ctl->router: str jid (bare: every session of the account) */	\
	X(LINK_CTL_KICK,	0x0307, 4)				\
	/* ctl->router: str NULL. Replies: "name value" lines */	\
	X(LINK_CTL_STATS,	0x0308, 4)				\
	X(LINK_CTL_ABOUT,	0x0309, 4)				\
	/* router->proxy, sid = request id: str hash (the XEP-0065 */	\
	/*   DST.ADDR), str initiator (for the log) */			\
	X(LINK_PROXY_ACTIVATE,	0x0401, 8)				\
	/* proxy->router, sid = the request's: u32 status */		\
	/*   (enum link_proxy_status) */				\
	X(LINK_PROXY_RESULT,	0x0402, 4)				\
	/* ctl->router, sid = request id: str jid */			\
	X(LINK_CTL_DISABLE,	0x030a, 4)				\
	X(LINK_CTL_ENABLE,	0x030b, 4)				\
	/* ctl->router: str worker (the c2s instance, decimal), u32 */	\
	/*   grace seconds; the router sends that c2s a LINK_DRAIN */	\
	X(LINK_CTL_DRAIN,	0x030c, 8)				\
	/* router->c2s, sid 0: u32 grace seconds; stop accepting, */	\
	/*   send resumable sessions away, end the rest after grace */	\
	X(LINK_DRAIN,		0x0110, 4)				\
	/* ctl->router, sid = request id: str jid, str role (NULL: */	\
	/*   show it). The reply's text is the role's name */		\
	X(LINK_CTL_ROLE,	0x030d, 8)				\
	/* ctl->router, sid = request id: str op (create, list, */	\
	/*   revoke), str host (revoke: the token), str contact */	\
	/*   (NULL: an account invitation), u32 uses, u32 lifetime */	\
	/*   seconds (0: none). The reply's text: the URI or list */	\
	X(LINK_CTL_INVITE,	0x030e, 16)				\
	/* c2s->router, sid = stream: XEP-0480, SHA-256 credentials */	\
	/*   for an account that lacks them: str node, str domain, */	\
	/*   u32 iter, str salt, str stored_key, str server_key */	\
	X(LINK_AUTH_UPGRADE,	0x0117, 24)				\
	/* router->c2s, sid = the stream: its answer, u32 status */	\
	/*   (LINK_AUTH_OK: stored, or there already; LINK_AUTH_FAILED) */ \
	X(LINK_AUTH_UPGRADED,	0x0118, 4)				\
	/* a BOSH request whose sid names another c2s, relayed by the */ \
	/*   router, sid 0 (docs/internals.md, "Several c2s workers"): */ \
	/*   u32 instance (to the router: the owner; from it: the */	\
	/*   forwarding c2s), u32 request id, str client address, str */ \
	/*   body; flags LINK_F_BOSH_CANCEL */				\
	X(LINK_BOSH_FWD,	0x0115, 16)				\
	/* its answer, relayed back: u32 instance (to the router: the */ \
	/*   forwarding c2s; from it: the owner, also when the router */ \
	/*   answers for it), u32 request id (0, from the router: */	\
	/*   every forward to that owner), u32 status (enum */		\
	/*   link_bosh_status), u32 HTTP status, str body */		\
	X(LINK_BOSH_ANSWER,	0x0116, 20)				\
	/* ctl->router, sid = request id: str what ("router"): a */	\
	/*   planned restart (router/restart.c) */			\
	X(LINK_CTL_RESTART,	0x030f, 4)				\
	/* router->c2s and s2s, sid 0, no payload: the router is */	\
	/*   about to exit for a planned restart; send it no more */	\
	/*   stanzas (hold them) and answer */				\
	X(LINK_QUIESCE,		0x0002, 0)				\
	/* c2s and s2s->router, sid 0, no payload: the answer (every */ \
	/*   stanza sent before it is all the router gets); and, on */	\
	/*   the next router's link, after the sessions announced: */	\
	/*   "stanzas held, waiting for LINK_RELEASE" */		\
	X(LINK_QUIESCED,	0x0003, 0)				\
	/* router->c2s and s2s, sid 0, no payload: every process */	\
	/*   that was quiesced has announced its sessions (or the */	\
	/*   wait is over): send what was held */			\
	X(LINK_RELEASE,		0x0004, 0)				\
	/* router->c2s, sid = a session just resumed, after its */	\
	/*   LINK_SM_RESUMED and replay: what the c2s it left kept */	\
	/*   for it, to tell a router that comes back after a crash */	\
	/*   (docs/internals.md, "Group chat after a crash"): str to */	\
	/*   ("": str xml is its available presence; else a room's */	\
	/*   occupant JID, xml the join asking for no history) */	\
	X(LINK_SESS_KEEP,	0x0119, 8)				\
	/* router->c2s, sid 0, right after its LINK_HELLO on every c2s */ \
	/*   link: the keys every c2s shares with the router, kept in */ \
	/*   the router host's data directory (struct link_secrets): */	\
	/*   str sasl (the made-up SCRAM salts' key, c2s/sasl.c), str */ \
	/*   upload (the upload slots' key, upslot.h), LINK_SECRET_LEN */ \
	/*   bytes each */						\
	X(LINK_SECRETS,		0x011a, 8)

#define LINK_ENUM(e, v, m)	e = v,
/* LINK_SM_ENABLE flags */
#define LINK_SM_F_RESUME	0x0001
/* header flag of LINK_SESS_END: the connection was lost, not closed */
#define LINK_F_SESS_LOST	0x0001
/* header flags of LINK_REG_ADD and LINK_REG_RESULT */
#define LINK_F_REG_CHECK	0x0001
/* with LINK_F_REG_CHECK: only the token, node "" (XEP-0445 3) */
#define LINK_F_REG_TOKEN	0x0002
/* header flag of router->c2s LINK_STANZA and LINK_STANZA_MULTI */
#define LINK_F_STAMP_TO		0x0001
/*
 * header flag of s2s->router LINK_STANZA: from an external component
 * (XEP-0114) or the s2s process's bounce for one, never a remote server:
 * its 'from' is ours, so the router may send it out over federation
 */
#define LINK_F_COMPONENT	0x0002
/*
 * header flag of c2s->router LINK_STANZA: a group chat join presence the
 * c2s sends again for a session after the router came back (c2s/rejoin.c):
 * the room takes it only from a session not already its occupant, and
 * only if the room exists (docs/internals.md, "Group chat after a crash").
 * On s2s->router LINK_STANZA (sid 0; link version 23) the same for a user
 * of another server the s2s process kept (s2s/rejoin.c)
 */
#define LINK_F_MUC_REJOIN	0x0004
enum link_type { LINK_TYPES(LINK_ENUM) };

struct link_hdr {
	uint32_t	len;
	uint16_t	type;
	uint16_t	flags;
	uint64_t	sid;
};

/* what the peer said in its LINK_HELLO */
struct link_peer {
	uint32_t	version;
	uint32_t	role;		/* enum link_role */
	uint32_t	instance;
};

/* the one reader of the 16-byte header (LINK_HDR_LEN bytes at hdr) */
void		 link_hdr_decode(struct link_hdr *, const void *hdr);
const char	*link_msg_name(uint16_t type);	/* "LINK_STANZA" or "0x1234" */
/* minimum payload for a known type; -1 for an unknown type */
int		 link_msg_min(uint16_t type);
/* LINK_CTL_REPLY status of an errno value (0: LINK_CTL_OK) */
uint32_t	 link_ctl_status(int err);
/* the errno value of a status: 0, or -1 for an unknown status */
int		 link_ctl_errno(uint32_t status, int *err);

/* ---- building frames ------------------------------------------------ */

struct link;

/*
 * Frames are built in place at the end of the link's output queue:
 * link_begin() appends a header, the puts append fields, link_end()
 * patches the length in and arms the write watcher. Nothing may be
 * queued to the same link between begin and end.
 */
struct link_out {
	struct link	*l;	/* NULL: into a plain buffer */
	struct buf	*b;	/* where the puts append */
	size_t		 start;	/* offset of the header in b */
	uint16_t	 type;
	bool		 fail;	/* queue cap reached */
};

void	link_begin(struct link_out *, struct link *, uint16_t type,
	    uint64_t sid);
/*
 * The same frame into a plain buffer (b borrowed; its cap bounds the
 * frame), for a blocking tool that writes it itself (parleyctl). Ended
 * with link_end, which then only fails for a frame that did not fit.
 */
void	link_begin_buf(struct link_out *, struct buf *b, uint16_t type,
	    uint64_t sid);
/*
 * The same puts without a frame, appended to b: records kept for later and
 * read back with link_in (stanzas held while the router is away or the
 * client over its rate). No link_begin or link_end: link_out_buf_end
 * returns 0, or -1 when a put passed b's cap, the record then removed
 * whole (the caller says why to whoever sent it).
 */
void	link_out_buf(struct link_out *, struct buf *b);
int	link_out_buf_end(struct link_out *);
void	link_put_u8(struct link_out *, uint8_t);
void	link_put_u16(struct link_out *, uint16_t);
void	link_put_u32(struct link_out *, uint32_t);
void	link_put_u64(struct link_out *, uint64_t);
/*
 * The LINK_STANZA payload: u8 kind, u8 type, u16 0, str to, str from,
 * str xml (also the head of LINK_STANZA_MULTI).
 */
void	link_put_stanza(struct link_out *, int kind, int type, const char *to,
	    const char *from, const char *xml, size_t len);
void	link_put_bytes(struct link_out *, const void *, size_t);
/* u32 length + bytes; NULL allowed (length 0xffffffff) */
void	link_put_str(struct link_out *, const char *);
void	link_put_strn(struct link_out *, const char *, size_t);
/* u32 wire number of the condition (xmpp.h); XERR_COUNT, none, is 0 */
void	link_put_stream_err(struct link_out *, enum stream_err);
void	link_put_stanza_err(struct link_out *, enum stanza_err);
/* LINK_HELLO's payload: LINK_VERSION, role, instance */
void	link_put_hello(struct link_out *, enum link_role, uint32_t instance);
/* sets the header's flags of the frame being built */
void	link_set_flags(struct link_out *, uint16_t);
/* returns 0, or -1 if the frame did not fit (the link is then failed) */
int	link_end(struct link_out *);

/* ---- reading frames --------------------------------------------------- */

/* getters are sticky: after one fails the rest fail too; check at the end */
struct link_in {
	const char	*p;
	size_t		 left;
	bool		 bad;
};

void	link_in_init(struct link_in *, const void *payload, size_t len);
void	link_get_u8(struct link_in *, uint8_t *);
void	link_get_u16(struct link_in *, uint16_t *);
void	link_get_u32(struct link_in *, uint32_t *);
void	link_get_u64(struct link_in *, uint64_t *);
/* points into the payload: not NUL-terminated; *s NULL for a NULL str */
void	link_get_strn(struct link_in *, const char **s, size_t *len);
/*
 * Copies into an arena-less fixed buffer: fails if longer than max-1 or
 * if it contains a NUL. For JIDs and names.
 */
void	link_get_str(struct link_in *, char *out, size_t max);
void	link_get_bytes(struct link_in *, const void **p, size_t len);
/*
 * A LINK_STANZA payload as link_put_stanza wrote it (also the head of a
 * LINK_STANZA_MULTI one). Points into the payload; to and from are NULL
 * when absent; a payload without xml is bad.
 */
struct link_stanza {
	uint8_t		 kind, type;
	const char	*to, *from, *xml;
	size_t		 tolen, fromlen, xlen;
};
void	link_get_stanza(struct link_in *, struct link_stanza *);
/*
 * s[0..n) as a string in out (max bytes): false, out "", if s is NULL,
 * too long or holds a NUL.
 */
bool	link_strcpy(char *out, size_t max, const char *s, size_t n);
/* a condition by its wire number; an unknown number makes in bad */
void	link_get_stream_err(struct link_in *, enum stream_err *);
void	link_get_stanza_err(struct link_in *, enum stanza_err *);
/* all fields read, none short, no trailing bytes */
bool	link_in_done(const struct link_in *);

/* LINK_SECRETS's payload (ks borrowed) */
void	link_put_secrets(struct link_out *, const struct link_secrets *ks);
/*
 * Reads a LINK_SECRETS payload into *ks: 0, or -1 (ks then wiped) when a
 * key is missing, NULL or not LINK_SECRET_LEN bytes, or bytes trail.
 */
int	link_secrets_parse(const char *payload, size_t len,
	    struct link_secrets *ks);

/*
 * The one check of a LINK_HELLO, for every link: the frame is a LINK_HELLO,
 * its version LINK_VERSION (read first: a peer of another version is told
 * apart whatever follows), its role one of roles (LINK_ROLE_BIT mask), its
 * instance 1..LINK_INSTANCE_MAX for a c2s and 0 for the others, and nothing
 * more. Fills *peer as far as it read; returns 0, or -1 with the reason in
 * why.
 */
int	link_hello_parse(const struct link_hdr *, const char *payload,
	    unsigned roles, struct link_peer *peer, char *why, size_t whylen);

/* ---- the link object ---------------------------------------------------- */

/*
 * Called for each complete frame; payload is valid for the call. A return
 * of -1 fails the link (the owner's close callback runs from the loop).
 */
typedef int	link_frame_cb(struct link *, const struct link_hdr *,
		    const char *payload, void *ctx);
/* the link is gone (peer closed, error, or cap); called once, from prepare */
typedef void	link_close_cb(struct link *, const char *why, void *ctx);
/*
 * The output queue, after passing the high-water mark, is down to half
 * of it: work held back for congestion may go on (it may queue frames).
 */
typedef void	link_drain_cb(struct link *, void *ctx);

struct link {
	struct ev_loop	*loop;
	int		 fd;
	ev_io		 rio;
	ev_io		 wio;
	struct buf	 in;
	struct buf	 out;
	size_t		 high;		/* pause producers above this */
	link_frame_cb	*on_frame;
	link_close_cb	*on_close;
	link_drain_cb	*on_drain;	/* NULL: none */
	void		*ctx;
	char		 name[32];	/* for logs: "c2s[1]", "router" */
	char		 why[96];	/* first failure reason */
	bool		 failed;
	bool		 dirty;		/* on the flush list */
	bool		 paused;	/* reading stopped by the owner */
	bool		 hello_sent;	/* we said LINK_HELLO */
	bool		 hello_heard;	/* the peer's LINK_HELLO passed */
	struct link_peer peer;		/* what it said */
	bool		 over;		/* passed high since the last drain */
	struct link	*next_dead;
	struct link	*next_dirty;
	/* a remote link (linktls.h): TLS under the frames */
	gnutls_session_t tls;		/* NULL: a Unix socket */
	bool		 tls_up;	/* handshake done: frames flow */
	bool		 tls_retry;	/* a record send to finish */
	ev_timer	 hs_timer;	/* the handshake's deadline */
	/* the handshake completed (the peer proved its key); may be NULL */
	void		(*on_secure)(struct link *, void *ctx);
};

/* returns new; takes fd (non-blocking); cap: hard output limit in bytes */
struct link	*link_new(struct ev_loop *, int fd, const char *name,
		    size_t cap, link_frame_cb *, link_close_cb *, void *ctx);
/*
 * Tears down now: only from outside link callbacks, for a link that has
 * not failed. A failed link is freed by the loop after its close callback.
 */
void		 link_free(struct link *);
/* marks the link failed; the close callback runs from the prepare pass */
int		 link_fail(struct link *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* true when the output queue is above the high-water mark */
bool		 link_congested(const struct link *);
/* the low-water callback (backpressure), called from link writes */
void		 link_set_drain(struct link *, link_drain_cb *);
/* stops or resumes reading frames from the link (backpressure) */
void		 link_pause(struct link *, bool);
/* writes what is queued now (also done once per loop iteration) */
void		 link_flush(struct link *);
/*
 * fn runs before queued frames are written, every time: the router
 * commits its deferred storage writes there, so that no answer leaves
 * before what it reports is on disk (docs/internals.md, Storage).
 */
void		 link_set_before_write(void (*fn)(void));
/* installs the prepare watcher that reaps failed links; once per loop */
void		 link_loop_init(struct ev_loop *);
/*
 * What that watcher does: flushes queued output and reaps failed links
 * (their close callbacks run here). For a process with its own single
 * prepare step instead of link_loop_init.
 */
void		 link_run_pending(void);
/*
 * Runs the link over TLS (session on the link's fd, made by
 * linktls_session; the link owns it from here): nothing is read as a
 * frame and nothing queued is written until the handshake is done, which
 * must happen within timeout seconds, or the link fails. on_secure, if
 * set, is called then.
 */
void		 link_start_tls(struct link *, gnutls_session_t, double timeout);
/* sends LINK_HELLO */
void		 link_hello(struct link *, enum link_role, uint32_t instance);
/*
 * The first frame on a link: link_hello_parse, the result in l->peer and
 * l->hello_heard. On failure fails the link with the reason and returns
 * -1; a peer of another version that spoke first is answered with our own
 * LINK_HELLO as self, written out before the close, so it can say why.
 */
int		 link_hello_recv(struct link *, const struct link_hdr *,
		    const char *payload, unsigned roles, enum link_role self);
/* blocking helpers for parleyctl: write all, read one frame */
int		 link_write_all(int fd, const void *, size_t);
/* reads one frame into payload (malloc'd, caller frees); -1 on error/EOF */
int		 link_read_frame(int fd, struct link_hdr *, char **payload);

#endif
