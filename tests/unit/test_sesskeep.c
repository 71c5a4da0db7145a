/*
 * What the router tells the c2s that takes a resumed session
 * (router/sesskeep.c, LINK_SESS_KEEP): its presence, then one join per
 * room it is in, made from the occupant (no history, the room's
 * password, its presence children), at most as many and as large as
 * c2s/rejoin.c keeps; nothing for a hibernating session. The frames are
 * read back from the link's output queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "../../common/link.h"
#include "../../common/util.h"
#include "../../router/muc.h"
#include "../../router/router.h"
#include "unit.h"

/* the router's one global, main.c's in the real process */
struct router	router;

#define SVC	"conference.localhost"
#define FULL	"romeo@localhost/phone"
#define ROOMS	130
#define KEEP_BIG	5000

static int
no_frame(struct link *l, const struct link_hdr *h, const char *p, void *ctx)
{
	(void)l;
	(void)h;
	(void)p;
	(void)ctx;
	return 0;
}

static void
no_close(struct link *l, const char *why, void *ctx)
{
	(void)l;
	(void)why;
	(void)ctx;
}

static struct muc_room *
room_with_romeo(const char *node, const char *extra)
{
	struct muc_room	*r = muc_room_new(node, SVC, "romeo@localhost");
	char		*res[1] = { FULL };

	assert_non_null(muc_occ_restore(r, "romeo", "romeo@localhost",
	    ROLE_PARTICIPANT, true, "", extra, res, 1));
	return r;
}

static void
test_keep_presence_and_rooms(void **state)
{
	struct conf_host	 host;
	struct rlink		 rl;
	struct sess		 s;
	struct link_hdr		 h;
	struct link_in		 in;
	struct muc_room		*r;
	const char		*p, *end, *xml;
	char			 to[JID_STR_MAX + 1], node[16];
	char			 big[KEEP_BIG];
	size_t			 xlen, nrooms = 0;
	int			 sv[2], i;
	bool			 seen = false;

	(void)state;
	memset(&host, 0, sizeof(host));
	host.name = "localhost";
	host.muc = true;
	host.muc_name = SVC;
	router.conf.hosts = &host;
	router.conf.nhosts = 1;
	router.conf.muc_history = 20;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&rl, 0, sizeof(rl));
	rl.l = link_new(EV_DEFAULT, sv[0], "c2s[1]", 1u << 24, no_frame,
	    no_close, NULL);
	memset(&s, 0, sizeof(s));
	s.full = FULL;
	s.sid = 7;
	s.available = true;
	s.presence = "<presence><show>away</show></presence>";

	r = room_with_romeo("one", "<show>away</show>");
	r->cfg.password = xstrdup("p&w");
	/* a join past what the c2s keeps is not sent */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	room_with_romeo("big", big);
	for (i = 0; i < ROOMS; i++) {
		snprintf(node, sizeof(node), "r%d", i);
		room_with_romeo(node, NULL);
	}

	/* hibernating: no link, nothing */
	s.rl = NULL;
	sess_keep_send(&s);
	assert_int_equal(buf_avail(&rl.l->out), 0);

	s.rl = &rl;
	sess_keep_send(&s);
	p = buf_rptr(&rl.l->out);
	end = p + buf_avail(&rl.l->out);
	for (i = 0; p < end; i++) {
		assert_true(end - p >= LINK_HDR_LEN);
		link_hdr_decode(&h, p);
		assert_int_equal(h.type, LINK_SESS_KEEP);
		assert_int_equal(h.sid, 7);
		link_in_init(&in, p + LINK_HDR_LEN, h.len);
		link_get_str(&in, to, sizeof(to));
		link_get_strn(&in, &xml, &xlen);
		assert_true(link_in_done(&in));
		p += LINK_HDR_LEN + h.len;
		if (i == 0) {
			/* the presence first */
			assert_string_equal(to, "");
			assert_int_equal(xlen, strlen(s.presence));
			continue;
		}
		nrooms++;
		assert_null(strstr(to, "big@"));
		if (strcmp(to, "one@" SVC "/romeo") != 0)
			continue;
		seen = true;
		assert_int_equal(xlen, strlen("<presence from='" FULL "' "
		    "to='one@" SVC "/romeo'><x xmlns='" NS_MUC "'><history "
		    "maxstanzas='0'/><password>p&amp;w</password></x><show>"
		    "away</show></presence>"));
		assert_memory_equal(xml, "<presence from='" FULL "' to='one@"
		    SVC "/romeo'><x xmlns='" NS_MUC "'><history maxstanzas="
		    "'0'/><password>p&amp;w</password></x><show>away</show>"
		    "</presence>", xlen);
	}
	assert_true(seen);
	/* c2s/rejoin.c keeps 128 rooms: no more are sent */
	assert_int_equal(nrooms, 128);

	link_free(rl.l);
	close(sv[1]);
	muc_clear();
	memset(&router.conf, 0, sizeof(router.conf));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_keep_presence_and_rooms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
