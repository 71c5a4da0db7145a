/*
 * Small helpers every process uses: allocation that is fatal on failure
 * (memory is bounded by caps on input, not by NULL checks), container_of,
 * monotonic time and random bytes.
 */
#ifndef PARLEY_UTIL_H
#define PARLEY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* returns new: formatted string */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* fills buf with cryptographically strong random bytes (fatal on failure) */
void	 random_bytes(void *buf, size_t len);
/*
 * A key of len bytes kept in datadir/name (mode 0600), read into key, or
 * made and written there first if there is none: the same key across
 * restarts. 0, or -1 with errno (EINVAL: the file is too short).
 */
int	 secret_load(const char *datadir, const char *name, void *key,
	    size_t len);
/* writes 2*len lowercase hex digits and a NUL to out */
void	 hex_encode(char *out, const void *in, size_t len);
/* constant-time comparison: 0 when equal */
int	 timingsafe_memcmp(const void *, const void *, size_t);

/*
 * RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past
 * U+10FFFF, and no NUL (a C string's end is not a character of it).
 */
bool	 utf8_valid(const char *, size_t);

/*
 * The next item of a list separated by commas (an option's value), blanks
 * around it left out: *item and *len, and *s moved past it and its comma.
 * False at the end. An empty item between two commas is one (length 0).
 */
bool	 list_next(const char **s, const char **item, size_t *len);

/* sets O_NONBLOCK and FD_CLOEXEC; -1 with errno on failure */
int	 fd_nonblock(int fd);

struct sockaddr;
/*
 * A non-blocking listening TCP socket on sa (IPv6 sockets are IPv6-only;
 * reuseport for listeners shared by several processes), or -1 with
 * errno.
 */
int	 tcp_listen(const struct sockaddr *sa, unsigned salen, bool reuseport);
/*
 * A non-blocking connected Unix socket to rundir/name (the router's
 * sockets), or -1 with errno.
 */
int	 unix_connect(const char *rundir, const char *name);

#endif
