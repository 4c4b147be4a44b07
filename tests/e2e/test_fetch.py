"""fetch() from Worker code against loopback origins (tests/e2e/fetch_origin.py): HTTP/1.1 framing, redirects,
content decoding, failures, TLS with a CA made for the test, abort, the subrequest limit, keep-alive."""
import gzip
import http.client
import json
import pathlib
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
import zlib

import pytest

from conftest import Server, rss_kb
from fetch_origin import GZIP_TEXT, Origin, brotli_compress, brotli_decompress

WORKER = r"""
function describe(r, text) {
  return { status: r.status, statusText: r.statusText, url: r.url, redirected: r.redirected, ok: r.ok,
           headers: [...r.headers], body: text };
}
async function fail(e) { return Response.json({ error: e.name, message: e.message }); }

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    const u = q.get('u');
    try {
      switch (new URL(request.url).pathname) {
        case '/get': {
          const init = {};
          if (q.has('redirect')) init.redirect = q.get('redirect');
          if (q.has('method')) init.method = q.get('method');
          if (q.has('body')) init.body = q.get('body');
          if (q.has('auth')) init.headers = { authorization: q.get('auth'), 'content-type': 'text/x-test' };
          if (q.has('cache')) init.cache = q.get('cache');
          const r = await fetch(u, init);
          return Response.json(describe(r, await r.text()));
        }
        case '/request-object': {
          const req = new Request(u, { method: 'PUT', body: 'from a Request', headers: { 'x-one': '1' } });
          const r = await fetch(req);
          return Response.json({ used: req.bodyUsed, echo: await r.json() });
        }
        case '/bodies': {
          const out = [];
          const bodies = [new TextEncoder().encode('typed'), new TextEncoder().encode('buffer').buffer,
                          new URLSearchParams({ a: '1', b: 'x y' }), 'string ✓'];
          for (const body of bodies) out.push(await (await fetch(u, { method: 'POST', body })).json());
          return Response.json(out);
        }
        case '/length': {
          const r = await fetch(u);
          return Response.json({ length: (await r.arrayBuffer()).byteLength });
        }
        case '/abort': {
          const controller = new AbortController();
          setTimeout(() => controller.abort(new Error('stopped by the test')), Number(q.get('after')));
          const r = await fetch(u, { signal: controller.signal });
          return Response.json({ status: r.status });
        }
        case '/abort-before': {
          await fetch(u, { signal: AbortSignal.abort(new Error('already aborted')) });
          return new Response('not reached');
        }
        case '/abort-body': {
          const controller = new AbortController();
          const r = await fetch(u, { signal: controller.signal });
          controller.abort();
          try { await r.text(); } catch (e) { return Response.json({ status: r.status, error: e.name, message: e.message }); }
          return Response.json({ status: r.status, error: null });
        }
        case '/first-chunk': {
          const r = await fetch(u);
          const reader = r.body.getReader();
          const { value } = await reader.read();
          await reader.cancel();
          return Response.json({ first: value.byteLength > 0 });
        }
        case '/stream-post': {
          const { readable, writable } = new TransformStream();
          const w = writable.getWriter();
          w.write(new TextEncoder().encode('streamed '));
          w.write(new TextEncoder().encode('request body'));
          w.close();
          const r = await fetch(u, { method: 'POST', body: readable });
          return Response.json(await r.json());
        }
        case '/limit': {
          let done = 0;
          try {
            for (let i = 0; i < Number(q.get('n')); i++) { await (await fetch(u)).text(); done++; }
          } catch (e) { return Response.json({ done, error: e.name, message: e.message }); }
          return Response.json({ done });
        }
        case '/after-drop': {
          const out = [];
          for (let i = 0; i < 5; i++) out.push(await (await fetch(u)).text());
          return Response.json(out);
        }
        case '/conns': {
          const ids = [];
          for (let i = 0; i < 3; i++) ids.push(await (await fetch(u)).text());
          return Response.json(ids);
        }
        case '/parallel': {
          const rs = await Promise.all(Array.from({ length: Number(q.get('n')) }, () => fetch(u)));
          return Response.json(await Promise.all(rs.map(r => r.text())));
        }
        case '/headers-immutable': {
          const r = await fetch(u);
          try { r.headers.set('x', 'y'); } catch (e) { return Response.json({ error: e.name }); }
          return Response.json({ error: null });
        }
        case '/proxy':
          return fetch(u);
        case '/reencode': {
          const r = await fetch(u);
          return new Response((await r.text()).toUpperCase(), r);
        }
      }
    } catch (e) { return fail(e); }
    return new Response('no such test route', { status: 404 });
  }
};
"""


def openssl(*args, cwd):
    subprocess.run(["/usr/bin/openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A test CA, a certificate it signs for localhost, and a self-signed one nobody trusts."""
    d = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=edgeworker test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "host.key", "-out", "host.csr", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "ext.cnf", "-out", "host.pem", cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", "self.key",
            "-out", "self.pem", cwd=d)
    return d


def tls_context(certs, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs / (name + ".pem")), str(certs / (name + ".key")))
    return ctx


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope="module")
def tls_origin(certs):
    o = Origin(tls_context(certs, "host"))
    yield o
    o.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory, certs):
    d = tmp_path_factory.mktemp("worker")
    (d / "worker.js").write_text(WORKER)
    # cpu_ms: reading tens of MiB through a ReadableStream costs more than the default 50 ms here (the streams
    # are JavaScript on an interpreter); these tests are about the network, not the CPU limit.
    (d / "wrangler.toml").write_text('name = "fetcher"\nmain = "worker.js"\n[limits]\nsubrequests = 8\ncpu_ms = 2000\n')
    s = Server(d, ["--ca-file", str(certs / "ca.pem"), "--threads", "1"])
    yield s
    assert s.stop() == 0, "".join(s.output)


def call(worker, route, **params):
    url = "%s/%s?%s" % (worker.url, route, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def o(origin, path, host="127.0.0.1", scheme="http"):
    return "%s://%s:%d%s" % (scheme, host, origin.port, path)


# --- plain HTTP/1.1 -----------------------------------------------------------------------------------------

def test_get_text(worker, origin):
    r = call(worker, "get", u=o(origin, "/text"))
    assert r["status"] == 200 and r["ok"] and r["statusText"] == "OK"
    assert r["body"] == "hello from origin"
    assert r["url"] == o(origin, "/text") and r["redirected"] is False
    assert ["content-type", "text/plain"] in r["headers"]


def test_localhost_resolves_through_hosts_file(worker, origin):
    assert call(worker, "get", u=o(origin, "/text", host="localhost"))["body"] == "hello from origin"


def test_request_line_and_headers_sent(worker, origin):
    r = call(worker, "get", u=o(origin, "/echo?x=1#frag"), method="POST", body="payload", auth="Bearer t")
    echo = json.loads(r["body"])
    assert echo["method"] == "POST" and echo["path"] == "/echo?x=1" and echo["body"] == "payload"
    assert echo["headers"]["host"] == ["127.0.0.1:%d" % origin.port]
    assert echo["headers"]["content-length"] == ["7"]
    assert echo["headers"]["authorization"] == ["Bearer t"]
    assert "gzip" in echo["headers"]["accept-encoding"][0]


def test_cache_no_store_sends_no_cache_headers(worker, origin):
    echo = json.loads(call(worker, "get", u=o(origin, "/echo"), cache="no-store")["body"])
    assert echo["headers"]["pragma"] == ["no-cache"] and echo["headers"]["cache-control"] == ["no-cache"]
    echo = json.loads(call(worker, "get", u=o(origin, "/echo"))["body"])
    assert "pragma" not in echo["headers"] and "cache-control" not in echo["headers"]


def test_request_object_input_and_body_used(worker, origin):
    r = call(worker, "request-object", u=o(origin, "/echo"))
    assert r["used"] is True
    assert r["echo"]["method"] == "PUT" and r["echo"]["body"] == "from a Request"
    assert r["echo"]["headers"]["x-one"] == ["1"]


def test_body_types(worker, origin):
    typed, buf, form, text = call(worker, "bodies", u=o(origin, "/echo"))
    assert typed["body"] == "typed" and buf["body"] == "buffer"
    assert form["body"] == "a=1&b=x+y"
    assert form["headers"]["content-type"] == ["application/x-www-form-urlencoded;charset=UTF-8"]
    assert text["body"] == "string ✓".encode().decode("latin-1")
    assert text["headers"]["content-type"] == ["text/plain;charset=UTF-8"]


def test_status_text_and_empty_statuses(worker, origin):
    r = call(worker, "get", u=o(origin, "/status/404"))
    assert r["status"] == 404 and r["statusText"] == "Custom Reason" and not r["ok"]
    r = call(worker, "get", u=o(origin, "/status/204"))
    assert r["status"] == 204 and r["body"] == ""


def test_head_has_no_body(worker, origin):
    r = call(worker, "get", u=o(origin, "/text"), method="HEAD")
    assert r["status"] == 200 and r["body"] == ""


def test_chunked_close_delimited_and_1xx(worker, origin):
    assert call(worker, "get", u=o(origin, "/chunked"))["body"] == "hello world"
    assert call(worker, "get", u=o(origin, "/close"))["body"] == "until the end"
    r = call(worker, "get", u=o(origin, "/early"))
    assert r["status"] == 200 and r["body"] == "after hints"


def test_response_headers_are_immutable(worker, origin):
    assert call(worker, "headers-immutable", u=o(origin, "/text"))["error"] == "TypeError"


def test_slow_body_arrives_whole(worker, origin):
    assert call(worker, "get", u=o(origin, "/slow"))["body"] == "ab" * 5


def test_huge_body(worker, origin):
    n = 24 * 1024 * 1024
    assert call(worker, "length", u=o(origin, "/huge?n=%d" % n))["length"] == n


def test_body_streams_with_back_pressure(worker, origin):
    n = 1024 * 1024 * 1024  # 1 GiB: only back-pressure and cancel keep this from being sent
    r = call(worker, "first-chunk", u=o(origin, "/huge?n=%d" % n))
    assert r == {"first": True}
    assert wait_for(lambda: origin.huge_stopped is not None)
    assert origin.huge_stopped < 64 * 1024 * 1024  # the origin was stopped long before the end


def test_streamed_request_body(worker, origin):
    r = call(worker, "stream-post", u=o(origin, "/echo"))
    assert r["body"] == "streamed request body" and r["headers"]["content-length"] == ["21"]


def test_abort_during_body_errors_the_body(worker, origin):
    r = call(worker, "abort-body", u=o(origin, "/slow"))
    assert r == {"status": 200, "error": "TypeError", "message": "The operation was aborted."}


def test_proxy_streams_a_large_body(worker, origin):
    n = 40 * 1024 * 1024
    url = "%s/proxy?u=%s" % (worker.url, urllib.parse.quote(o(origin, "/huge?n=%d" % n)))
    with urllib.request.urlopen(url, timeout=60) as r:
        total = 0
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            total += len(b)
    assert total == n


def test_proxy_of_a_body_that_breaks_is_truncated(worker, origin):
    # the origin resets after 1000 of 100000 bytes: the client must see an incomplete body, not a complete one
    c = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=10)
    c.request("GET", "/proxy?u=%s" % urllib.parse.quote(o(origin, "/reset")))
    r = c.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead) as e:
        r.read()
    assert len(e.value.partial) == 1000
    c.close()


def test_proxy_client_leaving_stops_the_origin(worker, origin):
    origin.huge_stopped = None
    n = 1024 * 1024 * 1024  # 1 GiB: only back-pressure and the cancel of a client gone keep this from being sent
    s = socket.create_connection(("127.0.0.1", worker.port), timeout=10)
    s.sendall(b"GET /proxy?u=%s HTTP/1.1\r\nHost: x\r\n\r\n" % urllib.parse.quote(o(origin, "/huge?n=%d" % n)).encode())
    got = 0
    while got < 4 << 20:
        got += len(s.recv(1 << 20))
    s.close()
    assert wait_for(lambda: origin.huge_stopped is not None)
    assert origin.huge_stopped < 64 * 1024 * 1024


def test_proxied_body_is_not_cpu_time(tmp_path, origin):
    # 100 MiB passed through untouched under a 5 ms CPU limit: the Worker's own work is far below it, and
    # moving the bytes is not the Worker's CPU time
    (tmp_path / "worker.js").write_text(
        "export default { fetch(req) { return fetch(new URL(req.url).searchParams.get('u')); } };\n")
    (tmp_path / "wrangler.toml").write_text('name = "p"\nmain = "worker.js"\n[limits]\ncpu_ms = 5\n')
    s = Server(tmp_path, ["--threads", "1"])
    try:
        n = 100 * 1024 * 1024
        url = "%s/?u=%s" % (s.url, urllib.parse.quote(o(origin, "/huge?n=%d" % n)))
        with urllib.request.urlopen(url, timeout=120) as r:
            total = 0
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                total += len(b)
        assert total == n
    finally:
        assert s.stop() == 0, "".join(s.output)


def test_proxy_keeps_the_origins_content_length(worker, origin):
    # as workerd: a body passed on untouched has a known length, so it goes out with it, not chunked
    n = 3 * 1024 * 1024
    c = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=30)
    c.request("GET", "/proxy?u=%s" % urllib.parse.quote(o(origin, "/huge?n=%d" % n)))
    r = c.getresponse()
    assert r.getheader("content-length") == str(n) and r.getheader("transfer-encoding") is None
    assert r.read() == b"x" * n
    c.request("GET", "/proxy?u=%s" % urllib.parse.quote(o(origin, "/text")))  # still usable: kept alive
    assert c.getresponse().read() == b"hello from origin"
    c.close()



def test_proxy_to_a_client_that_stops_reading_holds_the_origin(worker, origin):
    # the client reads the head and a little, then nothing: the origin must be held back by TCP, and
    # ew-server must not take the body into its memory; when the client reads again, all of it arrives
    n = 512 * 1024 * 1024
    c = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=60)
    c.request("GET", "/proxy?u=%s" % urllib.parse.quote(o(origin, "/huge?n=%d" % n)))
    r = c.getresponse()
    assert r.getheader("content-length") == str(n)
    got = len(r.read(1 << 20))
    before = rss_kb(worker.proc.pid)
    seen = -1
    while seen != origin.huge_sent:  # until the origin is stuck (it would otherwise reach n)
        seen = origin.huge_sent
        time.sleep(0.3)
    assert origin.huge_sent < 128 * 1024 * 1024, "the origin sent %d bytes to a client that stopped" % seen
    growth_mb = (rss_kb(worker.proc.pid) - before) / 1024
    assert growth_mb < 8, "ew-server grew by %.1f MB holding a stopped client" % growth_mb
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        got += len(b)
    assert got == n
    c.close()


@pytest.mark.parametrize("path,body,length", [
    ("/slow", b"ab" * 5, "10"),  # head first, the body later in pieces: the splice waits for the origin
    ("/early", b"after hints", "11"),  # 1xx before the final head
    ("/status/200", b"", "0"),  # an empty body of known length
    ("/chunked", b"hello world", None),  # no length: sent chunked, through reads
    ("/close", b"until the end", None),  # delimited by the origin closing: likewise
])
def test_proxy_of_every_framing(worker, origin, path, body, length):
    c = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=30)
    for _ in range(2):  # and the client connection stays usable
        c.request("GET", "/proxy?u=%s" % urllib.parse.quote(o(origin, path)))
        r = c.getresponse()
        assert r.getheader("content-length") == length
        assert r.getheader("transfer-encoding") == (None if length else "chunked")
        assert r.read() == body
    c.close()


def test_responses_outlast_the_idle_timeout(tmp_path, origin):
    # a client waiting for a slow Worker, or reading a long body slowly, sends nothing meanwhile: the idle
    # timeout (500 ms here) is for keep-alive connections between requests (it cut such responses)
    (tmp_path / "worker.js").write_text(
        "export default { async fetch(req) {\n"
        "  if (new URL(req.url).pathname === '/late') {\n"
        "    await new Promise((r) => setTimeout(r, 1200)); return new Response('late');\n"
        "  }\n"
        "  const u = new URL(req.url).searchParams.get('u');\n"
        "  if (u) return fetch(u);\n"
        "  const { readable, writable } = new TransformStream();\n"
        "  const w = writable.getWriter();\n"
        "  (async () => { for (let i = 0; i < 128; i++) await w.write(new Uint8Array(65536).fill(120));\n"
        "    await w.close(); })();\n"
        "  return new Response(readable);\n"
        "} };\n")
    (tmp_path / "wrangler.toml").write_text('name = "idle"\nmain = "worker.js"\n[limits]\ncpu_ms = 5000\n')
    s = Server(tmp_path, ["--threads", "1", "--idle-timeout", "500"])
    try:
        n = 8 * 1024 * 1024  # more than the socket buffers take at once
        for path in ("/?u=%s" % urllib.parse.quote(o(origin, "/huge?n=%d" % n)), "/"):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            c.request("GET", path)
            r = c.getresponse()
            got = 0
            while True:
                b = r.read(512 * 1024)
                if not b:
                    break
                got += len(b)
                time.sleep(0.1)  # 16 reads: 1.6 s, three idle timeouts
            assert got == n, path
            c.close()
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.request("GET", "/late")
        assert c.getresponse().read() == b"late"
        c.close()
    finally:
        assert s.stop() == 0, "".join(s.output)


def test_proxy_pass_through(worker, origin):
    with urllib.request.urlopen("%s/proxy?u=%s" % (worker.url, urllib.parse.quote(o(origin, "/text"))),
                                timeout=10) as r:
        assert r.read() == b"hello from origin"


# --- redirects ----------------------------------------------------------------------------------------------

def test_redirect_follow_sets_url_and_redirected(worker, origin):
    r = call(worker, "get", u=o(origin, "/hops/3"))
    assert r["status"] == 200 and r["body"] == "arrived"
    assert r["redirected"] is True and r["url"] == o(origin, "/hops/0")


def test_redirect_limit(worker, origin):
    r = call(worker, "get", u=o(origin, "/loop"))
    assert r["error"] == "TypeError" and "too many redirects" in r["message"]
    assert call(worker, "get", u=o(origin, "/hops/20"))["body"] == "arrived"


def test_redirect_manual_and_error(worker, origin):
    r = call(worker, "get", u=o(origin, "/hops/1"), redirect="manual")
    assert r["status"] == 302 and ["location", "/hops/0"] in r["headers"] and r["redirected"] is False
    r = call(worker, "get", u=o(origin, "/hops/1"), redirect="error")
    assert r["error"] == "TypeError"


@pytest.mark.parametrize("status,method,expect_method,expect_body", [
    (301, "POST", "GET", ""), (302, "POST", "GET", ""), (303, "PUT", "GET", ""),
    (307, "POST", "POST", "data"), (308, "PUT", "PUT", "data"), (302, "PUT", "PUT", "data")])
def test_redirect_method_rules(worker, origin, status, method, expect_method, expect_body):
    to = o(origin, "/echo")
    r = call(worker, "get", u=o(origin, "/redirect/%d?to=%s" % (status, urllib.parse.quote(to))), method=method,
             body="data", auth="Bearer same-origin")
    echo = json.loads(r["body"])
    assert echo["method"] == expect_method and echo["body"] == expect_body
    assert echo["headers"]["authorization"] == ["Bearer same-origin"]
    assert ("content-type" in echo["headers"]) == (expect_body != "")


def test_redirect_cross_origin_drops_authorization(worker, origin):
    to = o(origin, "/echo", host="localhost")  # another host: another origin
    r = call(worker, "get", u=o(origin, "/redirect/302?to=%s" % urllib.parse.quote(to)), auth="Bearer secret")
    echo = json.loads(r["body"])
    assert "authorization" not in echo["headers"] and echo["headers"]["content-type"] == ["text/x-test"]


# --- content decoding ---------------------------------------------------------------------------------------

CODINGS = {"/gzip": "gzip", "/deflate": "deflate", "/rawdeflate": "deflate", "/br": "br"}


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/rawdeflate", "/br"])
def test_content_decoding(worker, origin, path):
    r = call(worker, "get", u=o(origin, path))
    assert r["body"] == GZIP_TEXT.decode()
    # the headers stay as the origin sent them (workerd does the same): the body is compressed again when
    # such a Response is returned
    assert ["content-encoding", CODINGS[path]] in r["headers"]


def decode(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "deflate":  # zlib format, or raw deflate as some servers send it (and clients accept)
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -15)
    return brotli_decompress(data)


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/rawdeflate", "/br"])
def test_decoded_body_proxied_is_compressed_again(worker, origin, path):
    # `return fetch(url)` of a compressed response: the client gets the Content-Encoding the origin sent and
    # a body in that coding (raw bytes here, as a client that does not decode sees them)
    url = "%s/proxy?u=%s" % (worker.url, urllib.parse.quote(o(origin, path)))
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers.get("content-encoding") == CODINGS[path]
        assert decode(CODINGS[path], r.read()) == GZIP_TEXT


def test_proxied_compressed_body_passes_through_untouched(worker, origin):
    # returned as fetched, the body is not decoded and compressed again: the client gets the origin's bytes
    # (br at quality 9 from the origin; the runtime's own encoder would make other bytes)
    url = "%s/proxy?u=%s" % (worker.url, urllib.parse.quote(o(origin, "/br")))
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.read() == brotli_compress(GZIP_TEXT)


def test_touched_compressed_body_is_compressed_again(worker, origin):
    # the script read the decoded bytes and returns new ones under the same content-encoding header
    url = "%s/reencode?u=%s" % (worker.url, urllib.parse.quote(o(origin, "/gzip")))
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers.get("content-encoding") == "gzip"
        assert gzip.decompress(r.read()) == GZIP_TEXT.upper()


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/br"])
def test_proxied_compressed_body_with_curl_compressed(worker, origin, path):
    url = "%s/proxy?u=%s" % (worker.url, urllib.parse.quote(o(origin, path)))
    out = subprocess.run(["curl", "-s", "--compressed", url], capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout == GZIP_TEXT


def test_bad_content_encoding_is_an_error(worker, origin):
    r = call(worker, "get", u=o(origin, "/badgzip"))
    assert r["error"] == "TypeError" and "could not be decoded" in r["message"]


# --- failures -----------------------------------------------------------------------------------------------

def test_connection_reset_mid_body(worker, origin):
    r = call(worker, "get", u=o(origin, "/reset"))
    assert r == {"error": "TypeError", "message": "Network connection lost."}


def test_malformed_response(worker, origin):
    r = call(worker, "get", u=o(origin, "/bad"))
    assert r["error"] == "TypeError" and "invalid HTTP response" in r["message"]


def test_connection_refused(worker):
    s = __import__("socket").socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = call(worker, "get", u="http://127.0.0.1:%d/" % port)
    assert r["error"] == "TypeError" and "Could not connect to 127.0.0.1" in r["message"]


def test_dns_failure(worker):
    r = call(worker, "get", u="http://no-such-host.invalid/")
    assert r["error"] == "TypeError" and "DNS lookup failed for no-such-host.invalid" in r["message"]


@pytest.mark.parametrize("url,message", [
    ("ftp://example.com/", "Fetch API cannot load: ftp://example.com/"),
    ("not a url", "Invalid URL: not a url"),
])
def test_bad_urls(worker, url, message):
    r = call(worker, "get", u=url)
    assert r["error"] == "TypeError" and r["message"] == message


# --- abort --------------------------------------------------------------------------------------------------

def test_abort_while_waiting(worker, origin):
    r = call(worker, "abort", u=o(origin, "/nohead"), after=100)
    assert r == {"error": "Error", "message": "stopped by the test"}


def test_abort_before_start(worker, origin):
    n = len(origin.requests)
    r = call(worker, "abort-before", u=o(origin, "/text"))
    assert r == {"error": "Error", "message": "already aborted"}
    assert len(origin.requests) == n  # nothing was sent


# --- subrequest limit, keep-alive ---------------------------------------------------------------------------

def test_subrequest_limit_from_wrangler_toml(worker, origin):
    r = call(worker, "limit", u=o(origin, "/text"), n=9)
    assert r["done"] == 8 and r["error"] == "Error"
    assert r["message"] == "Too many subrequests by single Worker invocation."
    assert call(worker, "limit", u=o(origin, "/text"), n=8) == {"done": 8}  # the count is per request


def test_keep_alive_reuses_connections(worker, origin):
    ids = call(worker, "conns", u=o(origin, "/conn"))
    assert len(set(ids)) == 1


def test_server_closing_kept_alive_connections(worker, origin):
    # Each response leaves a connection the server then closes: the next fetch must not fail on it (it is
    # seen closed in the pool, or the request goes again on a new connection when the close races it).
    assert call(worker, "after-drop", u=o(origin, "/drop-after")) == ["then dropped"] * 5


def test_request_lost_on_a_pooled_connection_is_sent_again(worker, origin):
    # The second fetch goes out on the pooled connection, which the server closes without answering: the
    # client sends it once more on a new connection.
    assert call(worker, "after-drop", u=o(origin, "/drop-late")) == ["answered once"] * 5


def test_parallel_fetches(worker, origin):
    ids = call(worker, "parallel", u=o(origin, "/conn"), n=6)
    assert len(ids) == 6 and len(set(ids)) == 6  # concurrent requests get their own connections


# --- TLS ----------------------------------------------------------------------------------------------------

def test_https_with_the_configured_ca(worker, tls_origin):
    r = call(worker, "get", u=o(tls_origin, "/text", host="localhost", scheme="https"))
    assert r["status"] == 200 and r["body"] == "hello from origin"


def test_https_origin_proxied_with_its_length(worker, tls_origin):
    # a TLS origin's bytes cannot be spliced: they take the copying path, with the same result
    n = 5 * 1024 * 1024 + 7
    u = o(tls_origin, "/huge?n=%d" % n, host="localhost", scheme="https")
    c = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=30)
    c.request("GET", "/proxy?u=%s" % urllib.parse.quote(u))
    r = c.getresponse()
    assert r.getheader("content-length") == str(n)
    assert r.read() == b"x" * n
    c.close()


def test_https_keep_alive(worker, tls_origin):
    assert len(set(call(worker, "conns", u=o(tls_origin, "/conn", host="localhost", scheme="https")))) == 1


def test_https_wrong_host_name_rejected(worker, tls_origin):
    r = call(worker, "get", u=o(tls_origin, "/text", host="127.0.0.1", scheme="https"))
    assert r["error"] == "TypeError"
    assert r["message"] == "TLS handshake with 127.0.0.1 failed: certificate is not valid for this host name."


def test_https_untrusted_certificate_rejected(worker, certs):
    bad = Origin(tls_context(certs, "self"))
    try:
        r = call(worker, "get", u=o(bad, "/text", host="localhost", scheme="https"))
    finally:
        bad.close()
    assert r["error"] == "TypeError"
    assert "TLS handshake with localhost failed: certificate is not signed by a trusted" in r["message"]


def test_https_to_plain_http_server_fails_clearly(worker, origin):
    r = call(worker, "get", u=o(origin, "/text", host="localhost", scheme="https"))
    assert r["error"] == "TypeError" and r["message"].startswith("TLS handshake with localhost failed")


def test_bad_ca_file_is_refused(tmp_path):
    (tmp_path / "w.js").write_text("export default { fetch() { return new Response('x') } }")
    out = subprocess.run([str(pathlib.Path(Server.__init__.__globals__["SERVER"])), "--ca-file",
                          str(tmp_path / "missing.pem"), str(tmp_path / "w.js")], capture_output=True, text=True)
    assert out.returncode == 2 and "--ca-file" in out.stderr


# --- lifetimes ----------------------------------------------------------------------------------------------

def wait_for(cond, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_fetch_at_global_scope_is_refused(serve, origin):
    s = serve("let e; try { fetch('http://127.0.0.1:%d/text'); } catch (x) { e = x; }\n"
              "export default { fetch() { return new Response(e.name + ': ' + e.message); } };" % origin.port)
    with urllib.request.urlopen(s.url, timeout=10) as r:
        assert r.read().decode().startswith("Error: Disallowed operation called within global scope.")


def test_pending_fetch_is_cancelled_when_its_request_ends(serve, origin):
    s = serve("export default { async fetch(req) { const q = new URL(req.url).searchParams;\n"
              "fetch(q.get('u'));  // never awaited\n"
              "return new Response(await (await fetch(q.get('w'))).text()); } };")
    before = origin.closed_hangs
    origin.hang_seen.clear()
    with urllib.request.urlopen(s.url + "/?u=" + urllib.parse.quote(o(origin, "/hang")) + "&w=" +
                                urllib.parse.quote(o(origin, "/after-hang")), timeout=10) as r:
        assert r.read() == b"hang seen"
    # The hanging request reached the origin; its connection is closed once the Worker's request is over.
    assert wait_for(lambda: origin.closed_hangs > before)


def test_fetch_under_wait_until_completes_after_the_response(serve, origin):
    s = serve("export default { fetch(req, env, ctx) { const u = new URL(req.url).searchParams.get('u');\n"
              "ctx.waitUntil(fetch(u).then(r => r.text()).then(t => console.log('waited: ' + t)));\n"
              "return new Response('answered'); } };")
    with urllib.request.urlopen(s.url + "/?u=" + urllib.parse.quote(o(origin, "/slow")), timeout=10) as r:
        assert r.read() == b"answered"
    assert wait_for(lambda: "waited: ababababab" in "".join(s.output))


def test_waiting_on_the_network_is_not_cpu_time(serve, origin):
    # The default 50 ms CPU limit; /slow takes a second of wall time to send its body.
    s = serve("export default { async fetch(req) {\n"
              "const r = await fetch(new URL(req.url).searchParams.get('u'));\n"
              "return new Response(await r.text()); } };")
    with urllib.request.urlopen(s.url + "/?u=" + urllib.parse.quote(o(origin, "/slow")), timeout=10) as r:
        assert r.status == 200 and r.read() == b"ab" * 5


def test_seed_proxy_pattern(serve, origin):
    # The seed's "External API Integration" handleProxy, verbatim but for its target (api.example.com
    # cannot be reached here): the origin's /echo and /text stand in for the API.
    from conftest import SEED
    seed = SEED.read_text() if SEED.exists() else None
    if seed is None:
        pytest.skip("the seed document is not on this machine")
    code = seed[seed.index("// Workers as middleware for external APIs"):seed.index("async function handleWeather")]
    # slice(7) drops "/proxy/" with its slash, so the seed's target base needs one of its own here.
    code = code.replace("https://api.example.com", "http://127.0.0.1:%d/" % origin.port)
    code += "\nasync function handleWeather() { return new Response('unused'); }\n"
    s = serve(code, "--var", "API_KEY:k123", "--var", "WORKER_ID:w1")
    req = urllib.request.Request(s.url + "/proxy/echo?x=1", data=b'{"hello":"world"}', method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        data = json.loads(r.read())
    assert data["method"] == "POST" and data["path"] == "/echo?x=1" and data["body"] == '{"hello":"world"}'
    assert data["headers"]["authorization"] == ["Bearer k123"]
    # {...Object.fromEntries(request.headers), 'User-Agent': ...} has both 'user-agent' and 'User-Agent'
    # keys: the Headers made from it holds both values, as in Workers.
    assert data["headers"]["user-agent"][-1] == "CloudflareWorker/1.0"
    assert data["_metadata"]["worker_id"] == "w1"
    with urllib.request.urlopen(s.url + "/proxy/text", timeout=10) as r:
        assert r.read() == b"hello from origin"


def test_redirect_from_http_to_https(worker, origin, tls_origin):
    to = o(tls_origin, "/echo", host="localhost", scheme="https")
    r = call(worker, "get", u=o(origin, "/redirect/301?to=%s" % urllib.parse.quote(to)), auth="Bearer x")
    echo = json.loads(r["body"])
    assert r["redirected"] is True and r["url"] == to
    assert "authorization" not in echo["headers"]  # another origin (scheme, host and port)
