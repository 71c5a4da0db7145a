/*
 * A child's word to parleyd that it serves (docs/internals.md,
 * "Readiness"): parleyd passes each child it starts the write end of a
 * pipe, numbered in READY_FD_ENV, and tells the service manager the
 * server is ready once every child has written to its pipe.
 */
#ifndef PARLEY_READY_H
#define PARLEY_READY_H

#define READY_FD_ENV	"PARLEY_READY_FD"

/*
 * This process serves: the router once its sockets listen, the others
 * once the router has answered their LINK_HELLO. Writes one byte and
 * closes the pipe; later calls, and a process started without the pipe
 * (by hand, by the tests), do nothing.
 */
void	ready_report(void);

#endif
