/*
 * Ad-hoc commands (XEP-0050): the framework (adhoc.c) and the table of
 * commands (adhoc_admin.c, the XEP-0133 administration set).
 */
#ifndef PARLEY_ADHOC_H
#define PARLEY_ADHOC_H

#include <stdbool.h>

#include "../common/xdata.h"
#include "router.h"

#define NS_COMMANDS	"http://jabber.org/protocol/commands"
#define NS_ADMIN	"http://jabber.org/protocol/admin"
/* our commands beyond XEP-0133 (adhoc_role.c) */
#define NS_PARLEY_ADMIN	"urn:xmpp:parley:admin"

/*
 * A command. form adds the first step's form to the <command/> (NULL: the
 * command answers at once); submit answers the iq (an adhoc_reply, or an
 * adhoc_error): x is the submitted form (NULL when none or no form),
 * sid the session's id (NULL without a form).
 */
struct adhoc_cmd {
	const char	*node;
	const char	*name;
	void		(*form)(struct rstanza *, struct xnode *command,
			    struct arena *);
	void		(*submit)(struct rstanza *, struct xnode *iq,
			    struct arena *, const char *sid,
			    const struct xnode *x);
};

/* adhoc.c */
bool	 adhoc_is_admin(const struct rstanza *);
bool	 adhoc_may(const struct rstanza *, const struct adhoc_cmd *);
void	 adhoc_error(struct rstanza *, struct xnode *iq, struct arena *,
	    enum stanza_err, const char *app);
struct xnode *adhoc_reply(struct xnode *iq, struct arena *,
	    const char *node, const char *sid, const char *status);

/* disco#info of a command's node (XEP-0050 2.3) */
void	 adhoc_disco_info(struct rstanza *, struct xnode *iq, struct arena *,
	    const char *node);

/* adhoc_admin.c */
/*
 * A submitted field's values, joined by newlines (text-multi), in the
 * arena; NULL when x is no submitted form or has no such field.
 */
char	*adhoc_field(struct arena *, const struct xnode *x,
	    const char *var);
/*
 * s is the bare JID of an account of the command's host (rs->tdomain):
 * 0 with j set (the caller clears it), or -1
 */
struct jid;
int	 adhoc_host_jid(const struct rstanza *, const char *s, struct jid *j);
const struct adhoc_cmd *adhoc_cmd_find(const char *node);
/* 0: an admin command; else what role_may must grant */
enum role_cap adhoc_cmd_cap(const struct adhoc_cmd *);
/* the commands rs's sender may run */
void	 adhoc_cmd_items(const struct rstanza *, struct xnode *query,
	    struct arena *, const char *domain);

/* adhoc_cred.c: add-user and change-user-password */
void	 adhoc_add_form(struct rstanza *, struct xnode *, struct arena *);
void	 adhoc_add_submit(struct rstanza *, struct xnode *, struct arena *,
	    const char *sid, const struct xnode *x);
void	 adhoc_passwd_form(struct rstanza *, struct xnode *,
	    struct arena *);
void	 adhoc_passwd_submit(struct rstanza *, struct xnode *,
	    struct arena *, const char *sid, const struct xnode *x);

/* adhoc_role.c: set-user-role */
void	 adhoc_role_form(struct rstanza *, struct xnode *, struct arena *);
void	 adhoc_role_submit(struct rstanza *, struct xnode *, struct arena *,
	    const char *sid, const struct xnode *x);

/* adhoc_editadmin.c: XEP-0133 4.29 edit-admin */
void	 adhoc_editadmin_form(struct rstanza *, struct xnode *,
	    struct arena *);
void	 adhoc_editadmin_submit(struct rstanza *, struct xnode *,
	    struct arena *, const char *sid, const struct xnode *x);

/* invite.c: XEP-0401 invitations */
void	 invite_adhoc_contact(struct rstanza *, struct xnode *,
	    struct arena *, const char *sid, const struct xnode *x);
void	 invite_adhoc_account_form(struct rstanza *, struct xnode *,
	    struct arena *);
void	 invite_adhoc_account(struct rstanza *, struct xnode *,
	    struct arena *, const char *sid, const struct xnode *x);

/* motd.c: the message of the day */
void	 motd_set_form(struct rstanza *, struct xnode *, struct arena *);
void	 motd_edit_form(struct rstanza *, struct xnode *, struct arena *);
void	 motd_set_submit(struct rstanza *, struct xnode *, struct arena *,
	    const char *sid, const struct xnode *x);
void	 motd_delete_submit(struct rstanza *, struct xnode *,
	    struct arena *, const char *sid, const struct xnode *x);

#endif
