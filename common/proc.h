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
 * The exit status of a process that stops for a planned restart (the
 * router after `parleyctl restart router`): parleyd starts it again at
 * once, from the binary now installed, without the backoff of a crash.
 * 75 is EX_TEMPFAIL of sysexits(3): "try again".
 */
#define PROC_EXIT_RESTART	75

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
/*
 * SIGHUP reloads conf from its file (conf_reload: what cannot change
 * while running keeps its value, and is logged at debug; parleyd says it
 * at info), sets the log level, then calls fn, if any (the process's
 * certificates). A file with mistakes changes nothing (its lines are on
 * stderr). Once per process.
 */
void	proc_reload_watch(struct ev_loop *, struct conf *conf,
	    void (*fn)(void));
/* log_verbosity from conf's log-level, unless -d was given */
void	proc_log_level(const struct conf *);

#endif
