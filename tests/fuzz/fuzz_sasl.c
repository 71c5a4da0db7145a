/*
 * Fuzz target: the server side of SASL (c2s/sasl.c) -- SCRAM-SHA-256,
 * SCRAM-SHA-1 and PLAIN -- with a fixed credential lookup: "user" and
 * every other name have the password "pencil", "sha1only" has SHA-1
 * credentials only, "broken" has unusable ones and names starting with
 * "nobody" do not exist.
 *
 * Byte 0: bits 0-1 the mechanism (SHA-256, SHA-1, PLAIN, PLAIN), bit 2
 * the mode, bit 3 'y' instead of 'n' as gs2 flag (honest SCRAM) or an
 * early response while credentials are awaited (raw). Bit 4 is binding
 * mode instead: bits 0-1 pick SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS,
 * HT-SHA-256-NONE or HT-SHA-256-ENDP, with both binding types known,
 * -PLUS offered, an XEP-0474 list and one FAST key.
 *
 * Binding mode: the rest is the client's messages, one per line, as
 * sent. Oracles: an HT-* success only for the initiator HMAC of that key
 * over the binding, with the responder HMAC as data; no -PLUS success
 * (no proof can be made without the password); a failure always names a
 * condition; an "unsupported channel-binding type" only for a type we
 * were not given.
 *
 * Raw mode: the rest is the client's messages, one per line. In the
 * second and later ones %r becomes the nonce of the last challenge, %c
 * the base64 gs2 header of the first message and %p the proof for
 * "pencil", so that the fuzzer can reach the end of an exchange. Oracles:
 * success only for an account that exists with that password, with the
 * right server signature; a failure always names a condition.
 *
 * Honest mode: the rest is fields, one per line: username, password,
 * client nonce, authzid, extension. The target plays a correct client
 * and predicts the outcome from the fields alone: malformed-request when
 * a field cannot be sent, success exactly when the password prepares to
 * "pencil" for an account that has it, not-authorized otherwise; and it
 * checks the username and authzid the mechanism reports, the challenge
 * and the server signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c2s/sasl.h"
#include "../../common/base64.h"
#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../common/scram.h"
#include "../../common/util.h"
#include "../../common/xmpp.h"
#include "fuzz.h"

#define PASSWORD	"pencil"
#define TEST_SNONCE	"srvnonce"
#define ITER		16	/* cheap enough to derive each time */
#define FIELD_MAX	255	/* honest mode: keeps messages under 4096 */
#define MSG_MAX		32
#define DATA_MAX	8192	/* c2s/auth.c SASL_DATA_MAX */

static struct scram_creds	good, sha1only, broken;

static const struct scram_creds *
lookup(const char *user)
{
	if (strncmp(user, "nobody", 6) == 0)
		return NULL;
	if (strcmp(user, "broken") == 0)
		return &broken;
	if (strcmp(user, "sha1only") == 0)
		return &sha1only;
	return &good;
}

/* the exchange can succeed with this hash for these credentials */
static bool
creds_ok(const struct scram_creds *c, enum scram_hash h)
{
	return c == &good || (c == &sha1only && h == SCRAM_SHA1);
}

static void
make_creds(void)
{
	static const uint8_t	salt[SCRAM_SALT_LEN] = "0123456789abcdef";
	uint8_t			salted[SCRAM_KEY_MAX];
	int			h;

	for (h = 0; h < SCRAM_NHASH; h++) {
		if (scram_salted_password(h, PASSWORD, salt, sizeof(salt),
		    ITER, salted) == -1)
			fatalx("%s: salted password", __func__);
		scram_cred_from_salted(&good.h[h], h, salted, salt,
		    sizeof(salt), ITER);
	}
	sha1only = good;
	sha1only.h[SCRAM_SHA256].iter = 0;
	broken = good;
	broken.h[SCRAM_SHA1].saltlen = 0;
	broken.h[SCRAM_SHA256].iter = SCRAM_ITER_MAX + 1;
}

/* RFC 3629, written for this oracle rather than shared with sasl.c */
static bool
utf8_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		if (p[i] == 0)
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* SASLprep as a query string into out[1024]; false if refused or empty */
static bool
prep(const char *s, char *out)
{
	return scram_saslprep(s, out, 1024) == 0 && out[0] != '\0';
}

static void
b64(struct buf *b, const void *p, size_t n)
{
	if (base64_encode(b, p, n) == -1)
		fatalx("%s", __func__);
}

/* the fields of a server-first-message; false if it is not one */
struct sfirst {
	char	 nonce[512];
	uint8_t	 salt[SCRAM_SALT_MAX];
	size_t	 saltlen;
	uint32_t iter;
};

static bool
parse_sfirst(const char *m, size_t len, struct sfirst *sf)
{
	const char	*s, *i;
	struct buf	 b;
	size_t		 n;
	bool		 ok;

	if (len < 2 || strncmp(m, "r=", 2) != 0 ||
	    (s = strstr(m, ",s=")) == NULL || (i = strstr(s, ",i=")) == NULL)
		return false;
	n = (size_t)(s - m - 2);
	if (n >= sizeof(sf->nonce))
		return false;
	memcpy(sf->nonce, m + 2, n);
	sf->nonce[n] = '\0';
	buf_init(&b, SCRAM_SALT_MAX);
	ok = base64_decode(&b, s + 3, (size_t)(i - s - 3)) == 0;
	sf->saltlen = buf_avail(&b);
	if (ok)
		memcpy(sf->salt, buf_rptr(&b), sf->saltlen);
	buf_clear(&b);
	sf->iter = (uint32_t)strtoul(i + 3, NULL, 10);
	return ok;
}

/*
 * RFC 5802 3, from the client's side: the proof for password over
 * auth, and the server signature to expect. false when the password
 * cannot be used or deriving it would cost too much for a fuzzer.
 */
static bool
client_proof(enum scram_hash h, const char *password, const struct sfirst *sf,
    const char *auth, uint8_t *proof, uint8_t *server_sig)
{
	uint8_t	salted[SCRAM_KEY_MAX], ckey[SCRAM_KEY_MAX];
	uint8_t	stored[SCRAM_KEY_MAX], sig[SCRAM_KEY_MAX];
	uint8_t	skey[SCRAM_KEY_MAX];
	size_t	hl = scram_hash_len(h), i;

	if (sf->iter == 0 || sf->iter > 64 || sf->saltlen == 0 ||
	    scram_salted_password(h, password, sf->salt, sf->saltlen,
	    sf->iter, salted) == -1)
		return false;
	scram_hmac(h, salted, hl, "Client Key", 10, ckey);
	scram_h(h, ckey, hl, stored);
	scram_hmac(h, stored, hl, auth, strlen(auth), sig);
	for (i = 0; i < hl; i++)
		proof[i] = ckey[i] ^ sig[i];
	scram_hmac(h, salted, hl, "Server Key", 10, skey);
	scram_hmac(h, skey, hl, auth, strlen(auth), server_sig);
	return true;
}

static void
check_failure(struct sasl *s, enum sasl_rc rc, const char *when)
{
	FUZZ_CHECK(rc == SASL_FAILURE, "%s: rc %d", when, (int)rc);
	FUZZ_CHECK(sasl_error(s) != SASLERR_NONE && sasl_error(s) <
	    SASLERR_COUNT, "%s: failure without a condition", when);
	/* done is done: the first error stays */
	FUZZ_CHECK(sasl_step(s, "x", 1, NULL) == SASL_FAILURE &&
	    sasl_error(s) != SASLERR_NONE, "%s: a step after the end", when);
}

/* ---- raw mode ----------------------------------------------------------- */

struct raw {
	enum sasl_mech	 mech;
	enum scram_hash	 h;
	bool		 early;
	struct buf	 first;		/* client-first-message */
	struct sfirst	 sf;
	bool		 have_sf;
	char		*sfirst;	/* server-first-message */
	const struct scram_creds *creds;
	bool		 proved;	/* %p was computed */
	uint8_t		 server_sig[SCRAM_KEY_MAX];
};

/* the client-first-message's gs2 header ends at its second comma */
static const char *
gs2_end(struct raw *r)
{
	const char	*p = buf_rptr(&r->first);
	const char	*c;

	if ((c = memchr(p, ',', buf_avail(&r->first))) == NULL)
		return NULL;
	return memchr(c + 1, ',', buf_avail(&r->first) -
	    (size_t)(c + 1 - p));
}

/* %r, %c and %p in a later message; returns new */
static char *
expand(struct raw *r, const char *m, size_t len, size_t *outlen)
{
	struct buf	 b, auth;
	const char	*gs2end;
	size_t		 i, n;
	uint8_t		 proof[SCRAM_KEY_MAX];
	char		*out;

	buf_init(&b, 0);
	for (i = 0; i < len; i++) {
		if (m[i] != '%' || i + 1 == len) {
			buf_append(&b, m + i, 1);
			continue;
		}
		switch (m[++i]) {
		case 'r':
			if (r->have_sf)
				buf_puts(&b, r->sf.nonce);
			break;
		case 'c':
			if ((gs2end = gs2_end(r)) != NULL)
				b64(&b, buf_rptr(&r->first),
				    (size_t)(gs2end + 1 - buf_rptr(&r->first)));
			break;
		case 'p':
			if (!r->have_sf || r->mech == SASL_PLAIN)
				break;
			/* AuthMessage: bare first, server first, final
			   without ",p=" */
			if ((gs2end = gs2_end(r)) == NULL)
				break;
			n = buf_avail(&b);
			if (n >= 3 &&
			    memcmp(buf_rptr(&b) + n - 3, ",p=", 3) == 0)
				n -= 3;
			buf_init(&auth, 0);
			buf_append(&auth, gs2end + 1, buf_avail(&r->first) -
			    (size_t)(gs2end + 1 - buf_rptr(&r->first)));
			buf_printf(&auth, ",%s,", r->sfirst);
			buf_append(&auth, buf_rptr(&b), n);
			if (client_proof(r->h, PASSWORD, &r->sf,
			    buf_cstr(&auth), proof, r->server_sig)) {
				b64(&b, proof, scram_hash_len(r->h));
				r->proved = true;
			}
			buf_clear(&auth);
			break;
		default:
			buf_append(&b, m + i - 1, 2);
			break;
		}
	}
	*outlen = buf_avail(&b);
	out = xmalloc(*outlen + 1);
	if (*outlen > 0)
		memcpy(out, buf_rptr(&b), *outlen);
	out[*outlen] = '\0';
	buf_clear(&b);
	return out;
}

static void
raw_success(struct raw *r, const struct buf *out)
{
	struct buf	 want;
	const char	*pw, *end;
	char		 ppass[1024], *tmp;
	bool		 ok;

	ok = r->creds != NULL && (r->mech == SASL_PLAIN ?
	    r->creds == &good || r->creds == &sha1only :
	    creds_ok(r->creds, r->h));
	FUZZ_CHECK(ok, "success for an account without usable credentials");
	if (r->mech == SASL_PLAIN) {
		FUZZ_CHECK(buf_avail(out) == 0, "PLAIN success with data");
		/* the password is what follows the second NUL */
		end = buf_rptr(&r->first) + buf_avail(&r->first);
		pw = memchr(buf_rptr(&r->first), '\0', buf_avail(&r->first));
		FUZZ_CHECK(pw != NULL, "PLAIN success without a NUL");
		pw = memchr(pw + 1, '\0', (size_t)(end - pw - 1));
		FUZZ_CHECK(pw != NULL, "PLAIN success with one NUL");
		tmp = xstrndup(pw + 1, (size_t)(end - pw - 1));
		FUZZ_CHECK(prep(tmp, ppass) && strcmp(ppass, PASSWORD) == 0,
		    "PLAIN success with password \"%s\"", tmp);
		free(tmp);
		return;
	}
	/* a proof from the corpus can replay: the test nonce is fixed */
	if (!r->proved)
		return;
	buf_init(&want, 0);
	buf_puts(&want, "v=");
	b64(&want, r->server_sig, scram_hash_len(r->h));
	FUZZ_CHECK(buf_avail(out) == buf_avail(&want) &&
	    memcmp(buf_rptr(out), buf_rptr(&want), buf_avail(out)) == 0,
	    "server signature %.*s, expected %.*s", (int)buf_avail(out),
	    buf_rptr(out), (int)buf_avail(&want), buf_rptr(&want));
	buf_clear(&want);
}

static void
run_raw(uint8_t mode, const uint8_t *data, size_t len)
{
	struct raw	 r;
	struct sasl	*s;
	struct buf	 out;
	const char	*line, *nl, *user;
	char		*msg;
	size_t		 n, mlen, k = 0;
	enum sasl_rc	 rc = SASL_CHALLENGE;

	memset(&r, 0, sizeof(r));
	r.mech = (mode & 3) == 3 ? SASL_PLAIN : (enum sasl_mech)(mode & 3);
	r.h = r.mech == SASL_SCRAM_SHA1 ? SCRAM_SHA1 : SCRAM_SHA256;
	r.early = (mode & 8) != 0;
	buf_init(&r.first, 0);
	buf_init(&out, DATA_MAX);
	s = sasl_new(r.mech);
	if (r.mech != SASL_PLAIN)
		sasl_test_set_nonce(s, TEST_SNONCE);
	line = (const char *)data;
	while (line <= (const char *)data + len && k++ < MSG_MAX &&
	    (rc == SASL_CHALLENGE)) {
		n = (size_t)((const char *)data + len - line);
		if ((nl = memchr(line, '\n', n)) != NULL)
			n = (size_t)(nl - line);
		if (buf_avail(&r.first) == 0) {
			buf_append(&r.first, line, n);
			msg = xstrndup(line, n);
			mlen = n;
		} else
			msg = expand(&r, line, n, &mlen);
		line += n + 1;
		buf_reset(&out);
		rc = sasl_step(s, msg, mlen, &out);
		free(msg);
		if (rc == SASL_NEED_CREDS) {
			user = sasl_username(s);
			FUZZ_CHECK(user != NULL && *user != '\0' &&
			    strlen(user) <= 1023 && utf8_ok(user, strlen(user)),
			    "NEED_CREDS without a username");
			if (r.early) {
				/* a response out of turn ends it */
				check_failure(s, sasl_step(s, "x", 1, &out),
				    "early response");
				break;
			}
			r.creds = lookup(user);
			rc = sasl_set_creds(s, r.creds, &out);
		}
		if (rc == SASL_CHALLENGE && buf_avail(&out) > 0) {
			FUZZ_CHECK(r.mech != SASL_PLAIN, "PLAIN challenge");
			free(r.sfirst);
			r.sfirst = xstrndup(buf_rptr(&out), buf_avail(&out));
			r.have_sf = parse_sfirst(r.sfirst, strlen(r.sfirst),
			    &r.sf);
			FUZZ_CHECK(r.have_sf, "challenge \"%s\" is not a "
			    "server-first-message", r.sfirst);
		}
		if (rc == SASL_SUCCESS)
			raw_success(&r, &out);
		if (rc == SASL_FAILURE)
			check_failure(s, rc, "raw");
	}
	sasl_free(s);
	buf_clear(&out);
	buf_clear(&r.first);
	free(r.sfirst);
}

/* ---- honest mode -------------------------------------------------------- */

struct fields {
	/* user, password, cnonce, authzid, extension */
	char	*v[5];
	size_t	 len[5];
};

static void
split_fields(const uint8_t *data, size_t len, struct fields *f)
{
	const char	*p = (const char *)data, *end = p + len, *nl;
	size_t		 i, n;

	for (i = 0; i < 5; i++) {
		n = p < end ? (size_t)(end - p) : 0;
		if (n > 0 && (nl = memchr(p, '\n', n)) != NULL)
			n = (size_t)(nl - p);
		f->len[i] = n > FIELD_MAX ? FIELD_MAX : n;
		f->v[i] = xstrndup(n > 0 ? p : "", f->len[i]);
		p += n + 1;
	}
}

static void
saslname(struct buf *b, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] == ',')
			buf_puts(b, "=2C");
		else if (s[i] == '=')
			buf_puts(b, "=3D");
		else
			buf_append(b, s + i, 1);
	}
}

/* a field the client can send: no NUL, valid UTF-8, within limits */
static bool
sendable(const char *s, size_t n)
{
	return memchr(s, '\0', n) == NULL && utf8_ok(s, n);
}

static void
run_scram_honest(uint8_t mode, struct fields *f)
{
	enum sasl_mech	 mech = (enum sasl_mech)(mode & 1);
	enum scram_hash	 h = mech == SASL_SCRAM_SHA1 ? SCRAM_SHA1 :
			    SCRAM_SHA256;
	struct sasl	*s;
	struct buf	 m, out, auth, want;
	struct sfirst	 sf;
	const struct scram_creds *creds;
	char		 puser[1024], ppass[1024], cnonce[FIELD_MAX + 2];
	uint8_t		 proof[SCRAM_KEY_MAX], sig[SCRAM_KEY_MAX];
	size_t		 i, gs2len, bare;
	char		 c;
	bool		 valid, proved, expect_ok;
	enum sasl_rc	 rc;

	/* RFC 5802 7 printable, without ',' */
	for (i = 0; i < f->len[2]; i++) {
		cnonce[i] = (char)(0x21 + (unsigned char)f->v[2][i] % 94);
		if (cnonce[i] == ',')
			cnonce[i] = '~';
	}
	if (i == 0)
		cnonce[i++] = 'x';
	cnonce[i] = '\0';

	buf_init(&m, 0);
	buf_puts(&m, (mode & 8) ? "y," : "n,");
	if (f->len[3] > 0) {
		buf_puts(&m, "a=");
		saslname(&m, f->v[3], f->len[3]);
	}
	buf_puts(&m, ",");
	gs2len = buf_avail(&m);
	buf_puts(&m, "n=");
	saslname(&m, f->v[0], f->len[0]);
	buf_printf(&m, ",r=%s", cnonce);
	if (f->len[4] > 0) {
		/* one extension: a letter, "=", printable without ',' */
		buf_printf(&m, ",%c=", 'a' + (unsigned char)f->v[4][0] % 26);
		for (i = 0; i < f->len[4]; i++) {
			c = (char)(0x21 + (unsigned char)f->v[4][i] % 94);
			buf_append(&m, c == ',' ? "~" : &c, 1);
		}
	}

	valid = f->len[0] > 0 && sendable(f->v[0], f->len[0]) &&
	    prep(f->v[0], puser) &&
	    (f->len[3] == 0 || sendable(f->v[3], f->len[3]));
	buf_init(&out, DATA_MAX);
	s = sasl_new(mech);
	rc = sasl_step(s, buf_rptr(&m), buf_avail(&m), &out);
	if (!valid) {
		check_failure(s, rc, "unsendable client-first");
		FUZZ_CHECK(sasl_error(s) == SASLERR_MALFORMED_REQUEST,
		    "unsendable client-first: %d", (int)sasl_error(s));
		goto done;
	}
	FUZZ_CHECK(rc == SASL_NEED_CREDS, "client-first \"%.*s\": rc %d err "
	    "%d", (int)buf_avail(&m), buf_rptr(&m), (int)rc,
	    (int)sasl_error(s));
	FUZZ_CHECK(strcmp(sasl_username(s), puser) == 0, "username \"%s\", "
	    "expected \"%s\"", sasl_username(s), puser);
	FUZZ_CHECK(f->len[3] == 0 ? sasl_authzid(s) == NULL :
	    sasl_authzid(s) != NULL && strcmp(sasl_authzid(s), f->v[3]) == 0,
	    "authzid");
	creds = lookup(puser);
	rc = sasl_set_creds(s, creds, &out);
	FUZZ_CHECK(rc == SASL_CHALLENGE, "set_creds: rc %d", (int)rc);
	FUZZ_CHECK(parse_sfirst(buf_cstr(&out), buf_avail(&out), &sf),
	    "challenge \"%.*s\"", (int)buf_avail(&out), buf_rptr(&out));
	FUZZ_CHECK(strncmp(sf.nonce, cnonce, strlen(cnonce)) == 0 &&
	    strlen(sf.nonce) > strlen(cnonce), "nonce %s for %s", sf.nonce,
	    cnonce);
	if (creds_ok(creds, h))
		FUZZ_CHECK(sf.iter == creds->h[h].iter && sf.saltlen ==
		    creds->h[h].saltlen && memcmp(sf.salt, creds->h[h].salt,
		    sf.saltlen) == 0, "salt or iterations of the account");

	/* client-final */
	bare = buf_avail(&m) - gs2len;
	buf_init(&auth, 0);
	buf_append(&auth, buf_rptr(&m) + gs2len, bare);
	buf_puts(&auth, ",");
	buf_append(&auth, buf_rptr(&out), buf_avail(&out));
	buf_puts(&auth, ",");
	buf_reset(&out);
	buf_puts(&out, "c=");
	b64(&out, buf_rptr(&m), gs2len);
	buf_printf(&out, ",r=%s", sf.nonce);
	buf_append(&auth, buf_rptr(&out), buf_avail(&out));
	proved = sendable(f->v[1], f->len[1]) && client_proof(h, f->v[1], &sf,
	    buf_cstr(&auth), proof, sig);
	if (!proved)
		memset(proof, 0x5a, sizeof(proof));
	buf_puts(&out, ",p=");
	b64(&out, proof, scram_hash_len(h));
	buf_reset(&m);
	buf_append(&m, buf_rptr(&out), buf_avail(&out));
	buf_reset(&out);
	rc = sasl_step(s, buf_rptr(&m), buf_avail(&m), &out);

	expect_ok = creds_ok(creds, h) && proved && prep(f->v[1], ppass) &&
	    strcmp(ppass, PASSWORD) == 0;
	if (expect_ok) {
		FUZZ_CHECK(rc == SASL_SUCCESS, "right password refused: rc %d "
		    "err %d", (int)rc, (int)sasl_error(s));
		buf_init(&want, 0);
		buf_puts(&want, "v=");
		b64(&want, sig, scram_hash_len(h));
		FUZZ_CHECK(buf_avail(&out) == buf_avail(&want) &&
		    memcmp(buf_rptr(&out), buf_rptr(&want),
		    buf_avail(&out)) == 0, "server signature");
		buf_clear(&want);
	} else {
		check_failure(s, rc, "wrong password or account");
		FUZZ_CHECK(sasl_error(s) == SASLERR_NOT_AUTHORIZED,
		    "wrong password: error %d", (int)sasl_error(s));
	}
	buf_clear(&auth);
done:
	sasl_free(s);
	buf_clear(&m);
	buf_clear(&out);
}

static void
run_plain_honest(struct fields *f)
{
	struct sasl	*s;
	struct buf	 m, out;
	char		 puser[1024], ppass[1024];
	const struct scram_creds *creds;
	enum sasl_rc	 rc;
	bool		 wellformed;

	buf_init(&m, 0);
	buf_append(&m, f->v[3], f->len[3]);
	buf_append(&m, "", 1);
	buf_append(&m, f->v[0], f->len[0]);
	buf_append(&m, "", 1);
	buf_append(&m, f->v[1], f->len[1]);
	buf_init(&out, DATA_MAX);
	s = sasl_new(SASL_PLAIN);
	rc = sasl_step(s, buf_rptr(&m), buf_avail(&m), &out);
	wellformed = f->len[0] > 0 && f->len[1] > 0 &&
	    sendable(f->v[0], f->len[0]) && sendable(f->v[1], f->len[1]) &&
	    sendable(f->v[3], f->len[3]);
	if (!wellformed) {
		check_failure(s, rc, "malformed PLAIN");
		FUZZ_CHECK(sasl_error(s) == SASLERR_MALFORMED_REQUEST,
		    "malformed PLAIN: error %d", (int)sasl_error(s));
		goto done;
	}
	if (!prep(f->v[0], puser) || !prep(f->v[1], ppass)) {
		check_failure(s, rc, "PLAIN refused by SASLprep");
		FUZZ_CHECK(sasl_error(s) == SASLERR_NOT_AUTHORIZED,
		    "SASLprep: error %d", (int)sasl_error(s));
		goto done;
	}
	FUZZ_CHECK(rc == SASL_NEED_CREDS, "PLAIN: rc %d err %d", (int)rc,
	    (int)sasl_error(s));
	FUZZ_CHECK(strcmp(sasl_username(s), puser) == 0, "PLAIN username");
	FUZZ_CHECK(f->len[3] == 0 ? sasl_authzid(s) == NULL :
	    sasl_authzid(s) != NULL && strcmp(sasl_authzid(s), f->v[3]) == 0,
	    "PLAIN authzid");
	creds = lookup(puser);
	rc = sasl_set_creds(s, creds, &out);
	if ((creds == &good || creds == &sha1only) &&
	    strcmp(ppass, PASSWORD) == 0)
		FUZZ_CHECK(rc == SASL_SUCCESS && buf_avail(&out) == 0,
		    "PLAIN: right password refused");
	else {
		check_failure(s, rc, "PLAIN wrong password");
		FUZZ_CHECK(sasl_error(s) == SASLERR_NOT_AUTHORIZED,
		    "PLAIN wrong password: error %d", (int)sasl_error(s));
	}
done:
	sasl_free(s);
	buf_clear(&m);
	buf_clear(&out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	make_creds();
	return 0;
}

/* ---- binding mode ------------------------------------------------------- */

#define CB_EXPORTER	"exporter-data-0123456789abcdef01"
#define CB_ENDPOINT	"endpoint-data-0123456789abcdef01"
#define HT_TOKEN	"the-token"

static void
ht_expect(enum sasl_mech m, const char *label, uint8_t *out)
{
	uint8_t		key[32];
	struct buf	b;

	scram_h(SCRAM_SHA256, HT_TOKEN, strlen(HT_TOKEN), key);
	buf_init(&b, 0);
	buf_puts(&b, label);
	if (m == SASL_HT_SHA256_ENDP)
		buf_puts(&b, CB_ENDPOINT);
	scram_hmac(SCRAM_SHA256, key, sizeof(key), buf_rptr(&b),
	    buf_avail(&b), out);
	buf_clear(&b);
}

/* the first message's gs2 header is "p=" name "," */
static bool
gs2_names(const char *line, size_t n, const char *name)
{
	size_t	l = strlen(name);

	return n > l + 2 && memcmp(line, "p=", 2) == 0 &&
	    memcmp(line + 2, name, l) == 0 && line[2 + l] == ',';
}

static void
run_binding(uint8_t mode, const uint8_t *data, size_t len)
{
	static const enum sasl_mech mechs[] = { SASL_SCRAM_SHA256_PLUS,
	    SASL_SCRAM_SHA1_PLUS, SASL_HT_SHA256_NONE, SASL_HT_SHA256_ENDP };
	static const char ssdp[] = "SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1f"
	    "tls-exporter\x1etls-server-end-point";
	enum sasl_mech	 m = mechs[mode & 3];
	struct sasl	*s;
	struct buf	 out;
	const char	*line, *nl, *nul;
	uint8_t		 keys[1][32], want[32];
	size_t		 n, k = 0;
	enum sasl_rc	 rc = SASL_CHALLENGE;

	buf_init(&out, DATA_MAX);
	s = sasl_new(m);
	sasl_test_set_nonce(s, TEST_SNONCE);
	sasl_set_cb(s, SASL_CB_EXPORTER, (const uint8_t *)CB_EXPORTER,
	    strlen(CB_EXPORTER));
	sasl_set_cb(s, SASL_CB_ENDPOINT, (const uint8_t *)CB_ENDPOINT,
	    strlen(CB_ENDPOINT));
	sasl_set_plus_offered(s, true);
	sasl_set_ssdp(s, ssdp, sizeof(ssdp) - 1);
	scram_h(SCRAM_SHA256, HT_TOKEN, strlen(HT_TOKEN), keys[0]);
	sasl_set_ht_keys(s, (const uint8_t (*)[32])keys, 1);
	line = (const char *)data;
	while (line <= (const char *)data + len && k++ < MSG_MAX &&
	    rc == SASL_CHALLENGE) {
		n = (size_t)((const char *)data + len - line);
		if ((nl = memchr(line, '\n', n)) != NULL)
			n = (size_t)(nl - line);
		buf_reset(&out);
		rc = sasl_step(s, line, n, &out);
		if (rc == SASL_NEED_CREDS)
			rc = sasl_set_creds(s, lookup(sasl_username(s)), &out);
		if (rc == SASL_SUCCESS) {
			FUZZ_CHECK(sasl_mech_ht(m), "%s succeeded without "
			    "a proof", sasl_mech_name(m));
			nul = memchr(line, '\0', n);
			ht_expect(m, "Initiator", want);
			FUZZ_CHECK(nul != NULL && (size_t)(line + n - nul) ==
			    33 && memcmp(nul + 1, want, 32) == 0,
			    "HT success without the initiator HMAC");
			ht_expect(m, "Responder", want);
			FUZZ_CHECK(buf_avail(&out) == 32 &&
			    memcmp(buf_rptr(&out), want, 32) == 0,
			    "HT success without the responder HMAC");
			FUZZ_CHECK(sasl_ht_used(s) == 0, "no key used");
		}
		if (rc == SASL_FAILURE) {
			check_failure(s, rc, "binding");
			FUZZ_CHECK(sasl_error_text(s) == NULL ||
			    strcmp(sasl_error_text(s),
			    "unsupported channel-binding type") != 0 ||
			    (!gs2_names(line, n, "tls-exporter") &&
			    !gs2_names(line, n, "tls-server-end-point")),
			    "a known binding type refused");
		}
		line += n + 1;
	}
	sasl_free(s);
	buf_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fields	f;
	uint8_t		mode;
	int		i;

	if (len < 1)
		return 0;
	mode = data[0];
	if ((mode & 16) != 0) {
		run_binding(mode, data + 1, len - 1);
		return 0;
	}
	if ((mode & 4) == 0) {
		run_raw(mode, data + 1, len - 1);
		return 0;
	}
	split_fields(data + 1, len - 1, &f);
	if ((mode & 2) != 0)
		run_plain_honest(&f);
	else
		run_scram_honest(mode, &f);
	for (i = 0; i < 5; i++)
		free(f.v[i]);
	return 0;
}
