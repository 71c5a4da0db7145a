/*
 * parleyd, the supervisor: checks the configuration, prepares the data and
 * run directories, starts the router, the s2s process and the c2s
 * processes (those of them this host runs: processes, router-address),
 * restarts a child that dies (with backoff) and stops them all
 * on SIGTERM or SIGINT. It never touches stanzas.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "../common/conf.h"
#include "../common/log.h"
#include "../common/priv.h"
#include "../common/proc.h"
#include "../common/ready.h"
#include "../common/sdnotify.h"
#include "../common/linktls.h"
#include "../common/tls.h"
#include "../common/util.h"

#define DEFAULT_CONF		"etc/parley.conf"
#define ROUTER_BIN		"parley-router"
#define C2S_BIN			"parley-c2s"
#define S2S_BIN			"parley-s2s"
#define PROXY_BIN		"parley-proxy"
/* where `make install` puts them, from parleyd's own directory */
#define HELPER_DIR		"../lib/parley"
#define PID_FILE		"parleyd.pid"

#define BACKOFF_MIN		1.	/* seconds before the first restart */
/* the cap is restart-backoff-max (30 s by default) */
#define BACKOFF_RESET		60.	/* up this long: next death is a first */
#define STOP_GRACE		5.	/* SIGTERM to SIGKILL */

struct child {
	char		 label[32];	/* "router", "c2s[2]" */
	char		**argv;
	pid_t		 pid;		/* 0 while not running */
	ev_tstamp	 started;
	double		 backoff;	/* delay before the next restart */
	ev_child	 cw;
	ev_timer	 restart;
	bool		 up;		/* reported ready once (ready.h) */
	int		 ready_fd;	/* its readiness pipe, or -1 */
	ev_io		 ready_io;
};

static struct child	*children;
static size_t		 nchildren;
static bool		 stopping;
static ev_timer		 stop_timer;
static ev_signal	 sig_term, sig_int, sig_hup;
static char		*pid_path;
static int		 pid_fd = -1;
static struct conf	 running;	/* as last loaded */
static bool		 debug_forced;	/* -d */
static char		*conf_abs;	/* its file, absolute */
static bool		 ready_sent;	/* READY=1 told the service manager */

static void	child_spawn(struct ev_loop *, struct child *);

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: parleyd [-dn] [-c file] [-T trace,...]\n"
	    "       parleyd -h [config]\n");
	exit(1);
}

/*
 * Creates path and its missing parents; the last component gets mode.
 * An existing directory is left as it is (the operator may have chosen
 * its mode).
 */
static int
mkdir_p(const char *path, mode_t mode)
{
	char		*p, *s;
	struct stat	 st;
	int		 rv = -1;

	p = xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST)
			goto done;
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST)
		goto done;
	if (stat(p, &st) == -1)
		goto done;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto done;
	}
	rv = 0;
 done:
	free(p);
	return rv;
}

/*
 * The pid file doubles as a lock: a second parleyd on the same run
 * directory would fight the first over router.sock. The lock dies with
 * the process, so a stale file after a crash is simply taken over.
 */
static int
pidfile_create(const char *rundir)
{
	char	 buf[32];
	int	 n;

	pid_path = xasprintf("%s/%s", rundir, PID_FILE);
	pid_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pid_fd == -1) {
		log_warn("cannot open pid file %s", pid_path);
		return -1;
	}
	if (flock(pid_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = (int)read(pid_fd, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			log_warnx("another parleyd (pid %s) is using %s",
			    buf[0] != '\0' ? buf : "?", rundir);
		} else
			log_warn("cannot lock pid file %s", pid_path);
		close(pid_fd);
		pid_fd = -1;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pid_fd, 0) == -1 || write(pid_fd, buf, (size_t)n) != n) {
		log_warn("cannot write pid file %s", pid_path);
		unlink(pid_path);
		close(pid_fd);
		pid_fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Whether a process of this host listens on a listener of kind: each kind
 * belongs to one process (the workers' clients and HTTP, the s2s's
 * servers and components, the router's link-listen, the proxy's SOCKS5,
 * which runs beside the router).
 */
static bool
listen_here(const struct conf *conf, enum listen_kind kind)
{
	switch (kind) {
	case LISTEN_C2S:
	case LISTEN_C2S_TLS:
	case LISTEN_HTTP:
	case LISTEN_HTTPS:
		return (conf->run & CONF_RUN_C2S) != 0;
	case LISTEN_S2S:
	case LISTEN_S2S_TLS:
	case LISTEN_COMPONENT:
		return (conf->run & CONF_RUN_S2S) != 0;
	case LISTEN_ROUTER:
		return false;
	default:
		return (conf->run & CONF_RUN_ROUTER) != 0;
	}
}

/*
 * The c2s workers share their ports with SO_REUSEPORT, which would just as
 * well let them join the listeners of another server started on the same
 * ports (another parleyd with another run directory): clients would be
 * split between the two servers without a word. A socket bound without
 * SO_REUSEPORT fails on a port that anybody listens on, so each listen
 * address is tried that way first.
 */
static int
ports_free(const struct conf *conf)
{
	const struct conf_listen	*cl;
	size_t				 i;
	int				 fd;

	for (i = 0; i < conf->nlistens; i++) {
		cl = &conf->listens[i];
		/*
		 * Not this host's processes'. Nor, on a host without the
		 * router, the HTTP ones: the web transports of several c2s
		 * hosts of one server may share an address (the BOSH
		 * requests of a session are relayed to its worker, wherever
		 * it is), as the e2e suite's three hosts on loopback do.
		 */
		if (!listen_here(conf, cl->kind) ||
		    ((conf->run & CONF_RUN_ROUTER) == 0 &&
		    (cl->kind == LISTEN_HTTP || cl->kind == LISTEN_HTTPS)))
			continue;
		if ((fd = tcp_listen((const struct sockaddr *)&cl->sa,
		    cl->salen, false)) == -1) {
			if (errno == EADDRINUSE)
				log_warnx("%s:%d: %s port %u is in use by "
				    "another program (another Parley?): stop "
				    "it or listen on another port", conf->path,
				    cl->line, cl->addr, cl->port);
			else
				log_warn("%s:%d: listen on %s port %u",
				    conf->path, cl->line, cl->addr, cl->port);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void
pidfile_remove(void)
{
	if (pid_fd == -1)
		return;
	if (unlink(pid_path) == -1)
		log_warn("cannot remove pid file %s", pid_path);
	close(pid_fd);
	pid_fd = -1;
}

/*
 * The processes drop root to the configured user (common/priv.c), so
 * what they must write becomes that user's: the run directory (sockets)
 * and the data directory with the files in it, which parleyctl run as
 * root may have created.
 */
static int
dirs_chown(const struct conf *conf, uid_t uid, gid_t gid)
{
	const char	*dirs[] = { conf->datadir, conf->rundir };
	struct dirent	*de;
	DIR		*d;
	size_t		 i;
	int		 dfd, rc = 0;

	for (i = 0; i < nitems(dirs); i++) {
		if ((d = opendir(dirs[i])) == NULL) {
			log_warn("cannot open %s", dirs[i]);
			return -1;
		}
		dfd = dirfd(d);
		if (fchown(dfd, uid, gid) == -1) {
			log_warn("cannot chown %s", dirs[i]);
			rc = -1;
		}
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (fchownat(dfd, de->d_name, uid, gid,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				log_warn("cannot chown %s/%s", dirs[i],
				    de->d_name);
				rc = -1;
			}
		}
		closedir(d);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* returns new: the directory holding our own executable */
static char *
self_dir(void)
{
	char	 path[PATH_MAX];
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	path[n] = '\0';
	return xstrdup(dirname(path));
}

/*
 * returns new: the directory of the child binaries. Beside parleyd in
 * the build tree (bin/); installed, parleyd is in PREFIX/sbin and they
 * are in PREFIX/lib/parley (FHS 4.7: internal binaries not run by
 * users), found relative to parleyd so that any PREFIX works.
 */
static char *
helper_dir(void)
{
	char	*dir, *bin, *inst;

	dir = self_dir();
	bin = xasprintf("%s/%s", dir, ROUTER_BIN);
	if (access(bin, X_OK) == 0) {
		free(bin);
		return dir;
	}
	free(bin);
	inst = xasprintf("%s/%s", dir, HELPER_DIR);
	free(dir);
	return inst;
}

/* returns new: argv for one child; instance 0 means no -i */
static char **
child_argv(const char *bin, const char *conf_path, int instance, bool debug,
    const char *traces)
{
	char	**argv;
	size_t	  n = 0;

	argv = xcalloc(10, sizeof(*argv));
	argv[n++] = xstrdup(bin);
	argv[n++] = xstrdup("-c");
	argv[n++] = xstrdup(conf_path);
	if (instance > 0) {
		argv[n++] = xstrdup("-i");
		argv[n++] = xasprintf("%d", instance);
	}
	if (debug)
		argv[n++] = xstrdup("-d");
	if (traces != NULL) {
		argv[n++] = xstrdup("-T");
		argv[n++] = xstrdup(traces);
	}
	argv[n] = NULL;
	return argv;
}

static void
child_free(struct child *c)
{
	size_t	i;

	if (c->argv == NULL)
		return;
	for (i = 0; c->argv[i] != NULL; i++)
		free(c->argv[i]);
	free(c->argv);
	c->argv = NULL;
}

static size_t
children_alive(void)
{
	size_t	i, n = 0;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid > 0)
			n++;
	return n;
}

static void
describe_status(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "changed state (status 0x%x)", status);
}

static void
child_schedule_restart(struct ev_loop *loop, struct child *c)
{
	double	delay = c->backoff;
	double	max = running.restart_backoff_max;

	c->backoff = c->backoff * 2 > max ? max : c->backoff * 2;
	ev_timer_set(&c->restart, delay, 0.);
	ev_timer_start(loop, &c->restart);
}

static void
child_exit_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child	*c = container_of(w, struct child, cw);
	char		 how[96];

	(void)revents;
	ev_child_stop(loop, w);
	describe_status(how, sizeof(how), w->rstatus);
	c->pid = 0;

	if (stopping) {
		log_info("%s pid=%d %s", c->label, w->rpid, how);
		if (children_alive() == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	/*
	 * A planned restart (PROC_EXIT_RESTART): at once, and the backoff
	 * stays as it was, so that a crash after it is not mistaken for a
	 * first one nor delayed by it.
	 */
	if (WIFEXITED(w->rstatus) &&
	    WEXITSTATUS(w->rstatus) == PROC_EXIT_RESTART) {
		log_info("%s pid=%d stopped for a planned restart; starting "
		    "it again", c->label, w->rpid);
		child_spawn(loop, c);
		return;
	}
	/* a child that ran for a while crashed afresh: start from 1s again */
	if (ev_now(loop) - c->started >= BACKOFF_RESET)
		c->backoff = BACKOFF_MIN;
	log_warnx("%s pid=%d %s, restarting in %.0fs", c->label, w->rpid,
	    how, c->backoff);
	child_schedule_restart(loop, c);
}

static void
child_restart_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child	*c = container_of(w, struct child, restart);

	(void)revents;
	if (!stopping)
		child_spawn(loop, c);
}

/*
 * The service manager (systemd, Type=notify) hears of readiness,
 * reloads and the stop; without NOTIFY_SOCKET nothing is sent.
 */
static void
notify(const char *state)
{
	if (sdnotify_send(state) == -1)
		log_warn("%s: cannot send %s", SDNOTIFY_ENV, state);
}

static void
ready_close(struct ev_loop *loop, struct child *c)
{
	if (c->ready_fd == -1)
		return;
	ev_io_stop(loop, &c->ready_io);
	close(c->ready_fd);
	c->ready_fd = -1;
}

/*
 * One byte: the child serves (ready.h). End of file instead: it died
 * first, and its restart gets a new pipe. The server is ready once every
 * child has been up, each at least once: a child that died after it
 * was up does not make the server unready again (it is restarted).
 */
static void
ready_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct child	*c = container_of(w, struct child, ready_io);
	char		 b;
	ssize_t		 n;
	size_t		 i;

	(void)revents;
	if ((n = read(c->ready_fd, &b, 1)) == -1 && (errno == EAGAIN ||
	    errno == EINTR))
		return;
	ready_close(loop, c);
	if (n != 1)
		return;
	c->up = true;
	log_debug("%s is up", c->label);
	for (i = 0; i < nchildren; i++)
		if (!children[i].up)
			return;
	if (ready_sent || stopping)
		return;
	ready_sent = true;
	log_info("ready: every process is up");
	notify("READY=1\nSTATUS=every process is up");
}

/* a pipe for a child not up yet, its write end as the child's */
static int
ready_pipe(struct ev_loop *loop, struct child *c)
{
	int	p[2];

	if (c->up)
		return -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("%s: readiness pipe; taken as up", c->label);
		c->up = true;
		return -1;
	}
	c->ready_fd = p[0];
	ev_io_init(&c->ready_io, ready_cb, p[0], EV_READ);
	ev_io_start(loop, &c->ready_io);
	return p[1];
}

static void
child_spawn(struct ev_loop *loop, struct child *c)
{
	sigset_t	 all;
	pid_t		 parent = getpid(), pid;
	int		 fd, rfd;
	char		 num[16];

	ready_close(loop, c);
	rfd = ready_pipe(loop, c);
	if ((pid = fork()) == -1) {
		log_warn("fork %s, retrying in %.0fs", c->label, c->backoff);
		if (rfd != -1)
			close(rfd);
		ready_close(loop, c);
		child_schedule_restart(loop, c);
		return;
	}
	if (pid == 0) {
		/*
		 * The child must not keep our signal mask (exec keeps it),
		 * and must not outlive us: a supervisor killed with SIGKILL
		 * leaves no orphans behind. If we died between fork and
		 * prctl, the death signal will never come: check.
		 */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(1);
		/* only parleyd speaks to the service manager */
		unsetenv(SDNOTIFY_ENV);
		unsetenv(READY_FD_ENV);
		if (rfd != -1) {
			snprintf(num, sizeof(num), "%d", rfd);
			if (fcntl(rfd, F_SETFD, 0) == -1 ||
			    setenv(READY_FD_ENV, num, 1) == -1)
				_exit(1);
		}
		/* children never read stdin; keep the terminal to parleyctl */
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		execv(c->argv[0], c->argv);
		fprintf(stderr, "parleyd: exec %s: %s\n", c->argv[0],
		    strerror(errno));
		_exit(127);
	}
	if (rfd != -1)
		close(rfd);
	c->pid = pid;
	c->started = ev_now(loop);
	ev_child_set(&c->cw, pid, 0);
	ev_child_start(loop, &c->cw);
	log_info("started %s pid=%d", c->label, (int)pid);
}

static void
children_kill(const char *why)
{
	size_t	i;

	for (i = 0; i < nchildren; i++) {
		if (children[i].pid <= 0)
			continue;
		log_warnx("%s pid=%d %s, killing it", children[i].label,
		    (int)children[i].pid, why);
		kill(children[i].pid, SIGKILL);
	}
}

static void
stop_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char	why[64];

	(void)loop;
	(void)w;
	(void)revents;
	snprintf(why, sizeof(why), "did not stop within %.0fs", STOP_GRACE);
	children_kill(why);
}

/*
 * SIGTERM or SIGINT. Ctrl-C in a terminal sends SIGINT to the whole
 * process group, so the children may be exiting already: once stopping is
 * set their deaths are expected and nothing is restarted. The signal
 * watchers run at a higher priority than the child watchers so that a
 * child reaped in the same loop iteration is not taken for a crash.
 */
static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	size_t	i;

	(void)revents;
	if (stopping) {
		/* a second Ctrl-C: do not wait out the grace period */
		ev_timer_stop(loop, &stop_timer);
		children_kill("still running at a second signal");
		return;
	}
	stopping = true;
	log_info("signal %d (%s), stopping", w->signum, strsignal(w->signum));
	notify("STOPPING=1");
	for (i = 0; i < nchildren; i++) {
		ev_timer_stop(loop, &children[i].restart);
		if (children[i].pid > 0 &&
		    kill(children[i].pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("kill %s pid=%d", children[i].label,
			    (int)children[i].pid);
	}
	if (children_alive() == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&stop_timer, stop_timeout_cb, STOP_GRACE, 0.);
	ev_timer_start(loop, &stop_timer);
}

static void
reload_restart_note(const char *opt, void *arg)
{
	(void)arg;
	log_warnx("reload: %s changed; it takes effect at the next restart",
	    opt);
}

/*
 * RELOADING=1 as a reload starts, READY=1 once every child has its
 * SIGHUP (each reloads on its own, without stopping service) or the
 * reload was refused; before the server was first ready, neither: READY=1
 * must wait for the children. MONOTONIC_USEC: systemd 253 and later
 * match the reload with it (sd_notify(3)).
 */
static void
reload_notify(bool start)
{
	struct timespec	 ts;
	char		 msg[64];

	if (!ready_sent)
		return;
	if (!start) {
		notify("READY=1");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(msg);
}

/*
 * SIGHUP (parleyctl reload, a certbot deploy hook): the file and every
 * certificate are checked here first, so that a broken file or key is
 * refused once, with its line, and no process changes anything; then each
 * child reloads on its own SIGHUP (common/proc.c). Nobody is disconnected.
 */
static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct conf	fresh;
	struct tls_ctx	tls;
	size_t		i;

	(void)loop;
	(void)revents;
	if (stopping)
		return;
	log_info("signal %d (%s), reloading %s", w->signum,
	    strsignal(w->signum), conf_abs);
	reload_notify(true);
	if (conf_load(&fresh, conf_abs) == -1) {
		log_warnx("reload refused: %s has mistakes (above); the "
		    "running configuration stays", conf_abs);
		reload_notify(false);
		return;
	}
	memset(&tls, 0, sizeof(tls));
	if (tls_ctx_init(&tls, &fresh) == -1) {
		log_warnx("reload refused: a certificate or key cannot be "
		    "loaded (above); the running configuration stays");
		conf_clear(&fresh);
		reload_notify(false);
		return;
	}
	tls_ctx_clear(&tls);
	if (linktls_check(&fresh) == -1) {
		log_warnx("reload refused: the link certificate cannot be "
		    "loaded (above); the running configuration stays");
		conf_clear(&fresh);
		reload_notify(false);
		return;
	}
	conf_reload(&running, &fresh, reload_restart_note, NULL);
	if (!debug_forced && log_parse_level(running.log_level) != -1)
		log_verbosity = log_parse_level(running.log_level);
	for (i = 0; i < nchildren; i++)
		if (children[i].pid > 0 && kill(children[i].pid, SIGHUP) == -1 &&
		    errno != ESRCH)
			log_warn("kill %s pid=%d", children[i].label,
			    (int)children[i].pid);
	log_info("reload: configuration and certificates sent to every "
	    "process");
	reload_notify(false);
}

static void
child_setup(struct child *c, const char *name, int instance, char **argv)
{
	memset(c, 0, sizeof(*c));
	if (instance > 0)
		snprintf(c->label, sizeof(c->label), "%s[%d]", name, instance);
	else
		snprintf(c->label, sizeof(c->label), "%s", name);
	c->argv = argv;
	c->backoff = BACKOFF_MIN;
	c->ready_fd = -1;
	ev_init(&c->cw, child_exit_cb);
	ev_init(&c->restart, child_restart_cb);
}

static void
signal_watch(struct ev_loop *loop, ev_signal *w,
    void (*cb)(struct ev_loop *, ev_signal *, int), int signum)
{
	ev_signal_init(w, cb, signum);
	ev_set_priority(w, EV_MAXPRI);
	ev_signal_start(loop, w);
}

int
main(int argc, char *argv[])
{
	struct ev_loop	*loop;
	const char	*conf_file = DEFAULT_CONF, *traces = NULL;
	char		*dir, *router_bin, *c2s_bin, *s2s_bin;
	char		*proxy_bin = NULL;
	bool		 check = false, debug = false, help = false;
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 ch, lvl, i, inst;
	size_t		 n, nworkers;

	log_init("parleyd", 0);
	while ((ch = getopt(argc, argv, "c:dhnT:")) != -1) {
		switch (ch) {
		case 'c':
			conf_file = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			help = true;
			break;
		case 'n':
			check = true;
			break;
		case 'T':
			if (log_parse_traces(optarg) == -1) {
				fprintf(stderr, "parleyd: unknown trace class "
				    "in \"%s\" (use link,xml,tls,sasl,dns)\n",
				    optarg);
				exit(1);
			}
			traces = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (help) {
		if (argc == 1 && strcmp(argv[0], "config") == 0) {
			conf_usage(stdout);
			exit(0);
		}
		if (argc != 0)
			usage();
		printf("usage: parleyd [-dn] [-c file] [-T trace,...]\n"
		    "  -c file   configuration (default %s)\n"
		    "  -d        debug logging in every process\n"
		    "  -n        check the configuration and exit\n"
		    "  -T list   trace classes: link,xml,tls,sasl,dns\n"
		    "  -h config list every configuration option\n",
		    DEFAULT_CONF);
		exit(0);
	}
	if (argc != 0)
		usage();

	if (conf_load(&running, conf_file) == -1)
		exit(1);
	if (running.user != NULL && priv_lookup(&running, &uid, &gid) == -1)
		exit(1);
	if (check) {
		printf("configuration OK\n");
		conf_clear(&running);
		exit(0);
	}
	if (running.log_level != NULL &&
	    (lvl = log_parse_level(running.log_level)) != -1)
		log_verbosity = lvl;
	if (debug)
		log_verbosity = LOG_LVL_DEBUG;
	debug_forced = debug;

	/* children must find the file whatever their working directory */
	if ((conf_abs = realpath(conf_file, NULL)) == NULL)
		fatal("realpath %s", conf_file);
	dir = helper_dir();
	router_bin = xasprintf("%s/%s", dir, ROUTER_BIN);
	c2s_bin = xasprintf("%s/%s", dir, C2S_BIN);
	s2s_bin = xasprintf("%s/%s", dir, S2S_BIN);
	if (access(router_bin, X_OK) == -1)
		fatal("cannot run %s", router_bin);
	if (access(c2s_bin, X_OK) == -1)
		fatal("cannot run %s", c2s_bin);
	if (access(s2s_bin, X_OK) == -1)
		fatal("cannot run %s", s2s_bin);
	/* the XEP-0065 proxy runs only where it has a port */
	if (conf_listen_find(&running, LISTEN_PROXY) != NULL &&
	    (running.run & CONF_RUN_ROUTER) != 0) {
		proxy_bin = xasprintf("%s/%s", dir, PROXY_BIN);
		if (access(proxy_bin, X_OK) == -1)
			fatal("cannot run %s", proxy_bin);
	}

	/* the data directory holds credentials: nobody else may read it */
	if (mkdir_p(running.datadir, 0700) == -1) {
		log_warn("cannot create datadir %s", running.datadir);
		exit(1);
	}
	if (mkdir_p(running.rundir, 0700) == -1) {
		log_warn("cannot create rundir %s", running.rundir);
		exit(1);
	}
	if (running.user != NULL && geteuid() != 0)
		log_warnx("not started as root: \"user %s\" is ignored",
		    running.user);
	else if (running.user != NULL && dirs_chown(&running, uid, gid) == -1)
		exit(1);
	if (pidfile_create(running.rundir) == -1)
		exit(1);
	if (ports_free(&running) == -1) {
		pidfile_remove();
		exit(1);
	}

	if ((loop = ev_default_loop(EVFLAG_AUTO)) == NULL) {
		pidfile_remove();
		fatalx("cannot initialise libev");
	}
	signal_watch(loop, &sig_term, stop_cb, SIGTERM);
	signal_watch(loop, &sig_int, stop_cb, SIGINT);
	signal_watch(loop, &sig_hup, hup_cb, SIGHUP);

	/*
	 * The router, the s2s process, then the c2s workers, then the
	 * proxy: those of them that run on this host (processes). Without
	 * the router they connect to it on its host (docs/operator.md,
	 * "Remote c2s and s2s hosts").
	 */
	nworkers = (running.run & CONF_RUN_C2S) != 0 && running.workers > 0 ?
	    (size_t)running.workers : 0;
	nchildren = ((running.run & CONF_RUN_ROUTER) != 0) +
	    ((running.run & CONF_RUN_S2S) != 0) + nworkers +
	    (proxy_bin != NULL);
	children = xcalloc(nchildren, sizeof(*children));
	n = 0;
	if ((running.run & CONF_RUN_ROUTER) != 0)
		child_setup(&children[n++], "router", 0,
		    child_argv(router_bin, conf_abs, 0, debug, traces));
	if ((running.run & CONF_RUN_S2S) != 0)
		child_setup(&children[n++], "s2s", 0,
		    child_argv(s2s_bin, conf_abs, 0, debug, traces));
	for (i = 0; (size_t)i < nworkers; i++, n++) {
		inst = running.instance_base + i;
		child_setup(&children[n], "c2s", inst,
		    child_argv(c2s_bin, conf_abs, inst, debug, traces));
	}
	if (proxy_bin != NULL)
		child_setup(&children[n], "proxy", 0,
		    child_argv(proxy_bin, conf_abs, 0, debug, traces));

	log_info("starting: config=%s processes=%s%s%s workers=%zu pid=%ld",
	    conf_abs, (running.run & CONF_RUN_ROUTER) != 0 ? "router," : "",
	    (running.run & CONF_RUN_S2S) != 0 ? "s2s," : "",
	    (running.run & CONF_RUN_C2S) != 0 ? "c2s" : "", nworkers,
	    (long)getpid());
	/* the router first: c2s processes retry until its socket is up */
	for (i = 0; (size_t)i < nchildren; i++)
		child_spawn(loop, &children[i]);

	ev_run(loop, 0);

	pidfile_remove();
	log_info("stopped");
	for (i = 0; (size_t)i < nchildren; i++) {
		ready_close(loop, &children[i]);
		child_free(&children[i]);
	}
	free(children);
	free(pid_path);
	free(router_bin);
	free(c2s_bin);
	free(s2s_bin);
	free(proxy_bin);
	free(dir);
	free(conf_abs);
	conf_clear(&running);
	ev_loop_destroy(loop);
	return 0;
}
