/*
 * The message archive (XEP-0313): the query a client sends, read by
 * router/mam_query.c (pure: the fuzz target reads it too), run by
 * router/mam.c.
 */
#ifndef PARLEY_MAM_H
#define PARLEY_MAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/arena.h"
#include "../common/xml.h"

#define NS_MAM		"urn:xmpp:mam:2"
#define NS_MAM_EXT	"urn:xmpp:mam:2#extended"
#define NS_MAM_META	"urn:xmpp:mam:2#metadata"
#define NS_SID		"urn:xmpp:sid:0"
#define NS_FORWARD	"urn:xmpp:forward:0"
#define NS_RSM		"http://jabber.org/protocol/rsm"
#define NS_RETRACT	"urn:xmpp:message-retract:1"	/* XEP-0424 */

/* a stanza-id: 16 hex digits of the entry id, 16 of its nonce */
#define MAM_SID_LEN	32

struct mam_sid {
	uint64_t	id;
	uint64_t	nonce;
};

struct mam_query {
	const char	*queryid;	/* NULL when absent */
	const char	*with;		/* bare JID, prepared; NULL: all */
	const char	*with_full;	/* the full JID when with had a
					   resource: only that one matches
					   (XEP-0313 4.1.1), XML-escaped;
					   else NULL */
	uint64_t	 start, end;	/* microseconds, inclusive */
	bool		 has_after_id, has_before_id;
	struct mam_sid	 after_id, before_id;	/* form fields */
	struct mam_sid	*ids;		/* urn:xmpp:mam:2#extended */
	size_t		 nids;
	bool		 has_ids;
	/* XEP-0059 */
	size_t		 max;		/* capped at page_max */
	bool		 has_after, has_before;
	struct mam_sid	 after, before;	/* before: valid unless empty */
	bool		 before_empty;	/* <before/>: the last page */
	bool		 backward;	/* any <before>: newest first */
	bool		 flip;		/* <flip-page/> */
	bool		 has_index;	/* XEP-0059 2.4 <index/> */
	size_t		 index;		/* SIZE_MAX past it */
};

/*
 * Reads <query xmlns='urn:xmpp:mam:2'>: its data form and RSM set. -1 with
 * *err (bad-request for a malformed form or value, item-not-found for an
 * id that cannot be ours, feature-not-implemented for RSM index) and
 * *text set. An untyped ids field is typed text-multi in the tree.
 * An RSM index is read, but not with after or before (bad-request).
 */
int	 mam_query_parse(struct arena *, struct xnode *query,
	    size_t page_max, struct mam_query *, enum stanza_err *err,
	    const char **text);
/* MAM_SID_LEN hex digits; -1 otherwise */
int	 mam_sid_parse(const char *, struct mam_sid *);
/* out holds MAM_SID_LEN + 1 bytes */
void	 mam_sid_format(char *out, const struct mam_sid *);
/* s as a prepared bare JID in a; NULL if it is not a JID */
const char *mam_bare_jid(struct arena *, const char *s);
/*
 * Whether the archived message xml (as the archive wrote it: attributes
 * in single quotes, escaped) is from or to a JID, given as xml_escape
 * writes it (esc, NUL-terminated).
 */
bool	 mam_entry_has_jid(const char *xml, size_t len, const char *esc);
/* XEP-0082 date-time to microseconds since the epoch; -1 if not one */
int	 mam_time_parse(const char *, uint64_t *us);

struct rstanza;
/*
 * mam.c: a query (iq set) on the archive of owner node@domain, whose
 * results go to the full JID to (a local session or, for a room's
 * archive, a remote occupant through s2s); the answer and errors go
 * back as deliver_tree(rs->sender) routes them. The caller checked the
 * asker may read it. mam_form_run: the query form (iq get).
 */
void	 mam_query_run(struct rstanza *, struct xnode *iq, struct arena *,
	    const char *node, const char *domain, const char *to);
void	 mam_form_run(struct rstanza *, struct xnode *iq, struct arena *);
/*
 * Archives xml (a message with its jabber:client namespace) for owner
 * node@domain (a room) with with; its stanza-id into sid[MAM_SID_LEN +
 * 1]. -1 (errno) when it was not stored.
 */
int	 mam_archive_put(const char *node, const char *domain,
	    const char *with, const char *xml, size_t len, char *sid);

#endif
