/*
 * The key under which a peer's connections and failures are counted: its
 * IPv4 address, or its IPv6 /64, since one host usually has a whole /64
 * (an IPv4-mapped address counts as the IPv4 one).
 */
#ifndef PARLEY_PEER_H
#define PARLEY_PEER_H

#include <stddef.h>

#define PEER_KEY_MAX	64

/* writes the key of fd's peer ("unknown" when it has none) into out */
void	peer_key(int fd, char *out, size_t len);

#endif
