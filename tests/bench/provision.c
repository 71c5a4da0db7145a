/*
 * Benchmark provisioning for Parley: creates PREFIX0..PREFIXn-1 accounts
 * (and, with -g, rosters of mutual contacts with subscription "both") in a
 * stopped server's LMDB store, through storage/store.c like parleyctl. The
 * SCRAM credentials are derived once and written to every account (same
 * salt for all), because deriving them per account at 4096 iterations is
 * what makes parleyctl slow; the server's work per login does not depend
 * on the salt. Rosters are cliques of -g accounts: each member lists the
 * others, as if every pair had subscribed both ways. With -a, the first
 * account's message archive gets COUNT messages, one a millisecond back
 * from now, with ten correspondents in turn (the MAM query benchmark,
 * docs/BENCHMARKS.md), in batches of 10000 per transaction. With -P, the
 * same go to a PostgreSQL database instead (store_open_pg: libpq's
 * conninfo), for the parley-pg server of tests/bench/run.sh.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/scram.h"
#include "../../storage/store.h"

static void
usage(void)
{
	fprintf(stderr, "usage: provision -D DATADIR | -P CONNINFO -d DOMAIN -u PREFIX "
	    "-n COUNT [-g CLIQUE] [-w PASSWORD] [-i ITER] [-m MAPSIZE_MB] "
	    "[-a ARCHIVED]\n");
	exit(2);
}

#define ARCHIVE_BATCH	10000

/* count messages in the archive of prefix0, oldest first */
static int
archive_fill(struct store *st, const char *prefix, const char *domain,
    unsigned long count)
{
	struct archive_limits	lim = { 0, 0, 0 };
	struct archive_entry	e;
	struct timespec		ts;
	char			node[64], with[128], xml[512];
	uint64_t		now;
	unsigned long		i;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	snprintf(node, sizeof(node), "%s0", prefix);
	for (i = 0; i < count; i++) {
		if (i % ARCHIVE_BATCH == 0 && (i > 0 && store_commit(st) == -1))
			return -1;
		if (i % ARCHIVE_BATCH == 0 && store_begin(st) == -1)
			return -1;
		snprintf(with, sizeof(with), "%s%lu@%s", prefix, 1 + i % 10,
		    domain);
		memset(&e, 0, sizeof(e));
		e.nonce = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		e.stamp = now - (count - i) * 1000;
		e.with = with;
		e.len = (size_t)snprintf(xml, sizeof(xml), "<message xmlns="
		    "'jabber:client' from='%s/r' to='%s@%s/r' type='chat' "
		    "id='m%lu'><body>archived message number %lu, a line of "
		    "ordinary length</body></message>", with, node, domain,
		    i, i);
		e.xml = xml;
		if (store_archive_put(st, node, domain, &e, &lim, false) == -1)
			return -1;
	}
	return count > 0 ? store_commit(st) : 0;
}

int
main(int argc, char **argv)
{
	struct scram_creds	 cr;
	struct roster_item	 it;
	struct store		*st;
	const char		*dir = NULL, *conninfo = NULL;
	const char		*domain = "localhost";
	const char		*prefix = "u", *pw = "bench";
	char			 node[64], contact[128], err[256];
	unsigned long		 n = 0, g = 0, iter = 4096, mapmb = 1024;
	unsigned long		 archived = 0;
	unsigned long		 i, j, base, added = 0;
	uint64_t		 ver;
	int			 ch;

	while ((ch = getopt(argc, argv, "D:P:d:u:n:g:w:i:m:a:")) != -1) {
		switch (ch) {
		case 'D': dir = optarg; break;
		case 'P': conninfo = optarg; break;
		case 'd': domain = optarg; break;
		case 'u': prefix = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'g': g = strtoul(optarg, NULL, 10); break;
		case 'w': pw = optarg; break;
		case 'i': iter = strtoul(optarg, NULL, 10); break;
		case 'm': mapmb = strtoul(optarg, NULL, 10); break;
		case 'a': archived = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if ((dir == NULL) == (conninfo == NULL) || n == 0 ||
	    (g > 0 && n % g != 0))
		usage();
	log_init("provision", 0);
	if (conninfo != NULL)
		st = store_open_pg(conninfo, err, sizeof(err));
	else
		st = store_open(dir, (size_t)mapmb << 20, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "provision: %s\n", err);
		return 1;
	}
	if (store_bulk(st) == -1)	/* one sync, at store_close */
		return 1;
	if (scram_creds_make(&cr, pw, (uint32_t)iter) == -1) {
		fprintf(stderr, "provision: bad password\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(node, sizeof(node), "%s%lu", prefix, i);
		if (store_account_add(st, node, domain, &cr) == -1) {
			if (errno == EEXIST)
				continue;
			fprintf(stderr, "provision: %s: %s\n", node,
			    strerror(errno));
			return 1;
		}
		added++;
	}
	for (i = 0; g > 0 && i < n; i++) {
		snprintf(node, sizeof(node), "%s%lu", prefix, i);
		base = i - i % g;
		for (j = base; j < base + g; j++) {
			if (j == i)
				continue;
			snprintf(contact, sizeof(contact), "%s%lu@%s", prefix,
			    j, domain);
			memset(&it, 0, sizeof(it));
			it.jid = contact;
			it.sub = SUB_BOTH;
			if (store_roster_put(st, node, domain, &it, &ver) ==
			    -1) {
				fprintf(stderr, "provision: roster of %s: %s\n",
				    node, strerror(errno));
				return 1;
			}
		}
	}
	if (archive_fill(st, prefix, domain, archived) == -1) {
		fprintf(stderr, "provision: archive: %s\n", strerror(errno));
		return 1;
	}
	store_close(st);
	fprintf(stderr, "provision: %lu accounts added (%lu existed)%s\n",
	    added, n - added, g ? ", rosters written" : "");
	return 0;
}
