/*
 * Dropping root and other privileges. The order matters: supplementary
 * groups and the gid while still root, the uid last, then a check that
 * root cannot be regained. Landlock (Linux 5.13 and later) is optional:
 * without it the processes still run as the user, only not read-only.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

int
priv_lookup(const struct conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;

	errno = 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_warnx("%s: user \"%s\" does not exist", c->path, c->user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (c->group == NULL)
		return 0;
	if ((gr = getgrnam(c->group)) == NULL) {
		log_warnx("%s: group \"%s\" does not exist", c->path,
		    c->group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/*
 * The one directory a process that writes no files still writes in:
 * upload-dir for the c2s processes when a host has upload (c2s/upload.c)
 */
static void
priv_writable(int ruleset, const char *dir, uint64_t handled)
{
	struct landlock_path_beneath_attr	pb;

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = handled & (LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG
#ifdef LANDLOCK_ACCESS_FS_REFER
	    | LANDLOCK_ACCESS_FS_REFER
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	    | LANDLOCK_ACCESS_FS_TRUNCATE
#endif
	    );
	if ((pb.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		log_warn("landlock: %s", dir);
		return;
	}
	if (syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1)
		log_warn("landlock_add_rule %s", dir);
	close(pb.parent_fd);
}

static void
priv_no_writes(const char *writable)
{
	struct landlock_ruleset_attr	 attr;
	long				 abi;
	int				 fd;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_debug("no Landlock in this kernel: file writes are not "
		    "restricted");
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	/* no rule: what the ruleset handles is refused everywhere */
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		log_warn("landlock_create_ruleset");
		return;
	}
	if (writable != NULL)
		priv_writable(fd, writable, attr.handled_access_fs);
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		log_warn("landlock_restrict_self");
	else
		log_debug("landlock: file writes refused");
	close(fd);
}

/*
 * Started as a user with capabilities, as systemd's unit does it
 * (AmbientCapabilities=CAP_NET_BIND_SERVICE, packaging/parley.service.in):
 * the ports are bound by now, so every capability goes, the ambient set
 * first (capabilities(7): it must stay within the permitted set). A root
 * process without "user" keeps its own: it may need them for files
 * another user owns.
 */
static void
priv_caps_clear(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[_LINUX_CAPABILITY_U32S_3];

	/* EINVAL: a kernel before 4.3 has no ambient set to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("prctl PR_CAP_AMBIENT_CLEAR_ALL");
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1)
		fatal("capset");
}

static const char *
priv_upload_dir(const struct conf *c)
{
	size_t	i;

	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].upload_name != NULL)
			return c->upload_dir;
	return NULL;
}

void
priv_drop(const struct conf *c, bool no_writes)
{
	uid_t	uid;
	gid_t	gid;

	if (geteuid() == 0 && c->user != NULL) {
		if (priv_lookup(c, &uid, &gid) == -1)
			fatalx("cannot drop root");
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			fatal("dropping root to %s", c->user);
		if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
			fatalx("%s: root could be regained", __func__);
		log_debug("running as %s (uid %ld, gid %ld)", c->user,
		    (long)uid, (long)gid);
	}
	if (geteuid() != 0)
		priv_caps_clear();
	/* nothing we exec (we exec nothing) may gain privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl PR_SET_NO_NEW_PRIVS");
	if (no_writes)
		priv_no_writes(priv_upload_dir(c));
}
