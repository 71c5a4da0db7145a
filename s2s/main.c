/*
 * parley-s2s: the federation process. Started by parleyd as
 * "parley-s2s -c FILE"; one per server.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "../common/map.h"
#include "../common/proc.h"
#include "../common/util.h"
#include "s2s.h"

struct s2s	s2s;

static void
s2s_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	transport_reap();
}

static void
s2s_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

/* trust for peer certificates: the configured CA file or the system's */
static int
s2s_trust(gnutls_certificate_credentials_t creds)
{
	int	rc;

	if (s2s.conf.s2s_ca_file != NULL)
		rc = gnutls_certificate_set_x509_trust_file(creds,
		    s2s.conf.s2s_ca_file, GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(creds);
	if (rc < 0) {
		log_warnx("%s: s2s-ca-file %s: %s", s2s.conf.path,
		    s2s.conf.s2s_ca_file ? s2s.conf.s2s_ca_file : "(system)",
		    gnutls_strerror(rc));
		return -1;
	}
	if (rc == 0)
		log_warnx("no trusted CA certificates for peer servers: "
		    "only dialback can authenticate them");
	return 0;
}

/*
 * The server side uses the c2s's credentials (every host, SNI) plus the
 * trust list; the client side needs one credentials object per host so
 * that the certificate we present is the one of the domain we speak for.
 */
static int
s2s_tls_init(void)
{
	const struct conf_host	*h;
	size_t			 i;
	int			 rc;

	if (tls_ctx_init(&s2s.tls, &s2s.conf) == -1 ||
	    s2s_trust(s2s.tls.creds) == -1)
		return -1;
	s2s.host_creds = xcalloc(s2s.conf.nhosts, sizeof(*s2s.host_creds));
	for (i = 0; i < s2s.conf.nhosts; i++) {
		h = &s2s.conf.hosts[i];
		if ((rc = gnutls_certificate_allocate_credentials(
		    &s2s.host_creds[i])) < 0 ||
		    (rc = gnutls_certificate_set_x509_key_file(
		    s2s.host_creds[i], h->cert, h->key,
		    GNUTLS_X509_FMT_PEM)) < 0) {
			log_warnx("%s:%d: host %s: %s", s2s.conf.path,
			    h->line, h->name, gnutls_strerror(rc));
			return -1;
		}
		if (s2s_trust(s2s.host_creds[i]) == -1)
			return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	ev_signal	 sigterm, sigint;
	unsigned char	 rnd[32];

	(void)proc_init(argc, argv, "s2s", false, &s2s.conf);
	s2s.loop = ev_default_loop(EVFLAG_AUTO);
	s2s.conns = map_new();
	s2s.outs = map_new();
	if (s2s.conf.s2s_dialback_secret != NULL)
		snprintf(s2s.secret, sizeof(s2s.secret), "%s",
		    s2s.conf.s2s_dialback_secret);
	else {
		/* keys we issued before a restart then fail: they are
		   short-lived, and the peer simply asks again */
		random_bytes(rnd, sizeof(rnd));
		hex_encode(s2s.secret, rnd, sizeof(rnd));
	}
	if (s2s_tls_init() == -1 || dns_init() == -1 || listen_open() == -1)
		exit(1);
	priv_drop(&s2s.conf, true);	/* ports bound, keys read */
	link_loop_init(s2s.loop);
	ev_prepare_init(&s2s.reaper, s2s_prepare_cb);
	ev_prepare_start(s2s.loop, &s2s.reaper);
	ev_unref(s2s.loop);
	ev_signal_init(&sigterm, s2s_signal_cb, SIGTERM);
	ev_signal_start(s2s.loop, &sigterm);
	ev_signal_init(&sigint, s2s_signal_cb, SIGINT);
	ev_signal_start(s2s.loop, &sigint);
	uplink_start();
	log_info("started");
	ev_run(s2s.loop, 0);
	log_info("stopped");
	return 0;
}
