/*
 * JIDs per RFC 7622, normalised the way ejabberd and Prosody do it:
 * stringprep nodeprep / nameprep / resourceprep (libidn), each part at most
 * 1023 bytes after preparation, domain labels per IDNA, IP literals kept.
 */
#ifndef PARLEY_JID_H
#define PARLEY_JID_H

#include <stdbool.h>
#include <stddef.h>

#define JID_PART_MAX	1023
#define JID_STR_MAX	(3 * JID_PART_MAX + 2)

struct jid {
	char	*node;		/* NULL when absent */
	char	*domain;	/* never NULL after a successful parse */
	char	*resource;	/* NULL when absent */
};

/*
 * Parses and normalises s. Returns 0, or -1 when s is not a valid JID
 * (the caller answers jid-malformed). On success j owns its strings: call
 * jid_clear(). On failure j is left cleared.
 */
int	 jid_parse(struct jid *j, const char *s);
void	 jid_clear(struct jid *j);
/* returns new: "node@domain/resource", "node@domain" or "domain" */
char	*jid_full(const struct jid *j);
char	*jid_bare(const struct jid *j);
/* writes the bare/full form into out (JID_STR_MAX + 1 bytes); returns out */
char	*jid_format(char *out, const char *node, const char *domain,
	    const char *resource);

/*
 * Single-part preparation: writes the prepared, NUL-terminated part into
 * out (JID_PART_MAX + 1 bytes). Returns 0, or -1 if the input is not valid
 * for that profile or too long. Used for SASL usernames (nodeprep) and
 * client-chosen resources (resourceprep).
 */
int	 jid_nodeprep(const char *in, char *out);
int	 jid_nameprep(const char *in, char *out);
int	 jid_resourceprep(const char *in, char *out);

/*
 * The domain of a JID prepared already (an envelope's, a stored one),
 * read off the string with no stringprep (the presence path does this
 * per contact): written to dom (JID_PART_MAX + 1 bytes); false if none.
 */
bool	 jid_domain_of(const char *s, char *dom);

#endif
