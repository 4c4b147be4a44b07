"""examples/chat-room: the seed's WebSocket chat room on a Durable Object, served by ew-server, checked with
Debian's python3-websockets (RFC 6455 client, offers permessage-deflate like browsers) and with the chat page
in headless Chromium driven over the DevTools protocol (two browser pages and a Python client in one room)."""
import asyncio
import http.client
import json
import time

import pytest
import websockets

from browser import needs_chromium, with_browser
from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "chat-room"
TIMEOUT = 10  # seconds for any one message to arrive


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
        # browser tab crashes); the room forgets her too, a moment later (checked last).
        carol.transport.abort()
        await asyncio.wait_for(carol.wait_closed(), TIMEOUT)
        eve, welcome = await join(chat, "lobby")
        assert welcome["userCount"] == 2  # ann and eve
        await ann.send(chat_message("ann", "still here"))
        assert (await recv(eve))["text"] == "still here"
        # Nothing tells a client when the room has seen carol go: join until it has (a close handshake
        # ends only once the room has dropped the socket, so a retry leaves nobody behind).
        deadline = time.monotonic() + TIMEOUT
        while True:
            frank, welcome = await join(chat, "kitchen")
            if welcome["userCount"] == 2 or time.monotonic() > deadline:
                break
            await frank.close()
        assert welcome["userCount"] == 2  # dave and frank
        for ws in (ann, dave, eve, frank):
            await ws.close()
            assert ws.close_code == 1000

    asyncio.run(scenario())


LOG = "[...document.querySelectorAll('#log li')].map((li) => li.className + ' ' + li.textContent)"


def has_line(line):
    return "%s.includes(%s)" % (LOG, json.dumps(line))


@needs_chromium
def test_chat_page_in_headless_chromium(chat, tmp_path):
    base = "http://127.0.0.1:%d/" % chat.port

    async def scenario(browser):
        ann = await browser.open_page(base + "?name=ann&room=lobby")
        await browser.wait(ann, "document.body.dataset.state === 'open'", "ann's socket to open")
        await browser.wait(ann, has_line("system Connected to chat room; 0 others here"), "ann's welcome")
        bob = await browser.open_page(base + "?name=bob&room=lobby")
        await browser.wait(bob, has_line("system Connected to chat room; 1 other here"), "bob's welcome")
        carol, welcome = await join(chat, "lobby")  # a Python client in the same room
        assert welcome["userCount"] == 3

        await browser.type_and_enter(ann, "#text", "hello from <b>ann</b>")
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
        await browser.type_and_enter(ann, "#text", "bye bob")
        for ws in (erin, carol):
            assert await recv(ws) == {"type": "typing", "username": "ann", "isTyping": True}
            assert (await recv(ws))["text"] == "bye bob"

        assert await browser.evaluate(dan, LOG) == ["system Connected to chat room; 0 others here"]
        assert not await browser.evaluate(bob, has_line("chat ann: bye bob"))

        # bob comes back with the form's Join button.
        await browser.evaluate(bob, "document.getElementById('join').requestSubmit()")
        await browser.wait(bob, has_line("system Connected to chat room; 3 others here"), "bob's second welcome")
        await browser.type_and_enter(bob, "#text", "back again")
        await browser.wait(ann, has_line("chat bob: back again"), "bob's message after coming back")
        for ws in (carol, erin):
            await ws.close()
        assert browser.console == [], browser.console

    with_browser(tmp_path, scenario)
