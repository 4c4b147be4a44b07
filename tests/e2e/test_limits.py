"""Per-request CPU and per-isolate memory limits end to end: the offending request gets 503 with a
1102-style body, the isolate is replaced, and other clients are served during and after."""
import http.client
import threading
import time

WORKER = """
var served = 0;
addEventListener('fetch', function (event) {
  var path = event.request.url.replace(/^https?:\\/\\/[^\\/]+/, '');
  served++;
  if (path === '/spin') {
    while (true) {}
  }
  if (path === '/spin-catch') {
    for (;;) { try { while (true) {} } catch (e) {} finally { } }
  }
  if (path === '/regex') {
    var s = ''; for (var i = 0; i < 30; i++) s += 'a';
    event.respondWith(new Response(String(/(a+)+b/.test(s + 'c'))));
    return;
  }
  if (path === '/bomb') {
    var a = [];
    while (true) { a.push('x' + a.length + new Array(100).join('y')); }
  }
  if (path === '/string-bomb') {
    var s2 = 'x';
    while (true) { try { s2 = s2 + s2; } catch (e) {} }
  }
  if (path === '/recurse') {
    var f = function (n) { return f(n + 1) + 1; };
    try { f(0); } catch (e) {
      event.respondWith(new Response(e.name + ': ' + e.message));
      return;
    }
  }
  if (path === '/slow') {
    event.respondWith(new Promise(function (r) { setTimeout(function () { r(new Response('slow ok')); }, 100); }));
    return;
  }
  event.respondWith(new Response('ok ' + served));
});
"""


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def check_limit(server, path):
    t0 = time.monotonic()
    status, body = get(server.port, path)
    elapsed = time.monotonic() - t0
    assert status == 503, (status, body)
    assert b"1102" in body
    assert b"exceeded resource limits" in body
    return elapsed


def test_infinite_loop_ends_with_1102_and_next_request_succeeds(serve):
    s = serve(WORKER)
    elapsed = check_limit(s, "/spin")
    assert elapsed < 2.0
    status, body = get(s.port, "/")
    assert status == 200
    # A fresh isolate: its global counter started again.
    assert body == b"ok 1"
    assert "exceeded CPU time limit" in s.read_output()


def test_catch_and_finally_cannot_swallow_the_limit(serve):
    s = serve(WORKER)
    check_limit(s, "/spin-catch")
    assert get(s.port, "/")[0] == 200


def test_catastrophic_regex_stops_at_the_limit(serve):
    s = serve(WORKER)
    elapsed = check_limit(s, "/regex")
    assert elapsed < 2.0
    assert get(s.port, "/")[0] == 200


def test_allocation_bomb_ends_with_1102_and_host_survives(serve):
    s = serve(WORKER)
    check_limit(s, "/bomb")
    assert get(s.port, "/")[0] == 200
    check_limit(s, "/string-bomb")
    assert get(s.port, "/")[0] == 200


def test_deep_recursion_is_a_range_error(serve):
    s = serve(WORKER)
    status, body = get(s.port, "/recurse")
    assert status == 200
    assert body.startswith(b"RangeError")


def test_other_clients_are_served_during_and_after_a_runaway_request(serve):
    s = serve(WORKER)
    results = []
    slow_results = []

    def other_client():
        for _ in range(20):
            results.append(get(s.port, "/")[0])

    def slow_client():
        slow_results.append(get(s.port, "/slow"))

    slow = threading.Thread(target=slow_client)
    slow.start()
    time.sleep(0.02)
    t = threading.Thread(target=other_client)
    t.start()
    check_limit(s, "/spin")
    check_limit(s, "/bomb")
    t.join(30)
    slow.join(30)
    assert results == [200] * 20
    # The request that was waiting on a timer in the condemned isolate still finished there.
    assert slow_results == [(200, b"slow ok")]
    assert get(s.port, "/")[0] == 200
