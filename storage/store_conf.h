/*
 * Opening the store the configuration names (storage lmdb|postgresql):
 * the router, parleyctl and export/import all go through here.
 */
#ifndef PARLEY_STORE_CONF_H
#define PARLEY_STORE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct conf;

/* new, or NULL with a message naming the option or directory in errbuf */
struct store	*store_open_conf(const struct conf *, char *errbuf,
		    size_t errlen);
/* the store is a PostgreSQL server, which any number may write at once */
bool		 store_conf_shared(const struct conf *);

#endif
