"""Compliance deadlines (R02, R44, R45, R54) on the shared timer mechanism: each opened deadline is announced in
the commit that opened it, armed as two timers (due soon, overdue) in the kit's per-minute timer store, and
cancelled when met; the scheduler publishes due-soon and overdue (flagged to the county bureau) on
registry.compliance.v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from xueji_contracts.envelope import envelop
from xueji_contracts.messages.registry import ComplianceDeadlineChanged, ComplianceKind, ComplianceState
from xueji_contracts.topics import REGISTRY_COMPLIANCE
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.store import Document
from xueji_kit.timers import Timer, TimerScheduler, TimerStore, plain_id, tick_time
from xueji_registry.domain import StudentStatus
from xueji_registry.domain.compliance import Deadline, DeadlineKind, changes
from xueji_registry.domain.deadline_flags import Phase, decide_flag, from_documents
from xueji_registry.domain.deadline_subjects import still_due_after
from xueji_registry.domain.event_base import to_document

# The scheduler's name keys its progress (the last minute it finished). A class's timers are filed as packs, which an
# earlier version's scheduler (named "registry-compliance") does not read: after a rollback it would finish their
# minutes without firing them. Under a name of its own, this one still reads those minutes when it runs again; its
# first start resumes from where the earlier one was.
SCHEDULER, FORMERLY = "registry-compliance.packs", "registry-compliance"
KINDS = {
    DeadlineKind.STATUS_FILE: ComplianceKind.STATUS_FILE,
    DeadlineKind.DEATH_CANCELLATION: ComplianceKind.DEATH_CANCELLATION,
    DeadlineKind.ABSENCE_REPORT: ComplianceKind.ABSENCE_REPORT,
    DeadlineKind.ANNUAL_ROSTER: ComplianceKind.ANNUAL_ROSTER,
    DeadlineKind.GRADUATION_ROSTER: ComplianceKind.GRADUATION_ROSTER,
    DeadlineKind.FILE_HANDOVER: ComplianceKind.FILE_HANDOVER,
}
PHASES = {"due_soon": ComplianceState.DUE_SOON, "overdue": ComplianceState.OVERDUE}
log = structlog.get_logger("registry.compliance")


def _message(province: str, deadline: Deadline, state: ComplianceState, now: datetime) -> Outgoing:
    payload = ComplianceDeadlineChanged(
        deadline_id=deadline.deadline_id,
        kind=KINDS[deadline.kind],
        state=state,
        rule=deadline.rule,
        jurisdiction=deadline.jurisdiction,
        subject_id=deadline.subject_id,
        due_at=deadline.due_at,
        flagged_to=deadline.bureau if state is ComplianceState.OVERDUE else None,
        receiving_county=deadline.receiving_county,
    )
    message = envelop(payload, producer="registry", province=province, occurred_at=now)
    return Outgoing(REGISTRY_COMPLIANCE.name, deadline.deadline_id, message)


def _timers(deadline: Deadline) -> list[Timer]:
    """A deadline's two timers: the warning before it and the breach at it."""
    data = {
        "kind": deadline.kind.value,
        "school_code": deadline.school_code,
        "due_on": str(deadline.due_on),
        "occurrence": deadline.occurrence,
        "receiving_county": deadline.receiving_county,
    }
    return [
        Timer(f"{deadline.deadline_id}:{phase}", f"compliance_{phase}", deadline.subject_id, at, data)
        for phase, at in (("due_soon", deadline.warn_at), ("overdue", deadline.due_at))
    ]


def _deadline_of(timer: Timer) -> Deadline:
    data = timer.data
    due = datetime.fromisoformat(data["due_on"]).date()
    kind = DeadlineKind(data["kind"])
    occurrence, county = str(data.get("occurrence", "")), data.get("receiving_county")
    return Deadline(kind, timer.aggregate_id, data["school_code"], due, occurrence, county)


class ComplianceDeadlines:
    def __init__(self, runtime: ServiceRuntime, store: TimerStore, *, interval_seconds: float = 1.0) -> None:
        self.runtime = runtime
        self.store = store
        self.scheduler = TimerScheduler(store, self._fire, name=SCHEDULER, formerly=FORMERLY)
        self._interval = timedelta(seconds=interval_seconds)

    def messages(self, before: StudentStatus | None, after: StudentStatus) -> list[Outgoing]:
        """Opened and met, published in the same commit as the change that opened or met them."""
        opened, met = changes(before, after)
        now = datetime.now(UTC)
        province = self.runtime.settings.province
        return [_message(province, d, ComplianceState.OPENED, now) for d in opened] + [
            _message(province, d, ComplianceState.MET, now) for d in met
        ]

    async def follow_many(self, changes_made: list[tuple[StudentStatus | None, StudentStatus]]) -> None:
        """After the commits: arm the timers of the deadlines the changes opened (idempotent; a round trip per due
        minute for all of them), cancel those of the deadlines they met."""
        timers: list[Timer] = []
        for before, after in changes_made:
            opened, met = changes(before, after)
            timers += [t for deadline in opened for t in _timers(deadline)]
            for deadline in met:
                await self.disarm(deadline)
        await self.store.arm_many(timers, packed=True)  # SCHEDULER reads them, also after a rollback

    async def arm(self, deadline: Deadline) -> None:
        await self.store.arm_many(_timers(deadline))

    async def disarm(self, deadline: Deadline) -> None:
        await self.store.cancel_due(f"{deadline.deadline_id}:due_soon", deadline.warn_at)
        await self.store.cancel_due(f"{deadline.deadline_id}:overdue", deadline.due_at)

    def message(self, deadline: Deadline, state: ComplianceState) -> Outgoing:
        return _message(self.runtime.settings.province, deadline, state, datetime.now(UTC))

    async def tick(self, now: datetime) -> int:
        return await self.scheduler.tick(now)

    async def _fire(self, timer: Timer) -> None:
        deadline = _deadline_of(timer)
        # Met in the meantime (its cancellation may have raced the tick)? The events of the record or roster the
        # deadline is about say so; nothing is asked of the modules that write them.
        if not still_due_after(deadline, await self.runtime.events.events_of(deadline.subject_id)):
            return
        phase: Phase = "due_soon" if timer.kind == "compliance_due_soon" else "overdue"
        now = tick_time()
        out = _message(self.runtime.settings.province, deadline, PHASES[phase], max(now, timer.due_at))

        def decide(history: list[Document]) -> Decision:
            flagged = decide_flag(from_documents(history), phase, deadline.deadline_id, now, deadline.due_at)
            return Decision([to_document(e) for e in flagged], [out]) if flagged else Decision()

        stream = f"compliance:{deadline.deadline_id}"
        await decide_and_save(self.runtime.events, stream, plain_id(timer.timer_id), decide)
        self.runtime.relay.nudge()

    async def run_forever(self) -> None:
        await self.scheduler.run_forever(self._interval)
