"""Exceptions and status codes of the edgeworker package.

Every failure reported by libedgeworker becomes an :class:`EdgeWorkerError` (or a subclass) carrying the C
status code, its name (``ew_status_name``) and the message, file, line and column of the ``ew_error_t``:

- :class:`ScriptError` — the script does not parse (``EW_ERR_SYNTAX``) or threw (``EW_ERR_EXCEPTION``);
- :class:`LimitExceeded` — the CPU or memory limit ended the work (``EW_ERR_CPU_LIMIT``, ``EW_ERR_MEMORY_LIMIT``);
- :class:`ConfigError` — the Worker's configuration is not acceptable (``EW_ERR_INVALID_ARG`` while loading,
  or a Wrangler configuration file that is invalid or does not parse, with its file, line and column).

``ProjectNotSupported`` (raised for project folders before projects could be loaded) is a deprecated alias of
:class:`ConfigError`; accessing it warns with DeprecationWarning.

Mistakes in the Python arguments themselves never reach C: they are ``TypeError`` or ``ValueError``. Using a
runtime from another thread, after close(), or from inside one of its callbacks is ``RuntimeError``.
"""
from __future__ import annotations

import enum
from typing import Any, List, Optional, Sequence, Tuple, Type


class Status(enum.IntEnum):
    """ew_status_t. ``Status(n).name`` is the C constant's name, e.g. ``"EW_ERR_CPU_LIMIT"``."""

    EW_OK = 0
    EW_ERR_INVALID_ARG = 1
    EW_ERR_NOMEM = 2
    EW_ERR_IO = 3
    EW_ERR_SYNTAX = 4
    EW_ERR_EXCEPTION = 5
    EW_ERR_CPU_LIMIT = 6
    EW_ERR_MEMORY_LIMIT = 7
    EW_ERR_NO_HANDLER = 8
    EW_ERR_BAD_RESPONSE = 9
    EW_ERR_CANCELLED = 10
    EW_ERR_STATE = 11
    EW_ERR_INTERNAL = 12

    @classmethod
    def _missing_(cls, value: object) -> Any:
        # A code from a newer library: keep the number, name it as ew_status_name() does.
        if isinstance(value, int) and not isinstance(value, bool):
            member = int.__new__(cls, value)
            member._name_ = "EW_ERR_UNKNOWN"
            member._value_ = value
            return member
        return None


class EdgeWorkerError(Exception):
    """A failure reported by libedgeworker.

    Attributes:
        code: the ew_status_t value (a :class:`Status`).
        code_name: its C name, e.g. ``"EW_ERR_SYNTAX"``.
        message: the library's sentence (may span several lines, e.g. with a code frame).
        file: the script file the error is about, ``""`` when none.
        line: 1-based line in ``file``, 0 when unknown.
        column: 1-based column in ``file``, 0 when unknown.
    """

    def __init__(self, code: int, message: str, file: str = "", line: int = 0, column: int = 0,
                 code_name: Optional[str] = None) -> None:
        self.code = Status(code)
        self.code_name = code_name if code_name is not None else self.code.name
        self.message = message or self.code_name
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self.message)

    def __str__(self) -> str:
        return "%s (%s)" % (self.message, self.code_name)

    def __repr__(self) -> str:
        where = ", file=%r, line=%d, column=%d" % (self.file, self.line, self.column) if self.file else ""
        return "%s(%s, %r%s)" % (type(self).__name__, self.code_name, self.message, where)

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), int(self.code), self.message, self.file, self.line, self.column,
                           self.code_name))


def _rebuild(cls: Type["EdgeWorkerError"], *args: Any) -> "EdgeWorkerError":
    err: EdgeWorkerError = EdgeWorkerError.__new__(cls)
    EdgeWorkerError.__init__(err, *args)
    return err


class ScriptError(EdgeWorkerError):
    """The Worker script does not parse (EW_ERR_SYNTAX) or threw an uncaught exception (EW_ERR_EXCEPTION).

    ``file``, ``line`` and ``column`` say where, when the library knows.
    """


class LimitExceeded(EdgeWorkerError):
    """The Worker exceeded its CPU time (EW_ERR_CPU_LIMIT) or memory (EW_ERR_MEMORY_LIMIT) limit."""


class ConfigError(EdgeWorkerError):
    """The Worker's configuration was rejected: EW_ERR_INVALID_ARG while loading, or a project's Wrangler
    configuration (wrangler.toml/.json/.jsonc, .dev.vars) that is invalid (EW_ERR_INVALID_ARG) or does not
    parse (EW_ERR_SYNTAX); ``file``, ``line`` and ``column`` then point into the configuration file."""


def __getattr__(name: str) -> Any:
    """``ProjectNotSupported``: a deprecated alias of ConfigError (project folders load now)."""
    if name == "ProjectNotSupported":
        return deprecated_project_not_supported(3)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def deprecated_project_not_supported(stacklevel: int) -> Type[ConfigError]:
    """Warns that ProjectNotSupported is deprecated and returns what it now means: ConfigError."""
    import warnings
    warnings.warn("edgeworker.ProjectNotSupported is deprecated: Runtime.load() loads project folders now; "
                  "catch ConfigError instead", DeprecationWarning, stacklevel=stacklevel)
    return ConfigError


class LibraryNotFoundError(OSError):
    """libedgeworker.so could not be loaded. ``tried`` lists (place, why it failed) for every place tried."""

    def __init__(self, tried: Sequence[Tuple[str, str]], explicit: bool = False) -> None:
        self.tried: List[Tuple[str, str]] = list(tried)
        lines = ["libedgeworker.so was not found. Places tried:"]
        lines += ["  - %s -> %s" % (place, why) for place, why in self.tried]
        if explicit:
            lines.append("EDGEWORKER_LIB is set, so no other place was searched; point it at libedgeworker.so "
                         "(or its folder), or unset it to search the build tree and the system.")
        else:
            lines.append("Build the library (ninja -C build), or set EDGEWORKER_LIB to the path of "
                         "libedgeworker.so.")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> Any:
        return (type(self), (self.tried,))


def error_class(code: int) -> Type[EdgeWorkerError]:
    """The EdgeWorkerError subclass for a status code."""
    if code in (Status.EW_ERR_SYNTAX, Status.EW_ERR_EXCEPTION):
        return ScriptError
    if code in (Status.EW_ERR_CPU_LIMIT, Status.EW_ERR_MEMORY_LIMIT):
        return LimitExceeded
    return EdgeWorkerError
