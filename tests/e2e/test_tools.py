"""ew-server check / build --emit-js: the compile path of Worker loading, without serving."""
import subprocess

from conftest import SERVER


def run(*args):
    return subprocess.run([str(SERVER), *args], capture_output=True, text=True, timeout=30)


def test_check_reports_syntax_errors_with_position(tmp_path):
    bad = tmp_path / "bad.js"
    bad.write_text("export default {\n  fetch() { return new Response(`x ${ }`); }\n};\n")
    out = run("check", str(bad))
    assert out.returncode == 1
    assert "bad.js:2:" in out.stderr and "SyntaxError" in out.stderr


def test_check_and_build_a_module_project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "util.js").write_text("export const greet = (n) => `hi ${n}`;\n")
    (tmp_path / "src" / "index.js").write_text(
        "import { greet } from './util.js';\n"
        "export default { async fetch(req) { return new Response(greet(await Promise.resolve('x'))); } };\n")
    (tmp_path / "wrangler.toml").write_text('name = "t"\nmain = "src/index.js"\ncompatibility_date = "2024-07-01"\n')
    out = run("check", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "no errors" in out.stderr
    out = run("build", str(tmp_path), "--emit-js")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("function (")
    assert "=>" not in out.stdout and "`" not in out.stdout  # lowered to ES5
    target = tmp_path / "out.js"
    written = run("build", str(tmp_path), "--emit-js", "-o", str(target))
    assert (written.returncode, written.stdout) == (0, "") and target.read_text() == out.stdout
    failed = run("build", str(tmp_path), "--emit-js", "-o", str(tmp_path / "no" / "such" / "dir.js"))
    assert failed.returncode == 1 and "cannot write" in failed.stderr and "No such file or directory" in failed.stderr
    bare = run("build", str(tmp_path))
    assert bare.returncode == 2 and "--emit-js is required" in bare.stderr
