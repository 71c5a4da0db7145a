/*
 * Wire names of the XMPP error conditions, generated from the X-macro lists
 * in xmpp.h so that the enum and the names cannot drift apart.
 */
#include <stddef.h>
#include <string.h>

#include "link.h"
#include "util.h"
#include "xmpp.h"

#define XMPP_NAME2(e, n)	[e] = n,
#define XMPP_NAME3(e, n, t)	[e] = n,
#define XMPP_TYPE3(e, n, t)	[e] = t,

static const char *const stream_err_names[] = { STREAM_ERRORS(XMPP_NAME2) };
static const char *const stanza_err_names[] = { STANZA_ERRORS(XMPP_NAME3) };
static const char *const stanza_err_types[] = { STANZA_ERRORS(XMPP_TYPE3) };
static const char *const sasl_err_names[] = { SASL_ERRORS(XMPP_NAME2) };

/*
 * The codes may arrive from another process over a link, so an out-of-range
 * value yields a generic condition rather than an abort.
 */
const char *
stream_err_name(enum stream_err e)
{
	if ((unsigned)e >= nitems(stream_err_names))
		return "undefined-condition";
	return stream_err_names[e];
}

const char *
stanza_err_name(enum stanza_err e)
{
	if ((unsigned)e >= nitems(stanza_err_names))
		return "undefined-condition";
	return stanza_err_names[e];
}

const char *
stanza_err_type(enum stanza_err e)
{
	if ((unsigned)e >= nitems(stanza_err_types))
		return "cancel";
	return stanza_err_types[e];
}

const char *
sasl_err_name(enum sasl_err e)
{
	/* RFC 6120 6.5 has no generic condition: not-authorized is safe */
	if ((unsigned)e >= nitems(sasl_err_names))
		return "not-authorized";
	return sasl_err_names[e];
}

int
stanza_kind_of(const char *ns, const char *name, const char *content_ns)
{
	if (strcmp(ns, content_ns) != 0)
		return -1;
	if (strcmp(name, "message") == 0)
		return KIND_MESSAGE;
	if (strcmp(name, "presence") == 0)
		return KIND_PRESENCE;
	if (strcmp(name, "iq") == 0)
		return KIND_IQ;
	return -1;
}

int
stanza_type_of(int kind, const char *t)
{
	static const char *const msg[] = {
		"normal", "chat", "groupchat", "headline", "error", NULL
	};
	static const char *const pres[] = {
		"", "unavailable", "subscribe", "subscribed", "unsubscribe",
		"unsubscribed", "probe", "error", NULL
	};
	static const char *const iq[] = {
		"get", "set", "result", "error", NULL
	};
	const char *const	*names;
	int			 i;

	names = kind == KIND_MESSAGE ? msg : kind == KIND_PRESENCE ? pres : iq;
	if (t == NULL)
		return kind == KIND_IQ ? STANZA_TYPE_BAD : 0;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], t) == 0)
			return i;
	/* RFC 6121 5.2.2: an unknown message type is treated as normal */
	return kind == KIND_MESSAGE ? MSG_NORMAL : STANZA_TYPE_BAD;
}
