/*
 * Private XML Storage (XEP-0049): elements an account keeps for itself,
 * one record per element, keyed "{namespace}name". Only the account may
 * read or write them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "router.h"

#define NS_PRIVATE	"jabber:iq:private"

/*
 * XEP-0049 2.3: the stored fragment is in a namespace of its own. Those
 * beginning "jabber:" or "http://jabber.org/", and vcard-temp, are
 * reserved: not-acceptable, as the XEP allows. No namespace at all is
 * not one's own either.
 */
static bool
private_reserved(const char *ns)
{
	return *ns == '\0' || strncmp(ns, "jabber:", 7) == 0 ||
	    strncmp(ns, "http://jabber.org/", 18) == 0 ||
	    strcmp(ns, "vcard-temp") == 0;
}

static const char *
private_key(struct arena *a, const struct xnode *el)
{
	return arena_printf(a, "{%s}%s", el->ns, el->name);
}

/*
 * Checks a get or set: the sender's own account (XEP-0049 2.3: another
 * user's data is forbidden), then the query's elements: at least one,
 * none reserved, and for a get all in one namespace (XEP-0049 2.3: a
 * client MUST NOT ask for more in one request). Returns the condition to
 * answer, or XERR_COUNT.
 */
static enum stanza_err
private_check(const struct rstanza *rs, const struct xnode *q, bool get)
{
	const struct xnode	*el, *first;

	if (!iq_own_account(rs))
		return XERR_FORBIDDEN;
	if ((first = xnode_child(q, NULL, NULL)) == NULL)
		/* get: "Bad Format" (bad-request); set: Not Acceptable */
		return get ? XERR_BAD_REQUEST : XERR_NOT_ACCEPTABLE;
	for (el = first; el != NULL; el = xnode_next(el, NULL, NULL)) {
		if (private_reserved(el->ns))
			return XERR_NOT_ACCEPTABLE;
		if (get && strcmp(el->ns, first->ns) != 0)
			return XERR_BAD_REQUEST;
	}
	return XERR_COUNT;
}

static void
private_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q = xnode_child(iq, NS_PRIVATE, "query");
	struct xnode	*rq, *el, *doc;
	enum stanza_err	 err;
	char		*val;
	size_t		 len;

	if ((err = private_check(rs, q, true)) != XERR_COUNT) {
		iq_error(rs, iq, a, err, NULL);
		return;
	}
	rq = xnode_new(a, NS_PRIVATE, "query");
	for (el = xnode_child(q, NULL, NULL); el != NULL;
	    el = xnode_next(el, NULL, NULL)) {
		if (store_doc_get(router.store, DOC_PRIVATE, rs->tnode,
		    rs->tdomain, private_key(a, el), &val, &len) == -1) {
			if (errno != ENOENT) {
				iq_error(rs, iq, a,
				    XERR_INTERNAL_SERVER_ERROR, NULL);
				return;
			}
			/* nothing stored: the element asked for, empty */
			xnode_add(a, rq, el->ns, el->name);
			continue;
		}
		doc = doc_parse(a, val, len);
		free(val);
		if (doc == NULL) {
			iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR,
			    NULL);
			return;
		}
		xnode_append(rq, doc);
	}
	iq_make_result(iq, a);
	xnode_append(iq, rq);
	deliver_tree(rs->sender, iq);
}

/*
 * Adds one element to the batch, keeping u (the account's documents and
 * bytes) up to date: a replaced document gives back what it held. 0, -1
 * with errno (EDQUOT past a quota). pep_compat.c writes bookmarks here.
 */
int
private_put(const char *node, const char *domain, const char *key,
    const struct buf *b, struct store_usage *u)
{
	char	*old;
	size_t	 oldlen;

	if (store_doc_get(router.store, DOC_PRIVATE, node, domain,
	    key, &old, &oldlen) == 0) {
		free(old);
		u->count--;
		u->bytes -= oldlen;
	} else if (errno != ENOENT)
		return -1;
	u->count++;
	u->bytes += buf_avail(b);
	if (u->count > (size_t)router.conf.private_max_docs ||
	    u->bytes > router.conf.private_max_bytes) {
		errno = EDQUOT;
		return -1;
	}
	return store_doc_put(router.store, DOC_PRIVATE, node, domain, key,
	    buf_rptr(b), buf_avail(b));
}

/*
 * One stanza, one transaction: every element is written in one batch,
 * committed once (one sync), or none is. 0, or -1 with errno: EMSGSIZE
 * for an element over private-max-size, EDQUOT past the account's quota,
 * EAGAIN when the map has grown and the batch may fit now.
 */
static int
private_store(struct rstanza *rs, struct xnode *q, struct arena *a,
    struct buf *b)
{
	struct xnode		*el;
	struct store_usage	 u;
	int			 err;

	if (store_begin(router.store) == -1)
		return -1;
	if (store_doc_usage(router.store, DOC_PRIVATE, rs->tnode, rs->tdomain,
	    &u) == -1)
		goto fail;
	for (el = xnode_child(q, NULL, NULL); el != NULL;
	    el = xnode_next(el, NULL, NULL)) {
		buf_reset(b);
		if (xnode_write(b, el, "") == -1) {
			errno = EMSGSIZE;
			goto fail;
		}
		if (private_put(rs->tnode, rs->tdomain, private_key(a, el), b,
		    &u) == -1)
			goto fail;
	}
	return store_commit(router.store);

fail:
	err = errno;
	store_abort(router.store);
	errno = err;
	return -1;
}

static void
private_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q = xnode_child(iq, NS_PRIVATE, "query"), *el;
	enum stanza_err	 err;
	struct buf	 b;
	int		 rc, serr;

	if ((err = private_check(rs, q, false)) != XERR_COUNT) {
		iq_error(rs, iq, a, err, NULL);
		return;
	}
	buf_init(&b, router.conf.private_max_size);
	/* EAGAIN: the map has grown, run again (store.h: this ends) */
	do
		rc = private_store(rs, q, a, &b);
	while (rc == -1 && errno == EAGAIN);
	serr = errno;
	buf_clear(&b);
	if (rc == 0) {
		/* committed before the result */
		iq_make_result(iq, a);
		deliver_tree(rs->sender, iq);
		/* XEP-0411: bookmarks written here reach PEP too */
		for (el = xnode_child(q, NULL, NULL); el != NULL;
		    el = xnode_next(el, NULL, NULL))
			pep_compat_private(rs->tnode, rs->tdomain, el, a);
		return;
	}
	switch (serr) {
	case EMSGSIZE:
		/* as for vcard-temp: the server's criteria not met */
		iq_error(rs, iq, a, XERR_NOT_ACCEPTABLE,
		    arena_printf(a, "element larger than %zu bytes",
		    router.conf.private_max_size));
		break;
	case EDQUOT:
		log_info("%s@%s: private XML over its quota",
		    log_escs(rs->tnode), log_escs(rs->tdomain));
		iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT,
		    arena_printf(a, "private storage is limited to %d "
		    "documents and %zu bytes", router.conf.private_max_docs,
		    router.conf.private_max_bytes));
		break;
	default:
		iq_error(rs, iq, a, serr == ENOSPC || serr == EAGAIN ?
		    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR,
		    NULL);
	}
}

const struct iq_handler private_handler = {
	.ns = NS_PRIVATE, .name = "query", .server = false, .account = true,
	.get = private_get, .set = private_set,
};
