/*
 * Routing. An online full JID is the fast path: the envelope names the
 * session and the bytes are copied, never parsed. Everything else follows
 * RFC 6121 8 (delivery rules) and RFC 6120 8.3 (errors), and is parsed
 * only when it must be read or answered.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xmlstream.h"
#include "../storage/store.h"
#include "router.h"

#define PARSE_HEADER	"<stream:stream xmlns='" NS_CLIENT \
			"' xmlns:stream='" NS_STREAM "'>"

struct parse_job {
	void	(*fn)(struct xnode *, struct arena *, void *);
	void	 *arg;
	int	  count;
};

static struct parse_job	*parse_job;

static void
parse_open(void *ctx, const struct xnode *hdr, const char *ns)
{
	(void)ctx;
	(void)hdr;
	(void)ns;
}

static void
parse_element(void *ctx, struct xnode *el, struct arena *a)
{
	(void)ctx;
	if (parse_job->count++ == 0)
		parse_job->fn(el, a, parse_job->arg);
}

static void
parse_close(void *ctx)
{
	(void)ctx;
}

static const struct xstream_cb parse_cbs = {
	parse_open, parse_element, parse_close
};

int
deliver_parse(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	struct parse_job	job = { fn, arg, 0 };

	if (router.parser == NULL)
		router.parser = xstream_new(&parse_cbs, NULL,
		    router.conf.max_stanza_size + 4096);
	xstream_reset(router.parser);
	parse_job = &job;
	if (xstream_feed(router.parser, PARSE_HEADER,
	    sizeof(PARSE_HEADER) - 1) == -1 ||
	    xstream_feed(router.parser, xml, len) == -1 || job.count != 1) {
		log_warnx("unparsable stanza from a c2s: %s",
		    xstream_error_text(router.parser));
		return -1;
	}
	return 0;
}

void
deliver_to_sess(struct sess *s, int kind, int type, const char *to,
    const char *from, const char *xml, size_t xlen)
{
	struct link_out	m;

	link_begin(&m, s->rl->l, LINK_STANZA, s->sid);
	link_put_u8(&m, (uint8_t)kind);
	link_put_u8(&m, (uint8_t)type);
	link_put_u16(&m, 0);
	link_put_str(&m, to);
	link_put_str(&m, from);
	link_put_strn(&m, xml, xlen);
	link_end(&m);
}

void
deliver_tree(struct sess *s, const struct xnode *el)
{
	buf_reset(&router.scratch);
	if (xnode_write(&router.scratch, el, NS_CLIENT) == -1)
		return;
	deliver_to_sess(s, 0, 0, xnode_attr(el, "to"),
	    xnode_attr(el, "from"), buf_rptr(&router.scratch),
	    buf_avail(&router.scratch));
}

struct error_job {
	struct rstanza	*rs;
	enum stanza_err	 cond;
};

static void
error_build(struct xnode *el, struct arena *a, void *arg)
{
	struct error_job	*job = arg;

	if (stanza_is_error(el))
		return;
	stanza_make_error(a, el, job->cond, NULL);
	deliver_tree(job->rs->sender, el);
}

void
deliver_error(struct rstanza *rs, enum stanza_err cond)
{
	struct error_job	job = { rs, cond };

	/* RFC 6120 8.3.1: an error is never answered with an error */
	if ((rs->kind == KIND_MESSAGE && rs->type == MSG_ERROR) ||
	    (rs->kind == KIND_PRESENCE && rs->type == PRES_ERROR) ||
	    (rs->kind == KIND_IQ && (rs->type == IQ_ERROR ||
	    rs->type == IQ_RESULT)))
		return;
	log_debug("%s -> %s: %s", log_escs(rs->from), log_escs(rs->to),
	    stanza_err_name(cond));
	(void)deliver_parse(rs->xml, rs->xlen, error_build, &job);
}

static bool
domain_is_local(const char *domain)
{
	return conf_host_find(&router.conf, domain) != NULL;
}

static bool
account_exists(const char *node, const char *domain)
{
	struct scram_creds	c;

	return store_account_get(router.store, node, domain, &c) == 0;
}

/*
 * RFC 6121 8.5.2.1.1: a chat or normal message to a bare JID goes to the
 * available resources with the highest non-negative priority -- all of
 * them when several share it, so every device of that rank sees it.
 * Headlines go to every available non-negative resource. Returns the
 * number of sessions reached.
 */
static int
deliver_bare_message(struct user *u, struct rstanza *rs)
{
	struct sess	*s;
	int		 best = -1, n = 0;

	for (s = u->sessions; s != NULL; s = s->next)
		if (s->available && s->priority >= 0 && s->priority > best)
			best = s->priority;
	if (best < 0)
		return 0;
	for (s = u->sessions; s != NULL; s = s->next) {
		if (!s->available || s->priority < 0)
			continue;
		if (rs->type != MSG_HEADLINE && s->priority != best)
			continue;
		deliver_to_sess(s, rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen);
		n++;
	}
	return n;
}

/* RFC 6121 8.5.2.1.1 for presence: to every available resource */
static void
deliver_bare_presence(struct user *u, struct rstanza *rs)
{
	struct sess	*s;

	for (s = u ? u->sessions : NULL; s != NULL; s = s->next)
		if (s->available)
			deliver_to_sess(s, rs->kind, rs->type, rs->to,
			    rs->from, rs->xml, rs->xlen);
}

static void
presence_read(struct xnode *el, struct arena *a, void *arg)
{
	struct sess	*s = arg;
	struct xnode	*p;
	char		*text;
	long		 v;

	s->priority = 0;
	if ((p = xnode_child(el, NS_CLIENT, "priority")) != NULL) {
		text = xnode_text(a, p);
		v = strtol(text, NULL, 10);
		/* RFC 6121 4.7.2.3: -128 to +127 */
		s->priority = v < -128 ? -128 : v > 127 ? 127 : (int)v;
	}
}

/* presence with no 'to': the session's own availability */
static void
deliver_own_presence(struct rstanza *rs)
{
	struct sess	*s = rs->sender;

	if (rs->type == PRES_AVAILABLE) {
		s->available = true;
		(void)deliver_parse(rs->xml, rs->xlen, presence_read, s);
	} else if (rs->type == PRES_UNAVAILABLE)
		s->available = false;
}

void
deliver_stanza(struct rstanza *rs)
{
	struct sess	*s;
	struct user	*u;
	struct jid	 to;
	char		 bare[JID_STR_MAX + 1];

	if (rs->to == NULL) {
		/* RFC 6120 10.3: no 'to' means the sender's own account */
		if (rs->kind == KIND_PRESENCE)
			deliver_own_presence(rs);
		else if (rs->kind == KIND_IQ)
			iq_to_server(rs, true);
		else {
			rs->to = rs->sender->user->bare;
			deliver_stanza(rs);
		}
		return;
	}
	/* the fast path: an online full JID, bytes copied as they are */
	if ((s = map_get(router.by_full, rs->to)) != NULL) {
		deliver_to_sess(s, rs->kind, rs->type, rs->to, rs->from,
		    rs->xml, rs->xlen);
		return;
	}
	if (jid_parse(&to, rs->to) == -1) {
		deliver_error(rs, XERR_JID_MALFORMED);
		return;
	}
	if (!domain_is_local(to.domain)) {
		/* federation arrives with the s2s process */
		if (rs->kind != KIND_PRESENCE)
			deliver_error(rs, XERR_REMOTE_SERVER_NOT_FOUND);
		goto done;
	}
	if (to.node == NULL) {
		if (to.resource == NULL && rs->kind == KIND_IQ)
			iq_to_server(rs, false);
		else if (rs->kind == KIND_IQ)
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		goto done;
	}
	jid_format(bare, to.node, to.domain, NULL);
	u = map_get(router.by_bare, bare);
	/* RFC 6121 8.5.1: no such user */
	if (u == NULL && !account_exists(to.node, to.domain)) {
		if (rs->kind != KIND_PRESENCE)
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		goto done;
	}
	switch (rs->kind) {
	case KIND_MESSAGE:
		/* RFC 6121 8.5.3.2.1: a gone resource is as the bare JID */
		if (rs->type == MSG_ERROR)
			break;
		if (to.resource != NULL && (rs->type == MSG_GROUPCHAT ||
		    rs->type == MSG_HEADLINE)) {
			if (rs->type == MSG_GROUPCHAT)
				deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
			break;
		}
		if (rs->type == MSG_GROUPCHAT) {
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
			break;
		}
		if ((u == NULL || deliver_bare_message(u, rs) == 0) &&
		    rs->type != MSG_HEADLINE)
			/* offline storage comes with RFC 6121 support */
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		break;
	case KIND_PRESENCE:
		/* RFC 6121 8.5.3.2.2: to a gone resource: dropped */
		if (to.resource == NULL)
			deliver_bare_presence(u, rs);
		break;
	case KIND_IQ:
		if (to.resource == NULL)
			iq_to_server(rs, true);	/* on the account's behalf */
		else
			/* RFC 6121 8.5.3.2.1 */
			deliver_error(rs, XERR_SERVICE_UNAVAILABLE);
		break;
	}
done:
	jid_clear(&to);
}
