/*
 * SCRAM credentials on the wire: the one place that knows the layout
 * link.h describes for LINK_AUTH_CRED and the control frames.
 */
#include <string.h>

#include "credwire.h"

void
cred_put(struct link_out *m, const struct scram_creds *cr)
{
	const struct scram_cred	*c;
	size_t			 hlen;
	int			 h;

	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		link_put_u32(m, c->iter);
		link_put_strn(m, (const char *)c->salt, c->saltlen);
		link_put_strn(m, (const char *)c->stored_key, hlen);
		link_put_strn(m, (const char *)c->server_key, hlen);
	}
}

int
cred_get(struct link_in *in, struct scram_creds *cr)
{
	struct scram_cred	*c;
	const char		*salt, *sk, *vk;
	size_t			 saltlen, sklen, vklen, hlen;
	int			 h;

	memset(cr, 0, sizeof(*cr));
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		link_get_u32(in, &c->iter);
		link_get_strn(in, &salt, &saltlen);
		link_get_strn(in, &sk, &sklen);
		link_get_strn(in, &vk, &vklen);
		if (in->bad || salt == NULL || sk == NULL || vk == NULL ||
		    c->iter < 1 || c->iter > SCRAM_ITER_MAX ||
		    saltlen < 1 || saltlen > SCRAM_SALT_MAX ||
		    sklen != hlen || vklen != hlen) {
			in->bad = true;
			memset(cr, 0, sizeof(*cr));
			return -1;
		}
		c->saltlen = (uint8_t)saltlen;
		memcpy(c->salt, salt, saltlen);
		memcpy(c->stored_key, sk, hlen);
		memcpy(c->server_key, vk, hlen);
	}
	return 0;
}

static uint8_t *
enc_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *
enc_str(uint8_t *p, const uint8_t *s, size_t len)
{
	p = enc_u32(p, (uint32_t)len);
	memcpy(p, s, len);
	return p + len;
}

size_t
cred_encode(uint8_t *out, size_t max, const struct scram_creds *cr)
{
	const struct scram_cred	*c;
	uint8_t			*p = out;
	size_t			 need, hlen;
	int			 h;

	need = 0;
	for (h = 0; h < SCRAM_NHASH; h++)
		need += 4 + 4 + cr->h[h].saltlen +
		    2 * (4 + scram_hash_len((enum scram_hash)h));
	if (need > max)
		return 0;
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		p = enc_u32(p, c->iter);
		p = enc_str(p, c->salt, c->saltlen);
		p = enc_str(p, c->stored_key, hlen);
		p = enc_str(p, c->server_key, hlen);
	}
	return (size_t)(p - out);
}
