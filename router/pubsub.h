/*
 * The publish-subscribe engine (XEP-0060) shared by the requests
 * (pubsub_req.c) and personal eventing (pep.c): node configuration,
 * affiliations, subscriptions, access, errors.
 */
#ifndef PARLEY_PUBSUB_H
#define PARLEY_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/jid.h"
#include "../common/xml.h"
#include "../storage/store.h"

#define NS_PUBSUB		"http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER		NS_PUBSUB "#owner"
#define NS_PUBSUB_EVENT		NS_PUBSUB "#event"
#define NS_PUBSUB_ERRORS	NS_PUBSUB "#errors"

#define PS_NODE_NAME_MAX	1024	/* bytes of a node name */
#define PS_GROUPS_MAX		64	/* roster_groups_allowed */
#define PS_JIDS_MAX		100000	/* affiliations or subscriptions */

enum ps_access { PS_ACCESS_OPEN, PS_ACCESS_PRESENCE, PS_ACCESS_ROSTER,
	PS_ACCESS_WHITELIST };
enum ps_sendlast { PS_SENDLAST_NEVER, PS_SENDLAST_ON_SUB,
	PS_SENDLAST_ON_SUB_AND_PRESENCE };
enum ps_publish { PS_PUBLISH_PUBLISHERS, PS_PUBLISH_SUBSCRIBERS,
	PS_PUBLISH_OPEN };
enum ps_notif { PS_NOTIF_HEADLINE, PS_NOTIF_NORMAL };
enum ps_affil { PS_AFFIL_NONE, PS_AFFIL_OWNER, PS_AFFIL_PUBLISHER,
	PS_AFFIL_PUBLISH_ONLY, PS_AFFIL_MEMBER, PS_AFFIL_OUTCAST };

struct ps_aff {
	const char	*jid;		/* bare */
	enum ps_affil	 aff;
};

struct ps_sub {
	const char	*jid;		/* as subscribed: bare or full */
	const char	*subid;
};

/* a node's configuration (XEP-0060 16.4.3), in the request's arena */
struct ps_conf {
	int		 access;	/* enum ps_access */
	bool		 persist;
	int		 max_items;	/* 0: "max", the server's limit */
	int		 send_last;	/* enum ps_sendlast */
	bool		 notify;
	bool		 payloads;
	bool		 notify_retract;
	bool		 notify_delete;
	bool		 notify_config;
	bool		 presence_based;
	int		 publish_model;	/* enum ps_publish */
	int		 notif_type;	/* enum ps_notif */
	int		 itemreply;
	char		*title;
	char		*description;
	char		*type;
	const char	**groups;
	size_t		 ngroups;
	struct ps_aff	*affs;
	size_t		 naffs;
	struct ps_sub	*subs;
	size_t		 nsubs;
};

/* a pubsub service: an account's PEP service or a pubsub domain */
struct ps_service {
	const char	*owner;		/* the account's node; NULL */
	const char	*domain;
	const char	*jid;		/* bare JID or domain */
	bool		 pep;
};

struct ps_node {
	const char	*name;
	uint64_t	 nid;		/* 0 before it is created */
	struct ps_conf	 conf;
};

/* one request being answered */
struct ps_req {
	struct rstanza		*rs;
	struct xnode		*iq;
	struct arena		*a;
	const struct ps_service	*svc;
	const char		*from_bare;	/* requester, prepared */
	const char		*from_full;
	bool			 owner;		/* the service's owner asks */
};

/* pubsub.c */
/*
 * The service rs addresses (an account's PEP service when rs->tnode is
 * set, else the pubsub service at rs->tdomain) and its requester. -1
 * when the sender's JID is unusable (from_bare is "" then).
 */
int	 ps_req_init(struct ps_req *, struct ps_service *, struct rstanza *,
	    struct xnode *iq, struct arena *);
void	 ps_conf_default(struct ps_conf *);
/* a new node's configuration on svc: a service has no presence access */
void	 ps_conf_new(const struct ps_service *, struct ps_conf *);
/* whether c suits svc; else not-acceptable is for the caller to send */
bool	 ps_conf_fits(const struct ps_service *, const struct ps_conf *);
size_t	 ps_conf_max_items(const struct ps_conf *);
int	 ps_conf_encode(struct buf *, const struct ps_conf *);
int	 ps_conf_decode(struct arena *, const char *rec, size_t len,
	    struct ps_conf *);
/*
 * A submitted form of form_type: with apply, its fields set c; without,
 * they are compared with c (publish-options preconditions). 0 done; else
 * *why is set and the result tells a malformed request from one that
 * is well-formed but cannot be met, for XEP-0060 7.1.5 to answer
 * bad-request or conflict (precondition-not-met).
 */
#define PS_CONF_BAD	(-1)	/* breaks XEP-0004 3, the wrong FORM_TYPE
				   or a value not of its field's type */
#define PS_CONF_UNMET	(-2)	/* an unknown field, a value past a limit,
				   or (comparing) a mismatch */
int	 ps_conf_apply(struct arena *, const struct xnode *x,
	    struct ps_conf *c, bool apply, const char *form_type,
	    const char **why);
/* the configuration form (type form) under parent */
void	 ps_conf_form(struct arena *, struct xnode *parent,
	    const struct ps_conf *);
const char *ps_affil_name(enum ps_affil);
int	 ps_affil_parse(const char *);
enum ps_affil ps_affil_of(const struct ps_conf *, const char *bare);
int	 ps_affil_set(struct arena *, struct ps_conf *, const char *bare,
	    enum ps_affil);
ssize_t	 ps_sub_find(const struct ps_conf *, const char *jid,
	    const char *subid);
const char *ps_sub_add(struct arena *, struct ps_conf *, const char *jid);
void	 ps_sub_del(struct ps_conf *, size_t);
int	 ps_node_load(struct arena *, const struct ps_service *,
	    const char *name, struct ps_node *);
int	 ps_node_put(const struct ps_service *, struct ps_node *);
int	 ps_node_save(const struct ps_service *, struct ps_node *);
void	 ps_error(struct ps_req *, enum stanza_err, const char *app,
	    const char *feature);
void	 ps_store_error(struct ps_req *, int err);
struct xnode *ps_result(struct ps_req *, const char *ns);
void	 ps_send(struct ps_req *);
/* the iq turned into its result with res as its child, sent */
void	 ps_reply(struct ps_req *, struct xnode *res);
enum stanza_err ps_access(const struct ps_req *, const struct ps_node *,
	    const char **app);
struct xnode *ps_item_node(struct arena *, struct xnode *parent,
	    const char *ns, const struct pubsub_item *, bool payload);
const char *ps_item_id_new(struct arena *);
bool	 ps_item_id_ok(const char *);
bool	 ps_node_name_ok(const char *);

/* pep_disco.c: the identity and features of a PEP or a pubsub service */
void	 ps_disco_features(struct xnode *q, struct arena *, bool pep,
	    bool create);

/* pep.c: who hears of a node's events, and the events themselves */
enum ps_event { PS_EV_ITEMS, PS_EV_RETRACT, PS_EV_DELETE, PS_EV_PURGE,
	PS_EV_CONFIG };
/*
 * Sends the event to everyone entitled to it: for items, el is the
 * <item/> (payload included when the node delivers payloads); for a
 * retraction, id names the item.
 */
void	 pep_notify(const struct ps_service *, const struct ps_node *,
	    enum ps_event, const struct xnode *item, const char *id,
	    struct arena *);
/* the node's last item to one JID (a new subscription) */
void	 pep_send_last(const struct ps_service *, const struct ps_node *,
	    const char *to, struct arena *);

/*
 * pep_compat.c: the conversions between PEP and the older stores
 * (XEP-0398 avatars, XEP-0402/0411 bookmarks), run after the owner's
 * request is answered: a publish (item with its payload), a retraction,
 * purge or deletion of node name.
 */
void	 pep_compat_published(const struct ps_service *, const char *name,
	    const struct xnode *item, struct arena *);
void	 pep_compat_removed(const struct ps_service *, const char *name,
	    struct arena *);

#endif
