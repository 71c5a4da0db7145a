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
	const char	*reqs[FUZZ_WEB_CONNS], *p = (const char *)data, *e;
	size_t		 lens[FUZZ_WEB_CONNS], n = 0, left = len;

	fuzz_web_path(p, strnlen(p, len));
	while (n < FUZZ_WEB_CONNS) {
		e = memmem(p, left, "\n==\n", 4);
		reqs[n] = p;
		lens[n++] = e != NULL ? (size_t)(e - p) : left;
		if (e == NULL)
			break;
		left -= (size_t)(e - p) + 4;
		p = e + 4;
	}
	fuzz_web_conns(reqs, lens, n, NULL);
	return 0;
}
