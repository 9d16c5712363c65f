"""R03: the spring G-number batch. A bureau starts it for its jurisdiction; every L student with an ID number is
asked of dedupe, which asks the national tier (duplicate check across provinces, comparison with the population
register); each answer issues the G number ("G" + ID number) or holds the student with the reason. The batch's
own stream keeps who was asked and every outcome, so a bureau can read the batch's report at any time, and
starting it again for the same jurisdiction and school year asks nobody twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe import CheckPurpose, CheckRequested, RegisterOutcome, VerdictGiven, VerdictKind
from xueji_contracts.topics import DEDUPE_CHECK
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.store import Document, insert_once
from xueji_registry.domain import IssueFormalNumber, RegistryError, StudentStatus
from xueji_registry.domain.event_base import CheckOutcome, to_document
from xueji_registry.domain.formal_number_batch import (
    FormalNumberHeld,
    FormalNumberIssued,
    FormalNumbersAsked,
    eligible,
    from_documents,
    replay,
)
from xueji_registry.domain.numbers import formal_number
from xueji_registry.service import RegistryService

NAMESPACE = uuid.UUID("9b6f3c1e-2d4a-4f8e-a1c7-5e3b9d0f6a21")
CHUNK = 500


def _stream(batch_id: str) -> str:
    return f"gbatch:{batch_id}"


def _question(state: StudentStatus) -> CheckRequested:
    assert state.identity.id_number is not None
    return CheckRequested(
        **state.person_facts(),
        status_number=formal_number(state.identity.id_number),
        purpose=CheckPurpose.G_NUMBER_ISSUANCE,
    )


async def start(service: RegistryService, operator: OperatorClaims, code: str, school_year: int) -> dict[str, Any]:
    batch_id = f"{school_year}-{code}"
    students = [s for s in await service.records_under(code) if eligible(s)]
    requests = service.runtime.db["gbatch_requests"]
    now = datetime.now(UTC)
    for start_at in range(0, len(students), CHUNK):
        chunk = students[start_at : start_at + CHUNK]
        outgoing = []
        for state in chunk:
            correlation = uuid.uuid5(NAMESPACE, f"{batch_id}/{state.student_id}")
            await insert_once(requests, {"_id": str(correlation), "batch_id": batch_id, "student_id": state.student_id})
            message = envelop(_question(state), producer="registry", province=service.province,
                              occurred_at=now, correlation_id=correlation)  # fmt: skip
            outgoing.append(Outgoing(DEDUPE_CHECK.name, str(correlation), message))
        asked = to_document(FormalNumbersAsked(students=tuple(s.student_id for s in chunk), by=operator.sub, at=now))
        commit = f"asked:{chunk[0].student_id}:{len(chunk)}"

        def decide(_: list[Document], e: Document = asked, o: list[Outgoing] = outgoing) -> Decision:
            return Decision([e], o)

        await decide_and_save(service.events, _stream(batch_id), commit, decide)
    service.runtime.relay.nudge()
    return await report(service, batch_id)


async def report(service: RegistryService, batch_id: str) -> dict[str, Any]:
    events = from_documents(await service.events.events_of(_stream(batch_id)))
    return replay(events).report(batch_id)


async def on_answer(service: RegistryService, correlation: uuid.UUID, verdict: VerdictGiven) -> bool:
    """The national answer for a batch question: issue or hold. False when the answer is not a batch's."""
    asked: Document | None = await service.runtime.db["gbatch_requests"].find_one({"_id": str(correlation)})
    if asked is None:
        return False
    register = verdict.population_register
    batch = OperatorClaims(sub=f"g-batch-{asked['batch_id']}", role=Role.PROVINCE, code=f"{service.province}0000")
    command = IssueFormalNumber(
        operator=batch,
        reason=f"spring G-number batch {asked['batch_id']}: {verdict.reason_en}",
        duplicate_check=CheckOutcome.PASSED if verdict.verdict is VerdictKind.UNIQUE else CheckOutcome.FAILED,
        identity_comparison=CheckOutcome.PASSED if register is RegisterOutcome.MATCH else CheckOutcome.FAILED,
    )
    outcome: FormalNumberIssued | FormalNumberHeld = FormalNumberIssued(student_id=asked["student_id"])
    try:
        commit = f"gbatch:{correlation}"
        await service.execute(asked["student_id"], commit, command, correlation_id=correlation)
    except RegistryError as exc:
        outcome = FormalNumberHeld(student_id=asked["student_id"], reason=f"{exc.rule}: {exc.reason}")
    await decide_and_save(
        service.events,
        _stream(asked["batch_id"]),
        f"outcome:{asked['student_id']}",
        lambda _: Decision([to_document(outcome)]),
    )
    return True
