/*
 * SCRAM credentials on the wire: the one place that knows the layout
 * link.h describes for LINK_AUTH_CRED and the control frames. A hash
 * may be absent (iterations and salt length 0: an account imported with
 * SCRAM-SHA-1 credentials only, docs/internals.md "Migration"), not all.
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
	int			 h, present = 0;

	memset(cr, 0, sizeof(*cr));
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		link_get_u32(in, &c->iter);
		link_get_strn(in, &salt, &saltlen);
		link_get_strn(in, &sk, &sklen);
		link_get_strn(in, &vk, &vklen);
		if (in->bad || salt == NULL || sk == NULL || vk == NULL ||
		    c->iter > SCRAM_ITER_MAX || saltlen > SCRAM_SALT_MAX ||
		    (c->iter == 0) != (saltlen == 0) ||
		    sklen != hlen || vklen != hlen)
			goto bad;
		c->saltlen = (uint8_t)saltlen;
		memcpy(c->salt, salt, saltlen);
		memcpy(c->stored_key, sk, hlen);
		memcpy(c->server_key, vk, hlen);
		present += c->iter != 0;
	}
	if (present > 0)
		return 0;
bad:
	in->bad = true;
	memset(cr, 0, sizeof(*cr));
	return -1;
}
