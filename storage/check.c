/*
 * parleyctl check: finds an operator's mistakes before users do, as
 * prosodyctl check does. config: the file and its risky settings; certs:
 * each host's chain, names, dates and key; dns DOMAIN: the SRV records and
 * their addresses against our listeners; s2s DOMAIN: a live federation
 * attempt, step by step. parleyctl is no event loop: this blocks.
 * Each finding is one line, "ok:", "warning:" or "problem:" with the fix.
 */
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/jid.h"
#include "../common/util.h"
#include "check.h"

#define EXPIRY_WARN_DAYS	14	/* certbot renews at 30 days left */
#define NET_TIMEOUT		10	/* seconds per network step */
#define CHAIN_MAX		16
#define S2S_READ_MAX		65536	/* features are small */

static int	problems, warnings;

/* one finding's line: "ok: ...", "warning: ..." or "problem: ..." */
static void __attribute__((format(printf, 2, 0)))
finding(const char *tag, const char *fmt, va_list ap)
{
	printf("%s: ", tag);
	vprintf(fmt, ap);
	putchar('\n');
}

static void __attribute__((format(printf, 1, 2)))
ok(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	finding("ok", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2)))
warn(const char *fmt, ...)
{
	va_list	ap;

	warnings++;
	va_start(ap, fmt);
	finding("warning", fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
	va_list	ap;

	problems++;
	va_start(ap, fmt);
	finding("problem", fmt, ap);
	va_end(ap);
}

static int
summary(const char *what)
{
	printf("%s: %d problem%s, %d warning%s\n", what, problems,
	    problems == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	return problems > 0 ? 1 : 0;
}

static bool
addr_is_loopback(const struct sockaddr_storage *sa)
{
	const struct sockaddr_in	*in4 = (const void *)sa;
	const struct sockaddr_in6	*in6 = (const void *)sa;

	if (sa->ss_family == AF_INET)
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return sa->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* the port of the first listener of kind; 0 when there is none */
static uint16_t
listen_port(const struct conf *c, enum listen_kind kind)
{
	const struct conf_listen	*cl = conf_listen_find(c, kind);

	return cl != NULL ? cl->port : 0;
}

/* ---- config ------------------------------------------------------------ */

int
check_config(const struct conf *c)
{
	size_t	i;

	/* conf_load checked syntax, bounds and that every file is readable */
	ok("%s parses; every certificate and key file is readable", c->path);
	if (!c->c2s_require_tls)
		warn("c2s-require-tls no: clients may log in without TLS "
		    "(fix: c2s-require-tls yes)");
	if (!c->s2s_require_tls)
		warn("s2s-require-tls no: server streams may run without TLS "
		    "(fix: s2s-require-tls yes)");
	if (c->s2s_dialback && !c->s2s_require_tls)
		warn("s2s-dialback yes with s2s-require-tls no: dialback "
		    "without TLS lets anyone on the path impersonate a peer "
		    "(fix: s2s-require-tls yes)");
	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].allow_register && (c->register_interval < 60 ||
		    c->auth_fail_max == 0))
			warn("host %s: registration is open with %s (fix: "
			    "register-interval 60 or more, auth-fail-max "
			    "above 0)", c->hosts[i].name,
			    c->auth_fail_max == 0 ? "auth-fail-max 0" :
			    "a register-interval under a minute");
	for (i = 0; i < c->nlistens; i++)
		if (c->listens[i].kind == LISTEN_COMPONENT &&
		    !addr_is_loopback(&c->listens[i].sa))
			warn("%s:%d: component-listen %s: component streams are "
			    "not encrypted (fix: a loopback address, or a "
			    "private network)", c->path, c->listens[i].line,
			    c->listens[i].addr);
	if (c->ncomponents > 0 && listen_port(c, LISTEN_COMPONENT) == 0)
		warn("components are configured but no component-listen "
		    "(fix: component-listen 127.0.0.1:5347)");
	return summary("check config");
}

/* ---- certs ------------------------------------------------------------- */

static int
load_chain(const char *path, gnutls_x509_crt_t **crts, unsigned *n)
{
	gnutls_datum_t	d = { NULL, 0 };
	int		rc;

	if ((rc = gnutls_load_file(path, &d)) < 0 ||
	    (rc = gnutls_x509_crt_list_import2(crts, n, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0) {
		problem("%s: %s (fix: a PEM certificate chain, the server's "
		    "certificate first)", path, gnutls_strerror(rc));
		gnutls_free(d.data);
		return -1;
	}
	gnutls_free(d.data);
	return 0;
}

static void
check_key(const char *crtpath, gnutls_x509_crt_t crt, const char *keypath)
{
	gnutls_datum_t		d = { NULL, 0 };
	gnutls_x509_privkey_t	key = NULL;
	unsigned char		a[64], b[64];
	size_t			alen = sizeof(a), blen = sizeof(b);
	int			rc;

	if ((rc = gnutls_load_file(keypath, &d)) < 0 ||
	    (rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0)) < 0) {
		problem("%s: %s (fix: an unencrypted PEM private key)",
		    keypath, gnutls_strerror(rc));
		goto done;
	}
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
	    &alen) < 0 || gnutls_x509_privkey_get_key_id(key,
	    GNUTLS_KEYID_USE_SHA256, b, &blen) < 0 || alen != blen ||
	    memcmp(a, b, alen) != 0)
		problem("%s does not match the key %s (fix: the key the "
		    "certificate was issued for)", crtpath, keypath);
	else
		ok("%s matches its key", crtpath);
done:
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	gnutls_free(d.data);
}

static void
check_dates(const char *path, gnutls_x509_crt_t crt, time_t now)
{
	time_t	until = gnutls_x509_crt_get_expiration_time(crt);
	time_t	from = gnutls_x509_crt_get_activation_time(crt);
	long	days = (long)((until - now) / 86400);

	if (from > now)
		problem("%s is not valid before %s", path,
		    strtok(ctime(&from), "\n"));
	if (until <= now)
		problem("%s expired %ld days ago (fix: renew it, then "
		    "parleyctl reload)", path, -days);
	else if (days < EXPIRY_WARN_DAYS)
		warn("%s expires in %ld days (fix: renew it, then parleyctl "
		    "reload)", path, days);
	else
		ok("%s valid for %ld more days", path, days);
}

/* the chain in order, each issued by the next, the last by a trusted CA */
static void
check_trust(const struct conf *c, const char *path, gnutls_x509_crt_t *crts,
    unsigned n)
{
	gnutls_x509_trust_list_t	tl = NULL;
	unsigned			i, status = 0;
	int				rc;

	for (i = 0; i + 1 < n; i++)
		if (!gnutls_x509_crt_check_issuer(crts[i], crts[i + 1])) {
			problem("%s: certificate %u is not issued by the next "
			    "one (fix: the server's certificate first, then "
			    "each issuer in order)", path, i + 1);
			return;
		}
	if ((rc = gnutls_x509_trust_list_init(&tl, 0)) < 0)
		goto fail;
	if (c->s2s_ca_file != NULL)
		rc = gnutls_x509_trust_list_add_trust_file(tl, c->s2s_ca_file,
		    NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	else
		rc = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (rc < 0 || (rc = gnutls_x509_trust_list_verify_crt(tl, crts, n,
	    0, &status, NULL)) < 0)
		goto fail;
	if (status != 0)
		problem("%s: the chain does not verify against %s: %s (fix: "
		    "use the full chain, fullchain.pem with certbot; a "
		    "self-signed certificate only federates by dialback)",
		    path, c->s2s_ca_file ? c->s2s_ca_file : "the system's CAs",
		    (status & GNUTLS_CERT_SIGNER_NOT_FOUND) ?
		    "issuer not found" : "invalid");
	else
		ok("%s: the chain is complete and trusted", path);
	gnutls_x509_trust_list_deinit(tl, 1);
	return;
fail:
	problem("%s: cannot verify: %s", path, gnutls_strerror(rc));
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
}

static void
check_name(const char *path, gnutls_x509_crt_t crt, const char *name,
    const char *what)
{
	if (gnutls_x509_crt_check_hostname(crt, name))
		ok("%s covers %s%s", path, name, what);
	else
		problem("%s does not cover %s%s (fix: a certificate with %s "
		    "among its names)", path, name, what, name);
}

int
check_certs(const struct conf *c)
{
	const struct conf_host	*h;
	gnutls_x509_crt_t	*crts;
	unsigned		 n, k;
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < c->nhosts; i++) {
		h = &c->hosts[i];
		printf("host %s: %s, %s\n", h->name, h->cert, h->key);
		if (load_chain(h->cert, &crts, &n) == -1)
			continue;
		check_name(h->cert, crts[0], h->name, "");
		/* they present it in federation too (s2s/out.c) */
		if (h->pubsub && h->pubsub_name != NULL)
			check_name(h->cert, crts[0], h->pubsub_name,
			    " (pubsub service)");
		if (h->muc && h->muc_name != NULL)
			check_name(h->cert, crts[0], h->muc_name,
			    " (group chat service)");
		check_dates(h->cert, crts[0], now);
		for (k = 1; k < n; k++)
			if (gnutls_x509_crt_get_expiration_time(crts[k]) <= now)
				problem("%s: certificate %u of the chain has "
				    "expired (fix: the issuer's current "
				    "intermediate)", h->cert, k + 1);
		check_trust(c, h->cert, crts, n);
		check_key(h->cert, crts[0], h->key);
		for (k = 0; k < n; k++)
			gnutls_x509_crt_deinit(crts[k]);
		gnutls_free(crts);
	}
	return summary("check certs");
}

/* ---- dns --------------------------------------------------------------- */

struct dns_answer {
	int			 status;
	struct ares_srv_reply	*srv;
	struct ares_addrinfo	*ai;
};

static void
srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_answer	*a = arg;

	(void)timeouts;
	a->status = status;
	if (status == ARES_SUCCESS &&
	    (a->status = ares_parse_srv_reply(abuf, alen, &a->srv)) !=
	    ARES_SUCCESS)
		a->srv = NULL;
}

static void
ai_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_answer	*a = arg;

	(void)timeouts;
	a->status = status;
	a->ai = ai;
}

static void
dns_wait(ares_channel ch)
{
	fd_set		 r, w;
	struct timeval	 tv, *tvp;
	int		 n;

	for (;;) {
		FD_ZERO(&r);
		FD_ZERO(&w);
		if ((n = ares_fds(ch, &r, &w)) == 0)
			return;
		tvp = ares_timeout(ch, NULL, &tv);
		if (select(n, &r, &w, NULL, tvp) == -1 && errno != EINTR)
			return;
		ares_process(ch, &r, &w);
	}
}

static int
dns_open(const struct conf *c, ares_channel *ch)
{
	struct ares_options	opts;
	int			mask = 0, rc;

	memset(&opts, 0, sizeof(opts));
	if (c->dns_resolv_conf != NULL) {
		opts.resolvconf_path = c->dns_resolv_conf;
		mask |= ARES_OPT_RESOLVCONF;
	}
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS ||
	    (rc = ares_init_options(ch, &opts, mask)) != ARES_SUCCESS ||
	    (c->dns_server != NULL && (rc = ares_set_servers_ports_csv(*ch,
	    c->dns_server)) != ARES_SUCCESS)) {
		fprintf(stderr, "parleyctl: dns: %s\n", ares_strerror(rc));
		return -1;
	}
	return 0;
}

/* A and AAAA of host; NULL when none (status says why) */
static struct ares_addrinfo *
dns_addrs(ares_channel ch, const char *host, int *status)
{
	struct ares_addrinfo_hints	hints;
	struct dns_answer		a = { ARES_ENOTFOUND, NULL, NULL };

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(ch, host, NULL, &hints, ai_cb, &a);
	dns_wait(ch);
	*status = a.status;
	return a.ai;
}

/* is sa an address of this machine? */
static bool
addr_local(const struct sockaddr *sa)
{
	struct ifaddrs	*ifs, *i;
	bool		 found = false;

	if (getifaddrs(&ifs) == -1)
		return false;
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family !=
		    sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			found = memcmp(&((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr,
			    &((struct sockaddr_in *)(void *)i->ifa_addr)->
			    sin_addr, sizeof(struct in_addr)) == 0;
		else if (sa->sa_family == AF_INET6)
			found = memcmp(&((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr,
			    &((struct sockaddr_in6 *)(void *)i->ifa_addr)->
			    sin6_addr, sizeof(struct in6_addr)) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

/* does a listener of kind take port on the address of sa? */
static bool
listen_serves(const struct conf *c, enum listen_kind kind,
    const struct sockaddr *sa, uint16_t port)
{
	const struct conf_listen	*l;
	const struct sockaddr_in	*a4;
	const struct sockaddr_in6	*a6;
	size_t				 i;

	for (i = 0; i < c->nlistens; i++) {
		l = &c->listens[i];
		if (l->kind != kind || l->port != port ||
		    l->sa.ss_family != sa->sa_family)
			continue;
		a4 = (const void *)&l->sa;
		a6 = (const void *)&l->sa;
		if (sa->sa_family == AF_INET &&
		    (a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    memcmp(&a4->sin_addr, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, sizeof(a4->sin_addr)) == 0))
			return true;
		if (sa->sa_family == AF_INET6 &&
		    (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
		    memcmp(&a6->sin6_addr, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0))
			return true;
	}
	return false;
}

static const struct {
	const char		*service;
	enum listen_kind	 kind;
	const char		*option;
	uint16_t		 port;		/* the usual one */
} srv_services[] = {
	{ "_xmpp-client", LISTEN_C2S, "c2s-listen", 5222 },
	{ "_xmpps-client", LISTEN_C2S_TLS, "c2s-tls-listen", 5223 },
	{ "_xmpp-server", LISTEN_S2S, "s2s-listen", 5269 },
	{ "_xmpps-server", LISTEN_S2S_TLS, "s2s-tls-listen", 5270 },
};

static void
check_target(const struct conf *c, ares_channel ch, const char *name,
    const struct ares_srv_reply *r, size_t svc, bool ours)
{
	struct ares_addrinfo		*ai;
	struct ares_addrinfo_node	*nd;
	char				 addr[INET6_ADDRSTRLEN];
	int				 status;

	if ((ai = dns_addrs(ch, r->host, &status)) == NULL ||
	    ai->nodes == NULL) {
		problem("%s -> %s:%u: the target has no A or AAAA record (%s) "
		    "(fix: an A and/or AAAA record for %s)", name, r->host,
		    r->port, ares_strerror(status), r->host);
		if (ai != NULL)
			ares_freeaddrinfo(ai);
		return;
	}
	for (nd = ai->nodes; nd != NULL; nd = nd->ai_next) {
		if (nd->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    nd->ai_addr)->sin_addr, addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    nd->ai_addr)->sin6_addr, addr, sizeof(addr));
		if (!ours)
			ok("%s -> %s [%s]:%u", name, r->host, addr, r->port);
		else if (!addr_local(nd->ai_addr))
			warn("%s -> %s [%s]:%u: not an address of this machine "
			    "(fix: if this server is behind NAT or a proxy, "
			    "make sure it forwards to %s; else point %s at "
			    "this machine)", name, r->host, addr, r->port,
			    srv_services[svc].option, r->host);
		else if (!listen_serves(c, srv_services[svc].kind,
		    nd->ai_addr, r->port))
			problem("%s -> %s [%s]:%u: no %s listens there (fix: "
			    "%s %s:%u, or change the record's port)", name,
			    r->host, addr, r->port, srv_services[svc].option,
			    srv_services[svc].option,
			    nd->ai_family == AF_INET6 ? "[::]" : "*",
			    r->port);
		else
			ok("%s -> %s [%s]:%u, served by %s", name, r->host,
			    addr, r->port, srv_services[svc].option);
	}
	ares_freeaddrinfo(ai);
}

int
check_dns(const struct conf *c, const char *arg)
{
	ares_channel		 ch;
	struct dns_answer	 a;
	struct ares_srv_reply	*r;
	char			 domain[JID_PART_MAX + 1], name[JID_PART_MAX + 32];
	size_t			 i;
	bool			 ours, any = false;

	if (jid_nameprep(arg, domain) == -1) {
		fprintf(stderr, "parleyctl: %s: not a domain name\n", arg);
		return 2;
	}
	if (dns_open(c, &ch) == -1)
		return 1;
	ours = conf_host_find(c, domain) != NULL;
	for (i = 0; i < nitems(srv_services); i++) {
		snprintf(name, sizeof(name), "%s._tcp.%s",
		    srv_services[i].service, domain);
		memset(&a, 0, sizeof(a));
		a.status = ARES_ENOTFOUND;
		ares_query(ch, name, ns_c_in, ns_t_srv, srv_cb, &a);
		dns_wait(ch);
		if (a.status != ARES_SUCCESS && a.status != ARES_ENOTFOUND &&
		    a.status != ARES_ENODATA) {
			problem("%s: the lookup failed: %s (fix: check "
			    "dns-server or the resolver)", name,
			    ares_strerror(a.status));
			continue;
		}
		if (a.srv == NULL) {
			if (ours && listen_port(c, srv_services[i].kind))
				warn("%s: no SRV record (%s) (fix: %s 0 5 %u "
				    "<this server's name>., or clients and "
				    "servers try %s port %u)", name,
				    ares_strerror(a.status), name,
				    listen_port(c, srv_services[i].kind), domain,
				    srv_services[i].port);
			else
				printf("none: %s (%s)\n", name,
				    ares_strerror(a.status));
			continue;
		}
		any = true;
		for (r = a.srv; r != NULL; r = r->next) {
			if (strcmp(r->host, "") == 0 ||
			    strcmp(r->host, ".") == 0) {
				printf("none: %s: \".\", the service is not "
				    "offered\n", name);
				continue;
			}
			check_target(c, ch, name, r, i, ours);
		}
		ares_free_data(a.srv);
	}
	if (!any) {
		/* RFC 6120 3.2.2: the fallback is the domain itself */
		struct ares_srv_reply	fb;
		int			st;
		struct ares_addrinfo	*ai = dns_addrs(ch, domain, &st);

		if (ai == NULL)
			problem("%s: no SRV records and no A or AAAA record "
			    "(%s) (fix: SRV records, or A/AAAA records for "
			    "%s)", domain, ares_strerror(st), domain);
		else {
			ares_freeaddrinfo(ai);
			memset(&fb, 0, sizeof(fb));
			fb.host = domain;
			fb.port = 5269;
			check_target(c, ch, domain, &fb, 2, ours);
		}
	}
	ares_destroy(ch);
	ares_library_cleanup();
	return summary("check dns");
}

/* ---- s2s --------------------------------------------------------------- */

struct peer {
	int			 fd;
	gnutls_session_t	 tls;
	char			 buf[S2S_READ_MAX + 1];
	size_t			 len;
};

static int
peer_write(struct peer *p, const char *s)
{
	size_t	n = strlen(s), off = 0;
	ssize_t	w;

	while (off < n) {
		w = p->tls ? gnutls_record_send(p->tls, s + off, n - off) :
		    write(p->fd, s + off, n - off);
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* reads until one of the needles appears; the found one's index or -1 */
static int
peer_wait(struct peer *p, const char *const *needles)
{
	struct pollfd	pfd = { p->fd, POLLIN, 0 };
	ssize_t		n;
	int		i;

	p->len = 0;
	for (;;) {
		p->buf[p->len] = '\0';
		for (i = 0; needles[i] != NULL; i++)
			if (strstr(p->buf, needles[i]) != NULL)
				return i;
		if (p->len == S2S_READ_MAX)
			return -1;
		if ((p->tls == NULL || gnutls_record_check_pending(p->tls) ==
		    0) && poll(&pfd, 1, NET_TIMEOUT * 1000) != 1)
			return -1;
		n = p->tls ? gnutls_record_recv(p->tls, p->buf + p->len,
		    S2S_READ_MAX - p->len) : read(p->fd, p->buf + p->len,
		    S2S_READ_MAX - p->len);
		if (n <= 0)
			return -1;
		p->len += (size_t)n;
	}
}

static int
tcp_connect(const struct sockaddr *sa, socklen_t len)
{
	struct pollfd	pfd;
	socklen_t	elen = sizeof(int);
	int		fd, err = 0, fl;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1)
		return -1;
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, NET_TIMEOUT * 1000) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err) {
		errno = err;
		goto fail;
	}
	(void)fcntl(fd, F_SETFL, fl);
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* the stream from our first host to domain, as parley-s2s opens it */
static int
s2s_open(struct peer *p, const char *from, const char *to)
{
	static const char *const feat[] = { "</stream:features>",
	    "<stream:error", NULL };
	char	hdr[2 * JID_PART_MAX + 256];

	snprintf(hdr, sizeof(hdr), "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
	    "streams' xmlns:db='jabber:server:dialback' from='%s' to='%s' "
	    "version='1.0'>", from, to);
	if (peer_write(p, hdr) == -1)
		return -1;
	return peer_wait(p, feat) == 0 ? 0 : -1;
}

static void
s2s_tls(const struct conf *c, struct peer *p, const char *domain)
{
	static const char *const proceed[] = { "<proceed", "<failure",
	    NULL };
	gnutls_certificate_credentials_t	 creds = NULL;
	gnutls_datum_t				 out = { NULL, 0 };
	unsigned				 status;
	int					 rc;

	if (peer_write(p, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'"
	    "/>") == -1 || peer_wait(p, proceed) != 0) {
		problem("STARTTLS refused (fix: the peer must offer TLS)");
		return;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&creds)) < 0 ||
	    (rc = c->s2s_ca_file ? gnutls_certificate_set_x509_trust_file(
	    creds, c->s2s_ca_file, GNUTLS_X509_FMT_PEM) :
	    gnutls_certificate_set_x509_system_trust(creds)) < 0 ||
	    (rc = gnutls_init(&p->tls, GNUTLS_CLIENT)) < 0 ||
	    (rc = gnutls_set_default_priority(p->tls)) < 0 ||
	    (rc = gnutls_credentials_set(p->tls, GNUTLS_CRD_CERTIFICATE,
	    creds)) < 0 ||
	    (rc = gnutls_server_name_set(p->tls, GNUTLS_NAME_DNS, domain,
	    strlen(domain))) < 0)
		goto fail;
	gnutls_transport_set_int(p->tls, p->fd);
	gnutls_handshake_set_timeout(p->tls, NET_TIMEOUT * 1000);
	do
		rc = gnutls_handshake(p->tls);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		goto fail;
	ok("TLS %s", gnutls_protocol_get_name(gnutls_protocol_get_version(
	    p->tls)));
	if ((rc = gnutls_certificate_verify_peers3(p->tls, domain,
	    &status)) < 0)
		goto fail;
	if (status == 0)
		ok("the certificate is valid for %s: SASL EXTERNAL can "
		    "authenticate us both", domain);
	else {
		(void)gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0);
		warn("the certificate of %s does not verify: %s (only "
		    "dialback can authenticate it; fix on %s's side: a "
		    "certificate from a public CA naming %s)", domain,
		    out.data ? (char *)out.data : "?", domain, domain);
		gnutls_free(out.data);
	}
	p->buf[0] = '\0';
	gnutls_certificate_free_credentials(creds);
	creds = NULL;
	return;
fail:
	problem("TLS with %s: %s", domain, gnutls_strerror(rc));
	if (p->tls != NULL)
		gnutls_deinit(p->tls);
	p->tls = NULL;
	if (creds != NULL)
		gnutls_certificate_free_credentials(creds);
}

static void
s2s_try(const struct conf *c, const struct sockaddr *sa, socklen_t len,
    const char *label, const char *from, const char *domain)
{
	struct peer	*p;

	p = xcalloc(1, sizeof(*p));
	if ((p->fd = tcp_connect(sa, len)) == -1) {
		problem("connect to %s: %s (fix: the peer's server must be up "
		    "and its port open to us)", label, strerror(errno));
		free(p);
		return;
	}
	ok("connected to %s", label);
	if (s2s_open(p, from, domain) == -1) {
		problem("%s: no stream features (%s) (fix: is it an XMPP "
		    "server port?)", label, p->len ? "a stream error" :
		    "no answer");
		goto done;
	}
	if (strstr(p->buf, "urn:ietf:params:xml:ns:xmpp-tls") == NULL)
		problem("%s offers no STARTTLS: we require TLS", domain);
	else {
		s2s_tls(c, p, domain);
		if (p->tls != NULL) {
			if (s2s_open(p, from, domain) == -1)
				problem("no stream features after TLS");
			else if (strstr(p->buf, ">EXTERNAL<") != NULL)
				ok("SASL EXTERNAL offered");
			else if (strstr(p->buf, "urn:xmpp:features:dialback") !=
			    NULL)
				ok("dialback offered (no SASL EXTERNAL for "
				    "our certificate)");
			else
				problem("neither SASL EXTERNAL nor dialback "
				    "offered to %s: %s refuses us", from,
				    domain);
			(void)peer_write(p, "</stream:stream>");
			gnutls_bye(p->tls, GNUTLS_SHUT_WR);
			gnutls_deinit(p->tls);
		}
	}
done:
	close(p->fd);
	free(p);
}

int
check_s2s(const struct conf *c, const char *arg)
{
	const struct conf_route	*route;
	ares_channel		 ch;
	struct dns_answer	 a;
	struct ares_addrinfo	*ai;
	struct ares_srv_reply	 fb, *r, *srv;
	char			 domain[JID_PART_MAX + 1], name[JID_PART_MAX + 32];
	char			 label[JID_PART_MAX + 64], port[8];
	struct addrinfo		 hints, *res;
	int			 st;

	if (jid_nameprep(arg, domain) == -1) {
		fprintf(stderr, "parleyctl: %s: not a domain name\n", arg);
		return 2;
	}
	if (c->nhosts == 0)
		return 1;
	if ((route = conf_route_find(c, domain)) != NULL) {
		/* s2s-route: the operator's address, as parley-s2s uses it */
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%u", route->port);
		if ((st = getaddrinfo(route->host, port, &hints, &res)) != 0) {
			problem("s2s-route %s: %s: %s", domain, route->host,
			    gai_strerror(st));
			return summary("check s2s");
		}
		snprintf(label, sizeof(label), "%s port %u (s2s-route)",
		    route->host, route->port);
		s2s_try(c, res->ai_addr, res->ai_addrlen, label,
		    c->hosts[0].name, domain);
		freeaddrinfo(res);
		return summary("check s2s");
	}
	if (dns_open(c, &ch) == -1)
		return 1;
	snprintf(name, sizeof(name), "_xmpp-server._tcp.%s", domain);
	memset(&a, 0, sizeof(a));
	a.status = ARES_ENOTFOUND;
	ares_query(ch, name, ns_c_in, ns_t_srv, srv_cb, &a);
	dns_wait(ch);
	srv = a.srv;
	if (srv == NULL) {
		printf("none: %s (%s): trying %s port 5269\n", name,
		    ares_strerror(a.status), domain);
		memset(&fb, 0, sizeof(fb));
		fb.host = domain;
		fb.port = 5269;
	}
	for (r = srv ? srv : &fb; r != NULL; r = r->next) {
		if ((ai = dns_addrs(ch, r->host, &st)) == NULL ||
		    ai->nodes == NULL) {
			problem("%s: no address (%s)", r->host,
			    ares_strerror(st));
			if (ai != NULL)
				ares_freeaddrinfo(ai);
			continue;
		}
		snprintf(label, sizeof(label), "%s port %u", r->host,
		    r->port);
		if (ai->nodes->ai_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)ai->nodes->ai_addr)->
			    sin6_port = htons(r->port);
		else
			((struct sockaddr_in *)(void *)ai->nodes->ai_addr)->
			    sin_port = htons(r->port);
		s2s_try(c, ai->nodes->ai_addr, ai->nodes->ai_addrlen, label,
		    c->hosts[0].name, domain);
		ares_freeaddrinfo(ai);
		break;		/* the first target that resolves */
	}
	if (srv != NULL)
		ares_free_data(srv);
	ares_destroy(ch);
	ares_library_cleanup();
	return summary("check s2s");
}
