"""ew-server under valgrind: requests of every kind (including limits and errors), then SIGTERM; valgrind
must report no errors and no definite leaks."""
import http.client
import shutil
import signal
import subprocess
import time

import pytest

from conftest import SERVER

WORKER = """
addEventListener('fetch', function (event) {
  var url = event.request.url;
  if (url.indexOf('/throw') >= 0) throw new Error('boom');
  if (url.indexOf('/spin') >= 0) for (;;) {}
  if (url.indexOf('/timer') >= 0) {
    event.respondWith(new Promise(function (r) { setTimeout(function () { r(new Response('t')); }, 10); }));
    return;
  }
  event.waitUntil(Promise.resolve(1));
  event.respondWith(event.request.text().then(function (t) {
    return Response.json({ len: t.length, emoji: '\\ud83d\\ude00' });
  }));
});
"""


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_server_is_clean_under_valgrind(tmp_path):
    script = tmp_path / "w.js"
    script.write_text(WORKER)
    proc = subprocess.Popen(
        ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
         "--quiet", str(SERVER), "--port", "0", "--cpu-ms", "3000", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ready on http://"):
            port = int(line.rsplit(":", 1)[1])
            break
    assert port, "".join(lines)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for path, status in [("/", 200), ("/throw", 500), ("/timer", 200), ("/spin", 503), ("/", 200)]:
        conn.request("POST", path, body=b"abc")
        r = conn.getresponse()
        r.read()
        assert r.status == status, path
    conn.close()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + out
