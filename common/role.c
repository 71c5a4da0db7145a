/*
 * Role and capability names (common/role.h): the one list of words the
 * configuration, parleyctl and the router agree on.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "role.h"
#include "util.h"

static const char *const role_names[] = {
	[ROLE_MEMBER] = "member",
	[ROLE_ADMIN] = "admin",
	[ROLE_LIMITED] = "limited",
};

#define ROLE_CAP_ROW(e, v, w)	{ v, w },
static const struct {
	uint32_t	 bit;
	const char	*word;
} role_caps[] = { ROLE_CAPS(ROLE_CAP_ROW) };

const char *
role_name(enum role r)
{
	if ((size_t)r >= nitems(role_names))
		return "unknown";
	return role_names[r];
}

int
role_parse(const char *s, enum role *r)
{
	size_t	i;

	for (i = 0; i < nitems(role_names); i++)
		if (strcmp(s, role_names[i]) == 0) {
			*r = (enum role)i;
			return 0;
		}
	return -1;
}

int
role_caps_parse(const char *s, uint32_t *caps, const char **bad,
    size_t *badlen)
{
	const char	*w, *e;
	size_t		 i, n;

	*caps = 0;
	for (w = s; *(w += strspn(w, " ")) != '\0'; w = e) {
		e = w + strcspn(w, " ");
		n = (size_t)(e - w);
		if (n == 4 && strncmp(w, "none", 4) == 0)
			continue;
		for (i = 0; i < nitems(role_caps); i++)
			if (strlen(role_caps[i].word) == n &&
			    strncmp(w, role_caps[i].word, n) == 0)
				break;
		if (i == nitems(role_caps)) {
			*bad = w;
			*badlen = n;
			return -1;
		}
		*caps |= role_caps[i].bit;
	}
	return 0;
}

const char *
role_caps_words(void)
{
	static char	buf[128];
	size_t		i, n = 0;

	if (buf[0] != '\0')
		return buf;
	for (i = 0; i < nitems(role_caps) && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s, ",
		    role_caps[i].word);
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, "or none");
	return buf;
}

bool
role_listed_admin(const struct conf_host *h, const char *node,
    const char *domain)
{
	const char	*w, *e;
	size_t		 nn = strlen(node), dn = strlen(domain);

	if (h == NULL || h->admins == NULL)
		return false;
	for (w = h->admins; *(w += strspn(w, " ")) != '\0'; w = e) {
		e = w + strcspn(w, " ");
		if ((size_t)(e - w) == nn + 1 + dn &&
		    strncmp(w, node, nn) == 0 && w[nn] == '@' &&
		    strncmp(w + nn + 1, domain, dn) == 0)
			return true;
	}
	return false;
}
