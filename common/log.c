/*
 * Logging to stderr, one line per event, prefixed with the process name
 * and instance. parleyd collects the children's stderr (they inherit it),
 * so one terminal or one journal shows the whole server.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

int		 log_verbosity = LOG_LVL_INFO;
int		 log_traces;
static char	 log_proc[32] = "parley";

static const char *const trace_names[] = {
	"link", "xml", "tls", "sasl", "dns"
};
static const char *const level_names[] = { "err", "warn", "info", "debug" };

void
log_init(const char *proc, int instance)
{
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

static void __attribute__((format(printf, 2, 0)))
log_vline(const char *tag, const char *fmt, va_list ap, const char *err)
{
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_proc, tag);
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
	log_vline("", fmt, ap, strerror(saved));
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
	log_vline("", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbosity < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	log_vline("", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug_(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_trace_(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("trace: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vline("fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

const char *
log_esc(const char *s, size_t len)
{
	static char	 bufs[4][4 * 200 + 8];
	static int	 cur;
	char		*out = bufs[cur = (cur + 1) % 4], *o = out;
	size_t		 i;
	unsigned char	 c;

	if (s == NULL)
		return "(null)";
	for (i = 0; i < len && i < 200; i++) {
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
