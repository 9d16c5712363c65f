"""R54 annual rosters as a stream per school and school year (`roster:{school}:{year}`): opened when the year's
first record of the school is created or arrives (the deadline is armed on the shared timers), submitted once by
the school, which meets the deadline. Overdue rosters are flagged to the county bureau by the compliance scheduler."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from xueji_contracts.auth import OperatorClaims
from xueji_contracts.messages.registry import ComplianceState
from xueji_kit.aggregates import Decision, decide_and_save
from xueji_kit.followed import FollowedHere
from xueji_kit.runtime import ServiceRuntime
from xueji_registry.compliance import ComplianceDeadlines
from xueji_registry.domain.annual_roster import AnnualRoster
from xueji_registry.domain.compliance import Deadline, annual_roster
from xueji_registry.domain.errors import Refused
from xueji_registry.domain.evidence import EvidenceRef
from xueji_registry.domain.rules import RegistryRules
from xueji_registry.followed import followed_here


class AnnualRosters:
    """The R54 roster streams of the province's schools, opened and submitted against the compliance deadlines."""

    def __init__(
        self, runtime: ServiceRuntime, compliance: ComplianceDeadlines, rules: RegistryRules, here: FollowedHere
    ) -> None:
        self.runtime = runtime
        self.compliance = compliance
        self.rules = rules
        self.here = here
        self.opened: set[str] = set()  # annual rosters this process knows are open

    def deadline(self, school_code: str, school_year: int) -> Deadline:
        return annual_roster(school_code, school_year, self.rules.roster_months)

    async def ensure_open(self, school_code: str, school_year: int) -> None:
        """Open the school's rosters of the year once (idempotent across replicas; cached per process)."""
        deadline = self.deadline(school_code, school_year)
        if deadline.subject_id in self.opened:
            return
        opened = {
            "type": "roster_opened",
            "school_code": school_code,
            "school_year": school_year,
            "due_on": deadline.due_on.isoformat(),
            "at": datetime.now(UTC).isoformat(),
        }
        message = self.compliance.message(deadline, ComplianceState.OPENED)
        saved = await decide_and_save(
            self.runtime.events,
            deadline.subject_id,
            "opened",
            lambda history: Decision() if history else Decision([opened], [message]),
        )
        # idempotent; after a crash before it, the relay's follower arms them (follow_ups)
        await self.compliance.arm(deadline)
        followed_here(self.here, [(deadline.subject_id, saved.version)])
        self.opened.add(deadline.subject_id)
        self.runtime.relay.nudge()

    async def submission_of(self, school_code: str, school_year: int) -> dict[str, Any] | None:
        history = await self._history(school_code, school_year)
        return next((e for e in history if e.get("type") == "roster_submitted"), None)

    async def submitted(self, subject_id: str) -> bool:
        """For the scheduler at the deadline: has the school submitted these rosters?"""
        commits = await self.runtime.events.load(subject_id)
        return any(e.get("type") == "roster_submitted" for c in commits for e in c["events"])

    async def _history(self, school_code: str, school_year: int) -> list[dict[str, Any]]:
        commits = await self.runtime.events.load(self.deadline(school_code, school_year).subject_id)
        return [e for c in commits for e in c["events"]]

    async def submit(
        self, operator: OperatorClaims, roster: AnnualRoster, reason: str, evidence: tuple[EvidenceRef, ...]
    ) -> dict[str, Any]:
        """The school submits the rosters as composed now: their counts are kept; a second submission is refused."""
        compliance = self.compliance
        deadline = self.deadline(roster.school_code, roster.school_year)
        now = datetime.now(UTC)
        entry = {
            "type": "roster_submitted",
            "school_code": roster.school_code,
            "school_year": roster.school_year,
            "counts": roster.counts,
            "at": now.isoformat(),
            "by": {"operator_id": operator.sub, "role": operator.role.value, "code": operator.code},
            "reason": reason,
            "evidence": [e.model_dump(mode="json") for e in evidence],
            "on_time": now <= deadline.due_at,
        }

        def decide(history: list[dict[str, Any]]) -> Decision:
            for event in history:
                if event.get("type") == "roster_submitted":
                    raise Refused("R54", f"the {roster.school_year} rosters were submitted on {event['at'][:10]}")
            return Decision([entry], [compliance.message(deadline, ComplianceState.MET)])

        saved = await decide_and_save(self.runtime.events, deadline.subject_id, f"submitted:{uuid.uuid4()}", decide)
        await compliance.disarm(deadline)
        followed_here(self.here, [(deadline.subject_id, saved.version)])
        self.runtime.relay.nudge()
        return entry
