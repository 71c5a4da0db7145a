/*
 * Wire names of the XMPP error conditions, generated from the X-macro lists
 * in xmpp.h so that the enum and the names cannot drift apart.
 */
#include <stddef.h>

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
