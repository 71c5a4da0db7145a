/*
 * Control requests from parleyctl: account changes go through the router
 * while it runs, so storage has one writer and live sessions learn of a
 * deleted account or a changed password at once. Every change is
 * committed by the store before the reply is queued.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/credwire.h"
#include "../common/jid.h"
#include "../common/link.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../storage/store.h"
#include "ctl.h"

struct ctl_list {
	struct link	*l;
	uint64_t	 sid;
	char		*buf;	/* CTL_LIST_CHUNK bytes */
	size_t		 len;
	bool		 failed;	/* the output queue refused a chunk */
};

int
ctl_reply(struct link *l, uint64_t sid, uint16_t flags, int status,
    const char *text, size_t len)
{
	struct link_out	m;

	link_begin(&m, l, LINK_CTL_REPLY, sid);
	link_set_flags(&m, flags);
	link_put_u32(&m, link_ctl_status(status));
	link_put_strn(&m, text, len);
	return link_end(&m);
}

static int
ctl_reply_str(struct link *l, uint64_t sid, int status, const char *text)
{
	return ctl_reply(l, sid, 0, status, text, strlen(text));
}

/* short reason for the reply text; parleyctl words the message itself */
static const char *
ctl_reason(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case EEXIST:
		return "already exists";
	case ENOENT:
		return "no such account";
	case ENOSPC:
		return "storage is full (raise lmdb-mapsize)";
	default:
		return strerror(err);
	}
}

/* a bare JID with a node: accounts have no resource and no bare domain */
static int
ctl_parse_bare(struct jid *j, const char *s)
{
	if (jid_parse(j, s) == -1)
		return -1;
	if (j->node == NULL || j->resource != NULL) {
		jid_clear(j);
		return -1;
	}
	return 0;
}

/* ADDUSER and PASSWD: str jid, then the credentials */
static int
ctl_setcreds(struct link *l, const struct link_hdr *h, const char *payload,
    struct store *st)
{
	struct link_in		 in;
	struct scram_creds	 cr;
	struct jid		 j;
	char			 s[JID_STR_MAX + 1];
	const char		*op;
	int			 rc, err = 0;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, s, sizeof(s));
	cred_get(&in, &cr);
	if (!link_in_done(&in))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (ctl_parse_bare(&j, s) == -1) {
		explicit_bzero(&cr, sizeof(cr));
		return ctl_reply_str(l, h->sid, EINVAL,
		    "not a bare JID (node@domain)");
	}
	if (h->type == LINK_CTL_ADDUSER) {
		op = "adduser";
		rc = store_account_add(st, j.node, j.domain, &cr);
	} else {
		op = "passwd";
		rc = store_account_set(st, j.node, j.domain, &cr);
	}
	if (rc == -1)
		err = errno;
	explicit_bzero(&cr, sizeof(cr));
	log_info("ctl: %s user=%s@%s result=%s", op, log_escs(j.node),
	    log_escs(j.domain), err == 0 ? "ok" : ctl_reason(err));
	if (err == 0 && h->type == LINK_CTL_PASSWD)
		router_user_changed(j.node, j.domain);
	jid_clear(&j);
	return ctl_reply_str(l, h->sid, err, ctl_reason(err));
}

/*
 * DELUSER, DISABLE, ENABLE: str jid. The router deletes
 * (router_account_remove). A disabled account keeps its data and may not
 * log in (the c2s answers <account-disabled/>, RFC 6120 6.5.1). The
 * sessions of a deleted or disabled account end now.
 */
static int
ctl_account(struct link *l, const struct link_hdr *h, const char *payload,
    struct store *st)
{
	struct link_in	 in;
	struct jid	 j;
	char		 s[JID_STR_MAX + 1];
	const char	*op;
	int		 rc, err = 0;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, s, sizeof(s));
	if (!link_in_done(&in))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (ctl_parse_bare(&j, s) == -1)
		return ctl_reply_str(l, h->sid, EINVAL,
		    "not a bare JID (node@domain)");
	switch (h->type) {
	case LINK_CTL_DELUSER:
		op = "deluser";
		rc = router_account_remove(j.node, j.domain);
		break;
	case LINK_CTL_DISABLE:
		op = "disable";
		rc = store_account_disable(st, j.node, j.domain, true);
		break;
	default:
		op = "enable";
		rc = store_account_disable(st, j.node, j.domain, false);
		break;
	}
	if (rc == -1)
		err = errno;
	log_info("ctl: %s user=%s@%s result=%s", op, log_escs(j.node),
	    log_escs(j.domain), err == 0 ? "ok" : ctl_reason(err));
	if (err == 0 && h->type != LINK_CTL_ENABLE)
		router_user_changed(j.node, j.domain);
	jid_clear(&j);
	return ctl_reply_str(l, h->sid, err, ctl_reason(err));
}

/*
 * ROLE: str jid, str role (NULL: show). Nothing to tell the sessions:
 * router/roles.c reads the role at each decision. The reply's text is
 * the stored role's name.
 */
static int
ctl_role(struct link *l, const struct link_hdr *h, const char *payload,
    struct store *st)
{
	struct link_in	 in;
	struct jid	 j;
	char		 s[JID_STR_MAX + 1], name[16];
	const char	*rn;
	size_t		 rlen;
	enum role	 r = ROLE_MEMBER;
	int		 rc, err = 0;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, s, sizeof(s));
	link_get_strn(&in, &rn, &rlen);
	if (!link_in_done(&in))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (rn != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)rlen, rn);
		if (rlen >= sizeof(name) || memchr(rn, '\0', rlen) != NULL ||
		    role_parse(name, &r) == -1)
			return ctl_reply_str(l, h->sid, EINVAL,
			    "unknown role (admin, member or limited)");
	}
	if (ctl_parse_bare(&j, s) == -1)
		return ctl_reply_str(l, h->sid, EINVAL,
		    "not a bare JID (node@domain)");
	if (rn != NULL)
		rc = store_account_role_set(st, j.node, j.domain, r);
	else
		rc = store_account_role_get(st, j.node, j.domain, &r);
	if (rc == -1)
		err = errno;
	if (rn != NULL)
		log_info("ctl: role user=%s@%s role=%s result=%s",
		    log_escs(j.node), log_escs(j.domain), role_name(r),
		    err == 0 ? "ok" : ctl_reason(err));
	jid_clear(&j);
	return ctl_reply_str(l, h->sid, err, err == 0 ? role_name(r) :
	    ctl_reason(err));
}

static int
ctl_list_cb(const char *node, const char *domain, void *arg)
{
	struct ctl_list	*cl = arg;
	size_t		 n = strlen(node) + 1 + strlen(domain) + 1;

	if (n > CTL_LIST_CHUNK)
		return 0;	/* cannot happen: keys are far shorter */
	if (cl->len + n > CTL_LIST_CHUNK) {
		/* a reply with the rest always follows, so flag this one */
		if (ctl_reply(cl->l, cl->sid, LINK_CTL_MORE, 0, cl->buf,
		    cl->len) == -1) {
			cl->failed = true;
			return 1;
		}
		cl->len = 0;
	}
	snprintf(cl->buf + cl->len, CTL_LIST_CHUNK - cl->len + 1, "%s@%s\n",
	    node, domain);
	cl->len += n;
	return 0;
}

/* LIST: str domain (NULL: every domain) */
static int
ctl_list(struct link *l, const struct link_hdr *h, const char *payload,
    struct store *st)
{
	struct link_in	 in;
	struct ctl_list	 cl;
	const char	*s;
	size_t		 len;
	char		 raw[JID_PART_MAX + 1], domain[JID_PART_MAX + 1];
	int		 rc, err = 0;

	link_in_init(&in, payload, h->len);
	link_get_strn(&in, &s, &len);
	if (!link_in_done(&in))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (s != NULL) {
		if (len > JID_PART_MAX || memchr(s, '\0', len) != NULL)
			return link_fail(l, "bad %s", link_msg_name(h->type));
		memcpy(raw, s, len);
		raw[len] = '\0';
		if (jid_nameprep(raw, domain) == -1)
			return ctl_reply_str(l, h->sid, EINVAL,
			    "not a valid domain");
	}

	memset(&cl, 0, sizeof(cl));
	cl.l = l;
	cl.sid = h->sid;
	/* one spare byte for the NUL snprintf writes */
	cl.buf = xmalloc(CTL_LIST_CHUNK + 1);
	if (store_account_list(st, s != NULL ? domain : NULL, ctl_list_cb,
	    &cl) == -1)
		err = errno;
	if (cl.failed) {
		free(cl.buf);
		return -1;	/* the link is already failed */
	}
	/* the last reply carries the status; partial lists end in an error */
	if (err != 0)
		rc = ctl_reply_str(l, h->sid, err, ctl_reason(err));
	else
		rc = ctl_reply(l, h->sid, 0, 0, cl.buf, cl.len);
	free(cl.buf);
	return rc;
}

/* parleyctl drain WORKER [GRACE]: str worker (decimal), u32 grace */
static int
ctl_drain(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	char		 worker[8];
	uint64_t	 n = 0;
	uint32_t	 grace;
	size_t		 i;

	link_in_init(&in, payload, h->len);
	link_get_str(&in, worker, sizeof(worker));
	link_get_u32(&in, &grace);
	if (!link_in_done(&in))
		return -1;
	for (i = 0; worker[i] >= '0' && worker[i] <= '9' && i < 5; i++)
		n = n * 10 + (uint64_t)(worker[i] - '0');
	if (worker[i] != '\0' || n < 1 || n > LINK_INSTANCE_MAX ||
	    grace > CTL_DRAIN_GRACE_MAX)
		return ctl_reply_str(l, h->sid, EINVAL,
		    "a worker is 1-65535, a grace 0-3600 seconds");
	if (rlink_drain((uint32_t)n, grace) == -1)
		return ctl_reply_str(l, h->sid, EINVAL,
		    "no such c2s connected");
	return ctl_reply_str(l, h->sid, 0, "draining");
}

/* parleyctl restart router: str what */
static int
ctl_restart(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	char		 what[16];

	link_in_init(&in, payload, h->len);
	link_get_str(&in, what, sizeof(what));
	if (!link_in_done(&in))
		return -1;
	if (strcmp(what, "router") != 0)
		return ctl_reply_str(l, h->sid, EINVAL, "only the router "
		    "restarts so (a c2s worker: parleyctl drain WORKER)");
	if (restart_begin() == -1)
		return ctl_reply_str(l, h->sid, EINVAL,
		    "a restart is under way");
	return ctl_reply_str(l, h->sid, 0, "restarting");
}

int
ctl_frame(struct link *l, const struct link_hdr *h, const char *payload,
    struct store *st)
{
	switch (h->type) {
	case LINK_CTL_ADDUSER:
	case LINK_CTL_PASSWD:
		return ctl_setcreds(l, h, payload, st);
	case LINK_CTL_DELUSER:
	case LINK_CTL_DISABLE:
	case LINK_CTL_ENABLE:
		return ctl_account(l, h, payload, st);
	case LINK_CTL_LIST:
		return ctl_list(l, h, payload, st);
	case LINK_CTL_SESSIONS:
	case LINK_CTL_KICK:
	case LINK_CTL_STATS:
	case LINK_CTL_ABOUT:
		return ctlinfo_frame(l, h, payload);
	case LINK_CTL_DRAIN:
		return ctl_drain(l, h, payload);
	case LINK_CTL_ROLE:
		return ctl_role(l, h, payload, st);
	case LINK_CTL_INVITE:
		return invite_ctl(l, h, payload);
	case LINK_CTL_RESTART:
		return ctl_restart(l, h, payload);
	default:
		return link_fail(l, "unexpected %s on a control link",
		    link_msg_name(h->type));
	}
}
