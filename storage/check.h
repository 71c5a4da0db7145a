/*
 * parleyctl check (storage/check.c): each prints its findings, one per
 * line ("ok:", "warning:", "problem:" with the fix) and a summary, and
 * returns the exit code: 0, 1 when a problem was found, 2 for a bad
 * argument.
 */
#ifndef PARLEY_CHECK_H
#define PARLEY_CHECK_H

#include "../common/conf.h"

int	check_config(const struct conf *);
int	check_certs(const struct conf *);
int	check_dns(const struct conf *, const char *domain);
int	check_s2s(const struct conf *, const char *domain);

#endif
