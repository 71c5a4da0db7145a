/*
 * TLS-PSK for remote links (linktls.h). Both ends hold the same key: the
 * handshake succeeds only if each proves it, so a peer that fails it was
 * never authenticated and is never read as a link.
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

/* PSK with an ephemeral (EC)DH share only: forward secrecy */
#define LINKTLS_PRIORITY	"SECURE128:-VERS-ALL:+VERS-TLS1.3:" \
				"+VERS-TLS1.2:-KX-ALL:+ECDHE-PSK:+DHE-PSK"
/* a key file larger than this is not one */
#define LINKTLS_FILE_MAX	(64 * 1024)

static int
linktls_prio(struct linktls *t)
{
	const char	*errpos = NULL;
	int		 rc;

	if ((rc = gnutls_global_init()) < 0) {
		log_warnx("link tls: init: %s", gnutls_strerror(rc));
		return -1;
	}
	if ((rc = gnutls_priority_init(&t->prio, LINKTLS_PRIORITY,
	    &errpos)) < 0) {
		log_warnx("link tls: priority: %s", gnutls_strerror(rc));
		gnutls_global_deinit();
		return -1;
	}
	return 0;
}

int
linktls_server_init(struct linktls *t, const struct conf *c)
{
	int	rc;

	memset(t, 0, sizeof(*t));
	t->server = true;
	if (c->link_psk_file == NULL) {
		log_warnx("%s: link-listen needs link-psk-file", c->path);
		return -1;
	}
	if (linktls_prio(t) == -1)
		return -1;
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
	if (linktls_prio(t) == -1) {
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

void
linktls_clear(struct linktls *t)
{
	if (t->prio == NULL)
		return;
	if (t->srv != NULL)
		gnutls_psk_free_server_credentials(t->srv);
	if (t->cli != NULL)
		gnutls_psk_free_client_credentials(t->cli);
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
	if ((rc = gnutls_priority_set(s, t->prio)) < 0 ||
	    (rc = gnutls_credentials_set(s, GNUTLS_CRD_PSK, t->server ?
	    (void *)t->srv : (void *)t->cli)) < 0) {
		log_warnx("link tls: session setup: %s", gnutls_strerror(rc));
		gnutls_deinit(s);
		return NULL;
	}
	gnutls_transport_set_int(s, fd);
	return s;
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
