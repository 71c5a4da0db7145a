/*
 * Unit tests for router/caps.c, the engine: queries (one per hash,
 * another holder after a wrong, ill-formed or missing answer, only from
 * the JID asked), the shared cache and its LRU bounds, the bad-hash
 * memory and its expiry, the per-JID budget and the cap on queries in
 * flight, the listener, and the bound on remote JIDs. The router around
 * it is a few stubs: deliver_tree records the queries the engine sends;
 * time is the fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/base64.h"
#include "../../common/clock.h"
#include "../../common/util.h"
#include "../../common/xmlstream.h"
#include "../../router/router.h"
#include "unit.h"

struct router	router;

#define DOM	"example.org"
#define NODE	"https://client.example/caps"
#define MAXQ	64

/* the queries sent: to, id, node */
static struct {
	char	to[MAXQ][128];
	char	id[MAXQ][32];
	char	node[MAXQ][160];
	int	n;
	bool	answer_error;	/* the routing bounces at once */
} sent;

/* the listener's calls */
static struct {
	char	full[MAXQ][128];
	int	n;
} known;

static struct xparse	*xp;

/* ---- the stubs ------------------------------------------------------- */

int
deliver_parse(const char *xml, size_t len,
    void (*fn)(struct xnode *, struct arena *, void *), void *arg)
{
	return xparse_one(xp, xml, len, fn, arg);
}

void
deliver_tree(struct sess *s, const struct xnode *iq)
{
	struct xnode	*q = xnode_child(iq, NS_DISCO_INFO, "query");
	struct rstanza	 rs;
	char		 xml[256];

	assert_null(s);
	assert_string_equal(xnode_attr(iq, "type"), "get");
	assert_non_null(q);
	assert_true(sent.n < MAXQ);
	snprintf(sent.to[sent.n], sizeof(sent.to[0]), "%s",
	    xnode_attr(iq, "to"));
	snprintf(sent.id[sent.n], sizeof(sent.id[0]), "%s",
	    xnode_attr(iq, "id"));
	snprintf(sent.node[sent.n], sizeof(sent.node[0]), "%s",
	    xnode_attr(q, "node"));
	sent.n++;
	if (!sent.answer_error)
		return;
	/* a JID that is gone: the routing answers service-unavailable */
	snprintf(xml, sizeof(xml), "<iq type='error' id='%s' from='%s' "
	    "to='%s'/>", xnode_attr(iq, "id"), xnode_attr(iq, "to"), DOM);
	memset(&rs, 0, sizeof(rs));
	rs.kind = KIND_IQ;
	rs.type = IQ_ERROR;
	rs.from = xnode_attr(iq, "to");
	rs.to = DOM;
	rs.xml = xml;
	rs.xlen = strlen(xml);
	assert_true(caps_iq_answer(&rs));
}

bool
domain_is_local_jid(const char *s)
{
	const char	*at = strchr(s, '@');
	const char	*d = at != NULL ? at + 1 : s;

	return strncmp(d, DOM, strlen(DOM)) == 0 &&
	    (d[strlen(DOM)] == '\0' || d[strlen(DOM)] == '/');
}

void
disco_info_fill(struct xnode *q, struct arena *a, const char *domain,
    bool account)
{
	struct xnode	*f;

	(void)domain;
	(void)account;
	f = xnode_add(a, q, NS_DISCO_INFO, "feature");
	xnode_set_attr(a, f, "var", NS_DISCO_INFO);
}

static void
on_known(const char *full, void *arg)
{
	assert_ptr_equal(arg, &known);
	assert_true(known.n < MAXQ);
	snprintf(known.full[known.n++], sizeof(known.full[0]), "%s", full);
}

/* ---- helpers --------------------------------------------------------- */

/* the ver (sha-1) of one identity client/pc and the features given */
static void
ver_of(const char *const *feats, size_t n, char *ver)
{
	char	buf[4096];
	size_t	i;
	char	*tmp[32];

	assert_true(n < 32);
	memcpy(tmp, feats, n * sizeof(*tmp));
	/* sorted by the caller: the tests list them in order */
	snprintf(buf, sizeof(buf), "client/pc//<");
	for (i = 0; i < n; i++) {
		strcat(buf, tmp[i]);
		strcat(buf, "<");
	}
	assert_int_equal(caps_hash(CAPS_SHA1, buf, strlen(buf), ver,
	    CAPS_VER_MAX), 0);
}

struct seen_job {
	const char	*full;
};

static void
seen_cb(struct xnode *p, struct arena *a, void *arg)
{
	struct seen_job	*job = arg;

	(void)a;
	caps_seen(job->full, DOM, p);
}

static void
announce(const char *full, const char *hash, const char *ver)
{
	struct seen_job	job = { full };
	char		xml[512];

	snprintf(xml, sizeof(xml), "<presence><c xmlns='" NS_CAPS "' "
	    "hash='%s' node='" NODE "' ver='%s'/></presence>", hash, ver);
	assert_int_equal(xparse_one(xp, xml, strlen(xml), seen_cb, &job), 0);
}

/* answers query i as from (its features: feats) */
static bool
answer(int i, const char *from, const char *const *feats, size_t n)
{
	struct rstanza	rs;
	char		xml[4096];
	size_t		k;

	snprintf(xml, sizeof(xml), "<iq type='result' id='%s' from='%s' "
	    "to='" DOM "'><query xmlns='" NS_DISCO_INFO "' node='%s'>"
	    "<identity category='client' type='pc'/>", sent.id[i], from,
	    sent.node[i]);
	for (k = 0; k < n; k++) {
		strcat(xml, "<feature var='");
		strcat(xml, feats[k]);
		strcat(xml, "'/>");
	}
	strcat(xml, "</query></iq>");
	memset(&rs, 0, sizeof(rs));
	rs.kind = KIND_IQ;
	rs.type = IQ_RESULT;
	rs.from = from;
	rs.to = DOM;
	rs.xml = xml;
	rs.xlen = strlen(xml);
	return caps_iq_answer(&rs);
}

static const char *const F1[] = {
	"http://jabber.org/protocol/caps",
	"http://jabber.org/protocol/disco#info",
	"urn:xmpp:avatar:metadata+notify",
	"urn:xmpp:test:1",
};
#define NF1	(sizeof(F1) / sizeof(*F1))

static int
setup(void **state)
{
	static struct conf_host	host;

	(void)state;
	clock_fake_start(1700000000.0);
	memset(&router, 0, sizeof(router));
	host.name = (char *)DOM;
	router.conf.hosts = &host;
	router.conf.nhosts = 1;
	router.conf.caps_cache_max = 100;
	router.conf.caps_cache_size = 1 << 20;
	router.conf.caps_queries_max = 10;
	router.conf.caps_query_timeout = 30;
	xp = xparse_new(NS_CLIENT, 1 << 20);
	memset(&sent, 0, sizeof(sent));
	memset(&known, 0, sizeof(known));
	caps_on_known(on_known, &known);
	return 0;
}

static int
teardown(void **state)
{
	struct caps_stats	st;

	(void)state;
	caps_clear();
	caps_stats(&st);
	assert_int_equal(st.jids + st.cached + st.queries + st.bytes, 0);
	xparse_free(xp);
	return 0;
}

/* ---- tests ----------------------------------------------------------- */

static void
test_one_query_per_hash(void **state)
{
	char	ver[CAPS_VER_MAX], node[200];

	(void)state;
	ver_of(F1, NF1, ver);
	announce("a@" DOM "/1", "sha-1", ver);
	announce("b@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 1);
	assert_string_equal(sent.to[0], "a@" DOM "/1");
	snprintf(node, sizeof(node), NODE "#%s", ver);
	assert_string_equal(sent.node[0], node);
	assert_false(caps_has("a@" DOM "/1", F1[2]));
	assert_true(answer(0, "a@" DOM "/1", F1, NF1));
	/* known for every holder, who are told */
	assert_true(caps_has("a@" DOM "/1", F1[2]));
	assert_true(caps_has("b@" DOM "/1", F1[2]));
	assert_false(caps_has("b@" DOM "/1", "urn:xmpp:other+notify"));
	assert_int_equal(known.n, 2);
	/* a third holder: from the cache at once, no query */
	announce("c@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 1);
	assert_true(caps_has("c@" DOM "/1", F1[3]));
	assert_int_equal(known.n, 3);
	assert_string_equal(known.full[2], "c@" DOM "/1");
	/* the same presence again tells nobody anything new */
	announce("c@" DOM "/1", "sha-1", ver);
	assert_int_equal(known.n, 3);
	/* the answer again is no longer ours */
	assert_false(answer(0, "a@" DOM "/1", F1, NF1));
	/* gone: no features */
	caps_gone("c@" DOM "/1");
	assert_false(caps_has("c@" DOM "/1", F1[3]));
	assert_false(caps_has("nobody@" DOM "/1", F1[3]));
}

static void
test_wrong_answer_next_holder(void **state)
{
	char	ver[CAPS_VER_MAX];

	(void)state;
	ver_of(F1, NF1, ver);
	announce("a@" DOM "/1", "sha-1", ver);
	announce("a@" DOM "/2", "sha-1", ver);	/* the same bare JID */
	announce("b@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 1);
	/* another JID's answer with that id is not ours */
	assert_false(answer(0, "b@" DOM "/1", F1, NF1));
	/* a wrong one: one feature less */
	assert_true(answer(0, "a@" DOM "/1", F1, NF1 - 1));
	assert_false(caps_has("a@" DOM "/1", F1[0]));
	/* XEP-0115 5.4 3.8: another bare JID is asked, not a's other one */
	assert_int_equal(sent.n, 2);
	assert_string_equal(sent.to[1], "b@" DOM "/1");
	assert_true(answer(1, "b@" DOM "/1", F1, NF1));
	assert_true(caps_has("a@" DOM "/2", F1[0]));
	assert_true(caps_has("a@" DOM "/1", F1[0]));
}

static void
test_bad_hash_remembered(void **state)
{
	char			ver[CAPS_VER_MAX];
	struct caps_stats	st;

	(void)state;
	ver_of(F1, NF1, ver);
	announce("a@" DOM "/1", "sha-1", ver);
	assert_true(answer(0, "a@" DOM "/1", F1 + 1, NF1 - 1));
	assert_int_equal(sent.n, 1);
	caps_stats(&st);
	assert_int_equal(st.cached, 1);
	assert_int_equal(st.queries, 0);
	/* never trusted, not asked again while remembered */
	announce("b@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 1);
	assert_false(caps_has("b@" DOM "/1", F1[0]));
	/* some time later it may be asked again */
	clock_advance(601);
	announce("c@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 2);
	assert_true(answer(1, "c@" DOM "/1", F1, NF1));
	assert_true(caps_has("b@" DOM "/1", F1[0]));
}

static void
test_timeout_and_error(void **state)
{
	char	ver[CAPS_VER_MAX];

	(void)state;
	ver_of(F1, NF1, ver);
	announce("a@" DOM "/1", "sha-1", ver);
	announce("b@" DOM "/1", "sha-1", ver);
	announce("c@" DOM "/1", "sha-1", ver);
	clock_advance(29);
	assert_int_equal(sent.n, 1);
	clock_advance(1);
	assert_int_equal(sent.n, 2);
	/* an error answer: the next */
	sent.answer_error = true;
	clock_advance(30);
	/* c, then nobody left: the routing bounced each at once */
	assert_int_equal(sent.n, 3);
	assert_false(caps_has("c@" DOM "/1", F1[0]));
}

static void
test_budget_per_jid(void **state)
{
	char			 ver[CAPS_VER_MAX], f[64];
	const char		*feats[] = { f };
	struct caps_stats	 st;
	int			 i;

	(void)state;
	for (i = 0; i < 50; i++) {
		snprintf(f, sizeof(f), "urn:flood:%d", i);
		ver_of(feats, 1, ver);
		announce("a@" DOM "/1", "sha-1", ver);
	}
	/* one in flight to a JID */
	assert_int_equal(sent.n, 1);
	caps_stats(&st);
	assert_int_equal(st.queries, 1);
	/* each timeout asks about its latest: a burst of three, then slow */
	clock_advance(30);
	clock_advance(30);
	clock_advance(30);
	assert_true(sent.n <= 4);
	clock_advance(3600);
	assert_true(sent.n <= 4 + 3600 / 20);
	caps_stats(&st);
	/* no answer ever: the bad ones are remembered, within the cap */
	assert_true(st.cached <= (size_t)router.conf.caps_cache_max);
}

static void
test_queries_max(void **state)
{
	char			 ver[CAPS_VER_MAX], f[64], who[64];
	const char		*feats[] = { f };
	struct caps_stats	 st;
	int			 i;

	(void)state;
	router.conf.caps_queries_max = 3;
	for (i = 0; i < 10; i++) {
		snprintf(f, sizeof(f), "urn:many:%d", i);
		snprintf(who, sizeof(who), "u%d@" DOM "/r", i);
		ver_of(feats, 1, ver);
		announce(who, "sha-1", ver);
	}
	assert_int_equal(sent.n, 3);
	caps_stats(&st);
	assert_int_equal(st.queries, 3);
}

static void
test_lru_eviction(void **state)
{
	char			 ver[4][CAPS_VER_MAX], f[64], who[64];
	const char		*feats[] = { f };
	struct caps_stats	 st;
	int			 i;

	(void)state;
	router.conf.caps_cache_max = 2;
	for (i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "urn:lru:%d", i);
		snprintf(who, sizeof(who), "u%d@" DOM "/r", i);
		ver_of(feats, 1, ver[i]);
		announce(who, "sha-1", ver[i]);
		assert_true(answer(sent.n - 1, who, feats, 1));
		if (i == 0)
			caps_gone(who);	/* nobody holds ver 0 */
	}
	caps_stats(&st);
	assert_int_equal(st.cached, 2);
	/* ver 0 went (held by nobody); 1 and 2 stay */
	assert_true(caps_has("u1@" DOM "/r", "urn:lru:1"));
	assert_true(caps_has("u2@" DOM "/r", "urn:lru:2"));
	announce("v@" DOM "/r", "sha-1", ver[0]);
	assert_int_equal(sent.n, 4);
	/* all held: the least recently used goes (u1's, touched before) */
	assert_true(caps_has("u2@" DOM "/r", "urn:lru:2"));
	snprintf(f, sizeof(f), "urn:lru:0");
	assert_true(answer(3, "v@" DOM "/r", feats, 1));
	caps_stats(&st);
	assert_int_equal(st.cached, 2);
	assert_false(caps_has("u1@" DOM "/r", "urn:lru:1"));
	assert_true(caps_has("u2@" DOM "/r", "urn:lru:2"));
	assert_true(caps_has("v@" DOM "/r", "urn:lru:0"));
	/* the byte cap too */
	router.conf.caps_cache_max = 100;
	router.conf.caps_cache_size = 1;
	snprintf(f, sizeof(f), "urn:lru:3");
	ver_of(feats, 1, ver[3]);
	announce("w@" DOM "/r", "sha-1", ver[3]);
	assert_true(answer(sent.n - 1, "w@" DOM "/r", feats, 1));
	caps_stats(&st);
	assert_int_equal(st.cached, 1);
	assert_true(caps_has("w@" DOM "/r", "urn:lru:3"));
}

static void
test_not_used(void **state)
{
	char	ver[CAPS_VER_MAX];

	(void)state;
	ver_of(F1, NF1, ver);
	/* legacy (no hash), an algorithm we lack, a ver of the wrong size */
	announce("a@" DOM "/1", "md5", "1B2M2Y8AsgTpgAmY7PhCfg==");
	announce("a@" DOM "/1", "sha-1", "c2hvcnQ=");
	announce("a@" DOM "/1", "sha-256", ver);
	assert_int_equal(sent.n, 0);
	/* the legit one after them is asked */
	announce("a@" DOM "/1", "sha-1", ver);
	assert_int_equal(sent.n, 1);
}

static void
test_gone_while_asked(void **state)
{
	char			ver[CAPS_VER_MAX];
	struct caps_stats	st;

	(void)state;
	ver_of(F1, NF1, ver);
	announce("a@" DOM "/1", "sha-1", ver);
	caps_gone("a@" DOM "/1");
	/* kept while asked, then freed when its query ends */
	caps_stats(&st);
	assert_int_equal(st.jids, 1);
	clock_advance(30);
	caps_stats(&st);
	assert_int_equal(st.jids, 0);
	assert_int_equal(st.queries, 0);
}

static void
test_remote_bound(void **state)
{
	char			who[64];
	struct caps_stats	st;
	int			i;

	(void)state;
	for (i = 0; i < 65536 + 10; i++) {
		snprintf(who, sizeof(who), "r%d@remote.example/x", i);
		announce(who, "sha-1", "c2hvcnQ=");
	}
	caps_stats(&st);
	assert_int_equal(st.remote, 65536);
	assert_int_equal(st.jids, 65536);
}

static void
test_server_ver(void **state)
{
	char	ver[CAPS_VER_MAX], want[CAPS_VER_MAX];
	const char *s = NS_DISCO_INFO "<";

	(void)state;
	assert_int_equal(caps_server_ver(DOM, ver), 0);
	assert_int_equal(caps_hash(CAPS_SHA1, s, strlen(s), want,
	    sizeof(want)), 0);
	assert_string_equal(ver, want);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		T(test_one_query_per_hash),
		T(test_wrong_answer_next_holder),
		T(test_bad_hash_remembered),
		T(test_timeout_and_error),
		T(test_budget_per_jid),
		T(test_queries_max),
		T(test_lru_eviction),
		T(test_not_used),
		T(test_gone_while_asked),
		T(test_remote_bound),
		T(test_server_ver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
