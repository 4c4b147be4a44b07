"""WebSockets through ew-server (RFC 6455) with a small client written here on Python's socket module:
handshake, masked frames, fragmentation, ping/pong, close codes, protocol errors (1002/1007) and the
message size limit (1009), with Workers using WebSocketPair / accept() / addEventListener."""
import base64
import hashlib
import os
import socket
import struct
import time

import pytest

from browser import needs_chromium, with_browser

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

ECHO = r"""
export default {
  async fetch(request) {
    if (request.headers.get('Upgrade') !== 'websocket') {
      return new Response('Expected websocket', { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.send('hello');
    server.addEventListener('message', (event) => {
      if (event.data === 'close-me') {
        server.close(4000, 'asked to');
      } else if (typeof event.data === 'string') {
        server.send('echo:' + event.data);
      } else {
        server.send(event.data);
      }
    });
    server.addEventListener('close', (event) => {
      console.log('closed ' + event.code + ' ' + event.reason + ' ' + event.wasClean);
    });
    const protocol = request.headers.get('Sec-WebSocket-Protocol');
    const headers = protocol ? { 'Sec-WebSocket-Protocol': protocol.split(',')[0].trim() } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  },
};
"""


class WS:
    """A minimal RFC 6455 client: masked frames, optional fragmentation, raw access for bad frames."""

    def __init__(self, port, path="/", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + self.key, "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}

    def expected_accept(self):
        return base64.b64encode(hashlib.sha1(self.key.encode() + GUID).digest()).decode()

    def frame(self, opcode, payload, fin=True, mask=True, rsv=0):
        b0 = (0x80 if fin else 0) | rsv | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

    def send_frame(self, opcode, payload, **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send_frame(1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._read(2)
        assert b1 & 0x80 == 0, "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, bool(b0 & 0x80), self._read(n)

    def recv(self):
        op, fin, data = self.recv_frame()
        assert fin
        return data.decode() if op == 1 else (op, data)

    def recv_close(self):
        op, _, data = self.recv_frame()
        assert op == 8, (op, data)
        code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
        return code, data[2:].decode()

    def closed_by_server(self):
        """True once the server has closed the TCP connection."""
        self.sock.settimeout(5)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def test_handshake_accept_and_protocol_passthrough(serve):
    s = serve(ECHO)
    ws = WS(s.port, headers={"Sec-WebSocket-Protocol": "chat, superchat"})
    assert ws.status == 101
    assert ws.headers["upgrade"].lower() == "websocket"
    assert ws.headers["connection"].lower() == "upgrade"
    assert ws.headers["sec-websocket-accept"] == ws.expected_accept()
    assert ws.headers["sec-websocket-protocol"] == "chat"
    assert ws.recv() == "hello"  # sent by the Worker before its response went out
    ws.close()


def test_echo_text_binary_and_fragmented(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.send_text("abc")
    assert ws.recv() == "echo:abc"
    ws.send_text("héllo 🎉")
    assert ws.recv() == "echo:héllo 🎉"
    ws.send_frame(2, bytes(range(256)))
    assert ws.recv() == (2, bytes(range(256)))
    big = os.urandom(70000)  # 64-bit length form
    ws.send_frame(2, big)
    assert ws.recv() == (2, big)
    # A text message in three fragments with a ping in between.
    ws.send_frame(1, b"fr", fin=False)
    ws.send_frame(0, b"ag", fin=False)
    ws.send_frame(9, b"ping!")
    ws.send_frame(0, b"ment", fin=True)
    assert ws.recv() == (10, b"ping!")
    assert ws.recv() == "echo:fragment"
    ws.close()


def test_client_close_is_answered_and_reaches_the_worker(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.send_frame(8, struct.pack("!H", 1000) + b"bye")
    assert ws.recv_close() == (1000, "")
    assert ws.closed_by_server()
    ws.close()
    assert "closed 1000 bye true" in s.read_output(0.3)


def test_worker_close_with_code_and_reason(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.send_text("close-me")
    assert ws.recv_close() == (4000, "asked to")
    ws.send_frame(8, struct.pack("!H", 4000))
    assert ws.closed_by_server()
    ws.close()
    assert "closed 4000  true" in s.read_output(0.3)


def test_disconnect_without_close_is_abnormal_for_the_worker(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.close()
    assert "closed 1006 WebSocket disconnected without sending Close frame. false" in s.read_output(0.5)


@pytest.mark.parametrize("frame,code", [
    (lambda ws: ws.frame(1, b"x", mask=False), 1002),              # client frames must be masked
    (lambda ws: ws.frame(1, b"x", rsv=0x40), 1002),                 # reserved bit without extension
    (lambda ws: ws.frame(3, b"x"), 1002),                           # unknown opcode
    (lambda ws: ws.frame(0, b"x"), 1002),                           # continuation with nothing to continue
    (lambda ws: ws.frame(9, b"x" * 126), 1002),                     # control frame too long
    (lambda ws: ws.frame(9, b"x", fin=False), 1002),                # fragmented control frame
    (lambda ws: ws.frame(8, b"\x03"), 1002),                        # one-byte close payload
    (lambda ws: ws.frame(8, struct.pack("!H", 1005)), 1002),        # close code that cannot be sent
    (lambda ws: ws.frame(1, b"\xff\xfe"), 1007),                    # text that is not UTF-8
    (lambda ws: ws.frame(1, b"\xed\xa0\x80"), 1007),                # UTF-8 encoded surrogate
])
def test_protocol_errors_close_with_their_code(serve, frame, code):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.sock.sendall(frame(ws))
    got, _ = ws.recv_close()
    assert got == code
    assert ws.closed_by_server()
    ws.close()
    assert "closed 1006" in s.read_output(0.3)


def test_new_message_inside_fragmented_one_is_a_protocol_error(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.send_frame(1, b"a", fin=False)
    ws.send_frame(1, b"b")
    assert ws.recv_close()[0] == 1002
    ws.close()


def test_oversized_message_is_1009(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.send_frame(2, b"x" * (1 << 20))  # exactly the limit: accepted
    assert ws.recv() == (2, b"x" * (1 << 20))
    ws.send_frame(2, b"x" * 1000, fin=False)
    ws.send_frame(0, b"x" * (1 << 20))  # the reassembled message is over the limit
    assert ws.recv_close()[0] == 1009
    ws.close()


def test_upgrade_errors(serve):
    s = serve(ECHO)
    # Wrong version: 426 naming the one we speak.
    with s.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 426")
    # Bad key.
    with s.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 400")
    # Not an upgrade at all: the Worker answers itself.
    with s.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 426")


def test_101_to_a_plain_request_is_500(serve):
    s = serve("""
export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    return new Response(null, { status: 101, webSocket: client });
  },
};
""")
    with s.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 500")
    assert b"Upgrade: websocket" in data


def test_returning_an_accepted_end_fails_the_request(serve):
    s = serve("""
export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    return new Response(null, { status: 101, webSocket: client });
  },
};
""")
    ws = WS(s.port)
    assert ws.status == 500
    ws.close()
    assert "Can't return WebSocket in a Response after calling accept()." in s.read_output(0.3)


def test_chat_broadcast_between_clients(serve):
    """The seed's plain-Worker chat pattern: sessions in module scope, a message goes to everyone."""
    s = serve("""
const sessions = [];
export default {
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    sessions.push(server);
    server.addEventListener('message', (e) => {
      for (const ws of sessions) {
        try { ws.send(e.data); } catch (err) { /* closed */ }
      }
    });
    server.addEventListener('close', () => {
      sessions.splice(sessions.indexOf(server), 1);
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
""", "--threads", "1")
    a, b = WS(s.port), WS(s.port)
    a.send_text("from a")
    assert a.recv() == "from a"
    assert b.recv() == "from a"
    b.send_text("from b")
    assert a.recv() == "from b"
    assert b.recv() == "from b"
    a.close()
    b.close()


def test_timers_keep_running_while_open(serve):
    s = serve("""
export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    let n = 0;
    const t = setInterval(() => {
      server.send('tick ' + ++n);
      if (n === 3) { clearInterval(t); server.close(1000, 'done'); }
    }, 5);
    return new Response(null, { status: 101, webSocket: client });
  },
};
""")
    ws = WS(s.port)
    assert [ws.recv() for _ in range(3)] == ["tick 1", "tick 2", "tick 3"]
    assert ws.recv_close() == (1000, "done")
    ws.close()


def test_slow_reader_pauses_instead_of_buffering_forever(serve):
    """An echo to a client that does not read: the server stops reading once its output backs up, so
    the client's own sends eventually block; then everything still arrives in order once it reads."""
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    ws.sock.setblocking(False)
    chunk = ws.frame(2, b"y" * 65536)
    sent = 0
    blocked = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            n = ws.sock.send(chunk)
        except BlockingIOError:
            blocked = True
            break
        if n < len(chunk):
            blocked = True
            break
        sent += 1
    assert blocked, "the server kept reading although the client never read its echoes"
    ws.sock.setblocking(True)
    ws.sock.settimeout(10)
    # Drain a few echoes: the connection is still healthy.
    for _ in range(3):
        assert ws.recv() == (2, b"y" * 65536)
    ws.close()


def test_shutdown_sends_going_away(serve):
    s = serve(ECHO)
    ws = WS(s.port)
    assert ws.recv() == "hello"
    s.proc.send_signal(2)
    assert ws.recv_close() == (1001, "server shutting down")
    ws.send_frame(8, struct.pack("!H", 1001))
    assert ws.closed_by_server()
    ws.close()


# --- clients we did not write: Debian's python3-websockets, and headless Chromium ------------------------

def test_python_websockets_client(serve):
    import asyncio
    import websockets
    s = serve(ECHO)
    url = "ws://127.0.0.1:%d/" % s.port

    async def recv(ws):
        return await asyncio.wait_for(ws.recv(), 10)

    async def run():
        # It offers permessage-deflate, which the server declines; it sends fragments when given a list.
        async with websockets.connect(url, subprotocols=["chat"], max_size=None, open_timeout=10) as ws:
            assert ws.subprotocol == "chat"
            assert "Sec-WebSocket-Extensions" not in ws.response_headers
            assert await recv(ws) == "hello"
            await ws.send("héllo 🎉")
            assert await recv(ws) == "echo:héllo 🎉"
            big = os.urandom(1 << 20)
            await ws.send(big)
            assert await recv(ws) == big
            await asyncio.wait_for(await ws.ping(b"still there?"), 10)
            await ws.send(["frag", "ment"])
            assert await recv(ws) == "echo:fragment"
            await ws.send(b"x" * ((1 << 20) + 1))
            with pytest.raises(websockets.ConnectionClosedError):
                await recv(ws)
            assert (ws.close_code, ws.close_reason) == (1009, "message too big")
        async with websockets.connect(url, open_timeout=10) as ws:
            assert await recv(ws) == "hello"
            await ws.send("close-me")
            with pytest.raises(websockets.ConnectionClosed):
                await recv(ws)
            assert (ws.close_code, ws.close_reason) == (4000, "asked to")
        ws = await websockets.connect(url, open_timeout=10)
        assert await recv(ws) == "hello"
        await ws.close(1000, "bye")
        assert ws.close_code == 1000

    asyncio.run(run())
    assert "closed 1000 bye true" in s.read_output(0.3)


ECHO_IN_PAGE = r"""
(async () => {
  const ws = new WebSocket(URL, ['chat']);
  ws.binaryType = 'arraybuffer';
  const queue = [];
  let wake = null;
  ws.onmessage = (e) => { queue.push(e.data); if (wake) wake(); };
  const closed = new Promise((resolve) => { ws.onclose = (e) => resolve([e.code, e.reason, e.wasClean]); });
  const next = async () => {
    while (queue.length === 0) await new Promise((resolve) => { wake = resolve; });
    return queue.shift();
  };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('no connection')); });
  const out = { protocol: ws.protocol, extensions: ws.extensions, hello: await next() };
  ws.send('héllo 🎉');
  out.text = await next();
  const bytes = new Uint8Array(300000).map((_, i) => (i * 7 + (i >> 8)) & 255);
  ws.send(bytes);
  const back = new Uint8Array(await next());
  out.binary = back.length === bytes.length && back.every((b, i) => b === bytes[i]);
  ws.send('close-me');
  out.close = await closed;
  return out;
})()
"""


@needs_chromium
def test_echo_in_headless_chromium(serve, tmp_path):
    s = serve(ECHO)

    async def scenario(browser):
        # A page of the server's own origin (its 426 answer): Chromium lets only loopback pages open
        # connections to loopback addresses without asking (Local Network Access).
        page = await browser.open_page(s.url + "/")
        out = await browser.evaluate(page, ECHO_IN_PAGE.replace("URL", repr("ws://127.0.0.1:%d/" % s.port)))
        assert out == {"protocol": "chat", "extensions": "", "hello": "hello", "text": "echo:héllo 🎉",
                       "binary": True, "close": [4000, "asked to", True]}

    with_browser(tmp_path, scenario)
    assert "closed 4000 asked to true" in s.read_output(0.3)  # Chromium answers with the code and reason
