/*
 * The server's own entity capabilities (XEP-0115 6.3) in the stream
 * features after authentication. The router computes each host's ver
 * from the disco#info it answers and sends it at link set-up
 * (LINK_HOST_CAPS), so both say the same: one source of truth.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/map.h"
#include "../common/util.h"
#include "../common/version.h"
#include "../common/xml.h"
#include "c2s.h"

/* base64 of the longest digest a router may use, and then some */
#define CAPS_VER_LEN	128

static struct map	*caps_vers;	/* host -> ver */

int
caps_host_set(const char *domain, const char *ver)
{
	if (domain == NULL || ver == NULL || strlen(ver) == 0 ||
	    strlen(ver) > CAPS_VER_LEN)
		return -1;
	/* only our hosts: the map stays as small as the configuration */
	if (conf_host_find(&c2s.conf, domain) == NULL)
		return 0;
	if (caps_vers == NULL)
		caps_vers = map_new();
	free(map_put(caps_vers, domain, xstrdup(ver)));
	return 0;
}

void
caps_features(struct stream *st, struct buf *b)
{
	const char	*ver;

	if (caps_vers == NULL || st->domain == NULL ||
	    (ver = map_get(caps_vers, st->domain)) == NULL)
		return;		/* the router has not said yet */
	buf_puts(b, "<c xmlns='" NS_CAPS "' hash='sha-1' node='"
	    PARLEY_CAPS_NODE "' ver='");
	xml_escape(b, ver, strlen(ver));
	buf_puts(b, "'/>");
}

void
caps_host_clear(void)
{
	map_free(caps_vers, free);
	caps_vers = NULL;
}
