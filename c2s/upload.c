/*
 * HTTP file upload (XEP-0363), the HTTP side: PUT and GET under /upload.
 * The router hands out slots (router/upload.c); a PUT's token (its
 * Authorization header, or the query of an older slot's URL) is checked
 * here against the key the router keeps in its data directory and hands
 * every c2s over its link (LINK_SECRETS, common/upslot.c), so no lookup
 * is needed.
 *
 * No file I/O runs on the loop: a PUT's body is written to a temporary
 * file of upload-dir in pieces by jobs of the worker pool (common/work.c),
 * one at a time and in order, and the last one fsyncs and renames it
 * into place; a GET's file is opened and read there too. A file is
 * therefore whole or absent: a GET during an upload finds nothing (404),
 * and a full disk loses the temporary file and answers 507.
 *
 * Stored file: "parley-upload 1\n" CONTENT-TYPE "\n" NAME "\n" bytes.
 * Files older than upload-expire are not served, and a sweep on the
 * worker pool deletes them.
 *
 * Temporary files name their worker: ".ID.TAG.RANDOM.part", TAG its
 * instance, pid and random bits, and the worker holds an exclusive
 * flock(2) on ".lock.TAG" for as long as it lives (the kernel lets go
 * when it dies, however it dies). The workers share the directory; each
 * sweep, and the first one right after a worker starts, deletes the
 * parts whose lock nobody holds: a killed worker's parts go within
 * seconds of its restart, a live one's are never touched.
 */
#include <sys/file.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/priv.h"
#include "../common/upslot.h"
#include "../common/util.h"
#include "../common/work.h"
#include "c2s.h"
#include "http.h"

#define UPLOAD_MAGIC	"parley-upload 1\n"
#define UPLOAD_PREFIX	"/upload/"
/* a temporary file this old belongs to no upload any more */
#define UPLOAD_PART_AGE	3600
/* "INSTANCE-PID-RANDOM" and its NUL */
#define UPLOAD_TAG_MAX	48
#define UPLOAD_LOCK	".lock."
#define UPLOAD_NEWLOCK	".newlock."

/*
 * An upload's file I/O runs on the work pool, one job at a time in the
 * order the bytes came: the body gathers in fill while a job writes
 * flight; past UPLOAD_PIECE with a job in flight the body waits
 * (http_body_pause), so an upload holds at most two pieces and what one
 * read brought. While a job runs it alone touches fd, flight, err and
 * published; the loop touches the rest.
 */
struct upload_put {
	int		 fd;		/* -1 until the first job opened it */
	char		*tmp;		/* the temporary file */
	char		*path;		/* the file it becomes */
	uint64_t	 size;		/* the slot's */
	uint64_t	 got;
	struct buf	 fill;		/* come, not yet handed to a job */
	struct buf	 flight;	/* the job's to write */
	bool		 last;		/* the job ends the file (fsync,
					   rename) */
	bool		 created;	/* the temporary file exists */
	bool		 published;	/* renamed into place */
	bool		 held;		/* the body waits for the job */
	bool		 complete;	/* the body is all in */
	bool		 abandoned;	/* the request went: only cleanup */
	int		 err;		/* a job's errno, 0 if none */
	struct http_req	*req;		/* NULL once it went */
	struct work	*job;		/* in flight, or NULL */
};

struct upload_sweep {
	int	dirfd;
	time_t	cutoff;		/* files modified before it go */
	time_t	part_cutoff;
	int	removed;
	int	orphans;	/* parts of workers that have gone */
	char	tag[UPLOAD_TAG_MAX];	/* ours: not looked at */
};

static bool		upload_on;	/* a host has upload yes */
static int		upload_dirfd = -1;
/* this worker's part names and lock, "" if it could not take one */
static char		upload_tag[UPLOAD_TAG_MAX];
static struct ctimer	upload_timer;
static bool		upload_sweeping;

/* "/upload/ID/NAME": id and name, or -1 */
static int
upload_split(const char *path, char id[UPSLOT_ID_LEN + 1], const char **name)
{
	const char	*p;

	if (strncmp(path, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) != 0)
		return -1;
	p = path + strlen(UPLOAD_PREFIX);
	if (strlen(p) < UPSLOT_ID_LEN + 2 || p[UPSLOT_ID_LEN] != '/')
		return -1;
	memcpy(id, p, UPSLOT_ID_LEN);
	id[UPSLOT_ID_LEN] = '\0';
	*name = p + UPSLOT_ID_LEN + 1;
	if (!upslot_id_valid(id) || !upslot_name_valid(*name))
		return -1;
	return 0;
}

/* a web client on another origin may PUT and GET (XEP-0363 9) */
static void
upload_cors(struct http_req *r)
{
	http_cors(r, "GET, HEAD, PUT, OPTIONS", "Content-Type, Authorization");
}

static const char *
req_ctype(const struct http_req *r)
{
	const char	*t = http_header(r, "content-type");

	return t != NULL ? t : "application/octet-stream";
}

#define UPLOAD_PIECE	(128u << 10)	/* bytes a write job takes */

static void	put_done(void *, bool);

static void
put_free(struct upload_put *u)
{
	buf_clear(&u->fill);
	buf_clear(&u->flight);
	free(u->tmp);
	free(u->path);
	free(u);
}

/* the HTTP status for a job's errno */
static int
put_status(int err)
{
	if (err == EEXIST)
		return 409;	/* a slot is used once */
	if (err == EAGAIN)
		return 503;	/* the work queue is full */
	/* RFC 4918 11.5: the disk is full, say so */
	if (err == ENOSPC || err == EDQUOT)
		return 507;
	return 500;
}

static int
put_write(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * On a worker: the file opened by the first job (a slot is used once:
 * a file already there refuses it), flight appended, and by the last
 * the bytes on disk and the name published
 */
static void
put_run(void *arg)
{
	struct upload_put	*u = arg;

	if (u->fd == -1) {
		if (access(u->path, F_OK) == 0) {
			u->err = EEXIST;
			return;
		}
		u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (u->fd == -1) {
			u->err = errno;
			return;
		}
		u->created = true;
	}
	if (put_write(u->fd, buf_rptr(&u->flight),
	    buf_avail(&u->flight)) == -1) {
		u->err = errno;
		return;
	}
	buf_reset(&u->flight);
	if (!u->last)
		return;
	if (fsync(u->fd) == -1 || close(u->fd) == -1) {
		u->err = errno;
		u->fd = -1;
		return;
	}
	u->fd = -1;
	if (renameat2(AT_FDCWD, u->tmp, AT_FDCWD, u->path,
	    RENAME_NOREPLACE) == -1) {
		u->err = errno;
		return;
	}
	u->published = true;
}

/* on a worker: what an abandoned or failed upload left goes */
static void
put_discard_run(void *arg)
{
	struct upload_put	*u = arg;

	if (u->fd != -1)
		close(u->fd);
	u->fd = -1;
	if (u->created && !u->published)
		(void)unlink(u->tmp);
	u->created = false;
}

static void
put_discard_done(void *arg, bool cancelled)
{
	struct upload_put	*u = arg;

	if (cancelled)		/* the pool stops: now, rather than never */
		put_discard_run(u);
	put_free(u);
}

/*
 * No job uses the upload any more and no request waits for it: the
 * temporary file is removed (on the pool) and the upload freed
 */
static void
put_discard(struct upload_put *u)
{
	if (u->fd == -1 && (!u->created || u->published)) {
		put_free(u);	/* nothing of it on disk, or a whole file */
		return;
	}
	if (work_submit_to(WORK_IO, put_discard_run,
	    put_discard_done, u) == NULL) {
		/* a full queue or a stopping pool: a leak would be worse */
		log_warnx("upload: %s removed on the loop", u->tmp);
		put_discard_run(u);
		put_free(u);
	}
}

/* the request is gone (refused, answered or its connection lost) */
static void
put_abandon(struct upload_put *u)
{
	u->req = NULL;
	u->abandoned = true;
	if (u->job != NULL)
		work_cancel(u->job);	/* put_done discards */
	else
		put_discard(u);
}

static void
put_release(void *arg)
{
	put_abandon(arg);
}

/*
 * Hands fill to a job when none runs and there is a piece to write (or
 * the rest, once the body is all in); returns 0 or an HTTP status
 */
static int
put_kick(struct upload_put *u, bool first)
{
	struct buf	t;

	if (u->job != NULL || u->err != 0)
		return 0;
	if (!first && !u->complete && buf_avail(&u->fill) < UPLOAD_PIECE)
		return 0;
	t = u->flight;
	u->flight = u->fill;
	u->fill = t;
	u->last = u->complete;
	if ((u->job = work_submit_to(WORK_IO, put_run, put_done, u)) == NULL) {
		log_warn("upload: %s", u->tmp);
		u->err = EAGAIN;
		return 503;
	}
	return 0;
}

static void
put_answer(struct upload_put *u)
{
	struct http_req	*r = u->req;

	r->gone = NULL;
	u->req = NULL;
	upload_cors(r);
	if (u->err == 0)
		http_respond(r, 201, NULL, NULL, 0);
	else
		http_error(r, put_status(u->err), false);
}

static void
put_done(void *arg, bool cancelled)
{
	struct upload_put	*u = arg;
	int			 st;

	u->job = NULL;
	if (u->abandoned) {
		put_discard(u);
		return;
	}
	if (cancelled && u->err == 0)
		u->err = ECANCELED;	/* the pool stops */
	if (u->err != 0 && u->err != EEXIST)
		log_warnx("upload: %s: %s", u->tmp, strerror(u->err));
	if (u->complete && (u->published || u->err != 0)) {
		/* held (http_hold) for this answer; then only cleanup */
		put_answer(u);
		put_abandon(u);
		return;
	}
	if ((st = u->err != 0 ? put_status(u->err) : put_kick(u, false)) ==
	    0 && u->held && buf_avail(&u->fill) < UPLOAD_PIECE)
		st = -1;
	if (st != 0 && u->held) {
		u->held = false;
		/* a refusal clears the request: put_release follows */
		http_body_resume(u->req, st == -1 ? 0 : st);
	}
}

/*
 * The slot's token: "Authorization: Bearer TOKEN" as the slot's <header/>
 * asks (XEP-0363 5, RFC 6750 2.1), else the URL's query, where slots put
 * it before they had the header; NULL if neither
 */
static const char *
upload_token(const struct http_req *r)
{
	const char	*v = http_header(r, "authorization");

	if (v == NULL)
		return r->query;
	v += strspn(v, " \t");
	/* RFC 9110 11.1: the scheme is case-insensitive */
	if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return "";	/* matches no slot: 403 */
	v += 6;
	v += strspn(v, " \t");
	return v;
}

/* a PUT's headers: the slot's token, size and type, or no body taken */
int
upload_begin(struct http_req *r, unsigned long long len)
{
	struct upload_put	*u;
	const char		*name, *tok, *ctype = req_ctype(r);
	char			 id[UPSLOT_ID_LEN + 1], rnd[17];
	uint8_t			 rb[8];
	uint64_t		 size;
	size_t			 max;
	enum upslot_check	 ck;

	if (r->method != HTTP_PUT)
		return 0;
	if (!upload_on || upload_split(r->path, id, &name) == -1)
		return 404;
	if ((tok = upload_token(r)) == NULL) {
		/* RFC 9110 15.5.2, RFC 6750 3: say how to authenticate */
		http_header_add(r, "WWW-Authenticate", "Bearer");
		return 401;
	}
	/* the router's key comes over its link (uplink_secrets) */
	if (!upslot_key_known())
		return 503;
	ck = upslot_verify(tok, id, name, ctype, (int64_t)clock_wall(),
	    &size);
	if (ck != UPSLOT_OK) {
		log_info("upload: PUT %s refused: %s token", id,
		    ck == UPSLOT_EXPIRED ? "expired" : "bad");
		return 403;
	}
	/* XEP-0363 4: the size the slot was given, no other */
	if (len != size)
		return len > size ? 413 : 400;
	u = xcalloc(1, sizeof(*u));
	random_bytes(rb, sizeof(rb));
	hex_encode(rnd, rb, sizeof(rb));
	u->fd = -1;
	u->path = xasprintf("%s/%s", c2s.conf.upload_dir, id);
	if (upload_tag[0] != '\0')
		u->tmp = xasprintf("%s/.%s.%s.%s.part", c2s.conf.upload_dir,
		    id, upload_tag, rnd);
	else
		u->tmp = xasprintf("%s/.%s.%s.part", c2s.conf.upload_dir, id,
		    rnd);
	u->size = size;
	/* a read's worth past a piece: the body waits before more comes */
	max = UPLOAD_PIECE + c2s.conf.http_max_header_size +
	    c2s.conf.http_max_body_size;
	buf_init(&u->fill, max);
	buf_init(&u->flight, max);
	(void)buf_printf(&u->fill, "%s%s\n%s\n", UPLOAD_MAGIC, ctype, name);
	u->req = r;
	r->body_arg = u;
	r->body_free = put_release;
	/* the file is opened now: a used slot or a full disk refuse early */
	return put_kick(u, true);
}

int
upload_body(struct http_req *r, const char *p, size_t n)
{
	struct upload_put	*u = r->body_arg;

	if (u == NULL)
		return 400;	/* a body where none was asked for */
	if (u->err != 0)
		return put_status(u->err);
	if (u->got + n > u->size)
		return 413;
	u->got += n;
	if (buf_append(&u->fill, p, n) == -1)
		return 500;	/* the pause below keeps it from coming */
	if (buf_avail(&u->fill) >= UPLOAD_PIECE && u->job != NULL &&
	    !u->held) {
		u->held = true;
		http_body_pause(r);
	}
	return put_kick(u, false);
}

static void
put_gone(struct http_req *r, void *arg)
{
	(void)r;
	put_abandon(arg);
}

static void
upload_put(struct http_req *r)
{
	struct upload_put	*u = r->body_arg;

	if (u == NULL || u->got != u->size) {
		http_error(r, 400, false);
		return;
	}
	/* the jobs own it now; the answer waits for the last */
	r->body_arg = NULL;
	r->body_free = NULL;
	u->complete = true;
	http_hold(r, put_gone, u);
	if (u->err != 0 || put_kick(u, false) != 0) {
		put_answer(u);
		put_abandon(u);
	}
}

/* the header holds no more: "parley-upload 1\n" TYPE "\n" NAME "\n" */
#define UPLOAD_HEAD_MAX	(sizeof(UPLOAD_MAGIC) + UPSLOT_TYPE_MAX + \
			 UPSLOT_NAME_MAX + 2)

/*
 * A GET: the file is opened and its header read on the work pool; its
 * bytes follow from there too (http_respond_fd). The fields but req and
 * job are the job's while it runs.
 */
struct upload_get {
	char		 id[UPSLOT_ID_LEN + 1];
	char		*name;		/* as the GET URL gives it */
	time_t		 now, expire;
	char		 head[UPLOAD_HEAD_MAX + 1];
	const char	*ctype;		/* in head */
	int		 fd;
	off_t		 off;		/* where the bytes start */
	size_t		 len;
	time_t		 mtime;
	int		 st;		/* 0, or the HTTP status */
	struct http_req	*req;		/* NULL once it went */
	struct work	*job;
};

static void
get_free(struct upload_get *g)
{
	if (g->fd != -1)
		close(g->fd);
	free(g->name);
	free(g);
}

/* on a worker: the file of id for a GET of name, or an HTTP status */
static void
get_run(void *arg)
{
	struct upload_get	*g = arg;
	struct stat		 sb;
	char			*nl, *nm;
	ssize_t			 n;

	g->st = 500;
	if ((g->fd = openat(upload_dirfd, g->id, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		g->st = errno == ENOENT ? 404 : 500;
		return;
	}
	if (fstat(g->fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_mtime + g->expire < g->now) {
		g->st = 404;	/* expired, the sweep has not come yet */
		return;
	}
	n = pread(g->fd, g->head, UPLOAD_HEAD_MAX, 0);
	if (n < (ssize_t)strlen(UPLOAD_MAGIC) ||
	    strncmp(g->head, UPLOAD_MAGIC, strlen(UPLOAD_MAGIC)) != 0)
		return;
	g->head[n] = '\0';
	g->ctype = g->head + strlen(UPLOAD_MAGIC);
	if ((nl = strchr(g->ctype, '\n')) == NULL)
		return;
	*nl = '\0';
	nm = nl + 1;
	if ((nl = strchr(nm, '\n')) == NULL)
		return;
	*nl = '\0';
	/* the GET URL names the file as the slot did */
	if (strcmp(nm, g->name) != 0) {
		g->st = 404;
		return;
	}
	g->off = nl + 1 - g->head;
	if (g->off > sb.st_size)
		return;
	g->len = (size_t)(sb.st_size - g->off);
	g->mtime = sb.st_mtime;
	g->st = 0;
}

static void
get_done(void *arg, bool cancelled)
{
	struct upload_get	*g = arg;
	struct http_req		*r = g->req;
	char			 age[64];
	long			 left;

	if (r == NULL) {
		get_free(g);	/* its connection went */
		return;
	}
	r->gone = NULL;
	upload_cors(r);
	if (cancelled || g->st != 0) {
		http_error(r, cancelled ? 503 : g->st, false);
		get_free(g);
		return;
	}
	/* the file never changes: cached until it expires */
	left = (long)(g->mtime + c2s.conf.upload_expire -
	    (time_t)clock_wall());
	snprintf(age, sizeof(age), "public, max-age=%ld, immutable",
	    left > 0 ? left : 0);
	r->cache_control = age;
	/* an uploaded page must not run as ours */
	http_header_add(r, "X-Content-Type-Options", "nosniff");
	http_header_add(r, "Content-Security-Policy",
	    "default-src 'none'; sandbox");
	/* the connection's fd now */
	http_respond_fd(r, 200, g->ctype, g->fd, g->off, g->len);
	g->fd = -1;
	get_free(g);
}

static void
get_gone(struct http_req *r, void *arg)
{
	struct upload_get	*g = arg;

	(void)r;
	g->req = NULL;
	work_cancel(g->job);
}

static void
upload_get(struct http_req *r)
{
	struct upload_get	*g;
	const char		*name;

	g = xcalloc(1, sizeof(*g));
	g->fd = -1;
	if (upload_split(r->path, g->id, &name) == -1) {
		free(g);
		upload_cors(r);
		http_error(r, 404, false);
		return;
	}
	g->name = xstrdup(name);
	g->now = (time_t)clock_wall();
	g->expire = c2s.conf.upload_expire;
	g->req = r;
	if ((g->job = work_submit_to(WORK_IO, get_run, get_done, g)) == NULL) {
		get_free(g);
		upload_cors(r);
		http_error(r, 503, false);
		return;
	}
	http_hold(r, get_gone, g);
}

void
upload_handle(struct http_req *r)
{
	if (!upload_on) {
		http_error(r, 404, false);
		return;
	}
	switch (r->method) {
	case HTTP_PUT:
		upload_put(r);
		break;
	case HTTP_GET:
	case HTTP_HEAD:
		upload_get(r);
		break;
	case HTTP_OPTIONS:
		upload_cors(r);
		http_respond(r, 204, NULL, NULL, 0);
		break;
	default:
		http_error(r, 405, false);
		break;
	}
}

/* ---- expiry ------------------------------------------------------------ */

/* a worker's tag: digits, lowercase hex and '-', and not too long */
static bool
tag_valid(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || n >= UPLOAD_TAG_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]) && p[i] != '-' &&
		    (p[i] < 'a' || p[i] > 'f'))
			return false;
	return true;
}

/*
 * The worker tag of a part ".ID.TAG.RANDOM.part" into tag; false for a
 * part of the older form ".ID.RANDOM.part", which has none
 */
static bool
part_tag(const char *name, char tag[UPLOAD_TAG_MAX])
{
	const char	*a, *b, *c;

	if ((a = strchr(name + 1, '.')) == NULL ||
	    (b = strchr(a + 1, '.')) == NULL ||
	    (c = strchr(b + 1, '.')) == NULL || strcmp(c, ".part") != 0 ||
	    !tag_valid(a + 1, (size_t)(b - a - 1)))
		return false;
	memcpy(tag, a + 1, (size_t)(b - a - 1));
	tag[b - a - 1] = '\0';
	return true;
}

/* is the lock file lk (in dirfd) missing, or held by nobody? */
static bool
lock_free(int dirfd, const char *lk)
{
	int	fd;
	bool	gone;

	if ((fd = openat(dirfd, lk, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT;
	gone = flock(fd, LOCK_SH | LOCK_NB) == 0;
	close(fd);
	return gone;
}

/*
 * Has the worker of tag gone? Its lock file is locked while it lives,
 * and made (locked) before its first part: no lock file, or one nobody
 * holds, means it has gone. An error says no: the hour's rule remains.
 */
static bool
owner_gone(int dirfd, const char *tag)
{
	char	lk[sizeof(UPLOAD_LOCK) + UPLOAD_TAG_MAX];

	snprintf(lk, sizeof(lk), UPLOAD_LOCK "%s", tag);
	return lock_free(dirfd, lk);
}

/* ".lock.TAG" or ".newlock.TAG" (upload_lock) of another worker */
static bool
lock_name(const char *n, const char *ours)
{
	size_t	k;

	if (strncmp(n, UPLOAD_LOCK, strlen(UPLOAD_LOCK)) == 0)
		k = strlen(UPLOAD_LOCK);
	else if (strncmp(n, UPLOAD_NEWLOCK, strlen(UPLOAD_NEWLOCK)) == 0)
		k = strlen(UPLOAD_NEWLOCK);
	else
		return false;
	return tag_valid(n + k, strlen(n + k)) && strcmp(n + k, ours) != 0;
}

/*
 * One pass over upload-dir: expired files; parts an hour old; parts of
 * workers that have gone (pass 0); then the gone workers' lock files,
 * once their parts are (pass 1). Not ours: this worker's own parts are
 * its uploads'.
 */
static void
sweep_pass(struct upload_sweep *s, DIR *d, int pass)
{
	struct dirent	*de;
	struct stat	 sb;
	char		 tag[UPLOAD_TAG_MAX];
	const char	*n;
	bool		 part, orphan;

	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		n = de->d_name;
		if (pass == 1) {
			/* and a worker's that died before its rename */
			if (lock_name(n, s->tag) && lock_free(s->dirfd, n))
				(void)unlinkat(s->dirfd, n, 0);
			continue;
		}
		part = n[0] == '.' && strstr(n, ".part") != NULL;
		if (!part && !upslot_id_valid(n))
			continue;
		if (fstatat(s->dirfd, n, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(sb.st_mode))
			continue;
		orphan = part && part_tag(n, tag) && strcmp(tag, s->tag) != 0 &&
		    owner_gone(s->dirfd, tag);
		if ((orphan || sb.st_mtime < (part ? s->part_cutoff :
		    s->cutoff)) && unlinkat(s->dirfd, n, 0) == 0) {
			s->removed++;
			if (orphan)
				s->orphans++;
		}
	}
}

static void
sweep_run(void *arg)
{
	struct upload_sweep	*s = arg;
	DIR			*d;
	int			 fd;

	if ((fd = dup(s->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	sweep_pass(s, d, 0);
	sweep_pass(s, d, 1);
	closedir(d);
}

static void
sweep_done(void *arg, bool cancelled)
{
	struct upload_sweep	*s = arg;

	(void)cancelled;
	if (s->orphans > 0)
		log_info("upload: %d temporary files of stopped workers "
		    "deleted", s->orphans);
	if (s->removed > s->orphans)
		log_info("upload: %d expired files deleted",
		    s->removed - s->orphans);
	upload_sweeping = false;
	free(s);
}

static double
sweep_interval(void)
{
	int	i = c2s.conf.upload_expire / 4;

	return i < 1 ? 1 : i > 3600 ? 3600 : i;
}

static void
sweep_tick(struct ctimer *t)
{
	struct upload_sweep	*s;
	time_t			 now = (time_t)clock_wall();

	ctimer_start(t, sweep_interval());
	if (upload_sweeping)
		return;
	s = xcalloc(1, sizeof(*s));
	s->dirfd = upload_dirfd;
	s->cutoff = now - c2s.conf.upload_expire;
	s->part_cutoff = now - UPLOAD_PART_AGE;
	memcpy(s->tag, upload_tag, sizeof(s->tag));
	if (work_submit_to(WORK_IO, sweep_run, sweep_done, s) == NULL) {
		free(s);
		return;
	}
	upload_sweeping = true;
}

/*
 * This worker's tag and its lock (see the top of the file): made and
 * locked under a name no sweep reads, then renamed into place, so that
 * no sweep ever sees it unlocked. Without one the parts are named as
 * before and only the hour's rule deletes them.
 */
static void
upload_lock(uid_t uid, gid_t gid, bool do_chown)
{
	char	tmp[sizeof(UPLOAD_NEWLOCK) + UPLOAD_TAG_MAX];
	char	lk[sizeof(UPLOAD_LOCK) + UPLOAD_TAG_MAX];
	char	rnd[9];
	uint8_t	rb[4];
	int	fd;

	random_bytes(rb, sizeof(rb));
	hex_encode(rnd, rb, sizeof(rb));
	snprintf(upload_tag, sizeof(upload_tag), "%d-%ld-%s", c2s.instance,
	    (long)getpid(), rnd);
	snprintf(tmp, sizeof(tmp), UPLOAD_NEWLOCK "%s", upload_tag);
	snprintf(lk, sizeof(lk), UPLOAD_LOCK "%s", upload_tag);
	/* the descriptor stays open: the lock lasts as long as we do */
	if ((fd = openat(upload_dirfd, tmp, O_RDONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1 ||
	    flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    (do_chown && fchown(fd, uid, gid) == -1) ||
	    renameat(upload_dirfd, tmp, upload_dirfd, lk) == -1) {
		log_warn("upload-dir %s: lock %s", c2s.conf.upload_dir, lk);
		if (fd != -1) {
			(void)unlinkat(upload_dirfd, tmp, 0);
			close(fd);
		}
		upload_tag[0] = '\0';
	}
}

void
upload_init(void)
{
	size_t	i;
	uid_t	uid = 0;
	gid_t	gid = 0;
	bool	do_chown;

	for (i = 0; i < c2s.conf.nhosts; i++)
		if (c2s.conf.hosts[i].upload_name != NULL)
			upload_on = true;
	if (!upload_on)
		return;
	if (mkdir(c2s.conf.upload_dir, 0700) == -1 && errno != EEXIST)
		fatal("upload-dir %s", c2s.conf.upload_dir);
	if ((upload_dirfd = open(c2s.conf.upload_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("upload-dir %s", c2s.conf.upload_dir);
	/* made as root: the user the c2s becomes writes in it */
	do_chown = geteuid() == 0 && c2s.conf.user != NULL &&
	    priv_lookup(&c2s.conf, &uid, &gid) == 0;
	if (do_chown && fchown(upload_dirfd, uid, gid) == -1)
		log_warn("upload-dir %s", c2s.conf.upload_dir);
	upload_lock(uid, gid, do_chown);
	ctimer_init(&upload_timer, sweep_tick);
	/* at once: the parts a killed worker (this one before) left */
	ctimer_start(&upload_timer, 0);
}
