/*
 * The state handover of a planned restart (handover.h; docs/internals.md,
 * "Planned router restart"). Written after the last stanza was handled,
 * read before any link is accepted. Each item belongs to a session: the
 * rooms' occupants are back at once (the room's list is the same for
 * everyone from the start), a session's directed presence (RFC 6121
 * 4.6.3) and roster interest (RFC 6121 2.1.6) wait in pend for its c2s to
 * announce it again. What the workers' wait ends with still in pend is
 * ended as the session's end would have ended it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/map.h"
#include "../common/util.h"
#include "handover.h"
#include "muc.h"
#include "router.h"

/* what a session that is not back yet gets back */
struct pend {
	bool	  muc;		/* behind an occupant */
	bool	  roster;	/* requested the roster */
	bool	  carbons;	/* XEP-0280 enabled */
	char	**dir;		/* sent directed presence to */
	size_t	  ndir;
};

static struct map	*pend;		/* full JID -> struct pend */

static struct pend *
pend_get(const char *full)
{
	struct pend	*p;

	if (pend == NULL)
		pend = map_new();
	if ((p = map_get(pend, full)) == NULL) {
		p = xcalloc(1, sizeof(*p));
		map_put(pend, full, p);
	}
	return p;
}

static void
pend_free(void *v)
{
	struct pend	*p = v;
	size_t		 i;

	for (i = 0; i < p->ndir; i++)
		free(p->dir[i]);
	free(p->dir);
	free(p);
}

void
handover_expect_muc(const char *full)
{
	pend_get(full)->muc = true;
}

/* ---- writing ------------------------------------------------------------ */

struct sess_job {
	struct buf	*b;
	struct sess	*s;
	int		 rc;
};

static int
dir_put(const void *key, size_t len, void *val, void *arg)
{
	struct sess_job	*job = arg;
	const char	*f[2];
	char		*to = xstrndup(key, len);	/* keys have no NUL */

	(void)val;
	f[0] = job->s->full;
	f[1] = to;
	job->rc |= ho_add(job->b, HO_DIRECTED, 2, f);
	free(to);
	return 0;
}

static int
sess_put(const void *key, size_t len, void *val, void *arg)
{
	struct sess_job	*job = arg;
	struct sess	*s = val;

	(void)key;
	(void)len;
	if (s->rl == NULL)
		return 0;	/* hibernating: ended before this */
	job->s = s;
	if (s->directed != NULL)
		map_foreach(s->directed, dir_put, job);
	if (s->interested)
		job->rc |= ho_add(job->b, HO_ROSTER, 1,
		    (const char *const *)&s->full);
	if (s->carbons)
		job->rc |= ho_add(job->b, HO_CARBONS, 1,
		    (const char *const *)&s->full);
	return 0;
}

static int
file_write(const char *path, const char *data, size_t len)
{
	char	tmp[PATH_MAX + 8], *dir;
	ssize_t	n;
	int	fd, dfd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		data += n;
		len -= (size_t)n;
	}
	/* the rename is durable only after the data and the directory are */
	if (fsync(fd) == -1 || rename(tmp, path) == -1)
		goto out;
	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	rc = 0;
out:
	close(fd);
	if (rc == -1)
		(void)unlink(tmp);
	return rc;
}

void
handover_write(void)
{
	struct buf	b;
	struct sess_job	job;
	char		path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", router.conf.rundir,
	    HANDOVER_FILE);
	job.b = &b;
	job.rc = ho_begin(&b) | muc_handover_put(&b);
	map_foreach(router.by_full, sess_put, &job);
	/* last, the bulk: a queue that does not fit is the only loss */
	if (job.rc == 0)
		sm_handover_put(&b);
	/* then what only saves work or a newcomer's history, if it fits */
	if (job.rc == 0 && (caps_handover_put(&b) |
	    muc_handover_put_hist(&b)) == -1)
		log_warnx("restart: the handover reached %d bytes: part of "
		    "the caps cache or of the rooms' history is not carried",
		    HANDOVER_MAX);
	if ((job.rc | ho_end(&b)) == -1)
		log_warnx("restart: the handover passes %d bytes; not "
		    "written (group chat occupancy, directed presence and "
		    "roster interest are lost)", HANDOVER_MAX);
	else if (file_write(path, buf_rptr(&b), buf_avail(&b)) == -1)
		log_warn("restart: %s", path);
	else
		log_info("restart: handover of %zu bytes written",
		    buf_avail(&b));
	buf_clear(&b);
}

/* ---- reading ------------------------------------------------------------ */

struct load_job {
	size_t	n, refused;
};

static int
rec_get(struct ho_rec *rec, void *arg)
{
	struct load_job	*job = arg;
	struct pend	*p;
	int		 rc = 0;

	job->n++;
	switch (rec->type) {
	case HO_ROOM:
	case HO_OCC:
	case HO_HIST:
		rc = muc_handover_get(rec);
		break;
	case HO_CAPS:
		rc = caps_handover_get(rec);
		break;
	case HO_DIRECTED:
		if (!domain_is_local_jid(rec->f[0]) ||
		    strchr(rec->f[0], '/') == NULL ||
		    rec->len[1] == 0 || rec->len[1] > JID_STR_MAX) {
			rc = -1;
			break;
		}
		p = pend_get(rec->f[0]);
		if (p->ndir >= (size_t)router.conf.presence_directed_max) {
			rc = -1;
			break;
		}
		p->dir = xrealloc(p->dir, (p->ndir + 1) * sizeof(*p->dir));
		p->dir[p->ndir++] = xstrdup(rec->f[1]);
		break;
	case HO_SMQ:
		rc = sm_handover_get(rec);
		break;
	case HO_ROSTER:
	case HO_CARBONS:
		if (!domain_is_local_jid(rec->f[0]) ||
		    strchr(rec->f[0], '/') == NULL)
			rc = -1;
		else if (rec->type == HO_ROSTER)
			pend_get(rec->f[0])->roster = true;
		else
			pend_get(rec->f[0])->carbons = true;
		break;
	}
	if (rc == -1) {
		/* one item lost, never the rest: logged, counted */
		job->refused++;
		log_debug("restart: handover record '%c' of %s refused",
		    rec->type, log_escs(rec->f[0]));
	}
	return 0;
}

void
handover_load(void)
{
	struct load_job	 job = { 0, 0 };
	struct stat	 st;
	const char	*why;
	char		 path[PATH_MAX], *data = NULL;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", router.conf.rundir,
	    HANDOVER_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("restart: %s", path);
		return;
	}
	if (fstat(fd, &st) == -1 || st.st_size > HANDOVER_MAX) {
		log_warnx("restart: %s unreadable or too large; ignored",
		    path);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	    (n = read(fd, data + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (ho_parse(data, got, rec_get, &job, &why) == -1)
		log_warnx("restart: %s: %s; ignored", path, why);
	else
		log_info("restart: handover of %zu items read (%zu refused)",
		    job.n, job.refused);
	muc_handover_done();
out:
	close(fd);
	free(data);
	(void)unlink(path);	/* read once: a later start takes none */
}

/* ---- the sessions coming back ------------------------------------------ */

void
handover_attach(struct sess *s)
{
	struct pend	*p;
	size_t		 i;

	if (pend == NULL || (p = map_del(pend, s->full)) == NULL)
		return;
	if (p->ndir > 0 && s->directed == NULL)
		s->directed = map_new();
	for (i = 0; i < p->ndir; i++)
		map_put(s->directed, p->dir[i], (void *)1);
	s->interested = p->roster;
	if (p->carbons && !s->carbons) {
		/* as carbons.c's enable: the account's count too */
		s->carbons = true;
		s->user->ncarbons++;
	}
	log_debug("restart: session %s back (%zu directed presences%s%s)",
	    log_escs(s->full), p->ndir, p->roster ? ", roster" : "",
	    p->carbons ? ", carbons" : "");
	pend_free(p);
}

void
handover_drop(void)
{
	struct pend	 *p;
	char		**full;
	size_t		  i, k, n;

	sm_handover_drop();
	if (pend == NULL)
		return;
	full = handover_keys(pend, &n);
	for (i = 0; i < n; i++) {
		p = map_del(pend, full[i]);
		/* as sess_unlink: presence_gone, then muc_sess_gone */
		for (k = 0; k < p->ndir; k++)
			presence_unavailable_to(full[i], p->dir[k]);
		if (p->muc)
			muc_sess_gone(full[i]);
		pend_free(p);
		free(full[i]);
	}
	if (n > 0)
		log_info("restart: %zu sessions not back; their occupancy "
		    "and directed presence ended", n);
	free(full);
	map_free(pend, NULL);
	pend = NULL;
}
