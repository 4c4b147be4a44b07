"""examples/api-gateway: the seed's API gateway served by ew-server, checked with real HTTP requests: CORS,
JWT authentication (valid, forged, expired, missing), public paths, static files through the ASSETS binding,
and the KV rate limit with Retry-After."""
import http.client
import importlib.util
import json
import time

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "api-gateway"
_spec = importlib.util.spec_from_file_location("make_token", EXAMPLE / "make_token.py")
make_token = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_token)


def request(server, method, path, body=None, token=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Authorization": "Bearer " + token} if token else {}
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


def test_api_gateway(tmp_path):
    s = Server(EXAMPLE, ("--persist-to", str(tmp_path / "state")))
    try:
        st, h, _ = request(s, "OPTIONS", "/api/me")
        assert st == 204 and h["access-control-allow-methods"] == "GET, POST, PUT, DELETE, OPTIONS"
        assert request(s, "GET", "/api/me")[0] == 401
        token = make_token.make_token("alice")
        st, h, body = request(s, "GET", "/api/me", token=token)
        assert st == 200 and h["access-control-allow-origin"] == "*"
        assert json.loads(body)["user"]["sub"] == "alice"
        st, _, body = request(s, "POST", "/api/echo", body=json.dumps({"n": 1}), token=token)
        assert json.loads(body) == {"user": "alice", "received": {"n": 1}}
        assert request(s, "GET", "/api/me", token=make_token.make_token("bob", -10))[0] == 401
        assert request(s, "GET", "/api/me", token=make_token.make_token("eve", 3600, "wrong"))[0] == 401
        assert request(s, "GET", "/api/me", token="not.a.jwt")[0] == 401
        st, _, body = request(s, "GET", "/health")  # public: no 401, and no route: 404
        assert (st, body) == (404, b"Not Found")
        assert request(s, "GET", "/static/app.css")[0] == 401
        st, h, body = request(s, "GET", "/static/app.css", token=token)
        assert (st, body) == (200, b"body { font-family: sans-serif; }\n")
        assert h["content-type"] == "text/css; charset=utf-8" and h["access-control-allow-origin"] == "*"
        time.sleep(1.2)  # past the first second of the window: the seed alone would answer 500 from here on
        assert request(s, "GET", "/health")[0] == 404
        # 10 counted requests so far in this minute (OPTIONS returns before the rate limit); the 101st is
        # refused with the time left in the window.
        for _ in range(90):
            assert request(s, "GET", "/health")[0] == 404
        st, h, body = request(s, "GET", "/health")
        assert (st, body) == (429, b"Rate limit exceeded")
        assert 1 <= int(h["retry-after"]) <= 60
    finally:
        assert s.stop() == 0
