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
	const char	*reqs[FUZZ_WEB_CONNS];
	size_t		 lens[FUZZ_WEB_CONNS], n;

	n = fuzz_web_split(data, len, reqs, lens);
	fuzz_web_conns(reqs, lens, n, "/http-bind");
	return 0;
}
