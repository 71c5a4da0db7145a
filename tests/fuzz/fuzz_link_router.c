/*
 * Fuzz target: the router's end of the process links. router/links.c
 * listens on its two Unix sockets in a libev loop as in parley-router; the
 * target connects as a c2s, the s2s or parleyctl and writes the input as
 * frames, in the chunks of the input's plan. common/link.c reassembles
 * them and the real handlers decode them: c2s.c (HELLO, AUTH_GET,
 * SESS_*, STANZA), register.c (REG_ADD), s2s.c (STANZA from the s2s) and
 * ctl.c (the control commands). Sessions, delivery and storage are
 * records standing in for session.c, deliver.c and storage/store.c; they
 * check what those would rely on.
 *
 * Oracles: link.c delivers exactly the complete frames the input holds,
 * in order and with their bytes, each handler reading a buffer of its
 * frame's length (fuzz.h); stanzas handed to delivery have terminated
 * addresses within JID_STR_MAX, the session's own address as sender on
 * a c2s link and the whole payload; accounts reach storage as prepared
 * parts with checked credentials; the router answers with well-formed
 * frames, the first of them its own LINK_HELLO (also to a peer of another
 * version, so that it can say why); stanza envelopes hold a kind and a
 * type of that kind; when the peer leaves, the link and its sessions are
 * gone.
 *
 * Input: byte 0 -- bit 0 the control socket instead of the process
 * socket; bits 1-2 the role of a LINK_HELLO the target sends first (0
 * none, else the role: 1 c2s, 2 ctl, 3 s2s; instance 1 for a c2s, else
 * 0) -- then the chunking plan, then the peer's bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../common/xmlstream.h"
#include "../../router/ctl.h"
#include "../../router/router.h"
#include "fuzz.h"

#define MAX_FRAMES	4096
#define MAX_SESS	64

struct router	router;

static int	nsess;		/* sessions alive, all links */

static void
check_name(const char *what, const char *s, size_t max)
{
	FUZZ_CHECK(s != NULL && strlen(s) <= max, "%s of %zu bytes", what,
	    s != NULL ? strlen(s) : 0);
}

/* a prepared part stays itself when prepared again */
static void
check_prepared(const char *node, const char *domain)
{
	char	p[JID_PART_MAX + 1];

	check_name("node", node, JID_PART_MAX);
	check_name("domain", domain, JID_PART_MAX);
	FUZZ_CHECK(jid_nodeprep(node, p) == 0 && strcmp(p, node) == 0,
	    "node \"%s\" is not prepared", node);
	FUZZ_CHECK(jid_nameprep(domain, p) == 0 && strcmp(p, domain) == 0,
	    "domain \"%s\" is not prepared", domain);
}

static void
check_creds(const struct scram_creds *c)
{
	int	h;

	for (h = 0; h < SCRAM_NHASH; h++)
		FUZZ_CHECK(c->h[h].iter >= 1 &&
		    c->h[h].iter <= SCRAM_ITER_MAX &&
		    c->h[h].saltlen >= 1 && c->h[h].saltlen <= SCRAM_SALT_MAX,
		    "unchecked credentials reach storage");
}

/* ---- session.c ---------------------------------------------------------- */

void
sess_begin(struct rlink *rl, uint64_t sid, const char *jid)
{
	struct link_out	 m;
	struct sess	*s;

	FUZZ_CHECK(rl->role == LINK_ROLE_C2S, "a session on a %d link",
	    (int)rl->role);
	check_name("session JID", jid, JID_STR_MAX);
	if (map_get64(rl->sess, sid) != NULL || nsess >= MAX_SESS) {
		link_begin(&m, rl->l, LINK_SESS_BOUND, sid);
		link_put_stanza_err(&m, XERR_CONFLICT);
		link_put_str(&m, "");
		link_end(&m);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->rl = rl;
	s->sid = sid;
	s->full = xstrdup(jid);
	/* each stub session its own account, for sm.c's resumption check */
	s->user = xcalloc(1, sizeof(*s->user));
	s->user->bare = xstrdup(jid);
	s->user->bare[strcspn(s->user->bare, "/")] = '\0';
	map_put64(rl->sess, sid, s);
	nsess++;
	link_begin(&m, rl->l, LINK_SESS_BOUND, sid);
	link_put_stanza_err(&m, XERR_COUNT);
	link_put_str(&m, jid);
	link_end(&m);
}

struct sess *
sess_find(struct rlink *rl, uint64_t sid)
{
	return map_get64(rl->sess, sid);
}

void
sess_end(struct sess *s)
{
	struct sm	*sm = sm_detach(s);

	FUZZ_CHECK(map_del64(s->rl->sess, s->sid) == s, "session not in "
	    "its link's table");
	/* sm.c routes what was never acked: deliver_stanza checks it */
	sm_unacked(sm, s->full);
	free(s->user->bare);
	free(s->user);
	free(s->full);
	free(s);
	nsess--;
}

/* no hibernation here: what sm.c decides is run, then the session ends */
bool
sess_lost(struct sess *s)
{
	(void)sm_hibernate(s);
	sess_end(s);
	return false;
}

void
sess_kick(struct sess *s, int err)
{
	FUZZ_CHECK(err > SERR_NONE && err < SERR_COUNT, "kick with %d", err);
	sess_end(s);
}

void
sess_move(struct sess *s, struct rlink *rl, uint64_t sid)
{
	FUZZ_CHECK(map_del64(s->rl->sess, s->sid) == s, "moving a session "
	    "not in its link's table");
	s->rl = rl;
	s->sid = sid;
	map_put64(rl->sess, sid, s);
}

/* what a resumed session's c2s keeps (router/sesskeep.c): not fuzzed */
void
sess_keep_send(struct sess *s)
{
	(void)s;
}

void
sess_burst(struct sess *s, bool owed_login, bool owed_offline)
{
	(void)s;
	(void)owed_login;
	(void)owed_offline;
}

static int
sess_collect(const void *key, size_t len, void *val, void *arg)
{
	struct sess	**v = arg;
	size_t		  i;

	(void)key;
	(void)len;
	for (i = 0; v[i] != NULL; i++)
		;
	v[i] = val;
	return 0;
}

void
sess_end_all(struct rlink *rl)
{
	struct sess	*v[MAX_SESS + 1];
	size_t		 i;

	memset(v, 0, sizeof(v));
	map_foreach(rl->sess, sess_collect, v);
	for (i = 0; v[i] != NULL; i++)
		sess_lost(v[i]);
}

/* ---- muc.c --------------------------------------------------------------- */

/* links.c marks a c2s's rejoin (LINK_F_MUC_REJOIN); rooms are not here */
void
muc_rejoining(bool on)
{
	(void)on;
}

/* ---- deliver.c ---------------------------------------------------------- */

void
deliver_stanza(struct rstanza *rs)
{
	FUZZ_CHECK(stanza_kind_type_valid(rs->kind, rs->type),
	    "kind %d type %d", rs->kind, rs->type);
	if (rs->to != NULL)
		check_name("to", rs->to, JID_STR_MAX);
	check_name("from", rs->from, JID_STR_MAX);
	FUZZ_CHECK(rs->xml != NULL, "no payload");
	fuzz_touch(rs->xml, rs->xlen);
	if (rs->sender != NULL)
		FUZZ_CHECK(rs->from == rs->sender->full &&
		    rs->sender->rl->role == LINK_ROLE_C2S,
		    "a session's stanza not from the session");
	else
		FUZZ_CHECK(rs->to != NULL, "a remote stanza without 'to'");
}

int
deliver_parse(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	static struct xparse	*xp;

	if (xp == NULL)
		xp = xparse_new(NS_CLIENT, 65536 + 4096);
	return xparse_one(xp, xml, len, fn, arg);
}

/* the handover's queues (sm.c) are read by no frame: never local */
bool
domain_is_local_jid(const char *s)
{
	(void)s;
	return false;
}

void
deliver_tree(struct sess *s, const struct xnode *tree)
{
	(void)s;
	(void)tree;
	FUZZ_CHECK(0, "an IQ answer from a frame handler");
}

/* iq.c: reached from register.c's IQ handler, never from a frame */
void
iq_make_result(struct xnode *iq, struct arena *a)
{
	(void)iq;
	(void)a;
	FUZZ_CHECK(0, "an IQ from a frame handler");
}

bool
iq_own_account(const struct rstanza *rs)
{
	(void)rs;
	FUZZ_CHECK(0, "an IQ from a frame handler");
	return false;
}

/* ---- storage/store.c and the router's account hooks --------------------- */

/* the stubs' one account is node "user": -1 with ENOENT for the others */
static int
stub_account(const char *node, const char *domain)
{
	check_name("node", node, JID_PART_MAX);
	check_name("domain", domain, JID_PART_MAX);
	if (strcmp(node, "user") != 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
store_account_disable(struct store *st, const char *node, const char *domain,
    bool disabled)
{
	(void)st;
	(void)disabled;
	return stub_account(node, domain);
}

int
store_account_disabled(struct store *st, const char *node,
    const char *domain)
{
	(void)st;
	(void)node;
	return strcmp(domain, "off.example") == 0;
}

/* LINK_CTL_ROLE: only "user" is an account, and it is limited */
int
store_account_role_set(struct store *st, const char *node,
    const char *domain, enum role r)
{
	(void)st;
	FUZZ_CHECK(r == ROLE_MEMBER || r == ROLE_ADMIN || r == ROLE_LIMITED,
	    "role %d", (int)r);
	return stub_account(node, domain);
}

int
store_account_role_get(struct store *st, const char *node,
    const char *domain, enum role *r)
{
	(void)st;
	*r = ROLE_LIMITED;
	return stub_account(node, domain);
}

/* XEP-0480 (LINK_AUTH_UPGRADE): only credentials of a usable shape */
int
store_account_upgrade(struct store *st, const char *node,
    const char *domain, enum scram_hash hash, const struct scram_cred *c)
{
	(void)st;
	FUZZ_CHECK(hash == SCRAM_SHA256 && c->iter > 0 &&
	    c->iter <= SCRAM_ITER_MAX && c->saltlen > 0 &&
	    c->saltlen <= SCRAM_SALT_MAX, "upgrade credentials");
	if (stub_account(node, domain) == -1)
		return -1;
	return strcmp(domain, "example.org") == 0;
}

/* FAST records (LINK_AUTH_GET, LINK_FAST_PUT): one device has one */
int
store_doc_get(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, char **val, size_t *len)
{
	(void)st;
	FUZZ_CHECK(kind == DOC_FAST, "document kind %d", (int)kind);
	check_name("node", node, JID_PART_MAX);
	check_name("domain", domain, JID_PART_MAX);
	FUZZ_CHECK(name != NULL && *name != '\0' &&
	    strlen(name) <= LINK_DEVICE_MAX, "a FAST device \"%s\"", name);
	if (strcmp(name, "dev") != 0) {
		errno = ENOENT;
		return -1;
	}
	*val = xstrdup("record");
	*len = 6;
	return 0;
}

/* the router writes a FAST record deferred (router/links.c fast_put) */
int
store_doc_put_later(struct store *st, enum store_doc kind, const char *node,
    const char *domain, const char *name, const char *val, size_t len)
{
	(void)st;
	FUZZ_CHECK(kind == DOC_FAST, "document kind %d", (int)kind);
	check_name("node", node, JID_PART_MAX);
	check_name("domain", domain, JID_PART_MAX);
	FUZZ_CHECK(name != NULL && *name != '\0' &&
	    strlen(name) <= LINK_DEVICE_MAX, "a FAST device \"%s\"", name);
	FUZZ_CHECK(len <= LINK_FAST_MAX && (val != NULL) == (len > 0),
	    "a FAST record of %zu bytes", len);
	return 0;
}

int
store_account_get(struct store *st, const char *node, const char *domain,
    struct scram_creds *out)
{
	int	h;

	(void)st;
	check_name("node", node, JID_PART_MAX);
	check_name("domain", domain, JID_PART_MAX);
	if (strcmp(node, "fail") == 0) {
		errno = EIO;
		return -1;
	}
	if (strcmp(node, "user") != 0) {
		errno = ENOENT;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	for (h = 0; h < SCRAM_NHASH; h++) {
		out->h[h].iter = 4096;
		out->h[h].saltlen = SCRAM_SALT_LEN;
		memset(out->h[h].salt, 's', SCRAM_SALT_LEN);
		memset(out->h[h].stored_key, 'k', SCRAM_KEY_MAX);
		memset(out->h[h].server_key, 'v', SCRAM_KEY_MAX);
	}
	return 0;
}

int
store_account_add(struct store *st, const char *node, const char *domain,
    const struct scram_creds *c)
{
	(void)st;
	check_prepared(node, domain);
	check_creds(c);
	if (strcmp(node, "user") == 0) {
		errno = EEXIST;
		return -1;
	}
	return 0;
}

int
store_account_set(struct store *st, const char *node, const char *domain,
    const struct scram_creds *c)
{
	(void)st;
	check_prepared(node, domain);
	check_creds(c);
	if (strcmp(node, "user") != 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* "big.example" has enough accounts to need several replies */
int
store_account_list(struct store *st, const char *domain,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	char	node[64];
	int	i, n;

	(void)st;
	if (domain != NULL)
		check_name("domain", domain, JID_PART_MAX);
	n = domain != NULL && strcmp(domain, "big.example") == 0 ? 5000 : 3;
	for (i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "user%d", i);
		if (fn(node, domain != NULL ? domain : "example.org", arg) != 0)
			break;
	}
	return 0;
}

void
caps_announce(struct link *l)
{
	(void)l;
}

/* the proxy's frames are router/proxy.c's, not this target's */
int
proxy_frame(struct rlink *rl, const struct link_hdr *h, const char *payload)
{
	(void)rl;
	(void)h;
	(void)payload;
	return 0;
}

void
proxy_link_lost(void)
{
}

/*
 * A planned restart (router/restart.c) would end the loop: the target
 * keeps the frames' contract only. LINK_QUIESCED is taken when it is
 * well-formed, as from a link that was asked.
 */
int
restart_begin(void)
{
	return 0;
}

int
restart_quiesced(struct rlink *rl, const struct link_hdr *h)
{
	(void)rl;
	return h->len == 0 && h->sid == 0 ? 0 : -1;
}

void
restart_link_gone(struct rlink *rl)
{
	(void)rl;
}

bool
restart_stopping(void)
{
	return false;
}

int
router_account_remove(const char *node, const char *domain)
{
	check_prepared(node, domain);
	if (strcmp(node, "user") != 0) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

void
router_user_changed(const char *node, const char *domain)
{
	check_prepared(node, domain);
}

/* a password changed in-band: the stub sessions have no user to end */
void
router_user_others_end(struct sess *keep, int err)
{
	(void)keep;
	(void)err;
}

/* bursts held back for congestion: the stub sessions hold none */
void
sess_burst_resume(struct rlink *rl)
{
	(void)rl;
}

/*
 * Invitations (router/invite.c): the token "good" at example.org is a
 * contact invitation of user@example.org, any other none
 */
int
invite_find(const char *domain, const char *token, struct invite *iv)
{
	check_name("domain", domain, JID_PART_MAX);
	FUZZ_CHECK(strlen(token) <= INVITE_TOKEN_MAX, "a token of %zu bytes",
	    strlen(token));
	memset(iv, 0, sizeof(*iv));
	if (strcmp(token, "good") != 0 || strcmp(domain, "example.org") != 0) {
		errno = ENOENT;
		return -1;
	}
	iv->kind = INVITE_CONTACT;
	iv->uses = 1;
	snprintf(iv->creator, sizeof(iv->creator), "user@example.org");
	return 0;
}

int
invite_use(const char *domain, const char *token, struct invite *iv)
{
	return invite_find(domain, token, iv);
}

bool
invite_reserved(const char *domain, const char *node, const char *hash)
{
	check_prepared(node, domain);
	(void)hash;
	return strcmp(node, "held") == 0;
}

void
invite_refund(const char *domain, struct invite *iv)
{
	(void)domain;
	(void)iv;
}

void
presence_invited(const char *node, const char *domain, const char *creator)
{
	check_prepared(node, domain);
	FUZZ_CHECK(strcmp(creator, "user@example.org") == 0, "creator %s",
	    creator);
}

/* LINK_CTL_INVITE: decoded as invite.c does, answered "ok" */
int
invite_ctl(struct link *l, const struct link_hdr *h, const char *payload)
{
	struct link_in	 in;
	const char	*s;
	size_t		 n;
	uint32_t	 u;
	int		 i;

	link_in_init(&in, payload, h->len);
	for (i = 0; i < 3; i++)
		link_get_strn(&in, &s, &n);
	link_get_u32(&in, &u);
	link_get_u32(&in, &u);
	if (!link_in_done(&in))
		return link_fail(l, "bad %s", link_msg_name(h->type));
	return ctl_reply(l, h->sid, 0, 0, "ok", 2);
}

/* ---- the harness -------------------------------------------------------- */

static void
put_hello(struct buf *b, uint32_t role)
{
	uint8_t	f[LINK_HDR_LEN + 12];

	memset(f, 0, sizeof(f));
	f[3] = 12;
	f[5] = LINK_HELLO;
	f[LINK_HDR_LEN + 3] = LINK_VERSION;
	f[LINK_HDR_LEN + 7] = (uint8_t)role;
	f[LINK_HDR_LEN + 11] = role == LINK_ROLE_C2S ? 1 : 0;
	buf_append(b, f, sizeof(f));
}

/* whatever the router wrote begins with its own LINK_HELLO */
static void
check_router_hello(const struct buf *back)
{
	const uint8_t	*p = (const uint8_t *)buf_rptr(back);

	if (buf_avail(back) < LINK_HDR_LEN + 12)
		return;
	FUZZ_CHECK(p[4] == 0 && p[5] == LINK_HELLO && p[3] == 12 &&
	    p[LINK_HDR_LEN + 3] == LINK_VERSION &&
	    p[LINK_HDR_LEN + 7] == LINK_ROLE_ROUTER,
	    "the router's first frame is not its LINK_HELLO");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	host;

	(void)argc;
	(void)argv;
	fuzz_log_init();
	router.loop = ev_default_loop(EVFLAG_AUTO);
	router.conf.rundir = xstrdup(fuzz_tmpdir());
	router.conf.link_queue_max = 4 << 20;
	router.conf.register_interval = 60;
	router.conf.max_stanza_size = 65536;
	host.name = xstrdup("example.org");
	host.allow_register = true;
	router.conf.hosts = &host;
	router.conf.nhosts = 1;
	router.by_full = map_new();
	router.by_bare = map_new();
	router.sm_ids = map_new();
	router.conf.sm_resume_timeout = 300;
	router.conf.sm_resume_max = 900;
	router.conf.sm_queue_max = 500;
	router.conf.sm_queue_max_bytes = 1 << 20;
	buf_init(&router.scratch, 0);
	link_loop_init(router.loop);
	if (rlink_listen() == -1)
		fatalx("rlink_listen");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct fuzz_frame frames[MAX_FRAMES];
	struct fuzz_plan	 plan;
	struct fuzz_tap		 tap;
	struct buf		 in, back;
	const uint8_t		*p;
	size_t			 off, nframes;
	uint8_t			 mode;
	int			 fd;

	if (len < 1)
		return 0;
	mode = data[0];
	off = 1 + fuzz_plan_init(&plan, data + 1, len - 1);
	buf_init(&in, 0);
	if ((mode >> 1 & 3) != 0)
		put_hello(&in, mode >> 1 & 3);
	buf_append(&in, data + off, len - off);

	fd = unix_connect(router.conf.rundir, mode & 1 ? "router.ctl" :
	    "router.sock");
	FUZZ_CHECK(fd != -1, "cannot connect to the router");
	ev_run(router.loop, EVRUN_NOWAIT);
	FUZZ_CHECK(router.links != NULL && router.links->next == NULL,
	    "the router did not take the connection");

	/* never buf_rptr() of an empty buffer: NULL + 0 */
	p = buf_avail(&in) > 0 ? (const uint8_t *)buf_rptr(&in) :
	    (const uint8_t *)"";
	nframes = fuzz_frames_split(p, buf_avail(&in), frames, MAX_FRAMES);
	fuzz_tap_install(&tap, router.links->l, frames, nframes);
	buf_init(&back, 0);
	fuzz_pump(router.loop, fd, p, buf_avail(&in), &plan, &back);
	fuzz_settle(router.loop, fd, &back);
	shutdown(fd, SHUT_WR);
	fuzz_settle(router.loop, fd, &back);
	FUZZ_CHECK(router.links == NULL && router.s2s == NULL,
	    "the link outlived its peer");
	FUZZ_CHECK(nsess == 0, "%d sessions outlived their link", nsess);
	fuzz_tap_finish(&tap);
	fuzz_check_output_frames(&back);
	check_router_hello(&back);
	buf_clear(&back);
	buf_clear(&in);
	close(fd);
	return 0;
}
