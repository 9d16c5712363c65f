"""dedupe.verdict.v1 -> pending enrollments complete: created (unique), pending review (possible) or refused.

Consumed in batches (a freshman class's verdicts arrive together): creation verdicts complete in `intake`; the
national tier's answers (R03 G numbers, R10 changes) are recorded one at a time."""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial
from typing import Any

import structlog
from faststream import Context

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.dedupe import CheckPurpose, VerdictGiven
from xueji_kit.batches import handle_batch, parsed
from xueji_kit.commits import commit_after
from xueji_registry.enrollment import intake
from xueji_registry.national_checks import answer_for
from xueji_registry.numbers import formal
from xueji_registry.service import RegistryService

log = structlog.get_logger("registry.verdict")
decode_verdicts = parsed(Envelope[VerdictGiven].model_validate_json)


async def answer_verdicts(
    service: RegistryService, batch: list[Envelope[VerdictGiven]], committed: list[Awaitable[None]] | None = None
) -> None:
    await intake.complete(service, [v for v in batch if v.payload.purpose is CheckPurpose.CREATION], committed)
    for verdict in batch:
        if verdict.payload.purpose is not CheckPurpose.CREATION:
            await _record_national_checks(service, verdict)


async def on_verdicts(
    verdicts: list[Envelope[VerdictGiven]],
    service: RegistryService = Context("registry"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    """A batch of verdicts; the new records are stored while the next batch is decided, and the batch's offsets are
    committed once they are (a failure rewinds the consumer: the batch is consumed again)."""
    committed: list[Awaitable[None]] = []
    await handle_batch(broker, message, verdicts, partial(answer_verdicts, service, committed=committed))
    await commit_after(message, committed)


async def _record_national_checks(service: RegistryService, message: Envelope[VerdictGiven]) -> None:
    """R03 batch, R10 / R04: the answer for the spring G-number batch, or on a change waiting for it; a change no
    longer waiting (already answered) is left."""
    if await formal.on_answer(service, message.correlation_id, message.payload):
        return
    state = await service.load(message.payload.student_id)
    command = None if state is None else answer_for(state, message.correlation_id, message.payload)
    if command is None:
        log.info("national_answer_without_waiting_change", student_id=message.payload.student_id)
        return
    commit_id = str(derive_id(message.message_id, "national-checks"))
    await service.execute(message.payload.student_id, commit_id, command, correlation_id=message.correlation_id)
