"""The Cache API through ew-server: examples/response-cache, the seed's "Response Caching" Worker (unmodified;
only its generateResponse helper, which the seed leaves to the reader, is added) caches with ctx.waitUntil(cache.put),
later requests are hits, and the entries survive a restart on the same state folder."""
import socket
import time
import urllib.request

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "response-cache"


def get(s, path):
    with urllib.request.urlopen(s.url + path, timeout=10) as r:
        return r.read().decode(), r.headers


def test_seed_response_caching(tmp_path):
    state = str(tmp_path / "state")
    with socket.socket() as sock:  # one port for both runs: the cache key is the whole URL
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    s = Server(EXAMPLE, ("--persist-to", state, "--threads", "1", "--port", port))
    try:
        body, headers = get(s, "/page")
        assert (body, headers["x-cache"]) == ("generated #1 for /page", "MISS")
        for _ in range(250):  # the put runs in waitUntil, after the response
            body, headers = get(s, "/page")
            if headers["x-cache"] == "HIT":
                break
            time.sleep(0.02)
        assert (body, headers["x-cache"], headers["cf-cache-status"]) == ("generated #1 for /page", "HIT", "HIT")
        assert headers["cache-control"] == "public, max-age=3600"
        body, headers = get(s, "/other")
        assert headers["x-cache"] == "MISS" and body.startswith("generated #")
    finally:
        assert s.stop() == 0
    assert (tmp_path / "state" / "cache" / "cached.sqlite").is_file()
    s = Server(EXAMPLE, ("--persist-to", state, "--threads", "1", "--port", port))
    try:
        body, headers = get(s, "/page")
        assert (body, headers["x-cache"]) == ("generated #1 for /page", "HIT")
    finally:
        assert s.stop() == 0
