/*
 * Fuzz target: XMPP over WebSocket (c2s/websocket.c, wsframe.c, libwslay)
 * after a valid upgrade: the input is the client's frames (masked or not,
 * any opcode, any length), with its <open/>, <close/> and stanzas, which
 * the played stream echoes back through the splitter. Oracles:
 * fuzz_web.c.
 */
#include <string.h>

#include "../../common/buf.h"
#include "fuzz.h"
#include "fuzz_web.h"

#define UPGRADE	"GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\n" \
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" \
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp" \
		"\r\n\r\n"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf	 b;
	const char	*req;
	size_t		 n;

	buf_init(&b, 0);
	buf_puts(&b, UPGRADE);
	buf_append(&b, data, len);
	req = buf_rptr(&b);
	n = buf_avail(&b);
	fuzz_web_conns(&req, &n, 1, NULL);
	buf_clear(&b);
	return 0;
}
