/*
 * SipHash against the vectors of the paper (Aumasson and Bernstein 2012,
 * appendix A: key 00..0f, message 00..0e) and of its reference code for
 * the short lengths, and SipHash-1-3's use of the same code: key and
 * message both change the result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/siphash.h"
#include "unit.h"

/* the paper's key: bytes 00..0f read as two little-endian words */
static const struct siphash_key paper_key = {
	0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL
};

static void
seq(uint8_t *m, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		m[i] = (uint8_t)i;
}

static void
test_siphash24_paper_vector(void **state)
{
	uint8_t	m[15];

	(void)state;
	seq(m, sizeof(m));
	assert_true(siphash24(&paper_key, m, sizeof(m)) ==
	    0xa129ca6149be45e5ULL);
}

static void
test_siphash24_short_vectors(void **state)
{
	static const uint64_t	want[] = {
		0x726fdb47dd0e0e31ULL,	/* "" */
		0x74f839c593dc67fdULL,	/* 00 */
		0x0d6c8009d9a94f5aULL,	/* 00 01 */
		0x85676696d7fb7e2dULL,	/* 00 01 02 */
	};
	uint8_t			m[8];
	size_t			i;

	(void)state;
	seq(m, sizeof(m));
	for (i = 0; i < sizeof(want) / sizeof(*want); i++)
		assert_true(siphash24(&paper_key, m, i) == want[i]);
}

static void
test_siphash13_keyed(void **state)
{
	struct siphash_key	k1 = paper_key, k2 = paper_key;
	uint8_t			m[40];
	uint64_t		h;
	size_t			n;

	(void)state;
	seq(m, sizeof(m));
	k2.k1 ^= 1;
	for (n = 0; n <= sizeof(m); n++) {
		h = siphash13(&k1, m, n);
		assert_true(h == siphash13(&k1, m, n));
		assert_true(h != siphash13(&k2, m, n));
		assert_true(h != siphash24(&k1, m, n));
		if (n > 0)
			assert_true(h != siphash13(&k1, m, n - 1));
	}
}

UNIT_MAIN(
	cmocka_unit_test(test_siphash24_paper_vector),
	cmocka_unit_test(test_siphash24_short_vectors),
	cmocka_unit_test(test_siphash13_keyed),
)
