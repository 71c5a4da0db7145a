/*
 * parleyctl import: a XEP-0227 file into the store, with the server
 * stopped (parleyctl refuses while the router answers). Two passes over
 * the file: the first checks everything and writes nothing (every
 * problem gets a line); only a file without problems is read again and
 * written, in one transaction, so an import is stored whole or not at
 * all. Standard input is copied to a temporary file for the second pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/jid.h"
#include "../common/map.h"
#include "../common/util.h"
#include "pie.h"
#include "store_conf.h"

#define IMPORT_ERRORS_SHOWN	100
/* map growths before giving up */
#define IMPORT_RETRIES		32

struct imp {
	const struct conf	*conf;
	struct store		*st;
	const char		*path;
	bool			 write;		/* the second pass */
	bool			 merge;		/* into existing accounts */
	struct map		*seen;		/* the file's JIDs */
	/* the open user */
	bool			 user_ok;
	bool			 exists;	/* merged into */
	unsigned long		 uline;
	struct scram_creds	 cr;
	bool			 has[SCRAM_NHASH];
	char			*password;
	enum role		 role;
	bool			 disabled;
	struct map		*nodes;		/* PEP name -> nid */
	/* totals */
	size_t			 users, records, skipped, errors, merged;
	size_t			 rooms;
	int			 werr;		/* a write's errno */
	char			 stamp[32];	/* XEP-0082, now */
};

static void __attribute__((format(printf, 3, 4)))
imp_say(struct imp *im, unsigned long line, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s:%lu: ", im->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 3, 4)))
imp_error(struct imp *im, unsigned long line, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	if (im->errors++ >= IMPORT_ERRORS_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	imp_say(im, line, "%s", msg);
}

static void
imp_user_clear(struct imp *im)
{
	explicit_bzero(&im->cr, sizeof(im->cr));
	memset(im->has, 0, sizeof(im->has));
	if (im->password != NULL) {
		explicit_bzero(im->password, strlen(im->password));
		free(im->password);
		im->password = NULL;
	}
	im->role = ROLE_MEMBER;
	im->disabled = false;
	map_free(im->nodes, free);
	im->nodes = NULL;
	im->user_ok = false;
	im->exists = false;
}

/* the first pass: is the account new, on a host of ours, once in the file */
static void
imp_user_check(struct imp *im, const struct pie_rec *r)
{
	struct scram_creds	cr;
	char			jid[JID_STR_MAX + 1];

	jid_format(jid, r->node, r->domain, NULL);
	if (conf_host_find(im->conf, r->domain) == NULL) {
		imp_error(im, r->line, "%s: %s is not a host of this server",
		    jid, r->domain);
		im->user_ok = false;
	} else if (map_get(im->seen, jid) != NULL) {
		imp_error(im, r->line, "%s: a second time in the file", jid);
		im->user_ok = false;
	} else if (store_account_get(im->st, r->node, r->domain, &cr) == 0) {
		if (!im->merge) {
			imp_error(im, r->line, "%s: the account exists already "
			    "(not overwritten: delete it first, or --merge "
			    "into it)", jid);
			im->user_ok = false;
		}
	} else if (errno != ENOENT) {
		imp_error(im, r->line, "%s: reading the store: %s", jid,
		    strerror(errno));
		im->user_ok = false;
	}
	explicit_bzero(&cr, sizeof(cr));
	map_put(im->seen, jid, im);
}

static bool
imp_exists(struct imp *im, const struct pie_rec *r)
{
	struct scram_creds	cr;
	bool			yes;

	yes = store_account_get(im->st, r->node, r->domain, &cr) == 0;
	explicit_bzero(&cr, sizeof(cr));
	return yes;
}

/*
 * Credentials: those of the file per hash; a plaintext password (XEP-0227
 * allows it, discourages it) derives the hashes the file lacks.
 */
static int
imp_creds(struct imp *im, const struct pie_rec *r)
{
	struct scram_creds	made;
	int			h;

	if (im->password != NULL && (!im->has[SCRAM_SHA1] ||
	    !im->has[SCRAM_SHA256])) {
		if (scram_creds_make(&made, im->password,
		    im->conf->scram_iterations) == -1) {
			imp_error(im, im->uline, "%s@%s: the password has "
			    "characters SASLprep (RFC 4013) prohibits",
			    r->node, r->domain);
			return -1;
		}
		for (h = 0; h < SCRAM_NHASH; h++)
			if (!im->has[h]) {
				im->cr.h[h] = made.h[h];
				im->has[h] = true;
			}
		explicit_bzero(&made, sizeof(made));
	}
	if (!im->has[SCRAM_SHA1] && !im->has[SCRAM_SHA256]) {
		imp_error(im, im->uline, "%s@%s: no password and no "
		    "SCRAM-SHA-1 or SCRAM-SHA-256 credentials", r->node,
		    r->domain);
		return -1;
	}
	return 0;
}

/* the store's errno into the refusal; EAGAIN: the map grew, run again */
static int
imp_failed(struct imp *im, const struct pie_rec *r, const char *what)
{
	im->werr = errno;
	if (errno != EAGAIN)
		fprintf(stderr, "%s:%lu: %s@%s: storing %s: %s\n", im->path,
		    r->line, r->node, r->domain, what, strerror(errno));
	return -1;
}

/*
 * A PEP node from another server comes without Parley's configuration:
 * the nodes every contact must read (avatars, OMEMO keys, nickname) are
 * open, anything else (bookmarks) is the owner's alone; all items kept.
 * The record is router/pubsub.c's (a: access model, m: max items).
 */
static const char *
imp_pep_default(const char *name)
{
	static const char *const open[] = {
		"urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata",
		"http://jabber.org/protocol/nick", "urn:xmpp:omemo:2:",
		"eu.siacs.conversations.axolotl.", "urn:xmpp:vcard4",
	};
	size_t	i;

	for (i = 0; i < nitems(open); i++)
		if (strncmp(name, open[i], strlen(open[i])) == 0)
			return "a0\nm0\n";
	return "a3\nm0\n";
}

/*
 * The same record from another server's form (PIE_PEP_FORM): its access
 * model if Parley has it, its max_items if a number ("max": Parley's).
 */
static void
imp_pep_form(const struct pie_rec *r, char *out, size_t len)
{
	static const char *const access[] = {
		"open", "presence", "roster", "whitelist"
	};
	unsigned long	 max = 0;
	size_t		 i;
	char		*end;
	int		 a = -1;

	for (i = 0; r->access != NULL && i < nitems(access); i++)
		if (strcmp(r->access, access[i]) == 0)
			a = (int)i;
	if (r->max_items != NULL && *r->max_items >= '1' &&
	    *r->max_items <= '9') {
		max = strtoul(r->max_items, &end, 10);
		if (*end != '\0' || max > 1000000)
			max = 0;
	}
	if (a == -1)
		snprintf(out, len, "%.3sm%lu\n", imp_pep_default(r->key), max);
	else
		snprintf(out, len, "a%d\nm%lu\n", a, max);
}

/*
 * The node's id, made with conf on first sight; replace: the node may
 * have been made already with the default (its items came first), its
 * configuration is replaced.
 */
static int
imp_pep_node(struct imp *im, const struct pie_rec *r, const char *conf,
    bool replace, uint64_t *nid)
{
	uint64_t	*p;

	if (im->nodes == NULL)
		im->nodes = map_new();
	if ((p = map_get(im->nodes, r->key)) != NULL) {
		*nid = *p;
		return !replace ? 0 : store_pubsub_node_put(im->st, r->node,
		    r->domain, r->key, nid, conf, strlen(conf), SIZE_MAX);
	}
	/* merged into an account that has the node: its id, its config */
	if (store_pubsub_node_get(im->st, r->node, r->domain, r->key, nid,
	    NULL, NULL) == 0) {
		if (replace && store_pubsub_node_put(im->st, r->node,
		    r->domain, r->key, nid, conf, strlen(conf), SIZE_MAX) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	else {
		*nid = 0;
		if (store_pubsub_node_put(im->st, r->node, r->domain, r->key,
		    nid, conf, strlen(conf), SIZE_MAX) == -1)
			return -1;
	}
	p = xmalloc(sizeof(*p));
	*p = *nid;
	map_put(im->nodes, r->key, p);
	return 0;
}

/* a pending-in request: kept on the contact's item, hidden if none */
static int
imp_subreq(struct imp *im, const struct pie_rec *r)
{
	struct roster_item	it;
	uint64_t		ver;
	size_t			n;
	int			rc;

	memset(&it, 0, sizeof(it));
	if (store_roster_get(im->st, r->node, r->domain, r->jid, &it) == -1) {
		if (errno != ENOENT)
			return -1;
		it.jid = xstrdup(r->jid);
		it.hidden = true;
	}
	it.pending_in = true;
	/* router/subreq.c's record: "SECONDS STATUS", the status cut */
	n = r->len;
	if (n > im->conf->sub_status_max)
		n = im->conf->sub_status_max;
	while (n > 0 && n < r->len && ((unsigned char)r->xml[n] & 0xc0) ==
	    0x80)
		n--;
	free(it.pending_xml);
	it.pending_xml = xasprintf("%lld %.*s", (long long)time(NULL),
	    (int)n, r->xml);
	rc = store_roster_put(im->st, r->node, r->domain, &it, &ver);
	roster_item_clear(&it);
	return rc;
}

/*
 * The first pass of a room (Parley's extension): its service is the
 * group chat service of a host here, it is new (or --merge), once in
 * the file.
 */
static void
imp_room_check(struct imp *im, const struct pie_rec *r)
{
	char	 jid[JID_STR_MAX + 1], key[JID_STR_MAX + 8], *v;
	size_t	 i, len;
	bool	 ours = false;

	jid_format(jid, r->node, r->domain, NULL);
	snprintf(key, sizeof(key), "room %s", jid);
	for (i = 0; i < im->conf->nhosts; i++)
		if (im->conf->hosts[i].muc && im->conf->hosts[i].muc_name !=
		    NULL && strcmp(im->conf->hosts[i].muc_name,
		    r->domain) == 0)
			ours = true;
	if (!ours) {
		imp_error(im, r->line, "room %s: %s is not a group chat "
		    "service of this server", jid, r->domain);
		im->user_ok = false;
	} else if (map_get(im->seen, key) != NULL) {
		imp_error(im, r->line, "room %s: a second time in the file",
		    jid);
		im->user_ok = false;
	} else if (store_doc_get(im->st, DOC_MUC, r->node, r->domain, "",
	    &v, &len) == 0) {
		free(v);
		if (!im->merge) {
			imp_error(im, r->line, "room %s exists already (not "
			    "overwritten: destroy it first, or --merge)", jid);
			im->user_ok = false;
		}
	} else if (errno != ENOENT) {
		imp_error(im, r->line, "room %s: reading the store: %s", jid,
		    strerror(errno));
		im->user_ok = false;
	}
	map_put(im->seen, key, im);
}

/*
 * An archived message. One of Parley's own keeps its stanza-id: the id
 * is its archiving time in microseconds, the nonce its second half
 * (router/mam_query.c), and ids in file order come out the same (the
 * store raises an id only past the archive's last). Another server's
 * gets its delay stamp as the time and a new nonce. No retention limit
 * here: the next message archived applies the server's.
 */
static int
imp_mam(struct imp *im, const struct pie_rec *r)
{
	struct archive_limits	 none = { 0, 0, 0 };
	struct archive_entry	 e;
	uint64_t		 id, nonce;
	char			 hex[17];

	memset(&e, 0, sizeof(e));
	e.stamp = r->stamp;
	random_bytes(&e.nonce, sizeof(e.nonce));
	if (strlen(r->id) == 32 && strspn(r->id, "0123456789abcdef") == 32) {
		memcpy(hex, r->id, 16);
		hex[16] = '\0';
		id = strtoull(hex, NULL, 16);
		nonce = strtoull(r->id + 16, NULL, 16);
		if (id != 0) {
			e.stamp = id;
			e.nonce = nonce;
		}
	}
	e.with = (char *)r->jid;
	e.xml = (char *)r->xml;
	e.len = r->len;
	return store_archive_put(im->st, r->node, r->domain, &e, &none,
	    false);
}

/* the second pass: one record into the open transaction */
static int
imp_write(struct imp *im, const struct pie_rec *r)
{
	struct store_usage	 nomax = { SIZE_MAX, SIZE_MAX };
	struct pubsub_item	 it;
	struct roster_item	 old;
	uint64_t		 v;
	char			 conf[32];
	int			 rc = 0;

	switch (r->kind) {
	case PIE_ROSTER:
		/* a subscription request read before keeps its state */
		memset(&old, 0, sizeof(old));
		if (store_roster_get(im->st, r->node, r->domain, r->item->jid,
		    &old) == 0) {
			r->item->pending_in = old.pending_in;
			r->item->pending_xml = old.pending_xml;
		}
		rc = store_roster_put(im->st, r->node, r->domain, r->item, &v);
		r->item->pending_xml = NULL;
		roster_item_clear(&old);
		return rc == -1 ? imp_failed(im, r, "a roster item") : 0;
	case PIE_SUBREQ:
		return imp_subreq(im, r) == -1 ?
		    imp_failed(im, r, "a subscription request") : 0;
	case PIE_VCARD:
		rc = store_doc_put(im->st, DOC_VCARD, r->node, r->domain, "",
		    r->xml, r->len);
		return rc == -1 ? imp_failed(im, r, "the vCard") : 0;
	case PIE_PRIVATE:
		rc = store_doc_put(im->st, DOC_PRIVATE, r->node, r->domain,
		    r->key, r->xml, r->len);
		return rc == -1 ? imp_failed(im, r, "private XML") : 0;
	case PIE_OFFLINE:
		rc = store_offline_put(im->st, r->node, r->domain, r->xml,
		    r->len, &nomax, &v);
		return rc == -1 ? imp_failed(im, r, "an offline message") : 0;
	case PIE_BLOCK:
		rc = store_block_add(im->st, r->node, r->domain, r->jid);
		return rc == -1 && errno != EEXIST ?
		    imp_failed(im, r, "the block list") : 0;
	case PIE_PEP_CONF:
		return imp_pep_node(im, r, r->xml, true, &v) == -1 ?
		    imp_failed(im, r, "a PEP node") : 0;
	case PIE_PEP_FORM:
		imp_pep_form(r, conf, sizeof(conf));
		return imp_pep_node(im, r, conf, true, &v) == -1 ?
		    imp_failed(im, r, "a PEP node") : 0;
	case PIE_PEP_ITEM:
		if (imp_pep_node(im, r, imp_pep_default(r->key), false,
		    &v) == -1)
			return imp_failed(im, r, "a PEP node");
		memset(&it, 0, sizeof(it));
		it.id = (char *)r->id;
		it.publisher = "";
		it.xml = (char *)r->xml;
		it.len = r->len;
		return store_pubsub_item_put(im->st, r->node, r->domain, v,
		    &it, SIZE_MAX) == -1 ? imp_failed(im, r, "a PEP item") : 0;
	case PIE_MAM:
		return imp_mam(im, r) == -1 ?
		    imp_failed(im, r, "an archived message") : 0;
	case PIE_DOC:
		rc = store_doc_put(im->st, r->doc, r->node, r->domain,
		    r->key, r->xml, r->len);
		return rc == -1 ? imp_failed(im, r, r->doc == DOC_MUC ?
		    "the room" : pie_doc_name(r->doc)) : 0;
	default:
		return 0;
	}
}

/* the user is complete: its account last, so that it holds creds */
static int
imp_user_end(struct imp *im, const struct pie_rec *r)
{
	/* merged into: its credentials, role and state stay as they are */
	if (im->exists)
		return 0;
	if (imp_creds(im, r) == -1 || !im->write)
		return 0;
	if (store_account_add(im->st, r->node, r->domain, &im->cr) == -1)
		return imp_failed(im, r, "the account");
	if (im->role != ROLE_MEMBER && store_account_role_set(im->st,
	    r->node, r->domain, im->role) == -1)
		return imp_failed(im, r, "the role");
	if (im->disabled && store_account_disable(im->st, r->node,
	    r->domain, true) == -1)
		return imp_failed(im, r, "the disabled flag");
	return 0;
}

static int
imp_rec(const struct pie_rec *r, void *arg)
{
	struct imp	*im = arg;
	int		 rc = 0;

	switch (r->kind) {
	case PIE_ERROR:
		imp_error(im, r->line, "%s", r->xml);
		return 0;
	case PIE_SKIP:
		/* said once, in the first pass */
		if (!im->write) {
			im->skipped++;
			imp_say(im, r->line, "skipped: %s", r->xml);
		}
		return 0;
	case PIE_USER:
		imp_user_clear(im);
		im->user_ok = true;
		im->uline = r->line;
		if (r->password != NULL)
			im->password = xstrdup(r->password);
		if (!im->write)
			imp_user_check(im, r);
		im->exists = imp_exists(im, r);
		im->merged += im->exists;
		im->users++;
		return 0;
	case PIE_USER_END:
		if (im->user_ok)
			rc = imp_user_end(im, r);
		imp_user_clear(im);
		return rc;
	case PIE_CRED:
		im->cr.h[r->hash] = r->cred;
		im->has[r->hash] = true;
		return 0;
	case PIE_ACCOUNT:
		im->role = r->role;
		im->disabled = r->disabled;
		return 0;
	case PIE_ROOM:
		imp_user_clear(im);
		im->user_ok = true;
		if (!im->write)
			imp_room_check(im, r);
		im->rooms++;
		return 0;
	case PIE_ROOM_END:
		imp_user_clear(im);
		return 0;
	default:
		break;
	}
	if (r->node == NULL || !im->user_ok)
		return 0;
	im->records++;
	return im->write ? imp_write(im, r) : 0;
}

/* one pass over fp; 0, or -1 (said why) */
static int
imp_pass(struct imp *im, FILE *fp)
{
	struct pie_parser	*pp;
	char			 buf[65536];
	size_t			 n;
	int			 rc = 0;

	rewind(fp);
	im->users = im->records = im->merged = im->rooms = 0;
	pp = pie_parser_new(imp_rec, im);
	pie_parser_stamp(pp, im->stamp);
	do {
		n = fread(buf, 1, sizeof(buf), fp);
		if (ferror(fp)) {
			fprintf(stderr, "%s: %s\n", im->path, strerror(errno));
			rc = -1;
			break;
		}
		if (pie_parse(pp, buf, n, n == 0) == -1) {
			if (*pie_error(pp) != '\0')
				imp_error(im, pie_line(pp), "%s",
				    pie_error(pp));
			rc = -1;
			break;
		}
	} while (n > 0);
	pie_parser_free(pp);
	imp_user_clear(im);
	return rc;
}

/* "-": standard input, copied so that it can be read twice */
static FILE *
imp_open(const char *path)
{
	FILE	*fp, *tmp;
	char	 buf[65536];
	size_t	 n;

	if (strcmp(path, "-") != 0) {
		if ((fp = fopen(path, "re")) == NULL)
			fprintf(stderr, "parleyctl: %s: %s\n", path,
			    strerror(errno));
		return fp;
	}
	if ((tmp = tmpfile()) == NULL) {
		fprintf(stderr, "parleyctl: a temporary file: %s\n",
		    strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, tmp) != n)
			break;
	if (ferror(stdin) || ferror(tmp) || fflush(tmp) == EOF) {
		fprintf(stderr, "parleyctl: copying standard input: %s\n",
		    strerror(errno));
		fclose(tmp);
		return NULL;
	}
	return tmp;
}

int
pie_import(const struct conf *conf, const char *path, bool merge)
{
	struct imp	 im;
	FILE		*fp;
	struct tm	 tm;
	time_t		 now;
	char		 err[512];
	int		 rc = 1, tries;

	memset(&im, 0, sizeof(im));
	im.conf = conf;
	im.merge = merge;
	now = time(NULL);
	strftime(im.stamp, sizeof(im.stamp), "%Y-%m-%dT%H:%M:%SZ",
	    gmtime_r(&now, &tm));
	im.path = strcmp(path, "-") == 0 ? "(stdin)" : path;
	if ((fp = imp_open(path)) == NULL)
		return 1;
	if ((im.st = store_open_conf(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "parleyctl: %s\n", err);
		fclose(fp);
		return 1;
	}
	im.seen = map_new();
	if (imp_pass(&im, fp) == -1 || im.errors > 0) {
		if (im.errors > IMPORT_ERRORS_SHOWN)
			fprintf(stderr, "%s: %zu more problems not shown\n",
			    im.path, im.errors - IMPORT_ERRORS_SHOWN);
		fprintf(stderr, "%s: %zu problem%s: nothing imported\n",
		    im.path, im.errors, im.errors == 1 ? "" : "s");
		goto done;
	}
	im.write = true;
	for (tries = 0; tries < IMPORT_RETRIES; tries++) {
		im.werr = 0;
		if (store_begin(im.st) == -1) {
			fprintf(stderr, "parleyctl: %s\n", strerror(errno));
			goto done;
		}
		if (imp_pass(&im, fp) == 0 && im.errors == 0 &&
		    store_commit(im.st) == 0)
			break;
		if (im.werr == 0)
			im.werr = errno;
		store_abort(im.st);
		if (im.werr != EAGAIN || im.errors > 0) {
			fprintf(stderr, "%s: nothing imported\n", im.path);
			goto done;
		}
	}
	if (tries == IMPORT_RETRIES) {
		fprintf(stderr, "%s: the store kept growing: nothing "
		    "imported\n", im.path);
		goto done;
	}
	printf("imported %zu account%s (%zu records, %zu skipped elements)\n",
	    im.users, im.users == 1 ? "" : "s", im.records, im.skipped);
	if (im.rooms > 0)
		printf("and %zu group chat room%s\n", im.rooms,
		    im.rooms == 1 ? "" : "s");
	if (im.merged > 0)
		printf("of which %zu merged into existing accounts (their "
		    "credentials, role and state kept)\n", im.merged);
	rc = fflush(stdout) == 0 ? 0 : 1;
done:
	map_free(im.seen, NULL);
	store_close(im.st);
	fclose(fp);
	return rc;
}
