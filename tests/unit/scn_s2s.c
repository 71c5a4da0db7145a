/*
 * The s2s scenario driver (scn_s2s.h): the process globals, scripted DNS
 * (for s2s/dns.c), the router recorder (for s2s/uplink.c), and the steps
 * of a scenario.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../common/map.h"
#include "../../common/util.h"
#include "scn_s2s.h"

#define SCN_DNS_MAX	16

struct s2s		s2s;
struct scn_up		scn_up;

static struct conf_host		scn_hosts[1];
static struct conf_listen	scn_cl = { .kind = LISTEN_S2S,
				    .addr = "::1", .port = 5269 };
static struct listener		scn_lst = { .cl = &scn_cl, .fd = -1 };

/* ---- DNS, scripted ----------------------------------------------------- */

struct scn_rr {
	char		*domain;	/* the SRV name, and the A name */
	char		*srv_host;
	uint16_t	 port;
	char		*addr;
};

struct scn_query {
	bool		 srv;
	char		*name;
	uint16_t	 port;
	void		(*srv_fn)(void *, struct srv_target *, size_t);
	void		(*addr_fn)(void *, struct dns_addr *, size_t);
	void		*arg;
};

static struct scn_rr	scn_rrs[SCN_DNS_MAX];
static size_t		scn_nrr;
static struct scn_query	scn_q[SCN_DNS_MAX];
static size_t		scn_nq;

void
scn_dns_script(const char *domain, const char *srv_host, uint16_t port,
    const char *addr)
{
	assert_true(scn_nrr < SCN_DNS_MAX);
	scn_rrs[scn_nrr].domain = xstrdup(domain);
	scn_rrs[scn_nrr].srv_host = srv_host ? xstrdup(srv_host) : NULL;
	scn_rrs[scn_nrr].port = port;
	scn_rrs[scn_nrr].addr = addr ? xstrdup(addr) : NULL;
	scn_nrr++;
}

/* the A/AAAA records of name: a target's, or the domain's own */
static struct scn_rr *
scn_rr_addr(const char *name)
{
	size_t	i;

	for (i = 0; i < scn_nrr; i++)
		if (scn_rrs[i].srv_host != NULL ?
		    strcmp(scn_rrs[i].srv_host, name) == 0 :
		    strcmp(scn_rrs[i].domain, name) == 0)
			return &scn_rrs[i];
	return NULL;
}

/* every scripted SRV target of domain, in script order (priorities) */
static size_t
scn_srv_targets(const char *domain, struct srv_target **out)
{
	struct srv_target	*t;
	size_t			 i, n = 0;

	t = xcalloc(SCN_DNS_MAX, sizeof(*t));
	for (i = 0; i < scn_nrr; i++)
		if (strcmp(scn_rrs[i].domain, domain) == 0 &&
		    scn_rrs[i].srv_host != NULL) {
			t[n].host = xstrdup(scn_rrs[i].srv_host);
			t[n].port = scn_rrs[i].port;
			t[n].priority = (uint16_t)(10 * n);
			n++;
		}
	*out = t;
	return n;
}

void
dns_srv(const char *domain, void (*fn)(void *, struct srv_target *, size_t),
    void *arg)
{
	assert_true(scn_nq < SCN_DNS_MAX);
	scn_q[scn_nq] = (struct scn_query){ true, xstrdup(domain), 0, fn,
	    NULL, arg };
	scn_nq++;
}

void
dns_addrs(const char *host, uint16_t port, void (*fn)(void *,
    struct dns_addr *, size_t), void *arg)
{
	assert_true(scn_nq < SCN_DNS_MAX);
	scn_q[scn_nq] = (struct scn_query){ false, xstrdup(host), port, NULL,
	    fn, arg };
	scn_nq++;
}

/* one address, IPv4 or IPv6 (an AAAA answer), with port */
static struct dns_addr *
scn_addr(const char *addr, uint16_t port)
{
	struct dns_addr		*a = xcalloc(1, sizeof(*a));
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->sa;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->salen = sizeof(*sin);
		return a;
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	a->salen = sizeof(*sin6);
	return a;
}

int
scn_dns_answer(void)
{
	struct scn_query	 q;
	struct scn_rr		*rr;
	struct srv_target	*t;
	struct dns_addr		*a;
	size_t			 nt;
	int			 n = 0;

	while (scn_nq > 0) {
		q = scn_q[0];
		memmove(scn_q, scn_q + 1, --scn_nq * sizeof(scn_q[0]));
		if (q.srv) {
			if ((nt = scn_srv_targets(q.name, &t)) == 0) {
				free(t);
				t = NULL;
			}
			q.srv_fn(q.arg, t, nt);
		} else if ((rr = scn_rr_addr(q.name)) == NULL ||
		    rr->addr == NULL)
			q.addr_fn(q.arg, NULL, 0);
		else {
			a = scn_addr(rr->addr, q.port);
			q.addr_fn(q.arg, a, 1);
		}
		free(q.name);
		n++;
		scn_run();
	}
	return n;
}

/* ---- s2s/uplink.c ------------------------------------------- */

void
uplink_start(void)
{
}

bool
uplink_up(void)
{
	return !scn_up.down;
}

int
uplink_stanza(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len, bool comp)
{
	(void)kind;
	(void)type;
	(void)comp;
	if (scn_up.down)
		return -1;
	scn_up.stanzas++;
	buf_printf(&scn_up.log, "%s %s %.*s\n", to, from, (int)len, xml);
	return 0;
}

/* ---- the steps ---------------------------------------------------------- */

void
scn_s2s_setup(void)
{
	memset(&s2s, 0, sizeof(s2s));
	memset(&scn_up, 0, sizeof(scn_up));
	buf_init(&scn_up.log, 0);
	clock_fake_start(SCN_WALL);
	tp_use_memory(true);
	scn_hosts[0].name = SCN_HOST;
	s2s.conf.hosts = scn_hosts;
	s2s.conf.nhosts = 1;
	s2s.conf.max_stanza_size = 65536;
	s2s.conf.s2s_connect_timeout = 10;
	s2s.conf.s2s_idle_timeout = 600;
	s2s.conf.s2s_queue_max = 65536;
	s2s.conf.s2s_dialback = true;
	s2s.conf.s2s_max_stanza_preauth = 10000;
	s2s.conf.preauth_stream_memory = 64 * 1024;
	/* the scripted addresses are documentation ones (192.0.2.0/24) */
	s2s.conf.s2s_allow_private = true;
	s2s.conf.s2s_dialback_pending = 8;
	s2s.conf.s2s_dialback_rate = 30;
	s2s.conf.s2s_out_max = 1000;
	snprintf(s2s.secret, sizeof(s2s.secret), "%s", SCN_SECRET);
	s2s.conns = map_new();
	s2s.outs = map_new();
	/* the host's and the trust-only ones (out.c's out_creds) */
	s2s.host_creds = xcalloc(2, sizeof(*s2s.host_creds));
}

void
scn_s2s_teardown(void)
{
	void		*v[64];
	size_t		 i, n;

	n = scn_map_values(s2s.conns, v, 64);
	for (i = 0; i < n; i++)
		conn_close(v[i]);
	scn_advance(TP_LINGER + 1);
	while (scn_dns_answer() > 0)
		;
	scn_advance(2 * s2s.conf.s2s_connect_timeout + TP_LINGER + 1);
	assert_int_equal(map_count(s2s.conns), 0);
	assert_int_equal(map_count(s2s.outs), 0);
	map_free(s2s.conns, NULL);
	map_free(s2s.outs, NULL);
	free(s2s.host_creds);
	buf_clear(&scn_up.log);
	for (i = 0; i < scn_nrr; i++) {
		free(scn_rrs[i].domain);
		free(scn_rrs[i].srv_host);
		free(scn_rrs[i].addr);
	}
	scn_nrr = 0;
	tp_use_memory(false);
}

struct conn *
scn_s2s_out(const char *pair)
{
	struct out	*o = map_get(s2s.outs, pair);

	return o != NULL ? o->c : NULL;
}

struct conn *
scn_s2s_accept(void)
{
	struct conn	*c;

	in_accept(&scn_lst, -1);
	c = conn_find(s2s.next_id);
	assert_non_null(c);
	scn_run();
	return c;
}
