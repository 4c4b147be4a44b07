"""GET /__metrics (--metrics): Prometheus text summed over the loop threads."""
import re
import time
import urllib.error
import urllib.request

WORKER = r"""
export default {
  fetch(request) {
    if (new URL(request.url).pathname === '/boom') throw new Error('boom (expected by the test)');
    let x = 0;
    for (let i = 0; i < 20000; i++) x += i;
    return new Response('worker ' + x);
  },
};
"""


def metrics(server):
    with urllib.request.urlopen(server.url + "/__metrics", timeout=10) as r:
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return text, values


def test_metrics_count_requests_errors_cpu(serve):
    s = serve(WORKER, "--metrics", "--threads", "2")
    for _ in range(10):
        urllib.request.urlopen(s.url + "/", timeout=10).read()
    try:
        urllib.request.urlopen(s.url + "/boom", timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 500
    time.sleep(0.4)  # other threads publish their counters every 250 ms
    text, v = metrics(s)
    assert "# TYPE ew_requests_total counter" in text
    assert v["ew_requests_total"] == 11
    assert v['ew_errors_total{kind="exception"}'] == 1
    assert v['ew_errors_total{kind="limit"}'] == 0
    assert v["ew_cpu_seconds_total"] > 0
    assert v["ew_isolates"] >= 1 and v["ew_heap_bytes"] > 100000
    assert v["ew_connections"] >= 1  # this request's own
    assert v["ew_requests_in_flight"] == 0


def test_without_the_flag_the_worker_gets_the_path(serve):
    s = serve(WORKER)
    with urllib.request.urlopen(s.url + "/__metrics", timeout=10) as r:
        assert r.read().startswith(b"worker ")
