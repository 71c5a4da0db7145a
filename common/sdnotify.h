/*
 * The service manager's notification protocol (sd_notify(3)), without
 * libsystemd: one datagram of newline-separated VARIABLE=VALUE
 * assignments to the Unix socket NOTIFY_SOCKET names. parleyd sends
 * READY=1, RELOADING=1 and STOPPING=1 through it (docs/internals.md,
 * "Readiness").
 */
#ifndef PARLEY_SDNOTIFY_H
#define PARLEY_SDNOTIFY_H

#define SDNOTIFY_ENV	"NOTIFY_SOCKET"

/*
 * Sends state (borrows) to NOTIFY_SOCKET: a path, or an abstract socket
 * name when it starts with '@'. 0 when sent or when NOTIFY_SOCKET is
 * unset or empty (not started by a service manager that listens); -1
 * with errno otherwise (a name that is not one of those two, or too long,
 * or a full or absent socket). Never blocks.
 */
int	sdnotify_send(const char *state);

#endif
