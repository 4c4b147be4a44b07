"""TLS (--tls-cert/--tls-key, mbedTLS, ALPN h2 and http/1.1) and HTTP/2 (h2 over TLS, h2c with prior
knowledge) in ew-server, driven by curl, nghttp and h2load, plus a WebSocket over TLS."""
import json
import os
import socket
import ssl
import subprocess

import pytest

from test_websocket import ECHO, WS

WORKER = r"""
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, url.searchParams.get('ms') || 20));
    return Response.json({
      url: request.url, method: request.method, body: await request.text(),
      httpProtocol: request.cf.httpProtocol, tlsVersion: request.cf.tlsVersion, tlsCipher: request.cf.tlsCipher,
      proto: request.headers.get('x-forwarded-proto'), visitor: request.headers.get('cf-visitor'),
    }, { headers: { 'x-answer': 'yes' } });
  },
};
"""


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    return str(crt), str(key)


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_https_http1_and_h2_by_alpn(serve, cert):
    crt, key = cert
    s = serve(WORKER, "--tls-cert", crt, "--tls-key", key)
    url = "https://localhost:%d/a?b=1" % s.port
    out = curl("--http1.1", "--cacert", crt, "-w", "\n%{http_version}", url)
    body, version = out.rsplit("\n", 1)
    r = json.loads(body)
    assert version == "1.1"
    assert r["url"] == url
    assert r["httpProtocol"] == "HTTP/1.1"
    assert r["tlsVersion"].startswith("TLSv1.")
    assert r["tlsCipher"] != ""
    assert r["proto"] == "https" and r["visitor"] == '{"scheme":"https"}'
    out = curl("--http2", "--cacert", crt, "-d", "posted", "-D", "-", "-w", "\n%{http_version}", url)
    head, _, rest = out.partition("\n\n")  # text mode turned CRLF into LF
    body, version = rest.rsplit("\n", 1)
    assert version == "2"
    assert "x-answer: yes" in head
    r = json.loads(body)
    assert r["httpProtocol"] == "HTTP/2" and r["method"] == "POST" and r["body"] == "posted"
    assert "Ready on https://" in s.read_output(0)


def test_alpn_offers_h2_then_http11(serve, cert):
    crt, key = cert
    s = serve(WORKER, "--tls-cert", crt, "--tls-key", key)
    ctx = ssl.create_default_context(cafile=crt)
    for offer, chosen in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
        ctx.set_alpn_protocols(offer)
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.selected_alpn_protocol() == chosen


def test_plain_http_to_tls_port_fails_cleanly(serve, cert):
    crt, key = cert
    s = serve(WORKER, "--tls-cert", crt, "--tls-key", key)
    with s.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        try:
            data = sock.recv(100)
        except ConnectionResetError:
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")
    # The server still serves TLS afterwards.
    assert json.loads(curl("--cacert", crt, "https://localhost:%d/" % s.port))["tlsVersion"]


def test_h2c_prior_knowledge_and_h1_on_the_same_port(serve):
    s = serve(WORKER)
    out = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", s.url + "/c")
    body, version = out.rsplit("\n", 1)
    assert version == "2"
    r = json.loads(body)
    assert r["httpProtocol"] == "HTTP/2" and r["proto"] == "http" and r["tlsVersion"] == ""
    out = curl("-w", "\n%{http_version}", s.url + "/plain")
    assert out.rsplit("\n", 1)[1] == "1.1"


def test_many_concurrent_streams_h2load(serve):
    s = serve(WORKER, "--threads", "1")
    p = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "50", s.url + "/slow"], capture_output=True,
                       text=True, timeout=60)
    assert "400 succeeded" in p.stdout, p.stdout
    assert "400 2xx" in p.stdout


def test_nghttp_streams_and_head(serve, cert):
    crt, key = cert
    s = serve(WORKER, "--tls-cert", crt, "--tls-key", key)
    p = subprocess.run(["nghttp", "-nv", "https://localhost:%d/one" % s.port, "https://localhost:%d/two" % s.port],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.count(":status: 200") == 2, p.stdout
    out = curl("--http2", "--cacert", crt, "-I", "https://localhost:%d/" % s.port)
    assert out.startswith("HTTP/2 200")
    assert "content-length:" in out


def test_bad_preface_is_an_http1_error(serve):
    s = serve(WORKER)
    with s.connect() as sock:  # a preface that is not HTTP/2's is HTTP/1.1's business: 4xx
        sock.sendall(b"PRI * HTTP/1.1\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(100).startswith(b"HTTP/1.1 4")


def test_websocket_over_tls(serve, cert):
    crt, key = cert
    s = serve(ECHO, "--tls-cert", crt, "--tls-key", key)
    ctx = ssl.create_default_context(cafile=crt)
    ctx.set_alpn_protocols(["http/1.1"])
    orig = socket.create_connection

    def tls_connection(addr, timeout=None):
        return ctx.wrap_socket(orig(addr, timeout=timeout), server_hostname="localhost")

    socket.create_connection = tls_connection
    try:
        ws = WS(s.port)
    finally:
        socket.create_connection = orig
    assert ws.status == 101
    assert ws.recv() == "hello"
    ws.send_text("over tls")
    assert ws.recv() == "echo:over tls"
    ws.close()


def test_tls_flags_are_checked(tmp_path, cert):
    from conftest import SERVER
    crt, key = cert
    script = tmp_path / "w.js"
    script.write_text(WORKER)
    p = subprocess.run([str(SERVER), "--tls-cert", crt, str(script)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "go together" in p.stderr
    p = subprocess.run([str(SERVER), "--tls-cert", crt, "--tls-key", str(tmp_path / "nope.pem"), str(script)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "nope.pem" in p.stderr
    p = subprocess.run([str(SERVER), "--port", "0", "--tls-cert", crt, "--tls-key", crt, str(script)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "key" in p.stderr


def test_h2_streams_a_readable_stream_body(serve):
    s = serve("""
export default {
  fetch() {
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    (async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 5));
        await w.write(new TextEncoder().encode('part' + i + ';'));
      }
      await w.close();
    })();
    return new Response(readable, { headers: { 'content-type': 'text/plain' } });
  },
};
""")
    out = curl("--http2-prior-knowledge", "-D", "-", s.url + "/")
    head, _, body = out.partition("\n\n")
    assert head.startswith("HTTP/2 200")
    assert "content-length" not in head
    assert body == "part0;part1;part2;part3;part4;"


def test_local_protocol_https_makes_and_keeps_a_self_signed_certificate(tmp_path):
    from conftest import Server
    script = tmp_path / "w.js"
    script.write_text(WORKER)
    state = tmp_path / "state"
    pem = state / "tls" / "localhost.pem"
    s = Server(script, ["--local-protocol", "https", "--persist-to", str(state)])
    try:
        assert pem.exists()
        assert oct((state / "tls" / "localhost-key.pem").stat().st_mode & 0o777) == "0o600"
        r = json.loads(curl("--cacert", str(pem), "https://localhost:%d/x" % s.port))
        assert r["url"].startswith("https://localhost:")
        first = pem.read_bytes()
    finally:
        assert s.stop() == 0
    s = Server(script, ["--local-protocol", "https", "--persist-to", str(state)])
    try:
        assert pem.read_bytes() == first  # kept across restarts
        assert json.loads(curl("--cacert", str(pem), "https://127.0.0.1:%d/" % s.port))["tlsVersion"]
    finally:
        assert s.stop() == 0


def test_dev_local_protocol_https_in_wrangler_toml_serves_https_unless_the_flag_says_http(tmp_path):
    from conftest import Server
    (tmp_path / "w.js").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "w"\nmain = "w.js"\ncompatibility_date = "2024-07-01"\n[dev]\nlocal_protocol = "https"\n')
    state = tmp_path / "state"
    s = Server(tmp_path, ["--persist-to", str(state)])
    try:
        pem = state / "tls" / "localhost.pem"
        assert json.loads(curl("--cacert", str(pem), "https://localhost:%d/" % s.port))["tlsVersion"]
    finally:
        assert s.stop() == 0
    s = Server(tmp_path, ["--persist-to", str(state), "--local-protocol", "http"])
    try:
        assert json.loads(curl("http://127.0.0.1:%d/" % s.port))["url"].startswith("http://")
    finally:
        assert s.stop() == 0


def test_h2_shutdown_answers_open_streams(serve):
    import threading
    import time
    s = serve(WORKER)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", subprocess.run(
        ["curl", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_code}", s.url + "/slow?ms=1500"],
        capture_output=True, text=True, timeout=20)))
    t.start()
    time.sleep(0.5)  # the stream is in the Worker now (it waits 1.5 s)
    s.proc.send_signal(2)
    t.join(20)
    body, code = out["r"].stdout.rsplit("\n", 1)
    assert code == "200", out["r"].stderr
    assert json.loads(body)["httpProtocol"] == "HTTP/2"
