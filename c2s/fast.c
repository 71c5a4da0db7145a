/*
 * FAST (XEP-0484): tokens for one-round-trip logins with the HT-SHA-256
 * mechanisms, per account and per device (the XEP-0388 user-agent id).
 * The router stores each device's record (LINK_FAST_PUT, DOC_FAST) and
 * sends it with the credentials; it holds two slots, as XEP-0484 7.1
 * suggests: the token in use and the one issued last, not yet used.
 * Only hashes are kept: a token is longer than SHA-256's block, so HMAC
 * keys with SHA-256 of it (RFC 2104 2) and that is all we need.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/base64.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_FAST		"urn:xmpp:fast:0"
#define FAST_TOKEN_RAW	72	/* random bytes: 96 in base64, over the
				   64-byte block of SHA-256 */
#define FAST_FP_LEN	8	/* bytes of the credentials' fingerprint */
#define FAST_REC_V	1

enum { FAST_CUR, FAST_NEW, FAST_NSLOT };

struct fast_slot {
	uint8_t		set;
	uint8_t		mech;		/* enum sasl_mech it is bound to */
	uint64_t	expiry;		/* Unix seconds */
	uint32_t	count;		/* highest count seen; 0 none */
	uint8_t		key[SASL_HT_KEYLEN];	/* SHA-256 of the token */
	uint8_t		fp[FAST_FP_LEN];	/* credentials it was for */
};

struct fast {
	char			 dev[LINK_DEVICE_MAX + 1];
	bool			 used;		/* <fast/> came */
	int64_t			 count;		/* its count, -1 if none */
	bool			 invalidate;
	int			 request;	/* mechanism, -1 if none */
	struct fast_slot	 slot[FAST_NSLOT];
	int			 keyslot[FAST_NSLOT];	/* sasl key -> slot */
	int			 ht_used;	/* the key that matched, -1 */
	uint8_t			 fp[FAST_FP_LEN];
	uint8_t			 fp_sha1[FAST_FP_LEN];
	bool			 have_fp;
};

static void
fast_free(struct stream *st)
{
	if (st->fast == NULL)
		return;
	explicit_bzero(st->fast, sizeof(*st->fast));
	free(st->fast);
	st->fast = NULL;
}

void
fast_stream_free(struct stream *st)
{
	fast_free(st);
}

const char *
fast_device(const struct stream *st)
{
	return st->fast != NULL ? st->fast->dev : "";
}

/* XEP-0484 3.1: offered over TLS, with the bindings this stream has */
static size_t
fast_mechs(struct stream *st, enum sasl_mech *out)
{
	static const enum sasl_mech order[] = { SASL_HT_SHA256_EXPR,
	    SASL_HT_SHA256_UNIQ, SASL_HT_SHA256_ENDP, SASL_HT_SHA256_NONE };
	bool	have[SASL_NCB];
	size_t	i, n = 0;

	if (!st->tls_on)
		return 0;
	sasl2_cb_collect(st, NULL, have);
	for (i = 0; i < nitems(order); i++)
		if (sasl_mech_cb(order[i]) == SASL_NCB ||
		    have[sasl_mech_cb(order[i])])
			out[n++] = order[i];
	return n;
}

bool
fast_offered(struct stream *st, enum sasl_mech m)
{
	enum sasl_mech	ms[SASL_NMECH];
	size_t		i, n = fast_mechs(st, ms);

	for (i = 0; i < n; i++)
		if (ms[i] == m)
			return true;
	return false;
}

void
fast_features(struct stream *st, struct buf *b)
{
	enum sasl_mech	ms[SASL_NMECH];
	size_t		i, n = fast_mechs(st, ms);

	if (n == 0)
		return;
	buf_puts(b, "<fast xmlns='" NS_FAST "'>");
	for (i = 0; i < n; i++)
		buf_printf(b, "<mechanism>%s</mechanism>",
		    sasl_mech_name(ms[i]));
	buf_puts(b, "</fast>");
}

/*
 * The FAST elements of an <authenticate/> (XEP-0484 3.2, 3.4, 3.6).
 * Tokens are per device: without a user-agent id there is no FAST.
 */
int
fast_parse(struct stream *st, const struct xnode *auth, const char *dev,
    const char **why)
{
	struct fast	*f;
	struct xnode	*c;
	const char	*v;
	char		*end;
	int		 m;

	fast_free(st);
	f = st->fast = xcalloc(1, sizeof(*f));
	f->count = -1;
	f->request = -1;
	f->ht_used = -1;
	if (dev != NULL)
		snprintf(f->dev, sizeof(f->dev), "%s", dev);
	for (c = xnode_child(auth, NS_FAST, NULL); c != NULL;
	    c = xnode_next(c, NS_FAST, NULL)) {
		if (strcmp(c->name, "fast") == 0) {
			f->used = true;
			if ((v = xnode_attr(c, "count")) != NULL) {
				f->count = strtoll(v, &end, 10);
				if (*v < '0' || *v > '9' || *end != '\0' ||
				    f->count < 1 || f->count > UINT32_MAX) {
					*why = "bad FAST count";
					return -1;
				}
			}
			v = xnode_attr(c, "invalidate");
			f->invalidate = v != NULL && (strcmp(v, "true") == 0 ||
			    strcmp(v, "1") == 0);
		} else if (strcmp(c->name, "request-token") == 0) {
			v = xnode_attr(c, "mechanism");
			if (v == NULL || (m = sasl_mech_lookup(v)) == -1 ||
			    !fast_offered(st, (enum sasl_mech)m)) {
				*why = "FAST mechanism not offered";
				return -1;
			}
			f->request = m;
		}
	}
	if ((f->used || f->request != -1) && f->dev[0] == '\0') {
		*why = "FAST needs a user-agent id";
		return -1;
	}
	return 0;
}

/* auth.c: an HT-* mechanism is only for a client that says <fast/> */
bool
fast_used(const struct stream *st)
{
	return st->fast != NULL && st->fast->used;
}

/*
 * The stored record (c2s/uplink.c, from LINK_AUTH_CRED), decoded with
 * the link reader: a bad one is as none (the tokens in it are lost).
 */
void
fast_record(struct stream *st, const char *rec, size_t len)
{
	struct link_in	 in;
	struct fast	*f = st->fast;
	const void	*p;
	uint8_t		 v;
	int		 i;

	if (f == NULL || len == 0)
		return;
	link_in_init(&in, rec, len);
	link_get_u8(&in, &v);
	for (i = 0; i < FAST_NSLOT; i++) {
		link_get_u8(&in, &f->slot[i].set);
		link_get_u8(&in, &f->slot[i].mech);
		link_get_u64(&in, &f->slot[i].expiry);
		link_get_u32(&in, &f->slot[i].count);
		link_get_bytes(&in, &p, SASL_HT_KEYLEN);
		if (p != NULL)
			memcpy(f->slot[i].key, p, SASL_HT_KEYLEN);
		link_get_bytes(&in, &p, FAST_FP_LEN);
		if (p != NULL)
			memcpy(f->slot[i].fp, p, FAST_FP_LEN);
	}
	if (!link_in_done(&in) || v != FAST_REC_V) {
		log_info("%016llx FAST record unreadable: dropped",
		    (unsigned long long)st->sid);
		memset(f->slot, 0, sizeof(f->slot));
	}
}

static void
fast_record_put(struct stream *st)
{
	struct fast	*f = st->fast;
	struct link_out	 m;
	struct buf	 b;
	int		 i;

	buf_init(&b, LINK_FAST_MAX);
	link_out_buf(&m, &b);
	link_put_u8(&m, FAST_REC_V);
	for (i = 0; i < FAST_NSLOT; i++) {
		link_put_u8(&m, f->slot[i].set);
		link_put_u8(&m, f->slot[i].mech);
		link_put_u64(&m, f->slot[i].expiry);
		link_put_u32(&m, f->slot[i].count);
		link_put_bytes(&m, f->slot[i].key, SASL_HT_KEYLEN);
		link_put_bytes(&m, f->slot[i].fp, FAST_FP_LEN);
	}
	if (link_out_buf_end(&m) == 0) {
		if (!f->slot[FAST_CUR].set && !f->slot[FAST_NEW].set)
			buf_reset(&b);		/* none left: deleted */
		uplink_fast_put(st, f->dev, &b);
	}
	explicit_bzero(b.data, b.cap);
	buf_clear(&b);
}

/*
 * Which credentials a token was issued under: a password change makes
 * new salts and keys, so every token issued before stops matching. The
 * SHA-256 set's when there is one, else the SHA-1 set's (an imported
 * account); fast_creds also takes the SHA-1 one, which an XEP-0480
 * upgrade leaves as it was, so a token issued before the upgrade (or in
 * the login that did it) still matches after.
 */
static void
fast_fingerprint(const struct scram_creds *c, enum scram_hash hash,
    uint8_t *out)
{
	const struct scram_cred	*h = &c->h[hash];
	uint8_t			 d[SCRAM_KEY_MAX];

	if (h->iter == 0)
		h = &c->h[SCRAM_SHA1];
	scram_hmac(SCRAM_SHA256, h->stored_key, sizeof(h->stored_key),
	    h->salt, h->saltlen, d);
	memcpy(out, d, FAST_FP_LEN);
}

/*
 * auth.c, before sasl_set_creds: the keys an HT-* login may match, the
 * slot issued last first (XEP-0484 7.1), each only for the mechanism it
 * was issued for, unexpired, under the current credentials and with a
 * count above the last one seen.
 */
void
fast_creds(struct stream *st, const struct scram_creds *creds)
{
	struct fast		*f = st->fast;
	struct fast_slot	*s;
	uint8_t			 keys[FAST_NSLOT][SASL_HT_KEYLEN];
	uint64_t		 now = (uint64_t)time(NULL);
	size_t			 n = 0;
	int			 i;

	if (f == NULL || creds == NULL)
		return;
	fast_fingerprint(creds, SCRAM_SHA256, f->fp);
	if (creds->h[SCRAM_SHA1].iter != 0)
		fast_fingerprint(creds, SCRAM_SHA1, f->fp_sha1);
	else
		memcpy(f->fp_sha1, f->fp, FAST_FP_LEN);
	f->have_fp = true;
	if (st->sasl == NULL || !sasl_mech_ht(st->mech))
		return;
	for (i = FAST_NEW; i >= FAST_CUR; i--) {
		s = &f->slot[i];
		if (!s->set || s->mech != (uint8_t)st->mech ||
		    s->expiry <= now ||
		    (timingsafe_memcmp(s->fp, f->fp, FAST_FP_LEN) != 0 &&
		    timingsafe_memcmp(s->fp, f->fp_sha1, FAST_FP_LEN) != 0) ||
		    (f->count != -1 && (uint32_t)f->count <= s->count))
			continue;
		memcpy(keys[n], s->key, SASL_HT_KEYLEN);
		f->keyslot[n++] = i;
	}
	sasl_set_ht_keys(st->sasl, (const uint8_t (*)[32])keys, n);
	explicit_bzero(keys, sizeof(keys));
}

/* a new token in the "new" slot; the <token/> element into out */
static void
fast_issue(struct stream *st, enum sasl_mech m, struct buf *out)
{
	struct fast		*f = st->fast;
	struct fast_slot	*s = &f->slot[FAST_NEW];
	struct buf		 tok;
	uint8_t			 rnd[FAST_TOKEN_RAW];
	char			 stamp[32];
	time_t			 exp;
	struct tm		 tm;

	random_bytes(rnd, sizeof(rnd));
	buf_init(&tok, 2 * FAST_TOKEN_RAW);
	if (base64_encode(&tok, rnd, sizeof(rnd)) == -1)
		fatalx("%s: buffer", __func__);
	explicit_bzero(rnd, sizeof(rnd));
	memset(s, 0, sizeof(*s));
	s->set = 1;
	s->mech = (uint8_t)m;
	exp = time(NULL) + c2s.conf.fast_token_lifetime;
	s->expiry = (uint64_t)exp;
	scram_h(SCRAM_SHA256, buf_rptr(&tok), buf_avail(&tok), s->key);
	memcpy(s->fp, f->fp, FAST_FP_LEN);
	gmtime_r(&exp, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, "<token xmlns='" NS_FAST "' expiry='%s' token='",
	    stamp);
	buf_append(out, buf_rptr(&tok), buf_avail(&tok));
	buf_puts(out, "'/>");
	explicit_bzero(tok.data, tok.cap);
	buf_clear(&tok);
	log_info("%016llx FAST token issued for %s",
	    (unsigned long long)st->sid, sasl_mech_name(m));
}

/* auth.c: the mechanism succeeded; which token, before sasl goes */
void
fast_authed(struct stream *st)
{
	if (st->fast != NULL && st->sasl != NULL && sasl_mech_ht(st->mech))
		st->fast->ht_used = sasl_ht_used(st->sasl);
}

/*
 * The login succeeded (sasl2.c): the token used moves to the "current"
 * slot, or goes if the client asked (3.6); a new one is issued when
 * asked for or, unless invalidating, when the used one is in its last
 * half (3.5). out gets the <token/> element.
 */
void
fast_success(struct stream *st, struct buf *out)
{
	struct fast		*f = st->fast;
	struct fast_slot	*used = NULL;
	uint64_t		 now = (uint64_t)time(NULL);
	bool			 dirty = false;
	int			 k;

	if (f == NULL || f->dev[0] == '\0' || !f->have_fp)
		return;
	if ((k = f->ht_used) >= 0) {
		used = &f->slot[f->keyslot[k]];
		if (f->count != -1)
			used->count = (uint32_t)f->count;
		if (f->keyslot[k] == FAST_NEW) {
			/* 3.5: tokens issued before the one used go */
			f->slot[FAST_CUR] = *used;
			memset(used, 0, sizeof(*used));
			used = &f->slot[FAST_CUR];
		}
		dirty = true;
		if (f->invalidate) {
			memset(used, 0, sizeof(*used));
			used = NULL;
			log_info("%016llx FAST token invalidated",
			    (unsigned long long)st->sid);
		}
	}
	if (f->request != -1)
		fast_issue(st, (enum sasl_mech)f->request, out);
	else if (used != NULL && used->expiry - now <
	    (uint64_t)c2s.conf.fast_token_lifetime / 2)
		fast_issue(st, (enum sasl_mech)used->mech, out);
	else if (!dirty)
		return;
	fast_record_put(st);
}
