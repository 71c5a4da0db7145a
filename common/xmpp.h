/*
 * XMPP namespaces and the error conditions of RFC 6120 (stream errors,
 * 4.9.3; stanza errors, 8.3.3) and RFC 6120 6.5 (SASL failures): each one
 * X-macro list with the enum, the wire name and the default type.
 */
#ifndef PARLEY_XMPP_H
#define PARLEY_XMPP_H

#define NS_CLIENT	"jabber:client"
#define NS_SERVER	"jabber:server"
#define NS_STREAM	"http://etherx.jabber.org/streams"
#define NS_STREAMS_ERR	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND		"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION	"urn:ietf:params:xml:ns:xmpp-session"
#define NS_PING		"urn:xmpp:ping"
#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_XML		"http://www.w3.org/XML/1998/namespace"

/* X(enum, wire name) -- RFC 6120 4.9.3 */
#define STREAM_ERRORS(X)						\
	X(SERR_NONE,			"")				\
	X(SERR_BAD_FORMAT,		"bad-format")			\
	X(SERR_BAD_NAMESPACE_PREFIX,	"bad-namespace-prefix")		\
	X(SERR_CONFLICT,		"conflict")			\
	X(SERR_CONNECTION_TIMEOUT,	"connection-timeout")		\
	X(SERR_HOST_GONE,		"host-gone")			\
	X(SERR_HOST_UNKNOWN,		"host-unknown")			\
	X(SERR_IMPROPER_ADDRESSING,	"improper-addressing")		\
	X(SERR_INTERNAL_SERVER_ERROR,	"internal-server-error")	\
	X(SERR_INVALID_FROM,		"invalid-from")			\
	X(SERR_INVALID_NAMESPACE,	"invalid-namespace")		\
	X(SERR_INVALID_XML,		"invalid-xml")			\
	X(SERR_NOT_AUTHORIZED,		"not-authorized")		\
	X(SERR_NOT_WELL_FORMED,		"not-well-formed")		\
	X(SERR_POLICY_VIOLATION,	"policy-violation")		\
	X(SERR_REMOTE_CONNECTION_FAILED, "remote-connection-failed")	\
	X(SERR_RESET,			"reset")			\
	X(SERR_RESOURCE_CONSTRAINT,	"resource-constraint")		\
	X(SERR_RESTRICTED_XML,		"restricted-xml")		\
	X(SERR_SEE_OTHER_HOST,		"see-other-host")		\
	X(SERR_SYSTEM_SHUTDOWN,		"system-shutdown")		\
	X(SERR_UNDEFINED_CONDITION,	"undefined-condition")		\
	X(SERR_UNSUPPORTED_ENCODING,	"unsupported-encoding")		\
	X(SERR_UNSUPPORTED_FEATURE,	"unsupported-feature")		\
	X(SERR_UNSUPPORTED_STANZA_TYPE,	"unsupported-stanza-type")	\
	X(SERR_UNSUPPORTED_VERSION,	"unsupported-version")

/* X(enum, wire name, default type) -- RFC 6120 8.3.3 */
#define STANZA_ERRORS(X)						\
	X(XERR_BAD_REQUEST,		"bad-request",		"modify") \
	X(XERR_CONFLICT,		"conflict",		"cancel") \
	X(XERR_FEATURE_NOT_IMPLEMENTED,	"feature-not-implemented", "cancel") \
	X(XERR_FORBIDDEN,		"forbidden",		"auth")	  \
	X(XERR_GONE,			"gone",			"cancel") \
	X(XERR_INTERNAL_SERVER_ERROR,	"internal-server-error", "cancel") \
	X(XERR_ITEM_NOT_FOUND,		"item-not-found",	"cancel") \
	X(XERR_JID_MALFORMED,		"jid-malformed",	"modify") \
	X(XERR_NOT_ACCEPTABLE,		"not-acceptable",	"modify") \
	X(XERR_NOT_ALLOWED,		"not-allowed",		"cancel") \
	X(XERR_NOT_AUTHORIZED,		"not-authorized",	"auth")	  \
	X(XERR_POLICY_VIOLATION,	"policy-violation",	"modify") \
	X(XERR_RECIPIENT_UNAVAILABLE,	"recipient-unavailable", "wait")  \
	X(XERR_REDIRECT,		"redirect",		"modify") \
	X(XERR_REGISTRATION_REQUIRED,	"registration-required", "auth")  \
	X(XERR_REMOTE_SERVER_NOT_FOUND,	"remote-server-not-found", "cancel") \
	X(XERR_REMOTE_SERVER_TIMEOUT,	"remote-server-timeout", "wait")  \
	X(XERR_RESOURCE_CONSTRAINT,	"resource-constraint",	"wait")	  \
	X(XERR_SERVICE_UNAVAILABLE,	"service-unavailable",	"cancel") \
	X(XERR_SUBSCRIPTION_REQUIRED,	"subscription-required", "auth")  \
	X(XERR_UNDEFINED_CONDITION,	"undefined-condition",	"cancel") \
	X(XERR_UNEXPECTED_REQUEST,	"unexpected-request",	"wait")

/* X(enum, wire name) -- RFC 6120 6.5 */
#define SASL_ERRORS(X)							\
	X(SASLERR_NONE,			"")				\
	X(SASLERR_ABORTED,		"aborted")			\
	X(SASLERR_ACCOUNT_DISABLED,	"account-disabled")		\
	X(SASLERR_CREDENTIALS_EXPIRED,	"credentials-expired")		\
	X(SASLERR_ENCRYPTION_REQUIRED,	"encryption-required")		\
	X(SASLERR_INCORRECT_ENCODING,	"incorrect-encoding")		\
	X(SASLERR_INVALID_AUTHZID,	"invalid-authzid")		\
	X(SASLERR_INVALID_MECHANISM,	"invalid-mechanism")		\
	X(SASLERR_MALFORMED_REQUEST,	"malformed-request")		\
	X(SASLERR_MECHANISM_TOO_WEAK,	"mechanism-too-weak")		\
	X(SASLERR_NOT_AUTHORIZED,	"not-authorized")		\
	X(SASLERR_TEMPORARY_AUTH_FAILURE, "temporary-auth-failure")

#define XMPP_ENUM2(e, n)	e,
#define XMPP_ENUM3(e, n, t)	e,
enum stream_err { STREAM_ERRORS(XMPP_ENUM2) SERR_COUNT };
enum stanza_err { STANZA_ERRORS(XMPP_ENUM3) XERR_COUNT };
enum sasl_err { SASL_ERRORS(XMPP_ENUM2) SASLERR_COUNT };

const char	*stream_err_name(enum stream_err);
const char	*stanza_err_name(enum stanza_err);
const char	*stanza_err_type(enum stanza_err);
const char	*sasl_err_name(enum sasl_err);

/*
 * The routing envelope's kind (KIND_*, link.h) of a top-level element in
 * the stream's content namespace, or -1 when it is no stanza.
 */
int		 stanza_kind_of(const char *ns, const char *name,
		    const char *content_ns);
/* its type (MSG_*, PRES_*, IQ_*) from the 'type' attribute (NULL: none),
   or STANZA_TYPE_BAD */
int		 stanza_type_of(int kind, const char *type);

#endif
