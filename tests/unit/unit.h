/*
 * Helpers more than one unit test uses. Header-only (static inline): each
 * test is one program built from its own file and libparley.a.
 */
#ifndef PARLEY_UNIT_H
#define PARLEY_UNIT_H

#include <sys/stat.h>

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/link.h"
#include "../../common/scram.h"

/*
 * Deterministic credentials that read back: every byte derived from seed,
 * no two hashes alike.
 */
static inline void
unit_creds(struct scram_creds *c, uint8_t seed)
{
	int	h;
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (h = 0; h < SCRAM_NHASH; h++) {
		c->h[h].iter = 4096 + seed + (uint32_t)h;
		c->h[h].saltlen = SCRAM_SALT_LEN;
		for (i = 0; i < SCRAM_SALT_LEN; i++)
			c->h[h].salt[i] = (uint8_t)(seed + i + 7 * h);
		for (i = 0; i < scram_hash_len((enum scram_hash)h); i++) {
			c->h[h].stored_key[i] = (uint8_t)(seed * 3 + i);
			c->h[h].server_key[i] = (uint8_t)(seed * 5 + i + h);
		}
	}
}

/* a link frame handler for a test that reads nothing from its link */
static inline int
unit_no_frame(struct link *l, const struct link_hdr *h, const char *p,
    void *ctx)
{
	(void)l;
	(void)h;
	(void)p;
	(void)ctx;
	return 0;
}

/*
 * The main of a test program whose group needs no setup or teardown: runs
 * the cmocka tests listed, in order (the file includes <cmocka.h>).
 */
#define UNIT_MAIN(...)							\
int									\
main(void)								\
{									\
	const struct CMUnitTest	tests[] = { __VA_ARGS__ };		\
									\
	return cmocka_run_group_tests(tests, NULL, NULL);		\
}

static inline int
unit_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* removes a test's temporary directory and all it holds */
static inline void
unit_rmtree(const char *dir)
{
	nftw(dir, unit_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
