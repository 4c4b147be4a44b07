"""examples/chat-room: the seed's WebSocket chat room on a Durable Object, served by ew-server, checked with
Debian's python3-websockets (RFC 6455 client, offers permessage-deflate like browsers) and with the chat page
in headless Chromium driven over the DevTools protocol (two browser pages and a Python client in one room)."""
import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import websockets

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "chat-room"
TIMEOUT = 10  # seconds for any one message or page state to arrive


@pytest.fixture
def chat(tmp_path):
    s = Server(EXAMPLE, ("--persist-to", str(tmp_path / "state")))
    yield s
    rc = s.stop()
    assert rc == 0, "ew-server exited with %s:\n%s" % (rc, "".join(s.output))


async def join(server, room):
    """Connects to the room and returns (socket, the room's welcome message)."""
    ws = await websockets.connect("ws://127.0.0.1:%d/ws?room=%s" % (server.port, room), open_timeout=TIMEOUT)
    return ws, await recv(ws)


async def recv(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


def chat_message(username, text):
    return json.dumps({"type": "chat", "username": username, "text": text})


def get(server, path):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.getheader("Content-Type"), r.read().decode()


def test_page_and_worker_routes(chat):
    status, ctype, body = get(chat, "/")
    assert (status, ctype) == (200, "text/html; charset=utf-8") and "<title>Chat room</title>" in body
    assert 'src="/chat.js"' in body
    status, ctype, body = get(chat, "/chat.js")
    assert status == 200 and ctype.startswith(("application/javascript", "text/javascript"))
    assert "new WebSocket(" in body
    assert get(chat, "/ws")[0::2] == (400, "Expected websocket")
    assert get(chat, "/nope")[0::2] == (404, "Not Found")


def test_python_clients_chat_in_rooms_and_leave(chat):
    async def scenario():
        ann, welcome = await join(chat, "lobby")
        assert welcome == {"type": "welcome", "message": "Connected to chat room", "userCount": 1}
        # The extension offer (permessage-deflate) is declined: frames stay uncompressed.
        assert "Sec-WebSocket-Extensions" not in ann.response_headers
        bob, welcome = await join(chat, "lobby")
        assert welcome["userCount"] == 2
        carol, welcome = await join(chat, "kitchen")
        assert welcome["userCount"] == 1  # another room, another object

        before = int(time.time() * 1000)
        await ann.send(chat_message("ann", "hi bob"))
        got = await recv(bob)
        assert got.pop("timestamp") >= before
        assert got == {"type": "chat", "username": "ann", "text": "hi bob"}
        await bob.send(json.dumps({"type": "typing", "username": "bob", "isTyping": True}))
        await bob.send(chat_message("bob", "hello ann ✓"))
        # The sender gets nothing back: ann's next messages are bob's, in order.
        assert await recv(ann) == {"type": "typing", "username": "bob", "isTyping": True}
        assert (await recv(ann))["text"] == "hello ann ✓"

        # Nothing of the lobby reached the kitchen: carol's first message is dave's.
        dave, welcome = await join(chat, "kitchen")
        assert welcome["userCount"] == 2
        await dave.send(chat_message("dave", "anyone?"))
        assert (await recv(carol))["text"] == "anyone?"

        # A message of no known type is ignored (the seed's switch has no default); one that is not JSON
        # is answered to its sender only.
        await ann.send(json.dumps({"type": "shout", "text": "x"}))
        await ann.send("not json")
        assert await recv(ann) == {"error": "Invalid message format"}
        await ann.send(chat_message("ann", "after that"))
        assert (await recv(bob))["text"] == "after that"

        # bob leaves with a close handshake; the room forgets him.
        await bob.close(1000, "bye")
        assert bob.close_code == 1000
        # carol drops her connection without a close frame (the server sees the TCP end, as when a
        # browser tab crashes); the room forgets her too. Nothing tells a client when the room has seen
        # that; the joins and messages below take several round trips through the room first.
        carol.transport.abort()
        await asyncio.wait_for(carol.wait_closed(), TIMEOUT)
        eve, welcome = await join(chat, "lobby")
        assert welcome["userCount"] == 2  # ann and eve
        await ann.send(chat_message("ann", "still here"))
        assert (await recv(eve))["text"] == "still here"
        frank, welcome = await join(chat, "kitchen")
        assert welcome["userCount"] == 2  # dave and frank
        for ws in (ann, dave, eve, frank):
            await ws.close()
            assert ws.close_code == 1000

    asyncio.run(scenario())


# --- headless Chromium over the DevTools protocol -------------------------------------------------------

CHROMIUM = shutil.which("chromium")


class Browser:
    """Headless Chromium in its own process group and a temporary profile, driven over one DevTools
    WebSocket (flattened sessions: one per page). close() always kills the whole group."""

    def __init__(self, tmp_path):
        self.profile = tmp_path / "chromium-profile"
        self.profile.mkdir()
        self.log_path = tmp_path / "chromium.log"
        self.ws = None
        self.next_id = 0
        self.pending = {}   # command id -> future of its result
        self.console = []   # what the pages printed or threw, for failure messages
        self.reader = None
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [CHROMIUM, "--headless=new", "--no-sandbox", "--remote-debugging-port=0",
                 "--user-data-dir=%s" % self.profile, "--no-first-run", "--no-default-browser-check",
                 "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--mute-audio",
                 "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:]

    async def start(self):
        # Chromium writes the port it chose and the browser's endpoint path into DevToolsActivePort.
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while True:
            lines = port_file.read_text().split("\n") if port_file.exists() else []
            if len(lines) >= 2 and lines[1].startswith("/devtools/"):
                break
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("chromium wrote no DevToolsActivePort in 20 s:\n" + self.log())
            await asyncio.sleep(0.05)
        self.ws = await websockets.connect("ws://127.0.0.1:%s%s" % (lines[0], lines[1]), max_size=None,
                                           open_timeout=TIMEOUT, ping_interval=None)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self.pending.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg)
                elif msg.get("method") == "Runtime.consoleAPICalled":
                    self.console.append(" ".join(str(a.get("value", a.get("description")))
                                                 for a in msg["params"]["args"]))
                elif msg.get("method") == "Runtime.exceptionThrown":
                    self.console.append(json.dumps(msg["params"]["exceptionDetails"])[:500])
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(AssertionError("the DevTools connection closed:\n" + self.log()))

    async def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, TIMEOUT)
        if "error" in reply:
            raise AssertionError("%s failed: %s" % (method, reply["error"]))
        return reply["result"]

    async def open_page(self, url):
        """A new tab at `url`; returns its session id once the page has loaded."""
        target = (await self.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        await self.call("Runtime.enable", session=session)
        await self.call("Page.navigate", {"url": url}, session=session)
        await self.wait(session, "document.readyState === 'complete' && location.href === %s" % json.dumps(url),
                        "the page to load")
        return session

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True}, session)
        if "exceptionDetails" in result:
            raise AssertionError("%s threw: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    async def wait(self, session, expression, what):
        """Polls `expression` in the page until it is truthy, for at most TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            value = await self.evaluate(session, expression)
            if value:
                return value
            if time.monotonic() > deadline:
                page = await self.evaluate(session, "document.body ? document.body.innerText : ''")
                raise AssertionError("waited %d s for %s; the page shows:\n%s\nconsole: %s"
                                     % (TIMEOUT, what, page, self.console))
            await asyncio.sleep(0.05)

    async def type_and_send(self, session, text):
        """Types into the message box as a user would (key events: input, then Enter submits the form)."""
        await self.evaluate(session, "document.getElementById('text').focus()")
        await self.call("Input.insertText", {"text": text}, session)
        for kind in ("keyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                       "windowsVirtualKeyCode": 13, "text": "\r"}, session)

    async def close(self):
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.send(json.dumps({"id": 0, "method": "Browser.close"})), 2)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    def kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the browser and every helper process it started
        self.proc.wait(TIMEOUT)


LOG = "[...document.querySelectorAll('#log li')].map((li) => li.className + ' ' + li.textContent)"


def has_line(line):
    return "%s.includes(%s)" % (LOG, json.dumps(line))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/install-deps.sh --test "
                                             "installs it; it could not be installed on this machine)")
def test_chat_page_in_headless_chromium(chat, tmp_path):
    base = "http://127.0.0.1:%d/" % chat.port
    browser = Browser(tmp_path)

    async def scenario():
        await browser.start()
        ann = await browser.open_page(base + "?name=ann&room=lobby")
        await browser.wait(ann, "document.body.dataset.state === 'open'", "ann's socket to open")
        await browser.wait(ann, has_line("system Connected to chat room; 0 others here"), "ann's welcome")
        bob = await browser.open_page(base + "?name=bob&room=lobby")
        await browser.wait(bob, has_line("system Connected to chat room; 1 other here"), "bob's welcome")
        carol, welcome = await join(chat, "lobby")  # a Python client in the same room
        assert welcome["userCount"] == 3

        await browser.type_and_send(ann, "hello from <b>ann</b>")
        await browser.wait(bob, has_line("chat ann: hello from <b>ann</b>"), "ann's message on bob's page")
        await browser.wait(ann, has_line("me ann: hello from <b>ann</b>"), "ann's own message on her page")
        assert await browser.evaluate(ann, "document.getElementById('text').value") == ""
        assert await recv(carol) == {"type": "typing", "username": "ann", "isTyping": True}
        got = await recv(carol)
        assert (got["type"], got["username"], got["text"]) == ("chat", "ann", "hello from <b>ann</b>")
        # Text is shown as text, never as markup.
        assert await browser.evaluate(bob, "document.querySelector('#log b')") is None

        await carol.send(json.dumps({"type": "typing", "username": "carol", "isTyping": True}))
        await browser.wait(bob, "document.getElementById('typing').textContent === 'carol is typing…'",
                           "carol's typing notice on bob's page")
        await carol.send(chat_message("carol", "hi from python"))
        for page in (ann, bob):
            await browser.wait(page, has_line("chat carol: hi from python"), "carol's message")
        await browser.wait(bob, "document.getElementById('typing').textContent === ''", "the notice to clear")

        # A page in another room sees none of it.
        dan = await browser.open_page(base + "?name=dan&room=attic")
        await browser.wait(dan, has_line("system Connected to chat room; 0 others here"), "dan's welcome")

        # bob leaves with the page's button; the room forgets him.
        await browser.evaluate(bob, "document.getElementById('join').requestSubmit()")
        await browser.wait(bob, has_line("system Disconnected (1000)"), "bob's page to close")
        await browser.wait(bob, "document.body.dataset.state === 'closed'", "bob's page to show it")
        erin, welcome = await join(chat, "lobby")
        assert welcome["userCount"] == 3  # ann, carol, erin
        await browser.type_and_send(ann, "bye bob")
        for ws in (erin, carol):
            assert await recv(ws) == {"type": "typing", "username": "ann", "isTyping": True}
            assert (await recv(ws))["text"] == "bye bob"

        assert await browser.evaluate(dan, LOG) == ["system Connected to chat room; 0 others here"]
        assert not await browser.evaluate(bob, has_line("chat ann: bye bob"))

        # bob comes back with the form's Join button.
        await browser.evaluate(bob, "document.getElementById('join').requestSubmit()")
        await browser.wait(bob, has_line("system Connected to chat room; 3 others here"), "bob's second welcome")
        await browser.type_and_send(bob, "back again")
        await browser.wait(ann, has_line("chat bob: back again"), "bob's message after coming back")
        for ws in (carol, erin):
            await ws.close()
        assert browser.console == [], browser.console

    async def run():
        try:
            await scenario()
        finally:
            await browser.close()

    try:
        asyncio.run(run())
    finally:
        browser.kill()
