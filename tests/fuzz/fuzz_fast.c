/*
 * Fuzz target: the FAST record (c2s/fast.c, XEP-0484) as the router
 * returns it in LINK_AUTH_CRED, and what the c2s makes of it: the keys
 * an HT-SHA-256-* login may match (fast_creds, with c2s/sasl.c) and the
 * record written back after a success (fast_success, LINK_FAST_PUT).
 *
 * Input: byte 0 -- bits 0-1 the mechanism (HT-SHA-256-NONE, -ENDP,
 * -EXPR, -UNIQ), bit 2 the client sends <fast count='N'/> with N byte 1
 * (else no count); then the record's bytes.
 *
 * For each slot of the record the target logs in with that slot's key.
 * Oracles, from the record's layout read here independently (version
 * 1, then two slots: set, mechanism, expiry, last count, key, credentials
 * fingerprint): a login succeeds exactly when some slot with that key is
 * set, for this mechanism, unexpired, for these credentials and below
 * the count sent; a record of any other length or version gives none;
 * after a success the record written back has the layout, holds the key
 * used in its "current" slot with the count sent, and the responder HMAC
 * is the one for that key.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../c2s/c2s.h"
#include "../../common/log.h"
#include "../../common/scram.h"
#include "../../common/util.h"
#include "../../common/xmlstream.h"
#include "fuzz.h"

#define DEV		"d4565fa7-4d72-4749-b3d3-740edbf87770"
#define SLOT_LEN	(1 + 1 + 8 + 4 + 32 + 8)
#define REC_LEN		(1 + 2 * SLOT_LEN)
#define CB_EXPORTER	"exporter-data-0123456789abcdef01"
#define CB_ENDPOINT	"endpoint-data-0123456789abcdef01"
#define CB_UNIQUE	"unique-data-0123"

struct c2s	c2s;

static struct scram_creds	creds;
static uint8_t			fp[8];
static struct buf		put;		/* the record written back */
static bool			put_seen;

/* ---- what fast.c calls -------------------------------------------------- */

void
sasl2_cb_collect(struct stream *st, struct sasl *s, bool have[SASL_NCB])
{
	(void)st;
	(void)s;
	memset(have, 1, SASL_NCB * sizeof(have[0]));
}

void
uplink_fast_put(struct stream *st, const char *dev, const struct buf *b)
{
	(void)st;
	FUZZ_CHECK(strcmp(dev, DEV) == 0, "a record for device %s", dev);
	FUZZ_CHECK(!put_seen, "two records written for one login");
	put_seen = true;
	buf_reset(&put);
	buf_append(&put, buf_rptr(b), buf_avail(b));
}

/* ---- the target --------------------------------------------------------- */

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

static void
on_auth(struct xnode *el, struct arena *a, void *arg)
{
	struct stream	*st = arg;
	const char	*why = NULL;

	(void)a;
	FUZZ_CHECK(fast_parse(st, el, DEV, &why) == 0, "fast_parse: %s",
	    why ? why : "?");
}

static const char *
cb_data(enum sasl_mech m)
{
	switch (m) {
	case SASL_HT_SHA256_ENDP:
		return CB_ENDPOINT;
	case SASL_HT_SHA256_EXPR:
		return CB_EXPORTER;
	case SASL_HT_SHA256_UNIQ:
		return CB_UNIQUE;
	default:
		return "";
	}
}

static void
ht_mac(enum sasl_mech m, const uint8_t *key, const char *label,
    uint8_t *out)
{
	struct buf	b;

	buf_init(&b, 0);
	buf_puts(&b, label);
	buf_puts(&b, cb_data(m));
	scram_hmac(SCRAM_SHA256, key, 32, buf_rptr(&b), buf_avail(&b), out);
	buf_clear(&b);
}

/* the record's slot i may log in (fast.c's rules, read here anew) */
static bool
slot_valid(const uint8_t *rec, size_t len, int i, enum sasl_mech m,
    int64_t count)
{
	const uint8_t	*s = rec + 1 + (size_t)i * SLOT_LEN;

	if (len != REC_LEN || rec[0] != 1)
		return false;
	return s[0] != 0 && s[1] == (uint8_t)m &&
	    be(s + 2, 8) > (uint64_t)time(NULL) &&
	    memcmp(s + 14 + 32, fp, sizeof(fp)) == 0 &&
	    (count == -1 || (uint64_t)count > be(s + 10, 4));
}

static void
login(const uint8_t *rec, size_t len, enum sasl_mech m, int64_t count,
    const uint8_t *key)
{
	static struct xparse	*xp;
	struct stream		*st;
	struct buf		 out, msg, tok;
	char			 xml[256];
	uint8_t			 mac[32];
	const uint8_t		*s;
	enum sasl_rc		 rc;
	bool			 want = false;
	int			 i;

	if (xp == NULL)
		xp = xparse_new(NS_CLIENT, 4096);
	st = xcalloc(1, sizeof(*st));
	st->sid = 1;
	st->tls_on = true;
	st->mech = m;
	if (count == -1)
		snprintf(xml, sizeof(xml), "<authenticate xmlns='" NS_SASL2
		    "'><fast xmlns='urn:xmpp:fast:0'/></authenticate>");
	else
		snprintf(xml, sizeof(xml), "<authenticate xmlns='" NS_SASL2
		    "'><fast xmlns='urn:xmpp:fast:0' count='%lld'/>"
		    "</authenticate>", (long long)count);
	FUZZ_CHECK(xparse_one(xp, xml, strlen(xml), on_auth, st) == 0,
	    "the request");
	fast_record(st, (const char *)rec, len);

	for (i = 0; i < 2; i++)
		if (slot_valid(rec, len, i, m, count) &&
		    memcmp(rec + 1 + (size_t)i * SLOT_LEN + 14, key, 32) == 0)
			want = true;

	st->sasl = sasl_new(m);
	sasl_set_cb(st->sasl, SASL_CB_EXPORTER, (const uint8_t *)CB_EXPORTER,
	    strlen(CB_EXPORTER));
	sasl_set_cb(st->sasl, SASL_CB_ENDPOINT, (const uint8_t *)CB_ENDPOINT,
	    strlen(CB_ENDPOINT));
	sasl_set_cb(st->sasl, SASL_CB_UNIQUE, (const uint8_t *)CB_UNIQUE,
	    strlen(CB_UNIQUE));
	buf_init(&out, 0);
	buf_init(&msg, 0);
	buf_init(&tok, 0);
	buf_append(&msg, "user", 5);		/* with its NUL */
	ht_mac(m, key, "Initiator", mac);
	buf_append(&msg, mac, sizeof(mac));
	rc = sasl_step(st->sasl, buf_rptr(&msg), buf_avail(&msg), &out);
	FUZZ_CHECK(rc == SASL_NEED_CREDS, "HT first step: %d", (int)rc);
	fast_creds(st, &creds);
	buf_reset(&out);
	rc = sasl_set_creds(st->sasl, &creds, &out);
	FUZZ_CHECK((rc == SASL_SUCCESS) == want, "HT login %s, the record "
	    "says %s", rc == SASL_SUCCESS ? "succeeded" : "failed",
	    want ? "yes" : "no");
	if (rc == SASL_SUCCESS) {
		ht_mac(m, key, "Responder", mac);
		FUZZ_CHECK(buf_avail(&out) == 32 &&
		    memcmp(buf_rptr(&out), mac, 32) == 0,
		    "not the responder HMAC of the key used");
		put_seen = false;
		fast_authed(st);
		fast_success(st, &tok);
		FUZZ_CHECK(put_seen, "a token used and no record written");
		s = (const uint8_t *)buf_rptr(&put);
		FUZZ_CHECK(buf_avail(&put) == REC_LEN && s[0] == 1 &&
		    s[1] != 0 && s[2] == (uint8_t)m &&
		    memcmp(s + 15, key, 32) == 0,
		    "the record written does not hold the key used");
		FUZZ_CHECK(count == -1 || be(s + 11, 4) == (uint64_t)count,
		    "the count sent is not kept");
	}
	sasl_free(st->sasl);
	st->sasl = NULL;
	fast_stream_free(st);
	free(st);
	buf_clear(&out);
	buf_clear(&msg);
	if (tok.data != NULL)
		explicit_bzero(tok.data, tok.cap);
	buf_clear(&tok);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t	salt[SCRAM_SALT_LEN] = "0123456789abcdef";
	uint8_t			salted[SCRAM_KEY_MAX], d[SCRAM_KEY_MAX];
	int			h;

	(void)argc;
	(void)argv;
	fuzz_log_init();
	c2s.conf.fast_token_lifetime = 14 * 86400;
	for (h = 0; h < SCRAM_NHASH; h++) {
		if (scram_salted_password(h, "pencil", salt, sizeof(salt), 16,
		    salted) == -1)
			fatalx("%s: salted password", __func__);
		scram_cred_from_salted(&creds.h[h], h, salted, salt,
		    sizeof(salt), 16);
	}
	/* fast.c's fingerprint: an HMAC of the SHA-256 credentials */
	scram_hmac(SCRAM_SHA256, creds.h[SCRAM_SHA256].stored_key,
	    sizeof(creds.h[SCRAM_SHA256].stored_key),
	    creds.h[SCRAM_SHA256].salt, creds.h[SCRAM_SHA256].saltlen, d);
	memcpy(fp, d, sizeof(fp));
	buf_init(&put, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum sasl_mech mechs[] = { SASL_HT_SHA256_NONE,
	    SASL_HT_SHA256_ENDP, SASL_HT_SHA256_EXPR, SASL_HT_SHA256_UNIQ };
	static const uint8_t	zero[32];
	const uint8_t		*rec;
	size_t			 rlen, i;
	int64_t			 count = -1;

	if (len < 2)
		return 0;
	if ((data[0] & 4) != 0)
		count = data[1] == 0 ? 1 : data[1];	/* 0 is not a count */
	rec = data + 2;
	rlen = len - 2;
	if (rlen > LINK_FAST_MAX)
		return 0;
	for (i = 0; i < 2; i++)
		login(rec, rlen, mechs[data[0] & 3], count,
		    rlen >= 1 + (i + 1) * SLOT_LEN ?
		    rec + 1 + i * SLOT_LEN + 14 : zero);
	return 0;
}
