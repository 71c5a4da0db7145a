/*
 * One stream transport under every connection of the c2s and s2s
 * processes (OpenSMTPD's struct io is the model): a socket, an optional
 * GnuTLS session (client or server), a bounded output queue written once
 * per loop iteration, a read budget per callback, pause and resume of
 * reading, a timeout, a graceful close (flush, TLS close_notify,
 * half-close, linger) and a deferred free. The owner embeds a struct
 * transport and gets everything through one event callback; it keeps
 * only protocol logic.
 *
 * Framing: the owner sees bytes (TP_DATA_IN) and writes bytes
 * (tp_write). A framing that is not a plain byte stream (WebSocket,
 * BOSH: docs/internals.md, "Transport") goes between the two as a
 * struct tp_framing: it turns what the transport read into the XML
 * bytes the stream parses, and the stream's XML into frames, so that
 * the stream logic above (SASL, binding) never knows which carried them.
 *
 * Memory backend: with tp_use_memory(true) (tests only) transports have
 * no socket; tp_mem_inject() plays the peer's bytes, tp_mem_output()
 * returns what was written, tp_mem_connected() ends a connect. Loop
 * iterations are transport_reap() calls (transport_run() repeats them
 * until nothing is left to do), time is clock.h's fake clock.
 */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>
#include <gnutls/gnutls.h>

#include "buf.h"
#include "clock.h"

#define TP_READ_CHUNK	16384
#define TP_READ_BUDGET	(4 * TP_READ_CHUNK)	/* bytes per callback */
#define TP_LINGER	2.0	/* seconds for a closing transport's output */
#define TP_OUT_KEEP	512	/* an empty output buffer larger than this is
				   freed (idle connections keep none) */

enum tp_event {
	TP_DATA_IN,	/* data, len: bytes from the peer (plaintext) */
	TP_LOW_WATER,	/* output fell to the low mark after passing the
			   high mark (tp_set_marks) */
	TP_TIMEOUT,	/* the tp_set_timeout() deadline passed */
	TP_CLOSED,	/* the peer ended its side (EOF); the transport
			   closes (tp_close) unless the owner did */
	TP_ERROR,	/* read, write, handshake or connect failure: the
			   transport is dead (nothing more can be sent);
			   data is the cause, NUL-terminated */
	TP_TLS_DONE,	/* the TLS handshake completed */
	TP_CONNECTED,	/* an outgoing connect (tp_connect) completed */
	TP_GONE		/* reaped, from transport_reap(): the owner frees
			   itself now (the only event where it may) */
};

struct transport;
/* data and len: TP_DATA_IN's bytes, TP_ERROR's cause (valid for the call) */
typedef void	tp_event_cb(struct transport *, enum tp_event,
		    const char *data, size_t len, void *arg);

/*
 * A framing between the transport and the stream logic (WebSocket,
 * BOSH). decode: bytes read, to XML bytes for the stream (calls emit as
 * often as it likes); encode: the stream's XML bytes, to frames queued
 * with tp_write_raw(). NULL for plain XMPP over TCP, where the two are
 * the same bytes.
 */
struct tp_framing {
	int	(*decode)(struct transport *, const char *, size_t,
		    void (*emit)(struct transport *, const char *, size_t));
	int	(*encode)(struct transport *, const char *, size_t);
};

/* the memory backend's peer (tests) */
struct tp_mem {
	struct buf		 in;		/* the peer's bytes, unread */
	struct buf		 out;		/* what we wrote */
	bool			 shut;		/* we half-closed */
	bool			 eof;		/* the peer closed */
	struct transport	*next_read;	/* input due */
};

enum tp_state {
	TP_IDLE,	/* initialised, no connection yet */
	TP_CONNECTING,
	TP_HANDSHAKE,
	TP_OPEN,
	TP_CLOSING,	/* flush, close_notify, half-close, linger */
	TP_DEAD		/* waiting for transport_reap() */
};

struct transport {
	int			 fd;		/* -1 when none (memory) */
	enum tp_state		 state;
	ev_io			 rio, wio;
	struct ctimer		 timer;		/* the owner's timeout, or
						   the linger when closing */
	gnutls_session_t	 tls;
	bool			 tls_on;	/* handshake done */
	bool			 tls_retry;	/* record_send said AGAIN */
	bool			 tls_wait;	/* handshake once the output
						   is written (STARTTLS) */
	bool			 paused;	/* the owner stopped reading */
	bool			 reading;	/* rio active */
	bool			 eof;		/* the peer's side ended */
	bool			 above_high;	/* output passed the high
						   mark: low water is due */
	bool			 queued_dirty, queued_read;
	struct buf		 out;		/* to the peer (plaintext) */
	uint32_t		 low, high;	/* output marks (bytes) */
	const struct tp_framing	*framing;
	tp_event_cb		*cb;
	void			*arg;
	char			 name[20];	/* for logs */
	struct tp_mem		*mem;		/* memory backend, or NULL */
	struct transport	*next_dirty, *next_dead;
};

/*
 * Caller's storage. outmax: the output cap (bytes); past it tp_write
 * fails and the queue is emptied so that a stream error still fits.
 */
void	tp_init(struct transport *, size_t outmax, tp_event_cb *, void *arg);
void	tp_set_name(struct transport *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* low and high marks of the output queue for TP_LOW_WATER */
void	tp_set_marks(struct transport *, uint32_t low, uint32_t high);
/* takes fd (connected, non-blocking; ignored with the memory backend) */
void	tp_open(struct transport *, int fd);
/* starts a non-blocking connect; -1 (errno) if it failed at once */
int	tp_connect(struct transport *, const struct sockaddr *, socklen_t);
/*
 * Takes the session (set up by the caller for this transport's fd,
 * tp_fd()): the handshake starts once the queued output is written
 * (<proceed/> before a ClientHello); reading waits until then.
 */
void	tp_start_tls(struct transport *, gnutls_session_t);
/* queues bytes (through the framing, if any); -1 past the cap */
int	tp_write(struct transport *, const char *, size_t);
/* queues bytes as they are, below the framing */
int	tp_write_raw(struct transport *, const char *, size_t);
void	tp_pause(struct transport *);
void	tp_resume(struct transport *);
/* TP_TIMEOUT after seconds (re-arms; 0 stops); ignored while closing */
void	tp_set_timeout(struct transport *, double seconds);
/*
 * Closes gracefully: queued output is written, then TLS close_notify and
 * a half-close; what the peer still sends is read and thrown away (a
 * socket closed with unread input resets the connection, and the peer
 * would lose what we wrote) until it closes too or TP_LINGER passes.
 */
void	tp_close(struct transport *);
/* drops the connection now; the owner gets TP_GONE from the reap */
void	tp_kill(struct transport *);
/* an idle connection's empty output buffer is freed */
void	tp_trim(struct transport *);

static inline bool
tp_closing(const struct transport *tp)
{
	return tp->state == TP_CLOSING || tp->state == TP_DEAD;
}
static inline bool
tp_dead(const struct transport *tp)
{
	return tp->state == TP_DEAD;
}
static inline int
tp_fd(const struct transport *tp)
{
	return tp->fd;
}
static inline size_t
tp_out_pending(const struct transport *tp)
{
	return buf_avail(&tp->out);
}

/*
 * The prepare pass of the process (once per loop iteration, before it
 * sleeps): writes what callbacks queued, then frees dead transports
 * through their owners (TP_GONE). Nothing is freed inside a callback.
 */
void	transport_reap(void);
/* transport_reap() as the loop's prepare watcher, which alone keeps no
   loop alive (as link_loop_init does for links) */
void	transport_loop_init(struct ev_loop *);

/* ---- memory backend (tests) -------------------------------------------- */

/* transports set up from now on have no socket */
void	tp_use_memory(bool);
/* the peer sends bytes; read on the next transport_reap() */
void	tp_mem_inject(struct transport *, const char *, size_t);
/* the peer closes its side */
void	tp_mem_eof(struct transport *);
/* the outgoing connect completes (err 0) or fails (an errno) */
void	tp_mem_connected(struct transport *, int err);
/* what was written to the peer so far (NUL-terminated), and forgetting it */
const char *tp_mem_output(struct transport *);
void	tp_mem_output_reset(struct transport *);
/* did we half-close? */
bool	tp_mem_shut(const struct transport *);
/* transport_reap() until nothing is left to do (bounded) */
void	transport_run(void);

#endif
