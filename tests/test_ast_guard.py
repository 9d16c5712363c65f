"""The test run's guard against CPython's shared AST recursion depth (gh-106905, see tests/support/ast_guard.py):
three threads parse source while every garbage collection hands the interpreter to another thread, which without
the guard raises `SystemError: AST constructor recursion depth mismatch` within a second."""

from __future__ import annotations

import ast
import gc
import threading
import time

import ast_guard

SOURCE = (
    "x = "
    + "(" * 60
    + "1"
    + ")" * 60
    + "\n"
    + "\n".join(f"def f{i}(a, b):\n    return [a + b for _ in range(3)]" for i in range(50))
)


def test_threads_parsing_at_once_never_see_a_depth_mismatch() -> None:
    assert ast_guard.installed()
    errors: list[str] = []
    threshold = gc.get_threshold()

    def switch(phase: str, info: dict[str, int]) -> None:
        time.sleep(0)  # let another thread run in the middle of the AST constructor

    def parse() -> None:
        end = time.monotonic() + 2
        while time.monotonic() < end and not errors:
            try:
                ast.parse(SOURCE)
            except SystemError as error:
                errors.append(str(error))

    gc.set_threshold(50)
    gc.callbacks.append(switch)
    try:
        threads = [threading.Thread(target=parse) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.callbacks.remove(switch)
        gc.set_threshold(*threshold)
    assert errors == []
