/*
 * The router's end of the process links: Unix sockets in the run
 * directory for the c2s and s2s processes (router.sock) and parleyctl
 * (router.ctl), peer credentials checked at accept, LINK_HELLO first
 * (link_hello_recv), then one switch over frame types per role. Processes
 * on other hosts come over TCP (link-listen) and TLS, with a pre-shared
 * key or a certificate (linktls.h): nothing they send is read as a frame
 * before their key is proved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/linktls.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../storage/store.h"
#include "ctl.h"
#include "router.h"

/*
 * Backpressure. While a c2s link's output is above its high-water mark
 * the router reads nothing more from the other c2s links and the s2s
 * link: a frame read makes a bounded amount of output (a fan-out is one
 * frame per link), so no burst driven by what clients or remote servers
 * send can pass a c2s link's cap. The congested link itself is still
 * read (its c2s holds back its own clients), and a congested s2s link
 * pauses nobody: stanzas for it are refused and bounced (s2s_forward),
 * so a stuck s2s process never stalls local traffic. What is not driven
 * by input, a session's login burst, waits for its own link to drain
 * (sess_burst).
 */
static size_t	rlink_nheld;	/* congested c2s links */
static struct ctimer rlink_watch;	/* runs rlink_flow each second while
					   some are (the process clock) */

/*
 * A c2s that reads nothing for RLINK_STALL_MAX seconds while its link is
 * congested is stuck (stopped, or looping): its link is failed, as the
 * cap would have done, so that it cannot hold up every other c2s.
 */
#define RLINK_STALL_MAX	10.0

static bool
rlink_congested(struct rlink *rl, double now)
{
	if (rl->role != LINK_ROLE_C2S || rl->l->failed ||
	    !link_congested(rl->l)) {
		rl->congested_at = 0;
		return false;
	}
	if (rl->congested_at == 0)
		rl->congested_at = now;
	else if (now - rl->congested_at > RLINK_STALL_MAX) {
		link_fail(rl->l, "output not read for %.0f s",
		    RLINK_STALL_MAX);
		return false;
	}
	return true;
}

static void
rlink_watch_cb(struct ctimer *t)
{
	(void)t;
	(void)rlink_flow();	/* re-arms it while a link is congested */
}

bool
rlink_flow(void)
{
	struct rlink	*rl;
	double		 now = clock_now();
	size_t		 n = 0;
	bool		 resumed = false, pause;

	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rlink_congested(rl, now))
			n++;
	if (n == 0 && rlink_nheld == 0)
		return false;
	if (n != rlink_nheld)
		log_debug("%zu c2s links congested", n);
	rlink_nheld = n;
	if (n > 0 && !ctimer_active(&rlink_watch)) {
		ctimer_start(&rlink_watch, 1.0);
	} else if (n == 0)
		ctimer_stop(&rlink_watch);
	for (rl = router.links; rl != NULL; rl = rl->next) {
		if (rl->role == LINK_ROLE_CTL || rl->l->failed)
			continue;
		/*
		 * The congested link too: one frame may make output in
		 * proportion to a room or a roster (a group chat join sends
		 * the newcomer every occupant), so a batch of such frames
		 * read from the link it writes to would pass its cap. Its
		 * c2s keeps reading our frames, so the queue drains.
		 */
		pause = n > 0;
		if (rl->l->paused && !pause)
			resumed = true;
		link_pause(rl->l, pause);
	}
	return resumed;
}

static void
rlink_drained(struct link *l, void *ctx)
{
	(void)l;
	sess_burst_resume(ctx);
}

/* remote links */
static struct linktls	 rlink_tls;
static ev_io		*rlink_lsn;	/* one per link-listen address */
static size_t		 rlink_nlsn;
static size_t		 rlink_npreauth;	/* handshakes under way */

static void
rlink_closed(struct link *l, const char *why, void *ctx)
{
	struct rlink	*rl = ctx;

	(void)l;
	if (rl->preauth) {
		rlink_npreauth--;
		log_info("%s: refused: %s", l->name, why);
	} else if (rl->role == LINK_ROLE_C2S) {
		log_warnx("c2s[%u] link closed: %s", rl->instance, why);
		boshrelay_link_lost(rl);
	}
	else if (rl->role == LINK_ROLE_S2S)
		log_warnx("s2s link closed: %s", why);
	else if (rl->role == LINK_ROLE_PROXY)
		log_warnx("proxy link closed: %s", why);
	else
		log_debug("%s link closed: %s", l->name, why);
	sess_end_all(rl);
	map_free(rl->sess, NULL);
	free(rl->wait);
	if (router.s2s == rl)
		router.s2s = NULL;
	if (router.proxy == rl) {
		router.proxy = NULL;
		proxy_link_lost();
	}
	if (rl->prev != NULL)
		rl->prev->next = rl->next;
	else
		router.links = rl->next;
	if (rl->next != NULL)
		rl->next->prev = rl->prev;
	restart_link_gone(rl);	/* after it left the list */
	free(rl);
}

static void
auth_get(struct rlink *rl, const struct link_hdr *h, struct link_in *in)
{
	struct scram_creds	 c;
	struct link_out		 m;
	char			 node[JID_PART_MAX + 1], dom[JID_PART_MAX + 1];
	char			 dev[LINK_DEVICE_MAX + 1], *fast = NULL;
	size_t			 flen = 0;
	uint32_t		 req, status = LINK_AUTH_OK;
	int			 disabled;

	link_get_u32(in, &req);
	link_get_str(in, node, sizeof(node));
	link_get_str(in, dom, sizeof(dom));
	link_get_str(in, dev, sizeof(dev));
	if (!link_in_done(in)) {
		link_fail(rl->l, "bad LINK_AUTH_GET");
		return;
	}
	if (store_account_get(router.store, node, dom, &c) == -1)
		status = errno == ENOENT ? LINK_AUTH_NO_USER :
		    LINK_AUTH_FAILED;
	else if ((disabled = store_account_disabled(router.store, node,
	    dom)) != 0)
		status = disabled == 1 ? LINK_AUTH_DISABLED :
		    LINK_AUTH_FAILED;
	/* XEP-0484: the device's token hashes come with the credentials */
	if (status == LINK_AUTH_OK && dev[0] != '\0' &&
	    store_doc_get(router.store, DOC_FAST, node, dom, dev, &fast,
	    &flen) == -1 && errno != ENOENT)
		status = LINK_AUTH_FAILED;
	link_begin(&m, rl->l, LINK_AUTH_CRED, h->sid);
	link_put_u32(&m, req);
	link_put_u32(&m, status);
	if (status == LINK_AUTH_OK) {
		cred_put(&m, &c);
		link_put_strn(&m, fast != NULL ? fast : "", flen);
	}
	link_end(&m);
	explicit_bzero(&c, sizeof(c));
	free(fast);
}

/*
 * XEP-0484: a device's token hashes, written for the c2s (the only
 * writer of storage is the router). Deferred: the c2s has sent its
 * <success/> without waiting for this, so a commit and a sync of its own
 * per login bought nothing; the logins of one loop iteration share one.
 */
static int
fast_put(const struct link_hdr *h, struct link_in *in)
{
	char		 node[JID_PART_MAX + 1], dom[JID_PART_MAX + 1];
	char		 dev[LINK_DEVICE_MAX + 1];
	const char	*rec;
	size_t		 len;

	(void)h;
	link_get_str(in, node, sizeof(node));
	link_get_str(in, dom, sizeof(dom));
	link_get_str(in, dev, sizeof(dev));
	link_get_strn(in, &rec, &len);
	if (!link_in_done(in) || dev[0] == '\0' || len > LINK_FAST_MAX)
		return -1;
	if (store_doc_put_later(router.store, DOC_FAST, node, dom, dev,
	    len > 0 ? rec : NULL, len) == -1)
		log_warnx("store: FAST token of %s@%s not written",
		    log_esc(node, strlen(node)), log_esc(dom, strlen(dom)));
	return 0;
}

/*
 * XEP-0480: the SHA-256 credentials a client gave for an account that
 * has SHA-1 ones only (imported, docs/internals.md "Migration"); the c2s
 * derived them from the salted password and checked their shape. Added
 * beside the SHA-1 set, never in place of any.
 */
static int
auth_upgrade(struct rlink *rl, const struct link_hdr *h, struct link_in *in)
{
	struct link_out		 m;
	struct scram_cred	 c;
	char			 node[JID_PART_MAX + 1], dom[JID_PART_MAX + 1];
	const char		*salt, *sk, *vk;
	size_t			 saltlen, sklen, vklen, hlen;
	int			 rc;

	hlen = scram_hash_len(SCRAM_SHA256);
	memset(&c, 0, sizeof(c));
	link_get_str(in, node, sizeof(node));
	link_get_str(in, dom, sizeof(dom));
	link_get_u32(in, &c.iter);
	link_get_strn(in, &salt, &saltlen);
	link_get_strn(in, &sk, &sklen);
	link_get_strn(in, &vk, &vklen);
	if (!link_in_done(in) || c.iter == 0 || c.iter > SCRAM_ITER_MAX ||
	    salt == NULL || saltlen == 0 || saltlen > SCRAM_SALT_MAX ||
	    sk == NULL || vk == NULL || sklen != hlen || vklen != hlen)
		return -1;
	c.saltlen = (uint8_t)saltlen;
	memcpy(c.salt, salt, saltlen);
	memcpy(c.stored_key, sk, hlen);
	memcpy(c.server_key, vk, hlen);
	rc = store_account_upgrade(router.store, node, dom, SCRAM_SHA256, &c);
	explicit_bzero(&c, sizeof(c));
	if (rc == -1)
		log_warnx("store: SHA-256 credentials of %s@%s not written",
		    log_esc(node, strlen(node)), log_esc(dom, strlen(dom)));
	else
		log_info("%016llx %s@%s: SHA-256 credentials %s (XEP-0480)",
		    (unsigned long long)h->sid, log_esc(node, strlen(node)),
		    log_esc(dom, strlen(dom)), rc == 1 ? "added" :
		    "present already, kept");
	/* the c2s sends <success/> once the write is done */
	link_begin(&m, rl->l, LINK_AUTH_UPGRADED, h->sid);
	link_put_u32(&m, rc == -1 ? LINK_AUTH_FAILED : LINK_AUTH_OK);
	link_end(&m);
	return 0;
}

static int
c2s_frame(struct rlink *rl, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	struct rstanza	 rs;
	struct sess	*s;
	struct link_stanza ls;
	uint32_t	 flags;
	char		 jid[JID_STR_MAX + 1];
	char		 to[JID_STR_MAX + 1];

	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_AUTH_GET:
		auth_get(rl, h, &in);
		return 0;
	case LINK_FAST_PUT:
		return fast_put(h, &in);
	case LINK_AUTH_UPGRADE:
		return auth_upgrade(rl, h, &in);
	case LINK_SESS_BEGIN:
		link_get_str(&in, jid, sizeof(jid));
		link_get_u32(&in, &flags);
		if (!link_in_done(&in))
			return -1;
		router.logins++;
		sess_begin(rl, h->sid, jid);
		return 0;
	case LINK_AUTH_FAIL:
		if (h->len != 0)
			return -1;
		router.auth_failures++;
		return 0;
	case LINK_METRICS_GET:
		return metrics_frame(rl, h, payload);
	case LINK_SESS_END:
		if ((s = sess_find(rl, h->sid)) == NULL)
			return 0;
		if (h->flags & LINK_F_SESS_LOST)
			sess_lost(s);
		else
			sess_end(s);
		return 0;
	case LINK_SM_ENABLE:
	case LINK_SM_ACK:
	case LINK_SM_RESUME:
		return sm_frame(rl, h, payload);
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		if (!link_in_done(&in) || ls.from == NULL ||
		    !stanza_kind_type_valid(ls.kind, ls.type) ||
		    (ls.to != NULL &&
		    !link_strcpy(to, sizeof(to), ls.to, ls.tolen)))
			return -1;
		if ((s = sess_find(rl, h->sid)) == NULL) {
			log_debug("stanza from unknown session %016llx",
			    (unsigned long long)h->sid);
			return 0;
		}
		if (s->sm != NULL)
			sm_inbound(s);
		memset(&rs, 0, sizeof(rs));
		rs.to = ls.to != NULL ? to : NULL;
		rs.from = s->full;	/* the session's, whatever was sent */
		rs.xml = ls.xml;
		rs.xlen = ls.xlen;
		rs.sender = s;
		rs.kind = ls.kind;
		rs.type = ls.type;
		if (!(h->flags & LINK_F_MUC_REJOIN)) {
			deliver_stanza(&rs);
			return 0;
		}
		/* c2s/rejoin.c: a room's join again, after a crash */
		if (ls.kind != KIND_PRESENCE || ls.type != PRES_AVAILABLE ||
		    ls.to == NULL)
			return -1;
		muc_rejoining(true);
		deliver_stanza(&rs);
		muc_rejoining(false);
		return 0;
	case LINK_REG_ADD:
		return register_frame(rl, h, payload);
	case LINK_BOSH_FWD:
	case LINK_BOSH_ANSWER:
		return boshrelay_frame(rl, h, payload);
	default:
		log_warnx("c2s[%u] sent unexpected %s", rl->instance,
		    link_msg_name(h->type));
		return -1;
	}
}

/*
 * Session ids carry the instance: two processes with one instance would
 * mix their sessions (two remote hosts with overlapping instance-base, or
 * a host that reconnects before the router noticed its old link died:
 * it retries until the old one is gone).
 */
static bool
rlink_instance_taken(const struct rlink *self, uint32_t role,
    uint32_t instance)
{
	const struct rlink	*rl;

	if (role != LINK_ROLE_C2S)
		return false;
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl != self && rl->role == LINK_ROLE_C2S &&
		    rl->l->hello_heard && !rl->l->failed &&
		    rl->instance == instance)
			return true;
	return false;
}

/*
 * The keys a c2s shares with us, first after our LINK_HELLO, so that they
 * are there before any answer to a login: one path for a c2s on this host
 * and one on another, which has no copy of our data directory. A link
 * over TCP is TLS, with its key proved, before any frame is read.
 */
static void
rlink_secrets(struct link *l)
{
	struct link_out	m;

	link_begin(&m, l, LINK_SECRETS, 0);
	link_put_secrets(&m, &router.secrets);
	link_end(&m);
}

static int
rlink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct rlink	*rl = ctx;
	int		 rc;

	if (!l->hello_heard) {
		/* the process socket serves the c2s and the s2s processes */
		if (link_hello_recv(l, h, payload, rl->role == LINK_ROLE_CTL ?
		    LINK_ROLE_BIT(LINK_ROLE_CTL) :
		    LINK_ROLE_BIT(LINK_ROLE_C2S) | LINK_ROLE_BIT(LINK_ROLE_S2S) |
		    LINK_ROLE_BIT(LINK_ROLE_PROXY),
		    LINK_ROLE_ROUTER) == -1)
			return -1;
		if (rlink_instance_taken(rl, l->peer.role,
		    l->peer.instance))
			return link_fail(l, "c2s[%u] is already connected",
			    l->peer.instance);
		rl->role = (enum link_role)l->peer.role;
		rl->instance = l->peer.instance;
		snprintf(l->name, sizeof(l->name), "%s[%u]",
		    rl->role == LINK_ROLE_C2S ? "c2s" :
		    rl->role == LINK_ROLE_S2S ? "s2s" :
		    rl->role == LINK_ROLE_PROXY ? "proxy" : "ctl", rl->instance);
		if (rl->role == LINK_ROLE_C2S) {
			log_info("c2s[%u] connected", rl->instance);
			boshrelay_link_up(rl);
		} else if (rl->role == LINK_ROLE_S2S) {
			if (router.s2s != NULL)
				return link_fail(l, "a second s2s process");
			router.s2s = rl;
			log_info("s2s connected");
		} else if (rl->role == LINK_ROLE_PROXY) {
			if (router.proxy != NULL)
				return link_fail(l, "a second proxy process");
			router.proxy = rl;
			log_info("proxy connected");
		}
		link_hello(l, LINK_ROLE_ROUTER, 0);
		if (rl->role == LINK_ROLE_C2S) {
			rlink_secrets(l);
			/* XEP-0115 6.3: the c2s puts our caps in its features */
			caps_announce(l);
		}
		return 0;
	}
	if (rl->role == LINK_ROLE_CTL)
		return ctl_frame(l, h, payload, router.store);
	if (h->type == LINK_QUIESCED)
		return restart_quiesced(rl, h);
	if (restart_stopping()) {
		/* no stanza: the processes hold them for the next router */
		log_debug("%s: %s dropped: restarting", l->name,
		    link_msg_name(h->type));
		return 0;
	}
	rc = rl->role == LINK_ROLE_S2S ? s2s_frame(rl, h, payload) :
	    rl->role == LINK_ROLE_PROXY ? proxy_frame(rl, h, payload) :
	    c2s_frame(rl, h, payload);
	rlink_flow();		/* stops this read at once when congested */
	return rc;
}

static struct rlink *rlink_add(struct ev_loop *, int, enum link_role,
		    const char *, pid_t);

static void
rlink_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	enum link_role	 role;
	int		 fd;

	(void)revents;
	role = w == &router.c2s_io ? LINK_ROLE_C2S : LINK_ROLE_CTL;
	if ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on the %s socket",
			    role == LINK_ROLE_C2S ? "c2s" : "control");
		return;
	}
	/* links are authenticated: only our own user (or root) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		log_warnx("refused a link from uid %d", (int)cred.uid);
		close(fd);
		return;
	}
	(void)rlink_add(loop, fd, role, role == LINK_ROLE_C2S ? "c2s" : "ctl",
	    cred.pid);
}

/*
 * The role is the socket's until the peer's LINK_HELLO says which; pid is
 * the peer's on a Unix socket, 0 over a remote link.
 */
static struct rlink *
rlink_add(struct ev_loop *loop, int fd, enum link_role role, const char *name,
    pid_t pid)
{
	struct rlink	*rl;

	rl = xcalloc(1, sizeof(*rl));
	rl->role = role;
	rl->pid = pid;
	rl->since = clock_wall();
	rl->sess = map_new();
	rl->l = link_new(loop, fd, name, router.conf.link_queue_max,
	    rlink_frame, rlink_closed, rl);
	link_set_drain(rl->l, rlink_drained);
	if (rlink_nheld > 0 && role != LINK_ROLE_CTL)
		link_pause(rl->l, true);
	rl->next = router.links;
	if (router.links != NULL)
		router.links->prev = rl;
	router.links = rl;
	return rl;
}

static void
rlink_secure(struct link *l, void *ctx)
{
	struct rlink	*rl = ctx;
	char		 who[256];

	rl->preauth = false;
	rlink_npreauth--;
	log_info("%s: authenticated as \"%s\" (%s)", l->name,
	    linktls_peer(l->tls, who, sizeof(who)),
	    gnutls_auth_get_type(l->tls) == GNUTLS_CRD_PSK ? "psk" :
	    "certificate");
}

/*
 * A process of another host. Before its handshake it costs a socket,
 * a GnuTLS session and a link with empty buffers; there are at most
 * LINKTLS_PREAUTH_MAX such, each for LINKTLS_HANDSHAKE_TIMEOUT seconds.
 */
static void
rlink_remote_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sockaddr_storage	 ss;
	struct rlink		*rl;
	gnutls_session_t	 s;
	socklen_t		 len = sizeof(ss);
	char			 name[64], host[INET6_ADDRSTRLEN];
	int			 fd;

	(void)revents;
	if ((fd = accept4(w->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on the link port");
		return;
	}
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL,
	    0, NI_NUMERICHOST) != 0)
		snprintf(host, sizeof(host), "?");
	if (rlink_npreauth >= LINKTLS_PREAUTH_MAX) {
		log_warnx("link from %s refused: %d handshakes under way",
		    host, LINKTLS_PREAUTH_MAX);
		close(fd);
		return;
	}
	linktls_sockopts(fd);
	if ((s = linktls_session(&rlink_tls, fd)) == NULL) {
		close(fd);
		return;
	}
	snprintf(name, sizeof(name), "link %.24s", host);
	rl = rlink_add(loop, fd, LINK_ROLE_C2S, name, 0);
	rl->preauth = true;
	rlink_npreauth++;
	rl->l->on_secure = rlink_secure;
	link_start_tls(rl->l, s, LINKTLS_HANDSHAKE_TIMEOUT);
}

static int
rlink_remote_listen(void)
{
	const struct conf_listen	*cl;
	size_t				 i;
	int				 fd;

	for (i = 0; i < router.conf.nlistens; i++) {
		cl = &router.conf.listens[i];
		if (cl->kind != LISTEN_LINK)
			continue;
		if (rlink_nlsn == 0 && linktls_server_init(&rlink_tls,
		    &router.conf) == -1)
			return -1;
		if ((fd = tcp_listen((const struct sockaddr *)&cl->sa,
		    cl->salen, false)) == -1) {
			log_warn("%s:%d: link-listen on %s port %u",
			    router.conf.path, cl->line, cl->addr, cl->port);
			return -1;
		}
		rlink_lsn = xrealloc(rlink_lsn, (rlink_nlsn + 1) *
		    sizeof(*rlink_lsn));
		ev_io_init(&rlink_lsn[rlink_nlsn], rlink_remote_cb, fd,
		    EV_READ);
		ev_io_start(router.loop, &rlink_lsn[rlink_nlsn]);
		rlink_nlsn++;
		log_info("remote links on %s port %u", cl->addr, cl->port);
	}
	return 0;
}

static int
rlink_socket(const char *name, ev_io *w)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    router.conf.rundir, name) >= sizeof(sun.sun_path)) {
		log_warnx("%s: rundir \"%s\" is too long for a socket path",
		    router.conf.path, router.conf.rundir);
		return -1;
	}
	(void)unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0600) == -1 || listen(fd, 128) == -1) {
		log_warn("socket %s", sun.sun_path);
		return -1;
	}
	ev_io_init(w, rlink_accept_cb, fd, EV_READ);
	ev_io_start(router.loop, w);
	return fd;
}

int
rlink_listen(void)
{
	ctimer_init(&rlink_watch, rlink_watch_cb);
	if ((router.c2s_fd = rlink_socket("router.sock", &router.c2s_io)) ==
	    -1 || (router.ctl_fd = rlink_socket("router.ctl",
	    &router.ctl_io)) == -1)
		return -1;
	return rlink_remote_listen();
}

void
rlink_reload(void)
{
	if (rlink_nlsn > 0)
		(void)linktls_reload(&rlink_tls, &router.conf);
}

int
rlink_drain(uint32_t instance, uint32_t grace)
{
	struct rlink	*rl;
	struct link_out	 m;

	for (rl = router.links; rl != NULL; rl = rl->next) {
		if (rl->role != LINK_ROLE_C2S || rl->instance != instance ||
		    !rl->l->hello_heard || rl->l->failed)
			continue;
		log_info("c2s[%u]: draining, grace %u s", instance, grace);
		link_begin(&m, rl->l, LINK_DRAIN, 0);
		link_put_u32(&m, grace);
		return link_end(&m);
	}
	return -1;
}
