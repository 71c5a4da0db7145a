/*
 * HTTP/1.1 connections of the c2s process (RFC 9112): libhttp-parser
 * reads requests, this file enforces the limits (request line, headers,
 * body, time to send a request, requests per connection), picks the
 * handler from routes[] and writes responses. WebSocket takes a
 * connection over after its 101 (http_conn_upgrade).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "../common/log.h"
#include "../common/peer.h"
#include "../common/util.h"
#include "../common/work.h"
#include "c2s.h"
#include "http.h"

/* the path table: a web feature is a handler and a line here */
static const struct http_route routes[] = {
	{ "/.well-known/host-meta", true, hostmeta_handle, NULL, NULL },
	{ "/.well-known/host-meta.json", true, hostmeta_handle, NULL, NULL },
	{ "/xmpp-websocket", true, websocket_handle, NULL, NULL },
	{ "/http-bind", false, bosh_handle, NULL, NULL },
	{ "/upload", false, upload_handle, upload_begin, upload_body },
	{ STATIC_PREFIX, false, static_handle, NULL, NULL },
	{ "/metrics", true, metrics_handle, NULL, NULL },
};

#define HTTP_OUT_MAX	(4u << 20)
/*
 * A file is read this much at a time, on the work pool, one piece ahead
 * of the output: the next read runs while the transport's queue (up to
 * its high mark, HTTP_OUT_MAX / 2) drains to the client
 */
#define HTTP_FILE_PIECE	(256u << 10)

enum hc_state {
	HC_READ,	/* reading a request */
	HC_HANDLER,	/* a complete request at its handler */
	HC_HELD,	/* held by its handler (BOSH) */
	HC_FILE,	/* sending a file's bytes (http_respond_fd) */
	HC_UPGRADED	/* a WebSocket now */
};

/*
 * A file being sent: its reads run on the work pool (no disk I/O on the
 * loop), one piece at a time. While a read is in flight the job owns
 * the fd and the piece; a connection that goes first leaves it to the
 * job's done callback to close and free (hc NULL).
 */
struct http_file {
	struct http_conn	*hc;		/* NULL once it went */
	struct work		*job;		/* the read in flight */
	int			 fd;
	off_t			 off;		/* of the next read */
	size_t			 left;		/* to read */
	char			*piece;		/* HTTP_FILE_PIECE bytes */
	size_t			 have;		/* read, not yet queued */
	ssize_t			 got;		/* the job's read() */
	int			 err;		/* the job's errno */
};

struct http_conn {
	struct transport	 tp;
	http_parser		 parser;
	enum hc_state		 state;
	struct listener		*lst;
	bool			 tls;
	bool			 trusted;	/* in http-trusted-proxies */
	bool			 secure;	/* TLS, trusted or loopback */
	bool			 started;	/* bytes of a request came */
	bool			 complete;	/* its last byte came */
	bool			 keepalive;
	bool			 in_field;	/* the last header callback */
	bool			 in_input;
	int			 status;	/* our verdict on the request
						   being read; 0 if none */
	int			 nreq;
	const struct http_route	*route;		/* the request's, or NULL */
	char			 addr[INET6_ADDRSTRLEN];
	char			 peer[PEER_KEY_MAX];	/* counted under */
	bool			 counted;
	struct buf		 url;
	struct buf		 pending;	/* read past the request */
	bool			 body_paused;	/* http_body_pause */
	struct http_file	*file;		/* HC_FILE: what is sent */
	bool			 file_close;	/* Connection: close after */
	struct http_req		 req;
	void			(*up_input)(void *, const char *, size_t);
	void			(*up_timeout)(void *);
	void			(*up_gone)(void *);
	void			*up_arg;
};

static size_t	http_nconns;

static void	http_event(struct transport *, enum tp_event, const char *,
		    size_t, void *);
static void	http_input(struct http_conn *, const char *, size_t);

const char *
http_status_text(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Error";
	}
}

/* ---- requests --------------------------------------------------------- */

static void
req_clear(struct http_req *r)
{
	free(r->path);
	free(r->query);
	free(r->authority);
	free(r->host);
	r->authority = r->host = NULL;
	if (r->body_free != NULL)
		r->body_free(r->body_arg);
	r->body_free = NULL;
	r->body_arg = NULL;
	buf_clear(&r->headers);
	buf_clear(&r->body);
	buf_clear(&r->extra);
	r->path = r->query = NULL;
	r->gone = NULL;
	r->gone_arg = NULL;
	r->cache_control = NULL;
}

static void
req_init(struct http_conn *hc)
{
	struct http_req	*r = &hc->req;

	memset(r, 0, sizeof(*r));
	r->conn = hc;
	r->client = hc->addr;
	buf_init(&r->headers, c2s.conf.http_max_header_size);
	buf_init(&r->body, c2s.conf.http_max_body_size);
	buf_init(&r->extra, 4096);
	buf_reset(&hc->url);
	hc->status = 0;
	hc->started = hc->complete = false;
	hc->in_field = false;
	hc->route = NULL;
	http_parser_init(&hc->parser, HTTP_REQUEST);
	hc->parser.data = hc;
}

const char *
http_header(const struct http_req *r, const char *name)
{
	const char	*p = buf_rptr(&r->headers);
	const char	*end = p + buf_avail(&r->headers);
	const char	*v;

	while (p < end) {
		v = p + strlen(p) + 1;
		if (v >= end)
			break;
		if (strcmp(p, name) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

void
http_header_add(struct http_req *r, const char *name, const char *value)
{
	(void)buf_printf(&r->extra, "%s: %s\r\n", name, value);
}

void
http_cors(struct http_req *r, const char *methods, const char *headers)
{
	/* XEP-0156 3.2.1, XEP-0363 9: for pages of any origin */
	http_header_add(r, "Access-Control-Allow-Origin", "*");
	http_header_add(r, "Access-Control-Allow-Methods", methods);
	http_header_add(r, "Access-Control-Allow-Headers", headers);
	http_header_add(r, "Access-Control-Max-Age", "86400");
}

void
http_hold(struct http_req *r, void (*gone)(struct http_req *, void *),
    void *arg)
{
	r->gone = gone;
	r->gone_arg = arg;
	if (r->conn != NULL)
		r->conn->state = HC_HELD;
}

static void
http_write(struct http_conn *hc, const char *p, size_t n)
{
	if (tp_write(&hc->tp, p, n) == -1)
		tp_kill(&hc->tp);
}

/* the response's status line and headers for a body of len; close? */
static bool
http_head(struct http_req *r, int status, const char *ctype, size_t len)
{
	struct http_conn	*hc = r->conn;
	struct buf		*b = &c2s.scratch;
	bool			 close;

	close = !hc->keepalive || hc->nreq >= c2s.conf.http_keepalive_requests
	    || (status >= 400 && !hc->complete) || tp_closing(&hc->tp);
	buf_reset(b);
	(void)buf_printf(b, "HTTP/1.1 %d %s\r\n", status,
	    http_status_text(status));
	if (status != 101) {
		(void)buf_printf(b, "Content-Length: %zu\r\n", len);
		if (ctype != NULL)
			(void)buf_printf(b, "Content-Type: %s\r\n", ctype);
		(void)buf_puts(b, close ? "Connection: close\r\n" :
		    "Connection: keep-alive\r\n");
		(void)buf_printf(b, "Cache-Control: %s\r\n",
		    r->cache_control != NULL ? r->cache_control :
		    "no-store");
	}
	(void)buf_append(b, buf_rptr(&r->extra), buf_avail(&r->extra));
	(void)buf_puts(b, "\r\n");
	http_write(hc, buf_rptr(b), buf_avail(b));
	log_debug("%s http %s %s %d", hc->tp.name,
	    http_method_str((enum http_method)r->method),
	    r->path ? r->path : "-", status);
	return close;
}

/* the response went out: the next request, or the end */
static void
http_finish(struct http_conn *hc, bool close)
{
	if (close) {
		hc->state = HC_READ;
		tp_close(&hc->tp);
		return;
	}
	req_init(hc);
	hc->state = HC_READ;
	tp_set_timeout(&hc->tp, c2s.conf.http_keepalive_timeout);
	if (!hc->in_input && buf_avail(&hc->pending) > 0)
		http_input(hc, NULL, 0);
}

void
http_respond(struct http_req *r, int status, const char *ctype,
    const char *body, size_t len)
{
	struct http_conn	*hc = r->conn;
	bool			 close;

	if (r->answer != NULL) {
		/* forwarded: the answer goes back to its worker */
		r->answer(r, status, body, len);
		return;
	}
	close = http_head(r, status, ctype, len);
	if (len > 0 && hc->req.method != HTTP_HEAD)
		http_write(hc, body, len);
	req_clear(r);
	if (status != 101)
		http_finish(hc, close);
}

static void	file_pump(struct http_conn *);

/* on a worker: the next piece */
static void
file_read_run(void *arg)
{
	struct http_file	*f = arg;
	size_t			 n;

	n = f->left < HTTP_FILE_PIECE ? f->left : HTTP_FILE_PIECE;
	do
		f->got = pread(f->fd, f->piece, n, f->off);
	while (f->got == -1 && errno == EINTR);
	f->err = f->got == -1 ? errno : 0;
}

static void
file_free(struct http_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	free(f->piece);
	free(f);
}

static void
file_read_done(void *arg, bool cancelled)
{
	struct http_file	*f = arg;
	struct http_conn	*hc = f->hc;

	f->job = NULL;
	if (hc == NULL) {
		file_free(f);	/* its connection went meanwhile */
		return;
	}
	if (cancelled || f->got <= 0) {
		/* the length went out already: only closing tells */
		if (!cancelled)
			log_warnx("%s http file read: %s", hc->tp.name,
			    f->got == 0 ? "short file" : strerror(f->err));
		f->left = 0;
		hc->file_close = true;
		tp_kill(&hc->tp);
		return;
	}
	f->have = (size_t)f->got;
	f->off += f->got;
	f->left -= (size_t)f->got;
	file_pump(hc);
}

/*
 * Queues the piece read while the output stays under its high mark (the
 * rest on TP_LOW_WATER) and starts the next read at once, so that the
 * disk works while the client reads; a large file is never held whole.
 */
static void
file_pump(struct http_conn *hc)
{
	struct http_file	*f = hc->file;

	if (tp_closing(&hc->tp))
		return;		/* http_conn_free disowns the read */
	if (f->have > 0 && !hc->tp.above_high) {
		http_write(hc, f->piece, f->have);
		f->have = 0;
	}
	if (f->left > 0 && f->have == 0 && f->job == NULL &&
	    !tp_closing(&hc->tp) &&
	    (f->job = work_submit_to(WORK_IO, file_read_run,
	    file_read_done, f)) == NULL) {
		log_warn("%s http file read", hc->tp.name);
		tp_kill(&hc->tp);
		return;
	}
	if (f->left > 0 || f->have > 0 || f->job != NULL) {
		/* a client that stops reading is not waited for forever */
		tp_set_timeout(&hc->tp, c2s.conf.http_request_timeout);
		return;
	}
	hc->file = NULL;
	file_free(f);
	hc->state = HC_READ;
	if (!tp_closing(&hc->tp))
		http_finish(hc, hc->file_close);
}

void
http_respond_fd(struct http_req *r, int status, const char *ctype, int fd,
    off_t off, size_t len)
{
	struct http_conn	*hc = r->conn;
	struct http_file	*f;

	hc->file_close = http_head(r, status, ctype, len);
	f = xcalloc(1, sizeof(*f));
	f->hc = hc;
	f->fd = fd;
	f->off = off;
	f->left = r->method == HTTP_HEAD ? 0 : len;
	if (f->left > 0)
		f->piece = xmalloc(f->left < HTTP_FILE_PIECE ? f->left :
		    HTTP_FILE_PIECE);
	hc->file = f;
	req_clear(r);
	hc->state = HC_FILE;
	file_pump(hc);
}

void
http_body_pause(struct http_req *r)
{
	struct http_conn	*hc = r->conn;

	hc->body_paused = true;
	tp_pause(&hc->tp);
	/* the wait is for our disk, not for the client */
	tp_set_timeout(&hc->tp, 0);
}

void
http_body_resume(struct http_req *r, int status)
{
	struct http_conn	*hc = r->conn;

	if (!hc->body_paused)
		return;
	hc->body_paused = false;
	if (tp_closing(&hc->tp))
		return;
	tp_resume(&hc->tp);
	tp_set_timeout(&hc->tp, c2s.conf.http_request_timeout);
	if (status != 0) {
		log_info("%s http request refused: %d", hc->tp.name, status);
		buf_reset(&hc->pending);
		hc->state = HC_HANDLER;
		http_error(r, status, true);
		return;
	}
	if (!hc->in_input)
		http_input(hc, NULL, 0);
}

void
http_error(struct http_req *r, int status, bool close)
{
	char	body[128];
	int	n;

	if (close && r->conn != NULL)
		r->conn->keepalive = false;
	if (status == 405)
		http_header_add(r, "Allow", "GET, POST, OPTIONS");
	n = snprintf(body, sizeof(body), "%d %s\n", status,
	    http_status_text(status));
	http_respond(r, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* ---- parsing ----------------------------------------------------------- */

static int
hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3986 3.3; a path that reaches files must not escape them */
char *
http_path_decode(const char *p, size_t n)
{
	char	*out, *o, *seg;
	size_t	 i;
	int	 hi, lo, c;

	if (n == 0 || p[0] != '/')
		return NULL;
	o = out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				goto bad;
			if ((hi = hex_val(p[i + 1])) == -1 ||
			    (lo = hex_val(p[i + 2])) == -1)
				goto bad;
			c = hi * 16 + lo;
			/* an encoded separator or NUL */
			if (c == '/' || c == '\\' || c == 0)
				goto bad;
			i += 2;
		} else if (c == '\\')
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	for (seg = out; seg != NULL; seg = strchr(seg + 1, '/')) {
		if (strncmp(seg, "/..", 3) == 0 &&
		    (seg[3] == '/' || seg[3] == '\0'))
			goto bad;
		if (strncmp(seg, "/.", 2) == 0 &&
		    (seg[2] == '/' || seg[2] == '\0'))
			goto bad;
	}
	return out;
bad:
	free(out);
	return NULL;
}

static int
on_message_begin(http_parser *p)
{
	struct http_conn	*hc = p->data;

	hc->started = true;
	tp_set_timeout(&hc->tp, c2s.conf.http_request_timeout);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t n)
{
	struct http_conn	*hc = p->data;

	if (buf_avail(&hc->url) + n > HTTP_URL_MAX) {
		hc->status = 414;
		return -1;
	}
	(void)buf_append(&hc->url, at, n);
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_conn	*hc = p->data;
	struct buf		*h = &hc->req.headers;
	char			*w;
	size_t			 i;

	if (!hc->in_field && buf_avail(h) > 0 && buf_append(h, "", 1) == -1)
		goto full;
	hc->in_field = true;
	if ((w = buf_reserve(h, n)) == NULL)
		goto full;
	for (i = 0; i < n; i++)
		w[i] = (char)tolower((unsigned char)at[i]);
	buf_commit(h, n);
	return 0;
full:
	hc->status = 431;
	return -1;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_conn	*hc = p->data;
	struct buf		*h = &hc->req.headers;

	if (hc->in_field && buf_append(h, "", 1) == -1)
		goto full;
	hc->in_field = false;
	/* a NUL would end the value early and hide the rest */
	if (memchr(at, '\0', n) != NULL) {
		hc->status = 400;
		return -1;
	}
	if (buf_append(h, at, n) == -1)
		goto full;
	return 0;
full:
	hc->status = 431;
	return -1;
}

/* the route of a decoded path, or NULL */
static const struct http_route *
route_find(const char *path)
{
	size_t	i, n;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		n = strlen(routes[i].prefix);
		if (routes[i].exact ? strcmp(path, routes[i].prefix) == 0 :
		    strncmp(path, routes[i].prefix, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || path[n] == '?'))
			return &routes[i];
	}
	return NULL;
}


/*
 * Is tok in the list l? Header lists (RFC 9110 5.6.1) and the option
 * lists (http-trusted-proxies, http-origins) alike: separated by commas,
 * spaces or tabs, compared without case.
 */
bool
http_list_has(const char *l, const char *tok)
{
	size_t	n = strlen(tok), k;

	while (l != NULL && *l != '\0') {
		l += strspn(l, " \t,");
		k = strcspn(l, " \t,");
		if (k == n && strncasecmp(l, tok, n) == 0)
			return true;
		l += k;
	}
	return false;
}

bool
http_loopback(const char *addr)
{
	/* a v4-mapped form comes only from an X-Forwarded-For */
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strncmp(addr, "::ffff:127.", 11) == 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_conn	*hc = p->data;
	struct http_req		*r = &hc->req;
	struct http_parser_url	 u;
	const char		*xff, *host;
	char			*c;
	int			 st;

	if (hc->in_field && buf_avail(&r->headers) > 0) {
		hc->status = 400;	/* a name without a value */
		return -1;
	}
	if (buf_append(&r->headers, "", 1) == -1) {
		hc->status = 431;
		return -1;
	}
	r->method = (int)p->method;
	if (p->http_major != 1) {
		hc->status = 505;
		return -1;
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(buf_rptr(&hc->url), buf_avail(&hc->url),
	    p->method == HTTP_CONNECT, &u) != 0 ||
	    !(u.field_set & (1 << UF_PATH))) {
		hc->status = 400;
		return -1;
	}
	r->path = http_path_decode(buf_rptr(&hc->url) +
	    u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
	if (r->path == NULL) {
		hc->status = 400;
		return -1;
	}
	hc->route = route_find(r->path);
	if (u.field_set & (1 << UF_QUERY))
		r->query = xstrndup(buf_rptr(&hc->url) +
		    u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
	/* RFC 9112 3.2: HTTP/1.1 requests name the host */
	host = http_header(r, "host");
	if (host == NULL && p->http_minor >= 1) {
		hc->status = 400;
		return -1;
	}
	if (host != NULL) {
		/* lowercased, the port cut */
		r->authority = xstrdup(host);
		r->host = xstrdup(host);
		for (c = r->host; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (r->host[0] != '[' && (c = strrchr(r->host, ':')) != NULL)
			*c = '\0';
		/* it goes into URLs (host-meta): a name, an address, a port */
		if (strspn(r->authority, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
		    strlen(r->authority)) {
			hc->status = 400;
			return -1;
		}
	}
	r->secure = hc->secure;
	/* a trusted proxy terminates TLS; the client is its last hop */
	r->https = hc->tls || hc->trusted;
	if (hc->trusted && (xff = http_header(r, "x-forwarded-for")) != NULL) {
		c = strrchr(xff, ',');
		r->client = c != NULL ? c + 1 : xff;
		r->client += strspn(r->client, " ");
	}
	hc->keepalive = http_should_keep_alive(p) != 0;
	if (p->uses_transfer_encoding && !(p->flags & F_CHUNKED)) {
		hc->status = 501;	/* RFC 9112 6.1: a coding we lack */
		return -1;
	}
	if ((p->method == HTTP_POST || p->method == HTTP_PUT) &&
	    !(p->flags & F_CHUNKED) && p->content_length == ULLONG_MAX) {
		hc->status = 411;	/* RFC 9110 15.5.12 */
		return -1;
	}
	if (hc->route != NULL && hc->route->begin != NULL) {
		/* a streaming route takes the body or refuses it */
		if (p->flags & F_CHUNKED)
			st = 411;	/* the length is checked first */
		else
			st = hc->route->begin(r, p->content_length ==
			    ULLONG_MAX ? 0 : p->content_length);
		if (st == 0)
			return 0;
		hc->status = st;
		return -1;
	}
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > c2s.conf.http_max_body_size) {
		hc->status = 413;
		return -1;
	}
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t n)
{
	struct http_conn	*hc = p->data;
	int			 st;

	if (hc->route != NULL && hc->route->body != NULL) {
		/* streamed: the time limit is between pieces now */
		tp_set_timeout(&hc->tp, c2s.conf.http_request_timeout);
		if ((st = hc->route->body(&hc->req, at, n)) != 0) {
			hc->status = st;
			return -1;
		}
		return 0;
	}
	/* the buffer's cap is http-max-body-size */
	if (buf_append(&hc->req.body, at, n) == -1) {
		hc->status = 413;
		return -1;
	}
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct http_conn	*hc = p->data;

	hc->complete = true;
	/* one request at a time: the rest waits for its answer */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* the status for a request the parser refused */
static int
http_parse_status(struct http_conn *hc)
{
	enum http_errno	e = HTTP_PARSER_ERRNO(&hc->parser);

	if (hc->status != 0)
		return hc->status;
	switch (e) {
	case HPE_INVALID_METHOD:
		return 501;
	case HPE_INVALID_TRANSFER_ENCODING:
		return 501;	/* RFC 9112 6.1: a coding we do not know */
	case HPE_HEADER_OVERFLOW:
		return 431;
	default:
		return 400;
	}
}

static void
http_dispatch(struct http_conn *hc)
{
	struct http_req	*r = &hc->req;

	hc->nreq++;
	hc->state = HC_HANDLER;
	tp_set_timeout(&hc->tp, 0);
	/* found when the headers came */
	if (hc->route == NULL) {
		http_error(r, 404, false);
		return;
	}
	hc->route->fn(r);
}

/*
 * Parses what came (after what waited in pending) one request at a
 * time; a request waits at its handler while the rest stays in pending.
 */
static void
http_input(struct http_conn *hc, const char *data, size_t n)
{
	size_t	used;
	int	status;

	if (data != NULL && n > 0 &&
	    buf_append(&hc->pending, data, n) == -1) {
		/* more pipelined than one request may be */
		if (hc->state == HC_READ) {
			hc->status = 431;
			goto refuse;
		}
		tp_kill(&hc->tp);
		return;
	}
	hc->in_input = true;
	while (hc->state == HC_READ && buf_avail(&hc->pending) > 0 &&
	    !hc->body_paused && !tp_closing(&hc->tp)) {
		used = http_parser_execute(&hc->parser, &settings,
		    buf_rptr(&hc->pending), buf_avail(&hc->pending));
		buf_consume(&hc->pending, used);
		if (hc->complete || hc->parser.upgrade) {
			if (hc->parser.upgrade && !hc->complete)
				goto bad;
			http_parser_pause(&hc->parser, 0);
			http_dispatch(hc);
			continue;
		}
		if (HTTP_PARSER_ERRNO(&hc->parser) != HPE_OK)
			goto bad;
	}
	hc->in_input = false;
	if (hc->state == HC_UPGRADED && buf_avail(&hc->pending) > 0) {
		/* frames sent right after the upgrade */
		struct buf	rest = hc->pending;

		buf_init(&hc->pending, 0);
		hc->up_input(hc->up_arg, buf_rptr(&rest), buf_avail(&rest));
		buf_clear(&rest);
	}
	return;
bad:
	hc->in_input = false;
refuse:
	status = http_parse_status(hc);
	log_info("%s http request refused: %d (%s)", hc->tp.name, status,
	    http_errno_name(HTTP_PARSER_ERRNO(&hc->parser)));
	buf_reset(&hc->pending);
	hc->state = HC_HANDLER;
	http_error(&hc->req, status, true);
}

/* ---- connections ------------------------------------------------------- */

static void
http_conn_free(struct http_conn *hc)
{
	req_clear(&hc->req);
	buf_clear(&hc->url);
	buf_clear(&hc->pending);
	if (hc->file != NULL && hc->file->job != NULL) {
		/* its done callback closes and frees */
		hc->file->hc = NULL;
		work_cancel(hc->file->job);
	} else if (hc->file != NULL)
		file_free(hc->file);
	if (hc->counted)
		limits_addr_close(hc->peer);
	http_nconns--;
	free(hc);
}

/* the connection is going: a handler holding its request hears it */
static void
http_conn_lost(struct http_conn *hc)
{
	void	(*gone)(struct http_req *, void *) = hc->req.gone;

	if (hc->state == HC_HELD && gone != NULL) {
		hc->req.gone = NULL;
		hc->state = HC_READ;
		gone(&hc->req, hc->req.gone_arg);
	}
	if (hc->state == HC_UPGRADED && hc->up_gone != NULL) {
		hc->up_gone(hc->up_arg);
		hc->up_gone = NULL;
	}
}

static void
http_timeout(struct http_conn *hc)
{
	if (hc->state == HC_UPGRADED) {
		hc->up_timeout(hc->up_arg);
		return;
	}
	if (hc->state == HC_FILE) {
		log_info("%s http client stopped reading", hc->tp.name);
		tp_kill(&hc->tp);
		return;
	}
	if (hc->state == HC_READ && hc->started) {
		/* RFC 9110 15.5.9: too slow (a slowloris client) */
		log_info("%s http request too slow", hc->tp.name);
		hc->state = HC_HANDLER;
		http_error(&hc->req, 408, true);
		return;
	}
	if (hc->state == HC_READ)
		tp_close(&hc->tp);	/* idle keep-alive */
}

static void
http_event(struct transport *tp, enum tp_event ev, const char *data,
    size_t n, void *arg)
{
	struct http_conn	*hc = arg;

	(void)tp;
	switch (ev) {
	case TP_DATA_IN:
		if (hc->state == HC_UPGRADED)
			hc->up_input(hc->up_arg, data, n);
		else
			http_input(hc, data, n);
		break;
	case TP_TIMEOUT:
		http_timeout(hc);
		break;
	case TP_CLOSED:
	case TP_ERROR:
		http_conn_lost(hc);
		break;
	case TP_TLS_DONE:
		break;
	case TP_GONE:
		http_conn_lost(hc);
		http_conn_free(hc);
		break;
	case TP_LOW_WATER:
		if (hc->state == HC_FILE)
			file_pump(hc);
		break;
	case TP_CONNECTED:
		break;
	}
}

struct transport *
http_conn_transport(struct http_conn *hc)
{
	return &hc->tp;
}

void
http_conn_upgrade(struct http_conn *hc,
    void (*input)(void *, const char *, size_t), void (*timeout)(void *),
    void (*gone)(void *), void *arg)
{
	hc->state = HC_UPGRADED;
	/* the WebSocket's stream counts for the address from now on */
	if (hc->counted)
		limits_addr_close(hc->peer);
	hc->counted = false;
	hc->up_input = input;
	hc->up_timeout = timeout;
	hc->up_gone = gone;
	hc->up_arg = arg;
}

static void
http_peer_addr(int fd, char *out, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	struct in_addr		 v4;

	snprintf(out, len, "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    out, (socklen_t)len);
	else if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
		inet_ntop(AF_INET, &v4, out, (socklen_t)len);
	} else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)len);
}

struct http_conn *
http_accept(struct listener *lst, int fd)
{
	struct http_conn	*hc;
	static uint64_t		 next;

	if (http_nconns >= c2s.conf.c2s_max_sessions) {
		log_warnx("c2s-max-sessions (%zu) HTTP connections, refusing",
		    c2s.conf.c2s_max_sessions);
		close(fd);
		return NULL;
	}
	hc = xcalloc(1, sizeof(*hc));
	http_nconns++;
	hc->lst = lst;
	hc->tls = lst->cl->kind == LISTEN_HTTPS;
	http_peer_addr(fd, hc->addr, sizeof(hc->addr));
	/* the address and the options stay: decided once per connection */
	hc->trusted = http_list_has(c2s.conf.http_trusted_proxies, hc->addr);
	hc->secure = hc->tls || hc->trusted || http_loopback(hc->addr);
	peer_key(fd, hc->peer, sizeof(hc->peer));
	tp_init(&hc->tp, HTTP_OUT_MAX, http_event, hc);
	tp_set_name(&hc->tp, "http-%llx", (unsigned long long)++next);
	buf_init(&hc->url, HTTP_URL_MAX);
	buf_init(&hc->pending, c2s.conf.http_max_header_size +
	    c2s.conf.http_max_body_size);
	req_init(hc);
	tp_open(&hc->tp, fd);
	tp_set_timeout(&hc->tp, c2s.conf.http_request_timeout);
	/*
	 * c2s-max-per-address counts HTTP connections too, but not a
	 * trusted proxy's: its clients are counted by their streams
	 */
	if (!hc->trusted &&
	    !(hc->counted = limits_addr_open(hc->peer))) {
		if (hc->tls)
			tp_kill(&hc->tp);	/* no TLS: no way to say */
		else {
			hc->state = HC_HANDLER;
			hc->keepalive = false;
			http_error(&hc->req, 503, true);
		}
		return hc;
	}
	if (hc->tls)
		tp_start_tls(&hc->tp, tls_server_new(&c2s.tls, fd));
	log_debug("%s accepted from %s on %s port %u", hc->tp.name, hc->addr,
	    lst->cl->addr, lst->cl->port);
	return hc;
}
