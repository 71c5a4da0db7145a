/*
 * Benchmark provisioning for Parley: creates PREFIX0..PREFIXn-1 accounts
 * (and, with -g, rosters of mutual contacts with subscription "both") in a
 * stopped server's LMDB store, through storage/store.c like parleyctl. The
 * SCRAM credentials are derived once and written to every account (same
 * salt for all), because deriving them per account at 4096 iterations is
 * what makes parleyctl slow; the server's work per login does not depend
 * on the salt. Rosters are cliques of -g accounts: each member lists the
 * others, as if every pair had subscribed both ways.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/scram.h"
#include "../../storage/store.h"

static void
usage(void)
{
	fprintf(stderr, "usage: provision -D DATADIR -d DOMAIN -u PREFIX "
	    "-n COUNT [-g CLIQUE] [-w PASSWORD] [-i ITER] [-m MAPSIZE_MB]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct scram_creds	 cr;
	struct roster_item	 it;
	struct store		*st;
	const char		*dir = NULL, *domain = "localhost";
	const char		*prefix = "u", *pw = "bench";
	char			 node[64], contact[128], err[256];
	unsigned long		 n = 0, g = 0, iter = 4096, mapmb = 1024;
	unsigned long		 i, j, base, added = 0;
	uint64_t		 ver;
	int			 ch;

	while ((ch = getopt(argc, argv, "D:d:u:n:g:w:i:m:")) != -1) {
		switch (ch) {
		case 'D': dir = optarg; break;
		case 'd': domain = optarg; break;
		case 'u': prefix = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'g': g = strtoul(optarg, NULL, 10); break;
		case 'w': pw = optarg; break;
		case 'i': iter = strtoul(optarg, NULL, 10); break;
		case 'm': mapmb = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (dir == NULL || n == 0 || (g > 0 && n % g != 0))
		usage();
	log_init("provision", 0);
	if ((st = store_open(dir, (size_t)mapmb << 20, err,
	    sizeof(err))) == NULL) {
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
	store_close(st);
	fprintf(stderr, "provision: %lu accounts added (%lu existed)%s\n",
	    added, n - added, g ? ", rosters written" : "");
	return 0;
}
