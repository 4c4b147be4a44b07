"""fetch() over HTTP/2: an https origin served by nghttpd (Debian's nghttp2-server), which speaks only h2, so
every answer proves that ALPN picked h2 and the client's streams work."""
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import Server
from test_fetch import certs  # noqa: F401  (the module-scoped CA fixture)

NGHTTPD = shutil.which("nghttpd") or "/usr/sbin/nghttpd"

WORKER = r"""
export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const u = q.get('u');
    try {
      switch (new URL(request.url).pathname) {
        case '/get': {
          const r = await fetch(u);
          const body = await r.text();
          return Response.json({ status: r.status, statusText: r.statusText, length: body.length,
                                 head: body.slice(0, 20), type: r.headers.get('content-type') });
        }
        case '/post': {
          const r = await fetch(u, { method: 'POST', body: q.get('body') });
          return Response.json({ status: r.status, body: await r.text() });
        }
        case '/first-then-more': {  // read one chunk and cancel, then the connection still serves
          const r = await fetch(u);
          const reader = r.body.getReader();
          await reader.read();
          await reader.cancel();
          const again = await (await fetch(q.get('v'))).text();
          return Response.json({ again });
        }
        case '/abort-body': {
          const controller = new AbortController();
          const r = await fetch(u, { signal: controller.signal });
          controller.abort();
          try { await r.arrayBuffer(); } catch (e) { return Response.json({ error: e.name }); }
          return Response.json({ error: null });
        }
        case '/parallel': {
          const rs = await Promise.all(Array.from({ length: Number(q.get('n')) }, () => fetch(u)));
          return Response.json(await Promise.all(rs.map(r => r.text())));
        }
      }
    } catch (e) { return Response.json({ error: e.name, message: e.message }); }
    return new Response('no route', { status: 404 });
  }
};
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def h2_origin(tmp_path_factory, certs):  # noqa: F811
    docroot = tmp_path_factory.mktemp("docroot")
    (docroot / "hello.txt").write_text("hello over h2\n")
    (docroot / "big.bin").write_bytes(b"q" * (5 * 1024 * 1024))
    port = free_port()
    proc = subprocess.Popen([NGHTTPD, "--htdocs=%s" % docroot, "--echo-upload", "--address=127.0.0.1", str(port),
                             str(certs / "host.key"), str(certs / "host.pem")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield "https://localhost:%d" % port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def worker(tmp_path_factory, certs):  # noqa: F811
    d = tmp_path_factory.mktemp("h2worker")
    (d / "worker.js").write_text(WORKER)
    # --cpu-ms: 5 MiB through a ReadableStream is JavaScript work (see test_fetch.py)
    s = Server(d / "worker.js", ["--ca-file", str(certs / "ca.pem"), "--threads", "1", "--cpu-ms", "2000"])
    yield s
    assert s.stop() == 0, "".join(s.output)


def call(worker, route, **params):
    with urllib.request.urlopen("%s/%s?%s" % (worker.url, route, urllib.parse.urlencode(params)), timeout=30) as r:
        return json.loads(r.read())


def test_h2_get(worker, h2_origin):
    r = call(worker, "get", u=h2_origin + "/hello.txt")
    assert r["status"] == 200 and r["statusText"] == "OK"
    assert r["head"] == "hello over h2\n" and r["type"].startswith("text/plain")


def test_h2_large_body_with_flow_control(worker, h2_origin):
    r = call(worker, "get", u=h2_origin + "/big.bin")
    assert r["length"] == 5 * 1024 * 1024 and r["head"] == "q" * 20


def test_h2_not_found(worker, h2_origin):
    assert call(worker, "get", u=h2_origin + "/missing")["status"] == 404


def test_h2_post_body(worker, h2_origin):
    r = call(worker, "post", u=h2_origin + "/upload", body="sent as DATA frames")
    assert r == {"status": 200, "body": "sent as DATA frames"}


def test_h2_concurrent_streams(worker, h2_origin):
    bodies = call(worker, "parallel", u=h2_origin + "/hello.txt", n=20)
    assert bodies == ["hello over h2\n"] * 20


def test_h2_cancelled_stream_leaves_the_connection_usable(worker, h2_origin):
    r = call(worker, "first-then-more", u=h2_origin + "/big.bin", v=h2_origin + "/hello.txt")
    assert r == {"again": "hello over h2\n"}


def test_h2_abort_during_body(worker, h2_origin):
    assert call(worker, "abort-body", u=h2_origin + "/big.bin") == {"error": "TypeError"}
