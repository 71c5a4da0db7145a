/*
 * Small helpers shared by the benchmark's load generator and relay: an
 * output buffer, latency samples, base64 and a fatal exit. Test tooling,
 * not server code: nothing here is linked into Parley.
 */
#ifndef PARLEY_BENCH_H
#define PARLEY_BENCH_H

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

/* a growable byte buffer; data[off..len) is still to be written */
struct obuf {
	char	*data;
	size_t	 len, off, cap;
};

void	obuf_reserve(struct obuf *, size_t more);
void	obuf_append(struct obuf *, const void *, size_t);
void	obuf_vprintf(struct obuf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/*
 * Writes what it can of the buffer to fd, through tls when not NULL (at
 * most one TLS record per call to gnutls_record_send); empties it once
 * all is written. 0, or -1 with *why set on a failed connection.
 */
int	obuf_send(struct obuf *, int fd, gnutls_session_t tls,
	    const char **why);

/* latency samples in microseconds */
struct samples {
	uint32_t	*v;
	size_t		 n, cap;
};

void	samples_add(struct samples *, uint32_t us);
void	samples_reset(struct samples *);
/* the pct-th percentile (nearest rank), 0 when empty; sorts in place */
double	samples_pct(struct samples *, double pct);

/* writes a NUL-terminated encoding; truncates to fit cap */
void	b64_encode(const uint8_t *, size_t, char *out, size_t cap);
/* decodes NUL-terminated in; returns the length or (size_t)-1 */
size_t	b64_decode(const char *in, uint8_t *out, size_t cap);

void	fatal_exit(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
