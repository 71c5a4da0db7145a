/*
 * Allocation that is fatal on failure, random bytes, hex, constant-time
 * comparison and fd flags. Memory is bounded by caps on every input, so an
 * allocation failure is an environment failure: log it and exit, and let
 * the supervisor restart the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		fatal("calloc %zu*%zu", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		fatal("realloc %zu", n);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	return s;
}

void
random_bytes(void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		p += n;
		len -= (size_t)n;
	}
}

static int
secret_read(const char *path, void *key, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, key, len);
	close(fd);
	if (n != (ssize_t)len) {
		errno = n == -1 ? errno : EINVAL;
		return -1;
	}
	return 0;
}

/*
 * The key is written under a name of its own and linked into place, so
 * that a reader sees the whole key or none, and the loser of a race
 * between two processes that both made one reads the winner's.
 */
int
secret_load(const char *datadir, const char *name, void *key, size_t len)
{
	uint8_t	*made;
	char	*path, *tmp;
	int	 fd, rc = -1;

	path = xasprintf("%s/%s", datadir, name);
	tmp = xasprintf("%s.%ld", path, (long)getpid());
	made = xmalloc(len);
	if (secret_read(path, key, len) == 0) {
		rc = 0;
		goto done;
	}
	if (errno != ENOENT)
		goto done;
	random_bytes(made, len);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto done;
	if (write(fd, made, len) != (ssize_t)len || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		goto done;
	}
	close(fd);
	if (link(tmp, path) == -1 && errno != EEXIST) {
		unlink(tmp);
		goto done;
	}
	unlink(tmp);
	rc = secret_read(path, key, len);
done:
	if (rc == -1)
		explicit_bzero(key, len);
	explicit_bzero(made, len);
	free(made);
	free(path);
	free(tmp);
	return rc;
}

void
hex_encode(char *out, const void *in, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = in;
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int
timingsafe_memcmp(const void *a, const void *b, size_t len)
{
	const volatile unsigned char	*p = a, *q = b;
	unsigned char			 d = 0;
	size_t				 i;

	for (i = 0; i < len; i++)
		d |= p[i] ^ q[i];
	return d != 0;
}

bool
list_next(const char **s, const char **item, size_t *len)
{
	const char	*p = *s, *end;
	size_t		 n;

	if (*p == '\0')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((end = strchr(p, ',')) == NULL)
		end = p + strlen(p);
	n = (size_t)(end - p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*item = p;
	*len = n;
	*s = *end == ',' ? end + 1 : end;
	return true;
}

bool
utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, n, k;
	uint32_t		 cp, min;

	while (i < len) {
		if (s[i] == 0)
			return false;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return false;
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

int
fd_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
tcp_listen(const struct sockaddr *sa, unsigned salen, bool reuseport)
{
	int	fd, on = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, sa, salen) == -1 || listen(fd, 1024) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
unix_connect(const char *rundir, const char *name)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    rundir, name) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    fd_nonblock(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
