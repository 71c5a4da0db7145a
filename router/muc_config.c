/*
 * A room's configuration (XEP-0045 10.1-10.2, 10.9): the owner's form
 * from one table of fields, instant rooms, destruction; the room's
 * disco#info with its XEP-0128 muc#roominfo form; its vCard (avatar).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/base64.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/xdata.h"
#include "mam.h"
#include "muc.h"
#include "router.h"

void
muc_cfg_default(struct muc_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->public = true;
	c->invites = true;
	c->change_subject = true;
	c->allow_pm = PM_ANYONE;
	c->history = router.conf.muc_history;
	/* 9.5: admins and owners always; moderators too unless changed */
	c->getmember = MUC_ROLE_BIT(ROLE_MODERATOR);
	c->pbroadcast = MUC_ROLES_ALL;
	c->nick_change = true;
}

void
muc_cfg_clear(struct muc_cfg *c)
{
	free(c->name);
	free(c->desc);
	free(c->password);
	free(c->lang);
	memset(c, 0, sizeof(*c));
}

static const char *const pm_words[] = {
	"anyone", "participants", "moderators", "none", NULL
};

/* the roles a CF_ROLES field lists, in its options' order */
static const int role_opts[] = {
	ROLE_MODERATOR, ROLE_PARTICIPANT, ROLE_VISITOR
};

/*
 * CF_SECRET is text shown as text-private; CF_PWFLAG is a boolean that
 * is no field of muc_cfg but says whether the password is set (its off
 * is unused): shown from the password, submitted false it clears it.
 * CF_LANG is text that must be a language tag; CF_ROLES a list-multi of
 * roles kept as a set of MUC_ROLE_BIT.
 */
enum cfg_type {
	CF_BOOL, CF_TEXT, CF_SECRET, CF_INT, CF_LIST, CF_WHOIS, CF_PWFLAG,
	CF_LANG, CF_ROLES
};

/* the form's fields: one table, for the form and for a submission */
static const struct cfg_field {
	const char	*var;
	enum cfg_type	 type;
	size_t		 off;
	const char	*label;
} cfg_fields[] = {
#define F(f)	offsetof(struct muc_cfg, f)
	{ "muc#roomconfig_roomname", CF_TEXT, F(name), "Name" },
	{ "muc#roomconfig_roomdesc", CF_TEXT, F(desc), "Description" },
	{ "muc#roomconfig_persistentroom", CF_BOOL, F(persistent),
	  "Persistent" },
	{ "muc#roomconfig_publicroom", CF_BOOL, F(public), "Public" },
	{ "muc#roomconfig_membersonly", CF_BOOL, F(members_only),
	  "Members only" },
	{ "muc#roomconfig_moderatedroom", CF_BOOL, F(moderated),
	  "Moderated" },
	{ "muc#roomconfig_passwordprotectedroom", CF_PWFLAG, 0,
	  "Password protected" },
	{ "muc#roomconfig_roomsecret", CF_SECRET, F(password), "Password" },
	{ "muc#roomconfig_whois", CF_WHOIS, F(nonanon),
	  "Who may see real JIDs" },
	{ "muc#roomconfig_maxusers", CF_INT, F(max_users),
	  "Maximum occupants (0: the service's)" },
	{ "muc#roomconfig_historylength", CF_INT, F(history),
	  "Messages kept for history" },
	{ "muc#roomconfig_allowpm", CF_LIST, F(allow_pm),
	  "Who may send private messages" },
	{ "muc#roomconfig_allowinvites", CF_BOOL, F(invites),
	  "Occupants may invite" },
	{ "muc#roomconfig_changesubject", CF_BOOL, F(change_subject),
	  "Occupants may change the subject" },
	{ "muc#roomconfig_lang", CF_LANG, F(lang),
	  "Natural language of the discussions" },
	{ "muc#roomconfig_getmemberlist", CF_ROLES, F(getmember),
	  "Roles that may retrieve the member list" },
	{ "muc#roomconfig_presencebroadcast", CF_ROLES, F(pbroadcast),
	  "Roles whose presence is broadcast" },
	{ "muc#roomconfig_canchangenick", CF_BOOL, F(nick_change),
	  "Occupants may change their nickname" },
#undef F
};

static void *
cfg_at(struct muc_cfg *c, const struct cfg_field *f)
{
	return (char *)c + f->off;
}

static void
form_build(struct muc_req *q, struct xnode *parent)
{
	struct muc_cfg	*c = &q->room->cfg;
	struct xnode	*x, *fl;
	char		 n[24];
	size_t		 i, k;

	x = xdata_new(q->a, parent, "form", NS_MUC_CONFIG);
	for (i = 0; i < nitems(cfg_fields); i++) {
		const struct cfg_field	*f = &cfg_fields[i];
		void			*v = cfg_at(c, f);

		switch (f->type) {
		case CF_BOOL:
			xdata_add(q->a, x, f->var, "boolean", f->label,
			    *(bool *)v ? "1" : "0");
			break;
		case CF_PWFLAG:
			xdata_add(q->a, x, f->var, "boolean", f->label,
			    c->password != NULL && *c->password != '\0' ?
			    "1" : "0");
			break;
		case CF_ROLES:
			fl = xdata_add(q->a, x, f->var, "list-multi",
			    f->label, NULL);
			for (k = 0; k < nitems(role_opts); k++)
				if (*(int *)v & MUC_ROLE_BIT(role_opts[k]))
					xdata_add_value(q->a, fl,
					    muc_role_name(role_opts[k]));
			for (k = 0; k < nitems(role_opts); k++)
				xdata_add_option(q->a, fl,
				    muc_role_name(role_opts[k]));
			break;
		case CF_TEXT:
		case CF_SECRET:
		case CF_LANG:
			xdata_add(q->a, x, f->var, f->type == CF_SECRET ?
			    "text-private" : "text-single", f->label,
			    *(char **)v != NULL ? *(char **)v : "");
			break;
		case CF_INT:
			snprintf(n, sizeof(n), "%d", *(int *)v);
			xdata_add(q->a, x, f->var, "text-single", f->label, n);
			break;
		case CF_LIST:
			fl = xdata_add(q->a, x, f->var, "list-single",
			    f->label, pm_words[*(int *)v]);
			for (k = 0; pm_words[k] != NULL; k++)
				xdata_add_option(q->a, fl, pm_words[k]);
			break;
		case CF_WHOIS:
			fl = xdata_add(q->a, x, f->var, "list-single",
			    f->label, *(bool *)v ? "anyone" : "moderators");
			xdata_add_option(q->a, fl, "moderators");
			xdata_add_option(q->a, fl, "anyone");
			break;
		}
	}
}

/*
 * RFC 5646 2.1, loosely: a primary subtag of 2-8 letters, then subtags
 * of 1-8 letters or digits; "" (no language) is one too.
 */
static bool
lang_ok(const char *v)
{
	size_t	n = 0, i;
	bool	first = true;

	if (*v == '\0')
		return true;
	for (i = 0; ; i++) {
		if (v[i] == '-' || v[i] == '\0') {
			if (n < (first ? 2 : 1) || n > 8)
				return false;
			if (v[i] == '\0')
				return i <= 64;
			first = false;
			n = 0;
			continue;
		}
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (!first && v[i] >= '0' && v[i] <= '9')))
			return false;
		n++;
	}
}

/* role word w (not "none") into the set *mask; -1 when it is no role */
static int
roles_add(int *mask, const char *w, size_t len)
{
	size_t	k;

	for (k = 0; k < nitems(role_opts); k++) {
		const char	*name = muc_role_name(role_opts[k]);

		if (strlen(name) == len && memcmp(name, w, len) == 0) {
			*mask |= MUC_ROLE_BIT(role_opts[k]);
			return 0;
		}
	}
	return -1;
}

/* one submitted value into c; -1 when it is not one the field takes */
static int
field_set(struct muc_cfg *c, const struct cfg_field *f, const char *v)
{
	void	*p = cfg_at(c, f);
	char	*end;
	long	 l;
	size_t	 k;
	int	 mask = 0;

	switch (f->type) {
	case CF_BOOL:
		if ((l = xdata_bool(v)) == -1)
			return -1;
		*(bool *)p = l == 1;
		return 0;
	case CF_PWFLAG:
		/* only checked: form_apply clears the password on false */
		return xdata_bool(v) == -1 ? -1 : 0;
	case CF_ROLES:
		/* space-separated (the record); a form's values one by one */
		for (; *v != '\0'; v = *end == ' ' ? end + 1 : end) {
			if ((end = strchr(v, ' ')) == NULL)
				end = strchr(v, '\0');
			if (roles_add(&mask, v, (size_t)(end - v)) == -1)
				return -1;
		}
		*(int *)p = mask;
		return 0;
	case CF_LANG:
		if (!lang_ok(v))
			return -1;
		/* FALLTHROUGH */
	case CF_TEXT:
	case CF_SECRET:
		if (strlen(v) > router.conf.muc_config_max_size)
			return -1;
		free(*(char **)p);
		*(char **)p = xstrdup(v);
		return 0;
	case CF_INT:
		l = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || l < 0 || l > 1000000)
			return -1;
		*(int *)p = (int)l;
		return 0;
	case CF_LIST:
		for (k = 0; pm_words[k] != NULL; k++)
			if (strcmp(v, pm_words[k]) == 0) {
				*(int *)p = (int)k;
				return 0;
			}
		return -1;
	case CF_WHOIS:
		if (strcmp(v, "anyone") != 0 && strcmp(v, "moderators") != 0)
			return -1;
		*(bool *)p = strcmp(v, "anyone") == 0;
		return 0;
	}
	return -1;
}

static void
cfg_copy(struct muc_cfg *to, const struct muc_cfg *from)
{
	*to = *from;
	to->name = from->name != NULL ? xstrdup(from->name) : NULL;
	to->desc = from->desc != NULL ? xstrdup(from->desc) : NULL;
	to->password = from->password != NULL ? xstrdup(from->password) :
	    NULL;
	to->lang = from->lang != NULL ? xstrdup(from->lang) : NULL;
}

/* a submitted list-multi of roles into c: -1 on a value no role */
static int
roles_set(struct muc_cfg *c, const struct cfg_field *f,
    const struct xdata_field *df)
{
	int	mask = 0;
	size_t	i;

	for (i = 0; i < df->nvalues; i++)
		if (roles_add(&mask, df->values[i], strlen(df->values[i])) ==
		    -1)
			return -1;
	*(int *)cfg_at(c, f) = mask;
	return 0;
}

/*
 * 10.2: a submitted form, applied whole or not at all: an unknown field
 * is bad-request, a value a field cannot take not-acceptable.
 */
static int
form_apply(struct muc_req *q, struct xnode *x)
{
	struct muc_cfg		 c;
	struct xdata		 d;
	const char		*why;
	size_t			 i, k;
	bool			 pw_off = false;

	if (xdata_parse(q->a, x, &d, &why) == -1 ||
	    (d.form_type != NULL && strcmp(d.form_type, NS_MUC_CONFIG) != 0)) {
		muc_error(q, XERR_BAD_REQUEST, why);
		return -1;
	}
	cfg_copy(&c, &q->room->cfg);
	for (i = 0; i < d.nfields; i++) {
		const struct xdata_field *df = &d.fields[i];

		for (k = 0; k < nitems(cfg_fields); k++)
			if (strcmp(cfg_fields[k].var, df->var) == 0)
				break;
		if (k == nitems(cfg_fields)) {
			muc_cfg_clear(&c);
			muc_error(q, XERR_BAD_REQUEST, "unknown field");
			return -1;
		}
		if (cfg_fields[k].type == CF_ROLES) {
			if (roles_set(&c, &cfg_fields[k], df) == -1) {
				muc_cfg_clear(&c);
				muc_error(q, XERR_NOT_ACCEPTABLE, df->var);
				return -1;
			}
			continue;
		}
		if (df->nvalues == 0 && (cfg_fields[k].type == CF_TEXT ||
		    cfg_fields[k].type == CF_SECRET ||
		    cfg_fields[k].type == CF_LANG)) {
			(void)field_set(&c, &cfg_fields[k], "");
			continue;
		}
		if (df->nvalues != 1 ||
		    field_set(&c, &cfg_fields[k], df->values[0]) == -1) {
			muc_cfg_clear(&c);
			muc_error(q, XERR_NOT_ACCEPTABLE, df->var);
			return -1;
		}
		if (cfg_fields[k].type == CF_PWFLAG)
			pw_off = xdata_bool(df->values[0]) != 1;
	}
	if (pw_off) {
		free(c.password);
		c.password = NULL;
	}
	if (c.history > router.conf.muc_history)
		c.history = router.conf.muc_history;
	muc_cfg_clear(&q->room->cfg);
	q->room->cfg = c;
	return 0;
}

/*
 * 10.2.1: the occupants are told the configuration changed (104), and
 * whether real JIDs are now shown to all (172) or not (173).
 */
static void
config_changed(struct muc_room *r, bool was_nonanon)
{
	struct buf	b;

	buf_init(&b, LINK_STANZA_MAX);
	if ((buf_puts(&b, "<message type='groupchat' from='") |
	    xml_escape(&b, r->jid, strlen(r->jid)) |
	    buf_puts(&b, "'><x xmlns='" NS_MUC_USER "'><status code='104'/>"))
	    == 0 && (r->cfg.nonanon == was_nonanon || buf_printf(&b,
	    "<status code='%d'/>", r->cfg.nonanon ? 172 : 173) == 0) &&
	    buf_puts(&b, "</x></message>") == 0)
		muc_broadcast(r, KIND_MESSAGE, MTYPE_GROUPCHAT, r->jid,
		    buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
}

/* 9.9: a room made members-only: those not members leave it (322) */
static void
members_only_now(struct muc_room *r)
{
	static const int	 c322[] = { 322 };
	struct muc_occ		*p, *next;

	/* the owner who changed it stays: the room does too */
	for (p = r->occ; p != NULL; p = next) {
		next = p->next;
		if (muc_aff(r, p->bare) < AFF_MEMBER)
			muc_occ_remove(r, p, c322, 1, NULL, NULL);
	}
}

/*
 * muc#roomconfig_presencebroadcast changed: the occupants whose role is
 * now shown appear to the others, those now hidden leave their view
 */
static void
presence_reshow(struct muc_room *r)
{
	struct muc_occ	*p;

	for (p = r->occ; p != NULL; p = p->next)
		if (p->shown != ((r->cfg.pbroadcast &
		    MUC_ROLE_BIT(p->role)) != 0))
			muc_occ_broadcast(r, p, NULL, 0, NULL, NULL);
}

void
muc_owner_iq(struct muc_req *q, struct xnode *qq)
{
	struct xnode	*x, *d;
	bool		 was_locked = q->room->locked, was_persistent;
	bool		 was_nonanon, was_members;
	int		 was_pbroadcast;

	if (muc_aff(q->room, q->bare) != AFF_OWNER) {
		muc_error(q, XERR_FORBIDDEN, NULL);	/* 10.1.2 */
		return;
	}
	if (q->type == IQ_GET) {
		iq_make_result(q->el, q->a);
		form_build(q, xnode_add(q->a, q->el, NS_MUC_OWNER, "query"));
		muc_send_tree(q->el);
		return;
	}
	if ((d = xnode_child(qq, NS_MUC_OWNER, "destroy")) != NULL) {
		/* 10.9 */
		struct muc_room	*r = q->room;

		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
		muc_room_destroy(r, xnode_attr(d, "jid"), muc_text(q->a, d,
		    NS_MUC_OWNER, "reason"));
		return;
	}
	if ((x = xnode_child(qq, NS_XDATA, "x")) == NULL) {
		muc_error(q, XERR_BAD_REQUEST, NULL);
		return;
	}
	was_persistent = q->room->cfg.persistent;
	if (xnode_attr(x, "type") != NULL &&
	    strcmp(xnode_attr(x, "type"), "cancel") == 0) {
		/* 10.1.3: a cancelled creation destroys the room */
		iq_make_result(q->el, q->a);
		muc_send_tree(q->el);
		if (was_locked)
			muc_room_destroy(q->room, NULL, NULL);
		return;
	}
	/* 10.1.2: an empty submission is an instant room, as configured */
	was_nonanon = q->room->cfg.nonanon;
	was_members = q->room->cfg.members_only;
	was_pbroadcast = q->room->cfg.pbroadcast;
	if (form_apply(q, x) == -1)
		return;
	q->room->locked = false;
	iq_make_result(q->el, q->a);
	muc_send_tree(q->el);
	if (!was_locked)
		config_changed(q->room, was_nonanon);
	if (was_pbroadcast != q->room->cfg.pbroadcast)
		presence_reshow(q->room);
	if (q->room->cfg.persistent || was_persistent)
		muc_room_save(q->room);
	if (!q->room->cfg.persistent && was_persistent)
		muc_room_unsave(q->room);
	/* last: a temporary room may go with the occupants it removes */
	if (!was_members && q->room->cfg.members_only)
		members_only_now(q->room);
}

/* XEP-0045 6.4 and XEP-0128: the room's identity, features and form */
void
muc_disco_info(struct muc_req *q, struct xnode *qq)
{
	struct muc_room	*r = q->room;
	struct xnode	*n, *x;
	char		 num[24];
	const char	*feats[20];
	size_t		 nf = 0, i;

	if (xnode_attr(qq, "node") != NULL) {
		muc_error(q, XERR_ITEM_NOT_FOUND, NULL);
		return;
	}
	feats[nf++] = NS_MUC;
	feats[nf++] = r->cfg.persistent ? "muc_persistent" : "muc_temporary";
	feats[nf++] = r->cfg.public ? "muc_public" : "muc_hidden";
	feats[nf++] = r->cfg.members_only ? "muc_membersonly" : "muc_open";
	feats[nf++] = r->cfg.moderated ? "muc_moderated" : "muc_unmoderated";
	feats[nf++] = r->cfg.nonanon ? "muc_nonanonymous" :
	    "muc_semianonymous";
	feats[nf++] = r->cfg.password != NULL && *r->cfg.password != '\0' ?
	    "muc_passwordprotected" : "muc_unsecured";
	feats[nf++] = NS_SID;
	feats[nf++] = NS_OCCUPANT_ID;
	feats[nf++] = NS_MODERATE;
	/* XEP-0424 2: an author's retraction is checked, applied and kept */
	feats[nf++] = NS_RETRACT;
	feats[nf++] = NS_PING;
	/* XEP-0410 3.3: the room answers an occupant's self-ping itself */
	feats[nf++] = NS_MUC "#self-ping-optimization";
	/* XEP-0045 muc#stable_id: a message's id is reflected as sent */
	feats[nf++] = NS_MUC "#stable_id";
	feats[nf++] = NS_REGISTER;
	feats[nf++] = "vcard-temp";
	feats[nf++] = NS_DISCO_INFO;
	if (router.conf.archive)
		feats[nf++] = NS_MAM;
	iq_make_result(q->el, q->a);
	qq = xnode_add(q->a, q->el, NS_DISCO_INFO, "query");
	n = xnode_add(q->a, qq, NS_DISCO_INFO, "identity");
	xnode_set_attr(q->a, n, "category", "conference");
	xnode_set_attr(q->a, n, "type", "text");
	xnode_set_attr(q->a, n, "name", r->cfg.name != NULL &&
	    *r->cfg.name != '\0' ? r->cfg.name : r->node);
	for (i = 0; i < nf; i++) {
		n = xnode_add(q->a, qq, NS_DISCO_INFO, "feature");
		xnode_set_attr(q->a, n, "var", feats[i]);
	}
	x = xdata_new(q->a, qq, "result", NS_MUC_INFO);
	xdata_add(q->a, x, "muc#roominfo_description", NULL, NULL,
	    r->cfg.desc != NULL ? r->cfg.desc : "");
	xdata_add(q->a, x, "muc#roominfo_subject", NULL, NULL,
	    r->subject != NULL ? r->subject : "");
	snprintf(num, sizeof(num), "%zu", r->nocc);
	xdata_add(q->a, x, "muc#roominfo_occupants", NULL, NULL, num);
	xdata_add(q->a, x, "muc#roominfo_changesubject", NULL, NULL,
	    r->cfg.change_subject ? "1" : "0");
	if (r->photo[0] != '\0') {
		/* XEP-0486 3.3, 5.1: one value per PHOTO */
		char	*h, *sp, *save = NULL;

		n = xdata_add(q->a, x, "muc#roominfo_avatarhash", "text-multi",
		    "Avatar hash", NULL);
		h = arena_strdup(q->a, r->photo);
		for (sp = strtok_r(h, " ", &save); sp != NULL;
		    sp = strtok_r(NULL, " ", &save))
			xdata_add_value(q->a, n, sp);
	}
	if (r->cfg.lang != NULL && *r->cfg.lang != '\0')
		xdata_add(q->a, x, "muc#roominfo_lang", NULL, NULL,
		    r->cfg.lang);
	muc_send_tree(q->el);
}

/*
 * The SHA-1 of each PHOTO's image (XEP-0486 3.4: of the decoded BINVAL),
 * hex, space-separated, "" when it has none (XEP-0486 5.1: all of them)
 */
static void
photo_hash(struct muc_room *r, const struct xnode *card, struct arena *a)
{
	const struct xnode	*ph, *bin;
	struct buf		 img;
	unsigned char		 md[20];
	char			*t, hex[41];
	int			 n = 0;

	r->photo[0] = '\0';
	for (ph = xnode_child(card, "vcard-temp", "PHOTO"); ph != NULL &&
	    n < MUC_PHOTOS_MAX; ph = xnode_next(ph, "vcard-temp", "PHOTO")) {
		if ((bin = xnode_child(ph, "vcard-temp", "BINVAL")) == NULL)
			continue;
		t = xnode_text(a, bin);
		buf_init(&img, strlen(t) + 1);
		if (base64_decode(&img, t, strlen(t)) == 0 &&
		    buf_avail(&img) > 0 && gnutls_hash_fast(GNUTLS_DIG_SHA1,
		    buf_rptr(&img), buf_avail(&img), md) == 0) {
			hex_encode(hex, md, sizeof(md));
			snprintf(r->photo + strlen(r->photo),
			    sizeof(r->photo) - strlen(r->photo), "%s%s",
			    n++ > 0 ? " " : "", hex);
		}
		buf_clear(&img);
	}
}

void
muc_avatar_presence(struct muc_room *r, const char *to)
{
	struct buf	 b;
	size_t		 n = strcspn(r->photo, " ");

	/* XEP-0153 3.2: the first image's hash; an empty photo: none */
	buf_init(&b, LINK_STANZA_MAX);
	if ((buf_puts(&b, "<presence from='") |
	    xml_escape(&b, r->jid, strlen(r->jid)) |
	    buf_puts(&b, "'><x xmlns='vcard-temp:x:update'><photo>") |
	    buf_append(&b, r->photo, n) |
	    buf_puts(&b, "</photo></x></presence>")) == 0) {
		if (to != NULL)
			muc_send(KIND_PRESENCE, PRES_AVAILABLE, r->jid,
			    buf_rptr(&b), buf_avail(&b), to);
		else
			muc_broadcast(r, KIND_PRESENCE, PRES_AVAILABLE, r->jid,
			    buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
}

/* XEP-0054 on the room JID; XEP-0486: the owner sets the room's avatar */
void
muc_vcard_iq(struct muc_req *q, struct xnode *card)
{
	struct buf	b;

	if (q->type == IQ_GET) {
		iq_make_result(q->el, q->a);
		if (q->room->vcard == NULL ||
		    (card = doc_parse(q->a, q->room->vcard,
		    strlen(q->room->vcard))) == NULL)
			xnode_add(q->a, q->el, "vcard-temp", "vCard");
		else
			xnode_append(q->el, card);
		muc_send_tree(q->el);
		return;
	}
	if (muc_aff(q->room, q->bare) != AFF_OWNER) {
		muc_error(q, XERR_FORBIDDEN, NULL);
		return;
	}
	buf_init(&b, router.conf.vcard_max_size);
	if (xnode_write(&b, card, "") == -1) {
		buf_clear(&b);
		muc_error(q, XERR_NOT_ACCEPTABLE, "vCard too large");
		return;
	}
	free(q->room->vcard);
	q->room->vcard = xstrndup(buf_rptr(&b), buf_avail(&b));
	buf_clear(&b);
	photo_hash(q->room, card, q->a);
	muc_room_save(q->room);
	iq_make_result(q->el, q->a);
	muc_send_tree(q->el);
	/*
	 * XEP-0486 3.2: the occupants are told the configuration changed
	 * (104), and, as clients of XEP-0153 style expect (5.2), the new
	 * hash (or none) in a presence from the room's bare JID
	 */
	config_changed(q->room, q->room->cfg.nonanon);
	muc_avatar_presence(q->room, NULL);
}

/* ---- the durable record ------------------------------------------------- */

/*
 * A persistent room is one document (DOC_MUC, the room as the account,
 * its service as the domain): <room/> with the configuration as the
 * form's values (one attribute per field of cfg_fields, read back with
 * field_set), the subject, the affiliations, the registered nicks and
 * the vCard. Written whole at each change: rooms change rarely.
 */
#define NS_ROOM_REC	"urn:parley:muc:0"

struct rec_job {
	struct buf	*b;
	const char	*el;
	bool		 aff;
	int		 rc;
};

static int
rec_attr(struct buf *b, const char *name, const char *v)
{
	return buf_printf(b, " %s='", name) | xml_escape(b, v, strlen(v)) |
	    buf_puts(b, "'");
}

static int
rec_pair(const void *key, size_t len, void *val, void *arg)
{
	struct rec_job	*job = arg;
	struct buf	*b = job->b;

	job->rc |= buf_printf(b, "<%s j='", job->el) |
	    xml_escape(b, key, len) | buf_puts(b, "'");
	job->rc |= rec_attr(b, "v", job->aff ? muc_aff_name((int)(intptr_t)
	    val - 1) : (const char *)val) | buf_puts(b, "/>");
	return job->rc;
}

/* a set of roles as the record's space-separated words */
static void
roles_words(int mask, char *out, size_t outlen)
{
	size_t	k;

	out[0] = '\0';
	for (k = 0; k < nitems(role_opts); k++)
		if (mask & MUC_ROLE_BIT(role_opts[k]))
			snprintf(out + strlen(out), outlen - strlen(out),
			    "%s%s", out[0] != '\0' ? " " : "",
			    muc_role_name(role_opts[k]));
}

static int
rec_build(struct muc_room *r, struct buf *b)
{
	struct rec_job	 job = { b, "a", true, 0 };
	struct muc_cfg	*c = &r->cfg;
	char		 n[24], rn[64], salt[MUC_SALT_HEX + 1];
	size_t		 i;

	muc_salt_format(r, salt);
	job.rc = buf_puts(b, "<room xmlns='" NS_ROOM_REC "'") |
	    rec_attr(b, "node", r->node) | rec_attr(b, "creator", r->creator) |
	    rec_attr(b, "salt", salt);
	if (r->subject != NULL)
		job.rc |= rec_attr(b, "subject", r->subject) |
		    rec_attr(b, "by", r->subject_by);
	for (i = 0; i < nitems(cfg_fields); i++) {
		const struct cfg_field	*f = &cfg_fields[i];
		void			*v = cfg_at(c, f);
		const char		*s = NULL;

		switch (f->type) {
		case CF_PWFLAG:
			continue;	/* derived: the password is kept */
		case CF_BOOL:
			s = *(bool *)v ? "1" : "0";
			break;
		case CF_TEXT:
		case CF_SECRET:
		case CF_LANG:
			s = *(char **)v != NULL ? *(char **)v : "";
			break;
		case CF_ROLES:
			roles_words(*(int *)v, rn, sizeof(rn));
			s = rn;
			break;
		case CF_INT:
			snprintf(n, sizeof(n), "%d", *(int *)v);
			s = n;
			break;
		case CF_LIST:
			s = pm_words[*(int *)v];
			break;
		case CF_WHOIS:
			s = *(bool *)v ? "anyone" : "moderators";
			break;
		}
		job.rc |= rec_attr(b, f->var + strlen("muc#roomconfig_"), s);
	}
	job.rc |= buf_puts(b, ">");
	map_foreach(r->aff, rec_pair, &job);
	job.el = "n";
	job.aff = false;
	map_foreach(r->nicks, rec_pair, &job);
	if (r->vcard != NULL)
		job.rc |= buf_puts(b, r->vcard);
	return job.rc | buf_puts(b, "</room>");
}

void
muc_room_save(struct muc_room *r)
{
	struct buf	b;

	if (!r->cfg.persistent || r->locked)
		return;
	buf_init(&b, router.conf.max_stanza_size);
	if (rec_build(r, &b) == -1)
		log_warnx("muc: room %s: its record passes max-stanza-size, "
		    "not saved", log_escs(r->jid));
	else if (store_doc_put(router.store, DOC_MUC, r->node, r->service,
	    "", buf_rptr(&b), buf_avail(&b)) == -1)
		log_warn("muc: room %s not saved", log_escs(r->jid));
	buf_clear(&b);
}

void
muc_room_unsave(struct muc_room *r)
{
	if (store_doc_put(router.store, DOC_MUC, r->node, r->service, "",
	    NULL, 0) == -1 && errno != ENOENT)
		log_warn("muc: room %s record not removed", log_escs(r->jid));
}

int
muc_room_record(struct muc_room *r, struct buf *b)
{
	return rec_build(r, b);
}

struct muc_room *
muc_room_from_record(const char *service, const char *val, size_t len)
{
	const char	*node, *v;
	struct arena	 a;
	struct xnode	*el, *c;
	struct muc_room	*r;
	char		 var[64];
	size_t		 i;
	int		 aff;

	arena_init(&a);
	if ((el = doc_parse(&a, val, len)) == NULL ||
	    strcmp(el->ns, NS_ROOM_REC) != 0 ||
	    (node = xnode_attr(el, "node")) == NULL ||
	    muc_room_find(arena_printf(&a, "%s@%s", node, service)) != NULL) {
		arena_free(&a);
		return NULL;
	}
	r = muc_room_new(node, service, xnode_attr(el, "creator"));
	/* a record from before the salt was kept: a new one (its ids change) */
	if ((v = xnode_attr(el, "salt")) != NULL)
		(void)muc_salt_parse(r, v);
	for (i = 0; i < nitems(cfg_fields); i++) {
		snprintf(var, sizeof(var), "%s", cfg_fields[i].var +
		    strlen("muc#roomconfig_"));
		if ((v = xnode_attr(el, var)) != NULL)
			(void)field_set(&r->cfg, &cfg_fields[i], v);
	}
	if ((v = xnode_attr(el, "subject")) != NULL) {
		r->subject = xstrdup(v);
		v = xnode_attr(el, "by");
		r->subject_by = xstrdup(v != NULL ? v : "");
	}
	for (c = xnode_child(el, NS_ROOM_REC, "a"); c != NULL;
	    c = xnode_next(c, NS_ROOM_REC, "a"))
		if (xnode_attr(c, "j") != NULL &&
		    (aff = muc_aff_find(xnode_attr(c, "v"))) >= 0 &&
		    aff != AFF_NONE)
			map_put(r->aff, xnode_attr(c, "j"),
			    (void *)(intptr_t)(aff + 1));
	for (c = xnode_child(el, NS_ROOM_REC, "n"); c != NULL;
	    c = xnode_next(c, NS_ROOM_REC, "n"))
		if (xnode_attr(c, "j") != NULL && xnode_attr(c, "v") != NULL)
			free(map_put(r->nicks, xnode_attr(c, "j"),
			    xstrdup(xnode_attr(c, "v"))));
	if ((c = xnode_child(el, "vcard-temp", "vCard")) != NULL) {
		struct buf	b;

		buf_init(&b, len + 1);
		if (xnode_write(&b, c, "") == 0)
			r->vcard = xstrndup(buf_rptr(&b), buf_avail(&b));
		buf_clear(&b);
		photo_hash(r, c, &a);
	}
	arena_free(&a);
	return r;
}

static int
load_one(const char *val, size_t len, void *arg)
{
	const char	*service = arg;
	struct muc_room	*r;

	if ((r = muc_room_from_record(service, val, len)) == NULL)
		log_warnx("muc: a room record of %s is unreadable", service);
	else
		r->cfg.persistent = true;
	return 0;
}

/* at start: every persistent room of every service, empty */
void
muc_load(void)
{
	size_t	i;

	for (i = 0; i < router.conf.nhosts; i++) {
		const struct conf_host	*h = &router.conf.hosts[i];

		if (!h->muc || h->muc_name == NULL)
			continue;
		if (store_doc_walk(router.store, DOC_MUC, h->muc_name,
		    load_one, h->muc_name) == -1)
			log_warn("muc: the rooms of %s", h->muc_name);
		log_info("muc: %s has %zu persistent rooms", h->muc_name,
		    muc_room_count(h->muc_name, NULL, NULL));
	}
}
