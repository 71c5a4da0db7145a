/*
 * Fuzz target: the configuration parser (common/conf.c), conf_load() on a
 * file holding the input. The target works in a scratch directory holding
 * test.crt and test.key, the files the configurations of tests/conf name
 * (so it changes directory: give libFuzzer absolute paths, as the
 * Makefile does).
 *
 * Oracles: a refused file leaves the struct cleared and says why on
 * stderr, every line starting with the file's name; an accepted one says
 * nothing and holds what the rest of the server relies on (at least one
 * host, prepared and unique host names, certificate and key set, values
 * within their bounds, listeners and routes well-formed); loading the
 * same file twice gives the same result and the same messages.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "../../common/conf.h"
#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/util.h"
#include "fuzz.h"

#define MSG_MAX		(1 << 20)

static int	conf_fd = -1, err_fd = -1;
static char	path[64];

/* conf_load with stderr captured into out (NUL-terminated) */
static int
load(struct conf *c, char **out)
{
	int	saved, rc;
	off_t	len;

	if (ftruncate(err_fd, 0) == -1 || lseek(err_fd, 0, SEEK_SET) == -1)
		fatal("capture");
	fflush(stderr);
	if ((saved = dup(2)) == -1 || dup2(err_fd, 2) == -1)
		fatal("dup");
	rc = conf_load(c, path);
	fflush(stderr);
	if (dup2(saved, 2) == -1)
		fatal("dup2");
	close(saved);
	len = lseek(err_fd, 0, SEEK_END);
	FUZZ_CHECK(len >= 0 && len < MSG_MAX, "%lld bytes of messages",
	    (long long)len);
	*out = xmalloc((size_t)len + 1);
	if (pread(err_fd, *out, (size_t)len, 0) != len)
		fatal("pread");
	(*out)[len] = '\0';
	return rc;
}

static void
check_messages(const char *msgs)
{
	const char	*line, *nl;
	size_t		 plen = strlen(path);

	FUZZ_CHECK(*msgs != '\0', "refused without a message");
	for (line = msgs; *line != '\0'; line = nl + 1) {
		FUZZ_CHECK((nl = strchr(line, '\n')) != NULL,
		    "a message without its newline");
		FUZZ_CHECK(strncmp(line, path, plen) == 0 &&
		    line[plen] == ':', "a message without the file name: "
		    "%.*s", (int)(nl - line), line);
	}
}

static void
check_conf(const struct conf *c)
{
	char	 name[JID_PART_MAX + 1];
	size_t	 i, k;

	FUZZ_CHECK(c->path != NULL && strcmp(c->path, path) == 0, "path");
	FUZZ_CHECK(c->nhosts >= 1 && c->hosts != NULL, "no host");
	for (i = 0; i < c->nhosts; i++) {
		FUZZ_CHECK(c->hosts[i].name != NULL &&
		    jid_nameprep(c->hosts[i].name, name) == 0 &&
		    strcmp(name, c->hosts[i].name) == 0,
		    "host \"%s\" is not a prepared domain", c->hosts[i].name);
		FUZZ_CHECK(c->hosts[i].cert != NULL && c->hosts[i].key != NULL,
		    "host %s without certificate or key", c->hosts[i].name);
		FUZZ_CHECK(conf_host_find(c, c->hosts[i].name) == &c->hosts[i],
		    "host %s found elsewhere", c->hosts[i].name);
	}
	FUZZ_CHECK(c->workers >= 1 && c->workers <= 64, "workers %d",
	    c->workers);
	FUZZ_CHECK(c->max_stanza_size >= 4096 &&
	    c->max_stanza_size <= 16 << 20, "max-stanza-size %zu",
	    c->max_stanza_size);
	FUZZ_CHECK(c->link_queue_max >= 1 << 20, "link-queue-max");
	FUZZ_CHECK(c->scram_iterations >= 4096 &&
	    c->scram_iterations <= 1000000, "scram-iterations");
	FUZZ_CHECK(c->negotiation_timeout >= 1 && c->idle_timeout >= 1 &&
	    c->s2s_connect_timeout >= 1 && c->s2s_idle_timeout >= 1 &&
	    c->register_interval >= 1, "durations");
	FUZZ_CHECK(c->datadir != NULL && c->rundir != NULL &&
	    c->tls_priority != NULL && c->log_level != NULL &&
	    log_parse_level(c->log_level) != -1, "defaults");
	for (i = 0; i < c->nlistens; i++) {
		FUZZ_CHECK(c->listens[i].port >= 1 && c->listens[i].addr !=
		    NULL && c->listens[i].salen > 0, "listener %zu", i);
		for (k = 0; k < i; k++)
			FUZZ_CHECK(c->listens[k].salen != c->listens[i].salen ||
			    memcmp(&c->listens[k].sa, &c->listens[i].sa,
			    c->listens[i].salen) != 0, "listener twice");
	}
	for (i = 0; i < c->nroutes; i++) {
		FUZZ_CHECK(c->routes[i].port >= 1 && c->routes[i].host !=
		    NULL && *c->routes[i].host != '\0', "route %zu", i);
		FUZZ_CHECK(jid_nameprep(c->routes[i].domain, name) == 0 &&
		    strcmp(name, c->routes[i].domain) == 0 &&
		    conf_host_find(c, name) == NULL, "route domain \"%s\"",
		    c->routes[i].domain);
		FUZZ_CHECK(conf_route_find(c, name) == &c->routes[i],
		    "route %s found elsewhere", name);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir;
	FILE		*fp;

	(void)argc;
	(void)argv;
	fuzz_log_init();
	/* reports must not vanish into the capture of conf.c's messages */
	__sanitizer_set_report_fd((void *)(intptr_t)dup(2));
	dir = fuzz_tmpdir();
	if (chdir(dir) == -1)
		fatal("chdir %s", dir);
	/* conf.c only checks that they are readable regular files */
	if ((fp = fopen("test.crt", "w")) == NULL || fclose(fp) != 0 ||
	    (fp = fopen("test.key", "w")) == NULL || fclose(fp) != 0)
		fatal("test files");
	if ((conf_fd = memfd_create("parley.conf", MFD_CLOEXEC)) == -1 ||
	    (err_fd = memfd_create("stderr", MFD_CLOEXEC)) == -1)
		fatal("memfd_create");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", conf_fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct conf	zero;
	struct conf			c, again;
	char				*msgs, *msgs2;
	int				rc, rc2;

	if (ftruncate(conf_fd, 0) == -1 ||
	    pwrite(conf_fd, data, len, 0) != (ssize_t)len)
		fatal("conf file");
	rc = load(&c, &msgs);
	FUZZ_CHECK(rc == 0 || rc == -1, "conf_load returned %d", rc);
	if (rc == -1) {
		FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0,
		    "a refused file left the struct set");
		check_messages(msgs);
	} else {
		FUZZ_CHECK(*msgs == '\0', "accepted with messages: %s", msgs);
		check_conf(&c);
	}
	rc2 = load(&again, &msgs2);
	FUZZ_CHECK(rc == rc2 && strcmp(msgs, msgs2) == 0,
	    "a second load differs:\n%s\n%s", msgs, msgs2);
	conf_clear(&c);
	conf_clear(&again);
	free(msgs);
	free(msgs2);
	return 0;
}
