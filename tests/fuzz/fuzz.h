/*
 * Helpers shared by the libFuzzer targets in tests/fuzz: quiet logging, the
 * chunking plan read from the front of an input, a reference reader of link
 * frames, and the loopback plumbing of the link targets. Each target is one
 * fuzz_<name>.c; docs/hardening.md says what each one checks.
 */
#ifndef PARLEY_FUZZ_H
#define PARLEY_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "../../common/buf.h"
#include "../../common/link.h"
#include "../../common/xmlstream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

/*
 * An oracle that failed: prints why and aborts, so libFuzzer keeps the
 * input. Used instead of assert() so that -DNDEBUG cannot remove it.
 */
#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
} while (0)
void	fuzz_fail(const char *file, int line, const char *cond,
	    const char *fmt, ...)
	    __attribute__((format(printf, 4, 5), noreturn));

/*
 * Server logging at debug level (so that every log argument is
 * evaluated) unless PARLEY_FUZZ_LOG=0; the lines go to stderr, which the
 * Makefile discards with -close_fd_mask=2. SIGPIPE is ignored, as every
 * process does. Call from LLVMFuzzerInitialize; fuzz.c's own (weak) one,
 * for the targets that define none, does only this.
 */
void	fuzz_log_init(void);

struct tls_ctx;

/*
 * TLS that can start but never complete: credentials without a
 * certificate, NORMAL priorities (fatal on failure).
 */
void	fuzz_tls_nocert(struct tls_ctx *);

/* reads every byte, so that ASan checks a range handed to a stub */
void	fuzz_touch(const void *, size_t);

/*
 * The chunking plan: the input's first byte names how many plan bytes
 * follow (low four bits); the bytes are chunk sizes, used in turn and
 * repeated. A plan byte below 0xc0 is a chunk of that many bytes plus one;
 * from 0xc0 up, (b - 0xbf) * 64 bytes. No plan bytes: one chunk.
 */
struct fuzz_plan {
	const uint8_t	*steps;
	size_t		 nsteps;
	size_t		 next;
};

/* reads the plan; returns the bytes it took from data */
size_t	fuzz_plan_init(struct fuzz_plan *, const uint8_t *data,
	    size_t len);
/* the size of the next chunk, at most left (and at least 1 if left > 0) */
size_t	fuzz_plan_next(struct fuzz_plan *, size_t left);
/*
 * An input that starts with a mode byte, then the plan: returns the mode
 * (-1 for an empty input) with data and len moved past both.
 */
int	fuzz_plan_mode(struct fuzz_plan *, const uint8_t **data, size_t *len);

/* ---- link frames -------------------------------------------------------- */

/* one frame as link.c's reader must deliver it */
struct fuzz_frame {
	struct link_hdr	 h;
	const uint8_t	*payload;
};

/*
 * Splits bytes into frames the way the link protocol defines them: a
 * frame is delivered when complete; a length over LINK_MAX_PAYLOAD or a
 * known type shorter than its minimum ends the stream. Fills at most max
 * frames; returns how many.
 */
size_t	fuzz_frames_split(const uint8_t *data, size_t len,
	    struct fuzz_frame *out, size_t max);

/*
 * Watches a link's frame callback: every frame link.c delivers is checked
 * against the reference split (same order, header and bytes) and handed
 * to the real callback in a buffer of exactly its length, so that a
 * handler reading past its payload is caught by ASan rather than reading
 * the next frame.
 */
struct fuzz_tap {
	struct link		*l;
	link_frame_cb		*real;
	link_close_cb		*real_close;
	const struct fuzz_frame	*want;
	size_t			 nwant;
	size_t			 seen;
	bool			 stopped;	/* failed in a handler */
	bool			 closed;	/* its close callback ran */
};

void	fuzz_tap_install(struct fuzz_tap *, struct link *,
	    const struct fuzz_frame *want, size_t nwant);
/*
 * The link is done with: its close callback ran, and it saw all expected
 * frames unless it failed in a handler.
 */
void	fuzz_tap_finish(struct fuzz_tap *);

/*
 * Checks bytes a process wrote to its link (replies, requests): whole
 * frames of known types, each at least its minimum length, none over
 * LINK_MAX_PAYLOAD. A partial last frame is allowed (not yet flushed).
 */
void	fuzz_check_output_frames(const struct buf *);

/*
 * Writes data to fd in the chunks of the plan, running loop without
 * waiting after each chunk (and while the socket is full) so that the
 * reader sees every chunk boundary; whatever comes back on fd is
 * appended to back (if not NULL).
 */
void	fuzz_pump(struct ev_loop *, int fd, const uint8_t *data, size_t len,
	    struct fuzz_plan *, struct buf *back);
/*
 * The same with the target's own settle(arg) after each chunk and while
 * the socket is full, up to stall_max times in a row; stops at the first
 * chunk not wholly sent.
 */
void	fuzz_pump_with(int fd, const uint8_t *data, size_t len,
	    struct fuzz_plan *, int stall_max, void (*settle)(void *),
	    void *arg);
/*
 * Sends n bytes to fd, with settle(arg) while the socket is full (up to
 * stall_max times in a row). Returns the bytes sent: fewer than n when
 * the reader closed or stopped reading.
 */
size_t	fuzz_send(int fd, const uint8_t *p, size_t n, int stall_max,
	    void (*settle)(void *), void *arg);
/* runs loop without waiting a few times, collecting fd's output */
void	fuzz_settle(struct ev_loop *, int fd, struct buf *back);

/* ---- what a process hands the router ---------------------------------- */

/* a stanza's envelope as the process sent it; called once checked */
struct fuzz_stanza_job {
	int		 kind, type;
	const char	*to, *from;	/* to may be NULL: none */
	bool		 called;
};

/*
 * The parsed stanza (an xparse callback, arg a fuzz_stanza_job) is of the
 * envelope's kind and type and carries its addresses.
 */
void	fuzz_check_stanza_tree(struct xnode *, struct arena *, void *arg);
struct jid;
/* s is a JID in its normal form, parsed into out (jid_clear it) */
void	fuzz_check_normal_jid(const char *what, const char *s,
	    struct jid *out);

/* ---- the link targets' process side ---------------------------------- */

/*
 * A c2s or s2s whose router is the fuzzer: the process connects its
 * uplink to the listening socket lfd (fuzz_tmpdir()/router.sock).
 */
struct fuzz_uplink {
	struct ev_loop	*loop;
	ev_timer	*reconnect;	/* the process's reconnect timer */
	struct link	**up;		/* its link, once connected */
	bool		(*connected)(void);
	int		 lfd;
};

/*
 * The process's loop (libev's default), its run directory (fuzz_tmpdir())
 * and a link queue that does not fill; the router's socket; then start()
 * (uplink_start).
 */
struct conf;
void	fuzz_uplink_init(struct fuzz_uplink *, struct ev_loop **,
	    struct conf *, void (*start)(void));
/*
 * One input as the router's side of the link: the process connects (its
 * timer fired now if it has not yet), the input is sent in the plan's
 * chunks and each frame checked by tap; then the router goes away and
 * what the process wrote is checked (fuzz_check_output_frames).
 */
void	fuzz_uplink_run(struct fuzz_uplink *, struct fuzz_tap *,
	    const uint8_t *data, size_t len, struct fuzz_plan *);

/* ---- what a server writes to a peer ------------------------------------- */

/*
 * Checks the bytes a server wrote on a stream: well-formed XML, stream by
 * stream (each of its stream headers begins "<?xml version='1.0'?>" and
 * starts a new document), with a header in NS_STREAM and the given
 * content namespace. Checking stops at the first byte of a TLS record.
 * element (may be NULL) sees every top-level element.
 */
#define FUZZ_HEADER_MARK	"<?xml version='1.0'?>"

struct fuzz_xmlcheck {
	struct xstream	*xs;
	struct buf	 seen;		/* not yet fed */
	const char	*who;
	const char	*ns;
	bool		 started;	/* this document has begun */
	bool		 tls;
	void		(*element)(void *, struct xnode *, struct arena *);
	void		*arg;
};

void	fuzz_xmlcheck_init(struct fuzz_xmlcheck *, const char *who,
	    const char *content_ns,
	    void (*element)(void *, struct xnode *, struct arena *), void *arg);
void	fuzz_xmlcheck_feed(struct fuzz_xmlcheck *, const char *, size_t);
void	fuzz_xmlcheck_clear(struct fuzz_xmlcheck *);

/* a private directory for sockets and files, removed at exit */
const char *fuzz_tmpdir(void);
/* a listening Unix socket fuzz_tmpdir()/name (fatal on failure) */
int	fuzz_unix_listen(const char *name);
/* the next connection on a listening socket, or -1 if none is waiting */
int	fuzz_accept(int lfd);

#endif
