/*
 * SASL server mechanisms without I/O: SCRAM-SHA-256 and SCRAM-SHA-1 (RFC
 * 5802, RFC 7677), with channel binding as -PLUS (RFC 5802 6, RFC 9266),
 * and PLAIN (RFC 4616), all checked against the stored SCRAM
 * credentials. Every client message is parsed
 * strictly against the RFC grammar; anything else is malformed-request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base64.h"
#include "../common/buf.h"
#include "../common/log.h"
#include "../common/scram.h"
#include "../common/util.h"
#include "../common/xmpp.h"
#include "sasl.h"

#define SASL_MSG_MAX	4096	/* bytes of one decoded client message */
#define SASL_FIELD_MAX	1023	/* username, authzid, password bytes */
#define SASL_CNONCE_MAX	256	/* client nonce; clients send 16-32 */
#define SASL_SNONCE_LEN	24	/* random bytes of our nonce part */
#define SASL_FAKE_ITER	SCRAM_ITER_DEFAULT

enum sasl_state {
	SASL_ST_START,		/* waiting for the (initial) response */
	SASL_ST_CREDS,		/* SASL_NEED_CREDS returned */
	SASL_ST_FINAL,		/* SCRAM: server-first sent */
	SASL_ST_WORK,		/* PLAIN: SASL_NEED_WORK returned */
	SASL_ST_DONE		/* success or failure returned */
};

struct sasl {
	enum sasl_mech	 mech;
	enum scram_hash	 hash;
	enum sasl_state	 state;
	enum sasl_err	 err;
	bool		 empty_sent;	/* answered an absent first response */
	bool		 fake;		/* no such account: fail at the end */
	bool		 async;		/* PLAIN: SASL_NEED_WORK, no PBKDF2 */
	bool		 plus_offered;	/* -PLUS advertised: "y" refused */
	bool		 bound;		/* gs2 "p": cbtype's data in c= */
	enum sasl_cb	 cbtype;
	const char	*errtext;	/* static */
	struct {
		bool	 set;
		size_t	 len;
		uint8_t	 data[SASL_CB_MAX];
	} cb[SASL_NCB];
	uint8_t		 ht_keys[SASL_HT_KEYS][SASL_HT_KEYLEN];
	size_t		 ht_nkeys;
	int		 ht_used;
	uint8_t		 ht_proof[SASL_HT_KEYLEN];
	char		*ssdp;		/* XEP-0474 S, or NULL */
	size_t		 ssdplen;
	char		*username;	/* SASLprepped authcid */
	char		*account;	/* node@domain, keys a fake salt */
	char		*authzid;
	char		*password;	/* PLAIN, until the credentials come */
	char		*gs2;		/* SCRAM gs2-header as sent */
	size_t		 gs2len;
	char		*cfirst_bare;	/* client-first-message-bare */
	char		*cnonce;
	char		*nonce;		/* cnonce followed by our part */
	char		*sfirst;	/* server-first-message */
	char		*test_snonce;
	struct scram_cred cred;
};

static const char *const sasl_mech_names[SASL_NMECH] = {
	[SASL_SCRAM_SHA256] = "SCRAM-SHA-256",
	[SASL_SCRAM_SHA1] = "SCRAM-SHA-1",
	[SASL_PLAIN] = "PLAIN",
	[SASL_SCRAM_SHA256_PLUS] = "SCRAM-SHA-256-PLUS",
	[SASL_SCRAM_SHA1_PLUS] = "SCRAM-SHA-1-PLUS",
	[SASL_HT_SHA256_NONE] = "HT-SHA-256-NONE",
	[SASL_HT_SHA256_ENDP] = "HT-SHA-256-ENDP",
	[SASL_HT_SHA256_EXPR] = "HT-SHA-256-EXPR",
	[SASL_HT_SHA256_UNIQ] = "HT-SHA-256-UNIQ",
};

static const char *const sasl_cb_names[SASL_NCB] = {
	[SASL_CB_EXPORTER] = "tls-exporter",
	[SASL_CB_ENDPOINT] = "tls-server-end-point",
	[SASL_CB_UNIQUE] = "tls-unique",
};

/*
 * Keys the fake salts of unknown users. It must be the same in every c2s
 * process and across restarts, as a real account's salt is: the router
 * hands it over its link (sasl_secret_put). The c2s takes no login before
 * it has it (sasl_secret_known, auth.c); code that drives the mechanisms
 * without a router (unit tests, fuzzers) gets one made up.
 */
static uint8_t	sasl_secret[SASL_SECRET_LEN];
static bool	sasl_secret_router;	/* the router's */
static bool	sasl_secret_made;	/* made up, for want of it */

const char *
sasl_mech_name(enum sasl_mech m)
{
	if ((unsigned)m >= SASL_NMECH)
		return "unknown";
	return sasl_mech_names[m];
}

int
sasl_mech_lookup(const char *name)
{
	int	i;

	for (i = 0; i < SASL_NMECH; i++)
		if (strcmp(name, sasl_mech_names[i]) == 0)
			return i;
	return -1;
}

bool
sasl_mech_plus(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA256_PLUS || m == SASL_SCRAM_SHA1_PLUS;
}

bool
sasl_mech_ht(enum sasl_mech m)
{
	return m >= SASL_HT_SHA256_NONE && m <= SASL_HT_SHA256_UNIQ;
}

enum sasl_cb
sasl_mech_cb(enum sasl_mech m)
{
	switch (m) {
	case SASL_HT_SHA256_ENDP:
		return SASL_CB_ENDPOINT;
	case SASL_HT_SHA256_EXPR:
		return SASL_CB_EXPORTER;
	case SASL_HT_SHA256_UNIQ:
		return SASL_CB_UNIQUE;
	default:
		return SASL_NCB;
	}
}

const char *
sasl_cb_name(enum sasl_cb t)
{
	if ((unsigned)t >= SASL_NCB)
		return "unknown";
	return sasl_cb_names[t];
}

struct sasl *
sasl_new(enum sasl_mech m)
{
	struct sasl	*s;

	if ((unsigned)m >= SASL_NMECH)
		fatalx("%s: bad mechanism %d", __func__, (int)m);
	s = xcalloc(1, sizeof(*s));
	s->mech = m;
	s->hash = m == SASL_SCRAM_SHA1 || m == SASL_SCRAM_SHA1_PLUS ?
	    SCRAM_SHA1 : SCRAM_SHA256;
	s->state = SASL_ST_START;
	s->err = SASLERR_NONE;
	s->ht_used = -1;
	return s;
}

static void
sasl_wipe_password(struct sasl *s)
{
	if (s->password == NULL)
		return;
	explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	s->password = NULL;
}

void
sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	sasl_wipe_password(s);
	free(s->username);
	free(s->account);
	free(s->authzid);
	free(s->gs2);
	free(s->cfirst_bare);
	free(s->cnonce);
	free(s->nonce);
	free(s->sfirst);
	free(s->test_snonce);
	free(s->ssdp);
	explicit_bzero(s->ht_keys, sizeof(s->ht_keys));
	explicit_bzero(&s->cred, sizeof(s->cred));
	free(s);
}

const char *
sasl_username(const struct sasl *s)
{
	return s->username;
}

const char *
sasl_authzid(const struct sasl *s)
{
	return s->authzid;
}

enum sasl_err
sasl_error(const struct sasl *s)
{
	return s->err;
}

const char *
sasl_error_text(const struct sasl *s)
{
	return s->errtext;
}

void
sasl_set_cb(struct sasl *s, enum sasl_cb t, const uint8_t *data,
    size_t len)
{
	if ((unsigned)t >= SASL_NCB || len == 0 || len > SASL_CB_MAX)
		fatalx("%s: bad binding %d of %zu bytes", __func__, (int)t,
		    len);
	memcpy(s->cb[t].data, data, len);
	s->cb[t].len = len;
	s->cb[t].set = true;
}

void
sasl_set_plus_offered(struct sasl *s, bool on)
{
	s->plus_offered = on;
}

void
sasl_set_ssdp(struct sasl *s, const char *str, size_t len)
{
	free(s->ssdp);
	s->ssdp = xmalloc(len + 1);
	memcpy(s->ssdp, str, len);
	s->ssdp[len] = '\0';
	s->ssdplen = len;
}

void
sasl_set_ht_keys(struct sasl *s, const uint8_t keys[][32], size_t n)
{
	if (n > SASL_HT_KEYS)
		fatalx("%s: %zu keys", __func__, n);
	memcpy(s->ht_keys, keys, n * SASL_HT_KEYLEN);
	s->ht_nkeys = n;
}

int
sasl_ht_used(const struct sasl *s)
{
	return s->ht_used;
}

void
sasl_test_set_nonce(struct sasl *s, const char *snonce)
{
	free(s->test_snonce);
	s->test_snonce = xstrdup(snonce);
}

static enum sasl_rc
sasl_fail_text(struct sasl *s, enum sasl_err err, const char *text)
{
	s->errtext = text;
	s->state = SASL_ST_DONE;
	s->err = err;
	sasl_wipe_password(s);
	explicit_bzero(&s->cred, sizeof(s->cred));
	return SASL_FAILURE;
}

static enum sasl_rc
sasl_fail(struct sasl *s, enum sasl_err err)
{
	return sasl_fail_text(s, err, NULL);
}

/*
 * RFC 5802 7 saslname: value-safe-chars with "," and "=" written as "=2C"
 * and "=3D"; any other "=" is malformed. Returns new, or NULL.
 */
static char *
sasl_saslname_decode(const char *in, size_t len)
{
	char	*out;
	size_t	 i, o;

	if (len == 0 || len > SASL_FIELD_MAX * 3)
		return NULL;
	out = xmalloc(len + 1);
	for (i = 0, o = 0; i < len; i++) {
		if (in[i] == ',' || in[i] == '\0')
			goto bad;
		if (in[i] != '=') {
			out[o++] = in[i];
			continue;
		}
		if (len - i < 3)
			goto bad;
		if (in[i + 1] == '2' && in[i + 2] == 'C')
			out[o++] = ',';
		else if (in[i + 1] == '3' && in[i + 2] == 'D')
			out[o++] = '=';
		else
			goto bad;
		i += 2;
	}
	out[o] = '\0';
	if (o > SASL_FIELD_MAX || !utf8_valid(out, o))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* SASLprep of an identity as a query string; returns new, or NULL */
static char *
sasl_prep_name(const char *name)
{
	char	prepped[SASL_FIELD_MAX + 1];

	if (scram_saslprep(name, prepped, sizeof(prepped)) == -1 ||
	    prepped[0] == '\0')
		return NULL;
	return xstrdup(prepped);
}

/*
 * Length of the attribute value starting at p (up to "," or the end);
 * the caller has checked the message holds no NUL.
 */
static size_t
sasl_attr_len(const char *p)
{
	return strcspn(p, ",");
}

/*
 * RFC 5802 7: extensions = attr-val *("," attr-val), attr-val = ALPHA "="
 * value, value = 1*value-char. p points after a ","; stop (if not NULL)
 * names a letter that ends the list instead (the proof in client-final).
 * Returns the end of the list or NULL.
 */
static const char *
sasl_skip_extensions(const char *p, char stop)
{
	size_t	n;

	for (;;) {
		if (stop != '\0' && p[0] == stop && p[1] == '=')
			return p;
		if (!((p[0] >= 'a' && p[0] <= 'z') ||
		    (p[0] >= 'A' && p[0] <= 'Z')) || p[1] != '=')
			return NULL;
		n = sasl_attr_len(p + 2);
		if (n == 0 || !utf8_valid(p + 2, n))
			return NULL;
		p += 2 + n;
		if (*p == '\0')
			return stop == '\0' ? p : NULL;
		p++;
	}
}

/* RFC 5802 7: c-nonce = 1*printable, printable = %x21-2B / %x2D-7E */
static bool
sasl_nonce_valid(const char *p, size_t n)
{
	size_t	i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/*
 * RFC 5802 7: gs2-cbind-flag = ("p=" cb-name) / "n" / "y", then ",";
 * cb-name = 1*(ALPHA / DIGIT / "." / "-"). On -1 the exchange has
 * failed (the condition is set); otherwise *pp is past the ",".
 */
static int
scram_gs2_flag(struct sasl *s, char **pp)
{
	char	*p = *pp;
	size_t	 n;
	int	 t;

	if (p[0] == 'p' && p[1] == '=') {
		n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (n == 0 || p[2 + n] != ',')
			goto malformed;
		/*
		 * "p" on a mechanism without binding: RFC 5802 would answer
		 * e=channel-bindings-not-supported, for which RFC 6120 6.5
		 * has no condition; the request does not fit the chosen
		 * mechanism, so malformed-request, not not-authorized
		 * (which would suggest a bad password).
		 */
		if (!sasl_mech_plus(s->mech)) {
			sasl_fail_text(s, SASLERR_MALFORMED_REQUEST,
			    "channel binding needs a -PLUS mechanism");
			return -1;
		}
		for (t = 0; t < SASL_NCB; t++)
			if (strlen(sasl_cb_names[t]) == n &&
			    memcmp(p + 2, sasl_cb_names[t], n) == 0)
				break;
		/* RFC 5802 7 e=unsupported-channel-binding-type */
		if (t == SASL_NCB || !s->cb[t].set) {
			sasl_fail_text(s, SASLERR_MALFORMED_REQUEST,
			    "unsupported channel-binding type");
			return -1;
		}
		s->bound = true;
		s->cbtype = (enum sasl_cb)t;
		*pp = p + 3 + n;
		return 0;
	}
	if ((p[0] != 'n' && p[0] != 'y') || p[1] != ',')
		goto malformed;
	if (sasl_mech_plus(s->mech)) {
		sasl_fail_text(s, SASLERR_MALFORMED_REQUEST,
		    "a -PLUS mechanism needs channel binding");
		return -1;
	}
	/*
	 * RFC 5802 6: "y" says the client could bind but believes we
	 * cannot. We advertised -PLUS, so someone stripped it on the way:
	 * e=server-does-support-channel-binding, a failed authentication.
	 */
	if (p[0] == 'y' && s->plus_offered) {
		sasl_fail_text(s, SASLERR_NOT_AUTHORIZED,
		    "channel binding is supported: downgrade refused");
		return -1;
	}
	*pp = p + 2;
	return 0;
malformed:
	sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	return -1;
}

static enum sasl_rc
scram_client_first(struct sasl *s, const char *in, size_t len)
{
	char		*msg, *p;
	size_t		 n;
	char		*user = NULL;

	msg = xstrndup(in, len);
	p = msg;
	if (scram_gs2_flag(s, &p) == -1) {
		free(msg);
		return SASL_FAILURE;
	}
	if (p[0] == 'a' && p[1] == '=') {
		n = sasl_attr_len(p + 2);
		if ((s->authzid = sasl_saslname_decode(p + 2, n)) == NULL)
			goto fail;
		p += 2 + n;
	}
	if (*p != ',')
		goto fail;
	p++;
	s->gs2len = (size_t)(p - msg);
	s->gs2 = xstrndup(msg, s->gs2len);
	s->cfirst_bare = xstrdup(p);

	/* reserved-mext: we know no mandatory extension (RFC 5802 5.1) */
	if (p[0] != 'n' || p[1] != '=')
		goto fail;
	n = sasl_attr_len(p + 2);
	if ((user = sasl_saslname_decode(p + 2, n)) == NULL)
		goto fail;
	p += 2 + n;
	if (strncmp(p, ",r=", 3) != 0)
		goto fail;
	p += 3;
	n = sasl_attr_len(p);
	if (n > SASL_CNONCE_MAX || !sasl_nonce_valid(p, n))
		goto fail;
	s->cnonce = xstrndup(p, n);
	p += n;
	if (*p == ',' && sasl_skip_extensions(p + 1, '\0') == NULL)
		goto fail;
	/* RFC 5802 5.1: a username SASLprep rejects is invalid-encoding */
	if ((s->username = sasl_prep_name(user)) == NULL)
		goto fail;
	free(user);
	free(msg);
	s->state = SASL_ST_CREDS;
	return SASL_NEED_CREDS;
fail:
	free(user);
	free(msg);
	return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
}

static void
sasl_secret_init(void)
{
	if (sasl_secret_router || sasl_secret_made)
		return;
	random_bytes(sasl_secret, sizeof(sasl_secret));
	sasl_secret_made = true;
}

void
sasl_secret_put(const uint8_t key[SASL_SECRET_LEN])
{
	explicit_bzero(sasl_secret, sizeof(sasl_secret));
	memcpy(sasl_secret, key, sizeof(sasl_secret));
	sasl_secret_router = true;
}

bool
sasl_secret_known(void)
{
	return sasl_secret_router;
}

void
sasl_secret_clear(void)
{
	explicit_bzero(sasl_secret, sizeof(sasl_secret));
	sasl_secret_router = sasl_secret_made = false;
}

void
sasl_keyed_hash(const char *msg, size_t len, uint8_t out[32])
{
	sasl_secret_init();
	scram_hmac(SCRAM_SHA256, sasl_secret, sizeof(sasl_secret), msg, len,
	    out);
}

void
sasl_set_account(struct sasl *s, const char *node, const char *domain)
{
	free(s->account);
	s->account = xasprintf("%s@%s", node, domain);
}

/*
 * Credentials for an unknown account: the salt is the same on every try
 * for one account and hash, in every c2s process and across restarts, as
 * a real account's would be, so that probing twice does not tell the two
 * apart. Keyed on the normalised account (sasl_set_account): "Alice" and
 * "alice" are one account with one salt.
 */
static void
sasl_fake_cred(struct sasl *s, enum scram_hash h, struct scram_cred *c)
{
	struct buf	m;
	uint8_t		mac[SCRAM_KEY_MAX];

	sasl_secret_init();
	memset(c, 0, sizeof(*c));
	/* a hash name and a name taken from one client message */
	buf_init(&m, SASL_MSG_MAX + 64);
	if (buf_puts(&m, scram_hash_name(h)) == -1 ||
	    buf_append(&m, "", 1) == -1 || buf_puts(&m, s->account != NULL ?
	    s->account : s->username) == -1)
		fatalx("%s: buffer", __func__);
	scram_hmac(SCRAM_SHA256, sasl_secret, sizeof(sasl_secret),
	    buf_rptr(&m), buf_avail(&m), mac);
	buf_clear(&m);
	c->iter = SASL_FAKE_ITER;
	c->saltlen = SCRAM_SALT_LEN;
	memcpy(c->salt, mac, SCRAM_SALT_LEN);
	/* no proof can match random keys, whatever the fake flag says */
	random_bytes(c->stored_key, sizeof(c->stored_key));
	random_bytes(c->server_key, sizeof(c->server_key));
	s->fake = true;
}

static bool
sasl_cred_usable(const struct scram_cred *c)
{
	return c->iter != 0 && c->iter <= SCRAM_ITER_MAX && c->saltlen != 0 &&
	    c->saltlen <= SCRAM_SALT_MAX;
}

/*
 * XEP-0474 4.1: the optional attribute h, base64 of the mechanism's hash
 * of S, ends the server-first-message: part of AuthMessage, so a client
 * that compares it with what it saw advertised detects stripped lists.
 */
static void
scram_add_ssdp(struct sasl *s)
{
	struct buf	 b;
	uint8_t		 h[SCRAM_KEY_MAX];
	char		*old = s->sfirst;

	scram_h(s->hash, s->ssdp, s->ssdplen, h);
	buf_init(&b, 2 * SCRAM_KEY_MAX + 8);
	if (base64_encode(&b, h, scram_hash_len(s->hash)) == -1)
		fatalx("%s: buffer", __func__);
	s->sfirst = xasprintf("%s,h=%s", old, buf_cstr(&b));
	free(old);
	buf_clear(&b);
}

static enum sasl_rc
scram_server_first(struct sasl *s, const struct scram_creds *creds,
    struct buf *out)
{
	struct buf	b;
	uint8_t		rnd[SASL_SNONCE_LEN];
	const char	*snonce, *salt;

	if (creds != NULL && sasl_cred_usable(&creds->h[s->hash]))
		s->cred = creds->h[s->hash];
	else
		sasl_fake_cred(s, s->hash, &s->cred);

	/* base64 of a nonce or a salt, each a few dozen bytes */
	buf_init(&b, SASL_MSG_MAX);
	if (s->test_snonce != NULL)
		snonce = s->test_snonce;
	else {
		random_bytes(rnd, sizeof(rnd));
		if (base64_encode(&b, rnd, sizeof(rnd)) == -1)
			fatalx("%s: buffer", __func__);
		snonce = buf_cstr(&b);
	}
	s->nonce = xasprintf("%s%s", s->cnonce, snonce);
	buf_reset(&b);
	if (base64_encode(&b, s->cred.salt, s->cred.saltlen) == -1 ||
	    (salt = buf_cstr(&b)) == NULL)
		fatalx("%s: buffer", __func__);
	s->sfirst = xasprintf("r=%s,s=%s,i=%u", s->nonce, salt,
	    (unsigned)s->cred.iter);
	buf_clear(&b);
	if (s->ssdp != NULL)
		scram_add_ssdp(s);
	/* the caller's cap is too small for a nonce we accepted */
	if (buf_puts(out, s->sfirst) == -1)
		return sasl_fail(s, SASLERR_TEMPORARY_AUTH_FAILURE);
	s->state = SASL_ST_FINAL;
	return SASL_CHALLENGE;
}

/* what follows the gs2-header in c=, for a bound exchange */
static bool
scram_cb_match(const struct sasl *s, const uint8_t *p, size_t n)
{
	return n == s->cb[s->cbtype].len &&
	    timingsafe_memcmp(p, s->cb[s->cbtype].data, n) == 0;
}

static enum sasl_rc
scram_client_final(struct sasl *s, const char *in, size_t len,
    struct buf *out)
{
	struct buf	 b;
	char		*msg, *p, *auth = NULL;
	const char	*proofp;
	size_t		 n, hl = scram_hash_len(s->hash);
	uint8_t		 proof[SCRAM_KEY_MAX], sig[SCRAM_KEY_MAX];
	uint8_t		 key[SCRAM_KEY_MAX], hkey[SCRAM_KEY_MAX];
	enum sasl_rc	 rc;
	size_t		 i;
	bool		 ok;

	buf_init(&b, SASL_MSG_MAX);
	msg = xstrndup(in, len);
	p = msg;
	/*
	 * RFC 5802 7: c= is base64 of the gs2-header, then with "p" the
	 * binding data of the type named (RFC 5056).
	 */
	if (strncmp(p, "c=", 2) != 0)
		goto malformed;
	n = sasl_attr_len(p + 2);
	if (base64_decode(&b, p + 2, n) == -1 || buf_avail(&b) < s->gs2len ||
	    memcmp(buf_rptr(&b), s->gs2, s->gs2len) != 0)
		goto malformed;
	if (!s->bound && buf_avail(&b) != s->gs2len)
		goto malformed;
	if (s->bound && !scram_cb_match(s, (const uint8_t *)buf_rptr(&b) +
	    s->gs2len, buf_avail(&b) - s->gs2len)) {
		buf_clear(&b);
		free(msg);
		/* RFC 5802 7 e=channel-bindings-dont-match: a MITM */
		return sasl_fail_text(s, SASLERR_NOT_AUTHORIZED,
		    "channel-binding data does not match");
	}
	p += 2 + n;
	if (strncmp(p, ",r=", 3) != 0)
		goto malformed;
	p += 3;
	n = sasl_attr_len(p);
	if (n != strlen(s->nonce) || memcmp(p, s->nonce, n) != 0)
		goto malformed;
	p += n;
	if (*p != ',' || (proofp = sasl_skip_extensions(p + 1, 'p')) == NULL)
		goto malformed;
	/* client-final-message-without-proof ends before ",p=" */
	n = (size_t)(proofp - 1 - msg);
	buf_reset(&b);
	if (base64_decode(&b, proofp + 2, strlen(proofp + 2)) == -1 ||
	    buf_avail(&b) != hl)
		goto malformed;
	memcpy(proof, buf_rptr(&b), hl);
	buf_clear(&b);

	/* RFC 5802 3 */
	auth = xasprintf("%s,%s,%.*s", s->cfirst_bare, s->sfirst, (int)n, msg);
	scram_hmac(s->hash, s->cred.stored_key, hl, auth, strlen(auth), sig);
	for (i = 0; i < hl; i++)
		key[i] = proof[i] ^ sig[i];
	scram_h(s->hash, key, hl, hkey);
	ok = timingsafe_memcmp(hkey, s->cred.stored_key, hl) == 0;
	if (!ok || s->fake) {
		rc = sasl_fail(s, SASLERR_NOT_AUTHORIZED);
		goto done;
	}
	scram_hmac(s->hash, s->cred.server_key, hl, auth, strlen(auth), sig);
	if (buf_puts(out, "v=") == -1 || base64_encode(out, sig, hl) == -1) {
		rc = sasl_fail(s, SASLERR_TEMPORARY_AUTH_FAILURE);
		goto done;
	}
	s->state = SASL_ST_DONE;
	rc = SASL_SUCCESS;
done:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(proof, sizeof(proof));
	free(auth);
	free(msg);
	return rc;
malformed:
	buf_clear(&b);
	free(msg);
	return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
}

/*
 * draft-schmaus-kitten-sasl-ht 3: the initiator sends authcid, NUL and
 * HMAC(token, "Initiator" || cb-data); the responder answers with
 * HMAC(token, "Responder" || cb-data). One round trip.
 */
static enum sasl_rc
ht_step(struct sasl *s, const char *in, size_t len)
{
	const char	*nul;
	char		*tmp;

	if ((nul = memchr(in, '\0', len)) == NULL || nul == in ||
	    (size_t)(in + len - nul - 1) != SASL_HT_KEYLEN ||
	    (size_t)(nul - in) > SASL_FIELD_MAX ||
	    !utf8_valid(in, (size_t)(nul - in)))
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	if (sasl_mech_cb(s->mech) != SASL_NCB &&
	    !s->cb[sasl_mech_cb(s->mech)].set)
		return sasl_fail_text(s, SASLERR_MALFORMED_REQUEST,
		    "unsupported channel-binding type");
	memcpy(s->ht_proof, nul + 1, SASL_HT_KEYLEN);
	tmp = xstrndup(in, (size_t)(nul - in));
	s->username = sasl_prep_name(tmp);
	free(tmp);
	if (s->username == NULL)
		return sasl_fail(s, SASLERR_NOT_AUTHORIZED);
	s->state = SASL_ST_CREDS;
	return SASL_NEED_CREDS;
}

/* HMAC(key, label || cb-data) */
static void
ht_mac(const struct sasl *s, const uint8_t *key, const char *label,
    uint8_t *out)
{
	struct buf	m;
	enum sasl_cb	t = sasl_mech_cb(s->mech);

	buf_init(&m, 16 + SASL_CB_MAX);
	if (buf_puts(&m, label) == -1 || (t != SASL_NCB &&
	    buf_append(&m, s->cb[t].data, s->cb[t].len) == -1))
		fatalx("%s: buffer", __func__);
	scram_hmac(SCRAM_SHA256, key, SASL_HT_KEYLEN, buf_rptr(&m),
	    buf_avail(&m), out);
	buf_clear(&m);
}

static enum sasl_rc
ht_verify(struct sasl *s, struct buf *out)
{
	uint8_t	mac[SASL_HT_KEYLEN];
	size_t	i;

	for (i = 0; i < s->ht_nkeys; i++) {
		ht_mac(s, s->ht_keys[i], "Initiator", mac);
		if (timingsafe_memcmp(mac, s->ht_proof, sizeof(mac)) == 0)
			break;
	}
	if (i == s->ht_nkeys)
		return sasl_fail(s, SASLERR_NOT_AUTHORIZED);
	ht_mac(s, s->ht_keys[i], "Responder", mac);
	if (buf_append(out, mac, sizeof(mac)) == -1)
		return sasl_fail(s, SASLERR_TEMPORARY_AUTH_FAILURE);
	s->ht_used = (int)i;
	s->state = SASL_ST_DONE;
	return SASL_SUCCESS;
}

/* RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */
static enum sasl_rc
plain_step(struct sasl *s, const char *in, size_t len)
{
	const char	*authcid, *passwd, *end = in + len;
	char		*tmp;
	char		 prepped[SASL_FIELD_MAX + 1];
	size_t		 zlen, clen, plen;

	if ((authcid = memchr(in, '\0', len)) == NULL)
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	zlen = (size_t)(authcid - in);
	authcid++;
	if ((passwd = memchr(authcid, '\0', (size_t)(end - authcid))) == NULL)
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	clen = (size_t)(passwd - authcid);
	passwd++;
	plen = (size_t)(end - passwd);
	if (memchr(passwd, '\0', plen) != NULL || clen == 0 || plen == 0 ||
	    zlen > SASL_FIELD_MAX || clen > SASL_FIELD_MAX ||
	    plen > SASL_FIELD_MAX || !utf8_valid(in, zlen) ||
	    !utf8_valid(authcid, clen) || !utf8_valid(passwd, plen))
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	if (zlen > 0)
		s->authzid = xstrndup(in, zlen);
	tmp = xstrndup(authcid, clen);
	s->username = sasl_prep_name(tmp);
	free(tmp);
	s->password = xstrndup(passwd, plen);
	/* RFC 4616 4: if preparation fails or is empty, verification fails */
	if (s->username == NULL ||
	    scram_saslprep(s->password, prepped, sizeof(prepped)) == -1 ||
	    prepped[0] == '\0') {
		explicit_bzero(prepped, sizeof(prepped));
		return sasl_fail(s, SASLERR_NOT_AUTHORIZED);
	}
	explicit_bzero(prepped, sizeof(prepped));
	s->state = SASL_ST_CREDS;
	return SASL_NEED_CREDS;
}

/*
 * PLAIN against SCRAM credentials: derive StoredKey from the password with
 * the stored salt and iterations and compare. An unknown account costs
 * the same derivation so that timing does not tell. The derivation (the
 * stored iterations of PBKDF2) is the costly part: with sasl_set_async it
 * is left to the caller's worker (struct sasl_work).
 */
struct sasl_work {
	enum scram_hash		 h;
	char			*password;
	struct scram_cred	 cred;		/* salt and iterations used */
	uint8_t			 salted[SCRAM_KEY_MAX];
	int			 rc;
};

static void
plain_pick(struct sasl *s, const struct scram_creds *creds)
{
	s->hash = SCRAM_SHA256;
	if (creds != NULL && sasl_cred_usable(&creds->h[SCRAM_SHA256]))
		s->cred = creds->h[SCRAM_SHA256];
	else if (creds != NULL && sasl_cred_usable(&creds->h[SCRAM_SHA1])) {
		s->hash = SCRAM_SHA1;
		s->cred = creds->h[SCRAM_SHA1];
	} else
		sasl_fake_cred(s, s->hash, &s->cred);
}

static enum sasl_rc
plain_check(struct sasl *s, const struct sasl_work *w)
{
	struct scram_cred	 c, *use = &s->cred;
	bool			 ok;

	if (w->rc == -1)
		return sasl_fail(s, SASLERR_NOT_AUTHORIZED);
	scram_cred_from_salted(&c, w->h, w->salted, use->salt,
	    use->saltlen, use->iter);
	ok = timingsafe_memcmp(c.stored_key, use->stored_key,
	    scram_hash_len(w->h)) == 0;
	explicit_bzero(&c, sizeof(c));
	if (!ok || s->fake)
		return sasl_fail(s, SASLERR_NOT_AUTHORIZED);
	sasl_wipe_password(s);
	explicit_bzero(use, sizeof(*use));
	s->state = SASL_ST_DONE;
	return SASL_SUCCESS;
}

struct sasl_work *
sasl_work_new(struct sasl *s)
{
	struct sasl_work	*w;

	if (s->state != SASL_ST_WORK)
		fatalx("%s: no work to do", __func__);
	w = xcalloc(1, sizeof(*w));
	w->h = s->hash;
	w->password = xstrdup(s->password);
	w->cred = s->cred;
	return w;
}

void
sasl_work_run(struct sasl_work *w)
{
	w->rc = scram_salted_password(w->h, w->password, w->cred.salt,
	    w->cred.saltlen, w->cred.iter, w->salted);
}

void
sasl_work_free(struct sasl_work *w)
{
	if (w == NULL)
		return;
	explicit_bzero(w->password, strlen(w->password));
	free(w->password);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

enum sasl_rc
sasl_work_done(struct sasl *s, const struct sasl_work *w)
{
	if (s->state != SASL_ST_WORK)
		fatalx("%s: no work was asked", __func__);
	return plain_check(s, w);
}

void
sasl_set_async(struct sasl *s, bool async)
{
	s->async = async;
}

static enum sasl_rc
plain_verify(struct sasl *s, const struct scram_creds *creds,
    struct buf *out)
{
	struct sasl_work	*w;
	enum sasl_rc		 rc;

	(void)out;
	plain_pick(s, creds);
	s->state = SASL_ST_WORK;
	if (s->async)
		return SASL_NEED_WORK;
	w = sasl_work_new(s);
	sasl_work_run(w);
	rc = plain_check(s, w);
	sasl_work_free(w);
	return rc;
}

enum sasl_rc
sasl_step(struct sasl *s, const char *in, size_t len, struct buf *out)
{
	if (s->state == SASL_ST_DONE) {
		/* the caller should have stopped; keep the first error */
		if (s->err == SASLERR_NONE)
			s->err = SASLERR_MALFORMED_REQUEST;
		return SASL_FAILURE;
	}
	if (len > SASL_MSG_MAX)
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	switch (s->state) {
	case SASL_ST_START:
		/*
		 * RFC 6120 6.4.2: without an initial response we send an
		 * empty challenge, once. Neither mechanism's first message
		 * can be empty, so an empty one means "absent".
		 */
		if (len == 0) {
			if (s->empty_sent)
				return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
			s->empty_sent = true;
			return SASL_CHALLENGE;
		}
		if (s->mech == SASL_PLAIN)
			return plain_step(s, in, len);
		if (sasl_mech_ht(s->mech))
			return ht_step(s, in, len);
		if (memchr(in, '\0', len) != NULL)
			return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
		return scram_client_first(s, in, len);
	case SASL_ST_FINAL:
		if (memchr(in, '\0', len) != NULL)
			return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
		return scram_client_final(s, in, len, out);
	case SASL_ST_CREDS:
	case SASL_ST_WORK:
		/* a response before our challenge: the client is out of turn */
		return sasl_fail(s, SASLERR_MALFORMED_REQUEST);
	case SASL_ST_DONE:
	default:
		fatalx("%s: bad state %d", __func__, (int)s->state);
	}
}

enum sasl_rc
sasl_set_creds(struct sasl *s, const struct scram_creds *creds,
    struct buf *out)
{
	if (s->state != SASL_ST_CREDS)
		fatalx("%s: not waiting for credentials", __func__);
	if (s->mech == SASL_PLAIN)
		return plain_verify(s, creds, out);
	if (sasl_mech_ht(s->mech))
		return ht_verify(s, out);
	return scram_server_first(s, creds, out);
}
