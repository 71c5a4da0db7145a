/*
 * Account roles (admin, member, limited) and the capabilities a host's
 * configuration gives each: the names, their parsing and the host's
 * admins list. Shared by the configuration checker, parleyctl and the
 * router (router/roles.c decides what an account may do).
 */
#ifndef PARLEY_ROLE_H
#define PARLEY_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_host;

/* member is 0: an account with no stored role is a member */
enum role {
	ROLE_MEMBER,
	ROLE_ADMIN,
	ROLE_LIMITED,
};

/* the fixed set of capabilities: bit, word in member-can and limited-can */
#define ROLE_CAPS(X)							\
	X(ROLE_CAP_CREATE_ROOMS,	0x01, "create-rooms")		\
	X(ROLE_CAP_UPLOAD,		0x02, "upload")			\
	X(ROLE_CAP_INVITE,		0x04, "invite")			\
	X(ROLE_CAP_REGISTER,		0x08, "register-accounts")	\
	X(ROLE_CAP_ADMIN,		0x10, "admin-commands")

#define ROLE_CAP_ENUM(e, v, w)	e = v,
enum role_cap { ROLE_CAPS(ROLE_CAP_ENUM) };
#define ROLE_CAP_ALL		0x1f

/* "admin", "member" or "limited" */
const char	*role_name(enum role);
/* the role named s: 0, or -1 for an unknown name */
int		 role_parse(const char *s, enum role *);
/*
 * A capability list: words of ROLE_CAPS separated by spaces, or "none".
 * Returns 0 with the bits in caps, or -1 with the first unknown word at
 * *bad (borrows s), *badlen bytes long.
 */
int		 role_caps_parse(const char *s, uint32_t *caps,
		    const char **bad, size_t *badlen);
/* the words of the set, "create-rooms, upload, ...", for messages */
const char	*role_caps_words(void);
/*
 * Does h's admins option (bare JIDs, spaces) list node@domain? Such an
 * account is an admin whatever role is stored for it.
 */
bool		 role_listed_admin(const struct conf_host *h,
		    const char *node, const char *domain);

#endif
