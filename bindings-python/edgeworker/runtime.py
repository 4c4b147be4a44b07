"""Runtime, Worker and Response: the Python face of libedgeworker's C API (include/edgeworker.h).

    with edgeworker.Runtime() as rt:
        worker = rt.load("worker.js", vars={"GREETING": "hi"}, bindings={"USERS": users})
        resp = worker.fetch("/api", method="POST", json={"a": 1})
        print(resp.status, resp.headers["content-type"], resp.json())

Threading: a Runtime belongs to the thread that created it, as the C runtime does. Every call on it, on its
Workers, from any other thread raises RuntimeError. Calls cannot nest either: from inside a binding method or
a logging handler that runs during a request, calling back into the runtime raises RuntimeError (the C
library forbids re-entering it from its callbacks).

Callbacks from C (console output, binding method calls) are two module-level ctypes function objects that
live as long as the module; the data they need is found through an integer key passed as `udata`, in
registries the Runtime and its Workers fill and empty. Nothing raised in a callback reaches C: a binding's
exception rejects the JavaScript promise; a KeyboardInterrupt or SystemExit is held and raised again once the
blocking C call has returned.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import ctypes
import dataclasses
import datetime
import errno
import functools
import http
import inspect
import itertools
import json as _json
import logging
import math
import os
import re
import sys
import threading
import urllib.parse
import warnings
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Type, Union)

from . import _lib
from .errors import (ConfigError, EdgeWorkerError, Status, error_class)

__all__ = ["Runtime", "Worker", "Response", "Headers", "WorkerStats", "BASE_URL"]

#: Relative URLs given to Worker.fetch() are resolved against this.
BASE_URL = "http://localhost/"

StrPath = Union[str, "os.PathLike[str]"]
HeadersLike = Union[Mapping[str, Union[str, bytes]], Iterable[Tuple[str, Union[str, bytes]]], "Headers"]
BodyLike = Union[bytes, bytearray, memoryview, str]

_log = logging.getLogger("edgeworker")
_binding_log = logging.getLogger("edgeworker.binding")

_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_UINT32_MAX = 2 ** 32 - 1


# --------------------------------------------------------------------------------------------------------
# Argument checks: everything that reaches C is validated here first (TypeError / ValueError).

def _text(value: Any, what: str, *, allow_empty: bool = True) -> bytes:
    """UTF-8 bytes of a str that C will read as a NUL-terminated string."""
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    if not allow_empty and not value:
        raise ValueError("%s must not be empty" % what)
    if "\0" in value:
        raise ValueError("%s must not contain NUL characters" % what)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("%s is not valid Unicode text (%s)" % (what, e.reason)) from None


def _fs_path(value: Any, what: str) -> bytes:
    """File-system bytes of a str/bytes/PathLike path, for C's fopen()."""
    try:
        path = os.fspath(value)
    except TypeError:
        raise TypeError("%s must be a str or os.PathLike, not %s" % (what, type(value).__name__)) from None
    raw = os.fsencode(path)
    if not raw:
        raise ValueError("%s must not be empty" % what)
    if b"\0" in raw:
        raise ValueError("%s must not contain NUL characters" % what)
    return raw


def _uint(value: Any, what: str, maximum: int = _UINT32_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if not 1 <= value <= maximum:
        raise ValueError("%s must be between 1 and %d, not %d" % (what, maximum, value))
    return value


def _json_text(value: Any, what: str, *, ascii: bool = True) -> bytes:
    """Compact JSON as bytes. ASCII (the default) escapes everything outside ASCII, so C always gets valid
    UTF-8 even from lone surrogates; ascii=False gives readable UTF-8 (for request bodies)."""
    try:
        return _json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=ascii).encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("%s is not valid Unicode text (%s)" % (what, e.reason)) from None
    except (TypeError, ValueError) as e:
        raise type(e)("%s is not JSON-serializable: %s" % (what, e)) from None


def _header_pairs(headers: Optional[HeadersLike]) -> List[Tuple[bytes, bytes]]:
    """Validated (name, value) byte pairs from a mapping, an iterable of pairs, or Headers."""
    if headers is None:
        return []
    if isinstance(headers, Headers):
        items: Iterable[Any] = headers.multi_items()
    elif isinstance(headers, Mapping):
        items = headers.items()
    elif isinstance(headers, (str, bytes, bytearray)):
        raise TypeError("headers must be a mapping or an iterable of (name, value) pairs, not %s"
                        % type(headers).__name__)
    else:
        try:
            items = iter(headers)
        except TypeError:
            raise TypeError("headers must be a mapping or an iterable of (name, value) pairs, not %s"
                            % type(headers).__name__) from None
    out = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError("each header must be a (name, value) pair, not %r" % (item,)) from None
        if not isinstance(name, str):
            raise TypeError("header name must be a str, not %s" % type(name).__name__)
        if not _TOKEN.match(name):
            raise ValueError("header name %r is not an HTTP token" % name)
        if isinstance(value, str):
            raw = _text(value, "header %r" % name)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
        else:
            raise TypeError("header %r: value must be a str or bytes, not %s" % (name, type(value).__name__))
        if b"\r" in raw or b"\n" in raw or b"\0" in raw:
            raise ValueError("header %r: value must not contain CR, LF or NUL" % name)
        out.append((name.encode("ascii"), raw))
    return out


def _absolute_url(url: Any) -> str:
    """An absolute http(s) URL: relative ones resolved against BASE_URL, non-ASCII percent-encoded."""
    if not isinstance(url, str):
        raise TypeError("url must be a str, not %s" % type(url).__name__)
    if any(c <= " " or c == "\x7f" for c in url):
        raise ValueError("url %r contains whitespace or control characters; percent-encode them" % url)
    lower = url.lower()
    if not lower.startswith(("http://", "https://")):
        if _SCHEME.match(url) and not url.startswith("//"):
            raise ValueError("url %r: only http:// and https:// URLs (or paths such as '/api') are accepted"
                             % url)
        url = urllib.parse.urljoin(BASE_URL, url)
    if not url.isascii():
        url = urllib.parse.quote(url, safe="".join(chr(c) for c in range(0x21, 0x7f)))
    parts = urllib.parse.urlsplit(url)
    if not parts.netloc or parts.netloc.startswith(("/", "@")):
        raise ValueError("url %r has no host" % url)
    return url


def _scheduled_ms(value: Any) -> float:
    if value is None:
        return 0.0  # the C library's "now"
    if isinstance(value, datetime.datetime):
        return value.timestamp() * 1000.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("scheduled_time must be a datetime or milliseconds since the epoch, not %s"
                        % type(value).__name__)
    ms = float(value)
    if not math.isfinite(ms) or ms < 0:
        raise ValueError("scheduled_time must be a finite, non-negative number of milliseconds, not %r" % value)
    return ms


_CONFIG_SUFFIXES = (".toml", ".json", ".jsonc")
_KV_ID = re.compile(r"[A-Za-z0-9._\-]{1,200}\Z")


def _is_config_file(path: str) -> bool:
    """A Wrangler configuration file (or .dev.vars) by its name: its errors are ConfigError."""
    base = os.path.basename(path)
    return base.lower().endswith(_CONFIG_SUFFIXES) or base.startswith(".dev.vars")


def _is_project(path: bytes) -> bool:
    """A folder, or a configuration file: loaded with ew_worker_load_project."""
    return os.path.isdir(path) or _is_config_file(os.fsdecode(path))


def _looks_like_code(text: str) -> bool:
    """A str that is not an existing path is taken for script source when it has code-like characters."""
    return "\n" in text or any(c in text for c in "(){};=")


# --------------------------------------------------------------------------------------------------------
# Threads and re-entry. Depth counts the blocking C calls in progress on this thread: > 0 means Python code
# is running inside one of the library's callbacks, where no ew_ function may be called.

_tls = threading.local()


def _depth() -> int:
    return getattr(_tls, "depth", 0)


def _defer(exc: BaseException) -> None:
    """Keeps a KeyboardInterrupt/SystemExit raised inside a callback, to raise once C has returned."""
    if getattr(_tls, "deferred", None) is None:
        _tls.deferred = exc


class _Calling:
    """Context manager around one blocking C call: depth, deferred exceptions, deferred runtime destroys."""

    __slots__ = ()

    def __enter__(self) -> None:
        _tls.depth = _depth() + 1

    def __exit__(self, *exc: Any) -> None:
        _tls.depth -= 1
        if _tls.depth > 0:
            return
        pending = getattr(_tls, "pending_destroy", None)
        if pending:
            _tls.pending_destroy = []
            for ptr in pending:
                _lib.load().ew_runtime_destroy(ptr)
        deferred = getattr(_tls, "deferred", None)
        if deferred is not None:
            _tls.deferred = None
            raise deferred


_CALLING = _Calling()


# --------------------------------------------------------------------------------------------------------
# Callbacks from C. Registries map the integer udata to what a callback needs; entries are removed when
# their Worker or Runtime is closed, and a missing entry is answered safely (the call is rejected).

_keys = itertools.count(1)
_binding_registry: Dict[int, "_Binding"] = {}


class _Binding:
    """One host binding of one Worker: the JS name and the Python callables behind its methods."""

    __slots__ = ("name", "methods", "callable")

    def __init__(self, name: str, methods: Dict[str, Callable[..., Any]], is_callable: bool) -> None:
        self.name = name
        self.methods = methods
        self.callable = is_callable  # NAME(...) itself calls the `call` method


def _on_log(udata: Optional[int], level: int, worker: Optional[bytes], msg: Optional[int], length: int) -> None:
    try:
        name = worker.decode("utf-8", "replace") if worker else ""
        text = ctypes.string_at(msg, length).decode("utf-8", "replace") if msg and length else ""
        logger = logging.getLogger("edgeworker.worker." + name if name else "edgeworker.runtime")
        logger.log(_LEVELS.get(level, logging.ERROR), text)
    except Exception:  # a broken handler must not reach C; logging reports its own handler errors
        pass
    except BaseException as e:
        _defer(e)


def _bytes_hook(obj: Dict[str, Any]) -> Any:
    """JSON object hook: {"$bytes": base64} (how C passes ArrayBuffers and typed arrays) -> bytes."""
    if len(obj) == 1 and isinstance(obj.get("$bytes"), str):
        try:
            return base64.b64decode(obj["$bytes"], validate=True)
        except (binascii.Error, ValueError):
            return obj
    return obj


def _run_awaitable(aw: Any) -> Any:
    """Runs a coroutine (or other awaitable) to completion, synchronously, in a fresh event loop."""

    async def wait() -> Any:
        return await aw

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    # fetch() was called from async code: this thread's loop is busy (and blocked by us), so the coroutine
    # gets its own loop on a helper thread. It must not use the Runtime (that would be another thread).
    box: Dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(wait())
        except BaseException as e:  # noqa: B902 - handed back to the caller's thread
            box["error"] = e

    t = threading.Thread(target=target, name="edgeworker-binding", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _rejection(e: BaseException) -> str:
    return str(e) or type(e).__name__


def _invoke(binding: Optional[_Binding], method: str, raw_args: bytes) -> Tuple[str, bytes]:
    """Runs a binding method; returns ("json"|"bytes"|"reject", payload). Never raises."""
    if binding is None:
        return "reject", b"the host binding is no longer available"
    qual = "%s.%s" % (binding.name, method)
    try:
        fn = binding.methods[method]
        args = _json.loads(raw_args.decode("utf-8"), object_hook=_bytes_hook) if raw_args else []
        if not isinstance(args, list):
            args = [args]
        result = fn(*args)
        if inspect.isawaitable(result):
            result = _run_awaitable(result)
    except Exception as e:
        _binding_log.debug("%s raised", qual, exc_info=True)
        return "reject", _rejection(e).encode("utf-8", "replace")
    except BaseException as e:
        _defer(e)
        return "reject", ("%s interrupted (%s)" % (qual, type(e).__name__)).encode("utf-8")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return "bytes", memoryview(result).tobytes()
    try:
        return "json", _json.dumps(result, allow_nan=False, separators=(",", ":")).encode("ascii")
    except Exception as e:
        return "reject", ("%s returned a value that is not JSON-serializable: %s" % (qual, e)).encode(
            "utf-8", "replace")


def _on_call(udata: Optional[int], call: Optional[int], method: Optional[bytes], args: Optional[int],
             args_len: int) -> None:
    kind, payload = "reject", b"internal error in the Python binding"
    try:
        name = (method or b"").decode("utf-8", "replace")
        raw = ctypes.string_at(args, args_len) if args and args_len else b""
        kind, payload = _invoke(_binding_registry.get(udata or 0), name, raw)
    except BaseException as e:  # nothing may propagate into C; the call must still be settled once
        if not isinstance(e, Exception):
            _defer(e)
    try:
        lib = _lib.load()  # loaded already: a cached object
        if kind == "json":
            lib.ew_call_resolve_json(call, payload, len(payload))
        elif kind == "bytes":
            lib.ew_call_resolve_bytes(call, payload, len(payload))
        else:
            lib.ew_call_reject(call, payload.replace(b"\0", b"\\0"))
    except BaseException as e:
        if not isinstance(e, Exception):
            _defer(e)


# The ctypes function objects C holds pointers to: created once, alive as long as the module.
_LOG_CALLBACK = _lib.LOG_FN(_on_log)
_BINDING_CALLBACK = _lib.BINDING_FN(_on_call)


def _binding_methods(name: str, obj: Any) -> Dict[str, Callable[..., Any]]:
    """The methods a Python object exposes as a binding (see Runtime.load)."""
    if inspect.isclass(obj):
        raise TypeError("binding %r is a class; pass an instance (its public methods become the binding's)"
                        % name)
    if inspect.isroutine(obj) or isinstance(obj, functools.partial):
        return {"call": obj}
    methods: Dict[str, Callable[..., Any]] = {}
    for attr in dir(obj):
        if attr.startswith("_"):
            continue
        if isinstance(inspect.getattr_static(obj, attr, None), property):
            continue  # never run property getters while looking for methods
        try:
            value = getattr(obj, attr)
        except Exception:
            continue
        if callable(value) and not inspect.isclass(value):
            methods[attr] = value
    if callable(obj) and "call" not in methods:
        methods["call"] = obj
    if not methods:
        raise ValueError("binding %r (%s) has no public methods to expose" % (name, type(obj).__name__))
    return methods


# --------------------------------------------------------------------------------------------------------
# Headers and Response

class Headers(Mapping[str, str]):
    """Response headers: a read-only, case-insensitive mapping that keeps repeated names.

    ``headers["Set-Cookie"]`` joins repeated values with ", " (as the Fetch API's Headers.get does);
    ``headers.get_all("set-cookie")`` (alias ``getlist``) returns them one by one, and ``multi_items()``
    every (name, value) pair in order. Names are lower-case, as the Worker's Headers class stores them.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Union[Mapping[str, str], Iterable[Tuple[str, str]]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: List[Tuple[str, str]] = [(str(n).lower(), str(v)) for n, v in pairs]

    def get_all(self, name: str) -> List[str]:
        """Every value of `name` (any case), in order; [] when absent."""
        key = name.lower() if isinstance(name, str) else None
        return [v for n, v in self._items if n == key]

    getlist = get_all

    def multi_items(self) -> List[Tuple[str, str]]:
        """All (name, value) pairs, repeated names included, in order."""
        return list(self._items)

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n == name.lower() for n, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(n for n, _ in self._items))

    def __len__(self) -> int:
        return len(set(n for n, _ in self._items))

    def __repr__(self) -> str:
        return "Headers(%r)" % (self._items,)


class Response:
    """What a Worker answered to a fetch: a complete response, copied out of C.

    Attributes:
        status: HTTP status (200-599).
        status_text: the reason phrase the Worker gave, "" when none (see ``reason``).
        headers: a case-insensitive :class:`Headers`.
        body: the body bytes.
        url: the absolute URL that was requested.
        outcome: :class:`Status` ``EW_OK`` when the Worker produced the response; otherwise the library made
            an error page for that reason: 500 for ``EW_ERR_EXCEPTION`` (Cloudflare error 1101), 503 for
            ``EW_ERR_CPU_LIMIT``/``EW_ERR_MEMORY_LIMIT`` (error 1102). ``outcome.name`` is the C name.
        error: the matching :class:`~edgeworker.errors.EdgeWorkerError` when outcome is not EW_OK (with the
            script's message, file and line), else None.
        pass_through: the Worker failed after calling passThroughOnException(); a proxy should send the
            request to its origin instead of using this page.
    """

    def __init__(self, status: int = 200, body: bytes = b"", headers: Optional[Headers] = None, *,
                 status_text: str = "", url: str = BASE_URL, outcome: int = Status.EW_OK,
                 error: Optional[EdgeWorkerError] = None, pass_through: bool = False) -> None:
        self.status = status
        self.status_text = status_text
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.url = url
        self.outcome = Status(outcome)
        self.error = error
        self.pass_through = pass_through

    @property
    def ok(self) -> bool:
        """True for a 2xx status (as the Fetch API's Response.ok)."""
        return 200 <= self.status <= 299

    @property
    def reason(self) -> str:
        """status_text, or the standard phrase for the status when the Worker gave none."""
        if self.status_text:
            return self.status_text
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded (UTF-8 by default, invalid bytes replaced, as Response.text() in JS)."""
        return self.body.decode(encoding, "replace")

    def json(self) -> Any:
        """The body parsed as JSON (json.JSONDecodeError, a ValueError, when it is not)."""
        return _json.loads(self.body.decode("utf-8"))

    def raise_for_outcome(self) -> "Response":
        """Raises :attr:`error` when the library, not the Worker, produced this response; returns self."""
        if self.outcome != Status.EW_OK:
            if self.error is not None:
                raise self.error
            raise error_class(self.outcome)(self.outcome, "the Worker failed (%s)" % self.outcome.name)
        return self

    def __repr__(self) -> str:
        extra = "" if self.outcome == Status.EW_OK else " outcome=%s" % self.outcome.name
        return "<Response [%d]%s %d bytes>" % (self.status, extra, len(self.body))


@dataclasses.dataclass(frozen=True)
class WorkerStats:
    """ew_worker_stats_t: counters of one Worker."""

    requests: int  #: fetch and scheduled events dispatched
    exceptions: int  #: of those, ended by an uncaught exception
    limit_errors: int  #: of those, ended by the CPU or memory limit
    isolates: int  #: isolates alive now
    isolates_created: int  #: isolates created so far, the first included
    heap_bytes: int  #: bytes allocated by the live isolates' heaps
    pending: int  #: requests in flight now
    cpu_ms: float = 0.0  #: CPU time charged to the Worker's requests so far (ms)


def _error_from(err: _lib.ew_error_t, code: Optional[int] = None,
                cls: Optional[Type[EdgeWorkerError]] = None) -> EdgeWorkerError:
    lib = _lib.load()
    c = err.code if code is None else code
    if cls is None:
        cls = error_class(c)
    return cls(c, err.message.decode("utf-8", "replace"), os.fsdecode(err.file), err.line, err.column,
               (lib.ew_status_name(c) or b"EW_ERR_UNKNOWN").decode("ascii", "replace"))


# --------------------------------------------------------------------------------------------------------
# Runtime

class Runtime:
    """A libedgeworker runtime: limits, logging and the event loop shared by the Workers it loads.

    Args:
        state_dir: folder for persistent state (KV namespaces by id, D1 databases, the Cache API); None = in
            memory, for the Runtime's life.
        cpu_ms: CPU time allowed per request, in milliseconds (default 50).
        memory_mb: heap limit per isolate, in MiB (default 128, at most 65536).
        wait_until_ms: wall time allowed for ``event.waitUntil`` work after the response (default 30000).
        cache_mb: size bound of each Worker's Cache API storage (``caches.default``/``caches.open``), in MiB
            (default 64); past it, expired entries go first, then the least recently used.
        ca_file: PEM file of the certificate authorities ``fetch()`` trusts for https (default: the system
            bundle); an unreadable file raises EdgeWorkerError (EW_ERR_IO).
        subrequests: ``fetch()`` calls allowed per request (default 50).
        connect_to: ``fetch()`` connection overrides, like curl's ``--connect-to``: a list of
            ``"HOST1:PORT1:HOST2:PORT2"`` rules; a request for HOST1:PORT1 connects to HOST2:PORT2 while the
            URL, Host header and TLS name stay HOST1. A malformed rule raises ConfigError.
        durable_idle_ms: a Durable Object without events for this long is evicted from memory (default 70000).

    Use it as a context manager, or call :meth:`close` (idempotent), which destroys the Workers still loaded
    and the C runtime. A Runtime belongs to the thread that created it: using it (or its Workers) from
    another thread raises RuntimeError. Worker console output goes to the ``logging`` logger
    ``edgeworker.worker.<worker name>`` (runtime-level messages to ``edgeworker.runtime``).

    Raises:
        edgeworker.LibraryNotFoundError: libedgeworker.so could not be found (the message lists where).
    """

    def __init__(self, state_dir: Optional[StrPath] = None, *, cpu_ms: int = 50, memory_mb: int = 128,
                 wait_until_ms: int = 30000, cache_mb: int = 64, ca_file: Optional[StrPath] = None,
                 subrequests: int = 50, connect_to: Optional[Sequence[str]] = None,
                 durable_idle_ms: int = 70000) -> None:
        self._ptr: Optional[int] = None  # first, so that __del__ works whatever fails below
        self._thread = threading.get_ident()
        self._workers: List[Worker] = []
        state = _fs_path(state_dir, "state_dir") if state_dir is not None else None
        cfg = _lib.ew_runtime_config_t()
        cfg.state_dir = state
        cfg.cpu_ms = _uint(cpu_ms, "cpu_ms")
        cfg.memory_mb = _uint(memory_mb, "memory_mb", 65536)
        cfg.wait_until_ms = _uint(wait_until_ms, "wait_until_ms")
        cfg.cache_mb = _uint(cache_mb, "cache_mb", 1048576)
        ca = _fs_path(ca_file, "ca_file") if ca_file is not None else None
        cfg.ca_file = ca
        cfg.subrequests = _uint(subrequests, "subrequests")
        if connect_to is not None:
            if isinstance(connect_to, (str, bytes)) or not all(isinstance(r, str) for r in connect_to):
                raise TypeError("connect_to must be a list of \"HOST1:PORT1:HOST2:PORT2\" strings")
            if any("," in r for r in connect_to):
                raise ValueError("connect_to: a rule cannot contain ','")
            cfg.connect_to = _text(",".join(connect_to), "connect_to", allow_empty=True)
        cfg.durable_idle_ms = _uint(durable_idle_ms, "durable_idle_ms")
        cfg.log = _LOG_CALLBACK
        self._log_callback = _LOG_CALLBACK  # referenced here too: C holds it for the runtime's lifetime
        self._binding_callback = _BINDING_CALLBACK
        self.cpu_ms, self.memory_mb, self.wait_until_ms = cpu_ms, memory_mb, wait_until_ms
        self.subrequests = subrequests
        self.durable_idle_ms = durable_idle_ms
        self.ca_file = os.fsdecode(ca) if ca is not None else None
        self.state_dir = os.fsdecode(state) if state is not None else None
        if _depth() > 0:
            raise RuntimeError("a Runtime cannot be created from inside a libedgeworker callback")
        lib = _lib.load()
        ptr = ctypes.c_void_p()
        err = _lib.ew_error_t()
        st = lib.ew_runtime_create(ctypes.byref(cfg), ctypes.byref(ptr), ctypes.byref(err))
        if st != Status.EW_OK:
            raise _error_from(err, st, ConfigError if st == Status.EW_ERR_INVALID_ARG else None)
        self._ptr = ptr.value

    # -- state checks ------------------------------------------------------------------------------------

    def _check(self, what: str) -> int:
        """The C pointer, after checking thread, state and re-entry (RuntimeError)."""
        if threading.get_ident() != self._thread:
            raise RuntimeError("%s: this Runtime belongs to another thread; a Runtime and its Workers may "
                               "only be used from the thread that created it" % what)
        if self._ptr is None:
            raise RuntimeError("%s: the Runtime is closed" % what)
        if _depth() > 0:
            raise RuntimeError("%s: cannot be called from inside a binding method or log handler that runs "
                               "during a request (libedgeworker callbacks must not re-enter it)" % what)
        return self._ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    @property
    def workers(self) -> List["Worker"]:
        """The Workers loaded and not closed yet."""
        return list(self._workers)

    # -- loading -----------------------------------------------------------------------------------------

    def load(self, path_or_source: Union[StrPath, bytes, None] = None, *,
             source: Union[str, bytes, None] = None, path: Optional[StrPath] = None,
             name: Optional[str] = None, vars: Optional[Mapping[str, Any]] = None,
             bindings: Optional[Mapping[str, Any]] = None, filename: Optional[str] = None,
             kv: Optional[Mapping[str, str]] = None, env: Optional[str] = None,
             d1: Optional[Mapping[str, str]] = None, r2: Optional[Mapping[str, str]] = None,
             services: Optional[Mapping[str, Any]] = None) -> "Worker":
        """Loads a Worker: a script (ES module ``export default {fetch}`` or service-worker form), or a
        Wrangler project.

        Give exactly one of:
            path_or_source: a path (str or os.PathLike) of an existing file or folder, or the script's
                source. A str that is not an existing path is taken for source when it contains a newline or
                one of ``(){};=``; otherwise FileNotFoundError. bytes are source (UTF-8).
            source: the script's source (str or UTF-8 bytes), never a path.
            path: a path to the script file or project, never source.

        A project is a folder (holding wrangler.json, wrangler.jsonc or wrangler.toml, or just src/index.js,
        index.js or worker.js) or a configuration file (``.toml``, ``.json``, ``.jsonc``). It is loaded as
        ew-server loads it (the C function ``ew_worker_load_project``): name and main from the
        configuration, env vars from ``[vars]`` and ``.dev.vars``, ``kv_namespaces`` as KV namespaces stored
        in the Runtime's ``state_dir`` under their id, ``d1_databases`` as D1 databases under their
        database_name, ``r2_buckets`` as R2 buckets under their bucket_name, ``durable_objects`` bindings as
        Durable Object namespaces of the Worker's exported classes (storage under ``state_dir``/do),
        ``services`` as service bindings to Workers of this Runtime found by name when called. Ignored
        keys are skipped with a warning on the ``edgeworker.runtime`` logger. The project supplies the whole
        configuration, so ``name``, ``vars``, ``bindings``, ``kv``, ``d1``, ``r2``, ``services`` and ``filename``
        cannot be combined with it (TypeError).

        Args:
            env: for a project, the Wrangler environment (``[env.NAME]``) to use; None = the top level.
                TypeError for a script.
            name: the Worker's name in logs (logger ``edgeworker.worker.<name>``); default the file's stem,
                or "worker" for source.
            vars: env variables, also globals for service-worker scripts. str values stay strings; other
                JSON-compatible values (numbers, bools, None, lists, dicts) arrive parsed from JSON.
            bindings: host bindings: ``{"NAME": obj}`` makes ``NAME`` (and ``env.NAME``) an object whose
                methods are obj's public methods (callable attributes not starting with "_"), found when
                the Worker loads. A plain function (or functools.partial) becomes a binding with one method,
                callable as ``NAME(...)`` (and ``NAME.call(...)``); an object that is itself callable also gets
                ``call`` and is callable as ``NAME(...)``. Each method returns
                a Promise: it resolves with the Python result (JSON-compatible values; bytes, bytearray and
                memoryview as an ArrayBuffer) or rejects with an Error carrying the Python exception's
                message. Arguments arrive decoded from JSON, ArrayBuffers and typed arrays as bytes.
                ``async def`` methods are run to completion (asyncio.run) before the Promise settles.
            filename: the name used in errors and stack traces for source (default "worker.js").
            kv: KV namespaces for a script: ``{"USERS_KV": "users"}`` makes ``env.USERS_KV`` the namespace
                whose id is "users" (ids: ``[A-Za-z0-9._-]+``). The data lives in the Runtime's
                ``state_dir`` (in memory without one), shared by every Worker using the same id.
            d1: D1 databases for a script: ``{"DB": "blog"}`` makes ``env.DB`` the D1 database "blog"
                (``state_dir/d1/blog.sqlite``, the file ``ew-server d1 execute`` uses; in memory without a
                ``state_dir``). Names: ``[A-Za-z0-9._-]+``.
            r2: R2 buckets for a script: ``{"BUCKET": "files"}`` makes ``env.BUCKET`` the R2 bucket named
                "files" (same rules for names as kv ids). Metadata and bodies live in the Runtime's
                ``state_dir`` (a private temporary folder without one), shared by every Worker using the name.
            services: service bindings to other Workers loaded in this Runtime: ``{"AUTH": "auth"}`` makes
                ``env.AUTH`` a Fetcher for the Worker named "auth" (``env.AUTH.fetch(request)`` and RPC
                ``env.AUTH.method(...)``); ``{"ADMIN": ("auth", "Admin")}`` calls its export ``Admin`` instead of
                the default export. The target is found by name at each call, so load order does not matter.

        Raises:
            ScriptError: a syntax error (with file, line, column) or an exception in the top level.
            LimitExceeded: the top level exceeded the CPU or memory limit.
            ConfigError: the library rejected the configuration, or a project's Wrangler configuration is
                invalid or does not parse (file, line and column point into it).
            EdgeWorkerError: the file could not be read (EW_ERR_IO), and other failures.
            FileNotFoundError: path_or_source names no file and does not look like code.
            TypeError, ValueError: invalid arguments (checked before anything reaches C).
        """
        self._check("load")
        script_path, script_source = self._resolve_script(path_or_source, source, path)
        if script_path is not None and _is_project(script_path):
            given = [k for k, v in (("name", name), ("vars", vars), ("bindings", bindings), ("kv", kv),
                                    ("d1", d1), ("r2", r2), ("services", services), ("filename", filename))
                     if v is not None]
            if given:
                raise TypeError("load(): %s cannot be combined with a project (%s): its Wrangler configuration "
                                "supplies the Worker's name, vars and bindings"
                                % (", ".join(given), os.fsdecode(script_path)))
            return self._load_project(script_path, env)
        if env is not None:
            raise TypeError("load(): env= selects a Wrangler environment, so it needs a project folder or "
                            "configuration file, not a script")
        if name is None:
            name = os.path.splitext(os.path.basename(os.fsdecode(script_path)))[0] if script_path else "worker"
            name = name or "worker"
        name_b = _text(name, "name", allow_empty=False)
        filename_b = _text(filename, "filename", allow_empty=False) if filename is not None else None

        keep: List[Any] = []  # everything C reads during ew_worker_load (it copies what it keeps)
        var_array, nvars = self._vars_array(vars, keep)
        entries = self._binding_entries(bindings, vars)
        res_array, nres = self._resource_array(kv, d1, r2, vars, bindings, keep)
        keys = [next(_keys) for _ in entries]
        cfg = _lib.ew_worker_config_t()
        cfg.name = name_b
        if script_path is not None:
            cfg.path = script_path
        else:
            assert script_source is not None
            cfg.source = script_source
            cfg.source_len = len(script_source)
            cfg.filename = filename_b
        cfg.vars = var_array
        cfg.nvars = nvars
        cfg.bindings = _binding_array(entries, keys, keep)
        cfg.nbindings = len(entries)
        cfg.resources = res_array
        cfg.nresources = nres
        cfg.services, cfg.nservices = _service_array(services, keep)

        lib = _lib.load()
        ptr = ctypes.c_void_p()
        err = _lib.ew_error_t()
        worker: Optional[Worker] = None
        _binding_registry.update(zip(keys, entries))
        try:
            with _CALLING:  # its exit may raise a deferred KeyboardInterrupt: adopt the worker before
                st = lib.ew_worker_load(self._ptr, ctypes.byref(cfg), ctypes.byref(ptr), ctypes.byref(err))
                if st == Status.EW_OK:
                    worker = Worker.__new__(Worker)
                    worker._setup(self, ptr.value, name, keys, [e.name for e in entries])
                    self._workers.append(worker)
        finally:
            if worker is None:
                for key in keys:
                    _binding_registry.pop(key, None)
        if worker is None:
            raise _error_from(err, st, ConfigError if st == Status.EW_ERR_INVALID_ARG else None)
        return worker

    def _load_project(self, project: bytes, env: Optional[str]) -> "Worker":
        """Runtime.load() of a project folder or configuration file, through ew_worker_load_project."""
        env_b = _text(env, "env", allow_empty=False) if env is not None else None
        lib = _lib.load()
        ptr = ctypes.c_void_p()
        err = _lib.ew_error_t()
        worker: Optional[Worker] = None
        with _CALLING:  # its exit may raise a deferred KeyboardInterrupt: adopt the worker before
            st = lib.ew_worker_load_project(self._ptr, project, env_b, ctypes.byref(ptr), ctypes.byref(err))
            if st == Status.EW_OK:
                name = (lib.ew_worker_name(ptr.value) or b"worker").decode("utf-8", "replace")
                worker = Worker.__new__(Worker)
                worker._setup(self, ptr.value, name, [], [])
                self._workers.append(worker)
        if worker is None:
            config_error = st == Status.EW_ERR_INVALID_ARG or (
                st == Status.EW_ERR_SYNTAX and _is_config_file(os.fsdecode(err.file)))
            raise _error_from(err, st, ConfigError if config_error else None)
        return worker

    @staticmethod
    def _resource_array(kv: Optional[Mapping[str, str]], d1: Optional[Mapping[str, str]],
                        r2: Optional[Mapping[str, str]], vars: Optional[Mapping[str, Any]],
                        bindings: Optional[Mapping[str, Any]], keep: List[Any]) -> Tuple[Any, int]:
        """The ew_resource_t array of load(kv=..., d1=..., r2=...): binding name -> KV namespace id / D1
        database / R2 bucket."""
        kinds = [(arg, kind, what, idname, label) for arg, kind, what, idname, label in (
            (kv, _lib.EW_RESOURCE_KV, "kv", "namespace id", "KV namespace"),
            (d1, _lib.EW_RESOURCE_D1, "d1", "database name", "D1 database"),
            (r2, _lib.EW_RESOURCE_R2, "r2", "bucket name", "R2 bucket")) if arg is not None]
        if not kinds:
            return None, 0
        for arg, _kind, what, idname, _label in kinds:
            if not isinstance(arg, Mapping):
                raise TypeError("%s must be a mapping of binding names to %ss, not %s"
                                % (what, idname, type(arg).__name__))
        seen: Dict[str, str] = {}
        for arg, _kind, _what, _idname, label in kinds:
            for k in arg:
                if k in seen:
                    raise ValueError("%r is both a %s and a %s" % (k, seen[k], label))
                seen[k] = label
        array = (_lib.ew_resource_t * sum(len(arg) for arg, *_ in kinds))()
        i = 0
        for arg, kind, what, idname, label in kinds:
            for k, v in arg.items():
                binding = _text(k, "%s key" % what, allow_empty=False)
                if (vars is not None and k in vars) or (bindings is not None and k in bindings):
                    raise ValueError("%r is both a %s and a %s" % (k, label, "var" if vars and k in vars else
                                                                   "binding"))
                rid = _text(v, "%s[%r]" % (what, k), allow_empty=False)
                if not _KV_ID.match(v):
                    raise ValueError("%s[%r]: the %s %r must be 1-200 characters of [A-Za-z0-9._-]"
                                     % (what, k, idname, v))
                keep.extend((binding, rid))
                array[i].kind, array[i].binding, array[i].id = kind, binding, rid
                i += 1
        return array, i

    @staticmethod
    def _resolve_script(path_or_source: Any, source: Any, path: Any) -> Tuple[Optional[bytes], Optional[bytes]]:
        """(path bytes, None) or (None, source bytes), after the checks described in load()."""
        given = [x is not None for x in (path_or_source, source, path)]
        if sum(given) != 1:
            raise TypeError("load() takes exactly one of path_or_source, source= or path=")
        if source is not None:
            if isinstance(source, (bytes, bytearray, memoryview)):
                return None, bytes(source)
            if not isinstance(source, str):
                raise TypeError("source must be a str or bytes, not %s" % type(source).__name__)
            return None, _utf8(source, "source")
        if path_or_source is not None:
            if isinstance(path_or_source, (bytes, bytearray, memoryview)):
                return None, bytes(path_or_source)
            if isinstance(path_or_source, str):
                text = path_or_source
                if "\n" in text or "\0" in text or (not os.path.exists(text) and _looks_like_code(text)):
                    return None, _utf8(text, "source")
            path = path_or_source
        raw = _fs_path(path, "path")
        if not os.path.exists(raw):
            shown = os.fsdecode(raw)
            hint = "" if source is not None else " (to load script source, pass source=...)"
            raise FileNotFoundError(errno.ENOENT, "No such Worker script%s" % hint, shown)
        return raw, None

    @staticmethod
    def _vars_array(vars: Optional[Mapping[str, Any]], keep: List[Any]) -> Tuple[Any, int]:
        if vars is None:
            return None, 0
        if not isinstance(vars, Mapping):
            raise TypeError("vars must be a mapping of names to values, not %s" % type(vars).__name__)
        array = (_lib.ew_var_t * max(len(vars), 1))()
        for i, (k, v) in enumerate(vars.items()):
            name = _text(k, "vars key", allow_empty=False)
            if isinstance(v, str):
                value, is_json = _text(v, "vars[%r]" % k), 0
            else:
                value, is_json = _json_text(v, "vars[%r]" % k), 1
            keep.extend((name, value))
            array[i].name, array[i].value, array[i].is_json = name, value, is_json
        return array, len(vars)

    @staticmethod
    def _binding_entries(bindings: Optional[Mapping[str, Any]], vars: Optional[Mapping[str, Any]]) -> List[_Binding]:
        if bindings is None:
            return []
        if not isinstance(bindings, Mapping):
            raise TypeError("bindings must be a mapping of names to objects, not %s" % type(bindings).__name__)
        out = []
        for k, obj in bindings.items():
            _text(k, "bindings key", allow_empty=False)
            if vars is not None and k in vars:
                raise ValueError("%r is both a var and a binding" % k)
            methods = _binding_methods(k, obj)
            for m in methods:
                _text(m, "method name of binding %r" % k, allow_empty=False)
            out.append(_Binding(k, methods, callable(obj) and "call" in methods))
        return out

    # -- closing -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Destroys the Workers still loaded (their pending work is cancelled) and the C runtime.

        Idempotent. Raises RuntimeError from another thread or from inside a callback (while not closed).
        """
        if self._ptr is None:
            return
        ptr = self._check("close")
        for w in self._workers:
            w._forget()
        self._workers = []
        self._ptr = None
        with _CALLING:
            _lib.load().ew_runtime_destroy(ptr)

    def __enter__(self) -> "Runtime":
        self._check("Runtime.__enter__")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        ptr = getattr(self, "_ptr", None)
        if ptr is None:
            return
        self._ptr = None
        try:
            for w in self._workers:
                w._forget()
            if sys is None or sys.is_finalizing():
                return  # the process is exiting: leave the memory to it
            warnings.warn("edgeworker.Runtime was not closed; use `with Runtime() as rt:` or rt.close()",
                          ResourceWarning, stacklevel=2)
            if threading.get_ident() != self._thread:
                return  # cannot destroy a C runtime from a foreign thread: it leaks
            if _depth() > 0:
                _tls.pending_destroy = getattr(_tls, "pending_destroy", []) + [ptr]
                return
            _lib.load().ew_runtime_destroy(ptr)
        except Exception:
            pass

    def __reduce__(self) -> Any:
        raise TypeError("a Runtime cannot be pickled or copied")

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else "%d workers" % len(self._workers)
        return "<edgeworker.Runtime %s cpu_ms=%d memory_mb=%d>" % (state, self.cpu_ms, self.memory_mb)


def _binding_array(entries: List[_Binding], keys: List[int], keep: List[Any]) -> Any:
    """The ew_binding_t array for ew_worker_load; method-name arrays are added to `keep`."""
    array = (_lib.ew_binding_t * max(len(entries), 1))()
    for b, entry, key in zip(array, entries, keys):
        names = [m.encode("utf-8") for m in entry.methods]
        methods = (ctypes.c_char_p * len(names))(*names)
        keep.append(methods)
        b.name = entry.name.encode("utf-8")
        b.methods = ctypes.cast(methods, ctypes.POINTER(ctypes.c_char_p))
        b.nmethods = len(names)
        b.call = _BINDING_CALLBACK
        b.udata = key
        # A plain function, or a callable object, is itself callable from JS: NAME(...) runs `call`.
        b.call_method = b"call" if entry.callable else None
    return array


def _utf8(text: str, what: str) -> bytes:
    """UTF-8 of a str that C reads with its length (NUL allowed); lone surrogates are a ValueError."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("%s is not valid Unicode text (%s)" % (what, e.reason)) from None


# --------------------------------------------------------------------------------------------------------
# Worker

class Worker:
    """A loaded Worker script. Made by :meth:`Runtime.load`; usable as a context manager.

    Same thread rule as its Runtime. ``close()`` (idempotent) unloads it; closing the Runtime closes it too.
    """

    _runtime: Runtime
    _ptr: Optional[int]
    _keys: List[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Workers are made by Runtime.load()")

    def _setup(self, runtime: Runtime, ptr: Optional[int], name: str, keys: List[int],
               binding_names: List[str]) -> None:
        self._runtime = runtime
        self._ptr = ptr
        self._keys = keys
        self.name = name
        self.binding_names = binding_names

    def _forget(self) -> None:
        """The runtime is going away (and destroys the C worker with it)."""
        self._ptr = None
        for key in self._keys:
            _binding_registry.pop(key, None)
        self._keys = []

    def _check(self, what: str) -> int:
        self._runtime._check(what)
        if self._ptr is None:
            raise RuntimeError("%s: the Worker %r is closed" % (what, self.name))
        return self._ptr

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def fetch(self, url: str = "/", *, method: str = "GET", headers: Optional[HeadersLike] = None,
              body: Optional[BodyLike] = None, json: Any = None, raise_for_outcome: bool = False) -> Response:
        """Sends the Worker a fetch event and returns its complete Response.

        Args:
            url: absolute http(s) URL, or relative ("/api", "?q=1") to ``http://localhost/``. Non-ASCII
                characters are percent-encoded; spaces and control characters are a ValueError.
            method: HTTP method (an HTTP token).
            headers: a mapping, an iterable of (name, value) pairs (to repeat a name), or Headers. Values are
                str (sent as UTF-8) or bytes, without CR, LF or NUL.
            body: bytes-like, or str (sent as UTF-8, with content-type text/plain;charset=UTF-8 unless given).
            json: a JSON-compatible value sent as the body, with content-type application/json unless given.
                Not together with body. (None means "no JSON body"; send body="null" for a JSON null.)
            raise_for_outcome: raise the error instead of returning the library's error page.

        A Worker that throws does not raise: the result is the library's 500 page with ``outcome``
        ``EW_ERR_EXCEPTION`` (503 and EW_ERR_CPU_LIMIT / EW_ERR_MEMORY_LIMIT for limits), and ``error`` says
        why, as an HTTP client would see it. Pass ``raise_for_outcome=True`` or call
        ``Response.raise_for_outcome()`` to get ScriptError / LimitExceeded instead.
        """
        ptr = self._check("fetch")
        full_url = _absolute_url(url)
        method_b = _text(method, "method", allow_empty=False)
        if not _TOKEN.match(method):
            raise ValueError("method %r is not an HTTP token" % method)
        pairs = _header_pairs(headers)
        body_b = _request_body(body, json, pairs)
        if not isinstance(raise_for_outcome, bool):
            raise TypeError("raise_for_outcome must be a bool")
        keep: List[Any] = []  # what the ew_request_t points into, alive until the call returns
        req = _c_request(method_b, full_url, pairs, body_b, keep)

        lib = _lib.load()
        out = ctypes.POINTER(_lib.ew_response_t)()
        err = _lib.ew_error_t()
        with _CALLING:
            st = lib.ew_worker_fetch_sync(ptr, ctypes.byref(req), ctypes.byref(out), ctypes.byref(err))
            if not out:
                raise _error_from(err, st)
            try:
                response = _copy_response(out.contents, full_url, err if st != Status.EW_OK else None)
            finally:
                lib.ew_response_destroy(out)
        if raise_for_outcome:
            response.raise_for_outcome()
        return response

    def scheduled(self, cron: str, scheduled_time: Union[datetime.datetime, float, int, None] = None) -> None:
        """Sends the Worker a scheduled event (a cron trigger) and waits until it and its waitUntil work end.

        Args:
            cron: the trigger's expression, as the handler sees in ``event.cron``.
            scheduled_time: a datetime (naive ones are local time, as datetime.timestamp() takes them) or
                milliseconds since the Unix epoch; None (or 0) = now.

        Raises:
            ScriptError: the handler threw or its promise rejected (EW_ERR_EXCEPTION).
            LimitExceeded: it exceeded a limit.
            EdgeWorkerError: other failures, e.g. EW_ERR_NO_HANDLER when there is no scheduled listener.
        """
        ptr = self._check("scheduled")
        cron_b = _text(cron, "cron")
        ms = _scheduled_ms(scheduled_time)
        err = _lib.ew_error_t()
        with _CALLING:
            st = _lib.load().ew_worker_scheduled_sync(ptr, cron_b, ms, ctypes.byref(err))
        if st != Status.EW_OK:
            raise _error_from(err, st)

    def queue(self, queue: str, messages: Sequence[Any]) -> List[Optional[int]]:
        """Sends the Worker a queue event (its ``queue(batch, env, ctx)`` handler) with a batch of 1-100
        messages and waits until it and its waitUntil work end.

        Args:
            queue: the queue's name, as the handler sees in ``batch.queue``.
            messages: the bodies: a str arrives as text, bytes as an ArrayBuffer, anything else as the value
                ``json.loads(json.dumps(value))``. Ids are "0", "1", ...; attempts 1; timestamps now.

        Returns:
            one entry per message: None when the handler acknowledged it (the default), else the delay in
            seconds its retry asked for (0 when none was given).

        Raises:
            ScriptError: the handler threw or its promise rejected (then every message it did not ack() is
                retried, as on Cloudflare).
            EdgeWorkerError: other failures, e.g. EW_ERR_NO_HANDLER, or EW_ERR_INVALID_ARG for an empty batch.
        """
        ptr = self._check("queue")
        queue_b = _text(queue, "queue")
        items = list(messages)
        n = len(items)
        arr = (_lib.ew_queue_message_t * max(n, 1))()
        keep = []
        now = datetime.datetime.now().timestamp() * 1000.0
        for i, body in enumerate(items):
            if isinstance(body, str):
                kind, data = b"text", body.encode("utf-8")
            elif isinstance(body, (bytes, bytearray, memoryview)):
                kind, data = b"bytes", bytes(body)
            else:
                kind, data = b"json", _json.dumps(body).encode("utf-8")
            ident = str(i).encode("ascii")
            keep += [ident, data]
            arr[i] = _lib.ew_queue_message_t(ident, now, 1, kind, data, len(data))
        verdicts = (_lib.ew_queue_verdict_t * max(n, 1))()
        err = _lib.ew_error_t()
        with _CALLING:
            st = _lib.load().ew_worker_queue_sync(ptr, queue_b, arr, n, verdicts, ctypes.byref(err))
        if st != Status.EW_OK:
            raise _error_from(err, st)
        return [max(verdicts[i].delay_seconds, 0) if verdicts[i].retry else None for i in range(n)]

    def stats(self) -> WorkerStats:
        """The Worker's counters (ew_worker_get_stats)."""
        ptr = self._check("stats")
        s = _lib.ew_worker_stats_t()
        _lib.load().ew_worker_get_stats(ptr, ctypes.byref(s))
        return WorkerStats(s.requests, s.exceptions, s.limit_errors, s.isolates, s.isolates_created,
                           s.heap_bytes, s.pending, _lib.load().ew_worker_cpu_ms(ptr))

    def close(self) -> None:
        """Unloads the Worker. Idempotent; RuntimeError from another thread or inside a callback."""
        if self._ptr is None:
            return
        ptr = self._check("close")
        self._ptr = None
        try:
            with _CALLING:
                _lib.load().ew_worker_destroy(ptr)
        finally:
            for key in self._keys:
                _binding_registry.pop(key, None)
            self._keys = []
            if self in self._runtime._workers:
                self._runtime._workers.remove(self)

    def __enter__(self) -> "Worker":
        self._check("Worker.__enter__")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("a Worker cannot be pickled or copied")

    def __repr__(self) -> str:
        return "<edgeworker.Worker %r%s>" % (self.name, " closed" if self._ptr is None else "")


def _request_body(body: Any, json: Any, pairs: List[Tuple[bytes, bytes]]) -> Optional[bytes]:
    """The body bytes for fetch(body=, json=); appends the default content-type to `pairs` when missing."""
    has_type = any(n.lower() == b"content-type" for n, _ in pairs)
    if json is not None:
        if body is not None:
            raise TypeError("fetch() takes body or json, not both")
        if not has_type:
            pairs.append((b"content-type", b"application/json"))
        return _json_text(json, "json", ascii=False)
    if body is None:
        return None
    if isinstance(body, str):
        if not has_type:
            pairs.append((b"content-type", b"text/plain;charset=UTF-8"))
        return _utf8(body, "body")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return memoryview(body).tobytes()
    raise TypeError("body must be bytes, bytearray, memoryview or str, not %s (use json= for data)"
                    % type(body).__name__)


def _c_request(method: bytes, url: str, pairs: List[Tuple[bytes, bytes]], body: Optional[bytes],
               keep: List[Any]) -> _lib.ew_request_t:
    """An ew_request_t over Python buffers; the ctypes objects it points into are appended to `keep`."""
    req = _lib.ew_request_t()
    req.method = method
    req.url = url.encode("ascii")
    if pairs:
        harr = (_lib.ew_header_t * len(pairs))()
        for h, (n, v) in zip(harr, pairs):
            np_, vp = ctypes.c_char_p(n), ctypes.c_char_p(v)
            keep.extend((np_, vp))
            h.name, h.name_len = ctypes.cast(np_, ctypes.c_void_p), len(n)
            h.value, h.value_len = ctypes.cast(vp, ctypes.c_void_p), len(v)
        keep.append(harr)
        req.headers = harr
        req.nheaders = len(pairs)
    if body is not None:
        bp = ctypes.c_char_p(body)
        keep.append(bp)
        req.body = ctypes.cast(bp, ctypes.c_void_p)
        req.body_len = len(body)
    return req


def _copy_response(r: _lib.ew_response_t, url: str, err: Optional[_lib.ew_error_t]) -> Response:
    """A Python Response from the C one (which the caller then destroys)."""
    pairs = []
    for i in range(r.nheaders):
        h = r.headers[i]
        pairs.append((ctypes.string_at(h.name, h.name_len).decode("utf-8", "replace"),
                      ctypes.string_at(h.value, h.value_len).decode("utf-8", "replace")))
    body = ctypes.string_at(r.body, r.body_len) if r.body and r.body_len else b""
    error = _error_from(err, r.outcome) if err is not None and r.outcome != Status.EW_OK else None
    return Response(r.status, body, Headers(pairs), status_text=(r.status_text or b"").decode("utf-8", "replace"),
                    url=url, outcome=r.outcome, error=error, pass_through=bool(r.pass_through))


def _service_array(services: Optional[Mapping[str, Any]], keep: List[Any]) -> Tuple[Any, int]:
    """services= as an ew_service_t array (kept alive in `keep` until ew_worker_load has copied it)."""
    if services is None:
        return None, 0
    if not isinstance(services, Mapping):
        raise TypeError("services must be a mapping of binding name to a Worker name or (name, entrypoint)")
    arr = (_lib.ew_service_t * max(len(services), 1))()
    for i, (binding, target) in enumerate(services.items()):
        entrypoint = None
        if isinstance(target, tuple):
            if len(target) != 2:
                raise ValueError("services[%r]: expected (worker name, entrypoint)" % (binding,))
            target, entrypoint = target
        arr[i].binding = _text(binding, "services binding", allow_empty=False)
        arr[i].service = _text(target, "services[%r]" % (binding,), allow_empty=False)
        arr[i].entrypoint = _text(entrypoint, "services[%r] entrypoint" % (binding,), allow_empty=False) \
            if entrypoint is not None else None
    keep.append(arr)
    return arr, len(services)
