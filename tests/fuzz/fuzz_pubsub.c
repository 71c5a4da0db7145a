/*
 * Fuzz target: the parsers of the publish-subscribe engine that read
 * what a client or the store hands it. The input is split at its first
 * NUL: the part before is XML, read as one element and then as a data
 * form (common/xdata.c) applied to a node configuration (router/
 * pubsub.c: ps_conf_apply, as a configure and as publish-options
 * preconditions); the part after is a stored configuration record
 * (ps_conf_decode).
 *
 * Oracles: no crash, leak or undefined behaviour; a configuration that
 * was applied encodes, and decodes back to the same record (encode is a
 * fixed point); a form applied as preconditions to the configuration it
 * was just applied to is met; enumerations stay in range; max_items stays
 * within pubsub-max-items.
 */
#include <stdbool.h>
#include <string.h>

#include "../../common/util.h"
#include "../../common/xdata.h"
#include "../../common/xmlstream.h"
#include "../../router/pubsub.h"
#include "../../router/router.h"
#include "fuzz.h"

struct router	router;

static struct xparse	*xp;

static void
check_conf(const struct ps_conf *c, bool applied)
{
	FUZZ_CHECK(c->access >= PS_ACCESS_OPEN &&
	    c->access <= PS_ACCESS_WHITELIST, "access %d", c->access);
	FUZZ_CHECK(c->send_last >= PS_SENDLAST_NEVER &&
	    c->send_last <= PS_SENDLAST_ON_SUB_AND_PRESENCE, "send_last %d",
	    c->send_last);
	/* a stored one may be over a limit lowered since: clamped in use */
	FUZZ_CHECK(c->max_items >= 0 && (!applied ||
	    c->max_items <= router.conf.pubsub_max_items), "max_items %d",
	    c->max_items);
	FUZZ_CHECK(ps_conf_max_items(c) >= 1 && ps_conf_max_items(c) <=
	    (size_t)router.conf.pubsub_max_items, "clamped max_items %zu",
	    ps_conf_max_items(c));
	FUZZ_CHECK(c->ngroups <= PS_GROUPS_MAX, "%zu groups", c->ngroups);
}

/* encode is a fixed point of decode: the record reads back the same */
static void
roundtrip(struct arena *a, const struct ps_conf *c)
{
	struct ps_conf	back;
	struct buf	b1, b2;

	buf_init(&b1, 0);
	buf_init(&b2, 0);
	FUZZ_CHECK(ps_conf_encode(&b1, c) == 0, "encode");
	FUZZ_CHECK(ps_conf_decode(a, buf_rptr(&b1), buf_avail(&b1),
	    &back) == 0, "decode of our own record");
	check_conf(&back, false);
	FUZZ_CHECK(ps_conf_encode(&b2, &back) == 0, "encode again");
	FUZZ_CHECK(buf_avail(&b1) == buf_avail(&b2) &&
	    memcmp(buf_rptr(&b1), buf_rptr(&b2), buf_avail(&b1)) == 0,
	    "a record does not read back the same");
	buf_clear(&b1);
	buf_clear(&b2);
}

static void
on_form(struct xnode *el, struct arena *a, void *arg)
{
	static const char *const types[] = {
		NS_PUBSUB "#node_config", NS_PUBSUB "#publish-options",
	};
	struct xdata	 d;
	struct ps_conf	 c;
	const char	*why;
	size_t		 i;

	(void)arg;
	(void)xdata_parse(a, el, &d, &why);
	for (i = 0; i < sizeof(types) / sizeof(*types); i++) {
		ps_conf_default(&c);
		if (ps_conf_apply(a, el, &c, true, types[i], &why) != 0)
			continue;
		check_conf(&c, true);
		roundtrip(a, &c);
		FUZZ_CHECK(ps_conf_apply(a, el, &c, false, types[i],
		    &why) == 0, "a form's own values do not meet it: %s",
		    why);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	router.conf.pubsub_max_items = 64;
	router.conf.pubsub_max_subscriptions = 16;
	xp = xparse_new(NS_CLIENT, 1 << 16);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t	*nul = memchr(data, '\0', len);
	size_t		 xlen = nul != NULL ? (size_t)(nul - data) : len;
	struct arena	 a;
	struct ps_conf	 c;

	(void)xparse_one(xp, (const char *)data, xlen, on_form, NULL);
	if (nul == NULL)
		return 0;
	arena_init(&a);
	if (ps_conf_decode(&a, (const char *)nul + 1, len - xlen - 1,
	    &c) == 0) {
		check_conf(&c, false);
		roundtrip(&a, &c);
	}
	arena_free(&a);
	return 0;
}
