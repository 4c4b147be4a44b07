"""examples/cron-maintenance: the seed's scheduled Worker under ew-server --test-scheduled, its health checks
sent to a loopback stand-in for the two services (one healthy, one failing), then the daily maintenance
(expired CACHE_KV entries removed, the report written) and the 6-hourly cleanup."""
import http.client
import http.server
import json
import threading
import urllib.parse

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "cron-maintenance"


class Services(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200 if self.path == "/db" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(server, path):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    out = r.status, r.read()
    c.close()
    return out


def fire(server, cron):
    assert call(server, "/__scheduled?cron=" + urllib.parse.quote(cron))[0] == 200


def test_cron_maintenance(tmp_path):
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Services)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % origin.server_port
    s = Server(EXAMPLE, ("--test-scheduled", "--persist-to", str(tmp_path / "state"),
                         "--var", "DB_HEALTH_URL:" + base + "/db", "--var", "API_HEALTH_URL:" + base + "/api"))
    try:
        assert call(s, "/") == (200, b"Worker is running")
        fire(s, "*/5 * * * *")
        status = json.loads(call(s, "/health-status")[1])
        assert status["health:database"]["status"] == "healthy"
        assert status["health:external api"]["status"] == "unhealthy"
        assert status["health:database"]["responseTime"] >= 0
        fire(s, "0 0 * * *")
        status = json.loads(call(s, "/health-status")[1])
        reports = [k for k in status if k.startswith("report:")]
        assert len(reports) == 1 and "health:database" in status[reports[0]]
        fire(s, "0 */6 * * *")  # nothing is a day old: the health entries stay
        assert "health:database" in json.loads(call(s, "/health-status")[1])
        assert "Daily maintenance completed" in s.read_output()
    finally:
        assert s.stop() == 0
        origin.shutdown()
