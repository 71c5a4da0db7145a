/*
 * parleyctl's operator commands: reload (SIGHUP to parleyd, whose pid
 * file is in the rundir), and the dispatch of the others.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/linktls.h"
#include "../common/tls.h"
#include "../common/util.h"
#include "check.h"
#include "ctlops.h"

#define PID_FILE	"parleyd.pid"	/* parleyd/main.c */
#define EXIT_USAGE	2

/*
 * The configuration is parsed already (with its lines on any mistake);
 * the certificates are loaded here as parleyd will, so that a broken one
 * is reported to whoever asked for the reload.
 */
static int
cmd_reload(struct conf *conf, int argc, char *argv[])
{
	struct tls_ctx	 tls;
	char		*path, buf[32];
	FILE		*fp;
	long		 pid;

	(void)argc;
	(void)argv;
	memset(&tls, 0, sizeof(tls));
	if (tls_ctx_init(&tls, conf) == -1) {
		fprintf(stderr, "parleyctl: not reloading: a certificate or "
		    "key does not load\n");
		return 1;
	}
	tls_ctx_clear(&tls);
	if (linktls_check(conf) == -1) {
		fprintf(stderr, "parleyctl: not reloading: the link "
		    "certificate or key does not load\n");
		return 1;
	}
	path = xasprintf("%s/%s", conf->rundir, PID_FILE);
	fp = fopen(path, "re");
	if (fp == NULL || fgets(buf, sizeof(buf), fp) == NULL ||
	    (pid = strtol(buf, NULL, 10)) <= 1) {
		fprintf(stderr, "parleyctl: %s: %s: is parleyd running?\n",
		    path, fp == NULL ? strerror(errno) : "no pid");
		if (fp != NULL)
			fclose(fp);
		free(path);
		return 1;
	}
	fclose(fp);
	free(path);
	if (kill((pid_t)pid, SIGHUP) == -1) {
		fprintf(stderr, "parleyctl: signal parleyd (pid %ld): %s\n",
		    pid, strerror(errno));
		return 1;
	}
	printf("configuration OK; parleyd (pid %ld) reloads it\n", pid);
	return 0;
}

static int
cmd_check(struct conf *conf, int argc, char *argv[])
{
	if (strcmp(argv[1], "config") == 0 && argc == 2)
		return check_config(conf);
	if (strcmp(argv[1], "certs") == 0 && argc == 2)
		return check_certs(conf);
	if (strcmp(argv[1], "dns") == 0 && argc == 3)
		return check_dns(conf, argv[2]);
	if (strcmp(argv[1], "s2s") == 0 && argc == 3)
		return check_s2s(conf, argv[2]);
	fprintf(stderr, "usage: parleyctl check config|certs|dns DOMAIN|"
	    "s2s DOMAIN\n");
	return EXIT_USAGE;
}

static const struct {
	const char	*name;
	int		 minargs, maxargs;
	int		(*fn)(struct conf *, int, char *[]);
	const char	*usage;
} ops[] = {
	{ "reload", 0, 0, cmd_reload,
	  "  reload          check the configuration, then parleyd reloads it "
	  "and\n                  every certificate (as SIGHUP does)\n" },
	{ "check", 1, 2, cmd_check,
	  "  check config    the file, and risky settings\n"
	  "  check certs     each host's chain, names, dates and key\n"
	  "  check dns DOMAIN  SRV, A and AAAA records against the listeners\n"
	  "  check s2s DOMAIN  a live federation attempt, step by step\n" },
};

bool
ctlops_has(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(ops); i++)
		if (strcmp(name, ops[i].name) == 0)
			return true;
	return false;
}

int
ctlops_run(struct conf *conf, int argc, char *argv[])
{
	size_t	i;

	for (i = 0; i < nitems(ops); i++)
		if (strcmp(argv[0], ops[i].name) == 0)
			break;
	if (i == nitems(ops))
		return -1;
	if (argc - 1 < ops[i].minargs || argc - 1 > ops[i].maxargs) {
		fprintf(stderr, "usage:\n%s", ops[i].usage);
		return EXIT_USAGE;
	}
	return ops[i].fn(conf, argc, argv);
}

void
ctlops_usage(FILE *fp)
{
	size_t	i;

	for (i = 0; i < nitems(ops); i++)
		fputs(ops[i].usage, fp);
}
