/*
 * parleyctl's operator commands (reload, check, sessions, kick, stats,
 * about): everything that is not an account. parleyctl.c keeps the
 * account commands and hands the rest here.
 */
#ifndef PARLEY_CTLOPS_H
#define PARLEY_CTLOPS_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/conf.h"

/* name is one of these commands */
bool	ctlops_has(const char *name);
/*
 * Runs argv[0] if it is one of these commands, with conf loaded from
 * its file: the exit code (0 ok, 1 failed or problems found, 2 usage).
 * -1 when argv[0] is none of them.
 */
int	ctlops_run(struct conf *conf, int argc, char *argv[]);
/* the usage lines of these commands */
void	ctlops_usage(FILE *);

#endif
