/*
 * The handover file's format (handover.h). Binary, big-endian:
 *
 *	"PARLEYHO" u32 version u32 body-length body u64 FNV-1a(body)
 *	body:   records, each u8 type u8 nfields, then per field
 *	        u32 length and its bytes (no NUL)
 *
 * The checksum catches a truncated or damaged file, not an attacker: the
 * run directory is the server's own. A reader takes nothing it has not
 * checked whole, so a bad file changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/map.h"
#include "../common/util.h"
#include "handover.h"

#define HO_MAGIC	"PARLEYHO"
#define HO_HEAD		(8 + 4 + 4)
#define HO_TAIL		8

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
fnv1a(const unsigned char *p, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* the field counts each type allows */
static int
ho_arity(int type, size_t n)
{
	switch (type) {
	case HO_ROOM:
		return n == 4 ? 0 : -1;
	case HO_OCC:
		return n >= 8 && n <= 7 + 16 ? 0 : -1;
	case HO_DIRECTED:
		return n == 2 ? 0 : -1;
	case HO_ROSTER:
	case HO_CARBONS:
		return n == 1 ? 0 : -1;
	case HO_SMQ:
		return n == 8 ? 0 : -1;
	case HO_HIST:
		return n == 4 ? 0 : -1;
	case HO_CAPS:
		return n == 2 ? 0 : -1;
	}
	return -1;
}

int
ho_begin(struct buf *b)
{
	unsigned char	h[HO_HEAD];

	buf_init(b, HANDOVER_MAX);
	memcpy(h, HO_MAGIC, 8);
	put32(h + 8, HANDOVER_VERSION);
	put32(h + 12, 0);	/* the length, at ho_end */
	return buf_append(b, h, sizeof(h));
}

int
ho_add(struct buf *b, int type, size_t n, const char *const *f)
{
	unsigned char	h[4];
	size_t		i, len, before = buf_avail(b);
	int		rc;

	if (ho_arity(type, n) == -1)
		return -1;
	/* room is left for the checksum: a full file is still whole */
	for (i = 0, len = 2; i < n; i++)
		len += 4 + strlen(f[i]);
	if (len > HANDOVER_MAX - HO_TAIL - before)
		return -1;
	h[0] = type;
	h[1] = n;
	rc = buf_append(b, h, 2);
	for (i = 0; i < n && rc == 0; i++) {
		len = strlen(f[i]);
		put32(h, len);
		rc = len > HANDOVER_FIELD_MAX ? -1 :
		    buf_append(b, h, 4) | buf_append(b, f[i], len);
	}
	if (rc != 0)
		buf_truncate(b, before);	/* whole records only */
	return rc;
}

int
ho_end(struct buf *b)
{
	unsigned char	*p = (unsigned char *)buf_rptr(b), t[HO_TAIL];
	size_t		 body = buf_avail(b) - HO_HEAD;
	uint64_t	 sum = fnv1a(p + HO_HEAD, body);

	put32(p + 12, body);
	put32(t, sum >> 32);
	put32(t + 4, sum);
	return buf_append(b, t, sizeof(t));
}

/* one record at p (of at most left bytes) into r; its size, or 0 if bad */
static size_t
ho_rec_read(const unsigned char *p, size_t left, struct ho_rec *r)
{
	size_t		off = 2, i, len;

	if (left < 2)
		return 0;
	r->type = p[0];
	r->n = p[1];
	if (r->n > HANDOVER_FIELDS_MAX || ho_arity(r->type, r->n) == -1)
		return 0;
	for (i = 0; i < r->n; i++) {
		if (left - off < 4)
			return 0;
		len = get32(p + off);
		off += 4;
		if (len > HANDOVER_FIELD_MAX || len > left - off ||
		    memchr(p + off, '\0', len) != NULL)
			return 0;
		r->f[i] = (char *)p + off;	/* copied by the caller */
		r->len[i] = len;
		off += len;
	}
	return off;
}

static void
ho_rec_clear(struct ho_rec *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

int
ho_parse(const char *data, size_t len, int (*fn)(struct ho_rec *, void *),
    void *arg, const char **why)
{
	const unsigned char	*p = (const unsigned char *)data;
	struct ho_rec		 r;
	size_t			 body, off, step, i;
	uint64_t		 sum;
	int			 rc = 0;

	*why = NULL;
	if (len < HO_HEAD + HO_TAIL || memcmp(p, HO_MAGIC, 8) != 0) {
		*why = "not a handover file";
		return -1;
	}
	/* a version 1 file (an older router's) is a subset of this one */
	if (get32(p + 8) < 1 || get32(p + 8) > HANDOVER_VERSION) {
		*why = "another version";
		return -1;
	}
	body = get32(p + 12);
	if (len > HANDOVER_MAX || body != len - HO_HEAD - HO_TAIL) {
		*why = "truncated or too long";
		return -1;
	}
	sum = (uint64_t)get32(p + HO_HEAD + body) << 32 |
	    get32(p + HO_HEAD + body + 4);
	if (sum != fnv1a(p + HO_HEAD, body)) {
		*why = "bad checksum";
		return -1;
	}
	/* every record's framing first: nothing is applied from a bad file */
	for (off = 0; off < body; off += step)
		if ((step = ho_rec_read(p + HO_HEAD + off, body - off,
		    &r)) == 0) {
			*why = "a malformed record";
			return -1;
		}
	for (off = 0; off < body && rc == 0; off += step) {
		step = ho_rec_read(p + HO_HEAD + off, body - off, &r);
		for (i = 0; i < r.n; i++)
			r.f[i] = xstrndup(r.f[i], r.len[i]);
		rc = fn(&r, arg);
		ho_rec_clear(&r);
	}
	if (rc == -1 && *why == NULL)
		*why = "a record refused";
	return rc;
}

/* ---- for the readers: the sessions still waiting, by full JID ---------- */

struct keys_job {
	char	**v;
	size_t	  n;
};

static int
keys_collect(const void *key, size_t len, void *val, void *arg)
{
	struct keys_job	*job = arg;

	(void)val;
	job->v[job->n++] = xstrndup(key, len);
	return 0;
}

char **
handover_keys(struct map *m, size_t *n)
{
	struct keys_job	job;

	job.v = xcalloc(map_count(m) + 1, sizeof(*job.v));
	job.n = 0;
	map_foreach(m, keys_collect, &job);
	*n = job.n;
	return job.v;
}
