/*
 * Roles: the one place that decides whether an account may create rooms,
 * upload, invite, register accounts or run admin commands. The role is
 * read from storage at each decision (an LMDB read of a few bytes, and
 * these actions are rare), so parleyctl role takes effect at once with no
 * session to update; the capabilities are the account's own host's
 * member-can and limited-can, validated when the configuration loaded.
 */
#include <errno.h>

#include "../common/log.h"
#include "router.h"

enum role
role_of(const char *node, const char *domain)
{
	enum role	r;

	/* configured admins are admins whatever is stored */
	if (role_listed_admin(conf_host_find(&router.conf, domain), node,
	    domain))
		return ROLE_ADMIN;
	if (store_account_role_get(router.store, node, domain, &r) == -1) {
		/* ENOENT: deleted, its sessions are ending */
		if (errno != ENOENT)
			log_warnx("roles: %s@%s: the role cannot be read; "
			    "taken as limited", log_escs(node),
			    log_escs(domain));
		return ROLE_LIMITED;
	}
	return r;
}

bool
role_may(const char *node, const char *domain, enum role_cap cap)
{
	const struct conf_host	*h = conf_host_find(&router.conf, domain);
	const char		*words, *bad;
	size_t			 n;
	uint32_t		 caps;

	if (h == NULL || node == NULL)
		return false;	/* not an account of ours */
	switch (role_of(node, domain)) {
	case ROLE_ADMIN:
		return true;
	case ROLE_MEMBER:
		words = h->member_can;
		break;
	default:
		words = h->limited_can;
		break;
	}
	if (words == NULL || role_caps_parse(words, &caps, &bad, &n) == -1)
		return false;	/* conf.c refused such a value */
	return (caps & cap) != 0;
}
