/*
 * Fuzz target: the XEP-0115 verification string (router/capsver.c) of a
 * disco#info answer. The input is the answer's <query/> (one element, as
 * the router parses an IQ result). Oracles:
 *   - the same tree gives the same verdict and the same S twice;
 *   - order does not matter (5.1 sorts everything): with the children of
 *     the query, of each form and of each field reversed, the verdict
 *     and S are the same;
 *   - an accepted answer has its features sorted, without duplicates and
 *     without '<', and as many '<' in S as it has parts at least;
 *   - caps_ver_make is the hash of that S (sha-1 and sha-256), base64 of
 *     the digest's length.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../common/xmlstream.h"
#include "../../router/router.h"
#include "fuzz.h"

#define S_CAP	(256 * 1024)

static struct xparse	*xp;

struct verdict {
	int	 rc;
	char	*s;		/* S, when rc is 0 */
	size_t	 len;
	size_t	 nfeat;
};

static void
verdict(struct arena *a, const struct xnode *q, struct verdict *v)
{
	const char	**feat;
	struct buf	  b;
	size_t		  i, seps = 0;

	memset(v, 0, sizeof(*v));
	buf_init(&b, S_CAP);
	v->rc = caps_string(a, &b, q, &feat, &v->nfeat);
	FUZZ_CHECK(v->rc == 0 || v->rc == -1, "caps_string returned %d",
	    v->rc);
	if (v->rc == 0) {
		v->len = buf_avail(&b);
		v->s = xmalloc(v->len + 1);
		memcpy(v->s, buf_rptr(&b), v->len);
		for (i = 0; i < v->nfeat; i++) {
			FUZZ_CHECK(strchr(feat[i], '<') == NULL,
			    "feature \"%s\" holds '<'", feat[i]);
			FUZZ_CHECK(i == 0 || strcmp(feat[i - 1], feat[i]) < 0,
			    "features not sorted or repeated: \"%s\" \"%s\"",
			    feat[i - 1], feat[i]);
		}
		for (i = 0; i < v->len; i++)
			seps += v->s[i] == '<';
		FUZZ_CHECK(seps >= v->nfeat, "S has %zu '<' for %zu features",
		    seps, v->nfeat);
	}
	buf_clear(&b);
}

static void
reverse(struct xnode *n)
{
	struct xnode	*c, *next, *prev = NULL;

	n->last = n->children;
	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		c->next = prev;
		prev = c;
	}
	n->children = prev;
}

static void
reverse_all(struct xnode *q)
{
	struct xnode	*x, *f;

	reverse(q);
	for (x = q->children; x != NULL; x = x->next) {
		if (x->type != XNODE_ELEM)
			continue;
		reverse(x);
		for (f = x->children; f != NULL; f = f->next)
			if (f->type == XNODE_ELEM)
				reverse(f);
	}
}

static void
check_hash(struct arena *a, const struct xnode *q, const struct verdict *v,
    int algo, size_t want)
{
	char	ver[CAPS_VER_MAX], again[CAPS_VER_MAX];

	FUZZ_CHECK(caps_ver_make(a, q, algo, ver, sizeof(ver), NULL, NULL) ==
	    0, "accepted by caps_string, refused by caps_ver_make");
	FUZZ_CHECK(caps_hash(algo, v->s, v->len, again, sizeof(again)) == 0,
	    "caps_hash failed");
	FUZZ_CHECK(strcmp(ver, again) == 0, "ver %s is not the hash of S %s",
	    ver, again);
	FUZZ_CHECK(strlen(ver) == want, "%s ver of %zu characters",
	    caps_algo_name(algo), strlen(ver));
}

static void
run(struct xnode *q, struct arena *a, void *arg)
{
	struct verdict	v1, v2, v3;

	(void)arg;
	verdict(a, q, &v1);
	verdict(a, q, &v2);
	FUZZ_CHECK(v1.rc == v2.rc && v1.len == v2.len &&
	    (v1.rc != 0 || memcmp(v1.s, v2.s, v1.len) == 0),
	    "two runs differ");
	reverse_all(q);
	verdict(a, q, &v3);
	FUZZ_CHECK(v1.rc == v3.rc, "order changes the verdict: %d, then %d",
	    v1.rc, v3.rc);
	FUZZ_CHECK(v1.rc != 0 || (v1.len == v3.len &&
	    memcmp(v1.s, v3.s, v1.len) == 0), "order changes S");
	if (v1.rc == 0) {
		check_hash(a, q, &v1, CAPS_SHA1, 28);
		check_hash(a, q, &v1, CAPS_SHA256, 44);
	}
	free(v1.s);
	free(v2.s);
	free(v3.s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	xp = xparse_new(NS_CLIENT, 1 << 20);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len > 64 * 1024)
		return 0;
	(void)xparse_one(xp, (const char *)data, len, run, NULL);
	return 0;
}
