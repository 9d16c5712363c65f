"""registry.enrollment.v1 -> R07: the next supplementary number of the record's series, gapless, reused on redelivery.

Consumed in batches (records released by review, arrivals from other provinces, a new segment's freshmen: one request
each): each request in turn, in the order of its partition, so a school's numbers are still drawn one after another
(kit batches: a malformed request is dead-lettered alone)."""

from __future__ import annotations

from typing import Any

import structlog
from faststream import Context

from xueji_contracts.envelope import Envelope, derive_id
from xueji_kit.batches import handle_batch, parsed
from xueji_registry.domain import AssignSupplementaryNumber, RegistryError
from xueji_registry.domain.supplementary import numbering_of
from xueji_registry.numbers.supplementary import SupplementaryRequested, school_operator, series_scope
from xueji_registry.service import RegistryService

log = structlog.get_logger("registry.numbers")

decode_requests = parsed(Envelope[SupplementaryRequested].model_validate_json)


async def on_supplementary_requests(
    requests: list[Envelope[SupplementaryRequested]],
    service: RegistryService = Context("registry"),
    broker: Any = Context("broker"),
    message: Any = Context("message"),
) -> None:
    async def number(batch: list[Envelope[SupplementaryRequested]]) -> None:
        for request in batch:  # in order: a batch handled again (a failure, a redelivery) skips those numbered
            await _number(service, request)

    await handle_batch(broker, message, requests, number)


async def _number(service: RegistryService, message: Envelope[SupplementaryRequested]) -> None:
    asked = message.payload
    state = await service.load(asked.student_id)
    if state is None or state.segment in state.supplementary_numbers:
        return  # already numbered: a redelivery
    try:
        scope = series_scope(state.segment, asked.school_year, asked.school_code, service.rules.layout)
    except RegistryError as exc:  # no number in the province's layout: none taken
        log.error("supplementary_number_refused", student_id=asked.student_id, rule=exc.rule, reason=exc.reason)
        return
    # The series' sequence (schools of one series share it): a unique insert per number, so no gaps.
    sequence = await service.sequences.allocate(scope, asked.student_id)
    command = AssignSupplementaryNumber(
        operator=school_operator(asked.school_code),
        reason="R07 provincial supplementary number at first enrollment",
        school_year=asked.school_year,
        numbering=numbering_of(asked.school_code),
        sequence=sequence,
    )
    commit_id = str(derive_id(message.message_id, "supplementary"))
    await service.execute(asked.student_id, commit_id, command, correlation_id=message.correlation_id)
