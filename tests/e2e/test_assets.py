"""Static assets ([assets] in wrangler.toml) served by ew-server the way Cloudflare serves them: canonical
HTML URLs with 307 redirects per html_handling, not_found_handling, ETag/Last-Modified with 304 answers, byte
ranges, content types, HEAD, no way out of the folder, the Worker for everything else, and env.ASSETS.fetch()."""
import http.client
import os
import textwrap

import pytest

from conftest import Server

WORKER = textwrap.dedent("""\
    export default {
      async fetch(request, env) {
        const url = new URL(request.url);
        if (url.pathname.startsWith('/api/')) {
          return Response.json({ method: request.method, path: url.pathname });
        }
        if (url.pathname === '/via-binding') {
          const r = await env.ASSETS.fetch(new Request(new URL('/style.css', request.url), request));
          return new Response(await r.text(), { status: r.status, headers: { 'x-through': 'binding' } });
        }
        if (url.pathname === '/binding-missing') {
          const r = await env.ASSETS.fetch('http://any.example/nope.txt');
          return new Response(`status ${r.status}`);
        }
        return new Response('from the worker: ' + url.pathname, { status: 200 });
      },
    };
    """)


def make_project(tmp_path, assets_cfg, worker=WORKER):
    pub = tmp_path / "public"
    (pub / "folder").mkdir(parents=True)
    (pub / "docs").mkdir()
    (pub / "file.html").write_text("<p>file</p>")
    (pub / "folder" / "index.html").write_text("<p>folder</p>")
    (pub / "index.html").write_text("<p>home</p>")
    (pub / "style.css").write_text("body { color: red }")
    (pub / "data.bin").write_bytes(bytes(range(256)) * 4)
    (pub / "404.html").write_text("<p>not here</p>")
    (pub / "docs" / "404.html").write_text("<p>no such doc</p>")
    (pub / "_headers").write_text("/*\n  X-Not: served\n")
    (tmp_path / "secret.txt").write_text("outside the folder")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text(worker)
    (tmp_path / "wrangler.toml").write_text(
        'name = "assets-test"\nmain = "src/index.js"\n\n[assets]\ndirectory = "./public"\n' + assets_cfg)
    return tmp_path


@pytest.fixture
def project(tmp_path):
    servers = []

    def start(assets_cfg, worker=WORKER):
        s = Server(make_project(tmp_path, assets_cfg, worker))
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0


def get(server, path, method="GET", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


@pytest.mark.parametrize("path,status,where", [
    ("/file", 200, b"<p>file</p>"),
    ("/file.html", 307, "/file"),
    ("/file/", 307, "/file"),
    ("/file/index", 307, "/file"),
    ("/file/index.html", 307, "/file"),
    ("/folder", 307, "/folder/"),
    ("/folder.html", 307, "/folder/"),
    ("/folder/", 200, b"<p>folder</p>"),
    ("/folder/index", 307, "/folder/"),
    ("/folder/index.html", 307, "/folder/"),
    ("/", 200, b"<p>home</p>"),
    ("/index.html", 307, "/"),
])
def test_auto_trailing_slash(project, path, status, where):
    s = project('binding = "ASSETS"\n')
    st, h, body = get(s, path)
    assert st == status
    if status == 307:
        assert h["location"] == where
    else:
        assert body == where
        assert h["content-type"] == "text/html; charset=utf-8"


def test_redirect_keeps_the_query(project):
    s = project("")
    st, h, _ = get(s, "/file.html?a=1&b=2")
    assert (st, h["location"]) == (307, "/file?a=1&b=2")


@pytest.mark.parametrize("mode,path,status,where", [
    ("force-trailing-slash", "/file", 307, "/file/"),
    ("force-trailing-slash", "/file/", 200, b"<p>file</p>"),
    ("force-trailing-slash", "/folder", 307, "/folder/"),
    ("drop-trailing-slash", "/folder", 200, b"<p>folder</p>"),
    ("drop-trailing-slash", "/folder/", 307, "/folder"),
    ("drop-trailing-slash", "/file/", 307, "/file"),
    ("none", "/file.html", 200, b"<p>file</p>"),
    ("none", "/file", 200, b"from the worker: /file"),
])
def test_other_html_handling(project, mode, path, status, where):
    s = project('html_handling = "%s"\n' % mode)
    st, h, body = get(s, path)
    assert st == status
    assert (h["location"] if status == 307 else body) == where


def test_static_files_types_and_validators(project):
    s = project("")
    st, h, body = get(s, "/style.css")
    assert (st, body, h["content-type"]) == (200, b"body { color: red }", "text/css; charset=utf-8")
    etag, modified = h["etag"], h["last-modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    assert get(s, "/style.css", headers={"If-None-Match": etag})[0] == 304
    assert get(s, "/style.css", headers={"If-None-Match": 'W/"other", ' + etag})[0] == 304
    assert get(s, "/style.css", headers={"If-None-Match": '"other"'})[0] == 200
    assert get(s, "/style.css", headers={"If-Modified-Since": modified})[0] == 304
    assert get(s, "/style.css", headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})[0] == 200
    assert get(s, "/data.bin")[1]["content-type"] == "application/octet-stream"


def test_byte_ranges(project):
    s = project("")
    st, h, body = get(s, "/data.bin", headers={"Range": "bytes=10-19"})
    assert (st, body, h["content-range"]) == (206, bytes(range(10, 20)), "bytes 10-19/1024")
    st, h, body = get(s, "/data.bin", headers={"Range": "bytes=-4"})
    assert (st, body) == (206, bytes(range(252, 256)))
    st, h, _ = get(s, "/data.bin", headers={"Range": "bytes=5000-"})
    assert (st, h["content-range"]) == (416, "bytes */1024")
    assert get(s, "/data.bin", headers={"Range": "bytes=0-1,5-6"})[0] == 200  # multiple ranges: whole file


def test_head_and_other_methods(project):
    s = project("")
    st, h, body = get(s, "/style.css", method="HEAD")
    assert (st, body) == (200, b"")
    st, _, body = get(s, "/style.css", method="POST")
    assert (st, body) == (200, b"from the worker: /style.css")


def test_no_way_out_of_the_folder(project):
    s = project("")
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/folder/..%2f..%2fsecret.txt", "/_headers"]:
        st, _, body = get(s, path)
        assert b"outside the folder" not in body and b"X-Not" not in body
        assert body.startswith(b"from the worker"), (path, body)


def test_not_found_handling(project):
    s = project('not_found_handling = "404-page"\n')
    assert get(s, "/docs/missing") == (404, get(s, "/docs/missing")[1], b"<p>no such doc</p>")
    st, _, body = get(s, "/elsewhere/x")
    assert (st, body) == (404, b"<p>not here</p>")


def test_single_page_application(project):
    s = project('not_found_handling = "single-page-application"\n')
    st, _, body = get(s, "/app/route/42")
    assert (st, body) == (200, b"<p>home</p>")


def test_worker_first_and_the_binding(project):
    s = project('binding = "ASSETS"\nrun_worker_first = true\n')
    st, _, body = get(s, "/style.css")
    assert body == b"from the worker: /style.css"
    st, h, body = get(s, "/via-binding")
    assert (st, body, h["x-through"]) == (200, b"body { color: red }", "binding")
    assert get(s, "/binding-missing")[2] == b"status 404"
    assert get(s, "/api/x")[2] == b'{"method":"GET","path":"/api/x"}'


def test_assets_only_project(tmp_path):
    pub = tmp_path / "site"
    pub.mkdir()
    (pub / "index.html").write_text("hi")
    (tmp_path / "wrangler.toml").write_text('name = "static"\n[assets]\ndirectory = "site"\n')
    s = Server(tmp_path)
    try:
        assert get(s, "/")[0:3:2] == (200, b"hi")
        assert get(s, "/missing")[0] == 404
    finally:
        assert s.stop() == 0


def test_bad_assets_config(tmp_path):
    import subprocess
    from conftest import SERVER
    (tmp_path / "index.js").write_text("export default { fetch() { return new Response('x'); } };")
    (tmp_path / "wrangler.toml").write_text('main = "index.js"\n[assets]\ndirectory = "nope"\n')
    out = subprocess.run([str(SERVER), "--port", "0", str(tmp_path)], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "assets: " in out.stderr and "nope" in out.stderr
    (tmp_path / "wrangler.toml").write_text('main = "index.js"\n[assets]\ndirectory = "."\nhtml_handling = "x"\n')
    out = subprocess.run([str(SERVER), "--port", "0", str(tmp_path)], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0 and "wrangler.toml:4:" in out.stderr and "html_handling" in out.stderr
