/*
 * Account roles: a DOC_ROLE document (key "") holds the role's name;
 * none means member, so existing accounts need no migration. Built on
 * the public store API only, so the fuzz targets' fake store shares it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "store.h"

/* 0 when the account exists; -1 with errno (ENOENT: it does not) */
static int
role_account(struct store *st, const char *node, const char *domain)
{
	struct scram_creds	c;
	int			rc;

	rc = store_account_get(st, node, domain, &c);
	explicit_bzero(&c, sizeof(c));
	return rc;
}

int
store_account_role_set(struct store *st, const char *node,
    const char *domain, enum role r)
{
	const char	*name = r == ROLE_MEMBER ? NULL : role_name(r);

	if (role_account(st, node, domain) == -1)
		return -1;
	return store_doc_put(st, DOC_ROLE, node, domain, "", name,
	    name != NULL ? strlen(name) : 0);
}

int
store_account_role_get(struct store *st, const char *node,
    const char *domain, enum role *r)
{
	char	*v, name[16];
	size_t	 len;
	int	 rc = -1;

	*r = ROLE_MEMBER;
	if (role_account(st, node, domain) == -1)
		return -1;
	if (store_doc_get(st, DOC_ROLE, node, domain, "", &v, &len) == -1)
		return errno == ENOENT ? 0 : -1;
	if (len < sizeof(name)) {
		memcpy(name, v, len);
		name[len] = '\0';
		rc = role_parse(name, r);
	}
	free(v);
	if (rc == -1) {
		log_warnx("store: %s@%s: the stored role is not one of admin, "
		    "member, limited", log_escs(node), log_escs(domain));
		*r = ROLE_MEMBER;
		errno = EIO;
	}
	return rc;
}
