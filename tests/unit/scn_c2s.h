/*
 * The c2s scenario driver: client streams (c2s/stream.c, auth.c, sasl.c,
 * bind.c, register.c, limits.c) with no socket, no router and no waiting.
 * Streams sit on memory transports (common/transport.h), time is the fake
 * clock (common/clock.h), and the router is a recorder: what the c2s asks
 * of it lands in scn_router, and a test answers by calling the c2s's own
 * entry points (auth_creds, bind_result, register_result).
 *
 *	scn_c2s_setup();
 *	st = scn_c2s_accept();
 *	scn_send(&st->tp, "<stream:stream ...>");
 *	assert_non_null(strstr(tp_mem_output(&st->tp), "<stream:features>"));
 *	scn_advance(29.9);	timers due within fire, in order
 *	scn_c2s_teardown();
 *
 * A stream is freed (the pointer is dead) once its transport is reaped:
 * check scn_c2s_alive(sid) rather than touching it after a close.
 */
#ifndef PARLEY_SCN_C2S_H
#define PARLEY_SCN_C2S_H

#include "../../c2s/c2s.h"
#include "../../common/jid.h"
#include "scn.h"

#define SCN_HOST	"example.org"
#define SCN_HEADER	"<?xml version='1.0'?><stream:stream " \
			"xmlns='jabber:client' " \
			"xmlns:stream='http://etherx.jabber.org/streams' " \
			"to='" SCN_HOST "' version='1.0'>"

/* what the c2s asked of the router */
struct scn_router {
	bool		 up;		/* uplink_up() says (default true) */
	int		 auth_gets;
	int		 sess_begins;
	int		 sess_ends;
	int		 stanzas;
	uint64_t	 last_sid;
	char		 last_node[64];	/* of the last AUTH_GET */
	char		 last_jid[JID_STR_MAX + 1]; /* of the last SESS_BEGIN */
	bool		 last_lost;	/* the last SESS_END said "lost" */
	/* stream management (XEP-0198) */
	int		 sm_enables;
	bool		 sm_resume_flag; /* of the last SM_ENABLE */
	int		 sm_acks;
	uint32_t	 sm_acked, sm_h_in, sm_h_out, sm_last; /* last SM_ACK */
	int		 sm_resumes;
	int		 auth_fails;	/* uplink_auth_fail calls */
	char		 sm_previd[128];
	uint32_t	 sm_h;		/* of the last SM_RESUME */
};
extern struct scn_router	scn_router;

/*
 * A c2s on the fake clock, c2s-require-tls off, SCN_HOST its one host.
 * Each setup starts the clock a day after the previous one, so that what
 * c2s/limits.c remembers of the (one, "unknown") client address has
 * lapsed.
 */
void		 scn_c2s_setup(void);
/* every stream killed and reaped, the globals freed */
void		 scn_c2s_teardown(void);
/* a client connects (plain listener) */
struct stream	*scn_c2s_accept(void);
/*
 * A client that authenticated as node (set as SASL success sets it) and
 * restarted its stream: the output holds both feature lists.
 */
struct stream	*scn_c2s_authed(const char *node);
/*
 * A client that authenticated as node (set as SASL success sets it: the
 * SASL exchange has scenarios of its own) and bound resource, the
 * router having said yes. The output so far is forgotten.
 */
struct stream	*scn_c2s_bound(const char *node, const char *resource);
/*
 * The router answers the stream's AUTH_GET (the recorder saw it): the
 * account's SCRAM credentials made from password, or with password NULL
 * "no such account"; then the loop runs.
 */
void		 scn_router_creds(struct stream *, const char *password);
/* the stream is in the table / not yet freed */
bool		 scn_c2s_alive(uint64_t sid);

#endif
