/*
 * /metrics on the HTTP listeners: the router keeps the numbers, so the
 * request is held (http_hold) while the router is asked over our link
 * (LINK_METRICS_GET) and answered when its text comes (LINK_METRICS).
 * Only the addresses of metrics-allow may read it (403 for others).
 */
#include <string.h>

#include <http_parser.h>

#include "../common/link.h"
#include "../common/log.h"
#include "c2s.h"
#include "http.h"

/* requests waiting for the router; more get 503 */
#define METRICS_PENDING_MAX	16

#define CTYPE_OM	"application/openmetrics-text; version=1.0.0; " \
			"charset=utf-8"
#define CTYPE_TEXT	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_wait {
	struct http_req	*r;		/* NULL: a free slot */
	uint32_t	 id;
	bool		 om;
};

static struct metrics_wait	metrics_waits[METRICS_PENDING_MAX];
static uint32_t			metrics_next_id;

/* is addr one of metrics-allow's words ("loopback", "any", addresses)? */
static bool
metrics_allowed(const char *addr)
{
	const char	*l = c2s.conf.metrics_allow;

	return http_list_has(l, "any") || http_list_has(l, addr) ||
	    (http_list_has(l, "loopback") && http_loopback(addr));
}

static void
metrics_gone(struct http_req *r, void *arg)
{
	struct metrics_wait	*w = arg;

	(void)r;
	w->r = NULL;
}

void
metrics_handle(struct http_req *r)
{
	struct metrics_wait	*w = NULL;
	struct link_out		 m;
	const char		*accept;
	size_t			 i;

	if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
		http_error(r, 405, false);
		return;
	}
	if (!metrics_allowed(r->client)) {
		log_info("http: /metrics refused to %s", log_escs(r->client));
		http_error(r, 403, false);
		return;
	}
	for (i = 0; i < METRICS_PENDING_MAX && w == NULL; i++)
		if (metrics_waits[i].r == NULL)
			w = &metrics_waits[i];
	if (c2s.up == NULL || w == NULL) {
		http_error(r, 503, false);
		return;
	}
	/* OpenMetrics when asked for (Prometheus does), else text 0.0.4 */
	accept = http_header(r, "accept");
	w->om = accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL;
	if (++metrics_next_id == 0)
		metrics_next_id = 1;
	w->id = metrics_next_id;
	w->r = r;
	http_hold(r, metrics_gone, w);
	link_begin(&m, c2s.up, LINK_METRICS_GET, 0);
	link_put_u32(&m, w->id);
	link_put_u32(&m, w->om ? LINK_METRICS_OM : 0);
	link_end(&m);
}

/* LINK_METRICS: the text for request id; NULL when the link went */
void
metrics_result(uint32_t id, const char *text, size_t len)
{
	struct metrics_wait	*w;
	struct http_req		*r;
	size_t			 i;

	for (i = 0; i < METRICS_PENDING_MAX; i++) {
		w = &metrics_waits[i];
		if (w->r == NULL || (text != NULL && w->id != id))
			continue;
		r = w->r;
		w->r = NULL;
		if (text == NULL)
			http_error(r, 503, false);
		else
			http_respond(r, 200, w->om ? CTYPE_OM : CTYPE_TEXT,
			    text, len);
		if (text != NULL)
			return;
	}
	if (text != NULL)
		log_debug("metrics for a request that has gone");
}

void
metrics_link_lost(void)
{
	metrics_result(0, NULL, 0);
}
