/*
 * parley-proxy: the SOCKS5 bytestream proxy (XEP-0065). It accepts the
 * two parties' connections, reads their SOCKS5 handshakes, holds them
 * by stream hash until the router (which answers the activation IQ)
 * says to pair them, then relays bytes between them within the size,
 * rate and time limits of the configuration.
 */
#ifndef PARLEY_PROXY_H
#define PARLEY_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "../common/accept.h"
#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/conf.h"
#include "../common/link.h"
#include "../common/routerlink.h"
#include "../common/transport.h"
#include "socks5.h"

/* output marks of a relayed connection: past high its source pauses */
#define PCONN_OUT_MAX	(512 * 1024)
#define PCONN_HIGH	(128 * 1024)
#define PCONN_LOW	(32 * 1024)

enum pconn_state {
	PC_HANDSHAKE,		/* SOCKS5 greeting and request */
	PC_WAITING,		/* hash known, waiting for activation */
	PC_RELAY,		/* paired: bytes go to peer */
	PC_CLOSED
};

/* one client connection to the proxy */
struct pconn {
	struct transport	 tp;
	uint64_t		 id;		/* for logs */
	enum pconn_state	 state;
	struct socks5		 s5;
	struct buf		 in;		/* handshake bytes not parsed */
	struct pconn		*next_same;	/* others with the hash */
	struct pconn		*peer;		/* PC_RELAY */
	uint64_t		 bytes;		/* relayed from this side */
	double			 tokens;	/* rate bucket (bytes) */
	double			 refilled;	/* when tokens were counted */
	struct buf		 hold;		/* read, not sent yet (rate) */
	struct ctimer		 rate;		/* sends what is held */
	bool			 held;		/* peer's output above high */
	bool			 counted;	/* in npending */
};

struct proxy {
	struct ev_loop		*loop;
	struct conf		 conf;
	struct link		*up;		/* to the router; NULL: down */
	struct routerlink	 uplink;
	struct listener		*listeners;
	struct accept_backoff	 backoff;
	struct map		*waiting;	/* hash -> first pconn */
	int			 npending;	/* not yet relaying */
	int			 nrelays;	/* pairs relaying */
	uint64_t		 next_id;
};

extern struct proxy	proxy;

/* relay.c */
/* takes fd (-1 with the memory transport); NULL when refused */
struct pconn *relay_accept(int fd);
/* pairs the two connections of hash: LINK_PROXY_OK or the reason not */
enum link_proxy_status relay_activate(const char *hash, const char *who);

/* uplink.c */
void	uplink_start(void);

#endif
