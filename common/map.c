/*
 * Hash map with copied byte-string keys: linear probing in a power-of-two
 * table, growth at 3/4 load, deletion by backward shift (no tombstones, so
 * lookups never slow down after churn). Keys are JIDs a peer chooses, so
 * the hash is SipHash-1-3 (common/siphash.c) keyed with a random key per
 * map: collisions cannot be precomputed to turn the router's tables into
 * linear lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "siphash.h"
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
	struct siphash_key key;		/* secret, per map */
};

static uint64_t
map_hash(const struct map *m, const void *key, size_t len)
{
	uint64_t	h = siphash13(&m->key, key, len);

	return h != 0 ? h : 1;		/* 0 marks an empty slot */
}

struct map *
map_new(void)
{
	struct map	*m;

	m = xcalloc(1, sizeof(*m));
	m->cap = MAP_MIN_CAP;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	siphash_key_random(&m->key);
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
