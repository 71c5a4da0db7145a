/*
 * Dialback keys per XEP-0185: an HMAC over the two domains and the stream
 * id, keyed with a secret, so the authoritative server can recompute a key
 * when asked to verify it (XEP-0220) instead of storing it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "dialback.h"

#define DIALBACK_HASH_LEN	32	/* SHA-256 */

void
dialback_key(const char *secret, const char *receiving,
    const char *originating, const char *stream_id,
    char out[DIALBACK_KEY_LEN + 1])
{
	uint8_t	 digest[DIALBACK_HASH_LEN], mac[DIALBACK_HASH_LEN];
	char	 hexkey[2 * DIALBACK_HASH_LEN + 1];
	char	*text;

	/*
	 * XEP-0185 2, notes 2 and 4: the secret is hashed to get a key of
	 * sensible length, and the hash is used in its hex form. The HMAC
	 * key is thus the 64 hex characters, not the 32 bytes: the XEP's
	 * example only comes out that way.
	 */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret),
	    digest) < 0)
		fatalx("%s: gnutls_hash_fast failed", __func__);
	hex_encode(hexkey, digest, sizeof(digest));
	/* note 5: spaces keep "example.in" + "form.example.org" apart */
	text = xasprintf("%s %s %s", receiving, originating, stream_id);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, hexkey, strlen(hexkey), text,
	    strlen(text), mac) < 0)
		fatalx("%s: gnutls_hmac_fast failed", __func__);
	hex_encode(out, mac, sizeof(mac));
	free(text);
	explicit_bzero(digest, sizeof(digest));
	explicit_bzero(hexkey, sizeof(hexkey));
}

bool
dialback_key_equal(const char *presented, const char *expected)
{
	/* the length of a key is no secret; its bytes are */
	if (strnlen(presented, DIALBACK_KEY_LEN + 1) != DIALBACK_KEY_LEN ||
	    strnlen(expected, DIALBACK_KEY_LEN + 1) != DIALBACK_KEY_LEN)
		return false;
	return timingsafe_memcmp(presented, expected, DIALBACK_KEY_LEN) == 0;
}

int
dialback_verify_answer(struct buf *b, const char *from, const char *to,
    const char *id, bool valid)
{
	size_t	start = buf_avail(b);

	if (buf_puts(b, "<db:verify from='") |
	    xml_escape(b, to, strlen(to)) |
	    buf_puts(b, "' to='") |
	    xml_escape(b, from, strlen(from)) |
	    buf_puts(b, "' id='") |
	    xml_escape(b, id, strlen(id)) |
	    buf_printf(b, "' type='%s'/>", valid ? "valid" : "invalid")) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}
