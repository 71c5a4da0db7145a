/*
 * Fuzz target: the XEP-0480 task (c2s/upgrade.c) once the mechanism has
 * succeeded: the <upgrade/> of <authenticate/>, then the client's <next/>
 * and <task-data/>.
 *
 * Input: byte 0 -- bit 0 the account lacks SHA-256 credentials, bit 1
 * the stream is TLS, bit 2 the router fails to store them (the login
 * completes all the same); then elements separated by NUL bytes, the first
 * given to upgrade_parse as <authenticate/>, each next one to
 * upgrade_element while the task runs.
 *
 * Oracles: <continue/> only over TLS for an account that lacks SHA-256;
 * credentials reach the router at most once, only after the salt went
 * out, with our count and that salt, and with the StoredKey and
 * ServerKey of the SaltedPassword the <hash/> carried (derived here
 * anew, RFC 5802 3); the login completes exactly when the router has
 * answered, once; after a failure or the completion the task takes
 * nothing more.
 */
#include <stdlib.h>
#include <string.h>

#include "../../c2s/c2s.h"
#include "../../common/base64.h"
#include "../../common/log.h"
#include "../../common/scram.h"
#include "../../common/util.h"
#include "../../common/xmlstream.h"
#include "fuzz.h"

#define ITER		4096
#define NS_SCRAM_UP	"urn:xmpp:scram-upgrade:0"

struct c2s	c2s;

static struct buf		 out;		/* what went to the client */
static struct scram_cred	 sent;		/* LINK_AUTH_UPGRADE's */
static int			 upgrades, completes, failures;

/* ---- what upgrade.c calls ----------------------------------------------- */

void
stream_write(struct stream *st, const char *p, size_t n)
{
	(void)st;
	buf_append(&out, p, n);
}

void
auth_fail_text(struct stream *st, enum sasl_err cond, const char *text)
{
	(void)cond;
	(void)text;
	failures++;
	upgrade_stream_free(st);	/* as sasl2_failure does */
}

void
auth_fail(struct stream *st, enum sasl_err cond)
{
	auth_fail_text(st, cond, NULL);
}

void
auth_complete(struct stream *st, struct buf *data)
{
	FUZZ_CHECK(data == NULL, "additional data twice");
	FUZZ_CHECK(upgrades == 1, "complete with %d upgrades", upgrades);
	FUZZ_CHECK(st->state == ST_FEATURES, "complete in state %d",
	    (int)st->state);
	completes++;
}

bool
uplink_up(void)
{
	return true;
}

void
uplink_auth_upgrade(struct stream *st, const struct scram_cred *c)
{
	(void)st;
	upgrades++;
	sent = *c;
}

/* ---- the target --------------------------------------------------------- */

struct step {
	struct stream	*st;
	bool		 first;
	bool		 done;		/* an element of this chunk ran */
	bool		 handled;	/* and the task took it */
	char		 hash[128];	/* the <hash/> that upgraded */
	bool		 has_hash;
};
static struct buf		 got_salt;	/* the salt sent, decoded */

static bool	salt_sent(struct buf *);

static void
on_element(struct xnode *el, struct arena *a, void *arg)
{
	struct step	*s = arg;
	struct xnode	*h;
	const char	*t;

	if (s->first) {
		upgrade_parse(s->st, el, a);
		return;
	}
	/* one chunk may hold several: each while the task takes them */
	if (!upgrade_running(s->st) || upgrade_waiting(s->st) ||
	    (s->done && !s->handled))
		return;
	s->done = true;
	t = NULL;
	if (strcmp(el->name, "task-data") == 0 &&
	    (h = xnode_child(el, NS_SCRAM_UP, "hash")) != NULL)
		t = xnode_text(a, h);
	s->handled = upgrade_element(s->st, el, a) == 0;
	if (s->handled && buf_avail(&got_salt) == 0 && upgrades == 0 &&
	    failures == 0)
		FUZZ_CHECK(salt_sent(&got_salt), "<next/> without a salt");
	if (upgrades == 1 && !s->has_hash) {
		FUZZ_CHECK(t != NULL && strlen(t) < sizeof(s->hash),
		    "credentials without a hash");
		snprintf(s->hash, sizeof(s->hash), "%s", t);
		s->has_hash = true;
	}
}

/* the salt of the <task-data/> just written, base64-decoded */
static bool
salt_sent(struct buf *salt)
{
	const char	*p, *e;

	p = memmem(buf_rptr(&out), buf_avail(&out), "iterations='4096'>", 18);
	if (p == NULL)
		return false;
	p += 18;
	e = memchr(p, '<', buf_avail(&out) - (size_t)(p - buf_rptr(&out)));
	return e != NULL && base64_decode(salt, p, (size_t)(e - p)) == 0;
}

/* RFC 5802 3 from the SaltedPassword the client sent */
static void
check_keys(const char *hash, const struct buf *salt)
{
	struct buf	salted;
	uint8_t		ck[32], sk[32], vk[32];

	buf_init(&salted, 0);
	FUZZ_CHECK(base64_decode(&salted, hash, strlen(hash)) == 0 &&
	    buf_avail(&salted) == 32, "credentials from a bad hash");
	scram_hmac(SCRAM_SHA256, buf_rptr(&salted), 32, "Client Key", 10, ck);
	scram_h(SCRAM_SHA256, ck, 32, sk);
	scram_hmac(SCRAM_SHA256, buf_rptr(&salted), 32, "Server Key", 10, vk);
	FUZZ_CHECK(sent.iter == ITER && sent.saltlen == buf_avail(salt) &&
	    memcmp(sent.salt, buf_rptr(salt), buf_avail(salt)) == 0,
	    "credentials with another salt or count");
	FUZZ_CHECK(memcmp(sent.stored_key, sk, 32) == 0 &&
	    memcmp(sent.server_key, vk, 32) == 0,
	    "keys not of the SaltedPassword sent");
	buf_clear(&salted);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	c2s.conf.scram_iterations = ITER;
	buf_init(&c2s.scratch, 65536);
	buf_init(&out, 0);
	buf_init(&got_salt, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct xparse	*xp;
	struct scram_creds	 creds;
	struct stream		*st;
	struct step		 s;
	const char		*p, *end, *nul;
	bool			 lacks, cont;
	int			 rc;

	if (len < 1)
		return 0;
	if (xp == NULL)
		xp = xparse_new(NS_CLIENT, 4096);
	lacks = (data[0] & 1) != 0;
	st = xcalloc(1, sizeof(*st));
	st->sid = 1;
	st->node = xstrdup("user");
	st->domain = xstrdup("example.org");
	st->tls_on = (data[0] & 2) != 0;
	upgrades = completes = failures = 0;
	buf_reset(&out);
	buf_reset(&got_salt);
	memset(&s, 0, sizeof(s));
	s.st = st;
	s.first = true;
	p = (const char *)data + 1;
	end = (const char *)data + len;
	nul = memchr(p, '\0', (size_t)(end - p));
	if (xparse_one(xp, p, (size_t)((nul ? nul : end) - p), on_element,
	    &s) == -1)
		goto done;
	memset(&creds, 0, sizeof(creds));
	creds.h[SCRAM_SHA1].iter = ITER;
	if (!lacks)
		creds.h[SCRAM_SHA256].iter = ITER;
	upgrade_creds(st, &creds);
	cont = upgrade_continue(st, NULL);
	FUZZ_CHECK(!cont || (st->tls_on && lacks),
	    "a task %s", st->tls_on ? "with nothing to do" : "without TLS");
	s.first = false;
	while (nul != NULL && upgrade_running(st)) {
		p = nul + 1;
		nul = memchr(p, '\0', (size_t)(end - p));
		buf_reset(&out);
		s.handled = s.done = false;
		/* a chunk may end badly after an element that counted */
		rc = xparse_one(xp, p, (size_t)((nul ? nul : end) - p),
		    on_element, &s);
		if (upgrades == 1 && completes == 0) {
			FUZZ_CHECK(s.has_hash && buf_avail(&got_salt) > 0,
			    "credentials without a salt sent or a hash");
			check_keys(s.hash, &got_salt);
			FUZZ_CHECK(upgrade_waiting(st) &&
			    st->state == ST_AUTH_WAIT,
			    "not waiting for the router");
			upgrade_stored(st, (data[0] & 4) == 0);
			FUZZ_CHECK(completes == 1 && !upgrade_running(st),
			    "the router answered, the login not completed");
			upgrade_stored(st, true);	/* a stale answer */
		}
		if (rc == -1 || !s.handled)
			break;
	}
	FUZZ_CHECK(upgrades <= 1 && completes == upgrades &&
	    failures <= 1 && !(failures == 1 && upgrades == 1),
	    "upgrades %d completes %d failures %d", upgrades, completes,
	    failures);
done:
	upgrade_stream_free(st);
	free(st->node);
	free(st->domain);
	free(st);
	return 0;
}
