/*
 * The in-memory storage/store.h of the router fuzz target
 * (tests/fuzz/fake_store.c): bounded, and emptied between runs.
 */
#ifndef PARLEY_FAKE_STORE_H
#define PARLEY_FAKE_STORE_H

#include <stddef.h>

#include "../../storage/store.h"

/* room: past these a write fails with ENOSPC, as a map at its max */
#define FAKE_STORE_RECS		4096
#define FAKE_STORE_BYTES	(8u << 20)

/* forgets every record (and an open batch) */
void	fake_store_reset(struct store *);
/* how many records it holds */
size_t	fake_store_records(const struct store *);
/* the records an account owns (its counters aside) */
size_t	fake_store_owned(struct store *, const char *node,
	    const char *domain);
/* blocklist lookups (store_block_has) of domain's accounts: counted from
   here, and from each reset */
void	fake_store_block_watch(struct store *, const char *domain);
size_t	fake_store_block_reads(const struct store *);

#endif
