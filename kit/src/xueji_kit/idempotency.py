"""The `Idempotency-Key` header every creating route takes: a client that retries after a lost answer sends the
same key and gets the first answer, never a second effect."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, HTTPException

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="repeat a request safely: a retry with the same key gets the first answer",
    ),
]


def key_reused() -> HTTPException:
    """The key came with a different request before: refused rather than answered with another request's outcome."""
    problem = {"field": "Idempotency-Key", "reason": "already used for a different request", "in": "header"}
    return HTTPException(422, [problem])
