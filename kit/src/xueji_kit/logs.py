"""Structured logging: JSON lines with the correlation id, and ID numbers masked before output (R52)."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from xueji_contracts.identity import mask_in_text


def mask_id_numbers(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Mask every resident ID number in every string value, wherever a caller put it."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = mask_in_text(value)
        elif isinstance(value, dict | list | tuple):
            event[key] = mask_in_text(repr(value))
    return event


class _StdoutLogger:
    """Writes each line to whatever sys.stdout is now, so a swapped stream (test capture) never goes stale."""

    def __init__(self, *_: Any) -> None:
        pass

    def msg(self, message: str) -> None:
        print(message, file=sys.stdout, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def configure_logging(service: str, fmt: str = "json", level: str = "INFO", stream: TextIO | None = None) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_id_numbers,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stream) if stream else _StdoutLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries log through the standard library; keep them quiet and on the same stream. A library that called
    # basicConfig on import (hanzipy: stderr, DEBUG) left a handler of its own on the root, which would take their
    # lines to stderr in its format instead (and basicConfig below would add nothing): removed. Handlers of other
    # kinds (a test runner's capture) stay.
    root = logging.getLogger()
    for handler in [h for h in root.handlers if type(h) is logging.StreamHandler and h.stream in _STDERR]:
        root.removeHandler(handler)
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    # basicConfig does nothing once the root has a handler, and a library may have configured it on import
    # (hanzipy sets DEBUG): the level is set all the same, or every store command and Kafka request is logged.
    logging.getLogger().setLevel(logging.WARNING)


_STDERR = (sys.stderr, sys.__stderr__)


def bind_correlation(correlation_id: str) -> None:
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
