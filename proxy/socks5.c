/*
 * The SOCKS5 handshake of a bytestream proxy connection (RFC 1928 as
 * profiled by XEP-0065 5.3 and 6.3): the parser the fuzz target drives.
 */
#include <stdbool.h>
#include <string.h>

#include "socks5.h"

#define SOCKS5_VER		0x05
#define SOCKS5_NO_AUTH		0x00
#define SOCKS5_NO_METHOD	0xff
#define SOCKS5_CMD_CONNECT	0x01
#define SOCKS5_ATYP_DOMAIN	0x03
/* RFC 1928 6 reply codes */
#define SOCKS5_OK		0x00
#define SOCKS5_FAILURE		0x01
#define SOCKS5_BAD_CMD		0x07
#define SOCKS5_BAD_ATYP		0x08

void
socks5_init(struct socks5 *s)
{
	memset(s, 0, sizeof(*s));
	s->state = SOCKS5_GREETING;
}

static ssize_t
socks5_fail(struct socks5 *s, struct buf *out, int code, const char *why)
{
	/* RFC 1928 6: the reply with an IPv4 zero address */
	const unsigned char	rep[] = { SOCKS5_VER, (unsigned char)code, 0,
				    1, 0, 0, 0, 0, 0, 0 };

	s->state = SOCKS5_FAILED;
	s->err = why;
	(void)buf_append(out, rep, code == -1 ? 0 : sizeof(rep));
	return -1;
}

/* RFC 1928 3: VER NMETHODS METHODS; we take "no authentication" only */
static ssize_t
socks5_greeting(struct socks5 *s, const unsigned char *p, size_t len,
    struct buf *out)
{
	const unsigned char	refuse[] = { SOCKS5_VER, SOCKS5_NO_METHOD };
	const unsigned char	accept[] = { SOCKS5_VER, SOCKS5_NO_AUTH };
	size_t			n;

	if (p[0] != SOCKS5_VER) {
		s->state = SOCKS5_FAILED;
		s->err = "not SOCKS version 5";
		return -1;
	}
	if (len < 2 || len < 2 + (size_t)p[1])
		return 0;
	n = p[1];
	if (n == 0 || memchr(p + 2, SOCKS5_NO_AUTH, n) == NULL) {
		/* XEP-0065 5.3.2: the target offers no authentication */
		(void)buf_append(out, refuse, sizeof(refuse));
		s->state = SOCKS5_FAILED;
		s->err = "no acceptable authentication method";
		return -1;
	}
	if (buf_append(out, accept, sizeof(accept)) == -1)
		return socks5_fail(s, out, -1, "output full");
	s->state = SOCKS5_REQUEST;
	return (ssize_t)(2 + n);
}

static bool
is_lower_hex(const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* RFC 1928 4: VER CMD RSV ATYP DST.ADDR DST.PORT */
static ssize_t
socks5_request(struct socks5 *s, const unsigned char *p, size_t len,
    struct buf *out)
{
	unsigned char	rep[7 + SOCKS5_HASH_LEN];
	size_t		n;

	if (len < 5)
		return 0;
	if (p[0] != SOCKS5_VER || p[2] != 0)
		return socks5_fail(s, out, SOCKS5_FAILURE,
		    "bad request header");
	if (p[1] != SOCKS5_CMD_CONNECT)
		return socks5_fail(s, out, SOCKS5_BAD_CMD, "not CONNECT");
	if (p[3] != SOCKS5_ATYP_DOMAIN)
		return socks5_fail(s, out, SOCKS5_BAD_ATYP,
		    "address is not a domain name");
	n = p[4];
	if (len < 5 + n + 2)
		return 0;
	/* XEP-0065 5.3.2: hex SHA-1 (any case on the wire; we compare
	   lowercase, the form every client sends) */
	if (n != SOCKS5_HASH_LEN || !is_lower_hex(p + 5, n))
		return socks5_fail(s, out, SOCKS5_FAILURE,
		    "address is not a stream hash");
	memcpy(s->hash, p + 5, n);
	s->hash[n] = '\0';
	/* XEP-0065 6.3.3: success, echoing the address */
	rep[0] = SOCKS5_VER;
	rep[1] = SOCKS5_OK;
	rep[2] = 0;
	rep[3] = SOCKS5_ATYP_DOMAIN;
	rep[4] = (unsigned char)n;
	memcpy(rep + 5, p + 5, n);
	rep[5 + n] = 0;
	rep[6 + n] = 0;
	if (buf_append(out, rep, 7 + n) == -1)
		return socks5_fail(s, out, -1, "output full");
	s->state = SOCKS5_DONE;
	return (ssize_t)(5 + n + 2);
}

ssize_t
socks5_feed(struct socks5 *s, const char *data, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)data;
	size_t			 used = 0;
	ssize_t			 n;

	while (used < len) {
		switch (s->state) {
		case SOCKS5_GREETING:
			n = socks5_greeting(s, p + used, len - used, out);
			break;
		case SOCKS5_REQUEST:
			n = socks5_request(s, p + used, len - used, out);
			break;
		case SOCKS5_DONE:
			return (ssize_t)used;
		default:
			return -1;
		}
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	return (ssize_t)used;
}
