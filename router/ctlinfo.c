/*
 * The operator's view of the running server, for parleyctl: sessions
 * (all, an account's, or one), kick, stats and about. Answers are text,
 * one "name value" or one session per line, in LINK_CTL_REPLY frames of
 * at most CTL_LIST_CHUNK bytes (all but the last flagged LINK_CTL_MORE),
 * so that a server with many sessions never needs one large frame.
 */
#include <sys/stat.h>

#include <ares.h>
#include <errno.h>
#include <expat.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stringprep.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "../common/clock.h"
#include "../common/jid.h"
#include "../common/link.h"
#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "../common/version.h"
#include "ctl.h"
#include "router.h"

#define BAD_JID	"not an account's JID (node@domain[/resource])"

/* replies being written for one request */
struct ctl_text {
	struct link	*l;
	uint64_t	 sid;
	char		*buf;		/* CTL_LIST_CHUNK + 1 bytes */
	size_t		 len;
	bool		 failed;	/* the link refused a chunk */
	int		 n;		/* lines (sessions) written */
};

static void
text_init(struct ctl_text *t, struct link *l, uint64_t sid)
{
	memset(t, 0, sizeof(*t));
	t->l = l;
	t->sid = sid;
	t->buf = xmalloc(CTL_LIST_CHUNK + 1);
}

/* one line; a line longer than a chunk is cut (never: JIDs are short) */
static void __attribute__((format(printf, 2, 3)))
text_line(struct ctl_text *t, const char *fmt, ...)
{
	char	line[2 * JID_STR_MAX + 256];
	va_list	ap;
	int	n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (t->len + (size_t)n > CTL_LIST_CHUNK) {
		if (ctl_reply(t->l, t->sid, LINK_CTL_MORE, 0, t->buf,
		    t->len) == -1) {
			t->failed = true;
			return;
		}
		t->len = 0;
	}
	memcpy(t->buf + t->len, line, (size_t)n);
	t->len += (size_t)n;
	t->n++;
}

/* the last reply: the rest of the text, or err if nothing matched */
static int
text_end(struct ctl_text *t, int err, const char *why)
{
	int	rc;

	if (t->failed)
		rc = -1;	/* the link is failed already */
	else if (err != 0)
		rc = ctl_reply(t->l, t->sid, 0, err, why, strlen(why));
	else
		rc = ctl_reply(t->l, t->sid, 0, 0, t->buf, t->len);
	free(t->buf);
	return rc;
}

static const char *
sess_where(const struct sess *s, char *buf, size_t len)
{
	if (s->rl == NULL)
		snprintf(buf, len, "hibernating");
	else
		snprintf(buf, len, "c2s[%u]", s->rl->instance);
	return buf;
}

static void
sess_line(struct ctl_text *t, const struct sess *s)
{
	char	where[32];

	text_line(t, "%s %s id=%016llx %s priority=%d%s%s", s->full,
	    sess_where(s, where, sizeof(where)), (unsigned long long)s->sid,
	    s->available ? "available" : "unavailable", s->priority,
	    s->sm != NULL ? " sm" : "", s->carbons ? " carbons" : "");
}

static int
sess_line_cb(const void *key, size_t len, void *val, void *arg)
{
	(void)key;
	(void)len;
	sess_line(arg, val);
	return 0;
}

/* the sessions jid names: every one (NULL), an account's, or one */
static int
sess_each(const struct jid *j, void (*fn)(struct sess *, void *), void *arg)
{
	struct sess	*s, *next;
	struct user	*u;
	char		 bare[JID_STR_MAX + 1];
	int		 n = 0;

	jid_format(bare, j->node, j->domain, NULL);
	if ((u = map_get(router.by_bare, bare)) == NULL)
		return 0;
	for (s = u->sessions; s != NULL; s = next) {
		next = s->next;		/* fn may end s */
		if (j->resource != NULL &&
		    strcmp(strchr(s->full, '/') + 1, j->resource) != 0)
			continue;
		n++;
		fn(s, arg);
	}
	return n;
}

static void
sess_show(struct sess *s, void *arg)
{
	sess_line(arg, s);
}

static void
sess_kick_one(struct sess *s, void *arg)
{
	(void)arg;
	log_info("ctl: kick %s", log_escs(s->full));
	/* RFC 6120 4.9.3.14: the server's policy ends the stream */
	sess_kick(s, SERR_POLICY_VIOLATION);
}

/* SESSIONS and KICK: str jid (SESSIONS: NULL for every session) */
static int
ctlinfo_sessions(struct link *l, const struct link_hdr *h,
    const char *payload)
{
	struct link_in	 in;
	struct ctl_text	 t;
	struct jid	 j;
	const char	*s;
	size_t		 len;
	char		 raw[JID_STR_MAX + 1], out[64];
	int		 n;

	link_in_init(&in, payload, h->len);
	link_get_strn(&in, &s, &len);
	if (!link_in_done(&in) || (s == NULL && h->type == LINK_CTL_KICK) ||
	    (s != NULL && !link_strcpy(raw, sizeof(raw), s, len)))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	if (s != NULL) {
		if (jid_parse(&j, raw) == -1)
			return ctl_reply(l, h->sid, 0, EINVAL, BAD_JID,
			    strlen(BAD_JID));
		if (j.node == NULL) {
			jid_clear(&j);
			return ctl_reply(l, h->sid, 0, EINVAL, BAD_JID,
			    strlen(BAD_JID));
		}
	}
	text_init(&t, l, h->sid);
	if (s == NULL)
		map_foreach(router.by_full, sess_line_cb, &t);
	else if (h->type == LINK_CTL_SESSIONS)
		(void)sess_each(&j, sess_show, &t);
	else {
		n = sess_each(&j, sess_kick_one, NULL);
		snprintf(out, sizeof(out), "kicked %d session%s", n,
		    n == 1 ? "" : "s");
		if (n > 0)
			text_line(&t, "%s", out);
	}
	if (s != NULL)
		jid_clear(&j);
	return text_end(&t, s != NULL && t.n == 0 ? ENOENT : 0,
	    "no such session");
}

/* bytes the storage files take on disk */
long long
ctlinfo_storage_bytes(void)
{
	struct stat	st;
	char		path[4096];

	snprintf(path, sizeof(path), "%s/data.mdb", router.conf.datadir);
	if (stat(path, &st) == -1)
		return -1;
	return (long long)st.st_blocks * 512;
}

static int
ctlinfo_stats(struct link *l, const struct link_hdr *h)
{
	struct ctl_text	 t;
	struct rlink	*rl;
	double		 up = clock_wall() - router.started;
	uint64_t	 total;

	text_init(&t, l, h->sid);
	total = router.routed[KIND_MESSAGE] + router.routed[KIND_PRESENCE] +
	    router.routed[KIND_IQ];
	text_line(&t, "uptime %.0f", up);
	text_line(&t, "sessions %zu", map_count(router.by_full));
	text_line(&t, "accounts-online %zu", map_count(router.by_bare));
	for (rl = router.links; rl != NULL; rl = rl->next) {
		if (rl->role == LINK_ROLE_C2S)
			text_line(&t, "c2s[%u] sessions=%zu queue=%zu%s",
			    rl->instance, map_count(rl->sess),
			    buf_avail(&rl->l->out),
			    link_congested(rl->l) ? " congested" : "");
		else if (rl->role == LINK_ROLE_S2S)
			text_line(&t, "s2s queue=%zu%s",
			    buf_avail(&rl->l->out),
			    link_congested(rl->l) ? " congested" : "");
	}
	text_line(&t, "stanzas message=%llu presence=%llu iq=%llu",
	    (unsigned long long)router.routed[KIND_MESSAGE],
	    (unsigned long long)router.routed[KIND_PRESENCE],
	    (unsigned long long)router.routed[KIND_IQ]);
	text_line(&t, "stanzas-per-second %.2f", up > 0 ? total / up : 0);
	text_line(&t, "storage-bytes %lld", ctlinfo_storage_bytes());
	return text_end(&t, 0, NULL);
}

static int
ctlinfo_about(struct link *l, const struct link_hdr *h)
{
	struct ctl_text	 t;
	struct rlink	*rl;
	double		 now = clock_wall();

	text_init(&t, l, h->sid);
	text_line(&t, "%s %s", PARLEY_NAME, PARLEY_VERSION);
	text_line(&t, "gnutls %s", gnutls_check_version(NULL));
	text_line(&t, "%s", XML_ExpatVersion());
	text_line(&t, "c-ares %s", ares_version(NULL));
	text_line(&t, "%s", mdb_version(NULL, NULL, NULL));
	text_line(&t, "libev %d.%d", ev_version_major(), ev_version_minor());
	text_line(&t, "libidn %s", stringprep_check_version(NULL));
	text_line(&t, "router pid=%d uptime=%.0f", (int)getpid(),
	    now - router.started);
	for (rl = router.links; rl != NULL; rl = rl->next)
		if (rl->role == LINK_ROLE_C2S || rl->role == LINK_ROLE_S2S)
			text_line(&t, "%s pid=%d connected=%.0f",
			    rl->role == LINK_ROLE_S2S ? "s2s" : rl->l->name,
			    (int)rl->pid, now - rl->since);
	return text_end(&t, 0, NULL);
}

int
ctlinfo_frame(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	const char	*s;
	size_t		 len;

	switch (h->type) {
	case LINK_CTL_SESSIONS:
	case LINK_CTL_KICK:
		return ctlinfo_sessions(l, h, payload);
	default:
		/* STATS, ABOUT: a NULL str, room for an argument later */
		link_in_init(&in, payload, h->len);
		link_get_strn(&in, &s, &len);
		if (!link_in_done(&in))
			return link_fail(l, "bad %s", link_msg_name(h->type));
		return h->type == LINK_CTL_STATS ? ctlinfo_stats(l, h) :
		    ctlinfo_about(l, h);
	}
}
