"""edgeworker — run Cloudflare-Workers-style JavaScript from Python, through libedgeworker (ctypes).

    import edgeworker

    with edgeworker.Runtime() as rt:
        worker = rt.load("worker.js")
        resp = worker.fetch("/hello")
        print(resp.status, resp.text())

See docs/python.md in the libedgeworker repository for the guide. The shared library is found through
$EDGEWORKER_LIB, the build tree, or the system (``python -m edgeworker`` says which one is used).
"""
from __future__ import annotations

from typing import Any

from . import _lib
from .errors import ConfigError, EdgeWorkerError, LibraryNotFoundError, LimitExceeded, ScriptError, Status
from .runtime import BASE_URL, Headers, Response, Runtime, Worker, WorkerStats, compile_bundle

__version__ = "0.3.0"

__all__ = [
    "BASE_URL", "ConfigError", "EdgeWorkerError", "Headers", "LibraryNotFoundError", "LimitExceeded",
    "Response", "Runtime", "ScriptError", "Status", "Worker", "WorkerStats",
    "compile_bundle", "library_path", "library_version",
]


def __getattr__(name: str) -> Any:
    """``edgeworker.ProjectNotSupported``: a deprecated alias of ConfigError (warns DeprecationWarning)."""
    if name == "ProjectNotSupported":
        from .errors import deprecated_project_not_supported
        return deprecated_project_not_supported(3)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def library_version() -> str:
    """The loaded libedgeworker's version, e.g. "0.3.0" (loads the library; LibraryNotFoundError if absent)."""
    version: bytes = _lib.load().ew_version()
    return version.decode("ascii")


def library_path() -> str:
    """Where libedgeworker was loaded from (loads it first; LibraryNotFoundError if absent)."""
    _lib.load()
    path = _lib.loaded_path()
    assert path is not None
    return path
