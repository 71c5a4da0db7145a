/*
 * Client state indication (XEP-0352): the <csi/> stream feature, the
 * <active/> and <inactive/> nonzas, and what an inactive session is sent:
 * urgent stanzas at once, the rest held in order (presence collapsed to
 * the latest per sender) until something urgent, <active/> or the cap.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "../common/xmlstream.h"
#include "c2s.h"

#define NS_CSI		"urn:xmpp:csi:0"
#define NS_CARBONS	"urn:xmpp:carbons:2"
#define NS_FORWARD	"urn:xmpp:forward:0"

/* a stanza held for an inactive session, in arrival order */
struct csi_item {
	struct csi_item	*prev, *next;
	int64_t		 rseq;		/* the router's number (sm.c) */
	size_t		 len;
	char		 xml[];
};

/*
 * Message payloads a user waits for: a message holding one of these (as a
 * child of <message/>, or of the message a carbon forwards) is sent at
 * once. child, when set, must be a child of the payload.
 */
static const struct {
	const char	*ns, *name, *child;
} csi_urgent[] = {
	{ NS_CLIENT, "body", NULL },			/* RFC 6121 5.2.3 */
	{ NS_CLIENT, "subject", NULL },			/* a room's topic */
	{ "eu.siacs.conversations.axolotl", "encrypted", NULL }, /* OMEMO */
	{ "urn:xmpp:omemo:1", "encrypted", NULL },
	{ "urn:xmpp:omemo:2", "encrypted", NULL },	/* XEP-0384 */
	{ "jabber:x:encrypted", "x", NULL },		/* XEP-0027 */
	{ "urn:xmpp:openpgp:0", "openpgp", NULL },	/* XEP-0373 */
	{ "urn:xmpp:eme:0", "encryption", NULL },	/* XEP-0380 */
	{ "urn:xmpp:jingle-message:0", "propose", NULL }, /* a call rings */
	{ "jabber:x:conference", "x", NULL },		/* XEP-0249 */
	{ "http://jabber.org/protocol/muc#user", "x", "invite" } /* XEP-0045 */
};

/*
 * Each rule above puts one of these in the bytes: an element's local
 * name (never escaped in XML), or its namespace, which only a character
 * reference could hide. A message with none of them is not urgent and is
 * not parsed; one with any is parsed, so that <body in an attribute value
 * or a body of another namespace decides nothing.
 */
static const char *const csi_needles[] = {
	"body", "subject", "encrypt", "openpgp", "propose", "conference",
	"invite", "&#"
};

static struct xparse	*csi_parser;

void
csi_features(struct stream *st, struct buf *b)
{
	(void)st;
	/* XEP-0352 4.1: offered once the client has authenticated */
	buf_puts(b, "<csi xmlns='" NS_CSI "'/>");
}

static bool
csi_payload_urgent(const struct xnode *msg, bool carbon)
{
	const struct xnode	*c, *inner;
	size_t			 i;

	for (c = xnode_child(msg, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		for (i = 0; i < nitems(csi_urgent); i++)
			if (strcmp(c->ns, csi_urgent[i].ns) == 0 &&
			    strcmp(c->name, csi_urgent[i].name) == 0 &&
			    (csi_urgent[i].child == NULL || xnode_child(c,
			    csi_urgent[i].ns, csi_urgent[i].child) != NULL))
				return true;
		/* XEP-0280 7.2, 7.3: a carbon is as urgent as its message */
		if (carbon || strcmp(c->ns, NS_CARBONS) != 0 ||
		    (strcmp(c->name, "received") != 0 &&
		    strcmp(c->name, "sent") != 0))
			continue;
		if ((inner = xnode_child(c, NS_FORWARD, "forwarded")) != NULL &&
		    (inner = xnode_child(inner, NS_CLIENT, "message")) != NULL &&
		    csi_payload_urgent(inner, true))
			return true;
	}
	return false;
}

static void
csi_parsed(struct xnode *el, struct arena *a, void *arg)
{
	bool	*urgent = arg;

	(void)a;
	*urgent = csi_payload_urgent(el, false);
}

static bool
csi_message_urgent(const char *xml, size_t len)
{
	size_t	i;
	bool	urgent = true;	/* unparsable: better early than late */

	for (i = 0; i < nitems(csi_needles); i++)
		if (memmem(xml, len, csi_needles[i],
		    strlen(csi_needles[i])) != NULL)
			break;
	if (i == nitems(csi_needles))
		return false;
	if (csi_parser == NULL)
		csi_parser = xparse_new(NS_CLIENT, LINK_STANZA_MAX);
	(void)xparse_one(csi_parser, xml, len, csi_parsed, &urgent);
	return urgent;
}

enum csi_class
csi_classify(int kind, int type, const char *xml, size_t len)
{
	switch (kind) {
	case KIND_PRESENCE:
		switch (type) {
		case PRES_AVAILABLE:
		case PRES_UNAVAILABLE:
			return CSI_LATEST;
		case PRES_SUBSCRIBE:
		case PRES_SUBSCRIBED:
		case PRES_UNSUBSCRIBE:
		case PRES_UNSUBSCRIBED:
			/* a person asks or answers (RFC 6121 3) */
			return CSI_URGENT;
		default:
			return CSI_HOLD;
		}
	case KIND_MESSAGE:
		/* an error answers something the user sent */
		if (type == MTYPE_ERROR || csi_message_urgent(xml, len))
			return CSI_URGENT;
		/* chat states (XEP-0085), receipts, markers, PEP events */
		return CSI_HOLD;
	default:
		/* an IQ waits for its answer (RFC 6120 8.2.3) */
		return CSI_URGENT;
	}
}

static void
csi_unlink(struct csi_queue *q, struct csi_item *it)
{
	if (it->prev != NULL)
		it->prev->next = it->next;
	else
		q->head = it->next;
	if (it->next != NULL)
		it->next->prev = it->prev;
	else
		q->tail = it->prev;
	q->count--;
	q->bytes -= it->len;
}

/* a stanza goes to the client: stream management counts it (sm.c) */
static void
csi_write(struct stream *st, const char *xml, size_t len, int64_t rseq)
{
	if (st->state != ST_BOUND)
		return;
	stream_write(st, xml, len);
	sm_written(st, rseq);
}

/* sm_link_lost numbers the marks again: the held stanzas go alike */
void
csi_renumber(struct stream *st, uint32_t base)
{
	struct csi_item	*it;

	for (it = st->csi.head; it != NULL; it = it->next)
		if (it->rseq >= 0)
			it->rseq = (uint32_t)((uint32_t)it->rseq - base);
}

/* the queue is emptied first: a write that fails closes, and may flush */
void
csi_flush(struct stream *st, const char *why)
{
	struct csi_queue	*q = &st->csi;
	struct csi_item		*it, *next;

	if (q->head == NULL)
		return;
	log_debug("%016llx csi flush stanzas=%zu bytes=%zu why=%s",
	    (unsigned long long)st->sid, q->count, q->bytes, why);
	it = q->head;
	map_free(q->latest, NULL);
	memset(q, 0, sizeof(*q));
	for (; it != NULL; it = next) {
		next = it->next;
		csi_write(st, it->xml, it->len, it->rseq);
		free(it);
	}
}

void
csi_free(struct stream *st)
{
	struct csi_item	*it, *next;

	for (it = st->csi.head; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	map_free(st->csi.latest, NULL);
	memset(&st->csi, 0, sizeof(st->csi));
}

static void
csi_hold(struct stream *st, const char *key, size_t keylen, const char *xml,
    size_t len, int64_t rseq)
{
	struct csi_queue	*q = &st->csi;
	struct csi_item		*it;

	/*
	 * The sender's newer presence replaces the held one and goes last:
	 * what the contact did in between keeps its place before it.
	 */
	if (key != NULL && q->latest != NULL &&
	    (it = map_deln(q->latest, key, keylen)) != NULL) {
		csi_unlink(q, it);
		free(it);
	}
	/*
	 * The cap sends what is held: nothing is dropped. Held bytes are
	 * output not yet written, so with what the transport still holds
	 * they meet its cap as a write would (docs/internals.md).
	 */
	if (q->count + 1 > (size_t)c2s.conf.csi_queue_max ||
	    q->bytes + len > c2s.conf.csi_queue_max_bytes ||
	    tp_out_pending(&st->tp) + q->bytes + len > STREAM_OUT_MAX) {
		csi_flush(st, "cap");
		csi_write(st, xml, len, rseq);
		return;
	}
	it = xmalloc(sizeof(*it) + len);
	it->rseq = rseq;
	it->len = len;
	memcpy(it->xml, xml, len);
	it->next = NULL;
	it->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->count++;
	q->bytes += len;
	if (key != NULL) {
		if (q->latest == NULL)
			q->latest = map_new();
		(void)map_putn(q->latest, key, keylen, it);
	}
}

void
csi_deliver(struct stream *st, const struct link_stanza *ls, int64_t rseq)
{
	enum csi_class	c;

	if (!st->inactive) {
		csi_write(st, ls->xml, ls->xlen, rseq);
		return;
	}
	c = csi_classify(ls->kind, ls->type, ls->xml, ls->xlen);
	if (c == CSI_URGENT) {
		/* what was held came first: it goes first (XEP-0352 5.1) */
		csi_flush(st, "urgent");
		csi_write(st, ls->xml, ls->xlen, rseq);
		return;
	}
	csi_hold(st, c == CSI_LATEST ? ls->from : NULL, ls->fromlen, ls->xml,
	    ls->xlen, rseq);
}

/*
 * Returns 0 when el was a CSI element (handled, or the stream closed),
 * 1 when it is for the caller.
 */
int
csi_element(struct stream *st, struct xnode *el)
{
	struct xnode	*c;

	if (strcmp(el->ns, NS_CSI) != 0)
		return 1;
	if (strcmp(el->name, "active") != 0 &&
	    strcmp(el->name, "inactive") != 0) {
		/* RFC 6120 4.9.3.22: a top-level element we do not know */
		stream_error(st, SERR_UNSUPPORTED_STANZA_TYPE, el->name);
		return 0;
	}
	for (c = el->children; c != NULL; c = c->next)
		if (c->type == XNODE_ELEM ||
		    strspn(c->text, " \t\r\n") != c->len) {
			/* XEP-0352 9: both elements are empty */
			stream_error(st, SERR_BAD_FORMAT,
			    "CSI elements are empty");
			return 0;
		}
	if (st->state != ST_BOUND) {
		/*
		 * The state is a session's and there is none before binding:
		 * the stream starts active (XEP-0352 5) whatever came before.
		 */
		log_debug("%016llx csi <%s/> before binding: ignored",
		    (unsigned long long)st->sid, el->name);
		return 0;
	}
	if (strcmp(el->name, "active") == 0) {
		st->inactive = false;
		/* XEP-0352 5.1: flushed before anything the client sends next */
		csi_flush(st, "active");
	} else
		st->inactive = true;
	log_debug("%016llx csi %s", (unsigned long long)st->sid, el->name);
	return 0;
}

void
csi_shutdown(void)
{
	xparse_free(csi_parser);
	csi_parser = NULL;
}
