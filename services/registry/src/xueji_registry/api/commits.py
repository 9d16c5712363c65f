"""A command's commit on a student's record (or a roster's stream) over HTTP: its id, derived from the request's
Idempotency-Key, and the record as that commit left it, which the route answers.

A retry with the key whose first answer was not kept (the process stopped after answering, the claim's write failed,
the key expired) runs the route again: its commit is found, not stored twice, and the retry answers from it what the
first answer said, whatever other commits were recorded on the record since."""

from __future__ import annotations

import uuid

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.envelope import derive_id
from xueji_kit.aggregates import Saved
from xueji_registry.domain import StudentStatus, from_documents, replay
from xueji_registry.domain.event_base import OperatorCommand
from xueji_registry.service import Executed, RegistryService


def commit_of(command: OperatorCommand, student_id: str, key: str | None) -> str:
    """A retry with the same Idempotency-Key (of the same operator) is the same commit; without a key every request
    is a new one."""
    if key is None:
        return f"http:{uuid.uuid4()}"
    return f"http:{derive_id('http', command.operator.sub, student_id, type(command).__name__, key)}"


def roster_commit(step: str, operator: OperatorClaims, stream: str, key: str) -> str:
    """A roster's step (its submission or review, R46, R54) retried with the same Idempotency-Key is the same commit
    on the roster's stream."""
    return f"{step}:{derive_id('http', operator.sub, stream, key)}"


async def as_committed(service: RegistryService, student_id: str, saved: Saved) -> StudentStatus:
    """The record as the commit `saved` left it: as this call decided it when it stored the commit (nothing read),
    else (a retry, the commit stored before) read back up to that commit, one `_id` lookup per commit."""
    if isinstance(saved, Executed) and saved.after is not None:
        return saved.after
    state = replay(from_documents(await service.events.events_until(student_id, saved.version)))
    assert state is not None  # the commit is stored: the record exists
    return state
