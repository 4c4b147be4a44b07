#!/usr/bin/env python3
"""serve.py — a small HTTP server in Python that hands every request to a Worker (edgeworker bindings).

    python3 examples/python/serve.py [--host 127.0.0.1] [--port 8787] [worker.js]

Why http.server.HTTPServer and not ThreadingHTTPServer: an edgeworker Runtime belongs to the thread that
created it (the C runtime is per thread), so handler threads could not call the Worker — they would get
RuntimeError. Here the main thread creates the Runtime and serves requests one at a time. That costs little:
one Worker runs one piece of JavaScript at a time anyway, and the server speaks HTTP/1.0 (one request per
connection) with a socket timeout, so a slow client holds the others up for at most --timeout seconds. A
server that must overlap slow clients would read requests in threads and pass them through a queue to one
thread that owns the Runtime (see README.md).
"""
from __future__ import annotations

import argparse
import http.server
import logging
import pathlib
import signal
import sys
from typing import Any, Dict, List, Optional

HERE = pathlib.Path(__file__).resolve().parent
try:
    import edgeworker
except ImportError:  # running from a checkout without `pip install ./bindings-python`
    sys.path.insert(0, str(HERE.parent.parent / "bindings-python"))
    import edgeworker

MAX_BODY = 10 * 1024 * 1024
# Hop-by-hop fields describe this connection, not the message: the server sets its own.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
              "content-length"}

log = logging.getLogger("serve")


class Visits:
    """The VISITS binding: worker.js calls VISITS.increment(path) and gets a Promise of the new count."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {}

    def increment(self, path: str) -> int:
        self.counts[path] = self.counts.get(path, 0) + 1
        return self.counts[path]


class WorkerHandler(http.server.BaseHTTPRequestHandler):
    """Turns each HTTP request into worker.fetch() and writes the Worker's response back."""

    server: "WorkerServer"
    server_version = "edgeworker-python-example/0.1"

    def read_chunked(self) -> Optional[bytes]:
        """The body of a chunked request, or None after answering 400/413 (the connection is then closed)."""
        parts: List[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
                self.send_error(400, "Bad Request", "invalid chunk size line")
                self.close_connection = True
                return None
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                self.send_error(413, "Payload Too Large")
                self.close_connection = True
                return None
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                self.send_error(400, "Bad Request", "chunk shorter than its size")
                self.close_connection = True
                return None
            parts.append(data)
        while True:  # trailer fields, up to the empty line
            line = self.rfile.readline(8194)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def handle_any(self) -> None:
        body: Optional[bytes] = None
        transfer = self.headers.get("Transfer-Encoding")
        length_text = self.headers.get("Content-Length")
        if transfer is not None:
            # Only "chunked" alone is a framing this server reads; with Content-Length too the request is
            # ambiguous (a smuggling vector), so both are refused (RFC 9112 6.1, 6.3).
            if transfer.strip().lower() != "chunked" or length_text is not None:
                self.send_error(400, "Bad Request", "unsupported Transfer-Encoding")
                self.close_connection = True
                return
            body = self.read_chunked()
            if body is None:
                return
        elif length_text is not None:
            if not length_text.strip().isdigit():
                self.send_error(400, "Bad Request", "invalid Content-Length")
                return
            length = int(length_text)
            if length > MAX_BODY:
                self.send_error(413, "Payload Too Large")
                return
            body = self.rfile.read(length)
        if self.path.startswith(("http://", "https://")):
            url = self.path  # absolute-form request target (a proxy request)
        else:
            url = "http://%s%s" % (self.headers.get("Host") or self.server.authority, self.path)
        headers = [(name, value) for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP]
        try:
            resp = self.server.worker.fetch(url, method=self.command, headers=headers, body=body)
        except (TypeError, ValueError) as e:  # a request the bindings refuse (bad URL, header, method)
            self.send_error(400, "Bad Request", str(e))
            return
        except edgeworker.EdgeWorkerError as e:
            log.error("worker failed: %s", e)
            self.send_error(502, "Bad Gateway")
            return
        if resp.error is not None:
            log.warning("%s %s -> %d (%s)", self.command, self.path, resp.status, resp.outcome.name)
        self.send_response(resp.status, resp.reason or None)
        for name, value in resp.headers.multi_items():
            if name not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class WorkerServer(http.server.HTTPServer):
    """HTTPServer (one request at a time, on the thread that owns the Runtime) with the Worker attached."""

    def __init__(self, address: Any, worker: "edgeworker.Worker", timeout: float) -> None:
        self.worker = worker
        WorkerHandler.timeout = timeout  # per-connection socket timeout: a silent client cannot stall us
        super().__init__(address, WorkerHandler)
        host, port = self.server_address[:2]
        self.authority = "%s:%d" % (host if isinstance(host, str) else host.decode(), port)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds serve_forever() on this thread; main() then closes everything


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("script", nargs="?", default=str(HERE / "worker.js"), help="Worker script (default: %(default)s)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    ap.add_argument("--cpu-ms", type=int, default=50, help="CPU time per request (ms)")
    ap.add_argument("--timeout", type=float, default=10.0, help="socket timeout per connection (s)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _stop)

    with edgeworker.Runtime(cpu_ms=args.cpu_ms) as rt:
        try:
            worker = rt.load(path=args.script, vars={"GREETING": "Hello"}, bindings={"VISITS": Visits()})
        except edgeworker.EdgeWorkerError as e:
            print("cannot load %s: %s" % (args.script, e), file=sys.stderr)
            return 1
        with WorkerServer((args.host, args.port), worker, args.timeout) as server:
            print("Ready on http://%s" % server.authority, flush=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                print("Stopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
