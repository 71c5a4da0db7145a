/*
 * The configuration file, shared by every process. Each option is declared
 * once in opts[] below: parsing, bounds, defaults, messages, freeing and
 * conf_usage() all come from that one table.
 *
 * Format:
 *	# a comment runs to the end of the line (outside quotes)
 *	name value		one directive per line, exactly one value
 *	name "a b \" \\"	double quotes for values with spaces or '#';
 *				\" and \\ are the only escapes
 *	host NAME {		a virtual host; NAME is nameprepped and unique
 *		certificate PATH
 *		key PATH
 *	}
 * Blank lines are ignored and option names are kebab-case. Integers are
 * decimal. Sizes are bytes or a number with a K, M, G or T suffix (powers
 * of 1024); durations are seconds or a number with an s, m or h suffix;
 * booleans are yes|no, true|false or on|off. c2s-listen and c2s-tls-listen
 * may repeat; any other option may be set once (per host block for host
 * options). Relative paths are taken from parleyd's working directory.
 * At least one host is required.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "conf.h"
#include "jid.h"
#include "log.h"
#include "role.h"
#include "util.h"

#define KIB	1024ULL
#define MIB	(1024 * KIB)
#define GIB	(1024 * MIB)
#define TIB	(1024 * GIB)

#define CONF_MAXTOK	4	/* longest directive: host NAME { + 1 extra */
#define CONF_NAME_MAX	64	/* longer unknown names get no suggestion */

enum opt_type {
	OT_INT,
	OT_SIZE,
	OT_DURATION,
	OT_BOOL,
	OT_STRING,
	OT_PATH,
	OT_ENUM,
	OT_LISTEN,
	OT_ROUTE,
	OT_EXTSVC,
	OT_COMPONENT,
	OT_COMPONENT_CERT,
};

enum opt_scope {
	OS_GLOBAL,		/* stored in struct conf */
	OS_HOST,		/* stored in struct conf_host */
};

struct parser;

struct opt {
	const char		*name;
	enum opt_type		 type;
	enum opt_scope		 scope;
	bool			 repeat;	/* may appear more than once */
	bool			 required;	/* no default: must be set */
	bool			 restart;	/* a reload does not change it */
	uint64_t		 min, max;	/* numeric types */
	const char		*def;		/* parsed like a value */
	size_t			 off, width;	/* where and how wide */
	bool			 list;		/* off is an array ... */
	size_t			 noff;		/* ... whose length is here */
	int			 arg;		/* OT_LISTEN: listen_kind */
	const char *const	*words;		/* OT_ENUM, NULL-terminated */
	/* extra validation of a string value; -1 after reporting */
	int			(*check)(struct parser *, const struct opt *,
				    const char *);
	const char		*help;
};

struct tok {
	const char	*s;
	bool		 quoted;
};

struct parser {
	struct conf		*c;
	const char		*file;
	int			 line;		/* line being parsed, 0: none */
	int			 nerr;
	int			*set;		/* per option: line first set */
	bool			 inhost;
	int			 hostline;
	int			 nblocks;	/* host blocks seen */
	struct conf_host	*host;		/* open block: in c->hosts or
						   scratch when its name was
						   bad */
	struct conf_host	 scratch;
};

static int	conf_check_priority(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_readable(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_domains(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_domain(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_uris(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_hostport(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_caps(struct parser *, const struct opt *,
		    const char *);
static int	conf_check_processes(struct parser *, const struct opt *,
		    const char *);

/* who may create nodes on a host's pubsub service */
static const char *const pubsub_creators[] = {
	"local", "anyone", "nobody", NULL
};

/* the storage backends (storage/store_conf.c) */
static const char *const storages[] = {
	"lmdb", "postgresql", NULL
};

static const char *const log_levels[] = {
	"err", "warn", "info", "debug", NULL
};

#define GLOBAL(f)	.scope = OS_GLOBAL, .off = offsetof(struct conf, f), \
			.width = sizeof(((struct conf *)0)->f)
#define HOST(f)		.scope = OS_HOST, \
			.off = offsetof(struct conf_host, f), \
			.width = sizeof(((struct conf_host *)0)->f)
/* a repeatable option's array and its length: they move together */
#define GLOBAL_LIST(f, n) GLOBAL(f), .list = true, \
			.noff = offsetof(struct conf, n)
#define HOST_LIST(f, n)	HOST(f), .list = true, \
			.noff = offsetof(struct conf_host, n)

static const struct opt opts[] = {
	{ "workers", OT_INT, GLOBAL(workers),
	  .restart = true, .min = 1, .max = 64,
	  .def = "2", .help = "Number of c2s processes to start" },
	{ "processes", OT_STRING, GLOBAL(processes), .restart = true,
	  .check = conf_check_processes,
	  .help = "The processes this host runs, of router, s2s and c2s "
	      "(separated by commas); unset: router,s2s,c2s, or c2s with "
	      "router-address" },
	{ "user", OT_STRING, GLOBAL(user), .restart = true,
	  .help = "Account the processes run as when started as root (they "
	      "drop root once set up); unset: stay root" },
	{ "group", OT_STRING, GLOBAL(group), .restart = true,
	  .help = "Group the processes run as with user; unset: the user's "
	      "primary group" },
	{ "datadir", OT_PATH, GLOBAL(datadir),
	  .restart = true, .def = "var/data",
	  .help = "Directory of the LMDB environment" },
	{ "rundir", OT_PATH, GLOBAL(rundir), .restart = true, .def = "var/run",
	  .help = "Directory for the sockets and the pid file" },
	{ "log-level", OT_ENUM, GLOBAL(log_level), .words = log_levels,
	  .def = "info", .help = "Least important messages logged" },
	{ "lmdb-mapsize", OT_SIZE, GLOBAL(lmdb_mapsize),
	  .restart = true, .min = MIB,
	  .max = TIB, .def = "1G",
	  .help = "Size of the database map at start" },
	{ "lmdb-mapsize-max", OT_SIZE, GLOBAL(lmdb_mapsize_max),
	  .restart = true, .min = MIB,
	  .max = TIB, .def = "16G",
	  .help = "Largest size the map grows to (doubling at 80 % full); "
	      "past it writes are refused" },
	{ "storage", OT_ENUM, GLOBAL(storage), .words = storages,
	  .restart = true, .def = "lmdb",
	  .help = "Where accounts and their data are kept: lmdb (in datadir) "
	      "or postgresql (the server the postgresql option names)" },
	{ "postgresql", OT_STRING, GLOBAL(pg_conninfo), .restart = true,
	  .help = "libpq connection string of the PostgreSQL database, "
	      "for storage postgresql (\"host=/run/postgresql "
	      "dbname=parley\")" },
	{ "scram-iterations", OT_INT, GLOBAL(scram_iterations), .min = 4096,
	  .max = 1000000, .def = "4096",
	  .help = "PBKDF2 iterations for new SCRAM credentials" },
	{ "c2s-listen", OT_LISTEN, GLOBAL(listens),
	  .restart = true, .repeat = true,
	  .arg = LISTEN_C2S, .def = "127.0.0.1:5222 [::1]:5222",
	  .help = "Client address with STARTTLS (repeatable)" },
	{ "c2s-tls-listen", OT_LISTEN, GLOBAL(listens),
	  .restart = true, .repeat = true,
	  .arg = LISTEN_C2S_TLS, .def = "127.0.0.1:5223 [::1]:5223",
	  .help = "Client address with direct TLS, XEP-0368 (repeatable)" },
	{ "http-listen", OT_LISTEN, GLOBAL(listens), .repeat = true,
	  .arg = LISTEN_HTTP,
	  .help = "Plain HTTP address for WebSocket, BOSH and host-meta "
	      "(repeatable; none by default)" },
	{ "https-listen", OT_LISTEN, GLOBAL(listens), .repeat = true,
	  .arg = LISTEN_HTTPS,
	  .help = "HTTPS address, the hosts' certificates by SNI "
	      "(repeatable; none by default)" },
	{ "http-trusted-proxies", OT_STRING, GLOBAL(http_trusted_proxies),
	  .help = "Numeric addresses, separated by spaces, whose "
	      "X-Forwarded-For is believed and whose clients count as TLS" },
	{ "metrics-allow", OT_STRING, GLOBAL(metrics_allow),
	  .def = "loopback",
	  .help = "Who may read /metrics on the HTTP listeners: numeric "
	      "addresses, loopback or any, separated by spaces" },
	{ "http-origins", OT_STRING, GLOBAL(http_origins), .def = "*",
	  .help = "WebSocket Origin values accepted, separated by spaces; "
	      "* for any" },
	{ "http-max-header-size", OT_SIZE, GLOBAL(http_max_header_size),
	  .min = KIB, .max = MIB, .def = "8K",
	  .help = "Largest HTTP request line and headers (414, 431 past it)" },
	{ "http-max-body-size", OT_SIZE, GLOBAL(http_max_body_size),
	  .min = 4 * KIB, .max = 16 * MIB, .def = "256K",
	  .help = "Largest HTTP request body (413 past it)" },
	{ "http-request-timeout", OT_DURATION, GLOBAL(http_request_timeout),
	  .min = 1, .max = 3600, .def = "10",
	  .help = "Time a client has to send a whole request (408 past it)" },
	{ "http-keepalive-timeout", OT_DURATION,
	  GLOBAL(http_keepalive_timeout), .min = 1, .max = 3600, .def = "30",
	  .help = "Silence on an idle keep-alive HTTP connection before it "
	      "closes" },
	{ "http-static-dir", OT_PATH, GLOBAL(http_static_dir),
	  .restart = true,
	  .help = "Directory served under /chat/ on the HTTP listeners "
	      "(the web client), read into memory at start; none by "
	      "default" },
	{ "http-keepalive-requests", OT_INT, GLOBAL(http_keepalive_requests),
	  .min = 1, .max = 100000, .def = "100",
	  .help = "Requests on one HTTP connection before it closes" },
	{ "websocket-ping-interval", OT_DURATION,
	  GLOBAL(websocket_ping_interval), .min = 1, .max = 3600,
	  .def = "60",
	  .help = "Silence on a WebSocket before a ping; as long again "
	      "without an answer closes it" },
	{ "bosh-max-wait", OT_DURATION, GLOBAL(bosh_max_wait), .min = 1,
	  .max = 3600, .def = "60",
	  .help = "Longest a BOSH request is held (the client's wait is "
	      "capped to it)" },
	{ "bosh-max-inactivity", OT_DURATION, GLOBAL(bosh_max_inactivity),
	  .min = 5, .max = 3600, .def = "60",
	  .help = "Time without a request before a BOSH session ends" },
	{ "c2s-require-tls", OT_BOOL, GLOBAL(c2s_require_tls), .def = "yes",
	  .help = "Refuse authentication before TLS" },
	{ "tls-priority", OT_STRING, GLOBAL(tls_priority),
	  .def = "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA"
	      ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"
	      ":-MAC-ALL:+AEAD:%SERVER_PRECEDENCE",
	  .check = conf_check_priority,
	  .help = "GnuTLS priority string (ciphers, versions)" },
	{ "max-stanza-size", OT_SIZE, GLOBAL(max_stanza_size), .min = 4 * KIB,
	  .max = 16 * MIB, .def = "256K",
	  .help = "Largest stanza a client may send" },
	{ "c2s-max-stanza-size-preauth", OT_SIZE,
	  GLOBAL(c2s_max_stanza_preauth),
	  .restart = true, .min = KIB, .max = 16 * MIB,
	  .def = "10000",
	  .help = "Largest stanza a client may send before it authenticates" },
	{ "s2s-max-per-address", OT_INT, GLOBAL(s2s_max_per_address),
	  .min = 0, .max = 1000000, .def = "100",
	  .help = "Incoming server connections from one address (IPv6: one "
	      "/64); 0: no limit" },
	{ "s2s-max-stanza-size-preauth", OT_SIZE,
	  GLOBAL(s2s_max_stanza_preauth),
	  .restart = true, .min = KIB, .max = 16 * MIB,
	  .def = "10000",
	  .help = "Largest element a server may send before its stream is "
	      "authenticated" },
	{ "preauth-stream-memory", OT_SIZE, GLOBAL(preauth_stream_memory),
	  .restart = true,
	  .min = 4 * KIB, .max = GIB, .def = "64K",
	  .help = "Parser memory (tree and buffers) one unauthenticated "
	      "stream may hold" },
	{ "preauth-memory-max", OT_SIZE, GLOBAL(preauth_memory_max),
	  .restart = true,
	  .min = 0, .max = 64 * GIB, .def = "32M",
	  .help = "Parser memory all unauthenticated streams of one process "
	      "may hold; past it their input is refused; 0: no limit" },
	{ "negotiation-timeout", OT_DURATION, GLOBAL(negotiation_timeout),
	  .min = 1, .max = 3600, .def = "30",
	  .help = "Time a client has to authenticate and bind" },
	{ "idle-timeout", OT_DURATION, GLOBAL(idle_timeout), .min = 1,
	  .max = 86400, .def = "600",
	  .help = "Silence on a client stream before it is closed" },
	{ "auth-retries", OT_INT, GLOBAL(auth_retries), .min = 1, .max = 10,
	  .def = "3", .help = "Failed SASL attempts before the stream closes" },
	{ "c2s-max-sessions", OT_INT, GLOBAL(c2s_max_sessions), .min = 1,
	  .max = 10000000, .def = "100000",
	  .help = "Client streams per c2s process" },
	{ "c2s-max-per-address", OT_INT, GLOBAL(c2s_max_per_address),
	  .min = 0, .max = 1000000, .def = "100",
	  .help = "Client connections from one address (IPv6: one /64) per "
	      "c2s process; 0: no limit" },
	{ "c2s-stanza-rate", OT_INT, GLOBAL(c2s_stanza_rate), .min = 0,
	  .max = 1000000, .def = "50",
	  .help = "Stanzas per second one session may send (bursts of twice "
	      "that); a faster client is read more slowly, nothing is "
	      "dropped; 0: no limit" },
	{ "csi-queue-max", OT_INT, GLOBAL(csi_queue_max), .min = 1,
	  .max = 100000, .def = "256",
	  .help = "Stanzas held back for a client that said it is inactive "
	      "(XEP-0352); at the cap they are all sent" },
	{ "csi-queue-max-bytes", OT_SIZE, GLOBAL(csi_queue_max_bytes),
	  .min = KIB, .max = 4 * MIB, .def = "128K",
	  .help = "Bytes held back for an inactive client; at the cap they "
	      "are all sent" },
	{ "sm-request-stanzas", OT_INT, GLOBAL(sm_request_stanzas),
	  .min = 1, .max = 100000, .def = "5",
	  .help = "Stanzas sent to a stream-managed client (XEP-0198) "
	      "before the server asks it for an ack" },
	{ "fast-token-lifetime", OT_DURATION, GLOBAL(fast_token_lifetime),
	  .min = 1, .max = 31536000, .def = "1209600",
	  .help = "Seconds a FAST token (XEP-0484) is valid; it is rotated "
	      "when used in its last half" },
	{ "sm-request-interval", OT_DURATION, GLOBAL(sm_request_interval),
	  .min = 1, .max = 3600, .def = "30",
	  .help = "Seconds an unacked stanza waits before the server asks "
	      "for an ack, and a request waits for its answer before a "
	      "silent connection is taken for dead" },
	{ "c2s-ping-interval", OT_DURATION, GLOBAL(c2s_ping_interval),
	  .min = 0, .max = 86400, .def = "300",
	  .help = "Silence on a bound client stream before the server pings "
	      "it (XEP-0199, or an XEP-0198 <r/>); 0: never" },
	{ "c2s-ping-timeout", OT_DURATION, GLOBAL(c2s_ping_timeout),
	  .min = 1, .max = 3600, .def = "60",
	  .help = "Time a pinged client has to send anything before its "
	      "connection is taken for dead and closed" },
	{ "c2s-restart-hold", OT_DURATION, GLOBAL(c2s_restart_hold),
	  .min = 1, .max = 3600, .def = "30",
	  .help = "Time a c2s holds what clients send during a planned "
	      "router restart; past it, what is held is refused" },
	{ "restart-backoff-max", OT_DURATION, GLOBAL(restart_backoff_max),
	  .min = 1, .max = 3600, .def = "30",
	  .help = "Longest wait before parleyd restarts a child that died; "
	      "the wait starts at 1 s and doubles at each death" },
	{ "sm-resume-timeout", OT_DURATION, GLOBAL(sm_resume_timeout),
	  .min = 1, .max = 86400, .def = "300",
	  .help = "Seconds a lost stream-managed session waits for its "
	      "client to resume it, when the client asks for no time" },
	{ "sm-resume-max", OT_DURATION, GLOBAL(sm_resume_max),
	  .min = 1, .max = 86400, .def = "900",
	  .help = "The longest wait for resumption a client may ask for" },
	{ "sm-queue-max", OT_INT, GLOBAL(sm_queue_max), .min = 1,
	  .max = 100000, .def = "500",
	  .help = "Stanzas the router keeps for a stream-managed session "
	      "until its client acks them; past it the session ends" },
	{ "sm-queue-max-bytes", OT_SIZE, GLOBAL(sm_queue_max_bytes),
	  .min = KIB, .max = 4 * MIB, .def = "1M",
	  .help = "Bytes of those stanzas; past it the session ends" },
	{ "sm-location", OT_STRING, GLOBAL(sm_location),
	  .check = conf_check_hostport,
	  .help = "HOST[:PORT] this host's clients are told to resume at "
	      "(XEP-0198 location); unset: none, any c2s of any host "
	      "resumes" },
	{ "drain-redirect", OT_STRING, GLOBAL(drain_redirect),
	  .check = conf_check_hostport,
	  .help = "HOST[:PORT] of another host that a drained c2s sends its "
	      "clients to (see-other-host); unset: none" },
	{ "auth-fail-max", OT_INT, GLOBAL(auth_fail_max), .min = 0,
	  .max = 1000000, .def = "20",
	  .help = "Failed logins from one address per 10 minutes before "
	      "further attempts are refused (per c2s process); 0: no limit" },
	{ "max-resources", OT_INT, GLOBAL(max_resources), .min = 1,
	  .max = 10000, .def = "16",
	  .help = "Sessions (resources) one account may have at once" },
	{ "link-queue-max", OT_SIZE, GLOBAL(link_queue_max), .min = MIB,
	  .max = 4 * GIB, .def = "64M",
	  .help = "Output queued on one process link before it is closed" },
	{ "link-listen", OT_LISTEN, GLOBAL(listens), .repeat = true,
	  .arg = LISTEN_LINK,
	  .help = "Router: address where c2s and s2s processes of other "
	      "hosts connect over TLS-PSK (repeatable); unset: none" },
	{ "router-address", OT_LISTEN, GLOBAL(listens), .arg = LISTEN_ROUTER,
	  .help = "The router is on another host: this host's c2s and s2s "
	      "processes connect to its link-listen at this address; unset: "
	      "the router is local" },
	{ "link-psk-file", OT_PATH, GLOBAL(link_psk_file),
	  .check = conf_check_readable,
	  .help = "Keys of the remote links, \"identity:hexkey\" lines "
	      "(psktool's format): the router takes them all, a remote "
	      "host its own" },
	{ "link-psk-identity", OT_STRING, GLOBAL(link_psk_identity),
	  .help = "With router-address: this host's identity in "
	      "link-psk-file" },
	{ "link-cert", OT_PATH, GLOBAL(link_cert),
	  .check = conf_check_readable,
	  .help = "This host's certificate for remote links (PEM, its own "
	      "first): with link-key and link-ca, links use certificates "
	      "instead of, or on the router besides, link-psk-file" },
	{ "link-key", OT_PATH, GLOBAL(link_key),
	  .check = conf_check_readable,
	  .help = "The private key of link-cert (PEM)" },
	{ "link-ca", OT_PATH, GLOBAL(link_ca),
	  .check = conf_check_readable,
	  .help = "The CA certificates (PEM) that sign the links' "
	      "certificates, both ends': a CA of your own, not a public one" },
	{ "link-peers", OT_STRING, GLOBAL(link_peers),
	  .check = conf_check_domains,
	  .help = "Router with link-cert: the names (DNS names of their "
	      "certificates, separated by commas) remote hosts may present" },
	{ "link-router-name", OT_STRING, GLOBAL(link_router_name),
	  .check = conf_check_domain,
	  .help = "With router-address and link-cert: the name the "
	      "router's link certificate must carry" },
	{ "instance-base", OT_INT, GLOBAL(instance_base), .min = 1,
	  .max = 65535 - 64, .def = "1",
	  .help = "Instance of the first c2s worker; hosts sharing a "
	      "router need ranges that do not overlap" },
	{ "roster-max-items", OT_INT, GLOBAL(roster_max_items), .min = 1,
	  .max = 100000, .def = "1000",
	  .help = "Contacts one account may have in its roster" },
	{ "offline-max", OT_INT, GLOBAL(offline_max), .min = 0,
	  .max = 100000, .def = "1000",
	  .help = "Offline messages stored per account (0: none)" },
	{ "offline-max-bytes", OT_SIZE, GLOBAL(offline_max_bytes),
	  .min = KIB, .max = GIB, .def = "16M",
	  .help = "Bytes of offline messages stored per account" },
	{ "subscription-pending-max", OT_INT, GLOBAL(sub_pending_max),
	  .min = 1, .max = 100000, .def = "200",
	  .help = "Subscription requests waiting for an answer, per account" },
	{ "subscription-pending-per-domain", OT_INT,
	  GLOBAL(sub_pending_domain), .min = 1, .max = 100000, .def = "20",
	  .help = "Of those, from one remote domain" },
	{ "subscription-status-max", OT_SIZE, GLOBAL(sub_status_max),
	  .min = 0, .max = 64 * KIB, .def = "1K",
	  .help = "Status text kept with a waiting subscription request" },
	{ "vcard-max-size", OT_SIZE, GLOBAL(vcard_max_size), .min = KIB,
	  .max = MIB, .def = "64K",
	  .help = "Largest vcard-temp profile (XEP-0054) an account stores" },
	{ "private-max-size", OT_SIZE, GLOBAL(private_max_size), .min = KIB,
	  .max = MIB, .def = "64K",
	  .help = "Largest private XML document (XEP-0049) per namespace" },
	{ "private-max-docs", OT_INT, GLOBAL(private_max_docs), .min = 1,
	  .max = 100000, .def = "100",
	  .help = "Private XML documents (XEP-0049) one account may store" },
	{ "private-max-bytes", OT_SIZE, GLOBAL(private_max_bytes),
	  .min = KIB, .max = GIB, .def = "1M",
	  .help = "Bytes of private XML one account may store" },
	{ "block-max-items", OT_INT, GLOBAL(block_max_items), .min = 1,
	  .max = 100000, .def = "1000",
	  .help = "JIDs one account may block (XEP-0191)" },
	{ "pubsub-max-nodes", OT_INT, GLOBAL(pubsub_max_nodes), .min = 1,
	  .max = 100000, .def = "100",
	  .help = "PEP nodes one account (or pubsub nodes a service) may have" },
	{ "pubsub-max-items", OT_INT, GLOBAL(pubsub_max_items), .min = 1,
	  .max = 100000, .def = "256",
	  .help = "Items one node keeps at most (its max_items may be lower)" },
	{ "pubsub-item-max-size", OT_SIZE, GLOBAL(pubsub_item_max_size),
	  .min = KIB, .max = 16 * MIB, .def = "256K",
	  .help = "Largest item (its payload, as XML) a node stores" },
	{ "pubsub-max-subscriptions", OT_INT,
	  GLOBAL(pubsub_max_subscriptions), .min = 1, .max = 100000,
	  .def = "1000",
	  .help = "Explicit subscriptions and affiliations one node keeps" },
	{ "muc-max-occupants", OT_INT, GLOBAL(muc_max_occupants), .min = 1,
	  .max = 100000, .def = "1000",
	  .help = "Occupants one room may hold (its own limit may be lower)" },
	{ "muc-max-rooms", OT_INT, GLOBAL(muc_max_rooms), .min = 1,
	  .max = 1000000, .def = "10000",
	  .help = "Rooms one group chat service may hold" },
	{ "muc-max-rooms-per-user", OT_INT, GLOBAL(muc_max_rooms_per_user),
	  .min = 1, .max = 100000, .def = "50",
	  .help = "Rooms one account may have created on a service" },
	{ "muc-history", OT_INT, GLOBAL(muc_history), .min = 0,
	  .max = 1000, .def = "50",
	  .help = "Messages a room keeps for the history sent on join" },
	{ "muc-rate", OT_INT, GLOBAL(muc_rate), .min = 1, .max = 100000,
	  .def = "50",
	  .help = "Messages one occupant may send to a room per 10 seconds" },
	{ "muc-subject-max-size", OT_SIZE, GLOBAL(muc_subject_max_size),
	  .min = 64, .max = 64 * KIB, .def = "1K",
	  .help = "Longest room subject, in bytes" },
	{ "muc-config-max-size", OT_SIZE, GLOBAL(muc_config_max_size),
	  .min = 64, .max = 64 * KIB, .def = "1K",
	  .help = "Longest text field of a room's configuration form" },
	{ "archive", OT_BOOL, GLOBAL(archive), .def = "yes",
	  .help = "Keep each account's messages in its archive (XEP-0313)" },
	{ "archive-max-age", OT_DURATION, GLOBAL(archive_max_age), .min = 0,
	  .max = 315360000, .def = "0",
	  .help = "Archived messages older than this are removed (0: kept "
	      "until the count or bytes limit)" },
	{ "archive-max-messages", OT_INT, GLOBAL(archive_max_messages),
	  .min = 1, .max = 100000000, .def = "100000",
	  .help = "Messages one account's archive keeps (the oldest go)" },
	{ "archive-max-bytes", OT_SIZE, GLOBAL(archive_max_bytes),
	  .min = KIB, .max = 64 * GIB, .def = "256M",
	  .help = "Bytes one account's archive keeps (the oldest go)" },
	{ "archive-page-max", OT_INT, GLOBAL(archive_page_max), .min = 1,
	  .max = 10000, .def = "100",
	  .help = "Messages one archive query returns at most (a larger "
	      "RSM max is lowered to this)" },
	{ "version-hide", OT_BOOL, GLOBAL(version_hide), .def = "no",
	  .help = "Hide the server version in XEP-0092 answers" },
	{ "register-interval", OT_DURATION, GLOBAL(register_interval),
	  .min = 1, .max = 86400, .def = "60",
	  .help = "In-band registration: one account per address per this" },
	{ "s2s-listen", OT_LISTEN, GLOBAL(listens),
	  .restart = true, .repeat = true,
	  .arg = LISTEN_S2S,
	  .help = "Server-to-server address with STARTTLS (repeatable; none: "
	      "no incoming federation)" },
	{ "s2s-tls-listen", OT_LISTEN, GLOBAL(listens),
	  .restart = true, .repeat = true,
	  .arg = LISTEN_S2S_TLS,
	  .help = "Server-to-server address with direct TLS, XEP-0368 "
	      "(repeatable)" },
	{ "s2s-require-tls", OT_BOOL, GLOBAL(s2s_require_tls), .def = "yes",
	  .help = "Refuse server streams without TLS, both directions" },
	{ "s2s-dialback", OT_BOOL, GLOBAL(s2s_dialback), .def = "yes",
	  .help = "Allow Server Dialback (XEP-0220) when a certificate does "
	      "not verify" },
	{ "s2s-dialback-secret", OT_STRING, GLOBAL(s2s_dialback_secret),
	  .restart = true,
	  .help = "Secret for dialback keys (XEP-0185); unset: random at "
	      "each start" },
	{ "s2s-ca-file", OT_PATH, GLOBAL(s2s_ca_file),
	  .check = conf_check_readable,
	  .help = "PEM CA certificates trusted for peer servers; unset: the "
	      "system store" },
	{ "dns-server", OT_STRING, GLOBAL(dns_server), .restart = true,
	  .help = "DNS server(s) for federation, ADDRESS or ADDRESS:PORT, "
	      "comma-separated; unset: resolv.conf" },
	{ "dns-resolv-conf", OT_PATH, GLOBAL(dns_resolv_conf), .restart = true,
	  .check = conf_check_readable,
	  .help = "resolv.conf to read DNS servers from; unset: "
	      "/etc/resolv.conf" },
	{ "s2s-connect-timeout", OT_DURATION, GLOBAL(s2s_connect_timeout),
	  .min = 1, .max = 600, .def = "10",
	  .help = "Time to resolve, connect and authenticate to a server "
	      "before queued stanzas bounce" },
	{ "s2s-idle-timeout", OT_DURATION, GLOBAL(s2s_idle_timeout),
	  .min = 1, .max = 86400, .def = "600",
	  .help = "Silence on a server stream before it is closed" },
	{ "s2s-queue-max", OT_SIZE, GLOBAL(s2s_queue_max), .min = 4 * KIB,
	  .max = GIB, .def = "1M",
	  .help = "Stanzas queued for a domain while its stream is set up" },
	{ "s2s-route", OT_ROUTE, GLOBAL_LIST(routes, nroutes), .repeat = true,
	  .help = "Static target DOMAIN=HOST:PORT for a remote domain, "
	      "instead of DNS (repeatable)" },
	{ "s2s-allow-private", OT_BOOL, GLOBAL(s2s_allow_private),
	  .def = "no",
	  .help = "Let federation dial loopback, private, link-local and "
	      "other non-public addresses (labs); s2s-route targets always" },
	{ "s2s-dialback-pending", OT_INT, GLOBAL(s2s_dialback_pending),
	  .min = 1, .max = 1000, .def = "8",
	  .help = "Dialback verifications one incoming stream may have "
	      "waiting; past it db:result gets resource-constraint" },
	{ "s2s-dialback-rate", OT_INT, GLOBAL(s2s_dialback_rate), .min = 1,
	  .max = 100000, .def = "30",
	  .help = "Dialback requests (db:result, db:verify) per minute one "
	      "incoming stream may send; past it policy-violation" },
	{ "s2s-out-max", OT_INT, GLOBAL(s2s_out_max), .min = 1,
	  .max = 1000000, .def = "1000",
	  .help = "Outgoing (local, remote) domain pairs at once; a new pair "
	      "past it bounces with resource-constraint" },
	{ "s2s-require-valid-cert", OT_BOOL, GLOBAL(s2s_require_valid_cert),
	  .def = "no",
	  .help = "Federate only with servers whose certificate verifies "
	      "(no dialback fallback)" },
	{ "s2s-require-valid-cert-for", OT_STRING,
	  GLOBAL(s2s_require_valid_cert_for), .check = conf_check_domains,
	  .help = "Comma-separated remote domains held to "
	      "s2s-require-valid-cert yes whatever its value" },
	{ "s2s-allow-dialback-for", OT_STRING, GLOBAL(s2s_allow_dialback_for),
	  .check = conf_check_domains,
	  .help = "Comma-separated remote domains exempt from "
	      "s2s-require-valid-cert (dialback allowed)" },
	{ "presence-directed-max", OT_INT, GLOBAL(presence_directed_max),
	  .min = 1, .max = 100000, .def = "200",
	  .help = "Directed presence recipients one session may have; past "
	      "it the presence is refused with resource-constraint" },
	{ "caps-cache-max", OT_INT, GLOBAL(caps_cache_max), .min = 1,
	  .max = 10000000, .def = "10000",
	  .help = "Entity capabilities (XEP-0115) hashes cached with their "
	      "features; past it the least recently used goes" },
	{ "caps-cache-size", OT_SIZE, GLOBAL(caps_cache_size), .min = 64 * KIB,
	  .max = 4 * GIB, .def = "16M",
	  .help = "Bytes the entity capabilities cache may hold" },
	{ "caps-queries-max", OT_INT, GLOBAL(caps_queries_max), .min = 1,
	  .max = 100000, .def = "100",
	  .help = "Capabilities queries (disco#info) in flight at once; past "
	      "it an unknown hash is not asked about" },
	{ "proxy-listen", OT_LISTEN, GLOBAL(listens), .repeat = true,
	  .arg = LISTEN_PROXY,
	  .help = "Address of the SOCKS5 bytestream proxy (XEP-0065); the "
	      "first is announced (repeatable)" },
	{ "proxy-host", OT_STRING, GLOBAL(proxy_host),
	  .help = "Host name or address clients connect to for the proxy; "
	      "unset: the first proxy-listen's address" },
	{ "proxy-max-bytes", OT_SIZE, GLOBAL(proxy_max_bytes), .min = KIB,
	  .max = TIB, .def = "1G",
	  .help = "Bytes one transfer through the proxy may relay; past it "
	      "both connections close" },
	{ "proxy-rate", OT_SIZE, GLOBAL(proxy_rate), .min = 0, .max = GIB,
	  .def = "10M",
	  .help = "Bytes per second one transfer through the proxy may "
	      "relay (the sender is read more slowly); 0: no limit" },
	{ "proxy-pending-timeout", OT_DURATION,
	  GLOBAL(proxy_pending_timeout), .min = 1, .max = 3600, .def = "60",
	  .help = "Time a proxy connection may wait for its activation" },
	{ "proxy-idle-timeout", OT_DURATION, GLOBAL(proxy_idle_timeout),
	  .min = 1, .max = 86400, .def = "300",
	  .help = "Silence on an active transfer before it is closed" },
	{ "proxy-max-pending", OT_INT, GLOBAL(proxy_max_pending), .min = 1,
	  .max = 1000000, .def = "1000",
	  .help = "Proxy connections waiting for activation at once; past "
	      "it new ones are refused" },
	{ "proxy-max-relays", OT_INT, GLOBAL(proxy_max_relays), .min = 1,
	  .max = 1000000, .def = "1000",
	  .help = "Transfers the proxy relays at once; past it activation "
	      "is refused" },
	{ "caps-query-timeout", OT_DURATION, GLOBAL(caps_query_timeout),
	  .min = 1, .max = 600, .def = "30",
	  .help = "Time a JID has to answer a capabilities query before "
	      "another holder of the hash is asked" },
	{ "component-listen", OT_LISTEN, GLOBAL(listens),
	  .restart = true, .repeat = true,
	  .arg = LISTEN_COMPONENT,
	  .help = "External component address, XEP-0114 (repeatable; keep "
	      "it on loopback: the stream is not encrypted)" },
	{ "component", OT_COMPONENT,
	  GLOBAL_LIST(components, ncomponents), .repeat = true,
	  .help = "An external component DOMAIN=SECRET: the domain it serves "
	      "(and its subdomains) and its handshake secret (repeatable)" },
	{ "component-certificate", OT_COMPONENT_CERT,
	  GLOBAL_LIST(component_certs, ncomponent_certs), .repeat = true,
	  .help = "DOMAIN=CERT,KEY: the certificate a component's domain "
	      "presents to other servers, when no host's names it "
	      "(repeatable)" },
	{ "push-max-devices", OT_INT, GLOBAL(push_max_devices), .min = 1,
	  .max = 100, .def = "5",
	  .help = "Push registrations (XEP-0357) one account keeps; a new "
	      "one past it replaces the oldest" },
	{ "push-form-max-size", OT_SIZE, GLOBAL(push_form_max_size),
	  .min = 256, .max = 64 * KIB, .def = "4K",
	  .help = "Largest publish-options form a push registration stores" },
	{ "push-interval", OT_DURATION, GLOBAL(push_interval), .min = 0,
	  .max = 3600, .def = "10",
	  .help = "Shortest time between two pushes to one device; what "
	      "arrives meanwhile goes in the next one" },
	{ "push-pending-max", OT_INT, GLOBAL(push_pending_max), .min = 1,
	  .max = 1000000, .def = "10000",
	  .help = "Pushes awaiting the app server's answer that the server "
	      "tracks (an error answer disables the registration)" },
	{ "upload-url", OT_STRING, GLOBAL(upload_url),
	  .help = "Base URL of HTTP file upload (XEP-0363) as clients reach "
	      "an http-listen or https-listen, ending in /upload; needed "
	      "when a host has upload yes" },
	{ "upload-dir", OT_PATH, GLOBAL(upload_dir), .restart = true,
	  .def = "var/upload",
	  .help = "Directory the uploaded files are written to (by the c2s "
	      "processes)" },
	{ "upload-max-file-size", OT_SIZE, GLOBAL(upload_max_size),
	  .min = 1, .max = 16 * GIB, .def = "10M",
	  .help = "Largest file a slot is given for (file-too-large past "
	      "it)" },
	{ "upload-quota-daily", OT_SIZE, GLOBAL(upload_quota_daily),
	  .min = 0, .max = TIB, .def = "100M",
	  .help = "Bytes of slots one account gets per UTC day; 0: no "
	      "limit" },
	{ "upload-quota-total", OT_SIZE, GLOBAL(upload_quota_total),
	  .min = 0, .max = TIB, .def = "1G",
	  .help = "Bytes of slots one account holds within upload-expire; "
	      "0: no limit" },
	{ "upload-expire", OT_DURATION, GLOBAL(upload_expire), .min = 1,
	  .max = 365 * 86400, .def = "168h",
	  .help = "Age at which an uploaded file is deleted" },
	{ "upload-slot-lifetime", OT_DURATION, GLOBAL(upload_slot_ttl),
	  .min = 1, .max = 86400, .def = "300",
	  .help = "Time a slot's PUT URL stays valid" },
	{ "invite-sweep-interval", OT_DURATION, GLOBAL(invite_sweep_interval),
	  .min = 1, .max = 86400, .def = "3600",
	  .help = "Time between two sweeps that delete expired invitations "
	      "(XEP-0401, XEP-0379)" },
	{ "certificate", OT_PATH, HOST(cert), .required = true,
	  .check = conf_check_readable,
	  .help = "PEM certificate chain for this domain" },
	{ "key", OT_PATH, HOST(key), .required = true,
	  .check = conf_check_readable,
	  .help = "PEM private key for this domain" },
	{ "register", OT_BOOL, HOST(allow_register), .def = "no",
	  .help = "Allow in-band registration (XEP-0077) on this domain" },
	{ "pubsub", OT_BOOL, HOST(pubsub), .def = "no",
	  .help = "A publish-subscribe service (XEP-0060) for this domain, "
	      "at pubsub-name" },
	{ "pubsub-name", OT_STRING, HOST(pubsub_name),
	  .check = conf_check_domain,
	  .help = "Domain of the pubsub service; unset: pubsub.NAME" },
	{ "pubsub-create", OT_ENUM, HOST(pubsub_create),
	  .words = pubsub_creators, .def = "local",
	  .help = "Who may create nodes on the pubsub service: the domain's "
	      "own accounts, anyone (remote JIDs too) or nobody" },
	{ "extdisco-service", OT_EXTSVC, HOST_LIST(extsvcs, nextsvcs),
	  .repeat = true,
	  .help = "A STUN or TURN server announced to this domain's users "
	      "(XEP-0215), repeatable" },
	{ "turn-secret", OT_STRING, HOST(turn_secret),
	  .help = "Secret shared with the TURN servers (coturn's "
	      "static-auth-secret): turn and turns services get temporary "
	      "credentials and are marked restricted" },
	{ "proxy", OT_BOOL, HOST(proxy), .def = "no",
	  .help = "A SOCKS5 bytestream proxy (XEP-0065) for this domain's "
	      "users at proxy.NAME; needs a proxy-listen" },
	{ "turn-credential-lifetime", OT_DURATION, HOST(turn_ttl), .min = 60,
	  .max = 7 * 86400, .def = "24h",
	  .help = "Time a TURN credential handed out stays valid" },
	{ "push-body", OT_BOOL, HOST(push_body), .def = "no",
	  .help = "Put the message body in push notifications (XEP-0357); "
	      "off: only the count and the sender reach the app server" },
	{ "muc", OT_BOOL, HOST(muc), .def = "no",
	  .help = "A group chat service (XEP-0045) for this domain, "
	      "at muc-name" },
	{ "muc-name", OT_STRING, HOST(muc_name),
	  .check = conf_check_domain,
	  .help = "Domain of the group chat service; unset: conference.NAME" },
	{ "muc-title", OT_STRING, HOST(muc_title),
	  .help = "Name of the group chat service in disco#info" },
	{ "muc-create", OT_ENUM, HOST(muc_create),
	  .words = pubsub_creators, .def = "local",
	  .help = "Who may create rooms: the domain's own accounts, anyone "
	      "(remote JIDs too) or nobody" },
	{ "upload", OT_BOOL, HOST(upload), .def = "no",
	  .help = "HTTP file upload (XEP-0363) for this domain's users at "
	      "upload.NAME; needs upload-url and an HTTP listener" },
	{ "admins", OT_STRING, HOST(admins),
	  .help = "Accounts (bare JIDs, separated by spaces) that are "
	      "admins whatever role parleyctl stored for them" },
	{ "member-can", OT_STRING, HOST(member_can),
	  .def = "create-rooms upload invite", .check = conf_check_caps,
	  .help = "What a member (the role of an account by default) may "
	      "do: create-rooms upload invite register-accounts "
	      "admin-commands, separated by spaces, or none" },
	{ "limited-can", OT_STRING, HOST(limited_can), .def = "none",
	  .check = conf_check_caps,
	  .help = "What a limited account may do, the same words as "
	      "member-can; admins may do everything" },
	{ "upload-quota-limited", OT_SIZE, HOST(upload_quota_limited),
	  .min = 0, .max = TIB, .def = "10M",
	  .help = "Bytes of slots a limited account gets per UTC day when "
	      "limited-can has upload (upload-quota-daily for the others); "
	      "0: no limit" },
	{ "invite-max-uses", OT_INT, HOST(invite_max_uses), .min = 1,
	  .max = 1000000, .def = "10",
	  .help = "Most uses a user's invitation (XEP-0401 ad-hoc command) "
	      "may ask for; one is the default" },
	{ "invite-max-lifetime", OT_DURATION, HOST(invite_max_lifetime),
	  .min = 60, .max = 366 * 86400, .def = "168h",
	  .help = "Longest a user's invitation (XEP-0401 ad-hoc command) "
	      "may last, and what it lasts when it does not say" },
	{ "contact-abuse", OT_STRING, HOST(contact[CONTACT_ABUSE]),
	  .check = conf_check_uris,
	  .help = "Abuse addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
	{ "contact-admin", OT_STRING, HOST(contact[CONTACT_ADMIN]),
	  .check = conf_check_uris,
	  .help = "Admin addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
	{ "contact-feedback", OT_STRING, HOST(contact[CONTACT_FEEDBACK]),
	  .check = conf_check_uris,
	  .help = "Feedback addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
	{ "contact-sales", OT_STRING, HOST(contact[CONTACT_SALES]),
	  .check = conf_check_uris,
	  .help = "Sales addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
	{ "contact-security", OT_STRING, HOST(contact[CONTACT_SECURITY]),
	  .check = conf_check_uris,
	  .help = "Security addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
	{ "contact-support", OT_STRING, HOST(contact[CONTACT_SUPPORT]),
	  .check = conf_check_uris,
	  .help = "Support addresses (XEP-0157): URIs such as "
	      "xmpp:NAME@DOMAIN or mailto:..., separated by spaces" },
};

#define NOPTS	nitems(opts)

static void
conf_err(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conf_err(struct parser *p, int line, const char *fmt, ...)
{
	va_list	ap;

	if (line > 0)
		fprintf(stderr, "%s:%d: ", p->file, line);
	else
		fprintf(stderr, "%s: ", p->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	p->nerr++;
}

static const char *
fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char	 sfx[] = "KMGT";
	int			 i;

	for (i = 3; i >= 0; i--) {
		uint64_t	unit = KIB << (10 * i);

		if (v >= unit && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(v / unit), sfx[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static const char *
fmt_duration(char *buf, size_t len, uint64_t v)
{
	if (v >= 3600 && v % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(v / 3600));
	else if (v >= 60 && v % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(v / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)v);
	return buf;
}

/* what a value of o looks like, for "expected ..." messages */
static const char *
opt_expect(const struct opt *o, char *buf, size_t len)
{
	char	 lo[32], hi[32];
	size_t	 i, n;

	switch (o->type) {
	case OT_INT:
		snprintf(buf, len, "an integer from %llu to %llu",
		    (unsigned long long)o->min, (unsigned long long)o->max);
		break;
	case OT_SIZE:
		snprintf(buf, len, "a size from %s to %s (bytes, or a number "
		    "with a K, M, G or T suffix)",
		    fmt_size(lo, sizeof(lo), o->min),
		    fmt_size(hi, sizeof(hi), o->max));
		break;
	case OT_DURATION:
		snprintf(buf, len, "a duration from %s to %s (seconds, or a "
		    "number with an s, m or h suffix)",
		    fmt_duration(lo, sizeof(lo), o->min),
		    fmt_duration(hi, sizeof(hi), o->max));
		break;
	case OT_BOOL:
		snprintf(buf, len, "yes or no (or true/false, on/off)");
		break;
	case OT_STRING:
		snprintf(buf, len, "a string");
		break;
	case OT_PATH:
		snprintf(buf, len, "a path");
		break;
	case OT_ENUM:
		n = (size_t)snprintf(buf, len, "one of");
		for (i = 0; o->words[i] != NULL && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s %s",
			    i == 0 ? "" : ",", o->words[i]);
		break;
	case OT_LISTEN:
		snprintf(buf, len, "ADDRESS:PORT such as 127.0.0.1:5222, "
		    "[::1]:5222 or *:5222");
		break;
	case OT_ROUTE:
		snprintf(buf, len, "DOMAIN=HOST:PORT such as "
		    "example.org=xmpp.example.org:5269 or "
		    "example.net=[2001:db8::1]:5269");
		break;
	case OT_EXTSVC:
		snprintf(buf, len, "TYPE:HOST[:PORT][?transport=udp|tcp] with "
		    "TYPE stun, stuns, turn or turns, such as "
		    "turn:turn.example.org:3478?transport=udp");
		break;
	case OT_COMPONENT:
		snprintf(buf, len, "DOMAIN=SECRET such as "
		    "gateway.example.org=s3cret");
		break;
	case OT_COMPONENT_CERT:
		snprintf(buf, len, "DOMAIN=CERT,KEY such as "
		    "gateway.example.net=/etc/parley/gw.crt,/etc/parley/gw.key");
		break;
	}
	return buf;
}

static void
conf_bad_value(struct parser *p, const struct opt *o, const char *v)
{
	char	exp[160];

	conf_err(p, p->line, "%s: expected %s, got \"%s\"", o->name,
	    opt_expect(o, exp, sizeof(exp)), log_escs(v));
}

/* decimal digits only; -1 on anything else or overflow */
static int
parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t	n = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

/* a number with an optional one-letter suffix from sfx, scaled by mul */
static int
parse_scaled(const char *s, const char *sfx, const uint64_t *mul,
    uint64_t *v)
{
	size_t		 len = strlen(s);
	const char	*q;
	uint64_t	 n, m = 1;

	if (len > 0 && !isdigit((unsigned char)s[len - 1])) {
		if ((q = strchr(sfx, tolower((unsigned char)s[len - 1]))) ==
		    NULL)
			return -1;
		m = mul[q - sfx];
		len--;
	}
	if (parse_u64(s, len, &n) == -1 || n > UINT64_MAX / m)
		return -1;
	*v = n * m;
	return 0;
}

static void
store_num(void *p, size_t width, uint64_t v)
{
	uint32_t	u32 = (uint32_t)v;
	uint64_t	u64 = v;

	/*
	 * int and uint32_t fields are both 4 bytes; bounds keep every
	 * value below INT_MAX, where the two representations agree.
	 */
	switch (width) {
	case sizeof(uint32_t):
		assert(v <= INT32_MAX);
		memcpy(p, &u32, sizeof(u32));
		break;
	case sizeof(uint64_t):
		memcpy(p, &u64, sizeof(u64));
		break;
	default:
		fatalx("%s: unexpected width %zu", __func__, width);
	}
}

static char **
str_field(void *base, const struct opt *o)
{
	assert(o->width == sizeof(char *));
	return (char **)(void *)((char *)base + o->off);
}

static int
conf_check_priority(struct parser *p, const struct opt *o, const char *v)
{
	gnutls_priority_t	 prio;
	const char		*pos = NULL;
	int			 rc;

	if ((rc = gnutls_priority_init(&prio, v, &pos)) < 0) {
		if (pos != NULL && pos >= v && pos <= v + strlen(v))
			conf_err(p, p->line, "%s: invalid priority string at "
			    "position %zu (\"%s\"): %s (see \"gnutls-cli "
			    "--priority-list\")", o->name, (size_t)(pos - v),
			    log_escs(pos), gnutls_strerror(rc));
		else
			conf_err(p, p->line, "%s: invalid priority string "
			    "\"%s\": %s", o->name, log_escs(v),
			    gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(prio);
	return 0;
}

/*
 * A comma-separated list of domains, each already in its nameprepped form
 * (lowercase), so that the s2s process compares them as they are.
 */
static int
conf_check_domains(struct parser *p, const struct opt *o, const char *v)
{
	char		 one[JID_PART_MAX + 1], prep[JID_PART_MAX + 1];
	const char	*rest = v, *s;
	size_t		 len;
	int		 rc = 0;

	while (list_next(&rest, &s, &len)) {
		if (len == 0 || len > JID_PART_MAX) {
			conf_err(p, p->line, "%s: an empty or overlong domain "
			    "in \"%s\" (write DOMAIN,DOMAIN)", o->name,
			    log_escs(v));
			rc = -1;
			continue;
		}
		memcpy(one, s, len);
		one[len] = '\0';
		if (jid_nameprep(one, prep) == -1 || strcmp(one, prep) != 0) {
			conf_err(p, p->line, "%s: \"%s\" is not a domain in "
			    "its normal form (write it lowercase, as in a "
			    "JID)", o->name, log_esc(one, len));
			rc = -1;
		}
	}
	return rc;
}

/* one domain in its normal form */
static int
conf_check_domain(struct parser *p, const struct opt *o, const char *v)
{
	if (strpbrk(v, ",@/ \t") != NULL) {
		conf_err(p, p->line, "%s: \"%s\" is not one domain name",
		    o->name, log_escs(v));
		return -1;
	}
	return conf_check_domains(p, o, v);
}

/*
 * RFC 6120 4.9.3.19: a domainpart or an IP address, an IPv6 address in
 * brackets, optionally ":port"; what see-other-host and XEP-0198's
 * location carry to a client.
 */
static int
conf_check_hostport(struct parser *p, const struct opt *o, const char *v)
{
	const char	*port;
	char		*end;
	size_t		 n;
	long		 pn;

	if (*v == '[') {
		n = strspn(v + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || v[n + 1] != ']')
			goto bad;
		port = v + n + 2;
	} else {
		n = strspn(v, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
		if (n == 0 || n > JID_PART_MAX || *v == '.' || *v == '-')
			goto bad;
		port = v + n;
	}
	if (*port == '\0')
		return 0;
	if (*port != ':' || port[1] == '\0')
		goto bad;
	errno = 0;
	pn = strtol(port + 1, &end, 10);
	if (*end != '\0' || errno != 0 || pn < 1 || pn > 65535 ||
	    !isdigit((unsigned char)port[1]))
		goto bad;
	return 0;
bad:
	conf_err(p, p->line, "%s: \"%s\" is not HOST or HOST:PORT (such as "
	    "xmpp2.example.org:5222 or [2001:db8::2]:5222)", o->name,
	    log_escs(v));
	return -1;
}

/* words that each start with a URI scheme (RFC 3986 3.1) and a colon */
static int
conf_check_uris(struct parser *p, const struct opt *o, const char *v)
{
	const char	*w = v, *e;
	size_t		 n;

	while (*(w += strspn(w, " ")) != '\0') {
		e = w + strcspn(w, " ");
		n = strspn(w, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
		if (n == 0 || !isalpha((unsigned char)*w) || w + n >= e ||
		    w[n] != ':' || w + n + 1 == e) {
			conf_err(p, p->line, "%s: \"%.*s\" is not a URI "
			    "(xmpp:..., mailto:..., https://...)", o->name,
			    (int)(e - w), w);
			return -1;
		}
		w = e;
	}
	return 0;
}

/* the processes option's words, in the order of CONF_RUN_* */
static const char *const run_names[] = { "router", "s2s", "c2s" };

/*
 * "router,s2s,c2s" and any non-empty subset, each name once: the
 * CONF_RUN_* mask, or 0 with *bad and *badlen the first wrong name.
 */
static unsigned
run_parse(const char *v, const char **bad, size_t *badlen)
{
	const char	*rest = v, *s;
	unsigned	 mask = 0, one;
	size_t		 len, i;

	*bad = v;
	*badlen = 0;		/* nothing at all: an empty name */
	while (list_next(&rest, &s, &len)) {
		for (one = 0, i = 0; i < nitems(run_names); i++)
			if (strlen(run_names[i]) == len &&
			    strncmp(run_names[i], s, len) == 0)
				one = 1u << i;
		if (one == 0 || (mask & one) != 0) {
			*bad = s;
			*badlen = len;
			return 0;
		}
		mask |= one;
	}
	return mask;
}

static int
conf_check_processes(struct parser *p, const struct opt *o, const char *v)
{
	const char	*bad;
	size_t		 len;

	if (run_parse(v, &bad, &len) != 0)
		return 0;
	if (len == 0)
		conf_err(p, p->line, "%s: an empty name in \"%s\" (write "
		    "names of router, s2s and c2s separated by commas)",
		    o->name, log_escs(v));
	else
		conf_err(p, p->line, "%s: \"%s\" is not router, s2s or c2s, "
		    "or is named twice", o->name, log_esc(bad, len));
	return -1;
}

/* member-can, limited-can: the fixed set of common/role.h */
static int
conf_check_caps(struct parser *p, const struct opt *o, const char *v)
{
	const char	*bad;
	size_t		 n;
	uint32_t	 caps;

	if (role_caps_parse(v, &caps, &bad, &n) == 0)
		return 0;
	conf_err(p, p->line, "%s: unknown capability \"%s\" (use %s, "
	    "separated by spaces)", o->name, log_esc(bad, n),
	    role_caps_words());
	return -1;
}

/*
 * Certificates are loaded by processes that may have dropped privileges
 * or changed directory by then: checking now turns a late, remote failure
 * into a line number.
 */
static int
conf_check_readable(struct parser *p, const struct opt *o, const char *v)
{
	struct stat	 st;
	const char	*fix;
	int		 fd;

	if ((fd = open(v, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			fix = "create it with scripts/mkcert.sh DOMAIN CERT "
			    "KEY, or fix the path";
		else if (errno == EACCES)
			fix = "make it readable by the user parleyd runs as";
		else
			fix = "fix the path";
		conf_err(p, p->line, "%s: cannot read \"%s\": %s (%s)",
		    o->name, log_escs(v), strerror(errno), fix);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		conf_err(p, p->line, "%s: \"%s\" is not a regular file "
		    "(give the path of a PEM file)", o->name, log_escs(v));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* "127.0.0.1:5222", "[::1]:5222", "*:5222" (0.0.0.0), "[::]:5222" */
static int
conf_parse_listen(struct parser *p, const struct opt *o, const char *v)
{
	struct conf		*c = p->c;
	struct conf_listen	*l;
	struct addrinfo		 hints, *ai;
	struct in_addr		 in4;
	const char		*colon, *port;
	char			*host;
	uint64_t		 n;
	size_t			 i;
	int			 rc;

	memset(&hints, 0, sizeof(hints));
	if (v[0] == '[') {
		colon = strchr(v, ']');
		if (colon == NULL || colon[1] != ':' ||
		    memchr(v + 1, ':', (size_t)(colon - v - 1)) == NULL)
			goto bad;
		host = xstrndup(v + 1, (size_t)(colon - v - 1));
		port = colon + 2;
		hints.ai_family = AF_INET6;
	} else {
		if ((colon = strrchr(v, ':')) == NULL || colon == v)
			goto bad;
		if (memchr(v, ':', (size_t)(colon - v)) != NULL) {
			conf_err(p, p->line, "%s: IPv6 addresses go in "
			    "brackets, as in [::1]:5222; got \"%s\"", o->name,
			    log_escs(v));
			return -1;
		}
		if (colon - v == 1 && v[0] == '*')
			host = xstrdup("0.0.0.0");
		else
			host = xstrndup(v, (size_t)(colon - v));
		port = colon + 1;
		hints.ai_family = AF_INET;
	}
	if (parse_u64(port, strlen(port), &n) == -1 || n < 1 || n > 65535) {
		conf_err(p, p->line, "%s: expected a port from 1 to 65535 "
		    "after the address, got \"%s\"", o->name, log_escs(v));
		free(host);
		return -1;
	}
	/* glibc would also take inet_aton() shorthands such as "127.1" */
	if (hints.ai_family == AF_INET &&
	    inet_pton(AF_INET, host, &in4) != 1) {
		conf_err(p, p->line, "%s: \"%s\" is not a numeric IPv4 "
		    "address (names are not resolved)", o->name,
		    log_escs(host));
		free(host);
		return -1;
	}
	/* numeric only: the config must not depend on a resolver */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		conf_err(p, p->line, "%s: \"%s\" is not a numeric %s address "
		    "(%s)", o->name, log_escs(host),
		    hints.ai_family == AF_INET ? "IPv4" : "IPv6",
		    gai_strerror(rc));
		free(host);
		return -1;
	}
	if (ai->ai_addrlen > sizeof(l->sa)) {
		freeaddrinfo(ai);
		free(host);
		goto bad;
	}
	for (i = 0; i < c->nlistens; i++) {
		l = &c->listens[i];
		if (l->salen == ai->ai_addrlen &&
		    memcmp(&l->sa, ai->ai_addr, l->salen) == 0) {
			conf_err(p, p->line, "%s: %s is already a listener "
			    "(line %d); remove one", o->name, log_escs(v),
			    l->line);
			freeaddrinfo(ai);
			free(host);
			return -1;
		}
	}
	c->listens = xrealloc(c->listens,
	    (c->nlistens + 1) * sizeof(*c->listens));
	l = &c->listens[c->nlistens++];
	memset(l, 0, sizeof(*l));
	l->kind = (enum listen_kind)o->arg;
	l->addr = host;
	l->port = (uint16_t)n;
	memcpy(&l->sa, ai->ai_addr, ai->ai_addrlen);
	l->salen = ai->ai_addrlen;
	l->line = p->line;
	freeaddrinfo(ai);
	return 0;
bad:
	conf_bad_value(p, o, v);
	return -1;
}

/* v up to end, nameprepped into dom; -1 after reporting */
static int
parse_domain(struct parser *p, const struct opt *o, const char *v,
    const char *end, char *dom)
{
	char	*d;
	int	 rc;

	d = xstrndup(v, (size_t)(end - v));
	if ((rc = jid_nameprep(d, dom)) == -1)
		conf_err(p, p->line, "%s: \"%s\" is not a domain name",
		    o->name, log_escs(d));
	free(d);
	return rc;
}

/* s2s-route DOMAIN=HOST:PORT; HOST is a name, an IPv4 or a [IPv6] address */
static int
conf_parse_route(struct parser *p, const struct opt *o, const char *v)
{
	struct conf		*c = p->c;
	struct conf_route	*r;
	const char		*eq, *hs, *he, *port;
	char			 dom[JID_PART_MAX + 1];
	uint64_t		 n;
	size_t			 i;

	if ((eq = strchr(v, '=')) == NULL || eq == v)
		goto bad;
	if (parse_domain(p, o, v, eq, dom) == -1)
		return -1;
	hs = eq + 1;
	if (*hs == '[') {
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			goto bad;
		port = he + 2;
		hs++;
	} else {
		if ((he = strrchr(hs, ':')) == NULL ||
		    memchr(hs, ':', (size_t)(he - hs)) != NULL)
			goto bad;
		port = he + 1;
	}
	if (he == hs || parse_u64(port, strlen(port), &n) == -1 || n == 0 ||
	    n > 65535)
		goto bad;
	if (conf_host_find(c, dom) != NULL) {
		conf_err(p, p->line, "%s: %s is one of our own hosts; routes "
		    "are for remote domains", o->name, dom);
		return -1;
	}
	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].domain, dom) == 0) {
			conf_err(p, p->line, "%s: %s already has a route (line "
			    "%d); remove one", o->name, dom,
			    c->routes[i].line);
			return -1;
		}
	c->routes = xrealloc(c->routes, (c->nroutes + 1) * sizeof(*r));
	r = &c->routes[c->nroutes++];
	r->domain = xstrdup(dom);
	r->host = xstrndup(hs, (size_t)(he - hs));
	r->port = (uint16_t)n;
	r->line = p->line;
	return 0;
bad:
	conf_bad_value(p, o, v);
	return -1;
}

/*
 * extdisco-service, after the RFC 7064 and RFC 7065 URIs: TYPE:HOST,
 * HOST a name, an IPv4 or a [IPv6] address, then an optional :PORT
 * (3478, or 5349 for the TLS types) and ?transport=udp|tcp
 */
static int
conf_parse_extsvc(struct parser *p, const struct opt *o, const char *v)
{
	static const char *const	 types[] = {
		"stun", "stuns", "turn", "turns", NULL
	};
	struct conf_host		*h = p->host;
	struct conf_extsvc		*e;
	const char			*hs, *he, *q, *port = NULL;
	char				*tr = NULL;
	uint64_t			 n;
	size_t				 i, tl;

	if ((hs = strchr(v, ':')) == NULL)
		goto bad;
	tl = (size_t)(hs - v);
	for (i = 0; types[i] != NULL; i++)
		if (strlen(types[i]) == tl && strncmp(v, types[i], tl) == 0)
			break;
	if (types[i] == NULL)
		goto bad;
	hs++;
	if ((q = strchr(hs, '?')) == NULL)
		q = hs + strlen(hs);
	else if (strcmp(q, "?transport=udp") == 0)
		tr = xstrdup("udp");
	else if (strcmp(q, "?transport=tcp") == 0)
		tr = xstrdup("tcp");
	else
		goto bad;
	if (*hs == '[') {
		if ((he = memchr(hs, ']', (size_t)(q - hs))) == NULL)
			goto badtr;
		hs++;
		if (he + 1 < q) {
			if (he[1] != ':')
				goto badtr;
			port = he + 2;
		}
	} else {
		he = q;
		for (i = 0; hs + i < q; i++)
			if (hs[i] == ':') {
				he = hs + i;
				port = he + 1;
				break;
			}
	}
	/* RFC 7064 3.2, RFC 7065 3.2: default ports */
	n = v[tl - 1] == 's' ? 5349 : 3478;
	if (port != NULL && (parse_u64(port, (size_t)(q - port), &n) == -1 ||
	    n == 0 || n > 65535))
		goto badtr;
	if (he == hs || memchr(hs, '/', (size_t)(he - hs)) != NULL ||
	    memchr(hs, '@', (size_t)(he - hs)) != NULL)
		goto badtr;
	/* RFC 7065 3: TURN over TLS runs on TCP */
	if (tr != NULL && strcmp(tr, "udp") == 0 && v[tl - 1] == 's') {
		conf_err(p, p->line, "%s: %.*s runs over TLS, so not over "
		    "udp (drop ?transport=udp)", o->name, (int)tl, v);
		free(tr);
		return -1;
	}
	h->extsvcs = xrealloc(h->extsvcs, (h->nextsvcs + 1) * sizeof(*e));
	e = &h->extsvcs[h->nextsvcs++];
	e->type = xstrndup(v, tl);
	e->host = xstrndup(hs, (size_t)(he - hs));
	e->port = (uint16_t)n;
	e->transport = tr;
	e->line = p->line;
	return 0;
badtr:
	free(tr);
bad:
	conf_bad_value(p, o, v);
	return -1;
}

/* component DOMAIN=SECRET; the secret runs to the end of the value */
static int
conf_parse_component(struct parser *p, const struct opt *o, const char *v)
{
	struct conf		*c = p->c;
	struct conf_component	*k;
	const char		*eq;
	char			 dom[JID_PART_MAX + 1];
	size_t			 i;

	if ((eq = strchr(v, '=')) == NULL || eq == v || eq[1] == '\0') {
		conf_bad_value(p, o, v);
		return -1;
	}
	if (parse_domain(p, o, v, eq, dom) == -1)
		return -1;
	for (i = 0; i < c->ncomponents; i++)
		if (strcmp(c->components[i].domain, dom) == 0) {
			conf_err(p, p->line, "%s: %s is a component already "
			    "(line %d); remove one", o->name, dom,
			    c->components[i].line);
			return -1;
		}
	c->components = xrealloc(c->components,
	    (c->ncomponents + 1) * sizeof(*k));
	k = &c->components[c->ncomponents++];
	k->domain = xstrdup(dom);
	k->secret = xstrdup(eq + 1);
	k->line = p->line;
	return 0;
}

/*
 * component-certificate DOMAIN=CERT,KEY; the key's path follows the last
 * comma. Whether DOMAIN is a component is checked once the file is read
 * (conf_check_components): the lines may come in any order.
 */
static int
conf_parse_component_cert(struct parser *p, const struct opt *o,
    const char *v)
{
	struct conf			*c = p->c;
	struct conf_component_cert	*k;
	const char			*eq, *comma;
	char				 dom[JID_PART_MAX + 1], *cert;
	size_t				 i;

	if ((eq = strchr(v, '=')) == NULL || eq == v ||
	    (comma = strrchr(eq, ',')) == NULL || comma == eq + 1 ||
	    comma[1] == '\0') {
		conf_bad_value(p, o, v);
		return -1;
	}
	if (parse_domain(p, o, v, eq, dom) == -1)
		return -1;
	for (i = 0; i < c->ncomponent_certs; i++)
		if (strcmp(c->component_certs[i].domain, dom) == 0) {
			conf_err(p, p->line, "%s: %s has a certificate "
			    "already (line %d); remove one", o->name, dom,
			    c->component_certs[i].line);
			return -1;
		}
	cert = xstrndup(eq + 1, (size_t)(comma - eq - 1));
	if (conf_check_readable(p, o, cert) == -1 ||
	    conf_check_readable(p, o, comma + 1) == -1) {
		free(cert);
		return -1;
	}
	c->component_certs = xrealloc(c->component_certs,
	    (c->ncomponent_certs + 1) * sizeof(*k));
	k = &c->component_certs[c->ncomponent_certs++];
	k->domain = xstrdup(dom);
	k->cert = cert;
	k->key = xstrdup(comma + 1);
	k->line = p->line;
	return 0;
}

static int
conf_set(struct parser *p, const struct opt *o, void *base, const char *v)
{
	static const char	 size_sfx[] = "kmgt", dur_sfx[] = "smh";
	static const uint64_t	 size_mul[] = { KIB, MIB, GIB, TIB };
	static const uint64_t	 dur_mul[] = { 1, 60, 3600 };
	void			*field = (char *)base + o->off;
	uint64_t		 n;
	bool			 b;
	size_t			 i;

	switch (o->type) {
	case OT_INT:
	case OT_SIZE:
	case OT_DURATION:
		if (o->type == OT_INT) {
			if (parse_u64(v, strlen(v), &n) == -1)
				goto bad;
		} else if (parse_scaled(v, o->type == OT_SIZE ? size_sfx :
		    dur_sfx, o->type == OT_SIZE ? size_mul : dur_mul,
		    &n) == -1)
			goto bad;
		if (n < o->min || n > o->max)
			goto bad;
		store_num(field, o->width, n);
		return 0;
	case OT_BOOL:
		if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		    strcasecmp(v, "on") == 0)
			b = true;
		else if (strcasecmp(v, "no") == 0 ||
		    strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0)
			b = false;
		else
			goto bad;
		assert(o->width == sizeof(bool));
		memcpy(field, &b, sizeof(b));
		return 0;
	case OT_STRING:
	case OT_PATH:
		if (*v == '\0') {
			conf_err(p, p->line, "%s: expected %s, got an empty "
			    "string", o->name,
			    o->type == OT_PATH ? "a path" : "a string");
			return -1;
		}
		if (o->check != NULL && o->check(p, o, v) == -1)
			return -1;
		free(*str_field(base, o));
		*str_field(base, o) = xstrdup(v);
		return 0;
	case OT_ENUM:
		for (i = 0; o->words[i] != NULL; i++)
			if (strcmp(v, o->words[i]) == 0)
				break;
		if (o->words[i] == NULL)
			goto bad;
		free(*str_field(base, o));
		*str_field(base, o) = xstrdup(o->words[i]);
		return 0;
	case OT_LISTEN:
		return conf_parse_listen(p, o, v);
	case OT_ROUTE:
		return conf_parse_route(p, o, v);
	case OT_EXTSVC:
		return conf_parse_extsvc(p, o, v);
	case OT_COMPONENT:
		return conf_parse_component(p, o, v);
	case OT_COMPONENT_CERT:
		return conf_parse_component_cert(p, o, v);
	}
bad:
	conf_bad_value(p, o, v);
	return -1;
}

static const struct opt *
opt_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* Levenshtein distance, treating '_' as '-' and ignoring case */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	row[CONF_NAME_MAX + 1], i, j, la, lb, prev, tmp, cost;
	int	ca, cb;

	la = strlen(a);
	lb = strlen(b);
	assert(lb <= CONF_NAME_MAX);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			ca = tolower((unsigned char)a[i - 1]);
			cb = tolower((unsigned char)b[j - 1]);
			ca = ca == '_' ? '-' : ca;
			cb = cb == '_' ? '-' : cb;
			cost = ca == cb ? 0 : 1;
			tmp = row[j];
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* "c2s_port" and "c2s-listen" both start with the word "c2s" */
static bool
same_first_word(const char *a, const char *b)
{
	size_t	la, lb;

	la = strcspn(a, "-_");
	lb = strcspn(b, "-_");
	return a[la] != '\0' && b[lb] != '\0' && la == lb &&
	    strncasecmp(a, b, la) == 0;
}

/* is cand a suggestion worth making for name, d edits apart? */
static bool
conf_close(const char *name, const char *cand, size_t d)
{
	size_t	longer = strlen(name) > strlen(cand) ? strlen(name) :
		    strlen(cand);

	/*
	 * Close spelling, or the same first word ("c2s_port" for
	 * "c2s-listen") and at least half of the name in common.
	 */
	return d * 3 <= longer ||
	    (d * 2 <= longer && same_first_word(name, cand));
}

static void
conf_unknown(struct parser *p, const char *name)
{
	const char	*best = NULL, *same = NULL;
	size_t		 i, d, bestd = SIZE_MAX, samed = SIZE_MAX;

	if (strlen(name) <= CONF_NAME_MAX) {
		for (i = 0; i <= NOPTS; i++) {
			const char *cand = i < NOPTS ? opts[i].name : "host";

			d = edit_distance(name, cand);
			if (d < bestd) {
				bestd = d;
				best = cand;
			}
			/* the same first word wins over a closer stranger */
			if (d < samed && same_first_word(name, cand)) {
				samed = d;
				same = cand;
			}
		}
		if (same != NULL && conf_close(name, same, samed))
			best = same;
		else if (!conf_close(name, best, bestd))
			best = NULL;
	}
	if (best != NULL)
		conf_err(p, p->line, "unknown option \"%s\" (did you mean "
		    "\"%s\"?)", log_escs(name), best);
	else
		conf_err(p, p->line, "unknown option \"%s\" (\"parleyd -h "
		    "config\" lists them)", log_escs(name));
}

static void
host_free(struct conf_host *h)
{
	size_t	i;

	free(h->name);
	for (i = 0; i < NOPTS; i++)
		if (opts[i].scope == OS_HOST && (opts[i].type == OT_STRING ||
		    opts[i].type == OT_PATH || opts[i].type == OT_ENUM))
			free(*str_field(h, &opts[i]));
	for (i = 0; i < h->nextsvcs; i++) {
		free(h->extsvcs[i].type);
		free(h->extsvcs[i].host);
		free(h->extsvcs[i].transport);
	}
	free(h->extsvcs);
	free(h->proxy_name);
	free(h->upload_name);
	memset(h, 0, sizeof(*h));
}

static bool
is_brace(const struct tok *t, const char *b)
{
	return !t->quoted && strcmp(t->s, b) == 0;
}

static void
host_open(struct parser *p, const struct tok *t, int n)
{
	struct conf	*c = p->c;
	char		 name[JID_PART_MAX + 1];
	const char	*raw;
	size_t		 i;
	bool		 ok = true;

	if (p->inhost) {
		conf_err(p, p->line, "host blocks cannot be nested (close "
		    "\"%s\" from line %d with \"}\" first)",
		    log_escs(p->host->name), p->hostline);
		return;
	}
	/* the block opens regardless, so its contents are still checked */
	p->inhost = true;
	p->hostline = p->line;
	p->nblocks++;
	for (i = 0; i < NOPTS; i++)
		if (opts[i].scope == OS_HOST)
			p->set[i] = 0;

	if (n < 2 || is_brace(&t[1], "{")) {
		conf_err(p, p->line, "host: missing name (expected: host "
		    "NAME {)");
		raw = "";
		ok = false;
	} else {
		raw = t[1].s;
		if (n < 3 || !is_brace(&t[2], "{"))
			conf_err(p, p->line, "host: expected \"{\" after the "
			    "name, on the same line (host %s {)",
			    log_escs(raw));
		else if (n > 3)
			conf_err(p, p->line, "host: unexpected \"%s\" after "
			    "\"{\" (one directive per line)", log_escs(t[3].s));
		if (*raw == '\0' || strpbrk(raw, "@/") != NULL ||
		    jid_nameprep(raw, name) == -1 || name[0] == '\0') {
			conf_err(p, p->line, "host: \"%s\" is not a valid "
			    "domain name", log_escs(raw));
			ok = false;
		}
	}
	for (i = 0; ok && i < c->nhosts; i++) {
		if (strcmp(c->hosts[i].name, name) == 0) {
			conf_err(p, p->line, "duplicate host \"%s\" (first "
			    "defined on line %d)", name, c->hosts[i].line);
			ok = false;
		}
	}
	if (!ok) {
		p->host = &p->scratch;
		p->host->name = xstrdup(raw);
		p->host->line = p->line;
		return;
	}
	c->hosts = xrealloc(c->hosts, (c->nhosts + 1) * sizeof(*c->hosts));
	p->host = &c->hosts[c->nhosts++];
	memset(p->host, 0, sizeof(*p->host));
	p->host->name = xstrdup(name);
	p->host->line = p->line;
}

/*
 * A service's domain, PREFIX.NAME: NULL when too long, with fix as the
 * remedy the error names ("set a shorter pubsub-name", "turn proxy off")
 */
static char *
host_service_name(struct parser *p, const struct conf_host *h,
    const char *prefix, const char *fix)
{
	char	*name;

	name = xasprintf("%s.%s", prefix, h->name);
	if (strlen(name) > JID_PART_MAX) {
		conf_err(p, p->hostline, "host \"%s\": %s.%s is too long "
		    "for a domain (%s)", log_escs(h->name), prefix,
		    log_escs(h->name), fix);
		free(name);
		return NULL;
	}
	return name;
}

/* the services' domains (pubsub.NAME, conference.NAME unless set) */
static void
host_pubsub_defaults(struct parser *p, struct conf_host *h)
{
	const struct opt	*o = opt_find("pubsub-name");

	h->pubsub_line = p->set[o - opts] != 0 ? p->set[o - opts] :
	    p->hostline;
	if (h->pubsub_create == NULL)
		h->pubsub_create = xstrdup("local");
	if (h->pubsub && h->pubsub_name == NULL)
		h->pubsub_name = host_service_name(p, h, "pubsub",
		    "set a shorter pubsub-name");
	o = opt_find("muc-name");
	h->muc_line = p->set[o - opts] != 0 ? p->set[o - opts] :
	    p->hostline;
	if (h->muc_create == NULL)
		h->muc_create = xstrdup("local");
	if (h->muc_title == NULL)
		h->muc_title = xstrdup("Chatrooms");
	if (h->muc && h->muc_name == NULL)
		h->muc_name = host_service_name(p, h, "conference",
		    "set a shorter muc-name");
}

/* the domain name of h's pubsub (muc false) or group chat service */
static const char *
svc_name(const struct conf_host *h, bool muc)
{
	if (muc)
		return h->muc ? h->muc_name : NULL;
	return h->pubsub ? h->pubsub_name : NULL;
}

static void
conf_check_service(struct parser *p, size_t i, bool muc)
{
	const struct conf	*c = p->c;
	const struct conf_host	*h = &c->hosts[i], *o;
	const char		*name = svc_name(h, muc), *on;
	const char		*opt = muc ? "muc-name" : "pubsub-name";
	int			 line = muc ? h->muc_line : h->pubsub_line;
	size_t			 k;

	if (name == NULL)
		return;
	for (k = 0; k < c->nhosts; k++) {
		o = &c->hosts[k];
		if (strcmp(o->name, name) == 0)
			conf_err(p, line, "%s: \"%s\" is a host (line %d); "
			    "the service needs a domain of its own", opt,
			    name, o->line);
		if ((on = svc_name(o, false)) != NULL && (k < i || muc) &&
		    strcmp(on, name) == 0)
			conf_err(p, line, "%s: \"%s\" is host %s's service "
			    "already (line %d)", opt, name, o->name,
			    o->pubsub_line);
		if ((on = svc_name(o, true)) != NULL && k < i && muc &&
		    strcmp(on, name) == 0)
			conf_err(p, line, "%s: \"%s\" is host %s's service "
			    "already (line %d)", opt, name, o->name,
			    o->muc_line);
	}
	if (conf_route_find(c, name) != NULL)
		conf_err(p, line, "%s: \"%s\" has an s2s-route; a service "
		    "of ours is not remote", opt, name);
}

/*
 * proxy.NAME and upload.NAME come from the host's name: a host, or a
 * pubsub or group chat service named explicitly, may have taken them
 */
static void
conf_check_derived(struct parser *p, const struct conf_host *h,
    const char *name, const char *what)
{
	const struct conf	*c = p->c;

	if (conf_host_find(c, name) != NULL ||
	    conf_pubsub_find(c, name) != NULL ||
	    conf_muc_find(c, name) != NULL)
		conf_err(p, h->line, "host \"%s\": %s is a host or a "
		    "service already; the %s needs a domain of its own",
		    h->name, name, what);
}

/* a host with upload needs the URL the slots point to */
static void
conf_check_upload(struct parser *p)
{
	const struct conf	*c = p->c;
	size_t			 i;

	for (i = 0; i < c->nhosts; i++) {
		if (c->hosts[i].upload_name == NULL)
			continue;
		if (c->upload_url == NULL ||
		    (strncmp(c->upload_url, "http://", 7) != 0 &&
		    strncmp(c->upload_url, "https://", 8) != 0))
			conf_err(p, c->hosts[i].line, "host \"%s\": upload "
			    "yes needs upload-url http(s)://HOST:PORT/upload",
			    c->hosts[i].name);
		conf_check_derived(p, &c->hosts[i], c->hosts[i].upload_name,
		    "upload service");
	}
}

static void
conf_check_proxy(struct parser *p)
{
	const struct conf		*c = p->c;
	const struct conf_host		*h;
	const struct conf_listen	*cl;
	size_t				 i;

	for (i = 0; i < c->nhosts; i++) {
		h = &c->hosts[i];
		if (h->proxy_name == NULL)
			continue;
		if ((cl = conf_listen_find(c, LISTEN_PROXY)) == NULL)
			conf_err(p, h->line, "host \"%s\": proxy yes needs a "
			    "proxy-listen ADDRESS:PORT", h->name);
		/* clients cannot connect to a wildcard address */
		else if (c->proxy_host == NULL &&
		    (strcmp(cl->addr, "0.0.0.0") == 0 ||
		    strcmp(cl->addr, "::") == 0))
			conf_err(p, cl->line, "proxy-listen: %s is no address "
			    "a client can reach; set proxy-host to the "
			    "proxy's public name or address", cl->addr);
		conf_check_derived(p, h, h->proxy_name, "proxy");
	}
}

/*
 * A service's domain is its own: not a host, not another service, not a
 * remote domain routed elsewhere.
 */
static void
conf_check_pubsub(struct parser *p)
{
	size_t	i;

	for (i = 0; i < p->c->nhosts; i++) {
		conf_check_service(p, i, false);
		conf_check_service(p, i, true);
	}
}

/* where an option was set (its last line), 0 when it was not */
static int
conf_line(const struct parser *p, const char *name)
{
	return p->set[opt_find(name) - opts];
}

/* storage postgresql and the postgresql option come together */
static void
conf_check_storage(struct parser *p)
{
	const struct conf	*c = p->c;
	bool			 pg;

	pg = c->storage != NULL && strcmp(c->storage, "postgresql") == 0;
	if (pg && c->pg_conninfo == NULL)
		conf_err(p, conf_line(p, "storage"), "storage postgresql needs "
		    "the database: add postgresql \"CONNINFO\" (libpq's, "
		    "e.g. \"host=/run/postgresql dbname=parley\")");
	else if (!pg && c->pg_conninfo != NULL)
		conf_err(p, conf_line(p, "postgresql"), "postgresql is set but "
		    "storage is lmdb: add storage postgresql to use it, or "
		    "remove the line");
}

/*
 * Remote links (linktls.h): certificates need all three files; the
 * router needs a way in for its link-listen, and the names it takes; a
 * remote host links one way, and with a certificate knows the router's
 * name, since router-address is numeric.
 */
static void
conf_check_links(struct parser *p)
{
	const struct conf		*c = p->c;
	const struct conf_listen	*lsn, *rtr;
	bool				 cert = c->link_cert != NULL;

	if ((c->link_cert == NULL) != (c->link_key == NULL))
		conf_err(p, cert ? conf_line(p, "link-cert") :
		    conf_line(p, "link-key"), "%s needs %s (a certificate "
		    "and its key go together)", cert ? "link-cert" :
		    "link-key", cert ? "link-key PATH" : "link-cert PATH");
	if ((c->link_cert != NULL || c->link_key != NULL) &&
	    c->link_ca == NULL)
		conf_err(p, cert ? conf_line(p, "link-cert") :
		    conf_line(p, "link-key"), "%s needs link-ca PATH (the "
		    "CA that signs the links' certificates)", cert ?
		    "link-cert" : "link-key");
	if (c->link_ca != NULL && !cert)
		conf_err(p, conf_line(p, "link-ca"), "link-ca needs "
		    "link-cert PATH and link-key PATH (this host's "
		    "certificate from that CA)");
	if ((lsn = conf_listen_find(c, LISTEN_LINK)) != NULL) {
		if (c->link_psk_file == NULL && !cert)
			conf_err(p, lsn->line, "link-listen needs "
			    "link-psk-file PATH, or link-cert, link-key and "
			    "link-ca (how remote hosts prove who they are)");
		if (cert && c->link_peers == NULL)
			conf_err(p, conf_line(p, "link-cert"), "link-cert on "
			    "the router (link-listen) needs link-peers "
			    "NAME,... (the names of the remote hosts' "
			    "certificates)");
	}
	if ((rtr = conf_listen_find(c, LISTEN_ROUTER)) == NULL)
		return;
	if (cert && c->link_psk_identity != NULL)
		conf_err(p, conf_line(p, "link-psk-identity"),
		    "link-psk-identity and link-cert are both set, and a "
		    "remote host links one way (remove one)");
	else if (cert && c->link_router_name == NULL)
		conf_err(p, conf_line(p, "link-cert"), "link-cert with "
		    "router-address needs link-router-name NAME (the name in "
		    "the router's link certificate)");
	else if (!cert && (c->link_psk_file == NULL ||
	    c->link_psk_identity == NULL))
		conf_err(p, rtr->line, "router-address needs link-psk-file "
		    "PATH and link-psk-identity NAME, or link-cert, link-key, "
		    "link-ca and link-router-name");
}

/*
 * The processes that run here (processes) and where the router is
 * (router-address) agree: a host runs the router or links to one, and the
 * router's link-listen and the workers' count belong where those run.
 */
static void
conf_check_run(struct parser *p)
{
	struct conf			*c = p->c;
	const struct conf_listen	*rtr, *lsn;
	const char			*bad;
	size_t				 len;
	int				 line = conf_line(p, "processes");

	rtr = conf_listen_find(c, LISTEN_ROUTER);
	if (c->processes == NULL)
		c->run = rtr != NULL ? CONF_RUN_C2S :
		    CONF_RUN_ROUTER | CONF_RUN_S2S | CONF_RUN_C2S;
	else if ((c->run = run_parse(c->processes, &bad, &len)) == 0)
		return;		/* said at its line */
	if ((c->run & CONF_RUN_ROUTER) != 0 && rtr != NULL)
		conf_err(p, line, "processes: router and router-address %s:%u "
		    "exclude each other (a host runs the router or links to "
		    "one): remove router from processes, or router-address",
		    rtr->addr, rtr->port);
	else if ((c->run & CONF_RUN_ROUTER) == 0 && rtr == NULL)
		conf_err(p, line, "processes without router needs "
		    "router-address ADDRESS:PORT (the link-listen of the "
		    "router's host)");
	if ((c->run & CONF_RUN_ROUTER) == 0 &&
	    (lsn = conf_listen_find(c, LISTEN_LINK)) != NULL)
		conf_err(p, lsn->line, "link-listen is the router's, and this "
		    "host runs none (%s): remove link-listen",
		    rtr != NULL ? "it has router-address" : "processes");
	if ((c->run & CONF_RUN_C2S) == 0 && conf_line(p, "workers") != 0)
		conf_err(p, conf_line(p, "workers"), "workers: this host runs "
		    "no c2s (processes %s): remove workers, or add c2s to "
		    "processes", c->processes);
}

/*
 * A component answers for the domains below its own (conf_component_find),
 * to the router and to remote servers alike (federation): a host or a
 * host's service there would be taken from the host.
 */
static void
conf_check_below_component(struct parser *p, const struct conf_host *h)
{
	const struct conf_component	*k;
	const char			*names[5];
	size_t				 i;

	names[0] = h->name;
	names[1] = svc_name(h, false);
	names[2] = svc_name(h, true);
	names[3] = h->proxy_name;
	names[4] = h->upload_name;
	for (i = 0; i < nitems(names); i++)
		if (names[i] != NULL &&
		    (k = conf_component_find(p->c, names[i])) != NULL &&
		    strcmp(k->domain, names[i]) != 0)	/* below */
			conf_err(p, k->line, "component: \"%s\" is below the "
			    "component's domain \"%s\", which would take it "
			    "from host %s; give the component a domain of its "
			    "own", names[i], k->domain, h->name);
}

/* a component's domain is its own too: not a host, service or route */
static void
conf_check_components(struct parser *p)
{
	const struct conf		*c = p->c;
	const struct conf_component	*k;
	size_t				 i;

	for (i = 0; i < c->nhosts && c->ncomponents > 0; i++)
		conf_check_below_component(p, &c->hosts[i]);
	for (i = 0; i < c->ncomponent_certs; i++)
		if (conf_component_find(c, c->component_certs[i].domain) ==
		    NULL)
			conf_err(p, c->component_certs[i].line,
			    "component-certificate: \"%s\" is not a "
			    "component (add a component line for it, or "
			    "remove this one)", c->component_certs[i].domain);
	for (i = 0; i < c->ncomponents; i++) {
		k = &c->components[i];
		if (conf_domain_ours(c, k->domain))
			conf_err(p, k->line, "component: \"%s\" is a host or "
			    "a pubsub service; a component needs a domain of "
			    "its own", k->domain);
		else if (conf_route_find(c, k->domain) != NULL)
			conf_err(p, k->line, "component: \"%s\" has an "
			    "s2s-route; a component is not remote", k->domain);
	}
}

static void
host_close(struct parser *p, int n)
{
	size_t	i;

	if (!p->inhost) {
		conf_err(p, p->line, "\"}\" without an open host block "
		    "(remove it)");
		return;
	}
	if (n > 1)
		conf_err(p, p->line, "unexpected text after \"}\" (one "
		    "directive per line)");
	/* a block whose name was refused has been reported already */
	for (i = 0; p->host != &p->scratch && i < NOPTS; i++)
		if (opts[i].scope == OS_HOST && opts[i].required &&
		    p->set[i] == 0)
			conf_err(p, p->hostline, "host \"%s\" has no %s (add "
			    "\"%s PATH\" to the block)",
			    log_escs(p->host->name), opts[i].name,
			    opts[i].name);
	/* the defaults of the host options the block left out */
	for (i = 0; p->host != &p->scratch && i < NOPTS; i++)
		if (opts[i].scope == OS_HOST && p->set[i] == 0 &&
		    opts[i].def != NULL)
			conf_set(p, &opts[i], p->host, opts[i].def);
	if (p->host != &p->scratch) {
		host_pubsub_defaults(p, p->host);
		/* proxy.NAME needs a proxy-listen to be reachable */
		if (p->host->proxy)
			p->host->proxy_name = host_service_name(p, p->host,
			    "proxy", "turn proxy off");
		if (p->host->upload)
			p->host->upload_name = host_service_name(p, p->host,
			    "upload", "turn upload off");
	}
	if (p->host == &p->scratch)
		host_free(&p->scratch);
	p->host = NULL;
	p->inhost = false;
}

static void
conf_directive(struct parser *p, const struct tok *t, int n)
{
	const struct opt	*o;
	char			 exp[160];
	void			*base;
	size_t			 i;

	if (is_brace(&t[0], "}")) {
		host_close(p, n);
		return;
	}
	if (is_brace(&t[0], "{")) {
		conf_err(p, p->line, "unexpected \"{\" (blocks open on the "
		    "host line: host NAME {)");
		return;
	}
	if (strcmp(t[0].s, "host") == 0) {
		host_open(p, t, n);
		return;
	}
	if ((o = opt_find(t[0].s)) == NULL) {
		conf_unknown(p, t[0].s);
		return;
	}
	i = (size_t)(o - opts);
	if (o->scope == OS_HOST && !p->inhost) {
		conf_err(p, p->line, "%s: only allowed inside a host block "
		    "(host NAME { %s PATH })", o->name, o->name);
		return;
	}
	if (o->scope == OS_GLOBAL && p->inhost) {
		conf_err(p, p->line, "%s: a global option, not a host option "
		    "(move it above \"host %s {\")", o->name,
		    log_escs(p->host->name));
		return;
	}
	if (n < 2) {
		conf_err(p, p->line, "%s: missing value (expected %s)",
		    o->name, opt_expect(o, exp, sizeof(exp)));
		return;
	}
	if (n > 2) {
		conf_err(p, p->line, "%s: unexpected \"%s\" after the value "
		    "(quote values that contain spaces)", o->name,
		    log_escs(t[2].s));
		return;
	}
	if (!o->repeat && p->set[i] != 0) {
		conf_err(p, p->line, "duplicate option \"%s\" (first set on "
		    "line %d)", o->name, p->set[i]);
		return;
	}
	/* marked even when the value is bad, so a repeat is still a dup */
	p->set[i] = p->line;
	base = o->scope == OS_HOST ? (void *)p->host : (void *)p->c;
	conf_set(p, o, base, t[1].s);
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	    ch == '\f' || ch == '\v';
}

/*
 * Splits line (modified in place) into up to max tokens; returns the
 * number of tokens seen (which may exceed max), or -1 after reporting.
 * "{" and "}" outside quotes are tokens of their own.
 */
static int
conf_split(struct parser *p, char *line, struct tok *t, int max)
{
	char	*r = line, *w, *start, ch;
	int	 n = 0;

	for (;;) {
		while (is_space(*r))
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (*r == '{' || *r == '}') {
			if (n < max) {
				t[n].s = *r == '{' ? "{" : "}";
				t[n].quoted = false;
			}
			n++;
			r++;
			continue;
		}
		if (*r == '"') {
			start = w = ++r;
			for (;;) {
				if (*r == '\0') {
					conf_err(p, p->line, "unterminated "
					    "quoted string (add the closing "
					    "\")");
					return -1;
				}
				if (*r == '"')
					break;
				if (*r == '\\' && (r[1] == '"' ||
				    r[1] == '\\')) {
					*w++ = r[1];
					r += 2;
					continue;
				}
				if (*r == '\\' && r[1] != '\0') {
					conf_err(p, p->line, "unknown escape "
					    "\"\\%c\" in quoted string (only "
					    "\\\" and \\\\ are allowed)",
					    isprint((unsigned char)r[1]) ?
					    r[1] : '?');
					return -1;
				}
				*w++ = *r++;
			}
			r++;
			if (*r != '\0' && !is_space(*r) && *r != '#' &&
			    *r != '{' && *r != '}') {
				conf_err(p, p->line, "expected a space after "
				    "the closing quote");
				return -1;
			}
			*w = '\0';	/* w < r: the quote is overwritten */
			if (n < max) {
				t[n].s = start;
				t[n].quoted = true;
			}
			n++;
			continue;
		}
		start = r;
		while (*r != '\0' && !is_space(*r) && *r != '#' &&
		    *r != '{' && *r != '}' && *r != '"')
			r++;
		if (*r == '"') {
			conf_err(p, p->line, "unexpected quote inside a value "
			    "(quote the whole value)");
			return -1;
		}
		ch = *r;
		*r = '\0';
		if (n < max) {
			t[n].s = start;
			t[n].quoted = false;
		}
		n++;
		if (ch == '\0' || ch == '#')
			return n;
		if (ch == '{' || ch == '}') {
			/* the terminator took its place: emit it now */
			if (n < max) {
				t[n].s = ch == '{' ? "{" : "}";
				t[n].quoted = false;
			}
			n++;
		}
		r++;
	}
}

/* defaults for every global option the file left out */
static void
conf_defaults(struct parser *p)
{
	const struct opt	*o;
	char			*list, *s, *save;
	bool			 anylisten = false;
	size_t			 i;

	/* the client listeners' defaults: only when none is set */
	for (i = 0; i < NOPTS; i++)
		if (opts[i].type == OT_LISTEN && p->set[i] != 0 &&
		    (opts[i].arg == LISTEN_C2S || opts[i].arg == LISTEN_C2S_TLS))
			anylisten = true;
	p->line = 0;
	for (i = 0; i < NOPTS; i++) {
		o = &opts[i];
		if (o->scope != OS_GLOBAL || p->set[i] != 0 || o->def == NULL)
			continue;
		if (o->type != OT_LISTEN) {
			conf_set(p, o, p->c, o->def);
			continue;
		}
		/* with no listener at all, the loopback ones of both kinds */
		if (anylisten)
			continue;
		list = xstrdup(o->def);
		for (s = strtok_r(list, " ", &save); s != NULL;
		    s = strtok_r(NULL, " ", &save))
			conf_set(p, o, p->c, s);
		free(list);
	}
}

int
conf_load(struct conf *c, const char *path)
{
	struct parser	 p;
	struct tok	 t[CONF_MAXTOK];
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	int		 n, set[NOPTS];

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	memset(set, 0, sizeof(set));
	p.c = c;
	p.file = path;
	p.set = set;
	if ((fp = fopen(path, "re")) == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", path,
		    strerror(errno));
		return -1;
	}
	c->path = xstrdup(path);
	while ((len = getline(&line, &cap, fp)) != -1) {
		p.line++;
		if (strlen(line) != (size_t)len) {
			conf_err(&p, p.line, "line contains a NUL byte");
			continue;
		}
		if ((n = conf_split(&p, line, t, CONF_MAXTOK)) > 0)
			conf_directive(&p, t, n);
	}
	if (ferror(fp))
		conf_err(&p, 0, "read error: %s", strerror(errno));
	free(line);
	fclose(fp);

	if (p.inhost) {
		conf_err(&p, p.hostline, "host \"%s\": block not closed at the "
		    "end of the file (add \"}\")", log_escs(p.host->name));
		if (p.host == &p.scratch)
			host_free(&p.scratch);
	}
	if (p.nblocks == 0)
		conf_err(&p, 0, "no host configured (add a block: host "
		    "example.org { certificate PATH, key PATH on their own "
		    "lines })");
	conf_check_pubsub(&p);
	conf_check_proxy(&p);
	conf_check_upload(&p);
	conf_check_components(&p);
	conf_check_links(&p);
	conf_check_run(&p);
	conf_check_storage(&p);
	if (p.nerr == 0)
		conf_defaults(&p);
	if (p.nerr > 0) {
		conf_clear(c);
		return -1;
	}
	return 0;
}

void
conf_clear(struct conf *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->path);
	for (i = 0; i < NOPTS; i++)
		if (opts[i].scope == OS_GLOBAL && (opts[i].type == OT_STRING ||
		    opts[i].type == OT_PATH || opts[i].type == OT_ENUM))
			free(*str_field(c, &opts[i]));
	for (i = 0; i < c->nlistens; i++)
		free(c->listens[i].addr);
	free(c->listens);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].domain);
		free(c->routes[i].host);
	}
	free(c->routes);
	for (i = 0; i < c->ncomponents; i++) {
		free(c->components[i].domain);
		explicit_bzero(c->components[i].secret,
		    strlen(c->components[i].secret));
		free(c->components[i].secret);
	}
	free(c->components);
	for (i = 0; i < c->ncomponent_certs; i++) {
		free(c->component_certs[i].domain);
		free(c->component_certs[i].cert);
		free(c->component_certs[i].key);
	}
	free(c->component_certs);
	for (i = 0; i < c->nhosts; i++)
		host_free(&c->hosts[i]);
	free(c->hosts);
	memset(c, 0, sizeof(*c));
}

const struct conf_route *
conf_route_find(const struct conf *c, const char *domain)
{
	size_t	i;

	for (i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].domain, domain) == 0)
			return &c->routes[i];
	return NULL;
}

const struct conf_host *
conf_host_find(const struct conf *c, const char *domain)
{
	size_t	i;

	for (i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].name, domain) == 0)
			return &c->hosts[i];
	return NULL;
}

/* the host whose pubsub (muc false) or group chat service is domain */
static const struct conf_host *
conf_service_find(const struct conf *c, const char *domain, bool muc)
{
	const char	*name;
	size_t		 i;

	for (i = 0; i < c->nhosts; i++)
		if ((name = svc_name(&c->hosts[i], muc)) != NULL &&
		    strcmp(name, domain) == 0)
			return &c->hosts[i];
	return NULL;
}

const struct conf_host *
conf_pubsub_find(const struct conf *c, const char *domain)
{
	return conf_service_find(c, domain, false);
}

const struct conf_host *
conf_muc_find(const struct conf *c, const char *domain)
{
	return conf_service_find(c, domain, true);
}

const struct conf_host *
conf_proxy_find(const struct conf *c, const char *domain)
{
	size_t	i;

	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].proxy_name != NULL &&
		    strcmp(c->hosts[i].proxy_name, domain) == 0)
			return &c->hosts[i];
	return NULL;
}

const struct conf_host *
conf_upload_find(const struct conf *c, const char *domain)
{
	size_t	i;

	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].upload_name != NULL &&
		    strcmp(c->hosts[i].upload_name, domain) == 0)
			return &c->hosts[i];
	return NULL;
}

const struct conf_listen *
conf_listen_find(const struct conf *c, enum listen_kind kind)
{
	size_t	i;

	for (i = 0; i < c->nlistens; i++)
		if (c->listens[i].kind == kind)
			return &c->listens[i];
	return NULL;
}

bool
conf_domain_ours(const struct conf *c, const char *domain)
{
	return conf_host_find(c, domain) != NULL ||
	    conf_pubsub_find(c, domain) != NULL ||
	    conf_proxy_find(c, domain) != NULL ||
	    conf_muc_find(c, domain) != NULL ||
	    conf_upload_find(c, domain) != NULL;
}

/* the listeners of one kind are the same in a and b, in the same order */
static bool
listens_equal(const struct conf *a, const struct conf *b, int kind)
{
	size_t	i = 0, k = 0;

	for (;;) {
		while (i < a->nlistens && (int)a->listens[i].kind != kind)
			i++;
		while (k < b->nlistens && (int)b->listens[k].kind != kind)
			k++;
		if (i == a->nlistens || k == b->nlistens)
			return i == a->nlistens && k == b->nlistens;
		if (a->listens[i].salen != b->listens[k].salen ||
		    memcmp(&a->listens[i].sa, &b->listens[k].sa,
		    a->listens[i].salen) != 0)
			return false;
		i++;
		k++;
	}
}

/* the field of o in a and b holds the same value */
static bool
field_equal(const struct opt *o, void *a, void *b)
{
	const char	*sa, *sb;

	switch (o->type) {
	case OT_STRING:
	case OT_PATH:
	case OT_ENUM:
		sa = *str_field(a, o);
		sb = *str_field(b, o);
		return sa == sb || (sa != NULL && sb != NULL &&
		    strcmp(sa, sb) == 0);
	default:
		return memcmp((char *)a + o->off, (char *)b + o->off,
		    o->width) == 0;
	}
}

/* swaps n bytes (a field: at most a pointer or a u64) */
static void
swap_bytes(void *a, void *b, size_t n)
{
	char	tmp[sizeof(uint64_t) > sizeof(char *) ? sizeof(uint64_t) :
		    sizeof(char *)];

	assert(n <= sizeof(tmp));
	memcpy(tmp, a, n);
	memcpy(a, b, n);
	memcpy(b, tmp, n);
}

static void
field_swap(const struct opt *o, void *a, void *b)
{
	swap_bytes((char *)a + o->off, (char *)b + o->off, o->width);
	if (o->list)
		swap_bytes((char *)a + o->noff, (char *)b + o->noff,
		    sizeof(size_t));
}

/* the same host blocks, by name, in the same order */
static bool
hosts_same(const struct conf *a, const struct conf *b)
{
	size_t	i;

	if (a->nhosts != b->nhosts)
		return false;
	for (i = 0; i < a->nhosts; i++)
		if (strcmp(a->hosts[i].name, b->hosts[i].name) != 0)
			return false;
	return true;
}

void
conf_reload(struct conf *c, struct conf *fresh,
    void (*restart)(const char *, void *), void *arg)
{
	const struct opt	*o;
	size_t			 i, h;

	for (i = 0; i < NOPTS; i++) {
		o = &opts[i];
		if (o->scope != OS_GLOBAL)
			continue;
		if (o->type == OT_LISTEN) {
			/* the sockets are bound once, before privileges go */
			if (!listens_equal(c, fresh, o->arg))
				restart(o->name, arg);
			continue;
		}
		if (field_equal(o, c, fresh))
			continue;
		if (o->restart)
			restart(o->name, arg);
		else
			field_swap(o, c, fresh);
	}
	if (!hosts_same(c, fresh)) {
		/* per-host state (caps, TLS, session ids) follows the list */
		restart("host", arg);
		goto done;
	}
	for (h = 0; h < c->nhosts; h++) {
		for (i = 0; i < NOPTS; i++)
			if (opts[i].scope == OS_HOST &&
			    !field_equal(&opts[i], &c->hosts[h],
			    &fresh->hosts[h]))
				field_swap(&opts[i], &c->hosts[h],
				    &fresh->hosts[h]);
	}
done:
	conf_clear(fresh);
}

const struct conf_component *
conf_component_find(const struct conf *c, const char *domain)
{
	const char	*d;
	size_t		 i;

	/* the domain, then each parent: a.b.gw.example.org -> gw.example.org */
	for (d = domain; d != NULL; d = (d = strchr(d, '.')) ? d + 1 : NULL)
		for (i = 0; i < c->ncomponents; i++)
			if (strcmp(c->components[i].domain, d) == 0)
				return &c->components[i];
	return NULL;
}

const struct conf_component_cert *
conf_component_cert_find(const struct conf *c, const char *domain)
{
	size_t	i;

	for (i = 0; i < c->ncomponent_certs; i++)
		if (strcmp(c->component_certs[i].domain, domain) == 0)
			return &c->component_certs[i];
	return NULL;
}

void
conf_usage(FILE *fp)
{
	static const char *const	 argname[] = {
		[OT_INT] = "INTEGER", [OT_SIZE] = "SIZE",
		[OT_DURATION] = "DURATION", [OT_BOOL] = "yes|no",
		[OT_STRING] = "STRING", [OT_PATH] = "PATH",
		[OT_ENUM] = "WORD", [OT_LISTEN] = "ADDRESS:PORT",
		[OT_ROUTE] = "DOMAIN=HOST:PORT",
		[OT_EXTSVC] = "TYPE:HOST[:PORT]",
		[OT_COMPONENT] = "DOMAIN=SECRET",
		[OT_COMPONENT_CERT] = "DOMAIN=CERT,KEY",
	};
	const struct opt		*o;
	char				 exp[160];
	size_t				 i, j;
	int				 scope;

	fprintf(fp, "Configuration file: one \"name value\" per line, "
	    "# comments, \"quoted values\".\n");
	for (scope = OS_GLOBAL; scope <= OS_HOST; scope++) {
		fprintf(fp, "\n%s\n", scope == OS_GLOBAL ? "Global options:" :
		    "Host options, inside \"host NAME { ... }\" (one block per "
		    "domain, at least one):");
		for (i = 0; i < NOPTS; i++) {
			o = &opts[i];
			if ((int)o->scope != scope)
				continue;
			fprintf(fp, "  %s ", o->name);
			if (o->type == OT_ENUM)
				for (j = 0; o->words[j] != NULL; j++)
					fprintf(fp, "%s%s", j ? "|" : "",
					    o->words[j]);
			else
				fputs(argname[o->type], fp);
			fputc('\n', fp);
			fprintf(fp, "      %s.\n", o->help);
			if (o->type != OT_STRING && o->type != OT_PATH)
				fprintf(fp, "      Expects %s.\n",
				    opt_expect(o, exp, sizeof(exp)));
			if (o->required)
				fprintf(fp, "      Required.\n");
			else if (o->def == NULL)
				fprintf(fp, "      Default: none\n");
			else if (o->type == OT_LISTEN)
				fprintf(fp, "      Default, when no listener "
				    "is set: %s\n", o->def);
			else
				fprintf(fp, "      Default: %s\n", o->def);
		}
	}
}
