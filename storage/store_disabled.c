/*
 * Disabled accounts: a DOC_DISABLED document (key "") marks one; the
 * account record stays as it is. Built on the public store API only, so
 * the fuzz targets' fake store shares it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int
store_account_disable(struct store *st, const char *node, const char *domain,
    bool disabled)
{
	struct scram_creds	c;
	int			rc;

	rc = store_account_get(st, node, domain, &c);
	explicit_bzero(&c, sizeof(c));
	if (rc == -1)
		return -1;
	return store_doc_put(st, DOC_DISABLED, node, domain, "",
	    disabled ? "1" : NULL, disabled ? 1 : 0);
}

int
store_account_disabled(struct store *st, const char *node,
    const char *domain)
{
	char	*v;

	if (store_doc_get(st, DOC_DISABLED, node, domain, "", &v,
	    NULL) == 0) {
		free(v);
		return 1;
	}
	return errno == ENOENT ? 0 : -1;
}
