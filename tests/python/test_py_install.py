"""`pip install --no-build-isolation ./bindings-python` works offline with Debian's setuptools and wheel, and
the installed package is typed and finds the library."""
import os
import shutil
import subprocess
import sys

import pytest


def have(module):
    return subprocess.run([sys.executable, "-c", "import %s" % module], capture_output=True).returncode == 0


@pytest.mark.skipif(not (have("pip") and have("setuptools") and have("wheel")),
                    reason="pip, setuptools and wheel are needed to build the package")
def test_pip_install_no_build_isolation_into_a_target(tmp_path, paths):
    src = tmp_path / "src"  # a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(paths.bindings, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp_path / "target"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                          "--target", str(target), str(src)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (target / "edgeworker" / "py.typed").exists()
    assert (target / "edgeworker" / "runtime.py").exists()
    code = ("import edgeworker, sys; assert edgeworker.__file__.startswith(sys.argv[1]);\n"
            "with edgeworker.Runtime() as rt:\n"
            "    w = rt.load(\"addEventListener('fetch', function (e) {\"\n"
            "                \"e.respondWith(new Response('installed')); });\")\n"
            "    print(w.fetch('/').text())")
    run = subprocess.run([sys.executable, "-c", code, str(target)], env=dict(os.environ, PYTHONPATH=str(target)),
                         cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "installed"
