/*
 * SASL upgrade tasks (XEP-0480) in an XEP-0388 exchange: an account
 * imported with SCRAM-SHA-1 credentials only (docs/internals.md
 * "Migration") gains SHA-256 ones from a client that asked for
 * UPGR-SCRAM-SHA-256. The client runs PBKDF2 with the salt and count we
 * send and returns the SaltedPassword; StoredKey and ServerKey are two
 * HMACs and a hash here, and the router stores them (LINK_AUTH_UPGRADE)
 * before <success/> goes out.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/base64.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/xml.h"
#include "c2s.h"

#define NS_UPGRADE	"urn:xmpp:sasl:upgrade:0"
#define NS_SCRAM_UP	"urn:xmpp:scram-upgrade:0"
#define UPGRADE_TASK	"UPGR-SCRAM-SHA-256"
#define UPGRADE_HASH_MAX 4096	/* decoded bytes of a <hash/> we read */

enum upgrade_step {
	UP_NONE,	/* no task: asked for none, or nothing to upgrade */
	UP_NEXT,	/* <continue/> sent: <next/> awaited */
	UP_DATA,	/* the salt sent: the client's <hash/> awaited */
	UP_STORE	/* LINK_AUTH_UPGRADE sent: the router's answer awaited */
};

struct upgrade {
	bool			 asked;		/* the task was asked for */
	bool			 due;		/* the account lacks SHA-256 */
	enum upgrade_step	 step;
	uint32_t		 iter;
	uint8_t			 salt[SCRAM_SALT_LEN];
};

void
upgrade_stream_free(struct stream *st)
{
	if (st->upgrade == NULL)
		return;
	explicit_bzero(st->upgrade, sizeof(*st->upgrade));
	free(st->upgrade);
	st->upgrade = NULL;
}

/*
 * XEP-0480 2: the tasks go in <authentication/> before anyone is known,
 * so the one we can do is offered always; an account that needs none
 * gets <success/> without <continue/>. Over TLS only, as PLAIN: the
 * SaltedPassword the client sends logs in with SCRAM-SHA-256 as well as
 * the password does (XEP-0480 7).
 */
void
upgrade_features(struct stream *st, struct buf *b)
{
	if (!st->tls_on)
		return;
	buf_puts(b, "<upgrade xmlns='" NS_UPGRADE "'>" UPGRADE_TASK
	    "</upgrade>");
}

/* the <upgrade/> children of <authenticate/>; unknown tasks are ignored */
void
upgrade_parse(struct stream *st, const struct xnode *el, struct arena *a)
{
	struct xnode	*c;
	bool		 asked = false;

	upgrade_stream_free(st);
	if (!st->tls_on)
		return;		/* not offered */
	for (c = xnode_child(el, NS_UPGRADE, "upgrade"); c != NULL;
	    c = xnode_next(c, NS_UPGRADE, "upgrade"))
		if (strcmp(xnode_text(a, c), UPGRADE_TASK) == 0)
			asked = true;
	if (!asked)
		return;
	st->upgrade = xcalloc(1, sizeof(*st->upgrade));
	st->upgrade->asked = true;
}

/* auth.c: the account's credentials, as the router gave them */
void
upgrade_creds(struct stream *st, const struct scram_creds *creds)
{
	if (st->upgrade != NULL && creds != NULL)
		st->upgrade->due = creds->h[SCRAM_SHA256].iter == 0;
}

/*
 * auth.c: the mechanism succeeded. With a task due, XEP-0388 2.6.3
 * <continue/> carries the mechanism's additional data and the task, and
 * true is returned: the client is not authenticated until the task ends.
 */
bool
upgrade_continue(struct stream *st, const struct buf *data)
{
	struct upgrade	*u = st->upgrade;
	struct buf	*b = &c2s.scratch;

	if (u == NULL || !u->asked || !u->due || u->step != UP_NONE)
		return false;
	u->step = UP_NEXT;
	buf_reset(b);
	buf_puts(b, "<continue xmlns='" NS_SASL2 "'>");
	if (data != NULL && buf_avail(data) > 0) {
		buf_puts(b, "<additional-data>");
		base64_encode(b, buf_rptr(data), buf_avail(data));
		buf_puts(b, "</additional-data>");
	}
	buf_puts(b, "<tasks><task>" UPGRADE_TASK "</task></tasks>"
	    "</continue>");
	stream_write(st, buf_rptr(b), buf_avail(b));
	log_info("%016llx auth user=%s@%s: upgrade task %s",
	    (unsigned long long)st->sid, log_escs(st->node), st->domain,
	    UPGRADE_TASK);
	return true;
}

/* XEP-0388 2.6.3 <next task=/>: a fresh salt and our iteration count */
static void
upgrade_next(struct stream *st, const struct xnode *el)
{
	struct upgrade	*u = st->upgrade;
	struct buf	*b = &c2s.scratch;
	const char	*task = xnode_attr(el, "task");

	if (task == NULL || strcmp(task, UPGRADE_TASK) != 0) {
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST,
		    "no such task was offered");
		return;
	}
	random_bytes(u->salt, sizeof(u->salt));
	u->iter = c2s.conf.scram_iterations;
	u->step = UP_DATA;
	buf_reset(b);
	buf_printf(b, "<task-data xmlns='" NS_SASL2 "'><salt xmlns='"
	    NS_SCRAM_UP "' iterations='%u'>", (unsigned)u->iter);
	base64_encode(b, u->salt, sizeof(u->salt));
	buf_puts(b, "</salt></task-data>");
	stream_write(st, buf_rptr(b), buf_avail(b));
}

/* the SaltedPassword is password-equivalent: no copy outlives its use */
static void
upgrade_wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_clear(b);
}

/*
 * XEP-0480 3: <hash/> is the base64 SaltedPassword for our salt and
 * count, the hash's length exactly. Nothing can check it against the
 * SHA-1 credentials; the client proved itself with the mechanism.
 */
static void
upgrade_data(struct stream *st, const struct xnode *el, struct arena *a)
{
	struct upgrade		*u = st->upgrade;
	struct scram_cred	 c;
	struct xnode		*h;
	struct buf		 in;
	char			*text;
	size_t			 hlen = scram_hash_len(SCRAM_SHA256);

	if ((h = xnode_child(el, NS_SCRAM_UP, "hash")) == NULL) {
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST,
		    "the task needs <hash/>");
		return;
	}
	text = xnode_text(a, h);
	/* room for any length, so that a wrong one is told as such */
	buf_init(&in, UPGRADE_HASH_MAX);
	if (*text == '\0' || base64_decode(&in, text, strlen(text)) == -1) {
		upgrade_wipe(&in);
		auth_fail(st, SASLERR_INCORRECT_ENCODING);
		return;
	}
	if (buf_avail(&in) != hlen) {
		upgrade_wipe(&in);
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST,
		    "the hash is not a SHA-256 SaltedPassword");
		return;
	}
	scram_cred_from_salted(&c, SCRAM_SHA256,
	    (const uint8_t *)buf_rptr(&in), u->salt, sizeof(u->salt),
	    u->iter);
	upgrade_wipe(&in);
	if (!uplink_up()) {
		explicit_bzero(&c, sizeof(c));
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	uplink_auth_upgrade(st, &c);
	explicit_bzero(&c, sizeof(c));
	/* as for the credentials: only <abort/> while the router works */
	u->step = UP_STORE;
	st->state = ST_AUTH_WAIT;
}

bool
upgrade_waiting(const struct stream *st)
{
	return st->upgrade != NULL && st->upgrade->step == UP_STORE;
}

/*
 * uplink.c: the credentials are stored (or there already), and the
 * client authenticated. Storage trouble does not undo that: the login
 * completes, the account keeps SHA-1 only and is offered the task again.
 */
void
upgrade_stored(struct stream *st, bool ok)
{
	if (!upgrade_waiting(st))
		return;		/* aborted meanwhile */
	if (!ok)
		log_warnx("%016llx %s@%s: SHA-256 credentials not stored",
		    (unsigned long long)st->sid, log_escs(st->node),
		    st->domain);
	st->state = ST_FEATURES;
	upgrade_stream_free(st);
	auth_complete(st, NULL);
}

/*
 * sasl2.c: <next/> and <task-data/> while a task runs. Returns 0 when
 * el was one (handled), 1 when it is for the caller.
 */
int
upgrade_element(struct stream *st, const struct xnode *el, struct arena *a)
{
	struct upgrade	*u = st->upgrade;

	if (u == NULL || u->step == UP_NONE)
		return 1;
	if (strcmp(el->name, "next") == 0 && u->step == UP_NEXT)
		upgrade_next(st, el);
	else if (strcmp(el->name, "task-data") == 0 && u->step == UP_DATA)
		upgrade_data(st, el, a);
	else
		return 1;
	return 0;
}

/* sasl2.c: a task is under way (the stream is not authenticated yet) */
bool
upgrade_running(const struct stream *st)
{
	return st->upgrade != NULL && st->upgrade->step != UP_NONE;
}
