/*
 * BOSH (XEP-0124, XEP-0206): not built yet.
 */
#include <http_parser.h>

#include "c2s.h"
#include "http.h"

void
bosh_handle(struct http_req *r)
{
	http_error(r, 404, false);
}
