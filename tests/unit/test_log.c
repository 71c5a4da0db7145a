/*
 * Trace redaction (log_esc_redacted): the text of SASL elements, of a
 * <password> and of dialback keys never reaches a trace line, also when
 * an element is split over reads; everything else is shown as it came.
 * Lines to the systemd journal carry their priority and no time stamp.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/log.h"
#include "unit.h"

static const char *
redact(struct log_redact *r, const char *s)
{
	return log_esc_redacted(r, s, strlen(s));
}

static void
test_redact_whole_elements(void **state)
{
	(void)state;
	assert_string_equal(redact(NULL, "<auth xmlns='urn:ietf:params:xml:"
	    "ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>"),
	    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>[redacted]</auth>");
	assert_string_equal(redact(NULL, "<response xmlns='x'>cj1h</response>"
	    "<challenge xmlns='x'>cj1i</challenge><success xmlns='x'>dj1j"
	    "</success>"), "<response xmlns='x'>[redacted]</response>"
	    "<challenge xmlns='x'>[redacted]</challenge>"
	    "<success xmlns='x'>[redacted]</success>");
	assert_string_equal(redact(NULL, "<iq type='set' id='r'><query "
	    "xmlns='jabber:iq:register'><username>bob</username><password>"
	    "hunter2</password></query></iq>"), "<iq type='set' id='r'>"
	    "<query xmlns='jabber:iq:register'><username>bob</username>"
	    "<password>[redacted]</password></query></iq>");
	assert_string_equal(redact(NULL, "<db:result from='a' to='b'>"
	    "0123abcd</db:result><db:verify id='1'>beef</db:verify>"),
	    "<db:result from='a' to='b'>[redacted]</db:result>"
	    "<db:verify id='1'>[redacted]</db:verify>");
	/* not secrets: empty elements, other names, text elsewhere */
	assert_string_equal(redact(NULL, "<success xmlns='x'/><message>"
	    "<body>hi</body></message><authx>a</authx>"),
	    "<success xmlns='x'/><message><body>hi</body></message>"
	    "<authx>a</authx>");
	/* a '>' inside an attribute value does not end the tag */
	assert_string_equal(redact(NULL, "<auth a='>x' b=\">\">c2VjcmV0"
	    "</auth>"), "<auth a='>x' b=\\x22>\\x22>[redacted]</auth>");
}

static void
test_redact_split_over_reads(void **state)
{
	struct log_redact	 r;
	const char		*parts[] = {
		"<au", "th mechanism='PL", "AIN'>AGFsa", "WNlAHNl", "Y3Jld",
		"A==</auth><mess", "age><body>visible</body></message>"
	};
	char			 all[512] = "";
	size_t			 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(parts) / sizeof(*parts); i++)
		strcat(all, redact(&r, parts[i]));
	assert_string_equal(all, "<auth mechanism='PLAIN'>[redacted]</auth>"
	    "<message><body>visible</body></message>");
}

/*
 * Logs three lines with stderr sent to a file, JOURNAL_STREAM naming
 * that file (same_file) or another inode; returns new: what was written.
 */
static char *
journal_lines(bool same_file)
{
	char		 path[] = "/tmp/parley-test-log.XXXXXX", env[64];
	struct stat	 st;
	char		*out;
	long		 len;
	FILE		*f;
	int		 fd, saved;

	assert_int_not_equal(fd = mkstemp(path), -1);
	unlink(path);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino + (same_file ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	assert_int_not_equal(saved = dup(STDERR_FILENO), -1);
	assert_int_not_equal(dup2(fd, STDERR_FILENO), -1);
	log_init("c2s", 2);
	log_verbosity = LOG_LVL_DEBUG;
	log_info("started");
	log_warnx("slow");
	log_debug("detail %d", 7);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	log_init("test", 0);
	log_verbosity = LOG_LVL_INFO;

	assert_non_null(f = fdopen(fd, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	out = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(out, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return out;
}

static void
test_journal_priority_prefix(void **state)
{
	char	*out;

	(void)state;
	out = journal_lines(true);
	assert_string_equal(out, "<6>c2s[2]: started\n<4>c2s[2]: slow\n"
	    "<7>c2s[2]: debug: detail 7\n");
	free(out);
}

/* stderr redirected away from the journal: a plain line, time first */
static void
test_journal_other_stream(void **state)
{
	char	*out;

	(void)state;
	out = journal_lines(false);
	assert_true(out[0] >= '0' && out[0] <= '9');
	assert_non_null(strstr(out, "Z c2s[2]: started\n"));
	assert_null(strchr(out, '<'));
	free(out);
}

UNIT_MAIN(
	cmocka_unit_test(test_journal_priority_prefix),
	cmocka_unit_test(test_journal_other_stream),
	cmocka_unit_test(test_redact_whole_elements),
	cmocka_unit_test(test_redact_split_over_reads),
)
