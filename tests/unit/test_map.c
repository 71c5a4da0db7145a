/*
 * The hash map: insert, replace and delete over thousands of keys (growth
 * and backward-shift deletion), a randomised run against a plain array,
 * binary and empty keys, u64 keys, foreach and the free_val callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/map.h"
#include "../../common/util.h"
#include "unit.h"

#define NKEYS	5000

/* deterministic xorshift so a failure reproduces */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *
tag(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

static void
keyname(char *out, size_t size, size_t i)
{
	snprintf(out, size, "user%zu@example.com/res", i);
}

static void
test_map_empty(void **state)
{
	struct map	*m;

	(void)state;
	m = map_new();
	assert_int_equal(map_count(m), 0);
	assert_null(map_get(m, "absent"));
	assert_null(map_del(m, "absent"));
	assert_null(map_get64(m, 0));
	map_free(m, NULL);
	map_free(NULL, NULL);
}

static void
test_map_insert_replace_delete(void **state)
{
	struct map	*m;
	char		 k[64];
	size_t		 i;

	(void)state;
	m = map_new();
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		assert_null(map_put(m, k, tag(i)));
		assert_int_equal(map_count(m), i + 1);
	}
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		assert_ptr_equal(map_get(m, k), tag(i));
	}
	assert_null(map_get(m, "user5000@example.com/res"));
	assert_null(map_get(m, "user1@example.com/re"));

	/* replacing returns the old value and keeps the count */
	for (i = 0; i < NKEYS; i += 3) {
		keyname(k, sizeof(k), i);
		assert_ptr_equal(map_put(m, k, tag(i + NKEYS)), tag(i));
	}
	assert_int_equal(map_count(m), NKEYS);
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		assert_ptr_equal(map_get(m, k),
		    i % 3 == 0 ? tag(i + NKEYS) : tag(i));
	}

	/* delete the odd keys; the even ones must all stay reachable */
	for (i = 1; i < NKEYS; i += 2) {
		keyname(k, sizeof(k), i);
		assert_non_null(map_del(m, k));
		assert_null(map_del(m, k));
	}
	assert_int_equal(map_count(m), NKEYS / 2);
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		if (i % 2 == 1)
			assert_null(map_get(m, k));
		else
			assert_ptr_equal(map_get(m, k),
			    i % 3 == 0 ? tag(i + NKEYS) : tag(i));
	}

	/* put them back, then empty the map */
	for (i = 1; i < NKEYS; i += 2) {
		keyname(k, sizeof(k), i);
		assert_null(map_put(m, k, tag(i)));
	}
	assert_int_equal(map_count(m), NKEYS);
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		assert_non_null(map_del(m, k));
	}
	assert_int_equal(map_count(m), 0);
	for (i = 0; i < NKEYS; i++) {
		keyname(k, sizeof(k), i);
		assert_null(map_get(m, k));
	}
	map_free(m, NULL);
}

/*
 * Random puts and deletes over a small key space (so runs collide and
 * deletions shift entries) checked after every step against an array.
 */
static void
test_map_random_against_model(void **state)
{
	enum { SPACE = 700, STEPS = 60000 };
	struct map	*m;
	void		*model[SPACE];
	uint64_t	 s = 0x9e3779b97f4a7c15ULL, r;
	size_t		 i, k, count = 0;
	void		*v;

	(void)state;
	memset(model, 0, sizeof(model));
	m = map_new();
	for (i = 0; i < STEPS; i++) {
		r = rng(&s);
		k = (size_t)(r % SPACE);
		if ((r >> 32) % 3 == 0) {
			v = map_del64(m, k);
			assert_ptr_equal(v, model[k]);
			if (model[k] != NULL)
				count--;
			model[k] = NULL;
		} else {
			v = map_put64(m, k, tag(i));
			assert_ptr_equal(v, model[k]);
			if (model[k] == NULL)
				count++;
			model[k] = tag(i);
		}
		assert_int_equal(map_count(m), count);
		if (i % 1000 == 0)
			for (k = 0; k < SPACE; k++)
				assert_ptr_equal(map_get64(m, k), model[k]);
	}
	for (k = 0; k < SPACE; k++)
		assert_ptr_equal(map_get64(m, k), model[k]);
	map_free(m, NULL);
}

static void
test_map_binary_keys(void **state)
{
	struct map	*m;
	int		 a, b, c, d, e;

	(void)state;
	m = map_new();
	assert_null(map_putn(m, "a\0b", 3, &a));
	assert_null(map_putn(m, "a\0c", 3, &b));
	assert_null(map_putn(m, "a", 1, &c));
	assert_null(map_putn(m, "a\0", 2, &d));
	assert_null(map_putn(m, "", 0, &e));
	assert_int_equal(map_count(m), 5);
	assert_ptr_equal(map_getn(m, "a\0b", 3), &a);
	assert_ptr_equal(map_getn(m, "a\0c", 3), &b);
	assert_ptr_equal(map_getn(m, "a", 1), &c);
	assert_ptr_equal(map_getn(m, "a\0", 2), &d);
	assert_ptr_equal(map_getn(m, NULL, 0), &e);
	/* a string key is its bytes without the NUL */
	assert_ptr_equal(map_get(m, "a"), &c);
	assert_ptr_equal(map_get(m, ""), &e);
	assert_null(map_getn(m, "a\0d", 3));

	assert_ptr_equal(map_deln(m, "a\0", 2), &d);
	assert_ptr_equal(map_getn(m, "a", 1), &c);
	assert_ptr_equal(map_getn(m, "a\0b", 3), &a);
	assert_ptr_equal(map_deln(m, "", 0), &e);
	assert_null(map_get(m, ""));
	assert_int_equal(map_count(m), 3);
	map_free(m, NULL);
}

/* the key is copied: the caller may reuse its buffer */
static void
test_map_key_copied(void **state)
{
	struct map	*m;
	char		 k[16];
	int		 v;

	(void)state;
	m = map_new();
	strcpy(k, "alice");
	map_put(m, k, &v);
	strcpy(k, "bobby");
	assert_null(map_get(m, "bobby"));
	assert_ptr_equal(map_get(m, "alice"), &v);
	map_free(m, NULL);
}

static void
test_map_u64_keys(void **state)
{
	static const uint64_t	 keys[] = {
		0, 1, 2, 0xff, 0x100, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
		0x8000000000000000ULL, UINT64_MAX - 1, UINT64_MAX,
	};
	struct map		*m;
	uint64_t		 k;
	size_t			 i;

	(void)state;
	m = map_new();
	for (i = 0; i < nitems(keys); i++)
		assert_null(map_put64(m, keys[i], tag(i)));
	for (i = 0; i < nitems(keys); i++)
		assert_ptr_equal(map_get64(m, keys[i]), tag(i));
	assert_null(map_get64(m, 3));
	/* u64 keys are their host-order bytes */
	k = UINT32_MAX;
	assert_ptr_equal(map_getn(m, &k, sizeof(k)), tag(5));
	assert_ptr_equal(map_del64(m, 0), tag(0));
	assert_null(map_get64(m, 0));
	assert_ptr_equal(map_get64(m, 1), tag(1));
	assert_int_equal(map_count(m), nitems(keys) - 1);

	/* many sequential ids, as session ids are */
	for (k = 1000; k < 1000 + NKEYS; k++)
		assert_null(map_put64(m, k, tag((size_t)k)));
	for (k = 1000; k < 1000 + NKEYS; k++)
		assert_ptr_equal(map_get64(m, k), tag((size_t)k));
	map_free(m, NULL);
}

struct walk {
	size_t	n;
	size_t	sum;
	size_t	stop_after;
};

static int
walk_cb(const void *key, size_t len, void *val, void *arg)
{
	struct walk	*w = arg;
	char		 buf[64];
	size_t		 i = (size_t)(uintptr_t)val - 1;

	/* the key handed back is the one stored with this value */
	keyname(buf, sizeof(buf), i);
	assert_int_equal(len, strlen(buf));
	assert_memory_equal(key, buf, len);
	w->n++;
	w->sum += i;
	return w->stop_after != 0 && w->n == w->stop_after;
}

static void
test_map_foreach(void **state)
{
	struct map	*m;
	struct walk	 w;
	char		 k[64];
	size_t		 i;

	(void)state;
	m = map_new();
	memset(&w, 0, sizeof(w));
	map_foreach(m, walk_cb, &w);
	assert_int_equal(w.n, 0);

	for (i = 0; i < 1000; i++) {
		keyname(k, sizeof(k), i);
		map_put(m, k, tag(i));
	}
	for (i = 0; i < 1000; i += 10) {
		keyname(k, sizeof(k), i);
		map_del(m, k);
	}
	memset(&w, 0, sizeof(w));
	map_foreach(m, walk_cb, &w);
	assert_int_equal(w.n, 900);
	/* 0..999 minus the multiples of ten */
	assert_int_equal(w.sum, 999 * 1000 / 2 - 10 * (99 * 100 / 2));

	memset(&w, 0, sizeof(w));
	w.stop_after = 7;
	map_foreach(m, walk_cb, &w);
	assert_int_equal(w.n, 7);
	map_free(m, NULL);
}

static size_t	freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

static void
test_map_free_val(void **state)
{
	struct map	*m;
	char		 k[64];
	size_t		 i;
	void		*old;

	(void)state;
	freed = 0;
	m = map_new();
	for (i = 0; i < 300; i++) {
		keyname(k, sizeof(k), i);
		assert_null(map_put(m, k, xstrdup(k)));
	}
	/* replaced and deleted values go back to the caller, not free_val */
	old = map_put(m, "user0@example.com/res", xstrdup("new"));
	assert_string_equal(old, "user0@example.com/res");
	free(old);
	old = map_del(m, "user1@example.com/res");
	assert_string_equal(old, "user1@example.com/res");
	free(old);
	assert_string_equal(map_get(m, "user0@example.com/res"), "new");
	map_free(m, count_free);
	assert_int_equal(freed, 299);
}

static int
first_key_cb(const void *key, size_t len, void *val, void *arg)
{
	(void)len;
	(void)val;
	memcpy(arg, key, sizeof(uint64_t));
	return 1;
}

/*
 * Each map draws its own hash key, so the same keys land in a different
 * order: an attacker cannot precompute colliding JIDs. With 64 keys the
 * chance that eight maps all agree on the first slot is negligible.
 */
static void
test_map_seed_per_map(void **state)
{
	struct map	*m;
	uint64_t	 first, seen = 0, k;
	size_t		 i;
	int		 differ = 0;

	(void)state;
	for (i = 0; i < 8; i++) {
		m = map_new();
		for (k = 0; k < 64; k++)
			map_put64(m, k, tag((size_t)k));
		map_foreach(m, first_key_cb, &first);
		if (i == 0)
			seen = first;
		else if (first != seen)
			differ = 1;
		map_free(m, NULL);
	}
	assert_true(differ);
}

UNIT_MAIN(
	cmocka_unit_test(test_map_empty),
	cmocka_unit_test(test_map_insert_replace_delete),
	cmocka_unit_test(test_map_random_against_model),
	cmocka_unit_test(test_map_binary_keys),
	cmocka_unit_test(test_map_key_copied),
	cmocka_unit_test(test_map_u64_keys),
	cmocka_unit_test(test_map_foreach),
	cmocka_unit_test(test_map_free_val),
	cmocka_unit_test(test_map_seed_per_map),
)
