#!/usr/bin/env python3
"""Streamed-response benchmark (never part of `make test`).

Two Workers' bodies of MB megabytes, each beside a raw copy of the same bytes over loopback (a minimal server
that answers every request with a fixed header and the body from memory: one sendall, a C loop of send
calls), all read by the same client (curl to /dev/null), ew-server with --threads 1:
  - TransformStream: the Worker writes 64 KiB chunks to the writable side of a TransformStream after
    returning `new Response(readable)` (the seed's streamLogs pattern), sent with chunked encoding;
  - proxy: the Worker returns `fetch(raw server)` (the seed's proxy pattern), sent with its Content-Length
    (after the first bytes, spliced from socket to socket: ew_body_splice).
Reported: the median wall time of REPEAT runs each (the three alternate, so that machine noise hits all),
the ratios to the raw copy (of the medians, and of the fastest runs, which a loaded machine disturbs
least), the median CPU time ew-server spent per Worker run (all its threads, steadier than wall time on a
loaded machine), and ew-server's RSS growth over the runs (VmRSS after the runs minus VmRSS after
one 1 MB warm-up request of each kind).

Usage: python3 bench/stream_bench.py   (env: BUILD=build MB=100 REPEAT=5)
"""
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
MB = int(os.environ.get("MB", "100"))
REPEAT = int(os.environ.get("REPEAT", "5"))

WORKER = """
export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    if (q.has('proxy')) return fetch(q.get('proxy'));
    const mb = Number(q.get('mb'));
    const chunk = new Uint8Array(65536).fill(120);
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    (async () => {
      for (let i = 0; i < mb * 16; i++) await writer.write(chunk);
      await writer.close();
    })();
    return new Response(readable, { headers: { 'content-type': 'application/octet-stream' } });
  },
};
"""


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ns(pid):
    """CPU time of all the process's threads so far (ns, from the scheduler's accounting: finer than the
    10 ms ticks of /proc/PID/stat)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
            total += int(f.read().split()[0])
    return total


def curl_seconds(url, expect):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", url],
                         check=True, capture_output=True, text=True).stdout.split()
    if int(out[1]) != expect:
        sys.exit("short body from %s: %s bytes" % (url, out[1]))
    return float(out[0])


def raw_server(body):
    """Accepts connections forever; answers each with a header and the body."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)

    def serve():
        while True:
            conn, _ = lsock.accept()
            conn.recv(65536)
            conn.sendall(head)
            conn.sendall(body)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return lsock.getsockname()[1]


def main():
    size = MB << 20
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "worker.js").write_text(WORKER)
        (tmp / "wrangler.toml").write_text('name = "bench"\nmain = "worker.js"\ncompatibility_date = "2024-07-01"\n'
                                           "[limits]\ncpu_ms = 300000\n")
        raw_port = raw_server(b"x" * size)
        srv = subprocess.Popen([str(BUILD / "server" / "ew-server"), "--port", "0", "--threads", "1", str(tmp)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            port = None
            for line in srv.stdout:
                if line.startswith("Ready on http://"):
                    port = int(line.rsplit(":", 1)[1])
                    break
            if port is None:
                sys.exit("ew-server did not start")
            threading.Thread(target=lambda: [None for _ in srv.stdout], daemon=True).start()
            ew_url = "http://127.0.0.1:%d/?mb=%d" % (port, MB)
            raw_url = "http://127.0.0.1:%d/" % raw_port
            proxy_url = "http://127.0.0.1:%d/?proxy=%s" % (port, raw_url)
            curl_seconds("http://127.0.0.1:%d/?mb=1" % port, 1 << 20)  # loads the streams code
            curl_seconds(proxy_url, size)
            curl_seconds(raw_url, size)
            rss0 = rss_kb(srv.pid)
            ew, raw, proxy, ew_cpu, proxy_cpu = [], [], [], [], []
            for _ in range(REPEAT):  # alternate, so that machine noise hits all three
                t0 = cpu_ns(srv.pid)
                ew.append(curl_seconds(ew_url, size))
                t1 = cpu_ns(srv.pid)
                raw.append(curl_seconds(raw_url, size))
                t2 = cpu_ns(srv.pid)
                proxy.append(curl_seconds(proxy_url, size))
                t3 = cpu_ns(srv.pid)
                ew_cpu.append((t1 - t0) / 1e6)
                proxy_cpu.append((t3 - t2) / 1e6)
            rss1 = rss_kb(srv.pid)
        finally:
            srv.terminate()
            srv.wait(30)
    ew_med, raw_med, proxy_med = statistics.median(ew), statistics.median(raw), statistics.median(proxy)
    print("streamed %d MB, median of %d runs (curl -o /dev/null, loopback):" % (MB, REPEAT))
    print("  ew-server TransformStream body  %7.1f ms  %7.0f MB/s" % (ew_med * 1e3, MB / ew_med))
    print("  ew-server proxy (fetch)         %7.1f ms  %7.0f MB/s" % (proxy_med * 1e3, MB / proxy_med))
    print("  raw copy (loopback socket)      %7.1f ms  %7.0f MB/s" % (raw_med * 1e3, MB / raw_med))
    print("  ratio TransformStream/raw       %7.2fx  (fastest runs: %.2fx)" % (ew_med / raw_med, min(ew) / min(raw)))
    print("  ratio proxy/raw                 %7.2fx  (fastest runs: %.2fx)" % (proxy_med / raw_med,
                                                                         min(proxy) / min(raw)))
    print("  ew-server CPU, TransformStream  %7.1f ms" % statistics.median(ew_cpu))
    print("  ew-server CPU, proxy            %7.1f ms" % statistics.median(proxy_cpu))
    print("  ew-server RSS growth            %7.1f MB  (%.1f -> %.1f MB)" % ((rss1 - rss0) / 1024, rss0 / 1024,
                                                                         rss1 / 1024))


if __name__ == "__main__":
    main()
