/*
 * Fuzz target: the s2s end of the router link, as fuzz_link_c2s.c is the
 * c2s end. The target plays the router for s2s/uplink.c over a Unix
 * socket; the outgoing streams it hands stanzas to are a record standing
 * in for s2s/out.c.
 *
 * Oracles: link.c delivers exactly the complete frames the input holds
 * (fuzz.h); out_stanza() gets terminated addresses that fit the buffers
 * uplink.c copied them into and the whole payload; the s2s writes
 * well-formed frames.
 *
 * Input: the chunking plan, then the router's bytes.
 */
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../s2s/s2s.h"
#include "fuzz.h"

#define ADDR_BUF	(3 * 1024 + 3)	/* uplink.c's buffers */

struct s2s	s2s;

static bool	linked(void);
static struct fuzz_uplink up = { .reconnect = &s2s.uplink.retry.w,
    .up = &s2s.up, .connected = linked };

/* linked, quiesced or not (uplink_up() is false while quiesced) */
static bool
linked(void)
{
	return routerlink_ok(s2s.up);
}

/* ---- what uplink.c calls ------------------------------------------------ */

void
listen_pause(bool pause)
{
	(void)pause;
}

void
in_release_held(void)
{
}

void
in_resume_all(void)
{
}

void
out_stanza(const char *to, const char *from, const char *xml, size_t len)
{
	FUZZ_CHECK(to != NULL && from != NULL && xml != NULL,
	    "NULL in the envelope");
	FUZZ_CHECK(strlen(to) < ADDR_BUF && strlen(from) < ADDR_BUF,
	    "address too long");
	fuzz_touch(xml, len);
}

/* ---- the harness -------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	s2s.conns = map_new();
	s2s.outs = map_new();
	fuzz_uplink_init(&up, &s2s.loop, &s2s.conf, uplink_start);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_plan	 plan;
	struct fuzz_tap		 tap;
	size_t			 off;

	off = fuzz_plan_init(&plan, data, len);
	/* each input is a router of its own: no LINK_QUIESCE heard yet */
	s2s.quiesced = false;
	fuzz_uplink_run(&up, &tap, data + off, len - off, &plan);
	return 0;
}
