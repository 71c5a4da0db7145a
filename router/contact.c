/*
 * Contact addresses (XEP-0157): the host's contact-* options, published
 * as a serverinfo form (XEP-0128) in the server's disco#info, where the
 * caps hash of the server's info (XEP-0115 5.4) covers them too.
 */
#include <string.h>

#include "router.h"

#define NS_XDATA	"jabber:x:data"
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
	x = xnode_add(a, q, NS_XDATA, "x");
	xnode_set_attr(a, x, "type", "result");
	f = xnode_add(a, x, NS_XDATA, "field");
	xnode_set_attr(a, f, "var", "FORM_TYPE");
	xnode_set_attr(a, f, "type", "hidden");
	v = xnode_add(a, f, NS_XDATA, "value");
	xnode_add_text(a, v, NS_SERVERINFO, strlen(NS_SERVERINFO));
	for (i = 0; i < CONTACT_COUNT; i++) {
		if ((w = h->contact[i]) == NULL)
			continue;
		f = xnode_add(a, x, NS_XDATA, "field");
		xnode_set_attr(a, f, "var", contact_fields[i]);
		xnode_set_attr(a, f, "type", "list-multi");
		while (*(w += strspn(w, " ")) != '\0') {
			e = w + strcspn(w, " ");
			v = xnode_add(a, f, NS_XDATA, "value");
			xnode_add_text(a, v, w, (size_t)(e - w));
			w = e;
		}
	}
}
