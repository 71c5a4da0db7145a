/*
 * Fuzz target: linktls_find_key (common/linktls.c), the reader of a remote
 * host's key in a psktool file ("identity:hexkey" lines). The input is
 * "identity\0file text". A key found is at most LINKTLS_KEY_MAX bytes and
 * the same on a second look; with the identity's line removed (every
 * line renamed) nothing is found.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/linktls.h"
#include "../../common/util.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char	 k1[LINKTLS_KEY_MAX], k2[LINKTLS_KEY_MAX];
	size_t		 n1 = 0, n2 = 0, i;
	char		*s, *text;
	int		 rc;

	s = xstrndup((const char *)data, len);
	text = strlen(s) < len ? s + strlen(s) + 1 : s + strlen(s);
	if (*s == '\0' || strchr(s, '\n') != NULL || strchr(s, ':') != NULL) {
		free(s);
		return 0;
	}
	rc = linktls_find_key(text, s, k1, &n1);
	if (rc == 0) {
		FUZZ_CHECK(n1 > 0 && n1 <= LINKTLS_KEY_MAX, "key of %zu", n1);
		FUZZ_CHECK(linktls_find_key(text, s, k2, &n2) == 0 &&
		    n2 == n1 && memcmp(k1, k2, n1) == 0, "a second look");
	}
	/* no line starts with the identity once each line's first byte
	   is one the identity cannot hold */
	for (i = 0; text[i] != '\0'; i++)
		if (i == 0 || text[i - 1] == '\n')
			text[i] = ':';
	FUZZ_CHECK(linktls_find_key(text, s, k2, &n2) == -1, "renamed");
	free(s);
	return 0;
}
