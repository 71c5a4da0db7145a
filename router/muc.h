/*
 * Group chat (XEP-0045): rooms at a host's muc-name, kept in the router
 * (docs/internals.md, "Group chat"). muc.c routes and sends, muc_room.c
 * has occupants and presence, muc_msg.c messages, muc_history.c the
 * history sent on join, muc_admin.c affiliations, roles
 * and the admin and owner IQs, muc_config.c the configuration form and
 * the room's disco and durable record.
 */
#ifndef PARLEY_MUC_H
#define PARLEY_MUC_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/xml.h"

#define NS_MUC		"http://jabber.org/protocol/muc"
#define NS_MUC_USER	"http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN	"http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER	"http://jabber.org/protocol/muc#owner"
#define NS_MUC_CONFIG	"http://jabber.org/protocol/muc#roomconfig"
#define NS_MUC_INFO	"http://jabber.org/protocol/muc#roominfo"
#define NS_MUC_REQUEST	"http://jabber.org/protocol/muc#request"
#define NS_MUC_REGISTER	"http://jabber.org/protocol/muc#register"
#define NS_MUC_UNIQUE	"http://jabber.org/protocol/muc#unique"
#define NS_REGISTER	"jabber:iq:register"
#define NS_SID		"urn:xmpp:sid:0"
#define NS_OCCUPANT_ID	"urn:xmpp:occupant-id:0"
#define NS_DELAY	"urn:xmpp:delay"
#define NS_CONFERENCE	"jabber:x:conference"
#define NS_MODERATE	"urn:xmpp:message-moderate:1"

struct map;

/* sessions one occupant (one nick of one account) may join with */
#define MUC_RES_MAX	16
/* a nick is a resourceprepped resource: at most this many bytes */
#define MUC_NICK_MAX	1023
/* invitations in one message, reasons and passwords */
#define MUC_INVITES_MAX	16
/* XEP-0486 5.1: the hashes of this many PHOTOs of a room's vCard */
#define MUC_PHOTOS_MAX	8
/*
 * An occupant's presence broadcasts (docs/hardening.md): a bucket of
 * this many, refilled at this rate; past it the latest waits for a token
 */
#define MUC_PRES_BURST	5
#define MUC_PRES_RATE	1.0	/* per second */

enum muc_role { ROLE_NONE, ROLE_VISITOR, ROLE_PARTICIPANT, ROLE_MODERATOR };
enum muc_aff { AFF_OUTCAST, AFF_NONE, AFF_MEMBER, AFF_ADMIN, AFF_OWNER };
/* who may send private messages (muc#roomconfig_allowpm) */
enum muc_pm { PM_ANYONE, PM_PARTICIPANTS, PM_MODERATORS, PM_NONE };

/* a room's configuration (muc#roomconfig, XEP-0045 15.5.3) */
struct muc_cfg {
	char	*name;
	char	*desc;
	char	*password;	/* NULL or "": none */
	bool	 persistent;
	bool	 public;
	bool	 members_only;
	bool	 moderated;
	bool	 nonanon;	/* whois anyone: real JIDs for all */
	bool	 invites;	/* occupants may invite (not only admins) */
	bool	 change_subject;	/* participants may change it */
	int	 allow_pm;	/* enum muc_pm */
	int	 max_users;	/* 0: the service's muc-max-occupants */
	int	 history;	/* messages kept, <= muc-history */
	char	*lang;		/* the discussion's language tag, or NULL */
	int	 getmember;	/* roles that may get the member list
				   (1 << enum muc_role) */
	int	 pbroadcast;	/* roles whose presence others see */
	bool	 nick_change;	/* occupants may change their nick */
};

/* a set of roles (muc#roomconfig_getmemberlist, _presencebroadcast) */
#define MUC_ROLE_BIT(r)	(1 << (r))
#define MUC_ROLES_ALL	(MUC_ROLE_BIT(ROLE_VISITOR) | \
			 MUC_ROLE_BIT(ROLE_PARTICIPANT) | \
			 MUC_ROLE_BIT(ROLE_MODERATOR))

/* one nick in a room: an account's sessions behind it */
struct muc_occ {
	char		*nick;
	char		*bare;		/* the real bare JID */
	char		*res[MUC_RES_MAX];	/* its sessions' full JIDs */
	size_t		 nres;
	int		 role;
	char		*extra;		/* its presence's children (show,
					   status, caps), as XML, or NULL */
	char		 occid[48];	/* XEP-0421 */
	bool		 shown;		/* the others have its presence
					   (muc#roomconfig_presencebroadcast) */
	double		 rate_at;	/* muc-rate: this window's start */
	int		 rate_n;
	struct muc_room	*room;
	struct ctimer	 pres_timer;	/* the held presence's turn */
	double		 pres_tokens;	/* the presence bucket */
	double		 pres_at;	/* when it was last filled */
	bool		 pres_held;	/* its latest presence is not out */
	struct muc_occ	*prev, *next;	/* in join order */
};

/* one message of the history sent on join */
struct muc_hist {
	char	*xml;		/* no 'to', from the occupant JID */
	size_t	 len;
	double	 at;		/* clock_wall() */
	char	*sid;		/* its stanza-id */
};

struct muc_room {
	char		*jid;		/* node@service */
	char		*node;
	char		*service;
	char		*creator;	/* bare JID */
	struct muc_cfg	 cfg;
	bool		 locked;	/* created, waiting for its config */
	char		*subject;	/* NULL: never set */
	char		*subject_by;	/* nick (or room JID) that set it */
	struct map	*aff;		/* bare JID -> (enum muc_aff + 1) */
	struct map	*nicks;		/* registered: bare JID -> nick */
	struct map	*by_nick;	/* nick -> occ */
	struct map	*by_full;	/* real full JID -> occ */
	struct muc_occ	*occ, *occ_last;
	size_t		 nocc;
	struct muc_hist	*hist;		/* ring of cfg.history */
	size_t		 hfirst, hn, hcap;
	char		*vcard;		/* the room's vCard (XEP-0054) */
	char		 photo[MUC_PHOTOS_MAX * 41];	/* the SHA-1 (hex)
					   of each PHOTO of its vCard,
					   space-separated; "" none */
	uint64_t	 salt;		/* XEP-0421: per room */
};

/* the request being answered: a stanza to a room or an occupant */
struct muc_req {
	struct muc_room	*room;
	const char	*from;		/* the sender's real full JID */
	const char	*service;
	const char	*rnode;		/* the room's node */
	const char	*nick;		/* the occupant JID's resource */
	int		 kind, type;
	struct xnode	*el;
	struct arena	*a;
	char		 bare[JID_STR_MAX + 1];	/* from's bare JID */
	bool		 local;		/* from is one of our accounts */
	bool		 rejoin;	/* a join sent again after a crash
					   (LINK_F_MUC_REJOIN) */
};

/* muc.c: routing, sending, the room table */
struct muc_room	*muc_room_find(const char *jid);
struct muc_room	*muc_room_new(const char *node, const char *service,
		    const char *creator);
/* frees r (its occupants must have been told) and removes it */
void		 muc_room_free(struct muc_room *);
/*
 * The room's XEP-0421 salt as 16 hex digits (out: MUC_SALT_HEX + 1), and
 * back: kept in its record and handed over, so that occupant ids, and
 * with them the check of who wrote a message, survive a restart.
 */
#define MUC_SALT_HEX	16
void		 muc_salt_format(const struct muc_room *, char *out);
int		 muc_salt_parse(struct muc_room *, const char *hex);
/* rooms on service, and those creator made */
size_t		 muc_room_count(const char *service, const char *creator,
		    size_t *bycreator);
void		 muc_room_foreach(const char *service,
		    void (*fn)(struct muc_room *, void *), void *arg);
/* the occupant full JID f joined or left r */
void		 muc_joined(const char *full, struct muc_room *, bool in);
/* the rooms the session full is in (n of them; borrowed, valid until
   the next join or leave) */
struct muc_room	*const *muc_sess_rooms(const char *full, size_t *n);
/*
 * Sends xml (a stanza without 'to') to the real full JID to: a local
 * session (its c2s writes 'to' in) or through s2s. Between begin and
 * end, sends of the same bytes are one frame per c2s.
 */
void		 muc_send_begin(int kind, int type, const char *from,
		    const char *xml, size_t len);
void		 muc_send_to(const char *to);
/* the local session to blocks from (XEP-0191): muc_send_to drops */
bool		 muc_blocked_by(const char *to, const char *from);
void		 muc_send_end(void);
void		 muc_send(int kind, int type, const char *from,
		    const char *xml, size_t len, const char *to);
/* el (with from and to set) serialised and sent to its 'to' */
void		 muc_send_tree(struct xnode *el);
/* el turned into its error (from the room's JID) and sent back */
void		 muc_error(struct muc_req *, enum stanza_err, const char *text);
/* the text of parent's child ns:name, NULL when either is absent */
const char	*muc_text(struct arena *, const struct xnode *parent,
		    const char *ns, const char *name);
/* the affiliation of a bare JID */
int		 muc_aff(const struct muc_room *, const char *bare);
const char	*muc_aff_name(int);
const char	*muc_role_name(int);
int		 muc_aff_find(const char *);
int		 muc_role_find(const char *);

/* muc_room.c: occupants */
void		 muc_presence_in(struct muc_req *);
/* the session full of occupant o leaves r (extra: its presence's
   children, or NULL) */
void		 muc_leave(struct muc_room *, struct muc_occ *,
		    const char *full, const char *extra);
/* an occupant's sessions all leave (codes: the status codes shown) */
void		 muc_occ_remove(struct muc_room *, struct muc_occ *,
		    const int *codes, size_t ncodes, const char *reason,
		    const char *actor);
/* an occupant's presence, again, to everyone (a role changed) */
void		 muc_occ_broadcast(struct muc_room *, struct muc_occ *,
		    const int *codes, size_t ncodes, const char *reason,
		    const char *actor);
/* 7.2.9: nick is registered in r by someone other than bare */
bool		 muc_nick_taken(const struct muc_room *, const char *nick,
		    const char *bare);
/* the real full JID f's occupant in r, or NULL */
struct muc_occ	*muc_occ_of(const struct muc_room *, const char *full);
/* the role an occupant with affiliation aff starts with */
int		 muc_role_default(const struct muc_room *, int aff);
/* every session of every occupant gets xml (no 'to') from from */
void		 muc_broadcast(struct muc_room *, int kind, int type,
		    const char *from, const char *xml, size_t len);
/* the room goes: each occupant is told (alternate venue, reason) */
void		 muc_room_destroy(struct muc_room *, const char *venue,
		    const char *reason);

/* the room or occupant JID room/nick into out[JID_STR_MAX + 1] */
char		*muc_occ_jid(char *out, const struct muc_room *,
		    const char *nick);
/* inside a muc_send batch: to each session of p */
void		 muc_send_res(const struct muc_occ *);

/* muc_iq.c: IQs between occupants, their ids rewritten (XEP-0045 7.5) */
/* q (a get or set from me) to t with an id of ours */
void		 muc_iq_relay(struct muc_req *, const struct muc_occ *me,
		    const struct muc_occ *t);
/* q (a result or error to an occupant JID) back to who asked, if any */
void		 muc_iq_answer(struct muc_req *);
/* every waiting request forgotten (muc_clear) */
void		 muc_iq_clear(void);

/* muc_msg.c: messages to a room or an occupant */
void		 muc_message_in(struct muc_req *);

/* muc_history.c: the history sent on join, then the subject (x: the
   join's <x/>, for its <history/>) */
void		 muc_history_send(struct muc_room *, const struct xnode *x,
		    const char *full);
/* a groupchat message (no 'to') into the in-memory ring */
void		 muc_hist_add(struct muc_room *, const char *xml, size_t len,
		    const char *sid);
/* the same, received at (clock_wall()): a planned restart's handover */
void		 muc_hist_put(struct muc_room *, const char *xml, size_t len,
		    const char *sid, double at);
/* the in-memory ring emptied and freed */
void		 muc_hist_free(struct muc_room *);
/*
 * The message of stanza-id sid leaves the in-memory history and the
 * room's archive: 0, or -1 when it is not there or (occid non-NULL: an
 * author's own retraction, XEP-0424) it carries another occupant id
 * (*theirs true: it is there, and another account's).
 */
int		 muc_hist_retract(struct muc_room *, const char *sid,
		    const char *occid, bool *theirs);

/* muc_admin.c: muc#admin, muc#owner destroy, register */
void		 muc_admin_iq(struct muc_req *, struct xnode *q);
void		 muc_register_iq(struct muc_req *, struct xnode *q);
/* XEP-0425: a moderator retracts a message of the history */
void		 muc_moderate_iq(struct muc_req *, struct xnode *q);

/* muc_config.c: the owner's form, disco, the durable record */
void		 muc_cfg_default(struct muc_cfg *);
void		 muc_cfg_clear(struct muc_cfg *);
void		 muc_owner_iq(struct muc_req *, struct xnode *q);
void		 muc_disco_info(struct muc_req *, struct xnode *q);
void		 muc_vcard_iq(struct muc_req *, struct xnode *q);
/* writes a persistent room's record (or deletes a gone one's) */
void		 muc_room_save(struct muc_room *);
void		 muc_room_unsave(struct muc_room *);
/* reads the persistent rooms of every service */
void		 muc_load(void);
/*
 * XEP-0486 5.2 (as XEP-0153): a presence from the room's bare JID with
 * its avatar hash, to the session to, or to every occupant (to NULL)
 */
void		 muc_avatar_presence(struct muc_room *, const char *to);
/* the record of r (as muc_room_save writes it) into b */
int		 muc_room_record(struct muc_room *, struct buf *);
/* a room made from a record of service (NULL: unreadable, or it exists) */
struct muc_room	*muc_room_from_record(const char *service, const char *,
		    size_t);

/* muc_room.c: an occupant put back as it was, told to nobody (the
   handover of a planned restart): NULL if r has the nick or a JID */
struct muc_occ	*muc_occ_restore(struct muc_room *, const char *nick,
		    const char *bare, int role, bool shown, const char *occid,
		    const char *extra, char *const *res, size_t nres);

/* muc_handover.c: the rooms' occupants, into and out of a handover */
int		 muc_handover_put(struct buf *);
/* then the rooms' in-memory history (HO_HIST): -1 once b is full */
int		 muc_handover_put_hist(struct buf *);
/* one HO_ROOM, HO_OCC or HO_HIST record; -1 if it is refused */
struct ho_rec;
int		 muc_handover_get(struct ho_rec *);
/* after the reading: the rooms it made that have no occupant go */
void		 muc_handover_done(void);

#endif
