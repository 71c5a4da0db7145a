/*
 * sd_notify(3) as a datagram (sdnotify.h). The socket is made for each
 * message: parleyd sends a handful in its life, and a service manager
 * restarted in between is then found at its new socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

int
sdnotify_send(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*name = getenv(SDNOTIFY_ENV);
	socklen_t		 salen;
	size_t			 len;
	ssize_t			 n;
	int			 fd, saved;

	if (name == NULL || name[0] == '\0')
		return 0;
	len = strlen(name);
	/* "vsock:" addresses (systemd 254 and later) are for VMs, not us */
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(sun.sun_path)) {
		errno = name[0] != '/' && name[0] != '@' ? EAFNOSUPPORT :
		    ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, len);
	/* an abstract name: a leading NUL, and its length, no terminator */
	if (name[0] == '@') {
		sun.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
	} else
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, salen);
	saved = errno;
	close(fd);
	if (n != (ssize_t)strlen(state)) {
		errno = n == -1 ? saved : EMSGSIZE;
		return -1;
	}
	return 0;
}
