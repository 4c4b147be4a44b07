"""R2 buckets end to end: ew-server serving tests/e2e/r2_project (wrangler.toml with [[r2_buckets]]) to real
HTTP clients. Objects survive a restart and a SIGKILL after their put resolved; a failed put leaves no file;
a 100 MB object makes the round trip. The seed's R2 upload test (workers-seed.md, "Integration Testing")
runs against examples/testing in test_seed_testing.py."""
import hashlib
import http.client
import json
import os
import pathlib
import shutil
import signal

import pytest

from conftest import Server, rss_kb

PROJECT = pathlib.Path(__file__).resolve().parent / "r2_project"


@pytest.fixture
def project(tmp_path):
    dest = tmp_path / "project"
    shutil.copytree(PROJECT, dest)
    return dest


def start(project, state, threads=1):
    return Server(project, ("--threads", str(threads), "--persist-to", str(state)))


def request(server, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def blob_files(state):
    return sorted(p.name for p in (state / "r2" / "files.blobs").iterdir())


def test_put_get_head_delete_over_http(project, tmp_path):
    s = start(project, tmp_path / "state")
    try:
        st, _, body = request(s, "PUT", "/obj/docs/a.txt", b"hello r2", {"content-type": "text/plain"})
        assert st == 200, body
        put = json.loads(body)
        assert put["size"] == 8 and put["etag"] == hashlib.md5(b"hello r2").hexdigest()
        st, h, body = request(s, "GET", "/obj/docs/a.txt")
        assert (st, body) == (200, b"hello r2")
        assert h["content-type"] == "text/plain" and h["etag"] == '"%s"' % put["etag"]
        st, h, body = request(s, "GET", "/obj/docs/a.txt", headers={"range": "bytes=6-"})
        assert (st, body, h["content-range"]) == (206, b"r2", "bytes 6-7/8")
        st, _, _ = request(s, "GET", "/obj/docs/a.txt", headers={"if-none-match": h["etag"]})
        assert st == 304
        st, _, _ = request(s, "PUT", "/obj/docs/a.txt", b"x", {"if-match": '"not-the-etag"'})
        assert st == 412
        st, _, body = request(s, "GET", "/list?prefix=docs/")
        assert json.loads(body)["keys"] == ["docs/a.txt"]
        assert request(s, "DELETE", "/obj/docs/a.txt")[0] == 204
        assert request(s, "GET", "/obj/docs/a.txt")[0] == 404
    finally:
        assert s.stop() == 0


def test_objects_survive_a_restart_and_a_sigkill(project, tmp_path):
    state = tmp_path / "state"
    s = start(project, state)
    payload = os.urandom(300_000)
    try:
        assert request(s, "PUT", "/obj/keep", payload, {"content-type": "application/octet-stream"})[0] == 200
    finally:
        assert s.stop() == 0
    s = start(project, state)
    try:
        st, h, body = request(s, "GET", "/obj/keep")
        assert st == 200 and body == payload and h["content-type"] == "application/octet-stream"
        for i in range(20):
            assert request(s, "PUT", "/obj/k%d" % i, b"v%d" % i)[0] == 200
    finally:
        s.stop(signal.SIGKILL)  # every put above was answered, so it resolved: it must be on disk
    s = start(project, state)
    try:
        for i in range(20):
            assert request(s, "GET", "/obj/k%d" % i)[2] == b"v%d" % i
        assert len(blob_files(state)) == 21  # one body file per object, nothing else
    finally:
        assert s.stop() == 0


def test_failed_and_replaced_puts_leave_no_files(project, tmp_path):
    state = tmp_path / "state"
    s = start(project, state)
    try:
        assert request(s, "PUT", "/obj/a", b"first")[0] == 200
        assert request(s, "PUT", "/obj/a", b"second")[0] == 200  # the old body file goes
        st, _, body = request(s, "PUT", "/obj/b", b"data", {"x-md5": "0" * 32})
        assert st == 500 and b"put: The MD5 checksum you specified did not match" in body
        st, _, _ = request(s, "PUT", "/obj/c", b"data", {"if-match": '"nope"'})
        assert st == 412
        assert len(blob_files(state)) == 1
        assert request(s, "DELETE", "/obj/a")[0] == 204
        assert blob_files(state) == []
    finally:
        assert s.stop() == 0


def test_two_threads_share_the_bucket(project, tmp_path):
    s = start(project, tmp_path / "state", threads=2)
    try:
        for i in range(30):
            assert request(s, "PUT", "/obj/t%d" % i, b"%d" % i)[0] == 200
        for i in range(30):
            assert request(s, "GET", "/obj/t%d" % i)[2] == b"%d" % i
        assert len(json.loads(request(s, "GET", "/list?prefix=t")[2])["keys"]) == 30
    finally:
        assert s.stop() == 0


def test_two_processes_share_one_state_dir(project, tmp_path):
    state = tmp_path / "state"
    a, b = start(project, state), start(project, state)
    try:
        for i in range(10):
            writer, reader = (a, b) if i % 2 == 0 else (b, a)
            assert request(writer, "PUT", "/obj/p%d" % i, b"from %d" % i)[0] == 200
            assert request(reader, "GET", "/obj/p%d" % i)[2] == b"from %d" % i
        assert request(a, "PUT", "/obj/p0", b"replaced by a")[0] == 200
        assert request(b, "GET", "/obj/p0")[2] == b"replaced by a"
        assert request(b, "DELETE", "/obj/p1")[0] == 204
        assert request(a, "GET", "/obj/p1")[0] == 404
        assert len(blob_files(state)) == 9
    finally:
        assert a.stop() == 0 and b.stop() == 0



def test_100_mb_object_round_trip(project, tmp_path):
    """A 100 MB object goes up as a multipart upload of 5 MiB parts (a single 100 MB request body would not
    fit the 128 MB isolate: ew-server buffers request bodies), comes back in 8 MiB ranges, then whole in one
    streamed GET. The server's memory stays well under the object's size."""
    part = 5 * 1024 * 1024
    nparts = 20
    size = part * nparts
    data = [os.urandom(part) for _ in range(4)]  # parts cycle through 4 random blocks
    digest = hashlib.sha256()
    for i in range(nparts):
        digest.update(data[i % 4])
    s = start(project, tmp_path / "state")
    try:
        st, _, body = request(s, "POST", "/mpu/big.bin", b"", {"content-type": "application/octet-stream"})
        upload_id = json.loads(body)["uploadId"]
        parts = []
        rss = []
        for i in range(nparts):
            st, _, body = request(s, "PUT", "/mpu/big.bin?uploadId=%s&part=%d" % (upload_id, i + 1), data[i % 4])
            assert st == 200, body
            parts.append(json.loads(body))
            if i == 3:
                rss.append(rss_kb(s.proc.pid))
        rss.append(rss_kb(s.proc.pid))
        st, _, body = request(s, "POST", "/mpu/big.bin?uploadId=%s" % upload_id, json.dumps(parts).encode())
        assert st == 200, body
        done = json.loads(body)
        assert done["size"] == size and done["etag"].endswith("-%d" % nparts)
        got = hashlib.sha256()
        step = 8 * 1024 * 1024
        for off in range(0, size, step):
            end = min(off + step, size) - 1
            st, h, body = request(s, "GET", "/obj/big.bin", headers={"range": "bytes=%d-%d" % (off, end)})
            assert st == 206 and len(body) == end - off + 1, (st, len(body))
            assert h["content-range"] == "bytes %d-%d/%d" % (off, end, size)
            got.update(body)
        rss.append(rss_kb(s.proc.pid))
        assert got.hexdigest() == digest.hexdigest()
        # The whole object in one GET: object.body streams from the file as ew-server sends it.
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)
        conn.request("GET", "/obj/big.bin")
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("transfer-encoding") == "chunked"
        whole = hashlib.sha256()
        n = 0
        while True:
            chunk = r.read(1 << 20)
            if not chunk:
                break
            whole.update(chunk)
            n += len(chunk)
        conn.close()
        rss.append(rss_kb(s.proc.pid))
        assert n == size and whole.hexdigest() == digest.hexdigest()
        blobs = tmp_path / "state" / "r2" / "files.blobs"
        assert [p.stat().st_size for p in blobs.iterdir()] == [size]  # the parts' files are gone
        # The object never sits in the server's memory whole: the peak stays well under its 100 MB (garbage
        # bodies wait for the isolate's collector, which R2 runs before a large body once the heap is half
        # full, so the peak is bounded by the heap limit, not by the object).
        peak_mb = rss_kb(s.proc.pid, "VmHWM") / 1024
        print("ew-server RSS: %s MB; peak %.0f MB" % ([r // 1024 for r in rss], peak_mb))
        with open("/proc/%d/maps" % s.proc.pid) as maps:
            sanitized = "libasan" in maps.read()  # ASan's shadow memory and quarantine say nothing here
        assert sanitized or peak_mb < 110, rss
    finally:
        assert s.stop() == 0
