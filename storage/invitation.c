/*
 * Invitations on the store: each is a DOC_INVITE document of the
 * pseudo-account INVITE_NODE of its host, keyed by the SHA-256 of the
 * token (the token itself is never stored, so a copy of the database
 * invites nobody); a username an account invitation is for is held by a
 * document of INVITE_RESERVE_NODE. The router (router/invite.c) and
 * parleyctl with the server stopped both come here: one way to make an
 * invitation and its URI.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "../common/jid.h"
#include "../common/log.h"
#include "../common/scram.h"
#include "../common/util.h"
#include "invitation.h"
#include "store_codec.h"

#define INVITE_RAND	16	/* bytes of randomness in a token */

/* the hex SHA-256 of the token: the document's key */
static int
invite_hash(const char *token, char hex[INVITE_HASH_LEN + 1])
{
	unsigned char	md[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token),
	    md) < 0) {
		errno = EIO;
		return -1;
	}
	hex_encode(hex, md, sizeof(md));
	return 0;
}

/* the record: storage/store_codec.c */
int
invitation_put(struct store *st, const char *domain, const struct invite *iv)
{
	char	rec[INVITE_REC_MAX];
	size_t	n;

	if ((n = rec_invite_encode(rec, iv)) == 0) {
		errno = EINVAL;
		return -1;
	}
	return store_doc_put(st, DOC_INVITE, INVITE_NODE, domain, iv->hash,
	    rec, n);
}

const char *
invitation_kind_name(char kind)
{
	switch (kind) {
	case INVITE_ACCOUNT:
		return "account";
	case INVITE_CONTACT:
		return "contact";
	default:
		return "roster";
	}
}

/* XEP-0379 3.2: a token the receiver cannot guess */
static int
token_ok(const char *t)
{
	size_t	i;

	for (i = 0; t[i] != '\0'; i++)
		if (i >= INVITE_TOKEN_MAX || !((t[i] >= 'a' && t[i] <= 'z') ||
		    (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' &&
		    t[i] <= '9') || t[i] == '-' || t[i] == '_'))
			return -1;
	return i > 0 ? 0 : -1;
}

int
invitation_create(struct store *st, const char *domain, const char *creator,
    char kind, uint32_t uses, uint32_t lifetime, const char *username,
    double now, char token[INVITE_TOKEN_MAX + 1], struct invite *iv)
{
	unsigned char	r[INVITE_RAND];

	memset(iv, 0, sizeof(*iv));
	random_bytes(r, sizeof(r));
	hex_encode(token, r, sizeof(r));
	explicit_bzero(r, sizeof(r));
	if (invite_hash(token, iv->hash) == -1)
		return -1;
	iv->kind = kind;
	iv->uses = uses > 0 ? uses : 1;
	iv->expires = lifetime > 0 ? (int64_t)now + lifetime : 0;
	if (creator != NULL)
		snprintf(iv->creator, sizeof(iv->creator), "%s", creator);
	if (username != NULL)
		snprintf(iv->username, sizeof(iv->username), "%s", username);
	if (invitation_put(st, domain, iv) == -1)
		return -1;
	/* XEP-0401 5.2: the name is kept for it until it expires */
	if (username != NULL && store_doc_put(st, DOC_INVITE,
	    INVITE_RESERVE_NODE, domain, username, iv->hash,
	    INVITE_HASH_LEN) == -1) {
		(void)store_doc_put(st, DOC_INVITE, INVITE_NODE, domain,
		    iv->hash, NULL, 0);
		return -1;
	}
	log_info("invite: created kind=%s host=%s creator=%s uses=%" PRIu32
	    " expires=%" PRId64, invitation_kind_name(kind), log_escs(domain),
	    creator != NULL ? log_escs(creator) : "-", iv->uses, iv->expires);
	return 0;
}

int
invitation_find(struct store *st, const char *domain, const char *token,
    double now, struct invite *iv)
{
	char	hash[INVITE_HASH_LEN + 1], *v;
	size_t	len;
	int	rc;

	memset(iv, 0, sizeof(*iv));
	if (token_ok(token) == -1 || invite_hash(token, hash) == -1) {
		errno = ENOENT;
		return -1;
	}
	if (store_doc_get(st, DOC_INVITE, INVITE_NODE, domain, hash, &v,
	    &len) == -1)
		return -1;
	rc = rec_invite_decode(v, len, iv);
	free(v);
	if (rc == -1 || timingsafe_memcmp(iv->hash, hash, sizeof(hash)) != 0) {
		log_warnx("invite: %s: a stored invitation is damaged",
		    log_escs(domain));
		errno = ENOENT;
		return -1;
	}
	if (iv->expires != 0 && (double)iv->expires <= now) {
		(void)store_doc_put(st, DOC_INVITE, INVITE_NODE, domain, hash,
		    NULL, 0);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
invitation_hold(struct store *st, const char *domain, const char *node,
    double now, char hash[INVITE_HASH_LEN + 1], bool *live)
{
	struct invite	 iv;
	char		*v, *r;
	size_t		 len, rlen;

	*live = false;
	hash[0] = '\0';
	if (store_doc_get(st, DOC_INVITE, INVITE_RESERVE_NODE, domain, node,
	    &r, &rlen) == -1)
		return -1;
	if (rlen == INVITE_HASH_LEN) {
		memcpy(hash, r, INVITE_HASH_LEN);
		hash[INVITE_HASH_LEN] = '\0';
	}
	free(r);
	/* a value that is no hash names nothing: the hold is dead */
	if (hash[0] != '\0' && strlen(hash) == INVITE_HASH_LEN &&
	    store_doc_get(st, DOC_INVITE, INVITE_NODE, domain, hash, &v,
	    &len) == 0) {
		*live = rec_invite_decode(v, len, &iv) == 0 &&
		    strcmp(iv.username, node) == 0 && (iv.expires == 0 ||
		    (double)iv.expires > now);
		free(v);
	}
	return 0;
}

int
invitation_uri(char *out, size_t len, const char *domain,
    const struct invite *iv, const char *token)
{
	int	n;

	if (iv->kind != INVITE_ACCOUNT)
		n = snprintf(out, len, "xmpp:%s?roster;preauth=%s%s",
		    iv->creator, token, iv->kind == INVITE_CONTACT ?
		    ";ibr=y" : "");
	else if (iv->username[0] != '\0')
		/* XEP-0401 5.2: the name the account will have */
		n = snprintf(out, len, "xmpp:%s@%s?register;preauth=%s",
		    iv->username, domain, token);
	else
		n = snprintf(out, len, "xmpp:%s?register;preauth=%s", domain,
		    token);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- parleyctl invite ------------------------------------------------- */

struct invite_list {
	char	*buf;
	size_t	 len;
	double	 now;
	bool	 full;
};

static int
list_add(struct invite_list *il, const char *line, int n)
{
	if (n < 0 || il->len + (size_t)n > INVITATION_OUT_MAX) {
		il->full = true;
		return 1;	/* the rest is not shown */
	}
	memcpy(il->buf + il->len, line, (size_t)n);
	il->len += (size_t)n;
	return 0;
}

static int
list_one(const char *name, const char *v, size_t len, void *arg)
{
	struct invite_list	*il = arg;
	struct invite		 iv;
	char			 line[INVITE_REC_MAX + 64];

	(void)name;
	if (rec_invite_decode(v, len, &iv) == -1)
		return 0;
	if (iv.expires != 0 && (double)iv.expires <= il->now)
		return 0;
	return list_add(il, line, snprintf(line, sizeof(line), "%.16s %s "
	    "uses=%" PRIu32 " expires=%" PRId64 " creator=%s%s%s\n", iv.hash,
	    invitation_kind_name(iv.kind), iv.uses, iv.expires,
	    iv.creator[0] != '\0' ? iv.creator : "-",
	    iv.username[0] != '\0' ? " username=" : "", iv.username));
}

/* a held username: "hold NAME HASH16", whether its invitation lives or not */
static int
list_hold(const char *name, const char *v, size_t len, void *arg)
{
	struct invite_list	*il = arg;
	char			 line[JID_PART_MAX + 64];

	return list_add(il, line, snprintf(line, sizeof(line),
	    "hold %s %.16s\n", name, len == INVITE_HASH_LEN ? v : "-"));
}

static int
invitation_list(struct store *st, const char *dom, double now, char *out,
    size_t *len)
{
	struct invite_list	il = { out, 0, now, false };

	if (store_doc_walk_account(st, DOC_INVITE, INVITE_NODE, dom, "",
	    SIZE_MAX, list_one, &il) == -1 || (!il.full &&
	    store_doc_walk_account(st, DOC_INVITE, INVITE_RESERVE_NODE, dom,
	    "", SIZE_MAX, list_hold, &il) == -1))
		return EIO;
	*len = il.len;
	return 0;
}

/* removes the invitation whose token is token on any host */
static int
invitation_revoke(struct store *st, const struct conf *conf, double now,
    const char *token)
{
	struct invite	iv;
	size_t		i;

	for (i = 0; i < conf->nhosts; i++)
		if (invitation_find(st, conf->hosts[i].name, token, now,
		    &iv) == 0)
			return store_doc_put(st, DOC_INVITE, INVITE_NODE,
			    conf->hosts[i].name, iv.hash, NULL, 0);
	errno = ENOENT;
	return -1;
}

static int
text(char *out, size_t *len, int status, const char *s)
{
	*len = strlen(s);
	memcpy(out, s, *len);
	return status;
}

/* the contact of a contact invitation: a bare JID, an account of dom */
static int
contact_check(struct store *st, const char *dom, const char *c,
    char bare[JID_STR_MAX + 1], const char **why)
{
	struct jid		j;
	struct scram_creds	cr;
	int			rc;

	memset(&j, 0, sizeof(j));
	if (jid_parse(&j, c) == -1 || j.node == NULL || j.resource != NULL ||
	    strcmp(j.domain, dom) != 0) {
		if (j.domain != NULL)
			jid_clear(&j);
		*why = "the contact is not a bare JID of that host";
		return EINVAL;
	}
	jid_format(bare, j.node, j.domain, NULL);
	rc = store_account_get(st, j.node, j.domain, &cr);
	explicit_bzero(&cr, sizeof(cr));
	jid_clear(&j);
	if (rc == -1) {
		*why = "no such account";
		return ENOENT;
	}
	return 0;
}

int
invitation_ctl(struct store *st, const struct conf *conf, double now,
    const struct invitation_op *op, char *out, size_t *len)
{
	struct invite	 iv;
	char		 dom[JID_PART_MAX + 1], contact[JID_STR_MAX + 1];
	char		 token[INVITE_TOKEN_MAX + 1];
	const char	*why;
	int		 rc;

	*len = 0;
	if (strcmp(op->op, "revoke") == 0) {
		rc = invitation_revoke(st, conf, now, op->arg);
		log_info("ctl: invite revoke result=%s", rc == 0 ? "ok" :
		    "not found");
		return rc == 0 ? text(out, len, 0, "revoked\n") :
		    text(out, len, ENOENT, "no such invitation");
	}
	if (strcmp(op->op, "list") != 0 && strcmp(op->op, "create") != 0)
		return -1;
	if (jid_nameprep(op->arg, dom) == -1 ||
	    conf_host_find(conf, dom) == NULL)
		return text(out, len, EINVAL, "not a host of this server");
	if (strcmp(op->op, "list") == 0)
		return invitation_list(st, dom, now, out, len);
	if (op->contact != NULL && (rc = contact_check(st, dom, op->contact,
	    contact, &why)) != 0)
		return text(out, len, rc, why);
	if (invitation_create(st, dom, op->contact != NULL ? contact : NULL,
	    op->contact != NULL ? INVITE_CONTACT : INVITE_ACCOUNT, op->uses,
	    op->lifetime, NULL, now, token, &iv) == -1 ||
	    invitation_uri(out, INVITATION_OUT_MAX - 1, dom, &iv,
	    token) == -1) {
		explicit_bzero(token, sizeof(token));
		return text(out, len, EIO, "not stored");
	}
	explicit_bzero(token, sizeof(token));
	*len = strlen(out);
	out[(*len)++] = '\n';	/* invitation_uri left room */
	return 0;
}
