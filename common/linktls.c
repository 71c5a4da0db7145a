/*
 * TLS for remote links (linktls.h). Both ends prove a key (the same
 * pre-shared one, or their certificate's): the handshake succeeds only
 * if each does, so a peer that fails it was never authenticated and is
 * never read as a link.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linktls.h"
#include "log.h"
#include "util.h"

/*
 * An ephemeral (EC)DH share only: forward secrecy. In TLS 1.3 the key
 * exchanges listed say which PSK modes are allowed; certificates always
 * use (EC)DHE there.
 */
#define LINKTLS_BASE	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL"
#define LINKTLS_PSK	":+ECDHE-PSK:+DHE-PSK"
#define LINKTLS_CERT	":+ECDHE-ECDSA:+ECDHE-RSA"
/* a key file larger than this is not one */
#define LINKTLS_FILE_MAX	(64 * 1024)

/* psk, cert: which ways this end takes */
static int
linktls_prio(struct linktls *t, bool psk, bool cert)
{
	const char	*errpos = NULL, *prio;
	int		 rc;

	prio = psk && cert ? LINKTLS_BASE LINKTLS_PSK LINKTLS_CERT :
	    psk ? LINKTLS_BASE LINKTLS_PSK : LINKTLS_BASE LINKTLS_CERT;
	if ((rc = gnutls_global_init()) < 0) {
		log_warnx("link tls: init: %s", gnutls_strerror(rc));
		return -1;
	}
	if ((rc = gnutls_priority_init(&t->prio, prio, &errpos)) < 0) {
		log_warnx("link tls: priority: %s", gnutls_strerror(rc));
		gnutls_global_deinit();
		return -1;
	}
	return 0;
}

/* the first that applies is said: where it comes from before its dates */
static const struct {
	unsigned	 bit;
	const char	*why;
} linktls_whys[] = {
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, "its issuer is not link-ca" },
	{ GNUTLS_CERT_SIGNER_NOT_CA, "its issuer is not a CA" },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, "a bad signature" },
	{ GNUTLS_CERT_REVOKED, "revoked" },
	{ GNUTLS_CERT_EXPIRED, "expired" },
	{ GNUTLS_CERT_NOT_ACTIVATED, "not valid yet" },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, "an insecure algorithm" },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, "not link-router-name's" },
};

const char *
linktls_status_why(unsigned status)
{
	size_t	i;

	for (i = 0; i < nitems(linktls_whys); i++)
		if (status & linktls_whys[i].bit)
			return linktls_whys[i].why;
	return "not trusted";
}

const char *
linktls_cert_name(gnutls_x509_crt_t crt, const char *peers, char *buf,
    size_t len)
{
	const char	*rest = peers, *s;
	size_t		 n;

	while (list_next(&rest, &s, &n)) {
		if (n == 0 || n >= len)
			continue;
		memcpy(buf, s, n);
		buf[n] = '\0';
		/* RFC 6125 6.4: a wildcard would take a whole zone in */
		if (gnutls_x509_crt_check_hostname2(crt, buf,
		    GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS))
			return buf;
	}
	return NULL;
}

/* the peer's first certificate, or NULL */
static gnutls_x509_crt_t
linktls_peer_crt(gnutls_session_t s)
{
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	unsigned		 n = 0;

	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 ||
	    (certs = gnutls_certificate_get_peers(s, &n)) == NULL || n == 0)
		return NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/*
 * Runs in the handshake, after the peer's certificate arrived: the chain
 * against link-ca (and, on a remote host, the router's name), then on the
 * router a name of link-peers. A refusal ends the handshake before any
 * record is read, and says why in t->why.
 */
static int
linktls_verify(gnutls_session_t s)
{
	struct linktls		*t = gnutls_session_get_ptr(s);
	gnutls_x509_crt_t	 crt;
	unsigned		 status = 0;
	char			 name[256];
	bool			 ok;

	t->why_session = s;
	t->why[0] = '\0';
	if ((crt = linktls_peer_crt(s)) == NULL) {
		snprintf(t->why, sizeof(t->why), "no certificate");
		return -1;
	}
	if (gnutls_certificate_verify_peers3(s, t->server ? NULL : t->name,
	    &status) < 0 || status != 0) {
		snprintf(t->why, sizeof(t->why), "%s",
		    linktls_status_why(status));
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	ok = !t->server || linktls_cert_name(crt, t->peers, name,
	    sizeof(name)) != NULL;
	gnutls_x509_crt_deinit(crt);
	if (!ok) {
		snprintf(t->why, sizeof(t->why), "no name of link-peers");
		return -1;
	}
	return 0;
}

/* RFC 8446 4.2.11: the extension a TLS 1.3 client offers a PSK in */
#define LINKTLS_EXT_PSK	41

static int
linktls_hello_ext(void *ctx, unsigned id, const unsigned char *data,
    unsigned len)
{
	struct linktls	*t = ctx;

	(void)data;
	(void)len;
	if (id == LINKTLS_EXT_PSK)
		snprintf(t->why, sizeof(t->why), "a key offered, and "
		    "link-psk-file is not set");
	return 0;
}

/*
 * A router without link-psk-file notes a client's PSK: a host set up for
 * keys gives up when asked for a certificate, and the router's log
 * should say that rather than that the connection was closed.
 */
static int
linktls_hello_hook(gnutls_session_t s, unsigned type, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	struct linktls	*t = gnutls_session_get_ptr(s);

	(void)type;
	(void)when;
	if (!incoming)
		return 0;
	t->why_session = s;
	t->why[0] = '\0';
	(void)gnutls_ext_raw_parse(t, linktls_hello_ext, msg,
	    GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
	return 0;
}

static int
linktls_cert_load(const struct conf *c, gnutls_certificate_credentials_t *out)
{
	gnutls_certificate_credentials_t	cr;
	const char				*file = c->link_ca;
	int					rc;

	if ((rc = gnutls_certificate_allocate_credentials(&cr)) < 0) {
		log_warnx("link tls: credentials: %s", gnutls_strerror(rc));
		return -1;
	}
	if ((rc = gnutls_certificate_set_x509_trust_file(cr, c->link_ca,
	    GNUTLS_X509_FMT_PEM)) == 0)
		rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (rc > 0) {
		file = c->link_cert;
		rc = gnutls_certificate_set_x509_key_file(cr, c->link_cert,
		    c->link_key, GNUTLS_X509_FMT_PEM);
	}
	if (rc < 0) {
		log_warnx("link tls: %s: %s", file, gnutls_strerror(rc));
		gnutls_certificate_free_credentials(cr);
		return -1;
	}
	gnutls_certificate_set_verify_function(cr, linktls_verify);
	*out = cr;
	return 0;
}

/*
 * The names this end checks the peer's certificate against, copied: a
 * reload swaps the struct conf they come from
 */
static void
linktls_names(struct linktls *t, const char *names)
{
	char	**p = t->server ? &t->peers : &t->name;

	free(*p);
	*p = xstrdup(names);
}

/* what certificate links need beyond the PSK part; -1 logged */
static int
linktls_cert_init(struct linktls *t, const struct conf *c)
{
	const char	*need = t->server ? c->link_peers : c->link_router_name;

	if (need == NULL) {
		log_warnx("%s: link-cert needs %s", c->path, t->server ?
		    "link-peers on the router" : "link-router-name");
		return -1;
	}
	if (linktls_cert_load(c, &t->cert) == -1)
		return -1;
	linktls_names(t, need);
	return 0;
}

int
linktls_server_init(struct linktls *t, const struct conf *c)
{
	int	rc;

	memset(t, 0, sizeof(*t));
	t->server = true;
	if (c->link_psk_file == NULL && c->link_cert == NULL) {
		log_warnx("%s: link-listen needs link-psk-file or link-cert",
		    c->path);
		return -1;
	}
	if (linktls_prio(t, c->link_psk_file != NULL,
	    c->link_cert != NULL) == -1)
		return -1;
	if (c->link_cert != NULL && linktls_cert_init(t, c) == -1) {
		linktls_clear(t);
		return -1;
	}
	if (c->link_psk_file == NULL)
		return 0;
	if ((rc = gnutls_psk_allocate_server_credentials(&t->srv)) < 0 ||
	    (rc = gnutls_psk_set_server_credentials_file(t->srv,
	    c->link_psk_file)) < 0) {
		log_warnx("link tls: %s: %s", c->link_psk_file,
		    gnutls_strerror(rc));
		linktls_clear(t);
		return -1;
	}
	return 0;
}

/* the whole file, NUL-terminated, or NULL (logged) */
static char *
linktls_read(const char *path)
{
	char	*text;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("link tls: %s", path);
		return NULL;
	}
	text = xmalloc(LINKTLS_FILE_MAX + 1);
	while (len < LINKTLS_FILE_MAX && (n = read(fd, text + len,
	    LINKTLS_FILE_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("link tls: %s", path);
			close(fd);
			free(text);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	return text;
}

int
linktls_find_key(const char *text, const char *identity, unsigned char *key,
    size_t *keylen)
{
	gnutls_datum_t	 hex;
	const char	*line, *end, *colon;
	size_t		 idlen = strlen(identity), n;

	for (line = text; *line != '\0'; line = *end == '\0' ? end : end + 1) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		colon = memchr(line, ':', (size_t)(end - line));
		if (colon == NULL || (size_t)(colon - line) != idlen ||
		    memcmp(line, identity, idlen) != 0)
			continue;
		n = (size_t)(end - colon - 1);
		if (n > 0 && colon[n] == '\r')
			n--;
		if (n == 0 || n > 2 * LINKTLS_KEY_MAX)
			return -1;
		hex.data = (unsigned char *)(uintptr_t)(colon + 1);
		hex.size = (unsigned)n;
		*keylen = LINKTLS_KEY_MAX;
		if (gnutls_hex_decode(&hex, key, keylen) < 0)
			return -1;
		return 0;
	}
	return -1;
}

int
linktls_client_init(struct linktls *t, const struct conf *c)
{
	unsigned char	 key[LINKTLS_KEY_MAX];
	gnutls_datum_t	 k;
	size_t		 keylen = 0;
	char		*text;
	int		 rc;

	memset(t, 0, sizeof(*t));
	if (c->link_cert != NULL) {
		if (linktls_prio(t, false, true) == -1)
			return -1;
		if (linktls_cert_init(t, c) == -1) {
			linktls_clear(t);
			return -1;
		}
		return 0;
	}
	if (c->link_psk_file == NULL || c->link_psk_identity == NULL) {
		log_warnx("%s: router-address needs link-psk-file and "
		    "link-psk-identity", c->path);
		return -1;
	}
	if ((text = linktls_read(c->link_psk_file)) == NULL)
		return -1;
	rc = linktls_find_key(text, c->link_psk_identity, key, &keylen);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc == -1) {
		log_warnx("link tls: %s: no usable key for \"%s\"",
		    c->link_psk_file, c->link_psk_identity);
		return -1;
	}
	if (linktls_prio(t, true, false) == -1) {
		explicit_bzero(key, sizeof(key));
		return -1;
	}
	k.data = key;
	k.size = (unsigned)keylen;
	if ((rc = gnutls_psk_allocate_client_credentials(&t->cli)) < 0 ||
	    (rc = gnutls_psk_set_client_credentials(t->cli,
	    c->link_psk_identity, &k, GNUTLS_PSK_KEY_RAW)) < 0) {
		log_warnx("link tls: credentials: %s", gnutls_strerror(rc));
		explicit_bzero(key, sizeof(key));
		linktls_clear(t);
		return -1;
	}
	explicit_bzero(key, sizeof(key));
	return 0;
}

int
linktls_reload(struct linktls *t, const struct conf *c)
{
	gnutls_certificate_credentials_t	 cr;
	const char				*need;

	if ((t->cert == NULL) != (c->link_cert == NULL)) {
		log_warnx("reload: link-cert added or removed; it takes "
		    "effect at the next restart");
		return 0;
	}
	if (t->cert == NULL)
		return 0;
	need = t->server ? c->link_peers : c->link_router_name;
	if (need == NULL || linktls_cert_load(c, &cr) == -1) {
		log_warnx("reload: the link certificate stays");
		return -1;
	}
	t->old = xrealloc(t->old, (t->nold + 1) * sizeof(*t->old));
	t->old[t->nold++] = t->cert;
	t->cert = cr;
	linktls_names(t, need);
	return 0;
}

int
linktls_check(const struct conf *c)
{
	gnutls_certificate_credentials_t	cr;

	if (c->link_cert == NULL)
		return 0;
	if (linktls_cert_load(c, &cr) == -1)
		return -1;
	gnutls_certificate_free_credentials(cr);
	return 0;
}

void
linktls_clear(struct linktls *t)
{
	size_t	i;

	if (t->prio == NULL)
		return;
	if (t->srv != NULL)
		gnutls_psk_free_server_credentials(t->srv);
	if (t->cli != NULL)
		gnutls_psk_free_client_credentials(t->cli);
	if (t->cert != NULL)
		gnutls_certificate_free_credentials(t->cert);
	for (i = 0; i < t->nold; i++)
		gnutls_certificate_free_credentials(t->old[i]);
	free(t->old);
	free(t->peers);
	free(t->name);
	gnutls_priority_deinit(t->prio);
	gnutls_global_deinit();
	memset(t, 0, sizeof(*t));
}

gnutls_session_t
linktls_session(struct linktls *t, int fd)
{
	gnutls_session_t	s;
	int			rc;

	if ((rc = gnutls_init(&s, (t->server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
	    GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL)) < 0) {
		log_warnx("link tls: session: %s", gnutls_strerror(rc));
		return NULL;
	}
	rc = gnutls_priority_set(s, t->prio);
	if (rc >= 0 && (t->srv != NULL || t->cli != NULL))
		rc = gnutls_credentials_set(s, GNUTLS_CRD_PSK, t->server ?
		    (void *)t->srv : (void *)t->cli);
	if (rc >= 0 && t->cert != NULL)
		rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
		    t->cert);
	if (rc < 0) {
		log_warnx("link tls: session setup: %s", gnutls_strerror(rc));
		gnutls_deinit(s);
		return NULL;
	}
	/*
	 * A router with certificates takes no host without one. It names
	 * no CA in its request (RFC 8446 4.2.4): a host would then send no
	 * certificate of another CA, and the log would not say that.
	 */
	if (t->server && t->cert != NULL) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_certificate_send_x509_rdn_sequence(s, 1);
	}
	if (t->server && t->srv == NULL)
		gnutls_handshake_set_hook_function(s,
		    GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE,
		    linktls_hello_hook);
	if (t->why_session == s)	/* the address of a session gone */
		t->why_session = NULL;
	gnutls_session_set_ptr(s, t);
	gnutls_transport_set_int(s, fd);
	return s;
}

const char *
linktls_strerror(gnutls_session_t s, int rc)
{
	struct linktls	*t = gnutls_session_get_ptr(s);

	if (t == NULL)
		return gnutls_strerror(rc);
	if (t->why_session == s && t->why[0] != '\0')
		return t->why;
	/* what each end lacks when the other links the other way */
	if (rc == GNUTLS_E_INSUFFICIENT_CREDENTIALS && t->cli != NULL)
		return "a certificate asked for, and link-cert is not set";
	if (rc == GNUTLS_E_INSUFFICIENT_CREDENTIALS && t->cert == NULL)
		return "no key offered, and link-cert is not set";
	return gnutls_strerror(rc);
}

const char *
linktls_peer(gnutls_session_t s, char *buf, size_t len)
{
	struct linktls		*t = gnutls_session_get_ptr(s);
	gnutls_x509_crt_t	 crt;
	const char		*psk;

	snprintf(buf, len, "?");
	if (gnutls_auth_get_type(s) == GNUTLS_CRD_PSK) {
		if ((psk = gnutls_psk_server_get_username(s)) != NULL)
			snprintf(buf, len, "%s", psk);
		return buf;
	}
	if (t == NULL || t->peers == NULL || (crt = linktls_peer_crt(s)) ==
	    NULL)
		return buf;
	if (linktls_cert_name(crt, t->peers, buf, len) == NULL)
		snprintf(buf, len, "?");
	gnutls_x509_crt_deinit(crt);
	return buf;
}

void
linktls_sockopts(int fd)
{
	int		on = 1, idle = 5, intvl = 2, cnt = 3;
	unsigned	user = 15000;	/* ms: unacknowledged data */

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user,
	    sizeof(user));
}
