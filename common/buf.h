/*
 * Growable byte buffers with a hard cap fixed at creation. An append that
 * would pass the cap fails with -1 and leaves the buffer unchanged; the
 * caller turns that into the XMPP error or a link close.
 */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

struct buf {
	char	*data;
	size_t	 off;	/* read offset: bytes before it are consumed */
	size_t	 len;	/* bytes used, including consumed ones */
	size_t	 cap;	/* allocated */
	size_t	 max;	/* hard cap on len - off; 0 means SIZE_MAX */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_clear(struct buf *);		/* frees storage */
void	 buf_reset(struct buf *);		/* empties, keeps storage */
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* reserves room for n more bytes; returns the write pointer or NULL */
char	*buf_reserve(struct buf *, size_t n);
void	 buf_commit(struct buf *, size_t n);	/* after writing into reserve */
void	 buf_consume(struct buf *, size_t n);	/* advances off; compacts */
/* keeps the first n unread bytes: undoes what was appended after them */
void	 buf_truncate(struct buf *, size_t n);
/* unread bytes: valid until the next append */
static inline const char *
buf_rptr(const struct buf *b)
{
	/* an empty buffer may have no storage: NULL + 0 is undefined */
	return b->data != NULL ? b->data + b->off : "";
}
static inline size_t
buf_avail(const struct buf *b)
{
	return b->len - b->off;
}
/* NUL-terminates without counting the NUL; returns the string or NULL */
const char *buf_cstr(struct buf *);

#endif
