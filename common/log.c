/*
 * Logging to stderr, one line per event, prefixed with the process name
 * and instance. parleyd collects the children's stderr (they inherit it),
 * so one terminal or one journal shows the whole server.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* bytes of an untrusted value shown in a log line */
#define LOG_ESC_MAX	200

int		 log_verbosity = LOG_LVL_INFO;
int		 log_traces;
static char	 log_proc[32] = "parley";
static bool	 log_journal;	/* stderr is the systemd journal */

/* syslog priorities (RFC 5424 6.2.1) the journal reads from "<N>" */
#define PRI_ERR		3
#define PRI_WARNING	4
#define PRI_INFO	6
#define PRI_DEBUG	7

static const char *const trace_names[] = {
	"link", "xml", "tls", "sasl", "dns"
};
static const char *const level_names[] = { "err", "warn", "info", "debug" };

/*
 * systemd sets JOURNAL_STREAM to "DEV:INO" of the stream it connects to
 * the journal (systemd.exec(5), "Environment variables in spawned
 * processes"); only when that is still our stderr, not a file or a pipe
 * it was redirected to, is stderr the journal.
 */
static bool
log_journal_detect(void)
{
	const char	*env = getenv("JOURNAL_STREAM");
	uintmax_t	 dev, ino;
	struct stat	 st;
	int		 end = 0;

	if (env == NULL || sscanf(env, "%ju:%ju%n", &dev, &ino, &end) != 2 ||
	    env[end] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(const char *proc, int instance)
{
	log_journal = log_journal_detect();
	if (instance > 0)
		snprintf(log_proc, sizeof(log_proc), "%s[%d]", proc, instance);
	else
		snprintf(log_proc, sizeof(log_proc), "%s", proc);
}

int
log_parse_traces(const char *s)
{
	const char	*p = s, *e;
	size_t		 i, n;
	int		 bits = 0;

	while (*p != '\0') {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(trace_names) / sizeof(*trace_names); i++)
			if (strlen(trace_names[i]) == n &&
			    strncmp(trace_names[i], p, n) == 0)
				break;
		if (i == sizeof(trace_names) / sizeof(*trace_names))
			return -1;
		bits |= 1 << i;
		p += n;
		if (*p == ',')
			p++;
	}
	log_traces = bits;
	return 0;
}

int
log_parse_level(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(*level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * To the journal: the priority as "<N>" (sd-daemon(3)), no time stamp,
 * the journal keeps its own. Elsewhere: an ISO 8601 UTC time stamp.
 */
static void __attribute__((format(printf, 3, 0)))
log_vline(int pri, const char *tag, const char *fmt, va_list ap,
    const char *err)
{
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>%s: %s", pri, log_proc,
		    tag);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_proc, tag);
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (err != NULL) {
		n = (int)strlen(line);
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", err);
	}
	/* one write per line so processes sharing stderr do not interleave */
	n = (int)strlen(line);
	if ((size_t)n < sizeof(line) - 1) {
		line[n++] = '\n';
		line[n] = '\0';
	}
	fputs(line, stderr);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (log_verbosity < LOG_LVL_WARN)
		return;
	va_start(ap, fmt);
	log_vline(PRI_WARNING, "", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbosity < LOG_LVL_WARN)
		return;
	va_start(ap, fmt);
	log_vline(PRI_WARNING, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbosity < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	log_vline(PRI_INFO, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug_(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline(PRI_DEBUG, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_trace_(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline(PRI_DEBUG, "trace: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline(PRI_ERR, "fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline(PRI_ERR, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

const char *
log_esc(const char *s, size_t len)
{
	static char	 bufs[4][4 * LOG_ESC_MAX + 8];
	static int	 cur;
	char		*out = bufs[cur = (cur + 1) % 4], *o = out;
	size_t		 i;
	unsigned char	 c;

	if (s == NULL)
		return "(null)";
	for (i = 0; i < len && i < LOG_ESC_MAX; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\' || c == '"')
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	if (i < len) {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}

/*
 * The trace redactor: a scanner of tags, not a parser. It need only find
 * where the text of a secret element starts and ends in bytes already
 * checked (received) or written (sent) by the XML layer; a secret is the
 * text from the '>' of its opening tag to the next '<'.
 */
/* a zeroed state is RD_TEXT */
enum { RD_TEXT, RD_SECRET, RD_NAME, RD_TAG };

#define LOG_REDACTED	"[redacted]"

static bool
log_secret_name(const char *name, size_t n)
{
	static const char *const local[] = {
		"auth", "response", "challenge", "success",	/* RFC 6120 6 */
		"password",			/* XEP-0077, XEP-0078 */
	};
	static const char *const qualified[] = {
		"db:result", "db:verify",	/* XEP-0220 keys */
	};
	const char	*colon, *l;
	size_t		 i, ln;

	for (i = 0; i < sizeof(qualified) / sizeof(*qualified); i++)
		if (strlen(qualified[i]) == n &&
		    memcmp(qualified[i], name, n) == 0)
			return true;
	colon = memchr(name, ':', n);
	l = colon != NULL ? colon + 1 : name;
	ln = n - (size_t)(l - name);
	for (i = 0; i < sizeof(local) / sizeof(*local); i++)
		if (strlen(local[i]) == ln && memcmp(local[i], l, ln) == 0)
			return true;
	return false;
}

const char *
log_esc_redacted(struct log_redact *r, const char *s, size_t len)
{
	static char		 out[LOG_ESC_MAX];
	struct log_redact	 tmp;
	size_t			 i, o = 0;
	const char		*m;
	char			 c;

	if (r == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		r = &tmp;
	}
#define EMIT(ch) do { if (o < sizeof(out)) out[o] = (ch); o++; } while (0)
	for (i = 0; i < len; i++) {
		c = s[i];
		switch (r->state) {
		case RD_SECRET:
			if (c != '<')
				continue;
			r->state = RD_TEXT;
			/* FALLTHROUGH */
		case RD_TEXT:
			if (c == '<') {
				r->state = RD_NAME;
				r->nlen = 0;
				r->slash = r->secret = false;
				r->quote = 0;
			}
			break;
		case RD_NAME:
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
			    c != '/' && c != '>') {
				/* past the buffer: too long for a secret */
				if (r->nlen < sizeof(r->name))
					r->name[r->nlen] = c;
				if (r->nlen <= sizeof(r->name))
					r->nlen++;
				break;
			}
			r->secret = r->nlen <= sizeof(r->name) &&
			    log_secret_name(r->name, r->nlen);
			r->state = RD_TAG;
			/* FALLTHROUGH */
		case RD_TAG:
			if (r->quote != 0) {
				if (c == (char)r->quote)
					r->quote = 0;
				break;
			}
			if (c == '\'' || c == '"') {
				r->quote = (uint8_t)c;
				break;
			}
			if (c == '>' && r->secret && !r->slash) {
				EMIT(c);
				for (m = LOG_REDACTED; *m != '\0'; m++)
					EMIT(*m);
				r->state = RD_SECRET;
				continue;
			}
			if (c == '>')
				r->state = RD_TEXT;
			r->slash = c == '/';
			break;
		}
		EMIT(c);
	}
#undef EMIT
	/* log_esc reads at most LOG_ESC_MAX bytes and marks the cut */
	return log_esc(out, o);
}
