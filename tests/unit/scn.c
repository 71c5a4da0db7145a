/*
 * The scenario drivers' shared steps (scn.h).
 */
#include <string.h>

#include "../../common/clock.h"
#include "../../common/transport.h"
#include "../../common/work.h"
#include "scn.h"

void
scn_run(void)
{
	/* a finished job's callback may write, and a write may start one */
	do
		transport_run();
	while (work_poll() > 0);
}

void
scn_advance(double seconds)
{
	clock_advance(seconds);
	scn_run();
}

void
scn_send(struct transport *tp, const char *s)
{
	tp_mem_inject(tp, s, strlen(s));
	scn_run();
}

void
scn_eof(struct transport *tp)
{
	tp_mem_eof(tp);
	scn_run();
}

struct scn_values {
	void	**v;
	size_t	  n, max;
};

static int
scn_value(const void *key, size_t len, void *val, void *arg)
{
	struct scn_values	*sv = arg;

	(void)key;
	(void)len;
	if (sv->n < sv->max)
		sv->v[sv->n++] = val;
	return 0;
}

size_t
scn_map_values(struct map *m, void **v, size_t max)
{
	struct scn_values	sv = { v, 0, max };

	map_foreach(m, scn_value, &sv);
	return sv.n;
}
