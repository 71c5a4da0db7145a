// SCRAM-SHA-256-PLUS over XEP-0388 with tls-exporter (RFC 9266), which
// Python's ssl module cannot export: a raw stream, STARTTLS, the binding
// data from exportKeyingMaterial. Prints one JSON line.
// Usage: node scram_exporter.mjs port domain user password [bad]
import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";

const [port, domain, user, password, bad] = process.argv.slice(2);
const header = `<?xml version='1.0'?><stream:stream to='${domain}' ` +
  "version='1.0' xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams'>";
let buf = "";
let waiter = null;

function feed(data) {
  buf += data.toString();
  if (waiter) waiter();
}

function until(re) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout: " + buf)), 10000);
    const check = () => {
      const m = buf.match(re);
      if (!m) return;
      clearTimeout(t);
      waiter = null;
      buf = buf.slice(m.index + m[0].length);
      resolve(m);
    };
    waiter = check;
    check();
  });
}

const H = (d) => crypto.createHash("sha256").update(d).digest();
const HMAC = (k, d) => crypto.createHmac("sha256", k).update(d).digest();
const out = {};
try {
  const sock = net.connect(+port, "127.0.0.1");
  sock.on("data", feed);
  sock.write(header);
  await until(/<\/stream:features>/);
  sock.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await until(/<proceed[^>]*\/>/);
  sock.removeAllListeners("data");
  const t = tls.connect({ socket: sock, servername: domain,
    rejectUnauthorized: false });
  await new Promise((r) => t.once("secureConnect", r));
  t.on("data", feed);
  t.write(header);
  const feats = (await until(/<stream:features>.*?<\/stream:features>/s))[0];
  out.version = t.getProtocol();
  out.exporter = feats.includes("type='tls-exporter'");
  let cb = t.exportKeyingMaterial(32, "EXPORTER-Channel-Binding");
  if (bad) cb = Buffer.from(cb.map((b) => b ^ 1));
  const gs2 = "p=tls-exporter,,";
  const bare = `n=${user},r=${crypto.randomBytes(12).toString("base64")}`;
  t.write("<authenticate xmlns='urn:xmpp:sasl:2' " +
    "mechanism='SCRAM-SHA-256-PLUS'><initial-response>" +
    Buffer.from(gs2 + bare).toString("base64") +
    "</initial-response></authenticate>");
  const ch = (await until(/<challenge[^>]*>([^<]*)<\/challenge>/))[1];
  const sfirst = Buffer.from(ch, "base64").toString();
  const a = Object.fromEntries(sfirst.split(",").map(
    (kv) => [kv[0], kv.slice(2)]));
  const salted = crypto.pbkdf2Sync(password, Buffer.from(a.s, "base64"),
    +a.i, 32, "sha256");
  const ck = HMAC(salted, "Client Key");
  const without = "c=" + Buffer.concat([Buffer.from(gs2), cb])
    .toString("base64") + ",r=" + a.r;
  const am = `${bare},${sfirst},${without}`;
  const sig = HMAC(H(ck), am);
  const proof = Buffer.from(ck.map((b, i) => b ^ sig[i]));
  t.write("<response xmlns='urn:xmpp:sasl:2'>" +
    Buffer.from(`${without},p=${proof.toString("base64")}`)
      .toString("base64") + "</response>");
  const m = await until(/<(success|failure)[^>]*>(.*?)<\/\1>/s);
  out.outcome = m[1];
  out.element = m[0];
  if (m[1] === "success") {
    const v = Buffer.from(m[2].match(/<additional-data>([^<]*)</)[1],
      "base64").toString();
    out.verified = v === "v=" +
      HMAC(HMAC(salted, "Server Key"), am).toString("base64");
  }
  t.destroy();
} catch (err) {
  out.error = String(err && err.stack || err);
}
console.log(JSON.stringify(out));
process.exit(0);
