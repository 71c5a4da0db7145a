/* placeholder until the caps branch lands: every resource wants all */
#include "router.h"

bool
caps_has(const char *full, const char *feature)
{
	(void)full;
	(void)feature;
	return true;
}

void
caps_on_known(void (*fn)(const char *, void *), void *arg)
{
	(void)fn;
	(void)arg;
}
