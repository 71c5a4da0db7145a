/*
 * SCRAM credentials on the wire (LINK_AUTH_CRED, LINK_CTL_ADDUSER,
 * LINK_CTL_PASSWD): per hash, SHA-1 then SHA-256, u32 iter, str salt,
 * str stored_key, str server_key. One encoder and one decoder, so the
 * router, c2s and parleyctl cannot drift apart (parleyctl builds its
 * frames in a plain buffer: link_begin_buf).
 */
#ifndef PARLEY_CREDWIRE_H
#define PARLEY_CREDWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "scram.h"

/* longest encoding: per hash u32 iter and three str (u32 length + bytes) */
#define CRED_WIRE_MAX		(SCRAM_NHASH * \
	(4 + 4 + SCRAM_SALT_MAX + 2 * (4 + SCRAM_KEY_MAX)))

/* appends creds to a frame being built */
void	 cred_put(struct link_out *, const struct scram_creds *);
/*
 * Reads creds and checks them (iterations 1..SCRAM_ITER_MAX, salt 1..
 * SCRAM_SALT_MAX bytes, keys exactly the hash length). Returns 0, or -1
 * with in marked bad, so a later link_in_done() fails too.
 */
int	 cred_get(struct link_in *, struct scram_creds *);

#endif
