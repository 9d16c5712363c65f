"""One thread at a time builds Python AST objects (CPython 3.11 and 3.12, gh-106905).

CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state. When two threads build AST
objects at once (a garbage collection inside the constructor can hand the interpreter to the other thread), the
depth the first thread finds on return is not the one it left, and `ast.parse` raises
`SystemError: AST constructor recursion depth mismatch`. Tests meet this because several things parse source on
their own: hypothesis describes lambdas with `ast.parse` in a worker thread while the event loop formats a
traceback (3.11 locates the caret marks with `ast.parse`) or pytest rewrites a module's asserts.

`install()` wraps `compile` so that a call producing or consuming an AST holds one lock; compiling plain source to
code is left alone. The test run installs it from the root conftest; services never need it (they parse nothing).
"""

from __future__ import annotations

import ast
import builtins
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_ORIGINAL = builtins.compile


def _compile(source: Any, *args: Any, **kwargs: Any) -> Any:
    flags = kwargs.get("flags", args[2] if len(args) > 2 else 0)
    if isinstance(source, ast.AST) or flags & ast.PyCF_ONLY_AST:
        with _LOCK:
            return _ORIGINAL(source, *args, **kwargs)
    return _ORIGINAL(source, *args, **kwargs)


def install() -> None:
    """Guard AST construction for this process; a no-op where CPython keeps the depth per thread (3.13 on)."""
    if sys.version_info < (3, 13) and builtins.compile is _ORIGINAL:
        builtins.compile = _compile  # type: ignore[assignment]


def installed() -> bool:
    return builtins.compile is _compile
