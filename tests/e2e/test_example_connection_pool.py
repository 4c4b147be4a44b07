"""examples/connection-pool: the seed's ConnectionPool(20), unmodified, in front of the example's HTTPS
stand-in for api.example.com (--connect-to, --ca-file). The stand-in holds its answers until the test lets
them go and counts the requests it is answering at once: with 50 clients the upstream sees exactly 20, the
other 30 wait in the pool, and all 50 complete once answers flow. An upstream that is down gives the seed's
503 to every request, and no slot is lost to the errors."""
import http.client
import importlib.util
import json
import threading
import time

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "connection-pool"
_spec = importlib.util.spec_from_file_location("pool_standin", EXAMPLE / "upstream" / "standin.py")
standin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(standin)

POOL_SIZE = 20  # new ConnectionPool(20) in src/index.js
CLIENTS = 50


def get(server):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        c.request("GET", "/")
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def flags(tmp_path, port, ca):
    # One loop thread: the pool is a module global, so each isolate (one per thread) has its own.
    return ["--threads", "1", "--persist-to", str(tmp_path / "state"), "--ca-file", str(ca),
            "--connect-to", "%s:443:127.0.0.1:%d" % (standin.NAME, port)]


def wait_for(cond, what, limit=15.0):
    end = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < end, what
        time.sleep(0.01)


def test_pool_limits_concurrent_fetches_and_completes_all(tmp_path):
    H = standin.Handler
    H.in_flight = H.max_in_flight = H.served = 0
    H.gate = threading.Event()
    upstream, ca = standin.serve(0, str(tmp_path / "certs"))
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    s = Server(EXAMPLE, flags(tmp_path, upstream.server_port, ca))
    results = []
    clients = [threading.Thread(target=lambda: results.append(get(s))) for _ in range(CLIENTS)]
    try:
        for t in clients:
            t.start()
        wait_for(lambda: H.in_flight == POOL_SIZE, "the pool's 20 fetches did not reach the upstream")
        time.sleep(0.5)  # room for a pool that lets more through to show it
        assert (H.in_flight, H.served) == (POOL_SIZE, POOL_SIZE), "30 requests wait in the pool"
        H.gate.set()
        for t in clients:
            t.join(60)
        assert len(results) == CLIENTS and {st for st, _ in results} == {200}
        answers = [json.loads(body) for _, body in results]
        assert sorted(a["request"] for a in answers) == list(range(1, CLIENTS + 1))
        assert H.max_in_flight == POOL_SIZE and H.served == CLIENTS
        assert "will never generate a response" not in s.read_output()
    finally:
        H.gate.set()
        assert s.stop() == 0
        upstream.shutdown()
        upstream.server_close()
        H.gate = None


def test_upstream_down_gives_503_and_keeps_the_slots(tmp_path):
    upstream, ca = standin.serve(0, str(tmp_path / "certs"))
    port = upstream.server_port
    upstream.server_close()  # nothing listens there now
    s = Server(EXAMPLE, flags(tmp_path, port, ca))
    try:
        # More failures than the pool has slots, one after another: each failed fetch gives its slot back.
        for _ in range(POOL_SIZE + 5):
            assert get(s) == (503, b"Service unavailable")
    finally:
        assert s.stop() == 0
