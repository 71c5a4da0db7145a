/*
 * WebSocket client framing (RFC 6455 5) for the load generator's RFC 7395
 * sessions: a client masks every frame (5.3), a server never does (5.1).
 */
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "wsclient.h"

void
ws_frame(struct obuf *b, int op, const void *p, size_t n,
    const uint8_t key[4])
{
	uint8_t		 h[14];
	size_t		 hl = 2, i;
	const uint8_t	*s = p;
	char		*d;

	h[0] = 0x80 | (op & 0x0f);
	/* 5.2: 7 bits, or 126 and 16 bits, or 127 and 64 bits */
	if (n < 126)
		h[1] = 0x80 | (uint8_t)n;
	else if (n <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(h + hl, key, 4);
	hl += 4;
	obuf_append(b, h, hl);
	obuf_reserve(b, n);
	d = b->data + b->len;
	for (i = 0; i < n; i++)
		d[i] = (char)(s[i] ^ key[i & 3]);
	b->len += n;
}

/* the header's length once its first two bytes are known */
static size_t
hdr_need(const uint8_t *h)
{
	switch (h[1] & 0x7f) {
	case 126: return 4;
	case 127: return 10;
	default: return 2;
	}
}

static int
hdr_done(struct ws_rx *r, const char **why)
{
	uint64_t	len;
	size_t		i;

	/* 5.2: no extension was negotiated, so no RSV bit */
	if (r->hdr[0] & 0x70)
		return *why = "reserved bit set", -1;
	if (r->hdr[1] & 0x80)
		return *why = "masked server frame", -1;
	r->op = r->hdr[0] & 0x0f;
	r->fin = (r->hdr[0] & 0x80) != 0;
	len = r->hdr[1] & 0x7f;
	if (len == 126)
		len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
	else if (len == 127) {
		if (r->hdr[2] & 0x80)
			return *why = "length over 63 bits", -1;
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | r->hdr[i];
	}
	if (r->op & 0x8) {
		/* 5.5: control frames are short and never fragmented */
		if (len > 125 || !r->fin)
			return *why = "bad control frame", -1;
		if (r->op != WS_CLOSE && r->op != WS_PING && r->op != WS_PONG)
			return *why = "unknown opcode", -1;
	} else if (r->op == WS_CONT) {
		if (r->msg_op == 0)
			return *why = "continuation of nothing", -1;
	} else if (r->op == 0x1 || r->op == 0x2) {
		if (r->msg_op != 0)
			return *why = "new message inside a message", -1;
		r->msg_op = r->op;
	} else
		return *why = "unknown opcode", -1;
	r->left = len;
	r->ctllen = 0;
	return 0;
}

static int
frame_end(struct ws_rx *r, ws_cb cb, void *arg)
{
	int	op = r->op, rc = 0;

	r->hlen = r->need = 0;
	if (op & 0x8)
		return cb(arg, op, (const char *)r->ctl, r->ctllen, true);
	if (r->fin) {
		op = r->msg_op;
		r->msg_op = 0;
		/* the message's end, carrying no byte */
		rc = cb(arg, op, "", 0, true);
	}
	return rc;
}

int
ws_rx_feed(struct ws_rx *r, const char *p, size_t n, ws_cb cb, void *arg,
    const char **why)
{
	size_t	k;

	*why = NULL;
	while (n > 0) {
		if (r->need == 0 || r->hlen < r->need) {
			r->hdr[r->hlen++] = (uint8_t)*p++;
			n--;
			if (r->hlen == 2)
				r->need = hdr_need(r->hdr);
			if (r->hlen < 2 || r->hlen < r->need)
				continue;
			if (hdr_done(r, why) == -1)
				return -1;
			if (r->left == 0 && frame_end(r, cb, arg) == -1)
				return -1;
			continue;
		}
		k = n < r->left ? n : (size_t)r->left;
		if (r->op & 0x8) {
			memcpy(r->ctl + r->ctllen, p, k);
			r->ctllen += k;
		} else if (cb(arg, r->msg_op, p, k, false) == -1)
			return -1;
		p += k;
		n -= k;
		r->left -= k;
		if (r->left == 0 && frame_end(r, cb, arg) == -1)
			return -1;
	}
	return 0;
}

void
ws_accept(const char *key, char out[29])
{
	static const char	 guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char			 s[128];
	uint8_t			 dig[20];

	snprintf(s, sizeof(s), "%s%s", key, guid);
	gnutls_hash_fast(GNUTLS_DIG_SHA1, s, strlen(s), dig);
	b64_encode(dig, sizeof(dig), out, 29);
}
