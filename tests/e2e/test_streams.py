"""Streamed responses through ew-server: a Response whose body is a ReadableStream (the seed's TransformStream
pattern, written after the handler returned) goes out with chunked transfer encoding as it is written."""
import http.client
import subprocess

import pytest

from conftest import SERVER, Server, rss_kb


def sanitized():
    """ASan keeps freed memory in quarantine: RSS says nothing about leaks or buffering there."""
    out = subprocess.run(["ldd", str(SERVER)], capture_output=True, text=True).stdout
    return "libasan" in out

WORKER = r"""
let released = false;
let cancelled = 'no';

// Resolves once /release was requested: polls a flag on a timer (a promise resolved by another request would
// leave this request with nothing to wait on, which the runtime reports as a hang).
function whenReleased() {
  return new Promise((resolve) => {
    const check = () => (released ? resolve() : setTimeout(check, 5));
    check();
  });
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const enc = new TextEncoder();
    if (url.pathname === '/release') {
      released = true;
      return new Response('released');
    }
    if (url.pathname === '/two-parts') {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        await writer.write(enc.encode('first part\n'));
        await whenReleased();      // only a second request, sent after the first part arrived, lets us go on
        await writer.write(enc.encode('second part\n'));
        await writer.close();
      })();
      return new Response(readable, { headers: { 'content-type': 'text/plain' } });
    }
    if (url.pathname === '/big') {
      const mb = Number(url.searchParams.get('mb'));
      const chunk = new Uint8Array(65536).fill(120);
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        for (let i = 0; i < mb * 16; i++) await writer.write(chunk);
        await writer.close();
      })();
      return new Response(readable);
    }
    if (url.pathname === '/fail-midway') {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        await writer.write(enc.encode('partial'));
        await writer.abort(new Error('the database went away'));
      })();
      return new Response(readable);
    }
    if (url.pathname === '/endless') {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        try {
          for (;;) await writer.write(enc.encode('tick\n'));
        } catch (e) {
          cancelled = 'yes';
        }
      })();
      return new Response(readable);
    }
    if (url.pathname === '/queued') {
      // chunks already queued on the readable side when the response is returned come first, in order
      const { readable, writable } = new TransformStream(undefined, undefined, { highWaterMark: 4 });
      const writer = writable.getWriter();
      writer.write(enc.encode('one '));
      writer.write(enc.encode('two '));
      await writer.write(enc.encode('three '));
      (async () => {
        await writer.write(enc.encode('four'));
        await writer.close();
      })();
      return new Response(readable);
    }
    if (url.pathname === '/not-bytes') {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        await writer.write(enc.encode('bytes then '));
        try {
          await writer.write('a string');
          await writer.closed;
        } catch (e) { cancelled = 'writer errored: ' + e.message; }
      })();
      return new Response(readable);
    }
    if (url.pathname === '/cancelled') return new Response(cancelled);
    if (url.pathname === '/fixed') {
      const { readable, writable } = new FixedLengthStream(11);
      const writer = writable.getWriter();
      writer.write(enc.encode('hello '));
      writer.write(enc.encode('world')).then(() => writer.close());
      return new Response(readable);
    }
    if (url.pathname === '/gzip') {
      const body = new Response('streamed and compressed '.repeat(100)).body.pipeThrough(new CompressionStream('gzip'));
      return new Response(body, { headers: { 'content-encoding': 'gzip' }, encodeBody: 'manual' });
    }
    if (url.pathname === '/auto') {
      // encodeBody "automatic" (the default): the runtime compresses per content-encoding, buffered or streamed
      const coding = url.searchParams.get('coding');
      const text = 'compressed by the runtime '.repeat(200);
      if (url.searchParams.has('stream')) {
        const { readable, writable } = new TransformStream();
        const writer = writable.getWriter();
        (async () => {
          for (let i = 0; i < 200; i++) await writer.write(enc.encode('compressed by the runtime '));
          await writer.close();
        })();
        return new Response(readable, { headers: { 'content-encoding': coding } });
      }
      return new Response(text, { headers: { 'content-encoding': coding } });
    }
    return new Response('plain');
  },
};
"""


def start(tmp_path):
    (tmp_path / "worker.js").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "streams"\nmain = "worker.js"\ncompatibility_date = "2024-07-01"\n[limits]\ncpu_ms = 60000\n')
    return Server(tmp_path, ["--threads", "1"])  # one isolate: /release must reach the writer's heap



def test_first_part_arrives_before_the_writer_finishes(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/two-parts")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("transfer-encoding") == "chunked"
        assert resp.getheader("content-length") is None
        assert resp.readline() == b"first part\n"
        # The writer is still waiting: nothing else can have been sent yet.
        other = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        other.request("GET", "/release")
        assert other.getresponse().read() == b"released"
        assert resp.read() == b"second part\n"
        conn.request("GET", "/")  # the connection is kept alive after a streamed body
        assert conn.getresponse().read() == b"plain"
    finally:
        assert s.stop() == 0


@pytest.mark.skipif(sanitized(), reason="RSS is meaningless under AddressSanitizer")
def test_100mb_streamed_body_with_bounded_memory(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
        conn.request("GET", "/big?mb=1")  # loads the streams code once, so it is not counted below
        assert len(conn.getresponse().read()) == 1 << 20
        before = rss_kb(s.proc.pid)
        conn.request("GET", "/big?mb=100")
        resp = conn.getresponse()
        total = 0
        while True:
            block = resp.read(1 << 20)
            if not block:
                break
            assert block.count(b"x") == len(block)
            total += len(block)
        assert total == 100 << 20
        growth_mb = (rss_kb(s.proc.pid) - before) / 1024
        assert growth_mb <= 8, "ew-server grew by %.1f MB streaming 100 MB" % growth_mb
    finally:
        assert s.stop() == 0


def test_stream_error_midway_truncates_the_body(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/fail-midway")
        resp = conn.getresponse()
        assert resp.status == 200
        try:
            body = resp.read()
            raise AssertionError("a complete body was received: %r" % body)
        except http.client.IncompleteRead as e:
            assert e.partial == b"partial"
        assert "the database went away" in s.read_output()
    finally:
        assert s.stop() == 0


def test_client_leaving_cancels_the_stream(tmp_path):
    s = start(tmp_path)
    try:
        sock = s.connect()
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while got.count(b"tick") < 3:
            got += sock.recv(4096)
        sock.close()
        for _ in range(100):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("GET", "/cancelled")
            if conn.getresponse().read() == b"yes":
                break
            s.read_output(0.05)
        else:
            raise AssertionError("the writer never saw the cancellation")
    finally:
        assert s.stop() == 0


def test_http10_client_gets_a_close_delimited_body(tmp_path):
    s = start(tmp_path)
    try:
        sock = s.connect()
        sock.sendall(b"GET /big?mb=1 HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            block = sock.recv(65536)
            if not block:
                break
            data += block
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"transfer-encoding" not in head.lower()
        assert len(body) == 1 << 20
    finally:
        assert s.stop() == 0


def test_compression_stream_body(tmp_path):
    import gzip
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/gzip")
        resp = conn.getresponse()
        assert resp.getheader("content-encoding") == "gzip"
        assert gzip.decompress(resp.read()) == b"streamed and compressed " * 100
    finally:
        assert s.stop() == 0


def test_fixed_length_stream_is_sent_with_content_length(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/fixed")
        resp = conn.getresponse()
        assert resp.getheader("content-length") == "11"
        assert resp.getheader("transfer-encoding") is None
        assert resp.read() == b"hello world"
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"plain"
    finally:
        assert s.stop() == 0


def test_chunks_queued_before_the_response_come_first(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/queued")
        assert conn.getresponse().read() == b"one two three four"
    finally:
        assert s.stop() == 0


def test_a_chunk_that_is_not_bytes_ends_the_body_and_the_writer(tmp_path):
    s = start(tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/not-bytes")
        resp = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead) as e:
            resp.read()
        assert e.value.partial == b"bytes then "
        assert "This ReadableStream did not return bytes." in s.read_output()
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/cancelled")
        assert conn.getresponse().read() == b"writer errored: This ReadableStream did not return bytes."
    finally:
        assert s.stop() == 0


def test_cpu_limit_while_streaming_ends_the_body_not_the_server(tmp_path):
    # A writer that never stops runs into the CPU limit while the host pumps its stream: the body ends early,
    # and the server (which once crashed ending the request from inside that pump) answers the next request.
    (tmp_path / "worker.js").write_text(r"""
export default {
  async fetch(request) {
    if (new URL(request.url).pathname === '/ok') return new Response('still here');
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    (async () => {
      for (let i = 0; ; i++) await writer.write(new TextEncoder().encode(`line ${i}\n`));
    })();
    return new Response(readable);
  },
};
""")
    (tmp_path / "wrangler.toml").write_text('name = "cpu"\nmain = "worker.js"\n[limits]\ncpu_ms = 20\n')
    s = Server(tmp_path, ["--threads", "1"])
    try:
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            conn.request("GET", "/endless")
            resp = conn.getresponse()
            with pytest.raises(http.client.IncompleteRead):
                resp.read()
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            conn.request("GET", "/ok")
            assert conn.getresponse().read() == b"still here"
        assert "Worker exceeded CPU time limit." in s.read_output()
    finally:
        assert s.stop() == 0


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
@pytest.mark.parametrize("stream", [False, True])
def test_encode_body_automatic(tmp_path, coding, stream):
    import gzip
    import zlib
    from fetch_origin import brotli_decompress
    s = start(tmp_path)
    try:
        path = "/auto?coding=%s%s" % (coding, "&stream=1" if stream else "")
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.getheader("content-encoding") == coding
        raw = resp.read()
        plain = b"compressed by the runtime " * 200
        assert len(raw) < len(plain)
        decoded = gzip.decompress(raw) if coding == "gzip" else zlib.decompress(raw) if coding == "deflate" \
            else brotli_decompress(raw)
        assert decoded == plain
        out = subprocess.run(["curl", "-s", "--compressed", "http://127.0.0.1:%d%s" % (s.port, path)],
                             capture_output=True, timeout=30)
        assert out.stdout == plain
    finally:
        assert s.stop() == 0
