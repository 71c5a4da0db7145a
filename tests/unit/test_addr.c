/*
 * common/addr.c: which addresses federation may dial.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../common/addr.h"
#include "unit.h"

static bool
pub(const char *s)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return addr_public((struct sockaddr *)&ss);
}

/* what holds (or does not) for every string of list */
static void
check_all(const char *const *list, size_t n, bool (*is)(const char *),
    bool want, const char *what)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (is(list[i]) != want)
			fail_msg("%s is%s %s", list[i], want ? "" : " not",
			    what);
}

#define CHECK_ALL(list, is, want, what) \
	check_all((list), sizeof(list) / sizeof((list)[0]), (is), (want), \
	    (what))

static void
test_ipv4(void **state)
{
	static const char *const refused[] = { "0.0.0.0", "0.1.2.3", "10.0.0.1",
	    "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.255.0.9",
	    "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8",
	    "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.1",
	    "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.1.1.1",
	    "240.0.0.1", "255.255.255.255" };
	static const char *const public[] = { "1.1.1.1", "8.8.8.8",
	    "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
	    "192.0.1.1", "192.169.0.1", "198.17.255.255", "198.20.0.0",
	    "223.255.255.255", "9.255.255.255", "11.0.0.0" };

	(void)state;
	CHECK_ALL(refused, pub, false, "public");
	CHECK_ALL(public, pub, true, "public");
}

static void
test_ipv6(void **state)
{
	static const char *const refused[] = { "::", "::1", "::127.0.0.1",
	    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.1.1",
	    "64:ff9b::a00:1", "64:ff9b:1::1", "100::1", "2001:db8::1",
	    "2001:2::1", "2001:10::1", "2002:7f00:1::1", "2002:c0a8:101::",
	    "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1",
	    "fec0::1", "ff02::1", "ff0e::1" };
	static const char *const public[] = { "2001:4860:4860::8888",
	    "2a00:1450:4001::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
	    "2002:808:808::1", "2600::1", "fbff::1", "2001:db9::1" };

	(void)state;
	CHECK_ALL(refused, pub, false, "public");
	CHECK_ALL(public, pub, true, "public");
}

/* RFC 7622 3.2: an IPv6 domainpart is bracketed */
static void
test_domain_literals(void **state)
{
	static const char *const refused[] = { "127.0.0.1", "10.0.0.5",
	    "[::1]", "[::ffff:192.168.0.1]", "[fe80::1]" };
	/* names are checked once resolved, not here */
	static const char *const allowed[] = { "8.8.8.8",
	    "[2001:4860:4860::8888]", "localhost", "example.org", "::1", "[]",
	    "[not-an-address]" };

	(void)state;
	CHECK_ALL(refused, addr_domain_refused, true, "refused");
	CHECK_ALL(allowed, addr_domain_refused, false, "refused");
}

UNIT_MAIN(
	cmocka_unit_test(test_ipv4),
	cmocka_unit_test(test_ipv6),
	cmocka_unit_test(test_domain_literals),
)
