/*
 * The one place the configured backend is chosen (docs/operator.md,
 * "Storage"): LMDB in datadir by default, or the PostgreSQL database of
 * the postgresql option. The datadir keeps everything else either way
 * (the upload key, certificates the operator put there).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../common/conf.h"
#include "store_conf.h"

bool
store_conf_shared(const struct conf *c)
{
	return c->storage != NULL && strcmp(c->storage, "postgresql") == 0;
}

struct store *
store_open_conf(const struct conf *c, char *errbuf, size_t errlen)
{
	struct store	*st;
	char		 err[512];

	if (store_conf_shared(c)) {
		/* never the conninfo itself: it may hold a password */
		if ((st = store_open_pg(c->pg_conninfo, err,
		    sizeof(err))) == NULL)
			snprintf(errbuf, errlen, "storage postgresql (the "
			    "postgresql option in %s): %s", c->path, err);
		return st;
	}
	if ((st = store_open(c->datadir, c->lmdb_mapsize, err,
	    sizeof(err))) == NULL) {
		snprintf(errbuf, errlen, "storage in %s: %s", c->datadir, err);
		return NULL;
	}
	store_set_mapmax(st, c->lmdb_mapsize_max);
	return st;
}
