/*
 * Fuzz target: the reading of an archive query (router/mam_query.c): the
 * input, up to its first NUL, is XML read as one element and handed to
 * mam_query_parse as the <query/> (its data form, RSM set, flip-page);
 * the part after is read as a stanza-id and as an XEP-0082 date-time.
 *
 * Oracles: no crash, leak or undefined behaviour; max never passes the
 * page cap; a parsed query names at most XDATA_VALUES_MAX ids; a failure
 * says why with one of the conditions the handler may send; stanza-ids
 * format back to the text they came from; a time that parses reads the
 * same again from its own XEP-0082 form.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/util.h"
#include "../../common/xdata.h"
#include "../../common/xmlstream.h"
#include "../../router/mam.h"
#include "fuzz.h"

#define PAGE_MAX	50

static struct xparse	*xp;

static void
check_sid(const struct mam_sid *sid)
{
	char		s[MAM_SID_LEN + 1];
	struct mam_sid	back;

	mam_sid_format(s, sid);
	FUZZ_CHECK(mam_sid_parse(s, &back) == 0 && back.id == sid->id &&
	    back.nonce == sid->nonce, "stanza-id %s does not read back", s);
}

static void
on_query(struct xnode *el, struct arena *a, void *arg)
{
	struct mam_query	q;
	enum stanza_err		err = XERR_COUNT;
	const char		*text = NULL;
	size_t			i;

	(void)arg;
	if (mam_query_parse(a, el, PAGE_MAX, &q, &err, &text) == -1) {
		FUZZ_CHECK(text != NULL && (err == XERR_BAD_REQUEST ||
		    err == XERR_ITEM_NOT_FOUND), "failure %d", err);
		return;
	}
	FUZZ_CHECK(q.max <= PAGE_MAX, "max %zu past the cap", q.max);
	FUZZ_CHECK(q.nids <= XDATA_VALUES_MAX, "%zu ids", q.nids);
	FUZZ_CHECK(!(q.has_after && q.backward), "after and before");
	FUZZ_CHECK(!(q.has_index && (q.has_after || q.backward)),
	    "index with after or before");
	for (i = 0; i < q.nids; i++)
		check_sid(&q.ids[i]);
	if (q.has_after)
		check_sid(&q.after);
	if (q.has_before)
		check_sid(&q.before);
	if (q.with != NULL)
		FUZZ_CHECK(strchr(q.with, '/') == NULL, "with %s not bare",
		    q.with);
	if (q.with_full != NULL)
		FUZZ_CHECK(q.with != NULL && strncmp(q.with_full, q.with,
		    strlen(q.with)) == 0 && q.with_full[strlen(q.with)] == '/',
		    "with %s not %s with a resource", q.with_full, q.with);
}

static void
check_time(const char *s)
{
	struct tm	tm;
	time_t		t;
	uint64_t	us, back;
	char		out[64];

	if (mam_time_parse(s, &us) == -1)
		return;
	t = (time_t)(us / 1000000);
	FUZZ_CHECK(gmtime_r(&t, &tm) != NULL, "time %s", s);
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000));
	FUZZ_CHECK(mam_time_parse(out, &back) == 0 && back == us,
	    "%s read as %s does not read back", s, out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	xp = xparse_new(NS_CLIENT, 1 << 16);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t	*nul = memchr(data, '\0', len);
	size_t		 xlen = nul != NULL ? (size_t)(nul - data) : len;
	struct mam_sid	 sid;
	char		 rest[128];
	size_t		 rlen;

	(void)xparse_one(xp, (const char *)data, xlen, on_query, NULL);
	if (nul == NULL)
		return 0;
	rlen = len - xlen - 1;
	if (rlen >= sizeof(rest))
		rlen = sizeof(rest) - 1;
	memcpy(rest, nul + 1, rlen);
	rest[rlen] = '\0';
	if (mam_sid_parse(rest, &sid) == 0)
		check_sid(&sid);
	check_time(rest);
	return 0;
}
