/*
 * HTTP file upload (XEP-0363), the HTTP side: PUT and GET under /upload.
 * The router hands out slots (router/upload.c); a PUT's token is checked
 * here against the key both read from the data directory
 * (common/upslot.c), so no lookup is needed.
 *
 * A PUT streams into a temporary file of upload-dir as it arrives (a
 * write to the page cache); the fsync and the rename that publishes the
 * file run on the worker pool (common/work.c), since an fsync can take
 * long and nothing may block the loop. A file is therefore whole or
 * absent: a GET during an upload finds nothing (404), and a full disk
 * loses the temporary file and answers 507.
 *
 * Stored file: "parley-upload 1\n" CONTENT-TYPE "\n" NAME "\n" bytes.
 * Files older than upload-expire are not served, and a sweep on the
 * worker pool deletes them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct upload_put {
	int		 fd;
	char		*tmp;		/* the temporary file */
	char		*path;		/* the file it becomes */
	uint64_t	 size;		/* the slot's */
	uint64_t	 got;
	bool		 published;	/* renamed into place */
	int		 err;		/* the worker's errno, 0 if none */
	struct http_req	*req;		/* NULL once its connection went */
	struct work	*job;
};

struct upload_sweep {
	int	dirfd;
	time_t	cutoff;		/* files modified before it go */
	time_t	part_cutoff;
	int	removed;
};

static bool		upload_on;	/* a host has upload yes */
static int		upload_dirfd = -1;
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

static void
put_free(void *arg)
{
	struct upload_put	*u = arg;

	if (u->fd != -1)
		close(u->fd);
	if (!u->published)
		(void)unlink(u->tmp);
	free(u->tmp);
	free(u->path);
	free(u);
}

static int
put_write(struct upload_put *u, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(u->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("upload: %s", u->tmp);
			/* RFC 4918 11.5: the disk is full, say so */
			return errno == ENOSPC || errno == EDQUOT ? 507 : 500;
		}
		p += w;
		n -= (size_t)w;
	}
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

/* a PUT's headers: the slot's token, size and type, or no body taken */
int
upload_begin(struct http_req *r, unsigned long long len)
{
	struct upload_put	*u;
	const char		*name, *ctype = req_ctype(r);
	char			 id[UPSLOT_ID_LEN + 1], rnd[17];
	uint8_t			 rb[8];
	uint64_t		 size;
	enum upslot_check	 ck;
	int			 st;

	if (r->method != HTTP_PUT)
		return 0;
	if (!upload_on || upload_split(r->path, id, &name) == -1)
		return 404;
	if (r->query == NULL)
		return 403;
	ck = upslot_verify(r->query, id, name, ctype,
	    (int64_t)clock_wall(), &size);
	if (ck != UPSLOT_OK) {
		log_info("upload: PUT %s refused: %s token", id,
		    ck == UPSLOT_EXPIRED ? "expired" : "bad");
		return 403;
	}
	/* XEP-0363 4: the size the slot was given, no other */
	if (len != size)
		return len > size ? 413 : 400;
	if (faccessat(upload_dirfd, id, F_OK, 0) == 0)
		return 409;
	u = xcalloc(1, sizeof(*u));
	random_bytes(rb, sizeof(rb));
	hex_encode(rnd, rb, sizeof(rb));
	u->path = xasprintf("%s/%s", c2s.conf.upload_dir, id);
	u->tmp = xasprintf("%s/.%s.%s.part", c2s.conf.upload_dir, id, rnd);
	u->size = size;
	u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (u->fd == -1) {
		log_warn("upload: %s", u->tmp);
		st = errno == ENOSPC || errno == EDQUOT ? 507 : 500;
		free(u->tmp);
		free(u->path);
		free(u);
		return st;
	}
	r->body_arg = u;
	r->body_free = put_free;
	if ((st = put_write(u, UPLOAD_MAGIC, strlen(UPLOAD_MAGIC))) != 0 ||
	    (st = put_write(u, ctype, strlen(ctype))) != 0 ||
	    (st = put_write(u, "\n", 1)) != 0 ||
	    (st = put_write(u, name, strlen(name))) != 0 ||
	    (st = put_write(u, "\n", 1)) != 0)
		return st;
	return 0;
}

int
upload_body(struct http_req *r, const char *p, size_t n)
{
	struct upload_put	*u = r->body_arg;

	if (u == NULL)
		return 400;	/* a body where none was asked for */
	if (u->got + n > u->size)
		return 413;
	u->got += n;
	return put_write(u, p, n);
}

/* on a worker: the bytes on disk, then the name */
static void
put_run(void *arg)
{
	struct upload_put	*u = arg;

	if (fsync(u->fd) == -1 || close(u->fd) == -1) {
		u->err = errno;
		u->fd = -1;
		return;
	}
	u->fd = -1;
	/* a slot is used once: the first PUT's file stays */
	if (renameat2(AT_FDCWD, u->tmp, AT_FDCWD, u->path,
	    RENAME_NOREPLACE) == -1) {
		u->err = errno;
		return;
	}
	u->published = true;
}

static void
put_done(void *arg, bool cancelled)
{
	struct upload_put	*u = arg;
	struct http_req		*r = u->req;
	int			 st;

	if (!cancelled && r != NULL) {
		r->gone = NULL;
		if (u->err == 0)
			st = 201;
		else if (u->err == EEXIST)
			st = 409;
		else if (u->err == ENOSPC || u->err == EDQUOT)
			st = 507;
		else
			st = 500;
		if (u->err != 0)
			log_warnx("upload: %s: %s", u->tmp, strerror(u->err));
		upload_cors(r);
		if (st == 201)
			http_respond(r, 201, NULL, NULL, 0);
		else
			http_error(r, st, false);
	}
	put_free(u);
}

static void
put_gone(struct http_req *r, void *arg)
{
	struct upload_put	*u = arg;

	(void)r;
	u->req = NULL;
	work_cancel(u->job);
}

static void
upload_put(struct http_req *r)
{
	struct upload_put	*u = r->body_arg;

	if (u == NULL || u->got != u->size) {
		http_error(r, 400, false);
		return;
	}
	/* the job owns it now */
	r->body_arg = NULL;
	r->body_free = NULL;
	u->req = r;
	if ((u->job = work_submit(put_run, put_done, u)) == NULL) {
		put_free(u);
		http_error(r, 503, false);
		return;
	}
	http_hold(r, put_gone, u);
}

/* the header holds no more: "parley-upload 1\n" TYPE "\n" NAME "\n" */
#define UPLOAD_HEAD_MAX	(sizeof(UPLOAD_MAGIC) + UPSLOT_TYPE_MAX + \
			 UPSLOT_NAME_MAX + 2)

/*
 * Opens the file of id for a GET of name: its fd, the content type in
 * head, where the bytes start and how many; or an HTTP status
 */
static int
upload_open(const char *id, const char *name, char *head, int *fdp,
    off_t *off, size_t *len, time_t *mtime)
{
	struct stat	 sb;
	char		*nl, *nm;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(upload_dirfd, id, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 404 : 500;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_mtime + c2s.conf.upload_expire < (time_t)clock_wall())
		goto notfound;	/* expired, the sweep has not come yet */
	n = pread(fd, head, UPLOAD_HEAD_MAX, 0);
	if (n < (ssize_t)strlen(UPLOAD_MAGIC) ||
	    strncmp(head, UPLOAD_MAGIC, strlen(UPLOAD_MAGIC)) != 0)
		goto bad;
	head[n] = '\0';
	if ((nl = strchr(head + strlen(UPLOAD_MAGIC), '\n')) == NULL)
		goto bad;
	*nl = '\0';
	nm = nl + 1;
	if ((nl = strchr(nm, '\n')) == NULL)
		goto bad;
	*nl = '\0';
	/* the GET URL names the file as the slot did */
	if (strcmp(nm, name) != 0)
		goto notfound;
	*off = nl + 1 - head;
	if (*off > sb.st_size)
		goto bad;
	*len = (size_t)(sb.st_size - *off);
	*mtime = sb.st_mtime;
	*fdp = fd;
	return 0;
notfound:
	close(fd);
	return 404;
bad:
	close(fd);
	return 500;
}

static void
upload_get(struct http_req *r)
{
	const char	*name;
	char		 id[UPSLOT_ID_LEN + 1], age[64];
	char		 head[UPLOAD_HEAD_MAX + 1];
	size_t		 len = 0;
	off_t		 off = 0;
	time_t		 mtime = 0;
	long		 left;
	int		 st, fd = -1;

	if (upload_split(r->path, id, &name) == -1)
		st = 404;
	else
		st = upload_open(id, name, head, &fd, &off, &len, &mtime);
	upload_cors(r);
	if (st != 0) {
		http_error(r, st, false);
		return;
	}
	/* the file never changes: cached until it expires */
	left = (long)(mtime + c2s.conf.upload_expire - (time_t)clock_wall());
	snprintf(age, sizeof(age), "public, max-age=%ld, immutable",
	    left > 0 ? left : 0);
	r->cache_control = age;
	/* an uploaded page must not run as ours */
	http_header_add(r, "X-Content-Type-Options", "nosniff");
	http_header_add(r, "Content-Security-Policy",
	    "default-src 'none'; sandbox");
	http_respond_fd(r, 200, head + strlen(UPLOAD_MAGIC), fd, off, len);
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

static void
sweep_run(void *arg)
{
	struct upload_sweep	*s = arg;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	int			 fd;
	bool			 part;

	if ((fd = dup(s->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		part = de->d_name[0] == '.' &&
		    strstr(de->d_name, ".part") != NULL;
		if (!part && !upslot_id_valid(de->d_name))
			continue;
		if (fstatat(s->dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(sb.st_mode))
			continue;
		if (sb.st_mtime < (part ? s->part_cutoff : s->cutoff) &&
		    unlinkat(s->dirfd, de->d_name, 0) == 0)
			s->removed++;
	}
	closedir(d);
}

static void
sweep_done(void *arg, bool cancelled)
{
	struct upload_sweep	*s = arg;

	(void)cancelled;
	if (s->removed > 0)
		log_info("upload: %d expired files deleted", s->removed);
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
	if (work_submit(sweep_run, sweep_done, s) == NULL) {
		free(s);
		return;
	}
	upload_sweeping = true;
}

void
upload_init(void)
{
	size_t	i;
	uid_t	uid;
	gid_t	gid;

	for (i = 0; i < c2s.conf.nhosts; i++)
		if (c2s.conf.hosts[i].upload_name != NULL)
			upload_on = true;
	if (!upload_on)
		return;
	if (upslot_key_load(c2s.conf.datadir) == -1)
		fatal("%s/%s", c2s.conf.datadir, UPSLOT_KEY_FILE);
	if (mkdir(c2s.conf.upload_dir, 0700) == -1 && errno != EEXIST)
		fatal("upload-dir %s", c2s.conf.upload_dir);
	if ((upload_dirfd = open(c2s.conf.upload_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("upload-dir %s", c2s.conf.upload_dir);
	/* made as root: the user the c2s becomes writes in it */
	if (geteuid() == 0 && c2s.conf.user != NULL &&
	    priv_lookup(&c2s.conf, &uid, &gid) == 0 &&
	    fchown(upload_dirfd, uid, gid) == -1)
		log_warn("upload-dir %s", c2s.conf.upload_dir);
	ctimer_init(&upload_timer, sweep_tick);
	ctimer_start(&upload_timer, sweep_interval());
}
