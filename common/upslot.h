/*
 * Signed upload slots (XEP-0363): the router hands a client a PUT URL
 * whose query is a token, EXPIRY-SIZE-MAC, the MAC an HMAC-SHA256 over
 * the slot's id, file name, size, content type and expiry under a key
 * the router keeps in its data directory and hands to every c2s process
 * over its link (LINK_SECRETS).
 * The HTTP side checks the token and needs no lookup: docs/internals.md,
 * "HTTP file upload".
 */
#ifndef PARLEY_UPSLOT_H
#define PARLEY_UPSLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPSLOT_ID_LEN	32	/* hex digits of a slot id */
#define UPSLOT_KEY_LEN	32
#define UPSLOT_TOKEN_MAX 128	/* with its NUL */
#define UPSLOT_NAME_MAX	255	/* bytes of a file name */
#define UPSLOT_TYPE_MAX	255	/* bytes of a content type */
#define UPSLOT_KEY_FILE	"upload-secret"	/* in the data directory */

enum upslot_check { UPSLOT_OK, UPSLOT_BAD, UPSLOT_EXPIRED };

/*
 * The key: the router's is in its data directory, UPSLOT_KEY_FILE
 * (secret_load), and each c2s gets it over its link (LINK_SECRETS). Key
 * borrowed; the one it replaces is wiped.
 */
void	upslot_key_set(const uint8_t key[UPSLOT_KEY_LEN]);
/* a key was loaded or set: before that no token is checked */
bool	upslot_key_known(void);
/* a fresh slot id: UPSLOT_ID_LEN hex digits and a NUL */
void	upslot_id(char out[UPSLOT_ID_LEN + 1]);
/* the token of a slot into out (UPSLOT_TOKEN_MAX) */
void	upslot_sign(char *out, const char *id, const char *name,
	    uint64_t size, const char *ctype, int64_t expiry);
/*
 * Checks token against the slot's id, name and content type at time now;
 * on UPSLOT_OK *size is the size it was signed for.
 */
enum upslot_check upslot_verify(const char *token, const char *id,
	    const char *name, const char *ctype, int64_t now,
	    uint64_t *size);
/* an id as upslot_id makes them: lowercase hex of the right length */
int	upslot_id_valid(const char *);
/* a file name a slot may be given: no separator, control or dot name */
int	upslot_name_valid(const char *);

#endif
