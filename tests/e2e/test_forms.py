"""Form bodies end to end: real clients (curl -F, urllib) post multipart/form-data and urlencoded forms to a
Worker that reads them with request.formData(), and a Worker answers with a FormData body."""
import json
import subprocess
import urllib.parse
import urllib.request

WORKER = r"""
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/echo') {
      const form = await request.formData();
      const out = {};
      for (const [name, value] of form) {
        out[name] = typeof value === 'string' ? value
          : { name: value.name, type: value.type, size: value.size, text: await value.text() };
      }
      return Response.json(out);
    }
    if (url.pathname === '/form') {
      const f = new FormData();
      f.append('greeting', 'hello');
      f.append('file', new Blob(['file data'], { type: 'text/plain' }), 'data.txt');
      return new Response(f);
    }
    return new Response('not found', { status: 404 });
  }
};
"""


def test_curl_multipart_upload_is_parsed(serve, tmp_path):
    s = serve(WORKER)
    upload = tmp_path / "notes.txt"
    upload.write_bytes("line one\nline two ✓\n".encode())
    out = subprocess.run(
        ["curl", "-s", "-F", "title=Zoë's notes", "-F", "file=@%s;type=text/plain" % upload, s.url + "/echo"],
        capture_output=True, check=True, timeout=10).stdout
    got = json.loads(out)
    assert got["title"] == "Zoë's notes"
    assert got["file"] == {"name": "notes.txt", "type": "text/plain", "size": len("line one\nline two ✓\n".encode()),
                           "text": "line one\nline two ✓\n"}


def test_urlencoded_form_is_parsed(serve):
    s = serve(WORKER)
    body = urllib.parse.urlencode({"q": "a b&c", "n": "1"}).encode()
    req = urllib.request.Request(s.url + "/echo", data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read()) == {"q": "a b&c", "n": "1"}


def test_formdata_response_is_valid_multipart(serve):
    s = serve(WORKER)
    with urllib.request.urlopen(s.url + "/form", timeout=5) as resp:
        ctype = resp.headers["Content-Type"]
        body = resp.read()
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    parts = body.split(b"--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--"
    assert parts[1] == b'\r\nContent-Disposition: form-data; name="greeting"\r\n\r\nhello\r\n'
    assert parts[2] == (b'\r\nContent-Disposition: form-data; name="file"; filename="data.txt"\r\n'
                        b'Content-Type: text/plain\r\n\r\nfile data\r\n')
