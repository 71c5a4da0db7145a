/*
 * Server dialback keys (XEP-0220), generated as XEP-0185 recommends, and
 * the authoritative server's answer. The stream side of dialback is
 * elsewhere; a key is recomputed, so that the authoritative side can
 * check one it issued without remembering it.
 */
#ifndef PARLEY_DIALBACK_H
#define PARLEY_DIALBACK_H

#include <stdbool.h>

#define DIALBACK_KEY_LEN	64	/* hex chars, without NUL */

/*
 * XEP-0185 2: key = HEX(HMAC-SHA256(HEX(SHA256(secret)),
 * receiving + " " + originating + " " + stream_id)), lower-case hex.
 * Borrows every argument; writes DIALBACK_KEY_LEN chars and a NUL.
 */
void	dialback_key(const char *secret, const char *receiving,
	    const char *originating, const char *stream_id,
	    char out[DIALBACK_KEY_LEN + 1]);
/*
 * Compares a presented key with the expected one in constant time; false
 * when either is not DIALBACK_KEY_LEN chars long. The caller strips any
 * whitespace around the element's text first. Case matters: we only ever
 * check keys we generated.
 */
bool	dialback_key_equal(const char *presented, const char *expected);

struct buf;
/*
 * XEP-0220 2.1.3: the authoritative server's answer to a db:verify that
 * came from `from' to `to' (the answer swaps them), appended to b whole:
 * -1, b as it was, if it would pass b's cap.
 */
int	dialback_verify_answer(struct buf *b, const char *from,
	    const char *to, const char *id, bool valid);

#endif
