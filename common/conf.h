/*
 * The configuration: one file for all processes. Each option is declared
 * once in a table in conf.c (name, type, bounds, default, one-line help).
 * Mistakes are reported with file, line and a fix, all of them, and the
 * load fails rather than guessing.
 */
#ifndef PARLEY_CONF_H
#define PARLEY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

enum listen_kind {
	LISTEN_C2S,		/* c2s-listen: plain TCP, STARTTLS offered */
	LISTEN_C2S_TLS,		/* c2s-tls-listen: direct TLS (XEP-0368) */
	LISTEN_S2S,		/* s2s-listen: servers, STARTTLS offered */
	LISTEN_S2S_TLS,		/* s2s-tls-listen: servers, direct TLS */
	LISTEN_PROXY,		/* proxy-listen: SOCKS5 (XEP-0065) */
	LISTEN_COMPONENT,	/* component-listen: XEP-0114 components */
	LISTEN_HTTP,		/* http-listen: plain HTTP (c2s/http.c) */
	LISTEN_HTTPS,		/* https-listen: HTTP over TLS */
	LISTEN_LINK,		/* link-listen: the router's remote links */
	LISTEN_ROUTER,		/* router-address: where a remote process
				   connects (not listened on) */
};

/* component DOMAIN=SECRET: an external component (XEP-0114) */
struct conf_component {
	char		*domain;	/* nameprepped */
	char		*secret;	/* the handshake's shared secret */
	int		 line;
};

/*
 * component-certificate DOMAIN=CERT,KEY: the certificate a component's
 * domain presents to remote servers (s2s/out.c's out_creds, and by SNI
 * when they dial in)
 */
struct conf_component_cert {
	char		*domain;	/* nameprepped; a component's */
	char		*cert;
	char		*key;
	int		 line;
};

/* s2s-route DOMAIN=HOST:PORT: a static target for a remote domain */
struct conf_route {
	char		*domain;	/* nameprepped */
	char		*host;		/* a name or an address */
	uint16_t	 port;
	int		 line;
};

struct conf_listen {
	enum listen_kind	kind;
	char			*addr;	/* as written, e.g. "::1" */
	uint16_t		 port;
	struct sockaddr_storage	 sa;	/* resolved numeric address */
	socklen_t		 salen;
	int			 line;	/* for messages */
};

/*
 * extdisco-service TYPE:HOST[:PORT][?transport=udp|tcp]: a STUN or TURN
 * server announced to the host's users (XEP-0215, RFC 7064/7065 URIs)
 */
struct conf_extsvc {
	char		*type;		/* stun|stuns|turn|turns */
	char		*host;		/* a name or an address, as written */
	uint16_t	 port;
	char		*transport;	/* udp|tcp, NULL: unspecified */
	int		 line;
};

/* XEP-0157 address kinds, in the order of contact_fields (router/contact.c) */
enum conf_contact {
	CONTACT_ABUSE,
	CONTACT_ADMIN,
	CONTACT_FEEDBACK,
	CONTACT_SALES,
	CONTACT_SECURITY,
	CONTACT_SUPPORT,
	CONTACT_COUNT
};

/* one virtual host: "host NAME { ... }" */
struct conf_host {
	char	*name;		/* nameprepped domain */
	char	*cert;		/* PEM certificate chain */
	char	*key;		/* PEM private key */
	bool	 allow_register;	/* XEP-0077 in-band registration */
	bool	 pubsub;	/* a pubsub service (XEP-0060) */
	char	*pubsub_name;	/* its domain; pubsub.NAME by default */
	char	*pubsub_create;	/* who creates nodes: local|anyone|nobody */
	bool	 push_body;	/* XEP-0357: message bodies in pushes */
	int	 line;
	int	 pubsub_line;	/* where the service's domain was set */
	/* XEP-0215 external services, router/extdisco.c */
	struct conf_extsvc *extsvcs;
	size_t	 nextsvcs;
	char	*turn_secret;	/* TURN REST API shared secret, NULL: none */
	int	 turn_ttl;	/* seconds a TURN credential lasts */
	/* XEP-0065 bytestream proxy at proxy.NAME, router/proxy.c */
	bool	 proxy;
	char	*proxy_name;	/* proxy.NAME when proxy is on */
	bool	 muc;		/* a group chat service (XEP-0045) */
	char	*muc_name;	/* its domain; conference.NAME by default */
	char	*muc_title;	/* its disco#info name */
	char	*muc_create;	/* who creates rooms: local|anyone|nobody */
	int	 muc_line;
	/* XEP-0363 HTTP file upload at upload.NAME, router/upload.c */
	bool	 upload;
	char	*upload_name;	/* upload.NAME when upload is on */
	/* XEP-0157 contact addresses, URIs separated by spaces; NULL: none */
	char	*contact[CONTACT_COUNT];
	char	*admins;	/* bare JIDs, spaces: ad-hoc admin commands */
	/* roles (common/role.h, router/roles.c): capability words */
	char	*member_can;
	char	*limited_can;
	size_t	 upload_quota_limited;	/* per UTC day, 0: none */
	/* what a user's XEP-0401 ad-hoc invitation may ask for */
	int	 invite_max_uses;
	int	 invite_max_lifetime;	/* seconds */
};

/*
 * The processes parleyd starts on this host (the processes option): the
 * router (with the XEP-0065 proxy where it has a port), the s2s process,
 * the c2s workers. Without router, router-address names the router.
 */
#define CONF_RUN_ROUTER		0x1u
#define CONF_RUN_S2S		0x2u
#define CONF_RUN_C2S		0x4u

struct conf {
	char			*path;		/* file we loaded */
	/* processes */
	int			 workers;	/* c2s processes */
	char			*processes;	/* as written, or NULL */
	unsigned		 run;		/* CONF_RUN_*: from processes */
	char			*datadir;	/* LMDB environment lives here */
	char			*rundir;	/* sockets, pid file */
	char			*log_level;	/* err|warn|info|debug */
	char			*user;		/* drop root to; NULL: no */
	char			*group;		/* NULL: the user's group */
	/* storage */
	size_t			 lmdb_mapsize;	/* bytes */
	size_t			 lmdb_mapsize_max;	/* bytes */
	char			*storage;	/* lmdb|postgresql */
	char			*pg_conninfo;	/* libpq's connection string */
	uint32_t		 scram_iterations;
	/* client streams */
	struct conf_listen	*listens;
	size_t			 nlistens;
	bool			 c2s_require_tls;
	char			*tls_priority;
	size_t			 max_stanza_size;
	size_t			 c2s_max_stanza_preauth;
	size_t			 s2s_max_stanza_preauth;
	size_t			 preauth_stream_memory;	/* per stream */
	size_t			 preauth_memory_max;	/* per process */
	int			 negotiation_timeout;	/* seconds */
	int			 idle_timeout;		/* seconds */
	int			 auth_retries;
	size_t			 c2s_max_sessions;	/* per c2s process */
	int			 c2s_max_per_address;	/* 0: no limit */
	int			 s2s_max_per_address;	/* 0: no limit */
	int			 c2s_stanza_rate;	/* per second, 0: none */
	int			 csi_queue_max;		/* stanzas held for an
							   inactive session */
	size_t			 csi_queue_max_bytes;
	int			 sm_request_stanzas;	/* XEP-0198 */
	int			 sm_request_interval;	/* seconds */
	int			 c2s_ping_interval;	/* seconds, 0: off */
	int			 c2s_ping_timeout;	/* seconds */
	int			 c2s_restart_hold;	/* seconds */
	int			 restart_backoff_max;	/* seconds, parleyd */
	int			 fast_token_lifetime;	/* seconds */
	int			 sm_resume_timeout;	/* seconds */
	int			 sm_resume_max;		/* seconds */
	int			 sm_queue_max;		/* per session */
	size_t			 sm_queue_max_bytes;
	char			*sm_location;		/* HOST[:PORT] or NULL */
	char			*drain_redirect;	/* HOST[:PORT] or NULL */
	int			 auth_fail_max;		/* per address, 0: off */
	int			 max_resources;		/* per account */
	size_t			 link_queue_max;	/* bytes, per link */
	/* web transports (c2s/http.c, websocket.c, bosh.c) */
	char			*http_trusted_proxies;	/* addresses, spaces */
	char			*http_origins;		/* WebSocket Origins */
	char			*metrics_allow;		/* /metrics readers */
	size_t			 http_max_header_size;
	size_t			 http_max_body_size;
	int			 http_request_timeout;	/* seconds */
	int			 http_keepalive_timeout;	/* seconds */
	int			 http_keepalive_requests;
	char			*http_static_dir;	/* under /chat/ */
	int			 websocket_ping_interval;	/* seconds */
	int			 bosh_max_wait;		/* seconds */
	int			 bosh_max_inactivity;	/* seconds */
	char			*link_psk_file;	/* remote links' keys */
	char			*link_psk_identity;	/* ours, remote */
	char			*link_cert;	/* certificate links: ours */
	char			*link_key;
	char			*link_ca;	/* signs both ends' */
	char			*link_peers;	/* router: names, commas */
	char			*link_router_name;	/* the router's */
	int			 instance_base;	/* first c2s instance */
	/* instant messaging */
	int			 roster_max_items;
	int			 offline_max;
	size_t			 offline_max_bytes;	/* per account */
	int			 sub_pending_max;	/* per account */
	int			 sub_pending_domain;	/* per remote domain */
	size_t			 sub_status_max;	/* bytes kept */
	size_t			 vcard_max_size;
	size_t			 private_max_size;
	int			 private_max_docs;	/* per account */
	size_t			 private_max_bytes;	/* per account */
	int			 block_max_items;
	/* publish-subscribe and PEP (XEP-0060, XEP-0163) */
	int			 pubsub_max_nodes;	/* per owner */
	int			 pubsub_max_items;	/* per node */
	size_t			 pubsub_item_max_size;
	int			 pubsub_max_subscriptions; /* per node */
	/* group chat (XEP-0045) */
	int			 muc_max_occupants;	/* per room */
	int			 muc_max_rooms;		/* per service */
	int			 muc_max_rooms_per_user;	/* per creator */
	int			 muc_history;		/* messages per room */
	int			 muc_rate;		/* messages/10 s each */
	size_t			 muc_subject_max_size;
	size_t			 muc_config_max_size;	/* text fields */
	/* message archive (XEP-0313) */
	bool			 archive;
	int			 archive_max_age;	/* seconds, 0: none */
	int			 archive_max_messages;	/* per account */
	size_t			 archive_max_bytes;	/* per account */
	int			 archive_page_max;	/* per query */
	bool			 version_hide;
	int			 register_interval;	/* seconds */
	/* federation */
	bool			 s2s_require_tls;
	bool			 s2s_dialback;
	char			*s2s_dialback_secret;	/* NULL: random */
	char			*s2s_ca_file;		/* NULL: system */
	char			*dns_server;		/* NULL: resolv.conf */
	char			*dns_resolv_conf;
	int			 s2s_connect_timeout;	/* seconds */
	int			 s2s_idle_timeout;	/* seconds */
	size_t			 s2s_queue_max;		/* bytes per domain */
	struct conf_route	*routes;
	size_t			 nroutes;
	bool			 s2s_allow_private;	/* dial any address */
	int			 s2s_dialback_pending;	/* per stream */
	int			 s2s_dialback_rate;	/* per minute, stream */
	int			 s2s_out_max;		/* domain pairs */
	bool			 s2s_require_valid_cert;
	char			*s2s_require_valid_cert_for;	/* domains */
	char			*s2s_allow_dialback_for;	/* domains */
	int			 presence_directed_max;	/* per session */
	/* entity capabilities (XEP-0115), router/caps.c */
	int			 caps_cache_max;	/* hashes cached */
	size_t			 caps_cache_size;	/* their bytes */
	int			 caps_queries_max;	/* in flight */
	int			 caps_query_timeout;	/* seconds */
	/* SOCKS5 bytestream proxy (XEP-0065), proxy/ */
	char			*proxy_host;	/* announced; NULL: listener's */
	size_t			 proxy_max_bytes;	/* per transfer */
	size_t			 proxy_rate;	/* bytes/s per transfer, 0: none */
	int			 proxy_pending_timeout;	/* seconds */
	int			 proxy_idle_timeout;	/* seconds */
	int			 proxy_max_pending;	/* unpaired connections */
	int			 proxy_max_relays;	/* active transfers */
	/* push notifications (XEP-0357), router/push.c */
	int			 push_max_devices;	/* per account */
	size_t			 push_form_max_size;	/* publish-options */
	int			 push_interval;		/* seconds, per device */
	int			 push_pending_max;	/* pushes awaiting an
							   answer */
	/* HTTP file upload (XEP-0363), router/upload.c, c2s/upload.c */
	char			*upload_url;	/* base of the slot URLs */
	char			*upload_dir;	/* the files */
	size_t			 upload_max_size;	/* per file */
	size_t			 upload_quota_daily;	/* per account, 0: none */
	size_t			 upload_quota_total;	/* per account, 0: none */
	int			 upload_expire;		/* seconds */
	int			 upload_slot_ttl;	/* seconds */
	int			 invite_sweep_interval;	/* seconds */
	/* virtual hosts */
	struct conf_host	*hosts;
	size_t			 nhosts;
	/* external components (XEP-0114), s2s/component.c */
	struct conf_component	*components;
	size_t			 ncomponents;
	struct conf_component_cert *component_certs;
	size_t			 ncomponent_certs;
};

/*
 * Loads path into c (which is zeroed first). Each mistake is written to
 * stderr as "FILE:LINE: what (fix)". Returns 0, or -1 when there was any
 * mistake; c is then cleared.
 */
int			 conf_load(struct conf *c, const char *path);
void			 conf_clear(struct conf *c);
/*
 * A reload: fresh (a conf_load of the same file) replaces the values of c
 * that can change while the processes run; for each option that differs
 * and needs a restart (listeners, directories, the user, the host list,
 * ...) c keeps its value and restart(option name, arg) is called. Paths
 * change, not what was loaded from them: the caller reloads the
 * certificates. fresh is cleared.
 */
void			 conf_reload(struct conf *c, struct conf *fresh,
			    void (*restart)(const char *opt, void *arg),
			    void *arg);
/* the static route for a (nameprepped) remote domain, or NULL */
const struct conf_route	*conf_route_find(const struct conf *c,
			    const char *domain);
/* host by (nameprepped) domain, or NULL */
const struct conf_host	*conf_host_find(const struct conf *c,
			    const char *domain);
/* the host whose pubsub service is at (nameprepped) domain, or NULL */
const struct conf_host	*conf_pubsub_find(const struct conf *c,
			    const char *domain);
/* the host whose bytestream proxy is at (nameprepped) domain, or NULL */
const struct conf_host	*conf_proxy_find(const struct conf *c,
			    const char *domain);
/* the host whose upload service is at (nameprepped) domain, or NULL */
const struct conf_host	*conf_upload_find(const struct conf *c,
			    const char *domain);
/*
 * the first listener of kind, or NULL: proxy-listen is the streamhost
 * announced, router-address names the router of a host without one
 */
const struct conf_listen *conf_listen_find(const struct conf *c,
			    enum listen_kind kind);
/* a domain of ours: a host or a host's pubsub service or proxy */
/* the host whose group chat service is at (nameprepped) domain, or NULL */
const struct conf_host	*conf_muc_find(const struct conf *c,
			    const char *domain);
/* a domain of ours: a host or a host's pubsub or group chat service */
bool			 conf_domain_ours(const struct conf *c,
			    const char *domain);
/*
 * The component serving (nameprepped) domain: its own domain or a
 * subdomain of it; NULL if none.
 */
const struct conf_component *conf_component_find(const struct conf *c,
			    const char *domain);
/* the component-certificate of exactly domain, or NULL */
const struct conf_component_cert *conf_component_cert_find(
			    const struct conf *c, const char *domain);
/* prints every option with its default and help (parleyd -h config) */
void			 conf_usage(FILE *);

#endif
