/*
 * Fuzz target: the upload slot token (common/upslot.c), which comes in
 * a PUT's query from anyone. Oracles: a token that verifies is the one
 * upslot_sign makes for what it carries (no second spelling of a slot),
 * and whatever a slot was signed for verifies.
 *
 * Input: TOKEN \0 ID \0 NAME \0 TYPE, missing parts empty.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/upslot.h"
#include "../../common/util.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t	 key[UPSLOT_KEY_LEN] = { 7 };
	const char		*part[4] = { "", "", "", "" };
	char			*in, *p, *end, tok[UPSLOT_TOKEN_MAX];
	uint64_t		 sz = 0;
	int64_t			 exp;
	size_t			 i;

	upslot_key_set(key);
	in = xmalloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	end = in + size;
	for (i = 0, p = in; i < 4 && p <= end; i++) {
		part[i] = p;
		p += strlen(p) + 1;
	}
	if (upslot_verify(part[0], part[1], part[2], part[3], 0, &sz) ==
	    UPSLOT_OK) {
		exp = strtoll(part[0], NULL, 10);
		upslot_sign(tok, part[1], part[2], sz, part[3], exp);
		FUZZ_CHECK(strcmp(tok, part[0]) == 0, "\"%s\" verified as "
		    "\"%s\"", part[0], tok);
	}
	/* the other way: what is signed verifies until it expires */
	sz = size;
	upslot_sign(tok, part[1], part[2], sz, part[3], 100);
	FUZZ_CHECK(upslot_verify(tok, part[1], part[2], part[3], 100, &sz) ==
	    UPSLOT_OK && sz == size, "a signed slot does not verify");
	FUZZ_CHECK(upslot_verify(tok, part[1], part[2], part[3], 101, &sz) ==
	    UPSLOT_EXPIRED, "an expired slot does not say so");
	free(in);
	return 0;
}
