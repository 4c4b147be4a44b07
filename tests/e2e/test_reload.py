"""Reloading the Worker without a restart: SIGHUP, --watch; in-flight requests (and open WebSockets)
finish on the old version; a broken edit is refused and the old version keeps serving."""
import signal
import threading
import time
import urllib.request

import pytest

from conftest import Server
from test_websocket import WS

SOURCE = r"""
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, 600));
    if (request.headers.get('Upgrade') === 'websocket') {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener('message', (e) => server.send('VERSION:' + e.data));
      return new Response(null, { status: 101, webSocket: client });
    }
    return new Response('VERSION');
  },
};
"""


def project(tmp_path, version):
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "wrangler.toml").write_text('name = "reload"\nmain = "src/index.js"\ncompatibility_date = "2024-09-01"\n')
    write(tmp_path, version)
    return tmp_path


def write(tmp_path, version, broken=False):
    src = SOURCE.replace("VERSION", version)
    if broken:
        src += "\nexport const = ;\n"
    (tmp_path / "src" / "index.js").write_text(src)


def get(server, path="/"):
    with urllib.request.urlopen(server.url + path, timeout=10) as r:
        return r.read().decode()


def wait_for(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(server) == text:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def run(tmp_path):
    servers = []

    def start(*args):
        s = Server(tmp_path, args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0, "".join(s.output)


def test_sighup_reloads_and_in_flight_requests_finish_on_the_old_version(run, tmp_path):
    project(tmp_path, "v1")
    s = run("--threads", "2")
    assert get(s) == "v1"
    slow = {}
    t = threading.Thread(target=lambda: slow.setdefault("body", get(s, "/slow")))
    t.start()
    time.sleep(0.2)  # the slow request is in the Worker now
    write(tmp_path, "v2")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(s, "v2")
    t.join(10)
    assert slow["body"] == "v1"
    assert "SIGHUP: reloaded the Worker" in s.read_output(0.2)


def test_watch_reloads_on_change_and_refuses_a_broken_edit(run, tmp_path):
    project(tmp_path, "w1")
    s = run("--watch", "--threads", "1")
    assert get(s) == "w1"
    write(tmp_path, "w2")
    assert wait_for(s, "w2")
    write(tmp_path, "w3", broken=True)
    time.sleep(1.5)
    assert get(s) == "w2"
    assert "reload refused" in s.read_output(0)
    write(tmp_path, "w4")
    assert wait_for(s, "w4")


def test_open_websocket_survives_a_reload(run, tmp_path):
    project(tmp_path, "ws1")
    s = run("--threads", "1")
    ws = WS(s.port)
    assert ws.status == 101
    ws.send_text("a")
    assert ws.recv() == "ws1:a"
    write(tmp_path, "ws2")
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(s, "ws2")
    ws.send_text("b")
    assert ws.recv() == "ws1:b"  # the old version keeps its connection
    ws2 = WS(s.port)
    ws2.send_text("c")
    assert ws2.recv() == "ws2:c"
    ws.close()
    ws2.close()
