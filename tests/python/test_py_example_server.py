"""examples/python/serve.py: start it on a free port, talk to it with http.client, stop it with SIGTERM."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest


class ExampleServer:
    def __init__(self, root):
        self.proc = subprocess.Popen([sys.executable, str(root / "examples" / "python" / "serve.py"), "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
        self.output = []
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.output.append(line)
                if self.port is None and line.startswith("Ready on http://"):
                    self.port = int(line.rsplit(":", 1)[1])
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(30) or self.port is None:
            self.proc.kill()
            raise RuntimeError("serve.py did not start:\n" + "".join(self.output))

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.reader.join(5)
        return rc


@pytest.fixture
def server(paths):
    s = ExampleServer(paths.root)
    yield s
    rc = s.stop()
    assert rc == 0, "serve.py exited with %s:\n%s" % (rc, "".join(s.output))
    assert "Stopping" in "".join(s.output)


def test_get_root(server):
    status, headers, body = server.request("GET", "/")
    assert status == 200
    assert body == b"Hello from a Worker, served by Python\n"
    assert ("content-type", "text/plain;charset=UTF-8") in headers
    assert dict((k.lower(), v) for k, v in headers)["content-length"] == str(len(body))


def test_binding_counts_visits(server):
    assert json.loads(server.request("GET", "/visits")[2]) == {"path": "/visits", "visits": 1}
    assert json.loads(server.request("GET", "/visits")[2]) == {"path": "/visits", "visits": 2}


def test_post_echo_with_emoji(server):
    body = "héllo 😀".encode("utf-8")
    status, headers, got = server.request("POST", "/echo", body=body,
                                          headers={"Content-Type": "text/plain; charset=utf-8"})
    assert status == 200 and got == body
    assert ("content-type", "text/plain; charset=utf-8") in headers


def test_request_headers_and_url_reach_the_worker(server):
    status, _, body = server.request("GET", "/headers?q=1", headers={"X-Test": "yes"})
    got = json.loads(body)
    assert status == 200
    assert got["url"] == "http://127.0.0.1:%d/headers?q=1" % server.port
    assert got["headers"]["x-test"] == "yes"


def test_repeated_set_cookie_headers_are_kept(server):
    status, headers, _ = server.request("GET", "/cookie")
    assert status == 200
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2; Path=/"]


def test_worker_exception_is_a_500_and_the_server_goes_on(server):
    status, _, body = server.request("GET", "/error")
    assert status == 500 and b"1101" in body
    assert server.request("GET", "/")[0] == 200
    # the log line comes from the server's own thread: give it a moment to be printed and read
    deadline = time.monotonic() + 5
    while not any("this route fails on purpose" in line for line in server.output):
        assert time.monotonic() < deadline, "".join(server.output)
        time.sleep(0.02)


def test_not_found_and_head(server):
    assert server.request("GET", "/nope")[0] == 404
    status, headers, body = server.request("HEAD", "/")
    assert status == 200 and body == b""


def test_chunked_bodies_reach_the_worker(server):
    # http.client sends an iterable body without a length chunked, one chunk per item
    status, _, body = server.request("POST", "/echo", body=iter([b"abc", b"de"]))
    assert status == 200 and body == b"abcde"


def test_chunked_with_content_length_is_refused(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n0\r\n\r\n")
        reply = s.makefile("rb").readline()
    assert reply.startswith(b"HTTP/1.0 400") or reply.startswith(b"HTTP/1.1 400")
