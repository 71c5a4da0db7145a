/*
 * Fuzz target: the c2s end of the router link. The target plays the
 * router: c2s/uplink.c connects to it over a Unix socket in a libev loop
 * exactly as in parley-c2s, and the input is written to it as frames, in
 * the chunks of the input's plan. So common/link.c reassembles frames from
 * real reads and uplink.c's handler decodes each one. The streams it
 * dispatches to are records standing in for c2s/stream.c, csi.c, auth.c,
 * bind.c, register.c and boshfwd.c; they check what those would rely
 * on.
 *
 * Oracles: link.c delivers exactly the complete frames the input holds,
 * in order, with their bytes (fuzz.h), each to the handler in a buffer of
 * its own length; what uplink.c passes on keeps the contracts of the
 * functions it calls (credentials checked, JIDs terminated and bounded, a
 * stream error a real condition, a stream in the state the call is for);
 * credentials reach a stream only in the LINK_AUTH_CRED that answers the
 * lookup it waits for (its request id); the router's keys only from a
 * whole LINK_SECRETS, byte for byte; nothing but LINK_HELLO is taken
 * before the router's LINK_HELLO; what the c2s writes to the router is
 * well-framed.
 *
 * Input: byte 0, two bits per stream (sids 1-4), picks each stream's
 * state (a stream waiting for credentials waits for request id = its
 * sid); then the chunking plan; then the router's bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../c2s/c2s.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "fuzz.h"

#define NSTREAMS	4
#define JID_BUF		(1024 * 3 + 3)	/* uplink.c's buffer */

struct c2s	c2s;

static struct fuzz_uplink up = { .reconnect = &c2s.uplink.retry.w,
    .up = &c2s.up, .connected = uplink_up };
static struct stream	streams[NSTREAMS];
static struct fuzz_tap	tap;

/* ---- what uplink.c calls ------------------------------------------------ */

void
listen_pause(bool pause)
{
	(void)pause;
}

void
drain_start(uint32_t grace)
{
	(void)grace;
}

/* a planned router restart: held stanzas are stream.c's */
void
quiesce_start(void)
{
	c2s.holding = true;
}

void
quiesce_end(void)
{
	c2s.holding = false;
}

size_t
stream_list(struct stream ***v)
{
	size_t	i, n = 0;

	*v = xcalloc(NSTREAMS, sizeof(**v));
	for (i = 0; i < NSTREAMS; i++)
		if (map_get64(c2s.streams, streams[i].sid) == &streams[i])
			(*v)[n++] = &streams[i];
	return n;
}

struct stream *
stream_find(uint64_t sid)
{
	return map_get64(c2s.streams, sid);
}

static void
check_stream(const struct stream *st)
{
	FUZZ_CHECK(st >= streams && st < streams + NSTREAMS &&
	    st->sid == (uint64_t)(st - streams) + 1, "not one of our streams");
	/* from a frame (the link is up), after the router's LINK_HELLO */
	FUZZ_CHECK(c2s.up == NULL || c2s.up->hello_heard,
	    "a frame taken before the router's LINK_HELLO");
}

/* the frame the link is delivering now */
static const struct fuzz_frame *
current_frame(void)
{
	FUZZ_CHECK(tap.seen > 0, "a call before any frame");
	return &tap.want[tap.seen - 1];
}

/* the FAST record of LINK_AUTH_CRED: bounded by the link reader */
void
fast_record(struct stream *st, const char *rec, size_t len)
{
	check_stream(st);
	FUZZ_CHECK(len <= LINK_FAST_MAX && (len == 0 || rec != NULL),
	    "a FAST record of %zu bytes", len);
}

const char *
fast_device(const struct stream *st)
{
	(void)st;
	return "";
}

/* the router's keys: only from a LINK_SECRETS frame that holds both */
void
sasl_secret_put(const uint8_t key[SASL_SECRET_LEN])
{
	const struct fuzz_frame	*f = current_frame();

	FUZZ_CHECK(f->h.type == LINK_SECRETS && f->h.sid == 0 &&
	    f->h.len == 2 * (4 + SASL_SECRET_LEN), "keys from a %s of %u "
	    "bytes", link_msg_name(f->h.type), f->h.len);
	FUZZ_CHECK(memcmp(key, f->payload + 4, SASL_SECRET_LEN) == 0,
	    "not the frame's key");
	FUZZ_CHECK(c2s.up == NULL || c2s.up->hello_heard,
	    "keys taken before the router's LINK_HELLO");
}

void
auth_creds(struct stream *st, int status, const struct scram_creds *creds)
{
	const struct fuzz_frame	*f;
	uint32_t		 req;
	int			 h;

	check_stream(st);
	FUZZ_CHECK(st->state == ST_AUTH_WAIT, "credentials in state %d",
	    (int)st->state);
	FUZZ_CHECK(status >= LINK_AUTH_OK && status <= LINK_AUTH_DISABLED,
	    "credential status %d", status);
	/* from a frame (else the link went: uplink_fail_pending) */
	if (creds != NULL) {
		f = current_frame();
		FUZZ_CHECK(f->h.type == LINK_AUTH_CRED && f->h.len >= 4 &&
		    f->h.sid == st->sid, "credentials from a %s",
		    link_msg_name(f->h.type));
		req = (uint32_t)f->payload[0] << 24 | f->payload[1] << 16 |
		    f->payload[2] << 8 | f->payload[3];
		FUZZ_CHECK(req == st->sid, "the answer to lookup %u taken "
		    "by a stream waiting for %llu", req,
		    (unsigned long long)st->sid);
		FUZZ_CHECK(st->auth_req == 0, "a lookup still in flight");
	} else
		FUZZ_CHECK(status == LINK_AUTH_FAILED, "no credentials, "
		    "status %d", status);
	if (status == 0) {
		FUZZ_CHECK(creds != NULL, "status 0 without credentials");
		for (h = 0; h < SCRAM_NHASH; h++)
			FUZZ_CHECK(creds->h[h].iter >= 1 &&
			    creds->h[h].iter <= SCRAM_ITER_MAX &&
			    creds->h[h].saltlen >= 1 &&
			    creds->h[h].saltlen <= SCRAM_SALT_MAX,
			    "unusable credentials passed on");
	}
	st->state = ST_FEATURES;
}

/* XEP-0480: no stream here has a task (upgrade.c is not linked) */
bool
upgrade_waiting(const struct stream *st)
{
	check_stream(st);
	return false;
}

void
upgrade_stored(struct stream *st, bool ok)
{
	(void)ok;
	check_stream(st);
	FUZZ_CHECK(st->state == ST_AUTH_WAIT, "an upgrade answer in state %d",
	    (int)st->state);
}

void
bind_result(struct stream *st, enum stanza_err err, const char *jid)
{
	check_stream(st);
	FUZZ_CHECK(st->state == ST_BIND_WAIT, "bind result in state %d",
	    (int)st->state);
	FUZZ_CHECK(err <= XERR_COUNT, "stanza error %d", (int)err);
	FUZZ_CHECK(err != XERR_COUNT || jid != NULL, "bound without a JID");
	if (jid != NULL)
		FUZZ_CHECK(strlen(jid) < JID_BUF, "JID of %zu bytes",
		    strlen(jid));
	st->state = err == XERR_COUNT ? ST_BOUND : ST_AUTHED;
}

void
stream_error(struct stream *st, enum stream_err cond, const char *text)
{
	check_stream(st);
	/* stream.c writes <name xmlns=.../>: SERR_NONE has no name */
	FUZZ_CHECK(cond > SERR_NONE && cond < SERR_COUNT,
	    "stream error %d is no condition", (int)cond);
	(void)text;
	st->state = ST_CLOSING;
}

void
csi_deliver(struct stream *st, const struct link_stanza *ls, int64_t rseq)
{
	(void)rseq;
	check_stream(st);
	FUZZ_CHECK(st->state == ST_BOUND, "stanza to a stream in state %d",
	    (int)st->state);
	fuzz_touch(ls->xml, ls->xlen);
}

void
stream_presence_kept(struct stream *st, const char *xml, size_t len)
{
	check_stream(st);
	FUZZ_CHECK(st->state == ST_BOUND, "presence kept for a stream in "
	    "state %d", (int)st->state);
	fuzz_touch(xml, len);
}

void
stream_resume_all(void)
{
}

void
stream_release_all(void)
{
}

int64_t
sm_arrived(struct stream *st)
{
	check_stream(st);
	return -1;
}

void
sm_skipped(struct stream *st, int64_t rseq)
{
	(void)rseq;
	check_stream(st);
}

/* sasl2.c's test is of the stanza's envelope and start tag alone */
bool
sasl2_carbons_answer(struct stream *st, const struct link_stanza *ls)
{
	check_stream(st);
	fuzz_touch(ls->xml, ls->xlen);
	return false;
}

void
sm_enabled(struct stream *st, const char *id, uint32_t max)
{
	(void)max;
	check_stream(st);
	FUZZ_CHECK(id == NULL || (id[0] != '\0' && strlen(id) < 128),
	    "sm id of %zu bytes", id != NULL ? strlen(id) : 0);
}

void
sm_resumed(struct stream *st, enum stanza_err err, const char *jid,
    const char *id, uint32_t h_in, uint32_t acked, uint32_t max)
{
	(void)h_in;
	(void)acked;
	(void)max;
	check_stream(st);
	FUZZ_CHECK(err <= XERR_COUNT, "stanza error %d", (int)err);
	if (err == XERR_COUNT)
		FUZZ_CHECK(jid != NULL && id != NULL && jid[0] != '\0' &&
		    id[0] != '\0', "resumed without a JID or an id");
}

void
sm_link_lost(struct stream *st)
{
	/* from the link's up and lost hooks, not from a frame */
	FUZZ_CHECK(st >= streams && st < streams + NSTREAMS,
	    "not one of our streams");
}

void
sm_link_up(struct stream *st)
{
	/* from the link's up and lost hooks, not from a frame */
	FUZZ_CHECK(st >= streams && st < streams + NSTREAMS,
	    "not one of our streams");
}

void
register_result(uint64_t sid, uint16_t flags, enum stanza_err err)
{
	struct stream	*st;

	(void)flags;
	FUZZ_CHECK(err <= XERR_COUNT, "stanza error %d", (int)err);
	if ((st = stream_find(sid)) == NULL)
		return;		/* a registration's stream may be gone */
	check_stream(st);
	st->reg_id = NULL;
}

void
register_link_lost(void)
{
}

void
metrics_result(uint32_t id, const char *text, size_t len)
{
	(void)id;
	FUZZ_CHECK(text != NULL && len <= LINK_MAX_PAYLOAD, "metrics text");
}

void
metrics_link_lost(void)
{
}

/* boshfwd.c: a BOSH request forwarded to us, or an answer to ours */
static void
check_bosh(uint16_t type, uint32_t inst, const char *a, size_t alen,
    const char *b, size_t blen, size_t fixed)
{
	const struct fuzz_frame	*f = current_frame();

	FUZZ_CHECK(f->h.type == type, "%s from a %s", link_msg_name(type),
	    link_msg_name(f->h.type));
	FUZZ_CHECK(inst >= 1 && inst <= LINK_INSTANCE_MAX, "instance %u",
	    inst);
	FUZZ_CHECK((a != NULL || alen == 0) && (b != NULL || blen == 0) &&
	    fixed + alen + blen <= f->h.len, "strings past the frame");
	fuzz_touch(a, alen);
	fuzz_touch(b, blen);
}

void
boshfwd_request(uint32_t origin, uint32_t id, uint16_t flags,
    const char *client, size_t clen, const char *body, size_t blen)
{
	check_bosh(LINK_BOSH_FWD, origin, client, clen, body, blen, 16);
	FUZZ_CHECK(id != 0, "a forwarded request without an id");
	FUZZ_CHECK(flags == current_frame()->h.flags, "flags %u", flags);
}

void
boshfwd_answer(uint32_t owner, uint32_t id, uint32_t status, uint32_t http,
    const char *body, size_t len)
{
	(void)id;
	(void)http;
	check_bosh(LINK_BOSH_ANSWER, owner, NULL, 0, body, len, 20);
	FUZZ_CHECK(status <= LINK_BOSH_BUSY, "bosh status %u", status);
}

void
boshfwd_link_lost(void)
{
}

/* ---- the harness -------------------------------------------------------- */

static void
streams_setup(uint8_t states)
{
	static const enum stream_state pick[4] = {
		ST_AUTH_WAIT, ST_BIND_WAIT, ST_BOUND, ST_FEATURES
	};
	static char	reg_id[] = "reg1";
	static char	jid[] = "juliet@example.org/balcony";
	int		i;

	for (i = 0; i < NSTREAMS; i++) {
		memset(&streams[i], 0, sizeof(streams[i]));
		streams[i].sid = (uint64_t)i + 1;
		streams[i].state = pick[(states >> (2 * i)) & 3];
		if (streams[i].state == ST_AUTH_WAIT)
			streams[i].auth_req = (uint32_t)streams[i].sid;
		if (streams[i].state == ST_FEATURES)
			streams[i].reg_id = reg_id;
		if (streams[i].state == ST_BOUND)
			streams[i].jid = jid;
		map_put64(c2s.streams, streams[i].sid, &streams[i]);
	}
}

static void
streams_clear(void)
{
	int	i;

	for (i = 0; i < NSTREAMS; i++)
		map_del64(c2s.streams, streams[i].sid);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	c2s.instance = 1;
	c2s.streams = map_new();
	fuzz_uplink_init(&up, &c2s.loop, &c2s.conf, uplink_start);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	 plan;
	int			 mode;

	if ((mode = fuzz_plan_mode(&plan, &data, &len)) == -1)
		return 0;
	streams_setup((uint8_t)mode);
	c2s.holding = false;	/* no LINK_QUIESCE heard on this link yet */
	fuzz_uplink_run(&up, &tap, data, len, &plan);
	streams_clear();
	return 0;
}
