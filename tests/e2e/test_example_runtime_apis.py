"""examples/runtime-apis: the seed's Runtime APIs Worker (URL, headers, request.cf) served by ew-server and
asked with curl as its README shows: the fields it picks, their types, and the whole request.cf over
HTTP/1.1, HTTP/2 and HTTPS with the colo and country given on the command line."""
import json
import re
import subprocess
import time

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "runtime-apis"


def curl(*args):
    out = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=15)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_seed_worker_reads_url_headers_and_cf(tmp_path):
    s = Server(EXAMPLE, ("--persist-to", str(tmp_path / "state")))
    try:
        before = int(time.time() * 1000)
        r = curl("-A", "demo-agent/1.0", s.url + "/some/path?x=1")
        assert set(r) == {"path", "userAgent", "country", "datacenter", "timestamp"}
        assert r["path"] == "/some/path" and r["userAgent"] == "demo-agent/1.0"
        assert (r["country"], r["datacenter"]) == ("XX", "DFW")  # ew-server's defaults: no IP database
        assert isinstance(r["timestamp"], int) and before <= r["timestamp"] <= int(time.time() * 1000)
        assert curl("-H", "User-Agent:", s.url + "/")["userAgent"] is None  # header absent -> null
    finally:
        assert s.stop() == 0


def test_cf_object_as_ew_server_fills_it(tmp_path):
    s = Server(EXAMPLE, ("--persist-to", str(tmp_path / "state"), "--colo", "AMS", "--country", "NL"))
    try:
        r = curl(s.url + "/")
        assert (r["country"], r["datacenter"]) == ("NL", "AMS")
        out = curl(s.url + "/cf?a=1&b=two")
        cf, h = out["cf"], out["headers"]
        assert out["method"] == "GET" and out["query"] == {"a": "1", "b": "two"}
        types = {"asn": int, "asOrganization": str, "clientTcpRtt": int, "colo": str, "country": str,
                 "edgeRequestKeepAliveStatus": int, "httpProtocol": str, "requestPriority": str,
                 "tlsCipher": str, "tlsVersion": str, "tlsClientAuth": dict}
        assert {k: type(v) for k, v in cf.items()} == types
        assert (cf["colo"], cf["country"], cf["httpProtocol"], cf["tlsVersion"]) == ("AMS", "NL", "HTTP/1.1", "")
        assert h["cf-connecting-ip"] == "127.0.0.1" and h["cf-ipcountry"] == "NL"
        assert re.fullmatch(r"[0-9a-f]{16}-AMS", h["cf-ray"])
        assert curl("--http2-prior-knowledge", s.url + "/cf")["cf"]["httpProtocol"] == "HTTP/2"
    finally:
        assert s.stop() == 0


def test_cf_over_https(tmp_path):
    state = tmp_path / "state"
    s = Server(EXAMPLE, ("--persist-to", str(state), "--local-protocol", "https"))
    try:
        out = curl("--cacert", str(state / "tls" / "localhost.pem"), "https://localhost:%d/cf" % s.port)
        assert out["cf"]["tlsVersion"].startswith("TLSv1.") and out["cf"]["tlsCipher"]
        assert out["headers"]["x-forwarded-proto"] == "https" and out["url"].startswith("https://localhost:")
    finally:
        assert s.stop() == 0
