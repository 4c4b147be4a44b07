"""The examples/ projects, served by ew-server as a user would run them, checked with real clients."""
import http.client
import json
import re
import subprocess
import time

import pytest

from conftest import ROOT, SEED, Server

# Each example that says it runs a seed pattern unmodified, with the seed section whose code it holds.
SEED_CODE = {
    "hello/src/index.js": "### Basic Worker Setup",
    "runtime-apis/src/runtime.js": "### Runtime APIs",
    "users-api/src/index.js": "### Request/Response Handling",
    "api-gateway/src/gateway.js": "### 1. API Gateway Pattern",
    "d1-posts/src/index.js": "### 2. Database Integration",
    "api-proxy/src/middleware.js": "### 3. External API Integration",
    "cron-maintenance/src/maintenance.js": "### 1. Scheduled Events (Cron Jobs)",
    "streaming/src/index.js": "### 3. Streaming Responses",
    "response-cache/src/index.js": "### 1. Response Caching",
    "connection-pool/src/index.js": "### 2. Connection Pooling",
    "chat-room/src/index.js": "### 2. WebSocket Handling",
}


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not on this machine")
@pytest.mark.parametrize("path", sorted(SEED_CODE))
def test_example_holds_the_seed_code_unmodified(path):
    text = SEED.read_text()
    start = text.index(SEED_CODE[path])
    code = re.search(r"```javascript\n(.*?)```", text[start:], re.S).group(1)
    assert code in (ROOT / "examples" / path).read_text(), "examples/%s differs from the seed's %s" % (
        path, SEED_CODE[path])


def test_hello_example_answers_like_the_seed():
    s = Server(ROOT / "examples" / "hello")
    try:
        out = subprocess.run(["curl", "-sS", s.url + "/"], capture_output=True, text=True, timeout=10)
        assert out.stdout == "Hello from Cloudflare Workers!"
    finally:
        assert s.stop() == 0


def test_users_api_example_with_kv(tmp_path):
    s = Server(ROOT / "examples" / "users-api", ("--persist-to", str(tmp_path / "state")))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("POST", "/api/users", body=json.dumps({"name": "Ada", "email": "ada@example.com"}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        user = json.loads(r.read())
        assert r.status == 201
        assert user["name"] == "Ada" and len(user["id"]) == 36 and user["createdAt"].endswith("Z")
        conn.request("POST", "/api/users", body=json.dumps({"name": "NoMail"}))
        r = conn.getresponse()
        assert (r.status, r.read()) == (400, b"Invalid user data")
        conn.request("GET", "/api/users")
        r = conn.getresponse()
        assert [u["id"] for u in json.loads(r.read())] == [user["id"]]
        out = subprocess.run(["curl", "-sS", "-w", " %{http_code}", "-F", "file=@%s;type=text/markdown"
                              % (ROOT / "examples" / "users-api" / "README.md"), s.url + "/api/upload"],
                             capture_output=True, text=True, timeout=10)
        body, code = out.stdout.rsplit(" ", 1)
        up = json.loads(body)
        assert code == "201" and up["fileKey"].endswith("-README.md")
        assert up["size"] == (ROOT / "examples" / "users-api" / "README.md").stat().st_size
        conn.request("POST", "/api/upload", body="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        assert (r.status, r.read()) == (400, b'Expected a form with a file in its "file" field')
        conn.request("GET", "/health")
        assert conn.getresponse().read() == b"OK"
        conn.request("DELETE", "/api/users")
        r = conn.getresponse()
        assert (r.status, r.read()) == (405, b"Method not allowed")
        conn.request("GET", "/nope")
        r = conn.getresponse()
        assert (r.status, r.read()) == (404, b"Not Found")
    finally:
        assert s.stop() == 0
    # The data survives a restart on the same state directory.
    s = Server(ROOT / "examples" / "users-api", ("--persist-to", str(tmp_path / "state")))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/api/users")
        assert [u["name"] for u in json.loads(conn.getresponse().read())] == ["Ada"]
    finally:
        assert s.stop() == 0


def test_queue_jobs_example_runs_retries_and_dead_letters(tmp_path):
    s = Server(ROOT / "examples" / "queue-jobs", ("--persist-to", str(tmp_path / "state")))
    try:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        jobs = [{"task": "count", "input": "to be or not to be"}, {"task": "hash", "input": "abc"},
                {"task": "fail"}]
        conn.request("POST", "/jobs", body=json.dumps(jobs))
        r = conn.getresponse()
        assert r.status == 202
        ids = json.loads(r.read())["ids"]
        conn.request("POST", "/jobs", body=json.dumps({"task": "nope"}))
        r = conn.getresponse()
        assert r.status == 400 and "count|hash|fail" in r.read().decode()

        def status(i):
            conn.request("GET", "/jobs/" + i)
            return json.loads(conn.getresponse().read())

        deadline = time.time() + 30
        while time.time() < deadline and [status(i)["state"] for i in ids] != ["done", "done", "failed"]:
            time.sleep(0.2)
        count, digest, failed = (status(i) for i in ids)
        assert count["state"] == "done" and count["result"] == {"words": 6} and count["attempts"] == 1
        assert digest["result"]["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        assert failed["state"] == "failed", failed
    finally:
        assert s.stop() == 0
