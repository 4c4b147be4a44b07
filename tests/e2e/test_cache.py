"""The Cache API through ew-server: the seed's "Response Caching" Worker (unmodified; only its
generateResponse helper, which the seed leaves to the reader, is added) caches with ctx.waitUntil(cache.put),
later requests are hits, and the entries survive a restart on the same state folder."""
import pathlib
import socket
import time
import urllib.request

from conftest import Server

SEED = pathlib.Path("/work/shared/seed/workers-seed.md")


def seed_caching_worker():
    text = SEED.read_text() if SEED.exists() else None
    start = text.index("### 1. Response Caching") if text else -1
    if start < 0:
        raise AssertionError("the seed's Response Caching section is missing")
    code = text[text.index("```javascript", start) + len("```javascript"):]
    code = code[:code.index("```")]
    return code + ("\nlet generated = 0;\n"
                   "async function generateResponse(request, env) {\n"
                   "  generated++;\n"
                   "  return new Response('generated #' + generated + ' for ' + new URL(request.url).pathname);\n"
                   "}\n")


def get(s, path):
    with urllib.request.urlopen(s.url + path, timeout=10) as r:
        return r.read().decode(), r.headers


def test_seed_response_caching(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text(seed_caching_worker())
    (tmp_path / "wrangler.toml").write_text('name = "cached"\nmain = "src/index.js"\ncompatibility_date = "2024-07-01"\n')
    state = str(tmp_path / "state")
    with socket.socket() as sock:  # one port for both runs: the cache key is the whole URL
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    s = Server(tmp_path, ("--persist-to", state, "--threads", "1", "--port", port))
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
    s = Server(tmp_path, ("--persist-to", state, "--threads", "1", "--port", port))
    try:
        body, headers = get(s, "/page")
        assert (body, headers["x-cache"]) == ("generated #1 for /page", "HIT")
    finally:
        assert s.stop() == 0
