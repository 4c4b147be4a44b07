"""Malformed and oversized requests: the right 4xx, the connection closed, the server unharmed."""
import socket
import time

from conftest import raw_request

HELLO = """
addEventListener('fetch', function (event) { event.respondWith(new Response('hi')); });
"""


def status_of(resp):
    assert resp.startswith(b"HTTP/1.1 "), resp[:100]
    return int(resp[9:12])


def test_malformed_request_line_gets_400(serve):
    s = serve(HELLO)
    assert status_of(raw_request(s, b"GARBAGE\r\n\r\n")) == 400
    assert status_of(raw_request(s, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")) == 400
    assert status_of(raw_request(s, b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")) == 400
    assert status_of(raw_request(s, b"GET / HTTP/1.1\nHost: x\n\n")) == 400
    # Still serving.
    assert raw_request(s, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").endswith(b"hi")


def test_request_smuggling_shapes_are_rejected(serve):
    s = serve(HELLO)
    both = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\n")
    assert status_of(raw_request(s, both)) == 400
    two_lengths = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    assert status_of(raw_request(s, two_lengths)) == 400
    bad_chunk = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    assert status_of(raw_request(s, bad_chunk)) == 400


def test_oversized_headers_get_431(serve):
    s = serve(HELLO)
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n"
    assert status_of(raw_request(s, big)) == 431


def test_oversized_url_gets_414(serve):
    s = serve(HELLO)
    assert status_of(raw_request(s, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")) == 414


def test_oversized_body_gets_413_before_it_is_sent(serve):
    s = serve(HELLO)
    req = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200000000\r\n\r\n"
    assert status_of(raw_request(s, req)) == 413


def test_unsupported_version_gets_505(serve):
    s = serve(HELLO)
    assert status_of(raw_request(s, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")) == 505


def test_idle_client_is_disconnected(serve):
    s = serve(HELLO, "--idle-timeout", "300")
    with s.connect() as sock:
        sock.settimeout(5)
        t0 = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - t0 < 3


def test_slow_client_gets_408(serve):
    s = serve(HELLO, "--request-timeout", "300")
    with s.connect() as sock:
        sock.settimeout(5)
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        data = b""
        while True:
            b = sock.recv(1000)
            if not b:
                break
            data += b
    assert status_of(data) == 408


def test_request_deadline_counts_from_each_requests_start(serve):
    # The deadline is left armed between requests of a connection (server/http.c): when it fires for an
    # earlier request, the request being read gets the rest of its own time, then a 408 if it never ends.
    s = serve(HELLO, "--request-timeout", "1500")
    with s.connect() as sock:
        sock.settimeout(5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(1000)
        assert status_of(first) == 200
        time.sleep(0.9)
        sock.sendall(b"GET / HTTP/1.1\r\nHo")  # the first request's deadline passes while this arrives
        time.sleep(0.9)
        sock.sendall(b"st: x\r\n\r\n")
        second = sock.recv(1000)
        assert status_of(second) == 200
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        data = b""
        while True:
            b = sock.recv(1000)
            if not b:
                break
            data += b
    assert status_of(data) == 408


def test_client_disconnecting_mid_request_does_not_hurt(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(new Promise(function (r) { setTimeout(function () { r(new Response('done')); }, 100); }));
});
""")
    for _ in range(5):
        sock = s.connect()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.close()
    time.sleep(0.3)
    assert raw_request(s, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").endswith(b"done")


def test_expect_100_continue(serve):
    s = serve("""
addEventListener('fetch', function (event) {
  event.respondWith(event.request.text().then(function (t) { return new Response('got ' + t); }));
});
""")
    with s.connect() as sock:
        sock.settimeout(5)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                     b"Connection: close\r\n\r\n")
        interim = sock.recv(100)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"hello")
        data = b""
        while True:
            b = sock.recv(1000)
            if not b:
                break
            data += b
    assert data.endswith(b"got hello")
