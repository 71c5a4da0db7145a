/*
 * XMPP namespaces, the error conditions of RFC 6120 (stream errors, 4.9.3;
 * stanza errors, 8.3.3; SASL failures, 6.5) and the stanza kinds and types:
 * each one X-macro list with the enum, the fixed number the links between
 * processes carry, the wire name and (stanza errors) the default type.
 */
#ifndef PARLEY_XMPP_H
#define PARLEY_XMPP_H

#include <stdbool.h>
#include <stdint.h>

#define NS_CLIENT	"jabber:client"
#define NS_SERVER	"jabber:server"
#define NS_STREAM	"http://etherx.jabber.org/streams"
#define NS_STREAMS_ERR	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_STREAM_LIMITS "urn:xmpp:stream-limits:0"	/* XEP-0478 */
#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION	"urn:ietf:params:xml:ns:xmpp-session"
#define NS_PING		"urn:xmpp:ping"
#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_CAPS		"http://jabber.org/protocol/caps"
#define NS_XML		"http://www.w3.org/XML/1998/namespace"

/*
 * Each condition has a fixed wire number (the second field) for the links
 * between processes: the order of a list never changes the protocol, and a
 * number once given is never reused. 0 is "no error" in every list.
 * X(enum, wire number, wire name) -- RFC 6120 4.9.3
 */
#define STREAM_ERRORS(X)						\
	X(SERR_NONE,			0,  "")				\
	X(SERR_BAD_FORMAT,		1,  "bad-format")		\
	X(SERR_BAD_NAMESPACE_PREFIX,	2,  "bad-namespace-prefix")	\
	X(SERR_CONFLICT,		3,  "conflict")			\
	X(SERR_CONNECTION_TIMEOUT,	4,  "connection-timeout")	\
	X(SERR_HOST_GONE,		5,  "host-gone")		\
	X(SERR_HOST_UNKNOWN,		6,  "host-unknown")		\
	X(SERR_IMPROPER_ADDRESSING,	7,  "improper-addressing")	\
	X(SERR_INTERNAL_SERVER_ERROR,	8,  "internal-server-error")	\
	X(SERR_INVALID_FROM,		9,  "invalid-from")		\
	X(SERR_INVALID_NAMESPACE,	10, "invalid-namespace")	\
	X(SERR_INVALID_XML,		11, "invalid-xml")		\
	X(SERR_NOT_AUTHORIZED,		12, "not-authorized")		\
	X(SERR_NOT_WELL_FORMED,		13, "not-well-formed")		\
	X(SERR_POLICY_VIOLATION,	14, "policy-violation")		\
	X(SERR_REMOTE_CONNECTION_FAILED, 15, "remote-connection-failed") \
	X(SERR_RESET,			16, "reset")			\
	X(SERR_RESOURCE_CONSTRAINT,	17, "resource-constraint")	\
	X(SERR_RESTRICTED_XML,		18, "restricted-xml")		\
	X(SERR_SEE_OTHER_HOST,		19, "see-other-host")		\
	X(SERR_SYSTEM_SHUTDOWN,		20, "system-shutdown")		\
	X(SERR_UNDEFINED_CONDITION,	21, "undefined-condition")	\
	X(SERR_UNSUPPORTED_ENCODING,	22, "unsupported-encoding")	\
	X(SERR_UNSUPPORTED_FEATURE,	23, "unsupported-feature")	\
	X(SERR_UNSUPPORTED_STANZA_TYPE,	24, "unsupported-stanza-type")	\
	X(SERR_UNSUPPORTED_VERSION,	25, "unsupported-version")

/* X(enum, wire number, wire name, default type) -- RFC 6120 8.3.3 */
#define STANZA_ERRORS(X)						\
	X(XERR_BAD_REQUEST,		1,  "bad-request",	"modify") \
	X(XERR_CONFLICT,		2,  "conflict",		"cancel") \
	X(XERR_FEATURE_NOT_IMPLEMENTED,	3,  "feature-not-implemented",	\
	    "cancel")							\
	X(XERR_FORBIDDEN,		4,  "forbidden",	"auth")	\
	X(XERR_GONE,			5,  "gone",		"cancel") \
	X(XERR_INTERNAL_SERVER_ERROR,	6,  "internal-server-error", "cancel") \
	X(XERR_ITEM_NOT_FOUND,		7,  "item-not-found",	"cancel") \
	X(XERR_JID_MALFORMED,		8,  "jid-malformed",	"modify") \
	X(XERR_NOT_ACCEPTABLE,		9,  "not-acceptable",	"modify") \
	X(XERR_NOT_ALLOWED,		10, "not-allowed",	"cancel") \
	X(XERR_NOT_AUTHORIZED,		11, "not-authorized",	"auth")	\
	X(XERR_POLICY_VIOLATION,	12, "policy-violation",	"modify") \
	X(XERR_RECIPIENT_UNAVAILABLE,	13, "recipient-unavailable", "wait") \
	X(XERR_REDIRECT,		14, "redirect",		"modify") \
	X(XERR_REGISTRATION_REQUIRED,	15, "registration-required", "auth") \
	X(XERR_REMOTE_SERVER_NOT_FOUND,	16, "remote-server-not-found",	\
	    "cancel")							\
	X(XERR_REMOTE_SERVER_TIMEOUT,	17, "remote-server-timeout", "wait") \
	X(XERR_RESOURCE_CONSTRAINT,	18, "resource-constraint", "wait") \
	X(XERR_SERVICE_UNAVAILABLE,	19, "service-unavailable", "cancel") \
	X(XERR_SUBSCRIPTION_REQUIRED,	20, "subscription-required", "auth") \
	X(XERR_UNDEFINED_CONDITION,	21, "undefined-condition", "cancel") \
	X(XERR_UNEXPECTED_REQUEST,	22, "unexpected-request", "wait")

/* X(enum, wire number, wire name) -- RFC 6120 6.5 */
#define SASL_ERRORS(X)							\
	X(SASLERR_NONE,			0,  "")				\
	X(SASLERR_ABORTED,		1,  "aborted")			\
	X(SASLERR_ACCOUNT_DISABLED,	2,  "account-disabled")		\
	X(SASLERR_CREDENTIALS_EXPIRED,	3,  "credentials-expired")	\
	X(SASLERR_ENCRYPTION_REQUIRED,	4,  "encryption-required")	\
	X(SASLERR_INCORRECT_ENCODING,	5,  "incorrect-encoding")	\
	X(SASLERR_INVALID_AUTHZID,	6,  "invalid-authzid")		\
	X(SASLERR_INVALID_MECHANISM,	7,  "invalid-mechanism")	\
	X(SASLERR_MALFORMED_REQUEST,	8,  "malformed-request")	\
	X(SASLERR_MECHANISM_TOO_WEAK,	9,  "mechanism-too-weak")	\
	X(SASLERR_NOT_AUTHORIZED,	10, "not-authorized")		\
	X(SASLERR_TEMPORARY_AUTH_FAILURE, 11, "temporary-auth-failure")

#define XMPP_ENUM3(e, w, n)	e,
#define XMPP_ENUM4(e, w, n, t)	e,
enum stream_err { STREAM_ERRORS(XMPP_ENUM3) SERR_COUNT };
/* XERR_COUNT is "no error" where a condition is optional (wire number 0) */
enum stanza_err { STANZA_ERRORS(XMPP_ENUM4) XERR_COUNT };
enum sasl_err { SASL_ERRORS(XMPP_ENUM3) SASLERR_COUNT };

const char	*stream_err_name(enum stream_err);
const char	*stanza_err_name(enum stanza_err);
const char	*stanza_err_type(enum stanza_err);
const char	*sasl_err_name(enum sasl_err);

struct buf;
/*
 * RFC 6120 4.9: appends the stream error cond, with text if not NULL,
 * and the stream's close to b, whole: a text that would pass b's cap is
 * left out (the condition is what counts). -1, b as it was, if even
 * that does not fit.
 */
int		 stream_err_xml(struct buf *, enum stream_err,
		    const char *text);
/*
 * The same with data, if not NULL, as the condition's character data:
 * see-other-host's HOST[:PORT] (RFC 6120 4.9.3.19).
 */
int		 stream_err_xml_data(struct buf *, enum stream_err,
		    const char *data, const char *text);

/*
 * Wire numbers. The encoders take any value of the enum (XERR_COUNT, "no
 * error", is 0); the decoders return the condition, or -1 for a number no
 * condition has (0 decodes to SERR_NONE, XERR_COUNT and SASLERR_NONE).
 */
uint32_t	 stream_err_wire(enum stream_err);
int		 stream_err_unwire(uint32_t);
uint32_t	 stanza_err_wire(enum stanza_err);
int		 stanza_err_unwire(uint32_t);
uint32_t	 sasl_err_wire(enum sasl_err);
int		 sasl_err_unwire(uint32_t);

/*
 * Stanza kinds and types, as the routing envelope of a link frame carries
 * them (u8 kind, u8 type): fixed wire values and the XML names.
 * X(enum, wire value, element name) -- RFC 6120 8.2
 */
#define STANZA_KINDS(X)							\
	X(KIND_MESSAGE,		1, "message")				\
	X(KIND_PRESENCE,	2, "presence")				\
	X(KIND_IQ,		3, "iq")

/*
 * X(enum, kind, wire value, 'type' attribute). Values count per kind; 0 is
 * what a stanza without the attribute is: a normal message (RFC 6121
 * 5.2.2), available presence (4.7.1, which has no name); an iq must say
 * (RFC 6120 8.2.3). MTYPE_, not MSG_: <sys/socket.h> owns that prefix.
 */
#define STANZA_TYPES(X)							\
	X(MTYPE_NORMAL,		KIND_MESSAGE,	0, "normal")		\
	X(MTYPE_CHAT,		KIND_MESSAGE,	1, "chat")		\
	X(MTYPE_GROUPCHAT,	KIND_MESSAGE,	2, "groupchat")		\
	X(MTYPE_HEADLINE,	KIND_MESSAGE,	3, "headline")		\
	X(MTYPE_ERROR,		KIND_MESSAGE,	4, "error")		\
	X(PRES_AVAILABLE,	KIND_PRESENCE,	0, NULL)		\
	X(PRES_UNAVAILABLE,	KIND_PRESENCE,	1, "unavailable")	\
	X(PRES_SUBSCRIBE,	KIND_PRESENCE,	2, "subscribe")		\
	X(PRES_SUBSCRIBED,	KIND_PRESENCE,	3, "subscribed")	\
	X(PRES_UNSUBSCRIBE,	KIND_PRESENCE,	4, "unsubscribe")	\
	X(PRES_UNSUBSCRIBED,	KIND_PRESENCE,	5, "unsubscribed")	\
	X(PRES_PROBE,		KIND_PRESENCE,	6, "probe")		\
	X(PRES_ERROR,		KIND_PRESENCE,	7, "error")		\
	X(IQ_GET,		KIND_IQ,	0, "get")		\
	X(IQ_SET,		KIND_IQ,	1, "set")		\
	X(IQ_RESULT,		KIND_IQ,	2, "result")		\
	X(IQ_ERROR,		KIND_IQ,	3, "error")

#define XMPP_KIND_ENUM(e, w, n)		e = w,
#define XMPP_TYPE_ENUM(e, k, w, n)	e = w,
enum stanza_kind { STANZA_KINDS(XMPP_KIND_ENUM) };
/* values repeat across kinds: a type means something only with its kind */
enum stanza_type { STANZA_TYPES(XMPP_TYPE_ENUM) };
/* no type of its kind (an unknown 'type', or an iq without one) */
#define STANZA_TYPE_BAD	0xff

/*
 * The kind of a top-level element in the stream's content namespace, or
 * -1 when it is no stanza.
 */
int		 stanza_kind_of(const char *ns, const char *name,
		    const char *content_ns);
/* its type from the 'type' attribute (NULL: none), or STANZA_TYPE_BAD */
int		 stanza_type_of(int kind, const char *type);
/* true for a kind and a type of that kind (an envelope read from a link) */
bool		 stanza_kind_type_valid(int kind, int type);

#endif
