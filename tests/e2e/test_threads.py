"""ew-server with several event-loop threads: each has its own isolates, all share one port, and SIGTERM
drains every thread."""
import http.client
import subprocess
import threading
import time

from conftest import BUILD

COUNTER = """
var served = 0;
addEventListener('fetch', function (event) {
  served++;
  event.respondWith(new Promise(function (resolve) {
    setTimeout(function () { resolve(new Response(String(served))); }, 20);
  }));
});
"""


def get(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_two_threads_serve_one_port_with_their_own_isolates(serve):
    s = serve(COUNTER, "--threads", "2")
    results = []
    lock = threading.Lock()

    def client():
        for _ in range(10):
            st, body = get(s.port)
            with lock:
                results.append((st, int(body)))

    workers = [threading.Thread(target=client) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert len(results) == 80
    assert all(st == 200 for st, _ in results)
    # Each thread counts its own requests: no counter can exceed 80, and with two isolates the highest
    # count seen is below the total whenever both threads served (the kernel spreads connections).
    assert max(n for _, n in results) <= 80


def test_sigterm_drains_every_thread(serve):
    s = serve(COUNTER.replace("20);", "300);"), "--threads", "2")
    done = []

    def client():
        done.append(get(s.port)[0])

    clients = [threading.Thread(target=client) for _ in range(6)]
    for c in clients:
        c.start()
    time.sleep(0.1)
    assert s.stop() == 0
    for c in clients:
        c.join(10)
    assert done == [200] * 6


def test_bad_thread_count_is_rejected(tmp_path):
    import subprocess
    from conftest import SERVER
    script = tmp_path / "w.js"
    script.write_text(COUNTER)
    out = subprocess.run([str(SERVER), "--threads", "0", str(script)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2
    assert "--threads 0" in out.stderr


def test_a_second_server_on_a_taken_port_fails_instead_of_sharing_it(serve, tmp_path):
    # The loop threads share the port with SO_REUSEPORT; a second ew-server must not join them silently
    # (it would answer part of the first one's connections, with its own Worker).
    s = serve(COUNTER, "--threads", "2")
    script = tmp_path / "other.js"
    script.write_text("export default { fetch() { return new Response('other'); } };")
    r = subprocess.run([str(BUILD / "server" / "ew-server"), "--port", str(s.port), str(script)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "cannot listen on 127.0.0.1:%d: Address already in use" % s.port in r.stderr
    for _ in range(20):
        assert get(s.port)[0] == 200
