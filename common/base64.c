/*
 * Base64 (RFC 4648 section 4) for SASL payloads and SCRAM attributes. The
 * decoder is strict: padding required, no whitespace, canonical trailing
 * bits, so that one byte string has exactly one accepted encoding.
 */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "buf.h"

static const char	b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct buf *out, const void *in, size_t len)
{
	const uint8_t	*p = in;
	char		*w;
	size_t		 n, i, o;
	uint32_t	 v;

	if (len > (SIZE_MAX - 2) / 4 * 3)
		return -1;
	n = (len + 2) / 3 * 4;
	if (n == 0)
		return 0;
	if ((w = buf_reserve(out, n)) == NULL)
		return -1;
	for (i = 0, o = 0; i + 3 <= len; i += 3, o += 4) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		w[o] = b64_alphabet[v >> 18];
		w[o + 1] = b64_alphabet[(v >> 12) & 0x3f];
		w[o + 2] = b64_alphabet[(v >> 6) & 0x3f];
		w[o + 3] = b64_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		w[o] = b64_alphabet[v >> 18];
		w[o + 1] = b64_alphabet[(v >> 12) & 0x3f];
		w[o + 2] = '=';
		w[o + 3] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		w[o] = b64_alphabet[v >> 18];
		w[o + 1] = b64_alphabet[(v >> 12) & 0x3f];
		w[o + 2] = b64_alphabet[(v >> 6) & 0x3f];
		w[o + 3] = '=';
	}
	buf_commit(out, n);
	return 0;
}

/* 0-63, or -1 for anything outside the alphabet (including '=') */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
base64_decoded_len(const char *in, size_t len)
{
	size_t	pad = 0;

	if (len < 4)
		return 0;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	return len / 4 * 3 - pad;
}

int
base64_decode(struct buf *out, const char *in, size_t len)
{
	const unsigned char	*p = (const unsigned char *)in;
	char			*w;
	size_t			 i, o, n, pad;
	int			 a, b, c, d;

	/* RFC 6120 6.4.2: "=" stands for an empty response */
	if (len == 0 || (len == 1 && in[0] == '='))
		return 0;
	if (len % 4 != 0)
		return -1;
	pad = 0;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	n = len / 4 * 3 - pad;
	if ((w = buf_reserve(out, n)) == NULL)
		return -1;
	for (i = 0, o = 0; i < len; i += 4) {
		a = b64_value(p[i]);
		b = b64_value(p[i + 1]);
		if (a < 0 || b < 0)
			return -1;
		if (i + 4 == len && pad == 2) {
			/* RFC 4648 3.5: the unused bits must be zero */
			if ((b & 0x0f) != 0)
				return -1;
			w[o++] = (char)(a << 2 | b >> 4);
			break;
		}
		c = b64_value(p[i + 2]);
		if (c < 0)
			return -1;
		if (i + 4 == len && pad == 1) {
			if ((c & 0x03) != 0)
				return -1;
			w[o++] = (char)(a << 2 | b >> 4);
			w[o++] = (char)((b & 0x0f) << 4 | c >> 2);
			break;
		}
		d = b64_value(p[i + 3]);
		if (d < 0)
			return -1;
		w[o++] = (char)(a << 2 | b >> 4);
		w[o++] = (char)((b & 0x0f) << 4 | c >> 2);
		w[o++] = (char)((c & 0x03) << 6 | d);
	}
	/* nothing was committed on the error paths above */
	buf_commit(out, n);
	return 0;
}
