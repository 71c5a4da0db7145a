/*
 * Simple communications blocking (XEP-0191): an account's block list
 * (get, block, unblock, unblock all) with pushes to its resources, and
 * blocking_blocks(), the check routing makes in both directions.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "router.h"

#define NS_BLOCKING	"urn:xmpp:blocking"
/*
 * Entries per account (block-max-items): the store has no cap of its own
 * and every stanza to the account costs lookups, so the list must not
 * grow without bound.
 */
#define BLOCK_MAX	((size_t)router.conf.block_max_items)

struct block_list {
	struct arena	*a;
	struct xnode	*parent;	/* items added here, if not NULL */
	char		**jids;		/* or copied here (cap room) */
	size_t		 cap;
	size_t		 n;
};

/*
 * XEP-0191 3.2: the list is the user's own, asked with no 'to' (or, the
 * same thing, to the own bare JID or the own server). Nobody else's.
 */
static bool
block_own(const struct rstanza *rs)
{
	if (rs->sender == NULL)
		return false;
	return iq_own_account(rs) || (rs->tnode == NULL &&
	    rs->tdomain != NULL &&
	    strcmp(rs->tdomain, rs->sender->user->domain) == 0);
}

static int
block_list_item(const char *jid, void *arg)
{
	struct block_list	*bl = arg;
	struct xnode		*it;

	if (bl->parent != NULL) {
		it = xnode_add(bl->a, bl->parent, NS_BLOCKING, "item");
		xnode_set_attr(bl->a, it, "jid", jid);
	}
	if (bl->jids != NULL) {
		if (bl->n == bl->cap)
			return 1;
		bl->jids[bl->n] = arena_strdup(bl->a, jid);
	}
	bl->n++;
	return 0;
}

/* XEP-0191 3.2: the list, empty or not */
static void
blocking_get(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct block_list	 bl;
	struct xnode		*q = xnode_child(iq, NULL, NULL);
	struct user		*u;

	if (!block_own(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	if (strcmp(q->name, "blocklist") != 0) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, NULL);
		return;
	}
	u = rs->sender->user;
	bl.a = a;
	bl.parent = xnode_new(a, NS_BLOCKING, "blocklist");
	bl.jids = NULL;
	bl.cap = 0;
	bl.n = 0;
	if (store_block_list(router.store, u->node, u->domain,
	    block_list_item, &bl) == -1) {
		log_warn("block list of %s", log_escs(u->bare));
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	iq_make_result(iq, a);
	xnode_append(iq, bl.parent);
	deliver_tree(rs->sender, iq);
}

/*
 * XEP-0191 3.3, 3.4: the change goes to every resource of the account,
 * the requester included, as an IQ set from the bare JID. The spec asks
 * for "resources that have requested the blocklist"; sessions carry no
 * such flag, so all of them get it (a client ignores what it does not
 * track, and a block list fetched later is the same).
 */
static void
blocking_push(struct user *u, struct arena *a, const char *op,
    char **jids, size_t n)
{
	struct xnode	*iq, *el, *it;
	struct sess	*s;
	char		 id[2 * 8 + 1];
	unsigned char	 rnd[8];
	size_t		 i;

	iq = xnode_new(a, NS_CLIENT, "iq");
	xnode_set_attr(a, iq, "type", "set");
	xnode_set_attr(a, iq, "from", u->bare);
	el = xnode_add(a, iq, NS_BLOCKING, op);
	for (i = 0; i < n; i++) {
		it = xnode_add(a, el, NS_BLOCKING, "item");
		xnode_set_attr(a, it, "jid", jids[i]);
	}
	for (s = u->sessions; s != NULL; s = s->next) {
		random_bytes(rnd, sizeof(rnd));
		hex_encode(id, rnd, sizeof(rnd));
		xnode_set_attr(a, iq, "id", arena_printf(a, "push-%s", id));
		xnode_set_attr(a, iq, "to", s->full);
		deliver_tree(s, iq);
	}
}

/*
 * The <item jid=''/> children, each normalised (RFC 7622) the way the
 * store keys them. Returns the count, or -1 after answering the error.
 */
static ssize_t
blocking_items(struct rstanza *rs, struct xnode *iq, struct xnode *op,
    struct arena *a, char ***out)
{
	struct xnode	*it;
	struct jid	 j;
	const char	*s;
	char		**v, *full;
	size_t		  n = 0;

	for (it = xnode_child(op, NS_BLOCKING, "item"); it != NULL;
	    it = xnode_next(it, NS_BLOCKING, "item"))
		n++;
	if (n > BLOCK_MAX) {
		iq_error(rs, iq, a, XERR_POLICY_VIOLATION,
		    "too many items in one request");
		return -1;
	}
	v = arena_alloc(a, (n + 1) * sizeof(*v));
	n = 0;
	for (it = xnode_child(op, NS_BLOCKING, "item"); it != NULL;
	    it = xnode_next(it, NS_BLOCKING, "item")) {
		if ((s = xnode_attr(it, "jid")) == NULL) {
			iq_error(rs, iq, a, XERR_BAD_REQUEST,
			    "an item needs a jid");
			return -1;
		}
		if (jid_parse(&j, s) == -1) {
			iq_error(rs, iq, a, XERR_JID_MALFORMED, NULL);
			return -1;
		}
		full = jid_full(&j);
		jid_clear(&j);
		v[n++] = arena_strdup(a, full);
		free(full);
	}
	*out = v;
	return (ssize_t)n;
}

/*
 * The writes of one block or unblock, in the open batch. 0, or -1 with
 * errno (EDQUOT when the list would pass block-max-items); bl gets the
 * JIDs an unblock-all removed.
 */
static int
blocking_write(struct user *u, bool block, char **jids, size_t n,
    struct block_list *bl)
{
	const char	*node = u->node, *domain = u->domain;
	size_t		 i, have, fresh = 0;

	if (store_block_count(router.store, node, domain, &have) == -1)
		return -1;
	if (block) {
		for (i = 0; i < n; i++)
			if (store_block_has(router.store, node, domain,
			    jids[i]) == -1)
				fresh++;
		if (have + fresh > BLOCK_MAX) {
			errno = EDQUOT;
			return -1;
		}
		for (i = 0; i < n; i++)
			if (store_block_add(router.store, node, domain,
			    jids[i]) == -1)
				return -1;
		return 0;
	}
	if (n == 0) {
		/* XEP-0191 3.4: whoever was blocked sees the presence again */
		bl->jids = arena_alloc(bl->a, (have + 1) * sizeof(*bl->jids));
		bl->cap = have;
		if (store_block_list(router.store, node, domain,
		    block_list_item, bl) == -1)
			return -1;
		return store_block_del(router.store, node, domain, NULL);
	}
	/* unblocking a JID that is not blocked is no error */
	for (i = 0; i < n; i++)
		if (store_block_del(router.store, node, domain,
		    jids[i]) == -1 && errno != ENOENT)
			return -1;
	return 0;
}

/*
 * One stanza, one transaction: the writes and the count left after them,
 * committed once. 0, or -1 with errno (EAGAIN: the map has grown, the
 * batch may fit now).
 */
static int
blocking_store(struct user *u, bool block, char **jids, size_t n,
    struct block_list *bl, size_t *left)
{
	int	err;

	if (store_begin(router.store) == -1)
		return -1;
	if (blocking_write(u, block, jids, n, bl) == -1 ||
	    store_block_count(router.store, u->node, u->domain, left) == -1) {
		err = errno;
		store_abort(router.store);
		errno = err;
		return -1;
	}
	return store_commit(router.store);
}

/*
 * XEP-0191 3.3 block, 3.4 unblock, 3.5 unblock all. One stanza is one
 * storage transaction: all its JIDs are stored, with one sync, or none.
 */
static void
blocking_set(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode		*op = xnode_child(iq, NULL, NULL);
	struct block_list	 bl;
	struct user		*u;
	char			**jids;
	const char		*name = op->name;
	enum stanza_err		 err;
	ssize_t			 n;
	size_t			 i, left = 0;
	int			 rc;
	bool			 block;

	if (!block_own(rs)) {
		iq_error(rs, iq, a, XERR_FORBIDDEN, NULL);
		return;
	}
	u = rs->sender->user;
	if (strcmp(name, "block") != 0 && strcmp(name, "unblock") != 0) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, NULL);
		return;
	}
	block = strcmp(name, "block") == 0;
	if ((n = blocking_items(rs, iq, op, a, &jids)) == -1)
		return;
	/* XEP-0191 3.3: a block names at least one JID */
	if (block && n == 0) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST,
		    "a block needs at least one item");
		return;
	}
	/* EAGAIN: the map has grown, run again (store.h: this ends) */
	do {
		memset(&bl, 0, sizeof(bl));
		bl.a = a;
		rc = blocking_store(u, block, jids, (size_t)n, &bl, &left);
	} while (rc == -1 && errno == EAGAIN);
	if (rc == -1)
		goto fail;
	/* the fast path skips online users with an empty list */
	u->blocklist = left > 0;
	blocking_forget(u);	/* read again when next needed */
	log_debug("%s %s %zd item(s)", log_escs(u->bare), name, n);
	/* stored: now the result, then presence and the pushes */
	iq_make_result(iq, a);
	deliver_tree(rs->sender, iq);
	for (i = 0; i < (size_t)n; i++)
		presence_block_changed(u, jids[i], block);
	for (i = 0; i < bl.n; i++)
		presence_block_changed(u, bl.jids[i], false);
	blocking_push(u, a, name, jids, (size_t)n);
	return;
fail:
	if (errno == EDQUOT) {
		log_info("%s: block list full", log_escs(u->bare));
		iq_error(rs, iq, a, XERR_POLICY_VIOLATION,
		    arena_printf(a, "the block list is full (%zu items)",
		    BLOCK_MAX));
		return;
	}
	err = errno == ENOSPC || errno == EAGAIN ?
	    XERR_RESOURCE_CONSTRAINT : XERR_INTERNAL_SERVER_ERROR;
	log_warn("%s of %s", name, log_escs(u->bare));
	iq_error(rs, iq, a, err, NULL);
}

/* one list's lookup: the store's, or one in memory */
struct block_src {
	const char	*node, *domain;
	struct map	*mem;
};

static bool
block_has(const struct block_src *src, const char *s, size_t len)
{
	char	buf[JID_STR_MAX + 1];

	if (len > JID_STR_MAX)
		return false;
	if (src->mem != NULL)
		return map_getn(src->mem, s, len) != NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return store_block_has(router.store, src->node, src->domain, buf) ==
	    0;
}

/*
 * XEP-0191 2 (as XEP-0016): user@domain/resource matches itself,
 * user@domain any of its resources, domain/resource itself, and domain
 * any address at it or at a subdomain of it. jid is normalised (the
 * envelope's 'from' or 'to').
 */
static bool
block_match(const struct block_src *src, const char *jid)
{
	const char	*slash, *at, *d, *end;
	size_t		 len;

	len = strlen(jid);
	end = jid + len;
	if (block_has(src, jid, len))
		return true;
	slash = memchr(jid, '/', len);
	at = memchr(jid, '@', (size_t)((slash ? slash : end) - jid));
	d = at != NULL ? at + 1 : jid;
	/* the bare JID of a full one */
	if (at != NULL && slash != NULL &&
	    block_has(src, jid, (size_t)(slash - jid)))
		return true;
	/* domain/resource of a full JID with a node */
	if (at != NULL && slash != NULL &&
	    block_has(src, d, (size_t)(end - d)))
		return true;
	if (slash != NULL)
		end = slash;
	/* the domain itself, unless that was the whole JID */
	if ((at != NULL || slash != NULL) &&
	    block_has(src, d, (size_t)(end - d)))
		return true;
	/* parent domains; an IP literal has none (no TLD is numeric) */
	if (*d == '[' || (end[-1] >= '0' && end[-1] <= '9'))
		return false;
	while ((d = memchr(d, '.', (size_t)(end - d))) != NULL) {
		d++;
		if (d < end && block_has(src, d, (size_t)(end - d)))
			return true;
	}
	return false;
}

bool
blocking_blocks(const char *node, const char *domain, const char *jid)
{
	struct block_src	 src = { node, domain, NULL };
	struct user		*u;
	char			 bare[JID_STR_MAX + 1];

	if (jid == NULL)
		return false;
	/* an online account's flag says whether there is any list at all */
	jid_format(bare, node, domain, NULL);
	if ((u = map_get(router.by_bare, bare)) != NULL && !u->blocklist)
		return false;
	return block_match(&src, jid);
}

static int
block_mem_add(const char *jid, void *arg)
{
	map_put(arg, jid, (void *)1);
	return 0;
}

bool
blocking_blocks_user(struct user *u, const char *jid)
{
	struct block_src	src = { u->node, u->domain, NULL };

	if (jid == NULL || !u->blocklist)
		return false;
	if (u->blocked == NULL) {
		/* at most block-max-items, for as long as u is online */
		u->blocked = map_new();
		if (store_block_list(router.store, u->node, u->domain,
		    block_mem_add, u->blocked) == -1) {
			log_warn("block list of %s", log_escs(u->bare));
			blocking_forget(u);
			return block_match(&src, jid);
		}
	}
	src.mem = u->blocked;
	return block_match(&src, jid);
}

void
blocking_forget(struct user *u)
{
	map_free(u->blocked, NULL);
	u->blocked = NULL;
}

const struct iq_handler blocking_handler = {
	.ns = NS_BLOCKING, .server = true, .account = true,
	.get = blocking_get, .set = blocking_set,
};
