/*
 * Trace redaction (log_esc_redacted): the text of SASL elements, of a
 * <password> and of dialback keys never reaches a trace line, also when
 * an element is split over reads; everything else is shown as it came.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

UNIT_MAIN(
	cmocka_unit_test(test_redact_whole_elements),
	cmocka_unit_test(test_redact_split_over_reads),
)
