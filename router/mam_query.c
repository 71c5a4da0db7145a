/*
 * Reading an archive query (XEP-0313 4): the data form's filters (with,
 * start, end, before-id, after-id, ids), the result set management of
 * XEP-0059 (max, after, before, index) and flip-page. Pure: a tree in, a
 * struct mam_query out, strict about every value.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/jid.h"
#include "../common/xeptime.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"

static int
hex_u64(const char *s, uint64_t *v)
{
	size_t	i;
	int	d;

	*v = 0;
	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		*v = *v << 4 | (uint64_t)d;
	}
	return 0;
}

int
mam_sid_parse(const char *s, struct mam_sid *sid)
{
	if (s == NULL || strlen(s) != MAM_SID_LEN ||
	    hex_u64(s, &sid->id) == -1 || hex_u64(s + 16, &sid->nonce) == -1)
		return -1;
	return 0;
}

void
mam_sid_format(char *out, const struct mam_sid *sid)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < 16; i++) {
		out[i] = hex[(sid->id >> (60 - 4 * i)) & 0xf];
		out[16 + i] = hex[(sid->nonce >> (60 - 4 * i)) & 0xf];
	}
	out[MAM_SID_LEN] = '\0';
}

/* XEP-0082, common/xeptime.c (parleyctl import reads archives too) */
int
mam_time_parse(const char *s, uint64_t *us)
{
	return xeptime_parse(s, us);
}

/* a JID, prepared, without its resource (the archive keeps bare JIDs) */
const char *
mam_bare_jid(struct arena *a, const char *s)
{
	struct jid	 j;
	char		*b;
	const char	*out;

	if (s == NULL || jid_parse(&j, s) == -1)
		return NULL;
	b = jid_bare(&j);
	out = arena_strdup(a, b);
	free(b);
	jid_clear(&j);
	return out;
}

/*
 * s as a prepared full JID in a, escaped as XML (mam_entry_has_jid);
 * NULL if it is not one with a resource
 */
static const char *
full_jid(struct arena *a, const char *s)
{
	struct jid	 j;
	struct buf	 esc;
	char		*f;
	const char	*out = NULL;

	if (jid_parse(&j, s) == -1)
		return NULL;
	if (j.resource != NULL) {
		/* escaped once here, as the archive's entries have it */
		f = jid_full(&j);
		buf_init(&esc, 0);
		if (xml_escape(&esc, f, strlen(f)) == 0 &&
		    buf_append(&esc, "", 1) == 0)
			out = arena_strdup(a, buf_rptr(&esc));
		buf_clear(&esc);
		free(f);
	}
	jid_clear(&j);
	return out;
}

/* the value of attribute name in the start tag at xml, escaped; NULL */
static const char *
tag_attr(const char *xml, size_t len, const char *name, size_t *vlen)
{
	const char	*end, *p, *v, *q;
	size_t		 n = strlen(name);

	if ((end = memchr(xml, '>', len)) == NULL)
		return NULL;
	/*
	 * Values are quoted with ' and never hold one (it is &apos;), so
	 * " name='" can only start an attribute.
	 */
	for (p = xml; (p = memchr(p, ' ', (size_t)(end - p))) != NULL; p++) {
		if ((size_t)(end - p) < n + 3 || memcmp(p + 1, name, n) != 0 ||
		    p[n + 1] != '=' || p[n + 2] != '\'')
			continue;
		v = p + n + 3;
		if ((q = memchr(v, '\'', (size_t)(end - v))) == NULL)
			return NULL;
		*vlen = (size_t)(q - v);
		return v;
	}
	return NULL;
}

bool
mam_entry_has_jid(const char *xml, size_t len, const char *esc)
{
	static const char *const	names[] = { "from", "to" };
	const char			*v;
	size_t				i, vlen, n = strlen(esc);

	for (i = 0; i < nitems(names); i++)
		if ((v = tag_attr(xml, len, names[i], &vlen)) != NULL &&
		    vlen == n && memcmp(v, esc, n) == 0)
			return true;
	return false;
}

static int
fail(enum stanza_err *err, const char **text, enum stanza_err e,
    const char *why)
{
	*err = e;
	*text = why;
	return -1;
}

static int
form_apply(struct arena *a, struct xnode *x, struct mam_query *q,
    enum stanza_err *err, const char **text)
{
	struct xdata			 d;
	const struct xdata_field	*f;
	struct xnode			*c;
	const char			*why = NULL, *v;
	size_t				 i, j;

	/*
	 * XEP-0313 8 sends ids with several values and no type: read it as
	 * the text-multi field the form we hand out declares.
	 */
	for (c = xnode_child(x, NS_XDATA, "field"); c != NULL;
	    c = xnode_next(c, NS_XDATA, "field"))
		if (xnode_attr(c, "var") != NULL &&
		    strcmp(xnode_attr(c, "var"), "ids") == 0 &&
		    xnode_attr(c, "type") == NULL)
			xnode_set_attr(a, c, "type", "text-multi");
	if (xdata_parse(a, x, &d, &why) == -1)
		return fail(err, text, XERR_BAD_REQUEST, why);
	if (strcmp(d.type, "submit") != 0 || (d.form_type != NULL &&
	    strcmp(d.form_type, NS_MAM) != 0))
		return fail(err, text, XERR_BAD_REQUEST,
		    "a submitted urn:xmpp:mam:2 form is expected");
	for (i = 0; i < d.nfields; i++) {
		f = &d.fields[i];
		if (strcmp(f->var, "ids") == 0) {
			q->has_ids = true;
			q->nids = f->nvalues;
			q->ids = arena_alloc(a, (f->nvalues + 1) *
			    sizeof(*q->ids));
			for (j = 0; j < f->nvalues; j++)
				if (mam_sid_parse(f->values[j],
				    &q->ids[j]) == -1)
					return fail(err, text,
					    XERR_ITEM_NOT_FOUND,
					    "no such archive id");
			continue;
		}
		/* every other field is single-valued; empty means unset */
		if (f->nvalues > 1)
			return fail(err, text, XERR_BAD_REQUEST,
			    "one value per field");
		if (f->nvalues == 0 || *(v = f->values[0]) == '\0')
			continue;
		if (strcmp(f->var, "with") == 0) {
			if ((q->with = mam_bare_jid(a, v)) == NULL)
				return fail(err, text, XERR_BAD_REQUEST,
				    "with: not a JID");
			q->with_full = full_jid(a, v);
		} else if (strcmp(f->var, "start") == 0) {
			if (mam_time_parse(v, &q->start) == -1)
				return fail(err, text, XERR_BAD_REQUEST,
				    "start: not an XEP-0082 date-time");
		} else if (strcmp(f->var, "end") == 0) {
			if (mam_time_parse(v, &q->end) == -1)
				return fail(err, text, XERR_BAD_REQUEST,
				    "end: not an XEP-0082 date-time");
		} else if (strcmp(f->var, "after-id") == 0) {
			q->has_after_id = true;
			if (mam_sid_parse(v, &q->after_id) == -1)
				return fail(err, text, XERR_ITEM_NOT_FOUND,
				    "no such archive id");
		} else if (strcmp(f->var, "before-id") == 0) {
			q->has_before_id = true;
			if (mam_sid_parse(v, &q->before_id) == -1)
				return fail(err, text, XERR_ITEM_NOT_FOUND,
				    "no such archive id");
		} else
			/* XEP-0313 4.1.1: a field we do not know */
			return fail(err, text, XERR_BAD_REQUEST,
			    "unknown field");
	}
	return 0;
}

/* XEP-0059 2.1, 2.4: a non-negative integer, at most cap */
static int
rsm_num(const char *s, size_t cap, size_t *max)
{
	unsigned long long	v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -1;
	/* 10^9, or past ULLONG_MAX: the cap, not an error */
	*max = errno == ERANGE || v > cap ? cap : (size_t)v;
	return 0;
}

static int
rsm_apply(struct arena *a, const struct xnode *set, size_t page_max,
    struct mam_query *q, enum stanza_err *err, const char **text)
{
	const struct xnode	*c;
	const char		*v;
	bool			 seen_max = false;

	for (c = xnode_child(set, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		if (strcmp(c->ns, NS_RSM) != 0)
			continue;
		v = xnode_text(a, c);
		if (strcmp(c->name, "max") == 0) {
			if (seen_max || rsm_num(v, page_max, &q->max) == -1)
				return fail(err, text, XERR_BAD_REQUEST,
				    "max: a non-negative integer");
			seen_max = true;
		} else if (strcmp(c->name, "after") == 0) {
			if (q->has_after)
				return fail(err, text, XERR_BAD_REQUEST,
				    "after given twice");
			q->has_after = true;
			if (mam_sid_parse(v, &q->after) == -1)
				return fail(err, text, XERR_ITEM_NOT_FOUND,
				    "no such archive id");
		} else if (strcmp(c->name, "before") == 0) {
			if (q->backward)
				return fail(err, text, XERR_BAD_REQUEST,
				    "before given twice");
			q->backward = true;
			if (*v == '\0') {
				q->before_empty = true;
				continue;
			}
			q->has_before = true;
			if (mam_sid_parse(v, &q->before) == -1)
				return fail(err, text, XERR_ITEM_NOT_FOUND,
				    "no such archive id");
		} else if (strcmp(c->name, "index") == 0) {
			/* XEP-0059 2.4: a page from an offset */
			if (q->has_index || rsm_num(v, SIZE_MAX,
			    &q->index) == -1)
				return fail(err, text, XERR_BAD_REQUEST,
				    "index: a non-negative integer");
			q->has_index = true;
		}
	}
	if (q->has_after && q->backward)
		return fail(err, text, XERR_BAD_REQUEST,
		    "after and before together");
	if (q->has_index && (q->has_after || q->backward))
		return fail(err, text, XERR_BAD_REQUEST,
		    "index with after or before");
	return 0;
}

int
mam_query_parse(struct arena *a, struct xnode *query,
    size_t page_max, struct mam_query *q, enum stanza_err *err,
    const char **text)
{
	struct xnode		*c;
	bool			 form = false, set = false;

	memset(q, 0, sizeof(*q));
	q->end = UINT64_MAX;
	q->max = page_max;
	q->queryid = xnode_attr(query, "queryid");
	if (xnode_attr(query, "node") != NULL)
		/* XEP-0313 4.1.2: a pubsub node's archive: we keep none */
		return fail(err, text, XERR_ITEM_NOT_FOUND,
		    "no archive at this node");
	for (c = xnode_child(query, NULL, NULL); c != NULL;
	    c = xnode_next(c, NULL, NULL)) {
		if (strcmp(c->ns, NS_XDATA) == 0 &&
		    strcmp(c->name, "x") == 0) {
			if (form)
				return fail(err, text, XERR_BAD_REQUEST,
				    "one form");
			form = true;
			if (form_apply(a, c, q, err, text) == -1)
				return -1;
		} else if (strcmp(c->ns, NS_RSM) == 0 &&
		    strcmp(c->name, "set") == 0) {
			if (set)
				return fail(err, text, XERR_BAD_REQUEST,
				    "one set");
			set = true;
			if (rsm_apply(a, c, page_max, q, err, text) == -1)
				return -1;
		} else if (strcmp(c->ns, NS_MAM) == 0 &&
		    strcmp(c->name, "flip-page") == 0)
			q->flip = true;
	}
	return 0;
}
