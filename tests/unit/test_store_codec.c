/*
 * Unit tests for storage/store_codec.c, the record encodings alone (no
 * LMDB): round trips, and strict decoding of damaged records.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/store_codec.h"
#include "unit.h"

static void
test_ints_big_endian(void **state)
{
	uint8_t	b[8];

	(void)state;
	rec_put_u32(b, 0x01020304);
	assert_memory_equal(b, "\x01\x02\x03\x04", 4);
	assert_int_equal(rec_get_u32(b), 0x01020304);
	rec_put_u64(b, 0x0102030405060708ULL);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(rec_get_u64(b) == 0x0102030405060708ULL);
}

static void
test_account_roundtrip(void **state)
{
	struct scram_creds	in, out;
	uint8_t			rec[ACCOUNT_REC_MAX];
	size_t			len;

	(void)state;
	unit_creds(&in, 9);
	len = rec_account_encode(rec, &in);
	assert_true(len > 1 && len <= sizeof(rec));
	assert_int_equal(rec[0], ACCOUNT_VERSION);
	assert_int_equal(rec_account_decode(rec, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_account_strict(void **state)
{
	struct scram_creds	in, out;
	uint8_t			rec[ACCOUNT_REC_MAX + 1];
	size_t			len, cut;

	(void)state;
	unit_creds(&in, 1);
	len = rec_account_encode(rec, &in);
	/* every truncation fails, and leaves nothing behind */
	for (cut = 0; cut < len; cut++) {
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(rec_account_decode(rec, cut, &out), -1);
		assert_int_equal(out.h[0].iter, 0);
	}
	rec[len] = 0;
	assert_int_equal(rec_account_decode(rec, len + 1, &out), -1);
	rec[0] = ACCOUNT_VERSION + 1;
	assert_int_equal(rec_account_decode(rec, len, &out), -1);
	/* credentials that would not read back are not written */
	in.h[0].saltlen = 0;
	assert_int_equal(rec_account_encode(rec, &in), 0);
	unit_creds(&in, 1);
	in.h[1].iter = 0;
	assert_int_equal(rec_account_encode(rec, &in), 0);
}

/* a hash may be absent (an import of SHA-1 credentials), not both */
static void
test_account_absent_hash(void **state)
{
	struct scram_creds	in, out;
	uint8_t			rec[ACCOUNT_REC_MAX];
	size_t			len;

	(void)state;
	unit_creds(&in, 3);
	memset(&in.h[SCRAM_SHA256], 0, sizeof(in.h[SCRAM_SHA256]));
	len = rec_account_encode(rec, &in);
	assert_true(len > 1);
	assert_int_equal(rec_account_decode(rec, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	memset(&in.h[SCRAM_SHA1], 0, sizeof(in.h[SCRAM_SHA1]));
	assert_int_equal(rec_account_encode(rec, &in), 0);
}

static void
test_roster_roundtrip(void **state)
{
	struct roster_item	in, out;
	uint8_t			*rec;
	size_t			 len;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.jid = "bob@example.org";
	in.name = "Bob";
	in.groups[0] = "Friends";
	in.groups[1] = "";
	in.ngroups = 2;
	in.sub = SUB_FROM;
	in.ask = true;
	in.hidden = true;
	in.pending_xml = "<presence type='subscribe'/>";
	in.ver = 42;
	assert_non_null(rec = rec_roster_encode(&in, &len));
	assert_int_equal(rec[0], ROSTER_REC_VERSION);
	assert_true(rec_get_u64(rec + ROSTER_REC_VER_OFF) == 42);
	assert_int_equal(rec_roster_decode(rec, len, &out), 0);
	assert_string_equal(out.jid, in.jid);
	assert_string_equal(out.name, in.name);
	assert_int_equal(out.ngroups, 2);
	assert_string_equal(out.groups[0], "Friends");
	assert_string_equal(out.groups[1], "");
	assert_int_equal(out.sub, SUB_FROM);
	assert_true(out.ask && out.hidden);
	assert_false(out.pending_in || out.preapproved);
	assert_string_equal(out.pending_xml, in.pending_xml);
	assert_true(out.ver == 42);
	roster_item_clear(&out);
	free(rec);

	/* NULL strings stay NULL */
	in.name = NULL;
	in.pending_xml = NULL;
	in.ngroups = 0;
	assert_non_null(rec = rec_roster_encode(&in, &len));
	assert_int_equal(rec_roster_decode(rec, len, &out), 0);
	assert_null(out.name);
	assert_null(out.pending_xml);
	roster_item_clear(&out);
	free(rec);
}

static void
test_roster_strict(void **state)
{
	struct roster_item	in, out;
	uint8_t			*rec;
	size_t			 len, cut;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.jid = "a@b";
	in.name = "n";
	assert_non_null(rec = rec_roster_encode(&in, &len));
	for (cut = 0; cut < len; cut++) {
		assert_int_equal(rec_roster_decode(rec, cut, &out), -1);
		assert_null(out.jid);
	}
	rec[1] = SUB_BOTH + 1;			/* unknown subscription */
	assert_int_equal(rec_roster_decode(rec, len, &out), -1);
	rec[1] = SUB_NONE;
	rec[2] = 0x80;				/* unknown flag */
	assert_int_equal(rec_roster_decode(rec, len, &out), -1);
	rec[2] = 0;
	rec[0] = ROSTER_REC_VERSION + 1;	/* unknown version */
	assert_int_equal(rec_roster_decode(rec, len, &out), -1);
	free(rec);

	/* no contact, or too many groups, is no item */
	in.jid = "";
	assert_null(rec_roster_encode(&in, &len));
	in.jid = "a@b";
	in.ngroups = ROSTER_GROUPS_MAX + 1;
	assert_null(rec_roster_encode(&in, &len));
}

/* pubsub node and item records: round trip, then every strictness rule */
static void
test_pubsub_records(void **state)
{
	struct pubsub_item	 it = { 7, "i1", "a@x.org", "<x/>", 4 }, got;
	uint8_t			*rec;
	const char		*conf;
	char			*name;
	uint64_t		 nid;
	size_t			 len, clen;

	(void)state;
	rec = rec_psnode_encode(42, "urn:n", "a1\n", 3, &len);
	assert_non_null(rec);
	assert_int_equal(rec_psnode_decode(rec, len, &nid, &name, &conf,
	    &clen), 0);
	assert_int_equal(nid, 42);
	assert_string_equal(name, "urn:n");
	assert_int_equal(clen, 3);
	assert_memory_equal(conf, "a1\n", 3);
	free(name);
	/* short, or of another version */
	assert_int_equal(rec_psnode_decode(rec, 10, &nid, &name, &conf,
	    &clen), -1);
	assert_null(name);
	rec[0] = PSNODE_REC_VERSION + 1;
	assert_int_equal(rec_psnode_decode(rec, len, &nid, &name, &conf,
	    &clen), -1);
	free(rec);

	rec = rec_psitem_encode(&it, &len);
	assert_non_null(rec);
	memset(&got, 0, sizeof(got));
	got.seq = 9;
	assert_int_equal(rec_psitem_decode(rec, len, &got), 0);
	assert_int_equal(got.seq, 9);		/* the key's, untouched */
	assert_string_equal(got.id, "i1");
	assert_string_equal(got.publisher, "a@x.org");
	assert_int_equal(got.len, 4);
	assert_string_equal(got.xml, "<x/>");
	pubsub_item_clear(&got);
	assert_int_equal(rec_psitem_decode(rec, 6, &got), -1);
	assert_null(got.id);
	free(rec);
	/* an item has an id */
	it.id = "";
	assert_null(rec_psitem_encode(&it, &len));
}

/*
 * The invitation's text record: what the router wrote before the codec
 * moved here still reads (the format is the stored one), round trips,
 * damaged records.
 */
static void
test_invite_record(void **state)
{
	static const char	 old[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef c 3 1767225600 alice@example.org";
	struct invite		 in, out;
	char			 rec[INVITE_REC_MAX];
	size_t			 len;

	(void)state;
	assert_int_equal(rec_invite_decode(old, strlen(old), &out), 0);
	assert_int_equal(out.kind, INVITE_CONTACT);
	assert_int_equal(out.uses, 3);
	assert_true(out.expires == 1767225600);
	assert_string_equal(out.creator, "alice@example.org");
	assert_int_equal(strlen(out.hash), INVITE_HASH_LEN);
	assert_int_equal(len = rec_invite_encode(rec, &out), strlen(old));
	assert_memory_equal(rec, old, len);

	/* no creator is "-"; no expiry is 0 */
	memset(&in, 0, sizeof(in));
	memset(in.hash, 'f', INVITE_HASH_LEN);
	in.kind = INVITE_ACCOUNT;
	in.uses = UINT32_MAX;
	assert_int_not_equal(len = rec_invite_encode(rec, &in), 0);
	assert_memory_equal(rec + len - 2, " -", 2);
	assert_int_equal(rec_invite_decode(rec, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* XEP-0401 5.2: one for a username only, a sixth word */
	snprintf(in.username, sizeof(in.username), "juliet");
	assert_int_not_equal(len = rec_invite_encode(rec, &in), 0);
	assert_memory_equal(rec + len - 9, " - juliet", 9);
	assert_int_equal(rec_invite_decode(rec, len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	in.username[0] = '\0';
	assert_int_not_equal(len = rec_invite_encode(rec, &in), 0);

	/* a field missing, an integer that is none, too long: no invitation */
	assert_int_equal(rec_invite_decode(rec, len - 2, &out), -1);
	assert_int_equal(out.kind, 0);
	assert_int_equal(rec_invite_decode("h a x 0 -", 9, &out), -1);
	assert_int_equal(rec_invite_decode("", 0, &out), -1);
	assert_int_equal(rec_invite_decode(old, INVITE_REC_MAX, &out), -1);
	/* a field with a space would not read back */
	in.kind = ' ';
	assert_int_equal(rec_invite_encode(rec, &in), 0);
	in.kind = INVITE_ROSTER;
	snprintf(in.creator, sizeof(in.creator), "a b@c");
	assert_int_equal(rec_invite_encode(rec, &in), 0);
	snprintf(in.creator, sizeof(in.creator), "-");	/* reads as none */
	assert_int_equal(rec_invite_encode(rec, &in), 0);
	in.creator[0] = '\0';
	snprintf(in.username, sizeof(in.username), "a\tb");
	assert_int_equal(rec_invite_encode(rec, &in), 0);
}

UNIT_MAIN(
	cmocka_unit_test(test_ints_big_endian),
	cmocka_unit_test(test_account_roundtrip),
	cmocka_unit_test(test_account_strict),
	cmocka_unit_test(test_account_absent_hash),
	cmocka_unit_test(test_roster_roundtrip),
	cmocka_unit_test(test_roster_strict),
	cmocka_unit_test(test_pubsub_records),
	cmocka_unit_test(test_invite_record),
)
