/*
 * The HTTP/1.1 server of the c2s process (http.c): connections, request
 * parsing (libhttp-parser), limits, keep-alive, and a table of path
 * prefixes to handlers. A web feature is a handler and a line of that
 * table (http.c, routes[]): docs/internals.md, "Web transports".
 */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/buf.h"

#define HTTP_URL_MAX	2048	/* request target; 414 past it */
#define STATIC_PREFIX	"/chat"	/* the web client (static.c) */

struct http_conn;

/* one request; valid until it is answered (http_respond) */
struct http_req {
	struct http_conn	*conn;
	int			 method;	/* enum http_method */
	char			*path;		/* %-decoded, checked */
	char			*query;		/* as sent; NULL if none */
	char			*host;		/* Host without the port,
						   lowercase; NULL if none */
	const char		*client;	/* the client's address (after
						   a trusted X-Forwarded-For) */
	bool			 secure;	/* TLS, a trusted proxy or
						   loopback: SASL PLAIN is
						   allowed */
	bool			 https;		/* TLS here or at the proxy */
	char			*authority;	/* Host as sent; NULL if none */
	struct buf		 headers;	/* name\0value\0..., names
						   lowercased */
	struct buf		 body;
	struct buf		 extra;		/* response headers added by
						   http_header_add */
	const char		*cache_control;	/* NULL: no-store */
	/* a streamed body's state (http_route.begin); freed with body_free */
	void			*body_arg;
	void			(*body_free)(void *);
	/* held by its handler (http_hold): told if the connection goes */
	void			(*gone)(struct http_req *, void *);
	void			*gone_arg;
	/*
	 * A BOSH request another worker forwarded (boshfwd.c): conn is
	 * NULL, and http_respond hands the answer to this instead
	 */
	void			(*answer)(struct http_req *, int status,
				    const char *body, size_t len);
};

/*
 * A handler answers now (http_respond) or later (http_hold, then
 * http_respond). A buffered body is at most http-max-body-size.
 *
 * A route with begin streams its bodies instead of buffering them: begin
 * runs once the headers are in (the body's length known) and returns 0
 * to take the body, or the HTTP status that refuses it; body then gets
 * each piece as it arrives (0, or a status that ends the request), and
 * fn runs when the last one came. A large upload is never held whole.
 */
typedef void	http_handler(struct http_req *);
typedef int	http_begin_fn(struct http_req *, unsigned long long length);
typedef int	http_body_fn(struct http_req *, const char *, size_t);
struct http_route {
	const char	*prefix;	/* matched on the decoded path */
	bool		 exact;		/* the whole path, not a prefix */
	http_handler	*fn;
	http_begin_fn	*begin;		/* NULL: the body is buffered */
	http_body_fn	*body;
};

/* a request header (name lowercase), NULL if absent; borrows */
const char *http_header(const struct http_req *, const char *name);
/* adds "name: value" to the response */
void	http_header_add(struct http_req *, const char *name,
	    const char *value);
/* answers; ctype NULL for no body (len 0). The request is gone after. */
void	http_respond(struct http_req *, int status, const char *ctype,
	    const char *body, size_t len);
/*
 * Answers with len bytes of fd from off, read on the work pool and sent
 * as the client reads them (never held whole); fd is the connection's
 * now, closed after.
 */
void	http_respond_fd(struct http_req *, int status, const char *ctype,
	    int fd, off_t off, size_t len);
/*
 * A streaming route's body waits (its handler's disk is busy): from a
 * body callback, no more of the body is parsed or read from the socket
 * until http_body_resume; that goes on parsing (status 0) or refuses the
 * request with status and closes. Memory stays bounded by what was read.
 */
void	http_body_pause(struct http_req *);
void	http_body_resume(struct http_req *, int status);
/* an error page for status, with Connection: close if close */
void	http_error(struct http_req *, int status, bool close);
/* the answer comes later; gone(req, arg) if the connection dies first */
void	http_hold(struct http_req *, void (*gone)(struct http_req *, void *),
	    void *arg);
/* is addr (numeric) a loopback address? */
bool	http_loopback(const char *addr);
/* is tok in the list l (commas, spaces, tabs; no case)? l may be NULL */
bool	http_list_has(const char *l, const char *tok);
/*
 * CORS headers for a resource any web page may use (XEP-0156, XEP-0363):
 * the methods and request headers it may send
 */
void	http_cors(struct http_req *, const char *methods,
	    const char *headers);
const char *http_status_text(int status);
/*
 * The %-decoded path (returns new), or NULL when it could name something
 * else than it seems: dot segments, encoded separators, NUL.
 */
char	*http_path_decode(const char *, size_t);
/* a connection accepted on an http-listen or https-listen listener */
struct listener;
struct http_conn *http_accept(struct listener *, int fd);

/* hands the connection to WebSocket after a 101 (websocket.c) */
struct transport *http_conn_transport(struct http_conn *);
void	http_conn_upgrade(struct http_conn *,
	    void (*input)(void *, const char *, size_t),
	    void (*timeout)(void *), void (*gone)(void *), void *arg);

/* handlers (one file each) */
void	hostmeta_handle(struct http_req *);
void	websocket_handle(struct http_req *);
void	bosh_handle(struct http_req *);
/*
 * bosh.c, for boshfwd.c: a request another worker forwarded (body
 * borrowed), handled as a local one; the answers
 */
void	bosh_forwarded(struct http_req *, const char *body, size_t len);
void	bosh_reply(struct http_req *, const char *body, size_t len);
/* a terminal binding condition (XEP-0124 17.2) */
void	bosh_fail(struct http_req *, const char *condition);
/*
 * boshfwd.c: a request for a session of worker owner (instance) goes
 * there through the router; the answer comes back to r
 */
void	boshfwd_send(struct http_req *r, uint32_t owner, const char *sid,
	    const char *body, size_t len);
void	upload_handle(struct http_req *);
int	upload_begin(struct http_req *, unsigned long long);
int	upload_body(struct http_req *, const char *, size_t);
/* upload.c: the directory and its expiry sweep (c2s/main.c) */
void	upload_init(void);

void	static_handle(struct http_req *);

/* static.c: reads http-static-dir into memory, before privileges drop */
int	static_load(void);

void	metrics_handle(struct http_req *);

#endif
