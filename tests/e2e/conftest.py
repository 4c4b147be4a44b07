"""Fixtures for end-to-end tests: start ew-server on a free port with a Worker script and talk to it."""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
SERVER = BUILD / "server" / "ew-server"
# The seed document: beside the checkout as ../shared (as the project is laid out), else where this
# workplace keeps it.
SEED = next((p for p in (ROOT.parent / "shared" / "seed" / "workers-seed.md",
                         pathlib.Path("/work/shared/seed/workers-seed.md")) if p.exists()),
            ROOT.parent / "shared" / "seed" / "workers-seed.md")


class Server:
    """A running ew-server; a reader thread collects what it prints into `output`."""

    def __init__(self, script_path, extra_args=()):
        self.proc = subprocess.Popen(
            [str(SERVER), "--port", "0", *extra_args, str(script_path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = []
        self._ready = threading.Event()
        self.port = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(10) or self.port is None:
            self.proc.kill()
            self._reader.join(5)
            raise RuntimeError("ew-server did not start:\n" + "".join(self.output))
        self.url = "http://127.0.0.1:%d" % self.port

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            if self.port is None and line.startswith(("Ready on http://", "Ready on https://")):
                self.port = int(line.rsplit(":", 1)[1])
                self._ready.set()
        self._ready.set()

    def read_output(self, wait=0.2):
        """What the server printed so far, after waiting `wait` seconds for late lines."""
        time.sleep(wait)
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
        self._reader.join(5)
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


def rss_kb(pid, field="VmRSS"):
    """A process's resident set (or another /proc/PID/status size field, e.g. VmHWM) in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))
