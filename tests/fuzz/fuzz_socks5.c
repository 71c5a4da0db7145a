/*
 * Fuzz target: the SOCKS5 handshake of the bytestream proxy
 * (proxy/socks5.c). Oracles: the bytes fed in chunks (the plan at the
 * front of the input) end in the same state, hash, replies and count of
 * bytes used as the bytes fed at once; a finished handshake holds a
 * 40-digit lowercase hex hash and its last reply echoes it; the replies
 * never exceed one of each message; nothing is used past the handshake.
 */
#include <string.h>

#include "../../proxy/socks5.h"
#include "fuzz.h"

struct run {
	struct socks5	s;
	struct buf	out;
	size_t		used;
	bool		failed;
};

/* feeds data as socks5.c's owner does: unparsed bytes kept for more */
static void
run_feed(struct run *r, const uint8_t *data, size_t len,
    struct fuzz_plan *plan)
{
	struct buf	pending;
	size_t		off = 0, n;
	ssize_t		used;

	socks5_init(&r->s);
	buf_init(&r->out, 0);
	buf_init(&pending, 0);
	r->used = 0;
	r->failed = false;
	while (off < len && !r->failed && r->s.state != SOCKS5_DONE) {
		n = plan != NULL ? fuzz_plan_next(plan, len - off) : len - off;
		(void)buf_append(&pending, data + off, n);
		off += n;
		used = socks5_feed(&r->s, buf_rptr(&pending),
		    buf_avail(&pending), &r->out);
		if (used == -1) {
			r->failed = true;
			break;
		}
		FUZZ_CHECK((size_t)used <= buf_avail(&pending),
		    "used %zd of %zu", used, buf_avail(&pending));
		r->used += (size_t)used;
		buf_consume(&pending, (size_t)used);
	}
	buf_clear(&pending);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	 plan;
	struct run		 whole, chunked;
	const unsigned char	*rep;
	size_t			 skip, i;

	skip = fuzz_plan_init(&plan, data, len);
	data += skip;
	len -= skip;
	run_feed(&whole, data, len, NULL);
	run_feed(&chunked, data, len, &plan);

	FUZZ_CHECK(whole.s.state == chunked.s.state, "state %d at once, %d "
	    "in chunks", whole.s.state, chunked.s.state);
	FUZZ_CHECK(whole.failed == chunked.failed, "failure differs");
	FUZZ_CHECK(whole.out.len == chunked.out.len && (whole.out.len == 0 ||
	    memcmp(whole.out.data, chunked.out.data, whole.out.len) == 0),
	    "replies differ");
	FUZZ_CHECK(whole.failed || whole.used == chunked.used,
	    "used %zu at once, %zu in chunks", whole.used, chunked.used);
	/* a method reply (2) and a request reply (at most 7 + 40) */
	FUZZ_CHECK(whole.out.len <= 2 + 7 + SOCKS5_HASH_LEN,
	    "%zu bytes of replies", whole.out.len);
	if (whole.s.state == SOCKS5_DONE) {
		FUZZ_CHECK(strlen(whole.s.hash) == SOCKS5_HASH_LEN,
		    "hash of %zu", strlen(whole.s.hash));
		for (i = 0; i < SOCKS5_HASH_LEN; i++)
			FUZZ_CHECK((whole.s.hash[i] >= '0' &&
			    whole.s.hash[i] <= '9') ||
			    (whole.s.hash[i] >= 'a' && whole.s.hash[i] <= 'f'),
			    "hash \"%s\"", whole.s.hash);
		FUZZ_CHECK(strcmp(whole.s.hash, chunked.s.hash) == 0,
		    "hashes differ");
		FUZZ_CHECK(whole.used <= len, "used past the input");
		rep = (const unsigned char *)whole.out.data;
		FUZZ_CHECK(whole.out.len == 2 + 7 + SOCKS5_HASH_LEN &&
		    rep[0] == 5 && rep[1] == 0 && rep[2] == 5 && rep[3] == 0 &&
	    rep[4] == 0 && rep[5] == 3 &&
		    rep[6] == SOCKS5_HASH_LEN &&
		    memcmp(rep + 7, whole.s.hash, SOCKS5_HASH_LEN) == 0,
		    "success reply does not echo the hash");
	}
	if (whole.failed)
		FUZZ_CHECK(whole.s.state == SOCKS5_FAILED &&
		    whole.s.err != NULL, "failed without a reason");
	buf_clear(&whole.out);
	buf_clear(&chunked.out);
	return 0;
}
