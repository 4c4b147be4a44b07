"""examples/streaming: the seed's streaming Worker on D1 data (the example's migration), through ew-server:
`ew-server d1 migrations apply`, then /stream/logs and /stream/csv arrive chunked with every row."""
import http.client
import subprocess

from conftest import ROOT, SERVER, Server

EXAMPLE = ROOT / "examples" / "streaming"


def test_streaming_logs_and_csv(tmp_path):
    state = str(tmp_path / "state")
    out = subprocess.run([str(SERVER), "d1", "migrations", "apply", "DB", "-c", str(EXAMPLE), "--persist-to", state],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    s = Server(EXAMPLE, ("--persist-to", state))
    try:
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.request("GET", "/stream/logs")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked"
        assert r.getheader("Content-Type") == "text/plain; charset=utf-8"
        logs = r.read().decode().splitlines()
        assert len(logs) == 300
        assert logs[0].startswith("2026-11-27T05:00:00Z [ERROR] event 300")
        c.request("GET", "/stream/csv")
        r = c.getresponse()
        assert r.getheader("Content-Disposition") == 'attachment; filename="users.csv"'
        rows = r.read().decode().splitlines()
        assert rows[0] == "id,name,email,created_at" and len(rows) == 251
        assert rows[1] == '1,"User 1","user1@example.com","2026-01-02"'
        c.request("GET", "/other")
        r = c.getresponse()
        assert (r.status, r.read()) == (404, b"Not Found")
    finally:
        assert s.stop() == 0
