"""examples/r2-upload: files uploaded as multipart/form-data (curl -F, and a form built by hand for
http.client) go into the R2 bucket and come back byte-identical with their type and name; a missing key is
404, a form without a file 400; the files survive a restart of ew-server on the same state folder."""
import http.client
import json
import os
import subprocess
import urllib.parse
import uuid

from conftest import ROOT, Server

EXAMPLE = ROOT / "examples" / "r2-upload"


def curl(*args):
    out = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def request(server, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def multipart(field, filename, data, content_type):
    """A multipart/form-data body with one file part, as a browser sends it: (body, content-type header)."""
    boundary = "----ew" + uuid.uuid4().hex
    head = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
            % (boundary, field, filename, content_type)).encode("utf-8")
    return head + data + ("\r\n--%s--\r\n" % boundary).encode(), "multipart/form-data; boundary=" + boundary


def test_upload_and_download_round_trip(tmp_path):
    state = tmp_path / "state"
    photo = tmp_path / "photo.png"
    photo.write_bytes(os.urandom(1024 * 1024))
    s = Server(EXAMPLE, ("--persist-to", str(state)))
    try:
        up = json.loads(curl("-F", "file=@%s;type=image/png" % photo, s.url + "/upload"))
        assert up["fileKey"].endswith("-photo.png") and up["size"] == 1024 * 1024
        got = tmp_path / "got.png"
        headers = curl("-D", "-", "-o", str(got), s.url + "/download/" + up["fileKey"]).decode()
        assert got.read_bytes() == photo.read_bytes()
        assert "content-type: image/png" in headers and 'etag: "%s"' % up["etag"] in headers
        assert "content-disposition: attachment; filename*=UTF-8''photo.png" in headers

        # A form built by hand, a name with a space and accents, through http.client.
        text = "Grüße aus dem Bucket\n".encode() * 100
        body, ctype = multipart("file", "notes für dich.txt", text, "text/plain; charset=utf-8")
        st, _, out = request(s, "POST", "/upload", body, {"Content-Type": ctype})
        assert st == 200, out
        key = json.loads(out)["fileKey"]
        path = "/download/" + urllib.parse.quote(key)
        st, h, out = request(s, "GET", path)
        assert (st, out, h["content-type"]) == (200, text, "text/plain; charset=utf-8")
        assert h["content-disposition"] == "attachment; filename*=UTF-8''notes%20f%C3%BCr%20dich.txt"
        st, h, out = request(s, "HEAD", path)
        assert (st, out, h["content-length"]) == (200, b"", str(len(text)))

        assert request(s, "GET", "/download/no-such-file")[::2] == (404, b"File not found")
        body, ctype = multipart("other", "a.txt", b"x", "text/plain")
        assert request(s, "POST", "/upload", body, {"Content-Type": ctype})[::2] == \
            (400, b'The form has no file in its "file" field')
        assert request(s, "POST", "/upload", b"just text", {"Content-Type": "text/plain"})[::2] == \
            (400, b"Expected a multipart/form-data body")
        assert request(s, "GET", "/upload")[0] == 405
        assert request(s, "DELETE", path)[0] == 405
    finally:
        assert s.stop() == 0
    s = Server(EXAMPLE, ("--persist-to", str(state)))
    try:
        assert curl(s.url + "/download/" + up["fileKey"]) == photo.read_bytes()
    finally:
        assert s.stop() == 0
