/*
 * Helpers shared by the benchmark's load generator and relay (bench.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void
obuf_reserve(struct obuf *b, size_t more)
{
	size_t	need = b->len + more;

	if (need <= b->cap)
		return;
	if (b->off > 0 && b->len - b->off + more <= b->cap) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		return;
	}
	b->cap = b->cap ? b->cap : 512;
	while (b->cap < need)
		b->cap *= 2;
	if ((b->data = realloc(b->data, b->cap)) == NULL)
		fatal_exit("out of memory");
}

void
obuf_append(struct obuf *b, const void *p, size_t n)
{
	obuf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
obuf_vprintf(struct obuf *b, const char *fmt, va_list ap)
{
	va_list	aq;
	int	n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		fatal_exit("vsnprintf");
	obuf_reserve(b, (size_t)n + 1);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

int
obuf_send(struct obuf *b, int fd, gnutls_session_t tls, const char **why)
{
	ssize_t	n;
	size_t	len;

	while (b->off < b->len) {
		len = b->len - b->off;
		if (tls != NULL) {
			if (len > 16384)
				len = 16384;
			n = gnutls_record_send(tls, b->data + b->off, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				break;
			if (n < 0) {
				*why = gnutls_strerror((int)n);
				return -1;
			}
		} else {
			n = send(fd, b->data + b->off, len, MSG_NOSIGNAL);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n == -1) {
				*why = strerror(errno);
				return -1;
			}
		}
		b->off += (size_t)n;
	}
	if (b->off == b->len)
		b->off = b->len = 0;
	return 0;
}

void
samples_add(struct samples *s, uint32_t us)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			fatal_exit("out of memory");
	}
	s->v[s->n++] = us;
}

void
samples_reset(struct samples *s)
{
	s->n = 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

double
samples_pct(struct samples *s, double pct)
{
	size_t	i;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
	i = (size_t)(pct / 100.0 * (double)s->n);
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i];
}

static const char	b64c[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t		i, o = 0;
	uint32_t	v;

	for (i = 0; i < n && o + 5 <= cap; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64c[v >> 18 & 63];
		out[o++] = b64c[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64c[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64c[v & 63] : '=';
	}
	if (cap > 0)
		out[o < cap ? o : cap - 1] = '\0';
}

size_t
b64_decode(const char *in, uint8_t *out, size_t cap)
{
	uint32_t	 v = 0;
	int		 bits = 0;
	size_t		 o = 0;
	const char	*p;

	for (; *in != '\0' && *in != '='; in++) {
		if (*in == ' ' || *in == '\n' || *in == '\r' || *in == '\t')
			continue;
		if ((p = strchr(b64c, *in)) == NULL)
			return (size_t)-1;
		v = v << 6 | (uint32_t)(p - b64c);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return (size_t)-1;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	return o;
}

void
fatal_exit(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}
