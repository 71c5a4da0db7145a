/*
 * Per-account XML documents in storage (vcard-temp, private XML), read
 * back into a stanza's tree. The handlers run inside deliver_parse(),
 * whose parser is busy, so documents get a parser of their own.
 */
#include "../common/log.h"
#include "../common/xmlstream.h"
#include "router.h"

/*
 * No default namespace: a document is written with parent ns "", so it
 * declares every namespace it uses (an unqualified child as xmlns='').
 */
#define DOC_HEADER	"<stream:stream xmlns:stream='" NS_STREAM "'>"

struct doc_job {
	struct arena	*a;
	struct xnode	*el;
	int		 count;
};

static struct xstream	*doc_parser;
static struct doc_job	 doc_job;

static void
doc_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct doc_job	*job = ctx;

	(void)a;
	/* the stream's arena is reset after this call: copy to the caller's */
	if (job->count++ == 0)
		job->el = xnode_copy(job->a, el);
}

static const struct xstream_cb doc_cbs = { NULL, doc_element, NULL };

struct xnode *
doc_parse(struct arena *a, const char *xml, size_t len)
{
	size_t	max;

	if (doc_parser == NULL) {
		/* documents passed these caps, or a stanza's, when stored */
		max = router.conf.max_stanza_size;
		if (max < router.conf.vcard_max_size)
			max = router.conf.vcard_max_size;
		if (max < router.conf.private_max_size)
			max = router.conf.private_max_size;
		doc_parser = xstream_new(&doc_cbs, &doc_job, max + 4096);
	}
	xstream_reset(doc_parser);
	doc_job.a = a;
	doc_job.el = NULL;
	doc_job.count = 0;
	if (xstream_feed(doc_parser, DOC_HEADER,
	    sizeof(DOC_HEADER) - 1) == -1 ||
	    xstream_feed(doc_parser, xml, len) == -1 || doc_job.count != 1) {
		log_warnx("stored document unreadable: %s",
		    xstream_error_text(doc_parser));
		return NULL;
	}
	return doc_job.el;
}
