/*
 * One kept group chat join (mucjoin.h): the rewriting of a join to ask
 * for no history, and the nick it is under as the user and the room
 * change it. Shared by c2s/rejoin.c and s2s/rejoin.c.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jid.h"
#include "mucjoin.h"
#include "util.h"

size_t
mucjoin_bare_len(const char *jid)
{
	const char	*s = strchr(jid, '/');

	return s != NULL ? (size_t)(s - jid) : strlen(jid);
}

bool
mucjoin_room_is(const struct mucjoin *j, const char *jid)
{
	size_t	n = mucjoin_bare_len(jid);

	return mucjoin_bare_len(j->to) == n && memcmp(j->to, jid, n) == 0;
}

bool
mucjoin_ours(const struct conf *c, const char *to)
{
	const char	*at = strchr(to, '@');
	char		 dom[JID_STR_MAX + 1];
	size_t		 n;

	if (at == NULL)
		return false;
	n = mucjoin_bare_len(at + 1);
	if (n >= sizeof(dom))
		return false;
	memcpy(dom, at + 1, n);
	dom[n] = '\0';
	return conf_muc_find(c, dom) != NULL;
}

char *
mucjoin_build(const struct xnode *el, struct arena *a, size_t *len)
{
	struct xnode	*c, *x, *nx, *n, *next, **pp;
	struct buf	 b;
	char		*xml = NULL;

	c = xnode_copy(a, el);
	if ((x = xnode_child(c, NS_MUC, "x")) == NULL)
		return NULL;
	nx = xnode_new(a, NS_MUC, "x");
	for (n = x->children; n != NULL; n = next) {
		next = n->next;
		if (n->type == XNODE_ELEM && strcmp(n->ns, NS_MUC) == 0 &&
		    strcmp(n->name, "history") == 0)
			continue;
		xnode_append(nx, n);
	}
	xnode_set_attr(a, xnode_add(a, nx, NULL, "history"), "maxstanzas",
	    "0");
	/* nx takes x's place among c's children */
	for (pp = &c->children; *pp != x; pp = &(*pp)->next)
		;
	nx->parent = c;
	nx->next = x->next;
	*pp = nx;
	if (c->last == x)
		c->last = nx;
	buf_init(&b, MUCJOIN_XML_MAX);
	if (xnode_write(&b, c, NS_CLIENT) == 0) {
		*len = buf_avail(&b);
		xml = xstrndup(buf_rptr(&b), *len);
	}
	buf_clear(&b);
	return xml;
}

void
mucjoin_set(struct mucjoin *j, const char *to, char *xml, size_t len)
{
	mucjoin_clear(j);
	j->to = xstrdup(to);
	j->xml = xml;
	j->len = len;
}

void
mucjoin_clear(struct mucjoin *j)
{
	free(j->to);
	free(j->prev);
	free(j->xml);
	memset(j, 0, sizeof(*j));
}

enum mucjoin_sent
mucjoin_out(struct mucjoin *j, const struct xnode *el, int type,
    const char *to)
{
	if (type == PRES_UNAVAILABLE || type == PRES_ERROR)
		return MUCJOIN_LEAVE;
	if (type != PRES_AVAILABLE || strchr(to, '/') == NULL)
		return MUCJOIN_NONE;
	if (xnode_child(el, NS_MUC, "x") != NULL)
		return MUCJOIN_JOIN;
	if (j != NULL && strcmp(j->to, to) != 0) {
		free(j->prev);
		j->prev = j->to;
		j->to = xstrdup(to);
	}
	return MUCJOIN_NONE;
}

enum mucjoin_said
mucjoin_in(struct mucjoin *j, const char *from, int type)
{
	if (strcmp(j->to, from) == 0) {
		switch (type) {
		case PRES_AVAILABLE:
			/* the room took the join, or the nick */
			free(j->prev);
			j->prev = NULL;
			return MUCJOIN_SELF;
		case PRES_ERROR:
			if (j->prev != NULL) {
				/* 7.6.3: the nick change refused, not us */
				free(j->to);
				j->to = j->prev;
				j->prev = NULL;
				return MUCJOIN_OTHER;
			}
			return MUCJOIN_GONE;
		case PRES_UNAVAILABLE:
			return MUCJOIN_GONE;
		}
	} else if (j->prev != NULL && strcmp(j->prev, from) == 0 &&
	    type == PRES_UNAVAILABLE) {
		/* 7.6.2: the old nick's unavailable (303) */
		free(j->prev);
		j->prev = NULL;
	}
	return MUCJOIN_OTHER;
}
