"""ew-server end to end: Workers in the service-worker form served over HTTP/1.1, with real clients."""
import http.client
import json
import subprocess
import threading
import time

from conftest import raw_request

HELLO = """
addEventListener('fetch', function (event) {
  event.respondWith(new Response('Hello from Cloudflare Workers!'));
});
"""

ECHO = """
addEventListener('fetch', function (event) {
  var req = event.request;
  event.respondWith(req.text().then(function (body) {
    var headers = {};
    req.headers.forEach(function (v, k) { headers[k] = v; });
    return Response.json({ method: req.method, url: req.url, headers: headers, body: body });
  }));
});
"""


def test_hello_world_with_curl(serve):
    s = serve(HELLO)
    out = subprocess.run(["curl", "-sS", "-i", s.url + "/"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/1.1 200 OK")
    assert out.stdout.endswith("Hello from Cloudflare Workers!")
    assert "content-type: text/plain;charset=UTF-8" in out.stdout.lower().replace("text/plain;charset=utf-8", "text/plain;charset=UTF-8")


def test_hello_world_keep_alive_with_http_client(serve):
    s = serve(HELLO)
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    for _ in range(5):
        conn.request("GET", "/")
        r = conn.getresponse()
        assert r.status == 200
        assert r.read() == b"Hello from Cloudflare Workers!"
    conn.close()
    assert "GET / 200 OK" in s.read_output()


def test_header_echo(serve):
    s = serve(ECHO)
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/path?q=1", headers={"X-Custom": "Value 1", "X-Emoji": "caf\u00e9".encode()})
    r = conn.getresponse()
    data = json.loads(r.read())
    assert r.status == 200
    assert r.getheader("content-type") == "application/json"
    assert data["method"] == "GET"
    assert data["url"] == "http://127.0.0.1:%d/path?q=1" % s.port
    assert data["headers"]["x-custom"] == "Value 1"
    assert data["headers"]["x-emoji"] == "caf\u00e9"
    assert data["headers"]["cf-connecting-ip"] == "127.0.0.1"


def test_post_body_echo_with_emoji(serve):
    s = serve(ECHO)
    body = "hello \U0001F30D world \u20ac".encode()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("POST", "/echo", body=body, headers={"Content-Type": "text/plain"})
    data = json.loads(conn.getresponse().read())
    assert data["method"] == "POST"
    assert data["body"] == body.decode()


def test_chunked_request_body(serve):
    s = serve(ECHO)
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    resp = raw_request(s, req)
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["body"] == "hello world"


def test_pipelined_requests_answer_in_order(serve):
    s = serve(ECHO)
    req = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
    req += b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    resp = raw_request(s, req)
    assert resp.count(b"HTTP/1.1 200 OK") == 4
    urls = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["url"]
            for part in resp.split(b"HTTP/1.1 200 OK")[1:]]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["0", "1", "2", "last"]


def test_pipelined_requests_beyond_the_input_limit_all_get_answers(serve):
    # ~300 KB of pipelined requests: more than the 256 KiB the server buffers before it stops reading the
    # socket. The first answer waits until all of it was sent, so the buffer fills and reading must stop,
    # then resume as the requests are answered.
    s = serve("""
addEventListener('fetch', function (event) {
  var first = event.request.url.indexOf('/000000') >= 0;
  event.respondWith(new Promise(function (resolve) {
    setTimeout(function () { resolve(new Response('Hello from Cloudflare Workers!')); }, first ? 300 : 0);
  }));
});
""")
    n = 5000
    req = b"".join(b"GET /%06d HTTP/1.1\r\nHost: x\r\nUser-Agent: pipeline-test\r\n\r\n" % i for i in range(n))
    req += b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert len(req) > 256 * 1024
    with s.connect() as sock:
        sock.settimeout(30)
        sender = threading.Thread(target=sock.sendall, args=(req,))
        sender.start()
        chunks = []
        while True:
            b = sock.recv(65536)
            if not b:
                break
            chunks.append(b)
        sender.join()
    resp = b"".join(chunks)
    assert resp.count(b"HTTP/1.1 200 OK") == n + 1
    assert resp.endswith(b"Hello from Cloudflare Workers!")


def test_head_request_has_no_body(serve):
    s = serve(HELLO)
    resp = raw_request(s, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length: 30" in head
    assert body == b""


def test_thrown_error_gives_500_1101_and_logs_stack(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  if (event.request.url.indexOf('/async') >= 0) {
    event.respondWith(Promise.reject(new TypeError('async boom')));
    return;
  }
  throw new Error('boom');
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 500
    assert b"1101" in r.read()
    conn.request("GET", "/async")
    r = conn.getresponse()
    assert r.status == 500
    assert b"1101" in r.read()
    out = s.read_output()
    assert "Error: boom" in out
    assert "TypeError: async boom" in out


def test_timer_delayed_response(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(new Promise(function (resolve) {
    setTimeout(function (word) { resolve(new Response('late ' + word)); }, 150, 'hello');
  }));
});
""")
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.read() == b"late hello"
    assert time.monotonic() - t0 >= 0.14


def test_wait_until_finishes_after_the_response(serve):
    s = serve("""
var log = [];
addEventListener('fetch', function (event) {
  if (event.request.url.indexOf('/log') >= 0) {
    event.respondWith(new Response(log.join(',')));
    return;
  }
  event.waitUntil(new Promise(function (resolve) {
    setTimeout(function () { log.push('background done'); resolve(); }, 200);
  }));
  log.push('responded');
  event.respondWith(new Response('quick'));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    t0 = time.monotonic()
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"quick"
    assert time.monotonic() - t0 < 0.15, "the response must not wait for waitUntil work"
    conn.request("GET", "/log")
    assert conn.getresponse().read() == b"responded"
    time.sleep(0.35)
    conn.request("GET", "/log")
    assert conn.getresponse().read() == b"responded,background done"


def test_never_resolving_promise_gives_500_instead_of_hanging(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(new Promise(function () {}));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 500
    r.read()
    assert "will never generate a response" in s.read_output()


def test_await_settled_by_another_request_goes_on_as_its_own_request(serve):
    """Request /wait awaits a promise that request /release resolves (a pool's release() handing its slot
    to a waiting request): what /wait does next (here a timer) is its own, so it is not cancelled when
    /release has answered and gone."""
    s = serve("""
const waiting = [];
let releasing = false;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/wait') {
      const note = await new Promise((resolve) => waiting.push(resolve));
      await sleep(100);
      return new Response('woken by ' + note);
    }
    if (path === '/releasing') return new Response(String(releasing));
    releasing = true; // its timers keep the isolate busy, so /wait is not taken for a hung request
    while (waiting.length === 0) await sleep(5);
    waiting.shift()('release');
    return new Response('released');
  },
};
""", "--threads", "1")
    results = {}

    def get(path):
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        results[path] = (r.status, r.read())

    threads = [threading.Thread(target=get, args=(p,)) for p in ("/release", "/wait")]
    threads[0].start()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    for _ in range(500):
        conn.request("GET", "/releasing")
        if conn.getresponse().read() == b"true":
            break
        time.sleep(0.01)
    threads[1].start()
    for t in threads:
        t.join(10)
    assert results == {"/release": (200, b"released"), "/wait": (200, b"woken by release")}
    assert "will never generate a response" not in s.read_output()


def test_worker_globals_are_hidden_and_standard_ones_present(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(new Response([typeof Duktape, typeof Buffer, typeof CBOR, typeof Promise,
    typeof setTimeout, typeof queueMicrotask, typeof globalThis, self === globalThis].join(' ')));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"undefined undefined undefined function function function object true"


def test_console_output_is_prefixed_by_worker_name(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  console.log('hello', 42, { a: 1 });
  console.error('bad thing');
  event.respondWith(new Response('ok'));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    conn.getresponse().read()
    out = s.read_output()
    assert "[worker] hello 42 { a: 1 }" in out
    assert "[worker] bad thing" in out


def test_sigterm_lets_in_flight_request_finish(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(new Promise(function (resolve) {
    setTimeout(function () { resolve(new Response('finished')); }, 400);
  }));
});
""")
    result = {}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        conn.request("GET", "/")
        r = conn.getresponse()
        result["status"] = r.status
        result["body"] = r.read()

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.15)
    rc = s.stop()
    t.join(5)
    assert rc == 0
    assert result == {"status": 200, "body": b"finished"}


def test_unhandled_rejection_is_reported_in_the_log(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  Promise.reject(new RangeError('nobody caught me'));
  var handled = Promise.reject(new Error('caught later'));
  handled.catch(function () {});
  event.respondWith(new Response('fine'));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 200 and r.read() == b"fine"
    out = s.read_output()
    assert "Uncaught (in promise) RangeError: nobody caught me" in out
    assert "caught later" not in out


def test_modern_syntax_is_compiled(serve):
    s = serve("""
const greet = (name = 'world') => `Hello, ${name}!`;
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const { pathname, searchParams } = url;
  const parts = [...pathname.split('/').filter(Boolean)];
  const out = [];
  for (const [k, v] of searchParams) out.push(`${k}=${v}`);
  const obj = { a: 1, ...{ b: 2 } };
  let fns = [];
  for (let i = 0; i < 3; i++) fns.push(() => i);
  event.respondWith(Response.json({
    msg: greet(searchParams.get('name') ?? undefined), parts, out, obj,
    deep: url?.missing?.deeper ?? 'none', loops: fns.map((f) => f()),
  }));
});
""")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    conn.request("GET", "/a/b?name=Ada&x=1")
    data = json.loads(conn.getresponse().read())
    assert data == {"msg": "Hello, Ada!", "parts": ["a", "b"], "out": ["name=Ada", "x=1"],
                    "obj": {"a": 1, "b": 2}, "deep": "none", "loops": [0, 1, 2]}


def test_compile_error_names_file_line_and_column(tmp_path):
    import subprocess
    from conftest import SERVER
    script = tmp_path / "bad.js"
    script.write_text("const a = 1;\nconst b = (x => x + ;\n")
    out = subprocess.run([str(SERVER), "--port", "0", str(script)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "bad.js:2:" in out.stderr
    assert "SyntaxError" in out.stderr
