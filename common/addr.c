/*
 * The address classification of addr.h: tables of the special-purpose
 * blocks, IPv4 then IPv6, matched by prefix.
 */
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "jid.h"
#include "util.h"

struct block {
	uint8_t	net[16];
	int	bits;
};

/* RFC 6890 2.2.2 and its updates: not globally reachable, or reserved */
static const struct block v4_blocks[] = {
	{ { 0 }, 8 },			/* "this network" */
	{ { 10 }, 8 },			/* RFC 1918 */
	{ { 100, 64 }, 10 },		/* RFC 6598 shared (CGN) */
	{ { 127 }, 8 },			/* loopback */
	{ { 169, 254 }, 16 },		/* link-local, cloud metadata */
	{ { 172, 16 }, 12 },		/* RFC 1918 */
	{ { 192, 0, 0 }, 24 },		/* IETF protocol assignments */
	{ { 192, 0, 2 }, 24 },		/* TEST-NET-1 */
	{ { 192, 88, 99 }, 24 },	/* 6to4 relay anycast, deprecated */
	{ { 192, 168 }, 16 },		/* RFC 1918 */
	{ { 198, 18 }, 15 },		/* benchmarking */
	{ { 198, 51, 100 }, 24 },	/* TEST-NET-2 */
	{ { 203, 0, 113 }, 24 },	/* TEST-NET-3 */
	{ { 224 }, 4 },			/* multicast */
	{ { 240 }, 4 },			/* reserved, and broadcast */
};

/* RFC 6890 2.2.3, RFC 4291, RFC 4193, RFC 9637 */
static const struct block v6_blocks[] = {
	{ { 0 }, 96 },			/* unspecified, loopback and the
					   deprecated v4-compatible */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 },	/* local NAT64 */
	{ { 0x01 }, 64 },		/* discard-only */
	{ { 0x20, 0x01, 0x00, 0x02 }, 48 },		/* benchmarking */
	{ { 0x20, 0x01, 0x00, 0x10 }, 28 },		/* ORCHID */
	{ { 0x20, 0x01, 0x00, 0x20 }, 28 },		/* ORCHIDv2 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },		/* documentation */
	{ { 0x3f, 0xff }, 20 },		/* documentation (RFC 9637) */
	{ { 0xfc }, 7 },		/* unique local */
	{ { 0xfe, 0x80 }, 10 },		/* link-local */
	{ { 0xfe, 0xc0 }, 10 },		/* site-local, deprecated */
	{ { 0xff }, 8 },		/* multicast */
};

static bool
in_block(const uint8_t *a, const struct block *b)
{
	int	full = b->bits / 8, rest = b->bits % 8;
	uint8_t	mask;

	if (memcmp(a, b->net, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b->net[full] & mask);
}

static bool
v4_public(const uint8_t *a)
{
	size_t	i;

	for (i = 0; i < nitems(v4_blocks); i++)
		if (in_block(a, &v4_blocks[i]))
			return false;
	return true;
}

static bool
v6_public(const uint8_t *a)
{
	static const uint8_t	mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t	nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	size_t			i;

	/* the IPv4 inside decides: ::ffff:127.0.0.1 is loopback */
	if (memcmp(a, mapped, sizeof(mapped)) == 0 ||
	    memcmp(a, nat64, sizeof(nat64)) == 0)
		return v4_public(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)	/* 6to4: 2002:V4ADDR::/48 */
		return v4_public(a + 2);
	for (i = 0; i < nitems(v6_blocks); i++)
		if (in_block(a, &v6_blocks[i]))
			return false;
	return true;
}

bool
addr_public(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		return v4_public((const uint8_t *)&sin->sin_addr);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		return v6_public(sin6->sin6_addr.s6_addr);
	default:
		return false;
	}
}

bool
addr_domain_refused(const char *domain)
{
	char		buf[JID_PART_MAX + 1];
	size_t		len = strlen(domain);
	uint8_t		a[16];

	if (inet_pton(AF_INET, domain, a) == 1)
		return !v4_public(a);
	if (len < 3 || len >= sizeof(buf) || domain[0] != '[' ||
	    domain[len - 1] != ']')
		return false;
	memcpy(buf, domain + 1, len - 2);
	buf[len - 2] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1 && !v6_public(a);
}
