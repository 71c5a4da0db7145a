/*
 * Contact addresses (XEP-0157): the host's contact-* options, published
 * as a serverinfo form (XEP-0128) in the server's disco#info, where the
 * caps hash of the server's info (XEP-0115 5.4) covers them too.
 */
#include <string.h>

#include "../common/xdata.h"
#include "router.h"

#define NS_SERVERINFO	"http://jabber.org/network/serverinfo"

/* XEP-0157 section 2's field names, in enum conf_contact's order */
static const char *const contact_fields[CONTACT_COUNT] = {
	"abuse-addresses", "admin-addresses", "feedback-addresses",
	"sales-addresses", "security-addresses", "support-addresses"
};

void
contact_disco_form(struct xnode *q, struct arena *a, const char *domain)
{
	const struct conf_host	*h;
	struct xnode		*x, *f, *v;
	const char		*w, *e;
	size_t			 i;
	bool			 any = false;

	if ((h = conf_host_find(&router.conf, domain)) == NULL)
		return;
	for (i = 0; i < CONTACT_COUNT; i++)
		any |= h->contact[i] != NULL;
	if (!any)
		return;
	x = xdata_new(a, q, "result", NS_SERVERINFO);
	for (i = 0; i < CONTACT_COUNT; i++) {
		if ((w = h->contact[i]) == NULL)
			continue;
		f = xdata_add(a, x, contact_fields[i], "list-multi", NULL,
		    NULL);
		while (*(w += strspn(w, " ")) != '\0') {
			e = w + strcspn(w, " ");
			v = xnode_add(a, f, NS_XDATA, "value");
			xnode_add_text(a, v, w, (size_t)(e - w));
			w = e;
		}
	}
}
