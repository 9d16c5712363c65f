"""The registry's writes by `_id` on the real store, each by two first writers at once: the local store (FerretDB
1.x) refuses the second insert of a new `_id` with a duplicate key, and neither writer may fail on it (two replicas,
or a redelivery beside the first delivery; the kit's `upsert_by_id` makes the loser write over the winner)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from province_rules import handle
from record_fixtures import T0, enrollment

from xueji_contracts.messages.exceptions import RuleExceptionRecorded
from xueji_kit.event_store import EventStore
from xueji_registry.domain import StudentStatus
from xueji_registry.domain.events import to_documents
from xueji_registry.rule_exceptions import COLLECTION, keep
from xueji_registry.school_register import SchoolRegister

pytestmark = pytest.mark.integration
STUDENTS = 50  # two writers per new `_id`: on the local store some of 50 first inserts collide every time


def enrolled(n: int) -> tuple[StudentStatus, list[dict]]:
    state, events = handle(enrollment().model_copy(update={"student_id": f"stu_{n:03d}"}), None, T0)
    assert state is not None
    return state, to_documents(events)


async def test_r54_two_first_entries_of_a_student_in_the_school_register_both_succeed(database) -> None:
    register = SchoolRegister(database, EventStore(database))
    states = [enrolled(n)[0] for n in range(STUDENTS)]
    await asyncio.gather(*(register.record(s) for s in states for _ in range(2)))  # a duplicate key raises here
    listed = [doc async for doc in register.collection.find({})]
    assert sorted(d["_id"] for d in listed) == sorted(s.student_id for s in states)
    assert all(d["schools"] == [d["school_code"]] for d in listed)


async def test_r54_two_replicas_rebuilding_an_empty_school_register_at_once_both_succeed(database) -> None:
    events = EventStore(database)
    for n in range(STUDENTS):
        docs = enrolled(n)[1]
        await events.append(commit_id=f"c{n}", aggregate_id=f"stu_{n:03d}", version=1, events=docs, outgoing=[])
    replicas = [SchoolRegister(database, events), SchoolRegister(database, events)]
    for _ in range(10):  # both replicas find the register empty in most rounds, and then collide on some students
        await replicas[0].collection.drop()
        rebuilt = await asyncio.gather(*(r.rebuild_if_empty() for r in replicas))  # a duplicate key raises here
        assert STUDENTS in rebuilt and set(rebuilt) <= {0, STUDENTS}
        assert await replicas[0].collection.count_documents({}) == STUDENTS


def granted(n: int) -> RuleExceptionRecorded:
    """The county's R27 exception for transfer n (as the transfer service publishes it)."""
    return RuleExceptionRecorded(
        exception_id=f"exc-{n}", rule="R27", clause="graduation_grade_last_semester", authority="county",
        jurisdiction="350602", operator="county-7", reason="随父母工作调动", evidence=("doc://r27",),
        occurred_at=datetime.now(UTC), subject_kind="transfer", subject_id=f"tr-{n}", school_code="3506020302",
    )  # fmt: skip


async def test_r51_two_first_keepings_of_an_exception_both_succeed(database) -> None:
    exceptions = [granted(n) for n in range(STUDENTS)]
    await asyncio.gather(*(keep(database, e) for e in exceptions for _ in range(2)))  # a duplicate key raises here
    kept = [doc async for doc in database[COLLECTION].find({})]
    assert sorted(d["_id"] for d in kept) == sorted(e.exception_id for e in exceptions)
    assert all(d["scopes"] == ["350602", "3506020302"] for d in kept)
