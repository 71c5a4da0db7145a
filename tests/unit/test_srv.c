/*
 * Unit tests for s2s/srv.c: priority order, the RFC 2782 weighted
 * selection both scripted (exact draws) and statistically (a seeded
 * generator), weight 0, the "." target, direct TLS first at equal
 * priority (XEP-0368), duplicates, and unbiased draws.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../s2s/srv.h"
#include "unit.h"

#define RUNS	10000

struct script {
	const uint32_t	*v;
	size_t		 n, next;
};

/* hands out the scripted values in order; running out is a test bug */
static uint32_t
script_rnd(void *arg)
{
	struct script	*s = arg;

	assert_true(s->next < s->n);
	return s->v[s->next++];
}

/* xorshift32: deterministic, so that a failure reproduces */
static uint32_t
xorshift_rnd(void *arg)
{
	uint32_t	*x = arg;

	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
set(struct srv_target *t, const char *host, uint16_t port,
    uint16_t priority, uint16_t weight, bool direct_tls)
{
	t->host = strdup(host);
	assert_non_null(t->host);
	t->port = port;
	t->priority = priority;
	t->weight = weight;
	t->direct_tls = direct_tls;
}

static struct srv_target *
targets(size_t n)
{
	struct srv_target	*v;

	v = calloc(n, sizeof(*v));
	assert_non_null(v);
	return v;
}

static void
test_srv_priority_order(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 1;
	bool			 unavail = true;

	(void)state;
	v = targets(4);
	set(&v[0], "c.example.org", 5269, 30, 5, false);
	set(&v[1], "a.example.org", 5269, 10, 5, false);
	set(&v[2], "d.example.org", 5269, 40, 0, false);
	set(&v[3], "b.example.org", 5269, 20, 5, false);
	assert_int_equal(srv_order(v, 4, xorshift_rnd, &seed, &unavail), 4);
	assert_false(unavail);
	assert_string_equal(v[0].host, "a.example.org");
	assert_string_equal(v[1].host, "b.example.org");
	assert_string_equal(v[2].host, "c.example.org");
	assert_string_equal(v[3].host, "d.example.org");
	/* the other fields travel with the host */
	assert_int_equal(v[3].priority, 40);
	assert_int_equal(v[3].weight, 0);
	srv_targets_free(v, 4);
}

/*
 * Weights 10 and 90, listed in that order: a draw in [0, 100] picks the
 * first when it is at most 10, so its share is 11/101 (RFC 2782 draws
 * from a closed range, hence not exactly 10%). Four standard deviations
 * (about 31 in 10000) either side.
 */
static void
test_srv_weight_distribution(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 0x2545f491;
	size_t			 run, light = 0;
	bool			 unavail;

	(void)state;
	for (run = 0; run < RUNS; run++) {
		v = targets(2);
		set(&v[0], "light.example.org", 5269, 0, 10, false);
		set(&v[1], "heavy.example.org", 5269, 0, 90, false);
		assert_int_equal(srv_order(v, 2, xorshift_rnd, &seed,
		    &unavail), 2);
		if (strcmp(v[0].host, "light.example.org") == 0)
			light++;
		else
			assert_string_equal(v[0].host, "heavy.example.org");
		srv_targets_free(v, 2);
	}
	assert_in_range(light, RUNS * 11 / 101 - 125, RUNS * 11 / 101 + 125);
}

/* three weights: every position follows the weights, not just the first */
static void
test_srv_weight_distribution_three(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 7;
	size_t			 run, first[3] = { 0 }, last[3] = { 0 };
	bool			 unavail;

	(void)state;
	for (run = 0; run < RUNS; run++) {
		v = targets(3);
		set(&v[0], "0", 5269, 1, 20, false);
		set(&v[1], "1", 5269, 1, 30, false);
		set(&v[2], "2", 5269, 1, 50, false);
		assert_int_equal(srv_order(v, 3, xorshift_rnd, &seed,
		    &unavail), 3);
		first[v[0].host[0] - '0']++;
		last[v[2].host[0] - '0']++;
		srv_targets_free(v, 3);
	}
	/* first: about 21/101, 30/101, 50/101 of the runs */
	assert_in_range(first[0], 2079 - 170, 2079 + 170);
	assert_in_range(first[1], 2970 - 190, 2970 + 190);
	assert_in_range(first[2], 4950 - 200, 4950 + 200);
	/*
	 * last: the heaviest is rarely left for the end. Exactly:
	 * P(2 last) = P(0 first) * 31/81 + P(1 first) * 21/71, about 0.167.
	 */
	assert_in_range(last[2], 1670 - 160, 1670 + 160);
	assert_int_equal(first[0] + first[1] + first[2], RUNS);
	assert_int_equal(last[0] + last[1] + last[2], RUNS);
}

/* weight 100 listed first, weight 0 second, at the same priority */
static struct srv_target *
busy_spare(void)
{
	struct srv_target	*v = targets(2);

	set(&v[0], "busy.example.org", 5269, 0, 100, false);
	set(&v[1], "spare.example.org", 5269, 0, 0, false);
	return v;
}

static void
test_srv_weight_zero_scripted(void **state)
{
	static const uint32_t	 zero[] = { 0 }, one[] = { 1 };
	struct srv_target	*v;
	struct script		 s;
	bool			 unavail;

	(void)state;
	/* listed last, still first in the running sum: a draw of 0 picks it */
	v = busy_spare();
	s = (struct script){ zero, 1, 0 };
	assert_int_equal(srv_order(v, 2, script_rnd, &s, &unavail), 2);
	assert_string_equal(v[0].host, "spare.example.org");
	assert_string_equal(v[1].host, "busy.example.org");
	assert_int_equal(s.next, 1);
	srv_targets_free(v, 2);

	/* any other draw picks the weighted one */
	v = busy_spare();
	s = (struct script){ one, 1, 0 };
	assert_int_equal(srv_order(v, 2, script_rnd, &s, &unavail), 2);
	assert_string_equal(v[0].host, "busy.example.org");
	assert_string_equal(v[1].host, "spare.example.org");
	srv_targets_free(v, 2);
}

/* weight 0 next to weight 100: first in 1 of 101 runs */
static void
test_srv_weight_zero_rare(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 99;
	size_t			 run, spare = 0;
	bool			 unavail;

	(void)state;
	for (run = 0; run < RUNS; run++) {
		v = busy_spare();
		assert_int_equal(srv_order(v, 2, xorshift_rnd, &seed,
		    &unavail), 2);
		if (strcmp(v[0].host, "spare.example.org") == 0)
			spare++;
		srv_targets_free(v, 2);
	}
	assert_in_range(spare, 99 - 40, 99 + 40);
}

/* only weight-0 records: the resolver's order stands, no draws */
static void
test_srv_weight_zero_only(void **state)
{
	struct srv_target	*v;
	struct script		 s = { NULL, 0, 0 };
	bool			 unavail;

	(void)state;
	v = targets(3);
	set(&v[0], "x.example.org", 5269, 0, 0, false);
	set(&v[1], "y.example.org", 5269, 0, 0, false);
	set(&v[2], "z.example.org", 5269, 0, 0, false);
	assert_int_equal(srv_order(v, 3, script_rnd, &s, &unavail), 3);
	assert_string_equal(v[0].host, "x.example.org");
	assert_string_equal(v[1].host, "y.example.org");
	assert_string_equal(v[2].host, "z.example.org");
	assert_int_equal(s.next, 0);
	srv_targets_free(v, 3);
}

static void
test_srv_root_target(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 3;
	bool			 unavail;

	(void)state;
	/* RFC 2782: the only record is "." */
	v = targets(1);
	set(&v[0], ".", 0, 0, 0, false);
	unavail = false;
	assert_int_equal(srv_order(v, 1, xorshift_rnd, &seed, &unavail), 0);
	assert_true(unavail);
	assert_null(v[0].host);
	srv_targets_free(v, 0);

	/* a resolver may spell the root as the empty name */
	v = targets(1);
	set(&v[0], "", 0, 0, 0, true);
	unavail = false;
	assert_int_equal(srv_order(v, 1, xorshift_rnd, &seed, &unavail), 0);
	assert_true(unavail);
	srv_targets_free(v, 1);

	/* "." for both services: still no A/AAAA fallback */
	v = targets(2);
	set(&v[0], ".", 0, 0, 0, true);
	set(&v[1], ".", 0, 0, 0, false);
	assert_int_equal(srv_order(v, 2, xorshift_rnd, &seed, &unavail), 0);
	assert_true(unavail);
	srv_targets_free(v, 2);

	/* XEP-0368: "." for _xmpps-server only means no direct TLS */
	v = targets(3);
	set(&v[0], ".", 0, 0, 0, true);
	set(&v[1], "xmpp.example.org", 5269, 10, 0, false);
	set(&v[2], "xmpp2.example.org", 5269, 20, 0, false);
	unavail = true;
	assert_int_equal(srv_order(v, 3, xorshift_rnd, &seed, &unavail), 2);
	assert_false(unavail);
	assert_string_equal(v[0].host, "xmpp.example.org");
	assert_string_equal(v[1].host, "xmpp2.example.org");
	assert_null(v[2].host);
	srv_targets_free(v, 2);

	/* no records at all is not "decidedly not available" */
	unavail = true;
	assert_int_equal(srv_order(NULL, 0, xorshift_rnd, &seed, &unavail),
	    0);
	assert_false(unavail);
	srv_targets_free(NULL, 0);
}

static void
test_srv_direct_tls_first(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 11;
	size_t			 run;
	bool			 unavail;

	(void)state;
	for (run = 0; run < 200; run++) {
		/* weights never reach across the two kinds */
		v = targets(4);
		set(&v[0], "starttls.example.org", 5269, 10, 1000, false);
		set(&v[1], "tls.example.org", 5223, 10, 1, true);
		set(&v[2], "backup.example.org", 5223, 20, 50, true);
		set(&v[3], "near.example.org", 5269, 5, 0, false);
		assert_int_equal(srv_order(v, 4, xorshift_rnd, &seed,
		    &unavail), 4);
		/* priority still comes first */
		assert_string_equal(v[0].host, "near.example.org");
		assert_string_equal(v[1].host, "tls.example.org");
		assert_true(v[1].direct_tls);
		assert_int_equal(v[1].port, 5223);
		assert_string_equal(v[2].host, "starttls.example.org");
		assert_false(v[2].direct_tls);
		assert_string_equal(v[3].host, "backup.example.org");
		srv_targets_free(v, 4);
	}
}

static void
test_srv_duplicates(void **state)
{
	struct srv_target	*v;
	uint32_t		 seed = 5;
	bool			 unavail;

	(void)state;
	v = targets(6);
	/* worse priority listed first: the better copy stays */
	set(&v[0], "xmpp.example.org", 5269, 20, 1, false);
	set(&v[1], "XMPP.Example.ORG.", 5269, 10, 7, false);
	/* another port, or the other kind, is another target */
	set(&v[2], "xmpp.example.org", 5270, 10, 0, false);
	set(&v[3], "xmpp.example.org", 5269, 10, 0, true);
	set(&v[4], "xmpp.example.org", 5269, 30, 0, true);
	set(&v[5], "xmpp.example.org", 5269, 10, 3, false);
	assert_int_equal(srv_order(v, 6, xorshift_rnd, &seed, &unavail), 3);
	assert_false(unavail);
	assert_true(v[0].direct_tls);
	assert_int_equal(v[0].priority, 10);
	assert_false(v[1].direct_tls);
	assert_false(v[2].direct_tls);
	assert_int_equal(v[1].priority, 10);
	assert_int_equal(v[2].priority, 10);
	/* the first of equal copies stays, with its weight */
	if (v[1].port == 5269) {
		assert_string_equal(v[1].host, "XMPP.Example.ORG.");
		assert_int_equal(v[1].weight, 7);
		assert_int_equal(v[2].port, 5270);
	} else {
		assert_string_equal(v[2].host, "XMPP.Example.ORG.");
		assert_int_equal(v[2].weight, 7);
		assert_int_equal(v[1].port, 5270);
	}
	assert_null(v[3].host);
	assert_null(v[4].host);
	assert_null(v[5].host);
	/* either count frees the same hosts */
	srv_targets_free(v, 6);

	/* the case of either copy may differ */
	v = targets(2);
	set(&v[0], "xmpp.example.org", 5269, 10, 0, false);
	set(&v[1], "XMPP.EXAMPLE.ORG", 5269, 10, 0, false);
	assert_int_equal(srv_order(v, 2, xorshift_rnd, &seed, &unavail), 1);
	assert_string_equal(v[0].host, "xmpp.example.org");
	srv_targets_free(v, 1);
}

/*
 * Range 101 does not divide 2^32: a draw at or past 4294967228 would make
 * the low values likelier, so it is thrown away and drawn again.
 */
static void
test_srv_draws_are_unbiased(void **state)
{
	static const uint32_t	 draws[] = {
		UINT32_MAX, 4294967228U, 4294967227U
	};
	struct srv_target	*v;
	struct script		 s = { draws, 3, 0 };
	bool			 unavail;

	(void)state;
	v = targets(2);
	set(&v[0], "a.example.org", 5269, 0, 10, false);
	set(&v[1], "b.example.org", 5269, 0, 90, false);
	assert_int_equal(srv_order(v, 2, script_rnd, &s, &unavail), 2);
	assert_int_equal(s.next, 3);
	/* 4294967227 % 101 = 100: the last of the running sum */
	assert_string_equal(v[0].host, "b.example.org");
	srv_targets_free(v, 2);
}

UNIT_MAIN(
	cmocka_unit_test(test_srv_priority_order),
	cmocka_unit_test(test_srv_weight_distribution),
	cmocka_unit_test(test_srv_weight_distribution_three),
	cmocka_unit_test(test_srv_weight_zero_scripted),
	cmocka_unit_test(test_srv_weight_zero_rare),
	cmocka_unit_test(test_srv_weight_zero_only),
	cmocka_unit_test(test_srv_root_target),
	cmocka_unit_test(test_srv_direct_tls_first),
	cmocka_unit_test(test_srv_duplicates),
	cmocka_unit_test(test_srv_draws_are_unbiased),
)
