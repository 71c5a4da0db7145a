/*
 * What the fuzz targets that run the router's code on the in-memory store
 * (fuzz_router.c, fuzz_muc.c) set up alike (fuzz_rbase.c).
 */
#ifndef PARLEY_FUZZ_RBASE_H
#define PARLEY_FUZZ_RBASE_H

struct conf_host;

/*
 * The log, the loop, host (named domain) as the one host, the session
 * maps, the scratch buffer, the in-memory store, and the small quotas
 * both targets use; each target sets its own limits after.
 */
void	fuzz_rbase_init(struct conf_host *host, const char *domain);
/* an account node@domain in the store (there already: no matter) */
void	fuzz_rbase_account(const char *node, const char *domain);

#endif
