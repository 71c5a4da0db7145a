/*
 * What the operator allows of a remote domain: whether it must prove
 * itself with a certificate that verifies (s2s-require-valid-cert, with
 * s2s-require-valid-cert-for and s2s-allow-dialback-for naming
 * exceptions), and whether a domain is one we host or one of our
 * components', which no peer may claim.
 */
#include <string.h>
#include <strings.h>

#include "s2s.h"

/* domain appears in the comma-separated list (case-insensitive) */
static bool
list_has(const char *list, const char *domain)
{
	const char	*p, *end;
	size_t		 len = strlen(domain), n;

	if (list == NULL)
		return false;
	for (p = list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == len && strncasecmp(p, domain, len) == 0)
			return true;
	}
	return false;
}

bool
policy_cert_required(const char *remote)
{
	if (list_has(s2s.conf.s2s_require_valid_cert_for, remote))
		return true;
	if (list_has(s2s.conf.s2s_allow_dialback_for, remote))
		return false;
	return s2s.conf.s2s_require_valid_cert;
}

/*
 * A component's domain (and its subdomains) is ours to the world
 * (XEP-0114 with federation): remote servers open streams to it, we are
 * its authoritative server for dialback, and no peer may claim it.
 */
bool
policy_is_ours(const char *domain)
{
	return conf_domain_ours(&s2s.conf, domain) ||
	    conf_component_find(&s2s.conf, domain) != NULL;
}
