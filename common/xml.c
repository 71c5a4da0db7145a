/*
 * XML trees for stanzas, built in the stanza's arena, and the serializer that
 * writes them back. Tree walks here are iterative (parent pointers), so a
 * tree built by code is never limited by the C stack.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "xml.h"
#include "xmpp.h"

#define NS_XMLNS	"http://www.w3.org/2000/xmlns/"
/* distinct attribute namespaces that get a generated prefix on one element */
#define XML_MAX_PREFIXES	64

enum {
	ESC_TEXT = 1 << 0,
	ESC_ATTR = 1 << 1,
};

/*
 * What must be escaped where. Text: the markup characters, '>' (for "]]>")
 * and CR, which a parser would otherwise normalize away. Attributes: also
 * the quotes and TAB/LF/CR, which attribute-value normalization would turn
 * into spaces.
 */
static const uint8_t esc_class[256] = {
	['&'] = ESC_TEXT | ESC_ATTR,
	['<'] = ESC_TEXT | ESC_ATTR,
	['>'] = ESC_TEXT | ESC_ATTR,
	['\r'] = ESC_TEXT | ESC_ATTR,
	['\''] = ESC_ATTR,
	['"'] = ESC_ATTR,
	['\t'] = ESC_ATTR,
	['\n'] = ESC_ATTR,
};

static int	xml_escape_class(struct buf *, const char *, size_t, uint8_t);

struct xnode *
xnode_new(struct arena *a, const char *ns, const char *name)
{
	struct xnode	*n;

	n = arena_alloc(a, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = XNODE_ELEM;
	n->ns = ns != NULL ? arena_strdup(a, ns) : "";
	n->name = arena_strdup(a, name);
	return n;
}

void
xnode_append(struct xnode *parent, struct xnode *child)
{
	child->parent = parent;
	child->next = NULL;
	if (parent->last != NULL)
		parent->last->next = child;
	else
		parent->children = child;
	parent->last = child;
}

struct xnode *
xnode_add(struct arena *a, struct xnode *parent, const char *ns,
    const char *name)
{
	struct xnode	*n;

	n = arena_alloc(a, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = XNODE_ELEM;
	/* the child lives in the parent's tree, so sharing its ns is safe */
	n->ns = ns != NULL ? arena_strdup(a, ns) : parent->ns;
	n->name = arena_strdup(a, name);
	xnode_append(parent, n);
	return n;
}

void
xnode_add_text(struct arena *a, struct xnode *parent, const char *text,
    size_t len)
{
	struct xnode	*n, *last = parent->last;
	char		*s;

	if (len == 0)
		return;
	/* adjacent text stays one node, as the stream parser produces it */
	if (last != NULL && last->type == XNODE_TEXT) {
		s = arena_alloc(a, last->len + len + 1);
		memcpy(s, last->text, last->len);
		memcpy(s + last->len, text, len);
		s[last->len + len] = '\0';
		last->text = s;
		last->len += len;
		return;
	}
	n = arena_alloc(a, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = XNODE_TEXT;
	n->ns = "";
	n->name = "";
	n->text = arena_strndup(a, text, len);
	n->len = len;
	xnode_append(parent, n);
}

static bool
xattr_is(const struct xattr *at, const char *ns, const char *name)
{
	if (strcmp(at->name, name) != 0)
		return false;
	if (ns == NULL || *ns == '\0')
		return at->ns == NULL;
	return at->ns != NULL && strcmp(at->ns, ns) == 0;
}

void
xnode_set_attr_ns(struct arena *a, struct xnode *n, const char *ns,
    const char *name, const char *value)
{
	struct xattr	*at, **pp;

	if (ns != NULL && *ns == '\0')
		ns = NULL;
	for (pp = &n->attrs; (at = *pp) != NULL; pp = &at->next)
		if (xattr_is(at, ns, name))
			break;
	if (value == NULL) {
		if (at != NULL)
			*pp = at->next;
		return;
	}
	if (at == NULL) {
		/* appended: attribute order survives a round trip */
		at = arena_alloc(a, sizeof(*at));
		at->next = NULL;
		at->ns = ns != NULL ? arena_strdup(a, ns) : NULL;
		at->name = arena_strdup(a, name);
		*pp = at;
	}
	at->value = arena_strdup(a, value);
}

void
xnode_set_attr(struct arena *a, struct xnode *n, const char *name,
    const char *value)
{
	xnode_set_attr_ns(a, n, NULL, name, value);
}

const char *
xnode_attr_ns(const struct xnode *n, const char *ns, const char *name)
{
	const struct xattr	*at;

	for (at = n->attrs; at != NULL; at = at->next)
		if (xattr_is(at, ns, name))
			return at->value;
	return NULL;
}

const char *
xnode_attr(const struct xnode *n, const char *name)
{
	const struct xattr	*at;

	for (at = n->attrs; at != NULL; at = at->next)
		if (at->ns == NULL && strcmp(at->name, name) == 0)
			return at->value;
	return NULL;
}

static bool
xnode_match(const struct xnode *c, const char *ns, const char *name)
{
	return c->type == XNODE_ELEM &&
	    (name == NULL || strcmp(c->name, name) == 0) &&
	    (ns == NULL || strcmp(c->ns, ns) == 0);
}

struct xnode *
xnode_child(const struct xnode *n, const char *ns, const char *name)
{
	struct xnode	*c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (xnode_match(c, ns, name))
			return c;
	return NULL;
}

struct xnode *
xnode_next(const struct xnode *c, const char *ns, const char *name)
{
	for (c = c->next; c != NULL; c = c->next)
		if (xnode_match(c, ns, name))
			return (struct xnode *)c;
	return NULL;
}

struct xnode *
xnode_only_child(const struct xnode *n)
{
	struct xnode	*c = xnode_child(n, NULL, NULL);

	return c != NULL && xnode_next(c, NULL, NULL) == NULL ? c : NULL;
}

/*
 * The common case (one text child, as the parser builds it) returns that
 * node's text without a copy: it is NUL-terminated and in the same arena.
 */
char *
xnode_text(struct arena *a, const struct xnode *n)
{
	const struct xnode	*c, *one = NULL;
	size_t			 len = 0, count = 0;
	char			*s, *p;

	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XNODE_TEXT) {
			len += c->len;
			count++;
			one = c;
		}
	if (count == 1)
		return one->text;
	p = s = arena_alloc(a, len + 1);
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XNODE_TEXT) {
			memcpy(p, c->text, c->len);
			p += c->len;
		}
	*p = '\0';
	return s;
}

void
xnode_wipe(struct xnode *el, char *copy)
{
	struct xnode	*t;

	if (copy != NULL)
		explicit_bzero(copy, strlen(copy));
	for (t = el != NULL ? el->children : NULL; t != NULL; t = t->next)
		if (t->type == XNODE_TEXT)
			explicit_bzero(t->text, t->len);
}

/* a copy of one node without its children, appended to parent if any */
static struct xnode *
xnode_copy_one(struct arena *a, const struct xnode *src, struct xnode *parent)
{
	struct xnode		*n;
	const struct xattr	*sa;
	struct xattr		*at, **tail;

	n = arena_alloc(a, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->type = src->type;
	if (src->type == XNODE_TEXT) {
		n->ns = "";
		n->name = "";
		n->text = arena_strndup(a, src->text, src->len);
		n->len = src->len;
	} else {
		/* one copy of a namespace shared down the tree */
		if (parent != NULL && src->parent != NULL &&
		    strcmp(src->ns, src->parent->ns) == 0)
			n->ns = parent->ns;
		else
			n->ns = arena_strdup(a, src->ns);
		n->name = arena_strdup(a, src->name);
		tail = &n->attrs;
		for (sa = src->attrs; sa != NULL; sa = sa->next) {
			at = arena_alloc(a, sizeof(*at));
			at->next = NULL;
			at->ns = sa->ns != NULL ?
			    arena_strdup(a, sa->ns) : NULL;
			at->name = arena_strdup(a, sa->name);
			at->value = arena_strdup(a, sa->value);
			*tail = at;
			tail = &at->next;
		}
	}
	if (parent != NULL)
		xnode_append(parent, n);
	return n;
}

struct xnode *
xnode_copy(struct arena *a, const struct xnode *src)
{
	const struct xnode	*s = src;
	struct xnode		*root, *d;

	d = root = xnode_copy_one(a, src, NULL);
	for (;;) {
		if (s->type == XNODE_ELEM && s->children != NULL) {
			s = s->children;
			d = xnode_copy_one(a, s, d);
			continue;
		}
		for (;;) {
			if (s == src)
				return root;
			if (s->next != NULL)
				break;
			s = s->parent;
			d = d->parent;
		}
		s = s->next;
		d = xnode_copy_one(a, s, d->parent);
	}
}

static int
xml_escape_class(struct buf *b, const char *s, size_t len, uint8_t mask)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*ent;
	size_t			 i = 0, run;

	while (i < len) {
		run = i;
		while (i < len && (esc_class[p[i]] & mask) == 0)
			i++;
		if (i > run && buf_append(b, s + run, i - run) == -1)
			return -1;
		if (i == len)
			break;
		switch (p[i]) {
		case '&':	ent = "&amp;";	break;
		case '<':	ent = "&lt;";	break;
		case '>':	ent = "&gt;";	break;
		case '\'':	ent = "&apos;";	break;
		case '"':	ent = "&quot;";	break;
		case '\t':	ent = "&#9;";	break;
		case '\n':	ent = "&#10;";	break;
		default:	ent = "&#13;";	break;
		}
		if (buf_puts(b, ent) == -1)
			return -1;
		i++;
	}
	return 0;
}

/* escapes for the strictest context, an attribute value; safe anywhere */
int
xml_escape(struct buf *b, const char *s, size_t len)
{
	return xml_escape_class(b, s, len, ESC_ATTR);
}

static int
xml_write_attr(struct buf *b, const char *pfx, unsigned npfx,
    const char *name, const char *value)
{
	if (buf_append(b, " ", 1) == -1)
		return -1;
	if (pfx != NULL && buf_puts(b, pfx) == -1)
		return -1;
	if (npfx > 0 && buf_printf(b, "ns%u:", npfx) == -1)
		return -1;
	if (buf_puts(b, name) == -1 || buf_append(b, "='", 2) == -1 ||
	    xml_escape_class(b, value, strlen(value), ESC_ATTR) == -1 ||
	    buf_append(b, "'", 1) == -1)
		return -1;
	return 0;
}

/*
 * <name [xmlns='ns'] attrs>: dns is the default namespace in scope. Each
 * attribute namespace other than xml: gets a prefix nsN declared right on
 * this element, so no declaration depends on an ancestor's.
 */
static int
xml_write_start(struct buf *b, const struct xnode *n, const char *dns)
{
	const char		*pfx[XML_MAX_PREFIXES];
	const struct xattr	*at;
	unsigned		 npfx = 0, i;
	bool			 xmlpfx = strcmp(n->ns, NS_XML) == 0;

	/*
	 * An element in the xml namespace (<xml:x/>) keeps its prefix:
	 * that namespace may not be declared the default (Namespaces in
	 * XML 1.0, 3), and a parser refuses xmlns='...XML/1998/namespace'.
	 */
	if (buf_puts(b, xmlpfx ? "<xml:" : "<") == -1 ||
	    buf_puts(b, n->name) == -1)
		return -1;
	if (!xmlpfx && strcmp(n->ns, dns) != 0 &&
	    (buf_puts(b, " xmlns='") == -1 ||
	    xml_escape_class(b, n->ns, strlen(n->ns), ESC_ATTR) == -1 ||
	    buf_append(b, "'", 1) == -1))
		return -1;
	for (at = n->attrs; at != NULL; at = at->next) {
		/* declarations come only from ns fields: never write our own */
		if (at->ns == NULL) {
			if (strcmp(at->name, "xmlns") == 0)
				continue;
			if (xml_write_attr(b, NULL, 0, at->name,
			    at->value) == -1)
				return -1;
			continue;
		}
		if (strcmp(at->ns, NS_XML) == 0) {
			if (xml_write_attr(b, "xml:", 0, at->name,
			    at->value) == -1)
				return -1;
			continue;
		}
		if (strcmp(at->ns, NS_XMLNS) == 0)
			continue;
		for (i = 0; i < npfx; i++)
			if (strcmp(pfx[i], at->ns) == 0)
				break;
		if (i == npfx) {
			/* more than a parsed element can have */
			if (npfx == XML_MAX_PREFIXES)
				return -1;
			pfx[npfx++] = at->ns;
			if (buf_printf(b, " xmlns:ns%u='", npfx) == -1 ||
			    xml_escape_class(b, at->ns, strlen(at->ns),
			    ESC_ATTR) == -1 || buf_append(b, "'", 1) == -1)
				return -1;
		}
		if (xml_write_attr(b, NULL, i + 1, at->name, at->value) == -1)
			return -1;
	}
	return 0;
}

static int
xml_write_end(struct buf *b, const struct xnode *n)
{
	if (buf_puts(b, strcmp(n->ns, NS_XML) == 0 ? "</xml:" : "</") == -1 ||
	    buf_puts(b, n->name) == -1 || buf_append(b, ">", 1) == -1)
		return -1;
	return 0;
}

static int
xml_write_tree(struct buf *b, const struct xnode *n, const char *parent_ns)
{
	const struct xnode	*c = n;

	for (;;) {
		if (c->type == XNODE_TEXT) {
			if (xml_escape_class(b, c->text, c->len,
			    ESC_TEXT) == -1)
				return -1;
		} else {
			/* a written element's ns is its children's default */
			if (xml_write_start(b, c,
			    c == n ? parent_ns : c->parent->ns) == -1)
				return -1;
			if (c->children != NULL) {
				if (buf_append(b, ">", 1) == -1)
					return -1;
				c = c->children;
				continue;
			}
			if (buf_append(b, "/>", 2) == -1)
				return -1;
		}
		for (;;) {
			if (c == n)
				return 0;
			if (c->next != NULL)
				break;
			c = c->parent;
			if (xml_write_end(b, c) == -1)
				return -1;
		}
		c = c->next;
	}
}

int
xnode_write(struct buf *b, const struct xnode *n, const char *parent_ns)
{
	size_t	avail = buf_avail(b);

	if (parent_ns == NULL)
		parent_ns = "";
	if (xml_write_tree(b, n, parent_ns) == -1) {
		/* no half stanza on the wire; appends may have compacted */
		b->len = b->off + avail;
		return -1;
	}
	return 0;
}

void
stanza_make_error(struct arena *a, struct xnode *stanza, enum stanza_err err,
    const char *text)
{
	const char	*to, *from;
	struct xnode	*e, *t;

	/* the old values stay valid in the arena while the attrs change */
	to = xnode_attr(stanza, "to");
	from = xnode_attr(stanza, "from");
	xnode_set_attr(a, stanza, "to", from);
	xnode_set_attr(a, stanza, "from", to);
	xnode_set_attr(a, stanza, "type", "error");

	/* RFC 6120 8.3.2: the error child is in the stanza's namespace */
	e = xnode_add(a, stanza, NULL, "error");
	xnode_set_attr(a, e, "type", stanza_err_type(err));
	xnode_add(a, e, NS_STANZAS, stanza_err_name(err));
	if (text != NULL) {
		t = xnode_add(a, e, NS_STANZAS, "text");
		xnode_add_text(a, t, text, strlen(text));
	}
}

bool
stanza_is_error(const struct xnode *n)
{
	const char	*type;

	/* RFC 6120 8.3.1: never answer an error with an error */
	type = xnode_attr(n, "type");
	return type != NULL && strcmp(type, "error") == 0;
}
