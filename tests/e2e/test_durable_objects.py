"""Durable Objects through ew-server: one instance per id across event-loop threads, storage that survives a
restart, alarms, idle eviction, and bad configuration reported at start-up."""
import concurrent.futures
import pathlib
import struct
import http.client
import json
import signal
import time

import pytest

from conftest import Server

WRANGLER = """
name = "dotest"
main = "index.js"
compatibility_date = "2025-01-01"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""

WORKER = """
import { DurableObject } from 'cloudflare:workers';

let instances = 0;

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.instance = ++instances;
    this.calls = 0;
  }
  async increment() {
    const n = ((await this.ctx.storage.get('n')) ?? 0) + 1;
    await this.ctx.storage.put('n', n);
    return n;
  }
  async fetch(request) {
    const url = new URL(request.url);
    this.calls++;
    if (url.pathname === '/inc') return new Response(String(await this.increment()));
    if (url.pathname === '/alarm') {
      await this.ctx.storage.setAlarm(Date.now() + Number(url.searchParams.get('ms')));
      return new Response('armed');
    }
    const n = (await this.ctx.storage.get('n')) ?? 0;
    const fired = (await this.ctx.storage.get('fired')) ?? 0;
    return Response.json({ n, fired, calls: this.calls, alarm: await this.ctx.storage.getAlarm() });
  }
  async alarm() {
    await this.ctx.storage.put('fired', ((await this.ctx.storage.get('fired')) ?? 0) + 1);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.COUNTER.getByName(url.searchParams.get('name') ?? 'main');
    if (url.pathname === '/rpc') return new Response(String(await stub.increment()));
    return stub.fetch(request);
  }
};
"""


def make_project(tmp_path, worker=WORKER, wrangler=WRANGLER):
    (tmp_path / "wrangler.toml").write_text(wrangler)
    (tmp_path / "index.js").write_text(worker)
    return tmp_path


def get(server, path, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    if conn is None:
        c.close()
    return r.status, body


def stopped_ok(server):
    rc = server.stop()
    assert rc == 0, "".join(server.output)


def test_counter_is_exact_across_threads_and_connections(tmp_path):
    s = Server(make_project(tmp_path), ["--threads", "2"])
    try:
        def worker(k):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            got = [get(s, "/inc" if i % 2 else "/rpc", conn) for i in range(25)]
            conn.close()
            return got

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = [r for rs in pool.map(worker, range(8)) for r in rs]
        assert all(status == 200 for status, _ in results), results
        values = sorted(int(body) for _, body in results)
        assert values == list(range(1, 201)), "every increment saw a distinct value"
        status, body = get(s, "/state")
        assert json.loads(body)["n"] == 200
    finally:
        stopped_ok(s)


def test_storage_survives_a_restart(tmp_path):
    project = make_project(tmp_path)
    s = Server(project, ["--threads", "2"])
    try:
        for _ in range(3):
            assert get(s, "/inc?name=keep")[0] == 200
    finally:
        stopped_ok(s)
    s = Server(project, ["--threads", "2"])
    try:
        status, body = get(s, "/state?name=keep")
        assert status == 200 and json.loads(body)["n"] == 3
        assert get(s, "/inc?name=keep") == (200, "4")
    finally:
        stopped_ok(s)


def wait_for(fn, limit=10.0):
    deadline = time.time() + limit
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(0.05)


def test_alarm_fires_and_a_pending_alarm_survives_a_restart(tmp_path):
    project = make_project(tmp_path)
    s = Server(project, ["--threads", "2"])
    try:
        assert get(s, "/alarm?name=a1&ms=50") == (200, "armed")
        state = wait_for(lambda: json.loads(get(s, "/state?name=a1")[1])["fired"] == 1 and
                         json.loads(get(s, "/state?name=a1")[1]))
        assert state and state["fired"] == 1 and state["alarm"] is None
        assert get(s, "/alarm?name=a2&ms=1500") == (200, "armed")
    finally:
        stopped_ok(s)
    s = Server(project, ["--threads", "2"])  # a2's alarm was stored, not yet fired
    try:
        fired = wait_for(lambda: json.loads(get(s, "/state?name=a2")[1])["fired"] == 1, 15)
        assert fired, "the stored alarm fired after the restart"
    finally:
        stopped_ok(s)


def test_idle_objects_are_evicted_and_come_back_from_storage(tmp_path):
    s = Server(make_project(tmp_path), ["--threads", "1", "--do-idle-ms", "100"])
    try:
        get(s, "/inc?name=idle")
        get(s, "/inc?name=idle")
        assert json.loads(get(s, "/state?name=idle")[1])["calls"] == 3
        time.sleep(0.6)
        state = json.loads(get(s, "/state?name=idle")[1])
        assert state["calls"] == 1, "a new instance after eviction"
        assert state["n"] == 2, "with the stored data"
    finally:
        stopped_ok(s)


def test_a_class_the_worker_does_not_export_is_a_startup_error(tmp_path):
    project = make_project(tmp_path, worker="export default { fetch() { return new Response('x'); } };")
    import subprocess
    from conftest import SERVER
    r = subprocess.run([str(SERVER), "--port", "0", str(project)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert 'does not export a class named "Counter"' in r.stderr + r.stdout


FAILING = """
import { DurableObject } from 'cloudflare:workers';
export class Counter extends DurableObject {
  spin() { for (;;) {} }
  boom() { throw new RangeError('deep'); }
  ok() { return 'fine'; }
}
export default {
  async fetch(request, env) {
    const stub = env.COUNTER.getByName('f');
    const what = new URL(request.url).pathname.slice(1);
    try {
      return new Response(String(await stub[what]()));
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  }
};
"""


def test_an_object_breaking_a_limit_or_throwing_rejects_the_caller_and_recovers(tmp_path):
    s = Server(make_project(tmp_path, worker=FAILING), ["--threads", "2", "--cpu-ms", "50"])
    try:
        assert get(s, "/boom") == (500, "RangeError: deep")
        assert get(s, "/spin") == (500, "Error: Worker exceeded CPU time limit.")
        assert get(s, "/ok") == (200, "fine")
    finally:
        stopped_ok(s)


from conftest import SEED  # noqa: E402


def seed_chat_room():
    """The seed's "WebSocket server with Durable Objects" example, verbatim."""
    text = SEED.read_text()
    start = text.index("// WebSocket server with Durable Objects")
    return text[start:text.index("```", start)]


CHAT_WRANGLER = """
name = "chat"
main = "index.js"
compatibility_date = "2025-01-01"

[[durable_objects.bindings]]
name = "CHAT_ROOM"
class_name = "ChatRoom"

[[migrations]]
tag = "v1"
new_classes = ["ChatRoom"]
"""


def test_seed_chat_room_broadcasts_between_clients_on_different_threads(tmp_path):
    from test_websocket import WS
    s = Server(make_project(tmp_path, worker=seed_chat_room(), wrangler=CHAT_WRANGLER), ["--threads", "2"])
    try:
        assert get(s, "/ws") == (400, "Expected websocket")
        assert get(s, "/other")[0] == 404
        clients = []
        for i in range(4):  # several connections: the kernel spreads them over both threads
            ws = WS(s.port, "/ws?room=lobby")
            assert ws.status == 101
            assert ws.headers["sec-websocket-accept"] == ws.expected_accept()
            welcome = json.loads(ws.recv())
            assert welcome["type"] == "welcome" and welcome["userCount"] == i + 1, welcome
            clients.append(ws)
        other = WS(s.port, "/ws?room=elsewhere")
        assert json.loads(other.recv())["userCount"] == 1
        clients[0].send_text(json.dumps({"type": "chat", "username": "ann", "text": "hi all"}))
        for ws in clients[1:]:
            msg = json.loads(ws.recv())
            assert (msg["type"], msg["username"], msg["text"]) == ("chat", "ann", "hi all")
        clients[2].send_text("not json")
        assert json.loads(clients[2].recv()) == {"error": "Invalid message format"}
        clients[1].send_frame(8, struct.pack("!H", 1000))
        assert clients[1].recv_close()[0] == 1000
        clients[3].send_text(json.dumps({"type": "typing", "username": "bob", "isTyping": True}))
        for ws in (clients[0], clients[2]):
            assert json.loads(ws.recv()) == {"type": "typing", "username": "bob", "isTyping": True}
        for ws in clients + [other]:
            ws.close()
    finally:
        stopped_ok(s)


CLOSING = """
const closes = [];
let instances = 0;

export class ChatRoom {
  constructor(state, env) { this.instance = ++instances; }
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/closes') return Response.json({ closes, instance: this.instance });
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener('message', (event) => {
      if (event.data === 'close first') server.close(4000, 'object closes');
    });
    server.addEventListener('close', (event) => {
      closes.push([event.code, event.reason, event.wasClean, this.instance]);
      if (event.code === 1000) server.close(4001, 'seen by the object');
    });
    return new Response(null, { status: 101, webSocket: client });
  }
}

export default {
  fetch(request, env) {
    return env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName('one')).fetch(request);
  }
};
"""


def test_the_close_handshake_of_an_objects_websocket_spans_the_object(tmp_path):
    """The close a client gets back is the object's answer (not an automatic one from the Worker in between),
    the object's close event carries the client's answer to the object's close, and a client that vanishes
    is a 1006 for the object: as with one socket on Cloudflare. Closed sockets let the object go idle."""
    from test_websocket import WS
    s = Server(make_project(tmp_path, worker=CLOSING, wrangler=CHAT_WRANGLER),
               ["--threads", "1", "--do-idle-ms", "200"])
    try:
        ws = WS(s.port, "/ws")
        ws.send_frame(8, struct.pack("!H", 1000) + b"bye")
        assert ws.recv_close() == (4001, "seen by the object")
        assert ws.closed_by_server()
        ws.close()
        ws = WS(s.port, "/ws")
        ws.send_text("close first")
        assert ws.recv_close() == (4000, "object closes")
        ws.send_frame(8, struct.pack("!H", 4002) + b"client answers")
        assert ws.closed_by_server()
        ws.close()
        ws = WS(s.port, "/ws")
        ws.close()  # no close frame
        deadline = time.monotonic() + 10
        while len(json.loads(get(s, "/closes")[1])["closes"]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        closes = json.loads(get(s, "/closes")[1])["closes"]
        assert [c[:3] for c in closes] == [[1000, "bye", True], [4002, "client answers", True],
                                           [1006, "WebSocket disconnected without sending Close frame.", False]]
        time.sleep(0.6)  # past the idle time: no socket keeps the object
        assert json.loads(get(s, "/closes")[1])["instance"] > closes[2][3]
    finally:
        stopped_ok(s)


PROXYING = """
export class ChatRoom {
  async fetch(request) {
    return fetch('http://127.0.0.1:PORT/', { headers: { Upgrade: 'websocket' } });
  }
}

export default {
  fetch(request, env) {
    return env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName('one')).fetch(request);
  }
};
"""


def test_an_object_returning_its_outbound_websocket_relays_it_and_its_loss(tmp_path):
    """The object answers with the socket of its own connection upstream: messages pass both ways, and when
    upstream vanishes the client gets a close it may see on the wire (1001; 1006 is never sent)."""
    import asyncio
    import websockets

    async def run():
        async def upstream(ws, path=None):
            await ws.send("upstream got " + await ws.recv())
            await ws.recv()
            ws.transport.abort()

        origin = await websockets.serve(upstream, "127.0.0.1", 0)
        port = origin.sockets[0].getsockname()[1]
        s = Server(make_project(tmp_path, worker=PROXYING.replace("PORT", str(port)), wrangler=CHAT_WRANGLER))
        try:
            ws = await websockets.connect("ws://127.0.0.1:%d/" % s.port, open_timeout=10)
            await ws.send("hi")
            assert await asyncio.wait_for(ws.recv(), 10) == "upstream got hi"
            await ws.send("now go")
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            assert (ws.close_code, ws.close_reason) == (1001, "WebSocket disconnected without sending Close frame.")
        finally:
            stopped_ok(s)
            origin.close()
            await origin.wait_closed()

    asyncio.run(run())


RELOADED = """
export class ChatRoom {
  constructor(state, env) { this.sessions = new Set(); }
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    this.sessions.add(server);
    server.addEventListener('message', (event) => {
      for (const s of this.sessions) if (s !== server) s.send(event.data);
    });
    server.addEventListener('close', () => this.sessions.delete(server));
    server.send('VERSION ' + this.sessions.size);
    return new Response(null, { status: 101, webSocket: client });
  }
}

export default {
  fetch(request, env) {
    if (new URL(request.url).pathname === '/version') return new Response('VERSION');
    return env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName('one')).fetch(request);
  }
};
"""


def test_after_a_reload_an_object_in_memory_keeps_its_code_and_stays_the_only_instance(tmp_path):
    """Cloudflare's deferred code update: the object in memory keeps the old code and takes the new
    version's calls too (one instance per id); once the old version is gone it resets (its sockets close
    with 1001) and the next call builds it from the new code."""
    from test_websocket import WS
    s = Server(make_project(tmp_path, worker=RELOADED.replace("VERSION", "v1"), wrangler=CHAT_WRANGLER),
               ["--threads", "2"])
    try:
        a = WS(s.port, "/ws")
        assert a.recv() == "v1 1"
        (tmp_path / "index.js").write_text(RELOADED.replace("VERSION", "v2"))
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while get(s, "/version")[1] != "v2" and time.monotonic() < deadline:
            time.sleep(0.05)
        b = WS(s.port, "/ws")  # through the new version, to the object still running v1
        assert b.recv() == "v1 2"
        b.send_text("from b")
        assert a.recv() == "from b"
        a.send_text("from a")
        assert b.recv() == "from a"
        a.send_frame(8, struct.pack("!H", 1000))
        assert a.recv_close()[0] == 1000
        a.close()  # the old version's last request: it goes, and the object with it
        assert b.recv_close() == (1001, "The Durable Object's isolate went away.")
        b.close()
        c = WS(s.port, "/ws")
        assert c.recv() == "v2 1"
        c.close()
    finally:
        stopped_ok(s)


HIBERNATING = """
import { DurableObject } from 'cloudflare:workers';

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }
  async fetch(request) {
    const url = new URL(request.url);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [url.searchParams.get('team') ?? 'none']);
    server.serializeAttachment({ user: url.searchParams.get('user'), joined: new Date(5) });
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, message) {
    const me = ws.deserializeAttachment();
    if (message === 'who') {
      const team = this.ctx.getTags(ws)[0];
      const names = this.ctx.getWebSockets(team).map((w) => w.deserializeAttachment().user).sort();
      ws.send(JSON.stringify({ team, names, all: this.ctx.getWebSockets().length,
                               joined: me.joined instanceof Date && me.joined.getTime(),
                               auto: this.ctx.getWebSocketAutoResponseTimestamp(ws) !== null }));
      return;
    }
    for (const other of this.ctx.getWebSockets()) other.send(`${me.user}: ${message}`);
  }
  async webSocketClose(ws, code, reason, wasClean) {
    for (const other of this.ctx.getWebSockets()) other.send(`left ${ws.deserializeAttachment().user} ${code}`);
  }
}

export default {
  fetch(request, env) {
    return env.ROOM.getByName('r').fetch(request);
  }
};
"""

HIB_WRANGLER = CHAT_WRANGLER.replace('"CHAT_ROOM"', '"ROOM"').replace('"ChatRoom"', '"Room"')


def test_hibernation_api_tags_attachments_auto_response_and_handlers(tmp_path):
    from test_websocket import WS
    s = Server(make_project(tmp_path, worker=HIBERNATING, wrangler=HIB_WRANGLER), ["--threads", "2"])
    try:
        ann = WS(s.port, "/?team=red&user=ann")
        bob = WS(s.port, "/?team=red&user=bob")
        cyd = WS(s.port, "/?team=blue&user=cyd")
        assert (ann.status, bob.status, cyd.status) == (101, 101, 101)
        ann.send_text("ping")
        assert ann.recv() == "pong"
        ann.send_text("who")
        assert json.loads(ann.recv()) == {"team": "red", "names": ["ann", "bob"], "all": 3, "joined": 5,
                                          "auto": True}
        cyd.send_text("hello")
        assert [w.recv() for w in (ann, bob, cyd)] == ["cyd: hello"] * 3
        bob.send_frame(8, struct.pack("!H", 4001))
        assert bob.recv_close()[0] == 4001
        assert ann.recv() == "left bob 4001"
        assert cyd.recv() == "left bob 4001"
        cyd.close()  # gone without a close frame: webSocketClose gets 1006, as on Cloudflare
        assert ann.recv() == "left cyd 1006"
        for w in (ann, bob):
            w.close()
    finally:
        stopped_ok(s)


RUNAWAY_SQL = """
import { DurableObject } from 'cloudflare:workers';
export class Counter extends DurableObject {
  forever() {
    return this.ctx.storage.sql.exec(
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c').one();
  }
  ok() { return 'fine'; }
}
export default {
  async fetch(request, env) {
    const stub = env.COUNTER.getByName('sql');
    try {
      return new Response(String(await stub[new URL(request.url).pathname.slice(1)]()));
    } catch (e) {
      return new Response(`${e.name}: ${e.message}`, { status: 500 });
    }
  }
};
"""


def test_a_runaway_sql_query_is_stopped_by_the_cpu_limit(tmp_path):
    s = Server(make_project(tmp_path, worker=RUNAWAY_SQL), ["--threads", "1", "--cpu-ms", "50"])
    try:
        assert get(s, "/forever") == (500, "Error: Worker exceeded CPU time limit.")
        assert get(s, "/ok") == (200, "fine")
    finally:
        stopped_ok(s)
