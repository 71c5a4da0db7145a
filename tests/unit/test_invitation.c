/*
 * Unit tests for storage/invitation.c against a real LMDB environment in
 * a fresh temporary directory: what the router and parleyctl with the
 * server stopped both run. Expiry by the clock given, username holds and
 * whether they live, and invitation_ctl's texts and errors.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/conf.h"
#include "../../common/log.h"
#include "../../storage/invitation.h"
#include "../../storage/store.h"
#include "unit.h"

#define MAPSIZE		(1u << 20)
#define HOST		"example.org"
#define NOW		1000000.0

struct fixture {
	char			 dir[64];
	struct store		*st;
	struct conf		 conf;
	struct conf_host	 host;
	char			*out;
	size_t			 len;
};

static int
setup(void **state)
{
	struct fixture	*f;
	char		 err[256];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_invitation.XXXXXX");
	if (mkdtemp(f->dir) == NULL ||
	    (f->st = store_open(f->dir, MAPSIZE, err, sizeof(err))) == NULL) {
		free(f);
		return -1;
	}
	f->host.name = (char *)HOST;
	f->conf.hosts = &f->host;
	f->conf.nhosts = 1;
	f->out = calloc(1, INVITATION_OUT_MAX + 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	store_close(f->st);
	unit_rmtree(f->dir);
	free(f->out);
	free(f);
	return 0;
}

/* invitation_ctl at now; its text NUL-terminated in f->out */
static int
ctl(struct fixture *f, double now, const char *op, const char *arg,
    const char *contact, uint32_t uses, uint32_t lifetime)
{
	struct invitation_op	o = { op, arg, contact, uses, lifetime };
	int			rc;

	rc = invitation_ctl(f->st, &f->conf, now, &o, f->out, &f->len);
	assert_true(f->len <= INVITATION_OUT_MAX);
	f->out[f->len] = '\0';
	return rc;
}

static bool
matches(const char *s, const char *re)
{
	regex_t	r;
	int	rc;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return rc == 0;
}

static void
test_find_and_expiry(void **state)
{
	struct fixture	*f = *state;
	struct invite	 iv, got;
	char		 token[INVITE_TOKEN_MAX + 1];

	assert_int_equal(invitation_create(f->st, HOST, NULL, INVITE_ACCOUNT,
	    2, 60, NULL, NOW, token, &iv), 0);
	assert_int_equal(strlen(token), 32);
	assert_int_equal(iv.expires, (int64_t)NOW + 60);
	assert_int_equal(invitation_find(f->st, HOST, token, NOW + 59, &got),
	    0);
	assert_string_equal(got.hash, iv.hash);
	assert_int_equal(got.uses, 2);
	/* another host, a forged token, one that is no token */
	assert_int_equal(invitation_find(f->st, "other.org", token, NOW, &got),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(invitation_find(f->st, HOST, "0123", NOW, &got), -1);
	assert_int_equal(invitation_find(f->st, HOST, "a b", NOW, &got), -1);
	assert_int_equal(errno, ENOENT);
	/* expired: refused, and its record is gone for an earlier clock too */
	assert_int_equal(invitation_find(f->st, HOST, token, NOW + 60, &got),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(invitation_find(f->st, HOST, token, NOW, &got), -1);
}

static void
test_holds(void **state)
{
	struct fixture	*f = *state;
	struct invite	 iv;
	char		 token[INVITE_TOKEN_MAX + 1], h[INVITE_HASH_LEN + 1];
	bool		 live;

	assert_int_equal(invitation_hold(f->st, HOST, "juliet", NOW, h, &live),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(invitation_create(f->st, HOST, NULL, INVITE_ACCOUNT,
	    1, 60, "juliet", NOW, token, &iv), 0);
	assert_int_equal(invitation_hold(f->st, HOST, "juliet", NOW, h, &live),
	    0);
	assert_true(live);
	assert_string_equal(h, iv.hash);
	/* its invitation expired: dead, still naming it */
	assert_int_equal(invitation_hold(f->st, HOST, "juliet", NOW + 60, h,
	    &live), 0);
	assert_false(live);
	assert_string_equal(h, iv.hash);
	/* its invitation gone: dead */
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, INVITE_NODE, HOST,
	    iv.hash, NULL, 0), 0);
	assert_int_equal(invitation_hold(f->st, HOST, "juliet", NOW, h, &live),
	    0);
	assert_false(live);
	/* a value that is no hash: dead, naming nothing */
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, INVITE_RESERVE_NODE,
	    HOST, "romeo", "junk", 4), 0);
	assert_int_equal(invitation_hold(f->st, HOST, "romeo", NOW, h, &live),
	    0);
	assert_false(live);
	assert_string_equal(h, "");
	/* an invitation for another name does not keep this one */
	assert_int_equal(invitation_create(f->st, HOST, NULL, INVITE_ACCOUNT,
	    1, 0, "nurse", NOW, token, &iv), 0);
	assert_int_equal(store_doc_put(f->st, DOC_INVITE, INVITE_RESERVE_NODE,
	    HOST, "romeo", iv.hash, INVITE_HASH_LEN), 0);
	assert_int_equal(invitation_hold(f->st, HOST, "romeo", NOW, h, &live),
	    0);
	assert_false(live);
	assert_int_equal(invitation_hold(f->st, HOST, "nurse", NOW + 1e9, h,
	    &live), 0);
	assert_true(live);	/* no expiry */
}

static void
test_ctl(void **state)
{
	struct fixture	*f = *state;
	struct invite	 iv;
	char		 token[INVITE_TOKEN_MAX + 1], tok[40];
	struct scram_creds cr;

	assert_int_equal(ctl(f, NOW, "create", HOST, NULL, 3, 600), 0);
	assert_true(matches(f->out, "^xmpp:example\\.org\\?register;"
	    "preauth=[0-9a-f]{32}\n$"));
	memcpy(tok, strstr(f->out, "preauth=") + 8, 32);
	tok[32] = '\0';
	assert_int_equal(invitation_find(f->st, HOST, tok, NOW, &iv), 0);
	assert_int_equal(iv.uses, 3);
	/* a host in another case is the same host (nameprep) */
	assert_int_equal(ctl(f, NOW, "list", "Example.ORG", NULL, 0, 0), 0);
	assert_true(matches(f->out, "^[0-9a-f]{16} account uses=3 "
	    "expires=1000600 creator=-\n$"));
	/* a hold is listed as such */
	assert_int_equal(invitation_create(f->st, HOST, NULL, INVITE_ACCOUNT,
	    1, 0, "juliet", NOW, token, &iv), 0);
	assert_int_equal(ctl(f, NOW, "list", HOST, NULL, 0, 0), 0);
	assert_non_null(strstr(f->out, " username=juliet\n"));
	assert_true(matches(f->out, "\nhold juliet [0-9a-f]{16}\n$"));
	/* expired ones are not listed */
	assert_int_equal(ctl(f, NOW + 600, "list", HOST, NULL, 0, 0), 0);
	assert_null(strstr(f->out, "uses=3"));
	assert_int_equal(ctl(f, NOW, "revoke", tok, NULL, 0, 0), 0);
	assert_string_equal(f->out, "revoked\n");
	assert_int_equal(ctl(f, NOW, "revoke", tok, NULL, 0, 0), ENOENT);
	assert_string_equal(f->out, "no such invitation");
	/* contact invitations: an account of that host, as a bare JID */
	assert_int_equal(ctl(f, NOW, "create", HOST, "romeo@" HOST, 1, 0),
	    ENOENT);
	assert_string_equal(f->out, "no such account");
	unit_creds(&cr, 1);
	assert_int_equal(store_account_add(f->st, "romeo", HOST, &cr), 0);
	assert_int_equal(ctl(f, NOW, "create", HOST, "Romeo@" HOST, 1, 0), 0);
	assert_true(matches(f->out, "^xmpp:romeo@example\\.org\\?roster;"
	    "preauth=[0-9a-f]{32};ibr=y\n$"));
	assert_int_equal(ctl(f, NOW, "create", HOST, "romeo@" HOST "/r", 1,
	    0), EINVAL);
	assert_int_equal(ctl(f, NOW, "create", HOST, "romeo@other.org", 1, 0),
	    EINVAL);
	assert_string_equal(f->out, "the contact is not a bare JID of that "
	    "host");
	/* not a host of ours; an op that is none */
	assert_int_equal(ctl(f, NOW, "create", "other.org", NULL, 1, 0),
	    EINVAL);
	assert_string_equal(f->out, "not a host of this server");
	assert_int_equal(ctl(f, NOW, "bogus", HOST, NULL, 1, 0), -1);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find_and_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
	};

	(void)argc;
	log_init(argv[0], 0);
	log_verbosity = LOG_LVL_WARN;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
