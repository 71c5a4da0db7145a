"""
The web client (issue 16): the c2s HTTP listener serves converse.js from
http-static-dir under /chat/ (c2s/static.c), and a real browser, headless
Chromium from Debian driven over the DevTools protocol, logs in with it
over WebSocket and over BOSH, sends a message to a slixmpp echo bot and
finds the reply in the page. The WebSocket run takes a screenshot, kept
in docs/webclient.png when PARLEY_UPDATE_SCREENSHOT is set. Also the
static files' HTTP: types, validators, caching, redirects, methods,
paths that are not there, and the limits of http-static-dir.
"""
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websockets

import webhelp
from conftest import LOGIN_TIMEOUT, free_port, uniq
from webhelp import raw_request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SITE = os.path.join(ROOT, "web", "site")
SHOT = os.path.join(ROOT, "docs", "webclient.png")
BROWSER_TIMEOUT = 60


@pytest.fixture(scope="module")
def site():
    """web/site, installed by the project's script (npm ci, pinned)."""
    subprocess.run([os.path.join(ROOT, "scripts", "webclient.sh")],
                   check=True)
    return SITE


def web_server(make_server, site, **kw):
    return webhelp.web_server(make_server, http_static_dir=site, **kw)


# ---- the files over HTTP ------------------------------------------------

async def test_static_files(make_server, site):
    srv = web_server(make_server, site)
    p = srv.http_port
    st, h, body = await raw_request(p, "GET /chat/ HTTP/1.1\r\n")
    assert st == 200
    assert h["content-type"] == "text/html; charset=utf-8"
    with open(os.path.join(site, "index.html"), "rb") as f:
        assert body == f.read()
    assert h["cache-control"] == "no-cache"
    assert h["x-content-type-options"] == "nosniff"
    etag = h["etag"]
    st, h, body = await raw_request(
        p, "GET /chat/index.html HTTP/1.1\r\nIf-None-Match: %s\r\n" % etag)
    assert (st, body) == (304, b"")
    st, h, body = await raw_request(p, "GET /chat/dist/converse.min.js "
                                "HTTP/1.1\r\n")
    assert st == 200
    assert h["content-type"] == "text/javascript; charset=utf-8"
    assert h["cache-control"] == "public, max-age=3600"
    assert int(h["content-length"]) == len(body) == os.path.getsize(
        os.path.join(site, "dist", "converse.min.js"))
    st, h, body = await raw_request(p, "HEAD /chat/dist/converse.min.css "
                                "HTTP/1.1\r\n")
    assert st == 200 and body == b""
    assert h["content-type"] == "text/css; charset=utf-8"
    assert int(h["content-length"]) > 0
    st, h, _ = await raw_request(p, "GET /chat HTTP/1.1\r\n")
    assert st == 301 and h["location"] == "/chat/"
    for path, want in [("/chat/nothing.js", 404),
                       ("/chat/dist/", 404),
                       # dot files are not read, nor served
                       ("/chat/.version", 404),
                       ("/chat/../etc/passwd", 400),
                       ("/chat/dist%2f..%2findex.html", 400),
                       ("/chatter", 404)]:
        st, _, _ = await raw_request(p, "GET %s HTTP/1.1\r\n" % path)
        assert st == want, path
    st, h, _ = await raw_request(p, "POST /chat/ HTTP/1.1\r\n"
                             "Content-Length: 0\r\n")
    assert st == 405


async def test_no_static_dir(make_server):
    port = free_port()
    make_server(http_listen="127.0.0.1:%d" % port)
    st, _, _ = await raw_request(port, "GET /chat/ HTTP/1.1\r\n")
    assert st == 404


@pytest.mark.kills("c2s")
async def test_static_dir_past_the_limits(make_server, tmp_path):
    """A file past 4 MB: the c2s that serves HTTP does not start, and its
    log says why (the whole directory is read at start)."""
    d = tmp_path / "site"
    d.mkdir()
    (d / "index.html").write_text("<p>hi</p>")
    (d / "big.js").write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    port = free_port()
    srv = make_server(http_listen="127.0.0.1:%d" % port,
                      http_static_dir=str(d), start=False)
    with pytest.raises(AssertionError):
        srv.start()
    log = srv.log_text()
    assert "big.js: past the limits" in log, log[-3000:]
    assert re.search(r"c2s\[1\] pid=\d+ exited with status 1", log)


# ---- a real browser ------------------------------------------------------

class Chromium:
    """Headless Chromium with a temporary profile, driven over the
    DevTools protocol; killed by its PID."""

    def __init__(self):
        exe = shutil.which("chromium")
        assert exe, "chromium is missing (scripts/deps.sh installs it)"
        self.profile = tempfile.mkdtemp(prefix="parley-chromium-")
        self.port = free_port()
        args = [exe, "--headless=new", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=%d" % self.port,
                "--user-data-dir=" + self.profile,
                "--window-size=1200,800", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.log = open(os.path.join(self.profile, "stderr"), "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log,
                                     start_new_session=True)
        self.ws = None
        self.next_id = 0

    async def open(self):
        deadline = time.monotonic() + BROWSER_TIMEOUT
        url = "http://127.0.0.1:%d/json/list" % self.port
        while True:
            try:
                pages = await asyncio.to_thread(
                    lambda: json.load(urllib.request.urlopen(url, timeout=2)))
                page = [p for p in pages if p["type"] == "page"][0]
                break
            except (OSError, IndexError, ValueError):
                assert self.proc.poll() is None, self.stderr()
                assert time.monotonic() < deadline, self.stderr()
                await asyncio.sleep(0.2)
        self.ws = await websockets.connect(page["webSocketDebuggerUrl"],
                                           max_size=None)

    def stderr(self):
        self.log.seek(0)
        return "chromium: " + self.log.read()[-3000:]

    async def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        await self.ws.send(json.dumps({"id": mid, "method": method,
                                       "params": params}))
        while True:
            m = json.loads(await asyncio.wait_for(self.ws.recv(),
                                                  BROWSER_TIMEOUT))
            if m.get("id") == mid:
                assert "error" not in m, (method, m)
                return m["result"]

    async def js(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr,
                            returnByValue=True)
        assert "exceptionDetails" not in r, (expr, r)
        return r["result"].get("value")

    async def click(self, xy):
        """A real click (mouse events from the browser) at xy."""
        for t in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=t, x=xy[0],
                            y=xy[1], button="left", clickCount=1)

    async def until(self, expr, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not await self.js(expr):
            if time.monotonic() > deadline:
                text = await self.js("document.body.innerText")
                raise AssertionError("the page shows no %s within %ss; "
                                     "it says: %r" % (what, timeout, text))
            await asyncio.sleep(0.2)

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


async def echo_bot(bot):
    while True:
        m = await bot.next_message(timeout=3600)
        if m["body"]:
            bot.chat(m["from"].bare, "echo " + m["body"])


FILL_LOGIN = """(function () {
    var f = document.querySelector('converse-login-form form');
    if (!f) return false;
    var set = function (name, v) {
        var i = f.querySelector('input[name=' + name + ']');
        i.value = v;
        i.dispatchEvent(new Event('input', {bubbles: true}));
        i.dispatchEvent(new Event('change', {bubbles: true}));
    };
    set('jid', %s);
    set('password', %s);
    f.requestSubmit();
    return true;
})()"""

# the bot's message put it under "New messages": open that chat
OPEN_CHAT = """(function () {
    var a = Array.from(document.querySelectorAll('a.open-chat'))
        .filter(function (e) { return e.innerText.includes(%s); })[0];
    if (!a) return false;
    var r = a.getBoundingClientRect();
    return [r.x + r.width / 2, r.y + r.height / 2];
})()"""

SEND = """(function () {
    var t = document.querySelector('.chat-textarea');
    if (!t) return false;
    t.value = %s;
    t.dispatchEvent(new Event('input', {bubbles: true}));
    t.closest('form').requestSubmit();
    return true;
})()"""


async def open_chat(browser, jid, hello):
    """Click the contact until its chat shows the message. The roster
    re-renders while contacts arrive (the bot is listed under "New
    messages", then under its groups too), so the element a click was
    aimed at may have moved by the time the click lands: aim again."""
    shown = "document.body.innerText.includes(%s)" % json.dumps(hello)
    deadline = time.monotonic() + LOGIN_TIMEOUT
    while True:
        xy = await browser.js(OPEN_CHAT % json.dumps(jid))
        if xy:
            await browser.click(xy)
            try:
                await browser.until(shown, "message from the bot",
                                    timeout=2)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        elif time.monotonic() > deadline:
            await browser.until(shown, "message from the bot", timeout=0)
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("transport", ["websocket", "bosh"])
async def test_browser_chat(make_server, site, clients, transport,
                            tmp_path):
    srv = web_server(make_server, site)
    user = srv.new_user("web")
    botu = srv.new_user("bot")
    bot = await clients.login(srv, botu)
    # available: what the page sends to its bare JID reaches it
    bot.send_raw("<presence/>")
    echo = asyncio.ensure_future(echo_bot(bot))
    # stored offline, it opens a chat with the bot once the page is in
    hello = uniq("hello")
    bot.chat(user.jid, hello)
    browser = Chromium()
    try:
        await browser.open()
        await browser.call("Page.enable")
        url = "http://localhost:%d/chat/" % srv.http_port
        if transport == "bosh":
            url += "?transport=bosh"
        await browser.call("Page.navigate", url=url)
        await browser.until("!!document.querySelector("
                            "'converse-login-form form input[name=jid]')",
                            "login form")
        assert await browser.js(FILL_LOGIN % (json.dumps(user.jid),
                                              json.dumps(user.password)))
        await browser.until(OPEN_CHAT % json.dumps(botu.jid),
                            "the bot in the contacts",
                            timeout=LOGIN_TIMEOUT)
        await open_chat(browser, botu.jid, hello)
        text = uniq("ping")
        await browser.until(SEND % json.dumps(text), "message box")
        await browser.until("document.body.innerText.includes(%s)"
                            % json.dumps("echo " + text), "echo")
        if transport == "websocket":
            shot = await browser.call("Page.captureScreenshot",
                                      format="png")
            png = base64.b64decode(shot["data"])
            assert png.startswith(b"\x89PNG")
            out = SHOT if os.environ.get("PARLEY_UPDATE_SCREENSHOT") else \
                str(tmp_path / "webclient.png")
            with open(out, "wb") as f:
                f.write(png)
    finally:
        echo.cancel()
        await browser.close()
    log = srv.log_text()
    # the page used the transport asked for
    if transport == "websocket":
        assert re.search(r"http GET /xmpp-websocket 101", log)
    else:
        assert re.search(r"http POST /http-bind 200", log)
        assert not re.search(r"http GET /xmpp-websocket", log)
