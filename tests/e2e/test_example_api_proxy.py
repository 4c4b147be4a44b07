"""examples/api-proxy: the seed's external API middleware, unmodified, with its fetch() calls to
api.example.com and api.openweathermap.org sent by --connect-to to the example's HTTPS stand-in (its own CA,
trusted with --ca-file): JSON answers enriched, other answers passed through, the weather cached in KV, an
unknown city, an upstream that is down, and a bad --connect-to rule."""
import http.client
import importlib.util
import json
import subprocess
import threading

from conftest import ROOT, SERVER, Server

EXAMPLE = ROOT / "examples" / "api-proxy"
_spec = importlib.util.spec_from_file_location("standin", EXAMPLE / "upstream" / "standin.py")
standin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(standin)


def get(server, path):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    c.request("GET", path)
    r = c.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    c.close()
    return out


def flags(port, ca):
    out = ["--ca-file", str(ca), "--persist-to", None]
    for name in standin.NAMES:
        out += ["--connect-to", "%s:443:127.0.0.1:%d" % (name, port)]
    return out


def test_api_proxy_against_the_standin(tmp_path):
    upstream, ca = standin.serve(0, str(tmp_path / "certs"))
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    args = flags(upstream.server_port, ca)
    args[3] = str(tmp_path / "state")
    s = Server(EXAMPLE, args)
    try:
        st, h, body = get(s, "/proxy/users/7?fields=all")
        data = json.loads(body)
        assert st == 200 and h["cache-control"] == "public, max-age=300"
        assert data["id"] == "7" and data["query"] == "fields=all" and data["agent"] == "CloudflareWorker/1.0"
        assert data["_metadata"]["worker_id"] == "api-proxy-dev" and data["_metadata"]["timestamp"] > 0
        st, h, body = get(s, "/proxy/text")
        assert (st, body) == (200, b"plain text from the upstream")
        assert get(s, "/proxy/nothing")[0] == 404
        st, _, body = get(s, "/weather?city=Paris")
        assert st == 200 and json.loads(body) == {"city": "Paris", "country": "FR", "temperature": 14.2,
                                                  "description": "clear sky", "humidity": 62, "windSpeed": 3.6}
        served = standin.Handler.requests
        assert json.loads(get(s, "/weather?city=paris")[2])["city"] == "Paris"
        assert standin.Handler.requests == served, "the second lookup comes from CACHE_KV"
        assert get(s, "/weather?city=Atlantis")[:3:2] == (404, b"Weather data not found")
        assert get(s, "/nope")[0] == 404
    finally:
        assert s.stop() == 0
    upstream.shutdown()
    upstream.server_close()
    # The upstream is gone: the proxy answers 502, the weather 503 (each as the seed words it).
    s = Server(EXAMPLE, args)
    try:
        assert get(s, "/proxy/users/1")[:3:2] == (502, b"Gateway error")
        assert get(s, "/weather?city=London")[:3:2] == (503, b"Weather service unavailable")
    finally:
        assert s.stop() == 0


def test_bad_connect_to_rule(tmp_path):
    out = subprocess.run([str(SERVER), "--port", "0", "--connect-to", "api.example.com:443", str(EXAMPLE)],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 2 and "--connect-to api.example.com:443: expected HOST1:PORT1:HOST2:PORT2" in out.stderr
