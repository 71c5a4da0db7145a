/*
 * SipHash (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash for tables whose keys a peer chooses. With a
 * secret random key, colliding keys cannot be precomputed.
 */
#ifndef PARLEY_SIPHASH_H
#define PARLEY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t	k0, k1;
};

/* a fresh random key */
void		siphash_key_random(struct siphash_key *);
/* SipHash-1-3: what the hash tables use (as Rust's and CPython's do) */
uint64_t	siphash13(const struct siphash_key *, const void *, size_t);
/* SipHash-2-4: the paper's reference variant, for its test vectors */
uint64_t	siphash24(const struct siphash_key *, const void *, size_t);

#endif
