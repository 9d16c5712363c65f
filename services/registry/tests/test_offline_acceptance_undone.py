"""R23: a transfer the receiving school accepted offline and the system path then rejected: the system's record
prevails, so the registry moves the student back to the sending school (the student stayed at the new school)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
from xueji_registry.domain import RecordTransferIn
from xueji_registry.handlers.transfer_case import on_transfer_case

SENDING, RECEIVING = "3506020001", "3506030001"


class Registry:
    province = "35"

    def __init__(self, school: str | None) -> None:
        self.school, self.executed = school, []

    async def load(self, student_id: str) -> Any:
        return None if self.school is None else SimpleNamespace(school_code=self.school)

    async def execute(self, student_id: str, commit_id: str, command: Any, **_: Any) -> None:
        self.executed.append(command)


def _rejected(offline_accepted: bool, sending: str = SENDING) -> Any:
    case = TransferCaseChanged(
        transfer_id="t-1", outcome=CaseOutcome.REJECTED, student_id="stu-1", sending_school=sending,
        receiving_school=RECEIVING, reason="status_ineligible", at=datetime.now(UTC), offline_accepted=offline_accepted,
    )  # fmt: skip
    return envelop(case, producer="transfer", province="35", occurred_at=datetime.now(UTC))


async def test_r23_a_rejected_case_accepted_offline_moves_the_student_back_to_the_sending_school():
    registry = Registry(school=RECEIVING)
    await on_transfer_case(_rejected(offline_accepted=True), registry)  # type: ignore[arg-type]
    (back,) = registry.executed
    assert isinstance(back, RecordTransferIn) and back.receiving_school == SENDING
    assert "R23" in back.reason


async def test_a_rejected_case_without_an_offline_acceptance_or_already_back_moves_nobody():
    for registry, message in [
        (Registry(school=RECEIVING), _rejected(offline_accepted=False)),
        (Registry(school=SENDING), _rejected(offline_accepted=True)),  # nothing was moved here (or already back)
        (Registry(school=RECEIVING), _rejected(offline_accepted=True, sending="4301020001")),  # between provinces
    ]:
        await on_transfer_case(message, registry)  # type: ignore[arg-type]
        assert registry.executed == []


def test_r23_the_record_moved_in_offline_goes_back_by_the_same_command_the_registry_sends():
    from datetime import timedelta

    from province_rules import handle
    from record_fixtures import COUNTY_CLERK, SCHOOL, T0, enrollment

    state, _ = handle(enrollment(), None, T0)
    moved = RecordTransferIn(operator=COUNTY_CLERK, reason="offline acceptance", transfer_id="t-1",
                             receiving_school="3506020002")  # fmt: skip
    state, _ = handle(moved, state, T0 + timedelta(days=30))
    assert state is not None and state.school_code == "3506020002"
    back = RecordTransferIn(operator=COUNTY_CLERK, reason="rejected (R23)", transfer_id="t-1:offline-undone",
                            receiving_school=SCHOOL)  # fmt: skip
    state, _ = handle(back, state, T0 + timedelta(days=40))
    assert state is not None and state.school_code == SCHOOL and state.state.value == "enrolled"
