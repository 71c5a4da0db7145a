/*
 * The message archive's retention rule (store.h, struct archive_limits),
 * one for both backends (storage/store_archive.c, pg_archive.c), so that
 * a limit means the same on each. Inline: a trim asks it for every entry
 * it looks at, on the delivery path.
 */
#ifndef PARLEY_STORE_RETAIN_H
#define PARLEY_STORE_RETAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/*
 * Whether an archive of count entries and bytes bytes whose oldest entry
 * has id oldest (UINT64_MAX: no entry to weigh by age) is past a limit
 * of m, once an entry stamped stamp is in: past count or bytes, or that
 * entry older than stamp - m->age (ids are stamps, microseconds). A limit
 * of 0 is none.
 */
static inline bool
archive_over(const struct archive_limits *m, uint64_t count,
    uint64_t bytes, uint64_t stamp, uint64_t oldest)
{
	return (m->count > 0 && count > m->count) ||
	    (m->bytes > 0 && bytes > m->bytes) ||
	    (m->age > 0 && stamp > m->age && oldest < stamp - m->age);
}

#endif
