/*
 * Storage: the narrow interface callers see. One LMDB environment under
 * the data directory, a named database per kind (accounts now; roster,
 * offline, vcard, private, blocklist later). Only the router (or parleyctl
 * with the server stopped) opens it for writing. Keys are built for range
 * scans: accounts are keyed by "domain\0node".
 */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/scram.h"

struct store;

/*
 * Opens (creating the directory and the environment if needed) the store
 * under dir. mapsize: the LMDB map size in bytes. Returns new, or NULL with
 * a message written to errbuf.
 */
struct store	*store_open(const char *dir, size_t mapsize, char *errbuf,
		    size_t errlen);
void		 store_close(struct store *);

/*
 * Accounts. node and domain are already prepared (nodeprep, nameprep).
 * Returns 0 on success, -1 with errno: ENOENT (no such account), EEXIST
 * (store_account_add on an existing one), ENOSPC (map full), EIO (other
 * storage failures, logged).
 */
int	 store_account_get(struct store *, const char *node,
	    const char *domain, struct scram_creds *out);
int	 store_account_add(struct store *, const char *node,
	    const char *domain, const struct scram_creds *);
/* replaces the credentials of an existing account */
int	 store_account_set(struct store *, const char *node,
	    const char *domain, const struct scram_creds *);
int	 store_account_del(struct store *, const char *node,
	    const char *domain);
/*
 * Calls fn for every account of domain (NULL: all domains), in order.
 * fn returning non-zero stops the walk. Returns 0 or -1 (errno).
 */
int	 store_account_list(struct store *, const char *domain,
	    int (*fn)(const char *node, const char *domain, void *arg),
	    void *arg);

#endif
