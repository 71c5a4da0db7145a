"""Logs in to 127.0.0.1:5222 as JID with PASSWORD (deb_overlay.sh):
prints the outcome, exits 0 only for a session."""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import xmpptest  # noqa: E402


async def main(jid, password):
    c = xmpptest.Client(jid, password, ("127.0.0.1", 5222),
                        server_name="localhost")
    c.start()
    state = await c.wait_state(10)
    c.disconnect()
    await asyncio.sleep(0.2)
    return state


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    state = loop.run_until_complete(main(sys.argv[1], sys.argv[2]))
    print("login:", state)
    sys.exit(0 if state == "session" else 1)
