/*
 * Least privilege for the server processes (docs/operator.md, "Running
 * as root"): a process started as root sets up what needs root (listening
 * sockets, private keys) and then becomes the configured user for good;
 * every process forbids itself new privileges, and those that face the
 * network give up writing files.
 */
#ifndef PARLEY_PRIV_H
#define PARLEY_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

/*
 * The uid and gid of conf's user and group; -1 (logged) when either does
 * not exist. Only meaningful when conf->user is set.
 */
int	priv_lookup(const struct conf *, uid_t *, gid_t *);
/*
 * As root with a user configured: becomes that user and group, with no
 * supplementary groups. Not root (then or from the start): gives up
 * every capability, the ambient ones a service manager granted for
 * binding ports too. Then, in any case, PR_SET_NO_NEW_PRIVS; with
 * no_writes, a Landlock ruleset that refuses every file write, creation
 * and removal where the kernel has Landlock, but for upload-dir's files
 * when a host has upload (XEP-0363, c2s/upload.c). Exits on failure.
 */
void	priv_drop(const struct conf *, bool no_writes);

#endif
