/*
 * What every server process does first: the shared command line
 * (-c FILE [-i N] [-d] [-T trace,...]), logging set up from it and the
 * configuration, and SIGPIPE ignored (peers close sockets under us).
 */
#ifndef PARLEY_PROC_H
#define PARLEY_PROC_H

#include <stdbool.h>

#include "conf.h"

/*
 * Parses the command line, loads the configuration into conf and sets up
 * logging as "name[instance]". With instanced, -i N (1..65535) is
 * accepted and its value returned, else 0. Exits on any error.
 */
int	proc_init(int argc, char *argv[], const char *name, bool instanced,
	    struct conf *conf);

struct ev_loop;
/*
 * Runs loop until SIGTERM or SIGINT (logged) breaks it, then logs
 * "stopped".
 */
void	proc_run(struct ev_loop *);

#endif
