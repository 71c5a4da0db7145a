/*
 * Publish-subscribe (XEP-0060) as the personal eventing service of every
 * account (XEP-0163): one engine, requests parsed here, nodes and items
 * in storage (store_pubsub.c), notifications fanned out by pep.c. The
 * node configuration is one table (conf_fields) that drives its storage
 * encoding, the configuration form, publish-options preconditions and
 * the defaults.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "pubsub.h"
#include "router.h"

#define FORM_NODE_CONFIG	NS_PUBSUB "#node_config"
#define FORM_PUBLISH_OPTIONS	NS_PUBSUB "#publish-options"
#define ITEM_ID_MAX		256	/* bytes of an item id */

/* ---- configuration: one table ------------------------------------------- */

static const char *const access_names[] = {
	"open", "presence", "roster", "whitelist", NULL
};
static const char *const sendlast_names[] = {
	"never", "on_sub", "on_sub_and_presence", NULL
};
static const char *const pubmodel_names[] = {
	"publishers", "subscribers", "open", NULL
};
static const char *const notiftype_names[] = {
	"headline", "normal", NULL
};
static const char *const itemreply_names[] = {
	"owner", "publisher", NULL
};

enum cf_kind { CF_BOOL, CF_MAX, CF_ENUM, CF_TEXT, CF_GROUPS };

struct cf_field {
	const char		*var;		/* pubsub#... */
	char			 key;		/* in the stored record */
	enum cf_kind		 kind;
	size_t			 off;		/* in struct ps_conf */
	const char *const	*names;		/* CF_ENUM */
	const char		*label;
};

#define CF(m)	offsetof(struct ps_conf, m)

static const struct cf_field conf_fields[] = {
	{ "pubsub#access_model", 'a', CF_ENUM, CF(access), access_names,
	  "Who may subscribe and retrieve items" },
	{ "pubsub#persist_items", 'p', CF_BOOL, CF(persist), NULL,
	  "Persist items to storage" },
	{ "pubsub#max_items", 'm', CF_MAX, CF(max_items), NULL,
	  "Maximum number of items to persist" },
	{ "pubsub#send_last_published_item", 'l', CF_ENUM, CF(send_last),
	  sendlast_names, "When to send the last published item" },
	{ "pubsub#deliver_notifications", 'n', CF_BOOL, CF(notify), NULL,
	  "Deliver event notifications" },
	{ "pubsub#deliver_payloads", 'd', CF_BOOL, CF(payloads), NULL,
	  "Deliver payloads with event notifications" },
	{ "pubsub#notify_retract", 'r', CF_BOOL, CF(notify_retract), NULL,
	  "Notify subscribers when items are removed from the node" },
	{ "pubsub#notify_delete", 'x', CF_BOOL, CF(notify_delete), NULL,
	  "Notify subscribers when the node is deleted" },
	{ "pubsub#notify_config", 'c', CF_BOOL, CF(notify_config), NULL,
	  "Notify subscribers when the node configuration changes" },
	{ "pubsub#presence_based_delivery", 'b', CF_BOOL, CF(presence_based),
	  NULL, "Deliver notifications only to available users" },
	{ "pubsub#publish_model", 'u', CF_ENUM, CF(publish_model),
	  pubmodel_names, "Who may publish items" },
	{ "pubsub#notification_type", 't', CF_ENUM, CF(notif_type),
	  notiftype_names, "Message type of event notifications" },
	{ "pubsub#itemreply", 'i', CF_ENUM, CF(itemreply), itemreply_names,
	  "Whom replies to items go to" },
	{ "pubsub#roster_groups_allowed", 'g', CF_GROUPS, 0, NULL,
	  "Roster groups allowed to subscribe" },
	{ "pubsub#title", 'T', CF_TEXT, CF(title), NULL,
	  "A friendly name for the node" },
	{ "pubsub#description", 'D', CF_TEXT, CF(description), NULL,
	  "A description of the node" },
	{ "pubsub#type", 'Y', CF_TEXT, CF(type), NULL,
	  "The type of node data, usually its payload namespace" },
};

#define NCONF	(sizeof(conf_fields) / sizeof(conf_fields[0]))

/* XEP-0163 defaults for a PEP node (4: presence access, one item) */
void
ps_conf_default(struct ps_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->access = PS_ACCESS_PRESENCE;
	c->persist = true;
	c->max_items = 1;
	c->send_last = PS_SENDLAST_ON_SUB_AND_PRESENCE;
	c->notify = true;
	c->payloads = true;
	c->notify_retract = true;
	c->notify_delete = true;
	c->notify_config = false;
	c->publish_model = PS_PUBLISH_PUBLISHERS;
	c->notif_type = PS_NOTIF_HEADLINE;
}

/*
 * A pubsub service has no owning account, hence no presence or roster
 * to grant access by: its nodes start open and send the last item on
 * subscription (XEP-0060 12.8), never on presence.
 */
void
ps_conf_new(const struct ps_service *svc, struct ps_conf *c)
{
	ps_conf_default(c);
	if (svc->pep)
		return;
	c->access = PS_ACCESS_OPEN;
	c->send_last = PS_SENDLAST_ON_SUB;
}

bool
ps_conf_fits(const struct ps_service *svc, const struct ps_conf *c)
{
	return svc->pep || (c->access != PS_ACCESS_PRESENCE &&
	    c->access != PS_ACCESS_ROSTER &&
	    c->send_last != PS_SENDLAST_ON_SUB_AND_PRESENCE);
}

size_t
ps_conf_max_items(const struct ps_conf *c)
{
	size_t	limit = (size_t)router.conf.pubsub_max_items;

	return c->max_items == 0 || (size_t)c->max_items > limit ? limit :
	    (size_t)c->max_items;
}

/* %-escapes what would break a line: '%' and the control characters */
static int
rec_text(struct buf *b, const char *s)
{
	int	rc = 0;

	for (; *s != '\0' && rc == 0; s++)
		rc = (unsigned char)*s < 0x20 || *s == '%' ?
		    buf_printf(b, "%%%02X", (unsigned char)*s) :
		    buf_append(b, s, 1);
	return rc;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* undoes rec_text; NULL for a bad escape (the record is corrupt) */
static char *
rec_untext(struct arena *a, const char *s, size_t len)
{
	char	*out = arena_alloc(a, len + 1), *o = out;
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (len - i < 3 || (hi = hexval(s[i + 1])) == -1 ||
		    (lo = hexval(s[i + 2])) == -1 || (hi == 0 && lo == 0))
			return NULL;
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

int
ps_conf_encode(struct buf *b, const struct ps_conf *c)
{
	const struct cf_field	*f;
	const char		*p = (const char *)c;
	size_t			 i, k;
	int			 rc = 0;

	for (i = 0; i < NCONF && rc == 0; i++) {
		f = &conf_fields[i];
		switch (f->kind) {
		case CF_BOOL:
			rc = buf_printf(b, "%c%d\n", f->key,
			    *(const bool *)(p + f->off));
			break;
		case CF_MAX:
		case CF_ENUM:
			rc = buf_printf(b, "%c%d\n", f->key,
			    *(const int *)(p + f->off));
			break;
		case CF_TEXT:
			if (*(char *const *)(p + f->off) == NULL)
				break;
			rc = buf_printf(b, "%c", f->key);
			rc |= rec_text(b, *(char *const *)(p + f->off));
			rc |= buf_puts(b, "\n");
			break;
		case CF_GROUPS:
			for (k = 0; k < c->ngroups && rc == 0; k++) {
				rc = buf_printf(b, "%c", f->key);
				rc |= rec_text(b, c->groups[k]);
				rc |= buf_puts(b, "\n");
			}
			break;
		}
	}
	for (k = 0; k < c->naffs && rc == 0; k++) {
		rc = buf_printf(b, "A%d ", (int)c->affs[k].aff);
		rc |= rec_text(b, c->affs[k].jid);
		rc |= buf_puts(b, "\n");
	}
	for (k = 0; k < c->nsubs && rc == 0; k++) {
		rc = buf_printf(b, "S");
		rc |= rec_text(b, c->subs[k].subid);
		rc |= buf_puts(b, " ");
		rc |= rec_text(b, c->subs[k].jid);
		rc |= buf_puts(b, "\n");
	}
	return rc;
}

static const struct cf_field *
cf_by_key(char key)
{
	size_t	i;

	for (i = 0; i < NCONF; i++)
		if (conf_fields[i].key == key)
			return &conf_fields[i];
	return NULL;
}

static size_t
names_count(const char *const *names)
{
	size_t	n = 0;

	while (names[n] != NULL)
		n++;
	return n;
}

/* lines "<key><value>"; unknown keys are skipped (a newer version's) */
int
ps_conf_decode(struct arena *a, const char *rec, size_t len,
    struct ps_conf *c)
{
	const struct cf_field	*f;
	const char		*line, *nl, *end = rec + len, *sp;
	char			*p = (char *)c, *val;
	long			 v;

	ps_conf_default(c);
	c->groups = arena_alloc(a, PS_GROUPS_MAX * sizeof(*c->groups));
	for (line = rec; line < end; line = nl + 1) {
		/* every line has its key: an empty one is not ours */
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL ||
		    nl == line ||
		    (val = rec_untext(a, line + 1, (size_t)(nl - line - 1))) ==
		    NULL)
			return -1;
		if (*line == 'A' || *line == 'S') {
			if ((sp = strchr(val, ' ')) == NULL)
				return -1;
			if (*line == 'A' && c->naffs < PS_JIDS_MAX) {
				v = atol(val);
				if (v < PS_AFFIL_NONE || v > PS_AFFIL_OUTCAST)
					return -1;
				c->affs = c->naffs == 0 ? arena_alloc(a,
				    PS_JIDS_MAX * sizeof(*c->affs)) : c->affs;
				c->affs[c->naffs].aff = (enum ps_affil)v;
				c->affs[c->naffs++].jid = sp + 1;
			} else if (*line == 'S' && c->nsubs < PS_JIDS_MAX) {
				c->subs = c->nsubs == 0 ? arena_alloc(a,
				    PS_JIDS_MAX * sizeof(*c->subs)) : c->subs;
				c->subs[c->nsubs].subid = arena_printf(a,
				    "%.*s", (int)(sp - val), val);
				c->subs[c->nsubs++].jid = sp + 1;
			}
			continue;
		}
		if ((f = cf_by_key(*line)) == NULL)
			continue;
		switch (f->kind) {
		case CF_BOOL:
			*(bool *)(p + f->off) = atoi(val) != 0;
			break;
		case CF_MAX:
			v = atol(val);
			if (v < 0 || v > PS_JIDS_MAX)
				return -1;
			*(int *)(p + f->off) = (int)v;
			break;
		case CF_ENUM:
			v = atol(val);
			if (v < 0 || (size_t)v >= names_count(f->names))
				return -1;
			*(int *)(p + f->off) = (int)v;
			break;
		case CF_TEXT:
			*(char **)(p + f->off) = val;
			break;
		case CF_GROUPS:
			if (c->ngroups < PS_GROUPS_MAX)
				c->groups[c->ngroups++] = val;
			break;
		}
	}
	return 0;
}

static int
enum_find(const char *const *names, const char *s)
{
	int	i;

	for (i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/*
 * Applies one submitted field to c (apply) or compares it with c (a
 * publish-options precondition). 0 fine; PS_CONF_BAD a value not of the
 * field's datatype (XEP-0004 3.3: a boolean, one of a list's options, a
 * number or "max"); PS_CONF_UNMET a value of the right type the node
 * cannot take (past a limit) or, comparing, a mismatch.
 */
static int
cf_field_take(struct arena *a, const struct cf_field *f,
    const struct xdata_field *xf, struct ps_conf *c, bool apply)
{
	char		*p = (char *)c;
	const char	*s = xf->nvalues > 0 ? xf->values[0] : NULL;
	char		*end;
	long		 v;
	int		 b;
	size_t		 i, k;

	switch (f->kind) {
	case CF_BOOL:
		if ((b = xdata_bool(s)) == -1)
			return PS_CONF_BAD;
		if (!apply)
			return *(bool *)(p + f->off) == (b == 1) ? 0 :
			    PS_CONF_UNMET;
		*(bool *)(p + f->off) = b == 1;
		return 0;
	case CF_MAX:
		if (s != NULL && strcmp(s, "max") == 0)
			v = 0;
		else {
			if (s == NULL || *s == '\0')
				return PS_CONF_BAD;
			errno = 0;
			v = strtol(s, &end, 10);
			if (*end != '\0')
				return PS_CONF_BAD;
			if (errno != 0 || v < 1 ||
			    v > router.conf.pubsub_max_items)
				return PS_CONF_UNMET;
		}
		if (!apply)
			return *(int *)(p + f->off) == (int)v ? 0 :
			    PS_CONF_UNMET;
		*(int *)(p + f->off) = (int)v;
		return 0;
	case CF_ENUM:
		if ((b = enum_find(f->names, s)) == -1)
			return PS_CONF_BAD;
		if (!apply)
			return *(int *)(p + f->off) == b ? 0 : PS_CONF_UNMET;
		*(int *)(p + f->off) = b;
		return 0;
	case CF_TEXT:
		if (!apply) {
			const char *cur = *(char **)(p + f->off);

			return strcmp(cur != NULL ? cur : "",
			    s != NULL ? s : "") == 0 ? 0 : PS_CONF_UNMET;
		}
		*(char **)(p + f->off) = s != NULL && *s != '\0' ?
		    arena_strdup(a, s) : NULL;
		return 0;
	case CF_GROUPS:
		if (xf->nvalues > PS_GROUPS_MAX)
			return PS_CONF_UNMET;
		if (!apply) {
			if (xf->nvalues != c->ngroups)
				return PS_CONF_UNMET;
			for (i = 0; i < xf->nvalues; i++) {
				for (k = 0; k < c->ngroups; k++)
					if (strcmp(c->groups[k],
					    xf->values[i]) == 0)
						break;
				if (k == c->ngroups)
					return PS_CONF_UNMET;
			}
			return 0;
		}
		if (c->groups == NULL)
			c->groups = arena_alloc(a, PS_GROUPS_MAX *
			    sizeof(*c->groups));
		for (i = 0; i < xf->nvalues; i++)
			c->groups[i] = arena_strdup(a, xf->values[i]);
		c->ngroups = xf->nvalues;
		return 0;
	}
	return PS_CONF_BAD;
}

static const struct cf_field *
cf_by_var(const char *var)
{
	size_t	i;

	for (i = 0; i < NCONF; i++)
		if (strcmp(conf_fields[i].var, var) == 0)
			return &conf_fields[i];
	return NULL;
}

int
ps_conf_apply(struct arena *a, const struct xnode *x, struct ps_conf *c,
    bool apply, const char *form_type, const char **why)
{
	struct xdata		 d;
	const struct cf_field	*f;
	size_t			 i;
	int			 rc;

	if (xdata_parse(a, x, &d, why) == -1)
		return PS_CONF_BAD;
	if (strcmp(d.type, "submit") != 0) {
		*why = "the form is not submitted";
		return PS_CONF_BAD;
	}
	if (d.form_type == NULL || strcmp(d.form_type, form_type) != 0) {
		*why = "FORM_TYPE missing or wrong";
		return PS_CONF_BAD;
	}
	for (i = 0; i < d.nfields; i++) {
		if ((f = cf_by_var(d.fields[i].var)) == NULL) {
			/* well-formed, but no node has such an option */
			*why = arena_printf(a, "unknown field %s",
			    d.fields[i].var);
			return PS_CONF_UNMET;
		}
		if ((rc = cf_field_take(a, f, &d.fields[i], c, apply)) != 0) {
			*why = arena_printf(a, rc == PS_CONF_BAD ?
			    "%s: not a value of its type" : apply ?
			    "%s: a value past a limit" : "%s does not match",
			    f->var);
			return rc;
		}
	}
	return 0;
}

void
ps_conf_form(struct arena *a, struct xnode *parent, const struct ps_conf *c)
{
	const struct cf_field	*f;
	const char		*p = (const char *)c;
	struct xnode		*x, *fl;
	size_t			 i, k;
	int			 v;

	x = xdata_new(a, parent, "form", FORM_NODE_CONFIG);
	for (i = 0; i < NCONF; i++) {
		f = &conf_fields[i];
		switch (f->kind) {
		case CF_BOOL:
			xdata_add(a, x, f->var, "boolean", f->label,
			    *(const bool *)(p + f->off) ? "1" : "0");
			break;
		case CF_MAX:
			v = *(const int *)(p + f->off);
			xdata_add(a, x, f->var, "text-single", f->label,
			    v == 0 ? "max" : arena_printf(a, "%d", v));
			break;
		case CF_ENUM:
			fl = xdata_add(a, x, f->var, "list-single", f->label,
			    f->names[*(const int *)(p + f->off)]);
			for (k = 0; f->names[k] != NULL; k++)
				xdata_add_option(a, fl, f->names[k]);
			break;
		case CF_TEXT:
			xdata_add(a, x, f->var, "text-single", f->label,
			    *(char *const *)(p + f->off) != NULL ?
			    *(char *const *)(p + f->off) : "");
			break;
		case CF_GROUPS:
			fl = xdata_add(a, x, f->var, "list-multi", f->label,
			    NULL);
			for (k = 0; k < c->ngroups; k++)
				xdata_add_value(a, fl, c->groups[k]);
			break;
		}
	}
}

/* ---- affiliations and subscriptions -------------------------------------- */

static const char *const affil_names[] = {
	"none", "owner", "publisher", "publish-only", "member", "outcast", NULL
};

const char *
ps_affil_name(enum ps_affil a)
{
	return affil_names[a];
}

int
ps_affil_parse(const char *s)
{
	return enum_find(affil_names, s);
}

enum ps_affil
ps_affil_of(const struct ps_conf *c, const char *bare)
{
	size_t	i;

	for (i = 0; i < c->naffs; i++)
		if (strcmp(c->affs[i].jid, bare) == 0)
			return c->affs[i].aff;
	return PS_AFFIL_NONE;
}

/* sets (PS_AFFIL_NONE: removes); -1 past the list's limit */
int
ps_affil_set(struct arena *a, struct ps_conf *c, const char *bare,
    enum ps_affil aff)
{
	size_t	i;

	for (i = 0; i < c->naffs; i++)
		if (strcmp(c->affs[i].jid, bare) == 0)
			break;
	if (aff == PS_AFFIL_NONE) {
		if (i < c->naffs)
			c->affs[i] = c->affs[--c->naffs];
		return 0;
	}
	if (i == c->naffs) {
		if (c->naffs + c->nsubs >=
		    (size_t)router.conf.pubsub_max_subscriptions ||
		    c->naffs >= PS_JIDS_MAX)
			return -1;
		if (c->affs == NULL)
			c->affs = arena_alloc(a, PS_JIDS_MAX *
			    sizeof(*c->affs));
		c->affs[c->naffs++].jid = arena_strdup(a, bare);
	}
	c->affs[i].aff = aff;
	return 0;
}

ssize_t
ps_sub_find(const struct ps_conf *c, const char *jid, const char *subid)
{
	size_t	i;

	for (i = 0; i < c->nsubs; i++)
		if (strcmp(c->subs[i].jid, jid) == 0 && (subid == NULL ||
		    strcmp(c->subs[i].subid, subid) == 0))
			return (ssize_t)i;
	return -1;
}

/* a new subscription of jid: its subid; NULL past the node's limit */
const char *
ps_sub_add(struct arena *a, struct ps_conf *c, const char *jid)
{
	char	hex[17];
	uint8_t	rnd[8];
	ssize_t	i;

	if ((i = ps_sub_find(c, jid, NULL)) != -1)
		return c->subs[i].subid;
	if (c->naffs + c->nsubs >=
	    (size_t)router.conf.pubsub_max_subscriptions ||
	    c->nsubs >= PS_JIDS_MAX)
		return NULL;
	if (c->subs == NULL)
		c->subs = arena_alloc(a, PS_JIDS_MAX * sizeof(*c->subs));
	random_bytes(rnd, sizeof(rnd));
	hex_encode(hex, rnd, sizeof(rnd));
	c->subs[c->nsubs].jid = arena_strdup(a, jid);
	c->subs[c->nsubs].subid = arena_strdup(a, hex);
	return c->subs[c->nsubs++].subid;
}

void
ps_sub_del(struct ps_conf *c, size_t i)
{
	c->subs[i] = c->subs[--c->nsubs];
}

/* ---- nodes in storage --------------------------------------------------- */

int
ps_node_load(struct arena *a, const struct ps_service *svc, const char *name,
    struct ps_node *n)
{
	char	*rec;
	size_t	 len;
	int	 rc;

	memset(n, 0, sizeof(*n));
	n->name = name;
	if (store_pubsub_node_get(router.store, svc->owner, svc->domain, name,
	    &n->nid, &rec, &len) == -1)
		return -1;
	rc = ps_conf_decode(a, rec, len, &n->conf);
	free(rec);
	if (rc == -1) {
		log_warnx("pubsub %s: node %s: configuration corrupt",
		    svc->jid, log_escs(name));
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Writes the node once (n->nid 0: creates it and sets n->nid); -1 errno,
 * EAGAIN included: inside a batch the caller runs the batch again.
 */
int
ps_node_put(const struct ps_service *svc, struct ps_node *n)
{
	struct buf	b;
	int		rc, err;

	buf_init(&b, 0);
	if (ps_conf_encode(&b, &n->conf) == -1) {
		buf_clear(&b);
		errno = ENOMEM;
		return -1;
	}
	rc = store_pubsub_node_put(router.store, svc->owner, svc->domain,
	    n->name, &n->nid, buf_rptr(&b), buf_avail(&b),
	    (size_t)router.conf.pubsub_max_nodes);
	err = errno;
	buf_clear(&b);
	errno = err;
	return rc;
}

/* the same outside a batch, run again while the map grows (store.h) */
int
ps_node_save(const struct ps_service *svc, struct ps_node *n)
{
	int	rc;

	do
		rc = ps_node_put(svc, n);
	while (rc == -1 && errno == EAGAIN);
	return rc;
}

/* ---- requests ----------------------------------------------------------- */

int
ps_req_init(struct ps_req *r, struct ps_service *svc, struct rstanza *rs,
    struct xnode *iq, struct arena *a)
{
	struct jid	j;
	char		bare[JID_STR_MAX + 1];

	memset(r, 0, sizeof(*r));
	r->rs = rs;
	r->iq = iq;
	r->a = a;
	r->svc = svc;
	svc->owner = rs->tnode;
	svc->domain = rs->tdomain;
	svc->pep = rs->tnode != NULL;
	jid_format(bare, rs->tnode, rs->tdomain, NULL);
	svc->jid = arena_strdup(a, bare);
	r->from_full = rs->from;
	r->from_bare = "";
	if (rs->from == NULL || jid_parse(&j, rs->from) == -1)
		return -1;
	jid_format(bare, j.node, j.domain, NULL);
	jid_clear(&j);
	r->from_bare = arena_strdup(a, bare);
	/* a service's nodes have owners; the service itself has none */
	r->owner = svc->pep && strcmp(r->from_bare, svc->jid) == 0;
	return 0;
}

/* ---- errors ------------------------------------------------------------- */

/*
 * XEP-0060 errors: a stanza condition with an application condition
 * from pubsub#errors (NULL: none); feature names the unsupported feature
 * of an <unsupported/>.
 */
void
ps_error(struct ps_req *r, enum stanza_err cond, const char *app,
    const char *feature)
{
	struct xnode	*err, *el;

	stanza_make_error(r->a, r->iq, cond, NULL);
	if (app != NULL &&
	    (err = xnode_child(r->iq, NS_CLIENT, "error")) != NULL) {
		el = xnode_add(r->a, err, NS_PUBSUB_ERRORS, app);
		if (feature != NULL)
			xnode_set_attr(r->a, el, "feature", feature);
	}
	deliver_tree(r->rs->sender, r->iq);
}

void
ps_store_error(struct ps_req *r, int err)
{
	switch (err) {
	case ENOENT:
		ps_error(r, XERR_ITEM_NOT_FOUND, NULL, NULL);
		break;
	case EDQUOT:
	case ENOSPC:
	case EAGAIN:
	case ENAMETOOLONG:
		ps_error(r, XERR_RESOURCE_CONSTRAINT, NULL, NULL);
		break;
	case EEXIST:
		ps_error(r, XERR_CONFLICT, NULL, NULL);
		break;
	default:
		ps_error(r, XERR_INTERNAL_SERVER_ERROR, NULL, NULL);
	}
}

/* the result: the iq turned around, with an optional <pubsub> child */
struct xnode *
ps_result(struct ps_req *r, const char *ns)
{
	iq_make_result(r->iq, r->a);
	return ns != NULL ? xnode_add(r->a, r->iq, ns, "pubsub") : NULL;
}

void
ps_send(struct ps_req *r)
{
	deliver_tree(r->rs->sender, r->iq);
}

void
ps_reply(struct ps_req *r, struct xnode *res)
{
	iq_make_result(r->iq, r->a);
	xnode_append(r->iq, res);
	ps_send(r);
}

/* ---- access ------------------------------------------------------------- */

/*
 * XEP-0060 6.1.3 and 6.5.9: whether the requester may subscribe to or
 * retrieve items of node n. XERR_COUNT when it may; else the condition
 * with its application condition in *app.
 */
enum stanza_err
ps_access(const struct ps_req *r, const struct ps_node *n, const char **app)
{
	const struct ps_conf	*c = &n->conf;
	enum ps_affil		 aff;
	struct roster_item	 it;
	size_t			 i, k;
	bool			 in = false;

	*app = NULL;
	if (r->owner)
		return XERR_COUNT;
	aff = ps_affil_of(c, r->from_bare);
	if (aff == PS_AFFIL_OUTCAST)
		return XERR_FORBIDDEN;
	if (aff == PS_AFFIL_OWNER || aff == PS_AFFIL_PUBLISHER ||
	    aff == PS_AFFIL_MEMBER)
		return XERR_COUNT;
	switch (c->access) {
	case PS_ACCESS_OPEN:
		return XERR_COUNT;
	case PS_ACCESS_PRESENCE:
		if (r->svc->pep) {
			i = (size_t)roster_sub_of(r->svc->owner,
			    r->svc->domain, r->from_bare);
			if (i == SUB_FROM || i == SUB_BOTH)
				return XERR_COUNT;
		}
		*app = "presence-subscription-required";
		return XERR_NOT_AUTHORIZED;
	case PS_ACCESS_ROSTER:
		memset(&it, 0, sizeof(it));
		if (r->svc->pep && store_roster_get(router.store,
		    r->svc->owner, r->svc->domain, r->from_bare, &it) == 0 &&
		    !it.hidden) {
			for (i = 0; i < it.ngroups && !in; i++)
				for (k = 0; k < c->ngroups && !in; k++)
					in = strcmp(it.groups[i],
					    c->groups[k]) == 0;
		}
		roster_item_clear(&it);
		if (in)
			return XERR_COUNT;
		*app = "not-in-roster-group";
		return XERR_NOT_AUTHORIZED;
	case PS_ACCESS_WHITELIST:
		*app = "closed-node";
		return XERR_NOT_ALLOWED;
	}
	return XERR_FORBIDDEN;
}

/* ---- items -------------------------------------------------------------- */

/* <item id publisher?>payload</item> under parent, from a stored item */
struct xnode *
ps_item_node(struct arena *a, struct xnode *parent, const char *ns,
    const struct pubsub_item *it, bool payload)
{
	struct xnode	*el, *p;

	el = xnode_add(a, parent, ns, "item");
	xnode_set_attr(a, el, "id", it->id);
	if (payload && it->len > 0 &&
	    (p = doc_parse(a, it->xml, it->len)) != NULL)
		xnode_append(el, p);
	return el;
}

/* a generated item id: 16 hex digits of randomness (XEP-0060 7.1.1) */
const char *
ps_item_id_new(struct arena *a)
{
	uint8_t	rnd[8];
	char	hex[17];

	random_bytes(rnd, sizeof(rnd));
	hex_encode(hex, rnd, sizeof(rnd));
	return arena_strdup(a, hex);
}

bool
ps_item_id_ok(const char *id)
{
	size_t	len = strlen(id);

	return len > 0 && len <= ITEM_ID_MAX && utf8_valid(id, len);
}

bool
ps_node_name_ok(const char *name)
{
	size_t	len = strlen(name);

	return len > 0 && len <= PS_NODE_NAME_MAX && utf8_valid(name, len);
}
