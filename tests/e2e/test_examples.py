"""The examples/ projects, served by ew-server as a user would run them, checked with real clients."""
import http.client
import json
import subprocess
import time

from conftest import ROOT, Server


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
