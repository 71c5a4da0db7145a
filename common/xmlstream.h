/*
 * The XML stream layer: sans-IO, one expat parser per stream. Bytes go in
 * with xstream_feed(); the stream header, each complete top-level element
 * (a stanza or a negotiation element) and the stream close come out through
 * callbacks. RFC 6120 11 restrictions (no DTD, entity declarations,
 * processing instructions or comments), UTF-8 validity and the limits on
 * stanza size, depth and attributes are enforced here and reported as the
 * stream error to send.
 */
#ifndef PARLEY_XMLSTREAM_H
#define PARLEY_XMLSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "xml.h"
#include "xmpp.h"

#define XSTREAM_MAX_DEPTH	64	/* below the stream element */
#define XSTREAM_MAX_ATTRS	64	/* per element */

struct xstream_cb {
	/*
	 * <stream:stream> arrived. hdr is an element with ns/name of the
	 * header (the callback checks them: NS_STREAM "stream") and its
	 * attributes (to, from, version, id, xml:lang under NS_XML), and
	 * default_ns is the default namespace the header declared ("" if
	 * none). Borrowed for the call.
	 */
	void	(*open)(void *ctx, const struct xnode *hdr,
		    const char *default_ns);
	/*
	 * A complete top-level element. The tree lives in the arena, which
	 * the stream resets after the callback returns; copy what must
	 * outlive it.
	 */
	void	(*element)(void *ctx, struct xnode *el, struct arena *a);
	/* </stream:stream> arrived */
	void	(*close)(void *ctx);
};

struct xstream;

/* returns new. max_stanza: cap in bytes on one top-level element */
struct xstream	*xstream_new(const struct xstream_cb *, void *ctx,
		    size_t max_stanza);
void		 xstream_free(struct xstream *);
/*
 * Parses len bytes. Returns 0, or -1 on a protocol error: then
 * xstream_error() names the stream error to send and the stream must be
 * closed. After xstream_stop() (called from a callback) the rest of the
 * input is discarded and 0 is returned.
 */
int		 xstream_feed(struct xstream *, const char *data, size_t len);
/* from a callback: discard the remaining input of this feed */
void		 xstream_stop(struct xstream *);
/* top-level elements completed since xstream_new (resets included) */
uint64_t	 xstream_elements(const struct xstream *);
/*
 * Whether all the input so far ended at a boundary: no element begun
 * and not ended, no partial token held (true before the stream opens,
 * where the header's own rules apply). A framing that carries whole
 * elements (RFC 7395 3.3.3) checks this after each message.
 */
bool		 xstream_between(const struct xstream *);
/* a new stream on the same connection (after STARTTLS or SASL) */
void		 xstream_reset(struct xstream *);
enum stream_err	 xstream_error(const struct xstream *);
/* human-readable detail of the last error, for logs */
const char	*xstream_error_text(const struct xstream *);
/*
 * Frees the parser of an idle stream that sits between stanzas (false,
 * and nothing changes, when it does not); the next xstream_feed builds a
 * new one that goes on where the stream was. Memory for idle sessions.
 */
bool		 xstream_hibernate(struct xstream *);
bool		 xstream_hibernating(const struct xstream *);
/*
 * Limits of a stream whose peer has not authenticated yet
 * (docs/hardening.md): only the top-level elements in allowed (ns, and
 * name or NULL for any name in ns; ended by a NULL ns) may come, and one
 * that may not is refused with refuse at its start tag, before any of
 * its content is read; a stanza is at most max_stanza bytes (when less
 * than the stream's cap), and the tree and buffers of the stream at most
 * budget bytes (policy-violation). Streams under such limits share a
 * total per process (xstream_preauth_total; resource-constraint past
 * it). The policy is borrowed and outlives the stream, and it stays over
 * xstream_reset (STARTTLS, SASL) until xstream_preauth_end.
 */
struct xstream_name {
	const char	*ns;
	const char	*name;
};
struct xstream_preauth {
	const struct xstream_name *allowed;	/* NULL: any element */
	enum stream_err		 refuse;
	size_t			 max_stanza;
	size_t			 budget;
};
void		 xstream_preauth(struct xstream *,
		    const struct xstream_preauth *);
void		 xstream_preauth_end(struct xstream *);
/* bytes all pre-authentication streams of the process may hold; 0: any */
void		 xstream_preauth_total(size_t);
size_t		 xstream_preauth_used(void);	/* for tests */
/*
 * A process's policy before authentication, filled on first use (once the
 * configuration is read): the elements allowed (the rest refused with
 * not-authorized), their size, each stream's budget and the process total.
 */
const struct xstream_preauth *
		 xstream_preauth_policy(struct xstream_preauth *,
		    const struct xstream_name *allowed, size_t max_stanza,
		    size_t budget, size_t total);

/*
 * The input bytes about to be fed, escaped for a TRACE_XML line with the
 * secrets cut (log_esc_redacted; the state follows the stream). Valid
 * until the next log_esc.
 */
const char	*xstream_trace_text(struct xstream *, const char *data,
		    size_t len);
/*
 * Namespace table entries compared since the stream was created: what a
 * peer choosing colliding URIs would drive up (tests).
 */
uint64_t	 xstream_ns_probes(const struct xstream *);

/*
 * One-shot parsing of a stanza already serialised by us (the router
 * reading what it must answer or store, the s2s process bouncing): the
 * bytes are one element in content namespace ns. Parsers are kept for
 * reuse, one per nesting level, so a callback may parse again. fn gets
 * the tree and its arena, valid for the call. Returns -1 (logged) when
 * the bytes are not exactly one element.
 */
struct xparse;
struct xparse	*xparse_new(const char *ns, size_t max_stanza);
void		 xparse_free(struct xparse *);
int		 xparse_one(struct xparse *, const char *xml, size_t len,
		    void (*fn)(struct xnode *, struct arena *, void *),
		    void *arg);
/*
 * The parser reads a peer's bytes (the web transports' <open/> and BOSH
 * bodies): a failure is the peer's, logged at debug, not the server's.
 */
void		 xparse_peer(struct xparse *);

#endif
