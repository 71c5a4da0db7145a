/*
 * Wire names and numbers of the XMPP error conditions and the stanza kinds
 * and types, generated from the X-macro lists in xmpp.h so that the enums,
 * the names and the numbers cannot drift apart.
 */
#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "util.h"
#include "xml.h"
#include "xmpp.h"

#define XMPP_NAME3(e, w, n)	[e] = n,
#define XMPP_NAME4(e, w, n, t)	[e] = n,
#define XMPP_TYPE4(e, w, n, t)	[e] = t,
#define XMPP_WIRE3(e, w, n)	[e] = w,
#define XMPP_WIRE4(e, w, n, t)	[e] = w,

static const char *const stream_err_names[] = { STREAM_ERRORS(XMPP_NAME3) };
static const char *const stanza_err_names[] = { STANZA_ERRORS(XMPP_NAME4) };
static const char *const stanza_err_types[] = { STANZA_ERRORS(XMPP_TYPE4) };
static const char *const sasl_err_names[] = { SASL_ERRORS(XMPP_NAME3) };
static const uint32_t stream_err_wires[] = { STREAM_ERRORS(XMPP_WIRE3) };
static const uint32_t stanza_err_wires[] = { STANZA_ERRORS(XMPP_WIRE4) };
static const uint32_t sasl_err_wires[] = { SASL_ERRORS(XMPP_WIRE3) };

static const struct {
	int		 kind;
	const char	*name;
} stanza_kinds[] = {
#define XMPP_KIND_DESC(e, w, n)		{ e, n },
	STANZA_KINDS(XMPP_KIND_DESC)
};

static const struct {
	int		 kind, type;
	const char	*name;		/* NULL: no 'type' attribute */
} stanza_types[] = {
#define XMPP_TYPE_DESC(e, k, w, n)	{ k, e, n },
	STANZA_TYPES(XMPP_TYPE_DESC)
};

/*
 * The codes may arrive from another process over a link, so an out-of-range
 * value yields dflt, a generic condition, rather than an abort.
 */
static const char *
name_at(const char *const *names, size_t n, unsigned e, const char *dflt)
{
	return e < n ? names[e] : dflt;
}

const char *
stream_err_name(enum stream_err e)
{
	return name_at(stream_err_names, nitems(stream_err_names), e,
	    "undefined-condition");
}

const char *
stanza_err_name(enum stanza_err e)
{
	return name_at(stanza_err_names, nitems(stanza_err_names), e,
	    "undefined-condition");
}

const char *
stanza_err_type(enum stanza_err e)
{
	return name_at(stanza_err_types, nitems(stanza_err_types), e,
	    "cancel");
}

const char *
sasl_err_name(enum sasl_err e)
{
	/* RFC 6120 6.5 has no generic condition: not-authorized is safe */
	return name_at(sasl_err_names, nitems(sasl_err_names), e,
	    "not-authorized");
}

int
stream_err_xml(struct buf *b, enum stream_err cond, const char *text)
{
	return stream_err_xml_data(b, cond, NULL, text);
}

int
stream_err_xml_data(struct buf *b, enum stream_err cond, const char *data,
    const char *text)
{
	size_t	start = buf_avail(b);
	int	rc;

	if (buf_printf(b, "<stream:error><%s xmlns='" NS_STREAMS_ERR "'",
	    stream_err_name(cond)) == -1)
		return -1;
	if (data == NULL)
		rc = buf_puts(b, "/>");
	else
		rc = buf_puts(b, ">") | xml_escape(b, data, strlen(data)) |
		    buf_printf(b, "</%s>", stream_err_name(cond));
	if (rc != 0) {
		buf_truncate(b, start);
		return -1;
	}
	if (text != NULL && (buf_puts(b, "<text xmlns='" NS_STREAMS_ERR
	    "'>") | xml_escape(b, text, strlen(text)) |
	    buf_puts(b, "</text>")) != 0) {
		buf_truncate(b, start);
		return stream_err_xml_data(b, cond, data, NULL);
	}
	if (buf_puts(b, "</stream:error></stream:stream>") == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

/* the index of wire number w in a list's numbers, or -1 */
static int
wire_find(const uint32_t *wires, size_t n, uint32_t w)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (wires[i] == w)
			return (int)i;
	return -1;
}

/* entry i's wire number: an enum value outside its list is our bug */
static uint32_t
wire_at(const uint32_t *wires, size_t n, int i, const char *list)
{
	if (i < 0 || (size_t)i >= n)
		fatalx("%s: no %s %d", __func__, list, i);
	return wires[i];
}

uint32_t
stream_err_wire(enum stream_err e)
{
	return wire_at(stream_err_wires, nitems(stream_err_wires), (int)e,
	    "stream error");
}

int
stream_err_unwire(uint32_t w)
{
	return wire_find(stream_err_wires, nitems(stream_err_wires), w);
}

uint32_t
stanza_err_wire(enum stanza_err e)
{
	if (e == XERR_COUNT)
		return 0;
	return wire_at(stanza_err_wires, nitems(stanza_err_wires), (int)e,
	    "stanza error");
}

int
stanza_err_unwire(uint32_t w)
{
	if (w == 0)
		return XERR_COUNT;
	return wire_find(stanza_err_wires, nitems(stanza_err_wires), w);
}

uint32_t
sasl_err_wire(enum sasl_err e)
{
	return wire_at(sasl_err_wires, nitems(sasl_err_wires), (int)e,
	    "SASL condition");
}

int
sasl_err_unwire(uint32_t w)
{
	return wire_find(sasl_err_wires, nitems(sasl_err_wires), w);
}

int
stanza_kind_of(const char *ns, const char *name, const char *content_ns)
{
	size_t	i;

	if (strcmp(ns, content_ns) != 0)
		return -1;
	for (i = 0; i < nitems(stanza_kinds); i++)
		if (strcmp(name, stanza_kinds[i].name) == 0)
			return stanza_kinds[i].kind;
	return -1;
}

int
stanza_type_of(int kind, const char *t)
{
	size_t	i;

	for (i = 0; i < nitems(stanza_types); i++) {
		if (stanza_types[i].kind != kind)
			continue;
		if (t == NULL ? stanza_types[i].name == NULL :
		    stanza_types[i].name != NULL &&
		    strcmp(stanza_types[i].name, t) == 0)
			return stanza_types[i].type;
	}
	/* RFC 6121 5.2.2: an unknown message type is treated as normal */
	return kind == KIND_MESSAGE ? MTYPE_NORMAL : STANZA_TYPE_BAD;
}

bool
stanza_kind_type_valid(int kind, int type)
{
	size_t	i;

	for (i = 0; i < nitems(stanza_types); i++)
		if (stanza_types[i].kind == kind &&
		    stanza_types[i].type == type)
			return true;
	return false;
}
