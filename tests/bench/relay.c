/*
 * The benchmark's floor: a single-process TLS relay that speaks just
 * enough of the client protocol for the load generator (STARTTLS,
 * SCRAM-SHA-1 that accepts any proof, bind) and then only moves bytes:
 * TLS decrypt, scan a stanza's start tag for "to", one hash lookup, stamp
 * "from", TLS encrypt, and write once per loop iteration. No XML parser,
 * rosters, storage or checks. It is not a server: what it costs is the
 * least any server must pay for the same load.
 *
 *   relay -p PORT -d DOMAIN -c CERT -k KEY [-w PASSWORD]
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "bench.h"

#define HBUCKETS	(1u << 17)
#define IN_MAX		(256 * 1024)

enum rstate { R_HDR1, R_STARTTLS, R_HANDSHAKE, R_HDR2, R_AUTH, R_RESP,
	R_HDR3, R_READY, R_DEAD };

struct rconn {
	int		 fd;
	ev_io		 io;
	enum rstate	 st;
	gnutls_session_t tls;
	bool		 tls_on;
	struct obuf	 in, out;
	bool		 dirty;
	struct rconn	*next_dirty;
	char		*jid;		/* full, after bind */
	size_t		 barelen;
	char		*cfmb;		/* client-first-message-bare */
	char		*sfm;		/* server-first-message */
	struct rconn	*hnext_full, *hnext_bare;
};

static struct ev_loop		*loop;
static gnutls_certificate_credentials_t xcred;
static gnutls_priority_t	 prio;
static const char		*domain = "localhost";
static uint8_t			 server_key[20];
static const uint8_t		 salt[16] = "parley-bench-sal";
static struct rconn		*htab_full[HBUCKETS], *htab_bare[HBUCKETS];
static struct rconn		*dirty;

static void rconn_kill(struct rconn *);

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t	h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h & (HBUCKETS - 1);
}

static void
hash_add(struct rconn *c)
{
	uint32_t	f = hash(c->jid, strlen(c->jid));
	uint32_t	b = hash(c->jid, c->barelen);

	c->hnext_full = htab_full[f];
	htab_full[f] = c;
	c->hnext_bare = htab_bare[b];
	htab_bare[b] = c;
}

static void
hash_del(struct rconn *c)
{
	struct rconn	**pp;

	if (c->jid == NULL)
		return;
	for (pp = &htab_full[hash(c->jid, strlen(c->jid))]; *pp != NULL;
	    pp = &(*pp)->hnext_full)
		if (*pp == c) {
			*pp = c->hnext_full;
			break;
		}
	for (pp = &htab_bare[hash(c->jid, c->barelen)]; *pp != NULL;
	    pp = &(*pp)->hnext_bare)
		if (*pp == c) {
			*pp = c->hnext_bare;
			break;
		}
}

/* a full JID, else the latest session of a bare JID */
static struct rconn *
hash_find(const char *to, size_t n)
{
	struct rconn	*c;
	const char	*slash = memchr(to, '/', n);

	if (slash != NULL) {
		for (c = htab_full[hash(to, n)]; c != NULL; c = c->hnext_full)
			if (strlen(c->jid) == n && memcmp(c->jid, to, n) == 0)
				return c;
		return NULL;
	}
	for (c = htab_bare[hash(to, n)]; c != NULL; c = c->hnext_bare)
		if (c->barelen == n && memcmp(c->jid, to, n) == 0)
			return c;
	return NULL;
}

static void
mark_dirty(struct rconn *c)
{
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = dirty;
		dirty = c;
	}
}

static void
out_str(struct rconn *c, const char *s)
{
	obuf_append(&c->out, s, strlen(s));
	mark_dirty(c);
}

static void
out_printf(struct rconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_printf(struct rconn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	obuf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	mark_dirty(c);
}

static void
send_header(struct rconn *c, const char *features)
{
	out_printf(c, "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' id='r%d' "
	    "from='%s' version='1.0'><stream:features>%s"
	    "</stream:features>", c->fd, domain, features);
}

/*
 * The length of the first complete top-level unit in p[0..n): a stream
 * header (an open tag alone), a closing stream tag, or an element with
 * its children; 0 when incomplete. Assumes well-formed input, which the
 * load generator sends.
 */
static size_t
scan_unit(const char *p, size_t n)
{
	size_t	i = 0, depth = 0;
	char	q;
	bool	header;

	while (i < n && p[i] != '<')
		i++;
	if (i == n)
		return 0;
	header = n - i > 2 && (p[i + 1] == '?' ||
	    strncmp(p + i + 1, "stream:stream", n - i - 1 < 13 ?
	    n - i - 1 : 13) == 0 || p[i + 1] == '/');
	for (; i < n; i++) {
		if (p[i] != '<')
			continue;
		if (i + 1 >= n)
			return 0;
		if (p[i + 1] == '/') {
			while (i < n && p[i] != '>')
				i++;
			if (i == n)
				return 0;
			if (header || --depth == 0)
				return i + 1;
			continue;
		}
		q = 0;
		for (i++; i < n; i++) {
			if (q) {
				if (p[i] == q)
					q = 0;
			} else if (p[i] == '\'' || p[i] == '"')
				q = p[i];
			else if (p[i] == '>')
				break;
		}
		if (i == n)
			return 0;
		if (header)
			return i + 1;
		if (p[i - 1] != '/')
			depth++;
		if (depth == 0)
			return i + 1;
	}
	return 0;
}

/* the value of attribute name in the start tag at p, or NULL */
static const char *
attr(const char *p, size_t n, const char *name, size_t *len)
{
	size_t		 nl = strlen(name), i;
	const char	*end = memchr(p, '>', n), *v;
	char		 q;

	if (end == NULL)
		return NULL;
	for (i = 1; p + i + nl + 2 < end; i++) {
		if (p[i - 1] != ' ' || memcmp(p + i, name, nl) != 0 ||
		    p[i + nl] != '=')
			continue;
		q = p[i + nl + 1];
		v = p + i + nl + 2;
		end = memchr(v, q, (size_t)(end - v));
		if (end == NULL)
			return NULL;
		*len = (size_t)(end - v);
		return v;
	}
	return NULL;
}

/* the text between <tag> and </tag> in p, NUL-terminated copy */
static char *
text_of(const char *p, size_t n, const char *tag)
{
	char		 open[32], close_[32];
	const char	*a, *b;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close_, sizeof(close_), "</%s>", tag);
	if ((a = memmem(p, n, open, strlen(open))) == NULL ||
	    (a = memchr(a, '>', n - (size_t)(a - p))) == NULL ||
	    (b = memmem(a, n - (size_t)(a - p), close_, strlen(close_))) ==
	    NULL)
		return NULL;
	a++;
	return strndup(a, (size_t)(b - a));
}

/* data, base64-encoded, as the text of the SASL element name */
static void
sasl_send(struct rconn *c, const char *name, const char *data)
{
	char	enc[1024];

	b64_encode((const uint8_t *)data, strlen(data), enc, sizeof(enc));
	out_printf(c, "<%s xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</%s>",
	    name, enc, name);
}

/*
 * The base64 text of element name, decoded into out (NUL-terminated);
 * -1 when there is none or it does not fit: the connection is killed.
 */
static int
text_b64(struct rconn *c, const char *p, size_t n, const char *name,
    char *out, size_t max)
{
	char	*b64 = text_of(p, n, name);
	size_t	 len;

	if (b64 == NULL || (len = b64_decode(b64, (uint8_t *)out,
	    max - 1)) == (size_t)-1) {
		free(b64);
		rconn_kill(c);
		return -1;
	}
	free(b64);
	out[len] = '\0';
	return 0;
}

static void
sasl_auth(struct rconn *c, const char *p, size_t n)
{
	char		 first[512], *r;
	char		 sfm[512], salt64[64], nonce[32];
	uint8_t		 rnd[12];

	if (text_b64(c, p, n, "auth", first, sizeof(first)) == -1)
		return;
	/* gs2 header "n,," then the bare message */
	if (strncmp(first, "n,,", 3) != 0 ||
	    (r = strstr(first, ",r=")) == NULL) {
		rconn_kill(c);
		return;
	}
	c->cfmb = strdup(first + 3);
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd));
	b64_encode(rnd, sizeof(rnd), nonce, sizeof(nonce));
	b64_encode(salt, sizeof(salt), salt64, sizeof(salt64));
	snprintf(sfm, sizeof(sfm), "r=%s%s,s=%s,i=4096", r + 3, nonce,
	    salt64);
	c->sfm = strdup(sfm);
	sasl_send(c, "challenge", sfm);
	c->st = R_RESP;
}

static void
sasl_response(struct rconn *c, const char *p, size_t n)
{
	char		 final[512], *pr;
	char		 am[1500], v[64];
	uint8_t		 sig[20];

	if (text_b64(c, p, n, "response", final, sizeof(final)) == -1)
		return;
	if ((pr = strstr(final, ",p=")) == NULL) {
		rconn_kill(c);
		return;
	}
	*pr = '\0';
	/* any proof is accepted; the signature lets the client check us */
	snprintf(am, sizeof(am), "%s,%s,%s", c->cfmb, c->sfm, final);
	gnutls_hmac_fast(GNUTLS_MAC_SHA1, server_key, 20, am, strlen(am),
	    sig);
	memcpy(v, "v=", 2);
	b64_encode(sig, 20, v + 2, sizeof(v) - 2);
	sasl_send(c, "success", v);
	c->st = R_HDR3;
}

static void
do_bind(struct rconn *c, const char *p, size_t n)
{
	char		*res = text_of(p, n, "resource"), *user, *e;
	const char	*id;
	size_t		 idlen = 0;

	id = attr(p, n, "id", &idlen);
	user = strstr(c->cfmb, "n=");
	if (user == NULL || res == NULL || id == NULL) {
		free(res);
		rconn_kill(c);
		return;
	}
	user += 2;
	if ((e = strchr(user, ',')) != NULL)
		*e = '\0';
	if (asprintf(&c->jid, "%s@%s/%s", user, domain, res) == -1)
		fatal_exit("asprintf");
	c->barelen = strlen(user) + 1 + strlen(domain);
	free(res);
	hash_add(c);
	out_printf(c, "<iq type='result' id='%.*s'><bind "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind>"
	    "</iq>", (int)idlen, id, c->jid);
	c->st = R_READY;
}

/* routes one stanza: stamp from, append to the target's output */
static void
route(struct rconn *c, const char *p, size_t n)
{
	const char	*to, *id, *sp;
	size_t		 tolen = 0, idlen = 0, name;
	struct rconn	*t;

	if (p[1] == '/') {		/* </stream:stream> */
		rconn_kill(c);
		return;
	}
	to = attr(p, n, "to", &tolen);
	if (to == NULL || memchr(to, '@', tolen) == NULL) {
		/* to the server: answer IQs, drop the rest */
		if (n > 3 && memcmp(p, "<iq", 3) == 0 &&
		    attr(p, n, "type", &idlen) != NULL &&
		    (id = attr(p, n, "id", &idlen)) != NULL &&
		    memmem(p, n, "type='result'", 13) == NULL)
			out_printf(c, "<iq type='result' id='%.*s'/>",
			    (int)idlen, id);
		return;
	}
	if ((t = hash_find(to, tolen)) == NULL || t->st != R_READY)
		return;
	for (sp = p + 1; sp < p + n && *sp != ' ' && *sp != '>' &&
	    *sp != '/'; sp++)
		;
	name = (size_t)(sp - p);
	obuf_append(&t->out, p, name);
	obuf_append(&t->out, " from='", 7);
	obuf_append(&t->out, c->jid, strlen(c->jid));
	obuf_append(&t->out, "'", 1);
	obuf_append(&t->out, p + name, n - name);
	mark_dirty(t);
}

static void
handle(struct rconn *c, const char *p, size_t n)
{
	switch (c->st) {
	case R_HDR1:
		if (p[1] != '?')
			send_header(c, "<starttls xmlns='urn:ietf:params:xml:"
			    "ns:xmpp-tls'><required/></starttls>"),
			    c->st = R_STARTTLS;
		break;
	case R_STARTTLS:
		out_str(c, "<proceed xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-tls'/>");
		c->st = R_HANDSHAKE;
		break;
	case R_HDR2:
		if (p[1] != '?')
			send_header(c, "<mechanisms xmlns='urn:ietf:params:"
			    "xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1"
			    "</mechanism></mechanisms>"), c->st = R_AUTH;
		break;
	case R_AUTH:
		sasl_auth(c, p, n);
		break;
	case R_RESP:
		sasl_response(c, p, n);
		break;
	case R_HDR3:
		if (p[1] == '?')
			break;
		if (memmem(p, n, "<bind", 5) != NULL) {
			do_bind(c, p, n);
			break;
		}
		send_header(c, "<bind xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-bind'/>");
		break;
	case R_READY:
		route(c, p, n);
		break;
	default:
		break;
	}
}

static void
flush(struct rconn *c)
{
	const char	*why;

	if (c->st != R_DEAD &&
	    obuf_send(&c->out, c->fd, c->tls_on ? c->tls : NULL, &why) == -1)
		rconn_kill(c);
}

static void
set_events(struct rconn *c)
{
	int	ev = EV_READ;

	if (c->st == R_DEAD)
		return;
	if (c->st == R_HANDSHAKE && c->tls != NULL)
		ev = gnutls_record_get_direction(c->tls) ? EV_WRITE : EV_READ;
	else if (c->out.off < c->out.len)
		ev |= EV_WRITE;
	if ((c->io.events & (EV_READ | EV_WRITE)) != ev) {
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, ev);
		ev_io_start(loop, &c->io);
	}
}

static void
tls_start(struct rconn *c)
{
	gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK);
	gnutls_priority_set(c->tls, prio);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, xcred);
	gnutls_transport_set_int(c->tls, c->fd);
}

static void
handshake(struct rconn *c)
{
	int	rc = gnutls_handshake(c->tls);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return;
	if (rc < 0) {
		rconn_kill(c);
		return;
	}
	c->tls_on = true;
	c->st = R_HDR2;
}

static void
process_input(struct rconn *c)
{
	size_t	u;

	while (c->st != R_DEAD && c->st != R_HANDSHAKE &&
	    (u = scan_unit(c->in.data + c->in.off,
	    c->in.len - c->in.off)) > 0) {
		handle(c, c->in.data + c->in.off, u);
		c->in.off += u;
	}
	if (c->in.off == c->in.len)
		c->in.off = c->in.len = 0;
	if (c->in.len - c->in.off > IN_MAX)
		rconn_kill(c);
}

static void
rconn_read(struct rconn *c)
{
	ssize_t	n;
	int	i;

	for (i = 0; i < 8 && c->st != R_DEAD; i++) {
		if (c->st == R_HANDSHAKE) {
			if (c->tls == NULL) {
				flush(c);	/* the proceed goes out in clear */
				tls_start(c);
			}
			handshake(c);
			if (c->st == R_HANDSHAKE)
				return;
			continue;
		}
		obuf_reserve(&c->in, 16384);
		if (c->tls_on)
			n = gnutls_record_recv(c->tls, c->in.data + c->in.len,
			    16384);
		else
			n = recv(c->fd, c->in.data + c->in.len, 16384, 0);
		if ((c->tls_on && (n == GNUTLS_E_AGAIN ||
		    n == GNUTLS_E_INTERRUPTED)) ||
		    (!c->tls_on && n == -1 && errno == EAGAIN))
			return;
		if (n <= 0) {
			rconn_kill(c);
			return;
		}
		c->in.len += (size_t)n;
		process_input(c);
		if (c->tls_on && gnutls_record_check_pending(c->tls) > 0)
			i--;
	}
}

static void
rconn_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct rconn	*c = (struct rconn *)((char *)w -
	    offsetof(struct rconn, io));

	(void)l;
	if (c->st == R_HANDSHAKE) {
		rconn_read(c);
	} else {
		if (revents & EV_READ)
			rconn_read(c);
		if (revents & EV_WRITE)
			flush(c);
	}
	if (c->st == R_HANDSHAKE && c->tls == NULL)
		rconn_read(c);
	set_events(c);
	if (c->st == R_DEAD && !c->dirty)
		mark_dirty(c);
}

static void
rconn_kill(struct rconn *c)
{
	if (c->st == R_DEAD)
		return;
	c->st = R_DEAD;
	hash_del(c);
	ev_io_stop(loop, &c->io);
	mark_dirty(c);		/* freed in the prepare pass */
}

static void
rconn_free(struct rconn *c)
{
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	close(c->fd);
	free(c->in.data);
	free(c->out.data);
	free(c->jid);
	free(c->cfmb);
	free(c->sfm);
	free(c);
}

/* once per loop iteration: every buffer written, every dead conn freed */
static void
prepare_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	struct rconn	*c, *next;

	(void)l;
	(void)w;
	(void)revents;
	while ((c = dirty) != NULL) {
		dirty = NULL;
		for (; c != NULL; c = next) {
			next = c->next_dirty;
			c->dirty = false;
			if (c->st != R_DEAD && c->st != R_HANDSHAKE) {
				flush(c);
				set_events(c);
			}
			if (c->st == R_DEAD)
				rconn_free(c);
		}
	}
}

static void
accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct rconn	*c;
	int		 fd, one = 1, i;

	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			fatal_exit("calloc");
		c->fd = fd;
		c->st = R_HDR1;
		ev_io_init(&c->io, rconn_cb, fd, EV_READ);
		ev_io_start(l, &c->io);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa;
	struct rlimit		 rl;
	const char		*cert = NULL, *key = NULL, *pw = "bench";
	const char		*host = "127.0.0.1";
	uint8_t			 salted[20];
	gnutls_datum_t		 kd, sd;
	ev_io			 lio;
	ev_prepare		 prep;
	int			 ch, fd, one = 1, port = 5222;

	while ((ch = getopt(argc, argv, "H:p:d:c:k:w:")) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'd': domain = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'w': pw = optarg; break;
		default:
			fprintf(stderr, "usage: relay [-H ADDR] -p PORT "
			    "-d DOMAIN -c CERT -k KEY [-w PASSWORD]\n");
			return 2;
		}
	}
	if (cert == NULL || key == NULL)
		fatal_exit("-c CERT and -k KEY are required");
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	gnutls_global_init();
	if (gnutls_certificate_allocate_credentials(&xcred) < 0 ||
	    gnutls_certificate_set_x509_key_file(xcred, cert, key,
	    GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_priority_init(&prio, "NORMAL", NULL) < 0)
		fatal_exit("TLS setup with %s and %s failed", cert, key);
	/* one salted password for every account, as its signature needs */
	kd.data = (unsigned char *)pw;
	kd.size = (unsigned)strlen(pw);
	sd.data = (unsigned char *)salt;
	sd.size = sizeof(salt);
	if (gnutls_pbkdf2(GNUTLS_MAC_SHA1, &kd, &sd, 4096, salted, 20) < 0)
		fatal_exit("pbkdf2");
	gnutls_hmac_fast(GNUTLS_MAC_SHA1, salted, 20, "Server Key", 10,
	    server_key);

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		fatal_exit("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 4096) == -1)
		fatal_exit("listen %s:%d: %s", host, port, strerror(errno));
	loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&lio, accept_cb, fd, EV_READ);
	ev_io_start(loop, &lio);
	ev_prepare_init(&prep, prepare_cb);
	ev_prepare_start(loop, &prep);
	fprintf(stderr, "relay: listening on %s:%d for %s\n", host, port,
	    domain);
	ev_run(loop, 0);
	return 0;
}
