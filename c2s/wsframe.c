/*
 * The RFC 7395 framing of XML, without I/O (websocket.c, bosh.c and the
 * fuzz targets): the stream's output cut into one top-level element per
 * message, and the client's <open/> and <close/> read into the stream
 * header and end the stream parser expects.
 */
#include <string.h>

#include "../common/util.h"
#include "../common/xml.h"
#include "../common/xmlstream.h"
#include "../common/xmpp.h"
#include "websocket.h"


/* ---- the stream's output, one element per message ------------------- */

void
ws_split_init(struct ws_split *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->out, max);
}

void
ws_split_clear(struct ws_split *s)
{
	buf_clear(&s->out);
}

/* attributes of a start tag without the two stream namespaces */
static void
ws_open_attrs(struct buf *m, const char *p, size_t n)
{
	static const char *const drop[] = {
		" xmlns='" NS_CLIENT "'", " xmlns:stream='" NS_STREAM "'"
	};
	size_t	i, l;

	while (n > 0) {
		for (i = 0; i < 2; i++) {
			l = strlen(drop[i]);
			if (n >= l && memcmp(p, drop[i], l) == 0)
				break;
		}
		if (i < 2) {
			p += l;
			n -= l;
			continue;
		}
		(void)buf_append(m, p, 1);
		p++;
		n--;
	}
}

/*
 * One top-level element of ours, rewritten for RFC 7395: the stream
 * header as <open/> (3.3.2), stream-prefixed elements declaring their
 * prefix and stanzas their namespace (3.3.3: each message stands alone).
 */
static int
ws_split_emit(struct ws_split *s, const char *p, size_t n, int kind,
    int (*fn)(void *, const char *, size_t, bool), void *arg)
{
	struct buf	m;
	size_t		name;
	int		rc;

	buf_init(&m, 0);
	if (kind == WS_EL_OPEN) {
		buf_puts(&m, "<open xmlns='" NS_FRAMING "'");
		/* "<stream:stream" ... ">" */
		ws_open_attrs(&m, p + 14, n - 15);
		buf_puts(&m, "/>");
	} else if (kind == WS_EL_CLOSE) {
		buf_puts(&m, "<close xmlns='" NS_FRAMING "'/>");
	} else {
		name = 1 + strcspn(p + 1, " />");
		(void)buf_append(&m, p, name);
		if (strncmp(p, "<stream:", 8) == 0)
			buf_puts(&m, " xmlns:stream='" NS_STREAM "'");
		else if (memchr(p, ':', name) == NULL &&
		    !s->xmlns_seen)
			buf_puts(&m, " xmlns='" NS_CLIENT "'");
		(void)buf_append(&m, p + name, n - name);
	}
	rc = fn(arg, buf_rptr(&m), buf_avail(&m), kind == WS_EL_CLOSE);
	buf_clear(&m);
	return rc;
}

int
ws_split_feed(struct ws_split *s, const char *p, size_t n,
    int (*fn)(void *, const char *, size_t, bool), void *arg)
{
	const char	*b;
	size_t		 i, len, tagstart;
	bool		 selfclose, end;
	int		 kind;

	if (buf_append(&s->out, p, n) == -1)
		return -1;
	b = buf_rptr(&s->out);
	len = buf_avail(&s->out);
	for (i = s->scan; i < len; i++) {
		char	c = b[i];

		if (s->quote != 0) {
			if (c == s->quote)
				s->quote = 0;
			continue;
		}
		if (!s->in_tag) {
			if (c == '<') {
				s->in_tag = true;
				s->tag = i;
				if (s->depth == 0) {
					s->start = i;
					s->xmlns_seen = false;
				}
			} else if (s->depth == 0) {
				/* whitespace between elements */
				s->start = i + 1;
			}
			continue;
		}
		if (c == '\'' || c == '"') {
			s->quote = c;
			if (s->depth == 0 && i >= s->tag + 7 &&
			    memcmp(b + i - 7, " xmlns=", 7) == 0)
				s->xmlns_seen = true;
			continue;
		}
		if (c != '>')
			continue;
		s->in_tag = false;
		tagstart = s->tag;
		selfclose = b[i - 1] == '/';
		end = b[tagstart + 1] == '/';
		kind = WS_EL_ELEMENT;
		if (b[tagstart + 1] == '?' || b[tagstart + 1] == '!') {
			if (s->depth == 0)
				s->start = i + 1;	/* the XML declaration */
			continue;
		}
		if (s->depth == 0 && !end && !selfclose &&
		    strncmp(b + tagstart, "<stream:stream ", 15) == 0)
			kind = WS_EL_OPEN;
		else if (s->depth == 0 && end &&
		    strncmp(b + tagstart, "</stream:stream>", 16) == 0)
			kind = WS_EL_CLOSE;
		else if (end)
			s->depth--;
		else if (!selfclose)
			s->depth++;
		if (s->depth != 0)
			continue;
		if (ws_split_emit(s, b + s->start, i + 1 - s->start, kind,
		    fn, arg) == -1)
			return -1;
		s->start = i + 1;
	}
	/* what is emitted goes; a partial element stays */
	buf_consume(&s->out, s->start);
	s->scan = len - s->start;
	s->tag -= s->tag >= s->start ? s->start : s->tag;
	s->start = 0;
	return 0;
}

/* ---- the client's <open/> and <close/> ------------------------------- */

struct ws_frame_job {
	struct buf	*out;
	int		 rc;
};

static void
ws_frame_tree(struct xnode *el, struct arena *a, void *arg)
{
	struct ws_frame_job	*j = arg;
	const char		*v;
	static const char *const attrs[] = { "to", "from", "version", "id" };
	size_t			 i;

	(void)a;
	if (strcmp(el->ns, NS_FRAMING) != 0)
		return;
	if (strcmp(el->name, "close") == 0) {
		buf_puts(j->out, "</stream:stream>");
		j->rc = 0;
		return;
	}
	if (strcmp(el->name, "open") != 0)
		return;
	/* RFC 7395 3.3.2: the attributes of a stream header */
	buf_puts(j->out, "<stream:stream xmlns='" NS_CLIENT
	    "' xmlns:stream='" NS_STREAM "'");
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if ((v = xnode_attr(el, attrs[i])) == NULL)
			continue;
		buf_printf(j->out, " %s='", attrs[i]);
		xml_escape(j->out, v, strlen(v));
		buf_puts(j->out, "'");
	}
	if ((v = xnode_attr_ns(el, NS_XML, "lang")) != NULL) {
		buf_puts(j->out, " xml:lang='");
		xml_escape(j->out, v, strlen(v));
		buf_puts(j->out, "'");
	}
	buf_puts(j->out, ">");
	j->rc = 0;
}

int
ws_frame_translate(const char *p, size_t n, struct buf *out)
{
	static struct xparse	*xp;
	struct ws_frame_job	 j = { out, -1 };

	if (xp == NULL) {
		xp = xparse_new(NS_FRAMING, WS_OPEN_MAX);
		xparse_peer(xp);
	}
	if (xparse_one(xp, p, n, ws_frame_tree, &j) == -1)
		return -1;
	return j.rc;
}

