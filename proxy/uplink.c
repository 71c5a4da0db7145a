/*
 * The proxy's side of the router link: activation requests in (the
 * router answers the initiator's IQ), their results out.
 */
#include "../common/log.h"
#include "proxy.h"

static int
uplink_frame(struct link *l, const struct link_hdr *h, const char *payload,
    void *ctx)
{
	struct link_in	 in;
	struct link_out	 m;
	char		 hash[SOCKS5_HASH_LEN + 2], who[3072];
	enum link_proxy_status st;

	(void)ctx;
	link_in_init(&in, payload, h->len);
	switch (h->type) {
	case LINK_PROXY_ACTIVATE:
		link_get_str(&in, hash, sizeof(hash));
		link_get_str(&in, who, sizeof(who));
		if (!link_in_done(&in))
			return link_fail(l, "bad %s", link_msg_name(h->type));
		st = relay_activate(hash, who);
		link_begin(&m, l, LINK_PROXY_RESULT, h->sid);
		link_put_u32(&m, st);
		return link_end(&m);
	default:
		return routerlink_unexpected(h);
	}
}

/* the proxy sends only small results: nothing waits for a drain */
static void
uplink_drained(void)
{
}

static void
uplink_lost(struct routerlink *rl, struct link *l)
{
	(void)rl;
	(void)l;
	proxy.up = NULL;
}

static void
uplink_connected(struct routerlink *rl, struct link *l)
{
	(void)rl;
	proxy.up = l;
}

void
uplink_start(void)
{
	struct routerlink	*rl = &proxy.uplink;

	rl->on_frame = uplink_frame;
	rl->on_up = uplink_connected;
	rl->on_lost = uplink_lost;
	rl->on_drain = uplink_drained;
	if (routerlink_start(rl, proxy.loop, &proxy.conf, LINK_ROLE_PROXY,
	    0) == -1)
		fatalx("cannot set up the router link");
}
