/*
 * The pieces of websocket.c that tests and the fuzz target reach: the
 * splitting of the stream's output into RFC 7395 messages and the
 * reading of <open/> and <close/>.
 */
#ifndef PARLEY_WEBSOCKET_H
#define PARLEY_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/buf.h"

#define NS_FRAMING	"urn:ietf:params:xml:ns:xmpp-framing"
#define WS_OPEN_MAX	4096	/* an <open/> or <close/> message */

enum {
	WS_EL_ELEMENT,	/* a stanza or another top-level element */
	WS_EL_OPEN,	/* the stream header: <open/> */
	WS_EL_CLOSE	/* the stream's end: <close/> */
};

/* our serialised output, cut at top-level element boundaries */
struct ws_split {
	struct buf	 out;		/* not yet a whole element */
	size_t		 scan;		/* bytes of out already scanned */
	size_t		 start;		/* the element's first byte */
	size_t		 tag;		/* the open tag's '<' */
	int		 depth;
	char		 quote;		/* inside an attribute value */
	bool		 in_tag;
	bool		 xmlns_seen;	/* the top element declares xmlns */
};

void	ws_split_init(struct ws_split *, size_t max);
void	ws_split_clear(struct ws_split *);
/*
 * Appends our bytes and calls fn(arg, msg, len, close) for each whole
 * top-level element, rewritten for RFC 7395; -1 past max or when fn
 * fails.
 */
int	ws_split_feed(struct ws_split *, const char *, size_t,
	    int (*fn)(void *, const char *, size_t, bool), void *arg);
/*
 * An RFC 7395 <open/> or <close/> message as the bytes the stream parser
 * expects (a stream header, </stream:stream>) appended to out; -1 when it
 * is not one of them, well-formed, in the framing namespace.
 */
int	ws_frame_translate(const char *, size_t, struct buf *out);

#endif
