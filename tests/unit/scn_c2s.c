/*
 * The c2s scenario driver (scn_c2s.h): the process globals, the router
 * recorder standing in for c2s/uplink.c, and the steps of a scenario.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/map.h"
#include "../../common/scram.h"
#include "../../common/util.h"
#include "../../common/work.h"
#include "scn_c2s.h"

struct c2s		c2s;
struct scn_router	scn_router;

static int			scn_runs;	/* scenarios set up so far */

static struct conf_host		scn_hosts[1];
static struct conf_listen	scn_cl = { .addr = "::1", .port = 5222 };
static struct listener		scn_lst = { .cl = &scn_cl, .fd = -1 };

/* ---- c2s/uplink.c, played by the recorder ------------------------------ */

void
uplink_start(void)
{
}

bool
uplink_up(void)
{
	return scn_router.up;
}

void
uplink_auth_get(struct stream *st, const char *node)
{
	scn_router.auth_gets++;
	scn_router.last_sid = st->sid;
	snprintf(scn_router.last_node, sizeof(scn_router.last_node), "%s",
	    node);
}

void
uplink_fast_put(struct stream *st, const char *dev, const struct buf *rec)
{
	(void)st;
	(void)dev;
	(void)rec;
}

void
uplink_sess_begin(struct stream *st, const char *jid)
{
	scn_router.sess_begins++;
	scn_router.last_sid = st->sid;
	snprintf(scn_router.last_jid, sizeof(scn_router.last_jid), "%s", jid);
}

void
uplink_sess_end(struct stream *st)
{
	scn_router.sess_ends++;
	scn_router.last_sid = st->sid;
	scn_router.last_lost = st->sm.lost;
}

void
uplink_sm_enable(struct stream *st)
{
	scn_router.sm_enables++;
	scn_router.last_sid = st->sid;
	scn_router.sm_resume_flag = st->sm.resumable;
}

void
uplink_sm_ack(struct stream *st)
{
	scn_router.sm_acks++;
	scn_router.sm_acked = st->sm.acked;
	scn_router.sm_h_in = st->sm.h_in;
	scn_router.sm_h_out = st->sm.h_out;
	scn_router.sm_last = st->sm.last;
}

void
uplink_auth_fail(struct stream *st)
{
	scn_router.auth_fails++;
	scn_router.last_sid = st->sid;
}

void
uplink_auth_upgrade(struct stream *st, const struct scram_cred *c)
{
	(void)c;
	scn_router.last_sid = st->sid;
}

void
uplink_sm_resume(struct stream *st, const char *previd, uint32_t h)
{
	scn_router.sm_resumes++;
	scn_router.last_sid = st->sid;
	snprintf(scn_router.sm_previd, sizeof(scn_router.sm_previd), "%s",
	    previd);
	scn_router.sm_h = h;
}

int
uplink_stanza(struct stream *st, int kind, int type, const char *to,
    const char *from, struct buf *xml)
{
	(void)kind;
	(void)type;
	(void)to;
	(void)from;
	(void)xml;
	scn_router.stanzas++;
	scn_router.last_sid = st->sid;
	return 0;
}

void
listen_pause(bool pause)
{
	(void)pause;
}

/* ---- the steps ---------------------------------------------------------- */

void
scn_c2s_setup(void)
{
	/* what the router sends first (LINK_SECRETS, c2s/uplink.c) */
	static const uint8_t	key[SASL_SECRET_LEN] = { 0x5c };

	sasl_secret_put(key);
	memset(&c2s, 0, sizeof(c2s));
	memset(&scn_router, 0, sizeof(scn_router));
	scn_router.up = true;
	/*
	 * A day after the last scenario: what c2s/limits.c remembers per
	 * address (failed logins per 10 minutes) has lapsed by then.
	 */
	clock_fake_start(SCN_WALL + 86400.0 * scn_runs++);
	tp_use_memory(true);
	work_inline(true);
	scn_hosts[0].name = SCN_HOST;
	scn_hosts[0].allow_register = true;
	c2s.conf.hosts = scn_hosts;
	c2s.conf.nhosts = 1;
	c2s.conf.max_stanza_size = 65536;
	c2s.conf.negotiation_timeout = 30;
	c2s.conf.idle_timeout = 600;
	c2s.conf.auth_retries = 3;
	c2s.conf.c2s_max_sessions = 100;
	c2s.conf.scram_iterations = 16;
	c2s.conf.c2s_max_stanza_preauth = 10000;
	c2s.conf.preauth_stream_memory = 64 * 1024;
	c2s.conf.csi_queue_max = 256;
	c2s.conf.csi_queue_max_bytes = 128 * 1024;
	c2s.conf.sm_request_stanzas = 5;
	c2s.conf.sm_request_interval = 30;
	c2s.instance = 1;
	c2s.streams = map_new();
	buf_init(&c2s.scratch, 0);
}

void
scn_c2s_teardown(void)
{
	void		*v[64];
	size_t		 i, n;

	/* closes leave the table; what lingers goes with the clock */
	n = scn_map_values(c2s.streams, v, 64);
	for (i = 0; i < n; i++)
		stream_close(v[i]);
	scn_advance(TP_LINGER + 1);
	assert_int_equal(c2s.nstreams, 0);
	assert_int_equal(map_count(c2s.streams), 0);
	map_free(c2s.streams, NULL);
	buf_clear(&c2s.scratch);
	csi_shutdown();
	tp_use_memory(false);
}

struct stream *
scn_c2s_accept(void)
{
	uint64_t	sid = ((uint64_t)c2s.instance << 48) | (c2s.next_sid + 1);
	struct stream	*st;

	stream_accept(&scn_lst, -1);
	scn_run();
	st = stream_find(sid);
	assert_non_null(st);
	return st;
}

struct stream *
scn_c2s_authed(const char *node)
{
	struct stream	*st = scn_c2s_accept();

	scn_send(&st->tp, SCN_HEADER);
	st->authed = true;
	st->node = xstrdup(node);
	xstream_preauth_end(st->xs);	/* as SASL success does */
	stream_restart(st);
	scn_send(&st->tp, SCN_HEADER);
	assert_non_null(strstr(tp_mem_output(&st->tp), "urn:ietf:params:"
	    "xml:ns:xmpp-bind"));
	return st;
}

struct stream *
scn_c2s_bound(const char *node, const char *resource)
{
	struct stream	*st = scn_c2s_authed(node);
	char		 iq[JID_STR_MAX + 256], jid[JID_STR_MAX + 1];
	int		 begins = scn_router.sess_begins;

	snprintf(iq, sizeof(iq), "<iq type='set' id='b1'><bind xmlns='"
	    "urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource>"
	    "</bind></iq>", resource);
	scn_send(&st->tp, iq);
	assert_int_equal(scn_router.sess_begins, begins + 1);
	snprintf(jid, sizeof(jid), "%s@" SCN_HOST "/%s", node, resource);
	assert_string_equal(scn_router.last_jid, jid);
	bind_result(st, XERR_COUNT, jid);
	scn_run();
	assert_int_equal(st->state, ST_BOUND);
	tp_mem_output_reset(&st->tp);
	return st;
}

void
scn_router_creds(struct stream *st, const char *password)
{
	struct scram_creds	creds;

	memset(&creds, 0, sizeof(creds));
	if (password != NULL)
		assert_int_equal(scram_creds_make(&creds, password,
		    (uint32_t)c2s.conf.scram_iterations), 0);
	auth_creds(st, password != NULL ? 0 : 1, &creds);
	explicit_bzero(&creds, sizeof(creds));
	scn_run();
}

bool
scn_c2s_alive(uint64_t sid)
{
	return stream_find(sid) != NULL;
}
