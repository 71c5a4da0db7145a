/*
 * The SOCKS5 handshake (RFC 1928) as XEP-0065 uses it, sans-IO: no
 * authentication, one CONNECT whose DST.ADDR is a domain-type address
 * holding the stream's hash (hex SHA-1), DST.PORT 0. Bytes in, replies
 * out; the connection owner does the sockets.
 */
#ifndef PARLEY_SOCKS5_H
#define PARLEY_SOCKS5_H

#include <stddef.h>
#include <sys/types.h>

#include "../common/buf.h"

#define SOCKS5_HASH_LEN	40	/* XEP-0065 5.3.2: hex SHA-1 */
/* the longest message of the handshake: a request with a 255-byte name */
#define SOCKS5_MSG_MAX	(7 + 255)

enum socks5_state {
	SOCKS5_GREETING,	/* waiting for the method list */
	SOCKS5_REQUEST,		/* waiting for the CONNECT */
	SOCKS5_DONE,		/* hash known, success reply written */
	SOCKS5_FAILED		/* protocol error: close after the reply */
};

struct socks5 {
	enum socks5_state	 state;
	char			 hash[SOCKS5_HASH_LEN + 1];
	const char		*err;		/* SOCKS5_FAILED: why */
};

void	socks5_init(struct socks5 *);
/*
 * Feeds the peer's bytes: returns how many were used (fewer than len once
 * DONE: the rest came after the handshake; 0 when a message is still
 * incomplete), or -1 when the state became SOCKS5_FAILED. Replies
 * (success or the RFC 1928 failure code) are appended to out; -1 also
 * when out is full.
 */
ssize_t	socks5_feed(struct socks5 *, const char *data, size_t len,
	    struct buf *out);

#endif
