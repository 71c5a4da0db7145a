/*
 * Fuzz target: the XEP-0227 reader of parleyctl import
 * (storage/pie_parse.c). The input is a chunking plan (fuzz.h) and a
 * file; it is read once in the plan's chunks and once whole.
 *
 * Oracles: no crash, leak or undefined behaviour; every record inside a
 * user names a prepared node and domain; serialised XML is as long as
 * its bytes say and NUL-free; credentials are in bounds; a roster item
 * has a JID and at most ROSTER_GROUPS_MAX groups; and the chunked read
 * gives the same records and the same outcome as the whole one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../storage/pie.h"
#include "fuzz.h"

struct seen {
	uint64_t	digest;		/* of kinds, lines and bytes */
	size_t		count;
};

static void
mix(struct seen *s, const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < len; i++)
		s->digest = (s->digest ^ b[i]) * 0x100000001b3ull;
}

static int
rec_check(const struct pie_rec *r, void *arg)
{
	struct seen	*s = arg;
	size_t		 i;

	s->count++;
	mix(s, &r->kind, sizeof(r->kind));
	if (r->kind != PIE_SKIP && r->kind != PIE_ERROR) {
		FUZZ_CHECK(r->node != NULL && r->domain != NULL,
		    "record %d outside a user", (int)r->kind);
		mix(s, r->node, strlen(r->node));
		mix(s, r->domain, strlen(r->domain));
	}
	if (r->xml != NULL) {
		FUZZ_CHECK(strlen(r->xml) == r->len, "record %d: %zu bytes "
		    "said, %zu there", (int)r->kind, r->len, strlen(r->xml));
		fuzz_touch(r->xml, r->len);
		if (r->kind != PIE_SKIP && r->kind != PIE_ERROR)
			mix(s, r->xml, r->len);
	}
	switch (r->kind) {
	case PIE_CRED:
		FUZZ_CHECK(r->cred.iter >= 1 && r->cred.iter <= SCRAM_ITER_MAX,
		    "iterations %u", (unsigned)r->cred.iter);
		FUZZ_CHECK(r->cred.saltlen >= 1 &&
		    r->cred.saltlen <= SCRAM_SALT_MAX, "salt of %u",
		    (unsigned)r->cred.saltlen);
		break;
	case PIE_ROSTER:
		FUZZ_CHECK(r->item->jid != NULL && *r->item->jid != '\0',
		    "roster item without a JID");
		FUZZ_CHECK(r->item->ngroups <= ROSTER_GROUPS_MAX,
		    "%zu groups", r->item->ngroups);
		mix(s, r->item->jid, strlen(r->item->jid));
		for (i = 0; i < r->item->ngroups; i++)
			fuzz_touch(r->item->groups[i],
			    strlen(r->item->groups[i]));
		break;
	case PIE_SUBREQ:
	case PIE_BLOCK:
		FUZZ_CHECK(r->jid != NULL, "no JID");
		mix(s, r->jid, strlen(r->jid));
		break;
	case PIE_PEP_FORM:
		if (r->access != NULL)
			mix(s, r->access, strlen(r->access));
		if (r->max_items != NULL)
			mix(s, r->max_items, strlen(r->max_items));
		/* FALLTHROUGH */
	case PIE_PRIVATE:
	case PIE_PEP_CONF:
	case PIE_PEP_ITEM:
		FUZZ_CHECK(r->key != NULL && *r->key != '\0', "no key");
		mix(s, r->key, strlen(r->key));
		break;
	default:
		break;
	}
	return 0;
}

static int
run(const uint8_t *data, size_t len, struct fuzz_plan *plan,
    struct seen *s)
{
	struct pie_parser	*pp = pie_parser_new(rec_check, s);
	size_t			 off = 0, n;
	int			 rc = 0;

	memset(s, 0, sizeof(*s));
	pie_parser_stamp(pp, "2026-12-05T10:00:00Z");
	do {
		n = plan != NULL ? fuzz_plan_next(plan, len - off) : len;
		rc = pie_parse(pp, (const char *)data + off, n,
		    off + n == len);
		off += n;
	} while (rc == 0 && off < len);
	if (rc == 0 && len == 0)
		rc = pie_parse(pp, "", 0, true);
	pie_parser_free(pp);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	plan;
	struct seen		a, b;
	size_t			skip;
	int			ra, rb;

	skip = fuzz_plan_init(&plan, data, len);
	data += skip;
	len -= skip;
	ra = run(data, len, &plan, &a);
	rb = run(data, len, NULL, &b);
	FUZZ_CHECK(ra == rb, "chunked %d, whole %d", ra, rb);
	FUZZ_CHECK(ra == -1 || (a.count == b.count && a.digest == b.digest),
	    "chunked: %zu records, whole: %zu", a.count, b.count);
	return 0;
}
