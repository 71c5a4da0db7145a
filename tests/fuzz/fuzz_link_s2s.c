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

#define MAX_FRAMES	4096
#define ADDR_BUF	(3 * 1024 + 3)	/* uplink.c's buffers */

struct s2s	s2s;

static int	lfd = -1;

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
	s2s.loop = ev_default_loop(EVFLAG_AUTO);
	s2s.conf.rundir = xstrdup(fuzz_tmpdir());
	s2s.conf.link_queue_max = 1 << 20;
	s2s.conns = map_new();
	s2s.outs = map_new();
	link_loop_init(s2s.loop);
	lfd = fuzz_unix_listen("router.sock");
	uplink_start();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct fuzz_frame frames[MAX_FRAMES];
	struct fuzz_plan	 plan;
	struct fuzz_tap		 tap;
	struct buf		 back;
	size_t			 off, nframes;
	int			 fd;

	off = fuzz_plan_init(&plan, data, len);
	data += off;
	len -= off;

	/*
	 * After the last input's link went, the process may have connected
	 * again already; if not, its timer fires now, not in half a second.
	 */
	if (!uplink_up()) {
		ev_feed_event(s2s.loop, &s2s.uplink.retry.w, EV_TIMER);
		ev_run(s2s.loop, EVRUN_NOWAIT);
	}
	FUZZ_CHECK(uplink_up(), "s2s did not connect");
	FUZZ_CHECK((fd = fuzz_accept(lfd)) != -1, "no connection to accept");

	nframes = fuzz_frames_split(data, len, frames, MAX_FRAMES);
	fuzz_tap_install(&tap, s2s.up, frames, nframes);
	buf_init(&back, 0);
	fuzz_pump(s2s.loop, fd, data, len, &plan, &back);
	fuzz_settle(s2s.loop, fd, &back);
	shutdown(fd, SHUT_WR);
	fuzz_settle(s2s.loop, fd, &back);
	fuzz_tap_finish(&tap);
	fuzz_check_output_frames(&back);
	buf_clear(&back);
	close(fd);
	return 0;
}
