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
	{ NS_SASL2, NULL },
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

/*
 * The mechanisms offered, best first: -PLUS only over TLS and only with
 * XEP-0388, where XEP-0440 tells the client which binding types it may
 * use (an RFC 6120 client picking -PLUS binds tls-unique, which TLS 1.3
 * lacks); PLAIN only over TLS. Returns how many names went into out.
 */
size_t
auth_mechs(struct stream *st, bool sasl2, const char **out)
{
	size_t	n = 0;

	if (st->tls_on && sasl2) {
		out[n++] = sasl_mech_name(SASL_SCRAM_SHA256_PLUS);
		out[n++] = sasl_mech_name(SASL_SCRAM_SHA1_PLUS);
	}
	out[n++] = sasl_mech_name(SASL_SCRAM_SHA256);
	out[n++] = sasl_mech_name(SASL_SCRAM_SHA1);
	if (st->tls_on)
		out[n++] = sasl_mech_name(SASL_PLAIN);
	return n;
}

void
auth_features(struct stream *st, struct buf *b)
{
	const char	*names[SASL_NMECH];
	size_t		 n, i;

	/* RFC 6120 5.3.1: with TLS required, SASL is offered after it */
	if (!st->tls_on && c2s.conf.c2s_require_tls)
		return;
	n = auth_mechs(st, false, names);
	buf_puts(b, "<mechanisms xmlns='" NS_SASL "'>");
	for (i = 0; i < n; i++)
		buf_printf(b, "<mechanism>%s</mechanism>", names[i]);
	buf_puts(b, "</mechanisms>");
	sasl2_features(st, b);
	sasl2_cb_features(st, b);
}

static void
auth_send(struct stream *st, const char *el, struct buf *data)
{
	struct buf	*b = &c2s.scratch;

	if (st->sasl2 != NULL) {
		sasl2_challenge(st, data);
		return;
	}

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

void
auth_fail(struct stream *st, enum sasl_err cond)
{
	auth_fail_text(st, cond, st->sasl != NULL ?
	    sasl_error_text(st->sasl) : NULL);
}

void
auth_fail_text(struct stream *st, enum sasl_err cond, const char *text)
{
	struct buf	*b = &c2s.scratch;

	sasl_free(st->sasl);
	st->sasl = NULL;
	log_info("%016llx auth user=%s result=%s", (unsigned long long)st->sid,
	    st->node ? log_escs(st->node) : "-", sasl_err_name(cond));
	free(st->node);
	st->node = NULL;
	st->state = ST_FEATURES;
	if (st->sasl2 != NULL)
		sasl2_failure(st, cond, text);
	else {
		buf_reset(b);
		buf_printf(b, "<failure xmlns='" NS_SASL "'><%s/></failure>",
		    sasl_err_name(cond));
		stream_write(st, buf_rptr(b), buf_avail(b));
	}
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
	fast_authed(st);
	sasl_free(st->sasl);
	st->sasl = NULL;
	/* XEP-0480: a task first; authenticated when it is done */
	if (st->sasl2 != NULL && upgrade_continue(st, data))
		return;
	auth_complete(st, data);
}

void
auth_complete(struct stream *st, struct buf *data)
{
	st->authed = true;
	xstream_preauth_end(st->xs);
	if (st->sasl2 != NULL) {
		/* XEP-0388 2.6.1: no stream restart */
		sasl2_success(st, data);
		return;
	}
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

/* the router's answer to LINK_AUTH_GET: an enum link_auth_status */
void
auth_creds(struct stream *st, int status, const struct scram_creds *creds)
{
	struct buf	out;

	/* a derivation, not the router, is what the stream waits for */
	if (st->sasl == NULL || st->auth_job != NULL)
		return;
	st->state = ST_FEATURES;
	/*
	 * Without the router's key an unknown account's made-up salt would
	 * differ from the one every other c2s gives it (uplink_secrets): a
	 * name that cannot be an account is answered here before any
	 * router link
	 */
	if (status == LINK_AUTH_FAILED || !sasl_secret_known()) {
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	if (status == LINK_AUTH_DISABLED) {
		/* RFC 6120 6.5.1; the exchange stops, whatever it was */
		auth_fail_text(st, SASLERR_ACCOUNT_DISABLED,
		    "this account is disabled");
		return;
	}
	buf_init(&out, SASL_DATA_MAX);
	if (status == 0) {
		fast_creds(st, creds);
		upgrade_creds(st, creds);
	}
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
	if (base64_decoded_len(text, strlen(text)) > SASL_DATA_MAX) {
		/* 6.5.6: more than a message holds is no encoding error */
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST, "too much data");
		rc = -1;
	} else if (*text != '\0' &&
	    base64_decode(in, text, strlen(text)) == -1) {
		auth_fail(st, SASLERR_INCORRECT_ENCODING);
		rc = -1;
	}
	arena_free(&a);
	(void)st;
	return rc;
}

/* a new exchange abandons the one under way, which counts as a failure */
int
auth_reset(struct stream *st)
{
	if (st->sasl != NULL) {
		log_info("%016llx auth user=%s result=restarted",
		    (unsigned long long)st->sid,
		    st->node ? log_escs(st->node) : "-");
		if (auth_attempt_failed(st) == -1)
			return -1;
	}
	sasl_free(st->sasl);
	st->sasl = NULL;
	free(st->node);
	st->node = NULL;
	return 0;
}

/*
 * Starts an exchange: <auth/> (RFC 6120 6.4.2) or <authenticate/>
 * (XEP-0388 2.3, sasl2). in is the initial response, NULL if absent.
 */
void
auth_start(struct stream *st, const char *mech, bool sasl2,
    struct buf *in)
{
	const char	*offered[SASL_NMECH];
	struct buf	 ssdp;
	bool		 have[SASL_NCB];
	size_t		 n, i;
	int		 m;

	if (limits_auth_blocked(st)) {
		log_info("%016llx %s: login refused, too many failures "
		    "from this address", (unsigned long long)st->sid,
		    st->peer);
		auth_fail(st, SASLERR_TEMPORARY_AUTH_FAILURE);
		return;
	}
	if (!st->tls_on && c2s.conf.c2s_require_tls) {
		auth_fail(st, SASLERR_ENCRYPTION_REQUIRED);
		return;
	}
	if (mech == NULL || (m = sasl_mech_lookup(mech)) == -1) {
		auth_fail(st, SASLERR_INVALID_MECHANISM);
		return;
	}
	if (m == SASL_PLAIN && !st->tls_on) {
		auth_fail(st, SASLERR_ENCRYPTION_REQUIRED);
		return;
	}
	/* only what was offered on this stream (auth_mechs, fast.c) */
	n = auth_mechs(st, sasl2, offered);
	for (i = 0; i < n && strcmp(offered[i], mech) != 0; i++)
		;
	if (i == n && !(sasl_mech_ht(m) && sasl2 && fast_offered(st, m))) {
		auth_fail(st, SASLERR_INVALID_MECHANISM);
		return;
	}
	if (sasl_mech_ht(m) && !fast_used(st)) {
		/* XEP-0484 3.4: a token login says so with <fast/> */
		auth_fail_text(st, SASLERR_MALFORMED_REQUEST,
		    "a FAST mechanism needs <fast/>");
		return;
	}
	st->mech = (enum sasl_mech)m;
	st->sasl = sasl_new(st->mech);
	sasl_set_async(st->sasl, true);
	/*
	 * The connection's binding data, fetched once (tls-exporter is a
	 * PRF run): for -PLUS, offered with XEP-0388 only, and for the
	 * XEP-0474 list.
	 */
	sasl2_cb_collect(st, sasl2 ? st->sasl : NULL, have);
	if (sasl2)
		sasl_set_plus_offered(st->sasl, st->tls_on);
	buf_init(&ssdp, 512);
	sasl2_ssdp(st, sasl2, have, &ssdp);
	sasl_set_ssdp(st->sasl, buf_rptr(&ssdp), buf_avail(&ssdp));
	buf_clear(&ssdp);
	if (in == NULL) {
		/* no initial response: ask for it */
		auth_send(st, "challenge", NULL);
		return;
	}
	auth_response(st, in);
}

void
auth_response(struct stream *st, struct buf *in)
{
	struct buf	out;

	if (st->sasl == NULL) {
		auth_fail(st, SASLERR_MALFORMED_REQUEST);
		return;
	}
	buf_init(&out, SASL_DATA_MAX);
	auth_handle(st, sasl_step(st->sasl, buf_rptr(in), buf_avail(in),
	    &out), &out);
	buf_clear(&out);
}

/*
 * RFC 6120 6.4.5, XEP-0388 2.5: the client may abort at any time, also
 * while the credentials are being looked up; the router's answer, when
 * it comes, is for nobody.
 */
void
auth_abort(struct stream *st)
{
	if (st->auth_job != NULL)
		auth_job_drop(st);
	st->auth_req = 0;	/* its answer matches no lookup */
	auth_fail(st, SASLERR_ABORTED);
}

int
auth_element(struct stream *st, struct xnode *el)
{
	struct buf	 in;

	if (strcmp(el->ns, NS_SASL) != 0)
		return -1;
	if (st->state == ST_AUTH_WAIT) {
		if (strcmp(el->name, "abort") != 0)
			return -1;
		auth_abort(st);
		return 0;
	}
	/* RFC 6120 SASL ends an XEP-0388 exchange under way */
	sasl2_stream_free(st);
	buf_init(&in, SASL_DATA_MAX);
	if (strcmp(el->name, "auth") == 0) {
		if (auth_reset(st) == -1)
			goto done;
		if (auth_decode(st, el, &in) == -1)
			goto done;
		auth_start(st, xnode_attr(el, "mechanism"), false,
		    el->children == NULL ? NULL : &in);
	} else if (strcmp(el->name, "response") == 0) {
		if (auth_decode(st, el, &in) == -1)
			goto done;
		auth_response(st, &in);
	} else if (strcmp(el->name, "abort") == 0) {
		auth_fail(st, SASLERR_ABORTED);
	} else
		auth_fail(st, SASLERR_MALFORMED_REQUEST);
done:
	buf_clear(&in);
	return 0;
}
