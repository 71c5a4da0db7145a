/*
 * Logging: one line per event, "proc[instance]: event key=value".
 * Untrusted values go through log_esc(). Trace classes are chosen at run
 * time with -T link,xml,tls,sasl,dns.
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum {
	TRACE_LINK	= 1 << 0,
	TRACE_XML	= 1 << 1,
	TRACE_TLS	= 1 << 2,
	TRACE_SASL	= 1 << 3,
	TRACE_DNS	= 1 << 4,
};

extern int	log_verbosity;	/* enum log_level */
extern int	log_traces;	/* TRACE_* bits */

/*
 * Names the process in every line; also decides, once, whether stderr is
 * the systemd journal (JOURNAL_STREAM names it): then lines start with
 * their syslog priority, "<4>" for a warning, and carry no time stamp.
 */
void	log_init(const char *proc, int instance);
/* parses "link,xml"; -1 on an unknown class name */
int	log_parse_traces(const char *);
int	log_parse_level(const char *);	/* name -> level, -1 if unknown */

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug_(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_trace_(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) do {						\
	if (log_verbosity >= LOG_LVL_DEBUG)				\
		log_debug_(__VA_ARGS__);				\
} while (0)
#define log_trace(cls, ...) do {					\
	if (log_traces & (cls))						\
		log_trace_(__VA_ARGS__);				\
} while (0)

/*
 * Escapes an untrusted string for a log line (non-printables as \xNN,
 * truncated to 200 bytes). Returns one of a few rotating static buffers,
 * valid until a few more calls.
 */
const char *log_esc(const char *s, size_t len);
#define log_escs(s)	log_esc((s), (s) ? __builtin_strlen(s) : 0)

/*
 * Redaction of secrets in TRACE_XML output of raw stream bytes: the text
 * of SASL <auth>, <response>, <challenge> and <success>, of a <password>
 * (jabber:iq:register, jabber:iq:auth) and of <db:result> and <db:verify>
 * (dialback keys) is replaced by "[redacted]". One state per direction
 * of a stream carries an element split over reads; zero it to start.
 */
struct log_redact {
	uint8_t	state;
	uint8_t	quote;		/* inside an attribute value */
	uint8_t	nlen;
	bool	secret;		/* the tag being read opens a secret */
	bool	slash;		/* last tag byte was '/' */
	char	name[16];
};
/* log_esc() of the bytes with secrets cut; r may be NULL (no carry-over) */
const char	*log_esc_redacted(struct log_redact *r, const char *s,
		    size_t len);

#endif
