/*
 * Hash map with copied byte-string keys: linear probing in a power-of-two
 * table, growth at 3/4 load, deletion by backward shift (no tombstones, so
 * lookups never slow down after churn). Keys are JIDs a peer chooses, so
 * the hash is SipHash-1-3 keyed with a random seed per map: collisions
 * cannot be precomputed to turn the router's tables into linear lists.
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "util.h"

#define MAP_MIN_CAP	16

struct map_slot {
	uint64_t	 hash;		/* 0: empty slot */
	void		*key;
	size_t		 len;
	void		*val;
};

struct map {
	struct map_slot	*slots;
	size_t		 cap;		/* a power of two */
	size_t		 count;
	uint64_t	 k0, k1;	/* SipHash key */
};

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/*
 * SipHash-1-3 (Aumasson and Bernstein; one compression and three
 * finalisation rounds, as Rust's and CPython's hash tables use): ample for
 * flooding resistance with a secret key, and cheap for short keys.
 */
static uint64_t
map_hash(const struct map *m, const void *key, size_t len)
{
	const unsigned char	*p = key;
	uint64_t		 v0, v1, v2, v3, w, b;
	size_t			 left;

	v0 = m->k0 ^ 0x736f6d6570736575ULL;
	v1 = m->k1 ^ 0x646f72616e646f6dULL;
	v2 = m->k0 ^ 0x6c7967656e657261ULL;
	v3 = m->k1 ^ 0x7465646279746573ULL;
	for (left = len; left >= 8; left -= 8, p += 8) {
		memcpy(&w, p, 8);
		w = le64toh(w);
		v3 ^= w;
		SIPROUND;
		v0 ^= w;
	}
	b = (uint64_t)len << 56;
	switch (left) {
	case 7:
		b |= (uint64_t)p[6] << 48;
		/* FALLTHROUGH */
	case 6:
		b |= (uint64_t)p[5] << 40;
		/* FALLTHROUGH */
	case 5:
		b |= (uint64_t)p[4] << 32;
		/* FALLTHROUGH */
	case 4:
		b |= (uint64_t)p[3] << 24;
		/* FALLTHROUGH */
	case 3:
		b |= (uint64_t)p[2] << 16;
		/* FALLTHROUGH */
	case 2:
		b |= (uint64_t)p[1] << 8;
		/* FALLTHROUGH */
	case 1:
		b |= (uint64_t)p[0];
		break;
	}
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	w = v0 ^ v1 ^ v2 ^ v3;
	return w != 0 ? w : 1;		/* 0 marks an empty slot */
}

struct map *
map_new(void)
{
	struct map	*m;
	uint64_t	 seed[2];

	m = xcalloc(1, sizeof(*m));
	m->cap = MAP_MIN_CAP;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	random_bytes(seed, sizeof(seed));
	m->k0 = seed[0];
	m->k1 = seed[1];
	return m;
}

void
map_free(struct map *m, void (*free_val)(void *))
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->slots[i].hash == 0)
			continue;
		free(m->slots[i].key);
		if (free_val != NULL)
			free_val(m->slots[i].val);
	}
	free(m->slots);
	free(m);
}

/* the slot holding key, or the empty slot where it would go */
static size_t
map_find(const struct map *m, uint64_t h, const void *key, size_t len)
{
	const struct map_slot	*s;
	size_t			 mask = m->cap - 1, i;

	for (i = h & mask;; i = (i + 1) & mask) {
		s = &m->slots[i];
		if (s->hash == 0)
			return i;
		if (s->hash == h && s->len == len &&
		    (len == 0 || memcmp(s->key, key, len) == 0))
			return i;
	}
}

static void
map_grow(struct map *m)
{
	struct map_slot	*old = m->slots;
	size_t		 oldcap = m->cap, i, j, mask;

	m->cap *= 2;
	mask = m->cap - 1;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].hash == 0)
			continue;
		for (j = old[i].hash & mask; m->slots[j].hash != 0;
		    j = (j + 1) & mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
map_getn(const struct map *m, const void *key, size_t len)
{
	size_t	i;

	i = map_find(m, map_hash(m, key, len), key, len);
	return m->slots[i].hash != 0 ? m->slots[i].val : NULL;
}

void *
map_putn(struct map *m, const void *key, size_t len, void *val)
{
	struct map_slot	*s;
	uint64_t	 h;
	size_t		 i;
	void		*old;

	h = map_hash(m, key, len);
	i = map_find(m, h, key, len);
	s = &m->slots[i];
	if (s->hash != 0) {
		old = s->val;
		s->val = val;
		return old;
	}
	/* keep at least a quarter free so probe runs stay short */
	if ((m->count + 1) * 4 > m->cap * 3) {
		map_grow(m);
		i = map_find(m, h, key, len);
		s = &m->slots[i];
	}
	s->hash = h;
	s->len = len;
	s->key = xmalloc(len);
	if (len > 0)
		memcpy(s->key, key, len);
	s->val = val;
	m->count++;
	return NULL;
}

/*
 * Backward-shift deletion: after emptying slot i, pull each following
 * entry of the run back into the hole unless its home slot lies cyclically
 * in (hole, entry], where moving it would put it before its home.
 */
void *
map_deln(struct map *m, const void *key, size_t len)
{
	size_t	 mask = m->cap - 1, i, j, home;
	void	*val;

	i = map_find(m, map_hash(m, key, len), key, len);
	if (m->slots[i].hash == 0)
		return NULL;
	val = m->slots[i].val;
	free(m->slots[i].key);
	m->count--;
	for (j = (i + 1) & mask; m->slots[j].hash != 0; j = (j + 1) & mask) {
		home = m->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	return val;
}

size_t
map_count(const struct map *m)
{
	return m->count;
}

void
map_foreach(const struct map *m,
    int (*fn)(const void *key, size_t len, void *val, void *arg), void *arg)
{
	const struct map_slot	*s;
	size_t			 i;

	for (i = 0; i < m->cap; i++) {
		s = &m->slots[i];
		if (s->hash != 0 && fn(s->key, s->len, s->val, arg) != 0)
			return;
	}
}

/* a string key is its bytes without the NUL: "ab" is map_getn(m, "ab", 2) */
void *
map_get(const struct map *m, const char *key)
{
	return map_getn(m, key, strlen(key));
}

void *
map_put(struct map *m, const char *key, void *val)
{
	return map_putn(m, key, strlen(key), val);
}

void *
map_del(struct map *m, const char *key)
{
	return map_deln(m, key, strlen(key));
}

/* u64 keys are their 8 bytes in host order, so they share the key space */
void *
map_get64(const struct map *m, uint64_t key)
{
	return map_getn(m, &key, sizeof(key));
}

void *
map_put64(struct map *m, uint64_t key, void *val)
{
	return map_putn(m, &key, sizeof(key), val);
}

void *
map_del64(struct map *m, uint64_t key)
{
	return map_deln(m, &key, sizeof(key));
}
