/*
 * Connection discovery (XEP-0156): /.well-known/host-meta (XRD) and
 * host-meta.json for each of our hosts, naming the WebSocket and BOSH
 * endpoints of the listener the page came through, readable from any
 * origin (CORS).
 */
#include <string.h>

#include <http_parser.h>

#include "../common/jid.h"
#include "../common/xml.h"
#include "c2s.h"
#include "http.h"

#define NS_XRD		"http://docs.oasis-open.org/ns/xri/xrd-1.0"
#define REL_WS		"urn:xmpp:alt-connections:websocket"
#define REL_BOSH	"urn:xmpp:alt-connections:xbosh"

void
hostmeta_handle(struct http_req *r)
{
	struct buf	 b;
	char		 dom[JID_PART_MAX + 1];
	const char	*ws, *http, *auth;
	bool		 json;

	if (r->method == HTTP_OPTIONS) {
		http_cors(r, "GET, POST, OPTIONS", "Content-Type");
		http_respond(r, 204, NULL, NULL, 0);
		return;
	}
	if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
		http_error(r, 405, false);
		return;
	}
	/* per host: a name we do not serve has no connection methods */
	if (r->host == NULL || jid_nameprep(r->host, dom) == -1 ||
	    conf_host_find(&c2s.conf, dom) == NULL) {
		http_error(r, 404, false);
		return;
	}
	json = strcmp(r->path, "/.well-known/host-meta.json") == 0;
	ws = r->https ? "wss://" : "ws://";
	http = r->https ? "https://" : "http://";
	auth = r->authority;
	buf_init(&b, 8192);
	if (json) {
		/* RFC 6415 appendix A: JRD */
		buf_printf(&b, "{\"links\":[{\"rel\":\"" REL_WS "\","
		    "\"href\":\"%s%s/xmpp-websocket\"},{\"rel\":\"" REL_BOSH
		    "\",\"href\":\"%s%s/http-bind\"}]}", ws, auth, http, auth);
	} else {
		buf_printf(&b, "<?xml version='1.0' encoding='utf-8'?>\n"
		    "<XRD xmlns='" NS_XRD "'>\n<Link rel='" REL_WS
		    "' href='%s", ws);
		xml_escape(&b, auth, strlen(auth));
		buf_printf(&b, "/xmpp-websocket'/>\n<Link rel='" REL_BOSH
		    "' href='%s", http);
		xml_escape(&b, auth, strlen(auth));
		buf_puts(&b, "/http-bind'/>\n</XRD>\n");
	}
	http_cors(r, "GET, POST, OPTIONS", "Content-Type");
	http_respond(r, 200, json ? "application/json" :
	    "application/xrd+xml; charset=utf-8", buf_rptr(&b),
	    buf_avail(&b));
	buf_clear(&b);
}
