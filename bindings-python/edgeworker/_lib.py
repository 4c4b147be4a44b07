"""Finding libedgeworker.so and declaring its C API for ctypes.

This module mirrors ``include/edgeworker.h``: one ``ctypes.Structure`` per public struct, one ``CFUNCTYPE``
per callback type, and ``argtypes``/``restype`` for every function, so that a wrong argument is a Python
``ctypes.ArgumentError`` rather than undefined behaviour in C. The layouts belong to the header of version
0.2; :func:`load` refuses a library of another minor version.

Where the library is looked for, in order (the first one that loads wins):

1. ``$EDGEWORKER_LIB`` — a file, or a folder holding ``libedgeworker.so``. When it is set it is the *only*
   place tried: an explicit choice that fails is reported instead of silently loading another copy.
2. The build tree: ``<repository>/build/lib/libedgeworker.so`` next to this package's source checkout, then
   ``$EW_BUILD_DIR/lib/libedgeworker.so``.
3. The system: ``ctypes.util.find_library('edgeworker')``, ``pkg-config --variable=libdir edgeworker``, and
   the dynamic loader's own search (``libedgeworker.so.0``, which honours ``LD_LIBRARY_PATH``).

If nothing loads, :class:`~edgeworker.errors.LibraryNotFoundError` lists every place tried and why each failed.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import pathlib
import shutil
import subprocess
import threading
from typing import List, Optional, Tuple

from .errors import LibraryNotFoundError

#: The (major, minor) version of edgeworker.h these declarations were written against.
API_VERSION = (0, 3)

LIB_FILE = "libedgeworker.so"
ENV_LIB = "EDGEWORKER_LIB"
ENV_BUILD_DIR = "EW_BUILD_DIR"

# --------------------------------------------------------------------------------------------------------
# Structures (same order and types as include/edgeworker.h)

c_status = ctypes.c_int  # ew_status_t
c_log_level = ctypes.c_int  # ew_log_level_t


class ew_error_t(ctypes.Structure):
    _fields_ = [
        ("code", c_status),
        ("message", ctypes.c_char * 1024),
        ("file", ctypes.c_char * 256),
        ("line", ctypes.c_int),
        ("column", ctypes.c_int),
    ]


#: void (*ew_log_fn)(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, c_log_level, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t)


class ew_runtime_config_t(ctypes.Structure):
    _fields_ = [
        ("base", ctypes.c_void_p),
        ("state_dir", ctypes.c_char_p),
        ("cpu_ms", ctypes.c_uint32),
        ("memory_mb", ctypes.c_uint32),
        ("wait_until_ms", ctypes.c_uint32),
        ("log", LOG_FN),
        ("log_udata", ctypes.c_void_p),
        ("cache_mb", ctypes.c_uint32),
        ("ca_file", ctypes.c_char_p),
        ("subrequests", ctypes.c_uint32),
        ("connect_to", ctypes.c_char_p),
        ("durable_idle_ms", ctypes.c_uint32),
    ]


class ew_var_t(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("value", ctypes.c_char_p),
        ("is_json", ctypes.c_int),
    ]


#: void (*ew_binding_fn)(void *udata, ew_call_t *call, const char *method, const char *args_json, size_t len)
#: args_json is declared as void * so that ctypes hands over the pointer and we read exactly `len` bytes.
BINDING_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                              ctypes.c_size_t)
#: void (*ew_binding_cancel_fn)(void *udata, ew_call_t *call)
BINDING_CANCEL_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


class ew_binding_t(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("methods", ctypes.POINTER(ctypes.c_char_p)),
        ("nmethods", ctypes.c_size_t),
        ("call", BINDING_FN),
        ("cancel", BINDING_CANCEL_FN),
        ("udata", ctypes.c_void_p),
        ("call_method", ctypes.c_char_p),
    ]


class ew_resource_t(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),
        ("binding", ctypes.c_char_p),
        ("id", ctypes.c_char_p),
    ]


#: ew_resource_kind_t
EW_RESOURCE_KV = 1
EW_RESOURCE_D1 = 2
EW_RESOURCE_R2 = 3


class ew_assets_t(ctypes.Structure):
    _fields_ = [
        ("directory", ctypes.c_char_p),
        ("binding", ctypes.c_char_p),
        ("html_handling", ctypes.c_int),
        ("not_found_handling", ctypes.c_int),
        ("run_worker_first", ctypes.c_int),
    ]


class ew_ratelimit_t(ctypes.Structure):
    _fields_ = [
        ("binding", ctypes.c_char_p),
        ("namespace_id", ctypes.c_char_p),
        ("limit", ctypes.c_uint32),
        ("period", ctypes.c_uint32),
    ]


class ew_durable_object_t(ctypes.Structure):
    _fields_ = [
        ("binding", ctypes.c_char_p),
        ("class_name", ctypes.c_char_p),
        ("sql", ctypes.c_int),
        ("script_name", ctypes.c_char_p),
    ]


class ew_service_t(ctypes.Structure):
    _fields_ = [
        ("binding", ctypes.c_char_p),
        ("service", ctypes.c_char_p),
        ("entrypoint", ctypes.c_char_p),
    ]


class ew_queue_producer_t(ctypes.Structure):
    _fields_ = [
        ("binding", ctypes.c_char_p),
        ("queue", ctypes.c_char_p),
        ("delivery_delay", ctypes.c_uint32),
    ]


class ew_queue_consumer_t(ctypes.Structure):
    _fields_ = [
        ("queue", ctypes.c_char_p),
        ("max_batch_size", ctypes.c_uint32),
        ("max_batch_timeout_ms", ctypes.c_uint32),
        ("max_retries", ctypes.c_uint32),
        ("dead_letter_queue", ctypes.c_char_p),
        ("retry_delay", ctypes.c_uint32),
        ("max_concurrency", ctypes.c_uint32),
    ]


class ew_queue_message_t(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_char_p),
        ("timestamp_ms", ctypes.c_double),
        ("attempts", ctypes.c_uint32),
        ("content_type", ctypes.c_char_p),
        ("body", ctypes.c_char_p),
        ("body_len", ctypes.c_size_t),
    ]


class ew_queue_verdict_t(ctypes.Structure):
    _fields_ = [
        ("retry", ctypes.c_int),
        ("delay_seconds", ctypes.c_int32),
    ]


class ew_worker_config_t(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("path", ctypes.c_char_p),
        ("source", ctypes.c_char_p),
        ("source_len", ctypes.c_size_t),
        ("filename", ctypes.c_char_p),
        ("vars", ctypes.POINTER(ew_var_t)),
        ("nvars", ctypes.c_size_t),
        ("bindings", ctypes.POINTER(ew_binding_t)),
        ("nbindings", ctypes.c_size_t),
        ("resources", ctypes.POINTER(ew_resource_t)),
        ("nresources", ctypes.c_size_t),
        ("assets", ctypes.POINTER(ew_assets_t)),
        ("ratelimits", ctypes.POINTER(ew_ratelimit_t)),
        ("nratelimits", ctypes.c_size_t),
        ("source_type", ctypes.c_int),  # ew_source_type_t: 0 auto, 1 module, 2 script
        ("durable_objects", ctypes.POINTER(ew_durable_object_t)),
        ("ndurable_objects", ctypes.c_size_t),
        ("queue_producers", ctypes.POINTER(ew_queue_producer_t)),
        ("nqueue_producers", ctypes.c_size_t),
        ("queue_consumers", ctypes.POINTER(ew_queue_consumer_t)),
        ("nqueue_consumers", ctypes.c_size_t),
        ("services", ctypes.POINTER(ew_service_t)),
        ("nservices", ctypes.c_size_t),
    ]


class ew_header_t(ctypes.Structure):
    # Not NUL-terminated on the way in, so the pointers are void * and lengths say how much to read.
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("name_len", ctypes.c_size_t),
        ("value", ctypes.c_void_p),
        ("value_len", ctypes.c_size_t),
    ]


class ew_request_t(ctypes.Structure):
    _fields_ = [
        ("method", ctypes.c_char_p),
        ("url", ctypes.c_char_p),
        ("headers", ctypes.POINTER(ew_header_t)),
        ("nheaders", ctypes.c_size_t),
        ("body", ctypes.c_void_p),
        ("body_len", ctypes.c_size_t),
    ]


class ew_response_t(ctypes.Structure):
    _fields_ = [
        ("status", ctypes.c_int),
        ("status_text", ctypes.c_char_p),
        ("headers", ctypes.POINTER(ew_header_t)),
        ("nheaders", ctypes.c_size_t),
        ("body", ctypes.c_void_p),
        ("body_len", ctypes.c_size_t),
        ("outcome", c_status),
        ("pass_through", ctypes.c_int),
        ("websocket", ctypes.c_void_p),
    ]


class ew_worker_stats_t(ctypes.Structure):
    _fields_ = [
        ("requests", ctypes.c_uint64),
        ("exceptions", ctypes.c_uint64),
        ("limit_errors", ctypes.c_uint64),
        ("isolates", ctypes.c_uint32),
        ("isolates_created", ctypes.c_uint32),
        ("heap_bytes", ctypes.c_size_t),
        ("pending", ctypes.c_uint32),
    ]


# --------------------------------------------------------------------------------------------------------
# Function declarations

_P = ctypes.POINTER
_VP = ctypes.c_void_p

_SIGNATURES = {
    "ew_version": (ctypes.c_char_p, []),
    "ew_status_name": (ctypes.c_char_p, [c_status]),
    "ew_runtime_config_init": (None, [_P(ew_runtime_config_t)]),
    "ew_runtime_create": (c_status, [_P(ew_runtime_config_t), _P(_VP), _P(ew_error_t)]),
    "ew_runtime_destroy": (None, [_VP]),
    "ew_worker_load": (c_status, [_VP, _P(ew_worker_config_t), _P(_VP), _P(ew_error_t)]),
    "ew_worker_load_project": (c_status, [_VP, ctypes.c_char_p, ctypes.c_char_p, _P(_VP), _P(ew_error_t)]),
    "ew_worker_destroy": (None, [_VP]),
    "ew_worker_name": (ctypes.c_char_p, [_VP]),
    "ew_call_resolve_json": (c_status, [_VP, ctypes.c_char_p, ctypes.c_size_t]),
    "ew_call_resolve_bytes": (c_status, [_VP, ctypes.c_char_p, ctypes.c_size_t]),
    "ew_call_reject": (c_status, [_VP, ctypes.c_char_p]),
    "ew_response_destroy": (None, [_P(ew_response_t)]),
    "ew_worker_fetch_sync": (c_status, [_VP, _P(ew_request_t), _P(_P(ew_response_t)), _P(ew_error_t)]),
    "ew_worker_scheduled_sync": (c_status, [_VP, ctypes.c_char_p, ctypes.c_double, _P(ew_error_t)]),
    "ew_worker_queue_sync": (c_status, [_VP, ctypes.c_char_p, _P(ew_queue_message_t), ctypes.c_size_t,
                                        _P(ew_queue_verdict_t), _P(ew_error_t)]),
    "ew_worker_get_stats": (None, [_VP, _P(ew_worker_stats_t)]),
    "ew_worker_cpu_ms": (ctypes.c_double, [_VP]),
}


def _declare(lib: ctypes.CDLL) -> None:
    """Sets argtypes/restype on every function; AttributeError names the first symbol that is missing."""
    for fname, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes


# --------------------------------------------------------------------------------------------------------
# Finding the library

def _package_build_dir() -> pathlib.Path:
    """<repository>/build for a source checkout: this file is <repository>/bindings-python/edgeworker/_lib.py."""
    return pathlib.Path(__file__).resolve().parent.parent.parent / "build"


def _pkg_config_libdir() -> Tuple[Optional[str], str]:
    """(libdir, "") from pkg-config, or (None, why not)."""
    exe = shutil.which("pkg-config")
    if exe is None:
        return None, "pkg-config is not installed"
    try:
        out = subprocess.run([exe, "--variable=libdir", "edgeworker"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return None, "pkg-config failed: %s" % e
    libdir = out.stdout.strip()
    if out.returncode != 0 or not libdir:
        return None, "pkg-config does not know edgeworker"
    return libdir, ""


def candidates() -> List[Tuple[str, Optional[str], str]]:
    """The places to try, in order: (description, path or soname to load or None, why it was skipped).

    Exposed for tests and for ``python -m edgeworker`` diagnostics; :func:`load` is what applications use.
    """
    env = os.environ.get(ENV_LIB)
    if env:
        p = pathlib.Path(env)
        target = p / LIB_FILE if p.is_dir() else p
        return [("$%s" % ENV_LIB, str(target), "")]
    out: List[Tuple[str, Optional[str], str]] = []
    out.append(("build tree next to the package", str(_package_build_dir() / "lib" / LIB_FILE), ""))
    build_env = os.environ.get(ENV_BUILD_DIR)
    if build_env:
        out.append(("$%s" % ENV_BUILD_DIR, str(pathlib.Path(build_env) / "lib" / LIB_FILE), ""))
    else:
        out.append(("$%s" % ENV_BUILD_DIR, None, "not set"))
    found = ctypes.util.find_library("edgeworker")
    out.append(("ctypes.util.find_library('edgeworker')", found, "" if found else "found nothing"))
    libdir, why = _pkg_config_libdir()
    out.append(("pkg-config --variable=libdir edgeworker",
                str(pathlib.Path(libdir) / LIB_FILE) if libdir else None, why))
    out.append(("the dynamic loader's search path", LIB_FILE + ".0", ""))
    return out


def _try_load(target: str) -> ctypes.CDLL:
    """Loads and checks one candidate; raises OSError with the reason."""
    if os.sep in target and not os.path.exists(target):
        raise OSError("no such file")
    lib = ctypes.CDLL(target)
    try:
        _declare(lib)
    except AttributeError as e:
        raise OSError("not a compatible libedgeworker (%s)" % e) from None
    version = (lib.ew_version() or b"").decode("ascii", "replace")
    parts = version.split(".")
    try:
        major_minor = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        raise OSError("ew_version() returned %r" % version) from None
    if major_minor != API_VERSION:
        raise OSError("version %s, but these bindings need %d.%d.x" % (version, API_VERSION[0], API_VERSION[1]))
    return lib


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def load() -> ctypes.CDLL:
    """The loaded library (found on first use, then cached for the process).

    Raises LibraryNotFoundError listing every place tried when none of them gives a compatible library.
    """
    global _lib, _lib_path
    with _lock:
        if _lib is not None:
            return _lib
        tried: List[Tuple[str, str]] = []
        for what, target, skipped in candidates():
            if target is None:
                tried.append((what, skipped))
                continue
            try:
                lib = _try_load(target)
            except OSError as e:
                tried.append(("%s: %s" % (what, target), str(e)))
                continue
            _lib, _lib_path = lib, target
            return lib
        raise LibraryNotFoundError(tried, explicit=bool(os.environ.get(ENV_LIB)))


def loaded_path() -> Optional[str]:
    """The path (or soname) the library was loaded from, None before the first load()."""
    return _lib_path
