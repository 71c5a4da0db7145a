// Logs in with xmpp.js (SASL2, Bind2, a FAST token request), then logs
// in again from the same device with the token and a wrong password:
// only FAST can succeed. Prints one JSON line: the JIDs and mechanisms.
// Usage: node sasl2_fast.mjs port domain user password
import { client, xml } from "@xmpp/client";

const [port, domain, username, password] = process.argv.slice(2);
const device = globalThis.crypto.randomUUID();
let token = null;
const result = {};

function agent() {
  return xml("user-agent", { id: device },
    xml("software", {}, "parley-tests"), xml("device", {}, "node"));
}

async function login(pw, stored) {
  const c = client({
    service: `xmpp://127.0.0.1:${port}`,
    domain,
    username,
    password: pw,
    resource: "node",
    userAgent: agent(),
  });
  c.reconnect.stop();
  c.fast.saveToken = async (t) => { token = t; };
  c.fast.fetchToken = async () => stored;
  let mech = null;
  c.on("send", (el) => {
    if (el.is("authenticate", "urn:xmpp:sasl:2"))
      mech = el.attrs.mechanism;
  });
  c.on("error", (err) => { result.error = String(err); });
  const address = await c.start();
  // a result without a payload resolves to undefined; an error throws
  await c.iqCaller.get(xml("ping", "urn:xmpp:ping"), domain);
  const sm = c.streamManagement.enabled;
  await c.stop();
  return { jid: address.toString(), mech, pong: true, sm };
}

const timer = setTimeout(() => {
  console.log(JSON.stringify({ ...result, error: "timeout" }));
  process.exit(2);
}, 20000);
try {
  result.first = await login(password, null);
  result.token = token !== null;
  result.second = await login("not-the-password", token);
} catch (err) {
  result.error = String(err && err.stack || err);
}
clearTimeout(timer);
console.log(JSON.stringify(result));
process.exit(0);
