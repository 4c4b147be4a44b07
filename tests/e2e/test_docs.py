"""The documentation stays true to the code: docs/getting-started.md's project (its fenced files, each
named by its first comment line) is written out and served, and the commands the page shows give the
answers it shows; every command shown in docs/*.md and examples/*/README.md is run here (doc_commands.py
runs them as a reader would and checks the `# -> output` they claim) or by the test named in ELSEWHERE;
every flag of ew-server --help is in docs/configuration.md."""
import json
import re
import subprocess
import urllib.request

import pytest

from conftest import ROOT, SERVER, Server
from doc_commands import Runner, matches, shown_commands

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


@pytest.mark.parametrize("command", [[], ["check"], ["build"], ["d1"]], ids=lambda c: " ".join(c) or "serve")
def test_every_flag_of_help_is_documented(command):
    out = subprocess.run([str(SERVER), *command, "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.startswith("usage: ew-server"), out.stdout + out.stderr
    flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][\w-]*)", out.stdout, re.M))
    assert len(flags) >= (10 if not command else 2), flags
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(f for f in flags if not re.search(r"`[^`\n]*" + re.escape(f) + r"\b", doc))
    assert not missing, "flags of ew-server %s --help missing from docs/configuration.md: %s" % (command, missing)


# --- every command the documentation shows ---------------------------------------------------------------

DOCS = sorted(ROOT.glob("docs/*.md")) + sorted(ROOT.glob("examples/*/README.md")) + [ROOT / "README.md"]
GETTING_STARTED = ("test_docs.py", "def test_getting_started_project")

# Commands that test_doc_commands_run_as_shown does not run, each with the test that does: (the document's
# file name, a pattern of the command, (file under tests/e2e, text that file holds because it runs it)).
ELSEWHERE = [
    ("getting-started.md", r"my-worker/|^curl .*(\?name=Ada|/__scheduled)",     # its project is made from
     ("test_docs.py", "def test_getting_started_project")),                        # the page's fenced files
    (None, r"^make test$", ("../../Makefile", "test: test-unit test-asan test-e2e")),  # CI's entry point
    (None, r"^meson install -C build$", ("test_library.py", '"meson", "install", "-C", str(BUILD)')),
    (None, r"^make -C examples/embed-c$|^\./examples/embed-c/embed$", ("test_library.py", "examples/embed-c/main.c")),
    (None, r"^cc host\.c \$\(pkg-config --cflags --libs edgeworker\)", ("test_library.py", '"pkg-config", "--cflags"')),
    (None, r"pip install --no-build-isolation --target", ("../python/test_py_install.py", '"--target"')),
    (None, r"-m venv --system-site-packages|\.venv/bin/pip install", ("../python/test_py_install.py", '"venv"')),
    (None, r"pip wheel --no-build-isolation|pip install dist/edgeworker-",
     ("../python/test_py_install.py", '"wheel", "--no-build-isolation"')),
]


def elsewhere(cmd):
    return next((where for doc, pattern, where in ELSEWHERE
                 if doc in (None, cmd.path.name) and re.search(pattern, cmd.text)), None)


def test_expected_output_matching():
    assert matches('201 … {"id": 1, "message": "ok"}', 'HTTP/1.1 201 Created\nx: y\n\n{"id":1,"message":"ok"}')
    assert matches("x-cache: HIT ... #1", "x-cache: HIT\n\ngenerated #1")
    assert not matches("x-cache: HIT", "x-cache: MISS")
    c = shown_commands(ROOT / "examples" / "users-api" / "README.md")[1]
    assert c.text.startswith("curl -i -X POST") and c.text.endswith("http://127.0.0.1:8787/api/users")
    assert c.expected.startswith("201 …")


def test_every_doc_command_is_exercised():
    """Each command is run by test_doc_commands_run_as_shown, unless ELSEWHERE names the test that runs it;
    that test must still hold the command."""
    commands = [c for doc in DOCS for c in shown_commands(doc)]
    assert len(commands) > 50, commands
    for c in commands:
        where = elsewhere(c)
        if where is not None:
            test_file, marker = where
            assert marker in (ROOT / "tests" / "e2e" / test_file).read_text(), (c, where)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_commands_run_as_shown(doc, tmp_path):
    commands = [c for c in shown_commands(doc) if elsewhere(c) is None]
    if not commands:
        pytest.skip("every command of this document is run elsewhere")
    runner = Runner(tmp_path)
    try:
        for c in commands:
            runner.run(c)
    finally:
        runner.stop()
