"""Finding libedgeworker.so: $EDGEWORKER_LIB first (and then only it), else the build tree, $EW_BUILD_DIR, the
system (find_library, pkg-config, the loader); an error that lists every place tried; version checks."""
import os
import shutil
import subprocess
import sys

import pytest

import edgeworker

PROBE = "import edgeworker; print(edgeworker.library_path()); print(edgeworker.library_version())"


def run_python(code, env, cwd, pythonpath):
    env = dict(env, PYTHONPATH=str(pythonpath))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=str(cwd), capture_output=True, text=True,
                          timeout=60)


def clean_env(**extra):
    """The environment without any variable that points at a library."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("EDGEWORKER_LIB", "EW_BUILD_DIR", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH")}
    env.update(extra)
    return env


@pytest.fixture
def package_copy(tmp_path, paths):
    """The package copied outside the repository, so that "the build tree next to the package" is absent."""
    dest = tmp_path / "site"
    shutil.copytree(paths.bindings / "edgeworker", dest / "edgeworker",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_library_is_the_one_from_the_build_tree(paths):
    assert edgeworker.library_path() == str(paths.lib)
    assert edgeworker.library_version().startswith("0.3.")


def test_wrong_edgeworker_lib_lists_what_was_tried_and_searches_nothing_else(tmp_path, paths):
    wrong = tmp_path / "nowhere" / "libedgeworker.so"
    out = run_python(PROBE, clean_env(EDGEWORKER_LIB=str(wrong), EW_BUILD_DIR=str(paths.build)), tmp_path,
                     paths.bindings)
    assert out.returncode != 0
    assert "LibraryNotFoundError" in out.stderr
    assert "$EDGEWORKER_LIB: %s -> no such file" % wrong in out.stderr
    assert "no other place was searched" in out.stderr
    assert "build tree next to the package" not in out.stderr  # an explicit choice is not replaced


def test_edgeworker_lib_may_name_the_folder(tmp_path, paths):
    out = run_python(PROBE, clean_env(EDGEWORKER_LIB=str(paths.lib.parent)), tmp_path, paths.bindings)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(paths.lib)


def test_a_library_that_is_not_libedgeworker_is_refused(tmp_path, paths):
    import ctypes.util
    libc = ctypes.util.find_library("c")
    out = run_python(PROBE, clean_env(EDGEWORKER_LIB=libc), tmp_path, paths.bindings)
    assert out.returncode != 0
    assert "not a compatible libedgeworker" in out.stderr
    assert "ew_version" in out.stderr


def test_build_tree_next_to_the_package_is_found_without_any_variable(tmp_path, paths):
    if paths.build != (paths.root / "build").resolve():
        pytest.skip("EW_BUILD_DIR is not the repository's build/")
    out = run_python(PROBE, clean_env(), tmp_path, paths.bindings)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(paths.root / "build" / "lib" / "libedgeworker.so")


def test_ew_build_dir_is_searched(tmp_path, paths, package_copy):
    out = run_python(PROBE, clean_env(EW_BUILD_DIR=str(paths.build)), tmp_path, package_copy)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(paths.lib)


def test_pkg_config_libdir_is_searched(tmp_path, paths, package_copy):
    if shutil.which("pkg-config") is None:
        pytest.skip("no pkg-config")
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "edgeworker.pc").write_text(
        "libdir=%s\n\nName: edgeworker\nDescription: test\nVersion: 0.3.0\nLibs: -L${libdir} -ledgeworker\n"
        % paths.lib.parent)
    out = run_python(PROBE, clean_env(PKG_CONFIG_PATH=str(pc)), tmp_path, package_copy)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(paths.lib)


def test_nothing_found_lists_every_place_tried(tmp_path, paths, package_copy):
    env = clean_env(EW_BUILD_DIR=str(tmp_path / "no-build"), PKG_CONFIG_PATH=str(tmp_path / "no-pc"),
                    PKG_CONFIG_LIBDIR=str(tmp_path / "no-pc"))
    out = run_python(PROBE, env, tmp_path, package_copy)
    if out.returncode == 0:
        pytest.skip("libedgeworker is installed on this system: %s" % out.stdout.splitlines()[0])
    err = out.stderr
    assert "libedgeworker.so was not found. Places tried:" in err
    assert "build tree next to the package: %s" % (tmp_path / "build" / "lib" / "libedgeworker.so") in err
    assert "$EW_BUILD_DIR: %s" % (tmp_path / "no-build" / "lib" / "libedgeworker.so") in err
    assert "ctypes.util.find_library('edgeworker') -> found nothing" in err
    assert "pkg-config --variable=libdir edgeworker" in err
    assert "the dynamic loader's search path: libedgeworker.so.0" in err


def test_python_m_edgeworker_reports_the_library(tmp_path, paths):
    out = subprocess.run([sys.executable, "-m", "edgeworker"], env=dict(os.environ, PYTHONPATH=str(paths.bindings)),
                         cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert str(paths.lib) in out.stdout


def test_importing_the_package_does_not_need_the_library(tmp_path, paths):
    code = "import edgeworker\ntry:\n    edgeworker.Runtime()\nexcept edgeworker.LibraryNotFoundError as e:\n" \
           "    print('tried', len(e.tried))\n"
    out = run_python(code, clean_env(EDGEWORKER_LIB=str(tmp_path / "x.so")), tmp_path, paths.bindings)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "tried 1"
