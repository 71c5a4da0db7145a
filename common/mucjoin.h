/*
 * A group chat join kept to be sent again after a router crash, for a
 * session (c2s/rejoin.c) or a user of another server (s2s/rejoin.c):
 * docs/internals.md, "Group chat after a crash". One record is the last
 * join presence (XEP-0045 7.2.1) to one room, rewritten to ask for no
 * history, and the nick it is under; the owners keep the records and
 * their caps, this holds what both do to one.
 */
#ifndef PARLEY_MUCJOIN_H
#define PARLEY_MUCJOIN_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "conf.h"
#include "xml.h"

#define NS_MUC		"http://jabber.org/protocol/muc"
/* the largest join kept (docs/hardening.md) */
#define MUCJOIN_XML_MAX	4096

struct mucjoin {
	char	*to;		/* room@service/nick */
	char	*prev;		/* the nick before a change the room has
				   not confirmed yet, or NULL */
	char	*xml;		/* the join, asking for no history (len
				   bytes and a NUL) */
	size_t	 len;
};

/* what a presence from the room (mucjoin_in) says of the record */
enum mucjoin_said {
	MUCJOIN_OTHER,		/* nothing: another occupant's */
	MUCJOIN_SELF,		/* the room took the join or the nick */
	MUCJOIN_GONE		/* not in the room (left, refused): forget */
};

/* the length of jid's bare part (up to the '/') */
size_t	mucjoin_bare_len(const char *jid);
/* jid (room@service[/nick]) is of the record's room */
bool	mucjoin_room_is(const struct mucjoin *, const char *jid);
/* to (room@service/nick) is at one of c's group chat services */
bool	mucjoin_ours(const struct conf *c, const char *to);
/*
 * The join presence el (from and to set) as it is sent again, returns
 * new: its <x xmlns=muc> with every <history/> replaced by one asking for
 * none (7.2.14), the password and the rest kept. NULL past
 * MUCJOIN_XML_MAX or without <x/>.
 */
char	*mucjoin_build(const struct xnode *el, struct arena *, size_t *len);
/* xml (taken, len bytes) becomes the record's join, under to */
void	mucjoin_set(struct mucjoin *, const char *to, char *xml, size_t len);
void	mucjoin_clear(struct mucjoin *);
/* what a presence the user sent a room (mucjoin_out) is */
enum mucjoin_sent {
	MUCJOIN_NONE,		/* nothing to keep (a nick change is done) */
	MUCJOIN_LEAVE,		/* unavailable, or error (17.1.4): forget */
	MUCJOIN_JOIN		/* a join (7.2.1): build it and keep it */
};

/*
 * The presence el of type the user sent to to (a room, or an occupant
 * JID); j is its record of that room, or NULL. 7.6: one without <x/>
 * under another nick is a nick change, done to j here; the old nick
 * stays until the room confirms the new (mucjoin_in).
 */
enum mucjoin_sent mucjoin_out(struct mucjoin *j, const struct xnode *el,
	    int type, const char *to);
/* a presence of type from the room's occupant JID from to the user */
enum mucjoin_said mucjoin_in(struct mucjoin *, const char *from, int type);

#endif
