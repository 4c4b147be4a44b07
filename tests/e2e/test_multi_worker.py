"""Several Workers in one ew-server (ew-server -c a -c b ..., as `wrangler dev -c a -c b`): routes pick the
Worker of a request by host and path, service bindings (fetch and RPC) between the Workers, across loop
threads, and the start-up errors of a server whose projects do not fit together."""
import http.client
import subprocess
import time

import pytest

from conftest import SERVER, Server

GATEWAY_TOML = """
name = "gateway"
main = "index.js"
compatibility_date = "2024-09-01"
services = [
  { binding = "AUTH", service = "auth" },
  { binding = "ADMIN", service = "auth", entrypoint = "Admin" },
  { binding = "SELF", service = "gateway" },
]
"""

GATEWAY_JS = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      switch (url.pathname) {
        case '/login': {
          const r = await env.AUTH.fetch(new Request('https://auth.internal/login' + url.search, {
            method: 'POST', body: await request.text(), headers: {'x-user': request.headers.get('x-user') || ''}}));
          return new Response('gateway got ' + r.status + ' ' + r.headers.get('x-auth') + ' ' + await r.text(),
                              {status: r.status === 403 ? 403 : 200});
        }
        case '/verify': {
          const v = await env.AUTH.verify(url.searchParams.get('t'), new Map([['scope', 'read']]));
          return Response.json(v);
        }
        case '/bad': await env.AUTH.verify('');
          return new Response('unreachable');
        case '/admin': return Response.json(await env.ADMIN.stats(new Date(0)));
        case '/seen': return new Response(String(await env.AUTH.seen()));
        case '/nomethod': await env.AUTH.missing(); return new Response('unreachable');
        case '/loop': return await env.SELF.fetch(request);
        default: return new Response('gateway ' + url.host + url.pathname);
      }
    } catch (e) {
      return new Response(e.name + ': ' + e.message, {status: 500});
    }
  },
};
"""

AUTH_TOML = """
name = "auth"
main = "index.js"
compatibility_date = "2024-09-01"
routes = ["auth.example.com/*"]
kv_namespaces = [{ binding = "KV", id = "auth-kv" }]
"""

AUTH_JS = """
import { WorkerEntrypoint } from 'cloudflare:workers';

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.hostname === 'auth.example.com') return new Response('auth direct ' + url.pathname);
    const user = request.headers.get('x-user');
    // waitUntil work of the target runs after its response went back to the caller
    this.ctx.waitUntil(new Promise((r) => setTimeout(r, 20)).then(() => this.env.KV.put('seen', user)));
    return new Response(request.method + ' ' + url.search + ' ' + await request.text(),
                        {status: user === 'mallory' ? 403 : 201, headers: {'x-auth': 'ok-' + user}});
  }
  verify(token, opts) {
    if (!token) throw new TypeError('no token given');
    return {token, user: 'u-' + token, scope: opts.get('scope')};
  }
  async seen() { return this.env.KV.get('seen'); }
}

export class Admin extends WorkerEntrypoint {
  stats(since) { return {since: since.toISOString(), workers: 3}; }
}
"""

API_TOML = """
name = "api"
main = "index.js"
compatibility_date = "2024-09-01"
routes = [
  "example.com/api/*",
  { pattern = "*.api.test/*", zone_name = "api.test" },
]
"""

API_JS = """
export default { fetch(request) { const u = new URL(request.url); return new Response('api ' + u.host + u.pathname); } };
"""


def write_project(root, name, toml, js):
    d = root / name
    d.mkdir()
    (d / "wrangler.toml").write_text(toml)
    (d / "index.js").write_text(js)
    return d / "wrangler.toml"


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def three(tmp_path, request):
    gateway = write_project(tmp_path, "gateway", GATEWAY_TOML, GATEWAY_JS)
    auth = write_project(tmp_path, "auth", AUTH_TOML, AUTH_JS)
    api = write_project(tmp_path, "api", API_TOML, API_JS)
    # -c flags and a PATH argument mix; the first project named is the primary
    s = Server(api, ("--threads", str(request.param), "--persist-to", str(tmp_path / "state"),
                     "-c", str(gateway), "--config", str(auth)))
    yield s
    assert s.stop() == 0, "".join(s.output)


def get(server, path, host=None, method="GET", body=None, headers=None):
    """One request on a new connection (so that, with two threads, requests land on both)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    h = dict(headers or {})
    if host is not None:
        h["Host"] = host
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    out = (r.status, r.read().decode())
    conn.close()
    return out


def test_routes_pick_the_worker_by_host_and_path(three):
    assert get(three, "/api/users", "example.com") == (200, "api example.com/api/users")
    assert get(three, "/apix", "example.com") == (200, "gateway example.com/apix")
    assert get(three, "/other", "example.com") == (200, "gateway example.com/other")
    assert get(three, "/a/b", "auth.example.com") == (200, "auth direct /a/b")
    assert get(three, "/z", "v1.api.test") == (200, "api v1.api.test/z")
    assert get(three, "/z", "api.test") == (200, "gateway api.test/z")
    assert get(three, "/")[1].startswith("gateway 127.0.0.1:")


def test_startup_lists_each_worker_and_its_bindings(three):
    out = three.read_output()
    assert 'Worker "gateway"' in out and "the primary" in out
    assert "  - AUTH: auth" in out and "  - ADMIN: auth#Admin" in out
    assert "route example.com/api/*" in out


def test_service_binding_fetch_round_trip(three):
    for _ in range(4):  # with two threads, both threads' runtimes answer some of them
        status, body = get(three, "/login?next=%2Fhome", method="POST", body="pw=1", headers={"x-user": "alice"})
        assert (status, body) == (200, "gateway got 201 ok-alice POST ?next=%2Fhome pw=1")
    assert get(three, "/login", method="POST", body="", headers={"x-user": "mallory"}) == \
        (403, "gateway got 403 ok-mallory POST  ")


def test_the_targets_wait_until_runs_after_its_response(three):
    get(three, "/login", method="POST", body="x", headers={"x-user": "carol"})
    deadline = time.time() + 10
    while get(three, "/seen")[1] != "carol" and time.time() < deadline:
        time.sleep(0.05)
    assert get(three, "/seen") == (200, "carol")


def test_service_binding_rpc_round_trip(three):
    for _ in range(4):
        assert get(three, "/verify?t=abc") == (200, '{"token":"abc","user":"u-abc","scope":"read"}')
    assert get(three, "/admin") == (200, '{"since":"1970-01-01T00:00:00.000Z","workers":3}')


def test_rpc_errors_come_back_as_errors_with_their_message(three):
    assert get(three, "/bad") == (500, "TypeError: no token given")
    assert get(three, "/nomethod") == (500, 'TypeError: The RPC receiver does not implement the method "missing".')


def test_a_worker_calling_itself_stops_at_the_depth_limit(three):
    status, body = get(three, "/loop")
    assert status == 500
    assert "Subrequest depth limit exceeded." in body


def run_failing(*args):
    p = subprocess.run([str(SERVER), "--port", "0", *map(str, args)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stdout + p.stderr
    return p.stderr


def test_a_service_binding_to_a_worker_not_loaded_is_a_startup_error(tmp_path):
    gateway = write_project(tmp_path, "gateway", GATEWAY_TOML, GATEWAY_JS)
    err = run_failing(gateway)
    assert "%s:6:3: service binding AUTH names the Worker \"auth\", which this server does not run" % gateway in err


def test_two_workers_with_one_name_are_refused(tmp_path):
    a = write_project(tmp_path, "a", API_TOML, API_JS)
    b = write_project(tmp_path, "b", API_TOML, API_JS)
    err = run_failing("-c", a, "-c", b)
    assert "%s and %s both name their Worker \"api\"" % (a, b) in err


def test_a_bad_route_pattern_is_a_configuration_error(tmp_path):
    bad = write_project(tmp_path, "bad", API_TOML.replace("example.com/api/*", "example.com/a*pi"), API_JS)
    err = run_failing(bad)
    assert "wrangler.toml:6:3: 'routes[0]': route \"example.com/a*pi\": a wildcard '*' may only start the host" in err


def test_a_reload_replaces_every_worker(tmp_path):
    import signal
    gateway = write_project(tmp_path, "gateway", GATEWAY_TOML, GATEWAY_JS)
    auth = write_project(tmp_path, "auth", AUTH_TOML, AUTH_JS)
    s = Server(auth, ("--threads", "2", "--persist-to", str(tmp_path / "state"), "-c", gateway))
    try:
        assert get(s, "/verify?t=1")[1] == '{"token":"1","user":"u-1","scope":"read"}'
        (auth.parent / "index.js").write_text(AUTH_JS.replace("'u-' + token", "'v2-' + token"))
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reloaded the Workers" not in s.read_output(0.05) and time.time() < deadline:
            pass
        for _ in range(4):
            assert get(s, "/verify?t=1")[1] == '{"token":"1","user":"v2-1","scope":"read"}'
        assert get(s, "/x", "auth.example.com") == (200, "auth direct /x")
    finally:
        assert s.stop() == 0, "".join(s.output)


COUNTER_TOML = """
name = "counter"
main = "index.js"
compatibility_date = "2024-09-01"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
"""

COUNTER_JS = """
import { DurableObject } from 'cloudflare:workers';
export class Counter extends DurableObject {
  async inc(by) {
    const n = ((await this.ctx.storage.get('n')) ?? 0) + by;
    await this.ctx.storage.put('n', n);
    return {n, sql: typeof this.ctx.storage.sql.exec};
  }
  async fetch(request) { return new Response('object ' + new URL(request.url).pathname); }
}
export default { fetch() { return new Response('counter worker'); } };
"""

FRONT_TOML = """
name = "front"
main = "index.js"
compatibility_date = "2024-09-01"
durable_objects.bindings = [{ name = "COUNTER", class_name = "Counter", script_name = "counter" }]
"""

FRONT_JS = """
export default {
  async fetch(request, env) {
    const stub = env.COUNTER.getByName('shared');
    if (new URL(request.url).pathname === '/inc') return Response.json(await stub.inc(1));
    return stub.fetch('https://do/' + 'hello');
  },
};
"""


def test_durable_object_binding_to_a_class_of_another_worker(tmp_path):
    front = write_project(tmp_path, "front", FRONT_TOML, FRONT_JS)
    counter = write_project(tmp_path, "counter", COUNTER_TOML, COUNTER_JS)
    s = Server(counter, ("--threads", "2", "--persist-to", str(tmp_path / "state"), "-c", front))
    try:
        assert "  - COUNTER: Counter (defined in counter)" in s.read_output(0)
        # one instance for the id, whichever thread takes the connection; the class is counter's (SQLite)
        for i in range(1, 5):
            assert get(s, "/inc") == (200, '{"n":%d,"sql":"function"}' % i)
        assert get(s, "/x") == (200, "object /hello")
    finally:
        assert s.stop() == 0, "".join(s.output)
    assert (tmp_path / "state" / "do" / "counter-Counter").is_dir()


def test_a_script_name_of_a_worker_not_loaded_is_a_startup_error(tmp_path):
    front = write_project(tmp_path, "front", FRONT_TOML, FRONT_JS)
    err = run_failing(front)
    assert "Durable Object binding COUNTER names script_name \"counter\", which this server does not run" in err


def test_watch_follows_every_projects_folder(tmp_path):
    gateway = write_project(tmp_path, "gateway", GATEWAY_TOML, GATEWAY_JS)
    auth = write_project(tmp_path, "auth", AUTH_TOML, AUTH_JS)
    s = Server(auth, ("--threads", "1", "--watch", "--persist-to", str(tmp_path / "state"), "-c", gateway))
    try:
        assert get(s, "/verify?t=1")[1] == '{"token":"1","user":"u-1","scope":"read"}'
        (auth.parent / "index.js").write_text(AUTH_JS.replace("'u-' + token", "'w-' + token"))  # not the primary
        deadline = time.time() + 10
        while get(s, "/verify?t=1")[1] != '{"token":"1","user":"w-1","scope":"read"}' and time.time() < deadline:
            time.sleep(0.1)
        assert get(s, "/verify?t=1")[1] == '{"token":"1","user":"w-1","scope":"read"}'
    finally:
        assert s.stop() == 0, "".join(s.output)


CHAT_TOML = """
name = "chat"
main = "index.js"
compatibility_date = "2024-09-01"
"""

CHAT_JS = """
export default {
  fetch(request) {
    if (request.headers.get('upgrade') !== 'websocket') return new Response('chat');
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.send('welcome');
    server.addEventListener('message', (e) => {
      if (e.data === 'bye') server.close(4000, 'see you');
      else server.send('echo:' + e.data);
    });
    return new Response(null, {status: 101, webSocket: client, headers: {'x-chat': 'yes'}});
  },
};
"""

WS_GATEWAY_TOML = """
name = "wsgw"
main = "index.js"
compatibility_date = "2024-09-01"
services = [{ binding = "CHAT", service = "chat" }]
"""

WS_GATEWAY_JS = """
export default { fetch(request, env) { return env.CHAT.fetch(request); } };
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_a_websocket_passes_through_a_service_binding(tmp_path, threads):
    from test_websocket import WS
    gw = write_project(tmp_path, "wsgw", WS_GATEWAY_TOML, WS_GATEWAY_JS)
    chat = write_project(tmp_path, "chat", CHAT_TOML, CHAT_JS)
    s = Server(chat, ("--threads", str(threads), "-c", gw))
    try:
        for round_ in range(2):
            ws = WS(s.port)
            assert ws.status == 101 and ws.headers["x-chat"] == "yes"
            assert ws.recv() == "welcome"
            ws.send_text("hi %d" % round_)
            assert ws.recv() == "echo:hi %d" % round_
            ws.send_text("bye")
            assert ws.recv_close() == (4000, "see you")
            ws.close()
        ws = WS(s.port)  # the client goes away without a close frame: nothing is left behind
        assert ws.recv() == "welcome"
        ws.close()
        assert get(s, "/") == (200, "chat")
    finally:
        assert s.stop() == 0, "".join(s.output)


def test_stopping_with_a_websocket_open_through_a_service_binding(tmp_path):
    from test_websocket import WS
    gw = write_project(tmp_path, "wsgw", WS_GATEWAY_TOML, WS_GATEWAY_JS)
    chat = write_project(tmp_path, "chat", CHAT_TOML, CHAT_JS)
    s = Server(chat, ("--threads", "1", "-c", gw))
    ws = WS(s.port)
    assert ws.recv() == "welcome"
    assert s.stop() == 0, "".join(s.output)  # the relay's ends are released with the runtime
    ws.close()


STREAM_TOML = """
name = "ticker"
main = "index.js"
compatibility_date = "2024-09-01"
routes = ["ticker.test/*"]
"""

STREAM_JS = """
let released = false;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/release') { released = true; return new Response('released'); }
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter(), enc = new TextEncoder();
    (async () => {
      await writer.write(enc.encode('first\\n'));
      // the rest only once the client has seen the first chunk and said so (a timer keeps the request busy)
      while (!released) await new Promise((r) => setTimeout(r, 5));
      await writer.write(enc.encode('second\\n'));
      await writer.close();
    })();
    return new Response(readable, {headers: {'content-type': 'text/event-stream'}});
  },
};
"""

STREAM_GATEWAY_TOML = """
name = "sgw"
main = "index.js"
compatibility_date = "2024-09-01"
services = [{ binding = "TICKER", service = "ticker" }]
"""

STREAM_GATEWAY_JS = """
export default {
  async fetch(request, env) {
    const r = await env.TICKER.fetch(request);
    if (new URL(request.url).pathname === '/whole') return new Response('whole: ' + await r.text());
    return r;
  },
};
"""


def test_a_streamed_body_flows_through_a_service_binding(tmp_path):
    import socket
    gw = write_project(tmp_path, "sgw", STREAM_GATEWAY_TOML, STREAM_GATEWAY_JS)
    ticker = write_project(tmp_path, "ticker", STREAM_TOML, STREAM_JS)
    s = Server(ticker, ("--threads", "1", "-c", gw))
    try:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
        got = b""
        while b"first\n" not in got:  # the first chunk arrives while the ticker's stream is still open
            chunk = sock.recv(4096)
            assert chunk, got
            got += chunk
        assert b"transfer-encoding: chunked" in got.lower() and b"second" not in got
        assert get(s, "/release", "ticker.test") == (200, "released")
        while not got.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(4096)
            assert chunk, (got, s.read_output())
            got += chunk
        assert b"second\n" in got
        sock.close()
        # read whole by the caller; and a client that leaves mid-stream cancels the target's stream
        assert get(s, "/whole", "gateway.test") == (200, "whole: first\nsecond\n")
    finally:
        assert s.stop() == 0, "".join(s.output)


ENDLESS_JS = """
let cancelled = 'no';
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/status') return new Response(cancelled);
    const enc = new TextEncoder();
    return new Response(new ReadableStream({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 5));
        controller.enqueue(enc.encode('tick\\n'));
      },
      cancel() { cancelled = 'yes'; },  // the client's disconnection reaches the service's stream
    }));
  },
};
"""


def test_a_client_leaving_cancels_the_services_stream(tmp_path):
    import socket
    gw = write_project(tmp_path, "sgw", STREAM_GATEWAY_TOML, STREAM_GATEWAY_JS)
    ticker = write_project(tmp_path, "ticker", STREAM_TOML, ENDLESS_JS)
    s = Server(ticker, ("--threads", "1", "-c", gw))
    try:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
        got = b""
        while b"tick\n" not in got:
            chunk = sock.recv(4096)
            assert chunk, got
            got += chunk
        sock.close()
        deadline = time.time() + 10
        while get(s, "/status", "ticker.test")[1] != "yes" and time.time() < deadline:
            time.sleep(0.05)
        assert get(s, "/status", "ticker.test") == (200, "yes")
    finally:
        assert s.stop() == 0, "".join(s.output)
