/*
 * What the c2s and s2s scenario drivers share: loop iterations and time
 * on the memory transports and the fake clock.
 */
#ifndef PARLEY_SCN_H
#define PARLEY_SCN_H

#include <stddef.h>

#include "../../common/map.h"
#include "../../common/transport.h"

#define SCN_WALL	1700000000.0	/* the fake clock's start */

/* loop iterations (transport_reap) until nothing is pending */
void	scn_run(void);
/* time passes: due timers fire in order, then the loop runs */
void	scn_advance(double seconds);
/* the peer sends s (read on the next iteration, which this runs) */
void	scn_send(struct transport *, const char *s);
/* the peer closes its side */
void	scn_eof(struct transport *);
/* up to max values of m into v (to act on them outside map_foreach) */
size_t	scn_map_values(struct map *m, void **v, size_t max);

#endif
