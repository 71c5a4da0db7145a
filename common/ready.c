/*
 * The child's end of the readiness pipe (ready.h). The descriptor comes
 * through exec, so it is checked to be a pipe before anything is written
 * to it: a stale variable in an operator's shell must not make us write
 * to whatever else got that number.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "ready.h"

void
ready_report(void)
{
	const char	*env = getenv(READY_FD_ENV);
	struct stat	 st;
	char		*end;
	long		 fd;

	if (env == NULL)
		return;
	errno = 0;
	fd = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || fd <= STDERR_FILENO || fd > 1024 ||
	    fstat((int)fd, &st) == -1 || !S_ISFIFO(st.st_mode)) {
		log_warnx("%s=%s is not a pipe: readiness not reported",
		    READY_FD_ENV, log_escs(env));
		unsetenv(READY_FD_ENV);
		return;
	}
	unsetenv(READY_FD_ENV);
	if (write((int)fd, "1", 1) != 1)
		log_warn("readiness pipe");
	close((int)fd);
	log_debug("up: readiness reported to parleyd");
}
