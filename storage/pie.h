/*
 * XEP-0227 (Portable Import/Export Format, "PIE"): parleyctl export and
 * import. pie_parse.c reads a file as a stream of records (no storage:
 * the fuzz target drives it alone), pie_import.c checks and stores them,
 * pie_export.c writes a store out. docs/internals.md, "Migration".
 */
#ifndef PARLEY_PIE_H
#define PARLEY_PIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../common/conf.h"
#include "../common/role.h"
#include "../common/scram.h"
#include "store.h"

#define NS_PIE		"urn:xmpp:pie:0"
/* XEP-0227 before version 1.0: ejabberd and older Prosody write it */
#define NS_PIE_OLD	"http://www.xmpp.org/extensions/xep-0227.html#ns"
#define NS_PIE_SCRAM	"urn:xmpp:pie:0#scram"
/*
 * Parley's own: role, disabled, a PEP node's configuration record, a
 * user's documents, group chat rooms (docs/operator.md, "Migration")
 */
#define NS_PIE_PARLEY	"urn:parley:pie:0"
#define NS_PIE_ROSTER	"jabber:iq:roster"
#define NS_PIE_PRIVATE	"jabber:iq:private"
#define NS_PIE_VCARD	"vcard-temp"
#define NS_PIE_BLOCK	"urn:xmpp:blocking"
#define NS_PIE_PUBSUB	"http://jabber.org/protocol/pubsub"
/* XEP-0227 1.1's message archive, as Prosody writes it */
#define NS_PIE_MAM	"urn:xmpp:pie:0#mam"
#define NS_PIE_MAM2	"urn:xmpp:mam:2"
#define NS_PIE_FORWARD	"urn:xmpp:forward:0"

/*
 * Limits of one element the parser keeps whole (a roster item, a vCard,
 * a private XML document, an offline message, a PEP item): memory is
 * bounded by these, not by the file's size.
 */
/* bytes of names, attributes and text */
#define PIE_ELEM_MAX	(8u << 20)
#define PIE_DEPTH_MAX	64

enum pie_kind {
	PIE_USER,	/* a <user/> starts: node, domain, password */
	PIE_CRED,	/* <scram-credentials/>: hash, cred */
	PIE_ROSTER,	/* a roster item: item */
	PIE_SUBREQ,	/* <presence type='subscribe'/>: jid, xml its
			   status (XEP-0227 4.8) */
	PIE_VCARD,	/* xml */
	PIE_PRIVATE,	/* key "{ns}name", xml */
	PIE_OFFLINE,	/* xml, serialised as router/offline.c stores */
	PIE_BLOCK,	/* jid */
	PIE_PEP_CONF,	/* key: node name; xml: Parley's record */
	PIE_PEP_ITEM,	/* key: node name; id, xml: the payload */
	PIE_PEP_FORM,	/* key: node name; access, max_items: another
			   server's configuration form's (or NULL) */
	PIE_ACCOUNT,	/* Parley's extension: role, disabled */
	PIE_MAM,	/* an archived message: id (the file's), stamp,
			   jid (with, bare), xml (with its xmlns) */
	PIE_DOC,	/* Parley's extension: doc, key (""), xml the
			   record (base64-decoded text, or a room's) */
	PIE_ROOM,	/* Parley's extension: a group chat room starts,
			   node the room, domain its service */
	PIE_ROOM_END,
	PIE_USER_END,
	PIE_SKIP,	/* xml: what was skipped and why (a warning) */
	PIE_ERROR	/* xml: what is wrong; the parse goes on, so that
			   every problem is said, but nothing is stored */
};

struct pie_rec {
	enum pie_kind		 kind;
	unsigned long		 line;
	/* prepared; NULL for SKIP and ERROR outside a user */
	const char		*node, *domain;
	const char		*password;	/* PIE_USER; NULL if none */
	enum scram_hash		 hash;
	struct scram_cred	 cred;
	struct roster_item	*item;
	const char		*jid;
	const char		*key;
	const char		*id;
	const char		*xml;
	size_t			 len;
	const char		*access, *max_items;
	enum role		 role;
	bool			 disabled;
	uint64_t		 stamp;		/* PIE_MAM: microsec. */
	enum store_doc		 doc;		/* PIE_DOC */
};

/*
 * PIE_DOC kinds: the name in <doc kind=.../> and the document: a user's
 * last, mam-prefs and push (a room's record is its own element).
 */
int	 pie_doc_kind(const char *name, enum store_doc *);
const char *pie_doc_name(enum store_doc);

/*
 * Called for each record; returning -1 stops the parse (the callback
 * has said why). Everything the record points to is valid only during
 * the call.
 */
typedef int	pie_fn(const struct pie_rec *, void *arg);

struct pie_parser;

/* returns new */
struct pie_parser	*pie_parser_new(pie_fn *, void *arg);
void			 pie_parser_free(struct pie_parser *);
/*
 * XEP-0203 stamp (borrowed) for the <delay/> an offline message without
 * one gets (XEP-0160: a stored message carries one); NULL: none added.
 */
void			 pie_parser_stamp(struct pie_parser *,
			    const char *stamp);
/*
 * Feeds bytes; final on the last call. -1 when the file is not well
 * formed or not XEP-0227 (pie_error says what, at pie_line), or when a
 * callback stopped it (pie_error is then "").
 */
int			 pie_parse(struct pie_parser *, const char *, size_t,
			    bool final);
const char		*pie_error(const struct pie_parser *);
unsigned long		 pie_line(const struct pie_parser *);

/*
 * pie_import.c: 0 imported, 1 refused (said why on stderr). merge: an
 * account that exists takes the file's data, keeps its credentials,
 * role and state; without it, an existing account is refused.
 */
int	pie_import(const struct conf *, const char *path, bool merge);
/* pie_export.c: host NULL for every host; 0, or 1 after saying why */
int	pie_export(const struct conf *, const char *host, const char *path);

#endif
