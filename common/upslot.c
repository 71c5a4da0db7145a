/*
 * Signed upload slots (upslot.h). The MAC covers every field the HTTP
 * side enforces, each ended by a NUL so that no two slots share an input.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "upslot.h"
#include "util.h"

static uint8_t	upslot_key[UPSLOT_KEY_LEN];
static bool	upslot_key_have;

void
upslot_key_set(const uint8_t key[UPSLOT_KEY_LEN])
{
	explicit_bzero(upslot_key, sizeof(upslot_key));
	memcpy(upslot_key, key, UPSLOT_KEY_LEN);
	upslot_key_have = true;
}

bool
upslot_key_known(void)
{
	return upslot_key_have;
}

void
upslot_id(char out[UPSLOT_ID_LEN + 1])
{
	uint8_t	r[UPSLOT_ID_LEN / 2];

	random_bytes(r, sizeof(r));
	hex_encode(out, r, sizeof(r));
	out[UPSLOT_ID_LEN] = '\0';
}

static void
upslot_mac(char out[65], const char *id, const char *name, uint64_t size,
    const char *ctype, int64_t expiry)
{
	uint8_t	 md[32];
	char	 nums[48];
	char	*msg;
	size_t	 len, a, b, c, d;

	a = strlen(id) + 1;
	b = strlen(name) + 1;
	c = strlen(ctype) + 1;
	d = (size_t)snprintf(nums, sizeof(nums), "%" PRIu64 "-%" PRId64,
	    size, expiry) + 1;
	len = a + b + c + d;
	msg = xmalloc(len);
	memcpy(msg, id, a);
	memcpy(msg + a, name, b);
	memcpy(msg + a + b, ctype, c);
	memcpy(msg + a + b + c, nums, d);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, upslot_key, sizeof(upslot_key),
	    msg, len, md) < 0)
		memset(md, 0, sizeof(md));	/* matches no token */
	free(msg);
	hex_encode(out, md, sizeof(md));
	out[64] = '\0';
}

void
upslot_sign(char *out, const char *id, const char *name, uint64_t size,
    const char *ctype, int64_t expiry)
{
	char	mac[65];

	upslot_mac(mac, id, name, size, ctype, expiry);
	snprintf(out, UPSLOT_TOKEN_MAX, "%" PRId64 "-%" PRIu64 "-%s", expiry,
	    size, mac);
}

/* a decimal number without sign or leading zero, up to 18 digits */
static const char *
num_parse(const char *p, uint64_t *v)
{
	const char	*s = p;

	*v = 0;
	while (*p >= '0' && *p <= '9' && p - s < 18)
		*v = *v * 10 + (uint64_t)(*p++ - '0');
	if (p == s || (*s == '0' && p - s > 1))
		return NULL;
	return p;
}

enum upslot_check
upslot_verify(const char *token, const char *id, const char *name,
    const char *ctype, int64_t now, uint64_t *size)
{
	const char	*p;
	char		 mac[65];
	uint64_t	 exp, sz;
	unsigned char	 diff = 0;
	size_t		 i;

	if ((p = num_parse(token, &exp)) == NULL || *p++ != '-' ||
	    (p = num_parse(p, &sz)) == NULL || *p++ != '-' ||
	    strlen(p) != 64)
		return UPSLOT_BAD;
	upslot_mac(mac, id, name, sz, ctype, (int64_t)exp);
	/* in constant time: a forger learns nothing from how long it took */
	for (i = 0; i < 64; i++)
		diff |= (unsigned char)(mac[i] ^ p[i]);
	if (diff != 0)
		return UPSLOT_BAD;
	if ((int64_t)exp < now)
		return UPSLOT_EXPIRED;
	*size = sz;
	return UPSLOT_OK;
}

int
upslot_id_valid(const char *id)
{
	return strlen(id) == UPSLOT_ID_LEN &&
	    strspn(id, "0123456789abcdef") == UPSLOT_ID_LEN;
}

int
upslot_name_valid(const char *name)
{
	const unsigned char	*p;

	if (*name == '\0' || strlen(name) > UPSLOT_NAME_MAX ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return 0;
	return 1;
}
