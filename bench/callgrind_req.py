"""Instructions per HTTP request of ew-server, counted by callgrind (repeatable where wall time is not, so it
can be measured on a loaded machine):

    callgrind_req.py [--build build] [--requests N] [--conns C] [--path /] [--out FILE] TARGET
    callgrind_req.py --peer "node bench/node-hello.js {port}" [...]      (any server, for comparison)

runs `valgrind --tool=callgrind build/server/ew-server --threads 1 TARGET`, warms it up with 200 requests,
zeroes the counters (callgrind_control -z), sends N keep-alive requests shaped like wrk's (GET, Host only)
over C connections in turn, dumps the counters (callgrind_control -d) and prints the instructions per request
of the whole process. The dump is kept in FILE (default /tmp/ew-callgrind.out) for callgrind_annotate.
"""
import argparse
import glob
import os
import socket
import subprocess
import sys
import tempfile
import time


def read_response(sock, buf):
    """Reads one response (Content-Length or chunked) from sock; returns the bytes left over."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("connection closed before a response")
        buf += data
    head = buf[:end].decode("latin-1").lower()
    rest = buf[end + 4:]
    length = None
    chunked = False
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length":
            length = int(value)
        elif name.strip() == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        while not rest.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("connection closed in a chunked body")
            rest += data
        return b""
    length = length or 0
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("connection closed in a body")
        rest += data
    return rest[length:]


def run_requests(port, path, n, conns):
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode()
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    bufs = [b""] * conns
    for i in range(n):
        k = i % conns
        socks[k].sendall(req)
        bufs[k] = read_response(socks[k], bufs[k])
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--path", default="/")
    ap.add_argument("--port", type=int, default=18797)
    ap.add_argument("--out", default="/tmp/ew-callgrind.out")
    ap.add_argument("--peer", help="command line of another server to count instead ({port} is replaced)")
    ap.add_argument("target", nargs="?", default="examples/hello/")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    pattern = os.path.join(tmp, "cg.out")
    server = ([w.replace("{port}", str(a.port)) for w in a.peer.split()] if a.peer else
              [os.path.join(a.build, "server", "ew-server"), "--threads", "1", "--port", str(a.port), a.target])
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + pattern + ".%p"] + server
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                run_requests(a.port, a.path, 1, 1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    print("ew-server did not start under valgrind", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        run_requests(a.port, a.path, 200, a.conns)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
        run_requests(a.port, a.path, a.requests, a.conns)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, stdout=subprocess.DEVNULL)
    finally:
        proc.terminate()
        proc.wait(60)
    dumps = sorted(f for f in glob.glob(pattern + ".*") if not f.endswith(".%d" % proc.pid))
    dump = max(dumps, key=os.path.getmtime)
    total = None
    with open(dump) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
    os.replace(dump, a.out)
    print("%d instructions per request (%d requests, %d connection(s), %s); dump: %s"
          % (total // a.requests, a.requests, a.conns, a.peer or a.target, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
