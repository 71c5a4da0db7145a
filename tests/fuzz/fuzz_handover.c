/*
 * Fuzz target: the handover file of a planned restart
 * (router/handover_fmt.c), read by the next router at start. Oracles:
 *   - ho_parse never crashes, reads nothing past the input and stops
 *     with -1 and a reason, or 0 without one;
 *   - nothing is handed on from a refused file (the framing is checked
 *     whole before any record is seen);
 *   - an accepted file is the one the writer makes of its records: the
 *     records written again with ho_begin/ho_add/ho_end give the input,
 *     byte for byte (but the version: an older one reads too).
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../router/handover.h"
#include "fuzz.h"

struct job {
	struct buf	b;
	int		rc;
	size_t		n;
};

static int
again(struct ho_rec *r, void *arg)
{
	struct job	*job = arg;
	const char	*f[HANDOVER_FIELDS_MAX];
	size_t		 i;

	for (i = 0; i < r->n; i++) {
		FUZZ_CHECK(strlen(r->f[i]) == r->len[i],
		    "field %zu: %zu bytes, %zu before its NUL", i, r->len[i],
		    strlen(r->f[i]));
		f[i] = r->f[i];
	}
	job->n++;
	job->rc |= ho_add(&job->b, r->type, r->n, f);
	return 0;
}

static int
count(struct ho_rec *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct job	 job;
	const char	*why;
	char		*copy;
	size_t		 seen = 0;
	int		 rc;

	if (len > 1024 * 1024)
		return 0;
	/* an exact-size copy: ASan sees any read past the end */
	copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	rc = ho_parse(copy, len, count, &seen, &why);
	FUZZ_CHECK(rc == 0 || rc == -1, "ho_parse returned %d", rc);
	FUZZ_CHECK((rc == -1) == (why != NULL), "rc %d, why %s", rc,
	    why != NULL ? why : "none");
	FUZZ_CHECK(rc == 0 || seen == 0, "%zu records seen of a refused file",
	    seen);
	if (rc == 0) {
		job.rc = ho_begin(&job.b);
		job.n = 0;
		FUZZ_CHECK(ho_parse(copy, len, again, &job, &why) == 0,
		    "accepted once, refused the second time: %s", why);
		job.rc |= ho_end(&job.b);
		FUZZ_CHECK(job.rc == 0, "the writer refused what was read");
		/* an older version's file reads; the writer writes ours */
		if (buf_avail(&job.b) == len)
			memcpy((char *)buf_rptr(&job.b) + 8, copy + 8, 4);
		FUZZ_CHECK(buf_avail(&job.b) == len &&
		    memcmp(buf_rptr(&job.b), copy, len) == 0,
		    "%zu records written again differ from the input", job.n);
		buf_clear(&job.b);
	}
	free(copy);
	return 0;
}
