/*
 * XML trees for stanzas: namespace-aware elements and text, allocated from
 * the stanza's arena, and a serializer that writes them back as XML that a
 * peer's stream with the given default namespace reads the same way.
 */
#ifndef PARLEY_XML_H
#define PARLEY_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "xmpp.h"

struct xattr {
	struct xattr	*next;
	const char	*ns;	/* NULL for an unqualified attribute */
	const char	*name;	/* local name */
	const char	*value;
};

enum xnode_type { XNODE_ELEM, XNODE_TEXT };

struct xnode {
	enum xnode_type	 type;
	struct xnode	*parent;
	struct xnode	*next;		/* next sibling */
	struct xnode	*children;	/* first child (elements and text) */
	struct xnode	*last;		/* last child */
	const char	*ns;		/* element namespace; "" if none */
	const char	*name;		/* element local name */
	struct xattr	*attrs;
	char		*text;		/* XNODE_TEXT: bytes, NUL-terminated */
	size_t		 len;		/* XNODE_TEXT: length of text */
};

/* All of these allocate from the arena; strings are copied. */
struct xnode	*xnode_new(struct arena *, const char *ns, const char *name);
/* appends a new element child; ns NULL means the parent's namespace */
struct xnode	*xnode_add(struct arena *, struct xnode *parent,
		    const char *ns, const char *name);
void		 xnode_add_text(struct arena *, struct xnode *parent,
		    const char *text, size_t len);
/* appends an existing node (and its subtree) as the last child */
void		 xnode_append(struct xnode *parent, struct xnode *child);
/* sets (replaces) or, with value NULL, removes an unqualified attribute */
void		 xnode_set_attr(struct arena *, struct xnode *,
		    const char *name, const char *value);
void		 xnode_set_attr_ns(struct arena *, struct xnode *,
		    const char *ns, const char *name, const char *value);
/* borrows: value of an unqualified attribute, or NULL */
const char	*xnode_attr(const struct xnode *, const char *name);
const char	*xnode_attr_ns(const struct xnode *, const char *ns,
		    const char *name);
/*
 * first element child with this namespace (NULL: any) and name (NULL:
 * any); a NULL parent has none, so lookups chain
 */
struct xnode	*xnode_child(const struct xnode *, const char *ns,
		    const char *name);
/* next element sibling after c matching ns/name, as xnode_child */
struct xnode	*xnode_next(const struct xnode *c, const char *ns,
		    const char *name);
/*
 * the element child when there is exactly one, else NULL: the payload
 * of an IQ get or set (RFC 6120 8.2.3)
 */
struct xnode	*xnode_only_child(const struct xnode *);
/* concatenated text of the direct text children, NUL-terminated */
char		*xnode_text(struct arena *, const struct xnode *);
/*
 * Zeroes a secret read from the tree (a password): copy, its text as
 * xnode_text gave it, and the text children of el; either may be NULL.
 */
void		 xnode_wipe(struct xnode *el, char *copy);
struct xnode	*xnode_copy(struct arena *, const struct xnode *);

/*
 * Serializes n. parent_ns is the default namespace in scope where the
 * bytes will be written ("jabber:client" for a stanza on a client stream):
 * an element in that namespace gets no xmlns attribute. Prefixed attributes
 * (xml:lang and others) get their declarations. Returns -1 if the buffer's
 * cap is reached.
 */
int		 xnode_write(struct buf *, const struct xnode *,
		    const char *parent_ns);
/* escapes &, <, > and (for attributes) ' and " */
int		 xml_escape(struct buf *, const char *, size_t);

/*
 * Turns a stanza into its error reply in place (RFC 6120 8.3): swaps to and
 * from, sets type='error', keeps the children (the original payload), and
 * appends <error type='...'><condition xmlns='...-stanzas'/></error> with
 * the condition's default type. text may be NULL.
 */
void		 stanza_make_error(struct arena *, struct xnode *stanza,
		    enum stanza_err, const char *text);
/* true for error types that must never be answered with an error */
bool		 stanza_is_error(const struct xnode *);

#endif
