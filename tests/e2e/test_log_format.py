"""--log-format json: one JSON object per request and per Worker log line, on stdout."""
import json
import subprocess
import urllib.request

WORKER = r"""
export default {
  fetch(request) {
    console.log('hello "quoted"\nsecond line');
    console.error('bad thing');
    return new Response('ok', { status: 201 });
  },
};
"""


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_json_request_and_console_lines(serve):
    s = serve(WORKER, "--log-format", "json")
    with urllib.request.urlopen(s.url + "/p?q=1", timeout=10) as r:
        assert r.status == 201
    lines = json_lines(s.read_output(0.4))
    req = [l for l in lines if l.get("type") == "request"]
    assert len(req) == 1
    assert req[0]["method"] == "GET" and req[0]["path"] == "/p?q=1" and req[0]["status"] == 201
    assert req[0]["protocol"] == "HTTP/1.1" and isinstance(req[0]["ms"], float)
    assert req[0]["time"].endswith("Z")
    logs = [l for l in lines if "message" in l]
    assert {"level": "info", "message": 'hello "quoted"\nsecond line'}.items() <= logs[0].items()
    assert logs[0]["worker"] == "worker"
    assert any(l["level"] == "error" and l["message"] == "bad thing" for l in logs)


def test_pretty_is_the_default(serve):
    s = serve(WORKER)
    urllib.request.urlopen(s.url + "/x", timeout=10).read()
    out = s.read_output(0.4)
    assert "GET /x 201 Created" in out
    assert "[worker] hello" in out


def test_bad_log_format(tmp_path):
    from conftest import SERVER
    script = tmp_path / "w.js"
    script.write_text(WORKER)
    p = subprocess.run([str(SERVER), "--log-format", "xml", str(script)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "pretty or json" in p.stderr
