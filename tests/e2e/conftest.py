"""Fixtures for end-to-end tests: start ew-server on a free port with a Worker script and talk to it."""
import os
import pathlib
import select
import signal
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
SERVER = BUILD / "server" / "ew-server"


class Server:
    """A running ew-server; `output` collects what it printed."""

    def __init__(self, script_path, extra_args=()):
        self.proc = subprocess.Popen(
            [str(SERVER), "--port", "0", *extra_args, str(script_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = []
        self.port = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self._readline(deadline - time.monotonic())
            if line is None:
                break
            if line.startswith("Ready on http://"):
                self.port = int(line.rsplit(":", 1)[1])
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("ew-server did not start:\n" + "".join(self.output))
        self.url = "http://127.0.0.1:%d" % self.port

    def _readline(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if line == "":
            return None
        self.output.append(line)
        return line

    def read_output(self, wait=0.2):
        """Collects output printed so far (waits up to `wait` seconds for more)."""
        deadline = time.monotonic() + wait
        while True:
            line = self._readline(deadline - time.monotonic())
            if line is None:
                break
        return "".join(self.output)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        rest = self.proc.stdout.read()
        if rest:
            self.output.append(rest)
        return rc


@pytest.fixture
def serve(tmp_path):
    """serve(js_source, *args) -> Server running that script; stopped (and checked) after the test."""
    servers = []

    def start(source, *args):
        script = tmp_path / ("worker%d.js" % len(servers))
        script.write_text(source)
        s = Server(script, args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        rc = s.stop()
        assert rc == 0, "ew-server exited with %s:\n%s" % (rc, "".join(s.output))


def raw_request(server, data, timeout=5):
    """Sends raw bytes and returns everything the server sends back until it closes (or timeout)."""
    with server.connect() as sock:
        sock.settimeout(timeout)
        sock.sendall(data)
        chunks = []
        try:
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            pass
    return b"".join(chunks)
