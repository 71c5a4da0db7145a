/*
 * SRV target ordering for outgoing s2s connections: the "Usage rules" of
 * RFC 2782 over the merged _xmpps-server and _xmpp-server answers
 * (XEP-0368). Lists are a handful of records in practice, but a hostile
 * answer can carry a few thousand, so nothing here is worse than quadratic
 * and no sum can overflow.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

static char
srv_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* length of a host name without its final dot, if any */
static size_t
srv_host_len(const char *h)
{
	size_t	len = strlen(h);

	return len > 0 && h[len - 1] == '.' ? len - 1 : len;
}

/*
 * RFC 2782: a Target of "." means the service is decidedly not available.
 * Resolvers hand the root name back either as "." or as "".
 */
static bool
srv_is_root(const char *h)
{
	return srv_host_len(h) == 0;
}

/* DNS names compare case-insensitively in ASCII (RFC 4343) */
static bool
srv_same(const struct srv_target *a, const struct srv_target *b)
{
	size_t	len, i;

	if (a->port != b->port || a->direct_tls != b->direct_tls)
		return false;
	if ((len = srv_host_len(a->host)) != srv_host_len(b->host))
		return false;
	for (i = 0; i < len; i++)
		if (srv_lower(a->host[i]) != srv_lower(b->host[i]))
			return false;
	return true;
}

static bool
srv_before(const struct srv_target *a, const struct srv_target *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->direct_tls && !b->direct_tls;
}

/*
 * Insertion sort: stable, so that among equals the resolver's order
 * stands and a test can predict the outcome.
 */
static void
srv_sort(struct srv_target *v, size_t n)
{
	struct srv_target	t;
	size_t			i, j;

	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && srv_before(&t, &v[j - 1]); j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* moves v[j] to v[k] (k <= j), keeping the order of v[k..j) */
static void
srv_move_front(struct srv_target *v, size_t k, size_t j)
{
	struct srv_target	t;

	t = v[j];
	memmove(&v[k + 1], &v[k], (j - k) * sizeof(*v));
	v[k] = t;
}

/*
 * Uniform in [0, bound]. Rejection rather than a bare modulo, so that no
 * value is favoured; bound passes 2^32 - 1 only with more than 65537
 * records, which no DNS message can hold, but costs nothing to handle.
 */
static uint64_t
srv_uniform(srv_rnd_fn *rnd, void *arg, uint64_t bound)
{
	uint64_t	range = bound + 1, limit, r;

	if (range <= (uint64_t)1 << 32) {
		limit = ((uint64_t)1 << 32) / range * range;
		do {
			r = rnd(arg);
		} while (r >= limit);
	} else {
		limit = UINT64_MAX / range * range;
		do {
			r = (uint64_t)rnd(arg) << 32;
			r |= rnd(arg);
		} while (r >= limit);
	}
	return r % range;
}

/*
 * RFC 2782 weighted selection over one priority: weight-0 records first,
 * then repeatedly a uniform number in [0, sum of the remaining weights]
 * picks the first record whose running sum reaches it. A weight-0 record
 * thus comes first only when the number is 0, the "very small chance"
 * the RFC asks for.
 */
static void
srv_weighted(struct srv_target *v, size_t n, srv_rnd_fn *rnd, void *arg)
{
	uint64_t	sum, run, r;
	size_t		i, j, k;

	for (i = 0, k = 0; i < n; i++)
		if (v[i].weight == 0)
			srv_move_front(v, k++, i);
	for (k = 0; k + 1 < n; k++) {
		sum = 0;
		for (i = k; i < n; i++)
			sum += v[i].weight;
		/* only weight-0 records left: any order will do */
		if (sum == 0)
			break;
		r = srv_uniform(rnd, arg, sum);
		run = 0;
		for (j = k; j + 1 < n; j++) {
			run += v[j].weight;
			if (run >= r)
				break;
		}
		srv_move_front(v, k, j);
	}
}

size_t
srv_order(struct srv_target *v, size_t n, srv_rnd_fn *rnd, void *arg,
    bool *unavailable)
{
	size_t	i, j, out, roots = 0;

	*unavailable = false;
	/* sorted first, so that of two duplicates the better one stays */
	srv_sort(v, n);
	for (i = 0, out = 0; i < n; i++) {
		if (srv_is_root(v[i].host)) {
			roots++;
			free(v[i].host);
			continue;
		}
		for (j = 0; j < out && !srv_same(&v[j], &v[i]); j++)
			;
		if (j < out) {
			free(v[i].host);
			continue;
		}
		v[out++] = v[i];
	}
	/* so that srv_targets_free(v, n) is as right as (v, out) */
	for (i = out; i < n; i++)
		v[i].host = NULL;
	/*
	 * "." means "not available" only as the sole answer: beside real
	 * targets it is malformed, or, from _xmpps-server next to
	 * _xmpp-server records, just "no direct TLS" (XEP-0368 5), and is
	 * dropped.
	 */
	if (out == 0) {
		*unavailable = roots > 0;
		return 0;
	}
	for (i = 0; i < out; i = j) {
		for (j = i + 1; j < out && v[j].priority == v[i].priority &&
		    v[j].direct_tls == v[i].direct_tls; j++)
			;
		srv_weighted(&v[i], j - i, rnd, arg);
	}
	return out;
}

void
srv_targets_free(struct srv_target *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].host);
	free(v);
}
