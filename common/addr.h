/*
 * Which addresses federation may reach. A server that resolves and dials
 * whatever a peer or a user names can be made to probe the operator's
 * own network (loopback, private ranges, link-local, cloud metadata); an
 * address is public when the IANA special-purpose registries (RFC 6890,
 * RFC 6598, RFC 9637) do not mark it as not globally reachable.
 */
#ifndef PARLEY_ADDR_H
#define PARLEY_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* IPv4 or IPv6 (v4-mapped, v4-compatible, 6to4 and NAT64 by their IPv4) */
bool	addr_public(const struct sockaddr *sa);
/*
 * domain (a JID domainpart) is an IP literal, dotted IPv4 or a bracketed
 * IPv6 (RFC 7622 3.2), whose address is not public. A name is never
 * refused here: its addresses are checked once resolved.
 */
bool	addr_domain_refused(const char *domain);

#endif
