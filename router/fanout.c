/*
 * The arithmetic of fan-out frames (fanout.h): pure, so that the split is
 * tested without a router.
 */
#include "fanout.h"

size_t
fanout_head_len(size_t tolen, size_t fromlen, size_t xlen)
{
	/* u8 kind, u8 type, u16 0, then three u32-prefixed strings */
	return 4 + 4 + tolen + 4 + fromlen + 4 + xlen;
}

int
fanout_split(const uint64_t *sids, size_t n, size_t head, size_t max,
    void (*emit)(const uint64_t *, size_t, void *), void *arg)
{
	size_t	per, k;

	if (head + 4 + 8 > max)
		return -1;
	per = (max - head - 4) / 8;
	while (n > 0) {
		k = n < per ? n : per;
		emit(sids, k, arg);
		sids += k;
		n -= k;
	}
	return 0;
}
