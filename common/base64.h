/*
 * Base64 (RFC 4648, with padding, no line breaks) for SASL payloads.
 */
#ifndef PARLEY_BASE64_H
#define PARLEY_BASE64_H

#include <stddef.h>

#include "buf.h"

/* appends the encoding of in to out; -1 past the buffer's cap */
int	base64_encode(struct buf *out, const void *in, size_t len);
/*
 * Appends the decoding to out. Whitespace is not allowed (RFC 6120 6.4.2:
 * SASL data carries none). "=" alone is the empty string. Returns -1 on
 * invalid input (bad characters, bad padding, non-zero trailing bits).
 */
int	base64_decode(struct buf *out, const char *in, size_t len);
/*
 * The bytes base64_decode would write for in[0..len), from its length and
 * padding alone; valid only if the decoding succeeds. Lets a caller tell
 * data over its limit from data badly encoded.
 */
size_t	base64_decoded_len(const char *in, size_t len);

#endif
