/*
 * The common start of the router fuzz targets (fuzz_rbase.h): one copy,
 * not one in each target's LLVMFuzzerInitialize.
 */
#include <errno.h>
#include <string.h>

#include <ev.h>

#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../common/map.h"
#include "../../common/util.h"
#include "../../router/router.h"
#include "fuzz.h"
#include "fuzz_rbase.h"

void
fuzz_rbase_init(struct conf_host *host, const char *domain)
{
	char	err[8];

	fuzz_log_init();
	router.loop = ev_default_loop(EVFLAG_AUTO);
	router.conf.max_stanza_size = 65536;
	/* small quotas, so that a short input reaches them */
	router.conf.vcard_max_size = 4096;
	router.conf.private_max_size = 4096;
	router.conf.archive_max_messages = 8;
	router.conf.archive_max_bytes = 16384;
	router.conf.archive_page_max = 5;
	host->name = xstrdup(domain);
	/* conf.c's defaults of the roles (router/roles.c) */
	host->member_can = xstrdup("create-rooms upload invite");
	host->limited_can = xstrdup("none");
	/* XEP-0401 ad-hoc forms: small, so that inputs cross them */
	host->invite_max_uses = 5;
	host->invite_max_lifetime = 3600;
	router.conf.hosts = host;
	router.conf.nhosts = 1;
	router.by_full = map_new();
	router.by_bare = map_new();
	buf_init(&router.scratch, 0);
	router.store = store_open("", 0, err, sizeof(err));
}

void
fuzz_rbase_account(const char *node, const char *domain)
{
	struct scram_creds	c;
	int			k;

	memset(&c, 0, sizeof(c));
	for (k = 0; k < SCRAM_NHASH; k++) {
		c.h[k].iter = 4096;
		c.h[k].saltlen = SCRAM_SALT_LEN;
		memset(c.h[k].salt, 's', SCRAM_SALT_LEN);
		memset(c.h[k].stored_key, 'k', SCRAM_KEY_MAX);
		memset(c.h[k].server_key, 'v', SCRAM_KEY_MAX);
	}
	if (store_account_add(router.store, node, domain, &c) == -1 &&
	    errno != EEXIST)
		fatal("fake store: account %s", node);
}
