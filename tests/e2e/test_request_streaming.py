"""Request bodies that stream into the Worker (ew-server, HTTP/1.1): the Worker starts at the head, request.body
is fed as the body arrives, with back-pressure (a Worker that reads slowly does not make the server buffer the
upload), and the limits, Expect: 100-continue and `await request.text()` still work."""
import hashlib
import http.client
import socket
import threading
import time

import pytest

from conftest import Server

WORKER = r"""
let reading = 'idle';
let got = 0;
let release = false;
let lastError = 'none';

function whenReleased() {
  return new Promise((resolve) => {
    const check = () => (release ? resolve() : setTimeout(check, 5));
    check();
  });
}

async function sha256hex(buf) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/echo':
        return new Response(request.body);
      case '/text': {
        const t = await request.text();
        return Response.json({ length: t.length, head: t.slice(0, 8), tail: t.slice(-8) });
      }
      case '/hash':
        return new Response(await sha256hex(await request.arrayBuffer()));
      case '/slow': {
        // reads one chunk, then waits for /release before reading the rest
        reading = 'first';
        const reader = request.body.getReader();
        got = (await reader.read()).value.byteLength;
        reading = 'waiting';
        await whenReleased();
        reading = 'rest';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          got += value.byteLength;
        }
        reading = 'done';
        return new Response(String(got));
      }
      case '/count': {
        const reader = request.body.getReader();
        let n = 0;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            n += value.byteLength;
          }
        } catch (e) {
          lastError = e.name + ': ' + e.message;
          return new Response('failed after ' + n, { status: 500 });
        }
        return new Response(String(n));
      }
      case '/ignore':
        return new Response('did not read it', { status: 401 });
      case '/state':
        return Response.json({ reading, got, lastError });
      case '/release':
        release = true;
        return new Response('released');
    }
    return new Response('no route', { status: 404 });
  },
};
"""


@pytest.fixture
def server(tmp_path):
    (tmp_path / "worker.js").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "uploads"\nmain = "worker.js"\ncompatibility_date = "2024-07-01"\n[limits]\ncpu_ms = 30000\n')
    s = Server(tmp_path, ["--threads", "1"])  # one isolate: /release and /state reach the Worker's globals
    yield s
    assert s.stop() == 0, "".join(s.output)


def get(server, path):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


def read_until(sock, marker, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        block = sock.recv(65536)
        if not block:
            break
        data += block
    return data


def test_worker_answers_before_the_body_has_arrived(server):
    # a chunked upload sent in two parts: the echo of the first part arrives before the second is sent
    s = server.connect()
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
    first = read_until(s, b"first")
    assert first.startswith(b"HTTP/1.1 200 OK") and first.endswith(b"5\r\nfirst\r\n")
    s.sendall(b"6\r\nsecond\r\n0\r\n\r\n")
    rest = read_until(s, b"0\r\n\r\n")
    assert rest == b"6\r\nsecond\r\n0\r\n\r\n"
    # the connection carries the next request
    s.sendall(b"GET /state HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_until(s, b"}").startswith(b"HTTP/1.1 200 OK")
    s.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_request_text_reads_a_large_streamed_body(server, chunked):
    body = bytes(range(256)) * (8 * 1024 * 4)  # 8 MiB
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    if chunked:
        c.request("POST", "/hash", body=iter([body[i:i + 100000] for i in range(0, len(body), 100000)]),
                  encode_chunked=True)
    else:
        c.request("POST", "/hash", body=body)
    r = c.getresponse()
    assert r.status == 200 and r.read().decode() == hashlib.sha256(body).hexdigest()
    c.request("POST", "/text", body=b"a" * 300000 + b"the end.")
    r = c.getresponse()
    assert r.status == 200
    assert r.read() == b'{"length":300008,"head":"aaaaaaaa","tail":"the end."}'


def test_slow_reader_holds_the_client_back(server):
    # 64 MiB offered while the Worker has read one chunk and waits: the server must not take it all in
    total = 64 << 20
    s = server.connect()
    s.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % total)
    sent = [0]
    done = threading.Event()

    def send():
        block = b"x" * 65536
        try:
            while sent[0] < total:
                n = s.send(block[:min(len(block), total - sent[0])])
                sent[0] += n
        except OSError:
            pass
        done.set()

    t = threading.Thread(target=send, daemon=True)
    t.start()
    for _ in range(200):
        if get(server, "/state")[1].startswith(b'{"reading":"waiting"'):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the Worker never read its first chunk")
    time.sleep(1.0)  # the sender goes on until the socket buffers and the server's bound are full
    held_back = sent[0]
    assert held_back < 24 << 20, "the server took %d bytes from a Worker that does not read" % held_back
    assert not done.is_set()
    assert get(server, "/release") == (200, b"released")
    assert done.wait(60)
    reply = read_until(s, b"\r\n\r\n" + str(total).encode(), timeout=60)
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(str(total).encode())
    s.close()


def test_expect_100_continue_is_answered_when_the_worker_reads(server):
    s = server.connect()
    s.sendall(b"POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert read_until(s, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(b"hello")
    reply = read_until(s, b"}")
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b'{"length":5,"head":"hello","tail":"hello"}')
    s.close()


def test_expect_100_continue_not_sent_when_the_worker_answers_without_reading(server):
    s = server.connect()
    s.sendall(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
    reply = read_until(s, b"did not read it")
    assert reply.startswith(b"HTTP/1.1 401 Unauthorized"), reply[:80]
    assert b"100 Continue" not in reply
    s.close()


def test_body_over_the_limit_is_refused_with_413(server):
    # chunked (no length up front): the limit (100 MiB) is found while the Worker reads
    s = server.connect()
    s.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"%x\r\n%s\r\n" % (1 << 20, b"y" * (1 << 20))
    reply = b""
    s.settimeout(30)
    try:
        for _ in range(101):
            s.sendall(block)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server closed after its answer
    try:
        reply = read_until(s, b"\r\n\r\n")
    except OSError:
        pass
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:80]
    s.close()
    status, state = get(server, "/state")
    assert b"TypeError" in state


def test_client_leaving_mid_body_fails_the_workers_read(server):
    s = server.connect()
    s.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"z" * 200000)
    time.sleep(0.3)
    s.close()
    for _ in range(100):
        status, state = get(server, "/state")
        if b"closed the connection" in state:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the Worker's read did not fail: %r" % state)
    assert b"TypeError: The client closed the connection before the request body arrived." in state


def test_small_bodies_still_arrive_whole(server):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request("POST", "/echo", body=b"small body")
    r = c.getresponse()
    assert r.status == 200 and r.getheader("content-length") == "10" and r.read() == b"small body"


def test_http2_upload_streams_into_the_worker(server, tmp_path):
    # h2c with prior knowledge (nghttp): a 3 MiB upload read with arrayBuffer() and an echo of one
    import subprocess
    body = bytes(range(256)) * (3 * 4096)
    f = tmp_path / "upload.bin"
    f.write_bytes(body)
    out = subprocess.run(["nghttp", "-d", str(f), "http://127.0.0.1:%d/hash" % server.port],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == hashlib.sha256(body).hexdigest()
    out = subprocess.run(["nghttp", "-d", str(f), "http://127.0.0.1:%d/echo" % server.port],
                         capture_output=True, timeout=60)
    assert out.returncode == 0 and out.stdout == body


def test_http2_answer_without_reading_ends_the_upload(server, tmp_path):
    # the Worker answers before reading: the client is told to stop (RST_STREAM NO_ERROR), nothing hangs
    import subprocess
    f = tmp_path / "upload.bin"
    f.write_bytes(b"u" * (8 << 20))
    out = subprocess.run(["nghttp", "-d", str(f), "http://127.0.0.1:%d/ignore" % server.port],
                         capture_output=True, timeout=60)
    assert out.stdout == b"did not read it"
    out = subprocess.run(["nghttp", "http://127.0.0.1:%d/state" % server.port], capture_output=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith(b'{"reading"')
