/*
 * External service discovery (XEP-0215, urn:xmpp:extdisco:2): the STUN
 * and TURN servers the operator configured for a host, announced to its
 * own users, with temporary TURN credentials after the TURN REST API
 * scheme coturn implements (use-auth-secret): a username of
 * "EXPIRY:USER" and a password that is base64(HMAC-SHA1(secret, username)),
 * so the TURN server checks them with no lookup and no state here.
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "../common/base64.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/util.h"
#include "router.h"

#define NS_EXTDISCO	"urn:xmpp:extdisco:2"

/* an HMAC-SHA1 digest */
#define HMAC_SHA1_LEN	20

/* the XEP-0215 8.3 registry types this server serves */
static const char *const extdisco_types[] = {
	"stun", "stuns", "turn", "turns",
};

static bool
extdisco_known_type(const char *type)
{
	size_t	i;

	for (i = 0; i < nitems(extdisco_types); i++)
		if (strcmp(type, extdisco_types[i]) == 0)
			return true;
	return false;
}

/* TURN services need credentials when the host shares a secret */
static bool
extdisco_restricted(const struct conf_host *h, const struct conf_extsvc *e)
{
	return h->turn_secret != NULL && strncmp(e->type, "turn", 4) == 0;
}

/*
 * The TURN REST API credential for user until expiry (coturn's
 * use-auth-secret); -1 only if GnuTLS refuses HMAC-SHA1 (FIPS mode).
 */
static int
extdisco_credential(const char *secret, const char *user, long long expiry,
    struct arena *a, const char **username, const char **password)
{
	unsigned char	 mac[HMAC_SHA1_LEN];
	struct buf	 b64;
	char		*name;
	int		 rc;

	name = arena_printf(a, "%lld:%s", expiry, user);
	if ((rc = gnutls_hmac_fast(GNUTLS_MAC_SHA1, secret, strlen(secret),
	    name, strlen(name), mac)) < 0) {
		log_warnx("extdisco: HMAC-SHA1: %s", gnutls_strerror(rc));
		return -1;
	}
	buf_init(&b64, 0);
	if (base64_encode(&b64, mac, sizeof(mac)) == -1)
		fatalx("%s: base64 of a digest overflows", __func__);
	*password = arena_strdup(a, buf_cstr(&b64));
	*username = name;
	buf_clear(&b64);
	return 0;
}

/* one <service/> for e under parent, with credentials if restricted */
static void
extdisco_service(struct xnode *parent, struct arena *a,
    const struct conf_host *h, const struct conf_extsvc *e, const char *user)
{
	struct xnode	*s;
	const char	*un, *pw;
	char		 stamp[32];
	long long	 expiry;

	s = xnode_add(a, parent, NS_EXTDISCO, "service");
	xnode_set_attr(a, s, "type", e->type);
	xnode_set_attr(a, s, "host", e->host);
	xnode_set_attr(a, s, "port", arena_printf(a, "%u", e->port));
	if (e->transport != NULL)
		xnode_set_attr(a, s, "transport", e->transport);
	if (!extdisco_restricted(h, e))
		return;
	xnode_set_attr(a, s, "restricted", "1");
	/*
	 * XEP-0215 3.3: credentials given with the list spare the client a
	 * round trip (Prosody and ejabberd do the same). Without them (no
	 * HMAC) the service is still listed, restricted.
	 */
	expiry = (long long)clock_wall() + h->turn_ttl;
	if (extdisco_credential(h->turn_secret, user, expiry, a, &un,
	    &pw) == -1)
		return;
	xmpp_datetime(stamp, (double)expiry);
	xnode_set_attr(a, s, "username", un);
	xnode_set_attr(a, s, "password", pw);
	xnode_set_attr(a, s, "expires", arena_strdup(a, stamp));
}

/*
 * The host that answers rs and the user its credentials name; NULL after
 * answering with the error: only the host's own accounts learn its
 * services (the credentials cost the operator relay bandwidth)
 */
static const struct conf_host *
extdisco_host(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_host	*h;

	h = conf_host_find(&router.conf, rs->tdomain);
	return iq_host_account(rs, iq, a, h != NULL ? h->name : NULL) ? h :
	    NULL;
}

/* XEP-0215 3.1, 3.2: all services, or those of one type */
static void
extdisco_services_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_host	*h;
	struct xnode		*q;
	const char		*type, *user;
	size_t			 i;

	type = xnode_attr(xnode_child(iq, NULL, NULL), "type");
	if (type != NULL && !extdisco_known_type(type)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "unknown service type");
		return;
	}
	type = type != NULL ? arena_strdup(a, type) : NULL;
	if ((h = extdisco_host(rs, iq, a)) == NULL)
		return;
	user = rs->sender->user->bare;
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_EXTDISCO, "services");
	if (type != NULL)
		xnode_set_attr(a, q, "type", type);
	for (i = 0; i < h->nextsvcs; i++) {
		if (type != NULL && strcmp(type, h->extsvcs[i].type) != 0)
			continue;
		extdisco_service(q, a, h, &h->extsvcs[i], user);
	}
	deliver_tree(rs->sender, iq);
}

/* XEP-0215 3.3: credentials for one service, named by host and type */
static void
extdisco_credentials_get(struct rstanza *rs, struct xnode *iq,
    struct arena *a)
{
	const struct conf_host		*h;
	const struct conf_extsvc	*e = NULL;
	struct xnode			*want, *q;
	const char			*host, *type, *port;
	size_t				 i;

	want = xnode_child(xnode_child(iq, NULL, NULL), NS_EXTDISCO,
	    "service");
	host = want != NULL ? xnode_attr(want, "host") : NULL;
	type = want != NULL ? xnode_attr(want, "type") : NULL;
	port = want != NULL ? xnode_attr(want, "port") : NULL;
	if (host == NULL || type == NULL) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "a service with host "
		    "and type is required");
		return;
	}
	if (!extdisco_known_type(type)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "unknown service type");
		return;
	}
	if ((h = extdisco_host(rs, iq, a)) == NULL)
		return;
	for (i = 0; e == NULL && i < h->nextsvcs; i++)
		if (strcmp(h->extsvcs[i].host, host) == 0 &&
		    strcmp(h->extsvcs[i].type, type) == 0 && (port == NULL ||
		    strcmp(arena_printf(a, "%u", h->extsvcs[i].port),
		    port) == 0))
			e = &h->extsvcs[i];
	if (e == NULL) {
		iq_error(rs, iq, a, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	iq_make_result(iq, a);
	q = xnode_add(a, iq, NS_EXTDISCO, "credentials");
	extdisco_service(q, a, h, e, rs->sender->user->bare);
	deliver_tree(rs->sender, iq);
}

const struct iq_handler extdisco_services_handler = {
	.ns = NS_EXTDISCO, .name = "services", .server = true,
	.get = extdisco_services_get,
};

const struct iq_handler extdisco_credentials_handler = {
	.ns = NS_EXTDISCO, .name = "credentials", .server = true,
	.get = extdisco_credentials_get,
};
