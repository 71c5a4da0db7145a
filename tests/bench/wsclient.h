/*
 * The load generator's WebSocket client framing (RFC 6455 5): masked
 * frames out, unmasked frames in, for XMPP over WebSocket (RFC 7395).
 * Test tooling, not server code.
 */
#ifndef PARLEY_BENCH_WSCLIENT_H
#define PARLEY_BENCH_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define WS_CONT		0x0
#define WS_TEXT		0x1
#define WS_CLOSE	0x8
#define WS_PING		0x9
#define WS_PONG		0xa

/* appends one final frame of opcode op, masked with key (RFC 6455 5.3) */
void	ws_frame(struct obuf *, int op, const void *, size_t,
	    const uint8_t key[4]);

/* the reader of the server's frames: one per connection, zeroed */
struct ws_rx {
	uint8_t		 hdr[14];
	size_t		 hlen;		/* header bytes read */
	size_t		 need;		/* header bytes this frame has */
	uint64_t	 left;		/* payload bytes still to come */
	int		 op;		/* the frame's opcode */
	int		 msg_op;	/* the data message's (continuations) */
	bool		 fin;
	uint8_t		 ctl[125];	/* a control frame's payload */
	size_t		 ctllen;
};

/*
 * Called with each piece of a data message's payload as it arrives
 * (op WS_TEXT or binary, end set on the message's last piece), and with
 * each whole control frame (op WS_CLOSE, WS_PING, WS_PONG). Returns 0,
 * or -1 to stop reading.
 */
typedef int	(*ws_cb)(void *, int op, const char *, size_t, bool end);

/*
 * Reads n bytes of the server's stream. 0, or -1 on a frame RFC 6455
 * forbids (why set) or when cb returned -1 (why NULL).
 */
int	ws_rx_feed(struct ws_rx *, const char *, size_t, ws_cb, void *,
	    const char **why);

/* the Sec-WebSocket-Accept for key (RFC 6455 4.2.2); out: 29 bytes */
void	ws_accept(const char *key, char out[29]);

#endif
