/*
 * Fuzz target: the XML stream layer (common/xmlstream.c) and the tree
 * serializer (common/xml.c). The same bytes are fed whole, in the chunks
 * the input's plan names, and one byte at a time. Oracles: the three runs
 * report the same callbacks, the same trees (down to how text is split
 * into nodes) and the same error; every element written back with
 * xnode_write() parses to the same tree again.
 *
 * Input: byte 0 picks the stanza cap, then the chunking plan (fuzz.h),
 * then the stream bytes. As the servers do, an element named "proceed"
 * stops the stream (STARTTLS) and one named "success" stops and resets it
 * (SASL); the caller then stops feeding this input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../../common/util.h"
#include "../../common/xml.h"
#include "../../common/xmlstream.h"
#include "../../common/xmpp.h"
#include "fuzz.h"

#define RESTART_HDR	"<stream:stream xmlns='jabber:client' " \
			"xmlns:stream='http://etherx.jabber.org/streams'>"

/* errors of checks on what expat reported (see same_log) */
#define ERR_SIZE	1000	/* a size limit */
#define ERR_TEXT	1001	/* text between stanzas */

static const size_t	caps[8] = {
	64, 256, 1024, 4096, 16384, 65536, 300, 2000
};

struct run {
	struct xstream	*xs;
	struct buf	 log;
	int		 err;		/* stream error, or ERR_SIZE */
	char		*dns;		/* the header's default namespace */
	bool		 done;		/* stopped, reset or failed */
};

/* length-prefixed, so that no two different trees dump alike */
static void
dump_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_puts(b, "-;");
		return;
	}
	buf_printf(b, "%zu:", strlen(s));
	buf_puts(b, s);
	buf_puts(b, ";");
}

static void
dump_tree(struct buf *b, const struct xnode *n)
{
	const struct xattr	*at;
	const struct xnode	*c;

	if (n->type == XNODE_TEXT) {
		FUZZ_CHECK(n->len > 0 && strlen(n->text) == n->len,
		    "text node of %zu bytes has length %zu", strlen(n->text),
		    n->len);
		buf_printf(b, "T%zu:", n->len);
		buf_append(b, n->text, n->len);
		return;
	}
	buf_puts(b, "<");
	dump_str(b, n->ns);
	dump_str(b, n->name);
	for (at = n->attrs; at != NULL; at = at->next) {
		buf_puts(b, "@");
		dump_str(b, at->ns);
		dump_str(b, at->name);
		dump_str(b, at->value);
	}
	for (c = n->children; c != NULL; c = c->next) {
		FUZZ_CHECK(c->parent == n, "child with another parent");
		/* the layer merges adjacent text: never two in a row */
		FUZZ_CHECK(!(c->type == XNODE_TEXT && c->next != NULL &&
		    c->next->type == XNODE_TEXT), "adjacent text nodes");
		dump_tree(b, c);
	}
	buf_puts(b, ">");
}

/* ---- the round trip through xnode_write --------------------------------- */

struct rt_job {
	struct buf	*want;
	bool		 called;
};

static void
rt_check(struct xnode *el, struct arena *a, void *arg)
{
	struct rt_job	*job = arg;
	struct buf	 got;

	(void)a;
	job->called = true;
	buf_init(&got, 0);
	dump_tree(&got, el);
	FUZZ_CHECK(buf_avail(&got) == buf_avail(job->want) &&
	    memcmp(buf_rptr(&got), buf_rptr(job->want), buf_avail(&got)) == 0,
	    "written element parses differently:\n%.*s\n%.*s",
	    (int)buf_avail(job->want), buf_rptr(job->want),
	    (int)buf_avail(&got), buf_rptr(&got));
	buf_clear(&got);
}

/*
 * parent_ns is where the bytes are meant to go: "" (then the element
 * carries its own xmlns) or one of the content namespaces, which xparse
 * can put in a header verbatim.
 */
static void
roundtrip(const struct xnode *el, const char *parent_ns, struct buf *want)
{
	static struct xparse	*xp_none, *xp_client, *xp_server;
	struct xparse		*xp;
	struct rt_job		 job = { want, false };
	struct buf		 out;

	if (xp_none == NULL) {
		xp_none = xparse_new("", 1 << 24);
		xp_client = xparse_new(NS_CLIENT, 1 << 24);
		xp_server = xparse_new(NS_SERVER, 1 << 24);
	}
	if (strcmp(parent_ns, NS_CLIENT) == 0)
		xp = xp_client;
	else if (strcmp(parent_ns, NS_SERVER) == 0)
		xp = xp_server;
	else {
		xp = xp_none;
		parent_ns = "";
	}
	buf_init(&out, 0);
	FUZZ_CHECK(xnode_write(&out, el, parent_ns) == 0, "xnode_write");
	FUZZ_CHECK(xparse_one(xp, buf_rptr(&out), buf_avail(&out), rt_check,
	    &job) == 0 && job.called, "written element does not parse: %.*s",
	    (int)buf_avail(&out), buf_rptr(&out));
	buf_clear(&out);
}

/* ---- the stream callbacks ----------------------------------------------- */

static void
on_open(void *ctx, const struct xnode *hdr, const char *dns)
{
	struct run	*r = ctx;

	FUZZ_CHECK(dns != NULL, "NULL default namespace");
	buf_puts(&r->log, "O");
	dump_tree(&r->log, hdr);
	dump_str(&r->log, dns);
	free(r->dns);
	r->dns = xstrdup(dns);
}

static void
on_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct run	*r = ctx;
	struct buf	 want;

	FUZZ_CHECK(el->type == XNODE_ELEM && el->parent == NULL && a != NULL,
	    "element callback without a top-level element");
	buf_init(&want, 0);
	dump_tree(&want, el);
	buf_puts(&r->log, "E");
	buf_append(&r->log, buf_rptr(&want), buf_avail(&want));
	roundtrip(el, "", &want);
	roundtrip(el, r->dns, &want);
	buf_clear(&want);

	if (strcmp(el->name, "proceed") == 0) {
		/* c2s/stream.c and s2s/in.c at STARTTLS */
		buf_puts(&r->log, "S");
		xstream_stop(r->xs);
		r->done = true;
	} else if (strcmp(el->name, "success") == 0) {
		/* c2s/auth.c after SASL: stop, then a new stream */
		buf_puts(&r->log, "R");
		xstream_stop(r->xs);
		xstream_reset(r->xs);
		r->done = true;
	}
}

static void
on_close(void *ctx)
{
	struct run	*r = ctx;

	buf_puts(&r->log, "C");
	xstream_stop(r->xs);
	r->done = true;
}

static const struct xstream_cb cbs = { on_open, on_element, on_close };

/* chunk: 0 whole, 1 one byte at a time, else the plan */
static void
run_stream(struct run *r, size_t cap, const uint8_t *data, size_t len,
    struct fuzz_plan *plan)
{
	size_t	off = 0, n;
	bool	tail = false;

	memset(r, 0, sizeof(*r));
	buf_init(&r->log, 0);
	r->xs = xstream_new(&cbs, r, cap);
	/*
	 * The input, then one '>' in a feed of its own: past a long partial
	 * token the layer holds back input without a '>' (xstream_feed), so
	 * without it a run would end with bytes not yet parsed that another
	 * run parsed.
	 */
	while (!r->done) {
		if (off == len) {
			if (tail)
				break;
			tail = true;
			data = (const uint8_t *)">";
			len = 1;
			off = 0;
			plan = NULL;
		}
		n = plan != NULL ? fuzz_plan_next(plan, len - off) : 1;
		if (xstream_feed(r->xs, (const char *)data + off, n) == -1) {
			r->err = (int)xstream_error(r->xs);
			FUZZ_CHECK(r->err != SERR_NONE,
			    "feed failed without an error");
			if (r->err == SERR_POLICY_VIOLATION &&
			    strstr(xstream_error_text(r->xs), "larger than"))
				r->err = ERR_SIZE;
			if (r->err == SERR_BAD_FORMAT &&
			    strstr(xstream_error_text(r->xs), "between"))
				r->err = ERR_TEXT;
			r->done = true;
		} else
			FUZZ_CHECK(xstream_error(r->xs) == SERR_NONE,
			    "feed succeeded with an error");
		off += n;
	}
	/* whatever state it was left in, a reset gives a working stream */
	xstream_reset(r->xs);
	r->done = false;
	FUZZ_CHECK(xstream_feed(r->xs, RESTART_HDR, strlen(RESTART_HDR)) == 0,
	    "a reset stream refuses a header: %s",
	    xstream_error_text(r->xs));
	xstream_free(r->xs);
	free(r->dns);
}

static bool
text_check(int err)
{
	return err == ERR_SIZE || err == ERR_TEXT;
}

/*
 * The same callbacks in the same order, and the same error. One latitude:
 * expat refuses a run of text holding "]]>" as one invalid token when it
 * has the run whole, but reports the pieces before it when they come in
 * pieces, and our checks on text (its size, text between stanzas) may
 * then fail first. So when the errors differ, both runs failed, one of
 * them in such a check, and the other is not-well-formed or a check too.
 */
static void
same_log(const struct run *a, const struct run *b, const char *what)
{
	FUZZ_CHECK(buf_avail(&a->log) == buf_avail(&b->log) &&
	    memcmp(buf_rptr(&a->log), buf_rptr(&b->log),
	    buf_avail(&a->log)) == 0,
	    "whole and %s feeds differ:\n%.*s\n%.*s", what,
	    (int)buf_avail(&a->log), buf_rptr(&a->log),
	    (int)buf_avail(&b->log), buf_rptr(&b->log));
	FUZZ_CHECK(a->err == b->err ||
	    (text_check(a->err) && (text_check(b->err) ||
	    b->err == SERR_NOT_WELL_FORMED)) ||
	    (text_check(b->err) && a->err == SERR_NOT_WELL_FORMED),
	    "whole and %s feeds end in errors %d and %d", what, a->err,
	    b->err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	 plan, whole;
	struct run		 a, b, c;
	size_t			 cap, off;

	if (len < 1)
		return 0;
	cap = caps[data[0] & 7];
	off = 1 + fuzz_plan_init(&plan, data + 1, len - 1);
	data += off;
	len -= off;

	memset(&whole, 0, sizeof(whole));
	run_stream(&a, cap, data, len, &whole);
	run_stream(&b, cap, data, len, &plan);
	same_log(&a, &b, "chunked");
	buf_clear(&b.log);
	run_stream(&c, cap, data, len, NULL);
	same_log(&a, &c, "byte-by-byte");
	buf_clear(&c.log);
	buf_clear(&a.log);
	return 0;
}
