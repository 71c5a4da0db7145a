/*
 * XEP-0082 DateTime, read (common/xeptime.c).
 */
#ifndef PARLEY_XEPTIME_H
#define PARLEY_XEPTIME_H

#include <stdint.h>

/*
 * CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD Z or +-hh:mm, into microseconds
 * since the epoch: 0, or -1 for anything else (and before 1970).
 */
int	xeptime_parse(const char *, uint64_t *us);

#endif
