/*
 * Order of connection attempts for a remote XMPP domain from its SRV
 * records (RFC 2782, RFC 6120 3.2.1), with _xmpps-server (direct TLS) and
 * _xmpp-server records merged into one list (XEP-0368). Pure: the resolver
 * fills the list, randomness comes from the caller.
 */
#ifndef PARLEY_SRV_H
#define PARLEY_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv_target {
	char		*host;		/* owned (malloc'd) */
	uint16_t	 port;
	uint16_t	 priority;
	uint16_t	 weight;
	bool		 direct_tls;	/* from _xmpps-server */
};

/* returns a uniform 32-bit value; arg is the caller's */
typedef uint32_t	srv_rnd_fn(void *arg);

/*
 * Orders v[0..n) in place for connection attempts: ascending priority;
 * at equal priority direct-TLS targets before STARTTLS ones (XEP-0368 lets
 * the initiator prefer one kind); within one priority and kind, RFC 2782
 * weighted random selection, where a weight-0 target has a small chance
 * of coming first. Drops "." targets and duplicate (host, port,
 * direct_tls) entries, keeping the first by priority, and frees their
 * hosts. Returns the number of targets left at the front of v.
 *
 * *unavailable becomes true only when every record was "." (RFC 2782: the
 * service is decidedly not available; XEP-0368: no A/AAAA fallback), and
 * then 0 is returned. 0 with *unavailable false means n was 0.
 */
size_t	srv_order(struct srv_target *v, size_t n, srv_rnd_fn *rnd,
	    void *arg, bool *unavailable);
/* takes v (malloc'd) and the hosts of v[0..n); NULL is a no-op */
void	srv_targets_free(struct srv_target *v, size_t n);

#endif
