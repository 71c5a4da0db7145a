/*
 * parleyctl: the operator's account tool. While the server runs it sends
 * each command to the router over <rundir>/router.ctl, so the router stays
 * the only writer and can end the sessions of a changed account; with the
 * server stopped it opens the store itself. Passwords never leave this
 * process: only SCRAM credentials derived here are sent or stored.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../common/conf.h"
#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/link.h"
#include "../common/log.h"
#include "../common/scram.h"
#include "../common/util.h"
#include "ctlops.h"
#include "invitation.h"
#include "pie.h"
#include "store.h"
#include "store_conf.h"

#define CTL_SOCKET	"router.ctl"
#define CTL_TIMEOUT	60		/* seconds without a reply: give up */
#define PASSWORD_MAX	1023		/* bytes, as SASLprep takes them */
/* what one connection sends: LINK_HELLO, then a request of at most a str
   jid and credentials */
#define SEND_MAX	(2 * LINK_HDR_LEN + 12 + 4 + JID_STR_MAX + \
			    CRED_WIRE_MAX)
/* the one request of a connection: every reply carries its id as sid */
#define CTL_REQ_ID	1

#define EXIT_USAGE	2

enum cmd { CMD_ADDUSER, CMD_DELUSER, CMD_PASSWD, CMD_LIST, CMD_DISABLE,
	CMD_ENABLE, CMD_DRAIN, CMD_RESTART, CMD_ROLE, CMD_SESSIONS, CMD_KICK,
	CMD_STATS, CMD_ABOUT, CMD_INVITE };
/* commands only the running router can answer, with text to print */
#define CMD_LIVE(c)	((c) >= CMD_SESSIONS && (c) != CMD_INVITE)
/* commands whose answer is text to print */
#define CMD_TEXT(c)	(CMD_LIVE(c) || (c) == CMD_LIST || (c) == CMD_INVITE)

/* parleyctl drain WORKER [GRACE]: seconds before the others end */
#define DRAIN_GRACE_DEFAULT	30
static uint32_t	drain_grace = DRAIN_GRACE_DEFAULT;
/* parleyctl role JID [ROLE]: the role to set, NULL to show it */
static const char *role_arg;
/* parleyctl invite: LINK_CTL_INVITE's fields (storage/invitation.h) */
#define INVITE_USES_MAX		1000000
#define INVITE_LIFETIME_MAX	(366u * 86400)
static struct invitation_op inv = { "create", NULL, NULL, 1, 0 };

static const struct {
	const char	*name;
	enum cmd	 cmd;
	int		 minargs, maxargs;
} cmds[] = {
	{ "adduser",	CMD_ADDUSER,	1, 1 },
	{ "deluser",	CMD_DELUSER,	1, 1 },
	{ "passwd",	CMD_PASSWD,	1, 1 },
	{ "list",	CMD_LIST,	0, 1 },
	{ "sessions",	CMD_SESSIONS,	0, 1 },
	{ "kick",	CMD_KICK,	1, 1 },
	{ "stats",	CMD_STATS,	0, 0 },
	{ "about",	CMD_ABOUT,	0, 0 },
	{ "disable",	CMD_DISABLE,	1, 1 },
	{ "enable",	CMD_ENABLE,	1, 1 },
	{ "drain",	CMD_DRAIN,	1, 2 },
	{ "restart",	CMD_RESTART,	1, 1 },
	{ "role",	CMD_ROLE,	1, 2 },
	{ "invite",	CMD_INVITE,	1, 7 },
};

static struct termios	tty_saved;
static volatile sig_atomic_t tty_changed;

static void __attribute__((noreturn))
usage(FILE *fp, int code)
{
	fprintf(fp,
	    "usage: parleyctl [-c FILE] COMMAND [ARGS]\n"
	    "  adduser JID     create an account (password from stdin)\n"
	    "  deluser JID     delete an account\n"
	    "  passwd JID      set a new password (from stdin)\n"
	    "  list [DOMAIN]   print accounts, one bare JID per line\n"
	    "  disable JID     refuse logins, end its sessions, keep its data\n"
	    "  enable JID      allow logins again\n"
	    "  role JID [admin|member|limited]\n"
	    "                  show or set the account's role (what it may\n"
	    "                  do: the host's member-can and limited-can)\n"
	    "  sessions [JID]  the sessions online (of an account, or one)\n"
	    "  kick JID        close an account's sessions (or one, with a "
	    "resource)\n"
	    "  stats           sessions per process, stanzas, queues, "
	    "storage\n"
	    "  about           versions, the processes and their uptime\n"
	    "  drain WORKER [GRACE]\n"
	    "                  c2s WORKER takes no new clients, sends its\n"
	    "                  resumable sessions to the others, ends the\n"
	    "                  rest after GRACE seconds (30) and restarts\n"
	    "  restart router  the router stops and starts again from the\n"
	    "                  binary installed, keeping every client\n"
	    "                  connected and every stanza\n"
	    "  invite [--contact JID] [--uses N] [--expires DURATION] HOST\n"
	    "                  an invitation (XEP-0401 account, or XEP-0379\n"
	    "                  contact of JID): prints its xmpp: URI;\n"
	    "                  DURATION is N[s|m|h|d]\n"
	    "  invite --list HOST | --revoke TOKEN\n"
	    "                  the host's invitations, or revoke one\n");
	ctlops_usage(fp);
	fprintf(fp,
	    "  export [--host HOST] FILE|-\n"
	    "                  accounts and their data as XEP-0227 (server "
	    "stopped)\n"
	    "  import [--merge] FILE|-\n"
	    "                  a XEP-0227 file: all of it or nothing (server\n"
	    "                  stopped); --merge: into existing accounts too\n");
	fprintf(fp, "FILE defaults to $PARLEY_CONF, then etc/parley.conf.\n");
	exit(code);
}

/* ---- arguments --------------------------------------------------------- */

static int
grace_parse(const char *s)
{
	unsigned long	n = 0;
	size_t		i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		n = n * 10 + (unsigned long)(s[i] - '0');
	if (i == 0 || s[i] != '\0' || n > 3600) {
		fprintf(stderr, "parleyctl: drain: the grace is 0 to 3600 "
		    "seconds, not \"%s\"\n", s);
		return -1;
	}
	drain_grace = (uint32_t)n;
	return 0;
}

/* N[s|m|h|d] or N (1..max); -1 after printing why not */
static int
invite_number(const char *opt, const char *s, uint32_t max, bool unit,
    uint32_t *out)
{
	unsigned long long	n = 0;
	size_t			i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 10; i++)
		n = n * 10 + (unsigned long long)(s[i] - '0');
	if (i > 0 && unit && s[i] != '\0' && s[i + 1] == '\0') {
		switch (s[i++]) {
		case 's':
			break;
		case 'm':
			n *= 60;
			break;
		case 'h':
			n *= 3600;
			break;
		case 'd':
			n *= 86400;
			break;
		default:
			i = 0;
			break;
		}
	}
	if (i == 0 || s[i] != '\0' || n < 1 || n > max) {
		fprintf(stderr, "parleyctl: invite: %s: \"%s\" is not %s "
		    "from 1 to %lu%s\n", opt, s, unit ? "a duration" :
		    "a number", (unsigned long)max, unit ? " seconds "
		    "(N[s|m|h|d])" : "");
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/*
 * invite's arguments (argv[0] is "invite"): the options into inv, the
 * host or token into *arg; -1 after printing why not
 */
static int
invite_parse(int argc, char *argv[], const char **arg)
{
	int	i;

	*arg = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0)
			inv.op = "list";
		else if (strcmp(argv[i], "--revoke") == 0)
			inv.op = "revoke";
		else if (argv[i][0] == '-' && i + 1 == argc) {
			fprintf(stderr, "parleyctl: invite: %s needs a "
			    "value\n", argv[i]);
			return -1;
		} else if (strcmp(argv[i], "--contact") == 0)
			inv.contact = argv[++i];
		else if (strcmp(argv[i], "--uses") == 0) {
			if (invite_number("--uses", argv[++i],
			    INVITE_USES_MAX, false, &inv.uses) == -1)
				return -1;
		} else if (strcmp(argv[i], "--expires") == 0) {
			if (invite_number("--expires", argv[++i],
			    INVITE_LIFETIME_MAX, true, &inv.lifetime) == -1)
				return -1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "parleyctl: invite: unknown option "
			    "%s\n", argv[i]);
			return -1;
		} else if (*arg != NULL) {
			fprintf(stderr, "parleyctl: invite: one HOST or "
			    "TOKEN, not \"%s\" too\n", argv[i]);
			return -1;
		} else
			*arg = argv[i];
	}
	if (*arg == NULL) {
		fprintf(stderr, "parleyctl: invite: a HOST (or with "
		    "--revoke a TOKEN) is required\n");
		return -1;
	}
	return 0;
}

static void
print_hosts(const struct conf *conf)
{
	size_t	i;

	fprintf(stderr, " (configured:");
	for (i = 0; i < conf->nhosts; i++)
		fprintf(stderr, "%s %s", i ? "," : "", conf->hosts[i].name);
	fprintf(stderr, ")\n");
}

/*
 * node@domain[/resource] of a configured host, for sessions and kick;
 * returns new (normalised), or NULL after printing why not
 */
static char *
session_parse(const struct conf *conf, const char *arg)
{
	struct jid	 j;
	char		*s;

	if (jid_parse(&j, arg) == 0 && j.node == NULL)
		jid_clear(&j);		/* a domain: no account */
	if (j.domain == NULL) {
		fprintf(stderr, "parleyctl: %s: not an account's JID "
		    "(node@domain[/resource])\n", arg);
		return NULL;
	}
	if (conf_host_find(conf, j.domain) == NULL) {
		fprintf(stderr, "parleyctl: %s: %s is not a host of this "
		    "server", arg, j.domain);
		print_hosts(conf);
		jid_clear(&j);
		return NULL;
	}
	s = jid_full(&j);
	jid_clear(&j);
	return s;
}

/* a bare JID node@domain of a configured host; prints why not */
static int
account_parse(const struct conf *conf, const char *arg, struct jid *j)
{
	if (jid_parse(j, arg) == -1) {
		fprintf(stderr, "parleyctl: %s: not a valid JID\n", arg);
		return -1;
	}
	if (j->node == NULL || j->resource != NULL) {
		fprintf(stderr, "parleyctl: %s: not a bare JID (node@domain)\n",
		    arg);
		jid_clear(j);
		return -1;
	}
	if (conf_host_find(conf, j->domain) == NULL) {
		fprintf(stderr, "parleyctl: %s: %s is not a host of this "
		    "server", arg, j->domain);
		print_hosts(conf);
		jid_clear(j);
		return -1;
	}
	return 0;
}

static int
domain_parse(const struct conf *conf, const char *arg, char *out)
{
	if (jid_nameprep(arg, out) == -1) {
		fprintf(stderr, "parleyctl: %s: not a valid domain\n", arg);
		return -1;
	}
	if (conf_host_find(conf, out) == NULL) {
		fprintf(stderr, "parleyctl: %s is not a host of this server",
		    out);
		print_hosts(conf);
		return -1;
	}
	return 0;
}

/* ---- passwords --------------------------------------------------------- */

static void
tty_restore_sig(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
	/* the prompt left the cursor mid-line */
	(void)!write(STDERR_FILENO, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* one line from stdin without the line end; NULL at EOF. returns new */
static char *
line_read(void)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((n = getline(&line, &cap, stdin)) == -1) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return line;
}

static void
secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* prompts on the terminal with echo off; returns new, or NULL */
static char *
tty_read(const char *prompt)
{
	struct termios		 t;
	struct sigaction	 sa, oint, oterm, ohup;
	char			*line;
	int			 saved;

	if (tcgetattr(STDIN_FILENO, &tty_saved) == -1)
		return NULL;
	t = tty_saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_restore_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGHUP, &sa, &ohup);
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == -1) {
		line = NULL;
		goto out;
	}
	tty_changed = 1;
	line = line_read();
	saved = errno;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
	tty_changed = 0;
	errno = saved;
out:
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	return line;
}

/* returns new: the password, or NULL after printing why */
static char *
password_read(const char *jid)
{
	char	 prompt[JID_STR_MAX + 32];
	char	*p1, *p2;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "Password for %s: ", jid);
		if ((p1 = tty_read(prompt)) == NULL) {
			fprintf(stderr, "parleyctl: no password read\n");
			return NULL;
		}
		if (*p1 == '\0')
			goto empty;
		if ((p2 = tty_read("Repeat password: ")) == NULL ||
		    strcmp(p1, p2) != 0) {
			fprintf(stderr, "parleyctl: passwords do not match\n");
			secret_free(p1);
			secret_free(p2);
			return NULL;
		}
		secret_free(p2);
	} else if ((p1 = line_read()) == NULL) {
		fprintf(stderr, "parleyctl: no password on standard input\n");
		return NULL;
	}
	if (*p1 == '\0') {
empty:
		fprintf(stderr, "parleyctl: empty password\n");
		secret_free(p1);
		return NULL;
	}
	if (strlen(p1) > PASSWORD_MAX) {
		fprintf(stderr, "parleyctl: password longer than %d bytes\n",
		    PASSWORD_MAX);
		secret_free(p1);
		return NULL;
	}
	return p1;
}

/* ---- the two ways to run a command -------------------------------------- */

static int
print_account(const char *node, const char *domain, void *arg)
{
	(void)arg;
	return printf("%s@%s\n", node, domain) < 0;
}

/*
 * invite with the server stopped: what the router would do
 * (storage/invitation.c), its text printed, or in detail when it fails.
 * Returns 0 or an errno value.
 */
static int
invite_direct(struct store *st, const struct conf *conf, char *detail,
    size_t dlen)
{
	char	*out;
	size_t	 len;
	int	 rc;

	out = xmalloc(INVITATION_OUT_MAX);
	rc = invitation_ctl(st, conf, (double)time(NULL), &inv, out, &len);
	if (rc == 0 && fwrite(out, 1, len, stdout) != len)
		rc = EIO;
	else if (rc > 0)
		snprintf(detail, dlen, "%.*s", (int)len, out);
	explicit_bzero(out, len);	/* a URI holds a token */
	free(out);
	return rc == -1 ? EINVAL : rc;
}

/* returns 0 or an errno value */
static int
run_direct(const struct conf *conf, enum cmd cmd, const struct jid *j,
    const char *domain, const struct scram_creds *cr, char *detail,
    size_t dlen)
{
	struct store	*st;
	char		 err[512];
	enum role	 r;
	int		 rc = 0;

	if ((st = store_open_conf(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "parleyctl: %s\n", err);
		return EIO;
	}
	switch (cmd) {
	case CMD_ADDUSER:
		rc = store_account_add(st, j->node, j->domain, cr);
		break;
	case CMD_PASSWD:
		rc = store_account_set(st, j->node, j->domain, cr);
		break;
	case CMD_DELUSER:
		rc = store_account_del(st, j->node, j->domain);
		break;
	case CMD_LIST:
		rc = store_account_list(st, domain, print_account, NULL);
		break;
	case CMD_INVITE:
		rc = invite_direct(st, conf, detail, dlen);
		break;
	case CMD_SESSIONS:
	case CMD_KICK:
	case CMD_STATS:
	case CMD_ABOUT:
		/* refused before: only the running router knows */
		errno = ENOTCONN;
		rc = -1;
		break;
	case CMD_DISABLE:
	case CMD_ENABLE:
		rc = store_account_disable(st, j->node, j->domain,
		    cmd == CMD_DISABLE);
		break;
	case CMD_DRAIN:		/* refused before: needs the router */
	case CMD_RESTART:
		errno = EINVAL;
		rc = -1;
		break;
	case CMD_ROLE:
		if (role_arg != NULL) {
			(void)role_parse(role_arg, &r);	/* checked before */
			rc = store_account_role_set(st, j->node, j->domain,
			    r);
		} else
			rc = store_account_role_get(st, j->node, j->domain,
			    &r);
		if (rc == 0)
			snprintf(detail, dlen, "%s", role_name(r));
		break;
	}
	if (rc == -1)
		rc = errno;
	store_close(st);
	return rc;
}

/*
 * Connects to the router. Returns the socket, -1 when no router listens
 * (no socket file, or a stale one), or -2 after printing an error.
 */
static int
ctl_connect(const char *rundir)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { .tv_sec = CTL_TIMEOUT };
	int			fd, n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", rundir,
	    CTL_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		fprintf(stderr, "parleyctl: %s/%s: path too long for a "
		    "socket\n", rundir, CTL_SOCKET);
		return -2;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "parleyctl: socket: %s\n", strerror(errno));
		return -2;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		n = errno;
		close(fd);
		if (n == ENOENT || n == ECONNREFUSED)
			return -1;
		fprintf(stderr, "parleyctl: %s: %s\n", sun.sun_path,
		    strerror(n));
		return -2;
	}
	/* a wedged router must not hang the operator's shell */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* sends LINK_HELLO and the request; the buffer held credentials */
static int
ctl_send(int fd, enum cmd cmd, const char *jid, const char *domain,
    const struct scram_creds *cr)
{
	static const uint16_t	 types[] = {
		[CMD_ADDUSER] = LINK_CTL_ADDUSER,
		[CMD_DELUSER] = LINK_CTL_DELUSER,
		[CMD_PASSWD] = LINK_CTL_PASSWD,
		[CMD_LIST] = LINK_CTL_LIST,
		[CMD_SESSIONS] = LINK_CTL_SESSIONS,
		[CMD_KICK] = LINK_CTL_KICK,
		[CMD_STATS] = LINK_CTL_STATS,
		[CMD_ABOUT] = LINK_CTL_ABOUT,
		[CMD_DISABLE] = LINK_CTL_DISABLE,
		[CMD_ENABLE] = LINK_CTL_ENABLE,
		[CMD_DRAIN] = LINK_CTL_DRAIN,
		[CMD_RESTART] = LINK_CTL_RESTART,
		[CMD_ROLE] = LINK_CTL_ROLE,
		[CMD_INVITE] = LINK_CTL_INVITE,
	};
	struct buf		 b;
	struct link_out		 m;
	int			 rc;

	buf_init(&b, SEND_MAX);
	link_begin_buf(&m, &b, LINK_HELLO, 0);
	link_put_hello(&m, LINK_ROLE_CTL, 0);
	rc = link_end(&m);
	link_begin_buf(&m, &b, types[cmd], CTL_REQ_ID);
	if (cmd == CMD_INVITE)
		link_put_str(&m, inv.op);
	link_put_str(&m, cmd == CMD_LIST ? domain : jid);
	if (cmd == CMD_INVITE) {
		link_put_str(&m, inv.contact);
		link_put_u32(&m, inv.uses);
		link_put_u32(&m, inv.lifetime);
	}
	if (cmd == CMD_ADDUSER || cmd == CMD_PASSWD)
		cred_put(&m, cr);
	if (cmd == CMD_DRAIN)
		link_put_u32(&m, drain_grace);
	if (cmd == CMD_ROLE)
		link_put_str(&m, role_arg);
	if (link_end(&m) == -1 || rc == -1)
		rc = -1;
	else
		rc = link_write_all(fd, buf_rptr(&b), buf_avail(&b));
	if (b.data != NULL)
		explicit_bzero(b.data, b.cap);
	buf_clear(&b);
	return rc;
}

/*
 * Sends one request and reads the replies. Returns the router's status (0
 * or an errno value; its text in detail), or -1 after printing a link
 * error. LIST output is printed as it arrives.
 */
static int
run_router(int fd, enum cmd cmd, const char *jid, const char *domain,
    const struct scram_creds *cr, char *detail, size_t dlen)
{
	struct link_hdr		 h;
	struct link_in		 in;
	struct link_peer	 peer;
	char			*payload = NULL;
	char			 why[96];
	const char		*text;
	size_t			 tlen;
	uint32_t		 status;
	int			 err;
	bool			 hello = false;

	if (ctl_send(fd, cmd, jid, domain, cr) == -1)
		goto fail;
	for (;;) {
		free(payload);
		if (link_read_frame(fd, &h, &payload) == -1)
			goto fail;
		if (!hello) {
			if (link_hello_parse(&h, payload,
			    LINK_ROLE_BIT(LINK_ROLE_ROUTER), &peer, why,
			    sizeof(why)) == 0) {
				hello = true;
				continue;
			}
			/* the router answers a mismatch with its version */
			if (h.type == LINK_HELLO &&
			    peer.version != LINK_VERSION)
				fprintf(stderr, "parleyctl: the router speaks "
				    "link version %u, parleyctl %u\n",
				    peer.version, LINK_VERSION);
			else
				fprintf(stderr, "parleyctl: the router's "
				    "greeting: %s\n", why);
			free(payload);
			return -1;
		}
		if (h.type != LINK_CTL_REPLY || h.sid != CTL_REQ_ID)
			goto bad;
		link_in_init(&in, payload, h.len);
		link_get_u32(&in, &status);
		link_get_strn(&in, &text, &tlen);
		if (!link_in_done(&in) || link_ctl_errno(status, &err) == -1)
			goto bad;
		if (err == 0 && CMD_TEXT(cmd) &&
		    text != NULL &&
		    fwrite(text, 1, tlen, stdout) != tlen) {
			free(payload);
			return EIO;
		}
		if (err == 0 && (h.flags & LINK_CTL_MORE))
			continue;
		snprintf(detail, dlen, "%.*s", text ? (int)tlen : 0,
		    text ? text : "");
		free(payload);
		return err;
	}

bad:
	fprintf(stderr, "parleyctl: unexpected %s from the router\n",
	    link_msg_name(h.type));
	free(payload);
	return -1;
fail:
	fprintf(stderr, "parleyctl: control connection: %s\n",
	    errno == ECONNRESET ? "closed by the router" : strerror(errno));
	return -1;
}

/* the one place results are worded, for both ways of running */
static int
report(enum cmd cmd, const char *jid, int status, const char *detail)
{
	static const char *const done[] = {
		[CMD_ADDUSER] = "added",
		[CMD_DELUSER] = "deleted",
		[CMD_PASSWD] = "changed the password of",
		[CMD_LIST] = NULL,
		[CMD_SESSIONS] = NULL,
		[CMD_KICK] = NULL,
		[CMD_STATS] = NULL,
		[CMD_ABOUT] = NULL,
		[CMD_DISABLE] = "disabled",
		[CMD_ENABLE] = "enabled",
		[CMD_DRAIN] = "draining c2s",
		[CMD_RESTART] = "restarting",
		[CMD_ROLE] = NULL,
		[CMD_INVITE] = NULL,
	};
	const char	*what = jid != NULL ? jid : cmds[cmd].name;

	if (status != 0 && cmd == CMD_INVITE) {
		fprintf(stderr, "parleyctl: invite: %s\n", *detail != '\0' ?
		    detail : strerror(status));
		return 1;
	}
	if (status == 0) {
		if (done[cmd] != NULL)
			printf("%s %s\n", done[cmd], jid);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	}
	switch (status) {
	case ENOENT:
		fprintf(stderr, "%s: no such %s\n", what, CMD_LIVE(cmd) ?
		    "session" : "account");
		break;
	case EEXIST:
		fprintf(stderr, "%s: already exists\n", what);
		break;
	case ENOSPC:
		fprintf(stderr, "%s: storage is full (raise lmdb-mapsize)\n",
		    what);
		break;
	default:
		fprintf(stderr, "%s: %s\n", what, detail != NULL &&
		    *detail != '\0' ? detail : strerror(status));
		break;
	}
	return 1;
}

/*
 * role's output: "JID ROLE" shown, "JID role ROLE" set, stored the
 * name. An account the host's admins option lists is an admin whatever
 * is stored (router/roles.c), which the output says.
 */
static int
role_print(const struct conf *conf, const struct jid *j, const char *jid,
    const char *stored)
{
	bool	listed;

	listed = role_listed_admin(conf_host_find(conf, j->domain), j->node,
	    j->domain);
	if (role_arg != NULL)
		printf("%s role %s\n", jid, stored);
	else if (listed && strcmp(stored, "admin") != 0)
		printf("%s admin (listed in admins; stored role %s)\n", jid,
		    stored);
	else
		printf("%s %s\n", jid, stored);
	if (role_arg != NULL && listed && strcmp(stored, "admin") != 0)
		fprintf(stderr, "parleyctl: %s stays an admin while the "
		    "admins option of %s lists it\n", jid, j->domain);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/*
 * export and import (storage/pie_*.c) open the store themselves: an
 * import is one large transaction that must not stall the router's
 * loop, and LMDB has one writer, so both want the server stopped.
 */
static int
pie_main(const char *path, int argc, char *argv[])
{
	struct conf	 conf;
	char		 dombuf[JID_PART_MAX + 1];
	const char	*host = NULL, *file;
	bool		 export = strcmp(argv[0], "export") == 0, merge = false;
	int		 fd, code = 1;

	if (export && argc == 4 && strcmp(argv[1], "--host") == 0) {
		host = argv[2];
		file = argv[3];
	} else if (!export && argc == 3 && strcmp(argv[1], "--merge") == 0) {
		merge = true;
		file = argv[2];
	} else if (argc == 2 && (argv[1][0] != '-' || argv[1][1] == '\0'))
		file = argv[1];
	else {
		fprintf(stderr, "usage: parleyctl %s\n", export ?
		    "export [--host HOST] FILE|-" : "import [--merge] FILE|-");
		return EXIT_USAGE;
	}
	log_init("parleyctl", 0);
	log_verbosity = LOG_LVL_WARN;
	if (conf_load(&conf, path) == -1)
		return 1;
	if (host != NULL && domain_parse(&conf, host, dombuf) == -1)
		goto done;
	if (conf_listen_find(&conf, LISTEN_ROUTER) != NULL) {
		fprintf(stderr, "parleyctl: this host's processes use a "
		    "router elsewhere: run parleyctl %s there\n", argv[0]);
		goto done;
	}
	if ((fd = ctl_connect(conf.rundir)) == -2)
		goto done;
	/*
	 * LMDB has one writer, the router. PostgreSQL takes any number, so
	 * an export may read beside a running router (not as one instant:
	 * pg_dump is the snapshot); an import still waits, since the
	 * router keeps rooms and sessions in memory it would go around.
	 */
	if (fd >= 0 && !(export && store_conf_shared(&conf))) {
		close(fd);
		fprintf(stderr, "parleyctl: %s: the server is running (the "
		    "router answers at %s/%s): stop it first\n", argv[0],
		    conf.rundir, CTL_SOCKET);
		goto done;
	}
	if (fd >= 0)
		close(fd);
	code = export ? pie_export(&conf, host != NULL ? dombuf : NULL,
	    file) : pie_import(&conf, file, merge);
done:
	conf_clear(&conf);
	return code;
}

int
main(int argc, char *argv[])
{
	struct conf		 conf;
	const struct conf_listen *cl;
	struct jid		 j;
	struct scram_creds	 cr;
	const char		*path, *domain = NULL;
	char			*jid = NULL, *pw;
	char			 dombuf[JID_PART_MAX + 1], detail[256];
	enum cmd		 cmd;
	size_t			 i;
	int			 ch, fd, status, code;

	path = getenv("PARLEY_CONF");
	if (path == NULL || *path == '\0')
		path = "etc/parley.conf";
	/* '+': options end at the command, as in "parleyctl list -x" */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(stderr, EXIT_USAGE);
	for (i = 0; i < nitems(cmds); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (strcmp(argv[0], "export") == 0 || strcmp(argv[0], "import") == 0)
		return pie_main(path, argc, argv);
	if (i == nitems(cmds) && ctlops_has(argv[0])) {
		log_init("parleyctl", 0);
		log_verbosity = LOG_LVL_WARN;
		signal(SIGPIPE, SIG_IGN);
		if (conf_load(&conf, path) == -1)
			return 1;
		code = ctlops_run(&conf, argc, argv);
		conf_clear(&conf);
		return code;
	}
	if (i == nitems(cmds)) {
		fprintf(stderr, "parleyctl: unknown command \"%s\"\n",
		    argv[0]);
		usage(stderr, EXIT_USAGE);
	}
	if (argc - 1 < cmds[i].minargs || argc - 1 > cmds[i].maxargs)
		usage(stderr, EXIT_USAGE);
	cmd = cmds[i].cmd;

	log_init("parleyctl", 0);
	log_verbosity = LOG_LVL_WARN;
	/* a router that goes away mid-write is an error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	if (conf_load(&conf, path) == -1)
		return 1;

	memset(&j, 0, sizeof(j));
	memset(&cr, 0, sizeof(cr));
	if (cmd == CMD_INVITE) {
		if (invite_parse(argc, argv, &inv.arg) == -1)
			goto fail;
		/* storage/invitation.c checks the host, contact and token */
		jid = xstrdup(inv.arg);
	} else if (CMD_LIVE(cmd)) {
		if (argc == 2 && (jid = session_parse(&conf, argv[1])) == NULL)
			goto fail;
	} else if (cmd == CMD_LIST) {
		if (argc == 2) {
			if (domain_parse(&conf, argv[1], dombuf) == -1)
				goto fail;
			domain = dombuf;
		}
	} else if (cmd == CMD_RESTART) {
		/* the router says what it restarts */
		jid = xstrdup(argv[1]);
	} else if (cmd == CMD_DRAIN) {
		/* the router checks the worker; the grace is ours to read */
		jid = xstrdup(argv[1]);
		if (argc == 3 && grace_parse(argv[2]) == -1)
			goto fail;
	} else {
		if (account_parse(&conf, argv[1], &j) == -1)
			goto fail;
		jid = jid_bare(&j);
	}
	if (cmd == CMD_ROLE && argc == 3) {
		enum role	r;

		if (role_parse(argv[2], &r) == -1) {
			fprintf(stderr, "parleyctl: role: unknown role \"%s\" "
			    "(admin, member or limited)\n", argv[2]);
			goto fail;
		}
		role_arg = argv[2];
	}
	if (cmd == CMD_ADDUSER || cmd == CMD_PASSWD) {
		if ((pw = password_read(jid)) == NULL)
			goto fail;
		ch = scram_creds_make(&cr, pw, conf.scram_iterations);
		secret_free(pw);
		if (ch == -1) {
			fprintf(stderr, "parleyctl: the password contains "
			    "characters SASLprep (RFC 4013) prohibits\n");
			goto fail;
		}
	}

	detail[0] = '\0';
	/* a c2s or s2s host has no storage: it would make an empty one */
	if ((cl = conf_listen_find(&conf, LISTEN_ROUTER)) != NULL) {
		fprintf(stderr, "parleyctl: this host's processes use the "
		    "router at %s: run parleyctl there\n", cl->addr);
		goto fail;
	}
	if ((fd = ctl_connect(conf.rundir)) == -2)
		goto fail;
	if (fd == -1 && (CMD_LIVE(cmd) || cmd == CMD_DRAIN ||
	    cmd == CMD_RESTART)) {
		fprintf(stderr, "parleyctl: %s: the server is not running (no "
		    "router at %s/%s)\n", cmds[cmd].name, conf.rundir,
		    CTL_SOCKET);
		goto fail;
	}
	if (fd == -1)
		status = run_direct(&conf, cmd, &j, domain, &cr, detail,
		    sizeof(detail));
	else {
		status = run_router(fd, cmd, jid, domain, &cr, detail,
		    sizeof(detail));
		close(fd);
	}
	explicit_bzero(&cr, sizeof(cr));
	if (status == -1)
		goto fail;
	code = report(cmd, jid, status, detail);
	if (code == 0 && cmd == CMD_ROLE)
		code = role_print(&conf, &j, jid, detail);
	free(jid);
	jid_clear(&j);
	conf_clear(&conf);
	return code;

fail:
	explicit_bzero(&cr, sizeof(cr));
	free(jid);
	jid_clear(&j);
	conf_clear(&conf);
	return 1;
}
