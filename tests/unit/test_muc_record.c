/*
 * A persistent room's record (router/muc_config.c, DOC_MUC) written in
 * the layout before the later configuration fields (lang, getmemberlist,
 * presencebroadcast, canchangenick: d33394b) is put straight into a real
 * LMDB store and loaded by muc_load, as the router does at start: the
 * room comes back with its stored values and the new fields' defaults.
 * A loader that required the new fields would load no room.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/map.h"
#include "../../common/util.h"
#include "../../router/muc.h"
#include "../../router/router.h"
#include "../../storage/store.h"
#include "unit.h"

/* the router's one global, main.c's in the real process */
struct router	router;

#define SVC	"conference.localhost"

/* byte for byte what the router before d33394b wrote (rec_build) */
static const char old_record[] =
    "<room xmlns='urn:parley:muc:0' node='old' creator='alice@localhost'"
    " subject='Hello' by='alice' roomname='Old room' roomdesc='Kept'"
    " persistentroom='1' publicroom='0' membersonly='1'"
    " moderatedroom='1' roomsecret='' whois='anyone' maxusers='7'"
    " historylength='3' allowpm='moderators' allowinvites='0'"
    " changesubject='0'><a j='alice@localhost' v='owner'/>"
    "<a j='bob@localhost' v='member'/><n j='bob@localhost' v='Bobby'/>"
    "</room>";

/* the store's directory holds files only */
static void
dir_remove(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[sizeof(e->d_name) + 64];

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", dir,
				    e->d_name);
				(void)unlink(path);
			}
		closedir(d);
	}
	(void)rmdir(dir);
}

static void
test_old_record_loads_with_defaults(void **state)
{
	struct conf_host	 host;
	struct muc_room		*r;
	struct muc_cfg		 def;
	char			 dir[] = "/tmp/test_muc_record.XXXXXX";
	char			 err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	router.store = store_open(dir, 1u << 20, err, sizeof(err));
	assert_non_null(router.store);
	memset(&host, 0, sizeof(host));
	host.name = xstrdup("localhost");
	host.muc = true;
	host.muc_name = xstrdup(SVC);
	router.conf.hosts = &host;
	router.conf.nhosts = 1;
	router.conf.muc_history = 20;
	router.conf.max_stanza_size = 65536;
	router.conf.muc_config_max_size = 4096;
	assert_int_equal(store_doc_put(router.store, DOC_MUC, "old", SVC, "",
	    old_record, sizeof(old_record) - 1), 0);

	muc_load();
	r = muc_room_find("old@" SVC);
	assert_non_null(r);
	/* the old fields, as stored */
	assert_true(r->cfg.persistent);
	assert_string_equal(r->cfg.name, "Old room");
	assert_string_equal(r->cfg.desc, "Kept");
	assert_false(r->cfg.public);
	assert_true(r->cfg.members_only);
	assert_true(r->cfg.moderated);
	assert_true(r->cfg.nonanon);
	assert_int_equal(r->cfg.max_users, 7);
	assert_int_equal(r->cfg.history, 3);
	assert_int_equal(r->cfg.allow_pm, PM_MODERATORS);
	assert_false(r->cfg.invites);
	assert_false(r->cfg.change_subject);
	assert_true(r->cfg.password == NULL || r->cfg.password[0] == '\0');
	assert_string_equal(r->subject, "Hello");
	assert_int_equal(muc_aff(r, "alice@localhost"), AFF_OWNER);
	assert_int_equal(muc_aff(r, "bob@localhost"), AFF_MEMBER);
	assert_string_equal(map_get(r->nicks, "bob@localhost"), "Bobby");
	/* the later fields: their defaults */
	muc_cfg_default(&def);
	assert_null(r->cfg.lang);
	assert_int_equal(r->cfg.getmember, def.getmember);
	assert_int_equal(r->cfg.getmember, MUC_ROLE_BIT(ROLE_MODERATOR));
	assert_int_equal(r->cfg.pbroadcast, MUC_ROLES_ALL);
	assert_true(r->cfg.nick_change);

	muc_clear();
	store_close(router.store);
	router.store = NULL;
	free(host.name);
	free(host.muc_name);
	memset(&router.conf, 0, sizeof(router.conf));
	dir_remove(dir);
}

/*
 * The XEP-0421 salt goes into the record and comes back: occupant ids,
 * and the check of a retraction's author (XEP-0424) that compares them,
 * are the same after a restart.
 */
static void
test_salt_kept(void **state)
{
	struct muc_room	*r;
	struct buf	 b;
	uint64_t	 salt = 0x0123456789abcdefULL;

	(void)state;
	router.conf.muc_history = 20;
	router.conf.max_stanza_size = 65536;
	r = muc_room_new("salty", SVC, "alice@localhost");
	r->salt = salt;
	buf_init(&b, 65536);
	assert_int_not_equal(muc_room_record(r, &b), -1);
	muc_room_free(r);
	r = muc_room_from_record(SVC, buf_rptr(&b), buf_avail(&b));
	assert_non_null(r);
	assert_true(r->salt == salt);
	/* a bad one is passed over: the room has a salt of its own */
	assert_int_equal(muc_salt_parse(r, "0123"), -1);
	assert_int_equal(muc_salt_parse(r, "0123456789abcdeg"), -1);
	assert_true(r->salt == salt);
	muc_room_free(r);
	buf_clear(&b);
	muc_clear();
	memset(&router.conf, 0, sizeof(router.conf));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_old_record_loads_with_defaults),
		cmocka_unit_test(test_salt_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
