"""Review deadlines (R14, R22): a suspected duplicate is decided within the province's stage working days, with a
warning before the deadline and an escalation to the city bureau when it passes, like a transfer stage.

The deadline is computed when the case opens (working-day calendar of the province policy, R31) and written into the
ReviewCaseOpened message; two timers (warning, breach) are armed in the kit's per-minute timer store. When one fires
and the case is still undecided, a ReviewCaseDeadline goes out on dedupe.review.v1 (notify puts it in the county's
inbox, escalates an overdue one to the city and shows it on the dashboard), recorded once in the check's stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from xueji_contracts.calendar import WorkingDayCalendar, national_calendar
from xueji_contracts.calendar.deadlines import stage_deadline
from xueji_contracts.division import Division
from xueji_contracts.envelope import envelop
from xueji_contracts.messages.dedupe_review import ReviewCaseDeadline, ReviewDeadlineState
from xueji_contracts.policy import calendar_for, load_policy
from xueji_contracts.policy.model import StageSla
from xueji_contracts.topics import DEDUPE_REVIEW
from xueji_dedupe.domain.review import Event, state_of, stream_of_case
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.outbox_entries import Outgoing
from xueji_kit.runtime import ServiceRuntime
from xueji_kit.timers import Timer, TimerScheduler, TimerStore, plain_id, tick_time

SCHEDULER = "dedupe-review"
PHASES = {"due_soon": ReviewDeadlineState.DUE_SOON, "overdue": ReviewDeadlineState.OVERDUE}


def city_bureau(county_code: str) -> str:
    """The bureau an overdue county review escalates to (R22 chain school -> county -> city -> province)."""
    return Division.parse(county_code).city.code


class ReviewDeadlines:
    def __init__(
        self,
        runtime: ServiceRuntime,
        store: TimerStore,
        project: Callable[[str], Awaitable[object]],
        *,
        interval_seconds: float = 1.0,
    ) -> None:
        self.runtime = runtime
        self.project = project  # the review queue's read model, rewritten after a deadline passes
        self.store = store
        self.scheduler = TimerScheduler(store, self._fire, name=SCHEDULER)
        self._interval = timedelta(seconds=interval_seconds)
        settings = runtime.settings
        national = bool(getattr(settings, "national", False)) and settings.policy_file is None
        policy = None if national else load_policy(settings.policy_file or settings.province)
        self.sla: StageSla = policy.sla if policy is not None else StageSla()
        self.calendar: WorkingDayCalendar = calendar_for(policy) if policy is not None else national_calendar()

    def deadline_fields(self, opened_at: datetime) -> dict[str, Any]:
        """due_at, warn_at and provisional of a case opened at `opened_at` (R22 working days, R31 calendar)."""
        deadline = stage_deadline(
            self.calendar, opened_at, self.sla.stage_working_days, self.sla.warning_lead_working_days
        )
        return {"due_at": deadline.due_at, "warn_at": deadline.warn_at, "provisional": deadline.provisional}

    async def arm(self, case: dict[str, Any]) -> None:
        """Both timers of an opened case (idempotent: arming again changes nothing)."""
        if not case.get("due_at"):
            return
        due, warn = datetime.fromisoformat(case["due_at"]), datetime.fromisoformat(case["warn_at"])
        await self.store.arm_many(
            [
                Timer(f"{case['case_id']}:{phase}", f"review_{phase}", case["case_id"], at, {})
                for phase, at in (("due_soon", warn), ("overdue", due))
            ]
        )

    async def tick(self, now: datetime) -> int:
        return await self.scheduler.tick(now)

    async def run_forever(self) -> None:
        await self.scheduler.run_forever(self._interval)

    async def _fire(self, timer: Timer) -> None:
        stream = stream_of_case(timer.aggregate_id)
        history = [e for c in await self.runtime.events.load(stream) for e in c["events"]]
        state = state_of(history)
        if state.case is None or state.decision is not None:
            return  # decided in time (or nothing to chase): the timer has no work
        phase = timer.kind.removeprefix("review_")
        case = state.case["case"]
        now = tick_time()
        payload = ReviewCaseDeadline(
            case_id=case["case_id"],
            county_code=case["county_code"],
            school_code=case["school_code"],
            student_id=case["student_id"],
            state=PHASES[phase],
            due_at=datetime.fromisoformat(case["due_at"]),
            escalated_to=city_bureau(case["county_code"]) if phase == "overdue" else None,
        )
        message = envelop(
            payload,
            producer="dedupe",
            province=self.runtime.settings.province,
            occurred_at=max(now, timer.due_at),
            correlation_id=uuid.UUID(stream.removeprefix("check:")),
        )
        entry: Event = {"type": "ReviewDeadlinePassed", "phase": phase, "at": now.isoformat()}

        def decide(current: list[Event]) -> Decision:
            decided = state_of(current).decision is not None
            passed = any(e["type"] == "ReviewDeadlinePassed" and e["phase"] == phase for e in current)
            if decided or passed:
                return Decision()  # decided meanwhile, or this phase already announced (another replica)
            return Decision([entry], [Outgoing(DEDUPE_REVIEW.name, case["case_id"], message)])

        await decide_and_save(self.runtime.events, stream, plain_id(timer.timer_id), decide)
        await self.project(stream)
        self.runtime.relay.nudge()
