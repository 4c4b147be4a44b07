"""Start-to-first-response time of a server: runs the command, then sends GET / to 127.0.0.1:PORT every
millisecond until one answers 200; prints the milliseconds from spawn to that answer, then stops the server.

    first_response.py PORT COMMAND...        (bench/run.sh runs it several times and takes the median)
"""
import http.client
import subprocess
import sys
import time


def main():
    port, cmd = int(sys.argv[1]), sys.argv[2:]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - start < 30:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/")
                if c.getresponse().status == 200:
                    print("%.1f" % ((time.monotonic() - start) * 1000))
                    return 0
            except OSError:
                time.sleep(0.001)
        print("no answer in 30 s", file=sys.stderr)
        return 1
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
