/*
 * Shared by the fuzz targets: oracle failures, logging, the chunking plan,
 * the reference link frame reader and the loopback pump. See fuzz.h.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "../../common/conf.h"
#include "../../common/jid.h"
#include "../../common/log.h"
#include "../../common/tls.h"
#include "../../common/util.h"
#include "../../common/xml.h"
#include "../../common/xmpp.h"
#include "fuzz.h"

/* loop runs without progress before the pump gives up */
#define PUMP_STALL_MAX	64

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list	ap;

	char	msg[4096];
	int	n;

	n = snprintf(msg, sizeof(msg), "%s:%d: oracle failed: %s: ", file,
	    line, cond);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	/*
	 * stderr may be /dev/null (-close_fd_mask=2); the sanitizer writes
	 * to the descriptor libFuzzer kept for its reports.
	 */
	__sanitizer_report_error_summary(msg);
	abort();
}

void
fuzz_log_init(void)
{
	const char	*v = getenv("PARLEY_FUZZ_LOG");

	/* as proc_init() does: peers close sockets under us */
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz", 0);
	log_verbosity = v != NULL && strcmp(v, "0") == 0 ? LOG_LVL_ERR :
	    LOG_LVL_DEBUG;
	log_traces = v != NULL && strcmp(v, "0") == 0 ? 0 :
	    TRACE_LINK | TRACE_XML | TRACE_SASL;
}

/*
 * The targets that need no set-up but the logging take this one; weak, so
 * that a target with its own (which calls fuzz_log_init) replaces it.
 */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	return 0;
}

void
fuzz_tls_nocert(struct tls_ctx *tls)
{
	if (gnutls_certificate_allocate_credentials(&tls->creds) < 0 ||
	    gnutls_priority_init(&tls->prio, "NORMAL", NULL) < 0)
		fatalx("gnutls");
}

void
fuzz_touch(const void *p, size_t n)
{
	const volatile unsigned char	*c = p;
	volatile unsigned char		 sum = 0;
	size_t				 i;

	for (i = 0; i < n; i++)
		sum ^= c[i];
	(void)sum;
}

size_t
fuzz_plan_init(struct fuzz_plan *p, const uint8_t *data, size_t len)
{
	size_t	n;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		return 0;
	n = data[0] & 0x0f;
	if (n > len - 1)
		n = len - 1;
	p->steps = data + 1;
	p->nsteps = n;
	return 1 + n;
}

size_t
fuzz_plan_next(struct fuzz_plan *p, size_t left)
{
	size_t	n;
	uint8_t	b;

	if (left == 0)
		return 0;
	if (p->nsteps == 0)
		return left;
	b = p->steps[p->next++ % p->nsteps];
	n = b < 0xc0 ? (size_t)b + 1 : (size_t)(b - 0xbf) * 64;
	return n < left ? n : left;
}

int
fuzz_plan_mode(struct fuzz_plan *plan, const uint8_t **data, size_t *len)
{
	uint8_t	mode;
	size_t	off;

	if (*len < 1)
		return -1;
	mode = (*data)[0];
	off = 1 + fuzz_plan_init(plan, *data + 1, *len - 1);
	*data += off;
	*len -= off;
	return mode;
}

/* ---- link frames -------------------------------------------------------- */

size_t
fuzz_frames_split(const uint8_t *data, size_t len, struct fuzz_frame *out,
    size_t max)
{
	struct link_hdr	h;
	size_t		off = 0, n = 0;
	int		min;

	while (n < max && len - off >= LINK_HDR_LEN) {
		link_hdr_decode(&h, data + off);
		if (h.len > LINK_MAX_PAYLOAD)
			break;
		if (len - off - LINK_HDR_LEN < h.len)
			break;
		min = link_msg_min(h.type);
		if (min >= 0 && h.len < (uint32_t)min)
			break;
		out[n].h = h;
		out[n].payload = data + off + LINK_HDR_LEN;
		n++;
		off += LINK_HDR_LEN + h.len;
	}
	return n;
}

static struct fuzz_tap	*active_tap;

static int
tap_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct fuzz_tap		*t = active_tap;
	const struct fuzz_frame	*w;
	char			*copy;
	int			 rc;

	FUZZ_CHECK(t != NULL && t->l == l, "frame on an unknown link");
	FUZZ_CHECK(!t->stopped, "frame %zu after the link failed", t->seen);
	FUZZ_CHECK(t->seen < t->nwant, "frame %zu beyond the %zu complete "
	    "frames sent", t->seen, t->nwant);
	w = &t->want[t->seen++];
	FUZZ_CHECK(h->len == w->h.len && h->type == w->h.type &&
	    h->flags == w->h.flags && h->sid == w->h.sid,
	    "frame %zu header differs: len %u/%u type %#x/%#x", t->seen - 1,
	    h->len, w->h.len, h->type, w->h.type);
	FUZZ_CHECK(memcmp(payload, w->payload, h->len) == 0,
	    "frame %zu payload differs", t->seen - 1);
	/* exactly h->len bytes: ASan sees any read past the payload */
	copy = xmalloc(h->len);
	memcpy(copy, payload, h->len);
	rc = t->real(l, h, copy, ctx);
	free(copy);
	if (rc == -1 || l->failed)
		t->stopped = true;
	return rc;
}

static void
tap_close(struct link *l, const char *why, void *ctx)
{
	struct fuzz_tap	*t = active_tap;

	FUZZ_CHECK(t != NULL && t->l == l && !t->closed, "close callback "
	    "of an unknown link, or twice");
	t->closed = true;
	t->real_close(l, why, ctx);
}

void
fuzz_tap_install(struct fuzz_tap *t, struct link *l,
    const struct fuzz_frame *want, size_t nwant)
{
	memset(t, 0, sizeof(*t));
	t->l = l;
	t->real = l->on_frame;
	t->real_close = l->on_close;
	t->want = want;
	t->nwant = nwant;
	l->on_frame = tap_frame;
	l->on_close = tap_close;
	active_tap = t;
}

void
fuzz_tap_finish(struct fuzz_tap *t)
{
	FUZZ_CHECK(t->closed, "the link outlived its peer");
	FUZZ_CHECK(t->stopped || t->seen == t->nwant,
	    "%zu of %zu complete frames delivered on a working link",
	    t->seen, t->nwant);
	active_tap = NULL;
}

void
fuzz_check_output_frames(const struct buf *b)
{
	const uint8_t	*data;
	struct link_hdr	 h;
	size_t		 off = 0, len = buf_avail(b);
	int		 min;

	if (len == 0)
		return;
	data = (const uint8_t *)buf_rptr(b);
	while (len - off >= LINK_HDR_LEN) {
		link_hdr_decode(&h, data + off);
		FUZZ_CHECK(h.len <= LINK_MAX_PAYLOAD, "sent a frame of %u "
		    "bytes", h.len);
		min = link_msg_min(h.type);
		FUZZ_CHECK(min >= 0, "sent a frame of unknown type %#x",
		    h.type);
		if (len - off - LINK_HDR_LEN < h.len)
			return;
		FUZZ_CHECK(h.len >= (uint32_t)min, "sent a short %s (%u)",
		    link_msg_name(h.type), h.len);
		off += LINK_HDR_LEN + h.len;
	}
}

/* ---- the loopback pump -------------------------------------------------- */

static void
drain(int fd, struct buf *back)
{
	char	tmp[16384];
	ssize_t	n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return;
		if (back != NULL && buf_append(back, tmp, (size_t)n) == -1)
			fatalx("%s: output buffer", __func__);
	}
}

void
fuzz_settle(struct ev_loop *loop, int fd, struct buf *back)
{
	int	i;

	for (i = 0; i < 4; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		if (fd != -1)
			drain(fd, back);
	}
}

size_t
fuzz_send(int fd, const uint8_t *p, size_t n, int stall_max,
    void (*settle)(void *), void *arg)
{
	size_t	sent = 0;
	ssize_t	w;
	int	stall = 0;

	while (sent < n) {
		w = send(fd, p + sent, n - sent, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN) {
			/* the reader is slow, paused or gone */
			if (++stall > stall_max)
				break;
			settle(arg);
			continue;
		}
		if (w <= 0)
			break;	/* closed: nothing more to say */
		stall = 0;
		sent += (size_t)w;
	}
	return sent;
}

void
fuzz_pump_with(int fd, const uint8_t *data, size_t len,
    struct fuzz_plan *plan, int stall_max, void (*settle)(void *), void *arg)
{
	size_t	off = 0, n;

	while (off < len) {
		n = fuzz_plan_next(plan, len - off);
		if (fuzz_send(fd, data + off, n, stall_max, settle, arg) < n)
			return;
		off += n;
		settle(arg);
	}
}

struct pump {
	struct ev_loop	*loop;
	int		 fd;
	struct buf	*back;
};

static void
pump_settle(void *arg)
{
	struct pump	*p = arg;

	ev_run(p->loop, EVRUN_NOWAIT);
	drain(p->fd, p->back);
}

void
fuzz_pump(struct ev_loop *loop, int fd, const uint8_t *data, size_t len,
    struct fuzz_plan *plan, struct buf *back)
{
	struct pump	p = { loop, fd, back };

	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fuzz_pump_with(fd, data, len, plan, PUMP_STALL_MAX, pump_settle, &p);
}

/* ---- what a process hands the router ---------------------------------- */

void
fuzz_check_stanza_tree(struct xnode *el, struct arena *a, void *arg)
{
	struct fuzz_stanza_job	*job = arg;
	const char		*to = xnode_attr(el, "to");
	const char		*from = xnode_attr(el, "from");

	(void)a;
	job->called = true;
	FUZZ_CHECK(stanza_kind_of(el->ns, el->name, NS_CLIENT) == job->kind,
	    "a <%s/> in {%s} sent as kind %d", el->name, el->ns, job->kind);
	FUZZ_CHECK(stanza_type_of(job->kind, xnode_attr(el, "type")) ==
	    job->type, "type %d for type='%s'", job->type,
	    xnode_attr(el, "type") ? xnode_attr(el, "type") : "");
	FUZZ_CHECK(from != NULL && strcmp(from, job->from) == 0,
	    "from='%s', envelope %s", from ? from : "", job->from);
	FUZZ_CHECK(job->to == NULL ? to == NULL :
	    to != NULL && strcmp(to, job->to) == 0,
	    "to='%s', envelope %s", to ? to : "", job->to ? job->to : "-");
}

void
fuzz_check_normal_jid(const char *what, const char *s, struct jid *out)
{
	char	*full;

	FUZZ_CHECK(s != NULL && jid_parse(out, s) == 0, "%s \"%s\" is no "
	    "JID", what, s ? s : "(null)");
	full = jid_full(out);
	FUZZ_CHECK(strcmp(full, s) == 0, "%s \"%s\" is not normalised (%s)",
	    what, s, full);
	free(full);
}

/* ---- the link targets' process side ---------------------------------- */

/* frames one input may hold (a frame is at least its header) */
#define UPLINK_FRAMES_MAX	4096

void
fuzz_uplink_init(struct fuzz_uplink *u, struct ev_loop **loop,
    struct conf *conf, void (*start)(void))
{
	u->loop = *loop = ev_default_loop(EVFLAG_AUTO);
	conf->rundir = xstrdup(fuzz_tmpdir());
	conf->link_queue_max = 1 << 20;
	link_loop_init(u->loop);
	u->lfd = fuzz_unix_listen("router.sock");
	start();
}

void
fuzz_uplink_run(struct fuzz_uplink *u, struct fuzz_tap *tap,
    const uint8_t *data, size_t len, struct fuzz_plan *plan)
{
	static struct fuzz_frame frames[UPLINK_FRAMES_MAX];
	struct buf		 back;
	size_t			 nframes;
	int			 fd;

	/*
	 * After the last input's link went, the process may have connected
	 * again already; if not, its timer fires now, not in half a second.
	 */
	if (!u->connected()) {
		ev_feed_event(u->loop, u->reconnect, EV_TIMER);
		ev_run(u->loop, EVRUN_NOWAIT);
	}
	FUZZ_CHECK(u->connected(), "the process did not connect");
	FUZZ_CHECK((fd = fuzz_accept(u->lfd)) != -1,
	    "no connection to accept");

	nframes = fuzz_frames_split(data, len, frames, UPLINK_FRAMES_MAX);
	fuzz_tap_install(tap, *u->up, frames, nframes);
	buf_init(&back, 0);
	fuzz_pump(u->loop, fd, data, len, plan, &back);
	fuzz_settle(u->loop, fd, &back);
	/* the router goes away: pending requests are answered */
	shutdown(fd, SHUT_WR);
	fuzz_settle(u->loop, fd, &back);
	fuzz_tap_finish(tap);
	fuzz_check_output_frames(&back);
	buf_clear(&back);
	close(fd);
}

/* ---- what a server writes to a peer ------------------------------------- */

static void
xc_open(void *ctx, const struct xnode *hdr, const char *ns)
{
	struct fuzz_xmlcheck	*xc = ctx;

	FUZZ_CHECK(strcmp(hdr->ns, NS_STREAM) == 0 &&
	    strcmp(hdr->name, "stream") == 0 && strcmp(ns, xc->ns) == 0,
	    "%s: a stream header {%s}%s, content namespace %s", xc->who,
	    hdr->ns, hdr->name, ns);
}

static void
xc_element(void *ctx, struct xnode *el, struct arena *a)
{
	struct fuzz_xmlcheck	*xc = ctx;

	if (xc->element != NULL)
		xc->element(xc->arg, el, a);
}

static void
xc_close(void *ctx)
{
	(void)ctx;
}

static const struct xstream_cb xc_cbs = { xc_open, xc_element, xc_close };

void
fuzz_xmlcheck_init(struct fuzz_xmlcheck *xc, const char *who,
    const char *content_ns,
    void (*element)(void *, struct xnode *, struct arena *), void *arg)
{
	memset(xc, 0, sizeof(*xc));
	xc->xs = xstream_new(&xc_cbs, xc, 1 << 20);
	buf_init(&xc->seen, 0);
	xc->who = who;
	xc->ns = content_ns;
	xc->element = element;
	xc->arg = arg;
}

/* the longest end of p[0..n) that begins a header mark, not all of it */
static size_t
partial_mark(const char *p, size_t n)
{
	size_t	k, m = strlen(FUZZ_HEADER_MARK);

	for (k = n < m - 1 ? n : m - 1; k > 0; k--)
		if (memcmp(p + n - k, FUZZ_HEADER_MARK, k) == 0)
			return k;
	return 0;
}

void
fuzz_xmlcheck_feed(struct fuzz_xmlcheck *xc, const char *p, size_t n)
{
	const char	*mark, *tls;
	size_t		 k, avail, m = strlen(FUZZ_HEADER_MARK);

	if (xc->tls || n == 0)
		return;
	/* TLS records start with a byte no XML may hold */
	if ((tls = memchr(p, 0x16, n)) != NULL) {
		n = (size_t)(tls - p);
		xc->tls = true;
	}
	buf_append(&xc->seen, p, n);
	while ((avail = buf_avail(&xc->seen)) > 0) {
		if (xc->started && avail >= m &&
		    memcmp(buf_rptr(&xc->seen), FUZZ_HEADER_MARK, m) == 0) {
			xstream_reset(xc->xs);
			xc->started = false;
		}
		mark = memmem(buf_rptr(&xc->seen) + 1, avail - 1,
		    FUZZ_HEADER_MARK, m);
		k = mark != NULL ? (size_t)(mark - buf_rptr(&xc->seen)) :
		    avail - partial_mark(buf_rptr(&xc->seen), avail);
		if (k == 0)
			break;
		FUZZ_CHECK(xstream_feed(xc->xs, buf_rptr(&xc->seen), k) == 0,
		    "%s: the server wrote bad XML (%s): %.*s", xc->who,
		    xstream_error_text(xc->xs), (int)k, buf_rptr(&xc->seen));
		xc->started = true;
		buf_consume(&xc->seen, k);
	}
}

void
fuzz_xmlcheck_clear(struct fuzz_xmlcheck *xc)
{
	xstream_free(xc->xs);
	buf_clear(&xc->seen);
}

static char	tmpdir[64];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmpdir_remove(void)
{
	/* the directory holds only sockets and files we made */
	if (tmpdir[0] != '\0')
		(void)nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/parley-fuzz.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		fatal("mkdtemp");
	atexit(tmpdir_remove);
	return tmpdir;
}

int
fuzz_unix_listen(const char *name)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", fuzz_tmpdir(),
	    name);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 16) == -1)
		fatal("listen on %s", sun.sun_path);
	return fd;
}

int
fuzz_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
