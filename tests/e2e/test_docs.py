"""The documentation stays true to the code: docs/getting-started.md's project (its fenced files, each
named by its first comment line) is written out and served, and the commands the page shows give the
answers it shows."""
import json
import pathlib
import re
import subprocess
import urllib.request

from conftest import ROOT, SERVER, Server

DOC = ROOT / "docs" / "getting-started.md"


def doc_files():
    """{relative path: text} for each fenced block whose first line is `# path` or `// path`."""
    files = {}
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        first, _, rest = body.partition("\n")
        m = re.match(r"^(?:#|//)\s*([\w./-]+)$", first.strip())
        if m:
            files[m.group(1)] = rest
    return files


def test_getting_started_project(tmp_path):
    files = doc_files()
    assert set(files) == {"wrangler.toml", "src/index.js"}
    project = tmp_path / "my-worker"
    for rel, text in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, encoding="utf-8")
    out = subprocess.run([str(SERVER), "check", str(project)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([str(SERVER), "build", str(project), "--emit-js"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0 and "function" in out.stdout
    s = Server(project)
    try:
        with urllib.request.urlopen(s.url + "/?name=Ada", timeout=10) as r:
            assert json.loads(r.read()) == {"message": "Hello, Ada!", "visits": 1}
        with urllib.request.urlopen(s.url + "/?name=Ada", timeout=10) as r:
            assert json.loads(r.read())["visits"] == 2
    finally:
        assert s.stop() == 0
    assert (project / ".wrangler" / "state").is_dir()
    s = Server(project, ("--test-scheduled",))
    try:
        with urllib.request.urlopen(s.url + "/?name=Ada", timeout=10) as r:
            assert json.loads(r.read())["visits"] == 3, "the KV data survives a restart"
    finally:
        assert s.stop() == 0


def test_doc_commands_name_real_flags():
    text = DOC.read_text(encoding="utf-8")
    for flag in re.findall(r"ew-server [^\n]*?(--[\w-]+)", text):
        out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=10)
        assert flag in out.stdout + out.stderr, flag


def test_every_flag_of_help_is_documented():
    out = subprocess.run([str(SERVER), "--help"], capture_output=True, text=True, timeout=10)
    flags = set(re.findall(r"^\s+(--[a-z][\w-]*)", out.stdout + out.stderr, re.M))
    assert len(flags) > 10
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(f for f in flags if "`" + f not in doc)
    assert not missing, "flags of ew-server --help missing from docs/configuration.md: %s" % missing
