/*
 * Fuzz target: server-to-server streams -- s2s/conn.c reading a socket
 * into its XML stream, s2s/in.c and s2s/out.c checking stream headers and
 * handling features, SASL EXTERNAL and dialback (XEP-0220 keys checked
 * with s2s/dialback.c) -- in a libev loop as in parley-s2s, with the input
 * as the remote server's bytes. DNS and the router link are stubs; the
 * remote domain's authoritative server, which in.c asks over an outgoing
 * stream to verify a dialback key, is played by this target on a loopback
 * TCP listener: it answers type='valid' exactly for the key "validkey".
 *
 * Oracles:
 * - no stanza reaches the router from an incoming stream unless its pair
 *   of domains (to, from) is one the authoritative server validated;
 * - what reaches the router is one jabber:client element of the kind
 *   claimed, addressed by its envelope in normalised JIDs;
 * - everything the s2s writes to a peer is well-formed XML, stream by
 *   stream (up to a TLS handshake);
 * - when the peers are gone, every connection and outgoing pair is freed;
 * - no stanza from an external component (XEP-0114, s2s/component.c)
 *   reaches the router: its handshake hashes the random stream id with
 *   the secret, which no input can know.
 *
 * Input: byte 0 -- bit 0 outgoing (else incoming), bit 1 s2s-require-tls,
 * bit 2 s2s-dialback, bit 3 outgoing: the peer's certificate verified,
 * bit 4 outgoing: a pending db:verify rather than a queued stanza;
 * incoming: a component on component-listen rather than a server,
 * bits 5-6 what DNS says about a remote domain (no such domain, no
 * records, our listener), bit 7 the router link down until the end --
 * then the chunking plan, then the remote server's bytes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../s2s/s2s.h"
#include "fuzz.h"

#define SECRET		"8c5d3e6bbd1a8e7d6f2b49a04f0c51d2" \
			"a3b9e3c24d8f1e07b6a5c9d0e1f2a3b4"
#define VALID_KEY	"validkey"
#define MAX_PAIRS	16
#define MAX_PEERS	8
#define MAX_DNS		64
#define QUIET_ROUNDS	64
/* rounds with the socket full before the pump gives up */
#define STALL_MAX	8

enum { DNS_NXDOMAIN, DNS_NONE, DNS_LISTENER, DNS_LISTENER2 };

struct s2s	s2s;

static int		 tcp_lfd = -1;
static uint16_t		 tcp_port;
static int		 mode;
static bool		 router_down;
static bool		 outgoing;
static bool		 component;	/* the peer is an external component */

/* pairs "local remote" the authoritative server said valid for */
static char		*valid_pairs[MAX_PAIRS];
static size_t		 nvalid;

/* ---- DNS: answers queued, given from the loop as c-ares would ----------- */

struct dns_job {
	bool		 srv;
	char		*name;
	uint16_t	 port;
	void		(*srv_fn)(void *, struct srv_target *, size_t);
	void		(*addr_fn)(void *, struct dns_addr *, size_t);
	void		*arg;
};

static struct dns_job	dns_jobs[MAX_DNS];
static size_t		ndns;

void
dns_srv(const char *domain, void (*fn)(void *, struct srv_target *, size_t),
    void *arg)
{
	FUZZ_CHECK(ndns < MAX_DNS, "DNS queries without end");
	FUZZ_CHECK(domain != NULL && *domain != '\0', "SRV for no domain");
	dns_jobs[ndns].srv = true;
	dns_jobs[ndns].name = xstrdup(domain);
	dns_jobs[ndns].srv_fn = fn;
	dns_jobs[ndns].arg = arg;
	ndns++;
}

void
dns_addrs(const char *host, uint16_t port, void (*fn)(void *,
    struct dns_addr *, size_t), void *arg)
{
	FUZZ_CHECK(ndns < MAX_DNS, "DNS queries without end");
	dns_jobs[ndns].srv = false;
	dns_jobs[ndns].name = xstrdup(host);
	dns_jobs[ndns].port = port;
	dns_jobs[ndns].addr_fn = fn;
	dns_jobs[ndns].arg = arg;
	ndns++;
}

static int
dns_answer(void)
{
	struct dns_job		 j;
	struct srv_target	*t;
	struct dns_addr		*a;
	struct sockaddr_in	*sin;
	size_t			 n;
	int			 how;

	if (ndns == 0)
		return 0;
	how = outgoing ? DNS_LISTENER : mode >> 5 & 3;
	j = dns_jobs[0];
	memmove(dns_jobs, dns_jobs + 1, --ndns * sizeof(dns_jobs[0]));
	if (j.srv) {
		if (how == DNS_NXDOMAIN || how == DNS_NONE)
			/* no records: the domain itself is tried */
			j.srv_fn(j.arg, NULL, 0);
		else {
			/* a second target (no addresses) to fail over to */
			n = how == DNS_LISTENER2 ? 2 : 1;
			t = xcalloc(n, sizeof(*t));
			t[0].host = xstrdup("xmpp.remote.test");
			t[0].port = tcp_port;
			if (n == 2) {
				t[1].host = xstrdup("backup.remote.test");
				t[1].port = tcp_port;
				t[1].priority = 10;
			}
			j.srv_fn(j.arg, t, n);
		}
	} else if (how == DNS_NXDOMAIN || how == DNS_NONE ||
	    strcmp(j.name, "backup.remote.test") == 0)
		j.addr_fn(j.arg, NULL, 0);
	else {
		a = xcalloc(1, sizeof(*a));
		sin = (struct sockaddr_in *)&a->sa;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(j.port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->salen = sizeof(*sin);
		j.addr_fn(j.arg, a, 1);
	}
	free(j.name);
	return 1;
}

/* ---- the router link ---------------------------------------------------- */

/* a full JID in its normal form; its domain into dom */
static void
check_normal_domain(const char *what, const char *s, char *dom)
{
	struct jid	 j;

	fuzz_check_normal_jid(what, s, &j);
	snprintf(dom, JID_PART_MAX + 1, "%s", j.domain);
	jid_clear(&j);
}

int
uplink_stanza(int kind, int type, const char *to, const char *from,
    const char *xml, size_t len, bool comp)
{
	struct fuzz_stanza_job	 job = { kind, type, to, from, false };
	char			 tdom[JID_PART_MAX + 1];
	char			 fdom[JID_PART_MAX + 1];
	char			 pair[2 * JID_PART_MAX + 2];
	size_t			 i;

	if (router_down)
		return -1;
	FUZZ_CHECK(!component, "a stanza from %s reached the router, but the "
	    "component never proved the secret", from);
	/* only a component's stanzas (or our bounces) may leave again */
	FUZZ_CHECK(!comp || outgoing, "a server's stanza from %s was marked "
	    "as a component's", from);
	check_normal_domain("to", to, tdom);
	check_normal_domain("from", from, fdom);
	FUZZ_CHECK(s2s_parse(xml, len, fuzz_check_stanza_tree, &job) == 0 &&
	    job.called, "the router would not parse %.*s", (int)len, xml);
	if (!outgoing) {
		/* the security property of in.c: authenticated pairs only */
		snprintf(pair, sizeof(pair), "%s %s", tdom, fdom);
		for (i = 0; i < nvalid; i++)
			if (strcmp(valid_pairs[i], pair) == 0)
				break;
		FUZZ_CHECK(i < nvalid, "a stanza for the pair \"%s\", which "
		    "was never verified, reached the router", pair);
	}
	return 0;
}

/* ---- the authoritative server's answers --------------------------------- */

/* the authoritative server for the remote domain answers db:verify */
static void
auth_element(void *arg, struct xnode *el, struct arena *a)
{
	int		*fd = arg;
	const char	*id = xnode_attr(el, "id");
	const char	*from = xnode_attr(el, "from");
	const char	*to = xnode_attr(el, "to");
	const char	*key = xnode_text(a, el);
	struct buf	 b;
	bool		 valid;

	if (strcmp(el->ns, NS_DIALBACK) != 0 || strcmp(el->name, "verify") != 0)
		return;
	FUZZ_CHECK(id != NULL && from != NULL && to != NULL,
	    "db:verify without id, from or to");
	valid = strcmp(key, VALID_KEY) == 0;
	if (valid && nvalid < MAX_PAIRS)
		valid_pairs[nvalid++] = xasprintf("%s %s", from, to);
	buf_init(&b, 0);
	if (dialback_verify_answer(&b, from, to, id, valid) == 0)
		(void)send(*fd, buf_rptr(&b), buf_avail(&b), MSG_NOSIGNAL);
	buf_clear(&b);
}

/* ---- the peers ---------------------------------------------------------- */

struct peer {
	int			 fd;
	struct fuzz_xmlcheck	 xc;
};

static struct peer	 peers[MAX_PEERS];	/* authoritative servers */
static size_t		 npeers;
static int		 remote_fd = -1;	/* the fuzzed peer */
static struct fuzz_xmlcheck remote_xc;

static const char	 auth_header[] = FUZZ_HEADER_MARK
    "<stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns:db='jabber:server:dialback' id='authoritative-1' "
    "version='1.0'><stream:features><dialback "
    "xmlns='urn:xmpp:features:dialback'/></stream:features>";

static bool
drain_into(int fd, struct fuzz_xmlcheck *xc)
{
	char	tmp[16384];
	ssize_t	n;
	bool	any = false;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		fuzz_xmlcheck_feed(xc, tmp, (size_t)n);
		any = true;
	}
	return any;
}

/* one pass over what the loop did: DNS, new connections, peers' input */
static bool
service(void)
{
	bool	busy = false;
	size_t	i;
	int	fd;

	while (dns_answer())
		busy = true;
	while ((fd = accept4(tcp_lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		busy = true;
		if (outgoing && remote_fd == -1) {
			remote_fd = fd;
			fuzz_xmlcheck_init(&remote_xc, "to the remote server",
			    NS_SERVER, NULL, NULL);
		} else if (npeers < MAX_PEERS) {
			peers[npeers].fd = fd;
			fuzz_xmlcheck_init(&peers[npeers].xc,
			    "to the authoritative server", NS_SERVER,
			    auth_element, &peers[npeers].fd);
			(void)send(fd, auth_header, strlen(auth_header),
			    MSG_NOSIGNAL);
			npeers++;
		} else
			close(fd);
	}
	for (i = 0; i < npeers; i++)
		if (drain_into(peers[i].fd, &peers[i].xc))
			busy = true;
	if (remote_fd != -1 && drain_into(remote_fd, &remote_xc))
		busy = true;
	return busy;
}

/* arg unused: the shape of fuzz_send's settle */
static void
settle(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < QUIET_ROUNDS; i++) {
		ev_run(s2s.loop, EVRUN_NOWAIT);
		if (!service() && i > 2)
			break;
	}
}

static void
peers_close(void)
{
	size_t	i;

	for (i = 0; i < npeers; i++) {
		shutdown(peers[i].fd, SHUT_WR);
		settle(NULL);
		close(peers[i].fd);
		fuzz_xmlcheck_clear(&peers[i].xc);
	}
	npeers = 0;
}

/* ---- the harness -------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	hosts[2];
	static struct conf_component comp;
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	size_t			i;

	(void)argc;
	(void)argv;
	fuzz_log_init();
	s2s.loop = ev_default_loop(EVFLAG_AUTO);
	hosts[0].name = xstrdup("example.org");
	hosts[1].name = xstrdup("example.com");
	s2s.conf.hosts = hosts;
	s2s.conf.nhosts = 2;
	comp.domain = xstrdup("gw.example.org");
	comp.secret = xstrdup("s3cret");
	s2s.conf.components = &comp;
	s2s.conf.ncomponents = 1;
	s2s.conf.max_stanza_size = 16384;
	s2s.conf.s2s_max_stanza_preauth = 10000;
	s2s.conf.preauth_stream_memory = 64 * 1024;
	s2s.conf.s2s_connect_timeout = 10;
	s2s.conf.s2s_idle_timeout = 600;
	s2s.conf.s2s_queue_max = 65536;
	s2s.conf.s2s_dialback_pending = 8;
	s2s.conf.s2s_dialback_rate = 30;
	s2s.conf.s2s_out_max = 1000;
	s2s.conf.s2s_allow_private = true;	/* its peer is on loopback */
	snprintf(s2s.secret, sizeof(s2s.secret), "%s", SECRET);
	s2s.conns = map_new();
	s2s.outs = map_new();
	fuzz_tls_nocert(&s2s.tls);
	/* and the trust-only ones at nhosts (out.c's out_creds) */
	s2s.host_creds = xcalloc(s2s.conf.nhosts + 1, sizeof(*s2s.host_creds));
	for (i = 0; i <= s2s.conf.nhosts; i++)
		if (gnutls_certificate_allocate_credentials(
		    &s2s.host_creds[i]) < 0)
			fatalx("gnutls");
	transport_loop_init(s2s.loop);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((tcp_lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    bind(tcp_lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(tcp_lfd, 64) == -1 ||
	    getsockname(tcp_lfd, (struct sockaddr *)&sin, &len) == -1)
		fatal("loopback listener");
	tcp_port = ntohs(sin.sin_port);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct conf_listen cl = { .kind = LISTEN_S2S, .addr = "::1",
	    .port = 5269 };
	static struct conf_listen ccl = { .kind = LISTEN_COMPONENT,
	    .addr = "::1", .port = 5347 };
	struct listener		 lst = { .cl = &cl, .fd = -1 };
	struct listener		 clst = { .cl = &ccl, .fd = -1 };
	struct fuzz_plan	 plan;
	struct out		*o;
	size_t			 i;
	int			 sv[2] = { -1, -1 }, fd;
	static const char	 msg[] = "<message xmlns='jabber:client' "
	    "to='romeo@remote.test' from='juliet@example.org/balcony' "
	    "type='chat' id='q1'><body>hi</body></message>";

	if ((mode = fuzz_plan_mode(&plan, &data, &len)) == -1)
		return 0;
	outgoing = mode & 1;
	component = !outgoing && (mode & 0x10) != 0;
	router_down = (mode & 0x80) != 0;
	s2s.conf.s2s_require_tls = (mode & 2) != 0;
	s2s.conf.s2s_dialback = (mode & 4) != 0;

	if (!outgoing) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, sv) == -1)
			fatal("socketpair");
		if (component)
			comp_accept(&clst, sv[0]);
		else
			in_accept(&lst, sv[0]);
		remote_fd = sv[1];
		fuzz_xmlcheck_init(&remote_xc, "to the remote server",
		    component ? NS_COMPONENT : NS_SERVER, NULL, NULL);
	} else {
		/* a stanza or a verify to send: the s2s dials out */
		if (mode & 0x10)
			out_verify("example.org", "remote.test", 0, "abc",
			    VALID_KEY);
		else
			out_stanza("romeo@remote.test",
			    "juliet@example.org/balcony", msg, strlen(msg));
		settle(NULL);
		FUZZ_CHECK(remote_fd != -1, "the s2s did not dial out");
		/* as if TLS had verified the peer's certificate */
		if ((mode & 8) && (o = map_get(s2s.outs,
		    "example.org remote.test")) != NULL && o->c != NULL)
			o->c->cert_ok = true;
	}

	/* stops where the s2s stops reading (router away, TLS) */
	fuzz_pump_with(remote_fd, data, len, &plan, STALL_MAX, settle, NULL);
	settle(NULL);
	if (router_down) {
		router_down = false;
		in_release_held();
		settle(NULL);
	}
	/* the peers leave */
	shutdown(remote_fd, SHUT_WR);
	settle(NULL);
	peers_close();
	settle(NULL);
	FUZZ_CHECK(ndns == 0, "DNS answers still due");
	FUZZ_CHECK(map_count(s2s.conns) == 0, "%zu connections outlived "
	    "their peers", map_count(s2s.conns));
	FUZZ_CHECK(map_count(s2s.outs) == 0, "%zu outgoing pairs outlived "
	    "their peers", map_count(s2s.outs));
	FUZZ_CHECK(s2s.held == NULL, "held stanzas outlived their stream");
	close(remote_fd);
	fuzz_xmlcheck_clear(&remote_xc);
	remote_fd = -1;
	while ((fd = accept4(tcp_lfd, NULL, NULL, SOCK_CLOEXEC)) != -1)
		close(fd);
	for (i = 0; i < nvalid; i++)
		free(valid_pairs[i]);
	nvalid = 0;
	return 0;
}
