/*
 * The s2s scenario driver: server streams in both directions (s2s/conn.c,
 * in.c, out.c, srv.c, certid.c, dialback.c) with no socket, no resolver,
 * no router and no waiting. Connections sit on memory transports
 * (common/transport.h), time is the fake clock (common/clock.h), DNS is
 * a script (queries wait until scn_dns_answer() gives the scripted
 * answer), and what would go to the router is recorded in scn_up.
 *
 *	scn_s2s_setup();
 *	scn_dns_script("remote.test", 0, NULL, "192.0.2.1");
 *	out_stanza("romeo@remote.test", "juliet@example.org/b", xml, len);
 *	scn_dns_answer();		SRV, then A/AAAA: a connect starts
 *	c = scn_s2s_out("example.org remote.test");
 *	tp_mem_connected(&c->tp, 0);	or let the clock run out
 *	scn_send(&c->tp, "<stream:stream ...>");
 *	scn_advance(10);
 *	scn_s2s_teardown();
 *
 * Time and loop steps (scn_run, scn_advance) are in scn.h, shared with
 * the c2s driver.
 */
#ifndef PARLEY_SCN_S2S_H
#define PARLEY_SCN_S2S_H

#include "../../s2s/s2s.h"
#include "scn.h"

#define SCN_HOST	"example.org"
#define SCN_SECRET	"0123456789abcdef0123456789abcdef"

/* what reached the router, one line per stanza: "to from xml\n" */
struct scn_up {
	bool		 down;		/* uplink_stanza fails (router away) */
	int		 stanzas;
	struct buf	 log;
};
extern struct scn_up	scn_up;

/* an s2s on the fake clock: TLS not required, dialback on */
void		 scn_s2s_setup(void);
void		 scn_s2s_teardown(void);
/*
 * What DNS says about domain: SRV target host:port (host NULL: no SRV
 * records), and addr (an IPv4 literal, NULL: no address) for the
 * A/AAAA lookup of the target (or of the domain itself). Several calls
 * for one domain give several targets, in order of priority.
 */
void		 scn_dns_script(const char *domain, const char *srv_host,
		    uint16_t port, const char *addr);
/* answers every pending query; returns how many */
int		 scn_dns_answer(void);
/* the connection of an outgoing pair "local remote" (NULL if none) */
struct conn	*scn_s2s_out(const char *pair);
/* a server connects to us */
struct conn	*scn_s2s_accept(void);

#endif
