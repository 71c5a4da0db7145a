/*
 * Fuzz target: the HTTP/1.1 request reader of the c2s (c2s/http.c with
 * libhttp-parser, the path decoder, the limits, keep-alive and
 * pipelining, and whatever handler a request reaches). Input: requests
 * for up to FUZZ_WEB_CONNS connections, separated by "\n==\n"; the first
 * line is also given to the path decoder. Oracles: fuzz_web.c.
 */
#include <string.h>

#include "fuzz.h"
#include "fuzz_web.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*reqs[FUZZ_WEB_CONNS];
	size_t		 lens[FUZZ_WEB_CONNS], n;

	fuzz_web_path((const char *)data, strnlen((const char *)data, len));
	n = fuzz_web_split(data, len, reqs, lens);
	fuzz_web_conns(reqs, lens, n, NULL);
	return 0;
}
