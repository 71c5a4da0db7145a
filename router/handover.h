/*
 * The state handover of a planned restart (docs/internals.md, "Planned
 * router restart"): what only the old router's memory held, written to
 * HANDOVER_FILE in the run directory and read by the next router.
 * handover_fmt.c is the file's format (no router state: the fuzz target
 * links it alone), handover.c what goes in and how it comes back.
 */
#ifndef PARLEY_HANDOVER_H
#define PARLEY_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define HANDOVER_FILE		"router.handover"
/* 2: HO_HIST and HO_CAPS; a file of version 1 (no such records) reads */
#define HANDOVER_VERSION	2
/* the whole file, and one field: past them nothing is written or read */
#define HANDOVER_MAX		(64 * 1024 * 1024)
#define HANDOVER_FIELD_MAX	(1024 * 1024)
#define HANDOVER_FIELDS_MAX	32

/* the records, by their type byte */
enum {
	HO_ROOM = 'R',		/* room JID, salt (16 hex), locked (0/1),
				   the temporary room's record or "" */
	HO_OCC = 'O',		/* room JID, nick, bare, role, shown, occid,
				   extra or "", then 1..MUC_RES_MAX full JIDs */
	HO_DIRECTED = 'D',	/* full JID, a JID it sent presence to */
	HO_ROSTER = 'I',	/* full JID: requested the roster */
	HO_SMQ = 'Q',		/* full JID, its number (the last one the
				   old router gave is 0), kind, type, flags,
				   to, from ("": none), the stanza: one
				   unacked XEP-0198 stanza, oldest first */
	HO_CARBONS = 'C',	/* full JID: XEP-0280 carbons enabled */
	HO_HIST = 'H',		/* room JID, received at (seconds since
				   the epoch, decimal), stanza-id, the
				   message: one of the in-memory history
				   ring (the room archive off), oldest
				   first, after its room's HO_ROOM */
	HO_CAPS = 'K'		/* "algo ver" (XEP-0115), its verified
				   features joined by newlines: one
				   entry of the entity caps cache */
};

struct ho_rec {
	int		 type;
	size_t		 n;
	char		*f[HANDOVER_FIELDS_MAX];	/* NUL-terminated */
	size_t		 len[HANDOVER_FIELDS_MAX];
};

/*
 * Writing: ho_begin puts the header in b (capped at HANDOVER_MAX), each
 * ho_add one record of n fields, ho_end the length and checksum; each
 * returns -1 once b is full (the handover is then not written).
 */
int	ho_begin(struct buf *);
int	ho_add(struct buf *, int type, size_t n, const char *const *f);
int	ho_end(struct buf *);
/*
 * Reading: the whole file checked (magic, version, length, checksum,
 * every record's framing and field count, no NUL in a field) before fn
 * sees any record; -1 with why set when it is not a handover of ours.
 * fn returning -1 stops the walk (ho_parse then returns -1).
 */
int	ho_parse(const char *, size_t, int (*fn)(struct ho_rec *, void *),
	    void *arg, const char **why);

/*
 * handover.c: the router's side. handover_write (the last step of a
 * planned restart, every stanza handled) writes what the sessions still
 * attached hold; handover_load (at start) reads, checks and removes the
 * file and puts the rooms' occupants back at once; each session, when
 * its c2s announces it again (sess_begin), takes its directed presence,
 * roster interest and carbons back (handover_attach); handover_drop (the
 * workers' wait is over) ends what no session came back for, as its end
 * would have: the occupant leaves, directed presence gets unavailable.
 */
struct sess;
void	handover_write(void);
void	handover_load(void);
void	handover_attach(struct sess *);
void	handover_drop(void);
/* muc_handover.c: a local session behind a restored occupant */
void	handover_expect_muc(const char *full);
/* handover_fmt.c: the keys of m, copied (a walk must not delete) */
struct map;
char	**handover_keys(struct map *, size_t *n);
/* sm.c: the attached sessions' unacked stanzas, out and back in;
   what no session took when the wait ends is routed (sm_unacked) */
/* caps.c: the entity caps cache's verified entries, out and back in */
int	caps_handover_put(struct buf *);
int	caps_handover_get(struct ho_rec *);
int	sm_handover_put(struct buf *);
int	sm_handover_get(struct ho_rec *);
void	sm_handover_drop(void);

#endif
