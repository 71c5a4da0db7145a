/*
 * Fuzz target: the router's stanza handlers (roster, presence and
 * subscriptions, offline storage, blocking, and the IQ handlers of
 * router/iq.c's table) behind the real link code, with the in-memory
 * store of tests/fuzz/fake_store.c. Each run connects as a c2s process
 * and as the s2s process to router/links.c's socket, binds three sessions
 * of the accounts alice, bob and carol (dave has none), then turns the
 * input into the frames those processes would send: stanzas stamped and
 * normalised as c2s/stream.c does, stanzas from remote JIDs as the s2s
 * hands them over, sessions ending and binding again, parleyctl deleting
 * an account.
 *
 * Oracles: no crash, leak or undefined behaviour; every frame the router
 * writes decodes (fuzz_check_output_frames, then each field), and every
 * stanza in it is one element; a session receives nothing addressed to
 * another account (its envelope's and its element's 'to') nor, errors
 * aside, from a JID it blocks (XEP-0191), the s2s only stanzas for remote
 * domains from local ones; roster items in results and pushes carry
 * RFC 6121 values, and the stored items are states of RFC 6121
 * Appendix A with versions at most the roster's; a deleted
 * account keeps no session and no record; when the links close, every
 * session and user is gone.
 *
 * Input: records, until the bytes run out. A record's first byte: bits
 * 0-2 what (0-3 a stanza from session slot 0-3, 4 or 5 a stanza from the
 * s2s, 6 the slot ends or begins its session, 7 it binds again), bits 3-4
 * a slot or a remote sender, bit 5 with what 7: parleyctl deletes the
 * account of slot (alice, bob, carol, dave), which is then added again;
 * bit 6 with what 6: a big-endian u16 length and that many bytes are
 * stored as an invitation record (storage/store_codec.c) under the token
 * INVITE_TOKEN, once the codec has read them back the same through an
 * encode (when they decode at all); bit 7 unused. A stanza record goes
 * on with a byte choosing its 'to' (to_table; 0 keeps the element's
 * own), a big-endian u16 length and that many bytes of XML (fewer at the
 * end).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../common/work.h"
#include "../../common/xmlstream.h"
#include "../../common/xmpp.h"
#include "../../router/router.h"
#include "../../storage/store_codec.h"
#include "fake_store.h"
#include "fuzz.h"
#include "fuzz_rbase.h"

#define DOMAIN		"example.org"
#define NS_ROSTER	"jabber:iq:roster"	/* RFC 6121 2 */
#define NSLOTS		4
#define MAX_RECORDS	256
/* the token whose stored invitation the input may write (xml.dict) */
#define INVITE_TOKEN	"fuzzinvite"

struct router	router;

/* the c2s's sessions: slot 3 (carol) starts offline */
static const char *const slot_jid[NSLOTS] = {
	"alice@example.org/a", "alice@example.org/b", "bob@example.org/x",
	"carol@example.org/z",
};
static const char *const accounts[] = { "alice", "bob", "carol", "dave" };
static const char *const remote_from[] = {
	"rob@remote.example/r", "rob@remote.example", "eve@evil.example/e",
	"remote.example",
};
/* 0: the element's own 'to'; 1: none */
static const char *const to_table[] = {
	NULL, NULL, "alice@example.org", "alice@example.org/a",
	"alice@example.org/b", "bob@example.org", "bob@example.org/x",
	"carol@example.org", "carol@example.org/z", "dave@example.org",
	"nobody@example.org", DOMAIN, "remote.example", "rob@remote.example",
	"rob@remote.example/r", "eve@evil.example", "alice@example.org/gone",
};

struct slot {
	uint64_t	sid;
	bool		bound;		/* SESS_BEGIN sent, not ended */
};

static struct {
	int		 c2s_fd, s2s_fd, ctl_fd;
	struct buf	 c2s_in, s2s_in, ctl_in; /* what the router wrote */
	struct slot	 slot[NSLOTS];
	uint64_t	 next_sid;
	/* every sid ever bound, and its slot: late frames are normal */
	uint64_t	 sids[MAX_RECORDS + NSLOTS + 1];
	int		 sid_slot[MAX_RECORDS + NSLOTS + 1];
	size_t		 nsids;
	struct xparse	*xp;
	const struct link_stanza *cur;	/* being checked, for messages */
} h;

/* ---- frames to the router ----------------------------------------------- */

static void
pump(void)
{
	char	tmp[16384];
	ssize_t	n;
	int	i;

	for (i = 0; i < 4; i++) {
		(void)work_poll();	/* PBKDF2 jobs (pwjob.c), run inline */
		ev_run(router.loop, EVRUN_NOWAIT);
		while (h.c2s_fd != -1 &&
		    (n = read(h.c2s_fd, tmp, sizeof(tmp))) > 0)
			buf_append(&h.c2s_in, tmp, (size_t)n);
		while (h.s2s_fd != -1 &&
		    (n = read(h.s2s_fd, tmp, sizeof(tmp))) > 0)
			buf_append(&h.s2s_in, tmp, (size_t)n);
		while (h.ctl_fd != -1 &&
		    (n = read(h.ctl_fd, tmp, sizeof(tmp))) > 0)
			buf_append(&h.ctl_in, tmp, (size_t)n);
	}
}

static void
send_frame(int fd, uint16_t type, uint64_t sid, const struct buf *payload)
{
	struct link_out	 m;
	struct buf	 f;
	size_t		 off = 0;
	ssize_t		 w;
	int		 stall = 0;

	buf_init(&f, 0);
	link_out_buf(&m, &f);
	link_put_u32(&m, payload != NULL ? (uint32_t)buf_avail(payload) : 0);
	link_put_u16(&m, type);
	link_put_u16(&m, 0);
	link_put_u64(&m, sid);
	if (payload != NULL)
		buf_append(&f, buf_rptr(payload), buf_avail(payload));
	while (off < buf_avail(&f) && stall < 64) {
		w = write(fd, buf_rptr(&f) + off, buf_avail(&f) - off);
		if (w > 0) {
			off += (size_t)w;
			stall = 0;
		} else if (w == -1 && errno != EAGAIN && errno != EINTR)
			break;
		else
			stall++;
		pump();
	}
	buf_clear(&f);
}

static void
send_hello(int fd, uint32_t role)
{
	struct link_out	m;
	struct buf	p;

	buf_init(&p, 0);
	link_out_buf(&m, &p);
	link_put_u32(&m, LINK_VERSION);
	link_put_u32(&m, role);
	/* an instance number is a c2s's alone (link_hello_parse) */
	link_put_u32(&m, role == LINK_ROLE_C2S ? 1 : 0);
	send_frame(fd, LINK_HELLO, 0, &p);
	buf_clear(&p);
}

static void
sess_begin_slot(int i)
{
	struct link_out	m;
	struct buf	p;

	if (h.nsids == nitems(h.sids))
		return;
	h.slot[i].sid = ++h.next_sid;
	h.slot[i].bound = true;
	h.sids[h.nsids] = h.slot[i].sid;
	h.sid_slot[h.nsids++] = i;
	buf_init(&p, 0);
	link_out_buf(&m, &p);
	link_put_str(&m, slot_jid[i]);
	link_put_u32(&m, 0);
	send_frame(h.c2s_fd, LINK_SESS_BEGIN, h.slot[i].sid, &p);
	buf_clear(&p);
}

static void
sess_end_slot(int i)
{
	h.slot[i].bound = false;
	send_frame(h.c2s_fd, LINK_SESS_END, h.slot[i].sid, NULL);
}

static void
send_stanza(int fd, uint64_t sid, int kind, int type, const char *to,
    const char *from, const struct buf *xml)
{
	struct link_out	m;
	struct buf	p;

	buf_init(&p, 0);
	link_out_buf(&m, &p);
	link_put_stanza(&m, kind, type, to, from, buf_rptr(xml),
	    buf_avail(xml));
	send_frame(fd, LINK_STANZA, sid, &p);
	buf_clear(&p);
}

/* ---- what the c2s and the s2s would send -------------------------------- */

struct stamp {
	int		 who;		/* slot, or -1 for the s2s */
	const char	*from;		/* for the s2s */
	int		 toix;
};

/* the element as c2s/stream.c checks, stamps and forwards it */
static void
stamp_el(struct xnode *el, struct arena *a, void *arg)
{
	struct stamp	*sp = arg;
	struct jid	 j;
	struct buf	 xml;
	const char	*to;
	char		*norm = NULL;
	int		 kind, type;

	if ((kind = stanza_kind_of(el->ns, el->name, NS_CLIENT)) == -1 ||
	    (type = stanza_type_of(kind, xnode_attr(el, "type"))) ==
	    STANZA_TYPE_BAD)
		return;
	if (kind == KIND_IQ && xnode_attr(el, "id") == NULL)
		return;
	to = sp->toix == 0 ? xnode_attr(el, "to") : to_table[sp->toix];
	if (to != NULL) {
		if (jid_parse(&j, to) == -1)
			return;
		norm = jid_full(&j);
		/* the s2s takes only stanzas for a domain we serve */
		if (sp->who == -1 && strcmp(j.domain, DOMAIN) != 0) {
			jid_clear(&j);
			free(norm);
			return;
		}
		jid_clear(&j);
	} else if (sp->who == -1)
		return;
	xnode_set_attr(a, el, "to", norm);
	xnode_set_attr(a, el, "from", sp->who == -1 ? sp->from :
	    slot_jid[sp->who]);
	buf_init(&xml, LINK_STANZA_MAX);
	if (xnode_write(&xml, el, NS_CLIENT) == 0) {
		if (sp->who == -1)
			send_stanza(h.s2s_fd, 0, kind, type, norm, sp->from,
			    &xml);
		else
			send_stanza(h.c2s_fd, h.slot[sp->who].sid, kind, type,
			    norm, slot_jid[sp->who], &xml);
	}
	buf_clear(&xml);
	free(norm);
}

/* ---- what the router sends ---------------------------------------------- */

static int
slot_of_sid(uint64_t sid)
{
	size_t	i;

	for (i = 0; i < h.nsids; i++)
		if (h.sids[i] == sid)
			return h.sid_slot[i];
	return -1;
}

/* the account part of a JID, "" when it has none (a domain) */
static bool
bare_of(const char *s, char *out)
{
	struct jid	j;

	if (jid_parse(&j, s) == -1)
		return false;
	jid_format(out, j.node, j.domain, NULL);
	if (j.node == NULL)
		out[0] = '\0';
	jid_clear(&j);
	return true;
}

static bool
domain_of(const char *s, char *out)
{
	struct jid	j;

	if (jid_parse(&j, s) == -1)
		return false;
	jid_format(out, NULL, j.domain, NULL);
	jid_clear(&j);
	return true;
}

static void
check_addressee(const char *to, int slot)
{
	char	bare[JID_STR_MAX + 1], mine[JID_STR_MAX + 1];

	FUZZ_CHECK(bare_of(to, bare), "a stanza to the bad JID \"%s\"", to);
	bare_of(slot_jid[slot], mine);
	FUZZ_CHECK(bare[0] == '\0' || strcmp(bare, mine) == 0,
	    "%s received a stanza addressed to %s", slot_jid[slot], to);
}

static bool
one_of(const char *v, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

/*
 * RFC 6121 2.1.2: the item attributes of a roster result or push, which
 * come from the account itself (no 'from', or its bare JID); what other
 * entities send is theirs, and an error echoes the request.
 */
static void
check_roster(const struct xnode *el, int slot)
{
	static const char *const subs[] = { "none", "to", "from", "both",
	    "remove", NULL };
	const struct xnode	*q, *it;
	const char		*v, *from = xnode_attr(el, "from");
	char			 mine[JID_STR_MAX + 1];

	bare_of(slot_jid[slot], mine);
	if ((q = xnode_child(el, NS_ROSTER, "query")) == NULL ||
	    strcmp(el->name, "iq") != 0 ||
	    (from != NULL && strcmp(from, mine) != 0) ||
	    stanza_type_of(KIND_IQ, xnode_attr(el, "type")) == IQ_ERROR)
		return;
	for (it = xnode_child(q, NS_ROSTER, "item"); it != NULL;
	    it = xnode_next(it, NS_ROSTER, "item")) {
		FUZZ_CHECK(xnode_attr(it, "jid") != NULL, "an item without "
		    "jid: %.*s", (int)h.cur->xlen, h.cur->xml);
		v = xnode_attr(it, "subscription");
		FUZZ_CHECK(v == NULL || one_of(v, subs), "subscription "
		    "'%s'", v);
		v = xnode_attr(it, "ask");
		FUZZ_CHECK(v == NULL || strcmp(v, "subscribe") == 0,
		    "ask '%s'", v);
	}
}

/*
 * XEP-0191 3.5: nothing from a JID the account blocks (the JID, its bare
 * JID or its domain, as stored) reaches it, but errors: an answer to the
 * account's own stanza comes back from the address it was sent to.
 */
static void
check_blocked(const struct xnode *el, int slot)
{
	struct jid	 me, j;
	const char	*from = xnode_attr(el, "from");
	char		 bare[JID_STR_MAX + 1];
	bool		 blocked;

	if (from == NULL || strcmp(xnode_attr(el, "type") != NULL ?
	    xnode_attr(el, "type") : "", "error") == 0 ||
	    jid_parse(&j, from) == -1)
		return;
	if (jid_parse(&me, slot_jid[slot]) == -1)
		fatalx("%s: %s", __func__, slot_jid[slot]);
	jid_format(bare, j.node, j.domain, NULL);
	blocked = (j.node == NULL || strcmp(j.node, me.node) != 0 ||
	    strcmp(j.domain, me.domain) != 0) &&
	    (store_block_has(router.store, me.node, me.domain, from) == 0 ||
	    store_block_has(router.store, me.node, me.domain, bare) == 0 ||
	    store_block_has(router.store, me.node, me.domain, j.domain) == 0);
	FUZZ_CHECK(!blocked, "%s received a stanza from %s, which it blocks: "
	    "%.*s", slot_jid[slot], from, (int)h.cur->xlen, h.cur->xml);
	jid_clear(&j);
	jid_clear(&me);
}

struct out_job {
	int	slot;		/* -1: to the s2s */
};

static void
check_el(struct xnode *el, struct arena *a, void *arg)
{
	struct out_job	*job = arg;
	const char	*to = xnode_attr(el, "to");

	(void)a;
	FUZZ_CHECK(stanza_kind_of(el->ns, el->name, NS_CLIENT) != -1,
	    "the router sent a {%s}%s", el->ns, el->name);
	if (job->slot >= 0 && to != NULL)
		check_addressee(to, job->slot);
	if (job->slot >= 0) {
		check_roster(el, job->slot);
		check_blocked(el, job->slot);
	}
}

static void
check_stanza(const struct link_stanza *ls, int slot)
{
	struct out_job	job = { slot };
	char		to[JID_STR_MAX + 1], dom[JID_STR_MAX + 1];

	h.cur = ls;
	FUZZ_CHECK(ls->kind <= KIND_IQ, "kind %u", ls->kind);
	FUZZ_CHECK(xparse_one(h.xp, ls->xml, ls->xlen, check_el, &job) == 0,
	    "a stanza that is not one element: %.*s", (int)ls->xlen,
	    ls->xml);
	if (ls->to != NULL) {
		FUZZ_CHECK(link_strcpy(to, sizeof(to), ls->to, ls->tolen),
		    "an envelope 'to' that is no string");
		if (slot >= 0)
			check_addressee(to, slot);
	}
	if (slot >= 0)
		return;
	/* to the s2s: for a remote domain, from one of ours */
	FUZZ_CHECK(ls->to != NULL && ls->from != NULL, "to the s2s without "
	    "an address");
	FUZZ_CHECK(domain_of(to, dom) && strcmp(dom, DOMAIN) != 0,
	    "the s2s got a stanza to %s", to);
	FUZZ_CHECK(link_strcpy(to, sizeof(to), ls->from, ls->fromlen) &&
	    domain_of(to, dom) && strcmp(dom, DOMAIN) == 0,
	    "the s2s got a stanza from %s", to);
}

static void
on_c2s_frame(const struct link_hdr *hd, const char *payload)
{
	struct link_in		in;
	struct link_stanza	ls;
	uint32_t		status, n, i;
	uint64_t		sid;
	char			jid[JID_STR_MAX + 1];
	int			slot;

	link_in_init(&in, payload, hd->len);
	switch (hd->type) {
	case LINK_HELLO:
		return;
	case LINK_SECRETS: {
		struct link_secrets	ks;

		/* after the HELLO: the router's own keys, whole */
		FUZZ_CHECK(hd->sid == 0 && link_secrets_parse(payload,
		    hd->len, &ks) == 0 && memcmp(&ks, &router.secrets,
		    sizeof(ks)) == 0, "a bad LINK_SECRETS");
		return;
	}
	case LINK_HOST_CAPS: {
		char	domain[JID_STR_MAX + 1], ver[CAPS_VER_MAX];

		/* after the HELLO, one per host: the server's own caps */
		link_get_str(&in, domain, sizeof(domain));
		link_get_str(&in, ver, sizeof(ver));
		FUZZ_CHECK(link_in_done(&in) && hd->sid == 0 &&
		    strcmp(domain, DOMAIN) == 0 && strlen(ver) == 28,
		    "a bad LINK_HOST_CAPS");
		return;
	}
	case LINK_SESS_BOUND:
		link_get_u32(&in, &status);
		link_get_str(&in, jid, sizeof(jid));
		FUZZ_CHECK(link_in_done(&in), "a bad LINK_SESS_BOUND");
		slot = slot_of_sid(hd->sid);
		FUZZ_CHECK(slot >= 0, "bound an unknown session");
		if (status != 0 && h.slot[slot].sid == hd->sid)
			h.slot[slot].bound = false;
		return;
	case LINK_SESS_KICK:
		link_get_u32(&in, &status);
		FUZZ_CHECK(link_in_done(&in), "a bad LINK_SESS_KICK");
		slot = slot_of_sid(hd->sid);
		FUZZ_CHECK(slot >= 0, "kicked an unknown session");
		/* the router has ended it: the c2s closes the stream */
		if (h.slot[slot].sid == hd->sid)
			h.slot[slot].bound = false;
		return;
	case LINK_STANZA:
		link_get_stanza(&in, &ls);
		FUZZ_CHECK(link_in_done(&in), "a bad LINK_STANZA");
		slot = slot_of_sid(hd->sid);
		FUZZ_CHECK(slot >= 0, "a stanza for an unknown session");
		check_stanza(&ls, slot);
		return;
	case LINK_STANZA_MULTI:
		link_get_stanza(&in, &ls);
		link_get_u32(&in, &n);
		FUZZ_CHECK(!in.bad && n > 0 && in.left == (size_t)n * 8,
		    "a bad LINK_STANZA_MULTI");
		for (i = 0; i < n; i++) {
			link_get_u64(&in, &sid);
			slot = slot_of_sid(sid);
			FUZZ_CHECK(slot >= 0, "a stanza for an unknown "
			    "session");
			check_stanza(&ls, slot);
		}
		FUZZ_CHECK(link_in_done(&in), "a bad LINK_STANZA_MULTI");
		return;
	default:
		FUZZ_CHECK(0, "the router sent the c2s a %s",
		    link_msg_name(hd->type));
	}
}

static void
on_s2s_frame(const struct link_hdr *hd, const char *payload)
{
	struct link_in		in;
	struct link_stanza	ls;

	if (hd->type == LINK_HELLO)
		return;
	FUZZ_CHECK(hd->type == LINK_STANZA, "the router sent the s2s a %s",
	    link_msg_name(hd->type));
	link_in_init(&in, payload, hd->len);
	link_get_stanza(&in, &ls);
	FUZZ_CHECK(link_in_done(&in), "a bad LINK_STANZA to the s2s");
	check_stanza(&ls, -1);
}

static void
on_ctl_frame(const struct link_hdr *hd, const char *payload)
{
	(void)payload;
	FUZZ_CHECK(hd->type == LINK_HELLO || hd->type == LINK_CTL_REPLY,
	    "the router sent parleyctl a %s", link_msg_name(hd->type));
}

/* checks and consumes the complete frames in b */
static void
read_frames(struct buf *b, void (*fn)(const struct link_hdr *,
    const char *))
{
	struct link_in	in;
	struct link_hdr	hd;

	fuzz_check_output_frames(b);
	while (buf_avail(b) >= LINK_HDR_LEN) {
		link_in_init(&in, buf_rptr(b), LINK_HDR_LEN);
		link_get_u32(&in, &hd.len);
		link_get_u16(&in, &hd.type);
		link_get_u16(&in, &hd.flags);
		link_get_u64(&in, &hd.sid);
		if (buf_avail(b) - LINK_HDR_LEN < hd.len)
			break;
		fn(&hd, buf_rptr(b) + LINK_HDR_LEN);
		buf_consume(b, LINK_HDR_LEN + hd.len);
	}
}

static void
settle(void)
{
	pump();
	read_frames(&h.c2s_in, on_c2s_frame);
	read_frames(&h.s2s_in, on_s2s_frame);
	read_frames(&h.ctl_in, on_ctl_frame);
}

/* ---- the stored rosters ------------------------------------------------- */

struct roster_check {
	const char	*node;
	uint64_t	 ver;
};

/* RFC 6121 Appendix A: the states an item may be in */
static int
check_item(const struct roster_item *it, void *arg)
{
	struct roster_check	*rc = arg;

	FUZZ_CHECK(it->sub <= SUB_BOTH, "%s: %s: subscription %d", rc->node,
	    it->jid, (int)it->sub);
	FUZZ_CHECK(!it->ask || it->sub == SUB_NONE || it->sub == SUB_FROM,
	    "%s: %s: pending out with subscription %d", rc->node, it->jid,
	    (int)it->sub);
	FUZZ_CHECK(!it->pending_in || it->sub == SUB_NONE ||
	    it->sub == SUB_TO, "%s: %s: pending in with subscription %d",
	    rc->node, it->jid, (int)it->sub);
	FUZZ_CHECK(it->pending_xml == NULL || it->pending_in,
	    "%s: %s: a stored request that is not pending", rc->node,
	    it->jid);
	FUZZ_CHECK(!it->hidden || it->sub != SUB_NONE || it->ask ||
	    it->pending_in || it->preapproved, "%s: %s: an empty hidden item",
	    rc->node, it->jid);
	FUZZ_CHECK(it->ver >= 1 && it->ver <= rc->ver, "%s: %s: version "
	    "%llu of %llu", rc->node, it->jid, (unsigned long long)it->ver,
	    (unsigned long long)rc->ver);
	return 0;
}

static void
check_rosters(void)
{
	struct roster_check	rc;
	size_t			i;

	for (i = 0; i < nitems(accounts); i++) {
		rc.node = accounts[i];
		(void)store_roster_version(router.store, accounts[i], DOMAIN,
		    &rc.ver);
		(void)store_roster_list(router.store, accounts[i], DOMAIN,
		    check_item, &rc);
	}
}

/* ---- the harness -------------------------------------------------------- */

/*
 * Raw bytes as INVITE_TOKEN's stored invitation, for the router to read
 * (a subscription or a registration with the token, parleyctl invite
 * --list). Oracle: what decodes encodes, and reads back the same.
 */
static void
plant_invite(const uint8_t *rec, size_t len)
{
	struct invite	iv, back;
	unsigned char	md[32];
	char		key[INVITE_HASH_LEN + 1], enc[INVITE_REC_MAX];
	size_t		n;

	if (rec_invite_decode(rec, len, &iv) == 0) {
		n = rec_invite_encode(enc, &iv);
		FUZZ_CHECK(n > 0, "a decoded invitation does not encode");
		FUZZ_CHECK(rec_invite_decode(enc, n, &back) == 0 &&
		    memcmp(&iv, &back, sizeof(iv)) == 0,
		    "an invitation does not read back as it was");
	}
	FUZZ_CHECK(gnutls_hash_fast(GNUTLS_DIG_SHA256, INVITE_TOKEN,
	    strlen(INVITE_TOKEN), md) == 0, "no SHA-256");
	hex_encode(key, md, sizeof(md));
	(void)store_doc_put(router.store, DOC_INVITE, "@invite", DOMAIN, key,
	    (const char *)rec, len);
}

static void
add_account(const char *node)
{
	fuzz_rbase_account(node, DOMAIN);
}

/* parleyctl deluser: nothing of the account may stay, then it is back */
static void
del_account(const char *node)
{
	struct link_out	 m;
	struct buf	 p;
	char		 bare[JID_STR_MAX + 1];

	jid_format(bare, node, DOMAIN, NULL);
	buf_init(&p, 0);
	link_out_buf(&m, &p);
	link_put_str(&m, bare);
	send_frame(h.ctl_fd, LINK_CTL_DELUSER, ++h.next_sid, &p);
	buf_clear(&p);
	settle();
	FUZZ_CHECK(map_get(router.by_bare, bare) == NULL, "%s deleted with "
	    "a session left", bare);
	FUZZ_CHECK(fake_store_owned(router.store, node, DOMAIN) == 0,
	    "%s deleted, %zu records left", bare,
	    fake_store_owned(router.store, node, DOMAIN));
	add_account(node);
}

static int
connect_as(uint32_t role)
{
	int	fd;

	fd = unix_connect(router.conf.rundir, role == LINK_ROLE_CTL ?
	    "router.ctl" : "router.sock");
	FUZZ_CHECK(fd != -1, "cannot connect to the router");
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ev_run(router.loop, EVRUN_NOWAIT);
	send_hello(fd, role);
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	host;

	(void)argc;
	(void)argv;
	fuzz_rbase_init(&host, DOMAIN);
	work_inline(true);	/* no threads: jobs end in pump's work_poll */
	router.conf.rundir = xstrdup(fuzz_tmpdir());
	router.conf.link_queue_max = 4 << 20;
	router.conf.max_resources = 3;
	router.conf.scram_iterations = 4096;
	router.conf.register_interval = 60;
	/* small quotas, so that a short input reaches them */
	router.conf.roster_max_items = 12;
	router.conf.offline_max = 6;
	router.conf.offline_max_bytes = 16384;
	router.conf.private_max_docs = 4;
	router.conf.private_max_bytes = 8192;
	router.conf.block_max_items = 8;
	router.conf.pubsub_max_nodes = 4;
	router.conf.pubsub_max_items = 4;
	router.conf.pubsub_item_max_size = 2048;
	router.conf.pubsub_max_subscriptions = 4;
	router.conf.archive = true;
	router.conf.caps_cache_max = 4;
	router.conf.caps_cache_size = 64 * 1024;
	router.conf.caps_queries_max = 2;
	router.conf.caps_query_timeout = 30;
	router.conf.push_max_devices = 2;
	router.conf.push_form_max_size = 512;
	router.conf.push_interval = 0;
	router.conf.push_pending_max = 2;
	host.push_body = true;	/* the body path too */
	host.admins = xstrdup("carol@example.org");	/* XEP-0133 */
	last_init();
	link_loop_init(router.loop);
	if (rlink_listen() == -1)
		fatalx("rlink_listen");
	h.xp = xparse_new(NS_CLIENT, LINK_MAX_PAYLOAD);
	h.c2s_fd = h.s2s_fd = h.ctl_fd = -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct stamp	sp;
	size_t		off = 0, n, nrec = 0;
	uint8_t		op;
	int		i, slot;

	memset(h.slot, 0, sizeof(h.slot));
	h.nsids = 0;
	buf_init(&h.c2s_in, 0);
	buf_init(&h.s2s_in, 0);
	buf_init(&h.ctl_in, 0);
	for (i = 0; i < (int)nitems(accounts); i++)
		add_account(accounts[i]);
	h.c2s_fd = connect_as(LINK_ROLE_C2S);
	h.s2s_fd = connect_as(LINK_ROLE_S2S);
	h.ctl_fd = connect_as(LINK_ROLE_CTL);
	for (i = 0; i < NSLOTS - 1; i++)
		sess_begin_slot(i);
	settle();

	while (off < len && nrec++ < MAX_RECORDS) {
		op = data[off++];
		slot = op >> 3 & 3;
		switch (op & 7) {
		case 6:
			if (op & 0x40) {
				if (len - off < 2) {
					off = len;
					break;
				}
				n = (size_t)data[off] << 8 | data[off + 1];
				off += 2;
				if (n > len - off)
					n = len - off;
				plant_invite(data + off, n);
				off += n;
				continue;
			}
			if (h.slot[slot].bound)
				sess_end_slot(slot);
			else
				sess_begin_slot(slot);
			settle();
			continue;
		case 7:
			if (op & 0x20)
				del_account(accounts[slot]);
			else
				sess_begin_slot(slot);
			settle();
			continue;
		}
		if (len - off < 3) {
			off = len;
			break;
		}
		memset(&sp, 0, sizeof(sp));
		sp.toix = data[off] % nitems(to_table);
		n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > len - off)
			n = len - off;
		if ((op & 7) < NSLOTS) {
			sp.who = op & 7;
			if (!h.slot[sp.who].bound)
				sp.who = -2;
		} else {
			sp.who = -1;
			sp.from = remote_from[slot];
		}
		if (sp.who != -2)
			(void)xparse_one(h.xp, (const char *)data + off, n,
			    stamp_el, &sp);
		off += n;
		settle();
	}

	/* the c2s and the s2s go away: so do their sessions */
	check_rosters();
	close(h.c2s_fd);
	close(h.s2s_fd);
	close(h.ctl_fd);
	h.c2s_fd = h.s2s_fd = h.ctl_fd = -1;
	for (i = 0; i < 4; i++)
		ev_run(router.loop, EVRUN_NOWAIT);
	FUZZ_CHECK(router.links == NULL && router.s2s == NULL,
	    "a link outlived its peer");
	FUZZ_CHECK(map_count(router.by_full) == 0 &&
	    map_count(router.by_bare) == 0, "%zu sessions and %zu users "
	    "outlived their link", map_count(router.by_full),
	    map_count(router.by_bare));
	buf_clear(&h.c2s_in);
	buf_clear(&h.s2s_in);
	buf_clear(&h.ctl_in);
	fake_store_reset(router.store);
	return 0;
}
