/*
 * Record encodings (storage/store_codec.h): bytes in, bytes out. The
 * LMDB files call these; nothing here touches the database.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/util.h"
#include "store_codec.h"

#define STR_NULL		UINT32_MAX
#define ROSTER_F_ASK		0x01
#define ROSTER_F_PENDING_IN	0x02
#define ROSTER_F_PREAPPROVED	0x04
#define ROSTER_F_HIDDEN		0x08
#define ROSTER_F_ALL		0x0f

void
rec_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
rec_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
rec_put_u64(uint8_t *p, uint64_t v)
{
	rec_put_u32(p, (uint32_t)(v >> 32));
	rec_put_u32(p + 4, (uint32_t)v);
}

uint64_t
rec_get_u64(const uint8_t *p)
{
	return (uint64_t)rec_get_u32(p) << 32 | rec_get_u32(p + 4);
}

/*
 * A hash's credentials are present and in bounds, or absent (iterations
 * and salt length 0, keys zero): an account imported from a server that
 * had only SCRAM-SHA-1 (XEP-0227 scram-credentials) has no SHA-256 ones
 * until its password changes. One of them must be present.
 */
static int
cred_valid(const struct scram_cred *c)
{
	if (c->iter == 0 && c->saltlen == 0)
		return 1;
	return c->iter >= 1 && c->iter <= SCRAM_ITER_MAX &&
	    c->saltlen >= 1 && c->saltlen <= SCRAM_SALT_MAX;
}

static int
creds_valid(const struct scram_creds *cr)
{
	int	h, present = 0;

	for (h = 0; h < SCRAM_NHASH; h++) {
		if (!cred_valid(&cr->h[h]))
			return 0;
		present += cr->h[h].iter != 0;
	}
	return present > 0;
}

size_t
rec_account_encode(uint8_t *rec, const struct scram_creds *cr)
{
	const struct scram_cred	*c;
	uint8_t			*p = rec;
	size_t			 hlen;
	int			 h;

	if (!creds_valid(cr))
		return 0;
	*p++ = ACCOUNT_VERSION;
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		rec_put_u32(p, c->iter);
		p += 4;
		*p++ = c->saltlen;
		memcpy(p, c->salt, c->saltlen);
		p += c->saltlen;
		memcpy(p, c->stored_key, hlen);
		p += hlen;
		memcpy(p, c->server_key, hlen);
		p += hlen;
	}
	return (size_t)(p - rec);
}

int
rec_account_decode(const uint8_t *p, size_t len, struct scram_creds *out)
{
	struct scram_cred	*c;
	size_t			 hlen;
	int			 h;

	memset(out, 0, sizeof(*out));
	if (len < 1 || *p != ACCOUNT_VERSION)
		goto bad;
	p++;
	len--;
	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &out->h[h];
		hlen = scram_hash_len((enum scram_hash)h);
		if (len < 5)
			goto bad;
		c->iter = rec_get_u32(p);
		c->saltlen = p[4];
		p += 5;
		len -= 5;
		if (!cred_valid(c) || len < c->saltlen + 2 * hlen)
			goto bad;
		memcpy(c->salt, p, c->saltlen);
		p += c->saltlen;
		memcpy(c->stored_key, p, hlen);
		p += hlen;
		memcpy(c->server_key, p, hlen);
		p += hlen;
		len -= c->saltlen + 2 * hlen;
	}
	if (len == 0 && creds_valid(out))
		return 0;
bad:
	explicit_bzero(out, sizeof(*out));
	return -1;
}

void
roster_item_clear(struct roster_item *it)
{
	size_t	i;

	free(it->jid);
	free(it->name);
	for (i = 0; i < it->ngroups && i < ROSTER_GROUPS_MAX; i++)
		free(it->groups[i]);
	free(it->pending_xml);
	memset(it, 0, sizeof(*it));
}

static bool
str_fits(const char *s)
{
	return s == NULL || strlen(s) < STR_NULL;
}

static uint8_t *
str_put(uint8_t *p, const char *s)
{
	size_t	len;

	if (s == NULL) {
		rec_put_u32(p, STR_NULL);
		return p + 4;
	}
	len = strlen(s);
	rec_put_u32(p, (uint32_t)len);
	memcpy(p + 4, s, len);
	return p + 4 + len;
}

uint8_t *
rec_roster_encode(const struct roster_item *it, size_t *len)
{
	uint8_t	*rec, *p, flags = 0;
	size_t	 i, size;

	if (it->jid == NULL || it->jid[0] == '\0' || it->sub > SUB_BOTH ||
	    it->ngroups > ROSTER_GROUPS_MAX || !str_fits(it->jid) ||
	    !str_fits(it->name) || !str_fits(it->pending_xml))
		return NULL;
	size = 3 + 8 + 4 + strlen(it->jid) + 4 + 2 + 4;
	size += it->name != NULL ? strlen(it->name) : 0;
	size += it->pending_xml != NULL ? strlen(it->pending_xml) : 0;
	for (i = 0; i < it->ngroups; i++) {
		if (it->groups[i] == NULL || !str_fits(it->groups[i]))
			return NULL;
		size += 4 + strlen(it->groups[i]);
	}
	if (it->ask)
		flags |= ROSTER_F_ASK;
	if (it->pending_in)
		flags |= ROSTER_F_PENDING_IN;
	if (it->preapproved)
		flags |= ROSTER_F_PREAPPROVED;
	if (it->hidden)
		flags |= ROSTER_F_HIDDEN;

	p = rec = xmalloc(size);
	*p++ = ROSTER_REC_VERSION;
	*p++ = (uint8_t)it->sub;
	*p++ = flags;
	rec_put_u64(p, it->ver);
	p += 8;
	p = str_put(p, it->jid);
	p = str_put(p, it->name);
	*p++ = (uint8_t)(it->ngroups >> 8);
	*p++ = (uint8_t)it->ngroups;
	for (i = 0; i < it->ngroups; i++)
		p = str_put(p, it->groups[i]);
	p = str_put(p, it->pending_xml);
	if ((size_t)(p - rec) != size)
		fatalx("%s: size %zu, wrote %zu", __func__, size,
		    (size_t)(p - rec));
	*len = size;
	return rec;
}

/* a reader whose failures are sticky: check bad once at the end */
struct rd {
	const uint8_t	*p;
	size_t		 left;
	bool		 bad;
};

static const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t	*p;

	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint8_t
rd_u8(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint16_t
rd_u16(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t
rd_u32(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 4);

	return p != NULL ? rec_get_u32(p) : 0;
}

static uint64_t
rd_u64(struct rd *r)
{
	const uint8_t	*p = rd_take(r, 8);

	return p != NULL ? rec_get_u64(p) : 0;
}

/* returns new; NULL for the NULL marker (bad unless nullable) or failure */
static char *
rd_str(struct rd *r, bool nullable)
{
	const uint8_t	*p;
	uint32_t	 len;

	len = rd_u32(r);
	if (r->bad)
		return NULL;
	if (len == STR_NULL) {
		if (!nullable)
			r->bad = true;
		return NULL;
	}
	if ((p = rd_take(r, len)) == NULL)
		return NULL;
	if (memchr(p, '\0', len) != NULL) {
		r->bad = true;
		return NULL;
	}
	return xstrndup((const char *)p, len);
}

/* returns new: the rest of the record (a stanza), NUL-terminated */
static char *
rd_rest(struct rd *r, size_t *len)
{
	const uint8_t	*p;
	char		*s;

	*len = r->left;
	p = rd_take(r, r->left);
	s = xmalloc(*len + 1);
	if (*len > 0)
		memcpy(s, p, *len);
	s[*len] = '\0';
	return s;
}

int
rec_roster_decode(const void *rec, size_t len, struct roster_item *out)
{
	struct rd	 r = { rec, len, false };
	uint8_t		 sub, flags;
	size_t		 i, ngroups;

	memset(out, 0, sizeof(*out));
	if (rd_u8(&r) != ROSTER_REC_VERSION)
		r.bad = true;
	sub = rd_u8(&r);
	flags = rd_u8(&r);
	out->ver = rd_u64(&r);
	out->jid = rd_str(&r, false);
	out->name = rd_str(&r, true);
	ngroups = rd_u16(&r);
	if (ngroups > ROSTER_GROUPS_MAX)
		r.bad = true;
	for (i = 0; i < ngroups && !r.bad; i++) {
		out->groups[i] = rd_str(&r, false);
		out->ngroups = i + 1;
	}
	out->pending_xml = rd_str(&r, true);
	if (r.bad || r.left != 0 || sub > SUB_BOTH ||
	    (flags & ~ROSTER_F_ALL) != 0 || out->jid[0] == '\0') {
		roster_item_clear(out);
		return -1;
	}
	out->sub = (enum roster_sub)sub;
	out->ask = (flags & ROSTER_F_ASK) != 0;
	out->pending_in = (flags & ROSTER_F_PENDING_IN) != 0;
	out->preapproved = (flags & ROSTER_F_PREAPPROVED) != 0;
	out->hidden = (flags & ROSTER_F_HIDDEN) != 0;
	return 0;
}

void
archive_entry_clear(struct archive_entry *e)
{
	free(e->with);
	free(e->xml);
	memset(e, 0, sizeof(*e));
}

uint8_t *
rec_archive_encode(const struct archive_entry *e, size_t *len)
{
	uint8_t	*rec, *p;

	if (e->with == NULL || e->with[0] == '\0' || !str_fits(e->with) ||
	    e->xml == NULL)
		return NULL;
	*len = 1 + 8 + 8 + 4 + strlen(e->with) + e->len;
	p = rec = xmalloc(*len);
	*p++ = ARCHIVE_REC_VERSION;
	rec_put_u64(p, e->nonce);
	p += 8;
	rec_put_u64(p, e->stamp);
	p += 8;
	p = str_put(p, e->with);
	memcpy(p, e->xml, e->len);
	return rec;
}

int
rec_archive_decode(const void *rec, size_t len, struct archive_entry *out)
{
	struct rd	 r = { rec, len, false };
	uint64_t	 id = out->id;

	memset(out, 0, sizeof(*out));
	out->id = id;
	if (rd_u8(&r) != ARCHIVE_REC_VERSION)
		r.bad = true;
	out->nonce = rd_u64(&r);
	out->stamp = rd_u64(&r);
	out->with = rd_str(&r, false);
	if (r.bad || out->with[0] == '\0') {
		archive_entry_clear(out);
		return -1;
	}
	out->id = id;
	out->xml = rd_rest(&r, &out->len);
	return 0;
}

uint8_t *
rec_psnode_encode(uint64_t nid, const char *name, const char *conf,
    size_t clen, size_t *len)
{
	uint8_t	*rec, *p;

	if (name == NULL || !str_fits(name))
		return NULL;
	*len = 1 + 8 + 4 + strlen(name) + clen;
	p = rec = xmalloc(*len);
	*p++ = PSNODE_REC_VERSION;
	rec_put_u64(p, nid);
	p = str_put(p + 8, name);
	if (clen > 0)
		memcpy(p, conf, clen);
	return rec;
}

int
rec_psnode_decode(const void *rec, size_t len, uint64_t *nid, char **name,
    const char **conf, size_t *clen)
{
	struct rd	r = { rec, len, false };

	if (rd_u8(&r) != PSNODE_REC_VERSION)
		r.bad = true;
	*nid = rd_u64(&r);
	*name = rd_str(&r, false);
	if (r.bad) {
		free(*name);
		*name = NULL;
		return -1;
	}
	*clen = r.left;
	*conf = (const char *)rd_take(&r, r.left);
	return 0;
}

void
pubsub_item_clear(struct pubsub_item *it)
{
	free(it->id);
	free(it->publisher);
	free(it->xml);
	memset(it, 0, sizeof(*it));
}

uint8_t *
rec_psitem_encode(const struct pubsub_item *it, size_t *len)
{
	uint8_t	*rec, *p;

	if (it->id == NULL || it->id[0] == '\0' || !str_fits(it->id) ||
	    it->publisher == NULL || !str_fits(it->publisher))
		return NULL;
	*len = 1 + 4 + strlen(it->id) + 4 + strlen(it->publisher) + it->len;
	p = rec = xmalloc(*len);
	*p++ = PSITEM_REC_VERSION;
	p = str_put(p, it->id);
	p = str_put(p, it->publisher);
	if (it->len > 0)
		memcpy(p, it->xml, it->len);
	return rec;
}

int
rec_psitem_decode(const void *rec, size_t len, struct pubsub_item *out)
{
	struct rd	 r = { rec, len, false };
	uint64_t	 seq = out->seq;

	memset(out, 0, sizeof(*out));
	if (rd_u8(&r) != PSITEM_REC_VERSION)
		r.bad = true;
	out->id = rd_str(&r, false);
	out->publisher = rd_str(&r, false);
	if (r.bad || out->id[0] == '\0') {
		pubsub_item_clear(out);
		return -1;
	}
	out->seq = seq;
	out->xml = rd_rest(&r, &out->len);
	return 0;
}

/*
 * The invitation's text record. Every field is one word: a hash or a
 * creator with a space in it (none is made so) would not read back.
 */
size_t
rec_invite_encode(char *rec, const struct invite *iv)
{
	int	n;

	if (iv->kind == '\0' || iv->kind == ' ' ||
	    strcspn(iv->hash, " \t\n") != strlen(iv->hash) ||
	    strcspn(iv->creator, " \t\n") != strlen(iv->creator) ||
	    strcspn(iv->username, " \t\n") != strlen(iv->username) ||
	    strcmp(iv->creator, "-") == 0)
		return 0;
	n = snprintf(rec, INVITE_REC_MAX, "%s %c %" PRIu32 " %" PRId64
	    " %s%s%s", iv->hash, iv->kind, iv->uses, iv->expires,
	    iv->creator[0] != '\0' ? iv->creator : "-",
	    iv->username[0] != '\0' ? " " : "", iv->username);
	if (n <= 0 || n >= INVITE_REC_MAX)
		return 0;
	return (size_t)n;
}

int
rec_invite_decode(const void *v, size_t len, struct invite *out)
{
	char	rec[INVITE_REC_MAX], creator[JID_STR_MAX + 1];
	int	n;

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(rec))
		return -1;
	memcpy(rec, v, len);
	rec[len] = '\0';
	/* 3071: JID_STR_MAX, 1023: JID_PART_MAX */
	n = sscanf(rec, "%64s %c %" SCNu32 " %" SCNd64 " %3071s %1023s",
	    out->hash, &out->kind, &out->uses, &out->expires, creator,
	    out->username);
	if ((n != 5 && n != 6) || strlen(creator) > JID_STR_MAX) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	if (strcmp(creator, "-") != 0)
		snprintf(out->creator, sizeof(out->creator), "%s", creator);
	return 0;
}
