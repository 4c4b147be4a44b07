"""Worker.fetch: URLs, methods, headers, bodies (bytes, str, JSON, emoji), the Response (case-insensitive
headers with repeated names, status text, text/json helpers), and env vars (str and JSON)."""
import pytest

import edgeworker
from edgeworker import Headers, Response, Status


def test_relative_url_resolves_against_localhost(echo):
    assert echo.fetch("/api?x=1").json()["url"] == "http://localhost/api?x=1"
    assert echo.fetch("api").json()["url"] == "http://localhost/api"
    assert echo.fetch().json()["url"] == "http://localhost/"
    assert echo.fetch("https://example.com:8443/p#f").json()["url"].startswith("https://example.com:8443/p")


def test_non_ascii_url_is_percent_encoded(echo):
    assert echo.fetch("/café").json()["url"] == "http://localhost/caf%C3%A9"


def test_method_headers_and_bytes_body_reach_the_worker(echo):
    resp = echo.fetch("/submit", method="PUT", headers={"X-One": "1", "Content-Type": "application/octet-stream"},
                      body=b"\x00raw bytes")
    got = resp.json()
    assert resp.status == 200 and resp.ok
    assert got["method"] == "PUT"
    assert got["headers"]["x-one"] == "1"
    assert got["headers"]["content-type"] == "application/octet-stream"
    assert got["body"] == "\x00raw bytes"


def test_repeated_request_headers_as_pairs(echo):
    got = echo.fetch("/", headers=[("Accept", "text/html"), ("accept", "application/json")]).json()
    assert got["headers"]["accept"] == "text/html, application/json"


def test_headers_object_can_be_sent_back(echo):
    got = echo.fetch("/", headers=Headers([("x-a", "1"), ("x-a", "2")])).json()
    assert got["headers"]["x-a"] == "1, 2"


def test_str_body_is_utf8_with_a_text_content_type(echo):
    got = echo.fetch("/", method="POST", body="héllo 😀").json()
    assert got["body"] == "héllo 😀"
    assert got["headers"]["content-type"] == "text/plain;charset=UTF-8"


def test_json_body_with_its_content_type_unless_given(echo):
    got = echo.fetch("/", method="POST", json={"emoji": "😀", "n": [1, 2.5, None, True]}).json()
    assert got["headers"]["content-type"] == "application/json"
    assert got["body"] == '{"emoji":"😀","n":[1,2.5,null,true]}'
    got = echo.fetch("/", method="POST", json=[1], headers={"content-type": "application/x-custom"}).json()
    assert got["headers"]["content-type"] == "application/x-custom"


def test_bytes_like_bodies(echo):
    assert echo.fetch("/", method="POST", body=bytearray(b"ba")).json()["body"] == "ba"
    assert echo.fetch("/", method="POST", body=memoryview(b"xmvx")[1:3]).json()["body"] == "mv"


def test_utf8_header_values(echo):
    assert echo.fetch("/", headers={"x-name": "Zoë"}).json()["headers"]["x-name"] == "Zoë"


RESPONDER = r"""
addEventListener('fetch', function (event) {
  var h = new Headers();
  h.append('Set-Cookie', 'a=1');
  h.append('Set-Cookie', 'b=2');
  h.set('X-Emoji-Name', 'grinning');
  h.set('Content-Type', 'text/plain; charset=utf-8');
  event.respondWith(new Response('\ud83d\ude00 grinning, caf\u00e9', { status: 418, statusText: "I'm a teapot",
                                                                      headers: h }));
});
"""


def test_response_status_headers_and_emoji_body(load):
    resp = load(RESPONDER).fetch("/")
    assert resp.status == 418 and not resp.ok
    assert resp.status_text == "I'm a teapot" and resp.reason == "I'm a teapot"
    assert resp.outcome == Status.EW_OK and resp.outcome.name == "EW_OK" and resp.error is None
    assert resp.body == "😀 grinning, café".encode("utf-8")
    assert resp.text() == "😀 grinning, café"
    assert resp.url == "http://localhost/"
    assert not resp.pass_through


def test_response_headers_are_case_insensitive_and_keep_repeats(load):
    h = load(RESPONDER).fetch("/").headers
    assert h["content-type"] == h["Content-Type"] == h["CONTENT-TYPE"] == "text/plain; charset=utf-8"
    assert "X-EMOJI-NAME" in h and "x-missing" not in h and 42 not in h
    assert h.get("x-missing") is None and h.get("X-Emoji-Name") == "grinning"
    assert h.get_all("SET-COOKIE") == ["a=1", "b=2"]
    assert h.getlist("set-cookie") == ["a=1", "b=2"]
    assert h["set-cookie"] == "a=1, b=2"
    assert h.get_all("x-missing") == []
    assert ("set-cookie", "b=2") in h.multi_items()
    assert sorted(h) == ["content-type", "set-cookie", "x-emoji-name"] and len(h) == 3
    with pytest.raises(KeyError):
        h["x-missing"]


def test_response_json_and_default_reason(load):
    w = load("addEventListener('fetch', function (e) { e.respondWith(Response.json({ ok: [1, 'é'] })); });")
    resp = w.fetch("/")
    assert resp.json() == {"ok": [1, "é"]}
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.status_text == "" and resp.reason == "OK"


def test_empty_body(load):
    w = load("addEventListener('fetch', function (e) { e.respondWith(new Response(null, { status: 204 })); });")
    resp = w.fetch("/", method="HEAD")
    assert resp.status == 204 and resp.body == b"" and resp.text() == ""


def test_vars_strings_stay_strings_and_other_values_are_json(load):
    w = load(r"""
addEventListener('fetch', function (event) {
  event.respondWith(Response.json([typeof NAME, NAME, typeof NUM, NUM, typeof FLAG, FLAG, NOTHING, CONF,
                                   typeof NUMERIC_TEXT, NUMERIC_TEXT]));
});""", vars={"NAME": "Zoë 😀", "NUM": 42, "FLAG": True, "NOTHING": None, "CONF": {"a": [1, {"b": "c"}]},
              "NUMERIC_TEXT": "42"})
    assert w.fetch("/").json() == ["string", "Zoë 😀", "number", 42, "boolean", True, None, {"a": [1, {"b": "c"}]},
                                   "string", "42"]


def test_response_helpers_without_a_worker():
    resp = Response(201, b'{"a": 1}', Headers({"Content-Type": "application/json"}))
    assert resp.ok and resp.json() == {"a": 1} and resp.headers["content-type"] == "application/json"
    assert resp.raise_for_outcome() is resp
    assert "201" in repr(resp)


def test_many_requests_reuse_one_worker(load):
    w = load("var n = 0; addEventListener('fetch', function (e) { n++; e.respondWith(new Response(String(n))); });")
    for i in range(1, 201):
        assert w.fetch("/").text() == str(i)
    stats = w.stats()
    assert stats.requests == 200 and stats.isolates_created == 1 and stats.pending == 0


def test_worker_name_and_repr(load):
    w = load(edgeworker.runtime.BASE_URL and "addEventListener('fetch', function () {});", name="api")
    assert w.name == "api" and "api" in repr(w)


def test_stream_body_written_after_return_arrives_whole(load):
    w = load("""
export default {
  async fetch() {
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    (async () => {
      for (const part of ['streamed ', 'in ', 'parts ✓']) {
        await new Promise((r) => setTimeout(r, 1));
        await writer.write(new TextEncoder().encode(part));
      }
      await writer.close();
    })();
    return new Response(readable, { headers: { 'content-type': 'text/plain' } });
  },
};
""", name="streamer")
    resp = w.fetch("/")
    assert resp.status == 200
    assert resp.text() == "streamed in parts ✓"


def test_connect_to_rules_are_checked():
    with pytest.raises(edgeworker.ConfigError, match="connect_to rule \"api.example.com:443\""):
        edgeworker.Runtime(connect_to=["api.example.com:443"])
    with pytest.raises(TypeError):
        edgeworker.Runtime(connect_to="a:1:b:2")
    with edgeworker.Runtime(connect_to=["api.example.com:443:127.0.0.1:9443", "[::1]:80:localhost:8080"]):
        pass
