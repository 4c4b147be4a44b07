"""`pip install --no-build-isolation ./bindings-python` works offline with Debian's setuptools and wheel, and
the installed package is typed and finds the library."""
import os
import re
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


INSTALLED_CHECK = ("import edgeworker, sys\n"
                   "with edgeworker.Runtime() as rt:\n"
                   "    w = rt.load(\"addEventListener('fetch', function (e) {\"\n"
                   "                \"e.respondWith(new Response('installed')); });\")\n"
                   "    print(w.fetch('/').text(), edgeworker.__file__)")


def copy_sources(paths, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(paths.bindings, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return src


def check_installed(python, prefix, tmp_path):
    run = subprocess.run([str(python), "-c", INSTALLED_CHECK], cwd=str(tmp_path), capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYTHONPATH=""))
    assert run.returncode == 0, run.stderr
    text, where = run.stdout.split()
    assert text == "installed" and where.startswith(str(prefix))


@pytest.mark.skipif(not (have("venv") and have("setuptools") and have("wheel")),
                    reason="venv, setuptools and wheel are needed")
def test_pip_install_into_a_venv_with_system_site_packages(tmp_path, paths):
    """docs/python.md: `python3 -m venv --system-site-packages .venv` then
    `.venv/bin/pip install --no-build-isolation ./bindings-python`, offline."""
    src = copy_sources(paths, tmp_path)
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    out = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", str(src)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    check_installed(venv / "bin" / "python", venv, tmp_path)


@pytest.mark.skipif(not (have("venv") and have("setuptools") and have("wheel")),
                    reason="venv, setuptools and wheel are needed")
def test_wheel_built_by_debian_python_installs_into_a_python_without_wheel(tmp_path, paths):
    """docs/python.md: `/usr/bin/python3 -m pip wheel --no-build-isolation --no-deps -w dist
    ./bindings-python`, then `python3 -m pip install dist/edgeworker-<version>-py3-none-any.whl` in a Python
    that has no build tools (here a venv without the system's packages)."""
    src = copy_sources(paths, tmp_path)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    dist = tmp_path / "dist"
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w",
                          str(dist), str(src)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    wheels = [p.name for p in dist.iterdir()]
    documented = re.search(r"dist/(edgeworker-[\w.]+-py3-none-any\.whl)",
                           (paths.root / "docs" / "python.md").read_text()).group(1)
    assert wheels == [documented], "docs/python.md names the wheel %s; pip built %s" % (documented, wheels)
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True, timeout=120)
    assert subprocess.run([str(bare / "bin" / "python"), "-c", "import wheel"], capture_output=True).returncode != 0
    out = subprocess.run([str(bare / "bin" / "python"), "-m", "pip", "install", str(dist / documented)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    check_installed(bare / "bin" / "python", bare, tmp_path)
