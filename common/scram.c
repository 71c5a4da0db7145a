/*
 * SCRAM credential derivation (RFC 5802 section 3, RFC 7677) on GnuTLS
 * primitives, and SASLprep (RFC 4013) through libidn. The exchange itself
 * lives in c2s/sasl.c; storage and parleyctl only need scram_creds_make().
 */
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <stringprep.h>

#include "log.h"
#include "scram.h"
#include "util.h"

/* longest SASLprepped password or username we handle, NUL included */
#define SCRAM_PREP_MAX	1024

static gnutls_mac_algorithm_t
scram_mac_alg(enum scram_hash h)
{
	switch (h) {
	case SCRAM_SHA1:
		return GNUTLS_MAC_SHA1;
	case SCRAM_SHA256:
		return GNUTLS_MAC_SHA256;
	default:
		fatalx("%s: bad hash %d", __func__, (int)h);
	}
}

static gnutls_digest_algorithm_t
scram_dig_alg(enum scram_hash h)
{
	switch (h) {
	case SCRAM_SHA1:
		return GNUTLS_DIG_SHA1;
	case SCRAM_SHA256:
		return GNUTLS_DIG_SHA256;
	default:
		fatalx("%s: bad hash %d", __func__, (int)h);
	}
}

size_t
scram_hash_len(enum scram_hash h)
{
	return h == SCRAM_SHA1 ? 20 : 32;
}

const char *
scram_hash_name(enum scram_hash h)
{
	switch (h) {
	case SCRAM_SHA1:
		return "SHA-1";
	case SCRAM_SHA256:
		return "SHA-256";
	default:
		return "unknown";
	}
}

/*
 * flags: 0 prepares a query string (unassigned code points allowed, RFC
 * 4013 section 2.5 and RFC 5802 section 2.2), STRINGPREP_NO_UNASSIGNED a
 * stored string.
 */
static int
scram_prep(const char *in, char *out, size_t outlen, int flags)
{
	size_t	len;

	len = strlen(in);
	if (outlen == 0 || len >= outlen)
		return -1;
	memcpy(out, in, len + 1);
	/* libidn rejects invalid UTF-8 as well as prohibited output */
	if (stringprep(out, outlen, flags, stringprep_saslprep) !=
	    STRINGPREP_OK) {
		explicit_bzero(out, outlen);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
scram_saslprep(const char *in, char *out, size_t outlen)
{
	return scram_prep(in, out, outlen, 0);
}

void
scram_hmac(enum scram_hash h, const void *key, size_t keylen,
    const void *msg, size_t msglen, uint8_t *out)
{
	if (gnutls_hmac_fast(scram_mac_alg(h), key, keylen, msg, msglen,
	    out) < 0)
		fatalx("%s: gnutls_hmac_fast failed", __func__);
}

void
scram_h(enum scram_hash h, const void *msg, size_t len, uint8_t *out)
{
	if (gnutls_hash_fast(scram_dig_alg(h), msg, len, out) < 0)
		fatalx("%s: gnutls_hash_fast failed", __func__);
}

/* Hi() is PBKDF2 with HMAC and dkLen = the hash length (RFC 5802 2.2) */
static int
scram_hi(enum scram_hash h, const char *prepped, const uint8_t *salt,
    size_t saltlen, uint32_t iter, uint8_t *out)
{
	gnutls_datum_t	key, sd;

	if (prepped[0] == '\0' || saltlen == 0 || iter == 0 ||
	    iter > SCRAM_ITER_MAX)
		return -1;
	key.data = (unsigned char *)(uintptr_t)prepped;
	key.size = (unsigned int)strlen(prepped);
	sd.data = (unsigned char *)(uintptr_t)salt;
	sd.size = (unsigned int)saltlen;
	if (gnutls_pbkdf2(scram_mac_alg(h), &key, &sd, iter, out,
	    scram_hash_len(h)) < 0)
		return -1;
	return 0;
}

int
scram_salted_password(enum scram_hash h, const char *password,
    const uint8_t *salt, size_t saltlen, uint32_t iter, uint8_t *out)
{
	char	prepped[SCRAM_PREP_MAX];
	int	rc;

	if (scram_saslprep(password, prepped, sizeof(prepped)) == -1)
		return -1;
	rc = scram_hi(h, prepped, salt, saltlen, iter, out);
	explicit_bzero(prepped, sizeof(prepped));
	return rc;
}

void
scram_cred_from_salted(struct scram_cred *c, enum scram_hash h,
    const uint8_t *salted, const uint8_t *salt, size_t saltlen,
    uint32_t iter)
{
	uint8_t	client_key[SCRAM_KEY_MAX];
	size_t	hl = scram_hash_len(h);

	if (saltlen > SCRAM_SALT_MAX)
		fatalx("%s: salt too long", __func__);
	memset(c, 0, sizeof(*c));
	c->iter = iter;
	c->saltlen = (uint8_t)saltlen;
	memcpy(c->salt, salt, saltlen);
	/* RFC 5802 3: StoredKey = H(HMAC(SaltedPassword, "Client Key")) */
	scram_hmac(h, salted, hl, "Client Key", 10, client_key);
	scram_h(h, client_key, hl, c->stored_key);
	scram_hmac(h, salted, hl, "Server Key", 10, c->server_key);
	explicit_bzero(client_key, sizeof(client_key));
}

int
scram_creds_make(struct scram_creds *cs, const char *password,
    uint32_t iter)
{
	char		prepped[SCRAM_PREP_MAX];
	uint8_t		salt[SCRAM_SALT_LEN], salted[SCRAM_KEY_MAX];
	int		h, rc = -1;

	memset(cs, 0, sizeof(*cs));
	if (iter == 0)
		iter = SCRAM_ITER_DEFAULT;
	/* a password we store is a stored string: RFC 4013 2.5 */
	if (scram_prep(password, prepped, sizeof(prepped),
	    STRINGPREP_NO_UNASSIGNED) == -1)
		return -1;
	for (h = 0; h < SCRAM_NHASH; h++) {
		random_bytes(salt, sizeof(salt));
		if (scram_hi(h, prepped, salt, sizeof(salt), iter,
		    salted) == -1)
			goto done;
		scram_cred_from_salted(&cs->h[h], h, salted, salt,
		    sizeof(salt), iter);
	}
	rc = 0;
done:
	explicit_bzero(prepped, sizeof(prepped));
	explicit_bzero(salted, sizeof(salted));
	if (rc == -1)
		memset(cs, 0, sizeof(*cs));
	return rc;
}
