"""The seed's integration tests ("Testing Strategies", "2. Integration Testing" in workers-seed.md),
translated from vitest to pytest: plain HTTP to a running Worker, here ew-server serving this project
with its KV namespace and R2 bucket (the seed points at https://my-worker.example.workers.dev).

    build/server/ew-server examples/testing &
    WORKER_URL=http://127.0.0.1:8787 python3 -m pytest examples/testing/test_integration.py
"""
import json
import os
import urllib.request
import uuid

WORKER_URL = os.environ.get("WORKER_URL", "http://127.0.0.1:8787")


def fetch(url, method="GET", body=None, headers=None):
    """(status, body bytes) of one request; an HTTP error status is an answer here, not an exception."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_should_integrate_with_kv_storage():
    # Test write
    status, _ = fetch(WORKER_URL + "/kv/test-key", method="PUT",
                      body=json.dumps({"message": "Hello KV"}).encode(),
                      headers={"Content-Type": "application/json"})
    assert status == 200

    # Test read
    status, body = fetch(WORKER_URL + "/kv/test-key")
    assert status == 200

    data = json.loads(body)
    assert data["message"] == "Hello KV"


def test_should_handle_r2_file_operations():
    # The FormData the seed builds (one file part "file", test.txt, text/plain), encoded by hand.
    boundary = uuid.uuid4().hex
    form = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"test.txt\"\r\n"
             "Content-Type: text/plain\r\n\r\ntest content\r\n--%s--\r\n") % (boundary, boundary)).encode()

    # Upload file
    status, body = fetch(WORKER_URL + "/upload", method="POST", body=form,
                         headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert status == 200

    result = json.loads(body)
    assert result.get("fileKey") is not None

    # Download file
    status, content = fetch(WORKER_URL + "/download/" + result["fileKey"])
    assert status == 200

    assert content.decode() == "test content"
