"""The library as a C host sees it: only ew_ symbols exported; install + pkg-config + examples/embed-c."""
import glob
import os
import subprocess

from conftest import BUILD, ROOT


def test_shared_library_exports_only_ew_symbols():
    lib = BUILD / "lib" / "libedgeworker.so"
    assert lib.exists(), "libedgeworker.so not built"
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True)
    names = [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]
    assert "ew_runtime_create" in names
    offenders = [n for n in names if not n.startswith("ew_")]
    assert offenders == [], offenders


def test_install_and_build_embed_example_with_pkg_config(tmp_path):
    dest = tmp_path / "stage"
    subprocess.run(["meson", "install", "-C", str(BUILD), "--destdir", str(dest), "--quiet"], check=True,
                   capture_output=True)
    pcs = glob.glob(str(dest / "**" / "edgeworker.pc"), recursive=True)
    assert pcs, "edgeworker.pc not installed"
    headers = glob.glob(str(dest / "**" / "include" / "edgeworker.h"), recursive=True)
    assert headers, "edgeworker.h not installed"
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]), PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "edgeworker"], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    exe = tmp_path / "embed"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", str(ROOT / "examples/embed-c/main.c"),
                    *flags, "-o", str(exe)], check=True, env=env)
    libdir = [f[2:] for f in flags if f.startswith("-L")]
    run_env = dict(os.environ, LD_LIBRARY_PATH=":".join(libdir))
    out = subprocess.run([str(exe)], env=run_env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "200 EW_OK"
    assert "x-powered-by: libedgeworker" in lines
    assert lines[-1] == "Hello from a C host at http://example.com/hello"
