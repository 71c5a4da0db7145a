/*
 * vcard-temp (XEP-0054): an account's profile, stored as the client sent
 * it. Anyone may read a local account's vCard (XEP-0054 security
 * considerations: they are world-readable); only the account may set it.
 */
#include <errno.h>
#include <stdlib.h>

#include "router.h"

#define NS_VCARD	"vcard-temp"

static void
vcard_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*card = NULL;
	char		*val;
	size_t		 len;

	if (rs->tnode == NULL) {
		iq_error(rs, iq, a, XERR_SERVICE_UNAVAILABLE, NULL);
		return;
	}
	if (store_doc_get(router.store, DOC_VCARD, rs->tnode, rs->tdomain,
	    "", &val, &len) == 0) {
		card = doc_parse(a, val, len);
		free(val);
		if (card == NULL) {
			iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
			return;
		}
	} else if (errno != ENOENT) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	iq_make_result(iq, a);
	/* XEP-0054 3.1: no vCard is an empty one (or item-not-found) */
	if (card != NULL)
		xnode_append(iq, card);
	else
		xnode_add(a, iq, NS_VCARD, "vCard");
	deliver_tree(rs->sender, iq);
}

static void
vcard_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*card = xnode_child(iq, NS_VCARD, "vCard");
	struct buf	 b;
	int		 rc, err;

	/* XEP-0054 3.2: another user's vCard: forbidden (or not-allowed) */
	if (!iq_own_account(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	/*
	 * Written with no namespace in scope, the document declares all of
	 * its own and reads back the same anywhere. XEP-0054 sets no limit;
	 * an oversized one does not meet the server's criteria, which is
	 * not-acceptable (RFC 6120 8.3.3.9), with a text saying which.
	 */
	buf_init(&b, router.conf.vcard_max_size);
	if (xnode_write(&b, card, "") == -1) {
		buf_clear(&b);
		iq_error(rs, iq, a, XERR_NOT_ACCEPTABLE,
		    arena_printf(a, "vCard larger than %zu bytes",
		    router.conf.vcard_max_size));
		return;
	}
	/* an empty vCard is no vCard: a get answers the same either way */
	if (xnode_child(card, NULL, NULL) == NULL)
		rc = store_doc_put(router.store, DOC_VCARD, rs->tnode,
		    rs->tdomain, "", NULL, 0);
	else
		rc = store_doc_put(router.store, DOC_VCARD, rs->tnode,
		    rs->tdomain, "", buf_rptr(&b), buf_avail(&b));
	err = errno;
	buf_clear(&b);
	if (rc == -1 && err != ENOENT) {
		iq_error(rs, iq, a, err == ENOSPC ?
		    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR,
		    NULL);
		return;
	}
	/* committed before the result: a reader after it sees the new one */
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
	/* XEP-0398 3.2: the photo goes to the PEP avatar nodes */
	pep_compat_vcard(rs->tnode, rs->tdomain, card, a);
}

const struct iq_handler vcard_handler = {
	.ns = NS_VCARD, .name = "vCard", .server = false, .account = true,
	.get = vcard_get, .set = vcard_set,
};
