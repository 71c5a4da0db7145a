/*
 * Fuzz target: BOSH (c2s/bosh.c): the input is up to FUZZ_WEB_CONNS
 * request bodies separated by "\n==\n", each POSTed to /http-bind on a
 * connection of its own, "%S" standing for the sid of the last session
 * created, so that inputs reach sessions: rids in and out of the window,
 * requests held and answered, pause, restart, terminate. Oracles:
 * fuzz_web.c.
 */
#include <string.h>

#include "fuzz.h"
#include "fuzz_web.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*reqs[FUZZ_WEB_CONNS], *p = (const char *)data, *e;
	size_t		 lens[FUZZ_WEB_CONNS], n = 0, left = len;

	while (n < FUZZ_WEB_CONNS) {
		e = memmem(p, left, "\n==\n", 4);
		reqs[n] = p;
		lens[n++] = e != NULL ? (size_t)(e - p) : left;
		if (e == NULL)
			break;
		left -= (size_t)(e - p) + 4;
		p = e + 4;
	}
	fuzz_web_conns(reqs, lens, n, "/http-bind");
	return 0;
}
