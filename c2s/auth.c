/*
 * SASL on a client stream (RFC 6120 6): <auth/>, <response/>, <abort/>,
 * the asynchronous credentials lookup through the router, and the limit
 * on failed attempts. The mechanisms themselves are sans-IO in sasl.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/base64.h"
#include "../common/jid.h"
#include "../common/log.h"
#include "../common/util.h"
#include "../common/work.h"
#include "../common/xml.h"
#include "c2s.h"

#define SASL_DATA_MAX	8192	/* decoded bytes of one <auth/>/<response/> */

/*
 * Before authentication a client may negotiate TLS and SASL, register
 * (an IQ) and send a stream error; anything else is refused at its start
 * tag (RFC 6120 4.9.3.12 not-authorized), and its stanzas are small.
 */
static const struct xstream_name auth_preauth_names[] = {
	{ NS_TLS, "starttls" },
	{ NS_SASL, NULL },
	{ NS_CLIENT, "iq" },
	{ NS_STREAM, "error" },
	{ NULL, NULL }
};
static struct xstream_preauth	auth_preauth_policy;

const struct xstream_preauth *
auth_preauth(void)
{
	return xstream_preauth_policy(&auth_preauth_policy, auth_preauth_names,
	    c2s.conf.c2s_max_stanza_preauth, c2s.conf.preauth_stream_memory,
	    c2s.conf.preauth_memory_max);
}

void
auth_features(struct stream *st, struct buf *b)
{
	/* RFC 6120 5.3.1: with TLS required, SASL is offered after it */
	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return;
	buf_puts(b, "<mechanisms xmlns='" NS_SASL "'>"
	    "<mechanism>SCRAM-SHA-256</mechanism>"
	    "<mechanism>SCRAM-SHA-1</mechanism>");
	if (st->tls_on)
		buf_puts(b, "<mechanism>PLAIN</mechanism>");
	buf_puts(b, "</mechanisms>");
}

static void
auth_send(struct stream *st, const char *el, struct buf *data)
{
	struct buf	*b = &c2s.scratch;

	buf_reset(b);
	if (data == NULL || buf_avail(data) == 0)
		buf_printf(b, "<%s xmlns='" NS_SASL "'/>", el);
	else {
		buf_printf(b, "<%s xmlns='" NS_SASL "'>", el);
		base64_encode(b, buf_rptr(data), buf_avail(data));
		buf_printf(b, "</%s>", el);
	}
	stream_write(st, buf_rptr(b), buf_avail(b));
}

/* one more failed attempt; -1 when it was the last allowed (closing) */
static int
auth_attempt_failed(struct stream *st)
{
	limits_auth_failed(st);
	if (++st->auth_failures < c2s.conf.auth_retries)
		return 0;
	stream_error(st, SERR_POLICY_VIOLATION,
	    "too many failed authentication attempts");
	return -1;
}

static void
auth_fail(struct stream *st, enum sasl_err cond)
{
	struct buf	*b = &c2s.scratch;

	sasl_free(st->sasl);
	st->sasl = NULL;
	log_info("%016llx auth user=%s result=%s", (unsigned long long)st->sid,
	    st->node ? log_escs(st->node) : "-", sasl_err_name(cond));
	free(st->node);
	st->node = NULL;
	st->state = ST_FEATURES;
	buf_reset(b);
	buf_printf(b, "<failure xmlns='" NS_SASL "'><%s/></failure>",
	    sasl_err_name(cond));
	stream_write(st, buf_rptr(b), buf_avail(b));
	/*
	 * Aborts count too: each one is a guess that cost us a lookup. Our
	 * own trouble (the router restarting) is not the client's guess.
	 */
	if (cond != SASLERR_TEMPORARY_AUTH_FAILURE) {
		uplink_auth_fail(st);
		(void)auth_attempt_failed(st);
	}
}

static void
auth_success(struct stream *st, struct buf *data)
{
	log_info("%016llx auth user=%s@%s mech=%s result=ok",
	    (unsigned long long)st->sid, log_escs(st->node), st->domain,
	    sasl_mech_name(st->mech));
	sasl_free(st->sasl);
	st->sasl = NULL;
	st->authed = true;
	xstream_preauth_end(st->xs);
	auth_send(st, "success", data);
	/* RFC 6120 6.4.6: the client restarts the stream */
	xstream_stop(st->xs);
	stream_restart(st);
}

/* the username is known: check authzid, ask the router for credentials */
static void
auth_need_creds(struct stream *st, struct buf *out)
{
	const char	*user = sasl_username(st->sasl);
	const char	*authzid = sasl_authzid(st->sasl);
	char		 node[JID_PART_MAX + 1];
	struct jid	 az;
	bool		 ok;

	if (jid_nodeprep(user, node) == -1) {
		/* cannot be an account: finish the exchange, then fail */
		auth_creds(st, 1, NULL);
		return;
	}
	st->node = xstrdup(node);
	sasl_set_account(st->sasl, node, st->domain);
	if (authzid != NULL && *authzid != '\0') {
		/* RFC 6120 6.3.8: we only let users act as themselves */
		ok = jid_parse(&az, authzid) == 0 && az.resource == NULL &&
		    az.node != NULL && strcmp(az.node, node) == 0 &&
		    strcmp(az.domain, st->domain) == 0;
		if (ok)
			jid_clear(&az);
		if (!ok) {
			auth_fail(st, SASLERR_INVALID_AUTHZID);
			return;
		}
	}
	if (!uplink_up()) {
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	(void)out;
	st->state = ST_AUTH_WAIT;
	uplink_auth_get(st, node);
}

static void	auth_handle(struct stream *, enum sasl_rc, struct buf *);

/*
 * PLAIN's derivation on a worker (the stored iterations, up to a
 * million: about a second the loop must not spend). The stream waits in
 * ST_AUTH_WAIT with st->auth_job set; it is found again by its id, and
 * the job is dropped if the stream went or the exchange was aborted.
 */
struct auth_job {
	uint64_t		 sid;
	struct sasl_work	*w;
	struct work		*job;
};

static void
auth_job_run(void *arg)
{
	struct auth_job	*aj = arg;

	sasl_work_run(aj->w);
}

static void
auth_job_done(void *arg, bool cancelled)
{
	struct auth_job	*aj = arg;
	struct stream	*st;
	struct buf	 out;

	st = stream_find(aj->sid);
	if (!cancelled && st != NULL && st->auth_job == aj) {
		st->auth_job = NULL;
		st->state = ST_FEATURES;
		buf_init(&out, SASL_DATA_MAX);
		auth_handle(st, sasl_work_done(st->sasl, aj->w), &out);
		buf_clear(&out);
	}
	sasl_work_free(aj->w);
	free(aj);
}

static void
auth_need_work(struct stream *st)
{
	struct auth_job	*aj;

	aj = xcalloc(1, sizeof(*aj));
	aj->sid = st->sid;
	aj->w = sasl_work_new(st->sasl);
	if ((aj->job = work_submit(auth_job_run, auth_job_done, aj)) ==
	    NULL) {
		sasl_work_free(aj->w);
		free(aj);
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	st->auth_job = aj;
	st->state = ST_AUTH_WAIT;
	log_debug("%016llx auth: deriving the PLAIN password",
	    (unsigned long long)st->sid);
}

/* the exchange is abandoned while a derivation runs: its result is not */
static void
auth_job_drop(struct stream *st)
{
	if (st->auth_job == NULL)
		return;
	work_cancel(st->auth_job->job);
	st->auth_job = NULL;
}

static void
auth_handle(struct stream *st, enum sasl_rc rc, struct buf *out)
{
	switch (rc) {
	case SASL_CHALLENGE:
		auth_send(st, "challenge", out);
		break;
	case SASL_NEED_CREDS:
		auth_need_creds(st, out);
		break;
	case SASL_NEED_WORK:
		auth_need_work(st);
		break;
	case SASL_SUCCESS:
		auth_success(st, out);
		break;
	case SASL_FAILURE:
		auth_fail(st, sasl_error(st->sasl));
		break;
	}
}

/* the router's answer to LINK_AUTH_GET: 0 found, 1 no such user, 2 failed */
void
auth_creds(struct stream *st, int status, const struct scram_creds *creds)
{
	struct buf	out;

	/* a derivation, not the router, is what the stream waits for */
	if (st->sasl == NULL || st->auth_job != NULL)
		return;
	st->state = ST_FEATURES;
	if (status == 2) {
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	buf_init(&out, SASL_DATA_MAX);
	auth_handle(st, sasl_set_creds(st->sasl, status == 0 ? creds : NULL,
	    &out), &out);
	buf_clear(&out);
}

static int
auth_decode(struct stream *st, const struct xnode *el, struct buf *in)
{
	struct arena	 a;
	char		*text;
	int		 rc = 0;

	arena_init(&a);
	text = xnode_text(&a, el);
	/* RFC 6120 6.4.2: "=" is an empty response, nothing is no response */
	if (*text != '\0' && base64_decode(in, text, strlen(text)) == -1) {
		auth_fail(st, SASLERR_INCORRECT_ENCODING);
		rc = -1;
	}
	arena_free(&a);
	(void)st;
	return rc;
}

int
auth_element(struct stream *st, struct xnode *el)
{
	struct buf	 in, out;
	const char	*mech;
	int		 m;

	if (strcmp(el->ns, NS_SASL) != 0)
		return -1;
	if (st->state == ST_AUTH_WAIT) {
		/*
		 * RFC 6120 6.4.5: the client may abort at any time, also
		 * while the credentials are being looked up; the router's
		 * answer, when it comes, is for nobody.
		 */
		if (strcmp(el->name, "abort") != 0)
			return -1;
		if (st->auth_job != NULL)
			auth_job_drop(st);
		st->auth_req = 0;	/* its answer matches no lookup */
		auth_fail(st, SASLERR_ABORTED);
		return 0;
	}
	buf_init(&in, SASL_DATA_MAX);
	buf_init(&out, SASL_DATA_MAX);
	if (strcmp(el->name, "auth") == 0) {
		/*
		 * A new <auth/> while an exchange is under way abandons a
		 * guess (a fake salt seen, a password half tried): it
		 * counts as a failed attempt.
		 */
		if (st->sasl != NULL) {
			log_info("%016llx auth user=%s result=restarted",
			    (unsigned long long)st->sid,
			    st->node ? log_escs(st->node) : "-");
			if (auth_attempt_failed(st) == -1)
				goto done;
		}
		sasl_free(st->sasl);
		st->sasl = NULL;
		free(st->node);
		st->node = NULL;
		mech = xnode_attr(el, "mechanism");
		if (limits_auth_blocked(st)) {
			log_info("%016llx %s: login refused, too many failures "
			    "from this address", (unsigned long long)st->sid,
			    st->peer);
			auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
			goto done;
		}
		if (!st->tls_on && c2s.conf.c2s_require_tls) {
			auth_fail(st, SASLERR_ENCRYPTION_REQUIRED);
			goto done;
		}
		if (mech == NULL || (m = sasl_mech_lookup(mech)) == -1) {
			auth_fail(st, SASLERR_INVALID_MECHANISM);
			goto done;
		}
		if (m == SASL_PLAIN && !st->tls_on) {
			auth_fail(st, SASLERR_ENCRYPTION_REQUIRED);
			goto done;
		}
		if (auth_decode(st, el, &in) == -1)
			goto done;
		st->mech = (enum sasl_mech)m;
		st->sasl = sasl_new(st->mech);
		sasl_set_async(st->sasl, true);
		if (el->children == NULL) {
			/* no initial response: ask for it */
			auth_send(st, "challenge", NULL);
			goto done;
		}
		auth_handle(st, sasl_step(st->sasl, buf_rptr(&in),
		    buf_avail(&in), &out), &out);
	} else if (strcmp(el->name, "response") == 0) {
		if (st->sasl == NULL) {
			auth_fail(st, SASLERR_MALFORMED_REQUEST);
			goto done;
		}
		if (auth_decode(st, el, &in) == -1)
			goto done;
		auth_handle(st, sasl_step(st->sasl, buf_rptr(&in),
		    buf_avail(&in), &out), &out);
	} else if (strcmp(el->name, "abort") == 0) {
		auth_fail(st, SASLERR_ABORTED);
	} else
		auth_fail(st, SASLERR_MALFORMED_REQUEST);
done:
	buf_clear(&in);
	buf_clear(&out);
	return 0;
}
