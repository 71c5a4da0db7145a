/*
 * The router side of the control socket: parleyctl's account commands
 * (LINK_CTL_*) applied to storage while the server runs, so the router's
 * view stays the truth and live sessions can be told about a change.
 */
#ifndef PARLEY_ROUTER_CTL_H
#define PARLEY_ROUTER_CTL_H

#include <stddef.h>
#include <stdint.h>

struct link;
struct link_hdr;
struct store;

/*
 * Handles one frame from a control link after its LINK_HELLO (which the
 * router checks itself): ADDUSER, PASSWD, DELUSER, LIST. Each request is
 * answered with LINK_CTL_REPLY, under the request's sid (its request id):
 * u32 status (LINK_CTL_STATUSES, link.h), str text; LIST answers with
 * newline-separated bare JIDs in replies of up to CTL_LIST_CHUNK bytes,
 * all but the last flagged LINK_CTL_MORE. Writes are committed before the
 * reply is queued. payload (h->len bytes) is borrowed. Returns -1 on a
 * malformed or unexpected frame: the caller closes the link.
 */
int	ctl_frame(struct link *l, const struct link_hdr *h,
	    const char *payload, struct store *st);

#define CTL_LIST_CHUNK	(64 * 1024)

/* the longest grace of a drain, seconds */
#define CTL_DRAIN_GRACE_MAX	3600
/*
 * Sends c2s[instance] a LINK_DRAIN (router/links.c): -1 when no such c2s
 * is connected.
 */
int	rlink_drain(uint32_t instance, uint32_t grace);
/*
 * A planned router restart (router/restart.c): LINK_QUIESCE to the c2s
 * and s2s processes, then the exit; -1 when one is under way.
 */
int	restart_begin(void);

/*
 * LINK_CTL_REPLY to the request whose id is sid; status is 0 or an errno
 * value, sent as its fixed LINK_CTL_STATUSES number; flags LINK_CTL_MORE
 * when more replies follow. text (len bytes) is borrowed.
 */
int	ctl_reply(struct link *l, uint64_t sid, uint16_t flags, int status,
	    const char *text, size_t len);

/*
 * ctlinfo.c: SESSIONS, KICK, STATS, ABOUT (the operator's view of the
 * running server); the same contract as ctl_frame.
 */
/* bytes the storage file takes on disk, -1 if unknown */
long long ctlinfo_storage_bytes(void);
int	ctlinfo_frame(struct link *l, const struct link_hdr *h,
	    const char *payload);

/* invite.c: INVITE (parleyctl invite); the same contract */
int	invite_ctl(struct link *l, const struct link_hdr *h,
	    const char *payload);

/*
 * Called after a successful DELUSER or PASSWD: the account's credentials
 * are gone or changed, so its sessions must not outlive them.
 */
typedef void	ctl_user_gone_fn(const char *node, const char *domain);

/* provided by the router (kicks that user's sessions); a ctl_user_gone_fn */
void	router_user_changed(const char *node, const char *domain);

/*
 * Provided by the router: deletes the account node@domain with everything
 * it owns (store_account_del), cancels its subscriptions with every
 * contact (RFC 6121 2.5.2, XEP-0077 3.2), its sessions still online to
 * say unavailable. The caller closes them next (router_user_changed),
 * after any reply that must reach one first. Returns -1 with errno from
 * the store (ENOENT: no such account), and then nothing has changed.
 */
int	router_account_remove(const char *node, const char *domain);

#endif
