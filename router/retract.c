/*
 * Message retraction (XEP-0424) in what the server keeps of a
 * conversation: which stored message a retraction names. The archive
 * (mam.c) and the offline store (offline.c) hold messages as bytes; both
 * ask here whether one is the author's message of the retraction's id.
 */
#include <stdbool.h>
#include <string.h>

#include "../common/util.h"
#include "mam.h"
#include "router.h"

const char *
retract_id(const struct xnode *el)
{
	const struct xnode	*r = xnode_child(el, NS_RETRACT, "retract");
	const char		*id;

	if (r == NULL || (id = xnode_attr(r, "id")) == NULL || *id == '\0')
		return NULL;
	return id;
}

int
retract_target_init(struct retract_target *t, const char *author,
    const char *id)
{
	t->author = author;
	t->id = id;
	buf_init(&t->needle, LINK_STANZA_MAX);
	if (xml_escape(&t->needle, id, strlen(id)) == -1) {
		buf_clear(&t->needle);
		return -1;
	}
	return 0;
}

void
retract_target_clear(struct retract_target *t)
{
	buf_clear(&t->needle);
}

/* v is the bare JID bare, or a full JID of it */
static bool
of_bare(const char *v, const char *bare)
{
	size_t	n = strcspn(v, "/");

	return n == strlen(bare) && memcmp(v, bare, n) == 0;
}

/*
 * The message's 'id' (XEP-0424 3, what Conversations, Dino and Gajim
 * send) or its origin-id (XEP-0359: the same value from them, what
 * older versions of XEP-0424 named), from the author's bare JID (XEP-0424
 * 5: one-to-one, the same bare JID).
 */
bool
retract_target_is(const struct retract_target *t, const char *xml,
    size_t len)
{
	struct xnode	*el, *oid;
	struct arena	 a;
	const char	*v;
	bool		 hit = false;

	/* most messages do not hold the id at all: no parse for them */
	if (memmem(xml, len, buf_rptr(&t->needle),
	    buf_avail(&t->needle)) == NULL)
		return false;
	arena_init(&a);
	if ((el = doc_parse(&a, xml, len)) != NULL &&
	    (v = xnode_attr(el, "from")) != NULL && of_bare(v, t->author)) {
		oid = xnode_child(el, NS_SID, "origin-id");
		hit = ((v = xnode_attr(el, "id")) != NULL &&
		    strcmp(v, t->id) == 0) || (oid != NULL &&
		    (v = xnode_attr(oid, "id")) != NULL &&
		    strcmp(v, t->id) == 0);
	}
	arena_free(&a);
	return hit;
}
