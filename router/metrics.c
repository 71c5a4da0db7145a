/*
 * The numbers behind /metrics: a c2s asks over its link (LINK_METRICS_GET)
 * for the HTTP client it holds, and gets the text back (LINK_METRICS) in
 * the OpenMetrics 1.0 text format, or in Prometheus's 0.0.4 text format,
 * which differs in counters' names and the final "# EOF".
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/link.h"
#include "../common/log.h"
#include "../common/map.h"
#include "ctl.h"
#include "router.h"

/* the text of every family; far below LINK_MAX_PAYLOAD */
#define METRICS_TEXT_MAX	(256u * 1024)

/* the s2s process's last LINK_S2S_COUNTS */
#define S2S_STATES_MAX		16
#define S2S_STATE_NAME_MAX	16
static struct {
	char		name[S2S_STATE_NAME_MAX + 1];
	uint32_t	in, out;
} s2s_counts[S2S_STATES_MAX];
static size_t	s2s_nstates;

struct mtext {
	struct buf	b;
	bool		om;	/* OpenMetrics, else text 0.0.4 */
};

/*
 * A family's metadata. OpenMetrics names a counter without "_total"
 * and its samples with it; the 0.0.4 format names both alike.
 */
static void
family(struct mtext *t, const char *name, const char *type,
    const char *help)
{
	const char	*sfx;

	sfx = strcmp(type, "counter") == 0 && !t->om ? "_total" : "";
	buf_printf(&t->b, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, sfx, help,
	    name, sfx, type);
}

static const char *
proc_name(const struct rlink *rl, char *buf, size_t len)
{
	switch (rl->role) {
	case LINK_ROLE_C2S:
		snprintf(buf, len, "c2s[%u]", rl->instance);
		break;
	case LINK_ROLE_S2S:
		snprintf(buf, len, "s2s");
		break;
	case LINK_ROLE_PROXY:
		snprintf(buf, len, "proxy");
		break;
	default:
		return NULL;	/* parleyctl's links are not processes */
	}
	return buf;
}

/*
 * CPU seconds and resident bytes of a process, from /proc/PID/stat
 * (proc(5): fields 14 utime, 15 stime in clock ticks, 24 rss in pages).
 * procfs reads never wait on a disk. -1 when it is gone or not Linux.
 */
static int
proc_usage(pid_t pid, double *cpu, double *rss)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	long		 pages;
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: after the last */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld", &ut, &st,
	    &pages) != 3)
		return -1;
	*cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	*rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

static void
proc_sample(struct mtext *t, const char *name, const char *proc, pid_t pid,
    bool cpu)
{
	double	c, r;

	if (proc_usage(pid, &c, &r) == -1)
		return;
	buf_printf(&t->b, "%s%s{process=\"%s\"} %.2f\n", name,
	    cpu ? "_total" : "", proc, cpu ? c : r);
}

static void
procs(struct mtext *t, const char *name, bool cpu)
{
	struct rlink	*rl;
	char		 p[32];

	proc_sample(t, name, "router", getpid(), cpu);
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (proc_name(rl, p, sizeof(p)) != NULL && rl->pid > 0)
			proc_sample(t, name, p, rl->pid, cpu);
}

static void
links(struct mtext *t, int what)
{
	struct rlink	*rl;
	char		 p[32];

	for (rl = router.links; rl != NULL; rl = rl->next) {
		if (proc_name(rl, p, sizeof(p)) == NULL)
			continue;
		if (what == 0 && rl->role == LINK_ROLE_C2S)
			buf_printf(&t->b, "parley_c2s_sessions{process=\"%s\"}"
			    " %zu\n", p, map_count(rl->sess));
		else if (what == 1)
			buf_printf(&t->b, "parley_link_queue_bytes{process="
			    "\"%s\"} %zu\n", p, buf_avail(&rl->l->out));
		else if (what == 2)
			buf_printf(&t->b, "parley_link_congested{process="
			    "\"%s\"} %d\n", p, link_congested(rl->l) ? 1 : 0);
	}
}

static void
metrics_text(struct mtext *t)
{
	static const char *const kinds[] = { "message", "presence", "iq" };
	static const int	 kind[] = { KIND_MESSAGE, KIND_PRESENCE,
				    KIND_IQ };
	long long		 sb;
	size_t			 i;

	family(t, "parley_start_time_seconds", "gauge",
	    "When the router started (Unix time).");
	buf_printf(&t->b, "parley_start_time_seconds %.0f\n", router.started);
	family(t, "parley_sessions", "gauge", "Bound client sessions.");
	buf_printf(&t->b, "parley_sessions %zu\n", map_count(router.by_full));
	family(t, "parley_accounts_online", "gauge",
	    "Accounts with at least one session.");
	buf_printf(&t->b, "parley_accounts_online %zu\n",
	    map_count(router.by_bare));
	family(t, "parley_c2s_sessions", "gauge",
	    "Sessions per c2s process.");
	links(t, 0);
	family(t, "parley_logins", "counter",
	    "Client sessions begun (authenticated and bound).");
	buf_printf(&t->b, "parley_logins_total %llu\n",
	    (unsigned long long)router.logins);
	family(t, "parley_auth_failures", "counter",
	    "Failed SASL authentication attempts.");
	buf_printf(&t->b, "parley_auth_failures_total %llu\n",
	    (unsigned long long)router.auth_failures);
	family(t, "parley_stanzas_routed", "counter",
	    "Stanzas routed, by kind.");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		buf_printf(&t->b, "parley_stanzas_routed_total{kind=\"%s\"} "
		    "%llu\n", kinds[i],
		    (unsigned long long)router.routed[kind[i]]);
	family(t, "parley_s2s_link_up", "gauge",
	    "Whether the s2s process is connected to the router.");
	buf_printf(&t->b, "parley_s2s_link_up %d\n", router.s2s != NULL);
	family(t, "parley_s2s_connections", "gauge",
	    "Server-to-server connections by state and direction (as the "
	    "s2s process last reported them).");
	for (i = 0; router.s2s != NULL && i < s2s_nstates; i++)
		buf_printf(&t->b, "parley_s2s_connections{state=\"%s\","
		    "direction=\"in\"} %u\nparley_s2s_connections{state="
		    "\"%s\",direction=\"out\"} %u\n", s2s_counts[i].name,
		    s2s_counts[i].in, s2s_counts[i].name, s2s_counts[i].out);
	family(t, "parley_link_queue_bytes", "gauge",
	    "Bytes queued from the router to each process.");
	links(t, 1);
	family(t, "parley_link_congested", "gauge",
	    "Whether a process link is past its high mark (1) or not.");
	links(t, 2);
	family(t, "parley_link_overflows", "counter",
	    "Router links closed because their queue passed its cap.");
	buf_printf(&t->b, "parley_link_overflows_total %llu\n",
	    (unsigned long long)link_overflows);
	if ((sb = ctlinfo_storage_bytes()) >= 0) {
		family(t, "parley_storage_bytes", "gauge",
		    "Bytes the storage file takes on disk.");
		buf_printf(&t->b, "parley_storage_bytes %lld\n", sb);
	}
	family(t, "parley_process_cpu_seconds", "counter",
	    "CPU time (user and system) of each process.");
	procs(t, "parley_process_cpu_seconds", true);
	family(t, "parley_process_resident_memory_bytes", "gauge",
	    "Resident memory of each process.");
	procs(t, "parley_process_resident_memory_bytes", false);
	if (t->om)
		buf_puts(&t->b, "# EOF\n");
}

int
metrics_s2s_counts(const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	uint32_t	 n, i;

	link_in_init(&in, payload, h->len);
	link_get_u32(&in, &n);
	if (in.bad || n > S2S_STATES_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		link_get_str(&in, s2s_counts[i].name,
		    sizeof(s2s_counts[i].name));
		link_get_u32(&in, &s2s_counts[i].in);
		link_get_u32(&in, &s2s_counts[i].out);
		/* a label value: the s2s's own words, checked anyway */
		if (strspn(s2s_counts[i].name, "abcdefghijklmnopqrstuvwxyz") !=
		    strlen(s2s_counts[i].name))
			in.bad = true;
	}
	if (!link_in_done(&in)) {
		s2s_nstates = 0;
		return -1;
	}
	s2s_nstates = n;
	return 0;
}

/* LINK_METRICS_GET: u32 request id, u32 flags */
int
metrics_frame(struct rlink *rl, const struct link_hdr *h,
    const char *payload)
{
	struct link_in	 in;
	struct link_out	 m;
	struct mtext	 t;
	uint32_t	 req, flags;

	link_in_init(&in, payload, h->len);
	link_get_u32(&in, &req);
	link_get_u32(&in, &flags);
	if (!link_in_done(&in) || (flags & ~LINK_METRICS_OM) != 0)
		return -1;
	buf_init(&t.b, METRICS_TEXT_MAX);
	t.om = (flags & LINK_METRICS_OM) != 0;
	metrics_text(&t);
	link_begin(&m, rl->l, LINK_METRICS, 0);
	link_put_u32(&m, req);
	link_put_strn(&m, buf_rptr(&t.b), buf_avail(&t.b));
	link_end(&m);
	buf_clear(&t.b);
	return 0;
}
