"""Outbound WebSockets: `new WebSocket(url)` in a Worker, against another ew-server (ws:// and wss://):
open with the chosen protocol, messages both ways, the close handshake, and failures (1006 + error)."""
import json
import subprocess
import urllib.parse
import urllib.request

import pytest

from test_websocket import ECHO

CLIENT = r"""
export default {
  fetch(request) {
    const target = new URL(request.url).searchParams.get('to');
    const ws = new WebSocket(target, ['chat', 'other']);
    const events = ['state:' + ws.readyState + ':' + (ws.url === target)];
    return new Promise((resolve) => {
      ws.addEventListener('open', () => {
        events.push('open:' + ws.protocol + ':' + ws.readyState);
        ws.send('ping1');
        ws.send(new Uint8Array([1, 2, 3]));
      });
      ws.addEventListener('message', (e) => {
        events.push(typeof e.data === 'string' ? e.data : 'bytes:' + new Uint8Array(e.data).join(','));
        if (e.data === 'echo:ping1') ws.send('close-me');
      });
      ws.addEventListener('error', () => events.push('error'));
      ws.addEventListener('close', (e) => {
        events.push('close:' + e.code + ':' + e.reason + ':' + e.wasClean);
        resolve(Response.json(events));
      });
    });
  },
};
"""


def ask(server, target):
    q = urllib.parse.urlencode({"to": target})
    with urllib.request.urlopen(server.url + "/?" + q, timeout=20) as r:
        return json.loads(r.read())


def test_ws_round_trip(serve):
    origin = serve(ECHO)
    client = serve(CLIENT)
    events = ask(client, "ws://127.0.0.1:%d/room?x=1" % origin.port)
    assert events == ["state:0:true", "open:chat:1", "hello", "echo:ping1", "bytes:1,2,3",
                      "close:4000:asked to:true"]
    assert "closed 4000  true" in origin.read_output(0.3)  # the origin's Worker saw our answer


def test_connection_refused_is_error_then_1006(serve):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    client = serve(CLIENT)
    events = ask(client, "ws://127.0.0.1:%d/" % port)
    assert events == ["state:0:true", "error", "close:1006:Failed to establish websocket connection:false"]


def test_not_a_websocket_server_is_1006(serve):
    origin = serve("export default { fetch() { return new Response('plain'); } };")
    client = serve(CLIENT)
    events = ask(client, "ws://127.0.0.1:%d/" % origin.port)
    assert events[-1] == "close:1006:Failed to establish websocket connection:false"


def test_wss_with_a_trusted_ca(serve, tmp_path):
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    origin = serve(ECHO, "--tls-cert", str(crt), "--tls-key", str(key))
    client = serve(CLIENT, "--ca-file", str(crt))
    events = ask(client, "wss://localhost:%d/" % origin.port)
    assert events[:3] == ["state:0:true", "open:chat:1", "hello"]
    assert events[-1] == "close:4000:asked to:true"
    # Without trusting the certificate, the connection fails.
    other = serve(CLIENT)
    assert ask(other, "wss://localhost:%d/" % origin.port)[-1].startswith("close:1006")


def test_open_outbound_socket_outlives_its_response_and_shutdown_is_clean(serve):
    origin = serve(ECHO)
    client = serve("""
let socket;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/open') {
      socket = new WebSocket(url.searchParams.get('to'));
      socket.addEventListener('message', (e) => console.log('got ' + e.data));
      await new Promise((r) => socket.addEventListener('open', r));
      return new Response('opened');
    }
    socket.send('later');
    return new Response('sent');
  },
};
""", "--threads", "1")
    q = urllib.parse.urlencode({"to": "ws://127.0.0.1:%d/" % origin.port})
    assert urllib.request.urlopen(client.url + "/open?" + q, timeout=10).read() == b"opened"
    assert urllib.request.urlopen(client.url + "/send", timeout=10).read() == b"sent"
    out = client.read_output(0.5)
    assert "got hello" in out and "got echo:later" in out
    assert client.stop() == 0  # the open socket is closed with the runtime: 1001 going away
    assert "closed 1001" in origin.read_output(0.5)


FETCH_CLIENT = r"""
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get('to');
    let resp;
    try {
      resp = await fetch(target, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'chat', 'X-Token': 't1' } });
    } catch (e) {
      return Response.json([e.constructor.name + ': ' + e.message]);
    }
    const ws = resp.webSocket;
    const events = ['status:' + resp.status + ':' + resp.headers.get('sec-websocket-protocol')];
    ws.accept();
    return new Promise((resolve) => {
      ws.addEventListener('message', (e) => {
        events.push(e.data);
        if (e.data === 'hello' || e.data.startsWith('token=')) ws.send('via fetch');
        else ws.close(1000, 'bye');
      });
      ws.addEventListener('close', (e) => {
        events.push('close:' + e.code);
        resolve(Response.json(events));
      });
    });
  },
};
"""


def test_fetch_with_upgrade_gives_a_101_with_its_websocket(serve):
    origin = serve(ECHO)
    client = serve(FETCH_CLIENT)
    events = ask(client, "http://127.0.0.1:%d/" % origin.port)
    assert events == ["status:101:chat", "hello", "echo:via fetch", "close:1000"]


def test_fetch_with_upgrade_to_a_plain_server_rejects(serve):
    origin = serve("export default { fetch() { return new Response('plain'); } };")
    client = serve(FETCH_CLIENT)
    events = ask(client, "http://127.0.0.1:%d/" % origin.port)
    assert events == ["TypeError: Failed to establish the WebSocket connection: "
                      "Failed to establish websocket connection."]


def test_fetch_upgrade_sends_the_request_headers(serve):
    origin = serve("""
export default {
  fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.send('token=' + request.headers.get('x-token') + ' path=' + new URL(request.url).pathname +
                new URL(request.url).search);
    server.addEventListener('message', () => server.close(1000, ''));
    return new Response(null, { status: 101, webSocket: client });
  },
};
""")
    client = serve(FETCH_CLIENT.replace("ws.send('via fetch')", "ws.send('x')"))
    events = ask(client, "http://127.0.0.1:%d/p?q=1" % origin.port)
    assert events[1] == "token=t1 path=/p?q=1"


def test_websockets_count_as_subrequests(serve, tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "wrangler.toml").write_text(
        'name = "sub"\nmain = "w.js"\ncompatibility_date = "2024-09-01"\n[limits]\nsubrequests = 2\n')
    (tmp_path / "proj" / "w.js").write_text("""
export default {
  fetch() {
    const made = [];
    try {
      for (let i = 0; i < 3; i++) { new WebSocket('ws://127.0.0.1:9/'); made.push(i); }
    } catch (e) {
      made.push(e.message);
    }
    return Response.json(made);
  },
};
""")
    from conftest import Server
    s = Server(tmp_path / "proj", [])
    try:
        with urllib.request.urlopen(s.url + "/", timeout=10) as r:
            assert json.loads(r.read()) == [0, 1, "Too many subrequests by single Worker invocation."]
    finally:
        assert s.stop() == 0
