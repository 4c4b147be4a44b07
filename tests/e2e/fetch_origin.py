"""A loopback origin server for the fetch() tests: raw HTTP/1.1 over TCP, optionally TLS, with routes that
misbehave on purpose (resets, slow bodies, bad framing). It runs in a thread of the test process.

Routes (path -> response):
  /text                 200 "hello from origin"
  /echo                 200 JSON of method, path, headers (lower-case names, lists), body (latin-1 text)
  /status/N             status N, empty body
  /redirect/S?to=URL    status S with Location: URL
  /hops/N               302 to /hops/N-1 ... /hops/0 answers "arrived"
  /loop                 302 to /loop forever
  /gzip /deflate /rawdeflate /br   the text GZIP_TEXT compressed that way, with Content-Encoding
  /badgzip              Content-Encoding: gzip with bytes that are not gzip
  /chunked              the text in three chunks with a trailer
  /close                HTTP/1.0-style body delimited by the connection closing
  /early                103 Early Hints and 100 Continue before the final 200
  /slow                 head at once, then 5 pieces 0.2 s apart
  /reset                head announcing 100000 bytes, 1000 bytes, then a TCP reset
  /huge?n=BYTES         n bytes of 'x'
  /bad                  a response that is not HTTP
  /hang                 head and nothing more, until the client goes away (counted in closed_hangs)
  /nohead               nothing at all, until the client goes away
  /after-hang           200 once a /hang request has arrived
  /drop-after           200 without Connection: close, then the connection is closed
  /drop-late            200 keep-alive, then 0.3 s later the connection closes (what came meanwhile is dropped)
  /conn                 200 with the id of the TCP connection it came on (keep-alive checks)
"""
import ctypes
import ctypes.util
import gzip
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
import zlib

GZIP_TEXT = ("compressed body " * 200).encode()


def brotli_compress(data):
    """br-encodes data with the system's libbrotlienc (the python brotli module is not installed)."""
    lib = ctypes.CDLL(ctypes.util.find_library("brotlienc") or "libbrotlienc.so.1")
    out_size = ctypes.c_size_t(len(data) + 1024)
    out = ctypes.create_string_buffer(out_size.value)
    ok = lib.BrotliEncoderCompress(ctypes.c_int(9), ctypes.c_int(22), ctypes.c_int(0), ctypes.c_size_t(len(data)),
                                   data, ctypes.byref(out_size), out)
    assert ok == 1
    return out.raw[:out_size.value]


def brotli_decompress(data):
    """Decodes br with the system's libbrotlidec."""
    lib = ctypes.CDLL(ctypes.util.find_library("brotlidec") or "libbrotlidec.so.1")
    out_size = ctypes.c_size_t(1 << 24)
    out = ctypes.create_string_buffer(out_size.value)
    rc = lib.BrotliDecoderDecompress(ctypes.c_size_t(len(data)), data, ctypes.byref(out_size), out)
    assert rc == 1, "not valid br"
    return out.raw[:out_size.value]


class _Handler(socketserver.BaseRequestHandler):
    def setup(self):
        origin = self.server.origin
        with origin.lock:
            origin.conn_seq += 1
            self.conn_id = origin.conn_seq
        if origin.tls_context is not None:
            try:
                self.request = origin.tls_context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                self.request = None

    def read_request(self, buf):
        while b"\r\n\r\n" not in buf:
            chunk = self.request.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
            if not buf[:1].isupper():  # not HTTP (e.g. a TLS hello): answer as an HTTP server would
                self.request.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                return None, buf
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int(headers.get("content-length", ["0"])[0])
        while len(rest) < length:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, rest = rest[:length], rest[length:]
        return (method, target, headers, body), rest

    def handle(self):
        if self.request is None:
            return
        buf = b""
        while True:
            try:
                req, buf = self.read_request(buf)
            except (OSError, ValueError):
                return
            if req is None:
                return
            self.server.origin.requests.append(req)
            try:
                keep = self.respond(*req)
            except OSError:
                return
            if not keep:
                return

    def send(self, status, body=b"", headers=(), reason=None):
        reason = reason if reason is not None else {200: "OK", 404: "Not Found"}.get(status, "Status")
        head = "HTTP/1.1 %d %s\r\n" % (status, reason)
        names = [h[0].lower() for h in headers]
        if "content-length" not in names and status not in (204, 304):
            head += "Content-Length: %d\r\n" % len(body)
        for name, value in headers:
            head += "%s: %s\r\n" % (name, value)
        self.request.sendall(head.encode("latin-1") + b"\r\n" + body)
        return True

    def respond(self, method, target, headers, body):
        url = urllib.parse.urlsplit(target)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        body_out = lambda data: data if method != "HEAD" else b""
        if path == "/text":
            return self.send(200, body_out(b"hello from origin"), [("Content-Type", "text/plain")])
        if path == "/echo":
            data = json.dumps({"method": method, "path": target, "headers": headers,
                               "body": body.decode("latin-1")}).encode()
            return self.send(200, body_out(data), [("Content-Type", "application/json")])
        if path.startswith("/status/"):
            return self.send(int(path[8:]), b"", reason="Custom Reason")
        if path.startswith("/redirect/"):
            return self.send(int(path[10:]), b"", [("Location", query["to"][0])])
        if path.startswith("/hops/"):
            n = int(path[6:])
            if n == 0:
                return self.send(200, body_out(b"arrived"))
            return self.send(302, b"", [("Location", "/hops/%d" % (n - 1))])
        if path == "/loop":
            return self.send(302, b"", [("Location", "/loop")])
        if path == "/gzip":
            return self.send(200, body_out(gzip.compress(GZIP_TEXT)), [("Content-Encoding", "gzip")])
        if path == "/deflate":
            return self.send(200, body_out(zlib.compress(GZIP_TEXT)), [("Content-Encoding", "deflate")])
        if path == "/rawdeflate":
            c = zlib.compressobj(wbits=-15)
            return self.send(200, body_out(c.compress(GZIP_TEXT) + c.flush()), [("Content-Encoding", "deflate")])
        if path == "/br":
            return self.send(200, body_out(brotli_compress(GZIP_TEXT)), [("Content-Encoding", "br")])
        if path == "/badgzip":
            return self.send(200, b"this is not gzip at all", [("Content-Encoding", "gzip")])
        if path == "/chunked":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-t\r\n\r\n"
                                 b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-t: 1\r\n\r\n")
            return True
        if path == "/close":
            self.request.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
            return False
        if path == "/early":
            self.request.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                 b"HTTP/1.1 100 Continue\r\n\r\n")
            return self.send(200, body_out(b"after hints"))
        if path == "/slow":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            for _ in range(5):
                time.sleep(0.2)
                self.request.sendall(b"ab")
            return True
        if path == "/reset":
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
            time.sleep(0.1)
            sock = self.request
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return False
        if path == "/huge":
            n = int(query["n"][0])
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            block = b"x" * 65536
            left = n
            self.server.origin.huge_sent = 0
            try:
                while left > 0:
                    self.request.sendall(block[:min(left, len(block))])
                    left -= min(left, len(block))
                    self.server.origin.huge_sent = n - left
            except OSError:
                self.server.origin.huge_stopped = n - left  # bytes sent before the client went away
                return False
            return True
        if path == "/bad":
            self.request.sendall(b"HTTP/1.1 2xx Nope\r\n\r\n")
            return False
        if path == "/nohead":  # no response at all, until the client goes away
            while self.request.recv(100):
                pass
            return False
        if path == "/after-hang":  # answers once a /hang request has arrived (ordering without sleeps)
            self.server.origin.hang_seen.wait(10)
            return self.send(200, body_out(b"hang seen"))
        if path == "/hang":
            self.server.origin.hang_seen.set()
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
            try:
                while self.request.recv(100):
                    pass
            except OSError:  # a reset is a client going away too
                pass
            with self.server.origin.lock:
                self.server.origin.closed_hangs += 1
            return False
        if path == "/drop-after":  # a keep-alive response, then the server closes the connection anyway
            self.send(200, body_out(b"then dropped"))
            return False
        if path == "/drop-late":  # keep-alive response; the next request on the connection is never answered
            self.send(200, body_out(b"answered once"))
            time.sleep(0.3)
            return False
        if path == "/conn":
            return self.send(200, body_out(b"%d" % self.conn_id))
        return self.send(404, body_out(b"no route"))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Origin:
    """The origin server, on 127.0.0.1 and a free port; `tls_context` (an ssl.SSLContext) makes it https."""

    def __init__(self, tls_context=None):
        self.tls_context = tls_context
        self.lock = threading.Lock()
        self.conn_seq = 0
        self.closed_hangs = 0  # /hang requests whose client went away
        self.hang_seen = threading.Event()
        self.huge_stopped = None  # /huge: bytes sent when the client closed early (None: not yet)
        self.huge_sent = 0  # /huge: body bytes sent so far by the latest /huge response
        self.requests = []
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.origin = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
