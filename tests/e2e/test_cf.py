"""request.cf and the Cloudflare headers ew-server adds, as Cloudflare's edge (and wrangler dev) would:
values the client cannot forge, X-Forwarded-For extended, colo/country from the command line."""
import json
import re
import urllib.request

WORKER = r"""
export default {
  fetch(request) {
    const h = {};
    for (const [k, v] of request.headers) h[k] = v;
    return Response.json({ cf: request.cf, headers: h, same: request.cf === request.cf });
  },
};
"""


def get(server, headers=None):
    req = urllib.request.Request(server.url + "/", headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_cf_object_defaults(serve):
    s = serve(WORKER)
    out = get(s)
    cf = out["cf"]
    assert out["same"] is True
    assert cf["colo"] == "DFW"
    assert cf["country"] == "XX"
    assert cf["httpProtocol"] == "HTTP/1.1"
    assert cf["asn"] == 0
    assert cf["tlsVersion"] == "" and cf["tlsCipher"] == ""
    assert isinstance(cf["clientTcpRtt"], int)


def test_edge_headers(serve):
    s = serve(WORKER)
    h = get(s)["headers"]
    assert h["cf-connecting-ip"] == "127.0.0.1"
    assert h["x-real-ip"] == "127.0.0.1"
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert h["x-forwarded-proto"] == "http"
    assert h["cf-visitor"] == '{"scheme":"http"}'
    assert h["cf-ipcountry"] == "XX"
    assert re.fullmatch(r"[0-9a-f]{16}-DFW", h["cf-ray"])
    assert get(s)["headers"]["cf-ray"] != h["cf-ray"]


def test_client_cannot_forge_edge_headers(serve):
    s = serve(WORKER)
    h = get(s, {"CF-Connecting-IP": "6.6.6.6", "X-Real-IP": "6.6.6.6", "CF-Ray": "forged",
                "CF-IPCountry": "FR", "X-Forwarded-For": "10.0.0.1", "X-Forwarded-Proto": "https"})["headers"]
    assert h["cf-connecting-ip"] == "127.0.0.1"
    assert h["x-real-ip"] == "127.0.0.1"
    assert h["cf-ray"] != "forged"
    assert h["cf-ipcountry"] == "XX"
    assert h["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"  # appended, as Cloudflare does
    assert h["x-forwarded-proto"] == "http"


def test_colo_country_and_trusted_ipcountry(serve):
    s = serve(WORKER, "--colo", "AMS", "--country", "NL", "--trust-cf-ipcountry")
    out = get(s)
    assert out["cf"]["colo"] == "AMS" and out["cf"]["country"] == "NL"
    assert out["headers"]["cf-ray"].endswith("-AMS")
    out = get(s, {"CF-IPCountry": "de"})
    assert out["cf"]["country"] == "DE"
    assert out["headers"]["cf-ipcountry"] == "DE"


def test_bad_colo_and_country_are_usage_errors(tmp_path):
    import subprocess
    from conftest import SERVER
    script = tmp_path / "w.js"
    script.write_text(WORKER)
    for args in (["--colo", "x"], ["--country", "usa"]):
        p = subprocess.run([str(SERVER), *args, str(script)], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2
        assert "expected" in p.stderr
