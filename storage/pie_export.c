/*
 * parleyctl export: the store as a XEP-0227 file (urn:xmpp:pie:0), with
 * the server stopped. Credentials go out as scram-credentials (XEP-0227
 * 1.1): Parley keeps no password to export. Written as it is read, one
 * account at a time; the file is created mode 0600 and never replaces
 * one (it holds credentials). Message archives go out as Prosody writes
 * them (urn:xmpp:pie:0#mam); the rest Parley keeps (last activity,
 * archive preferences, push registrations, group chat rooms with their
 * archives) in its own namespace, urn:parley:pie:0. Not FAST token
 * records: what they hold logs in (docs/operator.md, "Migration").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/base64.h"
#include "../common/buf.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/xmpp.h"
#include "../common/util.h"
#include "pie.h"
#include "store_conf.h"

struct exp {
	struct store	*st;
	FILE		*fp;
	bool		 open;		/* the current container is */
	/* an account's names, or a node's items, gathered before writing */
	char		**v;
	size_t		 n, cap;
};

/* XML-escaped text or attribute value */
static void
exp_esc(FILE *fp, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		switch (s[i]) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '\'':
			fputs("&apos;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		default:
			fputc(s[i], fp);
			break;
		}
}

static void
exp_escs(FILE *fp, const char *s)
{
	exp_esc(fp, s, strlen(s));
}

static void
exp_b64(FILE *fp, const char *name, const uint8_t *p, size_t len)
{
	struct buf	b;

	buf_init(&b, 4 * SCRAM_SALT_MAX + 8);
	if (base64_encode(&b, p, len) == -1)
		fatalx("%s: buffer", __func__);
	fprintf(fp, "<%s>%.*s</%s>", name, (int)buf_avail(&b), buf_rptr(&b),
	    name);
	buf_clear(&b);
}

static void
exp_push(struct exp *ex, char *s)
{
	if (ex->n == ex->cap) {
		ex->cap = ex->cap ? 2 * ex->cap : 64;
		ex->v = xrealloc(ex->v, ex->cap * sizeof(*ex->v));
	}
	ex->v[ex->n++] = s;
}

static void
exp_reset(struct exp *ex)
{
	size_t	i;

	for (i = 0; i < ex->n; i++)
		free(ex->v[i]);
	ex->n = 0;
}

static void
exp_creds(struct exp *ex, const struct scram_creds *cr)
{
	const struct scram_cred	*c;
	int			 h;
	size_t			 hlen;

	for (h = 0; h < SCRAM_NHASH; h++) {
		c = &cr->h[h];
		if (c->iter == 0)
			continue;	/* absent (an import of SHA-1 only) */
		hlen = scram_hash_len((enum scram_hash)h);
		fprintf(ex->fp, "<scram-credentials xmlns='%s' mechanism="
		    "'SCRAM-%s'><iter-count>%u</iter-count>", NS_PIE_SCRAM,
		    scram_hash_name((enum scram_hash)h), (unsigned)c->iter);
		exp_b64(ex->fp, "salt", c->salt, c->saltlen);
		exp_b64(ex->fp, "server-key", c->server_key, hlen);
		exp_b64(ex->fp, "stored-key", c->stored_key, hlen);
		fputs("</scram-credentials>\n", ex->fp);
	}
}

static void
exp_open(struct exp *ex, const char *tag)
{
	if (!ex->open)
		fputs(tag, ex->fp);
	ex->open = true;
}

static void
exp_close(struct exp *ex, const char *tag)
{
	if (ex->open)
		fputs(tag, ex->fp);
	ex->open = false;
}

static int
exp_roster_one(const struct roster_item *it, void *arg)
{
	static const char *const subs[] = { "none", "to", "from", "both" };
	struct exp	*ex = arg;
	size_t		 i;

	if (it->hidden)
		return 0;
	exp_open(ex, "<query xmlns='" NS_PIE_ROSTER "'>\n");
	fputs("<item jid='", ex->fp);
	exp_escs(ex->fp, it->jid);
	fprintf(ex->fp, "' subscription='%s'", subs[it->sub]);
	if (it->name != NULL) {
		fputs(" name='", ex->fp);
		exp_escs(ex->fp, it->name);
		fputc('\'', ex->fp);
	}
	if (it->ask)
		fputs(" ask='subscribe'", ex->fp);
	if (it->preapproved)
		fputs(" approved='true'", ex->fp);
	fputc('>', ex->fp);
	for (i = 0; i < it->ngroups; i++) {
		fputs("<group>", ex->fp);
		exp_escs(ex->fp, it->groups[i]);
		fputs("</group>", ex->fp);
	}
	fputs("</item>\n", ex->fp);
	return 0;
}

/* XEP-0227 4.8: a request the account has not answered yet */
static int
exp_subreq_one(const struct roster_item *it, void *arg)
{
	struct exp	*ex = arg;

	const char	*status;

	if (!it->pending_in)
		return 0;
	fputs("<presence xmlns='" NS_CLIENT "' type='subscribe' from='",
	    ex->fp);
	exp_escs(ex->fp, it->jid);
	fputc('\'', ex->fp);
	/* router/subreq.c's record: "SECONDS STATUS" */
	status = it->pending_xml != NULL ? strchr(it->pending_xml, ' ') :
	    NULL;
	if (status != NULL && status[1] != '\0') {
		fputs("><status>", ex->fp);
		exp_escs(ex->fp, status + 1);
		fputs("</status></presence>\n", ex->fp);
	} else
		fputs("/>\n", ex->fp);
	return 0;
}

/* a document stored whole, with its namespaces (vCard, private XML) */
static int
exp_doc_one(const char *name, const char *val, size_t len, void *arg)
{
	struct exp	*ex = arg;

	(void)name;	/* a private document names itself */
	exp_open(ex, "<query xmlns='" NS_PIE_PRIVATE "'>\n");
	fwrite(val, 1, len, ex->fp);
	fputc('\n', ex->fp);
	return 0;
}

/*
 * router/offline.c writes a message with jabber:client in scope, so its
 * root has no xmlns: it gets one here, inside a file of another default.
 */
static int
exp_offline_one(uint64_t seq, const char *xml, size_t len, void *arg)
{
	struct exp	*ex = arg;
	const size_t	 mlen = sizeof("<message") - 1;

	(void)seq;
	if (len <= mlen || memcmp(xml, "<message", mlen) != 0 ||
	    strchr(" />", xml[mlen]) == NULL) {
		fprintf(stderr, "parleyctl: export: an offline message that "
		    "is not a <message/>: skipped\n");
		return 0;
	}
	exp_open(ex, "<offline-messages>\n");
	fputs("<message xmlns='" NS_CLIENT "'", ex->fp);
	fwrite(xml + mlen, 1, len - mlen, ex->fp);
	fputc('\n', ex->fp);
	return 0;
}

static int
exp_block_one(const char *jid, void *arg)
{
	struct exp	*ex = arg;

	exp_open(ex, "<blocklist xmlns='" NS_PIE_BLOCK "'>\n");
	fputs("<item jid='", ex->fp);
	exp_escs(ex->fp, jid);
	fputs("'/>\n", ex->fp);
	return 0;
}

/* names gathered: "name\0nid" so that no store call nests in a walk */
static int
exp_node_one(const char *name, uint64_t nid, const char *conf, size_t clen,
    void *arg)
{
	struct exp	*ex = arg;

	fputs("<node xmlns='" NS_PIE_PARLEY "' name='", ex->fp);
	exp_escs(ex->fp, name);
	fputs("'>", ex->fp);
	exp_esc(ex->fp, conf, clen);
	fputs("</node>\n", ex->fp);
	exp_push(ex, xasprintf("%llu %s", (unsigned long long)nid, name));
	return 0;
}

static int
exp_item_one(const struct pubsub_item *it, void *arg)
{
	struct exp	*ex = arg;
	char		*s;

	s = xmalloc(strlen(it->id) + it->len + 2);
	memcpy(s, it->id, strlen(it->id) + 1);
	memcpy(s + strlen(it->id) + 1, it->xml, it->len);
	s[strlen(it->id) + 1 + it->len] = '\0';
	exp_push(ex, s);
	return 0;
}

/* XEP-0227 (1.1) 4.9: <pubsub><items node><item id/></items></pubsub> */
static int
exp_pep(struct exp *ex, const char *node, const char *domain)
{
	struct exp	 items;
	char		*name;
	uint64_t	 nid;
	size_t		 i, k;
	int		 rc = 0;

	ex->n = 0;
	if (store_pubsub_node_list(ex->st, node, domain, exp_node_one,
	    ex) == -1)
		return -1;
	memset(&items, 0, sizeof(items));
	items.fp = ex->fp;
	if (ex->n > 0)
		fputs("<pubsub xmlns='" NS_PIE_PUBSUB "'>\n", ex->fp);
	for (i = 0; i < ex->n && rc == 0; i++) {
		nid = strtoull(ex->v[i], &name, 10);
		name++;
		exp_reset(&items);
		if ((rc = store_pubsub_items(ex->st, node, domain, nid, 0,
		    exp_item_one, &items)) == -1)
			break;
		fputs("<items node='", ex->fp);
		exp_escs(ex->fp, name);
		fputs("'>\n", ex->fp);
		/* oldest first: an import publishes them in file order */
		for (k = items.n; k > 0; k--) {
			fputs("<item id='", ex->fp);
			exp_escs(ex->fp, items.v[k - 1]);
			fputs("'>", ex->fp);
			fputs(items.v[k - 1] + strlen(items.v[k - 1]) + 1,
			    ex->fp);
			fputs("</item>\n", ex->fp);
		}
		fputs("</items>\n", ex->fp);
	}
	if (ex->n > 0)
		fputs("</pubsub>\n", ex->fp);
	exp_reset(&items);
	free(items.v);
	exp_reset(ex);
	return rc;
}

/* a stored record as it is, base64: <doc kind/> */
static void
exp_doc_record(struct exp *ex, enum store_doc doc, const char *val,
    size_t len)
{
	struct buf	b;

	buf_init(&b, 4 * (len / 3 + 1) + 8);
	if (base64_encode(&b, val, len) == -1)
		fatalx("%s: buffer", __func__);
	fprintf(ex->fp, "<doc xmlns='%s' kind='%s'>%.*s</doc>\n",
	    NS_PIE_PARLEY, pie_doc_name(doc), (int)buf_avail(&b),
	    buf_rptr(&b));
	buf_clear(&b);
}

/* the documents of an account that XEP-0227 has no element for */
static int
exp_docs(struct exp *ex, const char *node, const char *domain)
{
	static const enum store_doc	 docs[] = { DOC_LAST, DOC_MAM_PREFS,
	    DOC_PUSH };
	char				*val;
	size_t				 i, len;

	for (i = 0; i < nitems(docs); i++) {
		if (store_doc_get(ex->st, docs[i], node, domain, "", &val,
		    &len) == -1) {
			if (errno != ENOENT)
				return -1;
			continue;
		}
		exp_doc_record(ex, docs[i], val, len);
		free(val);
	}
	return 0;
}

/*
 * One archived message as Prosody's XEP-0227 export writes it; the id is
 * the message's stanza-id (router/mam_query.c's form), so that an import
 * here keeps it, and parley:with the archive's with (a room's is the
 * occupant, which to and from do not tell).
 */
static int
exp_mam_one(const struct archive_entry *e, void *arg)
{
	struct exp	*ex = arg;
	struct tm	 tm;
	time_t		 t = (time_t)(e->stamp / 1000000);
	char		 when[32];

	exp_open(ex, "<archive xmlns='" NS_PIE_MAM "'>\n");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	fprintf(ex->fp, "<result xmlns='%s' id='%016llx%016llx' "
	    "xmlns:parley='%s' parley:with='", NS_PIE_MAM2,
	    (unsigned long long)e->id, (unsigned long long)e->nonce,
	    NS_PIE_PARLEY);
	exp_escs(ex->fp, e->with);
	fprintf(ex->fp, "'><forwarded xmlns='%s'><delay xmlns='urn:xmpp:"
	    "delay' stamp='%s.%06uZ'/>", NS_PIE_FORWARD, when,
	    (unsigned)(e->stamp % 1000000));
	fwrite(e->xml, 1, e->len, ex->fp);
	fputs("</forwarded></result>\n", ex->fp);
	return 0;
}

static int
exp_archive(struct exp *ex, const char *node, const char *domain)
{
	struct archive_range	r;

	memset(&r, 0, sizeof(r));
	r.hi = UINT64_MAX;
	if (store_archive_query(ex->st, node, domain, &r, exp_mam_one,
	    ex) == -1)
		return -1;
	exp_close(ex, "</archive>\n");
	return 0;
}

static int
exp_user(struct exp *ex, const char *node, const char *domain)
{
	struct scram_creds	 cr;
	enum role		 role;
	char			*val;
	size_t			 len;
	int			 dis;

	if (store_account_get(ex->st, node, domain, &cr) == -1)
		return -1;
	fputs("<user name='", ex->fp);
	exp_escs(ex->fp, node);
	fputs("'>\n", ex->fp);
	exp_creds(ex, &cr);
	explicit_bzero(&cr, sizeof(cr));
	if (store_account_role_get(ex->st, node, domain, &role) == -1 ||
	    (dis = store_account_disabled(ex->st, node, domain)) == -1)
		return -1;
	if (role != ROLE_MEMBER || dis)
		fprintf(ex->fp, "<account xmlns='%s' role='%s'%s/>\n",
		    NS_PIE_PARLEY, role_name(role), dis ?
		    " disabled='true'" : "");
	if (store_roster_list(ex->st, node, domain, exp_roster_one, ex) == -1)
		return -1;
	exp_close(ex, "</query>\n");
	if (store_roster_list(ex->st, node, domain, exp_subreq_one, ex) == -1)
		return -1;
	if (store_doc_get(ex->st, DOC_VCARD, node, domain, "", &val,
	    &len) == 0) {
		fwrite(val, 1, len, ex->fp);
		fputc('\n', ex->fp);
		free(val);
	} else if (errno != ENOENT)
		return -1;
	if (store_doc_walk_account(ex->st, DOC_PRIVATE, node, domain, "",
	    SIZE_MAX, exp_doc_one, ex) == -1)
		return -1;
	exp_close(ex, "</query>\n");
	if (store_offline_list(ex->st, node, domain, exp_offline_one,
	    ex) == -1)
		return -1;
	exp_close(ex, "</offline-messages>\n");
	if (store_block_list(ex->st, node, domain, exp_block_one, ex) == -1)
		return -1;
	exp_close(ex, "</blocklist>\n");
	if (exp_pep(ex, node, domain) == -1 ||
	    exp_docs(ex, node, domain) == -1 ||
	    exp_archive(ex, node, domain) == -1)
		return -1;
	fputs("</user>\n", ex->fp);
	return 0;
}

static int
exp_name_one(const char *node, const char *domain, void *arg)
{
	(void)domain;
	exp_push(arg, xstrdup(node));
	return 0;
}

/* one host: its accounts' names first, then each account */
static int
exp_host(struct exp *ex, const char *domain, size_t *count)
{
	struct exp	names;
	size_t		i;
	int		rc = 0;

	memset(&names, 0, sizeof(names));
	if (store_account_list(ex->st, domain, exp_name_one, &names) == -1)
		rc = -1;
	fputs("<host jid='", ex->fp);
	exp_escs(ex->fp, domain);
	fputs("'>\n", ex->fp);
	for (i = 0; i < names.n && rc == 0; i++) {
		if ((rc = exp_user(ex, names.v[i], domain)) == -1)
			fprintf(stderr, "parleyctl: export: %s@%s: %s\n",
			    names.v[i], domain, strerror(errno));
		(*count)++;
	}
	fputs("</host>\n", ex->fp);
	exp_reset(&names);
	free(names.v);
	return rc;
}

/*
 * A room's name, from its record (router/muc_config.c's <room node/>):
 * the start tag's node attribute. nodeprep leaves no character that
 * would be escaped, so the value is the name as it is.
 */
static int
exp_room_one(const char *val, size_t len, void *arg)
{
	const char	*end = memchr(val, '>', len), *p, *q;

	if (end == NULL || (p = memmem(val, (size_t)(end - val), " node='",
	    7)) == NULL || (q = memchr(p + 7, '\'', (size_t)(end - p -
	    7))) == NULL) {
		fprintf(stderr, "parleyctl: export: a room record without "
		    "its name: skipped\n");
		return 0;
	}
	exp_push(arg, xstrndup(p + 7, (size_t)(q - p - 7)));
	return 0;
}

/*
 * A host's group chat service (Parley's extension): each persistent room
 * with its record and its archive.
 */
static int
exp_service(struct exp *ex, const char *service, size_t *count)
{
	struct exp	 names;
	char		*val;
	size_t		 i, len;
	int		 rc = 0;

	memset(&names, 0, sizeof(names));
	if (store_doc_walk(ex->st, DOC_MUC, service, exp_room_one,
	    &names) == -1)
		rc = -1;
	if (names.n > 0) {
		fputs("<service xmlns='" NS_PIE_PARLEY "' jid='", ex->fp);
		exp_escs(ex->fp, service);
		fputs("'>\n", ex->fp);
	}
	for (i = 0; i < names.n && rc == 0; i++) {
		if (store_doc_get(ex->st, DOC_MUC, names.v[i], service, "",
		    &val, &len) == -1) {
			rc = -1;
			break;
		}
		fputs("<room name='", ex->fp);
		exp_escs(ex->fp, names.v[i]);
		fputs("'>\n", ex->fp);
		fwrite(val, 1, len, ex->fp);
		fputc('\n', ex->fp);
		free(val);
		if ((rc = exp_archive(ex, names.v[i], service)) == -1)
			break;
		fputs("</room>\n", ex->fp);
		(*count)++;
	}
	if (rc == -1)
		fprintf(stderr, "parleyctl: export: rooms of %s: %s\n",
		    service, strerror(errno));
	if (names.n > 0)
		fputs("</service>\n", ex->fp);
	exp_reset(&names);
	free(names.v);
	return rc;
}

static FILE *
exp_create(const char *path)
{
	FILE	*fp;
	int	 fd;

	if (strcmp(path, "-") == 0)
		return stdout;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "parleyctl: %s: %s%s\n", path,
		    strerror(errno), errno == EEXIST ? " (an export never "
		    "replaces a file)" : "");
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return fp;
}

int
pie_export(const struct conf *conf, const char *host, const char *path)
{
	struct exp	 ex;
	char		 err[512];
	size_t		 i, count = 0, rooms = 0;
	const struct conf_host	*h;
	int		 rc = 0;

	memset(&ex, 0, sizeof(ex));
	if ((ex.st = store_open_conf(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "parleyctl: %s\n", err);
		return 1;
	}
	if ((ex.fp = exp_create(path)) == NULL) {
		store_close(ex.st);
		return 1;
	}
	fputs("<?xml version='1.0' encoding='UTF-8'?>\n"
	    "<server-data xmlns='" NS_PIE "'>\n", ex.fp);
	for (i = 0; i < conf->nhosts && rc == 0; i++)
		if (host == NULL || strcmp(host, conf->hosts[i].name) == 0)
			rc = exp_host(&ex, conf->hosts[i].name, &count);
	for (i = 0; i < conf->nhosts && rc == 0; i++) {
		h = &conf->hosts[i];
		if ((host == NULL || strcmp(host, h->name) == 0) && h->muc &&
		    h->muc_name != NULL)
			rc = exp_service(&ex, h->muc_name, &rooms);
	}
	fputs("</server-data>\n", ex.fp);
	if (fflush(ex.fp) == EOF || ferror(ex.fp)) {
		fprintf(stderr, "parleyctl: %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	if (ex.fp != stdout)
		fclose(ex.fp);
	store_close(ex.st);
	free(ex.v);
	if (rc == -1) {
		fprintf(stderr, "parleyctl: export failed\n");
		return 1;
	}
	fprintf(stderr, "exported %zu account%s and %zu group chat room%s\n",
	    count, count == 1 ? "" : "s", rooms, rooms == 1 ? "" : "s");
	return 0;
}
