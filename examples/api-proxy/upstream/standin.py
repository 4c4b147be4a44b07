"""A local stand-in for the two APIs the example calls (api.example.com and api.openweathermap.org), for
machines without internet access: HTTPS on 127.0.0.1 with a certificate for both names, signed by a CA this
script creates.

    python3 upstream/standin.py [--port 9443] [--dir /tmp/api-proxy-standin]

It writes DIR/ca.pem and prints the ew-server flags that send the Worker's fetch() calls here
(--connect-to keeps the URL, Host and TLS name; --ca-file trusts the CA). Routes:
  api.example.com      GET /users/N -> JSON user (needs "Authorization: Bearer dev-api-key"), GET /text -> text
  api.openweathermap.org GET /data/2.5/weather?q=CITY&appid=dev-weather-key -> OpenWeatherMap-shaped JSON
                       (404 for an unknown city)
"""
import argparse
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.parse

NAMES = ["api.example.com", "api.openweathermap.org"]
CITIES = {"london": ("London", "GB", 11.5, "light rain", 81, 4.1),
          "paris": ("Paris", "FR", 14.2, "clear sky", 62, 3.6)}


def make_certs(folder):
    """CA and a leaf certificate for NAMES under folder (openssl); returns (ca, cert, key) paths."""
    os.makedirs(folder, exist_ok=True)
    ca_key, ca, key, csr, cert = (os.path.join(folder, n) for n in ("ca.key", "ca.pem", "leaf.key", "leaf.csr",
                                                                      "leaf.pem"))
    ext = os.path.join(folder, "leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in NAMES) + "\n")
    def run(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=api-proxy stand-in CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + NAMES[0])
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext)
    return ca, cert, key


class Handler(http.server.BaseHTTPRequestHandler):
    requests = 0  # served, for tests that check the Worker's cache

    def send_json(self, status, data):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.requests += 1
        host = (self.headers.get("Host") or "").split(":")[0]
        url = urllib.parse.urlsplit(self.path)
        if host == "api.example.com":
            if self.headers.get("Authorization") != "Bearer dev-api-key":
                return self.send_json(401, {"error": "bad API key"})
            if url.path.startswith("/users/"):
                return self.send_json(200, {"id": url.path[7:], "name": "User " + url.path[7:],
                                            "agent": self.headers.get("User-Agent"), "query": url.query})
            if url.path == "/text":
                body = b"plain text from the upstream"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return self.wfile.write(body)
            return self.send_json(404, {"error": "no such route"})
        if host == "api.openweathermap.org" and url.path == "/data/2.5/weather":
            q = urllib.parse.parse_qs(url.query)
            if q.get("appid") != ["dev-weather-key"]:
                return self.send_json(401, {"cod": 401, "message": "Invalid API key"})
            city = CITIES.get(q.get("q", [""])[0].lower())
            if city is None:
                return self.send_json(404, {"cod": "404", "message": "city not found"})
            name, country, temp, desc, humidity, wind = city
            return self.send_json(200, {"name": name, "sys": {"country": country}, "main": {"temp": temp,
                                  "humidity": humidity}, "weather": [{"description": desc}], "wind": {"speed": wind}})
        return self.send_json(404, {"error": "unknown host " + host})

    def log_message(self, *args):
        pass


def serve(port, folder):
    """Starts the stand-in (in the calling thread's process); returns (server, ca path)."""
    ca, cert, key = make_certs(folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server, ca


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=9443)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "api-proxy-standin"))
    args = ap.parse_args()
    server, ca = serve(args.port, args.dir)
    flags = " ".join("--connect-to %s:443:127.0.0.1:%d" % (n, server.server_port) for n in NAMES)
    print("stand-in on https://127.0.0.1:%d; run:\n  ew-server examples/api-proxy --ca-file %s %s"
          % (server.server_port, ca, flags), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
