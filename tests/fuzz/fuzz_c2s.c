/*
 * Fuzz target: a client stream, end to end in the c2s process --
 * c2s/stream.c (header, features, STARTTLS, stanzas of a bound session),
 * auth.c and sasl.c (SASL), bind.c, register.c (XEP-0077) and uplink.c --
 * in a libev loop as in parley-c2s, the input being the client's bytes.
 * The target also plays the router on the link: it answers AUTH_GET
 * ("user" and "juliet" have the password "pencil", "fail" is a storage
 * failure, everyone else unknown), SESS_BEGIN (resource "taken" is a
 * conflict), REG_ADD, and echoes each message stanza back to its sender.
 * PLAIN needs TLS, which a fuzzer cannot do; so that inputs can log in,
 * the target writes SCRAM for them: in the client's bytes "%F" becomes
 * the base64 client-first-message of "user", "%S" and "%1" the
 * client-final-message answering the last challenge, with the proof for
 * "pencil", for SCRAM-SHA-256 and SCRAM-SHA-1.
 *
 * Oracles:
 * - a session is begun only for the account that authenticated on that
 *   stream, with the stream's domain, and only stanzas of a bound session
 *   reach the router, from the session's own JID;
 * - what reaches the router is well-framed, and each stanza is one
 *   jabber:client element of the kind claimed, addressed as its envelope
 *   says, in normalised JIDs;
 * - a registration reaches the router as a prepared localpart of one of
 *   our registrable domains with checked credentials;
 * - what the c2s writes to the client is well-formed XML, stream by
 *   stream (up to a TLS handshake);
 * - when the client and the router are gone, every stream is freed.
 *
 * Input: byte 0 -- bit 0 c2s-require-tls, bit 1 a direct TLS listener,
 * bit 2 the router restarts after the input (the c2s reconnects and
 * announces its sessions), bit 3 the client vanishes (closes its socket)
 * while the router delivers a message to it, bit 4 the accounts have
 * SCRAM-SHA-1 credentials only (imported; the XEP-0480 task that
 * upgrades them runs over TLS only, so here an <upgrade/> is ignored:
 * LINK_AUTH_UPGRADE must not come, and would have to be for the account
 * that authenticated on that stream) -- then the chunking plan, then the
 * client's bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../c2s/c2s.h"
#include "../../common/base64.h"
#include "../../common/credwire.h"
#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../common/work.h"
#include "fuzz.h"

#define MAX_SIDS	16
#define QUIET_ROUNDS	64
/* rounds with the socket full before the pump gives up */
#define STALL_MAX	8
#define PASSWORD	"pencil"
#define ITER		16
#define CFIRST_BARE	"n=user,r=fuzzclientnonce"

struct c2s	c2s;

static int			 lfd = -1;
static int			 router_fd = -1;
static struct buf		 from_c2s;	/* unparsed frames */
static struct scram_creds	 pencil;
static bool			 sha1_only;	/* input bit 4 */

/* what the router knows of each stream (by sid) */
/* the id this router gives a resumable session (XEP-0198) */
#define FUZZ_SM_ID	"0123456789abcdef0123456789abcdef"

struct known {
	uint64_t	 sid;
	char		*auth_node;	/* credentials handed out for */
	char		*auth_domain;
	char		*bound;		/* session JID */
	bool		 resuming;	/* asked to resume (XEP-0198) */
};
static struct known	known[MAX_SIDS];

void
listen_pause(bool pause)
{
	(void)pause;
}

void
listen_close(void)
{
}

/* c2s/metrics.c (the HTTP side) is not linked: the router's answer */
void
metrics_result(uint32_t id, const char *text, size_t len)
{
	(void)id;
	(void)text;
	(void)len;
}

void
metrics_link_lost(void)
{
}

/* c2s/boshfwd.c (BOSH between workers) is not linked either */
void
boshfwd_request(uint32_t origin, uint32_t id, uint16_t flags,
    const char *client, size_t clen, const char *body, size_t blen)
{
	(void)origin;
	(void)id;
	(void)flags;
	(void)client;
	(void)clen;
	(void)body;
	(void)blen;
}

void
boshfwd_answer(uint32_t owner, uint32_t id, uint32_t status, uint32_t http,
    const char *body, size_t len)
{
	(void)owner;
	(void)id;
	(void)status;
	(void)http;
	(void)body;
	(void)len;
}

void
boshfwd_link_lost(void)
{
}

static struct known *
known_get(uint64_t sid)
{
	size_t	i;

	for (i = 0; i < MAX_SIDS; i++)
		if (known[i].sid == sid)
			return &known[i];
	for (i = 0; i < MAX_SIDS; i++)
		if (known[i].sid == 0) {
			known[i].sid = sid;
			return &known[i];
		}
	FUZZ_CHECK(0, "more than %d streams", MAX_SIDS);
	return NULL;
}

static void
known_clear(void)
{
	size_t	i;

	for (i = 0; i < MAX_SIDS; i++) {
		free(known[i].auth_node);
		free(known[i].auth_domain);
		free(known[i].bound);
	}
	memset(known, 0, sizeof(known));
}

/* ---- the router --------------------------------------------------------- */

static void
send_frame_flags(uint16_t type, uint16_t flags, uint64_t sid,
    const struct buf *payload)
{
	uint8_t		h[LINK_HDR_LEN];
	uint32_t	len = (uint32_t)buf_avail(payload);
	struct buf	b;
	int		i;

	for (i = 0; i < 4; i++)
		h[i] = (uint8_t)(len >> (24 - 8 * i));
	h[4] = (uint8_t)(type >> 8);
	h[5] = (uint8_t)type;
	h[6] = (uint8_t)(flags >> 8);
	h[7] = (uint8_t)flags;
	for (i = 0; i < 8; i++)
		h[8 + i] = (uint8_t)(sid >> (56 - 8 * i));
	buf_init(&b, 0);
	buf_append(&b, h, sizeof(h));
	buf_append(&b, buf_rptr(payload), buf_avail(payload));
	(void)send(router_fd, buf_rptr(&b), buf_avail(&b), MSG_NOSIGNAL);
	buf_clear(&b);
}

static void
send_frame(uint16_t type, uint64_t sid, const struct buf *payload)
{
	send_frame_flags(type, 0, sid, payload);
}

/* the router's two keys, LINK_SECRET_LEN bytes */
#define FUZZ_SECRET	"fuzzkeyfuzzkeyfuzzkeyfuzzkeyfuzz"

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t	p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		    (uint8_t)(v >> 8), (uint8_t)v };

	buf_append(b, p, 4);
}

static void
put_str(struct buf *b, const char *s, size_t n)
{
	if (s == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

static int
parse_one(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	static struct xparse	*xp;

	if (xp == NULL)
		xp = xparse_new(NS_CLIENT, (1 << 20) + 4096);
	return xparse_one(xp, xml, len, fn, arg);
}

static char *
get_str(struct link_in *in)
{
	const char	*s;
	size_t		 n;

	link_get_strn(in, &s, &n);
	FUZZ_CHECK(s != NULL, "a NULL string from the c2s");
	FUZZ_CHECK(memchr(s, '\0', n) == NULL, "a NUL from the c2s");
	return xstrndup(s, n);
}

static void
router_frame(const struct link_hdr *h, const char *payload)
{
	struct link_in		 in;
	struct known		*k;
	struct buf		 b;
	struct scram_creds	 cr;
	struct fuzz_stanza_job	 job;
	struct jid		 j;
	char			*node, *dom, *jid, *addr, *to, *from;
	char			 prep[JID_PART_MAX + 1];
	const char		*tok;
	size_t			 n, hl, tlen;
	uint32_t		 u32, req;
	struct link_stanza	 ls;

	link_in_init(&in, payload, h->len);
	buf_init(&b, 0);
	switch (h->type) {
	case LINK_HELLO:
		/* the router's answer, as router/links.c gives it */
		put_u32(&b, LINK_VERSION);
		put_u32(&b, LINK_ROLE_ROUTER);
		put_u32(&b, 0);
		send_frame(LINK_HELLO, 0, &b);
		/* then the keys every c2s gets (rlink_secrets) */
		buf_reset(&b);
		put_str(&b, FUZZ_SECRET, LINK_SECRET_LEN);
		put_str(&b, FUZZ_SECRET, LINK_SECRET_LEN);
		send_frame(LINK_SECRETS, 0, &b);
		break;
	case LINK_AUTH_GET:
		link_get_u32(&in, &req);
		node = get_str(&in);
		dom = get_str(&in);
		free(get_str(&in));	/* the device, for FAST */
		FUZZ_CHECK(link_in_done(&in), "AUTH_GET");
		FUZZ_CHECK(jid_nodeprep(node, prep) == 0 &&
		    strcmp(prep, node) == 0, "AUTH_GET for \"%s\", not a "
		    "prepared localpart", node);
		FUZZ_CHECK(conf_host_find(&c2s.conf, dom) != NULL,
		    "AUTH_GET for domain %s", dom);
		k = known_get(h->sid);
		put_u32(&b, req);
		if (strcmp(node, "user") == 0 || strcmp(node, "juliet") == 0) {
			put_u32(&b, LINK_AUTH_OK);
			free(k->auth_node);
			free(k->auth_domain);
			k->auth_node = xstrdup(node);
			k->auth_domain = xstrdup(dom);
			/* per hash: u32 iter, str salt, str keys */
			for (n = 0; n < SCRAM_NHASH; n++) {
				if (sha1_only && n == SCRAM_SHA256) {
					memset(prep, 0, sizeof(prep));
					hl = scram_hash_len(SCRAM_SHA256);
					put_u32(&b, 0);
					put_str(&b, "", 0);
					put_str(&b, prep, hl);
					put_str(&b, prep, hl);
					continue;
				}
				put_u32(&b, pencil.h[n].iter);
				put_str(&b, (const char *)pencil.h[n].salt,
				    pencil.h[n].saltlen);
				hl = scram_hash_len((enum scram_hash)n);
				put_str(&b, (const char *)
				    pencil.h[n].stored_key, hl);
				put_str(&b, (const char *)
				    pencil.h[n].server_key, hl);
			}
			put_str(&b, "", 0);	/* no FAST record */
		} else
			put_u32(&b, strcmp(node, "fail") == 0 ?
			    LINK_AUTH_FAILED : LINK_AUTH_NO_USER);
		send_frame(LINK_AUTH_CRED, h->sid, &b);
		free(node);
		free(dom);
		break;
	case LINK_SESS_BEGIN:
		jid = get_str(&in);
		link_get_u32(&in, &u32);
		FUZZ_CHECK(link_in_done(&in), "SESS_BEGIN");
		k = known_get(h->sid);
		fuzz_check_normal_jid("session JID", jid, &j);
		/* the account that authenticated, nobody else */
		FUZZ_CHECK(k->auth_node != NULL && j.node != NULL &&
		    strcmp(j.node, k->auth_node) == 0 &&
		    strcmp(j.domain, k->auth_domain) == 0 &&
		    j.resource != NULL, "session %s on a stream authenticated "
		    "as %s@%s", jid, k->auth_node ? k->auth_node : "nobody",
		    k->auth_domain ? k->auth_domain : "");
		if (strcmp(j.resource, "taken") == 0) {
			put_u32(&b, stanza_err_wire(XERR_CONFLICT));
			put_str(&b, "", 0);
		} else {
			put_u32(&b, stanza_err_wire(XERR_COUNT));
			put_str(&b, jid, strlen(jid));
			free(k->bound);
			k->bound = xstrdup(jid);
		}
		jid_clear(&j);
		send_frame(LINK_SESS_BOUND, h->sid, &b);
		free(jid);
		break;
	case LINK_SESS_END:
		k = known_get(h->sid);
		/* a stream that asked to resume ends what it may have got */
		FUZZ_CHECK(k->bound != NULL || k->resuming,
		    "SESS_END for no session");
		free(k->bound);
		k->bound = NULL;
		k->resuming = false;
		break;
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		FUZZ_CHECK(link_in_done(&in) && ls.from != NULL &&
		    memchr(ls.from, '\0', ls.fromlen) == NULL, "STANZA");
		to = ls.to != NULL ? xstrndup(ls.to, ls.tolen) : NULL;
		from = xstrndup(ls.from, ls.fromlen);
		k = known_get(h->sid);
		FUZZ_CHECK(k->bound != NULL && strcmp(k->bound, from) == 0,
		    "a stanza from %s on a stream bound as %s", from,
		    k->bound ? k->bound : "nobody");
		if (to != NULL) {
			fuzz_check_normal_jid("to", to, &j);
			jid_clear(&j);
		}
		job = (struct fuzz_stanza_job){ ls.kind, ls.type, to, from,
		    false };
		FUZZ_CHECK(parse_one(ls.xml, ls.xlen, fuzz_check_stanza_tree,
		    &job) == 0 && job.called, "the router would not parse %.*s",
		    (int)ls.xlen, ls.xml);
		if (ls.kind == KIND_MESSAGE) {
			/* delivered back to the sender */
			buf_append(&b, payload, h->len);
			send_frame(LINK_STANZA, h->sid, &b);
		}
		free(to);
		free(from);
		break;
	case LINK_SM_ENABLE:
		link_get_u32(&in, &u32);
		link_get_u32(&in, &req);
		link_get_u32(&in, &req);
		link_get_u32(&in, &req);
		free(get_str(&in));
		FUZZ_CHECK(link_in_done(&in), "SM_ENABLE");
		k = known_get(h->sid);
		FUZZ_CHECK(k->bound != NULL, "SM_ENABLE for no session");
		/* the router's answer: an id when resumable */
		put_str(&b, u32 & LINK_SM_F_RESUME ? FUZZ_SM_ID : "",
		    u32 & LINK_SM_F_RESUME ? strlen(FUZZ_SM_ID) : 0);
		put_u32(&b, 300);
		send_frame(LINK_SM_ENABLED, h->sid, &b);
		break;
	case LINK_SM_ACK:
		for (n = 0; n < 4; n++)
			link_get_u32(&in, &u32);
		FUZZ_CHECK(link_in_done(&in), "SM_ACK");
		k = known_get(h->sid);
		FUZZ_CHECK(k->bound != NULL, "SM_ACK for no session");
		break;
	case LINK_SM_RESUME:
		jid = get_str(&in);
		node = get_str(&in);
		link_get_u32(&in, &u32);
		FUZZ_CHECK(link_in_done(&in), "SM_RESUME");
		k = known_get(h->sid);
		fuzz_check_normal_jid("resumed account", jid, &j);
		/* the account that authenticated, nobody else */
		FUZZ_CHECK(k->auth_node != NULL && j.node != NULL &&
		    strcmp(j.node, k->auth_node) == 0 && j.resource == NULL &&
		    k->bound == NULL, "resume of %s on a stream authenticated "
		    "as %s", jid, k->auth_node ? k->auth_node : "nobody");
		jid_clear(&j);
		k->resuming = true;
		if (strcmp(node, FUZZ_SM_ID) == 0) {
			free(k->bound);
			k->bound = xmalloc(strlen(jid) + 9);
			snprintf(k->bound, strlen(jid) + 9, "%s/resumed", jid);
			put_u32(&b, stanza_err_wire(XERR_COUNT));
			put_str(&b, k->bound, strlen(k->bound));
			put_str(&b, node, strlen(node));
		} else {
			put_u32(&b, stanza_err_wire(XERR_ITEM_NOT_FOUND));
			put_str(&b, "", 0);
			put_str(&b, "", 0);
		}
		put_u32(&b, 2);
		put_u32(&b, 0);
		put_u32(&b, 300);
		send_frame(LINK_SM_RESUMED, h->sid, &b);
		free(jid);
		free(node);
		break;
	case LINK_REG_ADD:
		node = get_str(&in);
		dom = get_str(&in);
		addr = get_str(&in);
		/* XEP-0445's token: NULL without one (the fuzzed host has
		   open registration) */
		link_get_strn(&in, &tok, &tlen);
		FUZZ_CHECK(tok == NULL || (tlen > 0 && tlen <= 64 &&
		    memchr(tok, '\0', tlen) == NULL), "a bad preauth token");
		/* LINK_F_REG_CHECK: may it be made? No credentials yet */
		FUZZ_CHECK((h->flags & LINK_F_REG_CHECK) != 0 ?
		    link_in_done(&in) : cred_get(&in, &cr) == 0 &&
		    link_in_done(&in), "REG_ADD with bad credentials");
		/* LINK_F_REG_TOKEN: the token alone, no name yet */
		FUZZ_CHECK((h->flags & LINK_F_REG_TOKEN) != 0 ?
		    *node == '\0' && tok != NULL &&
		    (h->flags & LINK_F_REG_CHECK) != 0 :
		    jid_nodeprep(node, prep) == 0 &&
		    strcmp(prep, node) == 0 && *node != '\0',
		    "registration of \"%s\"", node);
		FUZZ_CHECK(conf_host_find(&c2s.conf, dom) != NULL &&
		    (tok != NULL ||
		    conf_host_find(&c2s.conf, dom)->allow_register),
		    "registration on %s", dom);
		put_u32(&b, stanza_err_wire(strcmp(node, "user") == 0 ?
		    XERR_CONFLICT : XERR_COUNT));
		send_frame_flags(LINK_REG_RESULT, h->flags &
		    (LINK_F_REG_CHECK | LINK_F_REG_TOKEN), h->sid, &b);
		free(node);
		free(dom);
		free(addr);
		break;
	case LINK_AUTH_FAIL:
		/* a failed attempt, counted for /metrics: nothing to answer */
		break;
	case LINK_AUTH_UPGRADE:
		/* XEP-0480: for the account that lacks SHA-256, no other */
		node = get_str(&in);
		dom = get_str(&in);
		link_get_u32(&in, &u32);
		link_get_strn(&in, &tok, &tlen);
		FUZZ_CHECK(tok != NULL && tlen == SCRAM_SALT_LEN,
		    "AUTH_UPGRADE salt of %zu bytes", tlen);
		for (n = 0; n < 2; n++) {
			link_get_strn(&in, &tok, &tlen);
			FUZZ_CHECK(tok != NULL && tlen ==
			    scram_hash_len(SCRAM_SHA256), "AUTH_UPGRADE key");
		}
		FUZZ_CHECK(link_in_done(&in) &&
		    u32 == c2s.conf.scram_iterations, "AUTH_UPGRADE");
		k = known_get(h->sid);
		FUZZ_CHECK(sha1_only && k->auth_node != NULL &&
		    strcmp(k->auth_node, node) == 0 &&
		    strcmp(k->auth_domain, dom) == 0,
		    "AUTH_UPGRADE for %s@%s", node, dom);
		put_u32(&b, LINK_AUTH_OK);
		send_frame(LINK_AUTH_UPGRADED, h->sid, &b);
		free(node);
		free(dom);
		break;
	default:
		FUZZ_CHECK(0, "the c2s sent %s", link_msg_name(h->type));
	}
	buf_clear(&b);
}

/* frames the c2s wrote so far, each answered */
static bool
router_service(void)
{
	char		 tmp[16384];
	struct link_hdr	 h;
	const uint8_t	*p;
	ssize_t		 n;
	bool		 busy = false;

	if (router_fd == -1)
		return false;
	while ((n = read(router_fd, tmp, sizeof(tmp))) > 0)
		buf_append(&from_c2s, tmp, (size_t)n);
	while (buf_avail(&from_c2s) >= LINK_HDR_LEN) {
		p = (const uint8_t *)buf_rptr(&from_c2s);
		link_hdr_decode(&h, p);
		FUZZ_CHECK(h.len <= LINK_MAX_PAYLOAD && link_msg_min(h.type) >=
		    0 && h.len >= (uint32_t)link_msg_min(h.type),
		    "the c2s sent a bad frame: type %#x len %u", h.type, h.len);
		if (buf_avail(&from_c2s) < LINK_HDR_LEN + h.len)
			break;
		router_frame(&h, (const char *)p + LINK_HDR_LEN);
		buf_consume(&from_c2s, LINK_HDR_LEN + h.len);
		busy = true;
	}
	return busy;
}

/* a message from the router to every bound session */
static void
deliver_to_bound(void)
{
	static const char	xml[] = "<message from='romeo@example.net/o' "
	    "type='chat'><body>still there?</body></message>";
	struct buf		b;
	size_t			i;

	for (i = 0; i < MAX_SIDS; i++) {
		if (known[i].bound == NULL || router_fd == -1)
			continue;
		buf_init(&b, 0);
		buf_append(&b, "\x01\x01\x00\x00", 4);
		put_str(&b, known[i].bound, strlen(known[i].bound));
		put_str(&b, "romeo@example.net/o", 19);
		put_str(&b, xml, sizeof(xml) - 1);
		send_frame(LINK_STANZA, known[i].sid, &b);
		buf_clear(&b);
	}
}

/* ---- the client --------------------------------------------------------- */

static int			 client_fd = -1;
static struct fuzz_xmlcheck	 client_xc;

static bool
client_service(void)
{
	char	tmp[16384];
	ssize_t	n;
	bool	busy = false;

	if (client_fd == -1)
		return false;
	while ((n = read(client_fd, tmp, sizeof(tmp))) > 0) {
		fuzz_xmlcheck_feed(&client_xc, tmp, (size_t)n);
		busy = true;
	}
	return busy;
}

/* arg unused: the shape of fuzz_send's settle */
static void
settle(void *arg)
{
	int	i;
	bool	busy;

	(void)arg;
	for (i = 0; i < QUIET_ROUNDS; i++) {
		ev_run(c2s.loop, EVRUN_NOWAIT);
		busy = work_poll() > 0;	/* PBKDF2 jobs, run inline */
		if (router_service())
			busy = true;
		if (client_service())
			busy = true;
		if (!busy && i > 2)
			break;
	}
}

static char	*challenge;	/* the last server-first-message */

/* the c2s's <challenge/>s, as the client reads them */
static void
client_element(void *arg, struct xnode *el, struct arena *a)
{
	struct buf	b;
	const char	*text;

	(void)arg;
	/* RFC 6120's and XEP-0388's (the sasl2-* seeds log in too) */
	if ((strcmp(el->ns, "urn:ietf:params:xml:ns:xmpp-sasl") != 0 &&
	    strcmp(el->ns, NS_SASL2) != 0) ||
	    strcmp(el->name, "challenge") != 0)
		return;
	text = xnode_text(a, el);
	buf_init(&b, 0);
	if (base64_decode(&b, text, strlen(text)) == 0 && buf_avail(&b) > 0) {
		free(challenge);
		challenge = xstrndup(buf_rptr(&b), buf_avail(&b));
	}
	buf_clear(&b);
}

/* RFC 5802 3 for "user" with PASSWORD: base64 client-final into out */
static void
scram_final(enum scram_hash h, struct buf *out)
{
	struct buf	 auth, msg;
	const char	*r, *sp, *ip;
	uint8_t		 salt[SCRAM_SALT_MAX], salted[SCRAM_KEY_MAX];
	uint8_t		 ckey[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX];
	uint8_t		 sig[SCRAM_KEY_MAX], proof[SCRAM_KEY_MAX];
	size_t		 hl = scram_hash_len(h), saltlen, i;
	unsigned long	 iter;

	if (challenge == NULL || strncmp(challenge, "r=", 2) != 0 ||
	    (sp = strstr(challenge, ",s=")) == NULL ||
	    (ip = strstr(sp, ",i=")) == NULL)
		return;
	r = challenge + 2;
	buf_init(&msg, 0);
	if (base64_decode(&msg, sp + 3, (size_t)(ip - sp - 3)) == -1 ||
	    (saltlen = buf_avail(&msg)) == 0 || saltlen > sizeof(salt)) {
		buf_clear(&msg);
		return;
	}
	memcpy(salt, buf_rptr(&msg), saltlen);
	iter = strtoul(ip + 3, NULL, 10);
	buf_reset(&msg);
	buf_puts(&msg, "c=biws,r=");
	buf_append(&msg, r, (size_t)(sp - r));
	buf_init(&auth, 0);
	buf_printf(&auth, "%s,%s,", CFIRST_BARE, challenge);
	buf_append(&auth, buf_rptr(&msg), buf_avail(&msg));
	if (iter == 0 || iter > 64 || scram_salted_password(h, PASSWORD,
	    salt, saltlen, (uint32_t)iter, salted) == -1)
		memset(salted, 0, sizeof(salted));
	scram_hmac(h, salted, hl, "Client Key", 10, ckey);
	scram_h(h, ckey, hl, stored);
	scram_hmac(h, stored, hl, buf_rptr(&auth), buf_avail(&auth), sig);
	for (i = 0; i < hl; i++)
		proof[i] = ckey[i] ^ sig[i];
	buf_puts(&msg, ",p=");
	(void)base64_encode(&msg, proof, hl);
	(void)base64_encode(out, buf_rptr(&msg), buf_avail(&msg));
	buf_clear(&auth);
	buf_clear(&msg);
}

/* a chunk with %F, %S and %1 written out; returns new */
static struct buf
expand(const uint8_t *p, size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 1 < n && p[i + 1] == 'F') {
			(void)base64_encode(&b, "n,," CFIRST_BARE,
			    strlen("n,," CFIRST_BARE));
			i++;
		} else if (p[i] == '%' && i + 1 < n && p[i + 1] == 'S') {
			scram_final(SCRAM_SHA256, &b);
			i++;
		} else if (p[i] == '%' && i + 1 < n && p[i + 1] == '1') {
			scram_final(SCRAM_SHA1, &b);
			i++;
		} else
			buf_append(&b, p + i, 1);
	}
	return b;
}

/* sends data in the plan's chunks, each expanded, letting c2s work between */
static void
pump(const uint8_t *data, size_t len, struct fuzz_plan *plan)
{
	struct buf	chunk;
	size_t		off = 0, n;
	bool		done;

	while (off < len) {
		n = fuzz_plan_next(plan, len - off);
		chunk = expand(data + off, n);
		off += n;
		/* not reading (paused, TLS): stop */
		done = fuzz_send(client_fd, (const uint8_t *)buf_rptr(&chunk),
		    buf_avail(&chunk), STALL_MAX, settle, NULL) <
		    buf_avail(&chunk);
		buf_clear(&chunk);
		if (done)
			return;
		settle(NULL);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	hosts[2];
	static const uint8_t	salt[SCRAM_SALT_LEN] = "fuzzsaltfuzzsalt";
	uint8_t			salted[SCRAM_KEY_MAX];
	int			h;

	(void)argc;
	(void)argv;
	fuzz_log_init();
	for (h = 0; h < SCRAM_NHASH; h++) {
		if (scram_salted_password(h, PASSWORD, salt, sizeof(salt),
		    ITER, salted) == -1)
			fatalx("salted password");
		scram_cred_from_salted(&pencil.h[h], h, salted, salt,
		    sizeof(salt), ITER);
	}
	c2s.loop = ev_default_loop(EVFLAG_AUTO);
	hosts[0].name = xstrdup("example.org");
	hosts[0].allow_register = true;
	hosts[1].name = xstrdup("example.com");
	c2s.conf.hosts = hosts;
	c2s.conf.nhosts = 2;
	c2s.conf.rundir = xstrdup(fuzz_tmpdir());
	c2s.conf.max_stanza_size = 16384;
	work_inline(true);
	c2s.conf.c2s_max_stanza_preauth = 10000;
	c2s.conf.preauth_stream_memory = 64 * 1024;
	c2s.conf.negotiation_timeout = 30;
	c2s.conf.idle_timeout = 600;
	c2s.conf.auth_retries = 3;
	c2s.conf.c2s_max_sessions = 100;
	c2s.conf.link_queue_max = 1 << 20;
	/* small: the echoes of an inactive session reach the cap */
	c2s.conf.sm_request_stanzas = 3;
	c2s.conf.sm_request_interval = 30;
	c2s.conf.c2s_restart_hold = 30;		/* the default */
	c2s.conf.csi_queue_max = 4;
	c2s.conf.csi_queue_max_bytes = 4096;
	/* registrations derive credentials: cheaply, for a fuzzer */
	c2s.conf.scram_iterations = ITER;
	c2s.instance = 1;
	c2s.streams = map_new();
	buf_init(&c2s.scratch, 0);
	buf_init(&from_c2s, 0);
	fuzz_tls_nocert(&c2s.tls);
	link_loop_init(c2s.loop);
	transport_loop_init(c2s.loop);
	lfd = fuzz_unix_listen("router.sock");
	uplink_start();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct conf_listen cl = { .addr = "::1", .port = 5222 };
	struct listener		 lst = { .cl = &cl, .fd = -1 };
	struct fuzz_plan	 plan;
	int			 mode, sv[2];

	if ((mode = fuzz_plan_mode(&plan, &data, &len)) == -1)
		return 0;
	c2s.conf.c2s_require_tls = (mode & 1) != 0;
	sha1_only = (mode & 16) != 0;
	cl.kind = mode & 2 ? LISTEN_C2S_TLS : LISTEN_C2S;

	/* the router: connected already (a reconnect) or now */
	if (!uplink_up()) {
		ev_feed_event(c2s.loop, &c2s.uplink.retry.w, EV_TIMER);
		ev_run(c2s.loop, EVRUN_NOWAIT);
	}
	FUZZ_CHECK(uplink_up(), "c2s did not connect");
	FUZZ_CHECK((router_fd = fuzz_accept(lfd)) != -1,
	    "no connection to accept");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		fatal("socketpair");
	client_fd = sv[1];
	fuzz_xmlcheck_init(&client_xc, "to the client", NS_CLIENT,
	    client_element, NULL);
	stream_accept(&lst, sv[0]);
	settle(NULL);
	pump(data, len, &plan);
	settle(NULL);
	if (mode & 4) {
		/* requests in flight fail; bound sessions are announced */
		close(router_fd);
		buf_reset(&from_c2s);
		settle(NULL);
		router_fd = fuzz_accept(lfd);
		settle(NULL);
	}
	if (mode & 8) {
		/*
		 * The client vanishes while a message is on its way to it:
		 * the c2s takes the message from the link in one loop
		 * iteration and writes it, to a closed socket, in the next.
		 */
		deliver_to_bound();
		ev_run(c2s.loop, EVRUN_NOWAIT);
		close(client_fd);
		client_fd = -1;
	} else
		shutdown(client_fd, SHUT_WR);
	settle(NULL);
	/* then the router goes: pending requests are failed */
	if (router_fd != -1) {
		close(router_fd);
		router_fd = -1;
		settle(NULL);
	}
	FUZZ_CHECK(map_count(c2s.streams) == 0 && c2s.nstreams == 0,
	    "streams outlived their client: %zu in the table, %zu allocated",
	    map_count(c2s.streams), c2s.nstreams);
	/* a reconnect may have come in meanwhile: it waits for next time */
	buf_reset(&from_c2s);
	if (client_fd != -1)
		close(client_fd);
	client_fd = -1;
	fuzz_xmlcheck_clear(&client_xc);
	known_clear();
	free(challenge);
	challenge = NULL;
	return 0;
}
