/*
 * Fuzz target: the group chat service's request handling (router/muc*.c)
 * as the router's routing (deliver_stanza, the entry of a stanza from a
 * remote server or the server) hands it stanzas: joins, presence, nick changes,
 * messages, private messages, invitations, voice requests and the
 * owner's, admin's and registration IQs, from local and remote senders,
 * to the service, its rooms and their occupants, on the in-memory store
 * (persistent rooms are written and read back). No session is bound:
 * what the rooms send to local JIDs ends in muc_send_to, to remote ones
 * at the absent s2s link.
 *
 * Oracles: no crash, leak or undefined behaviour; after every stanza
 * each room's occupant list, its nick and full-JID maps and its count
 * agree, every occupant has one to MUC_RES_MAX sessions and a role, the
 * history stays within its ring, the rooms within muc-max-rooms; when
 * the input ends every room is freed (muc_clear) and persistent ones
 * load again from the store (muc_load); a room is no account, so its
 * blocklist is never read (a store lookup per stanza to a room).
 *
 * Input: a mode byte (bit 0: the archive on, so that the history and
 * moderation go through the store's archive; off, the in-memory ring),
 * then records until the bytes run out. A record: a byte whose bits
 * 0-2 pick the sender (from_table), bits 3-4 the kind (message,
 * presence, iq, iq), bits 5-7 the type within it; a byte picking the
 * 'to' (to_table); a big-endian u16 length and that many bytes of XML
 * (fewer at the end).
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/map.h"
#include "../../common/util.h"
#include "../../common/xmpp.h"
#include "../../router/muc.h"
#include "../../router/router.h"
#include "fake_store.h"
#include "fuzz.h"
#include "fuzz_rbase.h"

#define DOMAIN		"example.org"
#define SERVICE		"conference.example.org"
#define MAX_RECORDS	256

struct router	router;

static const char *const from_table[] = {
	"alice@example.org/a", "alice@example.org/b", "bob@example.org/x",
	"carol@example.org/z", "eve@remote.test/r", "mallory@remote.test/m",
	"remote.test", "dave@example.org/d",
};

static const char *const to_table[] = {
	"room@" SERVICE "/alice", "room@" SERVICE "/bob",
	"room@" SERVICE, "room@" SERVICE "/Bob", "other@" SERVICE "/x",
	"other@" SERVICE, SERVICE, SERVICE "/res",
	"room@" SERVICE "/carol", "big@" SERVICE "/n",
};

struct check {
	size_t	rooms;
};

static void
check_room(struct muc_room *r, void *arg)
{
	struct check	*c = arg;
	struct muc_occ	*o;
	size_t		 n = 0, nres = 0, i;

	c->rooms++;
	for (o = r->occ; o != NULL; o = o->next) {
		n++;
		FUZZ_CHECK(o->nres >= 1 && o->nres <= MUC_RES_MAX,
		    "occupant %s has %zu sessions", o->nick, o->nres);
		FUZZ_CHECK(o->role > ROLE_NONE && o->role <= ROLE_MODERATOR,
		    "occupant %s role %d", o->nick, o->role);
		FUZZ_CHECK(map_get(r->by_nick, o->nick) == o, "nick map");
		for (i = 0; i < o->nres; i++)
			FUZZ_CHECK(map_get(r->by_full, o->res[i]) == o,
			    "full JID map");
		nres += o->nres;
		FUZZ_CHECK(o->next == NULL || o->next->prev == o, "links");
	}
	FUZZ_CHECK(n == r->nocc && n == map_count(r->by_nick), "%zu "
	    "occupants listed, %zu counted, %zu nicks", n, r->nocc,
	    map_count(r->by_nick));
	FUZZ_CHECK(nres == map_count(r->by_full), "%zu sessions, %zu mapped",
	    nres, map_count(r->by_full));
	FUZZ_CHECK(r->hn <= r->hcap && r->hcap <=
	    (size_t)router.conf.muc_history, "history %zu of %zu", r->hn,
	    r->hcap);
	FUZZ_CHECK(r->nocc > 0 || r->cfg.persistent, "an empty temporary "
	    "room stays");
}

static void
one(int kind, int type, const char *from, const char *to, const char *xml,
    size_t len)
{
	struct rstanza	rs = { .kind = kind, .type = type, .from = from,
	    .to = to, .xml = xml, .xlen = len };

	deliver_stanza(&rs);
	FUZZ_CHECK(fake_store_block_reads(router.store) == 0, "the "
	    "blocklist of a room read for a stanza to %s", to);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct conf_host	host;

	(void)argc;
	(void)argv;
	fuzz_rbase_init(&host, DOMAIN);
	/* small limits, so that a short input reaches them */
	router.conf.muc_max_occupants = 4;
	router.conf.muc_max_rooms = 3;
	router.conf.muc_max_rooms_per_user = 2;
	router.conf.muc_history = 3;
	router.conf.muc_rate = 6;
	router.conf.muc_subject_max_size = 64;
	router.conf.muc_config_max_size = 64;
	host.muc = true;
	host.muc_name = xstrdup(SERVICE);
	host.muc_title = xstrdup("Rooms");
	host.muc_create = xstrdup("anyone");
	fake_store_block_watch(router.store, SERVICE);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int	kinds[] = { KIND_MESSAGE, KIND_PRESENCE,
	    KIND_IQ, KIND_IQ };
	static const int	ntypes[] = { 5, 8, 4, 4 };
	struct check		c;
	size_t			pos = 0, n, rec = 0;
	int			k;

	fake_store_reset(router.store);
	if (len == 0)
		return 0;
	/* the local senders are accounts; dave's role may not create
	   rooms (router/roles.c) */
	fuzz_rbase_account("alice", DOMAIN);
	fuzz_rbase_account("bob", DOMAIN);
	fuzz_rbase_account("carol", DOMAIN);
	fuzz_rbase_account("dave", DOMAIN);
	(void)store_account_role_set(router.store, "dave", DOMAIN,
	    ROLE_LIMITED);
	router.conf.archive = (data[pos++] & 1) != 0;
	while (pos + 4 <= len && rec++ < MAX_RECORDS) {
		k = (data[pos] >> 3) & 3;
		n = (size_t)data[pos + 2] << 8 | data[pos + 3];
		if (n > len - pos - 4)
			n = len - pos - 4;
		/* a kind's types are numbered from 0 (common/xmpp.h) */
		one(kinds[k], (data[pos] >> 5) % ntypes[k],
		    from_table[data[pos] & 7],
		    to_table[data[pos + 1] % nitems(to_table)],
		    (const char *)data + pos + 4, n);
		pos += 4 + n;
		memset(&c, 0, sizeof(c));
		muc_room_foreach(SERVICE, check_room, &c);
		FUZZ_CHECK(c.rooms <= (size_t)router.conf.muc_max_rooms,
		    "%zu rooms", c.rooms);
	}
	deliver_fanout_end();
	muc_clear();
	/* what was saved reads back, and goes again */
	muc_load();
	muc_clear();
	return 0;
}
