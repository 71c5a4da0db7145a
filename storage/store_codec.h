/*
 * Record encodings of the storage family, pure: no LMDB, no I/O, so that
 * they are unit-tested on their own (tests/unit/test_store_codec.c) and a
 * second backend may reuse them. Integers are big-endian; a string is a
 * u32 length and its bytes (no NUL inside), length STR_NULL for NULL.
 * Decoders are strict: unknown versions, bad bounds, short or trailing
 * bytes all fail.
 */
#ifndef PARLEY_STORE_CODEC_H
#define PARLEY_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/scram.h"
#include "store.h"

#define ACCOUNT_VERSION		1
/* version, then per hash: iter, saltlen, salt, stored key, server key */
#define ACCOUNT_REC_MAX		(1 + SCRAM_NHASH * \
	(4 + 1 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_MAX))
#define ROSTER_REC_VERSION	1
#define ROSTER_REC_VER_OFF	3	/* where u64 ver sits */

void	 rec_put_u32(uint8_t *, uint32_t);
uint32_t rec_get_u32(const uint8_t *);
void	 rec_put_u64(uint8_t *, uint64_t);
uint64_t rec_get_u64(const uint8_t *);

/*
 * rec must hold ACCOUNT_REC_MAX bytes. Returns the record length, or 0
 * for credentials that would not read back.
 */
size_t	 rec_account_encode(uint8_t *rec, const struct scram_creds *);
/* 0, or -1 with out zeroed */
int	 rec_account_decode(const uint8_t *, size_t,
	    struct scram_creds *out);
/*
 * Roster record (version 1):
 *	u8 version, u8 sub, u8 flags, u64 ver, str jid, str name (nullable),
 *	u16 ngroups, ngroups strs, str pending_xml (nullable)
 * encode returns new and its length, or NULL for an invalid item.
 */
uint8_t	*rec_roster_encode(const struct roster_item *, size_t *len);
/* 0, or -1 with out cleared */
int	 rec_roster_decode(const void *, size_t, struct roster_item *out);
/*
 * Archive entry (version 1):
 *	u8 version, u64 nonce, u64 stamp, str with, then the message bytes
 * (the rest of the record). encode returns new and its length.
 */
#define ARCHIVE_REC_VERSION	1
uint8_t	*rec_archive_encode(const struct archive_entry *, size_t *len);
/* 0 (out->id untouched), or -1 with out cleared */
int	 rec_archive_decode(const void *, size_t, struct archive_entry *out);
/*
 * Publish-subscribe node (version 1):
 *	u8 version, u64 node id, str name, then the configuration (opaque)
 * decode: *name is new, *conf points into rec; -1 for a bad record.
 */
#define PSNODE_REC_VERSION	1
uint8_t	*rec_psnode_encode(uint64_t nid, const char *name, const char *conf,
	    size_t clen, size_t *len);
int	 rec_psnode_decode(const void *, size_t, uint64_t *nid, char **name,
	    const char **conf, size_t *clen);
/*
 * Publish-subscribe item (version 1):
 *	u8 version, str id, str publisher, then the payload (the rest)
 * decode leaves out->seq as it was (the key holds it).
 */
#define PSITEM_REC_VERSION	1
uint8_t	*rec_psitem_encode(const struct pubsub_item *, size_t *len);
int	 rec_psitem_decode(const void *, size_t, struct pubsub_item *out);

/*
 * Invitation (router/invite.c), text, unversioned since its first
 * release: "hash kind uses expires creator[ username]", decimal
 * integers, creator "-" for none, username absent for any (records
 * before it have none). rec must hold INVITE_REC_MAX bytes; encode returns the
 * length (no NUL), or 0 for an invitation that would not read back.
 * decode: 0, or -1 with out zeroed.
 */
#define INVITE_REC_MAX		(64 + 48 + JID_STR_MAX + 1 + JID_PART_MAX)
size_t	 rec_invite_encode(char *rec, const struct invite *);
int	 rec_invite_decode(const void *, size_t, struct invite *out);

#endif
