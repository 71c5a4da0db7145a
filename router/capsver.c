/*
 * The XEP-0115 verification string (section 5): built from a disco#info
 * <query/>, with the well-formedness checks of section 5.4. Pure: no
 * router state, so the unit test and the fuzz target run it alone, and
 * the server's own caps (caps.c) come from the same function.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/base64.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "router.h"

#define NS_XDATA	"jabber:x:data"

/* IANA hash function textual names (XEP-0115 8.1; SHA-1 is required) */
static const struct {
	const char			*name;
	gnutls_digest_algorithm_t	 dig;
} caps_algos[] = {
	[CAPS_SHA1] = { "sha-1", GNUTLS_DIG_SHA1 },
	[CAPS_SHA224] = { "sha-224", GNUTLS_DIG_SHA224 },
	[CAPS_SHA256] = { "sha-256", GNUTLS_DIG_SHA256 },
	[CAPS_SHA384] = { "sha-384", GNUTLS_DIG_SHA384 },
	[CAPS_SHA512] = { "sha-512", GNUTLS_DIG_SHA512 },
	[CAPS_SHA3_256] = { "sha3-256", GNUTLS_DIG_SHA3_256 },
	[CAPS_SHA3_512] = { "sha3-512", GNUTLS_DIG_SHA3_512 },
};

int
caps_algo_find(const char *name)
{
	int	i;

	for (i = CAPS_SHA1; i < CAPS_ALGO_COUNT; i++)
		if (strcmp(caps_algos[i].name, name) == 0)
			return i;
	return -1;
}

size_t
caps_ver_len(int algo)
{
	if (algo <= 0 || algo >= CAPS_ALGO_COUNT)
		return 0;
	/* base64 with padding (RFC 4648 4) */
	return 4 * ((gnutls_hash_get_len(caps_algos[algo].dig) + 2) / 3);
}

const char *
caps_algo_name(int algo)
{
	return algo > 0 && algo < CAPS_ALGO_COUNT ? caps_algos[algo].name :
	    "?";
}

/* an identity's four parts; absent ones are empty (XEP-0115 5.1 step 2) */
struct capsid {
	const char	*part[4];	/* category, type, xml:lang, name */
};

/* a form: its FORM_TYPE and the element */
struct capsform {
	const char	*type;
	struct xnode	*x;
};

/* a field of a form: var and the element */
struct capsfield {
	const char	*var;
	struct xnode	*f;
};

static const char *
attr_or_empty(const struct xnode *n, const char *ns, const char *name)
{
	const char	*v = ns ? xnode_attr_ns(n, ns, name) :
	    xnode_attr(n, name);

	return v != NULL ? v : "";
}

/* "i;octet" (RFC 4790 9.3): strcmp on bytes */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* by category, then type, then lang; name only to make duplicates meet */
static int
cmp_id(const void *a, const void *b)
{
	const struct capsid	*x = a, *y = b;
	int			 i, c;

	for (i = 0; i < 4; i++)
		if ((c = strcmp(x->part[i], y->part[i])) != 0)
			return c;
	return 0;
}

static int
cmp_form(const void *a, const void *b)
{
	return strcmp(((const struct capsform *)a)->type,
	    ((const struct capsform *)b)->type);
}

static int
cmp_field(const void *a, const void *b)
{
	return strcmp(((const struct capsfield *)a)->var,
	    ((const struct capsfield *)b)->var);
}

static size_t
count_children(const struct xnode *n, const char *ns, const char *name)
{
	struct xnode	*c;
	size_t		 k = 0;

	for (c = xnode_child(n, ns, name); c != NULL;
	    c = xnode_next(c, ns, name))
		k++;
	return k;
}

/*
 * Appends s and the '<' that ends it; the caller checks b at the end. A
 * '<' inside s would make S ambiguous (a name ending in "<feature" hashes
 * like the feature), so features could be claimed that the hash does not
 * prove: such an answer is refused as ill-formed.
 */
static int
put(struct buf *b, const char *s)
{
	if (strchr(s, '<') != NULL)
		return -1;
	return buf_puts(b, s) | buf_append(b, "<", 1);
}

/*
 * The FORM_TYPE of form x: 0 and *type set; 1 when the form is ignored
 * (no FORM_TYPE, or one not hidden: 5.4 step 3.6); -1 ill-formed (its
 * values differ: 5.4 step 3.5; or two FORM_TYPE fields).
 */
static int
form_type(struct arena *a, const struct xnode *x, const char **type)
{
	struct xnode	*f, *v, *ft = NULL;
	const char	*first = NULL, *t;

	for (f = xnode_child(x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field"))
		if (strcmp(attr_or_empty(f, NULL, "var"), "FORM_TYPE") == 0) {
			/* XEP-0004 3.2: a var names one field of a form */
			if (ft != NULL)
				return -1;
			ft = f;
		}
	if ((f = ft) == NULL || strcmp(attr_or_empty(f, NULL, "type"),
	    "hidden") != 0)
		return 1;
	for (v = xnode_child(f, NS_XDATA, "value"); v != NULL;
	    v = xnode_next(v, NS_XDATA, "value")) {
		t = xnode_text(a, v);
		if (first == NULL)
			first = t;
		else if (strcmp(first, t) != 0)
			return -1;
	}
	if (first == NULL)
		return 1;	/* a FORM_TYPE with no value names no form */
	*type = first;
	return 0;
}

/* 5.1 step 7 for one form: its fields (but FORM_TYPE), values sorted */
static int
form_put(struct arena *a, struct buf *b, const struct capsform *form)
{
	struct capsfield	*fields;
	struct xnode		*f, *v;
	const char		**vals;
	size_t			 nf, nv, i, k;
	int			 rc;

	rc = put(b, form->type);
	nf = count_children(form->x, NS_XDATA, "field");
	fields = arena_alloc(a, (nf ? nf : 1) * sizeof(*fields));
	nf = 0;
	for (f = xnode_child(form->x, NS_XDATA, "field"); f != NULL;
	    f = xnode_next(f, NS_XDATA, "field")) {
		fields[nf].var = attr_or_empty(f, NULL, "var");
		fields[nf].f = f;
		if (strcmp(fields[nf].var, "FORM_TYPE") != 0)
			nf++;
	}
	qsort(fields, nf, sizeof(*fields), cmp_field);
	for (i = 0; i < nf; i++) {
		/* XEP-0004 3.2: unique vars, or the order would be a guess */
		if (i > 0 && strcmp(fields[i - 1].var, fields[i].var) == 0)
			return -1;
		rc |= put(b, fields[i].var);
		nv = count_children(fields[i].f, NS_XDATA, "value");
		vals = arena_alloc(a, (nv ? nv : 1) * sizeof(*vals));
		k = 0;
		for (v = xnode_child(fields[i].f, NS_XDATA, "value");
		    v != NULL; v = xnode_next(v, NS_XDATA, "value"))
			vals[k++] = xnode_text(a, v);
		qsort(vals, k, sizeof(*vals), cmp_str);
		for (k = 0; k < nv; k++)
			rc |= put(b, vals[k]);
	}
	return rc;
}

/* 5.1 steps 6 and 7, with the checks of 5.4 steps 3.5 and 3.6 */
static int
forms_put(struct arena *a, struct buf *b, const struct xnode *query)
{
	struct capsform	*forms;
	struct xnode	*x;
	size_t		 n, i;
	int		 rc = 0;

	n = count_children(query, NS_XDATA, "x");
	forms = arena_alloc(a, (n ? n : 1) * sizeof(*forms));
	n = 0;
	for (x = xnode_child(query, NS_XDATA, "x"); x != NULL;
	    x = xnode_next(x, NS_XDATA, "x")) {
		switch (form_type(a, x, &forms[n].type)) {
		case -1:
			return -1;
		case 0:
			forms[n++].x = x;
			break;
		}
	}
	qsort(forms, n, sizeof(*forms), cmp_form);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(forms[i - 1].type, forms[i].type) == 0)
			return -1;
		rc |= form_put(a, b, &forms[i]);
	}
	return rc;
}

int
caps_string(struct arena *a, struct buf *b, const struct xnode *query,
    const char ***featp, size_t *nfeatp)
{
	struct capsid	*ids;
	const char	**feats;
	struct xnode	*c;
	size_t		 nid, nfeat, i, k;
	int		 rc = 0;

	nid = count_children(query, NS_DISCO_INFO, "identity");
	ids = arena_alloc(a, (nid ? nid : 1) * sizeof(*ids));
	nid = 0;
	for (c = xnode_child(query, NS_DISCO_INFO, "identity"); c != NULL;
	    c = xnode_next(c, NS_DISCO_INFO, "identity")) {
		ids[nid].part[0] = attr_or_empty(c, NULL, "category");
		ids[nid].part[1] = attr_or_empty(c, NULL, "type");
		ids[nid].part[2] = attr_or_empty(c, NS_XML, "lang");
		ids[nid].part[3] = attr_or_empty(c, NULL, "name");
		nid++;
	}
	qsort(ids, nid, sizeof(*ids), cmp_id);
	for (i = 0; i < nid; i++) {
		/* 5.4 step 3.3 */
		if (i > 0 && cmp_id(&ids[i - 1], &ids[i]) == 0)
			return -1;
		for (k = 0; k < 3; k++)
			rc |= (strchr(ids[i].part[k], '<') != NULL ? -1 : 0) |
			    buf_puts(b, ids[i].part[k]) |
			    buf_append(b, "/", 1);
		rc |= put(b, ids[i].part[3]);
	}
	nfeat = count_children(query, NS_DISCO_INFO, "feature");
	feats = arena_alloc(a, (nfeat ? nfeat : 1) * sizeof(*feats));
	nfeat = 0;
	for (c = xnode_child(query, NS_DISCO_INFO, "feature"); c != NULL;
	    c = xnode_next(c, NS_DISCO_INFO, "feature"))
		feats[nfeat++] = attr_or_empty(c, NULL, "var");
	qsort(feats, nfeat, sizeof(*feats), cmp_str);
	for (i = 0; i < nfeat; i++) {
		/* 5.4 step 3.4 */
		if (i > 0 && strcmp(feats[i - 1], feats[i]) == 0)
			return -1;
		rc |= put(b, feats[i]);
	}
	if (forms_put(a, b, query) == -1 || rc != 0)
		return -1;
	if (featp != NULL) {
		*featp = feats;
		*nfeatp = nfeat;
	}
	return 0;
}

int
caps_hash(int algo, const char *s, size_t len, char *ver, size_t verlen)
{
	unsigned char	 md[64];
	struct buf	 b;
	int		 rc = -1;

	if (algo <= 0 || algo >= CAPS_ALGO_COUNT ||
	    gnutls_hash_get_len(caps_algos[algo].dig) > sizeof(md) ||
	    gnutls_hash_fast(caps_algos[algo].dig, s, len, md) < 0)
		return -1;
	buf_init(&b, verlen);
	if (base64_encode(&b, md, gnutls_hash_get_len(caps_algos[algo].dig))
	    == 0 && buf_avail(&b) < verlen) {
		memcpy(ver, buf_rptr(&b), buf_avail(&b));
		ver[buf_avail(&b)] = '\0';
		rc = 0;
	}
	buf_clear(&b);
	return rc;
}

int
caps_ver_make(struct arena *a, const struct xnode *query, int algo,
    char *ver, size_t verlen, const char ***featp, size_t *nfeatp)
{
	struct buf	b;
	int		rc;

	/* a stanza is bounded, so is S: at most its text again */
	buf_init(&b, CAPS_STRING_MAX);
	rc = caps_string(a, &b, query, featp, nfeatp);
	if (rc == 0)
		rc = caps_hash(algo, buf_rptr(&b), buf_avail(&b), ver, verlen);
	buf_clear(&b);
	return rc;
}
