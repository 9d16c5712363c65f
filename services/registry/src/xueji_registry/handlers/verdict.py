"""dedupe.verdict.v1 -> pending enrollments complete: created (unique), pending review (possible) or refused.

Consumed in batches (a freshman class's verdicts arrive together): creation verdicts complete in `intake`; the
national tier's answers (R03 G numbers, R10 changes) are recorded one at a time."""

from __future__ import annotations

import structlog

from xueji_contracts.envelope import Envelope, derive_id
from xueji_contracts.messages.dedupe import CheckPurpose, VerdictGiven
from xueji_kit.batches import batch_handler, parsed
from xueji_registry.enrollment import intake
from xueji_registry.national_checks import answer_for
from xueji_registry.numbers import formal
from xueji_registry.service import RegistryService

log = structlog.get_logger("registry.verdict")
decode_verdicts = parsed(Envelope[VerdictGiven].model_validate_json)


async def answer_verdicts(service: RegistryService, batch: list[Envelope[VerdictGiven]]) -> None:
    await intake.complete(service, [v for v in batch if v.payload.purpose is CheckPurpose.CREATION])
    for verdict in batch:
        if verdict.payload.purpose is not CheckPurpose.CREATION:
            await _record_national_checks(service, verdict)


on_verdicts = batch_handler(Envelope[VerdictGiven], "registry", answer_verdicts, name="on_verdicts")


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
