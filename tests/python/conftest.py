"""Fixtures for the Python bindings' tests: the package from bindings-python/, the library from the build tree.

EDGEWORKER_LIB is set to $EW_BUILD_DIR/lib/libedgeworker.so (default build/), so every test, and every
subprocess a test starts, uses the library that was just built. Test modules are named test_py_*.py: pytest
imports test files by their base name, and tests/e2e has names such as test_library.py already.
"""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build")).resolve()
LIB = BUILD / "lib" / "libedgeworker.so"
BINDINGS = ROOT / "bindings-python"

sys.path.insert(0, str(BINDINGS))
os.environ["EDGEWORKER_LIB"] = str(LIB)

import edgeworker  # noqa: E402  (after sys.path is set)


@pytest.fixture(scope="session")
def paths():
    """Where things are: root, build, lib, bindings (pathlib.Path each)."""
    return type("Paths", (), {"root": ROOT, "build": BUILD, "lib": LIB, "bindings": BINDINGS})


@pytest.fixture
def rt():
    """A Runtime with the default limits, closed after the test."""
    with edgeworker.Runtime() as runtime:
        yield runtime


@pytest.fixture
def load(rt):
    """load(source, **kwargs) -> Worker from script source on the `rt` runtime."""

    def _load(source, **kwargs):
        return rt.load(source=source, **kwargs)

    return _load


# A Worker that answers with what it was sent, as JSON, for the request-side tests. ES5 only.
ECHO = r"""
addEventListener('fetch', function (event) {
  var req = event.request;
  event.respondWith(req.text().then(function (body) {
    var headers = {};
    req.headers.forEach(function (value, name) { headers[name] = value; });
    return Response.json({ method: req.method, url: req.url, headers: headers, body: body });
  }));
});
"""


@pytest.fixture
def echo(load):
    """A Worker answering {method, url, headers, body} as JSON."""
    return load(ECHO, name="echo")
