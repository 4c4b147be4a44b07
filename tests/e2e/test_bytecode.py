"""Bytecode bundles (`ew-server build -o`) and the compile cache, through ew-server."""
import re
import subprocess
import urllib.request

from conftest import SERVER, Server


def run(*args):
    return subprocess.run([str(SERVER), *args], capture_output=True, timeout=60)


def make_project(tmp_path, extra_toml=""):
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src" / "util.js").write_text(
        "export const greet = (n) => `hi ${n}`;\nexport class Box { #v; constructor(v) { this.#v = v; } get v() { return this.#v; } }\n")
    (tmp_path / "src" / "index.js").write_text(
        "import { greet, Box } from './util.js';\n"
        "export default {\n"
        "  async fetch(req, env) {\n"
        "    const url = new URL(req.url);\n"
        "    if (url.pathname === '/throw') throw new TypeError('boom');\n"
        "    const { a = 1, ...rest } = Object.fromEntries(url.searchParams);\n"
        "    return Response.json({ hi: greet(url.pathname), a, rest, box: new Box(await Promise.resolve(7)).v,\n"
        "                           who: env.WHO ?? null });\n"
        "  },\n"
        "};\n")
    (tmp_path / "wrangler.toml").write_text(
        'name = "t"\nmain = "src/index.js"\ncompatibility_date = "2024-07-01"\n' + extra_toml)
    return tmp_path


PATHS = ["/", "/x?a=2&b=3", "/throw"]


def fetch_all(server):
    out = []
    for p in PATHS:
        try:
            with urllib.request.urlopen(server.url + p, timeout=10) as r:
                out.append((r.status, r.read()))
        except urllib.error.HTTPError as e:
            out.append((e.code, b"error page"))
    return out


def metric(server, name):
    with urllib.request.urlopen(server.url + "/__metrics", timeout=10) as r:
        text = r.read().decode()
    return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))


def test_built_bundle_serves_the_same_responses_as_the_source(tmp_path):
    project = make_project(tmp_path / "p", '[vars]\nWHO = "bundle"\n')
    bundle = tmp_path / "w.ewbc"
    out = run("build", str(project), "-o", str(bundle))
    assert out.returncode == 0, out.stderr
    assert bundle.read_bytes()[:5] == b"\xffEWBC"
    src = Server(project)
    try:
        expected = fetch_all(src)
    finally:
        src.stop()
    assert expected[0][0] == 200 and b'"who":"bundle"' in expected[0][1] and expected[2][0] == 500
    # The bundle as the project's main: the same config (vars), no compiler.
    (project / "wrangler.toml").write_text(
        'name = "t"\nmain = "../w.ewbc"\ncompatibility_date = "2024-07-01"\n[vars]\nWHO = "bundle"\n')
    served = Server(project, ["--metrics"])
    try:
        assert fetch_all(served) == expected
        assert metric(served, "ew_compiles_total") == 0
    finally:
        served.stop()
    # The bundle alone as PATH: the program is the same (no vars without a configuration).
    alone = Server(bundle, ["--metrics"])
    try:
        got = fetch_all(alone)
        assert got[1:] != [] and got[1][0] == 200
        assert got[1][1] == expected[1][1].replace(b'"who":"bundle"', b'"who":null')
        assert metric(alone, "ew_compiles_total") == 0
    finally:
        alone.stop()


def test_truncated_or_foreign_bundle_is_a_clear_error_not_a_crash(tmp_path):
    project = make_project(tmp_path / "p")
    bundle = tmp_path / "w.ewbc"
    assert run("build", str(project), "-o", str(bundle)).returncode == 0
    data = bundle.read_bytes()
    bad = tmp_path / "bad.ewbc"
    bad.write_bytes(data[: len(data) // 2])
    out = run(str(bad), "--port", "0")
    assert out.returncode == 1, out
    err = out.stderr.decode()
    assert "bad.ewbc: truncated bytecode bundle" in err and "ew-server build" in err
    bad.write_bytes(data[:16] + b"0.0.1" + data[21:])  # another library version
    out = run(str(bad), "--port", "0")
    assert out.returncode == 1 and "made by libedgeworker 0.0.1" in out.stderr.decode()
    check = run("check", str(bundle))
    assert check.returncode == 1 and b"is a bytecode bundle" in check.stderr


def test_threads_compile_once_and_a_restart_uses_the_disk_cache(tmp_path):
    project = make_project(tmp_path / "p")
    first = Server(project, ["--metrics", "--threads", "3"])
    try:
        expected = fetch_all(first)
        assert metric(first, "ew_compiles_total") == 1  # three loop threads, one compile
    finally:
        first.stop()
    cached = list((project / ".wrangler" / "state" / "cache" / "compile").glob("*.ewbc"))
    assert len(cached) == 1 and cached[0].read_bytes()[:5] == b"\xffEWBC"
    second = Server(project, ["--metrics", "--threads", "2"])
    try:
        assert metric(second, "ew_compiles_total") == 0  # restart: from the disk cache
        assert fetch_all(second) == expected
    finally:
        second.stop()
    # An edited import invalidates the cached program.
    (project / "src" / "util.js").write_text("export const greet = (n) => `hello ${n}`;\nexport class Box { get v() { return 0; } }\n")
    third = Server(project, ["--metrics"])
    try:
        assert metric(third, "ew_compiles_total") == 1
        assert b'"hi":"hello /"' in fetch_all(third)[0][1]
    finally:
        third.stop()
    # A damaged cache file is ignored and recompiled, never loaded.
    for f in (project / ".wrangler" / "state" / "cache" / "compile").glob("*.ewbc"):
        f.write_bytes(f.read_bytes()[:-10])
    fourth = Server(project, ["--metrics"])
    try:
        assert metric(fourth, "ew_compiles_total") == 1
        assert fetch_all(fourth)[1][0] == 200
    finally:
        fourth.stop()
