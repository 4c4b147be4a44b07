"""A local stand-in for https://api.example.com/data, the API the seed's pooled Worker calls, for machines
without internet access. It counts how many requests it is answering at once, which is what the pool
limits: every answer carries the count and the highest count seen so far.

    python3 upstream/standin.py [--port 9443] [--dir /tmp/connection-pool-standin] [--delay 0.5]

HTTPS on 127.0.0.1 with a certificate for api.example.com signed by a CA it writes to DIR/ca.pem (made by
examples/api-proxy's stand-in, which serves the same name); it prints the ew-server flags that send the
Worker's fetch() here. Each answer waits --delay seconds, so that concurrent requests overlap. Tests hold
answers with `Handler.gate` instead of a delay.
"""
import argparse
import http.server
import importlib.util
import json
import os
import pathlib
import ssl
import sys
import tempfile
import threading

_spec = importlib.util.spec_from_file_location(
    "api_proxy_standin", pathlib.Path(__file__).resolve().parents[2] / "api-proxy" / "upstream" / "standin.py")
_certs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_certs)

NAME = "api.example.com"


class Handler(http.server.BaseHTTPRequestHandler):
    lock = threading.Lock()
    in_flight = 0       # requests being answered now
    max_in_flight = 0   # the most at once so far
    served = 0          # requests received
    delay = 0.0         # seconds each answer waits (the command line's --delay)
    gate = None         # a threading.Event: when set by a test, answers wait until it is set (at most 30 s)

    def do_GET(self):
        cls = Handler
        with cls.lock:
            cls.served += 1
            number = cls.served
            cls.in_flight += 1
            cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
            now = cls.in_flight
        try:
            if cls.gate is not None:
                cls.gate.wait(30)
            elif cls.delay:
                threading.Event().wait(cls.delay)
            if self.path != "/data":
                status, data = 404, {"error": "no such route"}
            else:
                status, data = 200, {"request": number, "inFlight": now, "maxInFlight": cls.max_in_flight}
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with cls.lock:
                cls.in_flight -= 1

    def log_message(self, *args):
        pass


def serve(port, folder):
    """Starts the stand-in's listener (serve_forever is the caller's); returns (server, ca path)."""
    ca, cert, key = _certs.make_certs(folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server, ca


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=9443)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "connection-pool-standin"))
    ap.add_argument("--delay", type=float, default=0.5, help="seconds each answer waits (default 0.5)")
    args = ap.parse_args()
    Handler.delay = args.delay
    server, ca = serve(args.port, args.dir)
    print("stand-in on https://127.0.0.1:%d; run:\n  ew-server examples/connection-pool --threads 1 --ca-file %s "
          "--connect-to %s:443:127.0.0.1:%d" % (server.server_port, ca, NAME, server.server_port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
