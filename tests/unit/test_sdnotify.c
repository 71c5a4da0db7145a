/*
 * sd_notify datagrams (common/sdnotify.c): what a service manager
 * listening on NOTIFY_SOCKET receives, at a path and at an abstract
 * name; nothing and no error without NOTIFY_SOCKET; names it cannot use
 * refused.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/sdnotify.h"
#include "unit.h"

/* a datagram socket bound to name ('@': abstract), as systemd's */
static int
listener(const char *name)
{
	struct sockaddr_un	 sun;
	socklen_t		 salen;
	size_t			 len = strlen(name);
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, len);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	else
		salen++;
	assert_int_not_equal(fd = socket(AF_UNIX, SOCK_DGRAM |
	    SOCK_NONBLOCK, 0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, salen), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char	buf[256];
	ssize_t	n;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_sdnotify_path(void **state)
{
	char	path[64];
	int	fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/parley-sdnotify.%ld",
	    (long)getpid());
	unlink(path);
	fd = listener(path);
	setenv(SDNOTIFY_ENV, path, 1);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	expect_datagram(fd, "READY=1");
	assert_int_equal(sdnotify_send("RELOADING=1\nMONOTONIC_USEC=5"), 0);
	expect_datagram(fd, "RELOADING=1\nMONOTONIC_USEC=5");
	unsetenv(SDNOTIFY_ENV);
	close(fd);
	unlink(path);
	/* the manager went away: the send fails, it does not hang */
	setenv(SDNOTIFY_ENV, path, 1);
	assert_int_equal(sdnotify_send("STOPPING=1"), -1);
	unsetenv(SDNOTIFY_ENV);
}

static void
test_sdnotify_abstract(void **state)
{
	char	name[64];
	int	fd;

	(void)state;
	snprintf(name, sizeof(name), "@parley-sdnotify/%ld", (long)getpid());
	fd = listener(name);
	setenv(SDNOTIFY_ENV, name, 1);
	assert_int_equal(sdnotify_send("STOPPING=1"), 0);
	expect_datagram(fd, "STOPPING=1");
	unsetenv(SDNOTIFY_ENV);
	close(fd);
}

static void
test_sdnotify_unset_or_unusable(void **state)
{
	char	long_name[200];

	(void)state;
	unsetenv(SDNOTIFY_ENV);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv(SDNOTIFY_ENV, "", 1);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv(SDNOTIFY_ENV, "relative/path", 1);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[0] = '/';
	long_name[sizeof(long_name) - 1] = '\0';
	setenv(SDNOTIFY_ENV, long_name, 1);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	unsetenv(SDNOTIFY_ENV);
}

UNIT_MAIN(
	cmocka_unit_test(test_sdnotify_path),
	cmocka_unit_test(test_sdnotify_abstract),
	cmocka_unit_test(test_sdnotify_unset_or_unusable),
)
