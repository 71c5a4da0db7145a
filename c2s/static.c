/*
 * The web client's files (http-static-dir) under /chat/: read whole into
 * memory when the process starts, before it drops its privileges, so
 * that serving one never touches the disk and never blocks the loop
 * (and a chroot does not hide them). They are few and small (converse.js
 * and its assets: a few megabytes); a change on disk shows after a
 * restart. Limits: STATIC_FILE_MAX a file, STATIC_TOTAL_MAX in all,
 * STATIC_DEPTH directories deep; past them parley-c2s does not start.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <http_parser.h>

#include "../common/log.h"
#include "../common/util.h"
#include "c2s.h"
#include "http.h"

#define STATIC_FILE_MAX		(4u << 20)
#define STATIC_TOTAL_MAX	(32u << 20)
#define STATIC_DEPTH		8
#define STATIC_FILES_MAX	4096

struct sfile {
	char		*path;		/* below the directory, "/a/b.js" */
	char		*data;
	size_t		 len;
	const char	*ctype;
	char		 etag[48];
};

static struct sfile	*sfiles;
static size_t		 nsfiles;
static size_t		 stotal;

/* by extension; anything else is application/octet-stream */
static const struct {
	const char	*ext;
	const char	*ctype;
} ctypes[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".gif", "image/gif" },
	{ ".ico", "image/vnd.microsoft.icon" },
	{ ".webp", "image/webp" },
	{ ".woff", "font/woff" },
	{ ".woff2", "font/woff2" },
	{ ".ttf", "font/ttf" },
	{ ".otf", "font/otf" },
	{ ".mp3", "audio/mpeg" },
	{ ".ogg", "audio/ogg" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *
static_ctype(const char *path)
{
	size_t		 i, n = strlen(path), e;

	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		e = strlen(ctypes[i].ext);
		if (n > e && strcmp(path + n - e, ctypes[i].ext) == 0)
			return ctypes[i].ctype;
	}
	return "application/octet-stream";
}

static int
static_read(const char *file, const char *rel, const struct stat *st)
{
	struct sfile	*f;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((size_t)st->st_size > STATIC_FILE_MAX ||
	    stotal + (size_t)st->st_size > STATIC_TOTAL_MAX ||
	    nsfiles >= STATIC_FILES_MAX) {
		log_warnx("http-static-dir: %s: past the limits "
		    "(%u bytes a file, %u in all, %u files)", file,
		    STATIC_FILE_MAX, STATIC_TOTAL_MAX, STATIC_FILES_MAX);
		return -1;
	}
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("http-static-dir: %s", file);
		return -1;
	}
	sfiles = xrealloc(sfiles, (nsfiles + 1) * sizeof(*sfiles));
	f = &sfiles[nsfiles];
	f->len = (size_t)st->st_size;
	f->data = xmalloc(f->len + 1);
	while (off < f->len) {
		n = read(fd, f->data + off, f->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx("http-static-dir: %s: short read", file);
			free(f->data);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	f->path = xstrdup(rel);
	f->ctype = static_ctype(rel);
	/* RFC 9110 8.8.3: a validator that changes with the file */
	(void)snprintf(f->etag, sizeof(f->etag), "\"%zx-%llx\"", f->len,
	    (unsigned long long)st->st_mtime);
	stotal += f->len;
	nsfiles++;
	return 0;
}

static int
static_walk(const char *dir, const char *rel, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*file, *sub;
	int		 rv = 0;

	if (depth > STATIC_DEPTH) {
		log_warnx("http-static-dir: %s: deeper than %d", dir,
		    STATIC_DEPTH);
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		log_warn("http-static-dir: %s", dir);
		return -1;
	}
	while (rv == 0 && (de = readdir(d)) != NULL) {
		/* no dot files: not "." and "..", nor .git and the like */
		if (de->d_name[0] == '.')
			continue;
		file = xasprintf("%s/%s", dir, de->d_name);
		sub = xasprintf("%s/%s", rel, de->d_name);
		/* symbolic links are followed: an operator's choice */
		if (stat(file, &st) == -1) {
			log_warn("http-static-dir: %s", file);
			rv = -1;
		} else if (S_ISDIR(st.st_mode))
			rv = static_walk(file, sub, depth + 1);
		else if (S_ISREG(st.st_mode))
			rv = static_read(file, sub, &st);
		free(file);
		free(sub);
	}
	closedir(d);
	return rv;
}

static int
sfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sfile *)a)->path,
	    ((const struct sfile *)b)->path);
}

int
static_load(void)
{
	const char	*dir = c2s.conf.http_static_dir;

	if (dir == NULL || *dir == '\0')
		return 0;
	if (static_walk(dir, "", 0) == -1)
		return -1;
	qsort(sfiles, nsfiles, sizeof(*sfiles), sfile_cmp);
	log_debug("http-static-dir: %zu files, %zu bytes", nsfiles, stotal);
	return 0;
}

static const struct sfile *
static_find(const char *path)
{
	struct sfile	 key;

	if (nsfiles == 0)
		return NULL;
	key.path = (char *)(uintptr_t)path;
	return bsearch(&key, sfiles, nsfiles, sizeof(*sfiles), sfile_cmp);
}

void
static_handle(struct http_req *r)
{
	const struct sfile	*f;
	const char		*rel, *inm;
	char			*idx = NULL;

	if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
		http_error(r, 405, false);
		return;
	}
	rel = r->path + strlen(STATIC_PREFIX);
	if (*rel == '\0') {
		/* relative URLs in the page need the slash */
		http_header_add(r, "Location", STATIC_PREFIX "/");
		http_respond(r, 301, NULL, NULL, 0);
		return;
	}
	if (rel[strlen(rel) - 1] == '/')
		rel = idx = xasprintf("%sindex.html", rel);
	f = static_find(rel);
	free(idx);
	if (f == NULL) {
		http_error(r, 404, false);
		return;
	}
	http_header_add(r, "ETag", f->etag);
	http_header_add(r, "X-Content-Type-Options", "nosniff");
	/*
	 * The page is checked each time (it names the other files); the
	 * rest is kept an hour (their names carry no version).
	 */
	r->cache_control = strncmp(f->ctype, "text/html", 9) == 0 ?
	    "no-cache" : "public, max-age=3600";
	inm = http_header(r, "if-none-match");
	if (inm != NULL && strcmp(inm, f->etag) == 0) {
		http_respond(r, 304, NULL, NULL, 0);
		return;
	}
	http_respond(r, 200, f->ctype, f->data, f->len);
}
