"""Rate limiting bindings ([[ratelimits]]) in ew-server: limit({key}) per key and window, one count across
loop threads, errors for bad options, and configuration errors with their position."""
import http.client
import json
import subprocess
import threading
import time

from conftest import SERVER, Server

WORKER = """
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/burst') {
      const out = [];
      for (let i = 0; i < 4; i++) out.push((await env.RL.limit({ key: 'burst' })).success);
      out.push((await env.RL.limit({ key: 'other' })).success);
      return Response.json(out);
    }
    if (url.pathname === '/errors') {
      const out = [];
      for (const arg of [undefined, {}, { key: 5 }, { key: 'x'.repeat(2000) }]) {
        try { await env.RL.limit(arg); out.push('resolved'); } catch (e) { out.push(e.name); }
      }
      return Response.json(out);
    }
    const { success } = await env.SHARED.limit({ key: 'all' });
    return new Response(success ? 'ok' : 'limited', { status: success ? 200 : 429 });
  },
};
"""

TOML = """name = "rl"
main = "index.js"
compatibility_date = "2024-07-01"

[[ratelimits]]
name = "RL"
namespace_id = "1001"
simple = { limit = 3, period = 10 }

[[ratelimits]]
name = "SHARED"
namespace_id = 1002
simple = { limit = 50, period = 60 }
"""


def project(tmp_path, toml=TOML):
    (tmp_path / "index.js").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(toml)
    return tmp_path


def get(server, path):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    out = r.status, r.read()
    c.close()
    return out


def wait_for_fresh_window(period):
    """Sleeps past the next window boundary when one is less than 2 s away, so a burst fits in one window."""
    left = period - time.time() % period
    if left < 2:
        time.sleep(left + 0.05)


def test_limit_per_key_and_errors(tmp_path):
    s = Server(project(tmp_path))
    try:
        wait_for_fresh_window(10)
        assert json.loads(get(s, "/burst")[1]) == [True, True, True, False, True]
        assert json.loads(get(s, "/errors")[1]) == ["TypeError", "TypeError", "TypeError", "TypeError"]
    finally:
        assert s.stop() == 0


def test_one_count_across_threads(tmp_path):
    s = Server(project(tmp_path), ("--threads", "2"))
    try:
        wait_for_fresh_window(60)
        statuses = []

        def client():
            for _ in range(20):
                statuses.append(get(s, "/")[0])  # a new connection each time: both threads get some

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses.count(200) == 50 and statuses.count(429) == 30
    finally:
        assert s.stop() == 0


def test_configuration_errors(tmp_path):
    bad = TOML.replace("limit = 3, period = 10", "limit = 3, period = 30")
    out = subprocess.run([str(SERVER), "--port", "0", str(project(tmp_path, bad))], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode != 0
    assert "wrangler.toml:8:" in out.stderr and "'ratelimits[0].simple.period' must be 10 or 60" in out.stderr
    bad = TOML.replace('namespace_id = "1001"', 'namespace_id = "x1"')
    out = subprocess.run([str(SERVER), "--port", "0", str(project(tmp_path, bad))], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode != 0 and "'ratelimits[0].namespace_id' must be a positive integer" in out.stderr
