"""R34, R21: a party here deciding another province's stage. The decision goes to the owning province, which alone
records it; until that province's answer comes back the stage still looks open here, so a double click or a second
operator must hear that the stage was already decided (409), not a second 202 whose decision the owner then drops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from xueji_contracts.auth import OperatorClaims, Role
from xueji_contracts.envelope import envelop
from xueji_contracts.messages import transfer as c
from xueji_kit.store import ConcurrencyConflict
from xueji_transfer.domain import DecideStage, StageNotOpen
from xueji_transfer.mirror import Mirror
from xueji_transfer.service import CaseRefused

NOW = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)
HUNAN_SCHOOL = "4301020001"
CLERK = OperatorClaims(sub="clerk-1", role=Role.SCHOOL, code=HUNAN_SCHOOL)
OTHER_CLERK = OperatorClaims(sub="clerk-2", role=Role.SCHOOL, code=HUNAN_SCHOOL)


class Events:
    """Commits in memory, a concurrent writer of the same version losing as on the store."""

    def __init__(self) -> None:
        self.streams: dict[str, list[dict[str, Any]]] = {}

    async def load(self, aggregate_id: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return list(self.streams.get(aggregate_id, []))

    async def append(self, *, commit_id: str, aggregate_id: str, version: int, events: list[Any], **_: Any) -> bool:
        stream = self.streams.setdefault(aggregate_id, [])
        if any(commit["commit_id"] == commit_id for commit in stream):
            return False
        if version != len(stream) + 1:
            raise ConcurrencyConflict(aggregate_id)
        stream.append({"commit_id": commit_id, "version": version, "events": events})
        return True


class Filings:
    async def file(self, *_: Any, **__: Any) -> None:
        return None


def _mirror() -> Mirror:
    runtime = SimpleNamespace(events=Events(), settings=SimpleNamespace(province="43"),
                              relay=SimpleNamespace(nudge=lambda: None))  # fmt: skip
    return Mirror(runtime, Filings())  # type: ignore[arg-type]


def _opened(tid: str, at: datetime) -> Any:
    deadline = c.StageDeadline(opened_at=at, due_at=at + timedelta(days=14), warn_at=at + timedelta(days=12),
                               calendar_version="test", provisional=False)  # fmt: skip
    payload = c.StageOpened(transfer_id=tid, stage=c.Stage.SENDING_SCHOOL, step=5, jurisdiction=HUNAN_SCHOOL,
                            deadline=deadline, student_id="stu_1", sending_school=HUNAN_SCHOOL,
                            receiving_school="3506020001")  # fmt: skip
    return envelop(payload, producer="transfer", province="35", occurred_at=at)


def _decide(operator: OperatorClaims, decision: str = "approve", **more: Any) -> DecideStage:
    return DecideStage(operator=operator, stage=c.Stage.SENDING_SCHOOL, decision=decision, **more)


async def test_r34_a_second_decision_on_a_forwarded_stage_is_a_conflict_not_a_second_forward():
    mirror = _mirror()
    await mirror.record(_opened("tr_1", NOW))
    assert await mirror.forward_decision("tr_1", _decide(CLERK), "commit-1", NOW) == "35"
    with pytest.raises(CaseRefused) as refused:
        await mirror.forward_decision("tr_1", _decide(OTHER_CLERK, "reject", reason="材料不实", reason_code="materials_invalid"),
                                      "commit-2", NOW)  # fmt: skip
    assert isinstance(refused.value.error, StageNotOpen)
    assert "clerk-1" in refused.value.error.reason and "approve" in refused.value.error.reason
    forwarded = [e for e in await mirror.entries("tr_1") if e["type"] == "decision_forwarded"]
    assert len(forwarded) == 1
    # A retry of the first request (the same commit) is no second decision either: it is the first one, unchanged.
    assert await mirror.forward_decision("tr_1", _decide(CLERK), "commit-1", NOW) == "35"


async def test_r34_two_decisions_at_once_forward_one():
    mirror = _mirror()
    await mirror.record(_opened("tr_2", NOW))
    outcomes = await asyncio.gather(
        mirror.forward_decision("tr_2", _decide(CLERK), "commit-a", NOW),
        mirror.forward_decision("tr_2", _decide(OTHER_CLERK, "return_for_materials", reason="缺材料"), "commit-b", NOW),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["CaseRefused", "str"]
    assert len([e for e in await mirror.entries("tr_2") if e["type"] == "decision_forwarded"]) == 1


async def test_r34_a_stage_the_owner_opened_again_takes_a_new_decision():
    mirror = _mirror()
    await mirror.record(_opened("tr_3", NOW))
    await mirror.forward_decision("tr_3", _decide(CLERK, "return_for_materials", reason="缺户口簿"), "commit-1", NOW)
    await mirror.record(_opened("tr_3", NOW + timedelta(days=2)))  # returned, then the next round opened
    assert await mirror.forward_decision("tr_3", _decide(CLERK), "commit-2", NOW + timedelta(days=3)) == "35"


@pytest.mark.parametrize("form", ["paper_approval_form", "signed_registration_form"])
async def test_r24_a_return_asking_for_a_paper_approval_form_is_refused_here_and_the_stage_stays_open(form):
    """Refused here exactly as the owner refuses it (domain/evidence.py): forwarded, the owner would drop it while
    this side took the stage as decided."""
    mirror = _mirror()
    await mirror.record(_opened("tr_4", NOW))
    paper = _decide(CLERK, "return_for_materials", reason="要盖章的审批表", requested=(form,))
    with pytest.raises(CaseRefused) as refused:
        await mirror.forward_decision("tr_4", paper, "commit-1", NOW)
    assert (refused.value.error.rule, refused.value.error.field) == ("R24", "requested")
    assert await mirror.forward_decision("tr_4", _decide(CLERK), "commit-2", NOW) == "35"  # corrected: decided


async def test_r34_a_forwarded_decision_retried_after_the_owner_closed_the_stage_answers_as_it_did_first():
    """The first answer lost (the key's claim not kept), the request is retried on another replica after the owner's
    answer closed the stage here: it answers as the first did (forwarded to the owner), and forwards nothing again."""
    mirror = _mirror()
    await mirror.record(_opened("tr_5", NOW))
    assert await mirror.forward_decision("tr_5", _decide(CLERK), "commit-1", NOW) == "35"
    closed = c.StageClosed(transfer_id="tr_5", stage=c.Stage.SENDING_SCHOOL, jurisdiction=HUNAN_SCHOOL,
                           decision=c.Decision.APPROVE, decided_by="clerk-1", decided_at=NOW)  # fmt: skip
    await mirror.record(envelop(closed, producer="transfer", province="35", occurred_at=NOW + timedelta(minutes=1)))
    replica = Mirror(mirror.runtime, Filings())  # type: ignore[arg-type]
    assert await replica.forward_decision("tr_5", _decide(CLERK), "commit-1", NOW + timedelta(hours=1)) == "35"
    assert len([e for e in await replica.entries("tr_5") if e["type"] == "decision_forwarded"]) == 1
    with pytest.raises(CaseRefused):  # another request on the closed stage is still refused
        await replica.forward_decision("tr_5", _decide(OTHER_CLERK), "commit-2", NOW + timedelta(hours=1))


async def test_r21_r28_the_sending_school_here_approves_another_province_s_case_only_for_its_own_student():
    """The owning province has no record of the student; the record here does. Moved to another school here by a case
    that completed meanwhile, or suspended, the student is not this school's to let go: refused here naming the rule
    and the field, nothing forwarded, and the stage stays open for a refusal."""
    from xueji_transfer.domain.record import StudentRecord

    mirror = _mirror()
    await mirror.record(_opened("tr_1", NOW))

    def record(**changes: Any) -> StudentRecord:
        fields = {"student_id": "stu_1", "school_code": HUNAN_SCHOOL, "county_code": "430102", "state": "enrolled",
                  "grade": 4, "school_year": 2024}  # fmt: skip
        return StudentRecord.model_validate(fields | changes)

    for moved, rule, field in ((record(school_code="4301020002"), "R21", "sending"),
                               (record(state="suspended"), "R28", "status")):  # fmt: skip
        with pytest.raises(CaseRefused) as refused:
            await mirror.forward_decision("tr_1", _decide(CLERK, record=moved), "commit-1", NOW)
        assert (refused.value.error.rule, refused.value.error.field) == (rule, field)
    assert await mirror.forward_decision("tr_1", _decide(CLERK, record=record()), "commit-2", NOW) == "35"
