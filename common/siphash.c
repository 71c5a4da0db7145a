/*
 * SipHash with c compression and d finalisation rounds, written from the
 * paper's description (section 2). 1-3 is ample against hash flooding
 * with a secret key and cheap for the short keys of our tables; 2-4 is
 * kept to check the code against the paper's vectors.
 */
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "siphash.h"
#include "util.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip_state {
	uint64_t	v0, v1, v2, v3;
};

static void
sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void
sip_compress(struct sip_state *s, uint64_t m, int c)
{
	s->v3 ^= m;
	while (c-- > 0)
		sip_round(s);
	s->v0 ^= m;
}

static uint64_t
sip_hash(const struct siphash_key *k, const void *data, size_t len, int c,
    int d)
{
	const unsigned char	*p = data;
	struct sip_state	 s;
	uint64_t		 m;
	size_t			 left;

	s.v0 = k->k0 ^ 0x736f6d6570736575ULL;
	s.v1 = k->k1 ^ 0x646f72616e646f6dULL;
	s.v2 = k->k0 ^ 0x6c7967656e657261ULL;
	s.v3 = k->k1 ^ 0x7465646279746573ULL;
	for (left = len; left >= 8; left -= 8, p += 8) {
		memcpy(&m, p, 8);
		sip_compress(&s, le64toh(m), c);
	}
	/* the last word: the remaining bytes, and len mod 256 on top */
	m = (uint64_t)len << 56;
	while (left-- > 0)
		m |= (uint64_t)p[left] << (8 * left);
	sip_compress(&s, m, c);
	s.v2 ^= 0xff;
	while (d-- > 0)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void
siphash_key_random(struct siphash_key *k)
{
	random_bytes(k, sizeof(*k));
}

uint64_t
siphash13(const struct siphash_key *k, const void *data, size_t len)
{
	return sip_hash(k, data, len, 1, 3);
}

uint64_t
siphash24(const struct siphash_key *k, const void *data, size_t len)
{
	return sip_hash(k, data, len, 2, 4);
}
