/*
 * Start-up shared by parley-router and parley-c2s (parleyd and parleyctl
 * have command lines of their own).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "proc.h"

static bool		 proc_debug;	/* -d: debug whatever the file says */
static struct conf	*reload_conf;
static void		(*reload_fn)(void);
static ev_signal	 reload_sig;

static void
proc_usage(const char *name, bool instanced)
{
	fprintf(stderr, "usage: parley-%s -c FILE%s [-d] [-T trace,...]\n",
	    name, instanced ? " [-i INSTANCE]" : "");
	exit(2);
}

int
proc_init(int argc, char *argv[], const char *name, bool instanced,
    struct conf *conf)
{
	const char	*path = NULL;
	int		 ch, debug = 0, instance = 0;

	while ((ch = getopt(argc, argv, instanced ? "c:i:dT:" : "c:dT:")) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			instance = atoi(optarg);
			if (instance < 1 || instance > 0xffff)
				proc_usage(name, instanced);
			break;
		case 'd':
			debug = 1;
			break;
		case 'T':
			if (log_parse_traces(optarg) == -1)
				proc_usage(name, instanced);
			break;
		default:
			proc_usage(name, instanced);
		}
	}
	if (path == NULL || optind != argc)
		proc_usage(name, instanced);
	if (instanced && instance == 0)
		instance = 1;
	log_init(name, instance);
	if (conf_load(conf, path) == -1)
		exit(1);
	proc_debug = debug;
	proc_log_level(conf);
	signal(SIGPIPE, SIG_IGN);
	/* a reload before the watcher is up must not end the process */
	signal(SIGHUP, SIG_IGN);
	return instance;
}

void
proc_log_level(const struct conf *conf)
{
	int	lvl;

	if ((lvl = log_parse_level(conf->log_level)) != -1)
		log_verbosity = lvl;
	if (proc_debug)
		log_verbosity = LOG_LVL_DEBUG;
}

static void
proc_restart_note(const char *opt, void *arg)
{
	(void)arg;
	log_debug("reload: %s needs a restart; keeping the running value",
	    opt);
}

static void
proc_reload_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct conf	fresh;

	(void)loop;
	(void)w;
	(void)revents;
	/* blocking file reads, as at start: the file is small and local */
	if (conf_load(&fresh, reload_conf->path) == -1) {
		log_warnx("reload: %s has mistakes; keeping the running "
		    "configuration", reload_conf->path);
		return;
	}
	conf_reload(reload_conf, &fresh, proc_restart_note, NULL);
	proc_log_level(reload_conf);
	if (reload_fn != NULL)
		reload_fn();
	log_info("configuration reloaded");
}

void
proc_reload_watch(struct ev_loop *loop, struct conf *conf, void (*fn)(void))
{
	reload_conf = conf;
	reload_fn = fn;
	ev_signal_init(&reload_sig, proc_reload_cb, SIGHUP);
	ev_signal_start(loop, &reload_sig);
}

static void
proc_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

void
proc_run(struct ev_loop *loop)
{
	ev_signal	 sigterm, sigint;

	ev_signal_init(&sigterm, proc_signal_cb, SIGTERM);
	ev_signal_start(loop, &sigterm);
	ev_signal_init(&sigint, proc_signal_cb, SIGINT);
	ev_signal_start(loop, &sigint);
	ev_run(loop, 0);
	log_info("stopped");
}
