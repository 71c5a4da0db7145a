/*
 * DNS for federation with c-ares, driven by the libev loop: c-ares tells
 * us which sockets to watch (sock_state_cb), we call ares_process_fd when
 * they are ready and when its timeout passes. The resolver is the
 * system's (resolv.conf), another resolv.conf (dns-resolv-conf), or the
 * servers named by dns-server, so that tests can use their own DNS.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <ares.h>

#include "../common/log.h"
#include "../common/util.h"
#include "s2s.h"

#define DNS_WATCH_MAX	64

struct dns_watch {
	ev_io	io;
	int	fd;		/* -1: free */
};

static ares_channel	channel;
static struct dns_watch	watches[DNS_WATCH_MAX];
/*
 * Not a ctimer on the process clock (docs/internals.md, "Clock"): c-ares
 * reads its own monotonic clock, both in ares_timeout() and when
 * ares_process_fd() decides which queries timed out, so this timer only
 * wakes it on real time; a fake clock could not make it expire anything.
 */
static ev_timer		dns_timer;

static void
dns_rearm(void)
{
	struct timeval	tv, *t;

	ev_timer_stop(s2s.loop, &dns_timer);
	if ((t = ares_timeout(channel, NULL, &tv)) == NULL)
		return;
	ev_timer_set(&dns_timer, t->tv_sec + t->tv_usec / 1e6 + 0.001, 0.);
	ev_timer_start(s2s.loop, &dns_timer);
}

static void
dns_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_watch	*dw = container_of(w, struct dns_watch, io);

	(void)loop;
	ares_process_fd(channel, (revents & EV_READ) ? dw->fd :
	    ARES_SOCKET_BAD, (revents & EV_WRITE) ? dw->fd : ARES_SOCKET_BAD);
	dns_rearm();
}

static void
dns_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_rearm();
}

static void
dns_sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_watch	*dw = NULL, *free_slot = NULL;
	size_t			 i;
	int			 ev;

	(void)data;
	for (i = 0; i < DNS_WATCH_MAX; i++) {
		if (watches[i].fd == fd)
			dw = &watches[i];
		else if (watches[i].fd == -1 && free_slot == NULL)
			free_slot = &watches[i];
	}
	if (dw != NULL)
		ev_io_stop(s2s.loop, &dw->io);
	if (!readable && !writable) {
		if (dw != NULL)
			dw->fd = -1;
		return;
	}
	if (dw == NULL && (dw = free_slot) == NULL) {
		log_warnx("dns: too many resolver sockets");
		return;
	}
	dw->fd = fd;
	ev = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
	ev_io_init(&dw->io, dns_io_cb, fd, ev);
	ev_io_start(s2s.loop, &dw->io);
}

int
dns_init(void)
{
	struct ares_options	opts;
	int			rc, mask;
	size_t			i;

	for (i = 0; i < DNS_WATCH_MAX; i++)
		watches[i].fd = -1;
	ev_timer_init(&dns_timer, dns_timer_cb, 1., 0.);
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		log_warnx("dns: %s", ares_strerror(rc));
		return -1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = dns_sock_state_cb;
	opts.timeout = 2000;
	opts.tries = 2;
	mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if (s2s.conf.dns_resolv_conf != NULL) {
		opts.resolvconf_path = s2s.conf.dns_resolv_conf;
		mask |= ARES_OPT_RESOLVCONF;
	}
	if ((rc = ares_init_options(&channel, &opts, mask)) != ARES_SUCCESS) {
		log_warnx("dns: %s", ares_strerror(rc));
		return -1;
	}
	if (s2s.conf.dns_server != NULL &&
	    (rc = ares_set_servers_ports_csv(channel,
	    s2s.conf.dns_server)) != ARES_SUCCESS) {
		log_warnx("%s: dns-server \"%s\": %s (expected ADDRESS or "
		    "ADDRESS:PORT, comma-separated)", s2s.conf.path,
		    s2s.conf.dns_server, ares_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- SRV ------------------------------------------------------------- */

struct srv_job {
	void			(*fn)(void *, struct srv_target *, size_t);
	void			 *arg;
	int			  pending;
	struct srv_target	 *v;
	size_t			  n;
};

struct srv_query {
	struct srv_job	*job;
	bool		 direct_tls;
};

static void
dns_srv_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct srv_query	*q = arg;
	struct srv_job		*job = q->job;
	struct ares_srv_reply	*r, *rr;
	struct srv_target	*t;

	(void)timeouts;
	if (status == ARES_SUCCESS &&
	    ares_parse_srv_reply(abuf, alen, &rr) == ARES_SUCCESS) {
		for (r = rr; r != NULL; r = r->next) {
			job->v = xrealloc(job->v, (job->n + 1) *
			    sizeof(*job->v));
			t = &job->v[job->n++];
			memset(t, 0, sizeof(*t));
			/* "." stays "." for srv_order; a trailing dot goes */
			t->host = xstrdup(r->host[0] == '\0' ? "." : r->host);
			t->port = r->port;
			t->priority = r->priority;
			t->weight = r->weight;
			t->direct_tls = q->direct_tls;
		}
		ares_free_data(rr);
	}
	free(q);
	if (--job->pending > 0)
		return;
	job->fn(job->arg, job->v, job->n);
	free(job);
}

void
dns_srv(const char *domain, void (*fn)(void *, struct srv_target *, size_t),
    void *arg)
{
	struct srv_job		*job;
	struct srv_query	*q;
	char			*name;
	int			 i;

	job = xcalloc(1, sizeof(*job));
	job->fn = fn;
	job->arg = arg;
	job->pending = 2;
	for (i = 0; i < 2; i++) {
		q = xcalloc(1, sizeof(*q));
		q->job = job;
		q->direct_tls = i == 0;
		name = xasprintf("%s.%s", i == 0 ? "_xmpps-server._tcp" :
		    "_xmpp-server._tcp", domain);
		ares_query(channel, name, C_IN, T_SRV, dns_srv_cb, q);
		free(name);
	}
	dns_rearm();
}

/* ---- addresses ------------------------------------------------------- */

struct addr_job {
	void	(*fn)(void *, struct dns_addr *, size_t);
	void	 *arg;
	uint16_t  port;
};

static void
dns_addr_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct addr_job			*job = arg;
	struct ares_addrinfo_node	*n;
	struct dns_addr			*v = NULL;
	size_t				 cnt = 0;

	(void)timeouts;
	if (status == ARES_SUCCESS && res != NULL) {
		for (n = res->nodes; n != NULL; n = n->ai_next) {
			if (n->ai_addrlen > sizeof(v->sa))
				continue;
			v = xrealloc(v, (cnt + 1) * sizeof(*v));
			memset(&v[cnt], 0, sizeof(*v));
			memcpy(&v[cnt].sa, n->ai_addr, n->ai_addrlen);
			v[cnt].salen = n->ai_addrlen;
			if (n->ai_family == AF_INET)
				((struct sockaddr_in *)&v[cnt].sa)->sin_port =
				    htons(job->port);
			else if (n->ai_family == AF_INET6)
				((struct sockaddr_in6 *)&v[cnt].sa)->
				    sin6_port = htons(job->port);
			else
				continue;
			cnt++;
		}
	} else
		log_debug("dns: addresses: %s", ares_strerror(status));
	if (res != NULL)
		ares_freeaddrinfo(res);
	job->fn(job->arg, v, cnt);
	free(job);
}

void
dns_addrs(const char *host, uint16_t port, void (*fn)(void *,
    struct dns_addr *, size_t), void *arg)
{
	struct addr_job			*job;
	struct ares_addrinfo_hints	 hints;

	job = xcalloc(1, sizeof(*job));
	job->fn = fn;
	job->arg = arg;
	job->port = port;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(channel, host, NULL, &hints, dns_addr_cb, job);
	dns_rearm();
}
