"""Issue 15, defect 1: a crash between a commit and its follow-ups (school register entry, R02 compliance timers,
R54 annual rosters) delays them, never loses them: they are driven from the committed streams and done after a
restart. The consistency checker rebuilds the projections from the streams and finds no difference."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from http_fixtures import pupil
from registry_driver import unique

from xueji_contracts.envelope import envelop
from xueji_registry.app import create_app
from xueji_registry.consistency import differences
from xueji_registry.enrollment import intake
from xueji_registry.settings import RegistrySettings

pytestmark = pytest.mark.integration
SCHOOL = "3506020001"
PUPIL = pupil(SCHOOL, "郑可欣", "2019-05-02", 1)


class Killed(Exception):
    """The process died here (kill -9): nothing after this point ran."""


async def test_r02_r54_follow_ups_lost_to_a_crash_after_the_commit_are_done_after_restart(
    service_process: Any, token: Any, wait_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = functools.partial(service_process, create_app, RegistrySettings, scheduler_enabled=False)
    clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
    async with registry() as first:
        created = await first.post("/v1/students", json=PUPIL, headers=clerk)
        assert created.status_code == 202, created.text
        student = created.json()["student_id"]
        service = first.app.state.registry
        runtime = service.runtime
        await wait_for(lambda: _outbox_empty(runtime))  # the dedupe check went out

        async def frozen(*_: Any, **__: Any) -> int:
            return 0

        async def killed(*_: Any, **__: Any) -> None:
            raise Killed

        runtime.relay.run_once = frozen  # the process is dead: its relay publishes nothing more
        monkeypatch.setattr(service, "follow_changes", killed)
        answer = unique({"student_id": student})
        verdict = envelop(answer, producer="dedupe", province="35", occurred_at=datetime.now(UTC),
                          correlation_id=uuid.UUID(student.removeprefix("stu_")))  # fmt: skip
        await intake.complete(service, [verdict])  # the follow-ups run behind the batch (followed.FollowUpsBehind)
        await service.behind.finished()  # and were cut off: the process died there
        assert await runtime.events.first(student) is not None, "the record was committed before the crash"
        found = await differences(runtime.events)
        assert {d.projection for d in found} == {"school_register", "compliance_timers"}, found
    monkeypatch.undo()

    async with registry() as restarted:
        events = restarted.app.state.runtime.events
        await wait_for(lambda: _consistent(events), timeout=45)
        county = {"Authorization": f"Bearer {token('county', SCHOOL[:6])}"}
        audit = await restarted.get("/v1/audit", headers=county)
        assert audit.status_code == 200 and audit.json()["records_audited"] == 1, audit.text  # R51 finds it again


async def _outbox_empty(runtime: Any) -> bool:
    return await runtime.events.outbox.find_one({}) is None


async def _consistent(events: Any) -> bool:
    return not await differences(events)


async def test_r54_a_move_whose_follow_ups_a_crash_cut_off_is_in_the_register_after_restart(
    service_process: Any, token: Any, wait_for: Any, dedupe_stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a later commit of a record (RegistryService.execute): a transfer within the province moves the record to
    another county's school; the crash comes after the commit, before the register and rosters follow."""
    from xueji_contracts.messages.transfer import CaseOutcome, TransferCaseChanged
    from xueji_registry.handlers.transfer_case import on_transfer_case

    registry = functools.partial(service_process, create_app, RegistrySettings, scheduler_enabled=False)
    joined = "3506030301"
    async with registry() as first:
        clerk = {"Authorization": f"Bearer {token('school', SCHOOL)}"}
        async with dedupe_stub():
            created = await first.post("/v1/students", json=PUPIL, headers=clerk)
            student = created.json()["student_id"]
            service = first.app.state.registry
            runtime = service.runtime
            await wait_for(lambda: service.load(student), timeout=45)
        await wait_for(lambda: _consistent(runtime.events), timeout=45)

        async def frozen(*_: Any, **__: Any) -> int:
            return 0

        async def killed(*_: Any, **__: Any) -> None:
            raise Killed

        runtime.relay.run_once = frozen
        monkeypatch.setattr(service, "follow_changes", killed)
        case = TransferCaseChanged(transfer_id="tr_crash", outcome=CaseOutcome.COMPLETED, student_id=student,
                                   sending_school=SCHOOL, receiving_school=joined, at=datetime.now(UTC))  # fmt: skip
        message = envelop(case, producer="transfer", province="35", occurred_at=datetime.now(UTC))
        with pytest.raises(Killed):
            await on_transfer_case(message, service)
        assert (await service.load(student)).school_code == joined, "the move was committed"
        assert any(d.projection == "school_register" for d in await differences(runtime.events))
    monkeypatch.undo()

    async with registry() as restarted:
        await wait_for(lambda: _consistent(restarted.app.state.runtime.events), timeout=45)
        audit = await restarted.get("/v1/audit", headers={"Authorization": f"Bearer {token('county', joined[:6])}"})
        assert audit.status_code == 200 and audit.json()["records_audited"] == 1, audit.text  # R51: where it is now
