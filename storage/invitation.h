/*
 * Invitations on the store (XEP-0379, XEP-0401): making, finding and
 * listing the DOC_INVITE records, shared by the router (router/invite.c,
 * the server running) and parleyctl (the server stopped), so that both
 * build an invitation and its xmpp: URI the same way.
 */
#ifndef PARLEY_INVITATION_H
#define PARLEY_INVITATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/conf.h"
#include "store.h"

/* '@' never is in a localpart (RFC 7622 3.3.1): no account's documents */
#define INVITE_NODE		"@invite"
/* its documents: a username an invitation holds, keyed by it */
#define INVITE_RESERVE_NODE	"@invite-username"
#define INVITE_TOKEN_MAX	64
/* the most text invitation_ctl writes (one control reply) */
#define INVITATION_OUT_MAX	(64 * 1024)

/*
 * A new invitation of domain, stored, its token in token (never stored)
 * and its record in iv. creator: the bare JID of a contact invitation,
 * or NULL; username: an account invitation for that localpart only
 * (held for it until it expires), or NULL; lifetime 0: none. now: wall
 * seconds. 0 or -1 (errno).
 */
int	 invitation_create(struct store *, const char *domain,
	    const char *creator, char kind, uint32_t uses, uint32_t lifetime,
	    const char *username, double now,
	    char token[INVITE_TOKEN_MAX + 1], struct invite *iv);
/* stores iv, replacing the record of its hash */
int	 invitation_put(struct store *, const char *domain,
	    const struct invite *iv);
/* -1 with ENOENT: unknown, damaged or expired (an expired one removed) */
int	 invitation_find(struct store *, const char *domain,
	    const char *token, double now, struct invite *iv);
/*
 * The hold of node at domain (XEP-0401 5.2): -1 with errno (ENOENT:
 * none), or 0 with the hash it names (or "" if its value is none) and
 * whether that invitation may still be used (*live). Removing a dead
 * hold is the caller's (a sweep defers the write).
 */
int	 invitation_hold(struct store *, const char *domain,
	    const char *node, double now, char hash[INVITE_HASH_LEN + 1],
	    bool *live);
/* XEP-0401 3 and XEP-0379 3.2: the URI; -1 when it does not fit */
int	 invitation_uri(char *out, size_t len, const char *domain,
	    const struct invite *iv, const char *token);
const char *invitation_kind_name(char kind);

/* parleyctl invite, whoever runs it */
struct invitation_op {
	const char	*op;		/* "create", "list", "revoke" */
	const char	*arg;		/* the host, or the token to revoke */
	const char	*contact;	/* NULL: an account invitation */
	uint32_t	 uses;
	uint32_t	 lifetime;	/* seconds; 0: none */
};
/*
 * Runs op on the store: 0 or an errno value, with the text to show in
 * out (the URI line, the listing, or why not; *len bytes, no NUL,
 * at most INVITATION_OUT_MAX), or -1 for an op that is none of them.
 */
int	 invitation_ctl(struct store *, const struct conf *, double now,
	    const struct invitation_op *, char *out, size_t *len);

#endif
