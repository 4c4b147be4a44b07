"""R2 buckets through the Python bindings: Runtime.load(source, r2={...}) and projects with [[r2_buckets]]."""
import pytest

import edgeworker

WORKER = r"""
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.pathname.slice(1);
    if (request.method === 'PUT') {
      const o = await env.FILES.put(key, await request.arrayBuffer(), {
        httpMetadata: { contentType: request.headers.get('content-type') || 'application/octet-stream' },
      });
      return Response.json({ size: o.size, etag: o.etag });
    }
    const o = await env.FILES.get(key);
    if (o === null) return new Response('missing', { status: 404 });
    const headers = new Headers();
    o.writeHttpMetadata(headers);
    return new Response(o.body, { headers });
  },
};
"""


def test_r2_bucket_from_source(tmp_path):
    with edgeworker.Runtime(tmp_path / "state") as rt:
        w = rt.load(source=WORKER, r2={"FILES": "files"})
        put = w.fetch("/a.bin", method="PUT", body=b"\x00\x01binary", headers={"content-type": "image/x-test"})
        assert put.status == 200 and put.json()["size"] == 8
        got = w.fetch("/a.bin")
        assert got.status == 200 and got.body == b"\x00\x01binary"
        assert got.headers["content-type"] == "image/x-test"
        assert w.fetch("/nope").status == 404
    assert (tmp_path / "state" / "r2" / "files.sqlite").is_file()
    # a new runtime on the same state folder sees the object
    with edgeworker.Runtime(tmp_path / "state") as rt:
        assert rt.load(source=WORKER, r2={"FILES": "files"}).fetch("/a.bin").body == b"\x00\x01binary"


def test_r2_without_a_state_dir_is_private_to_the_runtime():
    with edgeworker.Runtime() as rt:
        w = rt.load(source=WORKER, r2={"FILES": "mem"})
        assert w.fetch("/k", method="PUT", body=b"v").status == 200
        assert w.fetch("/k").body == b"v"
    with edgeworker.Runtime() as rt:
        assert rt.load(source=WORKER, r2={"FILES": "mem"}).fetch("/k").status == 404


def test_r2_argument_checks(rt):
    with pytest.raises(TypeError, match="r2 must be a mapping"):
        rt.load(source=WORKER, r2=["FILES"])
    with pytest.raises(ValueError, match="bucket name"):
        rt.load(source=WORKER, r2={"FILES": "../x"})
    with pytest.raises(ValueError, match="is both a KV namespace and a R2 bucket"):
        rt.load(source=WORKER, kv={"FILES": "a"}, r2={"FILES": "b"})


def test_r2_from_a_project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text(
        'name = "py-r2"\nmain = "src/index.js"\n\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "assets"\n')
    with edgeworker.Runtime(tmp_path / "state") as rt:
        w = rt.load(tmp_path)
        assert w.fetch("/x", method="PUT", body=b"from a project").status == 200
        assert w.fetch("/x").body == b"from a project"
    assert (tmp_path / "state" / "r2" / "assets.blobs").is_dir()
    with edgeworker.Runtime() as rt, pytest.raises(TypeError, match="r2"):
        rt.load(tmp_path, r2={"FILES": "x"})
