/*
 * HTTP file upload (XEP-0363) at upload.NAME: the router hands out
 * slots. A request is checked against the account's role
 * (router/roles.c), upload-max-file-size and the account's quotas (a
 * limited account's daily one is upload-quota-limited), whose usage the
 * router keeps in storage (it is the only writer); the slot's PUT URL
 * carries a token signed with the upload key (common/upslot.c) that the
 * c2s HTTP side checks without asking anyone (c2s/upload.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/upslot.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "router.h"

#define NS_UPLOAD	"urn:xmpp:http:upload:0"
#define DAY		86400
/* days of usage kept: upload-expire's, capped */
#define UPLOAD_DAYS_MAX	400

static void	upload_info(struct rstanza *, struct xnode *, struct arena *);
static void	upload_request(struct rstanza *, struct xnode *,
		    struct arena *);

static const struct iq_handler upload_info_handler = {
	.ns = NS_DISCO_INFO, .name = "query", .get = upload_info,
};

static const struct iq_handler upload_items_handler = {
	.ns = NS_DISCO_ITEMS, .name = "query", .get = iq_svc_items,
};

static const struct iq_handler upload_request_handler = {
	.ns = NS_UPLOAD, .name = "request", .get = upload_request,
};

static const struct iq_handler *const upload_handlers[] = {
	&upload_info_handler,
	&upload_items_handler,
	&upload_request_handler,
};

/* XEP-0363 4: identity store/file, the feature, max-file-size (XEP-0128) */
static void
upload_info(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	struct xnode	*q, *x;

	if ((q = iq_svc_info(rs, iq, a, "store", "file", "HTTP File Upload",
	    upload_handlers, nitems(upload_handlers))) == NULL)
		return;
	x = xdata_new(a, q, "result", NS_UPLOAD);
	(void)xdata_add(a, x, "max-file-size", NULL, NULL,
	    arena_printf(a, "%zu", router.conf.upload_max_size));
	deliver_tree(rs->sender, iq);
}

/* iq made an error with an application condition (XEP-0363 5), unsent */
static struct xnode *
upload_cond(struct xnode *iq, struct arena *a, enum stanza_err err,
    const char *text, const char *name)
{
	stanza_make_error(a, iq, err, text);
	return xnode_add(a, xnode_child(iq, NULL, "error"), NS_UPLOAD, name);
}

/*
 * The account's usage: lines "DAY BYTES", one per UTC day with slots
 * within the last upload-expire (what may still be on disk). Returns
 * today's bytes and the total; rec gets the record to write back.
 */
static void
usage_read(const char *node, const char *domain, int64_t today,
    uint64_t *day, uint64_t *total, struct buf *rec)
{
	char		*val = NULL, *p, *line;
	size_t		 len;
	int64_t		 d, keep;
	uint64_t	 n;
	int		 kept = 0;

	keep = router.conf.upload_expire / DAY + 1;
	*day = *total = 0;
	if (store_doc_get(router.store, DOC_UPLOAD, node, domain, "", &val,
	    &len) == -1)
		return;
	for (line = val; line != NULL && *line != '\0'; line = p) {
		if ((p = strchr(line, '\n')) != NULL)
			*p++ = '\0';
		if (sscanf(line, "%" SCNd64 " %" SCNu64, &d, &n) != 2 ||
		    d <= today - keep || d > today || kept >= UPLOAD_DAYS_MAX)
			continue;
		if (d == today)
			*day = n;
		else
			(void)buf_printf(rec, "%" PRId64 " %" PRIu64 "\n", d, n);
		*total += n;
		kept++;
	}
	free(val);
}

/* RFC 3986 2.1: the name as a path segment */
static const char *
upload_pct(struct arena *a, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*o, *out;

	o = out = arena_alloc(a, 3 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '%';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	*o = '\0';
	return out;
}

#define TCHAR	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		"0123456789!#$%&'*+-.^_`|~"

/*
 * A content type as RFC 9110 8.3.1 writes one: token "/" token, then the
 * parameters, which are only held to their characters
 */
static bool
upload_ctype_valid(const char *t)
{
	size_t	n = strlen(t), type, sub;

	if (n == 0 || n > UPSLOT_TYPE_MAX)
		return false;
	type = strspn(t, TCHAR);
	if (type == 0 || t[type] != '/')
		return false;
	sub = strspn(t + type + 1, TCHAR);
	t += type + 1 + sub;
	return sub > 0 && (*t == '\0' || *t == ';' || *t == ' ') &&
	    strspn(t, TCHAR "/;= \"") == strlen(t);
}

/*
 * XEP-0363 4: the size in bytes, an xs:long. More digits than any file
 * we take is a file too large, not a bad request: UINT64_MAX stands for it.
 */
static bool
upload_size_parse(const char *s, uint64_t *v)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 ||
	    strspn(s, "0123456789") != n)
		return false;
	s += strspn(s, "0");
	*v = strlen(s) > 15 ? UINT64_MAX : strtoull(s, NULL, 10);
	return true;
}

/* XEP-0363 4: a slot, or why not */
static void
upload_request(struct rstanza *rs, struct xnode *iq, struct arena *a)
{
	const struct conf_host	*h = conf_upload_find(&router.conf,
				    rs->tdomain);
	const struct conf	*c = &router.conf;
	struct xnode		*req = xnode_child(iq, NULL, NULL), *el, *s;
	struct xnode		*hd;
	const char		*name, *ctype, *url, *bearer;
	const struct user	*u;
	struct buf		 rec;
	uint64_t		 size, day, total;
	size_t			 quota;
	int64_t			 now, today;
	char			 id[UPSLOT_ID_LEN + 1], tok[UPSLOT_TOKEN_MAX];
	char			 stamp[32];
	time_t			 t;
	struct tm		 tm;

	if (!iq_host_account(rs, iq, a, h != NULL ? h->name : NULL))
		return;
	/* iq_host_account: a session of the host; its JID is parsed */
	u = rs->sender->user;
	if (!role_may(u->node, u->domain, ROLE_CAP_UPLOAD)) {
		/* XEP-0363 5: no permission to upload */
		iq_error(rs, iq, a, XERR_NOT_ALLOWED, "your role may not "
		    "upload files");
		return;
	}
	quota = role_of(u->node, u->domain) == ROLE_LIMITED ?
	    h->upload_quota_limited : c->upload_quota_daily;
	name = xnode_attr(req, "filename");
	ctype = xnode_attr(req, "content-type");
	if (ctype == NULL)
		ctype = "application/octet-stream";
	if (name == NULL || !upslot_name_valid(name)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "a file name without "
		    "separators or control characters is required");
		return;
	}
	if (!upload_size_parse(xnode_attr(req, "size"), &size)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "a size in bytes is "
		    "required");
		return;
	}
	if (!upload_ctype_valid(ctype)) {
		iq_error(rs, iq, a, XERR_BAD_REQUEST, "malformed "
		    "content-type");
		return;
	}
	if (size > c->upload_max_size) {
		el = upload_cond(iq, a, XERR_NOT_ACCEPTABLE, "file too large",
		    "file-too-large");
		el = xnode_add(a, el, NS_UPLOAD, "max-file-size");
		url = arena_printf(a, "%zu", c->upload_max_size);
		xnode_add_text(a, el, url, strlen(url));
		deliver_tree(rs->sender, iq);
		return;
	}
	now = (int64_t)clock_wall();
	today = now / DAY;
	buf_init(&rec, 0);
	usage_read(u->node, u->domain, today, &day, &total, &rec);
	if (quota > 0 && day + size > quota) {
		/* XEP-0363 5: when to try again, the next UTC day */
		el = upload_cond(iq, a, XERR_RESOURCE_CONSTRAINT, "daily "
		    "upload quota reached", "retry");
		t = (time_t)((today + 1) * DAY);
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) > 0)
			xnode_set_attr(a, el, "stamp", arena_strdup(a, stamp));
		deliver_tree(rs->sender, iq);
		goto done;
	}
	if (c->upload_quota_total > 0 &&
	    total + size > c->upload_quota_total) {
		iq_error(rs, iq, a, XERR_RESOURCE_CONSTRAINT, "upload quota "
		    "reached");
		goto done;
	}
	(void)buf_printf(&rec, "%" PRId64 " %" PRIu64 "\n", today,
	    day + size);
	if (store_doc_put(router.store, DOC_UPLOAD, u->node, u->domain,
	    "", buf_rptr(&rec), buf_avail(&rec)) == -1) {
		iq_error(rs, iq, a, XERR_INTERNAL_SERVER_ERROR, NULL);
		goto done;
	}
	upslot_id(id);
	upslot_sign(tok, id, name, size, ctype, now + c->upload_slot_ttl);
	url = arena_printf(a, "%s/%s/%s", c->upload_url, id,
	    upload_pct(a, name));
	log_debug("upload: slot %s for %s, %" PRIu64 " bytes", id, rs->from,
	    size);
	iq_make_result(iq, a);
	s = xnode_add(a, iq, NS_UPLOAD, "slot");
	el = xnode_add(a, s, NS_UPLOAD, "put");
	xnode_set_attr(a, el, "url", url);
	/*
	 * XEP-0363 5: the client sends it with the PUT; the secret stays
	 * out of the URL, which proxies and servers log (RFC 6750 5.3)
	 */
	hd = xnode_add(a, el, NS_UPLOAD, "header");
	xnode_set_attr(a, hd, "name", "Authorization");
	bearer = arena_printf(a, "Bearer %s", tok);
	xnode_add_text(a, hd, bearer, strlen(bearer));
	el = xnode_add(a, s, NS_UPLOAD, "get");
	xnode_set_attr(a, el, "url", url);
	deliver_tree(rs->sender, iq);
done:
	buf_clear(&rec);
}

bool
upload_svc_route(struct rstanza *rs, const struct jid *to)
{
	if (conf_upload_find(&router.conf, to->domain) == NULL)
		return false;
	iq_component(rs, to, upload_handlers, nitems(upload_handlers));
	return true;
}
