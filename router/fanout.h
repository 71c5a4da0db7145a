/*
 * Splitting a fan-out over frames: the same stanza to many sessions of
 * one c2s goes as LINK_STANZA_MULTI frames, each under the frame limit,
 * so a broadcast to a large roster is never dropped for its size.
 */
#ifndef PARLEY_FANOUT_H
#define PARLEY_FANOUT_H

#include <stddef.h>
#include <stdint.h>

/* the envelope and xml of a LINK_STANZA_MULTI, before its session list */
size_t	fanout_head_len(size_t tolen, size_t fromlen, size_t xlen);
/*
 * Calls emit(sids + i, k, arg) for consecutive runs of sids, each as
 * large as a frame of head bytes plus the u32 count and k u64 ids can be
 * within max payload bytes. Returns 0, or -1 (nothing emitted) when not
 * even one session fits beside the head.
 */
int	fanout_split(const uint64_t *sids, size_t n, size_t head, size_t max,
	    void (*emit)(const uint64_t *, size_t, void *), void *arg);

#endif
