/*
 * Unit tests for router/subscription.c: every cell of RFC 6121 Appendix
 * A (nine states, four stanza types, outbound A.2 and inbound A.3): the
 * new state and whether the stanza is routed or delivered, with the
 * answers the server gives for the user; then pre-approval (3.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/link.h"
#include "../../router/subscription.h"
#include "unit.h"

/* the nine states of A.1 */
enum st {
	NONE, NONE_PO, NONE_PI, NONE_POI, TO, TO_PI, FROM, FROM_PO, BOTH,
	NSTATES
};

static const struct {
	const char	*name;
	enum roster_sub	 sub;
	bool		 ask, pending_in;
} states[NSTATES] = {
	[NONE] = { "None", SUB_NONE, false, false },
	[NONE_PO] = { "None + Pending Out", SUB_NONE, true, false },
	[NONE_PI] = { "None + Pending In", SUB_NONE, false, true },
	[NONE_POI] = { "None + Pending Out/In", SUB_NONE, true, true },
	[TO] = { "To", SUB_TO, false, false },
	[TO_PI] = { "To + Pending In", SUB_TO, false, true },
	[FROM] = { "From", SUB_FROM, false, false },
	[FROM_PO] = { "From + Pending Out", SUB_FROM, true, false },
	[BOTH] = { "Both", SUB_BOTH, false, false },
};

static const char *const types[] = {
	[PRES_SUBSCRIBE] = "subscribe", [PRES_SUBSCRIBED] = "subscribed",
	[PRES_UNSUBSCRIBE] = "unsubscribe",
	[PRES_UNSUBSCRIBED] = "unsubscribed",
};

#define SAME	(-1)	/* "no state change" in the appendix */

struct cell {
	enum st	 from;
	bool	 pass;		/* ROUTE? (A.2) or DELIVER? (A.3) */
	int	 to;		/* enum st or SAME */
	int	 extra;		/* SUB_ACT_SUBSCRIBED, _CURRENT, _UNAVAILABLE */
};

/* A.2.1 outbound subscribe */
static const struct cell out_subscribe[NSTATES] = {
	{ NONE, true, NONE_PO, 0 },
	{ NONE_PO, true, SAME, 0 },
	{ NONE_PI, true, NONE_POI, 0 },
	{ NONE_POI, true, SAME, 0 },
	{ TO, true, SAME, 0 },
	{ TO_PI, true, SAME, 0 },
	{ FROM, true, FROM_PO, 0 },
	{ FROM_PO, true, SAME, 0 },
	{ BOTH, true, SAME, 0 },
};

/*
 * A.2.2 outbound subscribed. Where the appendix says "no state change"
 * for a state with neither From nor Pending In, 3.4 records a
 * pre-approval instead (test_preapproval): the state of A.1 is the same.
 */
static const struct cell out_subscribed[NSTATES] = {
	{ NONE, false, SAME, 0 },
	{ NONE_PO, false, SAME, 0 },
	{ NONE_PI, true, FROM, SUB_ACT_CURRENT },
	{ NONE_POI, true, FROM_PO, SUB_ACT_CURRENT },
	{ TO, false, SAME, 0 },
	{ TO_PI, true, BOTH, SUB_ACT_CURRENT },
	{ FROM, false, SAME, 0 },
	{ FROM_PO, false, SAME, 0 },
	{ BOTH, false, SAME, 0 },
};

/* A.2.3 outbound unsubscribe */
static const struct cell out_unsubscribe[NSTATES] = {
	{ NONE, true, SAME, 0 },
	{ NONE_PO, true, NONE, 0 },
	{ NONE_PI, true, SAME, 0 },
	{ NONE_POI, true, NONE_PI, 0 },
	{ TO, true, NONE, 0 },
	{ TO_PI, true, NONE_PI, 0 },
	{ FROM, true, SAME, 0 },
	{ FROM_PO, true, FROM, 0 },
	{ BOTH, true, FROM, 0 },
};

/* A.2.4 outbound unsubscribed; 3.2.2: unavailable where From ends */
static const struct cell out_unsubscribed[NSTATES] = {
	{ NONE, false, SAME, 0 },
	{ NONE_PO, false, SAME, 0 },
	{ NONE_PI, true, NONE, 0 },
	{ NONE_POI, true, NONE_PO, 0 },
	{ TO, false, SAME, 0 },
	{ TO_PI, true, TO, 0 },
	{ FROM, true, NONE, SUB_ACT_UNAVAILABLE },
	{ FROM_PO, true, NONE_PO, SUB_ACT_UNAVAILABLE },
	{ BOTH, true, TO, SUB_ACT_UNAVAILABLE },
};

/* A.3.1 inbound subscribe; the starred cells answer 'subscribed' */
static const struct cell in_subscribe[NSTATES] = {
	{ NONE, true, NONE_PI, 0 },
	{ NONE_PO, true, NONE_POI, 0 },
	{ NONE_PI, false, SAME, 0 },
	{ NONE_POI, false, SAME, 0 },
	{ TO, true, TO_PI, 0 },
	{ TO_PI, false, SAME, 0 },
	{ FROM, false, SAME, SUB_ACT_SUBSCRIBED },
	{ FROM_PO, false, SAME, SUB_ACT_SUBSCRIBED },
	{ BOTH, false, SAME, SUB_ACT_SUBSCRIBED },
};

/* A.3.2 inbound subscribed */
static const struct cell in_subscribed[NSTATES] = {
	{ NONE, false, SAME, 0 },
	{ NONE_PO, true, TO, 0 },
	{ NONE_PI, false, SAME, 0 },
	{ NONE_POI, true, TO_PI, 0 },
	{ TO, false, SAME, 0 },
	{ TO_PI, false, SAME, 0 },
	{ FROM, false, SAME, 0 },
	{ FROM_PO, true, BOTH, 0 },
	{ BOTH, false, SAME, 0 },
};

/* A.3.3 inbound unsubscribe; 3.3.3: unavailable where From ends */
static const struct cell in_unsubscribe[NSTATES] = {
	{ NONE, false, SAME, 0 },
	{ NONE_PO, false, SAME, 0 },
	{ NONE_PI, true, NONE, 0 },
	{ NONE_POI, true, NONE_PO, 0 },
	{ TO, false, SAME, 0 },
	{ TO_PI, true, TO, 0 },
	{ FROM, true, NONE, SUB_ACT_UNAVAILABLE },
	{ FROM_PO, true, NONE_PO, SUB_ACT_UNAVAILABLE },
	{ BOTH, true, TO, SUB_ACT_UNAVAILABLE },
};

/* A.3.4 inbound unsubscribed */
static const struct cell in_unsubscribed[NSTATES] = {
	{ NONE, false, SAME, 0 },
	{ NONE_PO, true, NONE, 0 },
	{ NONE_PI, false, SAME, 0 },
	{ NONE_POI, true, NONE_PI, 0 },
	{ TO, true, NONE, 0 },
	{ TO_PI, true, NONE_PI, 0 },
	{ FROM, false, SAME, 0 },
	{ FROM_PO, true, FROM, 0 },
	{ BOTH, true, FROM, 0 },
};

static void
item_set(struct roster_item *it, enum st s)
{
	memset(it, 0, sizeof(*it));
	it->sub = states[s].sub;
	it->ask = states[s].ask;
	it->pending_in = states[s].pending_in;
}

/* the A.1 state the item is in; fails on a combination A.1 lacks */
static enum st
item_state(const struct roster_item *it, const char *where)
{
	int	s;

	for (s = 0; s < NSTATES; s++)
		if (it->sub == states[s].sub && it->ask == states[s].ask &&
		    it->pending_in == states[s].pending_in)
			return s;
	fail_msg("%s: sub=%d ask=%d pending_in=%d is no state of A.1", where,
	    it->sub, it->ask, it->pending_in);
	return NSTATES;
}

typedef int	step_fn(struct roster_item *, int);

/*
 * One table: every state of A.1 appears once (a missing row is a zeroed
 * second "None" row), and each cell holds.
 */
static void
run_table(const char *dir, step_fn *step, int type,
    const struct cell *t)
{
	struct roster_item	 it;
	bool			 seen[NSTATES] = { false };
	char			 where[128];
	size_t			 i;
	int			 acts, want, extra_mask;
	enum st			 got;

	extra_mask = SUB_ACT_SUBSCRIBED | SUB_ACT_CURRENT |
	    SUB_ACT_UNAVAILABLE;
	for (i = 0; i < NSTATES; i++) {
		assert_false(seen[t[i].from]);
		seen[t[i].from] = true;
		snprintf(where, sizeof(where), "%s %s in \"%s\"", dir,
		    types[type], states[t[i].from].name);
		item_set(&it, t[i].from);
		acts = step(&it, type);
		got = item_state(&it, where);
		want = t[i].to == SAME ? (int)t[i].from : t[i].to;
		if ((int)got != want)
			fail_msg("%s: new state \"%s\", A wants \"%s\"", where,
			    states[got].name, states[want].name);
		if (((acts & SUB_ACT_PASS) != 0) != t[i].pass)
			fail_msg("%s: %s, A wants %s", where,
			    (acts & SUB_ACT_PASS) ? "passed on" : "kept",
			    t[i].pass ? "passed on" : "kept");
		if ((acts & extra_mask) != t[i].extra)
			fail_msg("%s: answers 0x%x, want 0x%x", where,
			    acts & extra_mask, t[i].extra);
		/* a change (a new state or a pre-approval) is stored */
		if (((acts & SUB_ACT_CHANGED) != 0) !=
		    (want != (int)t[i].from || it.preapproved))
			fail_msg("%s: changed=%d", where,
			    (acts & SUB_ACT_CHANGED) != 0);
	}
}

struct table {
	const char	*dir;
	step_fn		*step;
	int		 type;
	const struct cell *cells;
};

#define TABLE(dir, step, type, t)	{ dir, step, type, t }

/* the eight tables of the appendix, in its order */
static const struct table tables[] = {
	TABLE("outbound", subscription_out, PRES_SUBSCRIBE, out_subscribe),
	TABLE("outbound", subscription_out, PRES_SUBSCRIBED, out_subscribed),
	TABLE("outbound", subscription_out, PRES_UNSUBSCRIBE,
	    out_unsubscribe),
	TABLE("outbound", subscription_out, PRES_UNSUBSCRIBED,
	    out_unsubscribed),
	TABLE("inbound", subscription_in, PRES_SUBSCRIBE, in_subscribe),
	TABLE("inbound", subscription_in, PRES_SUBSCRIBED, in_subscribed),
	TABLE("inbound", subscription_in, PRES_UNSUBSCRIBE, in_unsubscribe),
	TABLE("inbound", subscription_in, PRES_UNSUBSCRIBED,
	    in_unsubscribed),
};

static void
test_table(void **state)
{
	const struct table	*t = *state;

	run_table(t->dir, t->step, t->type, t->cells);
}

/*
 * RFC 6121 3.4: 'subscribed' with no request pending and no From
 * records a pre-approval (not routed); the contact's later subscribe is
 * approved at once, without asking the user; 'unsubscribed' withdraws
 * it silently. States with From or Pending In take no pre-approval.
 */
static void
test_preapproval(void **state)
{
	static const enum st	 can[] = { NONE, NONE_PO, TO };
	static const enum st	 cannot[] = { NONE_PI, NONE_POI, TO_PI, FROM,
	    FROM_PO, BOTH };
	static const enum st	 approved[] = { FROM, FROM_PO, BOTH };
	struct roster_item	 it;
	size_t			 i;
	int			 acts;

	(void)state;
	for (i = 0; i < sizeof(can) / sizeof(can[0]); i++) {
		item_set(&it, can[i]);
		it.hidden = true;
		acts = subscription_out(&it, PRES_SUBSCRIBED);
		assert_int_equal(acts, SUB_ACT_CHANGED);
		assert_true(it.preapproved);
		assert_false(it.hidden);	/* in the roster now */
		assert_int_equal(item_state(&it, "pre-approve"), can[i]);
		/* again: nothing new */
		assert_int_equal(subscription_out(&it, PRES_SUBSCRIBED), 0);

		acts = subscription_in(&it, PRES_SUBSCRIBE);
		assert_int_equal(acts, SUB_ACT_CHANGED | SUB_ACT_SUBSCRIBED |
		    SUB_ACT_CURRENT);
		assert_false(it.preapproved);
		assert_int_equal(item_state(&it, "approved"),
		    approved[can[i] == TO ? 2 : can[i] == NONE_PO ? 1 : 0]);

		item_set(&it, can[i]);
		it.preapproved = true;
		acts = subscription_out(&it, PRES_UNSUBSCRIBED);
		assert_int_equal(acts, SUB_ACT_CHANGED);	/* not routed */
		assert_false(it.preapproved);
		assert_int_equal(item_state(&it, "withdrawn"), can[i]);
	}
	for (i = 0; i < sizeof(cannot) / sizeof(cannot[0]); i++) {
		item_set(&it, cannot[i]);
		(void)subscription_out(&it, PRES_SUBSCRIBED);
		assert_false(it.preapproved);
	}
}

/* an outbound subscribe makes a hidden item (pending in only) visible */
static void
test_subscribe_unhides(void **state)
{
	struct roster_item	it;

	(void)state;
	item_set(&it, NONE_PI);
	it.hidden = true;
	assert_true((subscription_out(&it, PRES_SUBSCRIBE) &
	    SUB_ACT_CHANGED) != 0);
	assert_false(it.hidden);
	item_set(&it, TO);
	it.hidden = true;	/* subscribed already: only the item changes */
	assert_int_equal(subscription_out(&it, PRES_SUBSCRIBE),
	    SUB_ACT_CHANGED | SUB_ACT_PASS);
	assert_false(it.hidden);
}

/* probes and presence are not subscription stanzas: no step */
static void
test_other_types(void **state)
{
	static const int	 other[] = { PRES_AVAILABLE, PRES_UNAVAILABLE,
	    PRES_PROBE, PRES_ERROR };
	struct roster_item	 it;
	size_t			 i;
	int			 s;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		for (s = 0; s < NSTATES; s++) {
			item_set(&it, s);
			assert_int_equal(subscription_out(&it, other[i]), 0);
			assert_int_equal(subscription_in(&it, other[i]), 0);
			assert_int_equal(item_state(&it, "other"), s);
		}
}

#define APPENDIX(name, i) \
	{ name, test_table, NULL, NULL, (void *)&tables[i] }

UNIT_MAIN(
	APPENDIX("A.2.1 outbound subscribe", 0),
	APPENDIX("A.2.2 outbound subscribed", 1),
	APPENDIX("A.2.3 outbound unsubscribe", 2),
	APPENDIX("A.2.4 outbound unsubscribed", 3),
	APPENDIX("A.3.1 inbound subscribe", 4),
	APPENDIX("A.3.2 inbound subscribed", 5),
	APPENDIX("A.3.3 inbound unsubscribe", 6),
	APPENDIX("A.3.4 inbound unsubscribed", 7),
	cmocka_unit_test(test_preapproval),
	cmocka_unit_test(test_subscribe_unhides),
	cmocka_unit_test(test_other_types),
)
