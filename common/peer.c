/*
 * Address keys for per-peer limits (c2s-max-per-address, auth-fail-max,
 * s2s-max-per-address).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "peer.h"

void
peer_key(int fd, char *out, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl = sizeof(ss);
	char			 text[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(out, len, "unknown");
		return;
	}
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], text,
		    sizeof(text));
		snprintf(out, len, "%s", text);
	} else if (ss.ss_family == AF_INET6) {
		memset(&sin6->sin6_addr.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		snprintf(out, len, "%s/64", text);
	} else if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		snprintf(out, len, "%s", text);
	} else
		snprintf(out, len, "unknown");
}
